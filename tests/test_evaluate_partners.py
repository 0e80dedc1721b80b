"""``citydip evaluate partners``: metrics by hand, no leak of the truth into training, bad input, read-only."""

from __future__ import annotations

import csv
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.strategy.data import RegistryGraph
from citydiplomacy.strategy.evaluate import Truth, evaluate_partners, filtered_ranks, rank_metrics
from citydiplomacy.strategy.linkpred import LinkPredictor
from tests.registry_helpers import dump_db, write_csv
from tests.strategy_helpers import synthetic_graph

HEADER = ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2", "signed_year"]
#: A small registry of real places with dated ties (imported with the twinning importer).
REGISTRY_ROWS = [
    ["Tehran", "Iran", "35.6944", "51.4215", "Bishkek", "Kyrgyzstan", "42.87", "74.59", "2001"],
    ["Istanbul", "Turkey", "41.0138", "28.9497", "Havana", "Cuba", "23.133", "-82.383", "2005"],
    ["Cardiff", "Wales", "51.48", "-3.18", "Nantes", "France", "47.2181", "-1.5528", "2008"],
    ["Tehran", "Iran", "35.6944", "51.4215", "Istanbul", "Turkey", "41.0138", "28.9497", "2012"],
    ["Nantes", "France", "47.2181", "-1.5528", "Havana", "Cuba", "23.133", "-82.383", "2015"],
    ["Bishkek", "Kyrgyzstan", "42.87", "74.59", "Cardiff", "Wales", "51.48", "-3.18", ""],
]


def _snapshot(url: str) -> tuple[dict, int]:
    """Every row of the registry and its data version: what a read-only evaluation must not change."""
    from citydiplomacy.store import runs
    from citydiplomacy.store.db import get_engine, session_scope

    with session_scope(get_engine(url)) as session:
        version = runs.data_version(session)
    return dump_db(url), version


@pytest.fixture
def registry(sqlite_url: str, tmp_path: Path) -> str:
    from citydiplomacy.ingest.twinning import import_twinning

    import_twinning(write_csv(tmp_path / "registry.csv", HEADER, REGISTRY_ROWS))
    return sqlite_url


# -- metrics by hand ---------------------------------------------------------------------------------------
def test_filtered_ranks_and_mrr_of_a_known_ranking() -> None:
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    positive = np.array([False, True, False, True, False, True])
    ranks = filtered_ranks(score, positive, np.zeros(6))
    # Filtered: other positives do not count against a positive, so ranks are 1 + negatives above.
    assert ranks.tolist() == [2, 3, 4]
    m = rank_metrics(ranks, ks=(1, 3))
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 3 + 1 / 4) / 3)
    assert m["hits_at_1"] == 0.0
    assert m["hits_at_3"] == pytest.approx(2 / 3)
    assert rank_metrics(np.array([]))["mrr"] is None


def test_equal_scores_are_broken_by_the_jitter_not_by_position() -> None:
    score = np.zeros(4)
    positive = np.array([True, False, False, False])
    assert filtered_ranks(score, positive, np.array([0.1, 0.9, 0.5, 0.2])).tolist() == [4]
    assert filtered_ranks(score, positive, np.array([0.95, 0.9, 0.5, 0.2])).tolist() == [1]


def _line_graph() -> RegistryGraph:
    """Five places on the equator at longitudes 0, 1, 3, 7 and 15°; ties 0-1, 1-2, 2-4 and the truth 0-3."""
    return RegistryGraph(
        place_ids=np.arange(1, 6),
        names=np.array(list("abcde"), dtype=object),
        countries=np.array(["FR"] * 5, dtype=object),
        lat=np.zeros(5),
        lng=np.array([0.0, 1.0, 3.0, 7.0, 15.0]),
        population=np.full(5, 1e5),
        capital=np.zeros(5, dtype=bool),
        edges=np.array([[0, 1], [0, 3], [1, 2], [2, 4]]),
    )


