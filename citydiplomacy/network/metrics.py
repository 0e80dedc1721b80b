"""Per-city metrics of a city graph (bilateral, membership projection or combined).

Definitions (each matches a networkx function, named in brackets, to 1e-9; see the tests):

``degree``, ``degree_<kind>``
    Number of partners (of partners linked by at least one relation of that kind).
``strength``, ``strength_<kind>``
    Sum of edge weights (of the weights of relations of that kind).
``betweenness``
    Unweighted shortest-path betweenness, each unordered pair of endpoints counted once
    [``betweenness_centrality(normalized=False)``]; ``betweenness_norm`` divides by
    ``(n-1)(n-2)/2`` [``normalized=True``].
``harmonic``
    Unweighted harmonic closeness ``Σ_{u≠v} 1/d(v,u)`` (unreachable: 0) [``harmonic_centrality``];
    ``harmonic_norm`` divides by ``n-1``.
``eigenvector``
    Weighted eigenvector centrality scaled to a maximum of 1 [``eigenvector_centrality_numpy`` / max].
    On a disconnected graph only the component with the largest eigenvalue has non-zero values.
``pagerank``
    Weighted PageRank, damping 0.85, dangling mass spread uniformly [``pagerank``].
``clustering``
    Unweighted local clustering coefficient, 0 below degree 2 [``clustering``].
``coreness``
    k-core number [``core_number``].
``constraint``
    Burt's constraint with edge weights (NaN for isolated cities) [``constraint(weight=...)``].
``countries_reached``, ``continents_reached``, ``subregions_reached``
    Distinct countries (other than the city's own), continents and UN M49 sub-regions of partners.
``partner_distance_mean_km``, ``partner_distance_median_km``
    Great-circle distance to partners (haversine, R = 6371.0088 km); partners without coordinates
    are left out; NaN without any.
``region_diversity``
    Shannon entropy (natural log, nats) of partners' UN M49 sub-regions, each partner counted once;
    partners of unknown region are left out; NaN without partners.
``cross_border_share``
    Share of partners in another country (partners of unknown country left out; NaN without any).

Speed: betweenness and harmonic closeness need a breadth-first search from every vertex.  A city
linked to a single partner (a *leaf*, about half of the twinning graph) needs none: its searches are
its partner's shifted by one step, so searches run only from non-leaves (and, for harmonic closeness,
from one leaf per partner, since leaves of one partner are alike).  The result is exact.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import igraph as ig
import numpy as np
import pandas as pd

from citydiplomacy.geo.regions import haversine_km

CENTRALITY_COLUMNS = (
    "degree", "strength", "betweenness", "betweenness_norm", "harmonic", "harmonic_norm", "eigenvector",
    "pagerank", "clustering", "coreness", "constraint",
)  # fmt: skip
GEO_COLUMNS = (
    "countries_reached", "continents_reached", "subregions_reached", "partner_distance_mean_km",
    "partner_distance_median_km", "region_diversity", "cross_border_share",
)  # fmt: skip
PAGERANK_DAMPING = 0.85


def _leaves(g: ig.Graph, degree: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent of each leaf (-1 elsewhere) and the number of leaves hanging from each vertex.

    Two leaves joined to each other (a two-city component) are not counted as hanging from one another.
    """
    parent = np.full(g.vcount(), -1, dtype=np.int64)
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    a, b = edges[:, 0], edges[:, 1]
    leaf = degree == 1
    parent[a[leaf[a]]] = b[leaf[a]]
    parent[b[leaf[b]]] = a[leaf[b]]
    hanging = leaf & (parent >= 0)
    hanging &= degree[np.where(parent >= 0, parent, 0)] > 1
    parent[~hanging] = -1
    counts = np.bincount(parent[hanging], minlength=g.vcount())
    return parent, counts


# --- breadth-first-search metrics, optionally spread over worker processes ----------------------

_WORKER_GRAPH: ig.Graph | None = None


