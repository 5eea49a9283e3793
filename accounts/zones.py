"""Time zone names people can choose: IANA names known to this Python's zoneinfo.

Our own few lines rather than django-timezone-field: the column stays a plain string (the
digest and exports read it in other processes and tenants), and all we need is the name check
and the list of names.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError

# Names kept only as aliases of others ("US/Pacific", "Etc/GMT+5" whose sign surprises
# everyone, "posixrules") are valid but not offered in the list.
_HIDDEN_PREFIXES = ("Etc/", "SystemV/", "US/", "posix", "right/")


@functools.cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def zone_choices() -> list[tuple[str, str]]:
    """The zones offered under Account → Time zone: region/city names, sorted, then UTC."""
    names = sorted(name for name in zone_names() if "/" in name and not name.startswith(_HIDDEN_PREFIXES))
    return [(name, name.replace("_", " ")) for name in names] + [("UTC", "UTC")]


def is_time_zone(name: str) -> bool:
    return name in zone_names()


def validate_time_zone(value: str) -> None:
    if value and not is_time_zone(value):
        raise ValidationError("%(value)s is not a time zone name we know.", params={"value": value})


def zone_or_none(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone named, or None for blank and unknown names (a zone dropped from tzdata)."""
    if not name or not is_time_zone(name):
        return None
    return zoneinfo.ZoneInfo(name)


def zone_label(name: str) -> str:
    """A short name for a zone: its city ("Oslo", "Buenos Aires"), "UTC", or "UTC+2" for the
    fixed offsets calendars write (Etc/GMT-2 is UTC+2: POSIX signs are inverted)."""
    if name in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    if name.startswith("Etc/GMT"):
        offset = name.removeprefix("Etc/GMT")
        return f"UTC{offset.translate(str.maketrans('+-', '-+'))}" if offset else "UTC"
    return name.rsplit("/", 1)[-1].replace("_", " ")
