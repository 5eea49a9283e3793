"""English formats, read by Django for LANGUAGE_CODE "en-us" before its own (django/conf/locale/en).

Day before month, no periods ("7 Dec 2026", never "Dec. 7, 2026"), 24-hour times. What is not
named here falls back to Django's English formats (its input formats, ISO first, are kept: the
date and time inputs send ISO whatever the browser shows, docs/dashboard.md "Time").
"""

DATE_FORMAT = "j M Y"  # 7 Dec 2026
SHORT_DATE_FORMAT = "j M"  # 7 Dec: when the year goes without saying (a billing period, an expiry)
# A day among the days around now (the timeline, the agenda, the digest): the weekday helps.
MONTH_DAY_FORMAT = "D j M"  # Mon 7 Dec
YEAR_MONTH_FORMAT = "F Y"  # December 2026
DATETIME_FORMAT = "j M Y, H:i"  # 7 Dec 2026, 15:04
SHORT_DATETIME_FORMAT = "j M, H:i"  # 7 Dec, 15:04
TIME_FORMAT = "H:i"  # 15:04
FIRST_DAY_OF_WEEK = 1  # Monday, as the agenda's weeks start
