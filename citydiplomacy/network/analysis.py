"""One network analysis run: build a graph from the registry, compute every per-city metric and the
communities, and store the numbers with the run's parameters so the assessment engine can use them.

The ``membership`` run is computed on the two-mode place–organisation graph
(:mod:`citydiplomacy.network.twomode`: bipartite degree, organisation sizes, distinct co-members,
Newman-weighted strength, eigenvector and PageRank, bipartite betweenness and closeness, reach),
never on the one-mode projection, whose cliques make it impossible at real scale; its communities are
Leiden's on the bipartite graph.

Storage: one :class:`~citydiplomacy.store.schema.AnalysisRun` (``kind="network"``, ``parameters`` =
graph, filter, weights, role values, Leiden resolution and seed) and one
:class:`~citydiplomacy.store.schema.CityResult` per place and metric (``code`` = the metric's name,
e.g. ``betweenness``; ``value`` NULL where the metric is undefined, e.g. constraint of an isolated city).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.network.communities import DEFAULT_SEED, community_summaries, leiden_communities
from citydiplomacy.network.graphs import NetworkFilter, load_graph, load_membership, membership_graph
from citydiplomacy.network.interlocking import interlocking_connectivity
from citydiplomacy.network.metrics import city_metrics
from citydiplomacy.network.twomode import twomode_metrics
from citydiplomacy.store import runs
from citydiplomacy.store.schema import CityResult
from citydiplomacy.store.ties import TieRule

IDENTITY_COLUMNS = ("place_id", "name", "country_code", "continent", "subregion")


@dataclass
class NetworkResult:
    """What a run produced: per-city metrics, community summaries, graph facts, the stored run id."""

    metrics: pd.DataFrame
    communities: pd.DataFrame
    parameters: dict[str, Any]
    summary: dict[str, Any]
    run_id: int | None = None
    notes: list[str] = field(default_factory=list)


def analyse(
    session: Session,
    graph: str = "bilateral",
    flt: NetworkFilter | None = None,
    *,
    resolution: float = 1.0,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    store: bool = True,
    actor: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> NetworkResult:
    """Compute (and by default store) every per-city metric of one graph of the registry.

    Parameters
    ----------
    session
        Open session on the registry (the caller commits).
    graph
        ``bilateral``, ``membership`` (two-mode metrics, see the module docstring) or ``combined``.
    flt
        Period, kinds, statuses, regions (default: everything).
    resolution, seed
        Leiden modularity resolution and random seed.
    workers
        Processes for betweenness and closeness searches.
    store
        Write an AnalysisRun and its CityResult rows.
    progress
        ``progress(stage, done, total)``, called as the stages advance (jobs and the CLI show it).

    Returns
    -------
    NetworkResult
        ``metrics``: one row per place (see :func:`citydiplomacy.network.metrics.city_metrics`) plus
        ``community`` and, for membership and combined graphs, ``connectivity``/``connectivity_rel``
        (interlocking network connectivity); for ``membership`` the columns of
        :func:`citydiplomacy.network.twomode.twomode_metrics` instead of the one-mode metrics.
    """
    flt = flt or NetworkFilter()
    tick = progress or (lambda _stage, _done, _total: None)
    version = runs.data_version(session)  # read first: writes during the analysis count as changes since
    tick("reading the graph", 0, 4)
    if graph == "membership":
        nodes, orgs, members = load_membership(session, flt)
        g = membership_graph(nodes, orgs, members)
        tick("per-city metrics", 1, 4)
        metrics = twomode_metrics(nodes, orgs, members, workers=workers)
        tick("communities", 2, 4)
        membership, modularity = leiden_communities(g, resolution=resolution, seed=seed)
        metrics["community"] = membership[: len(metrics)]
    else:
        g = load_graph(session, graph, flt)
        tick("per-city metrics", 1, 4)
        metrics = city_metrics(g, workers=workers)
        tick("communities", 2, 4)
        membership, modularity = leiden_communities(g, resolution=resolution, seed=seed)
        metrics["community"] = membership
    if graph in ("membership", "combined"):
        if graph == "combined":
            nodes, orgs, members = load_membership(session, flt)
        conn = interlocking_connectivity(nodes, orgs, members)[["place_id", "connectivity", "connectivity_rel"]]
        metrics = metrics.merge(conn, on="place_id", how="left")
        metrics[["connectivity", "connectivity_rel"]] = metrics[["connectivity", "connectivity_rel"]].fillna(0.0)
    notes = list(g["notes"].messages)
    parameters = {
        "graph": graph,
        "filter": flt.as_parameters(),
        "tie_rule": TieRule().as_parameters(),
        "role_values": settings.ROLE_VALUES,
        "leiden": {"objective": "modularity", "resolution": resolution, "seed": seed},
        "distances": "unweighted hops (betweenness, harmonic); weights for strength, eigenvector, PageRank, constraint",
        "pagerank_damping": 0.85,
    }
    components = g.connected_components() if g.vcount() else None
    labels = np.asarray(components.membership if components is not None else [], dtype=int)
    if graph == "membership":
        parameters["method"] = (
            "two-mode: metrics on the bipartite place-organisation graph; Newman (2001) weights 1/(n-1) for "
            "the projection's strength, eigenvector and PageRank, computed without forming pairs"
        )
        labels = labels[: len(metrics)]  # components and communities as seen by the places
    sizes = np.bincount(labels) if len(labels) else np.zeros(0, dtype=int)
    summary = {
        "cities": len(metrics),
        "ties": g.ecount(),
        "components": int((sizes > 0).sum()),
        "largest_component": int(sizes.max()) if len(sizes) else 0,
        "communities": int(len(np.unique(metrics["community"]))),
        "modularity": None if np.isnan(modularity) else modularity,
        "notes": notes,
    }
    result = NetworkResult(metrics, community_summaries(g, membership), parameters, summary, notes=notes)
    if store:
        tick("storing the results", 3, 4)
        result.run_id = store_run(session, metrics, parameters, summary, actor=actor, version=version)
    tick("done", 4, 4)
    return result


def store_run(
    session: Session,
    metrics: pd.DataFrame,
    parameters: dict[str, Any],
    summary: dict[str, Any] | None = None,
    *,
    actor: str | None = None,
    version: int | None = None,
) -> int:
    """Write one AnalysisRun(kind="network") and a CityResult per place and numeric metric.

    ``version`` is the registry's data version the metrics were computed from (default: the current one).

    Returns
    -------
    int
        The run's id.
    """
    run = runs.new_run(session, "network", parameters, summary=summary, actor=actor, version=version)
    numeric = [c for c in metrics.columns if c not in IDENTITY_COLUMNS and pd.api.types.is_numeric_dtype(metrics[c])]
    place_ids = metrics["place_id"].to_numpy()
    rows: list[dict[str, Any]] = []
    for code in numeric:
        values = metrics[code].to_numpy(float)
        rows += [
            {"run_id": run.id, "place_id": int(p), "code": code, "value": None if np.isnan(v) else float(v)}
            for p, v in zip(place_ids, values, strict=True)
        ]
    # A Core insert of the table: the ORM's bulk path adds a third to half of the time for the same rows.
    table = CityResult.__table__
    for start in range(0, len(rows), 20000):
        session.execute(insert(table), rows[start : start + 20000])
    return run.id
