"""Festival dates: Bikram Sambat conversion (nepali-datetime) and wall-clock windows in a zone.

Dashain, Tihar and Holi follow the lunar calendar, so their Bikram Sambat dates move every
year; Nepal's calendar committee publishes them. `LUNAR_DATES` holds those published BS
dates for the years we ship (the BS <-> Gregorian conversion itself is the library's);
an operator adds a later year with `halobuzz festivals add dashain --bs-start ... --bs-end ...`.
Nepali New Year (1 Baisakh) needs no table: it is computed for any BS year by the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nepali_datetime

from ..errors import Invalid

NEPAL_TZ = "Asia/Kathmandu"

# Published first and last BS day of each lunar festival (inclusive). Holi spans the hill
# (Purnima) and Terai (the day after) celebrations.
LUNAR_DATES: dict[tuple[str, int], tuple[str, str]] = {
    ("dashain", 2082): ("2082-06-06", "2082-06-20"),  # Ghatasthapana .. Kojagrat Purnima
    ("tihar", 2082): ("2082-07-02", "2082-07-06"),  # Kag Tihar .. Bhai Tika
    ("holi", 2082): ("2082-11-18", "2082-11-19"),
    ("dashain", 2083): ("2083-06-25", "2083-07-09"),
    ("tihar", 2083): ("2083-07-20", "2083-07-25"),
    ("holi", 2083): ("2083-12-07", "2083-12-08"),
}


@dataclass(frozen=True)
class Template:
    kind: str
    name_en: str
    name_ne: str
    banner_en: str
    banner_ne: str
    gift_ids: tuple[str, ...]
    gift_bonus_bps: int
    purchase_bonus_bps: int


TEMPLATES: dict[str, Template] = {
    "dashain": Template(
        "dashain",
        "Dashain",
        "दशैं",
        "Happy Dashain! Festival gifts and bonus coins are here.",
        "विजया दशमीको शुभकामना! चाडपर्वका उपहार र बोनस सिक्का आइपुगे।",
        ("tika",),
        1000,
        1000,
    ),
    "tihar": Template(
        "tihar",
        "Tihar",
        "तिहार",
        "Happy Tihar! Light a diyo for your favourite host.",
        "शुभ दीपावली! मन पर्ने होस्टलाई दियो बाल्नुहोस्।",
        ("diyo",),
        1000,
        1000,
    ),
    "holi": Template(
        "holi",
        "Holi",
        "होली",
        "Happy Holi! Colours and bonus coins all day.",
        "होलीको शुभकामना! दिनभरि रङ र बोनस सिक्का।",
        ("colours",),
        500,
        500,
    ),
    "christmas": Template(
        "christmas",
        "Christmas",
        "क्रिसमस",
        "Merry Christmas! Festive gifts are live.",
        "क्रिसमसको शुभकामना! चाडका उपहार सुरु भए।",
        ("star",),
        500,
        500,
    ),
    "new-year": Template(
        "new-year",
        "New Year",
        "नयाँ वर्ष",
        "Happy New Year! Start it with a firework.",
        "नयाँ वर्षको शुभकामना! आतिशबाजीसँग सुरु गर्नुहोस्।",
        ("firework",),
        500,
        500,
    ),
    "nepali-new-year": Template(
        "new-year",
        "Nepali New Year",
        "नयाँ वर्ष",
        "Happy Nepali New Year!",
        "नयाँ वर्षको शुभकामना!",
        ("firework",),
        500,
        500,
    ),
}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {name!r}", field="tz") from None


def bs_to_ad(text: str, field: str = "bsStart") -> date:
    """'YYYY-MM-DD' in Bikram Sambat -> the Gregorian date (the library's tables)."""
    try:
        y, m, d = (int(p) for p in text.split("-"))
        return nepali_datetime.date(y, m, d).to_datetime_date()
    except (ValueError, TypeError, OverflowError, KeyError, IndexError):
        raise Invalid(f"{text!r} is not a Bikram Sambat date (YYYY-MM-DD)", field=field) from None


def ad_to_bs(day: date) -> str:
    return nepali_datetime.date.from_datetime_date(day).strftime("%Y-%m-%d")


def to_utc(local: datetime, tz: str) -> datetime:
    """A wall-clock time in `tz` -> UTC (a time skipped by a DST change moves forward, fold=0)."""
    return local.replace(tzinfo=zone(tz)).astimezone(timezone.utc)


def day_window(first: date, last: date) -> tuple[datetime, datetime]:
    """Local 00:00 of the first day to local 00:00 after the last day (end exclusive)."""
    return datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())


def template_window(name: str, year: int) -> tuple[datetime, datetime, str | None]:
    """(local start, local end, BS start) of a built-in festival: `year` is the BS year for the
    Nepali festivals and Nepali New Year, the Gregorian year for Christmas and New Year."""
    if name in ("dashain", "tihar", "holi"):
        dates = LUNAR_DATES.get((name, year))
        if dates is None:
            known = sorted(y for k, y in LUNAR_DATES if k == name)
            raise Invalid(
                f"no published {name} dates for BS {year} (known: {known}); give --bs-start and --bs-end", field="year"
            )
        start, end = day_window(bs_to_ad(dates[0]), bs_to_ad(dates[1]))
        return start, end, dates[0]
    if name == "nepali-new-year":
        first = f"{year}-01-01"
        start, end = day_window(bs_to_ad(first), bs_to_ad(first))
        return start, end, first
    if name == "christmas":
        start, end = day_window(date(year, 12, 25), date(year, 12, 25))
        return start, end, None
    if name == "new-year":
        start, end = day_window(date(year, 1, 1), date(year, 1, 1))
        return start, end, None
    raise Invalid(f"unknown festival template {name!r}; one of {', '.join(TEMPLATES)}", field="template")
