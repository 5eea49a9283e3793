"""MIME part bombs: a message with thousands of parts is refused from its bytes and header block,
before anything parses its body, and nothing of it is written; a refused sender costs only the
header block. (How fast: bench/part_bomb.py.)"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import urllib.parse
from collections.abc import Iterator
from email.feedparser import FeedParser
from pathlib import Path
from unittest import mock

import pytest
from anymail.inbound import AnymailInboundMessage
from django.conf import settings
from django_tenants.utils import schema_context

from inbound import services
from inbound.feed import FeedSummary, message_feed
from inbound.models import Delivery, Verdict
from inbound.structure import structure_scan, tree_scan
from organizations.models import Organization, SenderPolicy
from tests.conftest import CORPORA
from tests.inbound.conftest import postmark_payload, ses_notification


@functools.cache
def bomb(parts: int = 5000, sender: str = "owner@testorg.test") -> bytes:
    """A small message of many tiny attachments (the issue's was 543 KB with 5,000 parts): the
    multipart, its text and parts - 2 attachments."""
    boundary = "==bomb=="
    head = (
        f"From: {sender}\r\nTo: testorg@in.localhost\r\nSubject: Invoices\r\n"
        f"Message-ID: <bomb-{parts}@client.test>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    )
    text = f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"
    attachment = (
        f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="{index}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\neA==\r\n'
    )
    body = "".join(attachment.replace("{index}", str(index)) for index in range(parts - 2))
    return (head + text + body + f"--{boundary}--\r\n").encode()


def nested(levels: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nThe innermost part.\r\n"
    for level in range(levels):
        boundary = f"level{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--'
            + boundary + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    head = b"From: owner@testorg.test\r\nTo: testorg@in.localhost\r\nSubject: Deep\r\nMessage-ID: <deep@x>\r\n"
    return head + body


@contextlib.contextmanager
def parsed_parts() -> Iterator[list[int]]:
    """Count the message objects Python's email parser builds for mail (one per MIME part);
    other parses (importlib.metadata reads package metadata with it) are not counted."""
    built: list[int] = []
    original = FeedParser._new_message

    def counting(self: FeedParser) -> None:
        if isinstance(self._factory, type) and issubclass(self._factory, AnymailInboundMessage):
            built.append(1)
        original(self)

    with mock.patch.object(FeedParser, "_new_message", counting):
        yield built


def files_under(root: str) -> int:
    path = Path(root)
    return sum(1 for item in path.rglob("*") if item.is_file()) if path.exists() else 0


# --- the scan ------------------------------------------------------------------------------------


def test_the_scan_stops_at_the_limit():
    assert structure_scan(bomb(5000), max_parts=500, max_depth=30) == ("Too many MIME parts: more than 500 (limit 500)")
    assert structure_scan(bomb(40), max_parts=500, max_depth=30) == ""
    assert structure_scan(bomb(40), max_parts=39, max_depth=30) != ""
    assert structure_scan(nested(31), max_parts=500, max_depth=30).startswith("MIME parts nested too deeply")
    assert structure_scan(nested(29), max_parts=500, max_depth=30) == ""


@pytest.mark.parametrize("path", sorted((CORPORA / "mime").glob("*")), ids=lambda p: p.name)
def test_no_corpus_message_is_over_the_default_limits(path):
    raw = path.read_bytes()
    assert structure_scan(raw) == ""


def test_the_scan_counts_the_parts_python_builds_for_ordinary_mail():
    from events.ingest import parse_bytes

    raw = bomb(40)
    with parsed_parts() as built:
        parse_bytes(raw)
    assert len(built) == 40
    assert structure_scan(raw, max_parts=40, max_depth=30) == ""
    assert tree_scan(parse_bytes(raw), max_parts=39, max_depth=30).startswith("Too many MIME parts")


# --- through the webhooks --------------------------------------------------------------------


def test_a_5000_part_message_from_a_member_is_refused_before_its_body_is_parsed(world, post_postmark, stored):
    files = files_under(settings.MEDIA_ROOT)
    with parsed_parts() as built:
        response = post_postmark(postmark_payload(bomb(5000)))
    assert response.status_code == 403  # Postmark stops retrying
    delivery = Delivery.objects.get()
    assert delivery.verdict == Verdict.REJECTED
    assert delivery.reason == "Too many MIME parts: more than 500 (limit 500)"
    assert stored() == []
    assert files_under(settings.MEDIA_ROOT) == files
    # Only the header block was parsed (for anymail's mapping of the payload).
    assert len(built) == 1


def test_a_5000_part_message_from_a_refused_sender_costs_a_header_parse_only(world, post_postmark):
    with parsed_parts() as built, mock.patch.object(services, "structure_scan", wraps=structure_scan) as scan:
        response = post_postmark(postmark_payload(bomb(5000, sender="stranger@elsewhere.test")))
    assert response.status_code == 403
    assert Delivery.objects.get().reason == "Sender not allowed by the organization's sender policy"
    assert len(built) == 1
    scan.assert_not_called()  # not even the byte scan


def test_a_part_bomb_through_ses_is_refused_and_recorded(world, post_sns, stored):
    with parsed_parts() as built:
        assert post_sns(ses_notification(bomb(2000))).status_code == 200  # SNS: 200 for every decision
    assert Delivery.objects.get().reason.startswith("Too many MIME parts")
    assert stored() == []
    assert len(built) == 1


def test_deep_nesting_is_refused(world, post_postmark, settings):
    settings.INBOUND_MAX_MIME_DEPTH = 10
    post_postmark(postmark_payload(nested(11)))
    assert Delivery.objects.get().reason == "MIME parts nested too deeply: more than 10 levels (limit 10)"


def test_the_limits_are_settings(world, post_postmark, stored, settings):
    settings.INBOUND_MAX_MIME_PARTS = 39
    assert post_postmark(postmark_payload(bomb(40), event_id="pm-1")).status_code == 403
    settings.INBOUND_MAX_MIME_PARTS = 40
    assert post_postmark(postmark_payload(bomb(40), event_id="pm-2")).status_code == 200
    (email,) = stored()
    assert Delivery.objects.get(email_code=email.code).verdict == Verdict.ACCEPTED
    with schema_context(world.org.schema_name):
        assert email.attachments.count() == 38


def test_a_bomb_the_scan_cannot_read_is_caught_after_the_parse_and_nothing_is_stored(world, post_postmark, stored):
    # An RFC 2231 boundary parameter: the email package reads it, the byte scan does not.
    raw = bomb(700)
    found = re.search(rb'boundary="([^"]+)"', raw)
    assert found is not None
    encoded = urllib.parse.quote(found.group(1).decode(), safe="").encode()
    raw = raw.replace(found.group(0), b"boundary*=us-ascii''" + encoded, 1)
    assert structure_scan(raw) == ""
    files = files_under(settings.MEDIA_ROOT)
    assert post_postmark(postmark_payload(raw)).status_code == 403
    assert Delivery.objects.get().reason == "Too many MIME parts: more than 500 (limit 500)"
    assert stored() == []
    assert files_under(settings.MEDIA_ROOT) == files


def test_too_many_header_fields_are_refused(world, post_postmark, settings):
    settings.INBOUND_MAX_HEADERS = 100
    raw = bomb(3).replace(b"Subject:", b"".join(b"X-Filler-%d: x\r\n" % i for i in range(120)) + b"Subject:", 1)
    post_postmark(postmark_payload(raw))
    assert Delivery.objects.get().reason.startswith("Too many header fields: 12")


def test_a_part_bomb_in_a_backfill_is_refused_too(world):
    summary = FeedSummary()
    assert message_feed(organization=world.org, raw=bomb(5000), provider="eml", summary=summary) == "rejected"
    assert Delivery.objects.get().reason.startswith("Too many MIME parts")


def test_an_open_workspace_refuses_a_strangers_bomb_by_its_structure(org: Organization, post_postmark):
    Organization.objects.filter(pk=org.pk).update(sender_policy=SenderPolicy.ANYONE)
    body = postmark_payload(bomb(5000, sender="stranger@elsewhere.test"), return_path="stranger@elsewhere.test")
    assert post_postmark(json.dumps(body).encode()).status_code == 403
    assert Delivery.objects.get().reason.startswith("Too many MIME parts")
