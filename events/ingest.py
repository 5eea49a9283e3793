"""Turn one received message into an Email row (tenant schema): headers, text, sanitised HTML,
attachments and the raw MIME bytes.

Parsing is defensive on purpose: inbound mail is written by anyone, and many real messages
are broken (bad charsets, malformed headers, NUL bytes, surrogates from undecodable bytes).
Nothing here may raise on hostile input; whatever cannot be read is stored as best we can.
"""

from __future__ import annotations

import email.utils
import hashlib
import html as html_lib
import logging
import re
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import (
    AddressHeader,
    ContentTransferEncodingHeader,
    DateHeader,
    HeaderRegistry,
    MIMEVersionHeader,
    UnstructuredHeader,
)
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import default as default_policy
from uuid import UUID, uuid4

import nh3
from django.core.files.base import ContentFile
from django.db import Error as DjangoDatabaseError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from config.sql import rows_insert, tenant_table
from events.models import Attachment, Email, EmailLog, EmailState
from organizations.schemas import current_schema, storage_schema
from organizations.storage import STORAGE_ERRORS, StorageUnavailable, storage_errors

logger = logging.getLogger(__name__)

# Message-IDs we make up for messages that have none end in this domain.
DERIVED_MESSAGE_ID_DOMAIN = "derived.projectr.invalid"

# HTML that survives sanitising: formatting only. No images (tracking pixels, remote loads),
# no styles, no forms; links keep http/https/mailto and get rel="noopener noreferrer".
HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
HTML_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto"}


def clean_text(value: object) -> str:
    """A str PostgreSQL accepts: no NUL characters, no lone surrogates."""
    text = value if isinstance(value, str) else str(value)
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def sanitize_html(html: str) -> str:
    if not html:
        return ""
    return nh3.clean(html, tags=HTML_TAGS, attributes=HTML_ATTRIBUTES, url_schemes=URL_SCHEMES)


def html_to_text(html: str) -> str:
    """A rough text rendering of HTML (for messages without a text part)."""
    text = nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>|</h\d>", "\n", html), tags=set())
    text = html_lib.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def parse_bytes(raw: bytes) -> EmailMessage:
    from anymail.inbound import AnymailInboundMessage

    message: EmailMessage = AnymailInboundMessage.parse_raw_mime_bytes(raw)
    return message


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    # A calendar sent as a body part (Outlook's and Google's text/calendar alternative), kept
    # as an attachment so the invitation can be read (extraction.calendar).
    inline_calendar: bool = False


# The name given to a calendar body part, which has none of its own.
INLINE_CALENDAR_NAME = "invite.ics"


