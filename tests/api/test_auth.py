"""Key lookup, last-used time and the per-key rate limit."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.auth import rate_parse
from api.models import ApiKey

URL = "/api/v1/projects"


def test_it_records_the_last_use_at_most_once_a_minute(keys, reader, world):
    key = ApiKey.objects.get(organization=world.org, name="Reports")
    assert key.last_used_at is None
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        reader.get(URL)
        first = ApiKey.objects.get(pk=key.pk).last_used_at
        assert first == start
    with (
        time_machine.travel(start + dt.timedelta(seconds=30), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        reader.get(URL)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    assert not [q for q in queries if 'UPDATE "api_apikey"' in q["sql"]]
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        reader.get(URL)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == start + dt.timedelta(seconds=61)


def test_it_limits_each_key_and_says_when_to_retry(keys, api_client, settings):
    settings.API_RATE_LIMIT = "2/min"
    reader, writer = api_client(keys.read), api_client(keys.write)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert [reader.get(URL).status_code for _ in range(2)] == [200, 200]
        refused = reader.get(URL)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "60"
        assert refused.json()["detail"]
        # Another key of the same organization has its own allowance.
        assert writer.get(URL).status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=45), tick=False):
        assert reader.get(URL)["Retry-After"] == "15"
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        assert reader.get(URL).status_code == 200


def test_requests_without_a_valid_key_are_refused_before_the_rate_limit(keys, api_client, settings):
    settings.API_RATE_LIMIT = "1/min"
    assert [api_client("prj_wrong").get(URL).status_code for _ in range(3)] == [401, 401, 401]


def test_a_bearer_header_with_extra_spaces_or_another_scheme_is_refused(keys, api_client, org):
    from django.test import Client

    assert Client(HTTP_HOST=org.host, HTTP_AUTHORIZATION=f"Token {keys.read}").get(URL).status_code == 401
    assert Client(HTTP_HOST=org.host, HTTP_AUTHORIZATION="Bearer").get(URL).status_code == 401
    assert Client(HTTP_HOST=org.host, HTTP_AUTHORIZATION=f"bearer {keys.read}").get(URL).status_code == 200


def test_a_malformed_rate_setting_is_a_configuration_error():
    assert rate_parse("120/min") == (120, 60)
    assert rate_parse("5000/day") == (5000, 86400)
    for bad in ("120", "x/min", "120/fortnight", "-1/s"):
        with pytest.raises(ImproperlyConfigured):
            rate_parse(bad)


def test_all_keys_of_an_organization_share_its_limit(keys, api_client, settings):
    settings.API_ORGANIZATION_RATE_LIMIT = "3/min"
    reader, writer = api_client(keys.read), api_client(keys.write)
    assert [reader.get(URL).status_code, writer.get(URL).status_code, reader.get(URL).status_code] == [200] * 3
    refused = writer.get(URL)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "workspace's API keys together made more than 3 requests in 60 s" in refused.json()["detail"]
    # Another organization's keys are counted apart.
    assert api_client(keys.other_org).get(URL).status_code != 429


def test_the_organizations_limit_is_one_statement_and_can_be_turned_off(keys, reader, settings):
    settings.API_ORGANIZATION_RATE_LIMIT = "0/min"
    with CaptureQueriesContext(connection) as queries:
        assert [reader.get(URL).status_code for _ in range(3)] == [200] * 3
    assert not [q for q in queries if "fairness_ratecount" in q["sql"]]
    settings.API_ORGANIZATION_RATE_LIMIT = "100/min"
    with CaptureQueriesContext(connection) as queries:
        reader.get(URL)
    assert len([q for q in queries if "fairness_ratecount" in q["sql"]]) == 1


def test_a_key_over_its_own_limit_says_so(keys, reader, settings):
    settings.API_RATE_LIMIT = "1/min"
    reader.get(URL)
    assert "This API key made more than 1 requests" in reader.get(URL).json()["detail"]