def test_gravity_metrics_match_a_hand_computation() -> None:
    report = evaluate_partners(_line_graph(), Truth(pairs=np.array([[0, 3]]), source="hand"), max_cities=None)
    assert report["counts"]["training_ties"] == 3
    assert report["counts"]["truth_pairs_removed_from_training"] == 1
    gravity = report["methods"]["gravity"]
    # Equal populations: nearest first.  City 0 (partner 1 excluded): 2 (3°), 3 (7°), 4 (15°) -> 3 is 2nd.
    # City 3 (no training partner): 2 (4°), 1 (6°), 0 (7°), 4 (8°) -> 0 is 3rd.
    assert gravity["queries"] == 2
    assert gravity["mrr"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert gravity["hits_at_10"] == 1.0
    # Pooled pairs: each positive (778 km) beats the negatives at 890 and 1,668 km: 2 of 5.
    assert gravity["roc_auc"] == pytest.approx(0.4)
    assert gravity["pr_auc"] == pytest.approx(0.4)
    assert set(gravity["by_continent"]) == {"EU"}
    # The country-pair prior scores every candidate alike (one country): the jitter decides, ranks 1..3/1..4.
    assert 1 / 4 <= report["methods"]["country_pair"]["mrr"] <= 1.0


# -- no leak -----------------------------------------------------------------------------------------------
def test_a_truth_edge_in_the_registry_does_not_leak_into_training() -> None:
    graph = synthetic_graph(n=160, m=360, seed=3)
    rng = np.random.default_rng(0)
    hidden = graph.edges[rng.choice(len(graph.edges), 12, replace=False)]
    truth = Truth(pairs=np.sort(hidden, axis=1), source="synthetic")
    with_truth = evaluate_partners(graph, truth, max_cities=None)
    keep = ~(graph.edges[:, None, :] == hidden[None, :, :]).all(axis=2).any(axis=1)
    without = evaluate_partners(graph.subset_edges(graph.edges[keep]), truth, max_cities=None)
    assert with_truth["model_method"] == "model"  # the learned model, not the heuristic fallback
    assert with_truth["counts"]["truth_pairs_removed_from_training"] == 12
    assert without["counts"]["truth_pairs_removed_from_training"] == 0
    assert with_truth["counts"]["queries"] == 24  # each truth pair asked from both sides: none is a training tie
    # The registry holding the truth edges evaluates exactly as one that never had them.
    for method, metrics in with_truth["methods"].items():
        for key in ("hits_at_10", "hits_at_50", "mrr", "roc_auc", "pr_auc"):
            assert metrics[key] == pytest.approx(without["methods"][method][key]), (method, key)


def test_score_and_margin_equal_the_recommenders_score_and_raw_score() -> None:
    graph = synthetic_graph(n=120, m=260, seed=1)
    predictor = LinkPredictor(inner_rounds=2, seed=0).fit(graph, graph.edges)
    u, v = np.zeros(graph.n - 1, dtype=np.int64), np.arange(1, graph.n)
    x = predictor.features(u, v)
    score, margin = predictor.score_and_margin(x)
    assert np.allclose(score, predictor.score(u, v, features=x))
    assert np.allclose(margin, predictor.raw_score(u, v, features=x))


# -- the command on a registry -----------------------------------------------------------------------------
def test_truth_file_with_unknown_and_same_place_rows_is_counted_and_nothing_is_written(
    registry: str, tmp_path: Path
) -> None:
    truth = write_csv(
        tmp_path / "truth.csv",
        ["city1", "country1", "city2", "country2", "year"],
        [
            ["Tehran", "Iran", "Bishkek", "Kyrgyzstan", "2001"],  # in the registry: removed from training
            ["Bishkek", "Kyrgyzstan", "Tehran", "Iran", ""],  # the same pair again
            ["Havana", "Cuba", "Cardiff", "Wales", ""],
            ["Atlantis", "Greece", "Nantes", "France", ""],  # unknown place
            ["Tehran", "Iran", "Teheran", "Iran", ""],  # one place twice
            ["Nantes", "Narnia", "Havana", "Cuba", ""],  # unknown country
        ],
    )
    before = _snapshot(registry)
    result = CliRunner().invoke(app, ["evaluate", "partners", "--truth", str(truth), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    t = report["truth"]
    assert (t["rows"], t["pairs"], t["unknown_rows"], t["same_place"], t["repeated"]) == (6, 2, 2, 1, 1)
    assert any("Atlantis" in e and "row 5" in e for e in t["examples"])
    assert any("Narnia" in e and "row 7" in e for e in t["examples"])
    assert report["counts"]["truth_pairs_removed_from_training"] == 1
    assert report["counts"]["training_ties"] == report["counts"]["registry_ties"] - 1
    assert set(report["methods"]) == {"model", "preferential_attachment", "adamic_adar", "gravity", "country_pair"}
    for metrics in report["methods"].values():
        assert {"hits_at_10", "hits_at_50", "mrr", "roc_auc", "pr_auc", "by_continent"} <= set(metrics)
        assert metrics["queries"] == 4
    assert _snapshot(registry) == before

    table = CliRunner().invoke(app, ["evaluate", "partners", "--truth", str(truth), "--by-continent"])
    assert table.exit_code == 0, table.output
    assert "hits@10" in table.stdout and "Adamic" in table.stdout and "not in the registry" in table.stdout
    assert _snapshot(registry) == before


def test_before_splits_on_the_registrys_dated_ties(registry: str) -> None:
    before = _snapshot(registry)
    result = CliRunner().invoke(app, ["evaluate", "partners", "--before", "2012", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # Dated 2012 and 2015: the truth; 2001, 2005, 2008 and the undated tie: the training graph.
    assert report["truth"]["pairs"] == 2
    assert report["counts"]["training_ties"] == 4
    assert report["counts"]["truth_pairs_removed_from_training"] == 2
    assert _snapshot(registry) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--before", "1990"], "earliest dated tie (2001)"),
        (["--before", "2030"], "no tie is dated 2030 or later"),
        ([], "either --truth FILE or --before YEAR"),
    ],
)
def test_bad_requests_exit_non_zero_naming_the_problem(registry: str, args: list[str], message: str) -> None:
    before = _snapshot(registry)
    result = CliRunner().invoke(app, ["evaluate", "partners", *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert _snapshot(registry) == before


def test_a_truth_file_without_its_columns_or_known_places_is_refused(registry: str, tmp_path: Path) -> None:
    wrong = write_csv(tmp_path / "wrong.csv", ["a", "b"], [["Tehran", "Bishkek"]])
    result = CliRunner().invoke(app, ["evaluate", "partners", "--truth", str(wrong)])
    assert result.exit_code == 1
    assert "wrong.csv" in result.output and "city1" in result.output
    header = ["city1", "country1", "city2", "country2"]
    nobody = write_csv(tmp_path / "nobody.csv", header, [["Atlantis", "GR", "Mu", "FR"]])
    result = CliRunner().invoke(app, ["evaluate", "partners", "--truth", str(nobody)])
    assert result.exit_code == 1
    assert "no truth pair left" in " ".join(result.output.split())


# -- real data ---------------------------------------------------------------------------------------------
REAL_ROWS = 3000  # the first rows of twin_cities.csv: the import and the training stay in the suite's budget
REAL_CITIES = 40  # truth cities ranked over every place (seeded sample); 12 were too few: the pooled AUC moved
# from 0.88 to 0.66 when a gazetteer change altered which cities the seed drew (40: 0.81 and 0.79), ~7 s here


@pytest.mark.realdata
def test_real_twinning_data_with_a_random_tenth_hidden(twin_cities_csv: Path, sqlite_url: str, tmp_path: Path) -> None:
    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.store.db import get_engine
    from citydiplomacy.strategy.evaluate import evaluate_partners_file

    with twin_cities_csv.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for _, row in zip(range(REAL_ROWS), reader, strict=False)]
    registry_csv = write_csv(tmp_path / "registry.csv", header, rows)
    import_twinning(registry_csv, on_error="skip")
    random.Random(0).shuffle(rows)
    truth = write_csv(tmp_path / "truth.csv", header, rows[: len(rows) // 10])
    started = time.perf_counter()
    report = evaluate_partners_file(truth, engine=get_engine(sqlite_url), max_cities=REAL_CITIES, seed=0)
    seconds = time.perf_counter() - started
    assert seconds < 90, f"evaluation took {seconds:.0f} s"
    c = report["counts"]
    assert report["truth"]["unknown_rows"] == 0  # every truth row was imported, so every place is known
    assert c["truth_pairs_removed_from_training"] == report["truth"]["pairs"] >= 250
    assert c["evaluated_cities"] == REAL_CITIES
    model = report["methods"]["model"]
    # Better than chance (random ranking: AUC 0.5, MRR ~ ln(places) / places; the MRR of a few dozen queries is
    # noisy, and so is the pooled AUC of too few cities); which baseline wins, or by how much, is not pinned.
    assert model["roc_auc"] > 0.7
    assert model["mrr"] > 3 * math.log(c["places"]) / c["places"]
