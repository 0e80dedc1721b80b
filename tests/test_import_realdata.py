"""The first 2,000 rows of the real twinning data set (../shared/data/twin_cities.csv) into SQLite.

Skipped when the data set is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_helpers import dump_db

from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store.queries import stats

ROWS = 2000


@pytest.fixture
def first_rows(twin_cities_csv: Path, tmp_path: Path) -> Path:
    with twin_cities_csv.open(encoding="utf-8", newline="") as handle:
        lines = [line for _, line in zip(range(ROWS + 1), handle, strict=False)]
    path = tmp_path / f"twin_cities_first_{ROWS}.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


@pytest.mark.realdata
def test_first_rows_of_the_real_data_import_and_reimport(sqlite_url: str, first_rows: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    report = import_twinning(first_rows, on_error="skip", rejects_path=rejects)

    assert report.committed
    assert report.rows_read == ROWS
    assert report.rows_rejected < 0.02 * ROWS
    if report.rejects:
        assert rejects.read_text(encoding="utf-8").count("\n") == report.rows_rejected + 1
    kept = ROWS - report.rows_rejected
    relations = report.records_created["relation"]
    assert relations >= 0.95 * kept, (relations, kept, report.already_present)
    assert relations <= kept
    assert report.places_resolved > 0.8 * (
        report.places_resolved + report.places_subdivision + report.places_ambiguous + report.places_unresolved
    )
    counts = stats()
    assert counts["relations"] == relations
    # One audit entry per created record: relations, places and the place mentions that name them.
    assert counts["audit_entries"] == relations + counts["places"] + counts["place_mentions"]

    before = dump_db(sqlite_url)
    again = import_twinning(first_rows, on_error="skip", rejects_path=rejects)
    assert again.records_created["relation"] == 0 and again.records_created["place"] == 0
    assert stats() == counts
    assert dump_db(sqlite_url) == before
