"""What every result code means to a person: its name, a one-line explanation and its unit, in English and Persian.

The analysis writes its results as codes (``CityResult.code``): the indicator codes of the model's catalogue
(``CUL01``), the dimension scores (``DIM_culture``), the index (``CDI``, ``CDI_RANK``, ``COVERAGE``) and the
network metrics (``betweenness_norm``, ``strength_<relation kind>``; see
:mod:`citydiplomacy.network.metrics`).  Pages, charts and reports never show a code: they show
:func:`metric` (name, explanation, unit), and the glossary page lists :func:`glossary`.

A code the catalogue does not know still reads as words (:func:`humanise`), never as a raw key; a test
walks every code the application writes and fails on one without an entry in both languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from citydiplomacy.model.indicators import Indicator, load_catalogue
from citydiplomacy.model.vocab import RELATION_KINDS
from citydiplomacy.present import i18n

__all__ = [
    "GROUPS",
    "Metric",
    "MetricText",
    "anchor",
    "catalogue",
    "glossary",
    "humanise",
    "metric",
]

#: Groups of the glossary, in page order: key -> (English, Persian) heading.
GROUPS: dict[str, tuple[str, str]] = {
    "index": ("City Diplomacy Index", "شاخص دیپلماسی شهری"),
    "dimension": ("Dimensions of the index", "ابعاد شاخص"),
    "indicator": ("Indicators", "نماگرها"),
    "network": ("Network position", "جایگاه در شبکه"),
}

# (en, fa) pairs; three per metric: name, explanation, unit.
Pair = tuple[str, str]


@dataclass(frozen=True)
class Metric:
    """One result code with its words in both languages.

    Attributes
    ----------
    code : str
        The stored code (``CityResult.code``).
    group : str
        A key of :data:`GROUPS`.
    name, note, unit : tuple[str, str]
        Name, one-line explanation and unit, each as (English, Persian).
    """

    code: str
    group: str
    name: Pair
    note: Pair
    unit: Pair

    def text(self, lang: str) -> MetricText:
        """The metric's words in ``lang``."""
        i = 1 if lang == "fa" else 0
        return MetricText(
            self.code, self.group, self.name[i], self.note[i], _flat(self.unit[i], lang), anchor(self.code)
        )


def _flat(unit: str, lang: str) -> str:
    """A unit without parentheses (``score (0–100)`` -> ``score, 0–100``): pages put it in parentheses."""
    return re.sub(r"\s*\((.*?)\)", ("، " if lang == "fa" else ", ") + r"\1", unit)


@dataclass(frozen=True)
class MetricText:
    """A metric's words in one language, as templates use them (``name``, ``note``, ``unit``, ``anchor``)."""

    code: str
    group: str
    name: str
    note: str
    unit: str
    anchor: str  #: the id of its glossary entry (``/glossary#<anchor>``)


def anchor(code: str) -> str:
    """The HTML id of a code's glossary entry: ``m-`` and the code (codes are letters, digits and ``_``)."""
    return "m-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in code)


def humanise(code: str) -> str:
    """A code as words for one the catalogue does not know: ``partner_reach_km`` -> ``Partner reach km``."""
    words = code.removeprefix("DIM_").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else code


# --- the index ----------------------------------------------------------------------------------------

_SCORE: Pair = ("score (0–100)", "امتیاز (۰ تا ۱۰۰)")
_RANK: Pair = ("rank (1 = first)", "رتبه (۱ = نخست)")
_SHARE: Pair = ("share of indicators (0–100 %)", "سهم نماگرها (۰ تا ۱۰۰ درصد)")

_INDEX: dict[str, tuple[Pair, Pair, Pair]] = {
    "CDI": (
        ("City Diplomacy Index", "شاخص دیپلماسی شهری"),
        (
            "The seven dimension scores combined, equally weighted: how much international activity a city has.",
            "ترکیب هم‌وزن امتیاز هفت بُعد: میزان فعالیت بین‌المللی یک شهر.",
        ),
        _SCORE,
    ),
    "CDI_RANK": (
        ("Rank in the index", "رتبه در شاخص"),
        (
            "Position by the City Diplomacy Index among the places assessed; its interval shows how sure it is.",
            "جایگاه بر پایه شاخص دیپلماسی شهری در میان مکان‌های ارزیابی‌شده؛ بازه آن میزان اطمینان را نشان می‌دهد.",
        ),
        _RANK,
    ),
    "COVERAGE": (
        ("Indicator coverage", "پوشش نماگرها"),
        (
            "Share of the index's indicators with data for this place; a low coverage makes the rank less telling.",
            "سهم نماگرهای شاخص که برای این مکان داده دارند؛ پوشش کم، رتبه را کم‌اعتبار می‌کند.",
        ),
        _SHARE,
    ),
}

