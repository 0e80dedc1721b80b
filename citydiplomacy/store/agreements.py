"""Agreements: relations read as the office's records (parties, titles, dates, themes, status and its history).

An agreement is a :class:`~citydiplomacy.store.schema.Relation` row: two places, or a place and an
organisation.  Its status changes only through :func:`citydiplomacy.store.records.change_status` (the one write
service: version check, audit), which asks :func:`check_transition` here whether the model's lifecycle
(:mod:`citydiplomacy.model.lifecycle`) allows the change, and writes the history row with :func:`add_status`.

Relations written in bulk (importers) have no history row yet: :func:`history` then shows the status they were
first recorded with, from the record itself, and the first change writes that row before its own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from citydiplomacy.core.errors import Conflict
from citydiplomacy.model.lifecycle import load_lifecycle
from citydiplomacy.store.schema import Organisation, Place, Relation, RelationStatus, Source

__all__ = [
    "TransitionRefused",
    "add_status",
    "agreement_dict",
    "agreements_query",
    "check_transition",
    "ensure_first_status",
    "history",
    "load_agreement",
    "parties_of",
    "summary_dict",
]


class TransitionRefused(Conflict):
    """The lifecycle does not allow this status change from the agreement's current status (HTTP 409)."""

    def __init__(self, record_id: int, current: str, new: str, allowed: tuple[str, ...]):
        can = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"agreement {record_id} is {current}: it cannot become {new} (from {current} it can become: {can}); "
            "an ended agreement is renegotiated or a new one recorded beside it"
        )
        self.current = current
        self.new = new
        self.allowed = allowed


def check_transition(record_id: int, current: str, new: str) -> None:
    """Refuse a status change the lifecycle does not list.

    Raises
    ------
    TransitionRefused
        ``current`` cannot change to ``new`` (the message names the changes it can make).
    """
    lifecycle = load_lifecycle()
    if not lifecycle.allows(current, new):
        raise TransitionRefused(record_id, current, new, lifecycle.allowed(current))


def add_status(
    session: Session,
    relation: Relation,
    status: str,
    *,
    actor: str,
    reason: str | None,
    previous: str | None,
    effective_on: date | None = None,
    source_id: int | None = None,
    source_locator: str | None = None,
    at: datetime | None = None,
) -> RelationStatus:
    """Append one row to an agreement's status history (in the session's transaction; audited)."""
    row = RelationStatus(
        status=status,
        previous_status=previous,
        effective_on=effective_on,
        changed_by=actor,
        reason=reason,
        source_id=source_id,
        source_locator=source_locator,
    )
    if at is not None:
        row.changed_at = at
    relation.history.append(row)
    return row


def ensure_first_status(session: Session, relation: Relation) -> None:
    """Give a relation written in bulk (no history) the row of the status it was first recorded with."""
    if not relation.history:
        add_status(
            session,
            relation,
            relation.status,
            actor=relation.entered_by,
            reason=None,
            previous=None,
            source_id=relation.source_id,
            source_locator=relation.source_locator,
            at=relation.entered_at,
        )


def load_agreement(session: Session, record_id: int) -> Relation | None:
    """The agreement ``record_id`` with its parties and history loaded (None: no such record)."""
    return session.scalar(
        select(Relation)
        .where(Relation.id == record_id)
        .options(
            selectinload(Relation.place_a),
            selectinload(Relation.place_b),
            selectinload(Relation.organisation),
            selectinload(Relation.history),
        )
    )


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _place(place: Place) -> dict[str, Any]:
    return {
        "type": "place",
        "id": place.id,
        "name": place.name,
        "name_fa": place.name_fa,
        "country_code": place.country_code,
    }


def _organisation(org: Organisation) -> dict[str, Any]:
    return {"type": "organisation", "id": org.id, "name": org.name, "name_fa": org.name_fa, "acronym": org.acronym}


