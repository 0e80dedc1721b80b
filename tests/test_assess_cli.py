"""``citydip assess`` and the registry-wide City Diplomacy Index: weights, storage, CLI output."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from sqlalchemy import select
from test_indicators import _build_registry
from typer.testing import CliRunner

from citydiplomacy.assess.registry_index import (
    CDI_CODE,
    COVERAGE_CODE,
    RANK_CODE,
    AssessmentChoices,
    assess,
    capacity_status,
    dimension_code,
    equal_weights,
    rank_order_weights,
)
from citydiplomacy.cli import app
from citydiplomacy.core.errors import AmbiguousPlace, PlaceNotFound
from citydiplomacy.model.indicators import load_catalogue
from citydiplomacy.store import db
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.schema import AnalysisRun, CityResult, IndicatorValue, Place, PlaceName

runner = CliRunner()


def test_rank_order_weights_follow_the_literature_ranks() -> None:
    cat = load_catalogue()
    w = rank_order_weights(cat)
    dims = cat.frame()["dimension"]
    for dim in cat.dimensions:
        assert w[dims == dim].sum() == pytest.approx(1.0)
    # networks: tiers {1 (NET01), 4 (five others)}; ROC for K=2: 3/4 and 1/4; normalised over 3/4 + 5/4.
    assert w["NET01"] == pytest.approx(float(Fraction(3, 4) / Fraction(8, 4)))
    assert w["NET02"] == pytest.approx(float(Fraction(1, 4) / Fraction(8, 4)))
    # economy: tiers {2 (ECO01), 4 (ECO02-04 and the sources' ECO06-07), 5 (ECO05 foreign taxes)};
    # ROC for K=3: 11/18, 5/18, 2/18.
    total = Fraction(11, 18) + 5 * Fraction(5, 18) + Fraction(2, 18)
    assert w["ECO01"] == pytest.approx(float(Fraction(11, 18) / total))
    assert w["ECO05"] == pytest.approx(float(Fraction(2, 18) / total))
    assert w["ECO01"] > w["ECO02"] > w["ECO05"]
    # research: one tier only -> equal weights.
    assert w["RES01"] == pytest.approx(1 / 3)
    eq = equal_weights(cat)
    assert eq["NET01"] == pytest.approx(1 / 6) and eq["RES01"] == pytest.approx(1 / 3)


def test_find_place_by_name_alias_and_country(sqlite_url: str) -> None:
    ids = _build_registry(sqlite_url)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        s.add(PlaceName(place_id=ids["teh"], name="تهران", lang="fa"))
        s.add(Place(gazetteer="source", gazetteer_id="paris-tx", name="Paris", country_code="US"))
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        assert find_place(s, "tehran").id == ids["teh"]
        assert find_place(s, "تهران").id == ids["teh"]
        # Two places called Paris and no population to tell them apart: the lookup lists both; a country picks.
        with pytest.raises(AmbiguousPlace) as caught:
            find_place(s, "Paris")
        assert {c["country_code"] for c in caught.value.candidates} == {"FR", "US"}
        assert find_place(s, "Paris", "France").id == ids["par"]
        assert find_place(s, "Paris", "us").country_code == "US"
        with pytest.raises(PlaceNotFound):
            find_place(s, "Atlantis")
        with pytest.raises(PlaceNotFound):
            find_place(s, "Tehran", "FR")


def test_capacity_status_reads_cap_values(sqlite_url: str) -> None:
    ids = _build_registry(sqlite_url)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        s.add_all(
            [
                IndicatorValue(place_id=ids["teh"], indicator_code="CAP_OFFICE", year=2010, value=0.0),
                IndicatorValue(place_id=ids["teh"], indicator_code="CAP_OFFICE", year=2020, value=1.0),
                IndicatorValue(place_id=ids["teh"], indicator_code="CAP_LEGAL", year=2015, value=0.5),
            ]
        )
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        frame = capacity_status(s, ids["teh"]).set_index("code")
    assert frame.at["CAP_OFFICE", "status"] == "in place" and frame.at["CAP_OFFICE", "year"] == 2020
    assert frame.at["CAP_LEGAL", "status"] == "partly"
    assert frame.at["CAP_STRATEGY", "status"] == "unknown"
    result = runner.invoke(app, ["assess", "Tehran", "--capacity", "--json"])
    assert result.exit_code == 0, result.output
    items = {item["code"]: item for item in json.loads(result.stdout)["items"]}
    assert items["CAP_OFFICE"]["status"] == "in place" and items["CAP_BUDGET"]["value"] is None


def test_assess_stores_run_and_results(db_url: str) -> None:
    ids = _build_registry(db_url)
    engine = db.get_engine(db_url)
    with db.session_scope(engine) as s:
        result = assess(s, "Tehran", AssessmentChoices(weights="rank-order"))
    teh = ids["teh"]
    assert result.focus == teh
    scores = result.scores
    assert set(scores.index) == set(result.table.values.index)
    cat = load_catalogue()
    with db.session_scope(engine) as s:
        run = s.get(AnalysisRun, result.run_id)
        assert run is not None and run.kind == "assessment"
        assert run.parameters["weights"] == "rank-order"
        assert run.parameters["catalogue_version"] == cat.version
        assert run.parameters["weights_used"]["NET01"] == pytest.approx(rank_order_weights(cat)["NET01"], abs=1e-6)
        rows = {(r.place_id, r.code): r for r in s.scalars(select(CityResult).where(CityResult.run_id == run.id))}
    # Indicator values are stored as computed; missing ones are not stored at all.
    assert rows[(teh, "CUL02")].value == 4 and rows[(teh, "CUL02")].detail == {"coverage": "computed"}
    assert rows[(teh, "ECO03")].detail == {"coverage": "entered"}
    assert (teh, "ECO04") not in rows
    assert rows[(teh, CDI_CODE)].value == pytest.approx(scores.at[teh, CDI_CODE])
    assert rows[(teh, RANK_CODE)].value == scores.at[teh, "rank"]
    assert rows[(teh, dimension_code("networks"))].value == pytest.approx(scores.at[teh, "networks"])
    cov = rows[(teh, COVERAGE_CODE)]
    assert cov.value == pytest.approx(result.table.coverage_share()[teh])
    assert sum(cov.detail.values()) == len(load_catalogue())
    # Tehran holds every record of this registry's memberships and most activities: it ranks first.
    assert scores.at[teh, "rank"] == 1
    ranked = scores[CDI_CODE].dropna().sort_values(ascending=False)
    assert list(scores.loc[ranked.index, "rank"]) == sorted(scores.loc[ranked.index, "rank"])


def test_min_coverage_withholds_the_cdi(sqlite_url: str) -> None:
    ids = _build_registry(sqlite_url)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        result = assess(s, "all", AssessmentChoices(min_coverage=0.5))
    cov = result.table.coverage_share()
    assert math.isnan(result.scores.at[ids["man"], CDI_CODE])  # 1 of the catalogue's indicators
    assert result.scores.loc[cov >= 0.5, CDI_CODE].notna().all()


def test_cli_assess_city_json_and_table(sqlite_url: str) -> None:
    _build_registry(sqlite_url)
    res = runner.invoke(app, ["assess", "Tehran", "--country", "IR", "--json", "--weights", "equal"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["name"] == "Tehran" and data["rank"] == 1
    assert data["choices"]["weights"] == "equal"
    assert set(data["dimensions"]) == set(load_catalogue().dimensions)
    by_code = {row["code"]: row for row in data["indicators"]}
    assert by_code["NET01"]["value"] == 12 and by_code["ECO04"]["coverage"] == "missing"
    res = runner.invoke(app, ["assess", "Tehran"])
    assert res.exit_code == 0, res.output
    assert "City Diplomacy Index" in res.stdout and "NET01" in res.stdout and "Membership" in res.stdout
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        assert len(s.scalars(select(AnalysisRun).where(AnalysisRun.kind == "assessment")).all()) == 2


def test_cli_assess_all(sqlite_url: str) -> None:
    _build_registry(sqlite_url)
    res = runner.invoke(app, ["assess", "--all", "--top", "3"])
    assert res.exit_code == 0, res.output
    assert "Tehran" in res.stdout and "top 3 of" in res.stdout
    res = runner.invoke(app, ["assess", "--all", "--json"])
    payload = json.loads(res.stdout)
    assert len(payload["places"]) == 9
    assert {p["name"] for p in payload["places"] if p["rank"] == 1} == {"Tehran"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["assess"], "CITY or pass --all"),
        (["assess", "Tehran", "--all"], "not both"),
        (["assess", "Tehran", "--weights", "heavy"], "--weights"),
        (["assess", "Atlantis"], "no place called"),
        (["assess", "--all", "--capacity"], "needs a CITY"),
    ],
)
def test_cli_assess_errors(sqlite_url: str, args: list[str], message: str) -> None:
    _build_registry(sqlite_url)
    res = runner.invoke(app, args)
    assert res.exit_code != 0
    assert message in res.output
