"""Benchmark: who joins the Covenant of Mayors from 2015 on, predicted from the registry as of 2014.

Imports ``../shared/data/twin_cities.csv`` (ties, for the twinning features) and the Covenant of Mayors
signatory list ``gcom_signatories_2024.xlsx`` (memberships with their dates of adhesion) into a temporary
SQLite registry, then runs :func:`citydiplomacy.strategy.membership.evaluate_networks` with ``--before 2015``
(model fitted on joins in 2012-2014 from the state of 2012) and prints hits@10/50/100, MRR, ROC and PR AUC of
the model beside the baselines (population, country share, members within 50 km), all from the same run, and
the model's hits@100 and AUC relative to the best baseline's.  Then the time of ``recommend members GCoM``
with no stored model (fit and store) and with one (reuse), beside the time to load the registry graph.

Run: ``python bench/bench_networks.py [--before YEAR] [--window K] [--rows N]`` (``--rows``: only the first N
signatories, for a quick run).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from citydiplomacy.settings import shared_data_path


def run(before: int = 2015, window: int = 3, rows: int | None = None, verbose: bool = True) -> dict:
    """Import, evaluate and time the recommendation; the figures as a dict (also printed when ``verbose``)."""
    from citydiplomacy.ingest.covenant import import_covenant
    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.store.db import get_engine, upgrade
    from citydiplomacy.strategy.data import load_registry_graph
    from citydiplomacy.strategy.membership import evaluate_networks, load_membership_data, recommend_members

    say = print if verbose else (lambda *a, **k: None)
    twins, covenant = shared_data_path("twin_cities.csv"), shared_data_path("gcom_signatories_2024.xlsx")
    with tempfile.TemporaryDirectory() as tmp:
        engine = get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        t0 = time.perf_counter()
        import_twinning(twins, engine=engine, on_error="skip")
        src = covenant
        if rows is not None:
            import pandas as pd

            frame = pd.read_excel(covenant, sheet_name="1", dtype=str).head(rows)
            src = Path(tmp) / "covenant.csv"
            frame.to_csv(src, index=False)
        import_covenant(src, engine=engine, on_error="skip")
        say(f"imports: {time.perf_counter() - t0:.1f} s")
        data = load_membership_data("GCoM", engine)
        report = evaluate_networks(data, before, window=window)
        c = report["counts"]
        say(
            f"GCoM: {c['dated_members']:,} dated members; before {before}: {c['members_before']:,} members, "
            f"{c['candidates']:,} candidates, {c['joiners']:,} joined from {before} on; trained on "
            f"{c['training']['joins']:,} joins {c['training']['state_year']}–{c['training']['until_year']}"
        )
        keys = ("hits_at_10", "hits_at_50", "hits_at_100", "mrr", "roc_auc", "pr_auc", "precision_at_100")
        heads = ("hits@10", "hits@50", "hits@100", "MRR", "ROC AUC", "PR AUC", "P@100")
        say(f"{'method':24} " + " ".join(f"{h:>8}" for h in heads))
        for name, m in report["methods"].items():
            vals = [m[k] for k in keys]
            say(f"{name:24} " + " ".join(f"{v:8.4f}" for v in vals))
        best = report["best_baseline"]
        model, base = report["methods"]["model"], report["methods"][best]
        by_auc = max(
            ("population", "country_share", "members_within_reach"), key=lambda b: report["methods"][b]["roc_auc"]
        )
        say(
            f"model vs best baseline by hits@100 ({best}): {model['hits_at_100']:.4f} vs {base['hits_at_100']:.4f}; "
            f"by ROC AUC ({by_auc}): {model['roc_auc']:.4f} vs {report['methods'][by_auc]['roc_auc']:.4f}"
        )
        say(f"coefficients (on percentile ranks): {report['coefficients']}")
        t0 = time.perf_counter()
        load_registry_graph(engine)
        t_graph = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = recommend_members("GCoM", engine=engine)
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = recommend_members("GCoM", engine=engine)
        t_second = time.perf_counter() - t0
        say(
            f"recommend members GCoM: {t_first:.2f} s fitting and storing the model, {t_second:.2f} s with it "
            f"stored (reused: {second['model']['reused']}); loading the registry graph alone: {t_graph:.2f} s"
        )
        top = second["recommendations"][:3]
        say("top 3: " + "; ".join(f"{r['name']} ({r['country_code']}) {r['lift']}×" for r in top))
        return {"report": report, "recommend_first_s": t_first, "recommend_s": t_second, "graph_s": t_graph,
                "first": first, "second": second}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=int, default=2015)
    parser.add_argument("--window", type=int, default=3)
    parser.add_argument("--rows", type=int, default=None, help="only the first N signatories")
    args = parser.parse_args()
    if not shared_data_path("gcom_signatories_2024.xlsx").exists() or not shared_data_path("twin_cities.csv").exists():
        print("real data absent (twin_cities.csv, gcom_signatories_2024.xlsx); nothing to benchmark")
        return 0
    run(args.before, args.window, args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
