from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from organizations import services
from organizations.models import Plan, SenderPolicy


class Command(BaseCommand):
    help = "Create (or with --update, change) a client organization: schema, host, inbound address, owner invitation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help='Display name, e.g. "Acme Studio"')
        parser.add_argument(
            "--slug", required=True, help="Lowercase letters, digits, hyphens; names the host and address"
        )
        parser.add_argument("--owner-email", required=True, help="Receives the invitation to set a password")
        parser.add_argument("--plan", default=Plan.STARTER, help="starter | professional | enterprise")
        parser.add_argument("--sender-policy", default=SenderPolicy.MEMBERS, help="members | allowlist | anyone")
        parser.add_argument(
            "--allow-sender",
            action="append",
            default=[],
            metavar="ADDRESS_OR_@DOMAIN",
            help="May be repeated: an address or @domain allowed to send besides members",
        )
        parser.add_argument("--update", action="store_true", help="Update the organization if the slug exists")
        parser.add_argument("--no-invite", action="store_true", help="Do not email the owner an invitation")
        parser.add_argument(
            "--migrate",
            action="store_true",
            help="Create the schema by running every migration instead of cloning the template (slow; for benchmarks)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            result = services.organization_create(
                name=options["name"],
                slug=options["slug"],
                owner_email=options["owner_email"],
                plan=options["plan"],
                sender_policy=options["sender_policy"],
                allowed_senders=options["allow_sender"],
                update=options["update"],
                send_invitation=not options["no_invite"],
                clone=not options["migrate"],
            )
        except services.OnboardingError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        organization = result.organization
        verb = "Created" if result.created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {organization.name} in {time.perf_counter() - started:.2f}s"))
        self.stdout.write(f"  workspace:        {organization.absolute_url('/')}")
        self.stdout.write(f"  inbound address:  {organization.inbound_address}")
        self.stdout.write(f"  schema:           {organization.schema_name}")
        self.stdout.write(f"  plan:             {organization.plan}")
        if result.invitation_url:
            self.stdout.write(f"  owner invitation: {result.invitation_url}")
        elif result.invitation is not None:
            self.stdout.write(f"  owner invitation: the worker mails it to {result.invitation.email}")
