from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from pathlib import Path
from unittest import mock

import pytest
from django.db import transaction

from events.ingest import (
    DERIVED_MESSAGE_ID_DOMAIN,
    DuplicateEmail,
    _part_text,
    _part_text_via_registry,
    _plain_content_type,
    clean_text,
    email_id_reserve,
    email_store,
    message_parse,
    parse_bytes,
    reference_text,
    sanitize_html,
)
from events.models import Email, EmailLog, EmailState
from tests.conftest import CORPORA
from tests.inbound.conftest import make_message


def rich_message() -> bytes:
    message = EmailMessage()
    message["From"] = "Pat Manager <pat@client.test>"
    message["To"] = "Test Org <testorg@in.localhost>, other@client.test"
    message["Cc"] = "boss@client.test"
    message["Subject"] = "=?utf-8?q?Caf=C3=A9_plans?="
    message["Date"] = "Mon, 02 Nov 2026 09:30:00 +0100"
    message["Message-ID"] = "<rich-1@client.test>"
    message["In-Reply-To"] = "<earlier@client.test>"
    message["References"] = "<first@client.test> <earlier@client.test>"
    message.set_content("See the plan attached.\n")
    message.add_alternative(
        '<p onclick="steal()">See the <b>plan</b><script>alert(1)</script><img src="https://t.example/p.gif">'
        '<a href="javascript:alert(1)">x</a><a href="https://ok.example">ok</a></p>',
        subtype="html",
    )
    message.add_attachment(b"%PDF-1.4 plan", maintype="application", subtype="pdf", filename="plan.pdf")
    return message.as_bytes()


def test_it_reads_headers_addresses_and_threading():
    parsed = message_parse(parse_bytes(rich_message()))
    assert (parsed.from_name, parsed.from_address) == ("Pat Manager", "pat@client.test")
    assert parsed.to == ["testorg@in.localhost", "other@client.test"]
    assert parsed.cc == ["boss@client.test"]
    assert parsed.subject == "Café plans"
    assert parsed.date is not None and parsed.date.utcoffset().total_seconds() == 3600
    assert parsed.in_reply_to == "<earlier@client.test>"
    assert parsed.references == ["<first@client.test>", "<earlier@client.test>"]
    assert parsed.header("message-id") == "<rich-1@client.test>"


def test_it_prefers_the_text_part_and_sanitises_the_html():
    parsed = message_parse(parse_bytes(rich_message()))
    assert parsed.text == "See the plan attached.\n"
    assert "<b>plan</b>" in parsed.html
    for hostile in ("onclick", "<script", "alert(1)", "<img", "javascript:"):
        assert hostile not in parsed.html
    assert 'href="https://ok.example"' in parsed.html
    assert "noopener" in parsed.html


def test_it_falls_back_to_text_from_html_when_there_is_no_text_part():
    message = EmailMessage()
    message["From"] = "pat@client.test"
    message.set_content("<p>Meeting on <b>Friday</b></p><p>Thanks</p>", subtype="html")
    parsed = message_parse(parse_bytes(message.as_bytes()))
    assert parsed.text == "Meeting on Friday\n\nThanks" or parsed.text == "Meeting on Friday\nThanks"


def test_a_message_without_message_id_gets_the_same_derived_one_every_time():
    first = message_parse(parse_bytes(make_message(message_id=None)))
    again = message_parse(parse_bytes(make_message(message_id=None)))
    other = message_parse(parse_bytes(make_message(message_id=None, subject="Something else")))
    assert first.message_id_derived
    assert first.message_id == again.message_id != other.message_id
    assert first.message_id.endswith(f"@{DERIVED_MESSAGE_ID_DOMAIN}>")


def test_it_survives_nul_bytes_undecodable_bytes_and_unknown_charsets():
    raw = (
        b"From: =?x-unknown?q?Someone?= <a@b.test>\r\nSubject: bad \xff\xfe bytes\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\nbody \x00 with nul \xe9\r\n"
    )
    parsed = message_parse(parse_bytes(raw))
    assert "\x00" not in parsed.text
    assert "body" in parsed.text
    assert clean_text(parsed.subject) == parsed.subject
    assert reference_text(raw).startswith("body")


def test_it_stores_the_email_raw_bytes_and_attachments_in_the_tenant_schema(org):
    raw = rich_message()
    email = email_store(parsed=message_parse(parse_bytes(raw)), raw=raw, provider="eml", project_hint="harbour")
    assert email is not None
    email.refresh_from_db()
    assert email.state == EmailState.QUEUED
    assert email.project_hint == "harbour"
    assert email.size == len(raw)
    with email.raw.open("rb") as handle:
        assert handle.read() == raw
    (attachment,) = email.attachments.all()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("plan.pdf", "application/pdf", 13)
    with attachment.file.open("rb") as handle:
        assert handle.read() == b"%PDF-1.4 plan"
    assert list(EmailLog.objects.filter(email=email).values_list("state", flat=True)) == [EmailState.QUEUED]


