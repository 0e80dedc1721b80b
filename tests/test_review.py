"""Merging places (every reference moves) and the review service (queue, resolve, keep, reject, CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_helpers import TWIN_HEADER, write_csv
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.core.errors import BadInput, Conflict, NotFound, VersionConflict
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db, review
from citydiplomacy.store.lookup import get_place_by_id
from citydiplomacy.store.places import MERGE_RULES, merge_places, place_references
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    AnalysisRun,
    AuditEntry,
    CityResult,
    IndicatorValue,
    Membership,
    Organisation,
    Place,
    PlaceMention,
    PlaceName,
    PlaceRedirect,
    Relation,
)

SPRINGFIELD_IL = "4250542"  # GeoNames: Springfield, Illinois
SPRINGFIELD_MO = "4409896"  # GeoNames: Springfield, Missouri


def test_every_reference_to_a_place_has_a_merge_rule() -> None:
    """A table added with a foreign key to place.id must get a merge rule decided on purpose."""
    refs = place_references()
    assert ("city_result", "place_id") in refs and ("relation", "place_b_id") in refs
    missing = sorted(set(refs) - set(MERGE_RULES))
    assert not missing, f"merge_places has no rule for {missing}: add one to store.places.MERGE_RULES"
    assert not sorted(set(MERGE_RULES) - set(refs)), "a merge rule names a reference the schema no longer has"


def _place(session, name: str, gid: str, cc: str = "US", gazetteer: str = "geonames") -> Place:  # type: ignore[no-untyped-def]
    place = Place(gazetteer=gazetteer, gazetteer_id=gid, name=name, country_code=cc, status="gazetteer")
    session.add(place)
    session.flush()
    return place


def test_merge_moves_every_reference_and_drops_what_would_clash(db_url: str) -> None:
    with db.session_scope() as s:
        old = _place(s, "Springfield", "US:springfield", gazetteer="source")
        target = _place(s, "Springfield", SPRINGFIELD_IL)
        tehran, bishkek = _place(s, "Tehran", "112931", "IR"), _place(s, "Bishkek", "1528675", "KG")
        org = Organisation(name="UCLG", kind="global_network", themes=[], seat_place_id=old.id)
        s.add(org)
        s.flush()
        ids = {"old": old.id, "target": target.id, "tehran": tehran.id, "bishkek": bishkek.id, "org": org.id}
        pair = lambda a, b, kind="sister_city": Relation(  # noqa: E731
            place_a_id=min(a, b), place_b_id=max(a, b), kind=kind, source_locator=f"row {a}-{b}"
        )
        s.add_all([
            pair(old.id, tehran.id), pair(target.id, tehran.id),  # duplicate once merged
            pair(old.id, bishkek.id),  # moves
            pair(old.id, target.id, "friendship"),  # becomes a self-relation
            Membership(place_id=old.id, organisation_id=org.id, role="active"),
            Membership(place_id=target.id, organisation_id=org.id, role="active"),
            Membership(place_id=old.id, organisation_id=org.id, role="board"),
            IndicatorValue(place_id=old.id, indicator_code="X1", year=2020, value=1.0),
            IndicatorValue(place_id=target.id, indicator_code="X1", year=2020, value=2.0),
            IndicatorValue(place_id=old.id, indicator_code="X1", year=2021, value=3.0),
            PlaceName(place_id=old.id, name="Springfield", lang="und"),
            PlaceName(place_id=target.id, name="Springfield", lang="und"),
            PlaceName(place_id=old.id, name="Springfield, Ill.", lang="und"),
            PlaceMention(key="Springfield|US|", name_in_source="Springfield", status="ambiguous", place_id=old.id),
        ])  # fmt: skip
        act = Activity(kind="visit", title="Visit", place_id=old.id)
        shared = Activity(kind="summit", title="Summit")
        s.add_all([act, shared])
        s.flush()
        s.add_all([
            ActivityParticipant(activity_id=act.id, place_id=old.id),
            ActivityParticipant(activity_id=shared.id, place_id=old.id),
            ActivityParticipant(activity_id=shared.id, place_id=target.id),
        ])  # fmt: skip
        both, only_old = AnalysisRun(kind="network"), AnalysisRun(kind="assessment")
        s.add_all([both, only_old])
        s.flush()
        ids |= {"both": both.id, "only_old": only_old.id}
        s.add_all([
            CityResult(run_id=both.id, place_id=old.id, code="degree", value=1),
            CityResult(run_id=both.id, place_id=target.id, code="degree", value=5),
            CityResult(run_id=only_old.id, place_id=old.id, code="CDI", value=0.3),
            CityResult(run_id=only_old.id, place_id=old.id, code="rank", value=7),
        ])  # fmt: skip
        earlier = _place(s, "Sprinfield", "US:sprinfield", gazetteer="source")
        s.add(PlaceRedirect(old_place_id=earlier.id + 1000, place_id=old.id, merged_by="t"))

    with db.session_scope() as s:
        s.info["context"] = "test merge"
        old, target = s.get(Place, ids["old"]), s.get(Place, ids["target"])
        summary = merge_places(s, old, target, actor="merger")
    assert summary.moved["relation"] == 1 and summary.dropped["relation"] == 2
    assert summary.moved["city_result"] == 2 and summary.dropped["city_result"] == 1
    assert {r["reason"] for r in summary.dropped_relations} == {"self-relation", "duplicate"}

    with db.session_scope() as s:
        assert s.get(Place, ids["old"]) is None
        assert get_place_by_id(s, ids["old"]).id == ids["target"]  # the redirect
        assert {r.place_id for r in s.scalars(select(PlaceRedirect))} == {ids["target"]}  # no chains
        rels = s.scalars(select(Relation)).all()
        assert sorted((r.place_a_id, r.place_b_id) for r in rels) == sorted(
            [tuple(sorted((ids["target"], ids["tehran"]))), tuple(sorted((ids["target"], ids["bishkek"])))]
        )
        assert all(r.place_a_id < r.place_b_id for r in rels)
        assert sorted(s.scalars(select(Membership.role).where(Membership.place_id == ids["target"]))) == [
            "active",
            "board",
        ]
        values = dict(s.execute(select(IndicatorValue.year, IndicatorValue.value)).all())
        assert values == {2020: 2.0, 2021: 3.0}  # the target's value wins
        assert sorted(s.scalars(select(PlaceName.name).where(PlaceName.place_id == ids["target"]))) == [
            "Springfield",
            "Springfield, Ill.",
        ]
        assert s.scalars(select(PlaceMention.place_id)).one() == ids["target"]
        assert s.get(Organisation, ids["org"]).seat_place_id == ids["target"]
        assert {(p.activity_id, p.place_id) for p in s.scalars(select(ActivityParticipant))} == {
            (p.activity_id, ids["target"]) for p in s.scalars(select(ActivityParticipant))
        }
        assert s.scalar(select(func.count()).select_from(ActivityParticipant)) == 2
        results = {(r.run_id, r.code): r.value for r in s.scalars(select(CityResult))}
        assert results == {(ids["both"], "degree"): 5, (ids["only_old"], "CDI"): 0.3, (ids["only_old"], "rank"): 7}
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "merge")).one()
        assert (entry.entity, entry.entity_id, entry.actor) == ("place", ids["old"], "merger")
        assert entry.changes["target_id"] == ids["target"] and entry.changes["moved"]["relation"] == 1
        deleted = s.scalars(select(AuditEntry).where(AuditEntry.entity == "relation", AuditEntry.action == "delete"))
        assert {e.changes["source_locator"] for e in deleted} >= {f"row {ids['old']}-{ids['target']}"}
        if db_url.startswith("sqlite"):
            assert s.execute(text("PRAGMA foreign_key_check")).all() == []
        with pytest.raises(BadInput, match="into itself"):
            merge_places(s, s.get(Place, ids["target"]), s.get(Place, ids["target"]), actor="m")


def _cambridge(session) -> int:  # type: ignore[no-untyped-def]
    """An ambiguous mention whose first candidate is far from the source's coordinates."""
    mention = PlaceMention(
        key="Cambridge|UK|52.20000|0.12000",
        name_in_source="Cambridge",
        country_in_source="UK",
        lat_in_source=52.2,
        lng_in_source=0.12,
        status="ambiguous",
        place_id=_place(session, "Cambridge", "GB:cambridge@52.2000,0.1200", "GB", "source").id,
        candidates=[
            {"gazetteer_id": "4931972", "name": "Cambridge", "country_code": "US", "lat": 42.3751, "lng": -71.1056,
             "population": 118403, "score": 70.0, "distance_km": None},
            {"gazetteer_id": "2653941", "name": "Cambridge", "country_code": "GB", "lat": 52.2053, "lng": 0.1218,
             "population": 145818, "score": 65.0, "distance_km": None},
            {"reason": "not a gazetteer entry"},
        ],
    )  # fmt: skip
    session.add(mention)
    session.flush()
    return mention.id


