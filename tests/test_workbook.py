"""The office's workbook (issue 10): the record out as one XLSX and back into an empty registry with nothing lost;
a second import adds nothing; a workbook with a missing sheet, a renamed column, a date in the wrong calendar or
an unknown name is refused naming the sheet, row and column, and nothing is written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from citydiplomacy.cli import app as cli_app
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.ingest.workbook import SHEETS, WorkbookError, export_workbook, import_workbook
from citydiplomacy.store import agreements, db, inputs, people
from citydiplomacy.store.records import change_status, create_record
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    ActivityPerson,
    AgreementSignatory,
    FollowUpAction,
    Membership,
    MembershipDue,
    Organisation,
    Outcome,
    Person,
    Place,
    Relation,
    RelationStatus,
)

ACTOR = "office@test"
RECORD_TABLES = (Place, Organisation, Relation, RelationStatus, Membership, MembershipDue, Activity,
                 ActivityParticipant, Outcome, FollowUpAction, Person, AgreementSignatory, ActivityPerson)  # fmt: skip


def _office_year(url: str) -> None:
    """The case study plus a year of an office's work entered through the write services."""
    engine = db.get_engine(url)
    load_case_study(engine)
    with db.session_scope(engine) as s:
        s.info["actor"] = ACTOR
        tehran = s.scalar(select(Place).where(Place.name == "Tehran"))
        minsk = s.scalar(select(Place).where(Place.name == "Minsk"))
        habitat = s.scalar(select(Organisation).where(Organisation.acronym == "UN-Habitat"))
        assert tehran and minsk and habitat
        second = create_record(s, "agreements", inputs.AgreementIn.model_validate({
            "place_id": tehran.id, "partner_place_id": minsk.id, "kind": "mou", "title": "Urban transport MoU",
            "title_fa": "تفاهم‌نامهٔ حمل‌ونقل شهری", "signed_on": "2024-05-04", "valid_until": "2026-05-04",
            "responsible_unit": "International affairs directorate", "dimensions": ["economy", "development"],
            "status": "signed", "status_reason": "signed in Minsk", "source": "office register",
            "source_locator": "file 12/403",
        }, strict=False), ACTOR)  # fmt: skip
        s.flush()
        change_status(s, second.id, inputs.StatusChangeIn(
            version=second.version, status="active", reason="first joint project started",
            effective_on=date(2024, 9, 1)), ACTOR)  # fmt: skip
        with_org = create_record(s, "agreements", inputs.AgreementIn.model_validate({
            "place_id": tehran.id, "partner_organisation_id": habitat.id, "kind": "mou",
            "title": "Cooperation with UN-Habitat", "signed_year": 2023,
        }, strict=False), ACTOR)  # fmt: skip
        visit = create_record(s, "activities", inputs.ActivityIn.model_validate({
            "kind": "delegation", "title": "Transport delegation to Minsk", "title_fa": "هیئت حمل‌ونقل به مینسک",
            "happened_on": "2024-10-12", "ends_on": "2024-10-15", "direction": "outgoing",
            "purpose": "Metro cooperation", "place_id": minsk.id, "relation_id": second.id, "cost_amount": 12500.5,
            "cost_currency": "EUR", "funding_source": "=HYPERLINK(\"x\")", "dimensions": ["economy"],
        }, strict=False), ACTOR)  # fmt: skip
        s.add(ActivityParticipant(activity_id=visit.id, place_id=tehran.id, role="host"))
        director = create_record(s, "people", inputs.PersonIn(
            name="Ali Rezaei", name_fa="علی رضایی", title="Director of International Affairs", unit="International",
            place_id=tehran.id), ACTOR)  # fmt: skip
        people.add_signatory(s, inputs.SignatoryIn(relation_id=second.id, person_id=director.id, role="Mayor"), ACTOR)
        s.add(ActivityPerson(activity_id=visit.id, person_id=director.id, role="head of delegation"))
        agreements.add_outcome(s, inputs.OutcomeIn(relation_id=second.id, activity_id=visit.id,
                               code="knowledge_exchanged", quantity=3, unit="workshops",
                               evidence="minutes of 12 Oct", happened_on=date(2024, 10, 12)), ACTOR)  # fmt: skip
        agreements.add_action(s, inputs.ActionIn(relation_id=with_org.id, title="Send the work plan",
                              owner="International affairs directorate", due_on=date(2025, 1, 15)), ACTOR)  # fmt: skip
        membership = s.scalar(select(Membership).where(Membership.place_id == tehran.id).limit(1))
        assert membership is not None
        agreements.add_due(s, inputs.DueIn(membership_id=membership.id, year=2024, amount=4000, currency="USD"),
                           ACTOR)  # fmt: skip


