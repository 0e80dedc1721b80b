"""Writing records from the web: create and update with provenance and optimistic locking.

The API and the dashboard's forms both call :func:`create_record` and :func:`update_record`, inside
one transaction per request; the audit hook (:mod:`citydiplomacy.store.audit`) records every change
with the session's actor.  An update names the version the editor read; if the record has moved on
since, :class:`VersionConflict` is raised and nothing is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import citydiplomacy.store.audit  # noqa: F401 - registers the audit hook on every ORM session
from citydiplomacy.core.errors import BadInput, VersionConflict
from citydiplomacy.store import inputs as schemas
from citydiplomacy.store.schema import Activity, Membership, Organisation, Place, Relation, Source


class FieldProblem(BadInput):
    """A body that is well-formed but refers to something that does not exist (HTTP 422)."""

    #: The ``type`` of its error in a 422: which ids exist is the registry's state, no schema can say it.
    error_type = "reference_not_found"

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RecordKind:
    """A kind of record the web can write: its table, its create and update bodies, its label key."""

    name: str
    model: type
    create: type[BaseModel]
    update: type[BaseModel]
    label: str


RECORD_KINDS: dict[str, RecordKind] = {
    "places": RecordKind("places", Place, schemas.PlaceIn, schemas.PlaceUpdate, "place"),
    "organisations": RecordKind(
        "organisations", Organisation, schemas.OrganisationIn, schemas.OrganisationUpdate, "organisation"
    ),
    "relations": RecordKind("relations", Relation, schemas.RelationIn, schemas.RelationUpdate, "relation"),
    "memberships": RecordKind("memberships", Membership, schemas.MembershipIn, schemas.MembershipUpdate, "membership"),
    "activities": RecordKind("activities", Activity, schemas.ActivityIn, schemas.ActivityUpdate, "activity"),
}

_REFERENCES: dict[str, type] = {
    "place_a_id": Place,
    "place_b_id": Place,
    "place_id": Place,
    "seat_place_id": Place,
    "organisation_id": Organisation,
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record_dict(obj: Any) -> dict[str, Any]:
    """Every column of a record as JSON-ready values (dates as ISO text)."""
    mapper = inspect(obj).mapper
    return {col.key: _jsonable(getattr(obj, col.key)) for col in mapper.column_attrs}


def source_id_for(session: Session, name: str | None) -> int | None:
    """The id of the source called ``name``, creating a ``manual`` source when it is new."""
    if not name:
        return None
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, kind="manual")
        session.add(source)
        session.flush()
    return source.id


def _values(session: Session, kind: RecordKind, body: BaseModel) -> dict[str, Any]:
    data = body.model_dump(exclude={"source", "version"})
    for field, model in _REFERENCES.items():
        if data.get(field) is not None and session.get(model, data[field]) is None:
            raise FieldProblem(field, f"no {model.__tablename__} with id {data[field]}")
    if kind.name == "relations" and data["place_a_id"] > data["place_b_id"]:
        data["place_a_id"], data["place_b_id"] = data["place_b_id"], data["place_a_id"]
    data["source_id"] = source_id_for(session, getattr(body, "source", None))
    return data


def create_record(session: Session, kind_name: str, body: BaseModel, actor: str) -> Any:
    """Insert a record of ``kind_name`` from a validated body; returns it (flushed, with its id).

    Raises
    ------
    FieldProblem
        A referenced place or organisation does not exist.
    """
    kind = RECORD_KINDS[kind_name]
    data = _values(session, kind, body)
    if kind.name == "places":
        # Hand-entered places are outside every gazetteer: a unique id keeps them apart.
        data.update(gazetteer="manual", gazetteer_id=uuid.uuid4().hex, status="manual")
    obj = kind.model(**data, entered_by=actor)
    session.add(obj)
    session.flush()
    return obj


def update_record(session: Session, kind_name: str, record_id: int, body: BaseModel, actor: str) -> Any:
    """Replace the fields of a record if the client's ``version`` is current.

    Raises
    ------
    LookupError
        No such record.
    VersionConflict
        The record's version differs from the one in ``body`` (someone else saved in between).
    FieldProblem
        A referenced place or organisation does not exist.
    """
    kind = RECORD_KINDS[kind_name]
    obj = session.get(kind.model, record_id)
    if obj is None:
        raise LookupError(f"no {kind.label} {record_id}")
    given = body.version  # type: ignore[attr-defined]
    if obj.version != given:
        raise VersionConflict(kind.label, record_id, given, obj.version)
    for key, value in _values(session, kind, body).items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
    # The UPDATE carries "WHERE version = <read version>": a concurrent writer that got in between
    # the check above and this flush makes SQLAlchemy raise StaleDataError (also a 409).
    session.flush()
    return obj


def body_from_form(kind_name: str, form: dict[str, Any], *, update: bool) -> dict[str, Any]:
    """Turn submitted form fields into a body for the kind's pydantic model (lists from multi-selects).

    A form sends text for every field: surrounding whitespace is dropped and a blank field counts as not
    given.  Validate the result with ``model_validate(body, strict=False)``, so that text becomes numbers.
    """
    kind = RECORD_KINDS[kind_name]
    model = kind.update if update else kind.create
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name not in form:
            if field.annotation is bool:
                out[name] = False
            continue
        value = form[name]
        if name in ("dimensions", "themes"):
            values = value if isinstance(value, list) else [value]
            if name == "themes":
                values = [t.strip() for v in values for t in str(v).split(",")]
            out[name] = [v for v in values if v]
        elif field.annotation is bool:
            out[name] = value in ("on", "true", "1", True)
        else:
            value = value[-1] if isinstance(value, list) else value
            if isinstance(value, str):
                value = value.strip() or None
            if value is not None:
                out[name] = value
    return out