@dataclass(frozen=True)
class ParsedEmail:
    """What we keep of a message; built once, used for routing, checks and storage."""

    message_id: str
    message_id_derived: bool
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime | None
    headers: list[tuple[str, str]]
    in_reply_to: str
    references: list[str]
    text: str
    html: str
    attachments: list[ParsedAttachment] = field(default_factory=list)

    def header(self, name: str) -> str:
        """The first header `name` (case-insensitive), or ''."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), "")


# Headers the email package parses into structure (addresses, dates, MIME parameters); every
# other name is plain text to it. Of these, MIME-Version and Content-Transfer-Encoding read
# back exactly as written when they are plain ASCII (checked on every corpus message), so
# they are treated as text too.
STRUCTURED_HEADERS = frozenset(
    name
    for name, kind in HeaderRegistry().registry.items()
    if not issubclass(kind, UnstructuredHeader | MIMEVersionHeader | ContentTransferEncodingHeader)
)
# A Message-ID of one plain <local@domain> also reads back as written; odd ones (two @, spaces,
# comments) go through the registry, which repairs some of them.
PLAIN_MESSAGE_ID = re.compile(r"\s*<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>\s*")
# So does a list of plain mailboxes, `Name <local@domain>` or `local@domain`, joined by ", ":
# the registry writes each back the same way (it quotes names with specials such as "." and
# drops the brackets of a bare <local@domain>, so those are not plain).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_MAILBOX = rf"(?:{_ATOM}(?: {_ATOM})* <{_ADDR_SPEC}>|{_ADDR_SPEC})"
PLAIN_ADDRESSES = re.compile(rf"{_MAILBOX}(?:, {_MAILBOX})*")
# A Content-Type of a plain type with plain parameters, `text/plain; charset="utf-8"` (no
# comments, no RFC 2231 `name*=`, no escapes in quotes): its type and charset are read here
# when the body is decoded, which asks the registry for them three or four times per part.
# (The header's value is still read by the registry: it rewrites parameters in ways of its
# own, quoting some, dropping repeated ones, decoding encoded words inside quotes.)
_MIME_ATOM = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_PARAMETER = rf"\s*;\s*([A-Za-z0-9_-]+)=(?:\"([^\"\\\r\n]*)\"|({_MIME_ATOM}))"
PLAIN_CONTENT_TYPE = re.compile(rf"\s*({_MIME_ATOM}/{_MIME_ATOM})((?:{_PARAMETER})*)\s*;?\s*")
CONTENT_TYPE_PARAMETER = re.compile(_PARAMETER)
ADDRESS_HEADERS = frozenset(name for name, kind in HeaderRegistry().registry.items() if issubclass(kind, AddressHeader))
DATE_HEADERS = frozenset(name for name, kind in HeaderRegistry().registry.items() if issubclass(kind, DateHeader))


def _plain_structured_value(name: str, value: str) -> str | None:
    """What the header registry makes of a plain ASCII structured header, when we can say it
    without it (each case compared with the registry on every corpus message); else None."""
    if name == "message-id":
        return value if PLAIN_MESSAGE_ID.fullmatch(value) else None
    if name in ADDRESS_HEADERS:
        return value if PLAIN_ADDRESSES.fullmatch(value) else None
    if name in DATE_HEADERS:
        # The registry's own reading: the date written back in RFC 5322 form, or the value
        # as it is when it is not a date.
        try:
            return email.utils.format_datetime(email.utils.parsedate_to_datetime(value))
        except Exception:  # noqa: BLE001 - as the registry: an unreadable date stays as written
            return value
    return None


def _header_value(message: Message, name: str, raw_value: str) -> str:
    plain = isinstance(raw_value, str) and raw_value.isascii() and "=?" not in raw_value
    if plain:
        # Plain ASCII text without encoded words decodes to itself; the header registry would
        # take most of the time of parsing a message to say so (Received, DKIM, X-…). Unfolded
        # as it unfolds them: line breaks go, the whitespace after them stays.
        unfolded = raw_value.replace("\r", "").replace("\n", "")
        lowered = name.lower()
        if lowered not in STRUCTURED_HEADERS:
            return unfolded
        known = _plain_structured_value(lowered, unfolded)
        if known is not None:
            return known
    try:
        return str(message.policy.header_fetch_parse(name, raw_value))
    except Exception:  # noqa: BLE001 - any header parsing error falls back to the raw value
        return str(raw_value)


def _headers(message: Message) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, raw_value in message.raw_items():
        # Values are decoded one by one: a malformed header must cost only itself.
        value = _header_value(message, name, raw_value)
        headers.append((clean_text(name), clean_text(re.sub(r"\r?\n[ \t]*", " ", value)).strip()))
    return headers


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:  # noqa: BLE001 - a malformed address list yields no addresses, not an error
        return []
    return [(clean_text(name), clean_text(addr).strip()) for name, addr in pairs if addr and "@" in addr]


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value)


def _plain_content_type(part: Message) -> tuple[str, str | None] | None:
    """(type, charset) of a part whose Content-Type is plain (PLAIN_CONTENT_TYPE), as
    get_content_type and get_param("charset") give them, without the header registry; None
    for any other part (no Content-Type, encoded words, RFC 2231 parameters, comments)."""
    raw = next((value for name, value in part.raw_items() if name.lower() == "content-type"), None)
    if not isinstance(raw, str) or not raw.isascii():
        return None
    unfolded = raw.replace("\r", "").replace("\n", "")
    match = PLAIN_CONTENT_TYPE.fullmatch(unfolded)
    if match is None:
        return None
    charsets = [
        quoted or token
        for name, quoted, token in CONTENT_TYPE_PARAMETER.findall(match.group(2))
        if name.lower() == "charset"
    ]
    return match.group(1).lower(), (charsets[0] if charsets else None)


def _part_text(part: Message) -> str:
    """The decoded text of a part, even with an unknown or wrong charset."""
    plain = _plain_content_type(part)
    if plain is not None and plain[0].startswith("text/"):
        # What get_content() does for text (email.contentmanager.get_text_content), with the
        # type and charset read above rather than by the registry.
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            try:
                return payload.decode("ASCII" if plain[1] is None else plain[1], "replace")
            except LookupError:
                return payload.decode("utf-8", "replace")
    return _part_text_via_registry(part)


def _part_text_via_registry(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
        if isinstance(content, bytes):
            return content.decode("utf-8", "replace")
    except Exception:  # noqa: BLE001, S110 - unknown charsets raise LookupError, broken encodings others
        pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, "replace")
        except LookupError:
            return payload.decode("utf-8", "replace")
    return ""


def message_text(message: Message) -> tuple[str, str]:
    """(text, html) of the body as Python's email package picks it (get_body)."""
    text = html = ""
    if not message.is_multipart():
        # What get_body and the fallback below would pick, without walking the part twice.
        body = _part_text(message)
        plain = _plain_content_type(message)
        content_type = plain[0] if plain is not None else message.get_content_type()
        return ("", body) if content_type == "text/html" else (body, "")
    if isinstance(message, EmailMessage):
        try:
            plain_part = message.get_body(preferencelist=("plain",))
            if plain_part is not None:
                text = _part_text(plain_part)
            rich = message.get_body(preferencelist=("html",))
            if rich is not None:
                html = _part_text(rich)
        except Exception:
            logger.info("Could not walk the MIME tree of a message", exc_info=True)
    return text, html


