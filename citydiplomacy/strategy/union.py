"""Regional urban-union feasibility (paper 000: can a region's cities form an urban union?).

A region is a list of countries, a radius around a city, or a bounding box.  For the places of the
registry inside it, :func:`assess_union` measures cohesion with five components, each in ``[0, 1]``:

``connectedness``
    Share of the region's cities in the largest connected group of ties *inside* the region.
``inward_ties``
    Ties inside the region / all ties of the region's cities (how regional their diplomacy already is).
``network_coverage``
    Share of the region's cities that are members of at least one city network.
``interlocking``
    Share of the region's cities linked to another region city through a shared network (Taylor's
    interlocking connectivity inside the region > 0, :func:`citydiplomacy.network.interlocking.connectivity`).
``complementarity``
    Mean over the assessment's dimensions of the spread (standard deviation / 50) of the region's
    scores: cities strong in different dimensions have more to exchange.  ``None`` without an assessment.

Feasibility = weighted mean of the available components (weights :data:`WEIGHTS`, renormalised when
one is ``None``), × 100.  The founding core is the innermost k-core of the internal tie graph (if it has
at least 3 cities; else the largest Leiden community); the secretariat candidates are ranked by internal
ties, global reach (all ties), memberships (a current secretariat counts double), capital status and
closeness to the region's centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import Engine

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput
from citydiplomacy.store.db import get_engine, session_scope
from citydiplomacy.store.lookup import find_place
from citydiplomacy.strategy.data import RegistryGraph, country_info, haversine_km, load_registry_graph
from citydiplomacy.strategy.recommend_partners import latest_dimension_scores

WEIGHTS = settings.UNION_WEIGHTS
HOST_WEIGHTS = settings.UNION_HOST_WEIGHTS


class UnionError(BadInput):
    """A region that cannot be assessed: unknown countries, a bad box, fewer than two cities."""


@dataclass(frozen=True)
class Region:
    """A region given one of three ways; exactly one of the fields is set."""

    countries: tuple[str, ...] = ()
    around: tuple[str, str | None, float] | None = None  # (city, its country, radius km)
    bbox: tuple[float, float, float, float] | None = None  # (min lat, min lng, max lat, max lng)

    def describe(self) -> str:
        """A one-line description."""
        if self.countries:
            return "countries " + ", ".join(self.countries)
        if self.around:
            return f"{self.around[2]:g} km around {self.around[0]}"
        assert self.bbox is not None
        return "box lat {0}..{2}, lng {1}..{3}".format(*self.bbox)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"min_lat,min_lng,max_lat,max_lng"`` in degrees -> tuple; :class:`UnionError` when malformed."""
    try:
        a, b, c, d = (float(x) for x in text.split(","))
    except ValueError as exc:
        raise UnionError("--bbox takes min_lat,min_lng,max_lat,max_lng in degrees, e.g. 25,44,40,64") from exc
    if not (-90 <= a < c <= 90 and -180 <= b < d <= 180):
        raise UnionError("--bbox needs -90 <= min_lat < max_lat <= 90 and -180 <= min_lng < max_lng <= 180")
    return a, b, c, d


def select_region(graph: RegistryGraph, region: Region, engine: Engine) -> np.ndarray:
    """Node indices of the places inside ``region`` (sorted)."""
    if region.countries:
        known = country_info()
        unknown = [c for c in region.countries if c not in known]
        if unknown:
            raise UnionError(f"unknown country code(s): {', '.join(unknown)} (use ISO 3166-1 alpha-2, e.g. IR)")
        return np.flatnonzero(np.isin(graph.countries, list(region.countries)))
    if region.around:
        city, country, km = region.around
        if not km > 0:
            raise UnionError("--km must be positive")
        with session_scope(engine) as session:
            try:
                centre = graph.index_of(find_place(session, city, country).id)
            except LookupError as exc:
                raise UnionError(str(exc)) from exc
        dist = haversine_km(graph.lat[centre], graph.lng[centre], graph.lat, graph.lng)
        return np.flatnonzero(dist <= km)
    if region.bbox:
        a, b, c, d = region.bbox
        return np.flatnonzero((graph.lat >= a) & (graph.lat <= c) & (graph.lng >= b) & (graph.lng <= d))
    raise UnionError("give a region: --countries, --around CITY --km N, or --bbox")


