"""The registry's store: review queue (store.review / merge_places), optimistic locking, place look-ups."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_helpers import TWIN_HEADER, write_csv
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound, PlaceNotFound
from citydiplomacy.geo.resolve import Resolver
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db, review
from citydiplomacy.store.lookup import find_place, find_places
from citydiplomacy.store.places import Mention, place_key, script_tag
from citydiplomacy.store.queries import stats
from citydiplomacy.store.schema import AuditEntry, Membership, Organisation, Place, PlaceMention, Relation

SPRINGFIELD_IL = "4250542"  # GeoNames: Springfield, Illinois


def _import_springfields(tmp_path: Path) -> None:
    """Springfield without coordinates is ambiguous (many in the US); with Illinois's coordinates it is not."""
    write_csv(tmp_path / "springfield.csv", TWIN_HEADER, [
        ["Springfield", "United States", "", "", "Tehran", "Iran", "", ""],
        ["Springfield", "United States", "39.80", "-89.64", "Tehran", "Iran", "", ""],
        ["Springfield", "United States", "", "", "Bishkek", "Kyrgyzstan", "", ""],
    ])  # fmt: skip
    report = import_twinning(tmp_path / "springfield.csv")
    assert report.places_ambiguous == 1
    assert report.records_created["relation"] == 3
    with db.session_scope() as session:
        org = Organisation(name="Sister Cities International", kind="global_network", themes=[])
        session.add(org)
        session.flush()
        provisional = session.scalars(select(Place).where(Place.gazetteer == "source")).one()
        session.add(Membership(place_id=provisional.id, organisation_id=org.id, role="active"))


def test_review_links_ambiguous_mention_and_merges_provisional_place(db_url: str, tmp_path: Path) -> None:
    _import_springfields(tmp_path)
    with db.session_scope() as session:
        mention = session.scalars(select(PlaceMention).where(PlaceMention.status == "ambiguous")).one()
        assert mention.candidates and len(mention.candidates) > 1  # the reviewer's choices
        provisional_id = mention.place_id
        assert session.get(Place, provisional_id).status == "ambiguous"
        chosen = session.scalars(select(Place).where(Place.gazetteer_id == SPRINGFIELD_IL)).one()
        chosen_id, mention_id = chosen.id, mention.id

    with db.session_scope() as session:
        session.info["context"] = "review"
        reviewed = review.resolve(session, mention_id, place_id=chosen_id, version=1, actor="reviewer")
        assert reviewed.status == "reviewed"

    with db.session_scope() as session:
        mention = session.get(PlaceMention, mention_id)
        assert (mention.place_id, mention.status, mention.reviewed_by) == (chosen_id, "reviewed", "reviewer")
        assert mention.reviewed_at is not None
        assert session.get(Place, provisional_id) is None  # merged away
        relations = session.scalars(select(Relation)).all()
        # Springfield-Tehran existed twice (provisional and Illinois): one is dropped; Bishkek's moved over.
        assert len(relations) == 2
        assert all(r.place_a_id < r.place_b_id for r in relations)
        assert all(chosen_id in (r.place_a_id, r.place_b_id) for r in relations)
        pairs = {(r.place_a_id, r.place_b_id, r.kind) for r in relations}
        assert len(pairs) == len(relations)
        assert session.scalars(select(Membership.place_id)).one() == chosen_id
        assert session.scalar(select(func.count()).select_from(Place).where(Place.gazetteer == "source")) == 0

        audit = session.execute(
            select(AuditEntry.entity, AuditEntry.action, AuditEntry.entity_id).where(AuditEntry.actor == "reviewer")
        ).all()
        kinds = {(e, a) for e, a, _ in audit}
        assert ("place_mention", "update") in kinds
        assert ("relation", "update") in kinds  # the Bishkek relation moved
        assert ("relation", "delete") in kinds  # the duplicate Tehran relation
        assert ("membership", "update") in kinds
        assert ("place", "delete", provisional_id) in set(audit)
        assert ("place", "merge", provisional_id) in set(audit)
        moved = session.scalars(
            select(AuditEntry).where(AuditEntry.actor == "reviewer", AuditEntry.entity == "place_mention")
        ).one()
        assert moved.changes["place_id"] == [provisional_id, chosen_id]
        assert moved.context == "review"


def test_review_of_unknown_mention_or_place_raises(db_url: str, tmp_path: Path) -> None:
    _import_springfields(tmp_path)
    with db.session_scope() as session:
        mention_id = session.scalars(select(PlaceMention.id).where(PlaceMention.status == "ambiguous")).one()
        place_id = session.scalars(select(Place.id)).first()
        with pytest.raises(NotFound, match="no place mention"):
            review.resolve(session, 10**6, place_id=place_id, version=None, actor="r")
        with pytest.raises(NotFound, match="no place with id 1000000"):
            review.resolve(session, mention_id, place_id=10**6, version=None, actor="r")