def _attachments(message: Message) -> list[ParsedAttachment]:
    found: list[ParsedAttachment] = []
    try:
        parts = list(message.walk())
    except Exception:  # noqa: BLE001
        return found
    for part in parts:
        if part.is_multipart() or (part is message and not _is_calendar_part(part)):
            continue
        try:
            disposition = part.get_content_disposition()
            filename = part.get_filename()
        except Exception:  # noqa: BLE001, S112 - a part with broken headers is skipped
            continue
        inline_calendar = disposition != "attachment" and not filename and _is_calendar_part(part)
        if disposition != "attachment" and not filename and not inline_calendar:
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        found.append(
            ParsedAttachment(
                filename=INLINE_CALENDAR_NAME if inline_calendar else clean_text(filename or "")[:255],
                content_type=clean_text(part.get_content_type())[:255],
                content=content,
                inline_calendar=inline_calendar,
            )
        )
    return found


def _is_calendar_part(part: Message) -> bool:
    plain = _plain_content_type(part)
    content_type = plain[0] if plain is not None else part.get_content_type()
    return content_type in {"text/calendar", "application/ics"}


def _date(value: str) -> datetime | None:
    """The Date header's moment (its value as read into ParsedEmail.headers)."""
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except Exception:  # noqa: BLE001 - unparseable dates are simply unknown
        return None
    if not isinstance(parsed, datetime):
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def derived_message_id(parsed_fields: list[str], attachments: list[ParsedAttachment]) -> str:
    """A stable Message-ID from the content, so the same message always gets the same one."""
    digest = hashlib.sha256()
    for value in parsed_fields:
        digest.update(value.encode("utf-8", "replace"))
        digest.update(b"\x00")
    for attachment in attachments:
        digest.update(hashlib.sha256(attachment.content).digest())
    return f"<{digest.hexdigest()[:40]}@{DERIVED_MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class ParsedHead:
    """What the header block alone says: enough to route, check and refuse a message before its
    body is parsed (inbound.services.delivery_decide)."""

    message_id: str  # '' when the message has none (message_parse derives one)
    from_address: str
    from_name: str
    from_addresses: list[str]  # the address of every From header (sender authentication)
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime | None
    headers: list[tuple[str, str]]
    in_reply_to: str
    references: list[str]

    def header(self, name: str) -> str:
        """The first header `name` (case-insensitive), or ''."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), "")


def message_head_parse(message: Message) -> ParsedHead:
    """The header fields of a message (a headers-only parse is enough, see head_bytes)."""
    headers = _headers(message)
    lookup = {name.lower(): value for name, value in reversed(headers)}
    from_pairs = _addresses([lookup.get("from", "")])
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    ids = _message_ids(lookup.get("message-id", ""))
    return ParsedHead(
        message_id=ids[0][:998] if ids else "",
        from_address=from_address[:320],
        from_name=from_name[:320],
        from_addresses=[addr for _, addr in _addresses([v for k, v in headers if k.lower() == "from"])],
        to=[addr for _, addr in _addresses([v for k, v in headers if k.lower() == "to"])],
        cc=[addr for _, addr in _addresses([v for k, v in headers if k.lower() == "cc"])],
        subject=lookup.get("subject", ""),
        date=_date(lookup.get("date", "")),
        headers=headers,
        in_reply_to=next(iter(_message_ids(lookup.get("in-reply-to", ""))), "")[:998],
        references=_message_ids(lookup.get("references", ""))[-50:],
    )


# The end of a header block: the first empty line (any line ending, as the email parser reads them).
_HEADER_END = re.compile(rb"\r\n\r\n|\n\n|\r\r|\n\r\n")


def head_bytes(raw: bytes) -> bytes:
    """The header block of a raw message and its empty line: parsed alone (parse_bytes) it
    gives the message's headers, in a small fraction of the time of the whole message."""
    if raw[:1] in (b"\r", b"\n"):
        return b"\r\n"
    match = _HEADER_END.search(raw)
    return raw if match is None else raw[: match.end()]


