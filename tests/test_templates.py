"""Empty CSV/XLSX templates: written, filled in by hand (here: by the test) and imported without change."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.memberships import import_memberships
from citydiplomacy.ingest.templates import TEMPLATES, write_template
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.model.vocab import MEMBERSHIP_ROLES, RELATION_KINDS, RELATION_STATUSES
from citydiplomacy.store import db
from citydiplomacy.store.schema import Membership, Relation

runner = CliRunner()

RELATION_ROWS = [
    {"city1": "Tehran", "country1": "IR", "city2": "Bishkek", "country2": "Kyrgyzstan", "kind": "sister_city",
     "status": "active", "signed_year": "1994", "dimensions": "culture", "source": "paper 003 §6.2"},
    {"city1": "Tehran", "country1": "Iran", "city2": "Paris", "country2": "France", "kind": "mou",
     "status": "active", "title": "Transport and investment", "source": "paper 003 Table 2"},
]  # fmt: skip
MEMBERSHIP_ROWS = [
    {"city": "Tehran", "country": "IR", "organization": "Metropolis", "role": "board", "since": "1990"},
    {"city": "Istanbul", "country": "Turkey", "organization": "UCLG", "role": "secretariat_host"},
]


def _fill_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writerows(rows)


def _fill_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in rows:
        # Numbers typed into a spreadsheet arrive as numbers, not text.
        sheet.append([int(row[c]) if c in row and row[c].isdigit() else row.get(c) for c in header])
    book.save(path)


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_have_the_importer_columns(tmp_path: Path, kind: str, fmt: str) -> None:
    out = write_template(kind, tmp_path / f"{kind}.{fmt}")
    if fmt == "csv":
        header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    else:
        header = [c.value for c in load_workbook(out).worksheets[0][1]]
    assert header == [c for c, _, _ in TEMPLATES[kind]]
    required = {"memberships": {"city", "country", "organization"}}.get(
        kind, {"city1", "country1", "city2", "country2"}
    )
    assert required <= set(header)


def test_xlsx_template_has_drop_down_lists(tmp_path: Path) -> None:
    relations = load_workbook(write_template("relations", tmp_path / "r.xlsx"))
    sheet = relations.worksheets[0]
    header = [c.value for c in sheet[1]]
    lists = {}
    for rule in sheet.data_validations.dataValidation:
        assert rule.type == "list"
        column = header[next(iter(rule.sqref.ranges)).min_col - 1]
        lists[column] = rule.formula1.strip('"').split(",")
    assert lists == {"kind": list(RELATION_KINDS), "status": list(RELATION_STATUSES)}
    assert sheet.freeze_panes == "A2"
    assert relations["columns"].max_row == len(header) + 1  # one explanation per column

    members = load_workbook(write_template("memberships", tmp_path / "m.xlsx")).worksheets[0]
    header = [c.value for c in members[1]]
    (rule,) = members.data_validations.dataValidation
    assert header[next(iter(rule.sqref.ranges)).min_col - 1] == "role"
    assert rule.formula1.strip('"').split(",") == list(MEMBERSHIP_ROLES)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_filled_relations_template_imports(db_url: str, tmp_path: Path, fmt: str) -> None:
    path = write_template("relations", tmp_path / f"relations.{fmt}")
    (_fill_csv if fmt == "csv" else _fill_xlsx)(path, RELATION_ROWS)

    report = import_twinning(path)

    assert report.rows_read == 2 and report.rows_rejected == 0
    assert report.records_created["relation"] == 2
    with db.session_scope() as session:
        rels = {r.kind: r for r in session.scalars(select(Relation))}
    assert rels["sister_city"].signed_year == 1994 and rels["sister_city"].dimensions == ["culture"]
    assert rels["mou"].title == "Transport and investment"
    assert rels["mou"].source_locator == "row 3"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_filled_memberships_template_imports(db_url: str, tmp_path: Path, fmt: str) -> None:
    path = write_template("memberships", tmp_path / f"members.{fmt}")
    (_fill_csv if fmt == "csv" else _fill_xlsx)(path, MEMBERSHIP_ROWS)

    report = import_memberships(path)

    assert report.records_created["membership"] == 2 and report.records_created["organisation"] == 2
    with db.session_scope() as session:
        got = {(m.role, m.since_year) for m in session.scalars(select(Membership))}
    assert got == {("board", 1990), ("secretariat_host", None)}


def test_empty_xlsx_template_is_header_only(db_url: str, tmp_path: Path) -> None:
    from citydiplomacy.ingest.tabular import InputError

    path = write_template("twinning", tmp_path / "t.xlsx")
    with pytest.raises(InputError, match="no data rows"):
        import_twinning(path)


def test_cli_template_command(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "members.xlsx"
    result = runner.invoke(app, ["template", "memberships", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["memberships", "columns"]
    bad = runner.invoke(app, ["template", "budgets", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "unknown template" in bad.stderr
    bad_fmt = runner.invoke(app, ["template", "relations", "--out", str(tmp_path / "x.ods")])
    assert bad_fmt.exit_code == 2 and "unknown format" in bad_fmt.stderr
