"""Dates in the Gregorian and Solar Hijri (Persian) calendars, side by side."""

from __future__ import annotations

from datetime import date

import jdatetime

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def to_solar_hijri(day: date) -> jdatetime.date:
    """The Solar Hijri date of a Gregorian date."""
    return jdatetime.date.fromgregorian(date=day)


def solar_hijri_year(year: int) -> str:
    """The Solar Hijri year(s) a Gregorian year overlaps, e.g. 1994 -> ``"1372/73"``.

    A Gregorian year starts in one Solar Hijri year and ends in the next (Nowruz is ~21 March).
    """
    first = to_solar_hijri(date(year, 1, 1)).year
    last = to_solar_hijri(date(year, 12, 31)).year
    return f"{first}/{str(last)[-2:]}" if last != first else str(first)


def both_calendars(day: date, lang: str = "en") -> str:
    """``"2014-10-31 (1393-08-09 SH)"``; in Persian, Persian digits and the Solar Hijri date first."""
    sh = to_solar_hijri(day)
    if lang == "fa":
        return f"{sh.year:04d}/{sh.month:02d}/{sh.day:02d} ({day.isoformat()})".translate(PERSIAN_DIGITS)
    return f"{day.isoformat()} ({sh.year:04d}-{sh.month:02d}-{sh.day:02d} SH)"


def persian_digits(text: object) -> str:
    """Replace ASCII digits with Persian ones."""
    return str(text).translate(PERSIAN_DIGITS)
