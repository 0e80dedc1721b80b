"""The audit trail: every change to the registry, with who made it, when, and what changed.

Two paths write it, inside the same transaction as the change itself (so a rolled-back change leaves no
audit entry and a committed one always has one):

* ORM sessions (web forms, case-study loader, editors): an ``after_flush`` hook on every
  :class:`~sqlalchemy.orm.Session` records inserts, updates (field -> ``[old, new]``) and deletes of
  audited entities.  The actor and context come from ``session.info["actor"]`` / ``["context"]``.
* Bulk importers, which use Core inserts for speed, call :func:`record_bulk` (ids in hand) or
  :func:`record_bulk_select` (ids chosen by a query, written without leaving the database).
* Changes to who may use the web application (users, their login sessions; :data:`ACCESS_ENTITIES`) are
  written by :mod:`citydiplomacy.web.auth` with :func:`record_change`.  They are audited like the registry's
  data but are no part of it: they never advance the data version (:mod:`citydiplomacy.store.runs`), so
  ending a session does not make an analysis look out of date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, event, func, insert, inspect, literal, select
from sqlalchemy.orm import Session, UOWTransaction

from citydiplomacy import settings
from citydiplomacy.store.schema import (
    Activity,
    ActivityPerson,
    AgreementSignatory,
    AuditEntry,
    Document,
    FollowUpAction,
    IndicatorValue,
    MemberCount,
    Membership,
    MembershipDue,
    Organisation,
    Outcome,
    Person,
    Place,
    PlaceMention,
    Relation,
    RelationStatus,
    utcnow,
)

AUDITED: tuple[type, ...] = (
    Place,
    Organisation,
    MemberCount,
    Relation,
    RelationStatus,
    Membership,
    Activity,
    MembershipDue,
    Outcome,
    FollowUpAction,
    IndicatorValue,
    PlaceMention,
    Person,
    AgreementSignatory,
    ActivityPerson,
    Document,
)
#: Not copied into the trail: the version counter, the entry time, and a document's bytes (its size and
#: SHA-256 are: they say which file it was).
_SKIP_FIELDS = {"version", "entered_at", "content"}
#: Entities of the access records (``app_user``, ``web_session``): audited, but not the registry's data.
ACCESS_ENTITIES: tuple[str, ...] = ("app_user", "web_session")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _column_values(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {
        col.key: _jsonable(getattr(obj, col.key))
        for col in mapper.column_attrs
        if col.key not in _SKIP_FIELDS and getattr(obj, col.key) is not None
    }


def _changed_values(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in _SKIP_FIELDS:
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                changes[attr.key] = [_jsonable(old), _jsonable(new)]
    return changes


@event.listens_for(Session, "after_flush")
def _audit_after_flush(session: Session, _flush: UOWTransaction) -> None:
    session.info.pop("changes_since", None)  # counts of changes since a run (store.runs) are now stale
    actor = session.info.get("actor", settings.DEFAULT_ACTOR)
    context = session.info.get("context")
    now = utcnow()
    rows: list[dict[str, Any]] = []

    def add(action: str, obj: Any, changes: dict[str, Any] | None) -> None:
        rows.append(
            {
                "at": now,
                "actor": actor,
                "action": action,
                "entity": obj.__tablename__,
                "entity_id": getattr(obj, "id", None),
                "changes": changes,
                "context": context,
            }
        )

    for obj in session.new:
        if isinstance(obj, AUDITED):
            add("insert", obj, _column_values(obj))
    for obj in session.dirty:
        if isinstance(obj, AUDITED) and session.is_modified(obj, include_collections=False):
            changes = _changed_values(obj)
            if changes:
                add("update", obj, changes)
    for obj in session.deleted:
        if isinstance(obj, AUDITED):
            add("delete", obj, _column_values(obj))
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def record_bulk(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    ids: Iterable[int],
    context: str,
    changes: Sequence[dict[str, Any] | None] | None = None,
) -> int:
    """Write one audit entry per record changed by a bulk (Core) operation.

    Parameters
    ----------
    conn
        The connection of the transaction that made the change.
    actor, action, entity, context
        Who, what kind of change (``insert``/``update``/``delete``), which table, and why
        (e.g. ``"import twinning twin_cities.csv"``).
    ids
        Primary keys of the changed records.
    changes
        Optional per-record change payloads, aligned with ``ids``.

    Returns
    -------
    int
        Number of audit entries written.
    """
    now = utcnow()
    ids = list(ids)
    payloads = list(changes) if changes is not None else [None] * len(ids)
    rows = [
        {
            "at": now,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": i,
            "changes": c,
            "context": context,
        }
        for i, c in zip(ids, payloads, strict=True)
    ]
    for start in range(0, len(rows), settings.IMPORT_BATCH_SIZE):
        conn.execute(insert(AuditEntry), rows[start : start + settings.IMPORT_BATCH_SIZE])
    return len(rows)


def record_bulk_select(
    conn: Connection, *, actor: str, action: str, entity: str, ids: Select[Any], context: str
) -> int:
    """Like :func:`record_bulk`, for the records whose ids ``ids`` selects: one ``INSERT ... SELECT``.

    Returns
    -------
    int
        Number of audit entries written.
    """
    table = AuditEntry.__table__
    at, who, what, which, why = (
        literal(value, table.c[column].type)
        for value, column in ((utcnow(), "at"), (actor, "actor"), (action, "action"), (entity, "entity"),
                              (context, "context"))
    )  # fmt: skip
    chosen = ids.subquery()
    count = int(conn.execute(select(func.count()).select_from(chosen)).scalar_one())  # rowcount: -1 on psycopg
    rows = select(at, who, what, which, chosen.c[0], why)
    conn.execute(insert(table).from_select(["at", "actor", "action", "entity", "entity_id", "context"], rows))
    return count


def record_change(
    session: Session, *, action: str, entity: str, entity_id: int | None, changes: dict[str, Any] | None
) -> None:
    """Write one audit entry in ``session``'s transaction, by its actor and in its context.

    For changes the ORM hook does not see: Core updates, and records whose columns must not be copied into
    the trail as they are (a user's password hash).

    Parameters
    ----------
    session
        The ORM session of the change (``info["actor"]`` and ``info["context"]`` as the hook reads them).
    action, entity, entity_id
        What kind of change (``insert``/``update``/``delete``), which table, which row.
    changes
        Field -> ``[old, new]`` for an update, the fields for an insert or a delete (JSON-ready values).
    """
    session.connection().execute(
        insert(AuditEntry),
        [
            {
                "at": utcnow(),
                "actor": session.info.get("actor", settings.DEFAULT_ACTOR),
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "changes": _jsonable(changes) if changes is not None else None,
                "context": session.info.get("context"),
            }
        ],
    )
