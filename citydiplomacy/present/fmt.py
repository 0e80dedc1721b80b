"""Numbers and dates for people, in English or Persian: the one formatting of the dashboard and the reports.

* Digits: Persian pages write Persian digits (U+06F0-U+06F9), everywhere (tables, chart ticks, dates).
* Numbers (:func:`number`): grouped by thousands; in Persian with the Arabic decimal and thousands
  separators (``٫`` U+066B, ``٬`` U+066C) and, for negative numbers only, a left-to-right mark and
  the minus sign U+2212 (CLDR's Persian minus: it stays left of the digits inside right-to-left text).
* Dates (:func:`format_date`): both calendars, Gregorian first in English (``2014-10-31 (1393/08/09 SH)``),
  Solar Hijri first in Persian (``۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)``); the hyphens of a date stay hyphens.
* Years (:func:`format_year`): a Gregorian year overlaps two Solar Hijri years (``1994 (1372/73 SH)``).

:class:`Formatter` binds all of it (and the words of :mod:`citydiplomacy.present.i18n`) to one language;
the report's template and the dashboard's templates both format through it, so a value looks the same
in both.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import jdatetime

from citydiplomacy.core.errors import BadInput
from citydiplomacy.present import i18n, metrics

#: ASCII digits -> Persian digits (digits only: separators are the business of :func:`number`).
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
#: Persian number separators: decimal ``٫``, thousands ``٬``.
PERSIAN_SEPARATORS = str.maketrans(".,", "٫٬")
#: Persian minus sign (CLDR ``fa``): LEFT-TO-RIGHT MARK + U+2212, so the sign is drawn left of the digits.
PERSIAN_MINUS = "\u200e\u2212"
#: An en dash between the ends of a range (years, intervals).
RANGE_DASH = " – "


def persian_digits(text: object) -> str:
    """``text`` with its ASCII digits replaced by Persian ones (nothing else changes)."""
    return str(text).translate(PERSIAN_DIGITS)


def digits(value: Any, lang: str) -> str:
    """``value`` as text in the language's digits (ids, codes, dates; use :func:`number` for quantities)."""
    if value is None:
        return ""
    return persian_digits(value) if lang == "fa" else str(value)


def number(value: float | None, lang: str, decimals: int = 0) -> str:
    """A number grouped by thousands with ``decimals`` decimals; empty for None (or NaN).

    ``-1234.5`` is ``-1,234.5`` in English and ``‎−۱٬۲۳۴٫۵`` in Persian.
    """
    if value is None or value != value:  # NaN: nothing to show
        return ""
    text = f"{abs(value):,.{decimals}f}"
    negative = value < 0 and text.strip("0.,") != ""  # -0.04 to one decimal is 0.0, not -0.0
    if lang == "fa":
        return (PERSIAN_MINUS if negative else "") + persian_digits(text.translate(PERSIAN_SEPARATORS))
    return ("-" if negative else "") + text


def file_size(size: int | None, lang: str) -> str:
    """A file's size in bytes, kB or MB (1024-based, one decimal above a kilobyte), in the language's words."""
    if size is None:
        return ""
    units = ("بایت", "کیلوبایت", "مگابایت") if lang == "fa" else ("bytes", "kB", "MB")
    if size < 1024:
        return f"{number(size, lang)} {units[0]}"
    if size < 1024 * 1024:
        return f"{number(size / 1024, lang, 1)} {units[1]}"
    return f"{number(size / (1024 * 1024), lang, 1)} {units[2]}"


def measure(value: float | None, lang: str, significant: int = 4) -> str:
    """A measured quantity (a centrality, an indicator): whole numbers as such, others to ``significant`` digits.

    ``29`` -> ``29``, ``0.125`` -> ``0.125``, ``0.0001234`` -> ``0.0001234``, ``1234.5678`` -> ``1,235``.
    """
    if value is None or value != value:
        return ""
    if float(value).is_integer():
        return number(value, lang)
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(12, max(0, significant - 1 - magnitude))
    return number(value, lang, decimals).rstrip("0۰").rstrip(".٫") if decimals else number(value, lang)


