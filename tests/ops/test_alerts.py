"""The shipped alert rules and Grafana dashboard: promtool accepts the rules and passes their
unit tests, every rule has a case that fires it and one that does not, and every metric the
rules and the dashboard read is one that /metrics exports."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.utils import timezone
from django_q.models import Task
from prometheus_client.parser import text_string_to_metric_families

from events.models import EmailState
from inbound.models import Delivery, Verdict
from tests.factories import EmailFactory
from usage.models import UsageRecord

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "projectr.json"
AUTH = "prom:scrape-secret"
# Metrics Prometheus makes itself rather than scraping them.
PROMETHEUS_OWN = {"up"}
METRIC = re.compile(r"\bprojectr_[a-z0-9_]+")
SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is not installed, so the alert rules cannot be checked: `make test` installs "
            "Debian's prometheus package when run as root (scripts/ensure_promtool.py); otherwise "
            "run `apt-get install --no-install-recommends prometheus` as root"
        )
    return found


def run(promtool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [promtool, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 - promtool on our files


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_panels() -> list[dict[str, Any]]:
    return [panel for panel in json.loads(DASHBOARD.read_text())["panels"] if panel["type"] != "row"]


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in dashboard_panels() for target in panel["targets"]]


def test_promtool_accepts_the_rules(promtool):
    result = run(promtool, "check", "rules", RULES)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_every_rule_passes_its_unit_tests(promtool):
    result = run(promtool, "test", "rules", RULE_TESTS)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_rule_has_a_case_that_fires_it_and_one_that_does_not():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]

    rules = alert_rules()
    assert len(rules) >= 12  # the loop below checks something
    for rule in rules:
        fires = [bool(case["exp_alerts"]) for case in cases if case["alertname"] == rule["alert"]]
        assert any(fires), f"{rule['alert']} has no case that fires it"
        assert not all(fires), f"{rule['alert']} has no case where it stays quiet"


def test_promtool_parses_every_dashboard_query(promtool, tmp_path):
    # As recording rules, the dashboard's queries go through the same PromQL parser as the alerts.
    recording = [{"record": f"dashboard:query_{n}", "expr": expr} for n, expr in enumerate(dashboard_queries())]
    rules = tmp_path / "dashboard_queries.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recording}]}))

    result = run(promtool, "check", "rules", rules)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_is_a_grafana_dashboard_on_a_chosen_prometheus():
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard_panels()

    assert dashboard["uid"] == "projectr"
    assert [var["name"] for var in dashboard["templating"]["list"]] == ["datasource"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"]), panel["title"]
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24, panel["title"]


@pytest.fixture
def exported(public_client, org, settings) -> set[str]:
    """The names of every sample /metrics serves once each kind of figure exists."""
    settings.METRICS_AUTH = AUTH
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # reported as down, but reported
    cache.clear()
    Delivery.objects.create(
        provider="postmark", verdict=Verdict.REJECTED, reason="Unknown recipient: x", organization=org
    )
    UsageRecord.objects.create(organization=org, provider="anthropic", model="m1", cost_usd=Decimal("0.1"))
    now = timezone.now()
    EmailFactory(state=EmailState.FAILED, project=None, state_reason="Extraction failed: x")
    Task.objects.create(id="a" * 32, name="t", func="f", started=now, stopped=now, success=True)
    public_client.post("/anymail/postmark/inbound/", data="{}", content_type="application/json")
    credentials = "Basic " + base64.b64encode(AUTH.encode()).decode()
    text = public_client.get("/metrics", HTTP_AUTHORIZATION=credentials).content.decode()
    cache.clear()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


def test_every_metric_the_rules_read_is_exported_by_metrics(exported):
    for rule in alert_rules():
        names = set(METRIC.findall(rule["expr"])) | set(SELECTOR.findall(rule["expr"]))
        assert names, rule["alert"]
        assert names <= exported | PROMETHEUS_OWN, f"{rule['alert']} reads {sorted(names - exported)}"


def test_every_dashboard_query_reads_metrics_that_are_exported(exported):
    for expr in dashboard_queries():
        names = set(METRIC.findall(expr)) | set(SELECTOR.findall(expr))
        assert names, expr
        assert names <= exported | PROMETHEUS_OWN, f"{expr} reads {sorted(names - exported)}"
