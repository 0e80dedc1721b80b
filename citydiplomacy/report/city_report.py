"""A city's diplomacy profile as ONE self-contained HTML page (or a PDF of it), in English or Persian.

Workflow step behind ``citydip report``:

1. :func:`collect_report` reads the registry: the city profile (:func:`citydiplomacy.store.queries.city_profile`),
   the latest assessment and network runs with their per-place rows, and every source the records cite;
2. :func:`render_html` fills the Jinja2 template ``templates/city_report.html`` and builds the Plotly
   figures (relations by kind and status, partners map, activities timeline, index dimensions);
3. :func:`write_report` writes the HTML, or prints it to PDF with headless Chromium (:mod:`.pdf`),
   atomically (temporary file + rename), so a failed render leaves nothing half-written.

The page makes no network request: the Vazirmatn font is embedded as base64 ``@font-face``, plotly.js is
inlined once, and the world map's topojson is injected as ``window.PlotlyGeoAssets`` (Plotly reads it
there instead of fetching it from its CDN).  ``lang="fa"`` gives a right-to-left page in Persian with
Persian digits and Solar Hijri dates first.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import CityDipError
from citydiplomacy.model.vocab import DIMENSIONS
from citydiplomacy.present.assets import FONTS_DIR
from citydiplomacy.present.calendar import persian_digits, solar_hijri_year, to_solar_hijri
from citydiplomacy.present.i18n import digits, number
from citydiplomacy.present.labels import country_name, label, term
from citydiplomacy.store import db, queries, runs
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.schema import CityResult, Organisation, Place, Source

Lang = Literal["en", "fa"]
Fmt = Literal["html", "pdf"]
LANGS: tuple[str, ...] = ("en", "fa")
FORMATS: tuple[str, ...] = ("html", "pdf")

TEMPLATES = Path(__file__).with_name("templates")

#: Where the dashboard vendors Vazirmatn (npm ``vazirmatn``, OFL); the report reuses the same files.
FONT_DIRS = (FONTS_DIR,)

#: Roles that put the city in charge of something in a network (counted as "leadership roles").
LEADERSHIP_ROLES = frozenset({"founding", "board", "secretariat_host"})
#: Fixed colours per relation kind, so the bar chart, the map and the legend agree.
KIND_COLOURS: dict[str, str] = {
    "sister_city": "#1f77b4",
    "mou": "#ff7f0e",
    "cooperation_memorandum": "#2ca02c",
    "friendship": "#d62728",
    "partnership": "#9467bd",
}
STATUS_ORDER = ("active", "in_negotiation", "suspended", "ended")
STATUS_COLOURS: dict[str, str] = {
    "active": "#2e7d5b",
    "in_negotiation": "#e0a526",
    "suspended": "#8c8c8c",
    "ended": "#b5473a",
}
#: ``CityResult`` codes of an assessment run (as :mod:`citydiplomacy.assess.registry_index` stores them;
#: repeated here because importing that module loads pandas and scipy, seconds for three strings).
CDI_CODE = "CDI"
RANK_CODE = "CDI_RANK"
COVERAGE_CODE = "COVERAGE"
#: Suffix pairs under which an analysis may store an interval for a code (``CDI_LOW``/``CDI_HIGH``, ...).
INTERVAL_SUFFIXES = (("_LOW", "_HIGH"), ("_LO", "_HI"), ("_P05", "_P95"), ("_P5", "_P95"), ("_P025", "_P975"))
#: Keys under which a ``CityResult.detail`` may carry an interval.
INTERVAL_KEYS = (("low", "high"), ("lo", "hi"), ("ci_low", "ci_high"), ("p05", "p95"), ("lower", "upper"))


class ReportError(CityDipError, RuntimeError):
    """The report cannot be produced (unknown city, bad option, rendering failure)."""


# --- reading the registry ------------------------------------------------------------------------------


@dataclass
class SourceList:
    """The sources a report cites, numbered by source name, with every locator cited in each.

    Attributes
    ----------
    entries : dict
        Source name -> ``{"name", "citation", "kind", "locators": Counter(locator -> records)}``.
    """

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cite(self, provenance: dict[str, Any]) -> None:
        """Record one citation (``{"source", "citation", "locator"}`` as the profile gives it)."""
        name = provenance.get("source")
        if not name:
            return
        entry = self.entries.setdefault(
            name, {"name": name, "citation": provenance.get("citation"), "locators": Counter()}
        )
        entry["locators"][provenance.get("locator") or ""] += 1

    def numbered(self) -> list[dict[str, Any]]:
        """Entries in name order (the seed papers are ``000_…`` to ``004_…``) with ``number`` from 1."""
        out = []
        for n, name in enumerate(sorted(self.entries), start=1):
            entry = self.entries[name]
            locators = sorted((loc for loc in entry["locators"] if loc), key=_natural_key)
            out.append({**entry, "number": n, "locators": locators, "records": sum(entry["locators"].values())})
        return out

    def number_of(self, name: str | None) -> int | None:
        """The reference number of a source name (None when the record cites nothing)."""
        if not name or name not in self.entries:
            return None
        return sorted(self.entries).index(name) + 1


def _natural_key(text: str) -> list[Any]:
    """Sort key putting "row 2" before "row 10"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _interval(code: str, values: dict[str, float | None], details: dict[str, Any]) -> tuple[float, float] | None:
    """The (low, high) interval stored for ``code``: sibling codes or keys of its detail; None if absent."""
    for lo_suffix, hi_suffix in INTERVAL_SUFFIXES:
        lo, hi = values.get(code + lo_suffix), values.get(code + hi_suffix)
        if lo is not None and hi is not None:
            return float(lo), float(hi)
    detail = details.get(code) or {}
    if isinstance(detail, dict):
        for lo_key, hi_key in INTERVAL_KEYS:
            if detail.get(lo_key) is not None and detail.get(hi_key) is not None:
                return float(detail[lo_key]), float(detail[hi_key])
        pair = detail.get("interval")
        if isinstance(pair, list | tuple) and len(pair) == 2 and None not in pair:
            return float(pair[0]), float(pair[1])
    return None


