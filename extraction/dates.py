"""Find dates and times in email text and resolve them against the email's own Date header.

Regular expressions find the candidate phrases (so we know exactly which words were a date);
dateparser turns month-name phrases in several languages and "in N weeks" into dates;
weekday and end-of-period phrases are computed here because their meaning is a convention
we choose and document (docs/extraction.md):

- "Friday" / "on Friday" / "this Friday": the next Friday after the email (today if "this").
- "next Friday": the Friday of the following week (weeks start on Monday).
- "the 21st": the next 21st on or after the email's date.
- "3/10": day first or month first in the sender's likely convention (see `day_first_for`).
- A date without a year more than 30 days before the email means next year's (mail is mostly about
  what comes next; a recent past date, "the invoice of 10 November", stays in this year).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import dateparser

DAY_FIRST_TLDS = {
    "uk", "ie", "de", "at", "ch", "fr", "be", "nl", "lu", "es", "pt", "it", "dk", "se", "no", "fi", "is", "pl",
    "cz", "sk", "hu", "ro", "bg", "gr", "hr", "si", "ee", "lv", "lt", "eu", "au", "nz", "in", "za", "br", "ar",
    "mx", "cl", "co", "pe", "tr", "ru", "ua", "il", "sg", "my", "id", "vn", "th", "hk", "ng", "ke", "eg", "ae",
}  # fmt: skip
MONTH_FIRST_TLDS = {"us", "ph", "ca", "gov", "edu", "mil"}
GENERIC_TLDS = {"com", "net", "org", "io", "co", "biz", "info", "app", "dev", "studio", "agency", "design", "tech"}


def day_first_for(domain: str, utc_offset: timedelta | None = None) -> bool:
    """Whether "3/10" from this sender means 3 October (day first) rather than March 10.

    A country domain decides (.co.uk, .de, .fr → day first; .us → month first); for a generic
    domain (.com, gmail.com) a European/African/Asian-Pacific UTC offset in the Date header
    means day first, anything else (the Americas, UTC itself) month first.
    """
    tld = domain.rsplit(".", 1)[-1].lower() if domain else ""
    if tld in DAY_FIRST_TLDS and not domain.endswith(".com.co"):
        return True
    if tld in MONTH_FIRST_TLDS:
        return False
    if utc_offset is not None:
        hours = utc_offset.total_seconds() / 3600
        return 1 <= hours <= 12
    return False


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    text: str
    date: date
    exact: bool = True  # False for vague spans ("next week") that name no particular day
    bare_weekday: bool = False  # "Friday" with no next/this/last: its direction depends on the tense
    week: bool = False  # "the week of the 23rd", "week 6": the week's Monday, a milestone's date but no meeting's


MONTHS = (
    r"jan(?:uary|vier|uar|\.)?|feb(?:ruary|ruar|\.)?|févr(?:ier)?|fevr(?:ier)?|mar(?:ch|s|\.)?|märz|maerz|"
    r"apr(?:il|\.)?|avr(?:il)?|may|mai|jun(?:e|i|\.)?|juin|jul(?:y|i|\.)?|juil(?:let)?|aug(?:ust|\.)?|août|aout|"
    r"sep(?:t|tember|tembre|\.)?|oct(?:ober|obre|\.)?|okt(?:ober)?|nov(?:ember|embre|\.)?|dec(?:ember|\.)?|"
    r"dez(?:ember)?|déc(?:embre)?|desember|des\.|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|januari|"
    r"februari|maart|mei|juni|juli|augustus|oktober|janeiro|fevereiro|março|marco|maio|junho|julho|setembro|"
    r"outubro|novembro|dezembro"
)
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "sv", "nb", "da"]
WEEKDAYS = {
    "monday": 0, "mon": 0, "montag": 0, "lundi": 0, "lunes": 0, "lunedì": 0, "lunedi": 0, "maandag": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "dienstag": 1, "mardi": 1, "martes": 1, "martedì": 1, "martedi": 1,
    "dinsdag": 1,
    "wednesday": 2, "wed": 2, "mittwoch": 2, "mercredi": 2, "miércoles": 2, "miercoles": 2, "mercoledì": 2,
    "mercoledi": 2, "woensdag": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "donnerstag": 3, "jeudi": 3, "jueves": 3, "giovedì": 3,
    "giovedi": 3, "donderdag": 3,
    "friday": 4, "fri": 4, "freitag": 4, "vendredi": 4, "viernes": 4, "venerdì": 4, "venerdi": 4, "vrijdag": 4,
    "saturday": 5, "sat": 5, "samstag": 5, "samedi": 5, "sábado": 5, "sabato": 5, "zaterdag": 5,
    "sunday": 6, "sun": 6, "sonntag": 6, "dimanche": 6, "domingo": 6, "domenica": 6, "zondag": 6,
    "segunda-feira": 0, "terça-feira": 1, "terca-feira": 1, "quarta-feira": 2, "quinta-feira": 3, "sexta-feira": 4,
    # Norwegian, Danish, Swedish
    "mandag": 0, "måndag": 0, "tirsdag": 1, "tisdag": 1, "onsdag": 2, "torsdag": 3, "fredag": 4, "lørdag": 5,
    "lördag": 5, "søndag": 6, "söndag": 6,
}  # fmt: skip
WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10}

_FLAGS = re.IGNORECASE
ISO = re.compile(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b")
WEEK_OF = re.compile(
    r"(?:\bweek (?:of|commencing|beginning|starting)|\bw/c|semaine du|settimana del|semana del|woche vom|"
    r"week van|veckan (?:från|den)|uken (?:fra|med))\s*(?:the\s+|le\s+|il\s+|el\s+|den\s+)?$",
    re.IGNORECASE,
)
# ISO week numbers as Europe writes them ("week 6", "KW 7", "vecka 48", "uke 6", "uge 49",
# "semana 7", "settimana 3", "semaine 12"): the week's Monday (labelling convention).
ISO_WEEK = re.compile(
    r"\b(?:week|wk|kw|kalenderwoche|vecka|veckan|uke|uka|uge|semana|settimana|semaine|wn)\.?\s*"
    r"(?:nr\.?\s*|no\.?\s*|n[º°.]\s*)?(\d{1,2})(?!\d|[:.]\d|\s*(?:days?|weeks?|dagen|dagar|dage|dager))"
    r"(?:\s*(?:/|,|of|de|del|di|van|i)?\s*(20\d\d))?",
    re.IGNORECASE,
)
NUMERIC_YEAR = re.compile(r"(?<![\d.,/$€£])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/])")
MONTH_DAY = re.compile(
    rf"\b(?:(?:{WEEKDAY_RE})\.?,?\s+)?(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?({MONTHS})(?![a-zäéû])\.?(?:,?\s+(\d{{4}}))?",
    _FLAGS,
)
DAY_MONTH = re.compile(
    rf"\b(?:(?:{WEEKDAY_RE})\.?,?\s+)?({MONTHS})(?![a-zäéû])\.?\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])(?:,?\s+(\d{{4}}))?",
    _FLAGS,
)
RANGE = re.compile(
    rf"\b(?:(?:{WEEKDAY_RE})\.?,?\s+)?(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s*(?:[–—-]|to|bis|au|al|till|until)\s*(?:(?:{WEEKDAY_RE})\.?,?\s+)?(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?({MONTHS})(?![a-zäéû])\.?(?:,?\s+(\d{{4}}))?",
    _FLAGS,
)
NUMERIC_SLASH = re.compile(r"(?<![\d.,/$€£#-])(\d{1,2})/(\d{1,2})(?![\d/%])")
NUMERIC_DOT = re.compile(r"(?<![\d.,$€£#])(\d{1,2})\.(\d{1,2})\.(?!\d)")
ORDINAL_DAY = re.compile(rf"\b(?:the\s+|(?:{WEEKDAY_RE})\.?,?\s+(?:the\s+)?)(\d{{1,2}})(st|nd|rd|th)\b", _FLAGS)
WEEKDAY = re.compile(
    rf"\b(?:(next|this|coming|last|nächsten|naechsten|kommenden|diesen|letzten|el próximo|el proximo|"
    rf"il prossimo|volgende|na próxima|na proxima|próxima|proxima|neste|nästa|næste)\s+)?({WEEKDAY_RE})(?!\w)\.?(\s+(?:prochain|next week|que vient|próximo|prossimo))?",
    _FLAGS,
)
# "Friday next week", "Freitag nächster Woche", "sexta-feira da próxima semana": that week's day,
# read before "next week" alone claims the words (a week, no day).
NEXT_WEEK = (
    r"(?:of\s+|in\s+)?next\s+week|(?:in\s+)?(?:der\s+)?(?:nächste[nr]?|naechste[nr]?|kommende[nr]?)\s+woche|"
    r"(?:de\s+)?la\s+semaine\s+prochaine|de\s+la\s+(?:próxima|proxima)\s+semana|de\s+la\s+semana\s+que\s+viene|"
    r"da\s+(?:próxima|proxima)\s+semana|da\s+semana\s+que\s+vem|della\s+(?:prossima\s+settimana|settimana\s+prossima)|"
    r"(?:i\s+)?næste\s+uge|(?:i\s+)?neste\s+uke|(?:i\s+)?nästa\s+vecka|(?:van\s+)?volgende\s+week"
)
WEEKDAY_NEXT_WEEK = re.compile(rf"\b({WEEKDAY_RE})(?!\w)\.?,?\s+(?:{NEXT_WEEK})\b", _FLAGS)
RELATIVE = re.compile(
    r"\b(?:(?:eod|cob|end of (?:the )?day|close of business)\s+(?:tomorrow|today)|(the\s+)?day after tomorrow|übermorgen|tomorrow|yesterday|gestern|hier|tmrw|i morgon|imorgon|morgen|demain|mañana|domani|amanhã|amanha|ontem|ayer|ieri|gisteren|i går|igår|today|tonight|i dag|idag|"
    r"this (?:morning|afternoon|evening)|heute|aujourd'hui|hoy|oggi|hoje|vandaag|"
    r"(?:the\s+)?end of (?:the\s+|this\s+)?(?:day|week|month)|eod|eow|cob|"
    r"end of next (?:week|month)|next week|neste uke|nästa vecka|næste uge|volgende week|next month|ende (?:der|dieser) woche|ende nächster woche|"
    r"fin de (?:la )?semaine|"
    r"in\s+(?:\d+|a|an|one|two|three|four|five|six|ten)\s+(?:days?|weeks?|months?)|"
    r"(?:\d+|a|one|two|three)\s+weeks?\s+from\s+(?:now|today))\b",
    _FLAGS,
)
TIME = re.compile(
    r"(?<![\d:.,$€£])(?:(\d{1,2})(:|\.|h)(\d{2})\s*(am|pm|a\.m\.|p\.m\.|uhr|h\b)?|(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.|uhr|h\b))"
    r"|\b(noon|midday|mittag)\b",
    _FLAGS,
)


END_OF_MONTH = re.compile(rf"\b(?:the\s+)?(?:end of|ende|fin(?: de)?|finales de|fine)\s+({MONTHS})(?![a-zäéû])", _FLAGS)
RECURRING = re.compile(r"^\s*(?:of\s+)?(?:each|every|jedes|chaque|cada|ogni)\s+(?:month|monat|mois|mes|mese)", re.I)
RANGE_JOIN = re.compile(
    r"^\s*(?:bis|to|until|till|through|thru|au|al|a|and|und|et|y|[-–—])\s*(?:zum\s+|le\s+|el\s+|the\s+)?$", re.I
)
MOVE_WORD = re.compile(
    r"(?:push|mov|shift|chang|bump|reschedul|postpon|verschieb|verleg|décal|report|aplaz|spost)\w*", re.I
)
RANGE_FROM = re.compile(r"\b(?:vom|von|from|du|del|between|zwischen|entre|dal|dall')\s*(?:the\s+|le\s+|el\s+)?$", re.I)


def _year_for(month: int, day: int, base: date) -> int:
    """The year of a yearless date: this year's, unless that is more than 30 days ago."""
    for year in (base.year - 1, base.year, base.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= base - timedelta(days=30):
            return year
    return base.year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _weekday_date(weekday: int, base: date, modifier: str) -> date:
    modifier = modifier.lower()
    if modifier in {"last", "letzten"}:
        back = (base.weekday() - weekday) % 7
        return base - timedelta(days=back or 7)
    if modifier in {
        "next", "nächsten", "naechsten", "kommenden", "prochain", "next week", "que vient", "el próximo",
        "el proximo", "próximo", "il prossimo", "prossimo", "volgende", "na próxima", "na proxima", "próxima", "proxima",
        "neste", "nästa", "næste",
    }:  # fmt: skip
        next_monday = base + timedelta(days=7 - base.weekday())
        return next_monday + timedelta(days=weekday)
    ahead = (weekday - base.weekday()) % 7
    if ahead == 0 and modifier not in {"this", "diesen"}:
        ahead = 7
    return base + timedelta(days=ahead)


def _relative_date(phrase: str, base: date, base_dt: datetime) -> tuple[date, bool] | None:
    p = re.sub(r"\s+", " ", phrase.lower()).strip()
    p = re.sub(r"^(by|before|until|till) ", "", p)
    p = re.sub(r"^the ", "", p)
    p = re.sub(r"^(eod|cob|end of (the )?day|close of business) ", "", p)
    if p in {"yesterday", "gestern", "hier", "ontem", "ayer", "ieri", "gisteren", "i går", "igår"}:
        return base - timedelta(days=1), True
    if p in {
        "today",
        "tonight",
        "heute",
        "aujourd'hui",
        "hoy",
        "oggi",
        "hoje",
        "vandaag",
        "i dag",
        "idag",
        "eod",
        "cob",
        "end of day",
        "end of the day",
    } or p.startswith("this "):
        return base, True
    if p in {"tomorrow", "tmrw", "morgen", "demain", "mañana", "domani", "amanhã", "amanha", "i morgon", "imorgon"}:
        return base + timedelta(days=1), True
    if p in {"day after tomorrow", "übermorgen"}:
        return base + timedelta(days=2), True
    if p in {
        "end of week",
        "end of the week",
        "end of this week",
        "eow",
        "ende der woche",
        "ende dieser woche",
        "fin de semaine",
        "fin de la semaine",
    }:
        return base + timedelta(days=(4 - base.weekday()) % 7), True
    if p in {"end of next week", "ende nächster woche"}:
        return base + timedelta(days=7 - base.weekday() + 4), True
    if p in {"end of month", "end of the month", "end of this month"}:
        return date(base.year, base.month, calendar.monthrange(base.year, base.month)[1]), True
    if p == "end of next month":
        year, month = (base.year + 1, 1) if base.month == 12 else (base.year, base.month + 1)
        return date(year, month, calendar.monthrange(year, month)[1]), True
    if p in {"next week", "neste uke", "nästa vecka", "næste uge", "volgende week"}:
        return base + timedelta(days=7 - base.weekday()), False
    if p == "next month":
        year, month = (base.year + 1, 1) if base.month == 12 else (base.year, base.month + 1)
        return date(year, month, 1), False
    match = re.match(r"(?:in )?(\d+|a|an|one|two|three|four|five|six|ten) (day|week|month)s?( from (now|today))?$", p)
    if match:
        count = int(match.group(1)) if match.group(1).isdigit() else NUMBER_WORDS[match.group(1)]
        unit = match.group(2)
        if unit == "day":
            return base + timedelta(days=count), True
        if unit == "week":
            return base + timedelta(weeks=count), True
        parsed = dateparser.parse(f"in {count} months", settings={"RELATIVE_BASE": base_dt.replace(tzinfo=None)})
        return (parsed.date(), True) if parsed else None
    return None


def _iso_week_monday(week: int, year: int | None, base: date) -> date | None:
    """The Monday of ISO week `week`: of `year`, else of the week's next coming (a week number
    already behind us by more than one week is next year's)."""
    if not 1 <= week <= 53:
        return None
    if year is None:
        current_year, current_week, _ = base.isocalendar()
        year = current_year if week >= current_week - 1 else current_year + 1
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        return None


def find_dates(text: str, base_dt: datetime, *, day_first: bool) -> list[DateMention]:
    """Every date phrase in `text`, resolved against `base_dt` (the email's Date), in text order."""
    base = base_dt.date()
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(match: re.Match[str], value: date | None, *, exact: bool = True, bare: bool = False) -> None:
        if value is None or not free(match.start(), match.end()):
            return
        taken.append((match.start(), match.end()))
        found.append(DateMention(match.start(), match.end(), match.group(0), value, exact, bare))

    for m in ISO.finditer(text):
        add(m, _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in ISO_WEEK.finditer(text):
        add(m, _iso_week_monday(int(m.group(1)), int(m.group(2)) if m.group(2) else None, base))
    for m in NUMERIC_YEAR.finditer(text):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        year = year + 2000 if year < 100 else year
        first = day_first or m.group(2) == "." or a > 12
        if b > 12:
            first = False
        add(m, _safe_date(year, b, a) if first else _safe_date(year, a, b))
    for m in RANGE.finditer(text):
        # "14–16 December": the range starts on the 14th; that is the day it goes on the timeline.
        parsed = dateparser.parse(
            f"{m.group(1)} {m.group(3)} {m.group(4) or ''}".strip(),
            languages=LANGUAGES,
            settings={"RELATIVE_BASE": base_dt.replace(tzinfo=None)},
        )
        if parsed is not None:
            value = parsed.date()
            if not m.group(4):
                value = _safe_date(_year_for(value.month, value.day, base), value.month, value.day) or value
            add(m, value)
    for pattern in (MONTH_DAY, DAY_MONTH):
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            has_year = bool(m.group(3))
            # Without its weekday: "måndag 14 december" is the 14th whatever dateparser makes of "måndag".
            parsed = dateparser.parse(
                text[m.start(1) : m.end()],
                languages=LANGUAGES,
                settings={"RELATIVE_BASE": base_dt.replace(tzinfo=None), "PREFER_DAY_OF_MONTH": "first"},
            )
            if parsed is None:
                continue
            value = parsed.date()
            if not has_year:
                value = _safe_date(_year_for(value.month, value.day, base), value.month, value.day) or value
            add(m, value)
    for m in NUMERIC_SLASH.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        first = (day_first or a > 12) and b <= 12
        day, month = (a, b) if first else (b, a)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        add(m, _safe_date(_year_for(month, day, base), month, day))
    for m in NUMERIC_DOT.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            add(m, _safe_date(_year_for(month, day, base), month, day))
    for m in ORDINAL_DAY.finditer(text):
        day = int(m.group(1))
        if not 1 <= day <= 31:
            continue
        year, month = base.year, base.month
        if day < base.day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        add(m, _safe_date(year, month, day))
    for m in END_OF_MONTH.finditer(text):
        month_date = dateparser.parse(
            f"1 {m.group(1)}",
            languages=LANGUAGES,
            settings={"RELATIVE_BASE": base_dt.replace(tzinfo=None)},
        )
        if month_date is not None:
            month = month_date.month
            year = base.year + (1 if month < base.month else 0)
            add(m, date(year, month, calendar.monthrange(year, month)[1]))
    for m in WEEKDAY_NEXT_WEEK.finditer(text):
        word = m.group(1).lower()
        if word in WEEKDAYS:
            add(m, _weekday_date(WEEKDAYS[word], base, "next"))
    for m in RELATIVE.finditer(text):
        resolved = _relative_date(m.group(0), base, base_dt)
        if resolved:
            add(m, resolved[0], exact=resolved[1])
    for m in WEEKDAY.finditer(text):
        word = m.group(2).lower()
        if word in {"sun", "sat", "mar", "wed", "mon"} and m.group(2)[0].islower():
            continue  # "sat down", "mon ami": short forms only count when capitalised
        modifier = (m.group(1) or "") or (m.group(3) or "").strip()
        add(m, _weekday_date(WEEKDAYS[word], base, modifier), bare=not modifier)
    found.sort(key=lambda mention: mention.start)
    # "The week of the 23rd", "w/c 7 Dec": a week, not a day of it.
    found = [replace(m, week=True) if WEEK_OF.search(text[max(0, m.start - 30) : m.start]) else m for m in found]
    # "Tuesday 16 February … from midday on the 16th": a bare day number is the day of a date
    # the text already gave, before it means the next such day.
    for index, mention in enumerate(found):
        ordinal = ORDINAL_DAY.fullmatch(mention.text)
        if ordinal is not None:
            earlier = [m for m in found[:index] if m.date.day == int(ordinal.group(1)) and m.exact]
            if earlier:
                found[index] = replace(mention, date=earlier[-1].date)
    # A date years before the email is a phone number or a reference, not a plan.
    found = [m for m in found if m.date.year >= base.year - 1]
    bare = {"eod", "cob", "end of day", "end of the day"}

    def qualifies_next(index: int, mention: DateMention) -> bool:
        """ "EOD Friday", "Tuesday 11/10", "Fri, 12.03.": the first word only qualifies the date after it."""
        if index + 1 >= len(found) or found[index + 1].start - mention.end > 7:
            return False
        following = re.sub(
            r"\b(?:den|der|the|le|el|il|de|on)\b", " ", text[mention.end : found[index + 1].start], flags=re.I
        )
        if re.search(r"[^\s,(]", following):
            return False
        plain = re.sub(r"^(by|before|until|till)\s+(the\s+)?", "", mention.text.lower())
        return plain in bare or mention.bare_weekday

    kept = [
        mention
        for index, mention in enumerate(found)
        if not qualifies_next(index, mention) and not RECURRING.match(text[mention.end : mention.end + 20])
    ]
    # "vom 11.01. bis 23.01.", "from 14 to 18 December", "du 4 au 31 janvier": the span starts on the
    # first date; its end is not a deadline of its own.
    ranged: list[DateMention] = []
    for mention in kept:
        if ranged:
            previous = ranged[-1]
            between = text[previous.end : mention.start]
            before = text[max(0, previous.start - 12) : previous.start]
            # "to" also joins the two ends of a move ("push it from Thursday to Tuesday"): keep both then.
            ambiguous = re.match(r"^\s*(?:to|a)\s", between + " ", re.I) is not None
            moved = ambiguous and MOVE_WORD.search(text[max(0, previous.start - 60) : previous.start])
            if RANGE_JOIN.match(between) and RANGE_FROM.search(before) and not moved:
                continue
        ranged.append(mention)
    return ranged


def find_time(text: str) -> time | None:
    """The first clock time in `text` ("10am", "14:30", "3 p.m.", "10 Uhr", "14h30", "noon")."""
    for m in TIME.finditer(text):
        if m.group(7):
            return time(12, 0)
        if m.group(1):
            hour, minute, suffix = int(m.group(1)), int(m.group(3)), (m.group(4) or "").lower()
            if m.group(2) == "." and not suffix:
                continue  # "12.50" is a number unless it says "12.50 Uhr"
        else:
            hour, minute, suffix = int(m.group(5)), 0, (m.group(6) or "").lower()
        if suffix.startswith("p") and hour < 12:
            hour += 12
        elif suffix.startswith("a") and hour == 12:
            hour = 0
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    return None
