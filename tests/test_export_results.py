"""``citydip export results``: one row per place of the latest assessment, with its coverage and rank."""

from __future__ import annotations

import csv
import io
import json

import pytest
from test_indicators import _build_registry
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.assess.registry_index import AssessmentChoices, assess
from citydiplomacy.cli import app
from citydiplomacy.store import db, runs
from citydiplomacy.store.schema import CityResult

runner = CliRunner()


def test_no_assessment_yet_says_what_to_run(sqlite_url: str) -> None:
    _build_registry(sqlite_url)
    result = runner.invoke(app, ["export", "results"])
    assert result.exit_code == 1
    assert "no assessment run" in result.output and "citydip assess" in result.output


@pytest.fixture
def assessed(sqlite_url: str) -> dict[int, dict[str, float | None]]:
    _build_registry(sqlite_url)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        assess(s, "Tehran", AssessmentChoices(weights="equal"))
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        run = runs.require_run(s, "assessment")
        stored: dict[int, dict[str, float | None]] = {}
        for place_id, code, value in s.execute(
            CityResult.__table__.select().with_only_columns(CityResult.place_id, CityResult.code, CityResult.value)
            .where(CityResult.run_id == run.id)
        ):  # fmt: skip
            stored.setdefault(place_id, {})[code] = value
    return stored


def test_csv_has_every_stored_number_per_place_ranked(assessed: dict[int, dict[str, float | None]]) -> None:
    result = runner.invoke(app, ["export", "results", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {int(r["place_id"]) for r in rows} == set(assessed)
    header = list(rows[0])
    assert header[:3] == ["place_id", "name", "name_fa"] and "coverage" in header and "CDI" in header
    codes = {code for found in assessed.values() for code in found} - {runs.COVERAGE_CODE}
    assert codes <= set(header)  # every indicator, dimension, index and rank the run stored
    assert header.index("CDI") < min(header.index(c) for c in codes if c.startswith(runs.DIMENSION_PREFIX))
    for row in rows:
        stored = assessed[int(row["place_id"])]
        assert float(row["coverage"]) == pytest.approx(stored[runs.COVERAGE_CODE])
        assert row["low_coverage"] == str(stored[runs.COVERAGE_CODE] < settings.INDEX_LOW_COVERAGE)
        if stored.get("CDI") is not None:
            assert float(row["CDI"]) == pytest.approx(stored["CDI"])
    ranks = [float(r["CDI_RANK"]) for r in rows if r["CDI_RANK"]]
    assert ranks == sorted(ranks)


def test_json_and_xlsx(assessed: dict[int, dict[str, float | None]], tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["export", "results", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == len(assessed) and all(isinstance(r["low_coverage"], bool) for r in rows)
    from openpyxl import load_workbook

    out = tmp_path / "results.xlsx"
    assert runner.invoke(app, ["export", "results", "--format", "xlsx", "-o", str(out)]).exit_code == 0
    sheet = load_workbook(out, read_only=True)["results"]
    assert sum(1 for _ in sheet.iter_rows()) == len(assessed) + 1
