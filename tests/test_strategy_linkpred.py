"""Link prediction: features and baselines against networkx, leak-free splits, seeds, bad input."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.strategy.data import RegistryGraph
from citydiplomacy.strategy.features import FEATURE_NAMES, FeatureGraph, baseline_scores
from citydiplomacy.strategy.linkpred import (
    LinkPredictionError,
    LinkPredictor,
    _keys,
    check_holdout,
    evaluate_link_prediction,
    split_ties,
)
from tests.strategy_helpers import synthetic_graph

COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _tiny() -> RegistryGraph:
    """0-1, 1-2, 1-3, 2-3 plus an isolated place 4."""
    n = 5
    return RegistryGraph(
        place_ids=np.arange(1, n + 1),
        names=np.array(list("abcde"), dtype=object),
        countries=np.array(["FR", "FR", "DE", "DE", "IR"], dtype=object),
        lat=np.array([48.85, 45.76, 52.52, 48.14, 35.7]),
        lng=np.array([2.35, 4.83, 13.40, 11.58, 51.4]),
        population=np.array([2.1e6, 5.1e5, np.nan, 1.5e6, 8.7e6]),
        capital=np.array([True, False, True, False, True]),
        edges=np.array([[0, 1], [1, 2], [1, 3], [2, 3]]),
    )


def test_baselines_equal_hand_computed_values() -> None:
    g = _tiny()
    fg = FeatureGraph(g, g.edges)
    u, v = np.array([0, 0, 2, 0]), np.array([2, 3, 3, 4])
    base = baseline_scores(fg, u, v)
    # (0,2): one common partner (1, degree 3); degrees 1 and 2.
    assert base["common_neighbours"][0] == 1
    assert base["adamic_adar"][0] == pytest.approx(1 / math.log(3))
    assert base["resource_allocation"][0] == pytest.approx(1 / 3)
    assert base["preferential_attachment"][0] == 2
    # (2,3) are tied to each other and share partner 1; (0,4): 4 has no tie.
    assert base["common_neighbours"][2] == 1
    assert base["preferential_attachment"][3] == 0
    x = fg.pair_features(u, v)
    assert x[0, COL["jaccard"]] == pytest.approx(1 / 2)  # N(0)={1}, N(2)={1,3}
    assert x[0, COL["shortest_path_capped"]] == 2
    assert x[3, COL["shortest_path_capped"]] == 5  # unreachable
    assert x[0, COL["same_country"]] == 0 and x[2, COL["same_country"]] == 1
    assert x[0, COL["neighbouring_countries"]] == 1  # France borders Germany
    assert x[0, COL["log_distance_km"]] == pytest.approx(math.log1p(877.5), rel=0.01)  # Paris-Berlin
    assert x[0, COL["capitals"]] == 2
    assert x[2, COL["log_population_min"]] == pytest.approx(math.log(1.5e6))  # unknown size is skipped
    # Symmetric: (v, u) gives the same row.
    np.testing.assert_allclose(fg.pair_features(v, u), x, equal_nan=True)


def test_baselines_equal_networkx_oracles() -> None:
    g = synthetic_graph(n=120, m=260, seed=5)
    fg = FeatureGraph(g, g.edges)
    nxg = nx.Graph()
    nxg.add_nodes_from(range(g.n))
    nxg.add_edges_from(g.edges.tolist())
    rng = np.random.default_rng(0)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, g.n, size=(300, 2)) if a != b]
    u, v = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    base = baseline_scores(fg, u, v)
    expected = {
        "adamic_adar": [s for *_, s in nx.adamic_adar_index(nxg, pairs)],
        "resource_allocation": [s for *_, s in nx.resource_allocation_index(nxg, pairs)],
        "preferential_attachment": [s for *_, s in nx.preferential_attachment(nxg, pairs)],
        "common_neighbours": [len(list(nx.common_neighbors(nxg, a, b))) for a, b in pairs],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(base[name], values, rtol=1e-9, err_msg=name)
    jaccard = [s for *_, s in nx.jaccard_coefficient(nxg, pairs)]
    np.testing.assert_allclose(fg.pair_features(u, v)[:, COL["jaccard"]], jaccard, rtol=1e-9)


def test_held_out_ties_never_reach_the_feature_graphs() -> None:
    g = synthetic_graph(seed=1)
    split = split_ties(g, 0.2, seed=11)
    n = g.n
    train_keys, test_keys = set(_keys(split.train, n).tolist()), set(_keys(split.test_pos, n).tolist())
    all_keys = set(_keys(g.edges, n).tolist())
    assert not train_keys & test_keys and train_keys | test_keys == all_keys
    assert not set(_keys(split.test_neg, n).tolist()) & all_keys  # negatives are true non-ties
    assert np.bincount(split.train.ravel(), minlength=n)[np.unique(g.edges)].min() >= 1  # nobody isolated

    predictor = LinkPredictor(inner_rounds=3, inner_share=0.2, seed=11)
    exclude = np.concatenate([_keys(split.test_pos, n), _keys(split.test_neg, n)])
    predictor.fit(g, split.train, exclude=exclude)
    fg = predictor.feature_graph
    assert fg is not None
    assert fg.adjacency[split.test_pos[:, 0], split.test_pos[:, 1]].sum() == 0
    assert fg.adjacency.nnz == 2 * len(split.train)
    x, y, rounds, round_of_row, _ = predictor.training_examples(g, split.train, exclude=exclude)
    assert len(rounds) == 3 + 1 and set(round_of_row.tolist()) == {0, 1, 2, 3}  # + the calibration round
    assert len(x) == len(y) == len(round_of_row)
    for inner, positives in rounds:
        inner_keys = set(_keys(inner, n).tolist())
        assert inner_keys <= train_keys  # the test ties are in no training feature graph
        assert not inner_keys & set(_keys(positives, n).tolist())  # nor is a training example's own tie


def test_evaluation_is_reproducible_by_seed_and_model_beats_baselines() -> None:
    g = synthetic_graph(seed=2)
    first = evaluate_link_prediction(g, holdout=0.15, seed=3, inner_rounds=3, max_cities=60, candidates_per_city=30)
    again = evaluate_link_prediction(g, holdout=0.15, seed=3, inner_rounds=3, max_cities=60, candidates_per_city=30)
    for part in ("counts", "model", "baselines", "margin_auc", "best_baseline"):
        assert first[part] == again[part]
    assert first["method"] == "model"
    assert split_ties(g, 0.15, 3).test_pos.tolist() != split_ties(g, 0.15, 4).test_pos.tolist()
    assert first["counts"]["test_positives"] == round(0.15 * len(g.edges))
    for metrics in [first["model"], *first["baselines"].values()]:
        assert 0.0 <= metrics["roc_auc"] <= 1.0 and 0.0 <= metrics["precision_at_10"] <= metrics["hits_at_10"] <= 1.0
    best = max(m["roc_auc"] for m in first["baselines"].values())
    assert first["margin_auc"] == pytest.approx(first["model"]["roc_auc"] - best)
    assert first["model"]["roc_auc"] > best  # country affinity and geography carry what degree cannot


@pytest.mark.parametrize("holdout", [0.0, -0.1, 0.500001, 0.9, 1.0, float("nan")])
def test_holdout_outside_range_is_refused(holdout: float) -> None:
    with pytest.raises(LinkPredictionError, match=r"\(0, 0.5\]"):
        split_ties(synthetic_graph(n=60, m=100), holdout, seed=0)


@given(st.floats(allow_nan=False).filter(lambda h: not 0 < h <= 0.5))
@settings(max_examples=40, deadline=None)
def test_check_holdout_refuses_every_share_outside_range(holdout: float) -> None:
    with pytest.raises(LinkPredictionError):
        check_holdout(holdout)


@given(st.floats(min_value=1e-6, max_value=0.5))
@settings(max_examples=40, deadline=None)
def test_check_holdout_accepts_every_share_inside_range(holdout: float) -> None:
    check_holdout(holdout)


def test_too_few_hideable_ties_is_a_clear_error() -> None:
    star = RegistryGraph(
        place_ids=np.arange(1, 13),
        names=np.array([f"c{i}" for i in range(12)], dtype=object),
        countries=np.array(["FR"] * 12, dtype=object),
        lat=np.zeros(12),
        lng=np.zeros(12),
        population=np.full(12, np.nan),
        capital=np.zeros(12, dtype=bool),
        edges=np.array([[0, i] for i in range(1, 12)]),
    )
    with pytest.raises(LinkPredictionError, match="without isolating"):
        split_ties(star, 0.1, seed=0)


def test_cli_refuses_bad_holdout_with_a_message(sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["evaluate", "link-prediction", "--holdout", "0.6"])
    assert result.exit_code == 1
    assert "(0, 0.5]" in result.output


@pytest.mark.realdata
def test_real_twinning_data_reaches_the_target_auc(twin_cities_csv, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.store.db import get_engine
    from citydiplomacy.strategy.data import load_registry_graph

    engine = get_engine(sqlite_url)
    import_twinning(twin_cities_csv, engine=engine, on_error="skip")
    report = evaluate_link_prediction(load_registry_graph(engine), holdout=0.1, seed=0, inner_rounds=3)
    assert report["model"]["roc_auc"] >= 0.92
    assert report["margin_auc"] > 0.0  # which baseline is the best one is not pinned


# -- the field's protocol: hard negatives, cheap ranking of every place, calibrated lift --------------------
def test_query_negatives_come_from_every_source_and_never_from_forbidden_pairs() -> None:
    from citydiplomacy.strategy.linkpred import SOURCES, query_negatives

    g = synthetic_graph(n=200, m=450, seed=4)
    fg = FeatureGraph(g, g.edges)
    cities = np.unique(g.edges)[:40]
    forbidden = np.unique(_keys(g.edges, g.n))
    for source in SOURCES:
        neg = query_negatives(fg, cities, forbidden, np.random.default_rng(0), {source: 5})
        assert len(neg) > 0, source
        assert set(neg[:, 0].tolist()) <= set(cities.tolist())
        assert not np.isin(_keys(neg, g.n), forbidden).any(), source  # never a tie
        assert (neg[:, 0] != neg[:, 1]).all()
        assert len(np.unique(_keys(neg, g.n))) == len(neg)  # distinct pairs
    # "two_hop" draws partners of partners: most share a partner with the city (some walks come back).
    two = query_negatives(fg, cities, forbidden, np.random.default_rng(0), {"two_hop": 5})
    assert np.mean(fg.common_neighbours(two[:, 0], two[:, 1]) > 0) > 0.9
    # "nearby" draws among the nearest places: closer than uniform draws on average.
    near = query_negatives(fg, cities, forbidden, np.random.default_rng(0), {"nearby": 5})
    far = query_negatives(fg, cities, forbidden, np.random.default_rng(0), {"uniform": 5})
    km = lambda p: fg.pair_features(p[:, 0], p[:, 1])[:, COL["log_distance_km"]].mean()  # noqa: E731
    assert km(near) < km(far)


def test_city_baselines_and_per_query_ranks_equal_the_pair_features() -> None:
    from citydiplomacy.strategy.features import city_baselines

    g = synthetic_graph(n=150, m=330, seed=6)
    fg = FeatureGraph(g, g.edges)
    everyone = np.arange(g.n)
    for c in (0, 7, 42):
        x = fg.pair_features(np.full(g.n, c), everyone)
        b = city_baselines(fg, c)
        np.testing.assert_allclose(b["adamic_adar"], x[:, COL["adamic_adar"]], atol=1e-12)
        np.testing.assert_allclose(b["preferential_attachment"], x[:, COL["log_preferential_attachment"]])
        np.testing.assert_allclose(b["gravity"], x[:, COL["log_gravity"]], atol=1e-9)
        np.testing.assert_allclose(b["country_pair"], x[:, COL["log_country_pair_ties"]])
        # Places ranked above v in c's Adamic–Adar list, counted by hand (c itself excluded).
        aa = b["adamic_adar"].copy()
        aa[c] = -1.0
        above_c = np.array([(aa > aa[v]).sum() for v in everyone])
        others = everyone != c
        back = np.array([(np.delete(fg.adamic_adar(np.full(g.n, v), everyone), v) > aa[v]).sum() for v in everyone])
        lo, hi = np.minimum(above_c, back), np.maximum(above_c, back)
        np.testing.assert_allclose(x[others, COL["log_rank_aa_min"]], np.log1p(lo[others]))
        np.testing.assert_allclose(x[others, COL["log_rank_aa_max"]], np.log1p(hi[others]))


def test_rank_city_ranks_every_eligible_place_with_the_model_on_top_of_its_pool() -> None:
    from citydiplomacy.strategy import linkpred

    g = synthetic_graph(n=220, m=500, seed=8)
    predictor = LinkPredictor(inner_rounds=2, seed=0).fit(g, g.edges)
    assert predictor.method == "model"
    c = 3
    eligible = np.ones(g.n, dtype=bool)
    eligible[c] = False
    eligible[predictor.feature_graph.adjacency[c].indices] = False
    old = linkpred.POOL
    try:
        linkpred.POOL = 50  # fewer than the eligible places: the rest follow the fused baselines
        order, pool, x = linkpred.rank_city(predictor, c, eligible)
    finally:
        linkpred.POOL = old
    assert len(pool) == 50 and eligible[pool].all()
    assert np.isneginf(order[~eligible]).all() and np.isfinite(order[eligible]).all()
    rest = np.setdiff1d(np.flatnonzero(eligible), pool)
    assert order[pool].min() > order[rest].max()  # the model's pool first
    margin = predictor.raw_score(np.full(len(pool), c), pool)
    assert np.array_equal(np.argsort(-order[pool], kind="stable"), np.argsort(-margin, kind="stable"))
    np.testing.assert_allclose(x, predictor.features(np.full(len(pool), c), pool))


def test_the_calibrated_score_is_a_lift_over_the_base_rate_never_a_saturated_one() -> None:
    g = synthetic_graph(n=260, m=600, seed=9)
    predictor = LinkPredictor(inner_rounds=2, seed=0).fit(g, g.edges)
    u = np.zeros(g.n - 1, dtype=np.int64)
    v = np.arange(1, g.n)
    score, margin = predictor.score_and_margin(predictor.features(u, v))
    lift = predictor.lift(u, v)
    assert 0.0 < predictor.pair_rate < 0.05 and 0.0 < predictor.base_rate < 0.5
    np.testing.assert_allclose(score, lift * predictor.base_rate)
    assert score.max() < 1.0  # a probability at the real base rate, not "1.0" for every top candidate
    order = np.argsort(margin)
    assert (np.diff(score[order]) >= -1e-12).all()  # increasing in the margin
    assert lift.max() > 1.0 > lift.min()  # some pairs likelier than a typical one, some less
