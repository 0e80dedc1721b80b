"""English and Persian for the dashboard: messages, numbers in the locale's digits, both calendars.

The language comes from ``?lang=`` on any URL (remembered in the ``lang`` cookie), else the cookie,
else English.  Persian pages are right-to-left and use the vendored Vazirmatn font.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import jdatetime

LANGUAGES: tuple[str, ...] = ("en", "fa")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "lang"
PERSIAN_DIGITS = str.maketrans("0123456789.,-", "۰۱۲۳۴۵۶۷۸۹٫٬−")

#: message key -> (English, Persian)
MESSAGES: dict[str, tuple[str, str]] = {
    "app_title": ("CityDiplomacy Observatory", "رصدخانه دیپلماسی شهری"),
    "search": ("Search", "جستجو"),
    "search_placeholder": ("City or organisation name", "نام شهر یا سازمان"),
    "key_figures": ("Key figures", "ارقام کلیدی"),
    "places": ("Places", "مکان‌ها"),
    "place": ("Place", "مکان"),
    "cities": ("Cities", "شهرها"),
    "relations": ("Relations", "روابط"),
    "relation": ("Relation", "رابطه"),
    "memberships": ("Memberships", "عضویت‌ها"),
    "membership": ("Membership", "عضویت"),
    "organisations": ("Organisations", "سازمان‌ها"),
    "organisation": ("Organisation", "سازمان"),
    "activities": ("Activities", "فعالیت‌ها"),
    "activity": ("Activity", "فعالیت"),
    "audit_log": ("Audit log", "گزارش تغییرات"),
    "review_queue": ("Review queue", "صف بازبینی"),
    "rankings": ("Rankings", "رتبه‌بندی"),
    "network": ("Network", "شبکه"),
    "network_explorer": ("Network explorer", "کاوشگر شبکه"),
    "network_position": ("Network position", "جایگاه در شبکه"),
    "data_entry": ("Data entry", "ورود داده"),
    "login": ("Log in", "ورود"),
    "logout": ("Log out", "خروج"),
    "username": ("User name", "نام کاربری"),
    "password": ("Password", "گذرواژه"),
    "role": ("Role", "نقش"),
    "kind": ("Kind", "نوع"),
    "status": ("Status", "وضعیت"),
    "partner": ("Partner", "شریک"),
    "country": ("Country", "کشور"),
    "population": ("Population", "جمعیت"),
    "year": ("Year", "سال"),
    "date": ("Date", "تاریخ"),
    "since": ("Since", "از"),
    "until": ("Until", "تا"),
    "title": ("Title", "عنوان"),
    "name": ("Name", "نام"),
    "name_fa": ("Persian name", "نام فارسی"),
    "source": ("Source", "منبع"),
    "actions": ("Actions", "اقدامات"),
    "edit": ("Edit", "ویرایش"),
    "add": ("Add", "افزودن"),
    "save": ("Save", "ذخیره"),
    "resolve": ("Resolve", "حل"),
    "candidates": ("Candidates", "نامزدها"),
    "no_data": ("No records yet.", "هنوز رکوردی نیست."),
    "no_assessment": ("No assessment run yet.", "هنوز ارزیابی اجرا نشده است."),
    "no_network": ("No network analysis run yet.", "هنوز تحلیل شبکه اجرا نشده است."),
    "index_chart": ("Index and dimensions", "شاخص و ابعاد"),
    "partners_map": ("Partners map", "نقشه شرکا"),
    "members_map": ("Members map", "نقشه اعضا"),
    "growth": ("Growth over time", "رشد در طول زمان"),
    "timeline": ("Activities timeline", "گاهشمار فعالیت‌ها"),
    "recommendations": ("Recommendations", "توصیه‌ها"),
    "swot": ("SWOT", "تحلیل SWOT"),
    "rank": ("Rank", "رتبه"),
    "rank_interval": ("Rank interval", "بازه رتبه"),
    "value": ("Value", "مقدار"),
    "when": ("When", "زمان"),
    "who": ("Who", "چه کسی"),
    "what": ("What changed", "چه تغییری"),
    "entity": ("Record", "رکورد"),
    "action": ("Action", "عمل"),
    "previous": ("Previous", "قبلی"),
    "next": ("Next", "بعدی"),
    "total": ("total", "مجموع"),
    "error": ("Error", "خطا"),
    "not_found": ("Not found", "پیدا نشد"),
    "forbidden": ("You are not allowed to do this.", "شما اجازه این کار را ندارید."),
    "stale": (
        "Someone else changed this record while you were editing it. Reload to see their change.",
        "شخص دیگری هم‌زمان این رکورد را تغییر داده است. برای دیدن تغییر، صفحه را دوباره بارگذاری کنید.",
    ),
    "bad_login": ("Wrong user name or password.", "نام کاربری یا گذرواژه نادرست است."),
    "too_many": ("Too many attempts; wait a minute.", "تلاش‌های زیاد؛ یک دقیقه صبر کنید."),
    "db_unavailable": (
        "The database is unavailable right now; nothing was written. Try again shortly.",
        "پایگاه داده اکنون در دسترس نیست؛ چیزی نوشته نشد. کمی بعد دوباره تلاش کنید.",
    ),
    "saved": ("Saved.", "ذخیره شد."),
    "resolved": ("Resolved.", "حل شد."),
    "language": ("فارسی", "English"),
    "score": ("Score", "امتیاز"),
    "place_id": ("Place id", "شناسه مکان"),
    "notes": ("Notes", "یادداشت"),
    "description": ("Description", "توضیح"),
    "locator": ("Where in the source", "محل در منبع"),
    "provenance": ("Provenance", "منشأ"),
    "members": ("Members", "اعضا"),
    "acronym": ("Acronym", "سرنام"),
    "founded": ("Founded", "تأسیس"),
    "run": ("Run", "اجرا"),
    "code": ("Code", "کد"),
    "version": ("Version", "نسخه"),
    "mentions_ambiguous": ("Ambiguous place matches", "تطبیق‌های مبهم مکان"),
    "choose_place": ("Choose the place", "مکان را انتخاب کنید"),
    "in_source": ("As written in the source", "به صورت نوشته‌شده در منبع"),
    "by_kind_status": ("Relations by kind and status", "روابط بر اساس نوع و وضعیت"),
    "page": ("Page", "صفحه"),
    "place_a_id": ("Place A (id)", "مکان الف (شناسه)"),
    "place_b_id": ("Place B (id)", "مکان ب (شناسه)"),
    "organisation_id": ("Organisation (id)", "سازمان (شناسه)"),
    "seat_place_id": ("Seat (place id)", "مقر (شناسه مکان)"),
    "source_locator": ("Where in the source", "محل در منبع"),
    "signed_on": ("Signed on", "تاریخ امضا"),
    "signed_year": ("Year signed", "سال امضا"),
    "ended_year": ("Year ended", "سال پایان"),
    "since_year": ("Since (year)", "از سال"),
    "until_year": ("Until (year)", "تا سال"),
    "happened_on": ("Date", "تاریخ"),
    "title_fa": ("Persian title", "عنوان فارسی"),
    "role_verbatim": ("Role as the source wrote it", "نقش به نوشته منبع"),
    "dimensions": ("Dimensions", "ابعاد"),
    "themes": ("Themes (comma-separated)", "موضوعات (با ویرگول)"),
    "country_code": ("Country (ISO code)", "کشور (کد ISO)"),
    "admin_level": ("Level", "سطح"),
    "lat": ("Latitude (°N)", "عرض جغرافیایی"),
    "lng": ("Longitude (°E)", "طول جغرافیایی"),
    "is_capital": ("Capital", "پایتخت"),
    "scale": ("Scale", "مقیاس"),
    # --- jobs and the freshness of results
    "jobs": ("Jobs", "کارها"),
    "jobs_note": (
        "Network metrics and the assessment run here as jobs, one at a time; this page follows their progress.",
        "سنجه‌های شبکه و ارزیابی اینجا به صورت کار، یکی پس از دیگری، اجرا می‌شوند؛ پیشرفتشان اینجا دیده می‌شود.",
    ),
    "rerun_network": ("Re-run network metrics", "اجرای دوباره سنجه‌های شبکه"),
    "rerun_assessment": ("Re-run the assessment", "اجرای دوباره ارزیابی"),
    "uncertainty_samples": ("Monte Carlo samples", "نمونه‌های مونت‌کارلو"),
    "progress": ("Progress", "پیشرفت"),
    "result": ("Result", "نتیجه"),
    "no_jobs": ("No job has run yet.", "هنوز کاری اجرا نشده است."),
    "job_network": ("network metrics", "سنجه‌های شبکه"),
    "job_assessment": ("assessment", "ارزیابی"),
    "job_state_queued": ("queued", "در نوبت"),
    "job_state_running": ("running", "در حال اجرا"),
    "job_state_done": ("done", "انجام شد"),
    "job_state_failed": ("failed", "ناموفق"),
    "from_run": ("From run", "از اجرای"),
    "changes_since": ("changes to the registry since this run", "تغییر در پایگاه از زمان این اجرا"),
    "up_to_date": ("up to date with the registry", "هم‌خوان با داده‌های کنونی"),
    "rerun": ("Re-run", "اجرای دوباره"),
    # --- places: the review queue ---
    "review_resolve": ("Confirm this place", "تأیید این مکان"),
    "review_keep": ("Keep as a new place", "نگه‌داشتن به‌عنوان مکانی تازه"),
    "review_reject": ("None of these", "هیچ‌کدام"),
    "review_best": ("best match", "بهترین گزینه"),
    "review_region": ("Region", "منطقه"),
    "review_distance": ("Distance from the source's coordinates", "فاصله از مختصات منبع"),
    "review_km": ("km", "کیلومتر"),
    "review_resolved": ("Confirmed: the mention is linked to the place.", "تأیید شد: نام به مکان پیوند خورد."),
    "review_kept": ("Kept as a new place.", "به‌عنوان مکانی تازه نگه داشته شد."),
    "review_rejected": ("Recorded: none of the candidates.", "ثبت شد: هیچ‌یک از گزینه‌ها."),
    "review_no_candidates": ("No gazetteer candidates.", "گزینه‌ای در فهرست جغرافیایی نیست."),
    "review_or_place": ("or an existing place (#id)", "یا مکانی موجود (شناسه)"),
}

VOCAB_FA: dict[str, str] = {
    "sister_city": "خواهرخواندگی",
    "mou": "تفاهم‌نامه",
    "cooperation_memorandum": "یادداشت همکاری",
    "friendship": "دوستی",
    "partnership": "همکاری شهرداری",
    "active": "فعال",
    "in_negotiation": "در حال مذاکره",
    "suspended": "معلق",
    "ended": "پایان‌یافته",
    "founding": "مؤسس",
    "board": "هیئت‌مدیره",
    "secretariat_host": "میزبان دبیرخانه",
    "associate": "وابسته",
    "observer": "ناظر",
    "honorary": "افتخاری",
    "former": "سابق",
    "insert": "افزودن",
    "update": "ویرایش",
    "delete": "حذف",
    "import": "ورود",
    "ambiguous": "مبهم",
    "reviewed": "بازبینی‌شده",
    "resolved": "حل‌شده",
    "unresolved": "حل‌نشده",
    "kept": "مکان تازه",
    "rejected": "هیچ‌کدام از گزینه‌ها",
    "confirmed": "تأییدشده",
    "gazetteer": "فهرست جغرافیایی",
    "manual": "دستی",
    "city": "شهر",
    "district": "منطقه",
    "subdivision": "تقسیم کشوری",
    "region": "ناحیه",
    "visit": "بازدید",
    "delegation": "هیئت",
    "summit_hosted": "میزبانی اجلاس",
    "exhibition": "نمایشگاه",
    "festival": "جشنواره",
    "sports_event": "رویداد ورزشی",
    "project": "پروژه",
    "award": "جایزه",
    "declaration": "بیانیه",
    "aid": "کمک",
    "ranking": "رتبه‌بندی",
    "office": "دفتر یا نهاد",
    "security": "امنیت شهری",
    "economy": "اقتصاد شهری",
    "culture": "فرهنگ شهری",
    "networks": "شبکه شهری",
    "representation": "نمایندگی شهری",
    "development": "توسعه شهری",
    "research": "پژوهش شهری",
    "un_agency": "نهاد سازمان ملل",
    "global_network": "شبکه جهانی شهرها",
    "regional_network": "شبکه منطقه‌ای شهرها",
    "forum": "مجمع",
    "fund": "صندوق",
    "international_organisation": "سازمان بین‌المللی",
}


def pick_language(query_lang: str | None, cookie_lang: str | None) -> str:
    """The page language: ``?lang=`` first, then the cookie, else English (unknown codes are ignored)."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return DEFAULT_LANGUAGE


