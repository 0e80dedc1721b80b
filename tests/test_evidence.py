"""Evidence everywhere: every relation and membership, however written, carries the sources that give it.

Hand-entered records (the API and the dashboard, through the write service), the case study, and the
importers (memberships lists, the Covenant file) all write evidence rows: source, locator, retrieval time, the
values the source gave.  A membership two sources give is one membership with two pieces of evidence, and a
year or status they give differently is listed by ``citydip review disagreements``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from registry_helpers import dump_db, write_csv
from sqlalchemy import func, select
from test_import_covenant import BOLOGNA, HEIDELBERG, _workbook
from test_web_support import Seeded, login, seed
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.geo.resolve import Resolver
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.ingest.covenant import import_covenant
from citydiplomacy.ingest.memberships import import_memberships
from citydiplomacy.store import db
from citydiplomacy.store.evidence import disagreements, evidence_of
from citydiplomacy.store.places import merge_places
from citydiplomacy.store.queries import city_profile, export_rows
from citydiplomacy.store.schema import Membership, MembershipEvidence, Place, Relation, RelationEvidence
from citydiplomacy.web.app import create_app

runner = CliRunner()
MEMBER_HEADER = ["city", "country", "organization", "role", "since", "until", "lat", "lng", "source"]
GCOM = "Global Covenant of Mayors for Climate & Energy"


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver()


def _without_evidence(url: str) -> tuple[int, int]:
    """Relations and memberships that have no evidence row."""
    with db.get_engine(url).connect() as conn:
        rel = conn.execute(
            select(func.count()).select_from(Relation).where(~Relation.id.in_(select(RelationEvidence.relation_id)))
        ).scalar_one()
        mem = conn.execute(
            select(func.count())
            .select_from(Membership)
            .where(~Membership.id.in_(select(MembershipEvidence.membership_id)))
        ).scalar_one()
    return rel, mem


# ------------------------------------------------------------------------------------------- by hand, the API
def test_relation_and_membership_entered_through_the_api_get_their_evidence(db_url: str) -> None:
    seeded: Seeded = seed(db_url)
    with TestClient(create_app(db_url, secret_key="t")) as client:
        h = {"X-CSRF-Token": login(client, "editor")}
        body = {"place_a_id": seeded.seoul, "place_b_id": seeded.beirut, "kind": "mou", "status": "active",
                "signed_year": 2019, "source": "Tehran municipality press release",
                "source_locator": "2019-05-02"}  # fmt: skip
        r = client.post("/api/relations", json=body, headers=h)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        m = client.post("/api/memberships", headers=h, json={
            "place_id": seeded.beirut, "organisation_id": seeded.uclg, "role": "active", "since_year": 2004,
            "source": "UCLG members page", "source_locator": "members/asia"})  # fmt: skip
        assert m.status_code == 201, m.text
        mid = m.json()["id"]
        rel = client.get("/api/relations", params={"place_id": seeded.beirut}).json()["items"]
        (ours,) = [x for x in rel if x["id"] == rid]
        assert [(e["source"], e["locator"]) for e in ours["evidence"]] == [
            ("Tehran municipality press release", "2019-05-02")
        ]
        assert ours["evidence"][0]["values"] == {"signed_year": 2019, "status": "active"}
        assert ours["evidence"][0]["retrieved_at"]  # the entry time, for a record entered by hand
        members = client.get("/api/memberships", params={"place_id": seeded.beirut}).json()["items"]
        (mine,) = [x for x in members if x["id"] == mid]
        assert mine["evidence"][0]["label"] == "UCLG members page members/asia"
        assert mine["evidence"][0]["values"] == {"since_year": 2004}

        # Editing the office's own record restates it: its evidence row says the new year (not a second row).
        rec = client.get(f"/api/relations/{rid}").json()
        put = {k: rec[k] for k in ("place_a_id", "place_b_id", "kind", "status", "source_locator")}
        put |= {"signed_year": 2018, "source": "Tehran municipality press release", "version": rec["version"]}
        assert client.put(f"/api/relations/{rid}", json=put, headers=h).status_code == 200
        # Naming another source adds that source's evidence beside the first.
        put |= {"source": "Beirut city council minutes", "source_locator": "session 14", "version": rec["version"] + 1}
        assert client.put(f"/api/relations/{rid}", json=put, headers=h).status_code == 200
    with db.get_engine(db_url).connect() as conn:
        ev = evidence_of(conn, [rid])[rid]
    assert [(e["source"], e["values"]["signed_year"]) for e in ev] == [
        ("Tehran municipality press release", 2018),
        ("Beirut city council minutes", 2018),
    ]
    assert _without_evidence(db_url) == (0, 0)  # the seed's own records (an ORM session) too


def test_an_edit_keeps_what_an_imported_file_gave(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    from citydiplomacy.ingest.twinning import import_twinning

    rows = [["Tehran", "Iran", "35.69", "51.42", "Bishkek", "Kyrgyzstan", "42.87", "74.59", "1992"]]
    head = ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2", "signed_year"]
    import_twinning(write_csv(tmp_path / "twins.csv", head, rows), resolver=resolver)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        rel = s.scalars(select(Relation)).one()
        rel.signed_year = 1993  # an editor corrects the year, the relation still citing the file
    with db.get_engine(sqlite_url).connect() as conn:
        (ev,) = evidence_of(conn, [rel.id])[rel.id]
    assert ev["values"]["signed_year"] == 1992 and ev["label"] == "twins.csv row 2"


# ----------------------------------------------------------------------------------------------- the case study
def test_case_study_records_all_have_evidence_citing_their_paper(sqlite_url: str) -> None:
    summary = load_case_study(db.get_engine(sqlite_url))
    assert summary.created["relation"] > 0 and summary.created["membership"] > 0
    assert _without_evidence(sqlite_url) == (0, 0)
    with db.get_engine(sqlite_url).connect() as conn:
        rid = conn.execute(select(Relation.id).order_by(Relation.id)).scalars().first()
        mid = conn.execute(select(Membership.id).order_by(Membership.id)).scalars().first()
        (rel_ev,) = evidence_of(conn, [rid])[rid]
        (mem_ev,) = evidence_of(conn, [mid], of="membership")[mid]
    assert rel_ev["source_kind"] == mem_ev["source_kind"] == "paper" and rel_ev["locator"] and mem_ev["locator"]
    before = dump_db(sqlite_url)
    load_case_study(db.get_engine(sqlite_url))  # idempotent: no second evidence row either
    assert dump_db(sqlite_url)["relation_evidence"] == before["relation_evidence"]
    assert dump_db(sqlite_url)["membership_evidence"] == before["membership_evidence"]


# ----------------------------------------------------------------------------- memberships list, then Covenant
def test_covenant_adds_evidence_to_a_held_membership_and_disagreements_are_listed(
    sqlite_url: str, tmp_path: Path, resolver: Resolver
) -> None:
    members = write_csv(tmp_path / "networks.csv", MEMBER_HEADER, [
        ["Bologna", "Italy", GCOM, "member", "2009", "", "44.4949", "11.3426", ""],
        ["Heidelberg", "Germany", GCOM, "member", "2015", "", "49.4077", "8.6908", ""],
    ])  # fmt: skip
    first = import_memberships(members, resolver=resolver)
    assert first.records_created["membership"] == first.records_created["membership_evidence"] == 2
    book = _workbook(tmp_path / "gcom.xlsx", [BOLOGNA, HEIDELBERG])  # Bologna joined 2010; Heidelberg 2015, on hold
    report = import_covenant(book, resolver=resolver)
    assert report.records_created["membership"] == 0, report.records_created
    assert report.records_created["membership_evidence"] == 2
    with db.get_engine(sqlite_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Membership)).scalar_one() == 2
        found = disagreements(conn, of="membership")
    assert [(d["place"], d["field"], sorted(v["value"] for v in d["values"])) for d in found] == [
        ("Bologna", "since_year", [2009, 2010])
    ]
    assert found[0]["organisation"] == GCOM and found[0]["record"] == "membership"

    # Heidelberg's status (suspended) is given by the Covenant alone: no disagreement until a second source says.
    again = write_csv(tmp_path / "other.csv", MEMBER_HEADER, [
        ["Heidelberg", "Germany", GCOM, "member", "2015", "2016", "49.4077", "8.6908", ""]])  # fmt: skip
    import_memberships(again, resolver=resolver)
    result = runner.invoke(app, ["review", "disagreements", "--of", "membership", "--json"])
    assert result.exit_code == 0, result.output
    assert [d["place"] for d in json.loads(result.output)["items"]] == ["Bologna"]
    table = runner.invoke(app, ["review", "disagreements"])
    assert "membership" in table.output and "Bologna" in table.output and "2009" in table.output
    bad = runner.invoke(app, ["review", "disagreements", "--of", "activity"])
    assert bad.exit_code == 2 and "--of" in bad.output

    # Re-importing either source changes nothing.
    before = dump_db(sqlite_url)
    assert sum(import_covenant(book, resolver=resolver).records_created.values()) == 0
    assert sum(import_memberships(members, resolver=resolver).records_created.values()) == 0
    assert dump_db(sqlite_url) == before


def test_profile_and_export_show_each_memberships_sources(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    members = write_csv(tmp_path / "networks.csv", MEMBER_HEADER, [
        ["Bologna", "Italy", GCOM, "member", "2009", "", "44.4949", "11.3426", ""]])  # fmt: skip
    import_memberships(members, resolver=resolver)
    import_covenant(_workbook(tmp_path / "gcom.xlsx", [BOLOGNA]), resolver=resolver)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        bologna = s.scalars(select(Place).where(Place.name == "Bologna")).one()
        profile = city_profile(s, bologna)
        exported = list(export_rows(s, "memberships"))
    (m,) = profile["memberships"]
    assert [e["label"] for e in m["evidence"]] == ["networks.csv row 2", "gcom.xlsx sheet 1 row 2, organisation_id 10"]
    assert [e["values"].get("since_year") for e in m["evidence"]] == [2009, 2010]
    assert m["evidence"][1]["values"]["status"] == "active"
    (row,) = exported
    assert row["evidence"] == "networks.csv row 2; gcom.xlsx sheet 1 row 2, organisation_id 10"


def test_city_page_shows_membership_evidence(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    from test_web_support import PASSWORD

    from citydiplomacy.web.auth import create_user

    members = write_csv(tmp_path / "networks.csv", MEMBER_HEADER, [
        ["Bologna", "Italy", GCOM, "member", "2009", "", "44.4949", "11.3426", ""]])  # fmt: skip
    import_memberships(members, resolver=resolver)
    import_covenant(_workbook(tmp_path / "gcom.xlsx", [BOLOGNA]), resolver=resolver)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        create_user(s, "viewer", PASSWORD, "viewer")
        bologna = s.scalars(select(Place.id).where(Place.name == "Bologna")).one()
    with TestClient(create_app(sqlite_url, secret_key="t")) as client:
        login(client, "viewer")
        page = client.get(f"/cities/{bologna}")
        assert page.status_code == 200
        table = page.text.split('id="memberships"', 1)[1].split("</table>", 1)[0]
        # Each source as its citation (the file's name, where in it), one per line, linked to its record.
        assert "networks.csv</bdi>" in table and "<bdi>row 2</bdi>" in table and "<br>" in table
        # The Covenant's file is cited by its source's citation (the JRC data set), with its sheet and row.
        assert "Joint Research Centre" in table and "sheet 1 row 2" in table and table.count('href="/sources/') == 2


# --------------------------------------------------------------------------------------------- merge, migration
def test_merge_keeps_the_evidence_of_a_dropped_duplicate_membership(
    sqlite_url: str, tmp_path: Path, resolver: Resolver
) -> None:
    a = write_csv(tmp_path / "a.csv", MEMBER_HEADER, [["Bologna", "Italy", "ICLEI", "member", "2001", "", "", "", ""]])
    b = write_csv(tmp_path / "b.csv", MEMBER_HEADER, [["Qwzxbologna", "Italy", "ICLEI", "member", "2003", "", "", "",
                                                        ""]])  # fmt: skip
    import_memberships(a, resolver=resolver)
    import_memberships(b, resolver=resolver)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        old = s.scalars(select(Place).where(Place.name == "Qwzxbologna")).one()
        target = s.scalars(select(Place).where(Place.name == "Bologna")).one()
        summary = merge_places(s, old, target, actor="tester")
        assert summary.dropped["membership"] == 1 and summary.moved["membership_evidence"] == 1
    with db.get_engine(sqlite_url).connect() as conn:
        (mid,) = conn.execute(select(Membership.id)).scalars().all()
        assert sorted(e["label"] for e in evidence_of(conn, [mid], of="membership")[mid]) == [
            "a.csv row 2",
            "b.csv row 2",
        ]
        assert disagreements(conn, of="membership")[0]["field"] == "since_year"


def test_migration_0010_gives_existing_memberships_and_relations_their_evidence(
    db_url: str, tmp_path: Path, resolver: Resolver
) -> None:
    from alembic import command
    from sqlalchemy import delete

    from citydiplomacy.ingest.twinning import import_twinning

    members = write_csv(tmp_path / "networks.csv", MEMBER_HEADER, [
        ["Bologna", "Italy", "ICLEI", "board", "2001", "", "", "", ""]])  # fmt: skip
    import_memberships(members, resolver=resolver)
    head = ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2", "signed_year"]
    import_twinning(write_csv(tmp_path / "t.csv", head, [["Tehran", "IR", "", "", "Bishkek", "KG", "", "", "1999"]]),
                    resolver=resolver)  # fmt: skip
    engine = db.get_engine(db_url)
    with engine.begin() as conn:  # a registry written before 0010: relations entered by hand had no evidence
        conn.execute(delete(RelationEvidence))
    command.downgrade(db.alembic_config(engine), "0008")
    db.upgrade(engine)
    assert _without_evidence(db_url) == (0, 0)
    with engine.connect() as conn:
        mid = conn.execute(select(Membership.id)).scalar_one()
        rid = conn.execute(select(Relation.id)).scalar_one()
        (m,) = evidence_of(conn, [mid], of="membership")[mid]
        (r,) = evidence_of(conn, [rid])[rid]
    assert m["values"] == {"since_year": 2001} and m["label"] == "networks.csv row 2" and m["retrieved_at"]
    assert r["values"]["signed_year"] == 1999 and r["locator"] == "row 2"


def test_export_csv_of_memberships_has_an_evidence_column(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    members = write_csv(tmp_path / "networks.csv", MEMBER_HEADER, [
        ["Bologna", "Italy", "ICLEI", "member", "2001", "", "", "", ""]])  # fmt: skip
    import_memberships(members, resolver=resolver)
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["export", "memberships", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0]["evidence"] == "networks.csv row 2"
