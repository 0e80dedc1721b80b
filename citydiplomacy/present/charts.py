"""The charts and maps of the dashboard and the reports, as Plotly figure dicts (``{"data", "layout"}``).

Each builder takes plain data (the dicts of :func:`citydiplomacy.store.queries.city_profile` and the
web's read side) and a :class:`~citydiplomacy.present.fmt.Formatter`, and returns None when there is
nothing to draw.  The dashboard embeds the figures as JSON (drawn by ``web/static/app.js``); the report
inlines them (drawn by its own script).  Both draw with plotly.js and the vendored world topojson, so
the same data gives the same picture.

Plotly writes tick labels with ASCII digits; axes that carry numbers therefore get explicit ``tickvals``
and ``ticktext`` in the page's digits, and Persian charts run right to left (reversed x axes, category
axes on the right).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

from citydiplomacy.model.vocab import DIMENSIONS
from citydiplomacy.present.fmt import Formatter

Figure = dict[str, Any]

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
ROLE_COLOURS: dict[str, str] = {
    "secretariat_host": "#b2182b",
    "board": "#ef8a62",
    "founding": "#2166ac",
    "active": "#67a9cf",
    "associate": "#999999",
    "observer": "#bababa",
    "honorary": "#8073ac",
    "former": "#dddddd",
}
OTHER_COLOUR = "#7f7f7f"
BAR_COLOUR = "#3b6ea5"
INDEX_COLOUR = "#1d2330"
FONT_FAMILY = "Vazirmatn, 'Noto Sans Arabic', 'DejaVu Sans', system-ui, sans-serif"

GEO_LAYOUT: dict[str, Any] = {
    "scope": "world",
    "resolution": 110,  # the vendored world_110m topojson: nothing is fetched
    "fitbounds": False,  # the whole world, always: fitted to a lone member's point, the map showed only land
    "projection": {"type": "natural earth"},
    "showcountries": True,
    "countrycolor": "#bbb",
    "showland": True,
    "landcolor": "#f1efe8",
    "showocean": True,
    "oceancolor": "#e3eef6",
    "showframe": False,
}


def _layout(fmt: Formatter, height: int, **extra: Any) -> dict[str, Any]:
    """The layout every figure shares: font, small margins that grow to fit labels, locale separators."""
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "font": {"family": FONT_FAMILY, "size": 12},
        # Hover numbers: Plotly's own formatting takes the decimal and thousands separators from here.
        "separators": "٫٬" if fmt.rtl else ".,",
        # Above the plot: below it, the legend would collide with rotated or wrapped tick labels.
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 1 if fmt.rtl else 0,
            "xanchor": "right" if fmt.rtl else "left",
        },
    }
    layout.update(extra)
    return layout


def _wrap(label: str, width: int = 12) -> str:
    """``label`` broken into lines of about ``width`` characters (``<br>``), so narrow charts need no rotation."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _nice_step(span: float, most: int = 6) -> float:
    """A step of 1, 2 or 5 times a power of ten giving at most about ``most`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / most
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _ticks(low: float, high: float, fmt: Formatter, *, integer: bool = False, most: int = 6) -> dict[str, Any]:
    """``tickvals``/``ticktext`` from ``low`` to ``high`` in the page's digits."""
    step = _nice_step(high - low, most)
    if integer:
        step = max(1.0, math.ceil(step))
    decimals = 0 if step >= 1 else -math.floor(math.log10(step))
    first = math.floor(low / step) * step
    values = [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]
    return {"tickvals": values, "ticktext": [fmt.num(v, decimals) for v in values]}


def _year_ticks(years: list[int], fmt: Formatter, most: int = 8) -> dict[str, Any]:
    """Year ticks in both calendars (``2014<br>(1393/94 SH)``), thinned to at most ``most``."""
    if len(years) > most:
        step = int(_nice_step(years[-1] - years[0], most))
        years = list(range(years[0] - years[0] % step, years[-1] + 1, step))
    return {"tickvals": years, "ticktext": [fmt.year(y).replace(" (", "<br>(") for y in years]}


