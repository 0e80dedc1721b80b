"""A city's diplomacy profile as ONE self-contained HTML page (or a PDF of it), in English or Persian.

Workflow step behind ``citydip report``:

1. :func:`collect_report` reads the registry: the city profile (:func:`citydiplomacy.store.queries.city_profile`),
   the latest assessment and network runs with their per-place rows, and every source the records cite;
2. :func:`render_html` fills the Jinja2 template ``templates/city_report.html`` with the dashboard's
   words, numbers and dates (one :class:`citydiplomacy.present.fmt.Formatter`) and its Plotly figures
   (:mod:`citydiplomacy.present.charts`: relations by kind and status, partners map, activities timeline,
   the CDI and its dimensions with their 5-95 % intervals);
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
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import CityDipError
from citydiplomacy.present import charts
from citydiplomacy.present.assets import FONTS_DIR, head_scripts
from citydiplomacy.present.fmt import formatter
from citydiplomacy.store import db, queries, runs
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.runs import CDI_CODE, COVERAGE_CODE, RANK_CODE
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
#: Sibling codes under which the analyses store the 5th and 95th percentiles of a code's value
#: (``CDI_P05``/``CDI_P95``, ``DIM_security_P05``/..., ``CDI_RANK_P05``/...), and its median.


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


def result(code: str, values: dict[str, float | None]) -> dict[str, Any]:
    """``{"code", "value", "low", "high"}`` of one result code, the interval from its sibling codes
    (:func:`citydiplomacy.store.runs.interval_of`; None unless both are stored)."""
    low, high = runs.interval_of(values, code)
    return {"code": code, "value": values.get(code), "low": low, "high": high}


def _run_values(session: Session, run_id: int, place_id: int) -> dict[str, float | None]:
    """Code -> value of the place's rows in one run."""
    rows = session.execute(
        select(CityResult.code, CityResult.value)
        .where(CityResult.run_id == run_id, CityResult.place_id == place_id)
        .order_by(CityResult.id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def assessment_summary(session: Session, place_id: int) -> dict[str, Any] | None:
    """The place's latest assessment: CDI, rank among assessed places, coverage, dimension scores.

    Returns
    -------
    dict or None
        None when no assessment run has rows for the place.  Otherwise ``run`` (id), ``created_at``,
        ``parameters``, ``index`` (the CDI, 0-100) and ``rank``, each a :func:`result`
        (``{"code", "value", "low", "high"}``), ``ranked`` (places with a CDI in the run),
        ``coverage`` (0-1) and ``dimensions``: a :func:`result` per dimension in the model's order.
    """
    run = runs.latest_run(session, "assessment", place_id=place_id)
    if run is None:
        return None
    values = _run_values(session, run.id, place_id)
    dim_codes = (c for c in values if c.startswith("DIM_") and not runs.is_interval_code(c))
    dims = [result(code, values) for code in sorted(dim_codes, key=charts.dimension_order)]
    ranked = session.scalar(
        select(func.count()).where(
            CityResult.run_id == run.id, CityResult.code == CDI_CODE, CityResult.value.isnot(None)
        )
    )
    return {
        "run": run.id,
        "created_at": run.created_at,
        "parameters": run.parameters or {},
        "index": result(CDI_CODE, values),
        "rank": result(RANK_CODE, values),
        "ranked": ranked,
        "coverage": values.get(COVERAGE_CODE),
        "dimensions": dims,
        "freshness": runs.freshness(session, run),
    }


def network_summary(session: Session, place_id: int) -> dict[str, Any] | None:
    """The place's latest network run: ``run``, ``created_at``, ``parameters`` and ``measures``.

    ``measures`` is a :func:`result` per measure (interval codes folded into their measure);
    None when no network run has rows for the place.
    """
    run = runs.latest_run(session, "network", place_id=place_id)
    if run is None:
        return None
    values = _run_values(session, run.id, place_id)
    measures = [result(code, values) for code in sorted(values) if not runs.is_interval_code(code)]
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
    """plotly.js and the world topojson, inlined once (the shared helper of :mod:`citydiplomacy.present.assets`)."""
    return Markup(head_scripts(geo=True))


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
    fmt = formatter(lang)
    sources: SourceList = report["sources"]
    assessment = report["assessment"]
    candidates = {
        "fig-map": charts.partners_map(report, fmt),
        "fig-relations": charts.relations_chart(report, fmt),
        "fig-timeline": charts.timeline_chart(report["activities"], fmt),
        "fig-dimensions": (
            charts.dimensions_chart(assessment["dimensions"], fmt, assessment["index"]) if assessment else None
        ),
    }
    figures = {div_id: figure for div_id, figure in candidates.items() if figure is not None}

    relations = report["relations"]
    counts = Counter((r["kind"], r["status"]) for r in relations)
    kinds = sorted({k for k, _ in counts})
    statuses = charts.statuses_in(counts)
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
        "country": fmt.country(report["place"]["country_code"]),
        "place_source": sources.number_of(report["place_provenance"]["source"]),
        "place_provenance": report["place_provenance"],
        "generated": fmt.date((generated or datetime.now().astimezone()).date()),
        "key_figures": [
            (fmt.t("relations_total"), fmt.num(len(relations))),
            (fmt.t("relations_active"), fmt.num(sum(1 for r in relations if r["status"] == "active"))),
            (fmt.t("partner_countries"), fmt.num(len({r["partner"]["country_code"] for r in relations}))),
            (fmt.t("memberships_total"), fmt.num(len(memberships))),
            (fmt.t("leadership_roles"), fmt.num(sum(1 for m in memberships if m["role"] in LEADERSHIP_ROLES))),
            (fmt.t("activities"), fmt.num(len(report["activities"]))),
            (fmt.t("sources_total"), fmt.num(len(numbered))),
        ]
        + ([(fmt.t("cdi"), fmt.num(assessment["index"]["value"], 1) or "–")] if assessment else []),
        "kinds": kinds,
        "statuses": statuses,
        "counts": counts,
        "relations": relations,
        "unmapped": charts.unlocated_partners(report),
        "memberships": memberships,
        "organisations_fa": report["organisations_fa"],
        "activity_organisations_fa": report["activity_organisations_fa"],
        "activities": activities,
        "assessment": assessment,
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
    check_output(lang, fmt)
    html, _place = city_report_html(engine, city, country, lang)
    return write_rendered(html, fmt, out)


def check_output(lang: str, fmt: str) -> None:
    """Refuse an unknown report language or format (:class:`ReportError`), before any work is done."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")


def write_rendered(html: str, fmt: str, out: str | Path) -> Path:
    """Write a rendered report atomically: the HTML itself, or printed to PDF by headless Chromium."""
    if fmt == "html":
        return atomic_write(Path(out), html.encode("utf-8"))
    from citydiplomacy.report.pdf import html_to_pdf

    return atomic_write(Path(out), html_to_pdf(html).pdf)