def _run_rows(session: Session, run_id: int, place_id: int) -> tuple[dict[str, float | None], dict[str, Any]]:
    rows = session.execute(
        select(CityResult.code, CityResult.value, CityResult.detail)
        .where(CityResult.run_id == run_id, CityResult.place_id == place_id)
        .order_by(CityResult.id)
    ).all()
    return {code: value for code, value, _ in rows}, {code: detail for code, _, detail in rows if detail}


def assessment_summary(session: Session, place_id: int) -> dict[str, Any] | None:
    """The place's latest assessment: CDI, rank among assessed places, coverage, dimension scores.

    Returns
    -------
    dict or None
        None when no assessment run has rows for the place.  Otherwise ``run`` (id), ``created_at``,
        ``parameters``, ``cdi`` and ``cdi_interval`` (0-100 scale or None), ``rank`` and ``rank_interval``,
        ``ranked`` (places with a CDI in the run), ``coverage`` (0-1) and ``dimensions``: a list of
        ``{"code", "value", "interval"}`` in the model's order of dimensions.
    """
    run = runs.latest_run(session, "assessment", place_id=place_id)
    if run is None:
        return None
    values, details = _run_rows(session, run.id, place_id)
    suffixes = tuple(s for pair in INTERVAL_SUFFIXES for s in pair)
    model_order = {f"DIM_{name}": i for i, name in enumerate(DIMENSIONS)}  # the five-level model's order
    dims = [
        {"code": code, "value": values[code], "interval": _interval(code, values, details)}
        for code in sorted(
            (c for c in values if c.startswith("DIM_") and not c.endswith(suffixes)),
            key=lambda c: (model_order.get(c, len(model_order)), c),
        )
    ]
    ranked = session.scalar(
        select(func.count()).where(
            CityResult.run_id == run.id, CityResult.code == CDI_CODE, CityResult.value.isnot(None)
        )
    )
    return {
        "run": run.id,
        "created_at": run.created_at,
        "parameters": run.parameters or {},
        "cdi": values.get(CDI_CODE),
        "cdi_interval": _interval(CDI_CODE, values, details),
        "rank": values.get(RANK_CODE),
        "rank_interval": _interval(RANK_CODE, values, details),
        "ranked": ranked,
        "coverage": values.get(COVERAGE_CODE),
        "dimensions": dims,
        "freshness": runs.freshness(session, run),
    }