def translate(key: str, lang: str) -> str:
    """The message ``key`` in ``lang``; the key itself when there is no message (never fails)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "fa" else pair[0]


def term(value: str | None, lang: str) -> str:
    """A vocabulary term (``sister_city``) for display: Persian when known, else words with spaces."""
    if value is None:
        return ""
    if lang == "fa" and value in VOCAB_FA:
        return VOCAB_FA[value]
    return value.replace("_", " ")


def digits(value: Any, lang: str) -> str:
    """``value`` as text with Persian digits in ``fa`` (decimal and group separators too)."""
    if value is None:
        return ""
    text = str(value)
    return text.translate(PERSIAN_DIGITS) if lang == "fa" else text


def number(value: float | int | None, lang: str, decimals: int = 0) -> str:
    """A number grouped by thousands (``12,345``) in the locale's digits; empty for None."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return digits(text, lang)


def format_date(value: date | datetime | str | None, lang: str) -> str:
    """A date (or ISO date text) in both calendars: Gregorian (Solar Hijri) in English, the reverse in fa."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    day = value.date() if isinstance(value, datetime) else value
    sh = jdatetime.date.fromgregorian(date=day)
    sh_text = f"{sh.year:04d}/{sh.month:02d}/{sh.day:02d}"
    if lang == "fa":
        return digits(f"{sh_text} ({day.isoformat()})", lang)
    return f"{day.isoformat()} ({sh_text} SH)"


def format_datetime(value: datetime | str | None, lang: str) -> str:
    """A timestamp (UTC, to the minute; a datetime or ISO text) in both calendars."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{format_date(value, lang)} {digits(value.strftime('%H:%M'), lang)}"


def format_year(year: int | None, lang: str) -> str:
    """A Gregorian year with its Solar Hijri year(s), e.g. ``1994 (1372/73 SH)``."""
    if year is None:
        return ""
    first = jdatetime.date.fromgregorian(date=date(year, 1, 1)).year
    last = jdatetime.date.fromgregorian(date=date(year, 12, 31)).year
    sh = f"{first}/{str(last)[-2:]}"
    if lang == "fa":
        return digits(f"{sh} ({year})", lang)
    return f"{year} ({sh} SH)"