def percent(share: float | None, lang: str, decimals: int = 0) -> str:
    """A share (0-1) as a percentage: ``75%`` / ``۷۵٪``; empty for None."""
    if share is None:
        return ""
    return number(share * 100, lang, decimals) + ("٪" if lang == "fa" else "%")


def number_range(low: float | None, high: float | None, lang: str, decimals: int = 0) -> str:
    """``low – high`` (an interval); empty unless both ends are known."""
    if low is None or high is None:
        return ""
    return number(low, lang, decimals) + RANGE_DASH + number(high, lang, decimals)


def stated_count(count: float | None, qualifier: str | None, lang: str) -> str:
    """A count as a source states it, with its qualifier: ``more than 1,000``, ``about 50``, ``104``
    (``بیش از ۱٬۰۰۰``); empty for None.  ``qualifier`` is a member count's (None, ``more_than``, ``about``)."""
    if count is None:
        return ""
    text = number(count, lang)
    if qualifier in ("more_than", "about"):
        return f"{i18n.translate('qualifier_' + qualifier, lang)} {text}"
    return text


def to_solar_hijri(day: date) -> jdatetime.date:
    """The Solar Hijri date of a Gregorian date."""
    return jdatetime.date.fromgregorian(date=day)


def solar_hijri_year(year: int) -> str:
    """The Solar Hijri year(s) a Gregorian year overlaps, e.g. 1994 -> ``"1372/73"`` (ASCII digits).

    A Gregorian year starts in one Solar Hijri year and ends in the next (Nowruz is ~21 March).
    """
    first = to_solar_hijri(date(year, 1, 1)).year
    last = to_solar_hijri(date(year, 12, 31)).year
    return f"{first}/{str(last)[-2:]}" if last != first else str(first)


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def format_date(value: date | datetime | str | None, lang: str) -> str:
    """A date (or ISO date text) in both calendars; empty for None.

    ``2014-10-31 (1393/08/09 SH)`` in English, ``۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)`` in Persian.
    """
    if value is None or value == "":
        return ""
    day = _as_date(value)
    sh = to_solar_hijri(day)
    sh_text = f"{sh.year:04d}/{sh.month:02d}/{sh.day:02d}"
    if lang == "fa":
        return persian_digits(f"{sh_text} ({day.isoformat()})")
    return f"{day.isoformat()} ({sh_text} SH)"


# --- dates typed into forms (issue 10, "Forms a person can use") -------------------------------------------

#: Persian and Arabic-Indic digits -> ASCII (what a Persian keyboard types).
ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
#: A typed date: year, month, day separated by ``/``, ``-`` or ``.`` (``۱۴۰۳/۰۲/۱۵``, ``2024-05-04``).
_TYPED_DATE = re.compile(r"^\s*(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*$")
#: Years a date of each calendar plausibly has on a form: a Solar Hijri year above the first bound looks
#: Gregorian, a Gregorian year below the second looks Solar Hijri (1403 SH is 2024/25 AD, 2025 AD is 1403/04 SH).
SOLAR_HIJRI_MAX_YEAR = 1600
GREGORIAN_MIN_YEAR = 1600