def network_summary(session: Session, place_id: int) -> dict[str, Any] | None:
    """The place's latest network run: ``run``, ``created_at``, ``parameters`` and ``measures``.

    ``measures`` is a list of ``{"code", "value", "interval"}`` (interval codes folded into their measure);
    None when no network run has rows for the place.
    """
    run = runs.latest_run(session, "network", place_id=place_id)
    if run is None:
        return None
    values, details = _run_rows(session, run.id, place_id)
    suffixes = tuple(s for pair in INTERVAL_SUFFIXES for s in pair)
    measures = [
        {"code": code, "value": value, "interval": _interval(code, values, details)}
        for code, value in sorted(values.items())
        if not code.endswith(suffixes)
    ]
    return {
        "run": run.id,
        "created_at": run.created_at,
        "parameters": run.parameters or {},
        "measures": measures,
        "freshness": runs.freshness(session, run),
    }


def collect_report(session: Session, place: Place) -> dict[str, Any]:
    """Everything the report shows of one place, as plain data (no rendering).

    Returns
    -------
    dict
        The :func:`~citydiplomacy.store.queries.city_profile` keys plus ``place_provenance``,
        ``organisations_fa`` (organisation id -> Persian name), ``assessment`` and ``network``
        (see :func:`assessment_summary`, :func:`network_summary`) and ``sources`` (a :class:`SourceList`).
    """
    profile = queries.city_profile(session, place)
    source = session.get(Source, place.source_id) if place.source_id else None
    place_provenance = {
        "source": source.name if source else None,
        "citation": source.citation if source else None,
        "locator": place.source_locator,
    }
    sources = SourceList()
    sources.cite(place_provenance)
    for record in (*profile["relations"], *profile["memberships"], *profile["activities"]):
        sources.cite(record["provenance"])
    org_ids = {m["organisation_id"] for m in profile["memberships"]}
    organisations_fa = {
        org.id: org.name_fa for org in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
    }
    activity_orgs = {
        org.name: org.name_fa
        for org in session.scalars(
            select(Organisation).where(Organisation.name.in_({a["organisation"] for a in profile["activities"]}))
        )
    }
    return {
        **profile,
        "place_provenance": place_provenance,
        "organisations_fa": organisations_fa,
        "activity_organisations_fa": activity_orgs,
        "assessment": assessment_summary(session, place.id),
        "network": network_summary(session, place.id),
        "sources": sources,
    }


# --- offline assets --------------------------------------------------------------------------------------


@cache
def _font_faces() -> str:
    """``@font-face`` rules embedding Vazirmatn (regular and bold) as base64 woff2; empty if not vendored."""
    rules = []
    for weight, stem in ((400, "Vazirmatn-Regular"), (700, "Vazirmatn-Bold")):
        for folder in FONT_DIRS:
            path = folder / f"{stem}.woff2"
            if path.exists():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                rules.append(
                    "@font-face{font-family:'Vazirmatn';font-style:normal;font-display:block;"
                    f"font-weight:{weight};src:url(data:font/woff2;base64,{data}) format('woff2');}}"
                )
                break
    return "\n".join(rules)


def _offline_scripts() -> Markup:
    """plotly.js and the world topojson, inlined once (the shared helper of :mod:`.offline`)."""
    from citydiplomacy.present.assets import head_scripts

    return Markup(head_scripts(geo=True))


