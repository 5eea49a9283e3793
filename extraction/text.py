"""Email text preparation shared by the providers: the new part of a reply, forwards, and mail
that should yield no events at all (auto-replies, newsletters, bounces).

Quoted history and signatures are removed before anything looks for events, because dates in
an old quote or a phone number in a signature would otherwise become events again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

import quotequail
from mailparser_reply.parser import EmailMessage

from extraction.types import EmailInput

# mail-parser-reply's languages; a header line like "Am ... schrieb" is only recognised in them.
REPLY_LANGUAGES = ["en", "de", "fr", "it", "nl", "pl", "sv", "da", "es"]

SUBJECT_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|antw|ref|rif|r|fw|fwd|wg|tr|rv|enc|doorst|vb)\s*(\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)+",
    re.IGNORECASE,
)
FORWARD_SUBJECT = re.compile(r"^\s*(fw|fwd|wg|tr|rv|enc|doorst|vb)\s*:", re.IGNORECASE)
FORWARD_MARKER = re.compile(
    r"^-{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré|message transfere|"
    r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)|^begin forwarded message",
    re.IGNORECASE | re.MULTILINE,
)

AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|abwesenheitsnotiz|"
    r"automatische antwort|réponse automatique|reponse automatique|respuesta automática|"
    r"risposta automatica|afwezig|delivery status notification|undeliverable|"
    r"mail delivery (failed|subsystem)|returned mail|undelivered mail)",
    re.IGNORECASE,
)
AUTO_SENDER = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounce[s]?|newsletters?|news|marketing|notifications?|"
    r"notify|alerts?|calendar-notification|automated|system)[@+.-]",
    re.I,
)
# Transactional subdomains: quickbooks@notification.intuit.com, x@mailer.service.example.
AUTO_DOMAIN = re.compile(r"@(?:notifications?|notify|mailer|mailers|bounces?|alerts?|noreply|no-reply)\.", re.I)
NEWSLETTER_BODY = re.compile(
    r"\bunsubscribe\b|view (this email )?in (your )?browser|manage (your )?(email )?preferences|abmelden|désinscri",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PreparedText:
    """The part of an email worth reading, and the date that relative dates resolve against."""

    body: str  # new text of this email (quotes and signature removed); forwarded text included
    base_date: datetime | None
    forwarded_from: str = ""  # the original sender of a forwarded message
    forwarded_subject: str = ""
    quoted: str = ""  # the earlier conversation (context only, never a source of events)
    # A forward read part by part: the forwarder's note, then each forwarded message (nested
    # forwards too), each with its own author (forwarded_from; "" for the email's sender) and its
    # own date, so "tomorrow" in a message forwarded a week later is that message's tomorrow.
    parts: tuple[PreparedText, ...] = ()


def normalise_subject(subject: str) -> str:
    """ "Re: AW: [Ext] Fwd: Kitchen plans " → "kitchen plans"."""
    cleaned = SUBJECT_PREFIX.sub("", subject or "")
    return re.sub(r"\s+", " ", cleaned).strip().lower()


def header(email: EmailInput, name: str) -> str:
    lowered = name.lower()
    for key, value in email.headers:
        if key.lower() == lowered:
            return value
    return ""


def skip_reason(email: EmailInput) -> str:
    """Why this email should produce no events (an empty string when it should)."""
    # Each name's first value, as `header` gives it: one pass over the headers instead of one per name.
    first: dict[str, str] = {}
    for key, value in email.headers:
        first.setdefault(key.lower(), value)
    auto_submitted = first.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    if (
        first.get("x-autoreply")
        or first.get("x-autorespond")
        or first.get("x-auto-response-suppress", "").lower() == "all"
    ):
        return "auto-reply"
    if first.get("precedence", "").strip().lower() in {"bulk", "list", "junk", "auto_reply"}:
        return "bulk"
    if first.get("list-unsubscribe") or first.get("list-id"):
        return "mailing list"
    if AUTO_SUBJECT.search(email.subject or ""):
        return "auto-reply subject"
    if AUTO_SENDER.search(email.from_address or "") or AUTO_DOMAIN.search(email.from_address or ""):
        return "automated sender"
    if NEWSLETTER_BODY.search((email.text or "")[-3000:]):
        return "newsletter"
    return ""


class _HeadersAtLineStarts:
    """mail-parser-reply's header pattern, tried only where one of its matches can begin.

    The library finds the headers that separate replies with `findall` over the whole body,
    which tries the pattern's ~20 alternatives at every character: about 0.7 ms of CPU per KB
    here, 13 ms for a 20 KB email and most of what the worker spends on it. Each alternative
    begins at a line start (`^`) or at a newline (`(?:^|\n|…)`), except Danish
    "-----Oprindelig meddelelse-----", which may begin mid-line. Trying the same compiled pattern
    only at those places, in order, finds the same matches as `findall`
    (tests/extraction/test_text.py compares both on every message of the corpora).
    """

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex

    def findall(self, text: str) -> list[Any]:
        found: list[Any] = []
        end = 0
        for start in _match_starts(text):
            if start < end:
                continue
            match = self.regex.match(text, start)
            if match is None:
                continue
            if match.end() == start:  # an empty match: findall's rules for those are subtler
                return self.regex.findall(text)
            found.append(_as_findall_does(match))
            end = match.end()
        return found


def _as_findall_does(match: re.Match[str]) -> Any:
    """The item `findall` gives for `match`: the whole match, its one group, or all its groups."""
    groups = match.re.groups
    if groups == 0:
        return match.group(0)
    if groups == 1:
        return match.group(1) or ""
    return match.groups("")


def _match_starts(text: str) -> list[int]:
    """0, every line start, every newline and every run of five dashes, in order."""
    starts = {0}
    newline = text.find("\n")
    while newline >= 0:
        starts.update((newline, newline + 1))
        newline = text.find("\n", newline + 1)
    dashes = text.find("-----")
    while dashes >= 0:
        starts.add(dashes)
        dashes = text.find("-----", dashes + 1)
    return sorted(start for start in starts if start <= len(text))


class _ReplyMessage(EmailMessage):
    """The library's EmailMessage, finding its headers with `_HeadersAtLineStarts`."""

    @property
    def HEADER_REGEX(self) -> Any:
        return _HeadersAtLineStarts(super().HEADER_REGEX)