def _set_worker_graph(g: ig.Graph) -> None:
    global _WORKER_GRAPH
    _WORKER_GRAPH = g


def _run_task(task: tuple[str, float, list[int]]) -> tuple[str, list[int], np.ndarray]:
    what, weight, vertices = task
    g = _WORKER_GRAPH
    assert g is not None
    if what == "betweenness":
        return what, vertices, weight * np.asarray(g.betweenness(directed=False, sources=vertices))
    return what, vertices, np.asarray(g.harmonic_centrality(vertices=vertices, normalized=False))


def _run_tasks(g: ig.Graph, tasks: list[tuple[str, float, list[int]]], workers: int) -> list:
    """Run search tasks here (``workers`` 1) or in forked worker processes that share ``g``."""
    tasks = [t for t in tasks if t[2]]
    if workers <= 1 or len(tasks) < 2:
        _set_worker_graph(g)
        try:
            return [_run_task(t) for t in tasks]
        finally:
            _set_worker_graph(None)  # type: ignore[arg-type]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the graph instead of receiving a pickled copy.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_set_worker_graph, initargs=(g,)) as pool:
        return list(pool.map(_run_task, tasks))


def _chunks(vertices: np.ndarray, parts: int) -> list[list[int]]:
    # Interleaved so that every chunk gets a fair share of big-component (expensive) searches.
    return [vertices[i::parts].tolist() for i in range(parts)] if len(vertices) else []


def _search_plan(g: ig.Graph) -> dict[str, np.ndarray]:
    degree = np.asarray(g.degree())
    parent, leaf_counts = _leaves(g, degree)
    hanging = parent >= 0
    _, first = np.unique(parent[hanging], return_index=True)
    representative = np.flatnonzero(hanging)[first]
    return {
        "degree": degree,
        "parent": parent,
        "leaf_counts": leaf_counts,
        "sources": np.flatnonzero(degree > 1),
        "representative": representative,
        # Harmonic closeness: every vertex that is not a hanging leaf, plus one leaf per partner.
        "harmonic_searched": np.union1d(np.flatnonzero(~hanging & (degree > 0)), representative),
    }