def _role_matrix(graph: RegistryGraph, nodes: np.ndarray) -> sparse.csr_array:
    """Region cities × organisations role values (the highest of a city's roles in each organisation)."""
    orgs = sorted(graph.organisations)
    col = {o: j for j, o in enumerate(orgs)}
    values = np.zeros((len(nodes), len(orgs)))
    for i, node in enumerate(nodes.tolist()):
        for oid, role in graph.memberships.get(node, {}).items():
            values[i, col[oid]] = max(values[i, col[oid]], settings.ROLE_VALUES.get(role, 1.0))
    return sparse.csr_array(values)


def assess_union(
    region: Region, *, engine: Engine | None = None, graph: RegistryGraph | None = None, seed: int = 0, top: int = 10
) -> dict[str, Any]:
    """Feasibility of an urban union of ``region``'s cities, with its components, core and hosts.

    Returns
    -------
    dict
        ``region``, ``cities`` (count), ``countries``, ``ties`` (internal, external), ``components``
        (name -> value in [0, 1] or None), ``weights``, ``feasibility`` (0-100), ``founding_core`` (method
        and members), ``secretariat`` (ranked candidates with score and reasons), ``notes``.

    Raises
    ------
    UnionError
        Unknown countries, malformed box or radius, or fewer than two cities in the region.
    """
    import igraph as ig
    import leidenalg

    from citydiplomacy.network.interlocking import connectivity

    engine = engine or get_engine()
    graph = graph or load_registry_graph(engine)
    nodes = select_region(graph, region, engine)
    if len(nodes) < 2:
        raise UnionError(
            f"the region ({region.describe()}) holds {len(nodes)} place(s) of the registry: "
            "a union needs at least two cities"
        )
    local = {int(p): i for i, p in enumerate(nodes)}
    e = graph.edges
    in_a, in_b = np.isin(e[:, 0], nodes), np.isin(e[:, 1], nodes)
    internal = e[in_a & in_b]
    touching = int((in_a | in_b).sum())
    sub = ig.Graph(n=len(nodes), edges=[(local[a], local[b]) for a, b in internal.tolist()], directed=False)
    comps = sub.connected_components()
    giant = max(comps, key=len) if len(internal) else []
    notes: list[str] = []
    components: dict[str, float | None] = {
        "connectedness": len(giant) / len(nodes) if len(internal) else 0.0,
        "inward_ties": len(internal) / touching if touching else 0.0,
    }
    values = _role_matrix(graph, nodes)
    members = np.asarray((values > 0).sum(axis=1)).ravel()
    components["network_coverage"] = float((members > 0).mean())
    interlock = connectivity(values)
    components["interlocking"] = float((interlock > 0).mean())
    with session_scope(engine) as session:
        dims_by_place = latest_dimension_scores(session)
    rows = [dims_by_place.get(int(graph.place_ids[p])) for p in nodes]
    rows = [r for r in rows if r]
    if len(rows) >= 2:
        keys = sorted(set().union(*rows))
        spread = [np.nanstd([r.get(k, np.nan) for r in rows]) for k in keys]
        components["complementarity"] = float(min(1.0, np.nanmean(spread) / 50.0))
    else:
        components["complementarity"] = None
        notes.append(
            "no assessment covers two or more of the region's cities: complementarity left out "
            "(run `citydip assess --all`)"
        )
    used = {k: w for k, w in WEIGHTS.items() if components[k] is not None}
    total = sum(used.values())
    feasibility = 100.0 * sum(w * float(components[k]) for k, w in used.items()) / total  # type: ignore[arg-type]

    # Founding core: innermost k-core of the internal graph, else the largest community.
    degree_in = np.asarray(sub.degree(), dtype=float)
    core_method, core_nodes = "none", np.array([], dtype=int)
    if len(internal):
        coreness = np.asarray(sub.coreness())
        kmax = int(coreness.max())
        core_nodes = np.flatnonzero(coreness == kmax)
        core_method = f"{kmax}-core of the ties inside the region"
        if len(core_nodes) < 3:
            part = leidenalg.find_partition(sub, leidenalg.ModularityVertexPartition, seed=seed)
            biggest = max(range(len(part)), key=lambda c: len(part[c]))
            core_nodes = np.array(sorted(part[biggest]))
            core_method = "largest Leiden community of the ties inside the region"
    else:
        notes.append("no ties inside the region: no founding core can be proposed from ties")
    core_order = core_nodes[np.lexsort((graph.names[nodes[core_nodes]].astype(str), -degree_in[core_nodes]))]

    # Secretariat candidates.
    all_degree = np.bincount(e.ravel(), minlength=graph.n)[nodes].astype(float)
    host_roles = np.array(
        [sum(1 for r in graph.memberships.get(int(p), {}).values() if r == "secretariat_host") for p in nodes],
        dtype=float,
    )
    lat_c, lng_c = np.nanmedian(graph.lat[nodes]), np.nanmedian(graph.lng[nodes])  # robust to stray coordinates
    dist_c = haversine_km(graph.lat[nodes], graph.lng[nodes], lat_c, lng_c)
    spread_km = np.nanmax(dist_c) if np.isfinite(dist_c).any() and np.nanmax(dist_c) > 0 else 1.0

    def norm(x: np.ndarray) -> np.ndarray:
        return x / x.max() if x.max() > 0 else np.zeros_like(x)

    host_parts = {
        "internal_ties": norm(degree_in),
        "all_ties": norm(np.log1p(all_degree)),
        "memberships": norm(members + host_roles),
        "capital": graph.capital[nodes].astype(float),
        "centrality": np.nan_to_num(1.0 - dist_c / spread_km, nan=0.0),
    }
    host_score = sum(HOST_WEIGHTS[k] * v for k, v in host_parts.items())
    order = np.lexsort((graph.names[nodes].astype(str), -host_score))[:top]
    secretariat = []
    for i in order.tolist():
        p = int(nodes[i])
        reasons = [f"{int(degree_in[i])} tie(s) inside the region", f"{int(all_degree[i])} tie(s) in all"]
        if members[i]:
            reasons.append(
                f"member of {int(members[i])} network(s)" + (" (hosts a secretariat)" if host_roles[i] else "")
            )
        if graph.capital[p]:
            reasons.append("national capital")
        if np.isfinite(dist_c[i]):
            reasons.append(f"{dist_c[i]:,.0f} km from the region's centre")
        secretariat.append(
            {
                "place_id": int(graph.place_ids[p]),
                "name": str(graph.names[p]),
                "country_code": str(graph.countries[p]),
                "score": round(float(host_score[i]), 4),
                "reasons": reasons,
            }
        )
    return {
        "region": region.describe(),
        "cities": int(len(nodes)),
        "countries": sorted({str(c) for c in graph.countries[nodes] if c}),
        "ties": {
            "internal": int(len(internal)),
            "touching_region": touching,
            "density": round(2 * len(internal) / (len(nodes) * (len(nodes) - 1)), 6),
        },
        "components": {k: (None if v is None else round(float(v), 4)) for k, v in components.items()},
        "weights": WEIGHTS,
        "feasibility": round(feasibility, 1),
        "founding_core": {
            "method": core_method,
            "size": int(len(core_nodes)),
            "members": [
                {
                    "name": str(graph.names[nodes[i]]),
                    "country_code": str(graph.countries[nodes[i]]),
                    "internal_ties": int(degree_in[i]),
                }
                for i in core_order[:25].tolist()
            ],
        },
        "secretariat": secretariat,
        "notes": notes,
    }
