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
