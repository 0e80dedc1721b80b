"""COINr's data layout and its missing denominator (ASEM extract, see tests/fixtures/index/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from citydiplomacy.assess.errors import IndexInputError
from citydiplomacy.assess.framework import Framework
from citydiplomacy.assess.pipeline import Choices, IndexPipeline
from citydiplomacy.cli.index import index_app

FIX = Path(__file__).parent / "fixtures" / "index"
DATA, META = FIX / "coinr_asem_iData.csv", FIX / "coinr_asem_iMeta.csv"
ENERGY = ["Elec", "Gas"]  # the indicators denominated by Energy, which LAO lacks


def build(**choices: object) -> IndexPipeline:
    return IndexPipeline.from_csv(DATA, META, choices=Choices(**choices))


def test_imeta_types_split_tree_and_data_columns() -> None:
    fw = Framework.from_csv(META)
    assert fw.root == "Index" and fw.children("Index") == ("Physical", "ConEcFin", "Political")
    assert len(fw.indicators) == 10 and fw.nodes["Elec"].denominator == "Energy"
    assert fw.column_types == {
        "GDP_group": "Group",
        "EurAsia_group": "Group",
        "Area": "Denominator",
        "Energy": "Denominator",
        "GDP": "Denominator",
        "Population": "Denominator",
    }


@pytest.mark.parametrize("method", ["none", "mean", "median", "group-mean:EurAsia_group"])
def test_missing_denominator_is_missing_then_imputed(method: str) -> None:
    result = build(impute=method).run()
    data = pd.read_csv(DATA).set_index("uCode")
    assert list(result.meta.columns) == ["name", "GDP_group", "EurAsia_group", "Time"]
    assert result.meta.loc["LAO", "name"] == "Lao PDR"
    # the raw values exist; only the denominated ones are missing
    assert result.raw.loc["LAO", ENERGY].notna().all()
    assert result.denominated.loc["LAO", ENERGY].isna().all()
    assert result.denominated.drop(index="LAO")[ENERGY].notna().all().all()
    expected = (data["Elec"] / data["Energy"]).drop(index="LAO")
    assert np.allclose(result.denominated["Elec"].drop(index="LAO"), expected.loc[result.raw.index.drop("LAO")])
    denominated = result.denominated.drop(index="LAO")
    if method == "none":
        assert result.imputed.loc["LAO", ENERGY].isna().all()
    elif method == "mean":
        assert np.allclose(result.imputed.loc["LAO", ENERGY], denominated[ENERGY].mean())
    elif method == "median":
        assert np.allclose(result.imputed.loc["LAO", ENERGY], denominated[ENERGY].median())
    else:
        asia = [u for u in denominated.index if data.loc[u, "EurAsia_group"] == "Asia"]
        assert np.allclose(result.imputed.loc["LAO", ENERGY], denominated.loc[asia, ENERGY].mean())
    log = result.imputation_log.set_index("code")
    assert (log.loc[ENERGY, "missing"] == 1).all()
    assert (log.loc[ENERGY, "imputed"] == (0 if method == "none" else 1)).all()
    # the build succeeds and ranks every unit
    assert result.scores["Index"].notna().all() and result.ranks["Index"].notna().all()


def test_coverage_counts_the_missing_denominator() -> None:
    result = build(impute="mean").run()
    units = result.coverage_units.set_index("unit")
    assert units.loc["LAO", "present"] == 8 and units.loc["LAO", "coverage"] == pytest.approx(0.8)
    assert (units.drop(index="LAO")["coverage"] == 1.0).all()
    indicators = result.coverage_indicators.set_index("code")
    assert (indicators.loc[ENERGY, "present"] == 9).all()
    assert (indicators.loc[ENERGY, "missing_denominator"] == 1).all()
    assert indicators.drop(index=ENERGY)["missing_denominator"].eq(0).all()


def test_cli_builds_coinr_files_without_meta_flags(tmp_path: Path) -> None:
    out, stages = tmp_path / "results.csv", tmp_path / "stages"
    run = CliRunner().invoke(
        index_app,
        [
            "build",
            str(DATA),
            "--framework",
            str(META),
            "--impute",
            "median",
            "--out",
            str(out),
            "--stages",
            str(stages),
        ],
    )
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out).set_index("unit")
    assert len(table) == 10 and table["Index"].notna().all() and table.loc["LAO", "rank_Index"] >= 1
    denominated = pd.read_csv(stages / "02_denominated.csv").set_index("unit")
    assert denominated.loc["LAO", ENERGY].isna().all()
    assert pd.read_csv(stages / "coverage_units.csv").set_index("unit").loc["LAO", "present"] == 8


def test_coinr6_prefixes_and_errors_that_remain() -> None:
    framework = pd.DataFrame(
        {
            "code": ["I", "a", "b"],
            "parent": ["", "I", "I"],
            "denominator": ["", "Den_Pop", ""],
        }
    )
    data = pd.DataFrame(
        {
            "uCode": ["u1", "u2", "u3", "u4"],
            "Group_Size": ["S", "S", "L", "L"],
            "x_Note": ["", "", "", "checked"],
            "Den_Pop": [10.0, np.nan, 40.0, 50.0],
            "a": [1.0, 2.0, 3.0, 4.0],
            "b": [4.0, 3.0, 1.0, 2.0],
        }
    )
    result = IndexPipeline(data, framework, choices=Choices(impute="group-mean:Group_Size")).run()
    assert set(result.meta.columns) == {"Group_Size", "x_Note"}
    assert np.isnan(result.denominated.loc["u2", "a"]) and result.imputed.loc["u2", "a"] == pytest.approx(0.1)
    with pytest.raises(IndexInputError, match="must be > 0"):
        IndexPipeline(data.assign(Den_Pop=[10.0, 0.0, 40.0, 50.0]), framework).run()
    with pytest.raises(IndexInputError, match="panel data"):
        IndexPipeline(data.assign(Time=[2018, 2019, 2018, 2019]), framework)
    with pytest.raises(IndexInputError, match="Type 'Weird'"):
        Framework.from_frame(pd.DataFrame({"iCode": ["I", "a"], "Parent": ["NA", "I"], "Type": ["Aggregate", "Weird"]}))
