"""Rank intervals of the registry's City Diplomacy Index (Monte Carlo over methodological choices)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from citydiplomacy.assess import uncertainty
from citydiplomacy.assess.registry_index import RANK_INTERVAL_CODES, AssessmentChoices, assess
from citydiplomacy.assess.uncertainty import UncertaintySpec
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.store import db
from citydiplomacy.store.schema import AnalysisRun, CityResult


def _intervals(url: str, seed: int) -> dict[tuple[int, str], float]:
    engine = db.get_engine(url)
    with db.session_scope(engine) as session:
        result = assess(session, None, AssessmentChoices(uncertainty_samples=300, uncertainty_seed=seed))
        rows = session.execute(
            select(CityResult.place_id, CityResult.code, CityResult.value).where(
                CityResult.run_id == result.run_id, CityResult.code.in_([*RANK_INTERVAL_CODES, "CDI_RANK"])
            )
        ).all()
    return {(pid, code): value for pid, code, value in rows}


def test_rank_intervals_are_stored_ordered_and_reproducible(sqlite_url: str) -> None:
    load_case_study(db.get_engine(sqlite_url))
    first = _intervals(sqlite_url, seed=7)
    places = {pid for pid, code in first if code == "CDI_RANK_P05"}
    assert len(places) >= 10  # every place with a CDI has an interval
    for pid in places:
        low, mid, high = (first[(pid, c)] for c in ("CDI_RANK_P05", "CDI_RANK_MEDIAN", "CDI_RANK_P95"))
        assert 1 <= low <= mid <= high <= len(places)
    # Some place's rank must actually move under the perturbations, or the analysis did nothing.
    assert any(first[(p, "CDI_RANK_P95")] > first[(p, "CDI_RANK_P05")] for p in places)
    second = _intervals(sqlite_url, seed=7)
    assert {k: v for k, v in first.items() if k[1] != "CDI_RANK"} == {
        k: v for k, v in second.items() if k[1] != "CDI_RANK"
    }


def test_no_intervals_without_samples(sqlite_url: str) -> None:
    load_case_study(db.get_engine(sqlite_url))
    with db.session_scope(db.get_engine(sqlite_url)) as session:
        result = assess(session, None, AssessmentChoices())
        codes = set(session.scalars(select(CityResult.code).where(CityResult.run_id == result.run_id)))
    assert "CDI" in codes and not codes & set(RANK_INTERVAL_CODES)


def _run_rows(url: str, choices: AssessmentChoices) -> tuple[dict[str, Any], pd.DataFrame]:
    with db.session_scope(db.get_engine(url)) as session:
        result = assess(session, None, choices)
        rows = session.execute(
            select(CityResult.place_id, CityResult.code, CityResult.value).where(CityResult.run_id == result.run_id)
        ).all()
        summary = session.get(AnalysisRun, result.run_id).summary
    table = pd.DataFrame(rows, columns=["place_id", "code", "value"]).pivot(
        index="place_id", columns="code", values="value"
    )
    return summary, table


def test_nominal_ranks_and_scores_lie_in_their_intervals_when_only_the_nominal_is_drawn(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_case_study(db.get_engine(sqlite_url))
    # every draw is the nominal build (a repeated option keeps one factor formally "uncertain")
    nominal_only = UncertaintySpec(
        weight_spread=0.0, normalisations=("minmax", "minmax"), aggregations=("arithmetic",), imputations=("none",)
    )
    monkeypatch.setattr(uncertainty, "UncertaintySpec", lambda: nominal_only)
    summary, table = _run_rows(sqlite_url, AssessmentChoices(uncertainty_samples=12))
    ranked = table[table["CDI"].notna()]
    assert ranked["CDI_RANK"].duplicated().any()  # the case study has ties
    for column in RANK_INTERVAL_CODES:
        assert (ranked[column] == ranked["CDI_RANK"]).all(), column
    dims = [c for c in table.columns if c.startswith("DIM_") and not c.endswith(("_P05", "_P95"))]
    built = [c for c in dims if ranked[c].notna().any()]  # a dimension without indicators has no scores
    assert built and all(f"{c}_P05" in table.columns for c in built)
    for code in ["CDI", *built]:
        has = ranked[code].notna()
        assert np.allclose(ranked.loc[has, f"{code}_P05"], ranked.loc[has, code])
        assert np.allclose(ranked.loc[has, f"{code}_P95"], ranked.loc[has, code])
        assert ranked.loc[~has, f"{code}_P05"].isna().all()  # no interval for a score that does not exist
    assert summary["uncertainty"]["nominal_rank_outside_interval"] == {
        "better_than_p05": 0,
        "worse_than_p95": 0,
        "nominal_row_mismatch": 0,
        "places_ranked": len(ranked),
    }


def test_ties_intervals_and_score_codes(sqlite_url: str) -> None:
    load_case_study(db.get_engine(sqlite_url))
    summary, table = _run_rows(sqlite_url, AssessmentChoices(uncertainty_samples=120, uncertainty_seed=3))
    ranked = table[table["CDI"].notna()]
    n = len(ranked)
    # ties share the lowest rank of their group, in the stored rank as in the Monte Carlo
    expected = ranked["CDI"].map(lambda v: 1 + int((ranked["CDI"] > v).sum()))
    assert (ranked["CDI_RANK"] == expected).all()
    inputs = [c for c in ranked.columns if "_P" not in c and "RANK" not in c]  # indicators, scores, coverage
    identical = 0
    for _, group in ranked.groupby(inputs, dropna=False):
        if len(group) > 1:  # identical places get identical intervals
            identical += 1
            assert (group.nunique(dropna=False) <= 1).all()
    assert identical
    assert ((ranked["CDI_RANK_P05"] >= 1) & (ranked["CDI_RANK_P05"] <= ranked["CDI_RANK_MEDIAN"])).all()
    assert ((ranked["CDI_RANK_MEDIAN"] <= ranked["CDI_RANK_P95"]) & (ranked["CDI_RANK_P95"] <= n)).all()
    dims = [c for c in table.columns if c.startswith("DIM_") and not c.endswith(("_P05", "_P95"))]
    built = [c for c in dims if ranked[c].notna().any()]
    assert built and {"CDI_P05", "CDI_P95"} <= set(table.columns)
    for code in ["CDI", *built]:
        has = ranked[code].notna()
        low, high = ranked.loc[has, f"{code}_P05"], ranked.loc[has, f"{code}_P95"]
        assert low.notna().all() and (low <= high + 1e-9).all(), code
    # the summary reports, for the stored numbers, how many nominal ranks fall outside their interval
    outside = summary["uncertainty"]["nominal_rank_outside_interval"]
    assert outside["better_than_p05"] == int((ranked["CDI_RANK"] < ranked["CDI_RANK_P05"]).sum())
    assert outside["worse_than_p95"] == int((ranked["CDI_RANK"] > ranked["CDI_RANK_P95"]).sum())
    assert outside["nominal_row_mismatch"] == 0 and outside["places_ranked"] == n