def statuses_in(counts: Counter[tuple[str, str]]) -> list[str]:
    """The statuses present, in the model's order (unknown ones last, alphabetically)."""
    present = {s for _, s in counts}
    return [s for s in STATUS_ORDER if s in present] + sorted(present - set(STATUS_ORDER))


def relations_chart(profile: dict[str, Any], fmt: Formatter) -> Figure | None:
    """Stacked bars: a place's relations per kind, one colour per status (None without relations)."""
    counts = Counter((r["kind"], r["status"]) for r in profile["relations"])
    if not counts:
        return None
    kinds = sorted({k for k, _ in counts}, key=lambda k: (-sum(n for (kk, _), n in counts.items() if kk == k), k))
    top = max(sum(counts.get((k, s), 0) for s in statuses_in(counts)) for k in kinds)
    traces = []
    for status in statuses_in(counts):
        ys = [counts.get((k, status), 0) for k in kinds]
        traces.append(
            {
                "type": "bar",
                "name": fmt.term(status),
                "x": [_wrap(fmt.term(k)) for k in kinds],
                "y": ys,
                # A segment too thin for its label leaves it to the hover text (and the table beside).
                "text": [fmt.num(y) if y >= 0.06 * top else "" for y in ys],
                "hovertext": [fmt.num(y) for y in ys],
                "textposition": "inside",
                "textangle": 0,
                "constraintext": "none",  # a thin segment keeps a readable label rather than a shrunken one
                "marker": {"color": STATUS_COLOURS.get(status, OTHER_COLOUR)},
                "hovertemplate": "%{x}: %{hovertext}<extra>" + fmt.term(status) + "</extra>",
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            fmt,
            300,
            barmode="stack",
            yaxis={
                "title": {"text": fmt.t("count")},
                **_ticks(0, top * 1.08, fmt, integer=True),
                "range": [0, top * 1.08],  # headroom so the top segment's label is not clipped
                "side": "right" if fmt.rtl else "left",
                "automargin": True,
            },
            xaxis={"autorange": "reversed" if fmt.rtl else True, "automargin": True},
        ),
    }


def unlocated_partners(profile: dict[str, Any]) -> int:
    """How many of a place's partners have no coordinates (so :func:`partners_map` cannot show them)."""
    return sum(1 for r in profile["relations"] if r["partner"].get("lat") is None)


def partners_map(profile: dict[str, Any], fmt: Formatter) -> Figure | None:
    """World map: the place (a star), its partners coloured by relation kind, a line to each partner.

    None when the place or all its partners lack coordinates (see :func:`unlocated_partners`).
    """
    home = profile["place"]
    located = [r for r in profile["relations"] if r["partner"].get("lat") is not None]
    if not located or home.get("lat") is None:
        return None
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
    for kind, rels in sorted(by_kind.items()):
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
                    "color": KIND_COLOURS.get(kind, OTHER_COLOUR),
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
            "showlegend": False,
        }
    )
    return {"data": traces, "layout": _layout(fmt, 380, geo=GEO_LAYOUT, margin={"l": 0, "r": 0, "t": 0, "b": 0})}


def timeline_chart(activities: list[dict[str, Any]], fmt: Formatter) -> Figure | None:
    """Dots per activity on a year axis, one row per activity kind; None when no activity has a year."""
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
                "text": [f"{fmt.title(a)} · {fmt.year(a['year'])}" for a in acts],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"size": 12, "opacity": 0.8},
            }
        )
    pad = 1 if len(years) > 1 else 2
    lo, hi = years[0] - pad, years[-1] + pad
    return {
        "data": traces,
        "layout": _layout(
            fmt,
            110 + 36 * len(kinds),
            showlegend=False,
            xaxis={"range": [hi, lo] if fmt.rtl else [lo, hi], **_year_ticks(years, fmt), "automargin": True},
            yaxis={"side": "right" if fmt.rtl else "left", "automargin": True},
        ),
    }


