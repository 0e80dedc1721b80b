"""The "Trust" issue: spreadsheet formulas neutralised, XLSX read whole and bounded, out-of-range input refused.

Web tests run on SQLite and PostgreSQL (``db_url``): every hostile request answers 404 or 422, never
500 or 503, and the registry is unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from registry_helpers import TWIN_HEADER, dump_db, write_csv
from sqlalchemy import select
from test_web_support import Seeded, login, seed
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app
from citydiplomacy.core.cells import FORMULA_TRIGGERS, neutralise, restore
from citydiplomacy.ingest.tabular import InputError, read_rows
from citydiplomacy.ingest.templates import write_template
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db
from citydiplomacy.store.schema import Place
from citydiplomacy.web.app import create_app

BIG = 2**63  # one past the largest 64-bit integer: what overflowed the database drivers
HUGE = 2**31  # one past the registry's id range
FORMULA = '=HYPERLINK("http://x","y")'
runner = CliRunner()


def _runs(cell: object) -> bool:
    """Would a spreadsheet program read this text cell as a formula? (A plain number computes nothing.)"""
    if not isinstance(cell, str) or not cell or cell[0] not in FORMULA_TRIGGERS:
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


# --------------------------------------------------------------------------- 1. formulas neutralised
@pytest.mark.parametrize(
    ("text", "written"),
    [
        (FORMULA, "'" + FORMULA),
        ("+1+2", "'+1+2"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # a quote of the user's own survives the round trip
        ("Tehran", "Tehran"),
        ("'t Hooft", "'t Hooft"),
        ("-82.383", "-82.383"),  # a number written as text computes nothing
        ("", ""),
    ],
)
def test_neutralise_and_restore_are_inverse(text: str, written: str) -> None:
    assert neutralise(text) == written
    assert restore(written) == text
    assert not _runs(written)


@pytest.mark.parametrize("number", [-82.383, -1, 0, 3.5, None, True])
def test_numbers_are_not_neutralised(number: object) -> None:
    assert neutralise(number) is number


def _evil_pairs(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "evil.csv", TWIN_HEADER, [
        [FORMULA, "France", "46.1", "2.5", "Havana", "Cuba", "23.133", "-82.383"],
        ["\t@SUM(1+1)", "France", "46.2", "2.6", "Tehran", "Iran", "", ""],  # defused with a tab
        ["'=1+2", "France", "46.3", "2.7", "Tehran", "Iran", "", ""],  # defused with a quote
    ])  # fmt: skip


def _cli(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.stdout


def test_formula_names_are_exported_defused_in_csv_and_xlsx(db_url: str, tmp_path: Path) -> None:
    import_twinning(_evil_pairs(tmp_path))
    with db.session_scope() as session:
        names = set(session.scalars(select(Place.name)))
    # Stored as the user meant it: the defusing tab and quote are not part of the names.
    assert {FORMULA, "@SUM(1+1)", "=1+2"} <= names

    places = list(csv.DictReader(io.StringIO(_cli(["export", "places", "--format", "csv"]))))
    by_source = {r["name_in_source"] for r in places}
    assert {"'" + FORMULA, "'@SUM(1+1)", "'=1+2"} <= by_source
    assert not any(_runs(v) for r in places for v in r.values())
    havana = next(r for r in places if r["name"] == "Havana")
    assert float(havana["lng"]) < 0 and not havana["lng"].startswith("'")  # a negative number stays a number
    relations = _cli(["export", "relations", "--format", "csv"])
    rel_cells = [c for row in csv.reader(io.StringIO(relations)) for c in row]
    assert "'" + FORMULA in rel_cells and not any(_runs(c) for c in rel_cells)

    out = tmp_path / "places.xlsx"
    _cli(["export", "places", "--format", "xlsx", "--out", str(out)])
    sheet = load_workbook(out).worksheets[0]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)  # no formula anywhere
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"'" + FORMULA, "'@SUM(1+1)", "'=1+2"} <= texts and not any(t.startswith("=") for t in texts)
    lngs = [c.value for c in cells if c.column == 7 and c.value not in (None, "")]
    assert any(isinstance(v, float) and v < 0 for v in lngs)  # Havana's longitude, a number
    for fmt in ("relations", "memberships"):
        target = tmp_path / f"{fmt}.xlsx"
        _cli(["export", fmt, "--format", "xlsx", "--out", str(target)])
        assert not any(c.data_type == "f" for row in load_workbook(target).worksheets[0].iter_rows() for c in row)
    assert runner.invoke(app, ["export", "places", "--format", "xlsx"]).exit_code == 2  # needs --out


def test_round_trip_restores_the_text_and_never_goes_live(db_url: str, tmp_path: Path) -> None:
    import_twinning(_evil_pairs(tmp_path))
    exported = tmp_path / "places.csv"
    _cli(["export", "places", "--format", "csv", "--out", str(exported)])
    book = tmp_path / "places.xlsx"
    _cli(["export", "places", "--format", "xlsx", "--out", str(book)])
    for path in (exported, book):
        _header, rows = read_rows(path, ["name_in_source"])
        read = {r["name_in_source"] for _n, r in rows}
        assert {FORMULA, "@SUM(1+1)", "=1+2"} <= read, path
    # Re-imported from the export (as a user would paste it into a list): the same places, no quote added.
    back = write_csv(
        tmp_path / "again.csv", TWIN_HEADER, [["'" + FORMULA, "France", "46.1", "2.5", "Havana", "Cuba", "", ""]]
    )
    before = dump_db(db_url)["place"]
    import_twinning(back)
    assert dump_db(db_url)["place"] == before
    again = _cli(["export", "places", "--format", "csv"])
    assert "'" + FORMULA.replace('"', '""') in again and "''" + FORMULA[:3] not in again


def test_rejects_file_is_defused(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mixed.csv", TWIN_HEADER, [
        ["Tehran", "Iran", "", "", "Bishkek", "Kyrgyzstan", "", ""],
        [FORMULA, "Iran", "-95", "", "@cmd", "Narnia", "", "-1.5"],
    ])  # fmt: skip
    rejects = tmp_path / "mixed.rejects.csv"
    report = import_twinning(path, on_error="skip", rejects_path=rejects)
    assert report.rows_rejected == 1
    rows = list(csv.reader(rejects.open(encoding="utf-8")))
    assert not any(_runs(cell) for row in rows for cell in row)
    assert "'" + FORMULA in rows[1] and "'@cmd" in rows[1] and "-1.5" in rows[1]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_hold_no_live_cell(tmp_path: Path, fmt: str) -> None:
    path = write_template("relations", tmp_path / f"t.{fmt}")
    if fmt == "csv":
        cells = [c for row in csv.reader(path.open(encoding="utf-8")) for c in row]
    else:
        cells = [c.value for s in load_workbook(path).worksheets for row in s.iter_rows() for c in row]
    assert cells and not any(isinstance(c, str) and _runs(c) for c in cells)


# ------------------------------------------------------------------------ 2. stale XLSX dimensions
def _workbook(path: Path, rows: int) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(TWIN_HEADER)
    for i in range(rows):
        sheet.append([f"Testville {i}", "France", 46 + i / 10, 2.5, "Tehran", "Iran", None, None])
    book.save(path)
    return path


def _rewrite_part(src: Path, dst: Path, part: str, change) -> Path:  # type: ignore[no-untyped-def]
    """Copy a workbook, changing the bytes of one of its parts."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == part else data)
    return dst


