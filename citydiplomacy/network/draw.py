"""Pictures of a city's network: its ego network and its partners on a world map (Plotly figures).

Write them with :func:`citydiplomacy.present.assets.write_figure` (``.html`` self-contained and
offline, ``.png`` through headless Chromium).
"""

from __future__ import annotations

import random

import igraph as ig
import numpy as np
import plotly.graph_objects as go

from citydiplomacy.geo.regions import UN_M49_SUBREGIONS
from citydiplomacy.network.graphs import NetworkInputError

#: One colour per UN M49 sub-region (Plotly's Dark24 palette, then Light24), grey for unknown.
_PALETTE = (
    "#2E91E5",
    "#E15F99",
    "#1CA71C",
    "#FB0D0D",
    "#DA16FF",
    "#222A2A",
    "#B68100",
    "#750D86",
    "#EB663B",
    "#511CFB",
    "#00A08B",
    "#FB00D1",
    "#FC0080",
    "#B2828D",
    "#6C7C32",
    "#778AAE",
    "#862A16",
    "#A777F1",
    "#620042",
    "#1616A7",
    "#DA60CA",
    "#6C4516",
    "#0D2A63",
)
REGION_COLOURS: dict[str, str] = dict(zip(UN_M49_SUBREGIONS, _PALETTE, strict=False))
UNKNOWN_COLOUR = "#9E9E9E"


def region_colour(subregion: str | None) -> str:
    """The colour of a UN M49 sub-region (grey when unknown)."""
    return REGION_COLOURS.get(subregion or "", UNKNOWN_COLOUR)


def vertex_of(g: ig.Graph, place_id: int) -> int:
    """The vertex of a place in ``g``.

    Raises
    ------
    NetworkInputError
        The place has no vertex in this graph (no relation matching the filters).
    """
    try:
        return g.vs.find(place_id=place_id).index
    except (ValueError, KeyError) as exc:
        raise NetworkInputError(f"place {place_id} is not in this network (no relation matches the filters)") from exc


def ego_network(g: ig.Graph, center: int, radius: int = 1) -> tuple[ig.Graph, int]:
    """The subgraph of vertices within ``radius`` steps of ``center``.

    Returns
    -------
    tuple[igraph.Graph, int]
        The induced subgraph (attributes kept) and the centre's index in it.
    """
    if radius < 1:
        raise NetworkInputError("radius must be at least 1")
    members = sorted(g.neighborhood(center, order=radius))
    return g.induced_subgraph(members), members.index(center)


def _label(v: ig.Vertex) -> str:
    cc = v["country_code"] or "?"
    return f"{v['name']} ({cc})"


def ego_figure(ego: ig.Graph, center: int, *, title: str = "", seed: int = 7) -> go.Figure:
    """An interactive picture of an ego network: nodes coloured by world region, sized by degree.

    The layout is Fruchterman–Reingold, seeded so the picture is the same run after run.
    """
    random.seed(seed)  # igraph's layouts draw from Python's random module
    coords = (
        np.asarray(ego.layout_fruchterman_reingold(weights=None, niter=500).coords)
        if ego.vcount() > 1
        else np.zeros((1, 2))
    )
    degree = np.asarray(ego.degree())
    fig = go.Figure()
    xs, ys = [], []
    for a, b in ego.get_edgelist():
        xs += [coords[a, 0], coords[b, 0], None]
        ys += [coords[a, 1], coords[b, 1], None]
    fig.add_trace(
        go.Scatter(
            x=xs, y=ys, mode="lines", line={"width": 0.7, "color": "#BBBBBB"}, hoverinfo="skip", showlegend=False
        )
    )
    regions = [v["subregion"] for v in ego.vs]
    for region in sorted({r or "unknown" for r in regions}):
        idx = [i for i, r in enumerate(regions) if (r or "unknown") == region]
        fig.add_trace(
            go.Scatter(
                x=coords[idx, 0],
                y=coords[idx, 1],
                mode="markers",
                name=region,
                marker={
                    "size": (8 + 3 * np.sqrt(degree[idx])).tolist(),
                    "color": region_colour(None if region == "unknown" else region),
                    "line": {"width": 0.5, "color": "white"},
                },
                text=[_label(ego.vs[i]) for i in idx],
                hovertemplate="%{text}<extra>" + region + "</extra>",
            )
        )
    c = ego.vs[center]
    fig.add_trace(
        go.Scatter(
            x=[coords[center, 0]],
            y=[coords[center, 1]],
            mode="markers+text",
            name=_label(c),
            marker={
                "size": 22,
                "color": region_colour(c["subregion"]),
                "symbol": "star",
                "line": {"width": 1.5, "color": "black"},
            },
            text=[c["name"]],
            textposition="top center",
            textfont={"size": 14},
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=title or f"Ego network of {_label(c)}: {ego.vcount() - 1} cities, {ego.ecount()} ties",
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        plot_bgcolor="white",
        legend={"title": {"text": "World region (UN M49)"}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def partners_map_figure(g: ig.Graph, center: int, *, title: str = "") -> go.Figure:
    """A world map of a city's partners (Natural Earth 1:110m), lines drawn as great circles.

    Partners without coordinates are left off the map and counted in the title.
    """
    c = g.vs[center]
    if c["lat"] is None or np.isnan(c["lat"]):
        raise NetworkInputError(f"{_label(c)} has no coordinates: it cannot be placed on a map")
    partners = g.vs[g.neighbors(center)]
    placed = [p for p in partners if p["lat"] is not None and not np.isnan(p["lat"])]
    fig = go.Figure()
    lat, lon = [], []
    for p in placed:
        lat += [c["lat"], p["lat"], None]
        lon += [c["lng"], p["lng"], None]
    if placed:
        fig.add_trace(
            go.Scattergeo(
                lat=lat,
                lon=lon,
                mode="lines",
                line={"width": 1, "color": "rgba(60,60,60,0.45)"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    for region in sorted({p["subregion"] or "unknown" for p in placed}):
        group = [p for p in placed if (p["subregion"] or "unknown") == region]
        fig.add_trace(
            go.Scattergeo(
                lat=[p["lat"] for p in group],
                lon=[p["lng"] for p in group],
                mode="markers",
                name=region,
                marker={"size": 7, "color": region_colour(None if region == "unknown" else region)},
                text=[_label(p) for p in group],
                hovertemplate="%{text}<extra>" + region + "</extra>",
            )
        )
    fig.add_trace(
        go.Scattergeo(
            lat=[c["lat"]],
            lon=[c["lng"]],
            mode="markers+text",
            text=[c["name"]],
            textposition="top center",
            marker={"size": 14, "symbol": "star", "color": "black"},
            name=_label(c),
            showlegend=False,
        )
    )
    missing = len(partners) - len(placed)
    fig.update_geos(
        projection_type="natural earth",
        showcountries=True,
        countrycolor="#999999",
        showland=True,
        landcolor="#F2F2EE",
        showocean=True,
        oceancolor="#DDEEFF",
        resolution=110,
    )
    fig.update_layout(
        title=title
        or f"Partners of {_label(c)}: {len(partners)}" + (f" ({missing} without coordinates)" if missing else ""),
        legend={"title": {"text": "World region (UN M49)"}},
        margin={"l": 0, "r": 0, "t": 50, "b": 0},
    )
    return fig