def message_parse(message: Message, head: ParsedHead | None = None) -> ParsedEmail:
    """Everything we keep of a message. `head`: its header fields when they were parsed already."""
    head = head or message_head_parse(message)
    text, html = message_text(message)
    text, html = clean_text(text), clean_text(html)
    if not text and html:
        text = html_to_text(html)
    attachments = _attachments(message)
    lookup_date = head.header("date")
    derived = not head.message_id
    if head.message_id:
        message_id = head.message_id
    else:
        message_id = derived_message_id(
            [head.from_address, ",".join(head.to), ",".join(head.cc), head.subject, lookup_date, text, html],
            # As before calendar parts were kept: a message stored then is still known by its id.
            [a for a in attachments if not a.inline_calendar],
        )
    return ParsedEmail(
        message_id=message_id,
        message_id_derived=derived,
        from_address=head.from_address,
        from_name=head.from_name,
        to=head.to,
        cc=head.cc,
        subject=head.subject,
        date=head.date,
        headers=head.headers,
        in_reply_to=head.in_reply_to,
        references=head.references,
        text=text,
        html=sanitize_html(html),
        attachments=attachments,
    )


def reference_text(raw: bytes) -> str:
    """The body text Python's email package reads from raw bytes (used to check what we stored)."""
    message = BytesParser(EmailMessage, policy=default_policy).parsebytes(raw)
    text, html = message_text(message)
    text = clean_text(text)
    return text or html_to_text(clean_text(html))


# The unique constraints of events.Email that mean "this message is here already".
DUPLICATE_CONSTRAINTS = {"email_unique_message_id", "email_unique_provider_event"}


class DuplicateEmail(Exception):
    """The message is stored already (same Message-ID, or same provider event)."""


def email_id_sql(schema_name: str) -> str:
    """SQL for a new Email id from the organization's sequence, for rows that must name the
    email before it is written. The webhook selects it with its loop check."""
    table = tenant_table(Email, schema_name)
    return f"nextval(pg_get_serial_sequence('{table}', 'id'))"