def _stale(tmp_path: Path, rows: int = 5) -> Path:
    def stale(xml: bytes) -> bytes:
        out, n = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:H2"/>', xml)
        assert n == 1
        return out

    good = _workbook(tmp_path / "good.xlsx", rows)
    return _rewrite_part(good, tmp_path / "stale.xlsx", "xl/worksheets/sheet1.xml", stale)


def test_stale_dimension_does_not_drop_rows(tmp_path: Path) -> None:
    path = _stale(tmp_path)
    assert load_workbook(path, read_only=True).worksheets[0].max_row == 2  # what the sheet declares
    _header, rows = read_rows(path, ["city1"])
    assert [(n, r["city1"]) for n, r in rows] == [(i + 2, f"Testville {i}") for i in range(5)]


def test_stale_dimension_workbook_imports_every_row(db_url: str, tmp_path: Path) -> None:
    report = import_twinning(_stale(tmp_path))
    assert report.committed and report.rows_read == 5 and report.records_created["relation"] == 5


# ------------------------------------------------------------------------------- 3. XLSX zip bombs
def test_declared_uncompressed_size_over_the_limit_is_refused_unopened(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small bomb: a 4 MB cell of one repeated letter compresses to a few kB.
    def bomb(xml: bytes) -> bytes:
        assert b"Testville 0" in xml
        return xml.replace(b"Testville 0", b"A" * 4_000_000)

    src = _workbook(tmp_path / "src.xlsx", 2)
    path = _rewrite_part(src, tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", bomb)
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(settings, "SPREADSHEET_MAX_UNCOMPRESSED_BYTES", 1_000_000)
    before = dump_db(db_url)
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        import_twinning(path)
    assert time.perf_counter() - started < 2
    message = str(caught.value)
    assert message.startswith(str(path)) and "1,000,000 bytes" in message
    assert "SPREADSHEET_MAX_UNCOMPRESSED_BYTES" in message
    assert dump_db(db_url) == before
    result = runner.invoke(app, ["import", "twinning", str(path)])
    assert result.exit_code != 0 and "SPREADSHEET_MAX_UNCOMPRESSED_BYTES" in result.output


def test_lying_declared_size_is_not_inflated_past_it(tmp_path: Path) -> None:
    """A part that declares less than it holds fails to read (zipfile stops at the declared size)."""
    path = _workbook(tmp_path / "src.xlsx", 2)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    lie = info.file_size // 2
    # Patch the part's uncompressed size in its central-directory record (offset 24; the name at 46).
    at = raw.index(b"PK\x01\x02")
    while raw[at + 46 : at + 46 + len(info.filename)] != info.filename.encode():
        at = raw.index(b"PK\x01\x02", at + 4)
    raw[at + 24 : at + 28] = lie.to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError):
        list(read_rows(path, ["city1"])[1])


@pytest.mark.parametrize(("setting", "limit", "words"), [
    ("SPREADSHEET_MAX_ROWS", 4, "more than 4 rows (SPREADSHEET_MAX_ROWS)"),
    ("SPREADSHEET_MAX_CELLS", 30, "more than 30 cells (SPREADSHEET_MAX_CELLS)"),
])  # fmt: skip
def test_rows_and_cells_are_counted_while_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, limit: int, words: str
) -> None:
    path = _stale(tmp_path, rows=10)  # the stale dimension must not hide rows from the count either
    monkeypatch.setattr(settings, setting, limit)
    with pytest.raises(InputError) as caught:
        list(read_rows(path, ["city1"])[1])
    assert str(caught.value).startswith(str(path)) and words in str(caught.value)
    monkeypatch.setattr(settings, setting, 10_000)
    assert len(list(read_rows(path, ["city1"])[1])) == 10