def test_storing_the_same_message_twice_raises_duplicate_and_leaves_no_second_file(org):
    raw = make_message()
    parsed = message_parse(parse_bytes(raw))
    with transaction.atomic():
        first = email_store(parsed=parsed, raw=raw, provider="eml")
    folder = Path(first.raw.path).parent
    files_before = sorted(folder.iterdir())
    with pytest.raises(DuplicateEmail), transaction.atomic():
        email_store(parsed=parsed, raw=raw, provider="eml")
    assert list(Email.objects.values_list("pk", flat=True)) == [first.pk]
    assert sorted(folder.iterdir()) == files_before


def test_the_same_provider_event_with_another_message_id_is_a_duplicate_too(org):
    first_raw, second_raw = make_message(message_id="<one@client.test>"), make_message(message_id="<two@client.test>")
    with transaction.atomic():
        email_store(
            parsed=message_parse(parse_bytes(first_raw)), raw=first_raw, provider="postmark", provider_event_id="e1"
        )
    with pytest.raises(DuplicateEmail), transaction.atomic():
        email_store(
            parsed=message_parse(parse_bytes(second_raw)), raw=second_raw, provider="postmark", provider_event_id="e1"
        )


def test_sanitize_html_of_nothing_is_nothing():
    assert sanitize_html("") == ""


def _policy_headers(message: EmailMessage) -> list[tuple[str, str]]:
    """Every header as the email package's own header registry reads it (the slow, sure way)."""
    headers = []
    for name, raw in message.raw_items():
        try:
            value = str(message.policy.header_fetch_parse(name, raw))
        except Exception:  # noqa: BLE001 - as message_parse: a header that cannot be parsed stays raw
            value = str(raw)
        headers.append((clean_text(name), clean_text(re.sub(r"\r?\n[ \t]*", " ", value)).strip()))
    return headers


def _corpus_messages() -> list[Path]:
    return sorted((CORPORA / "mime").iterdir()) + sorted((Path(__file__).parent.parent / "data").glob("*/*.eml"))


def test_body_text_read_without_the_header_registry_is_the_same_as_read_with_it():
    compared = fast = 0
    for path in _corpus_messages():
        message = parse_bytes(path.read_bytes())
        for part in message.walk():
            if part.is_multipart():
                continue
            assert _part_text(part) == _part_text_via_registry(part), path.name
            compared += 1
            plain = _plain_content_type(part)
            if plain is not None:
                assert plain[0] == part.get_content_type(), path.name
                assert plain[1] == part.get_param("charset"), path.name
                fast += 1
    assert compared > 500
    assert fast > compared * 0.8  # most parts take the fast path; the rest are compared too


def test_an_empty_or_unknown_charset_decodes_as_utf_8_either_way():
    for charset in ('""', "x-unknown-8bit"):
        part = parse_bytes(f"Content-Type: text/plain; charset={charset}\n\ncaf\u00e9".encode())
        assert _plain_content_type(part) is not None
        assert _part_text(part) == _part_text_via_registry(part) == "caf\u00e9"


def test_headers_read_without_the_header_registry_are_the_same_as_read_with_it():
    compared = 0
    for path in _corpus_messages():
        message = parse_bytes(path.read_bytes())
        assert message_parse(message).headers == _policy_headers(message), path.name
        compared += len(message.keys())
    assert compared > 2000


def test_a_duplicate_inside_the_caller_s_transaction_leaves_it_usable(org):
    raw = make_message()
    parsed = message_parse(parse_bytes(raw))
    with transaction.atomic():
        first = email_store(parsed=parsed, raw=raw, provider="eml")
        with pytest.raises(DuplicateEmail):
            email_store(parsed=parsed, raw=raw, provider="eml")
        # Still usable: the failed statement had a savepoint of its own.
        assert list(Email.objects.values_list("pk", flat=True)) == [first.pk]


def test_the_email_is_stored_under_the_id_and_code_it_was_given(org):
    raw = make_message()
    reserved = email_id_reserve()
    code = uuid.uuid4()
    email = email_store(parsed=message_parse(parse_bytes(raw)), raw=raw, provider="eml", pk=reserved, code=code)
    assert Email.objects.get(code=code).pk == reserved == email.pk


def test_plain_addresses_dates_and_ids_are_read_without_the_header_registry():
    message = parse_bytes(make_message(sender="Dana Client <dana@client.test>", message_id="<plain-1@client.test>"))
    with mock.patch.object(
        type(message.policy), "header_fetch_parse", autospec=True, side_effect=type(message.policy).header_fetch_parse
    ) as registry:
        headers = dict(message_parse(message).headers)
    # Content-Type only once, for the header list (the body's decoding reads its type and
    # charset without it), and the transfer encoding when the payload is decoded.
    read_by_registry = [call.args[1] for call in registry.call_args_list]
    assert sorted(read_by_registry) == ["Content-Transfer-Encoding", "Content-Type"], read_by_registry
    assert headers["From"] == "Dana Client <dana@client.test>"
    assert headers["Date"] == "Mon, 02 Nov 2026 09:30:00 +0000"