# --- dimension and indicator explanations -------------------------------------------------------------

#: Rule kind -> how the value is obtained (en, fa): the second half of an indicator's explanation.
_RULE_NOTES: dict[str, Pair] = {
    "count_relations": ("counted from the registry's bilateral relations", "شمارش‌شده از روابط دوجانبه پایگاه"),
    "membership_score": (
        "memberships in organisations, weighted by role",
        "عضویت در سازمان‌ها، وزن‌دهی‌شده بر پایه نقش",
    ),
    "leadership_posts": ("board and leadership posts held in networks", "کرسی‌های هیئت‌مدیره و رهبری در شبکه‌ها"),
    "hosted_secretariats": ("secretariats of networks hosted by the city", "دبیرخانه‌های شبکه‌ها به میزبانی شهر"),
    "summits_hosted": ("summits and meetings hosted, from the activities", "اجلاس‌ها و نشست‌های میزبانی‌شده"),
    "countries_reached": ("distinct partner countries of the relations", "کشورهای متمایز شریکان در روابط"),
    "world_regions_reached": ("distinct continents of the partners", "قاره‌های متمایز شریکان"),
    "count_activities": ("counted from the registry's dated activities", "شمارش‌شده از فعالیت‌های ثبت‌شده پایگاه"),
    "network_metric": ("taken from the latest network analysis", "برگرفته از آخرین تحلیل شبکه"),
    "place_facts": (
        "stated by an imported source (missions, air routes, Covenant of Mayors)",
        "برگرفته از منابع واردشده (نمایندگی‌ها، پروازها، پیمان شهرداران)",
    ),
    "manual": ("entered by hand or from a survey", "واردشده به‌دست کاربر یا از پیمایش"),
}

#: Indicator units (the catalogue's English words) -> Persian.
_UNITS_FA: dict[str, str] = {
    "PageRank score (0-1)": "امتیاز پیج‌رنک (۰ تا ۱)",
    "activities": "فعالیت",
    "agreements": "توافق",
    "awards and ranking entries": "جایزه و جایگاه در رتبه‌بندی",
    "continents (0-7)": "قاره (۰ تا ۷)",
    "commitments": "تعهد",
    "countries": "کشور",
    "destinations abroad": "مقصد خارجی",
    "designations": "عنوان",
    "events": "رویداد",
    "memoranda in force": "یادداشت تفاهم فعال",
    "million USD per year": "میلیون دلار در سال",
    "offices": "دفتر",
    "organisations": "سازمان",
    "partnerships": "همکاری",
    "partnerships in force": "همکاری فعال",
    "programmes": "برنامه",
    "projects": "پروژه",
    "relations": "رابطه",
    "role-weighted memberships (score)": "عضویت وزن‌دهی‌شده بر پایه نقش (امتیاز)",
    "thousand arrivals per year": "هزار ورود در سال",
}


def _dimension_words(dimension: str) -> Pair:
    return (i18n.term(dimension, "en"), i18n.term(dimension, "fa"))


def _dimension_metric(dimension: str, names: dict[str, str]) -> Metric:
    # Named as everywhere else (charts, reports: i18n.term); the catalogue's fuller name explains it.
    en, fa = _dimension_words(dimension)
    full_en, full_fa = names.get("name") or en, names.get("name_fa") or fa
    return Metric(
        f"DIM_{dimension}",
        "dimension",
        (en, fa),
        (
            f"Score of the dimension {full_en}: its indicators rescaled and combined.",
            f"امتیاز بُعد «{full_fa}»: نماگرهای آن، هم‌مقیاس‌شده و ترکیب‌شده.",
        ),
        _SCORE,
    )


def _indicator_metric(ind: Indicator) -> Metric:
    dim_en, dim_fa = _dimension_words(ind.dimension)
    how = _RULE_NOTES.get(ind.rule_kind, ("", ""))
    return Metric(
        ind.code,
        "indicator",
        (ind.name[:1].upper() + ind.name[1:], ind.name_fa),
        (f"Indicator of {dim_en}: {how[0]}.", f"نماگر {dim_fa}: {how[1]}."),
        (ind.unit, _UNITS_FA.get(ind.unit, ind.unit)),
    )


# --- network metrics (the codes of citydiplomacy.network.metrics and .analysis) ------------------------

_COUNT: Pair = ("cities", "شهر")
_UNITLESS_01: Pair = ("score (0–1)", "امتیاز (۰ تا ۱)")