def test_queue_enriches_candidates_and_preselects_the_best(db_url: str) -> None:
    with db.session_scope() as s:
        mention_id = _cambridge(s)
    with db.session_scope() as s:
        page = review.queue(s)
    assert page["total"] == 1
    item = page["items"][0]
    assert item["id"] == mention_id and item["version"] == 1
    us, gb, other = item["candidates"]
    assert item["best"] == 1  # Cambridge, England at 0.7 km, not Massachusetts at 5,000 km
    assert gb["distance_km"] < 1 and us["distance_km"] > 5000
    assert us["region"] == "Massachusetts" and gb["region"] == "England"
    assert not other["choosable"] and other["region"] is None
    # Without source coordinates the resolver's score decides.
    no_xy = [{**c, "distance_km": None} for c in item["candidates"]]
    assert review.best_candidate(no_xy, has_coordinates=False) == 0


def test_resolve_keep_and_reject(db_url: str) -> None:
    with db.session_scope() as s:
        first = _cambridge(s)
        provisional = s.get(PlaceMention, first).place_id
        second = PlaceMention(key="Lagoa|PT|", name_in_source="Lagoa", status="ambiguous",
                              place_id=_place(s, "Lagoa", "PT:lagoa", "PT", "source").id)  # fmt: skip
        third = PlaceMention(key="Nienburg|DE|", name_in_source="Nienburg", status="ambiguous",
                             place_id=_place(s, "Nienburg", "DE:nienburg", "DE", "source").id)  # fmt: skip
        s.add_all([second, third])
        s.flush()
        second_id, third_id = second.id, third.id

    with db.session_scope() as s, pytest.raises(VersionConflict):
        review.resolve(s, first, candidate=1, version=7, actor="ana")
    with db.session_scope() as s, pytest.raises(BadInput, match="no candidate 2"):
        review.resolve(s, first, candidate=2, version=1, actor="ana")  # not a gazetteer entry
    with db.session_scope() as s, pytest.raises(BadInput, match="exactly one"):
        review.resolve(s, first, version=1, actor="ana")
    with db.session_scope() as s, pytest.raises(NotFound):
        review.resolve(s, 10**6, candidate=0, version=1, actor="ana")
    with db.session_scope() as s:
        mention = review.resolve(s, first, candidate=1, version=1, actor="ana")
        assert (mention.status, mention.reviewed_by, mention.version) == ("reviewed", "ana", 2)
    with db.session_scope() as s:
        place = s.get(PlaceMention, first).place
        assert (place.gazetteer_id, place.admin1_code, place.country_code) == ("2653941", "ENG", "GB")
        assert s.get(Place, provisional) is None  # merged into the chosen place
        assert get_place_by_id(s, provisional).id == place.id
        with pytest.raises(Conflict, match="reviewed by ana"):
            review.resolve(s, first, candidate=0, version=2, actor="bob")

    with db.session_scope() as s:
        kept = review.keep(s, second_id, version=1, actor="ana")
        assert kept.status == "kept" and kept.place.status == "confirmed"
    with db.session_scope() as s:
        rejected = review.reject(s, third_id, version=1, actor="bob")
        assert (rejected.status, rejected.reviewed_by, rejected.place.status) == ("rejected", "bob", "gazetteer")
    with db.session_scope() as s:
        assert review.queue(s)["total"] == 0
        with pytest.raises(Conflict):
            review.keep(s, third_id, version=2, actor="ana")