# --------------------------------------------------------------------------------- 4. out-of-range input
@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        yield c


def _login(client: TestClient, username: str) -> dict[str, str]:
    """Log in (the shared helper); returns the CSRF header for writes."""
    return {"X-CSRF-Token": login(client, username)}


def _refused(r, expected: tuple[int, ...] = (404, 422)) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code in expected, (r.request.method, str(r.request.url), r.status_code, r.text[:300])


@pytest.mark.parametrize("big", [BIG, HUGE, 10**30])
def test_out_of_range_ids_and_offsets_in_pages_and_queries(client: TestClient, seeded: Seeded, big: int) -> None:
    _login(client, "editor")
    for path in [
        f"/cities/{big}",
        f"/organisations/{big}",
        f"/records/relations/{big}/edit",
        f"/records/places/{big}/edit",
        f"/api/places/{big}",
        f"/api/organisations/{big}",
        f"/api/relations/{big}",
        f"/?q=a&offset={big}",
        f"/organisations?offset={big}",
        f"/rankings?offset={big}",
        f"/rankings?run_id={big}",
        f"/network?offset={big}",
        f"/network?run_id={big}",
        f"/audit?offset={big}",
        f"/audit?entity_id={big}",
        f"/review?offset={big}",
        f"/api/places?offset={big}",
        f"/api/relations?place_id={big}",
        f"/api/memberships?organisation_id={big}",
        f"/api/rankings?run_id={big}",
        f"/api/review?offset={big}",
    ]:
        _refused(client.get(path))


def test_out_of_range_page_ids_answer_in_the_pages_language(client: TestClient) -> None:
    _login(client, "viewer")
    r = client.get(f"/cities/{BIG}", params={"lang": "fa"})
    assert r.status_code == 404 and "پیدا نشد" in r.text


