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
    min_ranks,
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


# ---------------------------------------------------------------------- gaps, ties, the nominal point
def tied_pipeline(impute: str = "none") -> IndexPipeline:
    """Units with gaps and many identical rows (ties), like a sparse registry."""
    rng = np.random.default_rng(3)
    n = 30
    data = pd.DataFrame({"unit": [f"u{i}" for i in range(n)]})
    for code in "abcd":
        data[code] = rng.integers(1, 4, n).astype(float)  # few distinct values: exact ties
    data.loc[::4, "c"] = np.nan
    data.loc[1::5, ["a", "b"]] = np.nan
    data.loc[20:, list("abcd")] = data.loc[0, list("abcd")].to_numpy()  # ten copies of u0
    framework = pd.read_csv(FIX / "framework.csv", dtype=str, keep_default_na=False).assign(denominator="")
    return IndexPipeline(data, framework, choices=Choices(impute=impute))


def test_min_ranks_with_multiplicities_match_pandas() -> None:
    scores = np.array([[3.0, 1.0, 3.0, np.nan, 2.0], [1.0, 1.0, 1.0, 0.0, 5.0]])
    counts = np.array([2, 1, 1, 1, 3])
    for row in range(2):
        expanded = pd.Series(np.repeat(scores[row], counts))
        expected = expanded.rank(ascending=False, method="min").to_numpy()
        got = np.repeat(min_ranks(scores[row], counts)[0], counts)
        np.testing.assert_array_equal(got, expected)
        average = expanded.rank(ascending=False, method="average").to_numpy()
        np.testing.assert_array_equal(np.repeat(min_ranks(scores[row], counts, ties="average")[0], counts), average)


def test_fast_engine_matches_pandas_pipeline_with_gaps_and_ties() -> None:
    pipe = tied_pipeline()
    spec = UncertaintySpec(
        normalisations=("minmax", "zscore", "rank"),
        aggregations=("arithmetic", "geometric", "harmonic"),
        imputations=("none", "mean", "median"),
    )
    engine = _Engine(pipe, spec)
    assert engine.representatives.size < len(pipe.raw)  # identical units evaluated once
    rows = design_rows(pipe, spec, 25, seed=6)
    np.testing.assert_array_equal(engine.ranks(rows, workers=1), naive_ranks(pipe, spec, rows))


def test_nominal_is_a_point_of_the_space_and_ties_rank_alike() -> None:
    pipe = tied_pipeline()
    # the nominal imputation (available-data rule) is not among the options: it is added
    engine = _Engine(pipe, UncertaintySpec(imputations=("mean", "median")))
    assert engine.spec.imputations == ("none", "mean", "median")
    nominal = pipe.run().ranks["IDX"].to_numpy(dtype=float)
    np.testing.assert_array_equal(engine.ranks(engine.nominal_row(), workers=1)[0], nominal)
    np.testing.assert_array_equal(engine.nominal_ranks, nominal)
    # with (almost) nothing uncertain every interval collapses onto the nominal rank, ties of identical
    # units included; a tie of *different* units at the nominal weights (a coincidence of measure zero) is
    # split by any perturbation: its members spread over the ranks the tie group covers.
    fixed = UncertaintySpec(
        weight_spread=1e-9, normalisations=("minmax",), aggregations=("arithmetic",), imputations=("none",)
    )
    result = run_uncertainty(pipe, fixed, samples=40, seed=1)
    ranks = result.ranks.set_index("unit")
    rows = pipe.raw.fillna(-1.0).apply(tuple, axis=1)
    distinct_rows_per_rank = rows.groupby(nominal).nunique()
    coincidental = distinct_rows_per_rank.reindex(nominal).to_numpy() > 1
    assert coincidental.any() and not coincidental.all()
    for column in ("q05_rank", "median_rank", "q95_rank"):
        values = ranks[column].to_numpy()
        np.testing.assert_array_equal(values[~coincidental], nominal[~coincidental])
        group_size = pd.Series(nominal).map(pd.Series(nominal).value_counts()).to_numpy()
        split = values[coincidental]
        assert (split >= nominal[coincidental]).all()
        assert (split <= (nominal + group_size - 1)[coincidental]).all()
    assert result.outside["nominal_row_mismatch"] == 0 and result.outside["worse_than_q95"] == 0
    scores = pipe.run().scores
    for code in ("P1", "P2", "IDX"):  # score intervals of the units that keep their rank are the score
        keep = ~coincidental & scores[code].notna().to_numpy()
        np.testing.assert_allclose(result.scores[f"{code}_q05"][keep], scores[code][keep], rtol=1e-9)
        np.testing.assert_allclose(result.scores[f"{code}_q95"][keep], scores[code][keep], rtol=1e-9)
    # the ten copies of u0 always share one rank and one interval
    full = run_uncertainty(pipe, UncertaintySpec(), samples=120, seed=2)
    copies = full.ranks.set_index("unit").loc[["u0", *(f"u{i}" for i in range(20, 30))]]
    assert (copies.nunique() == 1).all()
    both = full.ranks.dropna()
    assert (both["q05_rank"] <= both["q95_rank"]).all()
    low, high = full.scores.filter(like="_q05").to_numpy(), full.scores.filter(like="_q95").to_numpy()
    assert np.array_equal(np.isnan(low), np.isnan(high)) and np.isnan(low).any()  # u1 has no P1 score
    assert (low[~np.isnan(low)] <= high[~np.isnan(high)] + 1e-12).all()
