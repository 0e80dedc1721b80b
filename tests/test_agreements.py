"""Agreements: relations as records with parties, a status history and a lifecycle (issue 10, first part).

Migration 0006 keeps every relation; several agreements between the same parties, and with an organisation;
status changes recorded with actor and reason, refused when the lifecycle does not allow them; a lost race
keeps the editor's text; the Persian page (RTL, Persian digits, Solar Hijri beside Gregorian); the API's
contract; the CLI.  On SQLite and PostgreSQL where the database matters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from alembic import command
from fastapi.testclient import TestClient
from registry_helpers import CASE_RELATIONS
from sqlalchemy import inspect, select, text
from test_web_api import login
from test_web_support import Seeded, seed
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app as cli_app
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.model.lifecycle import LIFECYCLE_FILE, load_lifecycle
from citydiplomacy.model.vocab import RELATION_STATUSES
from citydiplomacy.store import db, queries, ties
from citydiplomacy.store.schema import AuditEntry, RelationStatus
from citydiplomacy.web.app import create_app

SEEDS = Path(settings.__file__).resolve().parents[2] / "shared" / "seeds"
#: The columns a relation had before 0006: each must come through the migration unchanged.
OLD_COLUMNS = (
    "id", "place_a_id", "place_b_id", "kind", "status", "title", "signed_on", "signed_year", "ended_year",
    "dimensions", "notes", "source_locator", "retrieved_at", "entered_by", "entered_at", "source_id", "version",
)  # fmt: skip


def _relations(url: str) -> list[tuple]:
    with db.get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {', '.join(OLD_COLUMNS)} FROM relation ORDER BY id"))]


def test_migration_from_0004_keeps_every_relation_and_starts_its_history(db_url: str) -> None:
    engine = db.get_engine(db_url)
    load_case_study(engine)
    before = _relations(db_url)
    assert len(before) == CASE_RELATIONS
    command.downgrade(db.alembic_config(engine), "0004")
    assert _relations(db_url) == before  # the old schema holds them all
    assert "relation_status" not in inspect(engine).get_table_names()
    db.upgrade(engine)
    assert _relations(db_url) == before
    with db.session_scope(engine) as s:
        rows = s.execute(select(RelationStatus.relation_id, RelationStatus.status, RelationStatus.changed_by,
                                RelationStatus.previous_status)).all()  # fmt: skip
    assert sorted((r[0], r[1], r[2]) for r in rows) == sorted((b[0], b[4], b[13]) for b in before)
    assert all(r.previous_status is None for r in rows)
    negotiating = [b for b in before if b[4] == "in_negotiation"]
    assert len(negotiating) == 2  # Damascus and Tunis, paper 003 Table 2 rows 18-19


def test_downgrade_refuses_agreements_the_old_schema_cannot_hold(sqlite_url: str) -> None:
    ids = seed(sqlite_url)
    with TestClient(create_app(sqlite_url, secret_key="t")) as client:
        headers = {"X-CSRF-Token": login(client, "editor")}
        body = {"place_id": ids.tehran, "partner_organisation_id": ids.metropolis, "kind": "mou"}
        assert client.post("/api/agreements", json=body, headers=headers).status_code == 201
    with pytest.raises(RuntimeError, match="1 agreement"):
        command.downgrade(db.alembic_config(db.get_engine(sqlite_url)), "0004")


# The web's behaviour is the same on both databases: SQLite here (fast); the status changes and the migration,
# where the database matters, run on both.
@pytest.fixture
def url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def seeded(url: str) -> Seeded:
    return seed(url)


@pytest.fixture
def client(url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(url, secret_key="test-secret")) as c:
        yield c


@pytest.fixture
def editor(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": login(client, "editor")}


def _agreement(client: TestClient, headers: dict[str, str], **body: object) -> dict:
    r = client.post("/api/agreements", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_two_agreements_between_the_same_cities_and_one_with_an_organisation(
    client: TestClient, editor: dict[str, str], seeded: Seeded, url: str
) -> None:
    first = _agreement(client, editor, place_id=seeded.tehran, partner_place_id=seeded.istanbul, kind="mou",
                       title="MoU on transport", signed_on="2014-10-31")  # fmt: skip
    second = _agreement(client, editor, place_id=seeded.istanbul, partner_place_id=seeded.tehran, kind="mou",
                        title="MoU on urban management", title_fa="تفاهم‌نامه مدیریت شهری")  # fmt: skip
    habitat = _agreement(client, editor, place_id=seeded.tehran, partner_organisation_id=seeded.metropolis,
                         kind="cooperation_memorandum", status="signed", status_reason="signed at the summit",
                         dimensions=["development"], functions=["mlf.knowledge_sharing"])  # fmt: skip
    assert first["id"] != second["id"] and first["signed_year"] == 2014
    assert [p["id"] for p in first["parties"]] == [p["id"] for p in second["parties"]]  # same pair, stored once
    assert habitat["parties"][1] == {"type": "organisation", "id": seeded.metropolis, "name": "Metropolis",
                                     "name_fa": "متروپلیس", "acronym": "Metropolis"}  # fmt: skip
    assert habitat["history"][0]["reason"] == "signed at the summit" and habitat["status"] == "signed"
    listed = client.get("/api/agreements", params={"place_id": seeded.tehran}).json()
    assert {first["id"], second["id"], habitat["id"]} <= {a["id"] for a in listed["items"]}
    assert all(a["parties"][0]["id"] == seeded.tehran for a in listed["items"])  # the asked place first
    by_org = client.get("/api/agreements", params={"organisation_id": seeded.metropolis}).json()
    assert [a["id"] for a in by_org["items"]] == [habitat["id"]]
    # A party that is itself, or two partners, or none: a 422 naming the rule.
    for bad in ({"partner_place_id": seeded.tehran}, {"partner_place_id": seeded.istanbul,
                "partner_organisation_id": seeded.metropolis}, {}):  # fmt: skip
        r = client.post("/api/agreements", json={"place_id": seeded.tehran, "kind": "mou", **bad}, headers=editor)
        assert r.status_code == 422 and r.json()["detail"][0]["type"] == "cross_field", r.text
    # The organisation agreement is no tie between two places: the network still reads cleanly.
    with db.session_scope(db.get_engine(url)) as s:
        frame = ties.load_ties(s)
        exported = {row["id"]: row for row in queries.export_rows(s, "relations")}
    assert frame["place_b_id"].notna().all() and habitat["id"] not in set(frame["relation_id"])
    # ... and the export keeps it, naming the organisation.
    assert exported[habitat["id"]]["organisation"] == "Metropolis" and exported[habitat["id"]]["place_b"] is None
    # The city page links its relations to their agreement pages; the list page shows both MoUs.
    city = client.get(f"/cities/{seeded.tehran}")
    assert f'href="/agreements/{seeded.relation}"' in city.text
    page = client.get("/agreements", params={"place_id": seeded.tehran})
    assert page.text.count(f'href="/agreements/{first["id"]}"') >= 1 and "MoU on urban management" in page.text
    # The dashboard's form adds a second one as well (no "UNIQUE constraint failed").
    form = client.get("/records/agreements/new", params={"place_id": seeded.tehran})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    fields = {"csrf_token": token, "place_id": str(seeded.tehran), "partner_place_id": str(seeded.istanbul),
              "kind": "mou", "status": "in_negotiation", "functions": "mlf.knowledge_sharing"}  # fmt: skip
    for _ in range(2):
        saved = client.post("/records/agreements/new", data=fields, follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"].startswith("/agreements/"), saved.text


def test_status_changes_are_recorded_and_the_lifecycle_refuses_others(db_url: str) -> None:
    seeded = seed(db_url)
    with TestClient(create_app(db_url, secret_key="test-secret")) as client:
        _status_changes(client, {"X-CSRF-Token": login(client, "editor")}, seeded, db_url)


def _status_changes(client: TestClient, editor: dict[str, str], seeded: Seeded, database: str) -> None:
    a = client.get(f"/api/agreements/{seeded.relation}").json()
    assert a["status"] == "active" and a["history"][0]["recorded"] is False  # seeded in bulk: from the record
    assert a["next_statuses"] == ["dormant", "suspended", "ended"]
    url = f"/api/agreements/{seeded.relation}/status"
    changed = client.post(url, headers=editor, json={"status": "dormant", "reason": "no activity since 2019",
                                                     "effective_on": "2024-03-20", "version": a["version"],
                                                     "source": "office minutes"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    history = changed.json()["history"]
    assert [(h["previous_status"], h["status"]) for h in history] == [(None, "active"), ("active", "dormant")]
    assert history[1]["changed_by"] == "editor" and history[1]["reason"] == "no activity since 2019"
    assert history[1]["effective_on"] == "2024-03-20" and history[1]["source"] == "office minutes"
    version = changed.json()["version"]
    # Refused: not a change of the lifecycle (409 naming the allowed ones), no reason (422), a stale version (409).
    refused = client.post(url, headers=editor, json={"status": "proposed", "reason": "try", "version": version})
    assert refused.status_code == 409 and "active, suspended, ended" in refused.json()["detail"]
    no_reason = client.post(url, headers=editor, json={"status": "active", "reason": " ", "version": version})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    stale = client.post(url, headers=editor, json={"status": "active", "reason": "revived", "version": version - 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    # Ended, then renegotiated: ended_year filled, the new round allowed, "back to active" not.
    ended = client.post(url, headers=editor, json={"status": "ended", "reason": "not renewed",
                                                   "effective_on": "2025-01-05", "version": version})  # fmt: skip
    assert ended.status_code == 200 and ended.json()["ended_year"] == 2025
    v = ended.json()["version"]
    assert client.post(url, headers=editor, json={"status": "active", "reason": "x", "version": v}).status_code == 409
    again = client.post(url, headers=editor, json={"status": "in_negotiation", "reason": "new round", "version": v})
    assert again.status_code == 200 and len(again.json()["history"]) == 4
    # Every history row is in the audit trail, by the editor, with the relation's own update.
    with db.session_scope(db.get_engine(database)) as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "relation_status")).all()
        changes = s.scalars(select(AuditEntry).where(AuditEntry.entity == "relation",
                                                     AuditEntry.entity_id == seeded.relation)).all()  # fmt: skip
    reasons = {e.changes.get("reason") for e in audit if e.actor == "editor"}
    assert {"no activity since 2019", "not renewed", "new round"} <= reasons
    assert [e.changes["status"] for e in changes if e.action == "update" and "status" in e.changes] == [
        ["active", "dormant"], ["dormant", "ended"], ["ended", "in_negotiation"]]  # fmt: skip
    # A viewer cannot; nor can a write without the CSRF header.
    assert client.post(url, json={"status": "ended", "reason": "x", "version": 1}).status_code == 403


def test_patch_changes_only_the_fields_given(client: TestClient, editor: dict[str, str], seeded: Seeded) -> None:
    a = _agreement(client, editor, place_id=seeded.tehran, partner_place_id=seeded.beirut, kind="mou",
                   title="Culture MoU", notes="keep me", responsible_unit="International affairs")  # fmt: skip
    url = f"/api/agreements/{a['id']}"
    r = client.patch(url, headers=editor, json={"title_fa": "تفاهم‌نامه فرهنگی", "valid_until": "2030-12-31",
                                                "version": a["version"]})  # fmt: skip
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["title"], got["title_fa"], got["notes"], got["responsible_unit"], got["valid_until"]) == (
        "Culture MoU", "تفاهم‌نامه فرهنگی", "keep me", "International affairs", "2030-12-31")  # fmt: skip
    # To an organisation partner: null the place partner in the same patch; both at once is a cross_field 422.
    both = client.patch(url, headers=editor, json={"partner_organisation_id": seeded.uclg, "version": got["version"]})
    assert both.status_code == 422 and both.json()["detail"][0]["type"] == "cross_field"
    moved = client.patch(url, headers=editor, json={"partner_organisation_id": seeded.uclg, "partner_place_id": None,
                                                    "version": got["version"]})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["parties"][1]["acronym"] == "UCLG"
    assert client.patch(url, headers=editor, json={"notes": "late", "version": got["version"]}).status_code == 409


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_a_lost_race_keeps_the_editors_text(client: TestClient, editor: dict[str, str], seeded: Seeded) -> None:
    page = client.get(f"/agreements/{seeded.relation}")
    token = _csrf(page.text)
    version = re.search(r'name="version" value="(\d+)"', page.text)[1]
    # Someone else changes the status first ...
    other = client.post(f"/api/agreements/{seeded.relation}/status", headers=editor,
                        json={"status": "suspended", "reason": "sanctions", "version": int(version)})  # fmt: skip
    assert other.status_code == 200
    # ... our editor's status form, on the old version: 409, the page as it is now, the typed reason kept.
    typed = "Council vote of 12 Azar, minutes §4"
    lost = client.post(f"/agreements/{seeded.relation}/status",
                       data={"csrf_token": token, "version": version, "status": "dormant", "reason": typed,
                             "effective_on": "2024-12-02"})  # fmt: skip
    assert lost.status_code == 409
    assert f'value="{typed}"' in lost.text and 'value="2024-12-02"' in lost.text and "status-error" in lost.text
    assert 'id="agreement-status">suspended' in lost.text.replace("\n", "")
    assert f'name="version" value="{other.json()["version"]}"' in lost.text  # saving again now works
    again = client.post(f"/agreements/{seeded.relation}/status",
                        data={"csrf_token": token, "version": str(other.json()["version"]), "status": "dormant",
                              "reason": typed}, follow_redirects=False)  # fmt: skip
    assert again.status_code == 303
    # The record form too: the typed title stays, on the record's current version.
    edit = client.get(f"/records/agreements/{seeded.relation}/edit")
    assert edit.status_code == 200 and f'value="{seeded.tehran}"' in edit.text
    fields = {k: v for k, v in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', edit.text)}
    fields["kind"] = "sister_city"
    stale = {**fields, "version": "1", "title": "Twinning charter, revised text"}
    answer = client.post(f"/records/agreements/{seeded.relation}/edit", data=stale, params={"lang": "fa"})
    assert answer.status_code == 409 and "شخص دیگری" in answer.text
    assert 'value="Twinning charter, revised text"' in answer.text
    current = client.get(f"/api/agreements/{seeded.relation}").json()["version"]
    assert f'name="version" value="{current}"' in answer.text


def test_the_persian_page_is_rtl_with_persian_digits_and_both_calendars(
    client: TestClient, editor: dict[str, str], seeded: Seeded
) -> None:
    a = _agreement(client, editor, place_id=seeded.tehran, partner_place_id=seeded.kuala_lumpur, kind="mou",
                   title="Smart city MoU", title_fa="تفاهم‌نامه شهر هوشمند", signed_on="2014-10-31",
                   valid_until="2030-06-15", dimensions=["economy"], functions=["mlf.knowledge_sharing"])  # fmt: skip
    fa = client.get(f"/agreements/{a['id']}", params={"lang": "fa"})
    assert fa.status_code == 200
    assert '<html lang="fa" dir="rtl">' in fa.text
    signed = re.search(r'id="agreement-signed">([^<]*)<', fa.text)[1]
    assert signed == "۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)"  # Solar Hijri first, Gregorian beside it, Persian digits
    assert re.search(r'id="agreement-valid">([^<]*)<', fa.text)[1] == "۱۴۰۹/۰۳/۲۵ (۲۰۳۰-۰۶-۱۵)"
    assert "تفاهم‌نامه شهر هوشمند" in fa.text and "کوالالامپور" in fa.text and "اقتصاد شهری" in fa.text
    assert f"#{str(a['id']).translate(str.maketrans('0123456789', '۰۱۲۳۴۵۶۷۸۹'))}" in fa.text
    assert f'href="/cities/{seeded.kuala_lumpur}"' in fa.text and f'href="/cities/{seeded.tehran}"' in fa.text
    assert "تاریخچه وضعیت" in fa.text and 'id="status-form"' in fa.text
    en = client.get(f"/agreements/{a['id']}", params={"lang": "en"})
    assert re.search(r'id="agreement-signed">([^<]*)<', en.text)[1] == "2014-10-31 (1393/08/09 SH)"
    assert "Producing and sharing knowledge and good practice" in en.text  # a function named from the model
    assert "اطلاع‌رسانی، تولید و توزیع دانش تخصصی" in fa.text
    assert client.get("/agreements/999999").status_code == 404


def test_the_api_documents_every_agreement_operation(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    ops = {(p, m): op for p, methods in paths.items() if "agreements" in p for m, op in methods.items()}
    assert set(ops) == {("/api/agreements", "get"), ("/api/agreements", "post"),
                        ("/api/agreements/{agreement_id}", "get"), ("/api/agreements/{agreement_id}", "patch"),
                        ("/api/agreements/{agreement_id}/status", "post"),
                        ("/api/agreements/{agreement_id}/health", "get")}  # fmt: skip
    for (path, method), op in ops.items():
        assert "503" in op["responses"], (path, method)
        if "requestBody" in op:
            assert {"413", "422", "409"} <= set(op["responses"]), (path, method)


def test_the_lifecycle_is_model_data_citing_the_papers_own_words() -> None:
    lifecycle = load_lifecycle()
    assert [s.code for s in lifecycle.statuses] == list(RELATION_STATUSES)
    assert not lifecycle.allows("ended", "active") and lifecycle.allows("ended", "in_negotiation")
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} absent")
    data = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))
    quoted = 0
    for status in data["statuses"]:
        paper = (SEEDS / status["cite"]["source"]).read_text(encoding="utf-8")
        squeeze = re.sub(r"[\s\u200c]+", "", paper)
        for quote in re.findall(r"«([^»]+)»", status["description"] + status["cite"]["locator"]):
            assert re.sub(r"[\s\u200c]+", "", quote) in squeeze, (status["code"], quote)
            quoted += 1
    assert quoted >= 3


def test_the_cli_lists_shows_and_changes_status(sqlite_url: str, seeded: Seeded) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["agreement", "list", "--city", "Tehran", "--country", "IR", "--json"])
    assert listed.exit_code == 0, listed.output
    assert seeded.relation in {a["id"] for a in json.loads(listed.output)["items"]}
    changed = runner.invoke(cli_app, ["agreement", "status", str(seeded.relation), "dormant", "--reason", "quiet"])
    assert changed.exit_code == 0 and "active → dormant" in changed.output, changed.output
    refused = runner.invoke(cli_app, ["agreement", "status", str(seeded.relation), "proposed", "--reason", "x"])
    assert refused.exit_code == 3 and "can become" in refused.output
    shown = runner.invoke(cli_app, ["agreement", "show", str(seeded.relation), "--json"])
    history = json.loads(shown.output)["history"]
    assert [h["status"] for h in history] == ["active", "dormant"] and history[1]["reason"] == "quiet"


def test_a_merge_keeps_distinct_agreements_and_moves_organisation_ones(sqlite_url: str, seeded: Seeded) -> None:
    from citydiplomacy.store.places import merge_places
    from citydiplomacy.store.schema import Place, Relation

    engine = db.get_engine(sqlite_url)
    with db.session_scope(engine) as s:
        twin = Place(gazetteer="manual", gazetteer_id="tehran-2", name="Tehran (typed)", country_code="IR")
        s.add(twin)
        s.flush()
        pair = sorted((twin.id, seeded.istanbul))
        s.add_all([
            Relation(place_a_id=pair[0], place_b_id=pair[1], kind="mou", title="Transport MoU", signed_year=2015),
            Relation(place_a_id=min(seeded.tehran, seeded.istanbul), place_b_id=max(seeded.tehran, seeded.istanbul),
                     kind="mou", title="Culture MoU", signed_year=2018),
            Relation(place_a_id=twin.id, organisation_id=seeded.uclg, kind="cooperation_memorandum"),
        ])  # fmt: skip
        s.flush()
        summary = merge_places(s, twin, s.get(Place, seeded.tehran), actor="editor")
        assert summary.moved["relation"] == 2 and not summary.dropped_relations
        mous = s.scalars(select(Relation.title).where(Relation.kind == "mou")).all()
        org = s.scalar(select(Relation).where(Relation.organisation_id == seeded.uclg))
        assert sorted(mous) == ["Culture MoU", "Transport MoU"] and org.place_a_id == seeded.tehran