def test_concurrent_edits_of_one_relation_raise_stale_data(db_url: str, tmp_path: Path) -> None:
    import_twinning(write_csv(tmp_path / "p.csv", TWIN_HEADER, [["Tehran", "IR", "", "", "Bishkek", "KG", "", ""]]))
    factory = db.session_factory()
    first, second = factory(), factory()
    try:
        rel_id = first.scalars(select(Relation.id)).one()
        mine, theirs = first.get(Relation, rel_id), second.get(Relation, rel_id)
        assert mine.version == theirs.version == 1
        mine.status = "suspended"
        theirs.status = "ended"
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()
    with db.session_scope() as session:
        rel = session.get(Relation, rel_id)
        assert (rel.status, rel.version) == ("suspended", 2)


def test_relation_pair_order_is_enforced_by_the_database(db_url: str, tmp_path: Path) -> None:
    import_twinning(write_csv(tmp_path / "p.csv", TWIN_HEADER, [["Tehran", "IR", "", "", "Bishkek", "KG", "", ""]]))
    with db.session_scope() as session:
        rel = session.scalars(select(Relation)).one()
        a, b = rel.place_a_id, rel.place_b_id
    with pytest.raises(IntegrityError), db.session_scope() as session:
        session.add(Relation(place_a_id=b, place_b_id=a, kind="mou"))
    with pytest.raises(IntegrityError), db.session_scope() as session:
        session.add(Relation(place_a_id=a, kind="mou"))  # no second party: neither a place nor an organisation
    # Several agreements between the same parties are allowed (issue 10): a second one of the same kind is stored.
    with db.session_scope() as session:
        session.add(Relation(place_a_id=a, place_b_id=b, kind="sister_city", title="renewed charter"))
    assert stats()["relations"] == 2


def test_find_and_get_place(db_url: str, tmp_path: Path) -> None:
    write_csv(tmp_path / "p.csv", TWIN_HEADER, [
        ["Valencia", "Spain", "39.47", "-0.376", "Valencia", "Venezuela", "10.16", "-68.0"],
        ["Córdoba", "Argentina", "", "", "São Paulo", "Brazil", "", ""],
    ])  # fmt: skip
    import_twinning(tmp_path / "p.csv")
    with db.session_scope() as session:
        both = find_places(session, "valencia")
        assert {p.country_code for p in both} == {"ES", "VE"}
        with pytest.raises(AmbiguousPlace) as caught:
            find_place(session, "Valencia")
        assert {c["country_code"] for c in caught.value.candidates} == {"ES", "VE"}
        assert "--country" in str(caught.value) and "ES" in str(caught.value)
        assert find_place(session, "Valencia", "Spain").country_code == "ES"
        assert find_place(session, "Valencia", "VE").country_code == "VE"
        assert find_place(session, "Cordoba").name == "Córdoba"  # accents ignored
        assert find_place(session, "SAO PAULO").country_code == "BR"
        with pytest.raises(PlaceNotFound):
            find_place(session, "Valencia", "France")
        with pytest.raises(BadInput, match="unknown country"):
            find_place(session, "Valencia", "Narnia")
        # the country as a name in another script, as an ISO alpha-3 code, and a place by its id
        assert find_place(session, "Valencia", "اسپانیا").country_code == "ES"
        assert find_place(session, "Valencia", "esp").country_code == "ES"
        es = find_place(session, "Valencia", "ES")
        assert find_place(session, f"#{es.id}").id == es.id
        with pytest.raises(PlaceNotFound):
            find_place(session, f"#{es.id}", "VE")


def test_stats_counts_match_the_tables(db_url: str, tmp_path: Path) -> None:
    import_twinning(Path(__file__).with_name("fixtures") / "ingest" / "pairs_small.csv")
    data = stats()
    with db.session_scope() as session:
        assert data["places"] == session.scalar(select(func.count()).select_from(Place))
        assert data["relations"] == 4
        assert data["relations_by_kind"] == {"sister_city": 4}
        assert sum(data["places_by_status"].values()) == data["places"]
        assert sum(data["mentions_by_status"].values()) == data["place_mentions"] == 8
        assert data["audit_entries"] == session.scalar(select(func.count()).select_from(AuditEntry))
        assert data["sources"] == 1


def test_place_keys_and_script_tags() -> None:
    resolver = Resolver()
    tehran = Mention("Tehran", "Iran")
    assert place_key(tehran, resolver.resolve("Tehran", "Iran")) == ("geonames", "112931")
    wales = Mention("Wales", "United Kingdom")
    assert place_key(wales, resolver.resolve("Wales", "United Kingdom")) == ("iso3166-2", "GB-WLS")
    nowhere = Mention("Xyzzyquuxville", "France", 46.12346, 2.5)
    gazetteer, key = place_key(nowhere, resolver.resolve("Xyzzyquuxville", "France", 46.12346, 2.5))
    assert gazetteer == "source" and key == "FR:xyzzyquuxville@46.1235,2.5000"
    assert nowhere.key == "Xyzzyquuxville|France|46.12346|2.50000"
    assert [script_tag(n) for n in ("Tehran", "تهران", "Москва", "東京", "서울", "123")] == [
        "und-Latn", "und-Arab", "und-Cyrl", "und-Hani", "und-Kore", "und",
    ]  # fmt: skip