def parties_of(relation: Relation, place_id: int | None = None) -> list[dict[str, Any]]:
    """The two parties, the place ``place_id`` (when it is one of them) first."""
    first = _place(relation.place_a)
    second = _organisation(relation.organisation) if relation.organisation else _place(relation.place_b)  # type: ignore[arg-type]
    if place_id is not None and second["type"] == "place" and second["id"] == place_id:
        first, second = second, first
    return [first, second]


def history(session: Session, relation: Relation) -> list[dict[str, Any]]:
    """The agreement's statuses, oldest first: status, previous, effective date, who, when, why, source."""
    names = {}
    ids = {r.source_id for r in relation.history if r.source_id} | {relation.source_id}
    ids.discard(None)
    if ids:
        names = dict(session.execute(select(Source.id, Source.name).where(Source.id.in_(ids))).all())
    rows = [
        {
            "status": r.status,
            "previous_status": r.previous_status,
            "effective_on": _iso(r.effective_on),
            "changed_at": _iso(r.changed_at),
            "changed_by": r.changed_by,
            "reason": r.reason,
            "source": names.get(r.source_id) if r.source_id else None,
            "source_locator": r.source_locator,
            "recorded": True,
        }
        for r in relation.history
    ]
    if not rows:  # written in bulk: the status it was first recorded with, from the record itself
        rows = [
            {
                "status": relation.status,
                "previous_status": None,
                "effective_on": None,
                "changed_at": _iso(relation.entered_at),
                "changed_by": relation.entered_by,
                "reason": None,
                "source": names.get(relation.source_id) if relation.source_id else None,
                "source_locator": relation.source_locator,
                "recorded": False,
            }
        ]
    return rows


def summary_dict(relation: Relation, place_id: int | None = None) -> dict[str, Any]:
    """The fields a list of agreements shows: id, parties, kind, titles, dates, status, version."""
    return {
        "id": relation.id,
        "parties": parties_of(relation, place_id),
        "kind": relation.kind,
        "title": relation.title,
        "title_fa": relation.title_fa,
        "signed_on": _iso(relation.signed_on),
        "signed_year": relation.signed_year,
        "valid_until": _iso(relation.valid_until),
        "ended_year": relation.ended_year,
        "status": relation.status,
        "version": relation.version,
    }


def agreement_dict(session: Session, relation: Relation) -> dict[str, Any]:
    """Everything about one agreement, JSON-ready: its fields, parties, themes, provenance and status history."""
    source = session.get(Source, relation.source_id) if relation.source_id else None
    lifecycle = load_lifecycle()
    return {
        **summary_dict(relation),
        "place_a_id": relation.place_a_id,
        "place_b_id": relation.place_b_id,
        "organisation_id": relation.organisation_id,
        "responsible_unit": relation.responsible_unit,
        "dimensions": list(relation.dimensions or []),
        "functions": list(relation.functions or []),
        "notes": relation.notes,
        "source": source.name if source else None,
        "source_citation": source.citation if source else None,
        "source_locator": relation.source_locator,
        "entered_by": relation.entered_by,
        "entered_at": _iso(relation.entered_at),
        "history": history(session, relation),
        "next_statuses": list(lifecycle.allowed(relation.status)),
    }


def agreements_query(
    place_id: int | None = None,
    organisation_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> Select[Any]:
    """Agreements, optionally of one place (either side), one partner organisation, kind and status; by id."""
    query = select(Relation).options(
        selectinload(Relation.place_a), selectinload(Relation.place_b), selectinload(Relation.organisation)
    )
    if place_id is not None:
        query = query.where(or_(Relation.place_a_id == place_id, Relation.place_b_id == place_id))
    if organisation_id is not None:
        query = query.where(Relation.organisation_id == organisation_id)
    if kind:
        query = query.where(Relation.kind == kind)
    if status:
        query = query.where(Relation.status == status)
    return query.order_by(Relation.id)