_NETWORK: dict[str, tuple[Pair, Pair, Pair]] = {
    # Two-mode metrics of the membership graph (places x organisations, citydiplomacy.network.twomode).
    "organisations": (
        ("Memberships", "عضویت‌ها"),
        ("Number of organisations (networks) the city is a member of.", "شمار سازمان‌ها (شبکه‌هایی) که شهر عضو آن‌هاست."),
        ("organisations", "سازمان"),
    ),
    "role_strength": (
        ("Weight of roles", "وزن نقش‌ها"),
        (
            "Sum of the values of the city's roles in its organisations (a board seat counts more than observing).",
            "جمع ارزش نقش‌های شهر در سازمان‌هایش (کرسی هیئت‌مدیره بیش از ناظر بودن به حساب می‌آید).",
        ),
        ("role value", "ارزش نقش"),
    ),
    "org_size_mean": (
        ("Mean size of its organisations", "میانگین اندازه سازمان‌هایش"),
        (
            "Average number of members of the organisations the city belongs to.",
            "میانگین شمار اعضای سازمان‌هایی که شهر عضو آن‌هاست.",
        ),
        ("members", "عضو"),
    ),
    "org_size_min": (
        ("Smallest of its organisations", "کوچک‌ترین سازمانش"),
        (
            "Members of the smallest organisation the city belongs to: small networks tie closer.",
            "شمار اعضای کوچک‌ترین سازمانی که شهر عضو آن است: شبکه‌های کوچک پیوند نزدیک‌تری دارند.",
        ),
        ("members", "عضو"),
    ),
    "newman_strength": (
        ("Shared memberships (Newman)", "عضویت مشترک (نیومن)"),
        (
            "Ties through shared organisations, each weighing one over its other members (Newman 2001).",
            "پیوند از راه سازمان‌های مشترک، هر یک با وزن یک تقسیم بر دیگر اعضایش (نیومن ۲۰۰۱).",
        ),
        ("weighted ties", "پیوند وزن‌دار"),
    ),
    "newman_eigenvector": (
        ("Centrality among co-members (Newman)", "مرکزیت میان هم‌عضوها (نیومن)"),
        (
            "High when the city shares small organisations with cities that are central themselves.",
            "بالاست وقتی شهر در سازمان‌های کوچک با شهرهایی شریک است که خود مرکزی‌اند.",
        ),
        _UNITLESS_01,
    ),
    "newman_pagerank": (
        ("PageRank among co-members (Newman)", "پیج‌رنک میان هم‌عضوها (نیومن)"),
        (
            "Share of a random walk over shared memberships that ends at this city.",
            "سهمی از یک گشت تصادفی روی عضویت‌های مشترک که به این شهر می‌رسد.",
        ),
        ("share (0–1)", "سهم (۰ تا ۱)"),
    ),
    "betweenness_2mode": (
        ("Bridging between networks", "میانجی‌گری میان شبکه‌ها"),
        (
            "Betweenness on the graph of cities and organisations: how often the city links networks"
            " that have no other member in common.",
            "بینابینی در گراف شهرها و سازمان‌ها: شهر چند بار شبکه‌هایی را که عضو مشترک دیگری ندارند به هم می‌پیوندد.",
        ),
        _UNITLESS_01,
    ),
    "harmonic_2mode": (
        ("Closeness across networks", "نزدیکی در میان شبکه‌ها"),
        (
            "Harmonic closeness on the graph of cities and organisations: higher is fewer steps to every other city.",
            "نزدیکی هارمونیک در گراف شهرها و سازمان‌ها: بیشتر یعنی گام‌های کمتر تا هر شهر دیگر.",
        ),
        _UNITLESS_01,
    ),
    "degree": (
        ("Partners", "تعداد شریکان"),
        (
            "Number of cities linked to this one by at least one tie.",
            "شمار شهرهایی که دست‌کم با یک پیوند به این شهر وصل‌اند.",
        ),
        _COUNT,
    ),
    "strength": (
        ("Tie strength", "قوت پیوندها"),
        (
            "Sum of the weights of the city's ties (stronger or more ties weigh more).",
            "جمع وزن پیوندهای شهر (پیوندهای قوی‌تر یا بیشتر، وزن بیشتر).",
        ),
        ("weighted ties", "پیوند وزن‌دار"),
    ),
    "betweenness": (
        ("Bridging (betweenness)", "میانجی‌گری (بینابینی)"),
        (
            "Pairs of cities whose shortest connection runs through this city.",
            "شمار جفت‌شهرهایی که کوتاه‌ترین مسیر میانشان از این شهر می‌گذرد.",
        ),
        ("pairs of cities", "جفت شهر"),
    ),
    "betweenness_norm": (
        ("Bridging, share", "میانجی‌گری (نسبی)"),
        (
            "Bridging as a share of all pairs of other cities: 1 would mean every path runs through it.",
            "میانجی‌گری به نسبت همه جفت‌شهرهای دیگر: ۱ یعنی همه مسیرها از این شهر می‌گذرند.",
        ),
        _UNITLESS_01,
    ),
    "harmonic": (
        ("Closeness (harmonic)", "نزدیکی (هارمونیک)"),
        (
            "Sum over other cities of one over the number of steps to reach them; higher is closer to all.",
            "جمع معکوس شمار گام‌ها تا شهرهای دیگر؛ بیشتر یعنی نزدیک‌تر به همه.",
        ),
        ("reciprocal steps", "معکوس گام"),
    ),
    "harmonic_norm": (
        ("Closeness, share", "نزدیکی (نسبی)"),
        (
            "Harmonic closeness divided by the number of other cities: 1 means a direct tie to every city.",
            "نزدیکی هارمونیک تقسیم بر شمار شهرهای دیگر: ۱ یعنی پیوند مستقیم با همه شهرها.",
        ),
        _UNITLESS_01,
    ),
    "eigenvector": (
        ("Well-connected partners (eigenvector)", "شریکان پرپیوند (بردار ویژه)"),
        (
            "High when the city's partners are themselves central; the most central city scores 1.",
            "وقتی شریکان شهر خود مرکزی باشند بالاست؛ مرکزی‌ترین شهر امتیاز ۱ می‌گیرد.",
        ),
        _UNITLESS_01,
    ),
    "pagerank": (
        ("PageRank", "پیج‌رنک"),
        (
            "Share of a random walk along the ties spent at this city (all cities sum to 1).",
            "سهم زمانی که گشتی تصادفی روی پیوندها در این شهر می‌گذراند (جمع همه شهرها ۱).",
        ),
        _UNITLESS_01,
    ),
    "clustering": (
        ("Clustering", "خوشه‌بندی"),
        (
            "Share of the city's pairs of partners that are partners of each other too.",
            "سهم جفت‌شریکان شهر که با یکدیگر نیز شریک‌اند.",
        ),
        _UNITLESS_01,
    ),
    "coreness": (
        ("Core level (k-core)", "سطح هسته (k-core)"),
        (
            "Largest k such that the city belongs to a group where every city has at least k partners.",
            "بزرگ‌ترین k که شهر در گروهی باشد که هر عضوش دست‌کم k شریک دارد.",
        ),
        ("level", "سطح"),
    ),
    "constraint": (
        ("Dependence on few partners (constraint)", "وابستگی به شریکان اندک (محدودیت)"),
        (
            "Burt's constraint: high when the city's ties are concentrated on a few interlinked partners.",
            "محدودیت برت: وقتی پیوندهای شهر روی چند شریک به‌هم‌پیوسته متمرکز باشد بالاست.",
        ),
        ("score", "امتیاز"),
    ),
    "countries_reached": (
        ("Partner countries", "کشورهای شریک"),
        (
            "Distinct countries of the city's partners, its own country excluded.",
            "کشورهای متمایز شریکان، بدون کشور خود شهر.",
        ),
        ("countries", "کشور"),
    ),
    "continents_reached": (
        ("Partner continents", "قاره‌های شریک"),
        ("Distinct continents of the city's partners.", "قاره‌های متمایز شریکان شهر."),
        ("continents", "قاره"),
    ),
    "subregions_reached": (
        ("Partner world regions", "مناطق جهانی شریکان"),
        ("Distinct UN world sub-regions of the city's partners.", "زیرمنطقه‌های متمایز سازمان ملل برای شریکان شهر."),
        ("regions", "منطقه"),
    ),
    "partner_distance_mean_km": (
        ("Mean distance to partners", "میانگین فاصله تا شریکان"),
        (
            "Average great-circle distance to the partners with known coordinates.",
            "میانگین فاصله کره‌ای تا شریکانی که مختصاتشان معلوم است.",
        ),
        ("km", "کیلومتر"),
    ),
    "partner_distance_median_km": (
        ("Median distance to partners", "میانه فاصله تا شریکان"),
        (
            "Middle great-circle distance to the partners with known coordinates.",
            "میانه فاصله کره‌ای تا شریکانی که مختصاتشان معلوم است.",
        ),
        ("km", "کیلومتر"),
    ),
    "region_diversity": (
        ("Regional diversity", "تنوع منطقه‌ای"),
        (
            "How evenly the partners spread over world regions (Shannon entropy; 0 = all in one region).",
            "میزان پخش یکنواخت شریکان در مناطق جهان (آنتروپی شانون؛ ۰ = همه در یک منطقه).",
        ),
        ("nats", "نَت"),
    ),
    "cross_border_share": (
        ("Share of foreign partners", "سهم شریکان خارجی"),
        ("Share of the city's partners that lie in another country.", "سهم شریکانی از شهر که در کشور دیگری هستند."),
        _UNITLESS_01,
    ),
    "community": (
        ("Community", "اجتماع"),
        (
            "Number of the group of densely tied cities this city falls in (Leiden); a label, not an amount.",
            "شماره گروه شهرهای پرپیوندی که این شهر در آن است (لایدن)؛ برچسب است نه مقدار.",
        ),
        ("group number", "شماره گروه"),
    ),
    "connectivity": (
        ("Network connectivity", "پیوستگی در شبکه‌ها"),
        (
            "Interlocking connectivity: links to other cities through the organisations both belong to, by role.",
            "پیوستگی درهم‌تنیده: پیوند با شهرهای دیگر از راه سازمان‌های مشترک، بر پایه نقش.",
        ),
        ("role-weighted links", "پیوند وزن‌دار بر پایه نقش"),
    ),
    "connectivity_rel": (
        ("Network connectivity, relative", "پیوستگی در شبکه‌ها (نسبی)"),
        (
            "Connectivity as a share of the most connected city's (1 = the most connected).",
            "پیوستگی به نسبت پرپیوندترین شهر (۱ = پرپیوندترین).",
        ),
        _UNITLESS_01,
    ),
}

