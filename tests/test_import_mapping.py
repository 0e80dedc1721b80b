"""Importing a list with its own header: ``--map field=column`` and ``--sheet`` for twinning and memberships."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from registry_helpers import dump_db, write_csv
from sqlalchemy import select
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.memberships import import_memberships
from citydiplomacy.ingest.tabular import ColumnMap, InputError
from citydiplomacy.ingest.twinning import COLUMNS, import_twinning
from citydiplomacy.store import db
from citydiplomacy.store.schema import Membership, Organisation, Place, Relation

runner = CliRunner()

GERMAN_HEADER = ["Stadt", "Land", "Partnerstadt", "Partnerland", "Jahr", "city1"]
GERMAN_ROWS = [
    ["Munich", "Germany", "Kyiv", "Ukraine", "1989", "ignored"],
    ["Berlin", "Germany", "Paris", "France", "1987", "ignored"],
]
GERMAN_MAP = ["city1=Stadt", "country1=Land", "city2=Partnerstadt", "country2=Partnerland", "signed_year=Jahr"]


def _pairs(url: str) -> set[tuple[str, str, int | None]]:
    with db.session_scope(db.get_engine(url)) as s:
        rows = s.execute(select(Relation.place_a_id, Relation.place_b_id, Relation.signed_year)).all()
        names = dict(s.execute(select(Place.id, Place.name)).all())
    return {(*sorted((names[a], names[b])), year) for a, b, year in rows}  # type: ignore[misc]


def test_twinning_list_with_its_own_header_imports_through_the_map(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "partnerschaften.csv", GERMAN_HEADER, GERMAN_ROWS)
    report = import_twinning(path, mapping=GERMAN_MAP)
    assert report.rows_rejected == 0
    assert report.mapping["city2"] == "Partnerstadt"
    # The file's own "city1" column is superseded by the mapped "Stadt": its "ignored" is read nowhere.
    assert _pairs(db_url) == {("Kyiv", "Munich", 1989), ("Berlin", "Paris", 1987)}
    again = import_twinning(path, mapping=GERMAN_MAP)
    assert again.records_created["relation"] == 0


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["town=Stadt"], "no field 'town'"),
        (["city1"], "write it as field=column"),
        (["city1=Stadt", "city1=Land"], "mapped twice"),
        (["city1=Stadt", "city2=stadt"], "mapped to two fields"),
    ],
)
def test_malformed_maps_are_refused_naming_the_pair(pairs: list[str], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        ColumnMap.parse(pairs, COLUMNS)


def test_map_to_an_absent_column_names_field_and_header_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", GERMAN_HEADER, GERMAN_ROWS)
    before = dump_db(db_url)
    with pytest.raises(InputError) as caught:
        import_twinning(path, mapping=[*GERMAN_MAP[:-1], "signed_year=Year"])
    message = str(caught.value)
    assert "no column 'Year' for field 'signed_year'" in message and "partnerstadt" in message
    assert caught.value.field == "signed_year" and caught.value.row == 1
    assert dump_db(db_url) == before


def test_cli_map_and_sheet_on_a_membership_workbook(db_url: str, tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["This sheet is not the list"])
    members = book.create_sheet("Members")
    members.append(["Municipality", "Country", "Network", "Year joined"])
    members.append(["Tehran", "Iran", "Metropolis", 1985])
    members.append(["Isfahan", "Iran", "Metropolis", 2005])
    path = tmp_path / "network.xlsx"
    book.save(path)
    args = ["import", "memberships", str(path), "--map", "city=Municipality", "--map", "organization=Network",
            "--map", "since=Year joined"]  # fmt: skip

    wrong_sheet = runner.invoke(app, args)  # the first sheet is the note, which has no such column
    assert wrong_sheet.exit_code == 2 and "no column 'Municipality'" in wrong_sheet.output
    by_name = runner.invoke(app, [*args, "--sheet", "Members", "--json"])
    assert by_name.exit_code == 0, by_name.output
    by_number = runner.invoke(app, [*args, "--sheet", "2"])
    assert by_number.exit_code == 0, by_number.output

    with db.session_scope(db.get_engine(db_url)) as s:
        rows = s.execute(
            select(Place.name, Membership.since_year)
            .join(Membership, Membership.place_id == Place.id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Organisation.name.ilike("%metropolis%"))
        ).all()
    assert sorted(rows) == [("Isfahan", 2005), ("Tehran", 1985)]


def test_memberships_api_takes_the_same_map(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["Ort", "Staat", "Netz"], [["Kazan", "Russia", "Metropolis"]])
    report = import_memberships(path, mapping=["city=Ort", "country=Staat", "organization=Netz"])
    assert report.records_created["membership"] == 1
    with pytest.raises(InputError, match="no field 'ort'"):
        import_memberships(path, mapping=["ort=city"])