class DateInputError(BadInput):
    """A date a person typed that cannot be read, or that looks like the other calendar's.

    ``message`` says it in the form's language: what was typed, and what it would mean.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _typed_parts(text: str) -> tuple[int, int, int] | None:
    m = _TYPED_DATE.match(text.translate(ASCII_DIGITS))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _gregorian(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _from_solar_hijri(y: int, m: int, d: int) -> date | None:
    try:
        return jdatetime.date(y, m, d).togregorian()
    except ValueError:
        return None


def _sh_text(day: date) -> str:
    sh = to_solar_hijri(day)
    return f"{sh.year:04d}/{sh.month:02d}/{sh.day:02d}"


def parse_date(text: str, lang: str) -> date:
    """The Gregorian date a person typed into a form: Solar Hijri on a Persian form (Persian or Latin digits,
    ``۱۴۰۳/۰۲/۱۵`` or ``1403-02-15``), Gregorian ``YYYY-MM-DD`` on an English one.

    Raises
    ------
    DateInputError
        The text is no date of the form's calendar, or its year looks like the other calendar's (1403 on an
        English form, 2025 on a Persian one); the message, in ``lang``, says what was typed and what it means.
    """
    typed = " ".join(str(text).split())
    parts = _typed_parts(typed)
    fmt = formatter(lang)
    if parts is None:
        raise DateInputError(fmt.t("date_unreadable_fa" if lang == "fa" else "date_unreadable").format(typed=typed))
    y, m, d = parts
    if lang == "fa":
        if y >= SOLAR_HIJRI_MAX_YEAR:
            as_gregorian = _gregorian(y, m, d)
            meant = persian_digits(_sh_text(as_gregorian)) if as_gregorian else ""
            key = "date_looks_gregorian" if as_gregorian else "date_unreadable_fa"
            raise DateInputError(fmt.t(key).format(typed=persian_digits(typed), year=persian_digits(y), meant=meant))
        day = _from_solar_hijri(y, m, d)
        if day is None:
            raise DateInputError(fmt.t("date_not_in_calendar_fa").format(typed=persian_digits(typed)))
        return day
    if y < GREGORIAN_MIN_YEAR:
        as_sh = _from_solar_hijri(y, m, d)
        key = "date_looks_solar_hijri" if as_sh else "date_unreadable"
        raise DateInputError(fmt.t(key).format(typed=typed, year=y, meant=as_sh.isoformat() if as_sh else ""))
    day = _gregorian(y, m, d)
    if day is None:
        raise DateInputError(fmt.t("date_not_in_calendar").format(typed=typed))
    return day


def date_input_text(value: date | str | None, lang: str) -> str:
    """A stored date as a form shows it for editing: Solar Hijri in Persian digits on a Persian form
    (``۱۴۰۳/۰۲/۱۵``), ISO on an English one; the text :func:`parse_date` reads back as the same date."""
    if value is None or value == "":
        return ""
    day = _as_date(value)
    return persian_digits(_sh_text(day)) if lang == "fa" else day.isoformat()


def format_datetime(value: datetime | str | None, lang: str) -> str:
    """A timestamp (a datetime or ISO text, as API answers carry it) to the minute in both calendars (the
    time as stored, UTC); empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{format_date(value, lang)} {digits(value.strftime('%H:%M'), lang)}"