#: The kinds ``degree_<kind>`` and ``strength_<kind>`` are written for: relation kinds, and memberships
#: (the membership projection and combined graphs).
TIE_KINDS: tuple[str, ...] = (*RELATION_KINDS, "membership")
_MEMBERSHIP_WORDS: Pair = ("shared memberships", "عضویت مشترک")


def _kind_words(kind: str) -> Pair:
    if kind == "membership":
        return _MEMBERSHIP_WORDS
    return (i18n.term(kind, "en"), i18n.term(kind, "fa"))


def _per_kind_metric(prefix: str, kind: str) -> Metric:
    en, fa = _kind_words(kind)
    if prefix == "degree":
        return Metric(
            f"degree_{kind}",
            "network",
            (f"Partners by {en}", f"شریکان از راه {fa}"),
            (f"Number of cities linked to this one by {en}.", f"شمار شهرهایی که از راه {fa} به این شهر وصل‌اند."),
            _COUNT,
        )
    return Metric(
        f"strength_{kind}",
        "network",
        (f"Tie strength by {en}", f"قوت پیوند از راه {fa}"),
        (f"Sum of the weights of the city's ties by {en}.", f"جمع وزن پیوندهای شهر از راه {fa}."),
        ("weighted ties", "پیوند وزن‌دار"),
    )


