"""Communities of a city graph (Leiden, modularity) and a summary of each community."""

from __future__ import annotations

import random
from collections import Counter

import igraph as ig
import numpy as np
import pandas as pd

#: Seed of the Leiden optimiser: the same graph gives the same communities run after run.
DEFAULT_SEED = 42


def leiden_communities(g: ig.Graph, *, resolution: float = 1.0, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, float]:
    """Partition the vertices by the Leiden algorithm maximising (weighted) modularity.

    Parameters
    ----------
    g
        Undirected graph with an edge attribute ``weight``.
    resolution
        Modularity resolution γ (1: standard modularity; larger: smaller communities).
    seed
        Random seed of the optimiser.

    Returns
    -------
    tuple[numpy.ndarray, float]
        Community number of each vertex (0 = largest community; isolated cities form their own
        one-city communities) and the partition's modularity (NaN for a graph without edges).
    """
    n = g.vcount()
    if n == 0:
        return np.zeros(0, dtype=int), float("nan")
    if g.ecount() == 0:
        return np.arange(n), float("nan")
    # igraph's C implementation of Leiden (the leidenalg package's algorithm, ~10x faster here);
    # it draws from Python's random module, so seeding that makes runs repeatable.
    state = random.getstate()
    random.seed(seed)
    try:
        partition = g.community_leiden(
            objective_function="modularity", weights="weight", resolution=resolution, n_iterations=-1
        )
    finally:
        random.setstate(state)
    membership = np.asarray(partition.membership)
    # Renumber by size (largest first, ties by lowest vertex) so numbers are stable and meaningful.
    sizes = np.bincount(membership)
    first = np.full(len(sizes), n)
    np.minimum.at(first, membership, np.arange(n))
    order = np.lexsort((first, -sizes))
    rank = np.empty(len(sizes), dtype=int)
    rank[order] = np.arange(len(sizes))
    return rank[membership], float(g.modularity(membership, weights="weight", resolution=resolution))


def community_summaries(g: ig.Graph, membership: np.ndarray, *, top: int = 5) -> pd.DataFrame:
    """One row per community of two or more cities.

    Returns
    -------
    pandas.DataFrame
        ``community``, ``size``, ``internal_edges``, ``internal_weight``, ``countries`` (distinct),
        ``main_country`` and its share, ``main_subregion`` and its share, ``cross_border_share``
        (of internal edges), ``top_cities`` (the ``top`` of highest strength, "name (CC)").
    """
    rows = []
    if g.vcount() == 0:
        return pd.DataFrame(rows)
    strength = np.asarray(g.strength(weights="weight" if g.ecount() else None), dtype=float)
    countries = np.asarray(g.vs["country_code"], dtype=object)
    subregions = np.asarray(g.vs["subregion"], dtype=object)
    names = np.asarray(g.vs["name"], dtype=object)
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    weights = np.asarray(g.es["weight"] if g.ecount() else [], dtype=float)
    same = membership[edges[:, 0]] == membership[edges[:, 1]] if len(edges) else np.zeros(0, bool)
    for community in np.unique(membership):
        members = np.flatnonzero(membership == community)
        if len(members) < 2:
            continue
        inside = same & (membership[edges[:, 0]] == community)
        e = edges[inside]
        cc = Counter(c for c in countries[members] if c)
        sr = Counter(s for s in subregions[members] if s)
        main_cc, n_cc = cc.most_common(1)[0] if cc else (None, 0)
        main_sr, n_sr = sr.most_common(1)[0] if sr else (None, 0)
        cross = countries[e[:, 0]] != countries[e[:, 1]] if len(e) else np.zeros(0, bool)
        best = members[np.argsort(-strength[members], kind="stable")[:top]]
        rows.append(
            {
                "community": int(community),
                "size": len(members),
                "internal_edges": int(inside.sum()),
                "internal_weight": float(weights[inside].sum()),
                "countries": len(cc),
                "main_country": main_cc,
                "main_country_share": n_cc / len(members),
                "main_subregion": main_sr,
                "main_subregion_share": n_sr / len(members),
                "cross_border_share": float(cross.mean()) if len(e) else float("nan"),
                "top_cities": "; ".join(f"{names[i]} ({countries[i] or '?'})" for i in best),
            }
        )
    return pd.DataFrame(rows)