# --- formatting -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formatter:
    """Formatting of numbers, years and dates in one language (Persian digits and Solar Hijri first in fa)."""

    lang: str

    def t(self, key: str) -> str:
        return label(key, self.lang)

    def term(self, value: str | None) -> str:
        return term(value, self.lang)

    def num(self, value: float | int | None, decimals: int = 0) -> str:
        return number(value, self.lang, decimals) if value is not None else "–"

    def digits(self, value: Any) -> str:
        return digits(value, self.lang)

    def year(self, year: int | None) -> str:
        """``2014 (1393/94 SH)``; in Persian ``۱۳۹۳/۹۴ (۲۰۱۴)``; empty for None."""
        if year is None:
            return ""
        sh = solar_hijri_year(year)
        if self.lang == "fa":
            return persian_digits(f"{sh} ({year})")
        return f"{year} ({sh} SH)"

    def day(self, value: date | str | None) -> str:
        """A date in both calendars: ``2014-10-31 (1393/08/09 SH)``; in Persian ``۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)``."""
        if value is None:
            return ""
        day = date.fromisoformat(value) if isinstance(value, str) else value
        sh = to_solar_hijri(day)
        sh_text = f"{sh.year:04d}/{sh.month:02d}/{sh.day:02d}"
        if self.lang == "fa":
            return persian_digits(f"{sh_text} ({day.isoformat()})")
        return f"{day.isoformat()} ({sh_text} SH)"

    def years(self, since: int | None, until: int | None) -> str:
        if since is None and until is None:
            return ""
        return f"{self.year(since) if since else '…'} – {self.year(until) if until else '…'}"

    def place(self, place: dict[str, Any]) -> str:
        """A place's name in the page language (Persian name when known)."""
        return (place.get("name_fa") if self.lang == "fa" else None) or place["name"]


# --- figures (Plotly JSON, drawn by the inlined plotly.js) ------------------------------------------------


def _font(lang: str) -> dict[str, Any]:
    return {"family": "Vazirmatn, sans-serif", "size": 12}


