"""English and Persian words of the city report: section titles, column heads, vocabulary terms.

The dashboard's dictionary (:mod:`citydiplomacy.present.i18n`) covers the registry vocabulary; the report adds
its own headings, the activity kinds, the model's dimensions and the network measures.
"""

from __future__ import annotations

import gettext
from functools import cache

import pycountry

from citydiplomacy.present.i18n import MESSAGES, VOCAB_FA

#: label key -> (English, Persian): the report's own words; the dashboard's (``MESSAGES``) serve the rest.
LABELS: dict[str, tuple[str, str]] = {
    "report_title": ("City diplomacy profile", "نیم‌رخ دیپلماسی شهری"),
    "product": ("CityDiplomacy Observatory", "رصدخانه دیپلماسی شهری"),
    "generated": ("Generated", "تاریخ تهیه"),
    "capital": ("Capital city", "پایتخت"),
    "yes": ("yes", "بله"),
    "no": ("no", "خیر"),
    "unknown": ("unknown", "نامشخص"),
    "gazetteer_id": ("Gazetteer id", "شناسه در فرهنگ جغرافیایی"),
    "coordinates": ("Coordinates", "مختصات"),
    "relations_total": ("Bilateral relations", "روابط دوجانبه"),
    "relations_active": ("in force", "فعال"),
    "partner_countries": ("Partner countries", "کشورهای شریک"),
    "memberships_total": ("Network memberships", "عضویت در شبکه‌ها"),
    "leadership_roles": ("Leadership roles", "نقش‌های رهبری"),
    "activities_total": ("Activities", "فعالیت‌ها"),
    "sources_total": ("Sources cited", "منابع استنادشده"),
    "cdi": ("City Diplomacy Index", "شاخص دیپلماسی شهری"),
    "relations_by": ("Relations by kind and status", "روابط بر اساس نوع و وضعیت"),
    "total": ("Total", "جمع"),
    "count": ("Number of relations", "تعداد روابط"),
    "partners_map": ("Partners on the world map", "شرکا روی نقشه جهان"),
    "map_note": (
        "Lines join the city to each partner; colour shows the kind of relation.",
        "خطوط شهر را به هر شریک وصل می‌کنند؛ رنگ، نوع رابطه را نشان می‌دهد.",
    ),
    "no_coordinates": ("partners without coordinates", "شریک بدون مختصات"),
    "relations_list": ("Relations", "فهرست روابط"),
    "signed": ("Signed", "امضا"),
    "ended": ("Ended", "پایان"),
    "memberships_title": ("Memberships and roles", "عضویت‌ها و نقش‌ها"),
    "role_verbatim": ("Role as the source states it", "نقش به بیان منبع"),
    "years": ("Years", "سال‌ها"),
    "undated": ("date not stated", "تاریخ ذکر نشده"),
    "dated_only": (
        "The chart shows the activities whose year is known.",
        "نمودار فقط فعالیت‌هایی را نشان می‌دهد که سالشان معلوم است.",
    ),
    "assessment": ("City Diplomacy Index and dimensions", "شاخص دیپلماسی شهری و ابعاد آن"),
    "not_assessed": (
        "Not assessed yet. Run `citydip assess` to compute the index.",
        "هنوز ارزیابی نشده است. برای محاسبه شاخص، فرمان citydip assess را اجرا کنید.",
    ),
    "score": ("Score (0-100)", "امتیاز (۰ تا ۱۰۰)"),
    "rank_of": ("of", "از"),
    "coverage": ("Indicator coverage", "پوشش شاخص‌ها"),
    "interval": ("Uncertainty interval", "بازه عدم قطعیت"),
    "no_interval": ("not computed by this run", "در این اجرا محاسبه نشده"),
    "dimension": ("Dimension", "بُعد"),
    "method": ("Method", "روش"),
    "no_network": (
        "No network analysis yet. Run `citydip network` to compute it.",
        "هنوز تحلیل شبکه انجام نشده است. برای محاسبه، فرمان citydip network را اجرا کنید.",
    ),
    "measure": ("Measure", "سنجه"),
    "sources": ("Sources", "منابع"),
    "sources_note": (
        "Every record above cites a source; the bracketed number refers to this list.",
        "هر رکورد بالا به یک منبع استناد می‌کند؛ شماره داخل کروشه به این فهرست اشاره دارد.",
    ),
    "file": ("File", "پرونده"),
    "cited_at": ("Cited at", "محل‌های استناد"),
    "records": ("records", "رکورد"),
    "none": ("None recorded.", "موردی ثبت نشده است."),
    "no_source": ("no source recorded", "منبعی ثبت نشده"),
    "calendar_note": ("Dates: Gregorian (Solar Hijri).", "تاریخ‌ها: هجری شمسی (میلادی)."),
    "sh": ("SH", "ش"),
}