def dimension_order(code: str) -> tuple[int, str]:
    """Sort key of a ``DIM_<dimension>`` code: the model's order of dimensions, unknown ones last."""
    names = list(DIMENSIONS)
    name = code.removeprefix("DIM_")
    return (names.index(name) if name in names else len(names), code)


def _error_bars(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Asymmetric error bars from each row's ``low``/``high`` (0 where a row has none); None if no row has."""
    if not any(r.get("low") is not None and r.get("high") is not None for r in rows):
        return None

    def known(r: dict[str, Any]) -> bool:
        return r.get("low") is not None and r.get("high") is not None

    return {
        "type": "data",
        "symmetric": False,
        "array": [round(r["high"] - r["value"], 10) if known(r) else 0 for r in rows],
        "arrayminus": [round(r["value"] - r["low"], 10) if known(r) else 0 for r in rows],
        "color": "#222",
        "thickness": 1.5,
        "width": 5,
    }


def _interval_text(row: dict[str, Any], fmt: Formatter) -> str:
    """``61.5 [55.0 – 68.0]``: a value with its interval when there is one (hover text)."""
    text = fmt.num(row["value"], 1)
    if row.get("low") is not None and row.get("high") is not None:
        text += f" [{fmt.span(row['low'], row['high'], 1)}]"
    return text


def dimensions_chart(
    dimensions: list[dict[str, Any]], fmt: Formatter, index: dict[str, Any] | None = None
) -> Figure | None:
    """Horizontal bars of the dimension scores (0-100) and of the CDI, with their intervals as error bars.

    Parameters
    ----------
    dimensions : list of dict
        ``{"code": "DIM_security", "value", "low", "high"}`` per dimension, drawn in the model's order
        of dimensions (:data:`citydiplomacy.model.vocab.DIMENSIONS`); ``low`` and ``high`` (the stored
        ``DIM_<dimension>_P05``/``_P95``) may be None.
    fmt : Formatter
    index : dict, optional
        The CDI as ``{"value", "low", "high"}`` (from ``CDI``, ``CDI_P05``, ``CDI_P95``): drawn as the
        first, dark bar.

    Returns
    -------
    dict or None
        None when no dimension has a score.
    """
    dims = sorted((d for d in dimensions if d.get("value") is not None), key=lambda d: dimension_order(d["code"]))
    if not dims:
        return None
    labels = [fmt.metric(d["code"]).name for d in dims]
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "name": fmt.t("dimensions"),
        "y": labels,
        "x": [d["value"] for d in dims],
        "text": [fmt.num(d["value"], 1) for d in dims],
        "hovertext": [f"{label}: {_interval_text(d, fmt)}" for label, d in zip(labels, dims, strict=True)],
        "hoverinfo": "text",
        "textposition": "inside",
        "insidetextanchor": "start",  # keep the label clear of the error bar at the bar's end
        "marker": {"color": BAR_COLOUR},
    }
    if (bars := _error_bars(dims)) is not None:
        trace["error_x"] = bars
    traces = [trace]
    rows = list(dims)
    if index is not None and index.get("value") is not None:
        cdi_label = fmt.t("cdi_short")
        labels = [cdi_label, *labels]
        rows.insert(0, index)
        cdi: dict[str, Any] = {
            "type": "bar",
            "orientation": "h",
            "name": cdi_label,
            "y": [cdi_label],
            "x": [index["value"]],
            "text": [fmt.num(index["value"], 1)],
            "hovertext": [f"{fmt.t('cdi')}: {_interval_text(index, fmt)}"],
            "hoverinfo": "text",
            "textposition": "inside",
            "insidetextanchor": "start",
            "marker": {"color": INDEX_COLOUR},
        }
        if (bars := _error_bars([index])) is not None:
            cdi["error_x"] = bars
        traces.append(cdi)
    top = max([100.0] + [r["high"] for r in rows if r.get("high") is not None] + [r["value"] for r in rows])
    ticks = _ticks(0, top, fmt, integer=True, most=5)
    top *= 1.03  # room for an error bar ending at 100, and for the last tick's label
    return {
        "data": traces,
        "layout": _layout(
            fmt,
            70 + 34 * len(labels),
            barmode="overlay",  # one bar per row: the CDI and the dimensions never share a row
            showlegend=False,
            xaxis={
                "range": [top, 0] if fmt.rtl else [0, top],
                **ticks,
                "title": {"text": fmt.t("score_100")},
                "automargin": True,
            },
            yaxis={
                "side": "right" if fmt.rtl else "left",
                "categoryorder": "array",
                "categoryarray": labels,
                "autorange": "reversed",  # first row on top
                "automargin": True,
            },
        ),
    }