BULLET = re.compile(r"^(\s*)[-*](\s+)", re.MULTILINE)


def _strip_reply(text: str) -> str:
    # mail-parser-reply reads a line starting with "-" as a signature; bullets are content.
    text = BULLET.sub("\\1•\\2", text)
    manual = _strip_manual(text)
    try:
        replies = _ReplyMessage(text=text, languages=list(REPLY_LANGUAGES)).read().replies
    except Exception:  # noqa: BLE001 - a parser bug must not lose the email; fall back to our own cut
        replies = []
    body = _strip_manual(replies[0].body) if replies else manual
    # The parser sometimes cuts real content as a "signature"; trust it only when it kept most of
    # ours. It also misses quote headers we know (Outlook's in Dutch or Swedish): the shorter wins.
    return min(body, manual, key=len) if len(body) >= 0.6 * len(manual) else manual


# Outlook writes the message it forwards (or quotes) under a bare header block, no marker line:
# "From:" and, within the next lines, "Sent:", in the sender's language. quotequail knows these
# names only after a marker line, and not Sweden's "Skickat", Italy's "Inviato" or Norway's "Sendt".
_FROM_NAMES = r"from|von|de|da|fr[åa]n|fra|van|od|lähettäjä"
_SENT_NAMES = (
    r"sent|date|gesendet|datum|envoy[ée]|enviado(?: el)?|fecha|inviato|data|skickat|sendt|verzonden|lähetetty|wysłano"
)
QUOTE_HEADER = re.compile(
    r"^(on .{5,200} wrote:|am .{5,200} schrieb .{0,100}:|le .{5,200} a écrit ?:|el .{5,200} escribió:|"
    r"il .{5,200} ha scritto:|op .{5,200} schreef .{0,100}:|-{3,}\s*original message\s*-{3,}|"
    r"-{3,}\s*ursprüngliche nachricht\s*-{3,}|"
    rf"\*?(?:{_FROM_NAMES})\s?:\*?[ \t]*.+\n(?:.*\n){{0,2}}?\*?(?:{_SENT_NAMES})\s?:\*?[ \t]*.+)",
    re.IGNORECASE | re.MULTILINE,
)
SIGNATURE_START = re.compile(
    r"^(-- ?|__+|sent from my \w+.*|von meinem \w+ gesendet.*|envoyé de mon \w+.*|get outlook for .*)$",
    re.IGNORECASE | re.MULTILINE,
)
CLOSING = re.compile(
    r"^(best|best regards|kind regards|regards|many thanks|thanks|thank you|cheers|warm regards|best wishes|"
    r"yours sincerely|yours faithfully|yours truly|with best regards|with kind regards|speak soon|talk soon|"
    r"all the best|sincerely|yours|mit freundlichen grüßen|viele grüße|beste grüße|liebe grüße|gruß|grüße|"
    r"cordialement|bien à vous|bien cordialement|saludos|un saludo|cordiali saluti|saluti|met vriendelijke groet|"
    r"groeten|mvg|vg|lg|thx|ta)[,.! ]*$",
    re.IGNORECASE,
)