#: vocabulary term -> Persian, beyond the dashboard's registry vocabulary
TERMS_FA: dict[str, str] = {
    **VOCAB_FA,
    "visit": "دیدار",
    "delegation": "هیئت اعزامی",
    "summit_hosted": "میزبانی اجلاس",
    "exhibition": "نمایشگاه",
    "festival": "جشنواره",
    "sports_event": "رویداد ورزشی",
    "project": "پروژه",
    "award": "جایزه",
    "declaration": "بیانیه و تفاهم",
    "aid": "کمک",
    "ranking": "رتبه‌بندی",
    "office": "دفتر یا نهاد",
    "other": "سایر",
    "security": "امنیت شهری",
    "economy": "اقتصاد شهری",
    "culture": "فرهنگ شهری",
    "networks": "شبکه‌سازی شهری",
    "representation": "نمایندگی شهری",
    "development": "توسعه شهری",
    "research": "پژوهش شهری",
    "degree": "درجه",
    "strength": "قدرت",
    "betweenness": "بینابینی",
    "closeness": "نزدیکی",
    "eigenvector": "مرکزیت بردار ویژه",
    "pagerank": "پیج‌رنک",
    "harmonic": "مرکزیت هارمونیک",
    "community": "اجتماع",
    "component": "مؤلفه",
    "coreness": "هسته",
    "clustering": "ضریب خوشه‌بندی",
    "rank": "رتبه",
    "weights": "وزن‌ها",
    "normalise": "نرمال‌سازی",
    "aggregate": "تجمیع",
    "missing": "داده گمشده",
}

#: vocabulary term -> English, where the code itself reads badly
TERMS_EN: dict[str, str] = {
    "mou": "MoU",
    "summit_hosted": "summit hosted",
    "office": "office or institution",
    "networks": "urban networks",
    "security": "urban security",
    "economy": "urban economy",
    "culture": "urban culture",
    "representation": "urban representation",
    "development": "urban development",
    "research": "urban research",
}


def label(key: str, lang: str) -> str:
    """The report label ``key`` in ``lang`` (the key itself when unknown, so a typo shows, never fails)."""
    pair = LABELS.get(key) or MESSAGES.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "fa" else pair[0]


def term(value: str | None, lang: str) -> str:
    """A vocabulary code (``sister_city``, ``DIM_security``, ``pagerank``) as words in ``lang``."""
    if not value:
        return ""
    code = value.removeprefix("DIM_")
    key = code.lower()
    if lang == "fa" and key in TERMS_FA:
        return TERMS_FA[key]
    if lang != "fa" and key in TERMS_EN:
        return TERMS_EN[key]
    return code.replace("_", " ")


@cache
def _iso3166_fa() -> gettext.NullTranslations:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fa"])
    except OSError:  # pycountry built without locales: fall back to English names
        return gettext.NullTranslations()


@cache
def country_name(code: str | None, lang: str) -> str:
    """The short name of an ISO 3166-1 alpha-2 country (``IR`` -> ``Iran`` / ``ایران``); the code if unknown."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    if lang == "fa":
        # iso-codes' Persian names follow the formal English ones ("ایران، جمهوری اسلامی"): keep the head.
        return _iso3166_fa().gettext(country.name).split("،")[0].strip()
    return getattr(country, "common_name", None) or country.name
