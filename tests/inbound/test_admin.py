from __future__ import annotations

from django.test import Client

from accounts.models import User
from inbound.models import Delivery, Verdict


def test_staff_read_the_delivery_log_but_cannot_edit_it(public):
    Delivery.objects.create(
        provider="postmark", verdict=Verdict.REJECTED, reason="Unknown recipient", sender="a@b.test"
    )
    staff = User.objects.create_superuser(email="staff@projectr.test", password="correct horse battery staple")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    response = client.get("/admin/inbound/delivery/")
    assert response.status_code == 200
    assert "Unknown recipient" in response.content.decode()
    assert client.get("/admin/inbound/delivery/add/").status_code == 403


def test_the_delivery_log_shows_the_sender_check_word_by_word(public):
    Delivery.objects.create(
        provider="amazon_ses",
        verdict=Verdict.HELD,
        cause="sender_not_authenticated",
        sender="owner@testorg.test",
        authentication="fail",
        spf="softfail",
        dkim="none",
        dmarc="fail",
    )
    staff = User.objects.create_superuser(email="staff@projectr.test", password="correct horse battery staple")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    page = client.get("/admin/inbound/delivery/").content.decode()
    for word in ("softfail", "Not authenticated", "Sender not authenticated", "column-spf", "column-dmarc"):
        assert word in page