def members_map(profile: dict[str, Any], fmt: Formatter) -> Figure | None:
    """An organisation's members on the world map, coloured by role (None when none has coordinates)."""
    members = [m for m in profile["members"] if m.get("lat") is not None]
    if not members:
        return None
    traces = []
    for role in sorted({m["role"] for m in members}):
        these = [m for m in members if m["role"] == role]
        traces.append(
            {
                "type": "scattergeo",
                "mode": "markers",
                "name": fmt.term(role),
                "lon": [m["lng"] for m in these],
                "lat": [m["lat"] for m in these],
                "text": [fmt.place(m) for m in these],
                "hoverinfo": "text+name",
                "marker": {"size": 7, "color": ROLE_COLOURS.get(role, OTHER_COLOUR)},
            }
        )
    return {"data": traces, "layout": _layout(fmt, 400, geo=GEO_LAYOUT, margin={"l": 0, "r": 0, "t": 0, "b": 0})}


def growth_chart(profile: dict[str, Any], fmt: Formatter) -> Figure | None:
    """Member counts an organisation reported over time, and its members in the registry by year joined."""
    traces = []
    years: set[int] = set()
    counts: list[float] = []
    for what in sorted({c["what"] for c in profile["member_counts"] if c["year"]}):
        rows = [c for c in profile["member_counts"] if c["what"] == what and c["year"]]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": fmt.term(what),
                "x": [c["year"] for c in rows],
                "y": [c["count"] for c in rows],
                "text": [f"{fmt.year(c['year'])}: {fmt.num(c['count'])}" for c in rows],
                "hoverinfo": "text+name",
            }
        )
        years |= {c["year"] for c in rows}
        counts += [c["count"] for c in rows if c["count"] is not None]
    if profile["registry_growth"]:
        growth = profile["registry_growth"]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": fmt.t("members_in_registry"),
                "x": [r["year"] for r in growth],
                "y": [r["members"] for r in growth],
                "text": [f"{fmt.year(r['year'])}: {fmt.num(r['members'])}" for r in growth],
                "hoverinfo": "text+name",
                "line": {"dash": "dot"},
            }
        )
        years |= {r["year"] for r in growth}
        counts += [r["members"] for r in growth]
    if not traces:
        return None
    ordered = sorted(years)
    top = max(counts, default=1) or 1
    return {
        "data": traces,
        "layout": _layout(
            fmt,
            300,
            xaxis={
                "range": [ordered[-1] + 1, ordered[0] - 1] if fmt.rtl else [ordered[0] - 1, ordered[-1] + 1],
                **_year_ticks(ordered, fmt, most=6),
                "automargin": True,
            },
            yaxis={
                "range": [0, top * 1.08],
                **_ticks(0, top * 1.08, fmt, integer=True),
                "side": "right" if fmt.rtl else "left",
                "automargin": True,
            },
        ),
    }


def _metric_title(code: str, fmt: Formatter) -> str:
    """An axis title for result ``code``: its name and unit (:mod:`citydiplomacy.present.metrics`)."""
    words = fmt.metric(code)
    return f"{words.name} ({words.unit})" if words.unit else words.name


