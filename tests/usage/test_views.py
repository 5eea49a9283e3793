"""The usage page (composed in config/views.py) and the CSV export (usage/views.py), by URL."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organizations.models import Organization
from tests.billing.factories import ledger
from usage.models import UsageRecord
from usage.selectors import usage_totals
from usage.services import usage_purge

PAGE = "/usage/"


def number(body: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', body)
    assert match, element_id
    return match.group(1)


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_member_sees_usage(world: Any, client_as: Any, role: str) -> None:
    assert client_as(world.user(role)).get(PAGE).status_code == 200


def test_outsiders_get_404(world: Any, client_as: Any) -> None:
    assert client_as(world.outsider).get(PAGE).status_code == 404
    assert client_as(world.outsider).get("/usage/export.csv").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(workspace_client: Any) -> None:
    assert workspace_client.get(PAGE).status_code == 302


def test_the_page_shows_the_ledgers_numbers(world: Any, client_as: Any, org: Organization) -> None:
    ledger(org, emails=7, cost_each=Decimal("0.125"), provider="anthropic", model="claude-haiku-5-5")
    ledger(org, emails=3)

    body = client_as(world.viewer).get(PAGE).content.decode()

    snapshot_totals = usage_totals(org, start=timezone.now() - timedelta(days=40), end=timezone.now() + timedelta(1))
    assert number(body, "usage-emails") == str(snapshot_totals.emails) == "10"
    assert number(body, "usage-cost") == "$0.88"  # 0.875 shown to the cent
    assert number(body, "usage-held") == "0"
    assert number(body, "usage-projects") == "0"
    assert "claude-haiku-5-5" in body
    assert "<svg" in body and "<polyline" in body


def test_it_never_shows_another_organizations_usage(world: Any, client_as: Any, other_org: Organization) -> None:
    ledger(other_org, emails=9, cost_each=Decimal("3"), model="secret-model", provider="anthropic")

    body = client_as(world.owner).get(PAGE).content.decode()

    assert number(body, "usage-emails") == "0"
    assert number(body, "usage-cost") == "$0.00"
    assert "secret-model" not in body


def test_the_chart_covers_30_or_90_days(world: Any, client_as: Any, org: Organization) -> None:
    ledger(org, emails=2)
    client = client_as(world.member)

    assert client.get(PAGE).content.decode().count("<rect") == 30
    assert client.get(PAGE, {"days": "90"}).content.decode().count("<rect") == 90
    assert client.get(PAGE, {"days": "10000"}).content.decode().count("<rect") == 30


def test_the_csv_lists_each_day(world: Any, client_as: Any, org: Organization) -> None:
    ledger(org, emails=2, cost_each=Decimal("0.5"))

    response = client_as(world.viewer).get("/usage/export.csv", {"days": "30"})

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0] == "day,emails,ai_cost_usd"
    assert len(lines) == 31
    assert lines[-1] == f"{timezone.now().date().isoformat()},2,1.000000"


def test_the_query_count_does_not_grow_with_a_year_of_ledger_rows(
    world: Any, client_as: Any, org: Organization
) -> None:
    client = client_as(world.viewer)
    ledger(org, emails=3, cost_each=Decimal("0.1"))
    client.get(PAGE)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE).status_code == 200

    now = timezone.now()
    rows = [
        UsageRecord(organization=org, email_code=uuid.uuid4(), provider="anthropic", model=f"m{day % 3}")
        for day in range(365)
        for _ in range(3)
    ]
    created = UsageRecord.objects.bulk_create(rows)
    for index, row in enumerate(created):
        row.created_at = now - timedelta(days=index // 3)
    UsageRecord.objects.bulk_update(created, ["created_at"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(PAGE).status_code == 200

    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


def test_the_page_still_works_after_a_purge(world: Any, client_as: Any, org: Organization) -> None:
    ledger(org, emails=2, at=timezone.now() - timedelta(days=200))
    usage_purge(days=90)

    assert client_as(world.viewer).get(PAGE).status_code == 200


def test_htmx_gets_only_the_chart_section(world: Any, client_as: Any, org: Organization) -> None:
    ledger(org, emails=2)
    response = client_as(world.viewer).get(PAGE, {"days": "90"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="usage-daily"')
    assert body.count("<rect") == 90
    assert "<h1>" not in body
    assert "HX-Request" in response["Vary"]


def test_without_any_usage_the_chart_explains_itself_instead_of_drawing_nothing(world: Any, client_as: Any) -> None:
    body = client_as(world.viewer).get(PAGE).content.decode()
    assert "<svg" not in body
    assert "No mail was processed in the last 30 days" in body


def test_the_model_table_names_the_offline_engine_once(world: Any, client_as: Any, org: Organization) -> None:
    ledger(org, emails=2, provider="rules", model="rules")
    ledger(org, emails=1, cost_each=Decimal("0.01"), provider="anthropic", model="claude-haiku-5-5")

    body = client_as(world.viewer).get(PAGE).content.decode()

    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", body, re.S)
    assert "rules" in rows, rows  # the offline engine: its name alone
    assert 'claude-haiku-5-5 <small class="muted">anthropic</small>' in rows
    assert "rules rules" not in body and 'rules <small class="muted">rules' not in body