def _strip_manual(text: str) -> str:
    """Cut at a quote header or signature marker, drop `>` lines, then drop a closing and what follows."""
    match = QUOTE_HEADER.search(text)
    if match:
        text = text[: match.start()]
    match = SIGNATURE_START.search(text)
    if match:
        text = text[: match.start()]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    # A closing ("Best,", "Viele Grüße") near the end starts the signature block.
    for index in range(len(lines) - 1, max(-1, len(lines) - 12), -1):
        if CLOSING.match(lines[index].strip()):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


# Gmail's forwarded-message date ("Fri, 20 Nov 2026 at 16:02"). dateparser reads it as the naive
# date and time it states; reading it here saves dateparser's ~3 ms a call (~190 ms the first).
GMAIL_FORWARD_DATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([1-9]|[12]\d|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{4}) at ([01]?\d|2[0-3]):([0-5]\d)"
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _gmail_forward_date(value: str) -> datetime | None:
    match = GMAIL_FORWARD_DATE.fullmatch(value)
    if match is None:
        return None
    weekday, day, month, year, hour, minute = match.groups()
    try:
        parsed = datetime(int(year), MONTHS.index(month) + 1, int(day), int(hour), int(minute))  # noqa: DTZ001
    except ValueError:  # 31 Nov: left to dateparser, as before
        return None
    # A weekday that does not fit the date is left to dateparser too.
    return parsed if WEEKDAYS[parsed.weekday()] == weekday else None


def _parse_header_date(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        parsed = _gmail_forward_date(value)
    if parsed is None:
        import dateparser

        parsed = dateparser.parse(value.replace(" at ", " "), settings={"RETURN_AS_TIMEZONE_AWARE": False})
    return parsed


OUTLOOK_HEADER = re.compile(
    rf"^\*?(?:{_FROM_NAMES})\s?:\*?[ \t]*(?P<author>[^\n]+)\n(?:[^\n]*\n){{0,2}}?"
    rf"\*?(?:{_SENT_NAMES})\s?:\*?[ \t]*(?P<date>[^\n]+)\n(?P<rest>(?:\*?[\w -]{{2,20}}\s?:\*?[^\n]*\n){{0,5}})",
    re.IGNORECASE | re.MULTILINE,
)


def _outlook_parts(text: str, date: datetime | None, author: str, depth: int) -> list[PreparedText] | None:
    """A forwarded message that carries an earlier one under Outlook's header block, as parts;
    None when there is no such block or its date cannot be read."""
    match = OUTLOOK_HEADER.search(text)
    if match is None or match.start() == 0:
        return None
    inner_date = _parse_header_date(match.group("date"))
    if inner_date is None:
        return None
    if inner_date.tzinfo is None and date is not None:
        inner_date = inner_date.replace(tzinfo=date.tzinfo)
    if date is not None and inner_date > date + timedelta(days=1):
        return None  # not an earlier message: a "Date:" line of the content, say
    top = _strip_manual(text[: match.start()])
    note = [PreparedText(body=top, base_date=date, forwarded_from=author)] if top else []
    return [*note, *_forwarded_parts(text[match.end() :], inner_date, match.group("author").strip(), depth + 1)]


def _forwarded_parts(text: str, date: datetime | None, author: str, depth: int = 1) -> list[PreparedText]:
    """A forwarded message, and the messages it forwards in turn, as parts with their own dates."""
    if depth < 4 and not FORWARD_MARKER.search(text):
        outlook = _outlook_parts(text, date, author, depth)
        if outlook is not None:
            return outlook
    if depth < 4 and FORWARD_MARKER.search(text):
        try:
            unwrapped = quotequail.unwrap(text)
        except Exception:  # noqa: BLE001 - a broken inner forward is read as it stands
            unwrapped = None
        if unwrapped and unwrapped.get("type") == "forward":
            top = _strip_manual(unwrapped.get("text_top") or "")
            inner_date = _parse_header_date(unwrapped.get("date") or "")
            if inner_date is not None and inner_date.tzinfo is None and date is not None:
                inner_date = inner_date.replace(tzinfo=date.tzinfo)
            note = [PreparedText(body=top, base_date=date, forwarded_from=author)] if top else []
            deeper = _forwarded_parts(
                unwrapped.get("text") or "", inner_date or date, unwrapped.get("from") or author, depth + 1
            )
            return [*note, *deeper]
    return [PreparedText(body=_strip_reply(text), base_date=date, forwarded_from=author)]


# A pasted chat log: "[06:58, 2026-11-16] Johan: …", "[9/11/2026 3:58 pm] Marcus Bell: …",
# "12/11/2026, 10:32 - Erik: …" (WhatsApp, Teams, Signal exports).
_CHAT_DATE = r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})"
_CHAT_TIME = r"\d{1,2}[:.]\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?"
CHAT_LINE = re.compile(
    rf"^\[?\s*(?:(?P<d1>{_CHAT_DATE}),?\s+(?P<t1>{_CHAT_TIME})|(?P<t2>{_CHAT_TIME}),?\s+(?P<d2>{_CHAT_DATE}))\s*\]?"
    r"\s*(?:[-–]\s*)?(?P<name>[^:\n]{1,60}?):\s+(?P<text>.+)$",
    re.IGNORECASE,
)