def ranking_chart(items: list[dict[str, Any]], fmt: Formatter, code: str = "") -> Figure | None:
    """Dot plot of ranked places (``name``, ``value``, ``low``, ``high``) with their intervals; the x axis is
    titled with the name and unit of ``code`` when given."""
    items = [i for i in items[:30] if i.get("value") is not None]
    if not items:
        return None
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "markers",
        "x": [i["value"] for i in items],
        "y": [fmt.place(i) for i in items],
        "text": [f"{fmt.place(i)}: {_interval_text(i, fmt)}" for i in items],
        "hoverinfo": "text",
        "marker": {"size": 8, "color": BAR_COLOUR},
    }
    if (bars := _error_bars(items)) is not None:
        trace["error_x"] = bars
    low = min([i["value"] for i in items] + [i["low"] for i in items if i.get("low") is not None])
    high = max([i["value"] for i in items] + [i["high"] for i in items if i.get("high") is not None])
    pad = (high - low) * 0.05 or 1
    lo, hi = low - pad, high + pad
    xaxis = {"range": [hi, lo] if fmt.rtl else [lo, hi], **_ticks(lo, hi, fmt), "automargin": True}
    if code:
        xaxis["title"] = {"text": _metric_title(code, fmt)}
    return {
        "data": [trace],
        "layout": _layout(
            fmt,
            max(260, 22 * len(items) + 80),
            xaxis=xaxis,
            yaxis={"autorange": "reversed", "automargin": True, "side": "right" if fmt.rtl else "left"},
        ),
    }


def rank_interval_chart(items: list[dict[str, Any]], fmt: Formatter) -> Figure | None:
    """Each ranked place's rank (a dot) and its 5-95 % rank interval (a bar), for the items that have one.

    ``items`` as :func:`citydiplomacy.web.data.ranking` gives them (``rank``, ``rank_low``, ``rank_high``);
    None when no item has an interval (a run without uncertainty samples).
    """
    items = [i for i in items[:30] if i.get("rank_low") is not None and i.get("rank_high") is not None]
    if not items:
        return None
    rows = [{"value": i["rank"], "low": i["rank_low"], "high": i["rank_high"]} for i in items]
    hover = [
        f"{fmt.place(i)}: {fmt.t('rank')} {fmt.num(i['rank'])} ({fmt.t('rank_interval')} "
        f"{fmt.span(i['rank_low'], i['rank_high'])})"
        for i in items
    ]
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "markers",
        "x": [i["rank"] for i in items],
        "y": [fmt.place(i) for i in items],
        "text": hover,
        "hoverinfo": "text",
        "marker": {"size": 8, "color": BAR_COLOUR},
        "error_x": _error_bars(rows),
    }
    lo = min(min(r["low"], r["value"]) for r in rows) - 0.5
    hi = max(max(r["high"], r["value"]) for r in rows) + 0.5
    # Rank 1 at the reading start: left in English, right in Persian.
    xaxis = {
        "range": [hi, lo] if fmt.rtl else [lo, hi],
        **_ticks(max(1, lo), hi, fmt, integer=True),
        "automargin": True,
        "title": {"text": _metric_title("CDI_RANK", fmt)},
    }
    return {
        "data": [trace],
        "layout": _layout(
            fmt,
            max(260, 22 * len(items) + 80),
            xaxis=xaxis,
            yaxis={"autorange": "reversed", "automargin": True, "side": "right" if fmt.rtl else "left"},
        ),
    }


def network_map(items: list[dict[str, Any]], fmt: Formatter, code: str = "") -> Figure | None:
    """Places on the world map, marker size by a network measure (``value``); None when none is located."""
    located = [i for i in items if i.get("lat") is not None and i.get("value") is not None]
    if not located:
        return None
    top = max(abs(i["value"]) for i in located) or 1.0
    return {
        "data": [
            {
                "type": "scattergeo",
                "mode": "markers",
                "name": fmt.metric(code).name if code else "",
                "lon": [i["lng"] for i in located],
                "lat": [i["lat"] for i in located],
                "text": [f"{fmt.place(i)}: {fmt.measure(i['value'])}" for i in located],
                "hoverinfo": "text",
                "marker": {
                    "size": [4 + 16 * abs(i["value"]) / top for i in located],
                    "color": "#8e44ad",
                    "opacity": 0.7,
                },
            }
        ],
        "layout": _layout(fmt, 400, geo=GEO_LAYOUT, margin={"l": 0, "r": 0, "t": 0, "b": 0}),
    }
