"""The index pipeline end to end on a hand-computed fixture, its error paths and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from citydiplomacy.assess.errors import IndexInputError
from citydiplomacy.assess.framework import Framework
from citydiplomacy.assess.pipeline import Choices, IndexPipeline, compare
from citydiplomacy.cli.index import index_app

FIX = Path(__file__).parent / "fixtures" / "index"
TOL = 1e-9


def fixture_pipeline(**choices: object) -> IndexPipeline:
    return IndexPipeline.from_csv(FIX / "data.csv", FIX / "framework.csv", FIX / "denominators.csv", Choices(**choices))


def test_hand_computed_index_with_denominators_and_mean_imputation() -> None:
    result = fixture_pipeline(impute="mean").run()
    # a / population = 10, 15, 20, 20 -> minmax (10..20): 0, 50, 100, 100
    assert result.normalised["a"].tolist() == pytest.approx([0, 50, 100, 100], abs=TOL)
    # b = 2, 4, 6, 9 -> (b - 2)/7*100
    assert result.normalised["b"].tolist() == pytest.approx([0, 200 / 7, 400 / 7, 100], abs=TOL)
    # c = 1, 3, gap, 7; the gap gets the mean 11/3 -> (11/3 - 1)/6*100 = 400/9
    assert result.imputed.loc["u3", "c"] == pytest.approx(11 / 3, abs=TOL)
    assert result.normalised["c"].tolist() == pytest.approx([0, 100 / 3, 400 / 9, 100], abs=TOL)
    # d is negative-direction: (50 - d)/30*100
    assert result.normalised["d"].tolist() == pytest.approx([0, 100 / 3, 200 / 3, 100], abs=TOL)
    p1 = [0, (50 + 200 / 7) / 2, (100 + 400 / 7) / 2, 100]
    p2 = [0, 100 / 3, (400 / 9 + 200 / 3) / 2, 100]
    assert result.scores["P1"].tolist() == pytest.approx(p1, abs=TOL)
    assert result.scores["P2"].tolist() == pytest.approx(p2, abs=TOL)
    # framework weights P1:P2 = 2:1, normalised within the parent to 2/3, 1/3
    idx = [2 / 3 * a + 1 / 3 * b for a, b in zip(p1, p2, strict=True)]
    assert result.scores["IDX"].tolist() == pytest.approx(idx, abs=TOL)
    assert result.ranks["IDX"].tolist() == [4, 3, 2, 1]
    weights = result.weights.set_index("code")
    assert weights.loc["a", "effective_weight"] == pytest.approx(1 / 3, abs=TOL)
    assert weights.loc["d", "effective_weight"] == pytest.approx(1 / 6, abs=TOL)
    assert result.weighted.loc["u2", "b"] == pytest.approx(200 / 7 / 3, abs=TOL)
    table = result.results_table()
    assert list(table.columns) == ["unit", "IDX", "P1", "P2", "rank_IDX", "rank_P1", "rank_P2"]


def test_no_imputation_uses_available_data_and_reports_coverage() -> None:
    result = fixture_pipeline(impute="none").run()
    # u3 lacks c: P2 is d alone (weights renormalised), c stays missing
    assert np.isnan(result.normalised.loc["u3", "c"])
    assert result.scores.loc["u3", "P2"] == pytest.approx(200 / 3, abs=TOL)
    coverage = result.coverage_units.set_index("unit")["coverage"]
    assert coverage["u3"] == pytest.approx(0.75) and coverage["u1"] == 1.0
    assert result.coverage_indicators.set_index("code").loc["c", "present"] == 3


def test_group_mean_imputation(tmp_path: Path) -> None:
    data = pd.read_csv(FIX / "data.csv")
    data["region"] = ["N", "S", "S", "N"]
    pipe = IndexPipeline(
        data,
        Framework.from_csv(FIX / "framework.csv"),
        pd.read_csv(FIX / "denominators.csv"),
        Choices(impute="group-mean:region"),
    )
    result = pipe.run()
    assert result.imputed.loc["u3", "c"] == pytest.approx(3.0, abs=TOL)  # the other S unit has 3
    assert result.imputation_log.set_index("code").loc["c", "imputed"] == 1


@pytest.mark.parametrize(
    ("changes", "expected_idx"),
    [
        # weights equal at every level: IDX = (P1 + P2)/2
        ({"weights": "equal"}, lambda p1, p2: [(a + b) / 2 for a, b in zip(p1, p2, strict=True)]),
        # literature ranks P1=1, P2=2 -> ROC weights 3/4, 1/4 (n=2: (1 + 1/2)/2, (1/2)/2)
        ({"weights": "rank-order"}, None),
    ],
)
def test_weight_variants(changes: dict, expected_idx) -> None:  # noqa: ANN001
    result = fixture_pipeline(impute="mean", **changes).run()
    if changes["weights"] == "equal":
        p1, p2 = result.scores["P1"].tolist(), result.scores["P2"].tolist()
        assert result.scores["IDX"].tolist() == pytest.approx(expected_idx(p1, p2), abs=TOL)
    else:
        weights = result.weights.set_index("code")["weight"]
        assert weights["P1"] == pytest.approx(0.75, abs=TOL) and weights["P2"] == pytest.approx(0.25, abs=TOL)
        # a has rank 2, b rank 1 under P1
        assert weights["b"] == pytest.approx(0.75, abs=TOL) and weights["a"] == pytest.approx(0.25, abs=TOL)


def test_geometric_uses_positive_scale_and_ahp_file(tmp_path: Path) -> None:
    geo = fixture_pipeline(impute="mean", aggregate="geometric").run()
    assert geo.normalised.min().min() == pytest.approx(1.0)  # minmax on [1, 100]
    b = geo.normalised.loc["u2"]
    assert geo.scores.loc["u2", "P1"] == pytest.approx(np.sqrt(b["a"] * b["b"]), abs=TOL)
    ahp = tmp_path / "ahp.csv"
    ahp.write_text("code,P1,P2\nP1,1,3\nP2,1/3,1\n")
    result = fixture_pipeline(impute="mean", weights=f"ahp:{ahp}").run()
    weights = result.weights.set_index("code")["weight"]
    assert weights["P1"] == pytest.approx(0.75, abs=TOL)  # eigenvector of [[1,3],[1/3,1]] is (3, 1)/4
    assert result.ahp["IDX"].cr == pytest.approx(0.0, abs=TOL)


def test_variant_and_compare() -> None:
    base = fixture_pipeline(impute="mean").run()
    same = base.variant()
    cmp = compare(base, same)
    assert cmp.mean_abs_shift == 0 and cmp.spearman == pytest.approx(1.0)
    rank = base.variant(normalise="rank")
    assert rank.choices.normalise == "rank" and base.choices.normalise == "minmax"
    assert compare(base, rank).table.shape == (4, 4)


def test_treatment_log_records_before_and_after() -> None:
    units = [f"u{i}" for i in range(20)]
    data = pd.DataFrame({"unit": units, "x": [*range(1, 20), 1000.0], "y": np.arange(20.0) ** 1.1})
    framework = pd.DataFrame({"code": ["I", "x", "y"], "parent": ["", "I", "I"]})
    result = IndexPipeline(data, framework, choices=Choices(treat="winsorise")).run()
    log = result.treatment_log.set_index("code")
    assert log.loc["x", "action"] == "winsorised" and log.loc["x", "winsorised_high"] == 1
    assert log.loc["x", "skew_before"] > 2 and abs(log.loc["x", "skew_after"]) < 2
    assert log.loc["y", "action"] == "none"


# ---------------------------------------------------------------------- error paths
FRAMEWORK = "code,name,parent,weight,direction,denominator\nI,Index,,,,\nP,Pillar,I,1,,\na,A,P,1,1,\nb,B,P,1,-1,\n"
DATA = "unit,a,b\nu1,1,5\nu2,2,6\nu3,3,8\n"

BAD_CASES = {
    "cycle": (FRAMEWORK + "X,X,Y,1,,\nY,Y,X,1,,\n", DATA, "framework.csv", "row 5", "cycle"),
    "orphan": (FRAMEWORK.replace("a,A,P", "a,A,ZZ"), DATA, "framework.csv", "row 3", "orphan"),
    "negative weight": (FRAMEWORK.replace("b,B,P,1", "b,B,P,-2"), DATA, "framework.csv", "row 4", "negative"),
    "all-zero weights": (
        FRAMEWORK.replace("P,1,1", "P,0,1").replace("P,1,-1", "P,0,-1"),
        DATA,
        "framework.csv",
        "row 3",
        "all weights",
    ),
    "unknown data column": (FRAMEWORK, "unit,a,b,zz\nu1,1,5,1\nu2,2,6,1\nu3,3,8,1\n", "data.csv", "header", "'zz'"),
    "indicator absent": (FRAMEWORK + "c,C,P,1,,\n", DATA, "data.csv", "header", "'c'"),
    "non-numeric cell": (FRAMEWORK, "unit,a,b\nu1,1,5\nu2,two,6\nu3,3,8\n", "data.csv", "row 2 (line 3)", "'a'"),
    "all-missing row": (FRAMEWORK, "unit,a,b\nu1,1,5\nu2,,NA\nu3,3,8\n", "data.csv", "row 2", "'u2'"),
    "zero variance": (FRAMEWORK, "unit,a,b\nu1,1,5\nu2,1,6\nu3,1,8\n", "data.csv", "all rows", "'a'"),
    "duplicate unit": (FRAMEWORK, "unit,a,b\nu1,1,5\nu1,2,6\nu3,3,8\n", "data.csv", "row 2", "'u1'"),
}


def write_case(tmp_path: Path, framework: str, data: str) -> tuple[Path, Path]:
    (tmp_path / "framework.csv").write_text(framework)
    (tmp_path / "data.csv").write_text(data)
    return tmp_path / "data.csv", tmp_path / "framework.csv"


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_inputs_name_file_row_code_and_cli_writes_nothing(tmp_path: Path, case: str) -> None:
    framework, data, file, row, fragment = BAD_CASES[case]
    data_path, framework_path = write_case(tmp_path, framework, data)
    with pytest.raises(IndexInputError) as info:
        IndexPipeline.from_csv(data_path, framework_path).run()
    message = str(info.value)
    assert file in message and row in message and fragment in message, message
    out, stages = tmp_path / "out" / "results.csv", tmp_path / "stages"
    run = CliRunner().invoke(
        index_app,
        ["build", str(data_path), "--framework", str(framework_path), "--out", str(out), "--stages", str(stages)],
    )
    assert run.exit_code == 1
    assert file in run.output or file in (run.stderr if hasattr(run, "stderr") else "")
    assert not out.exists() and not stages.exists() and not (tmp_path / "out").exists()


def test_inconsistent_ahp_is_rejected(tmp_path: Path) -> None:
    ahp = tmp_path / "ahp.csv"
    ahp.write_text("code,P1,P2,P3\nP1,1,2,1\nP2,1/2,1,2\nP3,1,1/2,1\n")  # 1 > 2 > 3 but 1 = 3
    framework = (FIX / "framework.csv").read_text() + "P3,Extra,IDX,1,,,3\ne,E,P3,1,1,,1\n"
    data = pd.read_csv(FIX / "data.csv")
    data["e"] = [1, 2, 3, 5]
    (tmp_path / "framework.csv").write_text(framework)
    data.to_csv(tmp_path / "data.csv", index=False)
    pipe = IndexPipeline.from_csv(
        tmp_path / "data.csv",
        tmp_path / "framework.csv",
        FIX / "denominators.csv",
        Choices(impute="mean", weights=f"ahp:{ahp}"),
    )
    with pytest.raises(IndexInputError, match=r"ahp\.csv.*'IDX'.*consistency ratio"):
        pipe.run()


def test_cli_build_writes_results_and_stages(tmp_path: Path) -> None:
    out, stages = tmp_path / "results.csv", tmp_path / "stages"
    run = CliRunner().invoke(
        index_app,
        [
            "build",
            str(FIX / "data.csv"),
            "--framework",
            str(FIX / "framework.csv"),
            "--denominators",
            str(FIX / "denominators.csv"),
            "--impute",
            "mean",
            "--out",
            str(out),
            "--stages",
            str(stages),
        ],
    )
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out)
    assert table["rank_IDX"].tolist() == [4, 3, 2, 1]
    assert table.loc[1, "IDX"] == pytest.approx(2 / 3 * (50 + 200 / 7) / 2 + 1 / 9 * 100, abs=TOL)
    assert {"01_raw.csv", "05_normalised.csv", "treatment_log.csv", "coverage_units.csv"} <= {
        p.name for p in stages.iterdir()
    }
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".citydip-")]
