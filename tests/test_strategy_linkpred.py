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
    _, _, rounds = predictor.training_examples(g, split.train, exclude=exclude)
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
    assert report["margin_auc"] > 0.0
    assert report["best_baseline"] == "preferential_attachment"
