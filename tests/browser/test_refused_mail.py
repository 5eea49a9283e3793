"""Refused mail in a real browser: an admin finds a client's refused message in
the inbox's "Waiting for an admin", allows the sender in one click, is offered to bring the kept
message in, and brings it in: it opens as the workspace's mail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_q.models import OrmQ
from django_tenants.utils import schema_context

from events.ingest import head_bytes, parse_bytes
from events.models import Email, EmailState
from fairness.models import Turn
from inbound.authentication import AuthResult, ProviderResults, SenderAuth
from inbound.models import Delivery, RefusalCause
from inbound.services import Received, delivery_receive
from organizations.models import AllowedSender, Organization, SenderPolicy
from tests.browser.conftest import BrowserWorld, Recorder, screenshot
from tests.inbound.conftest import make_message

pytestmark = pytest.mark.browser

SENDER = "mira@fjordcoffee.example"


@pytest.fixture
def refused(world: BrowserWorld, db_blocker: Any) -> Iterator[Delivery]:
    """A client's message the members-only policy refused, kept, as the webhook leaves it."""
    raw = make_message(
        sender=f"Mira Holm <{SENDER}>",
        to=world.org.inbound_address,
        subject="Menu boards for the Bergen café",
        message_id="<browser-refused@fjordcoffee.example>",
        body="We open on the 1st of next month. Could we talk on Thursday at 10:00?\n",
    )
    with db_blocker.unblock():
        last_task = OrmQ.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        Organization.objects.filter(pk=world.org.pk).update(sender_policy=SenderPolicy.MEMBERS)
        organization = Organization.objects.get(pk=world.org.pk)
        outcome = delivery_receive(
            received=Received(
                provider="postmark",
                message=parse_bytes(head_bytes(raw)),
                raw=raw,
                event_id="browser-refused-1",
                envelope_sender=SENDER,
                envelope_recipient=organization.inbound_address,
                headers_only=True,
                auth=SenderAuth(
                    AuthResult.PASS,
                    "fjordcoffee.example",
                    "DKIM pass aligned with From",
                    ProviderResults(dkim="pass", dkim_domains=("fjordcoffee.example",)),
                ),
            ),
            organization=organization,
        )
        assert outcome.delivery.cause == RefusalCause.SENDER_POLICY and outcome.delivery.kept
    yield outcome.delivery
    with db_blocker.unblock():
        AllowedSender.objects.filter(organization=world.org, pattern=SENDER).delete()
        Organization.objects.filter(pk=world.org.pk).update(sender_policy=SenderPolicy.MEMBERS)
        Delivery.objects.filter(organization=world.org, sender=SENDER).delete()
        # No worker runs beside the browser tests: the brought-in email's task would wait in the
        # committed broker table for the next test that counts tasks.
        OrmQ.objects.filter(pk__gt=last_task).delete()
        with schema_context(world.org.schema_name):
            brought = list(Email.objects.filter(from_address=SENDER).values_list("pk", flat=True))
            Email.objects.filter(pk__in=brought).delete()
        Turn.objects.filter(schema_name=world.org.schema_name, email_id__in=brought).delete()


def test_an_admin_allows_a_refused_sender_and_brings_the_message_in(
    page: Any, world: BrowserWorld, sign_in: Any, refused: Delivery, db_blocker: Any, recorder: Recorder
) -> None:
    sign_in(world.user("admin"))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(world.url("/inbox/"))
    assert "Review" in page.locator(".nav-attention").inner_text()
    row = page.locator(f"#kept-{refused.pk}")
    assert SENDER in row.inner_text()
    screenshot(page, "inbox_refused_sender")

    row.get_by_role("button", name="Allow this sender").click()
    page.wait_for_url(f"**/inbox/refused/{refused.pk}/")
    assert f"{SENDER} may now send." in page.content()
    screenshot(page, "refused_bring_in_offer")

    page.get_by_role("button", name="Bring it in").click()
    page.wait_for_url("**/inbox/*/")
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        (email,) = Email.objects.filter(from_address=SENDER)
    assert email.state in (EmailState.QUEUED, EmailState.PROCESSING, EmailState.PROCESSED)
    assert page.url.endswith(f"/inbox/{email.code}/")
    assert "Menu boards for the Bergen café" in page.content()
    screenshot(page, "refused_brought_in")
    with db_blocker.unblock():
        assert AllowedSender.objects.filter(organization=world.org, pattern=SENDER).exists()
        assert Delivery.objects.get(pk=refused.pk).email_code == email.code
    assert recorder.page_errors == []
