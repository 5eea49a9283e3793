from __future__ import annotations

import secrets
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from demo.mail import REFUSED_MESSAGE_ID, REFUSED_SENDER, build_messages, build_refused_message
from events.ingest import head_bytes, parse_bytes
from inbound.authentication import AuthResult, ProviderResults, SenderAuth
from inbound.checks import sender_allowed
from inbound.models import Delivery
from inbound.services import Received, delivery_receive
from organizations.models import Membership, Organization, Plan, Role, SenderPolicy
from organizations.services import organization_create

OWNER_EMAIL = "owner@acme.test"


class Command(BaseCommand):
    help = "Create the demo organization 'acme' with its owner and send the demo mail through the real pipeline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", default="acme")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["slug"]
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            organization = organization_create(
                name="Acme Studio",
                slug=slug,
                owner_email=OWNER_EMAIL,
                plan=Plan.PROFESSIONAL,
                sender_policy=SenderPolicy.ALLOWLIST,
                allowed_senders=["@harborbakery.com", "@northwindlogistics.com", "@brightdental.co.uk"],
                send_invitation=False,
            ).organization
            self.stdout.write(f"Created the demo organization '{organization.name}'.")
        password = self._owner(organization)
        self._mail(organization)
        self._refused(organization)
        self.stdout.write(self.style.SUCCESS(f"Demo sign-in: {OWNER_EMAIL} / {password}"))

    def _owner(self, organization: Organization) -> str:
        password_file = Path(settings.DATA_DIR) / "demo-password.txt"
        password = settings.DEMO_PASSWORD
        user = User.objects.filter(email=OWNER_EMAIL).first()
        if user is None:
            user = User.objects.create_user(email=OWNER_EMAIL, first_name="Olivia", last_name="Owner")
        if not password:
            password = password_file.read_text().strip() if password_file.exists() else secrets.token_urlsafe(12)
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password + "\n")
        EmailAddress.objects.update_or_create(
            user=user, email=OWNER_EMAIL, defaults={"verified": True, "primary": True}
        )
        designer, _ = User.objects.get_or_create(email="dan@acme.test", defaults={"first_name": "Dan"})
        Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.OWNER})
        Membership.objects.get_or_create(user=designer, organization=organization, defaults={"role": Role.MEMBER})
        return password

    def _mail(self, organization: Organization) -> None:
        """Deliver the demo messages this organization has not received yet (by Message-ID), so
        demo mail added since an earlier `make run` arrives too."""
        messages = build_messages(timezone.now(), organization.inbound_address)
        with schema_context(organization.schema_name):
            from events.models import Email

            delivered = set(Email.objects.filter(message_id__startswith="<demo-").values_list("message_id", flat=True))
        missing = [(name, raw) for name, raw in messages if _message_id(raw) not in delivered]
        if not missing:
            self.stdout.write("Demo mail already delivered.")
            return
        folder = Path(settings.DATA_DIR) / "demo-mail"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, raw in missing:
            path = folder / name
            path.write_bytes(raw)
            paths.append(str(path))
        call_command("ingest_eml", "--org", organization.slug, "--sync", *paths, stdout=self.stdout)

    def _refused(self, organization: Organization) -> None:
        """One client's mail the sender policy refuses, as a live delivery (kept for an admin to
        allow and bring in), once; not when the policy would accept it."""
        if (
            sender_allowed(organization, REFUSED_SENDER)
            or Delivery.objects.filter(organization=organization, message_id=REFUSED_MESSAGE_ID).exists()
        ):
            return
        raw = build_refused_message(timezone.now(), organization.inbound_address)
        address = REFUSED_SENDER.rpartition("<")[2].rstrip(">")
        domain = address.rpartition("@")[2]
        outcome = delivery_receive(
            received=Received(
                provider="demo",
                message=parse_bytes(head_bytes(raw)),
                raw=raw,
                event_id="demo-refused-fjord",
                envelope_sender=address,
                envelope_recipient=organization.inbound_address,
                headers_only=True,
                # What a provider would have found: the client's own server signed it.
                auth=SenderAuth(
                    AuthResult.PASS,
                    domain,
                    "DKIM pass aligned with From",
                    ProviderResults(dkim="pass", dkim_domains=(domain,)),
                ),
            ),
            organization=organization,
        )
        self.stdout.write(f"Demo refused sender: {outcome.reason}")


def _message_id(raw: bytes) -> str:
    return str(BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)["Message-ID"] or "").strip()