def test_the_cli_works_the_queue(db_url: str, tmp_path: Path) -> None:
    write_csv(tmp_path / "springfield.csv", TWIN_HEADER, [
        ["Springfield", "United States", "", "", "Tehran", "Iran", "", ""],
        ["Springfield", "United States", "39.80", "-89.64", "Tehran", "Iran", "", ""],
        ["Springfield", "United States", "", "", "Bishkek", "Kyrgyzstan", "", ""],
        ["Greenville", "United States", "", "", "Tehran", "Iran", "", ""],
        ["Franklin", "United States", "", "", "Tehran", "Iran", "", ""],
    ])  # fmt: skip
    import_twinning(tmp_path / "springfield.csv")
    runner = CliRunner()
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.stdout)
    by_name = {m["name_in_source"]: m for m in page["items"]}
    assert set(by_name) == {"Springfield", "Greenville", "Franklin"}
    spring = by_name["Springfield"]
    illinois = next(c["index"] for c in spring["candidates"] if c["gazetteer_id"] == SPRINGFIELD_IL)
    assert all(c["region"] for c in spring["candidates"])
    text_out = runner.invoke(app, ["review", "list"])
    assert text_out.exit_code == 0 and "Springfield" in text_out.output and "*" in text_out.output

    done = runner.invoke(app, ["review", "resolve", str(spring["id"]), "--candidate", str(illinois)])
    assert done.exit_code == 0, done.output
    assert "reviewed" in done.output
    again = runner.invoke(app, ["review", "resolve", str(spring["id"]), "--candidate", "0"])
    assert again.exit_code == 3 and "not waiting" in again.output
    stale = runner.invoke(app, ["review", "keep", str(by_name["Greenville"]["id"]), "--version", "9"])
    assert stale.exit_code == 3 and "changed by someone else" in stale.output
    kept = runner.invoke(app, ["review", "keep", str(by_name["Greenville"]["id"])])
    assert kept.exit_code == 0 and "kept" in kept.output
    by_place = runner.invoke(app, ["review", "resolve", str(by_name["Franklin"]["id"]), "--place", "Tehran",
                                   "--country", "IR"])  # fmt: skip
    assert by_place.exit_code == 0, by_place.output
    bad = runner.invoke(app, ["review", "resolve", "1", "--candidate", "0", "--place", "Tehran"])
    assert bad.exit_code == 2
    assert runner.invoke(app, ["review", "reject", "424242"]).exit_code == 2

    with db.session_scope() as s:
        statuses = [s.get(PlaceMention, by_name[n]["id"]).status for n in ("Springfield", "Greenville", "Franklin")]
        assert statuses == ["reviewed", "kept", "reviewed"]
        spring_place = s.scalars(select(Place).where(Place.gazetteer_id == SPRINGFIELD_IL)).one()
        others = {r.place_a_id if r.place_b_id == spring_place.id else r.place_b_id
                  for r in s.scalars(select(Relation)) if spring_place.id in (r.place_a_id, r.place_b_id)}  # fmt: skip
        assert len(others) == 2  # Tehran (once) and Bishkek
        assert s.scalar(select(func.count()).select_from(PlaceRedirect)) == 2