def search_metrics(g: ig.Graph, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Exact unweighted betweenness and harmonic closeness of every vertex.

    Betweenness counts each unordered pair once.  Searches run only from vertices of degree ≥ 2,
    each weighted by 1 + its number of leaves: a leaf ℓ of partner u depends on every other vertex v
    exactly as u does (``δ_ℓ(v) = δ_u(v)``), and on u for each of the ``|component| − 2`` other
    vertices it reaches.  Harmonic closeness ``Σ_{u≠v} 1/d(v,u)`` is searched from every vertex but
    hanging leaves, and from one leaf per partner (leaves of one partner have equal values).

    Parameters
    ----------
    g
        Undirected simple graph.
    workers
        Processes to spread the searches over (1: in this process).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``(betweenness, harmonic)``, each of shape ``(g.vcount(),)``.
    """
    n = g.vcount()
    bc, hc = np.zeros(n), np.zeros(n)
    if n == 0 or g.ecount() == 0:
        return bc, hc
    plan = _search_plan(g)
    sources, leaf_counts = plan["sources"], plan["leaf_counts"]
    source_weight = 1 + leaf_counts[sources]
    parts = max(1, 2 * workers) if workers > 1 else 1
    tasks: list[tuple[str, float, list[int]]] = []
    for weight in np.unique(source_weight):
        for chunk in _chunks(sources[source_weight == weight], parts):
            tasks.append(("betweenness", float(weight), chunk))
    tasks += [("harmonic", 1.0, chunk) for chunk in _chunks(plan["harmonic_searched"], parts)]
    for what, vertices, values in _run_tasks(g, tasks, workers):
        if what == "betweenness":
            # igraph's subset betweenness from sources S is half the ordered-pair sum over s in S.
            bc += values
        else:
            hc[vertices] = values
    components = g.connected_components()
    comp_size = np.asarray(components.sizes())[np.asarray(components.membership)]
    bc += leaf_counts * (comp_size - 2) / 2.0
    parent, representative = plan["parent"], plan["representative"]
    hanging = parent >= 0
    rep_value = pd.Series(hc[representative], index=parent[representative])
    hc[hanging] = rep_value.loc[parent[hanging]].to_numpy()
    return bc, hc


def betweenness(g: ig.Graph, workers: int = 1) -> np.ndarray:
    """Exact unweighted betweenness, each unordered pair counted once (see :func:`search_metrics`)."""
    return search_metrics(g, workers)[0]


def harmonic_closeness(g: ig.Graph, workers: int = 1) -> np.ndarray:
    """Exact unweighted harmonic closeness, not normalised (see :func:`search_metrics`)."""
    return search_metrics(g, workers)[1]


def _kind_columns(g: ig.Graph, kinds: Sequence[str]) -> dict[str, np.ndarray]:
    n, out = g.vcount(), {}
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    for kind in kinds:
        n_attr, w_attr = f"n_{kind}", f"w_{kind}"
        if n_attr not in g.es.attributes():
            continue
        present = (np.asarray(g.es[n_attr]) > 0).astype(float)
        weight = np.asarray(g.es[w_attr], dtype=float)
        both = np.concatenate([edges[:, 0], edges[:, 1]])
        out[f"degree_{kind}"] = np.bincount(both, np.tile(present, 2), minlength=n).astype(int)
        out[f"strength_{kind}"] = np.bincount(both, np.tile(weight, 2), minlength=n)
    return out


def centrality_metrics(g: ig.Graph, *, workers: int = 1) -> pd.DataFrame:
    """Degree, strength (also by relation kind), betweenness, closeness, eigenvector, PageRank,
    clustering, coreness and constraint of every vertex (definitions in the module docstring).

    Parameters
    ----------
    g
        Undirected simple graph with an edge attribute ``weight`` (> 0).
    workers
        Processes for the breadth-first searches (betweenness, closeness); 1 runs them here.

    Returns
    -------
    pandas.DataFrame
        One row per vertex in vertex order, columns :data:`CENTRALITY_COLUMNS` and the per-kind
        ``degree_<kind>``/``strength_<kind>``; empty (with those columns) for an empty graph.
    """
    n = g.vcount()
    if not g.is_simple() or g.is_directed():
        raise ValueError("centrality_metrics needs an undirected simple graph (build it with graphs.*)")
    weights = g.es["weight"] if g.ecount() else None
    cols: dict[str, np.ndarray] = {
        "degree": np.asarray(g.degree(), dtype=int),
        "strength": np.asarray(g.strength(weights=weights), dtype=float) if n else np.zeros(0),
    }
    cols |= _kind_columns(g, g["relation_kinds"] if "relation_kinds" in g.attributes() else [])
    bc, hc = search_metrics(g, workers)
    cols["betweenness"] = bc
    cols["betweenness_norm"] = bc / ((n - 1) * (n - 2) / 2) if n > 2 else np.zeros(n)
    cols["harmonic"] = hc
    cols["harmonic_norm"] = hc / (n - 1) if n > 1 else np.zeros(n)
    if g.ecount():
        with warnings.catch_warnings():
            # igraph warns that eigenvector centrality is near zero outside the leading component:
            # that is the documented definition here.
            warnings.simplefilter("ignore", RuntimeWarning)
            cols["eigenvector"] = np.asarray(g.eigenvector_centrality(weights=weights))
        cols["pagerank"] = np.asarray(g.pagerank(directed=False, damping=PAGERANK_DAMPING, weights=weights))
    else:  # no edges: every city alike (PageRank uniform), no eigenvector structure
        cols["eigenvector"] = np.zeros(n)
        cols["pagerank"] = np.full(n, 1.0 / n) if n else np.zeros(0)
    cols["clustering"] = np.asarray(g.transitivity_local_undirected(mode="zero"), dtype=float)
    cols["coreness"] = np.asarray(g.coreness(), dtype=int)
    cols["constraint"] = np.asarray(g.constraint(weights=weights), dtype=float) if n else np.zeros(0)
    frame = pd.DataFrame(cols)
    return frame[[*CENTRALITY_COLUMNS, *[c for c in frame.columns if c not in CENTRALITY_COLUMNS]]]


def geographic_metrics(g: ig.Graph) -> pd.DataFrame:
    """Countries, regions, distances and region diversity of each vertex's partners.

    Uses the vertex attributes ``country_code``, ``continent``, ``subregion``, ``lat``, ``lng``.

    Returns
    -------
    pandas.DataFrame
        One row per vertex in vertex order, columns :data:`GEO_COLUMNS`.
    """
    n = g.vcount()
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    city = np.concatenate([edges[:, 0], edges[:, 1]])
    partner = np.concatenate([edges[:, 1], edges[:, 0]])
    country = np.asarray(g.vs["country_code"] if n else [], dtype=object)
    lat = np.asarray(g.vs["lat"] if n else [], dtype=float)
    lng = np.asarray(g.vs["lng"] if n else [], dtype=float)
    pairs = pd.DataFrame(
        {
            "city": city,
            "country": country[partner] if len(partner) else [],
            "own": country[city] if len(city) else [],
            "continent": np.asarray(g.vs["continent"] if n else [], dtype=object)[partner],
            "subregion": np.asarray(g.vs["subregion"] if n else [], dtype=object)[partner],
            "km": haversine_km(lat[city], lng[city], lat[partner], lng[partner]),
        }
    )
    out = pd.DataFrame(index=pd.RangeIndex(n))
    foreign = pairs.loc[pairs["country"].notna() & (pairs["country"] != pairs["own"])]
    out["countries_reached"] = foreign.groupby("city")["country"].nunique()
    out["continents_reached"] = pairs.groupby("city")["continent"].nunique()
    out["subregions_reached"] = pairs.groupby("city")["subregion"].nunique()
    for col in ("countries_reached", "continents_reached", "subregions_reached"):
        out[col] = out[col].fillna(0).astype(int)
    km = pairs.groupby("city")["km"]
    out["partner_distance_mean_km"] = km.mean()
    out["partner_distance_median_km"] = km.median()
    known = pairs.loc[pairs["subregion"].notna()]
    counts = known.groupby(["city", "subregion"]).size()
    share = counts / counts.groupby(level="city").transform("sum")
    out["region_diversity"] = (-(share * np.log(share))).groupby(level="city").sum()
    both = pairs.loc[pairs["country"].notna() & pairs["own"].notna()]
    out["cross_border_share"] = (both["country"] != both["own"]).groupby(both["city"]).mean()
    for col in ("partner_distance_mean_km", "partner_distance_median_km", "region_diversity", "cross_border_share"):
        out[col] = out[col].astype(float)
    return out[list(GEO_COLUMNS)].reset_index(drop=True)


def city_metrics(g: ig.Graph, *, workers: int = 1) -> pd.DataFrame:
    """Every per-city metric of a city graph, with the city's identity columns first.

    Returns
    -------
    pandas.DataFrame
        One row per vertex: ``place_id``, ``name``, ``country_code``, ``continent``, ``subregion``,
        then :func:`centrality_metrics` and :func:`geographic_metrics` columns.  ``workers`` as in
        :func:`centrality_metrics`.
    """
    ident = pd.DataFrame(
        {col: g.vs[col] if g.vcount() else [] for col in ("place_id", "name", "country_code", "continent", "subregion")}
    )
    return pd.concat([ident, centrality_metrics(g, workers=workers), geographic_metrics(g)], axis=1)
