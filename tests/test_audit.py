"""The audit trail: ORM changes and bulk imports write one entry per changed record, in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from citydiplomacy.store import db
from citydiplomacy.store.audit import record_bulk
from citydiplomacy.store.schema import AnalysisRun, AuditEntry, Organisation, Place


def _entries(entity: str) -> list[AuditEntry]:
    with db.session_scope() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)))


def _new_place(**overrides: object) -> Place:
    values = {"gazetteer": "source", "gazetteer_id": "IR:testabad", "name": "Testabad", "country_code": "IR",
              "lat": 35.0, "lng": 51.0}  # fmt: skip
    values.update(overrides)
    return Place(**values)


def test_insert_update_delete_are_audited_with_actor_and_changes(db_url: str) -> None:
    with db.session_scope() as session:
        session.info.update(actor="alice", context="manual edit")
        place = _new_place()
        session.add(place)
        session.flush()
        place_id = place.id
    with db.session_scope() as session:
        session.info["actor"] = "bob"
        place = session.get(Place, place_id)
        place.name = "Testabad-e Olya"
        place.population = 1200
    with db.session_scope() as session:
        session.info["actor"] = "carol"
        session.delete(session.get(Place, place_id))

    insert, update, delete = _entries("place")
    assert (insert.action, insert.actor, insert.context, insert.entity_id) == (
        "insert",
        "alice",
        "manual edit",
        place_id,
    )
    assert insert.changes["name"] == "Testabad" and insert.changes["lat"] == 35.0
    assert "version" not in insert.changes  # bookkeeping columns are not audited
    assert (update.action, update.actor) == ("update", "bob")
    assert update.changes == {"name": ["Testabad", "Testabad-e Olya"], "population": [None, 1200]}
    assert (delete.action, delete.actor, delete.entity_id) == ("delete", "carol", place_id)
    assert delete.changes["name"] == "Testabad-e Olya"
    assert insert.at <= update.at <= delete.at


def test_no_op_update_writes_no_entry(db_url: str) -> None:
    with db.session_scope() as session:
        session.add(_new_place())
    with db.session_scope() as session:
        place = session.scalars(select(Place)).one()
        place.name = "Testabad"  # same value
    assert [e.action for e in _entries("place")] == ["insert"]


def test_rolled_back_change_leaves_no_audit_entry(db_url: str) -> None:
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.add(_new_place())
        session.flush()  # the audit row is written here ...
        raise RuntimeError("changed my mind")  # ... and rolled back with the change
    assert _entries("place") == []
    with db.session_scope() as session:
        assert session.scalars(select(Place)).all() == []


def test_unaudited_tables_write_no_entries(db_url: str) -> None:
    with db.session_scope() as session:
        session.add(AnalysisRun(kind="network", parameters={"k": 1}))
    with db.session_scope() as session:
        assert session.scalars(select(AuditEntry)).all() == []


def test_record_bulk_writes_one_entry_per_id(db_url: str) -> None:
    engine = db.get_engine(db_url)
    with engine.begin() as conn:
        n = record_bulk(conn, actor="importer", action="insert", entity="organisation", ids=[3, 1, 2],
                        context="import x", changes=[{"a": 1}, None, {"b": [1, 2]}])  # fmt: skip
    assert n == 3
    entries = _entries("organisation")
    assert [(e.entity_id, e.changes) for e in entries] == [(3, {"a": 1}), (1, None), (2, {"b": [1, 2]})]
    assert {(e.actor, e.action, e.context) for e in entries} == {("importer", "insert", "import x")}
    with pytest.raises(ValueError), engine.begin() as conn:  # misaligned payloads are a programming error
        record_bulk(conn, actor="x", action="insert", entity="place", ids=[1, 2], context="c", changes=[None])


def test_json_columns_are_audited_as_json(db_url: str) -> None:
    with db.session_scope() as session:
        org = Organisation(name="Metropolis", kind="global_network", themes=["housing"], eligibility={"min": 1})
        session.add(org)
    with db.session_scope() as session:
        org = session.scalars(select(Organisation)).one()
        org.themes = ["housing", "mobility"]
    insert, update = _entries("organisation")
    assert insert.changes["themes"] == ["housing"] and insert.changes["eligibility"] == {"min": 1}
    assert update.changes == {"themes": [["housing"], ["housing", "mobility"]]}
