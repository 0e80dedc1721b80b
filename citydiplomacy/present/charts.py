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


#: The roles in the order a member's marker takes its colour from: a place that hosts the secretariat and is
#: also an active member shows as the host.
ROLE_ORDER = tuple(ROLE_COLOURS)


def _role_rank(role: str) -> tuple[int, str]:
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)


def _first_role(roles: list[str]) -> str:
    return min(roles, key=_role_rank)


def fitted_geo(lats: list[float], lons: list[float], most_zoom: float = 4.0) -> dict[str, Any]:
    """:data:`GEO_LAYOUT` centred on the points and zoomed to show them all with room around them.

    One point or a few close together get ``most_zoom`` (about a 90° by 45° window: the region and its
    neighbours, never a blank rectangle of land); points spread over the world get the whole world.  The
    zoom is a projection scale, not axis ranges, so the map fills its box at any width.
    """
    lat_span, lon_span = max(lats) - min(lats), max(lons) - min(lons)
    if lon_span > 180:  # across the antimeridian or around the world: the whole world
        return dict(GEO_LAYOUT)
    # 1.6: a margin around the outermost points (markers and their labels stay inside the map).
    scale = min(most_zoom, 360 / max(lon_span * 1.6, 1e-9), 180 / max(lat_span * 1.6, 1e-9))
    if scale <= 1.2:
        return dict(GEO_LAYOUT)
    lat, lon = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    return {
        **GEO_LAYOUT,
        "center": {"lat": round(lat, 4), "lon": round(lon, 4)},
        "projection": {**GEO_LAYOUT["projection"], "scale": round(scale, 3), "rotation": {"lon": round(lon, 4)}},
    }


def members_map(profile: dict[str, Any], fmt: Formatter) -> Figure | None:
    """An organisation's member places on a map fitted to them (:func:`fitted_geo`), one marker per place
    coloured by its leading role (a place holds one membership per role), named when there are few.

    None when no member has coordinates.
    """
    places: dict[int, dict[str, Any]] = {}
    for m in profile["members"]:
        if m.get("lat") is not None:
            places.setdefault(m.get("place_id", id(m)), {**m, "roles": []})["roles"].append(m["role"])
    if not places:
        return None
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for place in places.values():
        by_role[_first_role(place["roles"])].append(place)
    labelled = len(places) <= 12
    west_to_east = sorted(places.values(), key=lambda m: m["lng"])
    above_below = {id(m): ("top center", "bottom center")[i % 2] for i, m in enumerate(west_to_east)}
    comma = "، " if fmt.rtl else ", "
    traces = []
    for role in sorted(by_role, key=_role_rank):
        these = by_role[role]
        trace: dict[str, Any] = {
            "type": "scattergeo",
            "mode": "markers",
            "name": fmt.term(role),
            "lon": [m["lng"] for m in these],
            "lat": [m["lat"] for m in these],
            "hovertext": [f"{fmt.place(m)} — {comma.join(fmt.term(r) for r in m['roles'])}" for m in these],
            "hovertemplate": "%{hovertext}<extra></extra>",
            "marker": {
                "size": 10 if labelled else 7,
                "color": ROLE_COLOURS.get(role, OTHER_COLOUR),
                "line": {"width": 0.5, "color": "#fff"},
            },
        }
        if labelled:  # few members: their names on the map, not only on hover (a phone has no hover)
            # Above and below in turn from west to east: two close cities' names do not run into each other.
            trace.update(
                mode="markers+text",
                text=[fmt.place(m) for m in these],
                textposition=[above_below[id(m)] for m in these],
            )
        traces.append(trace)
    geo = fitted_geo([p["lat"] for p in places.values()], [p["lng"] for p in places.values()])
    return {
        "data": traces,
        "layout": _layout(fmt, 400, geo=geo, showlegend=True, margin={"l": 0, "r": 0, "t": 0, "b": 0}),
    }


