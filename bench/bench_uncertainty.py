"""Benchmark of the Monte Carlo uncertainty analysis of the composite index.

Synthetic data (no real data set has 20,000 units x 32 indicators): seeded lognormal indicators
(``exp(N(0, 1))`` scaled per indicator), 5 % of the cells missing at random, a three-level framework
(index -> 4 pillars -> 8 indicators each; a quarter of the indicators are negative-direction).

Fast engine: ``run_uncertainty`` with 10,000 index builds (Saltelli design, N (k+2) with k = 4 factors:
weights +-25 %, imputation mean|median, normalisation minmax|zscore|rank, aggregation arithmetic|geometric).
Baseline: the straightforward way, rebuilding the pandas pipeline for every sample (``naive_ranks``) on
``BASELINE_SAMPLES`` samples, extrapolated to the same number of builds.  Run: ``python bench/bench_uncertainty.py``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import psutil

from citydiplomacy.assess.pipeline import Choices, IndexPipeline
from citydiplomacy.assess.uncertainty import UncertaintySpec, design_rows, naive_ranks, run_uncertainty

N_UNITS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
N_SAMPLES = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
BASELINE_SAMPLES = 20
N_PILLARS, PER_PILLAR = 4, 8


def synthetic(seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded lognormal units x 32 indicators with 5 % gaps, and its framework."""
    rng = np.random.default_rng(seed)
    codes = [f"i{p}{j}" for p in range(N_PILLARS) for j in range(PER_PILLAR)]
    values = rng.lognormal(0.0, 1.0, (N_UNITS, len(codes))) * rng.uniform(1, 100, len(codes))
    values[rng.random(values.shape) < 0.05] = np.nan
    data = pd.DataFrame(values, columns=codes)
    data.insert(0, "unit", [f"c{i:05d}" for i in range(N_UNITS)])
    rows = [{"code": "IDX", "parent": "", "weight": 1, "direction": 1}]
    rows += [{"code": f"P{p}", "parent": "IDX", "weight": 1 + p % 2, "direction": 1} for p in range(N_PILLARS)]
    rows += [
        {"code": c, "parent": f"P{c[1]}", "weight": 1 + int(c[2]) % 3, "direction": -1 if c[2] in "07" else 1}
        for c in codes
    ]
    return data, pd.DataFrame(rows)


def main() -> None:
    process = psutil.Process()
    data, framework = synthetic()
    spec = UncertaintySpec()
    pipeline = IndexPipeline(data, framework, choices=Choices(impute="mean"))
    print(f"data: {N_UNITS} units x {data.shape[1] - 1} indicators, {int(data.isna().sum().sum())} gaps")
    rss_before = process.memory_info().rss

    start = time.perf_counter()
    result = run_uncertainty(pipeline, spec, samples=N_SAMPLES, seed=1)
    fast = time.perf_counter() - start
    peak = process.memory_info().rss
    print(
        f"fast engine: {result.n_runs} builds ({result.n_base} base x {len(result.factors) + 2}) "
        f"in {fast:.1f} s = {fast / result.n_runs * 1e3:.2f} ms/build"
    )
    try:
        import resource

        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"peak RSS of the process: {peak_rss:.0f} MB (RSS before MC {rss_before / 2**20:.0f} MB, "
            f"after {peak / 2**20:.0f} MB)"
        )
    except ImportError:
        print(f"RSS after MC {peak / 2**20:.0f} MB")
    print(result.sobol.to_string(index=False))

    rows = design_rows(pipeline, spec, BASELINE_SAMPLES, seed=2)
    start = time.perf_counter()
    naive_ranks(pipeline, spec, rows)
    naive = time.perf_counter() - start
    per_build = naive / BASELINE_SAMPLES
    extrapolated = per_build * result.n_runs
    print(
        f"baseline (pandas pipeline per sample): {BASELINE_SAMPLES} builds in {naive:.1f} s = "
        f"{per_build * 1e3:.0f} ms/build -> {extrapolated:.0f} s extrapolated to {result.n_runs} builds"
    )
    print(f"speed ratio: {extrapolated / fast:.1f}x")


if __name__ == "__main__":
    main()