def test_a_reference_without_a_rule_is_still_moved(db_url: str) -> None:
    """A table added later (here, for the test only) is covered by the generic move, unique keys respected."""
    from sqlalchemy import Column, ForeignKey, Integer, String, Table, UniqueConstraint

    from citydiplomacy.store.schema import Base

    future = Table(
        "future_note",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("place_id", ForeignKey("place.id"), nullable=False),
        Column("topic", String(20)),
        UniqueConstraint("place_id", "topic", name="future_note_topic"),
    )
    engine = db.get_engine(db_url)
    try:
        future.create(engine)
        assert ("future_note", "place_id") in place_references()
        with db.session_scope() as s:
            old, target = _place(s, "Old", "XX:old", gazetteer="source"), _place(s, "Target", "1")
            ids = (old.id, target.id)
            s.execute(future.insert(), [
                {"place_id": old.id, "topic": "a"}, {"place_id": old.id, "topic": "b"},
                {"place_id": target.id, "topic": "a"},
            ])  # fmt: skip
        with db.session_scope() as s:
            summary = merge_places(s, s.get(Place, ids[0]), s.get(Place, ids[1]), actor="m")
        assert (summary.moved["future_note"], summary.dropped["future_note"]) == (1, 1)
        with engine.connect() as conn:
            rows = conn.execute(select(future.c.place_id, future.c.topic).order_by(future.c.topic)).all()
        assert rows == [(ids[1], "a"), (ids[1], "b")]
    finally:
        Base.metadata.remove(future)
        future.drop(engine, checkfirst=True)