def _sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(path, read_only=True)
    return {name: [tuple(r) for r in book[name].iter_rows(values_only=True)] for name in SHEETS}


def _counts(url: str) -> dict[str, int]:
    with db.session_scope(db.get_engine(url)) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0 for m in RECORD_TABLES}


def _empty_registry(tmp_path: Path, name: str) -> str:
    url = f"sqlite:///{tmp_path / name}"
    db.upgrade(db.get_engine(url))
    return url


def test_the_workbook_round_trips_into_an_empty_registry_without_loss(db_url: str, tmp_path: Path) -> None:
    _office_year(db_url)
    first = tmp_path / "office.xlsx"
    with db.session_scope(db.get_engine(db_url)) as s:
        written = export_workbook(s, first)
    assert written.rows["Agreements"] >= 32 and written.rows["Status history"] >= 3 and written.rows["Dues"] == 1
    target = _empty_registry(tmp_path, "empty.db")
    with db.session_scope(db.get_engine(target)) as s:
        s.info["actor"] = ACTOR
        summary = import_workbook(s, first, actor=ACTOR)
    assert summary.added["Agreements"] == written.rows["Agreements"] and not summary.kept
    again = tmp_path / "again.xlsx"
    with db.session_scope(db.get_engine(target)) as s:
        export_workbook(s, again)
    # Every cell of every sheet comes back: the second registry holds what the first held.
    assert _sheets(again) == _sheets(first)
    with db.session_scope(db.get_engine(target)) as s:
        mou = s.scalar(select(Relation).where(Relation.title == "Urban transport MoU"))
        assert mou is not None and mou.title_fa == "تفاهم‌نامهٔ حمل‌ونقل شهری" and mou.valid_until == date(2026, 5, 4)
        assert [(h.status, h.reason) for h in mou.history] == [
            ("signed", "signed in Minsk"), ("active", "first joint project started")]  # fmt: skip
        visit = s.scalar(select(Activity).where(Activity.kind == "delegation"))
        assert visit is not None and visit.cost_amount == 12500.5 and visit.relation_id == mou.id
        assert (visit.direction, visit.purpose, visit.ends_on) == ("outgoing", "Metro cooperation", date(2024, 10, 15))
        signed = s.scalars(select(AgreementSignatory).where(AgreementSignatory.relation_id == mou.id)).one()
        assert s.get(Person, signed.person_id).name_fa == "علی رضایی" and signed.role == "Mayor"
        assert s.scalars(select(ActivityPerson.role).where(ActivityPerson.activity_id == visit.id)).one() == (
            "head of delegation")  # fmt: skip
        assert visit.funding_source == '=HYPERLINK("x")'  # defused in the file, restored on import
        assert s.scalar(select(func.count()).select_from(Outcome).where(Outcome.activity_id == visit.id)) == 1
    # A second import of the same workbook adds nothing, on either registry.
    for url in (target, db_url):
        before = _counts(url)
        with db.session_scope(db.get_engine(url)) as s:
            s.info["actor"] = ACTOR
            summary = import_workbook(s, first, actor=ACTOR)
        assert not summary.added and _counts(url) == before