def format_stored(value: str, lang: str) -> str:
    """A value as the audit trail stored it: ISO dates and timestamps in both calendars (see
    :func:`format_date`, :func:`format_datetime`), any other text as it is, digits in the language."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        with contextlib.suppress(ValueError):
            return format_date(value, lang)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?", value):
        with contextlib.suppress(ValueError):
            return format_datetime(value, lang)
    return digits(value, lang)


def format_year(year: int | None, lang: str) -> str:
    """A Gregorian year with its Solar Hijri year(s): ``1994 (1372/73 SH)``, ``۱۳۷۲/۷۳ (۱۹۹۴)``; empty for None."""
    if year is None:
        return ""
    sh = solar_hijri_year(year)
    if lang == "fa":
        return persian_digits(f"{sh} ({year})")
    return f"{year} ({sh} SH)"


def format_years(since: int | None, until: int | None, lang: str) -> str:
    """A span of years, ``…`` for an open end: ``1997 (1375/76 SH) – …``; empty when both are unknown."""
    if since is None and until is None:
        return ""
    return (format_year(since, lang) if since else "…") + RANGE_DASH + (format_year(until, lang) if until else "…")


#: A content fingerprint in a source's name (``twin_cities.csv sha256:0964bc76…``): for experts, not for pages.
_FINGERPRINT = re.compile(r"\s*sha256:[0-9a-f…]+", re.IGNORECASE)
#: A seed paper's file name (``003_e2ea725f2834c7bc.txt``): its number and the hash of its text.
_PAPER_FILE = re.compile(r"^(\d{3})_[0-9a-f]{16}\.txt$")
#: Record ids an importer writes into a locator (``sheet members row 4, organisation_id 3``): not for people.
_INTERNAL_IDS = re.compile(r",?\s*\b\w+_id \d+")
_LOCATOR_WORDS = (
    (
        re.compile(r"\bTable (\w+), rows? (\d+)"),
        lambda m, lang: i18n.translate("table_row", lang).format(table=m[1], row=m[2]),
    ),
    (
        re.compile(r"\bsheet '?([^' ]+)'? row (\d+)"),
        lambda m, lang: i18n.translate("sheet_row", lang).format(sheet=m[1], row=m[2]),
    ),
    (re.compile(r"\brows? (\d+)"), lambda m, lang: i18n.translate("row_n", lang).format(row=m[1])),
    (re.compile(r"\bTable (\w+)"), lambda m, lang: i18n.translate("table_n", lang).format(table=m[1])),
    # "§6.2" in a right-to-left line reads «۶.۲§»: the sign becomes the word for section.
    (re.compile(r"§\s*(\d+(?:\.\d+)*)"), lambda m, lang: i18n.translate("section_n", lang).format(n=m[1])),
    (re.compile(r"\bpaper0*(\d+)"), lambda m, lang: i18n.translate("paper_no", lang).format(n=m[1])),
)


def locator_text(locator: str | None, lang: str) -> str:
    """Where in a source, for people: ``Table 2, row 20`` / ``جدول ۲، ردیف ۲۰`` (digits in the language)."""
    if not locator:
        return ""
    text = _INTERNAL_IDS.sub("", locator)
    if lang == "fa":
        for pattern, words in _LOCATOR_WORDS:
            text = pattern.sub(lambda m, w=words: w(m, lang), text)
        text = digits(text, lang).replace(";", "؛")
    return text


def citation(pv: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """A record's source as pages cite it: the one formatting of a source on the dashboard.

    ``pv`` is a provenance (``source``, ``citation``, ``locator``, ``source_id``, ``source_kind``; an evidence
    row's ``values`` too).  Returns ``{"label", "title", "where", "href", "ltr"}``: ``label`` the paper's
    authors and year (or its number), the data file's name without its fingerprint, ``Wikidata 2016`` or
    what the person typed; ``title`` the whole citation (hover text); ``where`` the locator in the
    language's words and digits; ``href`` the source record's page; ``ltr`` whether the label is
    left-to-right bibliographic text.  None without a source or locator.
    """
    if not pv or not (pv.get("source") or pv.get("citation") or pv.get("locator")):
        return None
    name, whole, kind = pv.get("source") or "", pv.get("citation") or "", pv.get("source_kind")
    values = pv.get("values") or {}
    paper = _PAPER_FILE.match(name)
    ltr = True
    if kind == "wikidata":
        label = f"Wikidata {values['as_of']}" if values.get("as_of") else "Wikidata"
        label, ltr = digits(label, lang), False
    elif whole:
        label = whole.split("), ")[0] + ")" if "), " in whole else whole
    elif paper:
        label, ltr = i18n.translate("paper_no", lang).format(n=digits(int(paper[1]), lang)), False
    else:
        label = _FINGERPRINT.sub("", name).strip()
    title = whole or label
    if kind == "manual":
        title = f"{label} — {i18n.translate('entered_in_dashboard', lang)}"
    where = locator_text(pv.get("locator"), lang)
    if values.get("as_of_sh") and kind != "wikidata":  # the year the source states its facts for
        year = persian_digits(values["as_of_sh"]) if lang == "fa" else f"{values['as_of_sh']} SH"
        if values.get("as_of") and lang != "fa":
            year += f" ({values['as_of']})"
        stated = i18n.translate("as_of_year", lang).format(year=year)
        where = f"{where} · {stated}" if where else stated
    return {
        "label": label,
        "title": title,
        "where": where,
        "href": f"/sources/{pv['source_id']}" if pv.get("source_id") else None,
        "ltr": ltr,
    }


@dataclass(frozen=True)
class Formatter:
    """Words, numbers and dates in one language (``"en"`` or ``"fa"``), for templates and charts.

    Attributes
    ----------
    lang : str
        The language code; ``fa`` writes Persian digits and separators and Solar Hijri dates first.
    """

    lang: str

    @property
    def rtl(self) -> bool:
        """True for a right-to-left language."""
        return self.lang == "fa"

    def t(self, key: str) -> str:
        """The message ``key`` (:func:`citydiplomacy.present.i18n.translate`)."""
        return i18n.translate(key, self.lang)

    def term(self, value: str | None) -> str:
        """A vocabulary code as words (:func:`citydiplomacy.present.i18n.term`)."""
        return i18n.term(value, self.lang)

    def metric(self, code: str) -> metrics.MetricText:
        """A result code's name, explanation, unit and glossary anchor (see :func:`.metrics.metric`)."""
        return metrics.metric(code, self.lang)

    def country(self, code: str | None) -> str:
        """A country's short name from its ISO alpha-2 code."""
        return i18n.country_name(code, self.lang)

    def cite(self, pv: dict[str, Any] | None) -> dict[str, Any] | None:
        """A record's source as pages cite it (see :func:`citation`)."""
        return citation(pv, self.lang)

    def digits(self, value: Any) -> str:
        """``value`` in the language's digits (see :func:`digits`)."""
        return digits(value, self.lang)

    def num(self, value: float | None, decimals: int = 0) -> str:
        """A number (see :func:`number`); empty for None."""
        return number(value, self.lang, decimals)

    def file_size(self, size: int | None) -> str:
        """A file's size (:func:`file_size`)."""
        return file_size(size, self.lang)

    def measure(self, value: float | None) -> str:
        """A measured quantity to four significant digits (see :func:`measure`)."""
        return measure(value, self.lang)

    def pct(self, share: float | None, decimals: int = 0) -> str:
        """A 0-1 share as a percentage (see :func:`percent`)."""
        return percent(share, self.lang, decimals)

    def stated(self, count: float | None, qualifier: str | None = None) -> str:
        """A count as a source states it (see :func:`stated_count`)."""
        return stated_count(count, qualifier, self.lang)

    def span(self, low: float | None, high: float | None, decimals: int = 0) -> str:
        """An interval ``low – high`` (see :func:`number_range`)."""
        return number_range(low, high, self.lang, decimals)

    def date(self, value: date | datetime | str | None) -> str:
        """A date in both calendars (see :func:`format_date`)."""
        return format_date(value, self.lang)

    def datetime(self, value: datetime | str | None) -> str:
        """A timestamp in both calendars (see :func:`format_datetime`)."""
        return format_datetime(value, self.lang)

    def stored(self, value: str) -> str:
        """A stored value, dates in both calendars (see :func:`format_stored`)."""
        return format_stored(value, self.lang)

    def year(self, year: int | None) -> str:
        """A year in both calendars (see :func:`format_year`)."""
        return format_year(year, self.lang)

    def years(self, since: int | None, until: int | None) -> str:
        """A span of years (see :func:`format_years`)."""
        return format_years(since, until, self.lang)

    def place(self, place: dict[str, Any]) -> str:
        """A place's (or organisation's) name in the language: the Persian name when known."""
        return (place.get("name_fa") if self.lang == "fa" else None) or place["name"]

    def title(self, record: dict[str, Any]) -> str:
        """A record's (an activity's) title in the language: ``title_fa`` when known."""
        return (record.get("title_fa") if self.lang == "fa" else None) or record["title"]


@cache
def formatter(lang: str) -> Formatter:
    """The :class:`Formatter` of ``lang`` (one per language; unknown codes format as English)."""
    return Formatter(lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)