def _int_ticks(top: int, fmt: Formatter) -> dict[str, Any]:
    """Integer ticks 0..top in the page's digits (Plotly itself only writes ASCII digits)."""
    step = max(1, -(-top // 6))
    values = list(range(0, top + step, step))
    return {"tickvals": values, "ticktext": [fmt.num(v) for v in values]}


def relations_chart(profile: dict[str, Any], fmt: Formatter) -> dict[str, Any] | None:
    """Stacked bars: relations per kind, one colour shade per status (None when there are no relations)."""
    counts = Counter((r["kind"], r["status"]) for r in profile["relations"])
    if not counts:
        return None
    kinds = sorted({k for k, _ in counts}, key=lambda k: -sum(n for (kk, _), n in counts.items() if kk == k))
    statuses = [s for s in STATUS_ORDER if any(st == s for _, st in counts)]
    statuses += sorted({s for _, s in counts} - set(statuses))
    traces = []
    for status in statuses:
        ys = [counts.get((k, status), 0) for k in kinds]
        traces.append(
            {
                "type": "bar",
                "name": fmt.term(status),
                "x": [fmt.term(k) for k in kinds],
                "y": ys,
                "text": [fmt.num(y) if y else "" for y in ys],
                "textposition": "inside",
                "marker": {"color": STATUS_COLOURS.get(status, "#7f7f7f")},
                "hovertemplate": "%{x}: %{text}<extra>" + fmt.term(status) + "</extra>",
            }
        )
    top = max(sum(counts.get((k, s), 0) for s in statuses) for k in kinds)
    return {
        "data": traces,
        "layout": {
            "barmode": "stack",
            "height": 300,
            "margin": {"l": 50, "r": 20, "t": 10, "b": 60},
            "font": _font(fmt.lang),
            "yaxis": {
                "title": {"text": fmt.t("count")},
                **_int_ticks(top, fmt),
                "range": [0, top * 1.08],  # headroom so the top segment's label is not clipped
            },
            "xaxis": {"autorange": "reversed" if fmt.lang == "fa" else True},
            "legend": {"orientation": "h", "y": 1.12},
        },
    }


def partners_map(profile: dict[str, Any], fmt: Formatter) -> tuple[dict[str, Any] | None, int]:
    """World map: the city, its partners coloured by relation kind, a line to each partner.

    Returns
    -------
    tuple
        The figure (None without any located partner) and the number of partners lacking coordinates.
    """
    home = profile["place"]
    located = [r for r in profile["relations"] if r["partner"].get("lat") is not None]
    missing = len(profile["relations"]) - len(located)
    if not located or home.get("lat") is None:
        return None, missing
    lines_lat: list[float | None] = []
    lines_lng: list[float | None] = []
    for rel in located:
        lines_lat += [home["lat"], rel["partner"]["lat"], None]
        lines_lng += [home["lng"], rel["partner"]["lng"], None]
    traces: list[dict[str, Any]] = [
        {
            "type": "scattergeo",
            "mode": "lines",
            "lat": lines_lat,
            "lon": lines_lng,
            "line": {"width": 0.8, "color": "rgba(90,90,90,0.45)"},
            "hoverinfo": "skip",
            "showlegend": False,
        }
    ]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rel in located:
        by_kind[rel["kind"]].append(rel)
    for kind, rels in by_kind.items():
        traces.append(
            {
                "type": "scattergeo",
                "mode": "markers",
                "name": fmt.term(kind),
                "lat": [r["partner"]["lat"] for r in rels],
                "lon": [r["partner"]["lng"] for r in rels],
                "text": [f"{fmt.place(r['partner'])} — {fmt.term(r['status'])}" for r in rels],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {
                    "size": 8,
                    "color": KIND_COLOURS.get(kind, "#7f7f7f"),
                    "line": {"width": 0.5, "color": "#fff"},
                },
            }
        )
    traces.append(
        {
            "type": "scattergeo",
            "mode": "markers+text",
            "name": fmt.place(home),
            "lat": [home["lat"]],
            "lon": [home["lng"]],
            "text": [fmt.place(home)],
            "textposition": "top center",
            "marker": {"size": 14, "symbol": "star", "color": "#111"},
            "hoverinfo": "text",
        }
    )
    layout = {
        "height": 380,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "font": _font(fmt.lang),
        "legend": {"orientation": "h", "y": -0.02},
        "geo": {
            "scope": "world",
            "resolution": 110,
            "projection": {"type": "natural earth"},
            "showcountries": True,
            "countrycolor": "#bbb",
            "showland": True,
            "landcolor": "#f1efe8",
            "showocean": True,
            "oceancolor": "#e3eef6",
            "showframe": False,
        },
    }
    return {"data": traces, "layout": layout}, missing


def timeline_chart(activities: list[dict[str, Any]], fmt: Formatter) -> dict[str, Any] | None:
    """Dots per activity on a year axis (rows: activity kinds); None when no activity has a year."""
    dated = [a for a in activities if a.get("year")]
    if not dated:
        return None
    kinds = sorted({a["kind"] for a in dated})
    years = sorted({a["year"] for a in dated})
    traces = []
    for kind in kinds:
        acts = [a for a in dated if a["kind"] == kind]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": fmt.term(kind),
                "x": [a["year"] for a in acts],
                "y": [fmt.term(kind)] * len(acts),
                "text": [(a.get("title_fa") if fmt.lang == "fa" else None) or a["title"] for a in acts],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"size": 12},
            }
        )
    pad = 1 if len(years) > 1 else 2
    return {
        "data": traces,
        "layout": {
            "height": 120 + 40 * len(kinds),
            "margin": {"l": 120, "r": 120, "t": 10, "b": 50},
            "font": _font(fmt.lang),
            "showlegend": False,
            "xaxis": {
                "range": [years[0] - pad, years[-1] + pad],
                "tickvals": years,
                "ticktext": [fmt.year(y).replace(" (", "<br>(") for y in years],
                "autorange": "reversed" if fmt.lang == "fa" else False,
            },
            "yaxis": {"side": "right" if fmt.lang == "fa" else "left"},
        },
    }


