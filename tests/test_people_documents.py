"""People, delegations and documents of the office's record (issue 10): officials and staff, an agreement's
signatories, delegations and visits with their participants (still activities: the health counts them), and files
attached to an agreement, stored in the database with their SHA-256, their type recognised from their bytes, their
size limited, downloadable by signed-in users only.  On SQLite and PostgreSQL; bad input names its field and
writes nothing; migration 0009 goes up and down without loss.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select, text
from test_web_support import Seeded, login, seed
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app as cli_app
from citydiplomacy.store import agreements, db, documents, inputs, people
from citydiplomacy.store.records import FieldProblem, create_record
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    ActivityPerson,
    AgreementSignatory,
    AuditEntry,
    Document,
    FollowUpAction,
    Outcome,
    Person,
)
from citydiplomacy.web.app import create_app

TODAY = date(2026, 12, 3)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(40)


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"})


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        yield c


def _count(url: str, model: type) -> int:
    with db.session_scope(db.get_engine(url)) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _person(s, name: str, **kw) -> Person:  # type: ignore[no-untyped-def]
    return create_record(s, "people", inputs.PersonIn(name=name, **kw), "office")


def test_people_signatories_and_delegations_are_recorded_and_counted(db_url: str, seeded: Seeded) -> None:
    with db.session_scope(db.get_engine(db_url)) as s:
        s.info["actor"] = "office"
        mayor = _person(s, "Ali Rezaei", name_fa="علی رضایی", title="Mayor's adviser", title_fa="مشاور شهردار",
                        unit="International Affairs", place_id=seeded.tehran)  # fmt: skip
        guest = _person(s, "Lim Wei", title="Deputy Mayor", place_id=seeded.kuala_lumpur, contact="lim@example.org")
        people.add_signatory(s, inputs.SignatoryIn(relation_id=seeded.relation, person_id=mayor.id), "office")
        people.add_signatory(s, inputs.SignatoryIn(relation_id=seeded.relation, person_id=guest.id,
                             role="for the City of Kuala Lumpur"), "office")  # fmt: skip
        visit = people.add_delegation(s, inputs.DelegationIn.model_validate({
            "title": "Kuala Lumpur delegation to Tehran", "title_fa": "هیئت کوالالامپور در تهران",
            "direction": "incoming", "happened_on": "2026-05-14", "ends_on": "2026-05-17",
            "purpose": "Urban transport exchange", "relation_id": seeded.relation,
            "cost_amount": 4000.0, "cost_currency": "EUR",
            "people": [{"person_id": guest.id, "role": "head of delegation"}, {"person_id": mayor.id, "role": "host"}],
            "place_ids": [seeded.kuala_lumpur], "organisation_ids": [seeded.metropolis],
        }), "office")  # fmt: skip
        # Found by either name, case and letter variants ignored.
        assert people.find_person(s, "ali REZAEI").id == mayor.id == people.find_person(s, "علي رضايي").id
        a = agreements.agreement_dict(s, agreements.load_agreement(s, seeded.relation))
        assert [(x["person"]["name"], x["role"]) for x in a["signatories"]] == [
            ("Ali Rezaei", "signatory"), ("Lim Wei", "for the City of Kuala Lumpur")]  # fmt: skip
        d = people.delegation_dict(s, s.get(Activity, visit.id))
        assert (d["kind"], d["direction"], d["happened_on"], d["ends_on"]) == ("delegation", "incoming",
                                                                              "2026-05-14", "2026-05-17")  # fmt: skip
        assert [(p["name"], p["role"]) for p in d["people"]] == [("Lim Wei", "head of delegation"),
                                                                 ("Ali Rezaei", "host")]  # fmt: skip
        assert [p["name"] for p in d["places"]] == ["Kuala Lumpur"] and d["organisations"][0]["acronym"] == "Metropolis"
        # One table of activities: the agreement's health counts the delegation and its cost.
        h = agreements.health(s, agreements.load_agreement(s, seeded.relation), TODAY)
        assert h["last_activity"] == "2026-05-14" and h["cost_to_date"] == [{"currency": "EUR", "amount": 4000.0}]
        assert [x["direction"] for x in h["activities"]] == ["incoming"]
        listed = list(s.scalars(people.delegations_query(seeded.relation, "incoming")))
        assert [x.id for x in listed] == [visit.id] and not list(s.scalars(people.delegations_query(None, "outgoing")))
        audited = set(s.scalars(select(AuditEntry.entity).where(AuditEntry.actor == "office")))
    assert {"person", "agreement_signatory", "activity", "activity_person"} <= audited
    with db.get_engine(db_url).connect() as conn:
        stored = conn.execute(text("SELECT direction, purpose, ends_on FROM activity WHERE id = :i"), {"i": visit.id})
        direction, purpose, ends_on = stored.one()
    assert (direction, purpose, str(ends_on)) == ("incoming", "Urban transport exchange", "2026-05-17")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "v", "happened_on": "2026-01-01"}, "direction"),
        ({"title": "v", "direction": "sideways"}, "direction"),
        ({"title": "v", "direction": "incoming", "happened_on": "2026-01-05", "ends_on": "2026-01-01"}, "ends_on"),
        ({"title": "v", "direction": "incoming", "ends_on": "2026-01-01"}, "ends_on"),
        ({"title": "v", "direction": "outgoing", "kind": "project"}, "kind"),
    ],
)
def test_bad_delegations_name_the_field(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        inputs.DelegationIn.model_validate(body)
    assert field in str(caught.value)


def test_a_direction_belongs_to_delegations_and_visits_only() -> None:
    with pytest.raises(ValidationError, match="direction: only a delegation or a visit"):
        inputs.ActivityIn.model_validate({"kind": "project", "title": "p", "direction": "incoming"})


def test_an_unknown_person_or_place_writes_nothing(db_url: str, seeded: Seeded) -> None:
    before = (_count(db_url, Activity), _count(db_url, ActivityPerson), _count(db_url, ActivityParticipant))
    with db.session_scope(db.get_engine(db_url)) as s:
        known = _person(s, "Known Person").id
    for extra, field in (({"people": [{"person_id": known}, {"person_id": 999_999}]}, "people[1].person_id"),
                         ({"place_ids": [seeded.tehran, 888_888]}, "place_ids[1]"),
                         ({"people": [{"person_id": known}, {"person_id": known}]}, "people")):  # fmt: skip
        body = inputs.DelegationIn.model_validate({"title": "t", "direction": "outgoing", **extra})
        with pytest.raises(FieldProblem) as caught, db.session_scope(db.get_engine(db_url)) as s:
            people.add_delegation(s, body, "office")
        assert caught.value.field == field
    with pytest.raises(FieldProblem, match="person_id"), db.session_scope(db.get_engine(db_url)) as s:
        people.add_signatory(s, inputs.SignatoryIn(relation_id=seeded.relation, person_id=777_777), "office")
    with db.session_scope(db.get_engine(db_url)) as s:
        with pytest.raises(people.PersonNotFound, match="no person called 'Nobody'"):
            people.find_person(s, "Nobody")
        _person(s, "Twin Name", unit="A")
        _person(s, "Twin Name", unit="B")
        with pytest.raises(people.AmbiguousPerson, match="give the #id"):
            people.find_person(s, "twin name")
    assert (_count(db_url, Activity), _count(db_url, ActivityPerson), _count(db_url, ActivityParticipant)) == before


def test_documents_are_stored_with_their_checksum_and_recognised_by_their_bytes(db_url: str, seeded: Seeded) -> None:
    meta = inputs.DocumentIn(relation_id=seeded.relation, kind="signed_text", title="MoU, signed copy")
    with db.session_scope(db.get_engine(db_url)) as s:
        s.info["actor"] = "office"
        pdf = documents.add_document(s, meta, "C:\\scans\\MoU signed.PDF", PDF, "office")
        for name, content, media in (("minutes.docx", DOCX, "wordprocessingml"), ("notes.odt", ODT, "opendocument"),
                                     ("photo.jpeg", JPEG, "image/jpeg"), ("plan.png", PNG, "image/png"),
                                     ("صورت‌جلسه.txt", "صورت‌جلسه نشست\n".encode(), "text/plain")):  # fmt: skip
            row = documents.add_document(s, inputs.DocumentIn(relation_id=seeded.relation, kind="minutes"), name,
                                         content, "office")  # fmt: skip
            assert media in row.media_type, name
        pdf_id = pdf.id
        audit = s.scalar(select(AuditEntry.changes).where(AuditEntry.entity == "document",
                                                         AuditEntry.entity_id == pdf_id))  # fmt: skip
    assert audit["sha256"] == hashlib.sha256(PDF).hexdigest() and "content" not in audit  # no bytes in the trail
    with db.session_scope(db.get_engine(db_url)) as s:
        row, content = documents.load_document(s, pdf_id)
        assert content == PDF and row.sha256 == hashlib.sha256(PDF).hexdigest() and row.size_bytes == len(PDF)
        assert (row.file_name, row.media_type) == ("MoU signed.PDF", "application/pdf")  # no directory kept
        names = [d["file_name"] for d in agreements.agreement_dict(s, agreements.load_agreement(s, seeded.relation))
                 ["documents"]]  # fmt: skip
        assert names[0] == "MoU signed.PDF" and "صورت\u200cجلسه.txt" in names  # the Persian zero-width joiner kept
    with db.get_engine(db_url).connect() as conn:  # the bytes are in the database itself
        stored = conn.execute(text("SELECT content, sha256 FROM document WHERE id = :i"), {"i": pdf_id}).one()
    assert bytes(stored[0]) == PDF and stored[1] == hashlib.sha256(PDF).hexdigest()


@pytest.mark.parametrize(
    ("name", "content", "refusal", "said"),
    [
        ("setup.pdf", EXE, documents.DocumentRefused, "not one of the allowed types"),
        ("archive.docx", _zip({"readme.md": b"hello"}), documents.DocumentRefused, "not one of the allowed types"),
        ("scan.pdf", PNG, documents.DocumentRefused, "is a PNG image by its content"),
        ("page.html", b"<html><script>alert(1)</script></html>", documents.DocumentRefused, "does not end in .txt"),
        ("binary.txt", b"abc\x00def", documents.DocumentRefused, "not one of the allowed types"),
        ("empty.pdf", b"", documents.DocumentRefused, "is empty"),
        ("../", PDF, documents.DocumentRefused, "has no name"),
        ("big.pdf", PDF + b" " * 2000, documents.DocumentTooLarge, "larger than the limit"),
    ],
)
def test_a_wrong_type_or_size_is_refused_and_nothing_is_written(
    db_url: str, seeded: Seeded, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes, refusal: type,
    said: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(settings, "DOCUMENT_MAX_BYTES", 1000)
    with pytest.raises(refusal, match=said) as caught, db.session_scope(db.get_engine(db_url)) as s:
        documents.add_document(s, inputs.DocumentIn(relation_id=seeded.relation), name, content, "office")
    assert caught.value.field == "file" and str(caught.value).startswith("file: ")
    assert _count(db_url, Document) == 0


def test_the_same_file_twice_on_one_record_is_refused_once_per_record(db_url: str, seeded: Seeded) -> None:
    engine = db.get_engine(db_url)
    with db.session_scope(engine) as s:
        first = documents.add_document(s, inputs.DocumentIn(relation_id=seeded.relation), "a.pdf", PDF, "o").id
    with pytest.raises(documents.DuplicateDocument, match=f"document {first}"), db.session_scope(engine) as s:
        documents.add_document(s, inputs.DocumentIn(relation_id=seeded.relation), "copy.pdf", PDF, "o")
    with db.session_scope(engine) as s:  # the same file on another record is its own document
        other = agreements.agreements_query(seeded.beirut).limit(1)
        documents.add_document(s, inputs.DocumentIn(relation_id=s.scalars(other).one().id), "a.pdf", PDF, "o")
        with pytest.raises(ValidationError, match="relation_id, activity_id"):
            inputs.DocumentIn(relation_id=seeded.relation, activity_id=1)
    assert _count(db_url, Document) == 2


def test_file_names_are_made_safe() -> None:
    assert documents.safe_file_name("../../etc/passwd.txt") == "passwd.txt"
    assert documents.safe_file_name("evil\u202egpj.pdf") == "evilgpj.pdf"  # no right-to-left override
    assert documents.safe_file_name(" .hidden.pdf") == "hidden.pdf"
    long = documents.safe_file_name("x" * 400 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")
    header = documents.content_disposition('تفاهم‌نامه "امضا".pdf')
    assert header.startswith('attachment; filename="') and "filename*=UTF-8''" in header and '"امضا"' not in header


def test_downloads_need_a_signed_in_user_and_uploads_an_editor(
    client: TestClient, seeded: Seeded, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = seeded.relation
    editor = {"X-CSRF-Token": login(client, "editor")}
    files = {"file": ("تفاهم‌نامه.pdf", PDF, "application/octet-stream")}  # the claimed type is not believed
    made = client.post("/api/office/documents", headers=editor, files=files,
                       data={"relation_id": str(rid), "kind": "signed_text", "title": "Signed MoU"})  # fmt: skip
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["media_type"] == "application/pdf" and doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    again = client.post("/api/office/documents", headers=editor, files=files, data={"relation_id": str(rid)})
    assert again.status_code == 409 and f"document {doc['id']}" in again.text
    bad = client.post("/api/office/documents", headers=editor, files={"file": ("x.pdf", EXE)},
                      data={"relation_id": str(rid)})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "file"]
    neither = client.post("/api/office/documents", headers=editor, files={"file": ("x.pdf", PDF + b"1")})
    assert neither.status_code == 422 and "relation_id" in neither.text
    monkeypatch.setattr(settings, "DOCUMENT_MAX_BYTES", 1000)
    big = client.post("/api/office/documents", headers=editor, files={"file": ("big.pdf", PDF + b" " * 5000)},
                      data={"relation_id": str(rid)})  # fmt: skip
    assert big.status_code == 413 and "big.pdf" in big.text and "limit" in big.text
    huge = client.post("/api/office/documents", headers=editor, files={"file": ("huge.pdf", PDF + b" " * 200_000)},
                       data={"relation_id": str(rid)})  # fmt: skip
    assert huge.status_code == 413  # refused by the body limit before it is read
    assert _count(db_url, Document) == 1
    # Signed in: the file, as an attachment of its type, its name in UTF-8.
    got = client.get(f"/api/office/documents/{doc['id']}/content")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D8%AA%D9%81" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    page = client.get(f"/documents/{doc['id']}")
    assert page.status_code == 200 and page.content == PDF
    listed = client.get("/api/office/documents", params={"relation_id": rid}).json()
    assert [d["id"] for d in listed["items"]] == [doc["id"]]
    assert client.get(f"/api/agreements/{rid}").json()["documents"][0]["sha256"] == doc["sha256"]
    # A viewer may download, not upload.
    client.post("/api/auth/logout", headers=editor)
    viewer = {"X-CSRF-Token": login(client, "viewer")}
    assert client.get(f"/documents/{doc['id']}").content == PDF
    refused = client.post("/api/office/documents", headers=viewer, files={"file": ("n.txt", b"note")},
                          data={"relation_id": str(rid)})  # fmt: skip
    assert refused.status_code == 403
    # Anonymous: nothing.
    client.post("/api/auth/logout", headers=viewer)
    client.cookies.clear()
    anon = client.get(f"/api/office/documents/{doc['id']}/content")
    assert anon.status_code == 401 and PDF not in anon.content
    anon_page = client.get(f"/documents/{doc['id']}", follow_redirects=False)
    assert anon_page.status_code in (302, 303) and "/login" in anon_page.headers["location"]
    assert client.get("/api/office/documents", params={"relation_id": rid}).status_code == 401


def test_the_api_records_people_signatories_and_delegations(client: TestClient, seeded: Seeded, db_url: str) -> None:
    editor = {"X-CSRF-Token": login(client, "editor")}
    made = client.post("/api/office/people", headers=editor, json={"name": "Sara Ahmadi", "name_fa": "سارا احمدی",
                       "title": "Head of protocol", "unit": "Protocol", "place_id": seeded.tehran})  # fmt: skip
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    assert made.json()["place"]["name"] == "Tehran"
    unknown = client.post("/api/office/people", headers=editor, json={"name": "X", "place_id": 999_999})
    assert unknown.status_code == 422 and "place_id" in unknown.text
    sig = client.post("/api/office/signatories", headers=editor,
                      json={"relation_id": seeded.relation, "person_id": pid, "role": "witness"})  # fmt: skip
    assert sig.status_code == 201 and sig.json()["signatories"][0]["role"] == "witness"
    twice = client.post("/api/office/signatories", headers=editor,
                        json={"relation_id": seeded.relation, "person_id": pid, "role": "witness"})  # fmt: skip
    assert twice.status_code == 409
    no_way = client.post("/api/office/delegations", headers=editor, json={"title": "Trip"})
    assert no_way.status_code == 422 and no_way.json()["detail"][0]["loc"] == ["body", "direction"]
    ghost = client.post(
        "/api/office/delegations",
        headers=editor,
        json={"title": "Trip", "direction": "outgoing", "people": [{"person_id": 424242}]},
    )
    assert ghost.status_code == 422 and "people[0].person_id" in ghost.text
    trip = client.post("/api/office/delegations", headers=editor, json={
        "title": "Tehran delegation to Kuala Lumpur", "direction": "outgoing", "kind": "visit",
        "happened_on": "2026-09-01", "ends_on": "2026-09-04", "relation_id": seeded.relation,
        "purpose": "Metro operations", "people": [{"person_id": pid, "role": "head"}],
        "place_ids": [seeded.kuala_lumpur]})  # fmt: skip
    assert trip.status_code == 201, trip.text
    assert trip.json()["people"][0]["name"] == "Sara Ahmadi" and trip.json()["direction"] == "outgoing"
    listed = client.get("/api/office/delegations", params={"relation_id": seeded.relation}).json()
    assert listed["total"] == 1 and listed["items"][0]["places"][0]["name"] == "Kuala Lumpur"
    found = client.get("/api/office/people", params={"q": "protocol"}).json()
    assert [p["id"] for p in found["items"]] == [pid]
    person = client.get(f"/api/office/people/{pid}").json()
    edited = client.put(
        f"/api/office/people/{pid}",
        headers=editor,
        json={"name": "Sara Ahmadi", "title": "Director of protocol", "version": person["version"]},
    )
    assert edited.status_code == 200 and edited.json()["title"] == "Director of protocol"
    stale = client.put(f"/api/office/people/{pid}", headers=editor, json={"name": "S", "version": person["version"]})
    assert stale.status_code == 409
    assert _count(db_url, Activity) == 3  # the seed's two and the one delegation
    ops = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/office/people", "/api/office/people/{person_id}", "/api/office/signatories",
                 "/api/office/delegations", "/api/office/documents", "/api/office/documents/{document_id}",
                 "/api/office/documents/{document_id}/content"):  # fmt: skip
        for op in ops[path].values():
            assert "503" in op["responses"] and "401" in op["responses"], path


def test_the_agreement_page_shows_and_takes_signatories_delegations_and_documents(
    client: TestClient, seeded: Seeded, db_url: str
) -> None:
    rid = seeded.relation
    with db.session_scope(db.get_engine(db_url)) as s:
        ali = _person(s, "Ali Rezaei", name_fa="علی رضایی", title="Adviser", title_fa="مشاور")
        people.add_delegation(s, inputs.DelegationIn.model_validate({"title": "KL delegation", "direction": "incoming",
                              "happened_on": "2026-05-14", "relation_id": rid, "purpose": "Transport",
                              "people": [{"person_id": ali.id, "role": "host"}]}), "office")  # fmt: skip
    login(client, "editor")
    page = client.get(f"/agreements/{rid}", params={"lang": "fa"})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    assert 'id="document-form"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert "علی رضایی" in page.text and "ورودی" in page.text and "۱۴۰۵/۰۲/۲۴" in page.text  # 2026-05-14
    unknown = client.post(f"/agreements/{rid}/signatories", data={"csrf_token": csrf, "person": "Nobody Known"})
    assert unknown.status_code == 404 and "«Nobody Known»" in unknown.text and 'value="Nobody Known"' in unknown.text
    signed = client.post(f"/agreements/{rid}/signatories", data={"csrf_token": csrf, "person": "علی رضایی",
                         "role": "signatory"}, follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303
    wrong = client.post(f"/agreements/{rid}/documents", data={"csrf_token": csrf, "kind": "minutes"},
                        files={"file": ("minutes.pdf", EXE)})  # fmt: skip
    assert wrong.status_code == 422 and "از انواع مجاز" in wrong.text and 'id="document-error"' in wrong.text
    up = client.post(
        f"/agreements/{rid}/documents",
        data={"csrf_token": csrf, "kind": "minutes", "title": "Minutes"},
        files={"file": ("minutes.txt", b"Minutes of the meeting\n")},
        follow_redirects=False,
    )
    assert up.status_code == 303, up.text
    en = client.get(f"/agreements/{rid}", params={"lang": "en"})
    assert 'id="signatories"' in en.text and "Ali Rezaei" in en.text and "Adviser" in en.text
    assert 'id="delegations"' in en.text and "incoming" in en.text and "Transport" in en.text
    doc_id = re.search(r'href="/documents/(\d+)"', en.text)[1]
    assert "minutes.txt" in en.text and "plain text" in en.text
    assert client.get(f"/documents/{doc_id}").content == b"Minutes of the meeting\n"
    assert _count(db_url, AgreementSignatory) == 1 and _count(db_url, Document) == 1


def test_the_cli_adds_lists_gets_and_refuses(db_url: str, seeded: Seeded, tmp_path: Path) -> None:
    runner = CliRunner()
    rid = str(seeded.relation)
    added = runner.invoke(cli_app, ["person", "add", "Ali Rezaei", "--fa", "علی رضایی", "--title", "Adviser",
                                    "--city", "Tehran", "--organisation", "UCLG"])  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli_app, ["person", "list", "--json"])
    assert '"name_fa": "علی رضایی"' in listed.output and '"acronym": "UCLG"' in listed.output
    sig = runner.invoke(cli_app, ["agreement", "signatory", "add", rid, "علی رضایی", "--role", "Mayor"])
    assert sig.exit_code == 0, sig.output
    trip = runner.invoke(cli_app, ["agreement", "delegation", "add", rid, "KL visit", "--direction", "outgoing",
                                   "--from", "2026-03-01", "--to", "2026-03-03", "--person", "Ali Rezaei:head",
                                   "--place", "Kuala Lumpur", "--organisation", "Metropolis"])  # fmt: skip
    assert trip.exit_code == 0 and "3 participants" in trip.output, trip.output
    shown = runner.invoke(cli_app, ["person", "show", "ali rezaei"])
    assert f"signed agreement #{rid} as Mayor" in shown.output and "outgoing delegation" in shown.output
    assert "KL visit" in runner.invoke(cli_app, ["agreement", "delegation", "list", rid]).output
    pdf = tmp_path / "mou.pdf"
    pdf.write_bytes(PDF)
    att = runner.invoke(cli_app, ["agreement", "document", "add", rid, str(pdf), "--kind", "signed_text"])
    assert att.exit_code == 0 and hashlib.sha256(PDF).hexdigest() in att.output, att.output
    doc_id = re.search(r"document #(\d+)", att.output)[1]
    assert "mou.pdf" in runner.invoke(cli_app, ["agreement", "document", "list", rid]).output
    out = tmp_path / "back.pdf"
    got = runner.invoke(cli_app, ["agreement", "document", "get", doc_id, "--output", str(out)])
    assert got.exit_code == 0 and out.read_bytes() == PDF and "(checked)" in got.output
    before = (_count(db_url, Activity), _count(db_url, Document), _count(db_url, AgreementSignatory))
    exe = tmp_path / "tool.pdf"
    exe.write_bytes(EXE)
    for args, said, code in (
        (["agreement", "delegation", "add", rid, "No way"], "direction", 2),
        (
            ["agreement", "delegation", "add", rid, "Ghost", "--direction", "incoming", "--person", "Nobody"],
            "--person: no person called 'Nobody'",
            2,
        ),
        (["agreement", "signatory", "add", rid, "Nobody"], "no person called", 2),
        (["agreement", "document", "add", rid, str(pdf)], "already attached", 3),
        (["agreement", "document", "add", rid, str(exe)], "not one of the allowed types", 2),
        (["person", "add", "Y", "--organisation", "Nope"], "--organisation: no organisation", 2),
    ):
        refused = runner.invoke(cli_app, args)
        assert refused.exit_code == code and said in refused.output, (args, refused.output)
    assert (_count(db_url, Activity), _count(db_url, Document), _count(db_url, AgreementSignatory)) == before


def test_migration_0009_keeps_every_activity_and_goes_back(db_url: str, seeded: Seeded) -> None:
    from alembic import command
    from sqlalchemy import inspect

    engine = db.get_engine(db_url)
    columns = "id, kind, title, title_fa, happened_on, year, place_id, relation_id, cost_amount, version"
    with engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM activity ORDER BY id"))]
    assert len(before) == 2
    command.downgrade(db.alembic_config(engine), "0008")
    inspect(engine).clear_cache()
    tables = set(inspect(engine).get_table_names())
    assert not {"person", "agreement_signatory", "activity_person", "document"} & tables
    assert not {"direction", "purpose", "ends_on"} & {c["name"] for c in inspect(engine).get_columns("activity")}
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM activity ORDER BY id"))] == before
    db.upgrade(engine)
    inspect(engine).clear_cache()
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM activity ORDER BY id"))] == before
        assert conn.execute(text("SELECT count(*) FROM activity WHERE direction IS NOT NULL")).scalar_one() == 0
    # The new tables work after the round trip, and the database's own checks hold.
    with db.session_scope(engine) as s:
        documents.add_document(s, inputs.DocumentIn(relation_id=seeded.relation), "a.pdf", PDF, "o")
    with pytest.raises(Exception, match="(?i)check|constraint"), engine.begin() as conn:
        conn.execute(text("UPDATE activity SET direction = 'sideways' WHERE id = :i"), {"i": before[0][0]})


def test_merging_two_places_keeps_the_signatories_and_documents_of_a_duplicate_agreement(
    db_url: str, seeded: Seeded
) -> None:
    from citydiplomacy.store.places import merge_places
    from citydiplomacy.store.schema import Place, Relation

    engine = db.get_engine(db_url)
    with db.session_scope(engine) as s:
        twin = Place(gazetteer="manual", gazetteer_id="kl-2", name="Kuala Lumpur (typed twice)", country_code="MY")
        s.add(twin)
        s.flush()
        kept = s.get(Relation, seeded.relation)
        copy = Relation(place_a_id=min(seeded.tehran, twin.id), place_b_id=max(seeded.tehran, twin.id),
                        kind=kept.kind, title=kept.title, signed_year=kept.signed_year, status="active")  # fmt: skip
        s.add(copy)
        s.flush()
        ali = _person(s, "Ali Rezaei", place_id=twin.id)
        people.add_signatory(s, inputs.SignatoryIn(relation_id=copy.id, person_id=ali.id), "office")
        documents.add_document(s, inputs.DocumentIn(relation_id=copy.id), "mou.pdf", PDF, "office")
        # What the duplicate yielded (migration 0008's record) must follow it too, not go with the duplicate.
        visit = create_record(s, "activities", inputs.ActivityIn(kind="visit", title="Visit", relation_id=copy.id,
                              happened_on=date(2025, 1, 5)), "office")  # fmt: skip
        agreements.add_outcome(s, inputs.OutcomeIn(relation_id=copy.id, code="award"), "office")
        agreements.add_action(s, inputs.ActionIn(relation_id=copy.id, title="Minutes", owner="Protocol"), "office")
        twin_id, copy_id, visit_id = twin.id, copy.id, visit.id
    with db.session_scope(engine) as s:
        summary = merge_places(s, s.get(Place, twin_id), s.get(Place, seeded.kuala_lumpur), actor="office")
        assert [r["id"] for r in summary.dropped_relations] == [copy_id]
    with db.session_scope(engine) as s:
        assert [d.relation_id for d in s.scalars(select(Document))] == [seeded.relation]
        assert [x.relation_id for x in s.scalars(select(AgreementSignatory))] == [seeded.relation]
        assert s.get(Activity, visit_id).relation_id == seeded.relation
        assert [o.relation_id for o in s.scalars(select(Outcome))] == [seeded.relation]
        assert [a.relation_id for a in s.scalars(select(FollowUpAction))] == [seeded.relation]
        assert s.scalar(select(Person.place_id)) == seeded.kuala_lumpur  # the person's city follows the merge


def test_the_dashboard_form_adds_a_person_in_persian(client: TestClient, db_url: str) -> None:
    login(client, "editor")
    form = client.get("/records/people/new", params={"lang": "fa"})
    assert form.status_code == 200 and "واحد سازمانی" in form.text and "سمت" in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    saved = client.post("/records/people/new", data={"csrf_token": csrf, "name": "Sara Ahmadi", "name_fa": "سارا احمدی",
                        "unit": "Protocol"}, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text
    with db.session_scope(db.get_engine(db_url)) as s:
        assert s.scalar(select(Person.name_fa).where(Person.name == "Sara Ahmadi")) == "سارا احمدی"


def test_people_searches_take_percent_and_underscore_literally(db_url: str, seeded: Seeded) -> None:
    """The people list and the pickers' search are one search: ``%`` and ``_`` are letters, not wildcards."""
    from citydiplomacy.store.lookup import find_office_records

    with db.session_scope(db.get_engine(db_url)) as s:
        _person(s, "Ali Rezaei", title="Head of the 100% Green unit")
        _person(s, "Sara_Karimi")
        _person(s, "Maryam Ahmadi")
    with db.session_scope(db.get_engine(db_url)) as s:
        for q, expected in (("%", ["Ali Rezaei"]), ("_", ["Sara_Karimi"]), ("ahmadi", ["Maryam Ahmadi"])):
            assert [p.name for p in s.scalars(people.people_query(q))] == expected, q
        assert [p.name for p in find_office_records(s, "people", "0% g")] == ["Ali Rezaei"]
        assert [p.name for p in find_office_records(s, "people", "a_k")] == ["Sara_Karimi"]
        assert find_office_records(s, "people", "%%") == [] and find_office_records(s, "people", "__") == []