def stated_counts(profile: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """An organisation's stated member counts with a year, per kind of member (``what``), oldest first."""
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in sorted(profile["member_counts"], key=lambda c: (c["what"], c["year"] or 0)):
        if c["year"] and c["count"] is not None:
            series[c["what"]].append(c)
    return dict(series)


def _cited(c: dict[str, Any], fmt: Formatter) -> str:
    """``Source: <citation> · <locator>`` of a stated count (hover text), empty without a source."""
    cited = fmt.cite(c.get("provenance"))
    where = " · ".join(x for x in (cited["title"], cited["where"]) if x) if cited else ""
    return f"{fmt.t('source')}: {where}" if where else ""


def growth_chart(profile: dict[str, Any], fmt: Formatter) -> Figure | None:
    """The member counts an organisation's sources state, one marker per observation at its year.

    Only what a source stated is drawn: no line joins two years (nobody counted the years between), and
    the registry's own members are not mixed in.  The hover names the count's source.  None unless some
    kind of member was counted in two years or more: a single observation is a sentence on the page, not a
    chart with one dot.
    """
    series = stated_counts(profile)
    if not any(len({c["year"] for c in rows}) >= 2 for rows in series.values()):
        return None
    traces = []
    for what, rows in series.items():
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": fmt.term(what),
                "x": [c["year"] for c in rows],
                "y": [c["count"] for c in rows],
                "text": [fmt.stated(c["count"], c["qualifier"]) for c in rows],
                "textposition": "top center",
                "cliponaxis": False,
                "hovertext": [
                    "<br>".join(
                        x
                        for x in (
                            f"{fmt.term(what)}: {fmt.stated(c['count'], c['qualifier'])} · {fmt.year(c['year'])}",
                            _cited(c, fmt),
                        )
                        if x
                    )
                    for c in rows
                ],
                "hovertemplate": "%{hovertext}<extra></extra>",
                "marker": {"size": 11},
            }
        )
    years = sorted({c["year"] for rows in series.values() for c in rows})
    top = max(c["count"] for rows in series.values() for c in rows) or 1
    lo, hi = years[0] - 1, years[-1] + 1
    return {
        "data": traces,
        "layout": _layout(
            fmt,
            320,
            showlegend=True,
            hoverlabel={"align": "right" if fmt.rtl else "left"},
            xaxis={
                "range": [hi, lo] if fmt.rtl else [lo, hi],
                **_year_ticks(years, fmt, most=6),
                "title": {"text": fmt.t("year")},
                "automargin": True,
            },
            yaxis={
                "range": [0, top * 1.2],  # room above the highest marker for its label
                **_ticks(0, top * 1.2, fmt, integer=True, most=5),
                "title": {"text": fmt.t("stated_count_axis")},
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


def ties_map(overview: dict[str, Any], fmt: Formatter) -> Figure | None:
    """The registry on the world map: a line per tie drawn (the strongest ones, one colour per relation kind)
    and a point per place sized by its ties (memberships on hover).

    ``overview`` is :func:`citydiplomacy.web.explore.overview`'s (``points``: id, names, lat, lng, ties,
    memberships; ``lines``: kind and two ``(lat, lng)`` ends).  Every point carries its profile's address in
    ``customdata`` (the dashboard opens it on a click).  None when no place is located.
    """
    points = overview["points"]
    if not points:
        return None
    traces: list[dict[str, Any]] = []
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in overview["lines"]:
        by_kind[line["kind"]].append(line)
    for kind, lines in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        lat: list[float | None] = []
        lon: list[float | None] = []
        for line in lines:  # two decimals (a kilometre): the map's JSON stays small
            lat += [round(line["a"][0], 2), round(line["b"][0], 2), None]
            lon += [round(line["a"][1], 2), round(line["b"][1], 2), None]
        traces.append(
            {
                "type": "scattergeo",
                "mode": "lines",
                "name": fmt.term(kind),
                "lat": lat,
                "lon": lon,
                "line": {"width": 0.6, "color": KIND_COLOURS.get(kind, OTHER_COLOUR)},
                "opacity": 0.45,
                "hoverinfo": "skip",
            }
        )
    top = max(p["ties"] + p["memberships"] for p in points) or 1
    traces.append(
        {
            "type": "scattergeo",
            "mode": "markers",
            "name": fmt.t("places"),
            "lat": [round(p["lat"], 2) for p in points],
            "lon": [round(p["lng"], 2) for p in points],
            "text": [
                f"{fmt.place(p)} ({fmt.country(p['country_code'])})<br>{fmt.t('ties')}: {fmt.num(p['ties'])}"
                f" · {fmt.t('memberships')}: {fmt.num(p['memberships'])}"
                for p in points
            ],
            "customdata": [f"/cities/{p['id']}" for p in points],
            "hovertemplate": "%{text}<extra></extra>",
            "marker": {
                "size": [3 + 17 * math.sqrt((p["ties"] + p["memberships"]) / top) for p in points],
                "color": INDEX_COLOUR,
                "opacity": 0.75,
                "line": {"width": 0.4, "color": "#fff"},
            },
        }
    )
    return {"data": traces, "layout": _layout(fmt, 460, geo=GEO_LAYOUT, margin={"l": 0, "r": 0, "t": 0, "b": 0})}


def graph_chart(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], fmt: Formatter) -> Figure | None:
    """A network drawn at given positions: edges coloured by relation kind (ties among partners thinner and
    grey), nodes sized by their ties, the centre city larger and labelled.

    ``nodes``: ``id``, names, ``x``, ``y``, ``ties``, ``role`` (``centre``, ``partner`` or ``member``);
    ``edges``: ``a``, ``b`` (node ids), ``kind``, ``among`` (a tie between two partners).  Every node carries
    its profile's address in ``customdata``.  None without nodes.
    """
    if not nodes:
        return None
    at = {n["id"]: (n["x"], n["y"]) for n in nodes}
    groups: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
    for e in edges:
        if e["a"] in at and e["b"] in at:
            groups[(e["kind"], bool(e.get("among")))].append(e)
    traces: list[dict[str, Any]] = []
    for (kind, among), group in sorted(groups.items()):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for e in group:
            xs += [at[e["a"]][0], at[e["b"]][0], None]
            ys += [at[e["a"]][1], at[e["b"]][1], None]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{fmt.term(kind)} ({fmt.t('among_partners')})" if among else fmt.term(kind),
                "x": xs,
                "y": ys,
                "line": {
                    "width": 0.7 if among else 1.4,
                    "color": "#b0b0b0" if among else KIND_COLOURS.get(kind, OTHER_COLOUR),
                    "dash": "dot" if among else "solid",
                },
                "hoverinfo": "skip",
            }
        )
    top = max(n["ties"] for n in nodes) or 1
    label_all = len(nodes) <= 40
    traces.append(
        {
            "type": "scatter",
            "mode": "markers+text" if label_all else "markers",
            "name": fmt.t("places"),
            "showlegend": False,
            "x": [n["x"] for n in nodes],
            "y": [n["y"] for n in nodes],
            "text": [fmt.place(n) for n in nodes],
            "textposition": "top center",
            "textfont": {"size": 10},
            "hovertext": [
                f"{fmt.place(n)} ({fmt.country(n['country_code'])})<br>{fmt.t('ties')}: {fmt.num(n['ties'])}"
                for n in nodes
            ],
            "hoverinfo": "text",
            "customdata": [f"/cities/{n['id']}" for n in nodes],
            "marker": {
                "size": [22 if n["role"] == "centre" else 7 + 13 * math.sqrt(n["ties"] / top) for n in nodes],
                "color": [INDEX_COLOUR if n["role"] == "centre" else BAR_COLOUR for n in nodes],
                "symbol": ["star" if n["role"] == "centre" else "circle" for n in nodes],
                "line": {"width": 0.6, "color": "#fff"},
            },
        }
    )
    hidden = {"visible": False, "showgrid": False, "zeroline": False, "range": None}
    xs_all, ys_all = [n["x"] for n in nodes], [n["y"] for n in nodes]
    pad = 0.12 * max(max(xs_all) - min(xs_all), max(ys_all) - min(ys_all), 1.0)
    return {
        "data": traces,
        "layout": _layout(
            fmt,
            560,
            xaxis={**hidden, "range": [min(xs_all) - pad, max(xs_all) + pad]},
            yaxis={**hidden, "range": [min(ys_all) - pad, max(ys_all) + pad], "scaleanchor": "x"},
            hovermode="closest",
            plot_bgcolor="#fff",
        ),
    }
