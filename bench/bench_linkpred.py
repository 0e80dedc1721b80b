"""Benchmark: link prediction on the real twinning data — model vs the four classic baselines.

Imports ``../shared/data/twin_cities.csv`` into a temporary SQLite registry, hides 10 % of the ties
(seeded), trains the calibrated model on the rest and prints ROC AUC, average precision and
precision@10 / hits@10 of the model and of preferential attachment, Adamic–Adar, common neighbours and
resource allocation, with the margin over the best baseline, wall time and peak memory.

Run: ``python bench/bench_linkpred.py [--seed S] [--holdout H]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil

from citydiplomacy.settings import shared_data_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.1)
    args = parser.parse_args()
    path = shared_data_path("twin_cities.csv")
    if not path.exists():
        print(f"real data absent ({path}); nothing to benchmark")
        return 0
    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.store.db import get_engine, upgrade
    from citydiplomacy.strategy.data import load_registry_graph
    from citydiplomacy.strategy.features import FeatureGraph, baseline_scores
    from citydiplomacy.strategy.linkpred import evaluate_link_prediction, split_ties

    with tempfile.TemporaryDirectory() as tmp:
        engine = get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        t0 = time.perf_counter()
        import_twinning(path, engine=engine, on_error="skip")
        print(f"import: {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        graph = load_registry_graph(engine)
        print(
            f"graph from the registry: {graph.n:,} places, {len(graph.edges):,} ties "
            f"in {time.perf_counter() - t0:.2f} s"
        )
        engine.dispose()

    # Baseline cost: the four classic scores alone on the same split (the usual way to do it).
    t0 = time.perf_counter()
    split = split_ties(graph, args.holdout, args.seed)
    fg = FeatureGraph(graph, split.train, seed=args.seed)
    import numpy as np

    pairs = np.vstack([split.test_pos, split.test_neg])
    baseline_scores(fg, pairs[:, 0], pairs[:, 1])
    baseline_seconds = time.perf_counter() - t0

    process = psutil.Process()
    rss_before = process.memory_info().rss
    t0 = time.perf_counter()
    report = evaluate_link_prediction(graph, holdout=args.holdout, seed=args.seed)
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    rss_after = process.memory_info().rss

    print(f"\nheld out {report['counts']['test_positives']:,} ties (+ as many non-ties), seed {args.seed}")
    print(f"{'scorer':<26}{'ROC AUC':>9}{'AP':>9}{'P@10':>9}{'hits@10':>9}")
    rows = [("model", report["model"])] + list(report["baselines"].items())
    for name, m in rows:
        print(
            f"{name:<26}{m['roc_auc']:>9.4f}{m['average_precision']:>9.4f}{m['precision_at_10']:>9.4f}{m['hits_at_10']:>9.4f}"
        )
    best = report["best_baseline"]
    print(
        f"\nmargin over best baseline ({best}): {report['margin_auc']:+.4f} AUC "
        f"(ratio {report['model']['roc_auc'] / report['baselines'][best]['roc_auc']:.3f}x); "
        f"target AUC >= 0.92: {'met' if report['model']['roc_auc'] >= 0.92 else 'NOT met'}"
    )
    print(f"model Brier score: {report['model']['brier']:.4f}")
    print(
        f"wall time: model evaluation {seconds:.1f} s (training {report['fit_seconds']:.1f} s) vs baselines alone "
        f"{baseline_seconds:.2f} s (ratio {seconds / baseline_seconds:.0f}x)"
    )
    print(
        f"memory: peak RSS {peak_kib / 1024:.0f} MiB (whole process, import included), RSS after "
        f"{rss_after / 2**20:.0f} MiB (+{(rss_after - rss_before) / 2**20:.0f} MiB during the evaluation)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
