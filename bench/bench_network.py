"""Benchmark: every per-city metric of the full twinning graph, igraph (ours) against networkx.

Imports ``../shared/data/twin_cities.csv`` into a temporary SQLite registry with the twinning importer
(not timed), loads the bilateral graph from it, then times :func:`citydiplomacy.network.metrics.city_metrics`
(exact betweenness included) and Leiden communities.  The baseline is networkx computing the same
definitions on the same graph, in the same run.  networkx's exact betweenness, harmonic closeness and
constraint take tens of minutes on this graph, so by default they run on a seeded sample (of sources
for betweenness, of cities for the other two) and their full time is extrapolated linearly in the
sample size (each is a sum of independent per-source / per-city computations); ``--full-baseline``
runs them on every city.  Equality within 1e-9 is checked on everything networkx computed.

Run: ``python bench/bench_network.py [--workers 2] [--sample 300] [--full-baseline]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from citydiplomacy.settings import shared_data_path

TOL = 1e-9


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its (finished) worker processes, MB."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def compare(name: str, ours: np.ndarray, theirs: dict, nodes: list[int] | None = None) -> bool:
    nodes = list(range(len(ours))) if nodes is None else nodes
    a = ours[nodes]
    b = np.array([theirs[v] for v in nodes], dtype=float)
    ok = np.isclose(a, b, rtol=TOL, atol=TOL) | (np.isnan(a) & np.isnan(b))
    worst = np.nanmax(np.abs(a - b) / np.maximum(1.0, np.abs(b))) if len(a) else 0.0
    print(f"  {name:<18} {'equal' if ok.all() else 'DIFFERENT'} on {len(nodes):,} cities (max rel. diff {worst:.1e})")
    return bool(ok.all())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="processes for betweenness/closeness (ours)")
    parser.add_argument("--sample", type=int, default=300, help="networkx sample size for the slow metrics")
    parser.add_argument("--full-baseline", action="store_true", help="networkx on every city (tens of minutes)")
    args = parser.parse_args()

    csv = shared_data_path("twin_cities.csv")
    if not csv.exists():
        print(f"real data absent ({csv}): nothing to benchmark")
        return 0

    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.network.communities import leiden_communities
    from citydiplomacy.network.graphs import bilateral_graph, load_bilateral
    from citydiplomacy.network.metrics import city_metrics
    from citydiplomacy.store import db

    tmp = tempfile.TemporaryDirectory(prefix="bench-network-")
    engine = db.get_engine(f"sqlite:///{Path(tmp.name) / 'registry.db'}")
    db.upgrade(engine)
    started = time.perf_counter()
    report = import_twinning(csv, engine=engine, on_error="skip")
    print(
        f"import (not timed in the figures): {report.rows_read:,} rows, "
        f"{report.records_created['relation']:,} relations in {time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    with db.session_scope(engine) as session:
        nodes, edges = load_bilateral(session)
    g = bilateral_graph(nodes, edges)
    load_s = time.perf_counter() - started
    comps = g.connected_components()
    print(
        f"graph: {g.vcount():,} cities, {g.ecount():,} ties, {len(comps):,} components "
        f"(largest {max(comps.sizes()):,}); load + build {load_s:.2f} s"
    )
    print(f"machine: {os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.2f}")

    # --- ours ---------------------------------------------------------------------------------------
    wall, cpu = time.perf_counter(), time.process_time()
    metrics = city_metrics(g, workers=args.workers)
    ours_s = time.perf_counter() - wall
    cpu_main = time.process_time() - cpu
    children = os.times().children_user + os.times().children_system
    wall2 = time.perf_counter()
    membership, modularity = leiden_communities(g)
    leiden_s = time.perf_counter() - wall2
    self_mb, child_mb = peak_rss_mb()
    print(
        f"\nigraph (ours), workers={args.workers}: all per-city metrics in {ours_s:.2f} s wall "
        f"(CPU: main {cpu_main:.2f} s + workers {children:.2f} s); "
        f"Leiden {leiden_s:.2f} s ({len(set(membership)):,} communities, modularity {modularity:.3f})"
    )
    print(
        f"  peak memory: main {self_mb:.0f} MB, largest worker {child_mb:.0f} MB; "
        f"load average after {os.getloadavg()[0]:.2f}"
    )

    # --- networkx baseline ------------------------------------------------------------------------------
    G = nx.Graph()
    G.add_nodes_from(range(g.vcount()))
    G.add_weighted_edges_from((e.source, e.target, e["weight"]) for e in g.es)
    n = g.vcount()
    rng = np.random.default_rng(2024)
    sample = sorted(rng.choice(n, size=min(args.sample, n), replace=False).tolist())
    times: dict[str, float] = {}
    same = True

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - t
        return out

    print("\nnetworkx (baseline), same definitions:")
    same &= compare("degree", metrics["degree"].to_numpy(float), timed("degree", lambda: dict(G.degree())))
    same &= compare(
        "strength", metrics["strength"].to_numpy(), timed("strength", lambda: dict(G.degree(weight="weight")))
    )
    same &= compare(
        "pagerank",
        metrics["pagerank"].to_numpy(),
        timed("pagerank", lambda: nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-15, max_iter=100000)),
    )
    # Eigenvector centrality is defined by the leading component (elsewhere ~0); networkx refuses
    # disconnected graphs, so it is compared on the largest component.
    giant = comps.giant().vs["place_id"]
    giant_idx = np.flatnonzero(np.isin(np.asarray(g.vs["place_id"]), giant))
    ev = timed("eigenvector", lambda: nx.eigenvector_centrality_numpy(G.subgraph(giant_idx.tolist()), weight="weight"))
    top = max(abs(v) for v in ev.values())
    ours_ev = metrics["eigenvector"].to_numpy()
    same &= compare("eigenvector", ours_ev, {k: abs(v) / top for k, v in ev.items()}, giant_idx.tolist())
    outside = np.delete(ours_ev, giant_idx)
    print(f"  eigenvector outside the largest component: max {outside.max() if len(outside) else 0:.1e}")
    same &= compare("clustering", metrics["clustering"].to_numpy(), timed("clustering", lambda: nx.clustering(G)))
    same &= compare("coreness", metrics["coreness"].to_numpy(float), timed("coreness", lambda: nx.core_number(G)))
    if args.full_baseline:
        same &= compare(
            "betweenness",
            metrics["betweenness"].to_numpy(),
            timed("betweenness", lambda: nx.betweenness_centrality(G, normalized=False)),
        )
        same &= compare(
            "harmonic", metrics["harmonic"].to_numpy(), timed("harmonic", lambda: nx.harmonic_centrality(G))
        )
        same &= compare(
            "constraint",
            metrics["constraint"].to_numpy(),
            timed("constraint", lambda: nx.constraint(G, weight="weight")),
        )
    else:
        scale = n / len(sample)
        timed("betweenness", lambda: nx.betweenness_centrality(G, k=len(sample), normalized=False, seed=7))
        times["betweenness"] *= scale
        hc = timed("harmonic", lambda: nx.harmonic_centrality(G, nbunch=sample))
        times["harmonic"] *= scale
        same &= compare("harmonic", metrics["harmonic"].to_numpy(), hc, sample)
        cons = timed("constraint", lambda: nx.constraint(G, nodes=sample, weight="weight"))
        times["constraint"] *= scale
        same &= compare("constraint", metrics["constraint"].to_numpy(), cons, sample)
        t = time.perf_counter()
        exact = np.asarray(g.betweenness(directed=False))
        print(f"  betweenness vs igraph's plain all-sources betweenness ({time.perf_counter() - t:.1f} s): ", end="")
        ok = np.allclose(metrics["betweenness"].to_numpy(), exact, rtol=TOL, atol=TOL)
        print("equal" if ok else "DIFFERENT", "(networkx equality: tests/test_network.py, real subgraph)")
        same &= ok
        print(
            f"  (betweenness, harmonic, constraint: networkx on {len(sample)} sampled sources/cities, "
            f"time x{scale:.0f} extrapolated)"
        )
    nx_total = sum(times.values())
    print("  networkx seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
    print(
        f"\nRESULT: ours {ours_s:.2f} s vs networkx {nx_total:.0f} s"
        f"{'' if args.full_baseline else ' (partly extrapolated)'}: {nx_total / ours_s:.0f}x faster; "
        f"{'all compared metrics equal within 1e-9' if same else 'SOME METRICS DIFFER'}; "
        f"target <= 20 s: {'met' if ours_s <= 20 else 'NOT met'}"
    )
    tmp.cleanup()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