@cache
def catalogue() -> dict[str, Metric]:
    """Every result code the application writes -> its :class:`Metric`, in glossary order."""
    model = load_catalogue()
    out: dict[str, Metric] = {code: Metric(code, "index", *words) for code, words in _INDEX.items()}
    for dimension, names in model.dimensions.items():
        m = _dimension_metric(dimension, names)
        out[m.code] = m
    for ind in model.indicators:
        out[ind.code] = _indicator_metric(ind)
    for code, words in _NETWORK.items():
        out[code] = Metric(code, "network", *words)
        if code in ("degree", "strength"):
            for kind in TIE_KINDS:
                m = _per_kind_metric(code, kind)
                out[m.code] = m
    return out


def _unknown(code: str) -> Metric:
    for prefix in ("degree_", "strength_"):
        if code.startswith(prefix):  # a tie kind added after this catalogue was written
            return _per_kind_metric(prefix.rstrip("_"), code.removeprefix(prefix))
    words = humanise(code)
    return Metric(code, "network", (words, words), ("", ""), ("", ""))


def metric(code: str, lang: str) -> MetricText:
    """The words of result ``code`` in ``lang``; a humanised name (never the raw key) for an unknown code."""
    found = catalogue().get(code) or _unknown(code)
    return found.text(lang)


def glossary(lang: str) -> list[tuple[str, list[MetricText]]]:
    """The glossary in ``lang``: ``[(group heading, [metric, ...]), ...]`` in :data:`GROUPS` order."""
    entries = [m.text(lang) for m in catalogue().values()]
    i = 1 if lang == "fa" else 0
    return [(GROUPS[g][i], [e for e in entries if e.group == g]) for g in GROUPS]
