"""Sobol estimators against analytic test functions; the fast Monte Carlo engine against the pandas one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from citydiplomacy.assess.pipeline import Choices, IndexPipeline
from citydiplomacy.assess.sobol import ishigami, ishigami_indices, sobol_g, sobol_g_indices, sobol_indices
from citydiplomacy.assess.uncertainty import (
    UncertaintySpec,
    _Engine,
    design_rows,
    naive_ranks,
    run_uncertainty,
)
from citydiplomacy.cli.index import index_app

FIX = Path(__file__).parent / "fixtures" / "index"


def test_ishigami_analytic_values() -> None:
    # a=7, b=0.1: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437) (Saltelli et al. 2008, table 4.1)
    s1, st = ishigami_indices()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)


def test_estimators_recover_ishigami() -> None:
    s1, st = sobol_indices(ishigami, [[0], [1], [2]], n_base=2**15, seed=7)
    exact_s1, exact_st = ishigami_indices()
    assert s1 == pytest.approx(exact_s1, abs=0.03)
    assert st == pytest.approx(exact_st, abs=0.03)


def test_estimators_recover_sobol_g_and_groups() -> None:
    a = [0.0, 1.0, 4.5, 9.0]
    s1, st = sobol_indices(lambda x: sobol_g(x, a), [[0], [1], [2], [3]], n_base=2**14, seed=3)
    exact_s1, exact_st = sobol_g_indices(a)
    assert s1 == pytest.approx(exact_s1, abs=0.03)
    assert st == pytest.approx(exact_st, abs=0.03)
    # x2 and x3 as one group: ST_group = 1 - S_closed(x0, x1), with S_closed = (V0 + V1 + V0 V1) / V
    vi = 1.0 / (3 * (1 + np.asarray(a)) ** 2)
    v = np.prod(1 + vi) - 1
    closed = (vi[0] + vi[1] + vi[0] * vi[1]) / v
    g1, gt = sobol_indices(lambda x: sobol_g(x, a), [[0, 1], [2, 3]], n_base=2**16, seed=4)
    assert gt[1] == pytest.approx(1 - closed, abs=0.03)
    assert g1[0] == pytest.approx(closed, abs=0.03)


def random_pipeline(n: int = 25, seed: int = 1) -> IndexPipeline:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"unit": [f"u{i}" for i in range(n)]})
    for code in "abcd":
        data[code] = rng.lognormal(0, 1, n)
    data.loc[2, "c"] = np.nan
    framework = pd.read_csv(FIX / "framework.csv", dtype=str, keep_default_na=False).assign(denominator="")
    return IndexPipeline(data, framework, choices=Choices(impute="mean"))


def test_fast_engine_matches_pandas_pipeline_for_every_variant() -> None:
    pipe = random_pipeline()
    spec = UncertaintySpec(
        normalisations=("minmax", "zscore", "rank", "goalposts", "frontier"),
        aggregations=("arithmetic", "geometric", "harmonic"),
        imputations=("mean", "median"),
    )
    rows = design_rows(pipe, spec, 30, seed=5)
    fast = _Engine(pipe, spec).ranks(rows, workers=2)
    assert np.array_equal(fast, naive_ranks(pipe, spec, rows))


def test_run_uncertainty_outputs() -> None:
    pipe = random_pipeline()
    result = run_uncertainty(pipe, UncertaintySpec(), samples=600, seed=2, batch_size=16)
    assert result.factors == ["weights", "imputation", "normalisation", "aggregation"]
    assert result.n_base == 100 and result.n_runs == 600
    ranks = result.ranks
    assert (ranks["q05_rank"] <= ranks["median_rank"]).all() and (ranks["median_rank"] <= ranks["q95_rank"]).all()
    assert ranks["q05_rank"].min() >= 1 and ranks["q95_rank"].max() <= 25
    sobol = result.sobol.set_index(["factor", "output"])
    # the normalisation choice moves ranks; totals are at least the first-order effects (up to noise)
    assert sobol.loc[("normalisation", "unit_rank"), "ST"] > 0.05
    assert (result.sobol["ST"] >= result.sobol["S1"] - 0.1).all()
    # reproducible with the same seed
    again = run_uncertainty(pipe, UncertaintySpec(), samples=600, seed=2, batch_size=50, workers=1)
    pd.testing.assert_frame_equal(result.ranks, again.ranks)


def test_cli_uncertainty_writes_outputs(tmp_path: Path) -> None:
    pipe = random_pipeline(n=12)
    data = tmp_path / "data.csv"
    pipe._data.to_csv(data, index=False)
    framework = tmp_path / "framework.csv"
    pipe.framework.to_frame().to_csv(framework, index=False)
    out = tmp_path / "mc"
    run = CliRunner().invoke(
        index_app,
        ["uncertainty", str(data), "--framework", str(framework), "--samples", "120", "--seed", "1", "--out", str(out)],
    )
    assert run.exit_code == 0, run.output
    assert len(pd.read_csv(out / "ranks.csv")) == 12
    assert set(pd.read_csv(out / "sobol.csv")["factor"]) == {"weights", "imputation", "normalisation", "aggregation"}
    page = (out / "ranks.html").read_text()
    # plotly.js is inlined (the bundle is megabytes), never loaded from a CDN
    assert 'src="https://cdn.plot.ly' not in page and len(page) > 1_000_000
    assert (out / "ranks.svg").exists() or (out / "ranks.png").exists()
