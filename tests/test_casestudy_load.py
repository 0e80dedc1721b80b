"""Loading the bundled Tehran case study into the registry (both back ends): counts, provenance, idempotence."""

from __future__ import annotations

import re

from registry_helpers import CASE_RELATIONS, dump_db, write_csv
from sqlalchemy import or_, select

from citydiplomacy import settings
from citydiplomacy.ingest.casestudy import load_case_study as load
from citydiplomacy.ingest.casestudy import read_case_study
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.queries import city_profile, stats
from citydiplomacy.store.schema import (
    Activity,
    AuditEntry,
    MemberCount,
    Membership,
    Organisation,
    Place,
    PlaceName,
    Relation,
    Source,
)

SEED_FILE = re.compile(r"00\d_[0-9a-f]{16}\.txt")


def _tehran_relations(session) -> list[Relation]:  # type: ignore[no-untyped-def]
    tehran = find_place(session, "Tehran", "IR")
    return list(
        session.scalars(select(Relation).where(or_(Relation.place_a_id == tehran.id, Relation.place_b_id == tehran.id)))
    )


def test_tehran_case_study_loads_with_the_papers_relations(db_url: str) -> None:
    data = read_case_study()
    summary = load()

    table_2 = [r for r in data["relations"] if "Table 2" in r["cite"]["locator"]]
    friendships = [r for r in data["relations"] if r["kind"] == "friendship"]
    assert (len(table_2), len(friendships)) == (24, 5)
    assert summary.created["relation"] == CASE_RELATIONS
    with db.session_scope() as session:
        relations = _tehran_relations(session)
        assert len(relations) == CASE_RELATIONS
        assert sum(r.kind == "friendship" for r in relations) == 5
        assert all(r.place_a_id < r.place_b_id for r in relations)
        dated = sorted(((r.signed_year, r.id), r) for r in relations if r.kind == "sister_city" and r.signed_year)
        (first_year, _), first = dated[0]
        tehran = find_place(session, "Tehran", "IR")
        partner = session.get(Place, first.place_b_id if first.place_a_id == tehran.id else first.place_a_id)
        assert (partner.name, partner.country_code, first_year) == ("Bishkek", "KG", 1994)
        # Two relations of different kinds with Paris (MoU and friendship), none duplicated.
        paris = find_place(session, "Paris", "FR")
        with_paris = sorted(r.kind for r in relations if paris.id in (r.place_a_id, r.place_b_id))
        assert with_paris == ["friendship", "mou"]

        # Persian names: on the place and as a place_name in language fa; findable by them.
        assert tehran.name_fa == "تهران"
        fa = session.scalars(select(PlaceName).where(PlaceName.place_id == tehran.id, PlaceName.lang == "fa")).all()
        assert [(n.name, n.kind) for n in fa] == [("تهران", "official")]
        assert find_place(session, "تهران").id == tehran.id
        assert find_place(session, "بیشکک").name == "Bishkek"

        # Every record cites a seed paper by its file name, with a locator.
        declared = {src["file"] for src in data["sources"].values()}
        assert all(SEED_FILE.fullmatch(name) for name in declared)
        seeds = settings.shared_data_path("twin_cities.csv").parent.parent / "seeds"
        if seeds.is_dir():
            assert declared <= {p.name for p in seeds.iterdir()}
        sources = {s.id: s for s in session.scalars(select(Source))}
        assert {s.name for s in sources.values()} == declared
        assert all(s.kind == "paper" and s.citation for s in sources.values())
        for model in (Place, Organisation, MemberCount, Relation, Membership, Activity):
            records = session.scalars(select(model)).all()
            assert records, model
            for record in records:
                assert record.source_id in sources, (model.__name__, record.id)
                assert record.source_locator, (model.__name__, record.id)
                assert record.entered_by == "casestudy"

        # Every created record has its insert in the audit trail, by the case-study loader.
        for entity, model in (("relation", Relation), ("membership", Membership), ("organisation", Organisation),
                              ("activity", Activity), ("place", Place), ("member_count", MemberCount)):  # fmt: skip
            ids = set(session.scalars(select(model.id)))
            inserted = set(
                session.scalars(
                    select(AuditEntry.entity_id).where(AuditEntry.entity == entity, AuditEntry.action == "insert")
                )
            )
            assert inserted == ids, entity
        assert set(session.scalars(select(AuditEntry.actor))) == {"casestudy"}

    # Loading again changes nothing at all.
    before, before_stats = dump_db(db_url), stats()
    second = load()
    assert sum(second.created.values()) == 0
    assert second.present["relation"] == CASE_RELATIONS
    assert second.present["membership"] == summary.created["membership"]
    assert stats() == before_stats
    assert dump_db(db_url) == before


def test_case_study_after_a_twinning_import_reuses_places(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        tmp_path / "p.csv", ["city1", "country1", "city2", "country2"], [["Tehran", "Iran", "Bishkek", "KG"]]
    )
    import_twinning(path)
    load()
    with db.session_scope() as session:
        assert len(session.scalars(select(Place).where(Place.gazetteer_id == "112931")).all()) == 1
        relations = _tehran_relations(session)
        # The file's sister-city pair and the paper's are the same relation (same places, same kind).
        assert len(relations) == CASE_RELATIONS
        profile = city_profile(session, find_place(session, "Tehran", "IR"))
        assert len(profile["relations"]) == CASE_RELATIONS
        assert {m["acronym"] for m in profile["memberships"]} >= {"UCLG", "OICC", "AMF", "GFCD"}
        assert {m["role"] for m in profile["memberships"]} >= {"founding", "board", "secretariat_host", "active"}