@pytest.mark.parametrize("big", [BIG, HUGE])
def test_out_of_range_ids_in_bodies(client: TestClient, seeded: Seeded, db_url: str, big: int) -> None:
    h = _login(client, "editor")
    before = dump_db(db_url)
    for kind, body in [
        ("relations", {"place_a_id": big, "place_b_id": seeded.tehran, "kind": "mou"}),
        ("relations", {"place_a_id": seeded.tehran, "place_b_id": big, "kind": "mou"}),
        ("memberships", {"place_id": big, "organisation_id": seeded.uclg}),
        ("memberships", {"place_id": seeded.beirut, "organisation_id": big}),
        ("activities", {"kind": "visit", "title": "x", "place_id": big}),
        ("activities", {"kind": "visit", "title": "x", "organisation_id": big}),
        ("organisations", {"name": "X", "kind": "global_network", "seat_place_id": big}),
    ]:
        _refused(client.post(f"/api/{kind}", json=body, headers=h), (422,))
    r = client.put(
        f"/api/relations/{seeded.relation}",
        json={"place_a_id": seeded.tehran, "place_b_id": seeded.kuala_lumpur, "kind": "mou", "version": big},
        headers=h,
    )
    _refused(r, (409, 422))
    _refused(client.post(f"/api/review/{seeded.mention}/resolve", json={"place_id": big, "version": 1}, headers=h))
    assert dump_db(db_url) == before


@pytest.mark.parametrize("bad", ["a\x00b", "a\x01b", "\x1b[31mred"])
def test_control_characters_in_searches(client: TestClient, seeded: Seeded, bad: str) -> None:
    _login(client, "viewer")
    for path, param in [
        ("/api/places", "q"),
        ("/api/organisations", "q"),
        ("/api/relations", "kind"),
        ("/api/audit", "actor"),
        ("/api/rankings", "code"),
        ("/", "q"),
        ("/organisations", "q"),
        ("/audit", "actor"),
    ]:
        r = client.get(path, params={param: bad})
        _refused(r, (422,))
        if path.startswith("/api"):
            assert any(param in map(str, e["loc"]) for e in r.json()["detail"]), r.json()


@pytest.mark.parametrize("bad", ["Evil\x00ton", "Evil\x07ton", "Evil\nton"])
def test_control_characters_in_bodies_name_the_field(client: TestClient, seeded: Seeded, db_url: str, bad: str) -> None:
    h = _login(client, "editor")
    before = dump_db(db_url)
    for kind, body, field in [
        ("places", {"name": bad, "country_code": "FR"}, "name"),
        ("places", {"name": "Lyon", "country_code": "FR", "source": bad}, "source"),
        ("organisations", {"name": "X", "kind": "global_network", "themes": ["ok", bad]}, "themes"),
        ("relations", {"place_a_id": seeded.beirut, "place_b_id": seeded.seoul, "kind": "mou", "title": bad}, "title"),
        ("activities", {"kind": "visit", "title": "x", "description": "a\x00b"}, "description"),
    ]:
        r = client.post(f"/api/{kind}", json=body, headers=h)
        _refused(r, (422,))
        assert any(field in map(str, e["loc"]) for e in r.json()["detail"]), r.json()
    assert dump_db(db_url) == before


def test_free_text_keeps_tabs_and_newlines(client: TestClient, seeded: Seeded) -> None:
    h = _login(client, "editor")
    r = client.post(
        "/api/activities",
        json={"kind": "visit", "title": "Visit", "description": "line one\r\nline\ttwo", "place_id": seeded.tehran},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "line one\r\nline\ttwo"


def test_out_of_range_numbers_in_review_forms(client: TestClient, seeded: Seeded, db_url: str) -> None:
    _login(client, "editor")
    page = client.get("/review")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    before = dump_db(db_url)
    url = f"/review/{seeded.mention}/resolve"
    _refused(client.post(url, data={"csrf_token": token, "choice": f"place:{BIG}", "version": "1"}))
    _refused(client.post(url, data={"csrf_token": token, "choice": "candidate:0", "version": str(BIG)}))
    _refused(client.post(f"/review/{BIG}/keep", data={"csrf_token": token, "version": "1"}))
    assert dump_db(db_url) == before


def test_a_nul_byte_in_a_login_name_is_refused_not_a_database_error(db_url: str) -> None:
    from fastapi.testclient import TestClient

    from citydiplomacy.web.app import create_app

    with TestClient(create_app(db_url)) as client:
        r = client.post("/api/auth/login", json={"username": "vie\x00wer", "password": "x"})
        assert r.status_code == 422 and "username" in r.text