def _chat_day(value: str, sent: datetime) -> datetime | None:
    """A chat line's date; a/b/yyyy is day first unless the sender's clock is American."""
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    numbers = [int(n) for n in re.findall(r"\d+", value)]
    try:
        if iso:
            year, month, day = numbers
        else:
            a, b, year = numbers
            year += 2000 if year < 100 else 0
            offset = sent.utcoffset()
            american = offset is not None and -10 <= offset.total_seconds() / 3600 <= -4
            day, month = (b, a) if american and b <= 31 and a <= 12 else (a, b)
        return sent.replace(year=year, month=month, day=day, hour=12, minute=0)
    except ValueError:
        return None


def _chat_parts(body: str, sent: datetime | None) -> tuple[PreparedText, ...]:
    """A body holding a chat log, as parts: the text around it, and each chat line with its own
    day and author, so "tomorrow" in a line from Tuesday is Wednesday."""
    if sent is None:
        return ()
    lines = body.split("\n")
    matches = [CHAT_LINE.match(line.strip()) for line in lines]
    if sum(1 for m in matches if m) < 3:
        return ()
    parts: list[PreparedText] = []
    plain: list[str] = []
    for line, match in zip(lines, matches, strict=True):
        day = _chat_day(match.group("d1") or match.group("d2"), sent) if match else None
        if match is None or day is None:
            plain.append(line)
            continue
        parts.append(PreparedText(body=match.group("text"), base_date=day, forwarded_from=match.group("name").strip()))
    note = "\n".join(plain).strip()
    return (PreparedText(body=note, base_date=sent), *parts) if note else tuple(parts)


def prepare(email: EmailInput) -> PreparedText:
    """The text to extract events from: stripped reply, or the forwarded message with its own date."""
    text = (email.text or "").replace("\r\n", "\n")
    is_forward = bool(FORWARD_SUBJECT.match(email.subject or "")) or bool(FORWARD_MARKER.search(text))
    if is_forward:
        try:
            unwrapped = quotequail.unwrap(text)
        except Exception:  # noqa: BLE001 - malformed forwards fall back to the plain text
            unwrapped = None
        if unwrapped and unwrapped.get("type") == "forward":
            top = _strip_manual(unwrapped.get("text_top") or "")
            inner = _strip_reply(unwrapped.get("text") or "")
            forwarded_date = _parse_header_date(unwrapped.get("date") or "")
            if forwarded_date is not None and forwarded_date.tzinfo is None and email.date is not None:
                forwarded_date = forwarded_date.replace(tzinfo=email.date.tzinfo)
            note = [PreparedText(body=top, base_date=email.date)] if top else []
            return PreparedText(
                body="\n\n".join(part for part in (top, inner) if part),
                base_date=forwarded_date or email.date,
                forwarded_from=unwrapped.get("from") or "",
                forwarded_subject=unwrapped.get("subject") or "",
                parts=(
                    *note,
                    *_forwarded_parts(
                        unwrapped.get("text") or "", forwarded_date or email.date, unwrapped.get("from") or ""
                    ),
                ),
            )
    body = _strip_manual(email.stripped_text) if email.stripped_text else _strip_reply(text)
    quoted = text[len(body) :] if text.startswith(body) else ""
    return PreparedText(body=body, base_date=email.date, quoted=quoted.strip(), parts=_chat_parts(body, email.date))


def address_domain(address: str) -> str:
    _, addr = parseaddr(address or "")
    return addr.rpartition("@")[2].lower() if "@" in addr else ""


def parse_address(value: str) -> tuple[str, str]:
    """'Anna Schmidt <anna@x.de>' or 'Bob [mailto:bob@x.com]' → (name, address)."""
    value = re.sub(r"\[mailto:([^\]]+)\]", r"<\1>", value or "")
    pairs = getaddresses([value])
    if not pairs:
        return "", ""
    name, addr = pairs[0]
    return name.strip().strip('"'), addr.strip().lower()
