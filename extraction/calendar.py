"""Calendar invitations in mail (iTIP, RFC 5546): `text/calendar` parts and `.ics` files → Invitation.

Pure: no Django. events.extraction_inputs reads the calendar texts of an email's attachments into
EmailInput.calendars; the rules provider turns what `calendars_read` finds into meetings, and
events.apply matches them to the timeline by UID and SEQUENCE.

What is read (docs/extraction.md, "Calendar invitations"):

- METHOD from the calendar itself, not the MIME `method=` parameter (Google has sent REPLY
  parameters on COUNTER bodies). REQUEST and PUBLISH add or update a meeting, and so does a
  calendar without METHOD (an event file someone attached); CANCEL (or STATUS:CANCELLED)
  cancels it; REPLY carries one attendee's answer. COUNTER, REFRESH, ADD and the rest are
  left alone.
- The start is the organizer's local date and time: the wall time of DTSTART in its TZID (an
  IANA name, or a Windows name such as "W. Europe Standard Time" mapped with icalendar's CLDR
  table, or whatever the embedded VTIMEZONE says); a UTC start is shown in the offset of the
  email's Date header; an all-day start is a date.
- A series (RRULE) shows its next occurrence on or after the email's day, with its overrides
  and exceptions applied (recurring-ical-events), and says how it recurs.
- Anything unreadable is a problem (a short sentence for the email's log), never an error: the
  rest of the email is still processed.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

import icalendar
import recurring_ical_events
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

Method = Literal["REQUEST", "CANCEL", "REPLY"]

# iTIP methods we act on, as the timeline reads them: PUBLISH (an event posted, no replies
# expected) is a REQUEST to us.
METHODS: dict[str, Method] = {"REQUEST": "REQUEST", "PUBLISH": "REQUEST", "CANCEL": "CANCEL", "REPLY": "REPLY"}
MAX_CALENDARS = 5
MAX_CALENDAR_CHARS = 256_000
MAX_INVITATIONS = 10
MAX_PEOPLE = 10
# How far a series is walked to find its next occurrence (a daily series over ten years is
# ~3,650 occurrences; the next one after the email is nearly always among the first few).
MAX_OCCURRENCES_SCANNED = 1_000
ANSWERS = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative", "DELEGATED": "delegated"}
FREQUENCIES = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})

# icalendar keeps the time zones of embedded VTIMEZONEs in one process-wide cache, first seen
# first kept: one sender's bogus "Eastern Standard Time" would be used for every later calendar
# (icalendar's timezone cache is module-global). Each calendar is therefore read alone, with a fresh cache, and our
# own resolution below prefers the IANA database and the CLDR table to any VTIMEZONE.
_PARSE_LOCK = threading.Lock()


def is_calendar(filename: str, content_type: str) -> bool:
    """Whether an attachment is a calendar: by its type (Google's invite.ics is application/ics)
    or its name."""
    return content_type.lower() in CALENDAR_TYPES or filename.lower().endswith((".ics", ".vcs"))


@dataclass(frozen=True)
class Person:
    name: str  # CN, may be empty
    address: str  # without mailto:
    answer: str = ""  # accepted, declined, tentative, delegated; "" when not said

    @property
    def label(self) -> str:
        return self.name or self.address


@dataclass(frozen=True)
class Invitation:
    method: Method
    uid: str
    sequence: int
    summary: str
    location: str
    day: date | None  # the organizer's local date (None only for a REPLY that leaves it out)
    at: time | None  # the organizer's local time; None for an all-day meeting
    zone: str  # IANA name of that local time ("Europe/Berlin", "Etc/GMT-2"); "" when unknown or floating
    recurrence: str  # "weekly", "every 2 weeks"; "" for a single meeting
    occurrence: date | None  # RECURRENCE-ID: the message is about this one occurrence of a series
    organizer: Person | None
    attendees: tuple[Person, ...]
    stamp: datetime | None  # DTSTAMP

    @property
    def people(self) -> list[str]:
        """Organizer first, then attendees, by name (else address), each once."""
        everyone = [self.organizer, *self.attendees] if self.organizer else list(self.attendees)
        return list(dict.fromkeys(p.label for p in everyone if p.label))[:MAX_PEOPLE]

    def start_text(self) -> str:
        """ "Tue 10 Mar 2026 14:00 (Europe/Berlin)", for evidence lines and the prompt."""
        if self.day is None:
            return ""
        text = f"{self.day:%a} {self.day.day} {self.day:%b %Y}"
        if self.at is not None:
            text += f" {self.at:%H:%M}"
            if self.zone:
                text += f" ({self.zone})"
        return text


@dataclass(frozen=True)
class CalendarReading:
    invitations: tuple[Invitation, ...] = ()
    problems: tuple[str, ...] = ()  # one sentence each, for the email's log


def calendars_read(texts: Sequence[str], *, sent_at: datetime | None) -> CalendarReading:
    """Every invitation in `texts` (each the text of one calendar part or file), once each.

    `sent_at` is the email's Date header with the sender's offset: a UTC start is shown in that
    offset, and a series shows its next occurrence on or after that day.
    """
    invitations: list[Invitation] = []
    problems: list[str] = []
    seen: set[tuple[str, str, date | None, int]] = set()
    for number, text in enumerate(texts[:MAX_CALENDARS], start=1):
        name = f"calendar {number}" if len(texts) > 1 else "the calendar"
        found, trouble = _calendar_read(text, sent_at=sent_at, name=name)
        problems.extend(trouble)
        for invitation in found:
            # Google sends the same calendar inline and as invite.ics.
            key = (invitation.method, invitation.uid, invitation.occurrence, invitation.sequence)
            if invitation.uid and key in seen:
                continue
            seen.add(key)
            invitations.append(invitation)
    if len(texts) > MAX_CALENDARS:
        problems.append(f"Only the first {MAX_CALENDARS} of {len(texts)} calendars were read.")
    return CalendarReading(invitations=tuple(invitations[:MAX_INVITATIONS]), problems=tuple(problems))


def _calendar_read(text: str, *, sent_at: datetime | None, name: str) -> tuple[list[Invitation], list[str]]:
    if len(text) > MAX_CALENDAR_CHARS:
        return [], [f"Calendar invitation not read: {name} is larger than {MAX_CALENDAR_CHARS // 1000} KB."]
    with _PARSE_LOCK:
        icalendar.use_zoneinfo()  # a fresh time zone cache for this calendar alone
        try:
            calendars = icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as error:  # noqa: BLE001 - any parse failure is the sender's, not ours
            return [], [f"Calendar invitation not read: {name} is malformed ({_short(error)})."]
        found: list[Invitation] = []
        problems: list[str] = []
        for calendar in calendars:
            try:
                invitations, trouble = _invitations(calendar, sent_at=sent_at, name=name)
            except Exception as error:  # noqa: BLE001 - a broken calendar must not stop the email
                problems.append(f"Calendar invitation not read: {name} is malformed ({_short(error)}).")
                continue
            found.extend(invitations)
            problems.extend(trouble)
    if not found and not problems and not any(c.walk("VEVENT") for c in calendars):
        problems.append(f"Calendar invitation not read: {name} has no event.")
    return found, problems


def _short(error: Exception) -> str:
    message = re.sub(r"\s+", " ", str(error)).strip()
    return f"{type(error).__name__}: {message[:160]}" if message else type(error).__name__


def _invitations(calendar: Any, *, sent_at: datetime | None, name: str) -> tuple[list[Invitation], list[str]]:
    method_value = str(calendar.get("METHOD", "PUBLISH")).strip().upper()
    method = METHODS.get(method_value)
    if method is None:
        return [], []  # COUNTER, REFRESH, ADD, DECLINECOUNTER: nothing for the timeline
    events = list(calendar.walk("VEVENT"))
    masters = {str(e.get("UID", "")) for e in events if e.get("RECURRENCE-ID") is None}
    found: list[Invitation] = []
    problems: list[str] = []
    for event in events:
        summary = _text(event.get("SUMMARY")) or "Meeting"
        broken = [prop for prop, _ in getattr(event, "errors", [])]
        if "DTSTART" in broken or (event.get("DTSTART") is None and method != "REPLY"):
            problems.append(f"Calendar invitation not read: “{summary}” in {name} has no readable start.")
            continue
        uid = _text(event.get("UID"))
        if not uid and method != "REQUEST":
            problems.append(f"Calendar {method.lower()} not read: “{summary}” in {name} has no UID.")
            continue
        occurrence = _occurrence(event, sent_at)
        if occurrence is not None and uid in masters and method == "REQUEST":
            continue  # an override sent with its series: applied by the series' next occurrence
        invitation = _invitation(calendar, event, method, uid, summary, occurrence, sent_at)
        if invitation is None:
            continue  # a series with no occurrence left after the email
        found.append(invitation)
    return found, problems


def _invitation(
    calendar: Any, event: Any, method: Method, uid: str, summary: str, occurrence: date | None, sent_at: datetime | None
) -> Invitation | None:
    if method == "REQUEST" and str(event.get("STATUS", "")).upper() == "CANCELLED":
        method = "CANCEL"
    start = event.get("DTSTART")
    day: date | None = None
    at: time | None = None
    zone = ""
    recurrence = ""
    if start is not None:
        day, at, zone = _local_start(start, sent_at)
        rule = event.get("RRULE")
        if rule is not None and occurrence is None:
            recurrence = _recurrence_text(rule)
            if method == "REQUEST":
                upcoming = _next_occurrence(calendar, uid, start, sent_at)
                if upcoming is None:
                    return None
                day, at, zone = upcoming
    return Invitation(
        method=method,
        uid=uid[:500],
        sequence=_sequence(event),
        summary=summary[:200],
        location=_text(event.get("LOCATION"))[:300],
        day=day,
        at=at,
        zone=zone,
        recurrence=recurrence,
        occurrence=occurrence,
        organizer=_person(event.get("ORGANIZER")),
        attendees=tuple(p for p in map(_person, _as_list(event.get("ATTENDEE"))) if p is not None)[:50],
        stamp=_stamp(event),
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    return re.sub(r"\s+", " ", str(value)).strip()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _person(value: Any) -> Person | None:
    if value is None:
        return None
    address = re.sub(r"(?i)^mailto:", "", str(value)).strip()
    params = getattr(value, "params", {})
    name = _text(params.get("CN", "")).strip("\"' ")
    answer = ANSWERS.get(str(params.get("PARTSTAT", "")).upper(), "")
    if not name and not address:
        return None
    return Person(name=name[:100], address=address[:320], answer=answer)


def _sequence(event: Any) -> int:
    """SEQUENCE; Exchange's own copy when SEQUENCE is missing (pre-2007 Outlook)."""
    for name in ("SEQUENCE", "X-MICROSOFT-CDO-APPT-SEQUENCE"):
        value = event.get(name)
        if value is not None:
            try:
                return max(0, int(str(value).strip()))
            except ValueError:
                continue
    return 0


def _stamp(event: Any) -> datetime | None:
    value = event.get("DTSTAMP")
    moment = getattr(value, "dt", None)
    return moment if isinstance(moment, datetime) else None


def _occurrence(event: Any, sent_at: datetime | None) -> date | None:
    """RECURRENCE-ID's day as the organizer sees it (the occurrence's original date)."""
    value = event.get("RECURRENCE-ID")
    if value is None or not isinstance(getattr(value, "dt", None), date):
        return None
    return _local_start(value, sent_at)[0]


def _recurrence_text(rule: Any) -> str:
    rules = rule if isinstance(rule, list) else [rule]
    first = rules[0] if rules else {}
    frequency = str((first.get("FREQ") or [""])[0]).upper()
    unit = FREQUENCIES.get(frequency)
    if unit is None:
        return "recurring"
    try:
        interval = int((first.get("INTERVAL") or [1])[0])
    except (TypeError, ValueError):
        interval = 1
    if interval <= 1:
        return {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}[unit]
    return f"every {interval} {unit}s"


# -- Time zones --------------------------------------------------------------------------


@functools.cache
def _iana_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_name(tzid: str) -> str:
    """The IANA name for a TZID as mail writes it: IANA itself, a Windows name ("GMT Standard
    Time" → Europe/London, via icalendar's CLDR table), a quoted or "/vendor/…/Region/City" one;
    "" when none fits (a display name like "(UTC+01:00) Amsterdam, Berlin", which only its
    VTIMEZONE explains)."""
    cleaned = tzid.strip().strip("\"'").strip()
    candidates = [cleaned, WINDOWS_TO_OLSON.get(cleaned, "")]
    parts = [p for p in cleaned.split("/") if p]
    if len(parts) > 2:  # "/mozilla.org/20050126_1/Europe/Berlin"
        candidates.append("/".join(parts[-2:]))
        candidates.append("/".join(parts[-3:]))
    return next((c for c in candidates if c and c in _iana_names()), "")


def offset_zone(offset: timedelta | None) -> str:
    """An IANA name for a whole-hour UTC offset ("Etc/GMT-2" is UTC+2; POSIX signs are inverted),
    so a calendar export can place the time; "" for other offsets."""
    if offset is None:
        return ""
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return "UTC"
    if seconds % 3600 or abs(seconds) > 14 * 3600:
        return ""
    hours = seconds // 3600
    return f"Etc/GMT{-hours:+d}"


def _local_start(prop: Any, sent_at: datetime | None) -> tuple[date, time | None, str]:
    """(date, time, zone) of a DTSTART as the organizer sees it."""
    value = prop.dt
    if not isinstance(value, datetime):
        return value, None, ""  # all day
    tzid = str(prop.params.get("TZID", "")) if getattr(prop, "params", None) else ""
    return _wall(value, tzid, sent_at)


def _wall(value: datetime, tzid: str, sent_at: datetime | None) -> tuple[date, time | None, str]:
    if tzid:
        # The written wall time is the organizer's own: keep it, and name its zone ourselves.
        zone = zone_name(tzid) or _fixed_zone(value)
        wall = value.replace(tzinfo=None)
        return wall.date(), wall.time().replace(second=0, microsecond=0), zone
    if value.tzinfo is not None:  # UTC ("Z"): in the email's own offset
        local = value.astimezone(sent_at.tzinfo) if sent_at is not None and sent_at.tzinfo else value.astimezone(UTC)
        return local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None), offset_zone(local.utcoffset())
    return value.date(), value.time().replace(second=0, microsecond=0), ""  # floating


def _fixed_zone(value: datetime) -> str:
    tz: tzinfo | None = value.tzinfo
    return offset_zone(tz.utcoffset(value)) if tz is not None else ""


def _next_occurrence(
    calendar: Any, uid: str, start: Any, sent_at: datetime | None
) -> tuple[date, time | None, str] | None:
    """The series' first occurrence on or after the email's day (overrides applied, exceptions
    and cancelled occurrences skipped), or None when it has ended."""
    tzid = str(start.params.get("TZID", "")) if getattr(start, "params", None) else ""
    first_day = _local_start(start, sent_at)[0]
    from_day = sent_at.date() if sent_at is not None else first_day
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    for occurrence in itertools.islice(query.after(from_day - timedelta(days=1)), MAX_OCCURRENCES_SCANNED):
        if _text(occurrence.get("UID")) != uid or str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            continue
        prop = occurrence.get("DTSTART")
        value = prop.dt
        if isinstance(value, datetime):
            own = str(prop.params.get("TZID", "")) if getattr(prop, "params", None) else ""
            local = _wall(value, own or tzid, sent_at)
        else:
            local = (value, None, "")
        if local[0] >= from_day:
            return local
    return None
