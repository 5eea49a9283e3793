from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.test import Client

from accounts.models import User
from organizations.models import Organization
from usage.models import DailyUsage


def test_staff_see_cost_per_organization(public_client: Client, org: Organization, other_org: Organization) -> None:
    staff = User.objects.create_superuser(email="staff@projectr.test", password="x" * 12)
    DailyUsage.objects.create(organization=org, day=date(2026, 3, 1), provider="anthropic", cost_usd=Decimal("4.5"))
    DailyUsage.objects.create(organization=other_org, day=date(2026, 3, 1), provider="anthropic", cost_usd=Decimal("2"))
    public_client.force_login(staff)

    response = public_client.get("/admin/usage/dailyusage/")

    assert response.status_code == 200
    totals = [(row["organization__name"], row["cost"]) for row in response.context["organization_totals"]]
    assert totals == [("Test Org", Decimal("4.5")), ("Other Org", Decimal("2"))]


def test_members_cannot_open_the_admin(public_client: Client, world: Any) -> None:
    public_client.force_login(world.owner)

    assert public_client.get("/admin/usage/dailyusage/").status_code == 302
