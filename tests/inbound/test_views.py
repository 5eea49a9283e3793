from __future__ import annotations

from django_tenants.utils import schema_context

from events.models import Email, EmailState
from inbound.models import Delivery, Verdict
from tests.inbound.conftest import make_message, postmark_payload


def test_it_stores_a_member_message_posted_by_postmark(world, post_postmark, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_postmark(postmark_payload(make_message()))
    assert response.status_code == 200
    with schema_context(world.org.schema_name):
        email = Email.objects.get()
        assert email.subject == "Kickoff for the Harbour project"
        assert email.state == EmailState.QUEUED
        assert email.text.startswith("Let's meet on Friday")
    delivery = Delivery.objects.get()
    assert delivery.verdict == Verdict.ACCEPTED
    assert delivery.organization == world.org
    assert delivery.email_code == email.code
    assert len(callbacks) == 1