def dimensions_chart(assessment: dict[str, Any], fmt: Formatter) -> dict[str, Any] | None:
    """Horizontal bars of the dimension scores (0-100) with error bars where an interval is stored."""
    dims = [d for d in assessment["dimensions"] if d["value"] is not None]
    if not dims:
        return None
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "y": [fmt.term(d["code"]) for d in dims],
        "x": [d["value"] for d in dims],
        "text": [fmt.num(d["value"], 1) for d in dims],
        "textposition": "inside",
        "insidetextanchor": "start",  # keep the label clear of the error bar at the bar's end
        "marker": {"color": "#3b6ea5"},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    if any(d["interval"] for d in dims):
        trace["error_x"] = {
            "type": "data",
            "symmetric": False,
            "array": [(d["interval"][1] - d["value"]) if d["interval"] else 0 for d in dims],
            "arrayminus": [(d["value"] - d["interval"][0]) if d["interval"] else 0 for d in dims],
            "color": "#222",
        }
    ticks = [0, 20, 40, 60, 80, 100]
    return {
        "data": [trace],
        "layout": {
            "height": 80 + 36 * len(dims),
            "margin": {"l": 150, "r": 150, "t": 10, "b": 40},
            "font": _font(fmt.lang),
            "xaxis": {
                "range": [100, 0] if fmt.lang == "fa" else [0, 100],
                "tickvals": ticks,
                "ticktext": [fmt.num(v) for v in ticks],
                "title": {"text": fmt.t("score")},
            },
            "yaxis": {"side": "right" if fmt.lang == "fa" else "left", "autorange": "reversed"},
        },
    }


# --- rendering ------------------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _figure_json(figures: dict[str, dict[str, Any]]) -> Markup:
    """The figures as a JSON object safe inside ``<script>`` (``</`` cannot close the element)."""
    text = json.dumps(figures, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("</", "<\\/"))


