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
from citydiplomacy.store import agreements
from citydiplomacy.store import inputs as schemas
from citydiplomacy.store.schema import Activity, Membership, Organisation, Person, Place, Relation, Source


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
    """A kind of record the web can write: its table, its create and update bodies, its label key.

    ``generic_api``: the API's generic POST/PUT/GET routes serve it (agreements have their own module).
    """

    name: str
    model: type
    create: type[BaseModel]
    update: type[BaseModel]
    label: str
    generic_api: bool = True


RECORD_KINDS: dict[str, RecordKind] = {
    "places": RecordKind("places", Place, schemas.PlaceIn, schemas.PlaceUpdate, "place"),
    "organisations": RecordKind(
        "organisations", Organisation, schemas.OrganisationIn, schemas.OrganisationUpdate, "organisation"
    ),
    "relations": RecordKind("relations", Relation, schemas.RelationIn, schemas.RelationUpdate, "relation"),
    "memberships": RecordKind("memberships", Membership, schemas.MembershipIn, schemas.MembershipUpdate, "membership"),
    "activities": RecordKind("activities", Activity, schemas.ActivityIn, schemas.ActivityUpdate, "activity"),
    "agreements": RecordKind(
        "agreements", Relation, schemas.AgreementIn, schemas.AgreementEdit, "agreement", generic_api=False
    ),
    # People: the API's own operations under /api/office/people (web/api/agreements.py).
    "people": RecordKind("people", Person, schemas.PersonIn, schemas.PersonUpdate, "person", generic_api=False),
}

_REFERENCES: dict[str, type] = {
    "place_a_id": Place,
    "place_b_id": Place,
    "place_id": Place,
    "seat_place_id": Place,
    "organisation_id": Organisation,
    "partner_place_id": Place,
    "partner_organisation_id": Organisation,
    "relation_id": Relation,
    "membership_id": Membership,
}
#: Form fields that are lists (several checkboxes, or comma-separated themes).
LIST_FIELDS = ("dimensions", "functions", "themes")
#: An agreement's parties as its bodies name them -> the relation's columns.
_AGREEMENT_PARTIES = {
    "place_id": "place_a_id",
    "partner_place_id": "place_b_id",
    "partner_organisation_id": "organisation_id",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record_dict(obj: Any) -> dict[str, Any]:
    """Every column of a record as JSON-ready values (dates as ISO text)."""
    mapper = inspect(obj).mapper
    return {col.key: _jsonable(getattr(obj, col.key)) for col in mapper.column_attrs}


def input_values(kind_name: str, obj: Any) -> dict[str, Any]:
    """A record's fields under the names of its kind's bodies (an agreement's parties as ``place_id``, ...)."""
    values = record_dict(obj)
    if kind_name == "agreements":
        for name, column in _AGREEMENT_PARTIES.items():
            values[name] = values.pop(column)
    return values


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
    data = body.model_dump(exclude={"source", "version", "status_reason"})
    for field, model in _REFERENCES.items():
        if data.get(field) is not None and session.get(model, data[field]) is None:
            raise FieldProblem(field, f"no {model.__tablename__} with id {data[field]}")
    if kind.name == "agreements":
        data = {_AGREEMENT_PARTIES.get(k, k): v for k, v in data.items()}
    elif kind.name == "relations":
        data["organisation_id"] = None  # a relation's body names two places: no organisation party
    if kind.model is Relation and data["place_b_id"] is not None and data["place_a_id"] > data["place_b_id"]:
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
    if kind.model is Relation:  # an agreement's history starts with the status it is recorded with
        agreements.add_status(
            session, obj, obj.status, actor=actor, reason=getattr(body, "status_reason", None), previous=None,
            source_id=data["source_id"], source_locator=data.get("source_locator"),
        )  # fmt: skip
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
    values = _values(session, kind, body)
    if kind.model is Relation and values.get("status", obj.status) != obj.status:
        # A relation's form may change its status: the same lifecycle and history as a status change.
        agreements.check_transition(obj.id, obj.status, values["status"])
        agreements.ensure_first_status(session, obj)
        agreements.add_status(session, obj, values["status"], actor=actor, reason=None, previous=obj.status)
    for key, value in values.items():
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
        if name in LIST_FIELDS:
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


def _current_version(obj: Any, kind_label: str, record_id: int, given: int) -> None:
    if obj.version != given:
        raise VersionConflict(kind_label, record_id, given, obj.version)


def patch_agreement(session: Session, record_id: int, body: schemas.AgreementPatch, actor: str) -> Relation:
    """Change the fields of an agreement that ``body`` gives (the others keep their values); version-checked.

    The merged agreement is validated as a whole (:class:`~citydiplomacy.store.inputs.AgreementEdit`) and written
    by :func:`update_record`.

    Raises
    ------
    LookupError
        No such agreement.
    VersionConflict
        The agreement's version differs from ``body.version``.
    pydantic.ValidationError
        The merged agreement breaks a rule between fields (type ``cross_field``).
    FieldProblem
        A referenced place or organisation does not exist.
    """
    obj = session.get(Relation, record_id)
    if obj is None:
        raise LookupError(f"no agreement {record_id}")
    _current_version(obj, "agreement", record_id, body.version)
    current = record_dict(obj)
    merged: dict[str, Any] = {
        name: current.get(_AGREEMENT_PARTIES.get(name, name))
        for name in schemas.AgreementEdit.model_fields
        if name not in ("source", "version")
    }
    source = session.get(Source, obj.source_id) if obj.source_id else None
    merged["source"] = source.name if source else None
    merged.update(body.model_dump(exclude_unset=True))
    for name in ("signed_on", "valid_until"):  # record_dict gives ISO text; the body's types are dates
        if isinstance(merged.get(name), str):
            merged[name] = date.fromisoformat(merged[name])
    full = schemas.AgreementEdit.model_validate(merged)
    return update_record(session, "agreements", record_id, full, actor)


def change_status(session: Session, record_id: int, body: schemas.StatusChangeIn, actor: str) -> Relation:
    """Change an agreement's status as the model's lifecycle allows, recording who, when, why, as of when.

    An ``ended`` status fills ``ended_year`` (from ``effective_on``, else today) and a ``signed`` one
    ``signed_on``/``signed_year`` from ``effective_on``, when they are empty: the tie rule's dates
    (:mod:`citydiplomacy.store.ties`) then agree with the history.

    Raises
    ------
    LookupError
        No such agreement.
    VersionConflict
        The agreement's version differs from ``body.version`` (nothing is written).
    TransitionRefused
        The lifecycle does not allow the change (409; the message names the allowed ones).
    """
    obj = agreements.load_agreement(session, record_id)
    if obj is None:
        raise LookupError(f"no agreement {record_id}")
    _current_version(obj, "agreement", record_id, body.version)
    agreements.check_transition(record_id, obj.status, body.status)
    agreements.ensure_first_status(session, obj)
    agreements.add_status(
        session, obj, body.status, actor=actor, reason=body.reason, previous=obj.status,
        effective_on=body.effective_on, source_id=source_id_for(session, body.source),
        source_locator=body.source_locator,
    )  # fmt: skip
    obj.status = body.status
    when = body.effective_on
    if body.status == "ended" and obj.ended_year is None:
        obj.ended_year = (when or date.today()).year
    if body.status == "signed" and when is not None and obj.signed_on is None:
        obj.signed_on, obj.signed_year = when, obj.signed_year or when.year
    session.flush()  # the UPDATE carries "WHERE version = <read>": a concurrent change is a 409 too
    return obj