def test_dates_come_in_either_calendar_and_must_agree(sqlite_url: str, tmp_path: Path) -> None:
    _office_year(sqlite_url)
    path = tmp_path / "office.xlsx"
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        export_workbook(s, path)
    book = load_workbook(path)
    sheet = book["Agreements"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("title")].value == "Urban transport MoU")
    assert row[header.index("signed_on_sh")].value == "1403-02-15"  # 4 May 2024
    row[header.index("signed_on")].value = None
    row[header.index("signed_on_sh")].value = "۱۴۰۳/۰۲/۱۵"  # Persian digits and slashes
    book.save(path)
    target = _empty_registry(tmp_path, "t.db")
    with db.session_scope(db.get_engine(target)) as s:
        import_workbook(s, path, actor=ACTOR)
        mou = s.scalar(select(Relation).where(Relation.title == "Urban transport MoU"))
        assert mou is not None and mou.signed_on == date(2024, 5, 4)


def _break(path: Path, out: Path, edit: Any) -> Path:
    book = load_workbook(path)
    edit(book)
    book.save(out)
    return out


def _cell(book: Any, sheet: str, column: str, where: tuple[str, str], value: Any) -> None:
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    for r in ws.iter_rows(min_row=2):
        if r[header.index(where[0])].value == where[1]:
            r[header.index(column)].value = value
            return
    raise AssertionError(f"no row with {where}")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda b: b.remove(b["Dues"]), "sheet 'Dues'"),
        (lambda b: b["Agreements"].cell(row=1, column=2, value="city"), "sheet 'Agreements':1: place: missing"),
        (lambda b: _cell(b, "Agreements", "signed_on", ("title", "Urban transport MoU"), "1403-02-15"),
         r"sheet 'Agreements':\d+: signed_on: '1403-02-15' looks like a Solar Hijri date"),
        (lambda b: _cell(b, "Agreements", "signed_on_sh", ("title", "Urban transport MoU"), "1403-02-16"),
         r"signed_on_sh: 1403-02-16 \(Solar Hijri\) is 2024-05-05, but signed_on says 2024-05-04"),
        (lambda b: _cell(b, "Activities", "place", ("kind", "delegation"), "Atlantis, XX"),
         r"sheet 'Activities':\d+: place: no place 'Atlantis, XX'"),
        (lambda b: _cell(b, "Follow-up actions", "owner", ("title", "Send the work plan"), None),
         r"sheet 'Follow-up actions':\d+: owner"),
        (lambda b: _cell(b, "Agreements", "partner_place", ("title", "Cooperation with UN-Habitat"), "Tehran, IR"),
         r"sheet 'Agreements':\d+: .*exactly one of partner_place_id and partner_organisation_id"),
        (lambda b: _cell(b, "Dues", "currency", ("year", 2024), "usd"), r"sheet 'Dues':2: currency: .*USD"),
    ],
    ids=["missing-sheet", "renamed-column", "wrong-calendar", "calendars-disagree", "unknown-place", "no-owner",
         "two-partners", "currency"],
)  # fmt: skip
def test_a_bad_workbook_names_sheet_row_and_column_and_writes_nothing(
    sqlite_url: str, tmp_path: Path, edit: Any, expected: str
) -> None:
    _office_year(sqlite_url)
    path = tmp_path / "office.xlsx"
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        export_workbook(s, path)
    bad = _break(path, tmp_path / "bad.xlsx", edit)
    target = _empty_registry(tmp_path, "t.db")
    before = _counts(target)
    with pytest.raises(WorkbookError, match=expected), db.session_scope(db.get_engine(target)) as s:
        import_workbook(s, bad, actor=ACTOR)
    assert _counts(target) == before