def render_html(report: dict[str, Any], lang: str = "en", generated: datetime | None = None) -> str:
    """The self-contained HTML page of a report collected with :func:`collect_report`.

    Parameters
    ----------
    report : dict
        Output of :func:`collect_report`.
    lang : {"en", "fa"}
        Page language; ``fa`` is right-to-left Persian with Persian digits and Solar Hijri dates first.
    generated : datetime, optional
        Time stamp printed in the header (default: now, UTC).

    Returns
    -------
    str
        One HTML document with every asset inlined (no external request when opened).
    """
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    fmt = Formatter(lang)
    sources: SourceList = report["sources"]
    figures: dict[str, dict[str, Any]] = {}
    charts: dict[str, Callable[[], dict[str, Any] | None]] = {
        "fig-relations": lambda: relations_chart(report, fmt),
        "fig-timeline": lambda: timeline_chart(report["activities"], fmt),
        "fig-dimensions": lambda: dimensions_chart(report["assessment"], fmt) if report["assessment"] else None,
    }
    map_figure, unmapped = partners_map(report, fmt)
    if map_figure is not None:
        figures["fig-map"] = map_figure
    for div_id, build in charts.items():
        figure = build()
        if figure is not None:
            figures[div_id] = figure

    relations = report["relations"]
    counts = Counter((r["kind"], r["status"]) for r in relations)
    kinds = sorted({k for k, _ in counts})
    statuses = [s for s in STATUS_ORDER if any(st == s for _, st in counts)]
    statuses += sorted({s for _, s in counts} - set(statuses))
    memberships = report["memberships"]
    activities = sorted(
        report["activities"],
        key=lambda a: (a["year"] is None, a["year"] or 0, a["date"] or "", a["title"]),
    )
    numbered = sources.numbered()
    context = {
        "lang": lang,
        "dir": "rtl" if lang == "fa" else "ltr",
        "fmt": fmt,
        "t": fmt.t,
        "place": report["place"],
        "country": country_name(report["place"]["country_code"], lang),
        "place_source": sources.number_of(report["place_provenance"]["source"]),
        "place_provenance": report["place_provenance"],
        "generated": fmt.day((generated or datetime.now().astimezone()).date()),
        "key_figures": [
            (fmt.t("relations_total"), fmt.num(len(relations))),
            (fmt.t("relations_active"), fmt.num(sum(1 for r in relations if r["status"] == "active"))),
            (fmt.t("partner_countries"), fmt.num(len({r["partner"]["country_code"] for r in relations}))),
            (fmt.t("memberships_total"), fmt.num(len(memberships))),
            (fmt.t("leadership_roles"), fmt.num(sum(1 for m in memberships if m["role"] in LEADERSHIP_ROLES))),
            (fmt.t("activities_total"), fmt.num(len(report["activities"]))),
            (fmt.t("sources_total"), fmt.num(len(numbered))),
        ]
        + ([(fmt.t("cdi"), fmt.num(report["assessment"]["cdi"], 1))] if report["assessment"] else []),
        "kinds": kinds,
        "statuses": statuses,
        "counts": counts,
        "relations": relations,
        "unmapped": unmapped,
        "memberships": memberships,
        "organisations_fa": report["organisations_fa"],
        "activity_organisations_fa": report["activity_organisations_fa"],
        "activities": activities,
        "assessment": report["assessment"],
        "network": report["network"],
        "sources": numbered,
        "source_number": sources.number_of,
        "figures": figures,
        "figures_json": _figure_json(figures),
        "font_faces": Markup(_font_faces()),
        "offline_scripts": _offline_scripts() if figures else Markup(""),
    }
    return _environment().get_template("city_report.html").render(**context)


def city_report_html(
    engine: Engine | None, city: str, country: str | None = None, lang: str = "en"
) -> tuple[str, dict[str, Any]]:
    """Look the city up and render its report.

    Returns
    -------
    tuple
        The HTML text and the place (``place_dict``) it describes.

    Raises
    ------
    citydiplomacy.core.errors.PlaceNotFound, citydiplomacy.core.errors.AmbiguousPlace
        The city is unknown, or its name is shared by places in several countries and no country is given.
    """
    engine = engine or db.get_engine()
    with db.session_scope(engine) as session:
        place = find_place(session, city, country)
        report = collect_report(session, place)
    return render_html(report, lang), report["place"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(out: Path, data: bytes) -> Path:
    """Write ``data`` to ``out`` through a temporary file in the same folder and a rename.

    Readers see the old file or the complete new one, never a partial one; on failure nothing is left.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def write_report(
    engine: Engine | None,
    city: str,
    country: str | None = None,
    lang: str = "en",
    fmt: str = "html",
    out: str | Path = "report.html",
) -> Path:
    """Write a city's report as HTML or PDF (atomically) and return the path written.

    Parameters
    ----------
    engine : Engine or None
        The registry (None: the configured one).
    city, country : str
        The city's name (any script the registry knows) and optionally its ISO code or country name.
    lang : {"en", "fa"}
    fmt : {"html", "pdf"}
        ``pdf`` prints the HTML with headless Chromium (see :mod:`citydiplomacy.report.pdf`).
    out : path
        The file to write; its folder is created if needed.

    Raises
    ------
    ReportError
        Unknown language or format.
    citydiplomacy.report.pdf.ChromiumMissing
        ``fmt="pdf"`` and no Chromium is installed.
    """
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    html, _place = city_report_html(engine, city, country, lang)
    if fmt == "html":
        return atomic_write(Path(out), html.encode("utf-8"))
    from citydiplomacy.report.pdf import html_to_pdf

    return atomic_write(Path(out), html_to_pdf(html).pdf)