def email_id_reserve(schema_name: str | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {email_id_sql(schema_name or current_schema())}")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def email_store(
    *,
    parsed: ParsedEmail,
    raw: bytes,
    provider: str,
    provider_event_id: str = "",
    envelope_sender: str = "",
    envelope_recipient: str = "",
    project_hint: str = "",
    received_at: datetime | None = None,
    state: str = EmailState.QUEUED,
    state_reason: str = "",
    hold_cause: str = "",
    backfill: bool = False,
    pk: int | None = None,
    code: UUID | None = None,
    also: Sequence[Sequence[Model]] = (),
    schema_name: str | None = None,
    log_message: str = "",
) -> Email:
    """Store the message in the current (tenant) schema; DuplicateEmail when it is stored already.

    The Email, its attachments, its first log row and the unsaved rows of `also` (the
    webhook's Delivery and task rows, which name the email by `pk` and `code`) are written in
    one statement (config.sql.rows_insert): all of them or none, in one round trip and
    without a transaction of our own. Inside a caller's transaction the statement gets a
    savepoint, so that a duplicate does not abort it; the webhook runs in autocommit and
    needs none (a savepoint would cost two round trips on every delivery).

    The rows go to `schema_name`'s tables (default: the connection's schema), named with their
    schema, so the webhook stores without switching the connection's search path.
    `log_message`: the first log row's text (default: the state's reason, or "Received").
    """
    schema_name = schema_name or current_schema()
    now = timezone.now()
    email = Email(
        pk=pk or email_id_reserve(schema_name),
        code=code or uuid4(),
        message_id=parsed.message_id,
        provider=provider[:30],
        provider_event_id=clean_text(provider_event_id)[:255],
        envelope_sender=clean_text(envelope_sender)[:998],
        envelope_recipient=clean_text(envelope_recipient)[:998],
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to=parsed.to,
        cc=parsed.cc,
        subject=parsed.subject,
        date=parsed.date,
        received_at=received_at or now,
        headers=[list(pair) for pair in parsed.headers],
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        text=parsed.text,
        html=parsed.html,
        size=len(raw),
        project_hint=project_hint[:100],
        state=state,
        state_reason=state_reason,
        hold_cause=hold_cause,
        state_changed_at=now,
        backfill=backfill,
    )
    attachments = []
    stored: list[FieldFile] = []
    try:
        with storage_schema(schema_name), storage_errors("Could not store the message"):
            email.raw.save(f"{email.code}.eml", ContentFile(raw), save=False)
            stored.append(email.raw)
            for item in parsed.attachments:
                attachment = Attachment(
                    email=email, filename=item.filename, content_type=item.content_type, size=len(item.content)
                )
                attachment.file.save(attachment.code.hex, ContentFile(item.content), save=False)
                stored.append(attachment.file)
                attachments.append(attachment)
    except StorageUnavailable:
        # Nothing is in the database yet: the caller answers "retry later" (the webhook 503).
        _files_forget(schema_name, stored)
        raise
    log = EmailLog(email=email, at=now, state=state, message=log_message or state_reason or "Received")
    try:
        with nullcontext() if connection.get_autocommit() else transaction.atomic():
            rows_insert([email], attachments, [log], *also, schema_name=schema_name)
    except DjangoDatabaseError as error:
        # A duplicate, or the database went away: no row points to the files just stored.
        _files_forget(schema_name, stored)
        if isinstance(error, IntegrityError) and (
            getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) in DUPLICATE_CONSTRAINTS
        ):
            raise DuplicateEmail(parsed.message_id) from error
        raise
    return email


def _files_forget(schema_name: str, stored: list[FieldFile]) -> None:
    """Delete the files of a message that was not stored after all. Best effort: a storage that
    is down keeps them (under the organization's prefix, deleted with the organization)."""
    with storage_schema(schema_name):
        for field_file in stored:
            try:
                field_file.delete(save=False)
            except STORAGE_ERRORS:
                logger.warning("Could not delete a stored file of a message that was not stored", exc_info=True)