def test_the_cli_exports_one_citys_record_and_imports_it(sqlite_url: str, tmp_path: Path) -> None:
    _office_year(sqlite_url)
    out = tmp_path / "tehran.xlsx"
    runner = CliRunner()
    result = runner.invoke(cli_app, ["workbook", "export", str(out), "--city", "Tehran", "--country", "IR", "--json"])
    assert result.exit_code == 0, result.output
    sheets = _sheets(out)
    assert all("Tehran, IR" in (row[1], row[2]) for row in sheets["Agreements"][1:])
    assert any(row[0] == "About" or row for row in sheets["Places"])
    result = runner.invoke(cli_app, ["workbook", "import", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert '"added": {}' in result.output
    bad = _break(out, tmp_path / "bad.xlsx", lambda b: b.remove(b["Outcomes"]))
    result = runner.invoke(cli_app, ["workbook", "import", str(bad)])
    assert result.exit_code == 2 and "sheet 'Outcomes'" in result.output


def test_the_api_downloads_the_workbook_and_imports_it_back(sqlite_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from test_web_support import PASSWORD, login

    from citydiplomacy.web.api.workbook import XLSX
    from citydiplomacy.web.app import create_app
    from citydiplomacy.web.auth import create_user

    _office_year(sqlite_url)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        create_user(s, "editor", PASSWORD, "editor")
        create_user(s, "viewer", PASSWORD, "viewer")
        tehran_id = s.scalar(select(Place.id).where(Place.name == "Tehran"))
    with TestClient(create_app(sqlite_url, secret_key="test-secret")) as client:
        assert client.get("/api/office/workbook").status_code == 401  # signed-in users only
        login(client, "viewer")
        r = client.get("/api/office/workbook", params={"place_id": tehran_id})
        assert r.status_code == 200 and r.headers["content-type"] == XLSX
        assert "attachment" in r.headers["content-disposition"]
        path = tmp_path / "down.xlsx"
        path.write_bytes(r.content)
        assert _sheets(path)["Agreements"][1:]
        assert client.post("/api/office/workbook", content=r.content, headers={"Content-Type": XLSX}).status_code in (
            401, 403)  # fmt: skip
        client.post("/api/auth/logout")
        token = login(client, "editor")
        headers = {"Content-Type": XLSX, "X-CSRF-Token": token}
        before = _counts(sqlite_url)
        r2 = client.post("/api/office/workbook", content=path.read_bytes(), headers=headers)
        assert r2.status_code == 200, r2.text
        assert r2.json()["added"] == {} and _counts(sqlite_url) == before
        bad = _break(path, tmp_path / "bad.xlsx", lambda b: _cell(
            b, "Agreements", "signed_on", ("title", "Urban transport MoU"), "1403-02-15"))  # fmt: skip
        _cell_book = load_workbook(bad)
        _cell(_cell_book, "Agreements", "title", ("title", "Urban transport MoU"), "Renamed so it is new")
        _cell_book.save(bad)
        r3 = client.post("/api/office/workbook", content=bad.read_bytes(), headers=headers)
        assert r3.status_code == 422
        problem = r3.json()["detail"][0]
        assert problem["loc"][:2] == ["body", "Agreements"] and problem["loc"][3] == "signed_on"
        assert _counts(sqlite_url) == before
        r4 = client.post("/api/office/workbook", content=b"not a workbook", headers=headers)
        assert r4.status_code == 422 and "not a readable XLSX" in r4.text


# --- documents: the zip carries their files, checked against their checksums ----------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MINUTES = "صورت‌جلسه دیدار مینسک\n".encode()


def _with_documents(url: str) -> None:
    from citydiplomacy.store import documents

    _office_year(url)
    with db.session_scope(db.get_engine(url)) as s:
        s.info["actor"] = ACTOR
        mou = s.scalar(select(Relation).where(Relation.title == "Urban transport MoU"))
        visit = s.scalar(select(Activity).where(Activity.kind == "delegation"))
        documents.add_document(s, inputs.DocumentIn(relation_id=mou.id, kind="signed_text", title="Signed MoU"),
                               "MoU signed.pdf", PDF, ACTOR)  # fmt: skip
        documents.add_document(s, inputs.DocumentIn(activity_id=visit.id, kind="minutes"), "صورت‌جلسه.txt", MINUTES,
                               ACTOR)  # fmt: skip
        # The same file on a second record: one copy in the zip.
        documents.add_document(s, inputs.DocumentIn(activity_id=visit.id, kind="signed_text"), "copy.pdf", PDF, ACTOR)


def _documents(url: str) -> list[tuple[Any, ...]]:
    from citydiplomacy.store.schema import Document

    with db.session_scope(db.get_engine(url)) as s:
        rows = s.scalars(select(Document).order_by(Document.id))
        return [(d.kind, d.title, d.file_name, d.media_type, d.size_bytes, d.sha256, bytes(d.content),
                 d.relation_id is not None) for d in rows]  # fmt: skip


def test_the_zip_carries_the_documents_and_their_checksums_are_verified(sqlite_url: str, tmp_path: Path) -> None:
    import hashlib
    import zipfile

    _with_documents(sqlite_url)
    out = tmp_path / "office.zip"
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        written = export_workbook(s, out)
    assert written.rows["Documents"] == 3 and written.rows["Document files"] == 2
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert names == {"workbook.xlsx", f"documents/{hashlib.sha256(PDF).hexdigest()}",
                         f"documents/{hashlib.sha256(MINUTES).hexdigest()}"}  # fmt: skip
    target = _empty_registry(tmp_path, "empty.db")
    with db.session_scope(db.get_engine(target)) as s:
        s.info["actor"] = ACTOR
        summary = import_workbook(s, out, actor=ACTOR)
    assert summary.added["Documents"] == 3
    assert _documents(target) == _documents(sqlite_url)  # bytes, names, types, checksums: nothing lost
    # Again: nothing added.
    with db.session_scope(db.get_engine(target)) as s:
        assert not import_workbook(s, out, actor=ACTOR).added
    # A file changed inside the zip is refused by its checksum, naming sheet, row and column; nothing written.
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(
                info.filename, data.replace(b"Catalog", b"Catalag") if info.filename.startswith("doc") else data
            )
    fresh = _empty_registry(tmp_path, "fresh.db")
    with pytest.raises(WorkbookError) as caught, db.session_scope(db.get_engine(fresh)) as s:
        import_workbook(s, damaged, actor=ACTOR)
    said = str(caught.value)
    assert "'Documents'" in said and "sha256" in said and "does not match its checksum" in said
    assert _counts(fresh)["relation"] == 0 and _documents(fresh) == []


def test_an_xlsx_alone_carries_document_metadata_and_says_the_files_need_the_zip(
    sqlite_url: str, tmp_path: Path
) -> None:
    _with_documents(sqlite_url)
    out = tmp_path / "office.xlsx"
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        export_workbook(s, out)
    rows = _sheets(out)["Documents"]
    assert rows[0] == SHEETS["Documents"] and len(rows) == 4 and {r[4] for r in rows[1:]} == {
        "MoU signed.pdf", "صورت‌جلسه.txt", "copy.pdf"}  # fmt: skip
    # Into the registry that holds the files: kept.  Into an empty one: refused, saying the zip carries them.
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        assert import_workbook(s, out, actor=ACTOR).kept["Documents"] == 3
    fresh = _empty_registry(tmp_path, "fresh.db")
    with pytest.raises(WorkbookError) as caught, db.session_scope(db.get_engine(fresh)) as s:
        import_workbook(s, out, actor=ACTOR)
    assert "import the .zip" in str(caught.value) and _counts(fresh)["relation"] == 0
    # A workbook written before the Documents sheet existed is still read.
    book = load_workbook(out)
    del book["Documents"]
    old = tmp_path / "old.xlsx"
    book.save(old)
    with db.session_scope(db.get_engine(fresh)) as s:
        s.info["actor"] = ACTOR
        assert import_workbook(s, old, actor=ACTOR).added["Agreements"] > 0
