"""Writing records from the web: create and update with provenance and optimistic locking.

The API and the dashboard's forms both call :func:`create_record` and :func:`update_record`, inside
one transaction per request; the audit hook (:mod:`citydiplomacy.store.audit`) records every change
with the session's actor.  An update names the version the editor read; if the record has moved on
since, :class:`VersionConflict` is raised and nothing is written.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import citydiplomacy.store.audit  # noqa: F401 - registers the audit hook on every ORM session
from citydiplomacy.core.errors import BadInput, Conflict, VersionConflict
from citydiplomacy.store import agreements
from citydiplomacy.store import inputs as schemas
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    ActivityPerson,
    AgreementSignatory,
    Document,
    FollowUpAction,
    Membership,
    MembershipDue,
    Organisation,
    Outcome,
    Person,
    Place,
    Relation,
    Source,
)


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
    ``creatable``: its form creates it (a document is created by uploading its file on its agreement's page).
    """

    name: str
    model: type
    create: type[BaseModel]
    update: type[BaseModel]
    label: str
    generic_api: bool = True
    creatable: bool = True


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
    "outcomes": RecordKind("outcomes", Outcome, schemas.OutcomeIn, schemas.OutcomeUpdate, "outcome", generic_api=False),
    "actions": RecordKind(
        "actions", FollowUpAction, schemas.ActionIn, schemas.ActionUpdate, "follow_up_action", generic_api=False
    ),
    # The links of people to agreements and activities, and the documents' metadata (their files stay as uploaded).
    "signatories": RecordKind(
        "signatories", AgreementSignatory, schemas.SignatoryIn, schemas.SignatoryUpdate, "signatory", generic_api=False
    ),
    "participants": RecordKind(
        "participants",
        ActivityPerson,
        schemas.ParticipantIn,
        schemas.ParticipantUpdate,
        "participant",
        generic_api=False,
    ),  # fmt: skip
    "activity_parties": RecordKind(
        "activity_parties",
        ActivityParticipant,
        schemas.PartyIn,
        schemas.PartyUpdate,
        "activity_party",
        generic_api=False,
    ),
    "dues": RecordKind("dues", MembershipDue, schemas.DueIn, schemas.DueUpdate, "membership_due", generic_api=False),
    "documents": RecordKind(
        "documents",
        Document,
        schemas.DocumentIn,
        schemas.DocumentUpdate,
        "document",
        generic_api=False,
        creatable=False,
    ),  # fmt: skip
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
    "activity_id": Activity,
    "person_id": Person,
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
    """Every column of a record as JSON-ready values (dates as ISO text), but the deferred ones (a document's
    bytes): reading them here loaded every listed document's file, one query each."""
    mapper = inspect(obj).mapper
    return {col.key: _jsonable(getattr(obj, col.key)) for col in mapper.column_attrs if not col.deferred}


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
    if "source_id" in kind.model.__table__.c:  # a participant is a bare link: no provenance of its own
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
    if kind_name == "outcomes":  # the catalogue's unit when none is given
        return agreements.add_outcome(session, body, actor)  # type: ignore[arg-type]
    if kind_name == "actions":  # it starts open
        return agreements.add_action(session, body, actor)  # type: ignore[arg-type]
    if kind_name == "dues":  # one figure a membership and year: a second entry replaces the first
        return agreements.add_due(session, body, actor)  # type: ignore[arg-type]
    if kind_name == "signatories":  # one person in one role once
        from citydiplomacy.store.people import add_signatory

        return add_signatory(session, body, actor)  # type: ignore[arg-type]
    if not kind.creatable:
        raise Conflict(f"a {kind.label} is not created from a form")
    data = _values(session, kind, body)
    if kind.name == "places":
        # Hand-entered places are outside every gazetteer: a unique id keeps them apart.
        data.update(gazetteer="manual", gazetteer_id=uuid.uuid4().hex, status="manual")
    obj = kind.model(**data, **({"entered_by": actor} if "entered_by" in kind.model.__table__.c else {}))
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
    given = getattr(body, "version", None)
    if given is not None and obj.version != given:
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


# --- places picked by name, deletions kept in the audit trail and restored -----------------------------------


def gazetteer_place(
    session: Session, gazetteer_id: str, actor: str, *, source_id: int | None = None,
    source_locator: str | None = None, name_fa: str | None = None, fallback: dict[str, Any] | None = None,
) -> Place:  # fmt: skip
    """The registry's place for an entry of the embedded gazetteer, created (with its names in every script,
    its country, region code, coordinates, population and Wikidata id) when it is new.

    ``gazetteer_id`` is a GeoNames id, or ``"csc:<id>"`` for a countries-states-cities entry (the form a
    picker sends, :func:`~citydiplomacy.store.lookup.gazetteer_ref`).

    ``name_fa`` is the Persian name a person picked it by; else the gazetteer's likeliest Persian spelling.
    ``fallback`` (a resolver's candidate: name, country_code, lat, lng, population, admin1) stands in for an
    entry the embedded gazetteer lacks.

    Raises
    ------
    FieldProblem
        The gazetteer has no entry ``gazetteer_id``.
    """
    from citydiplomacy.geo.gazetteer import get_gazetteer
    from citydiplomacy.geo.names import persian_name
    from citydiplomacy.store.places import script_tag
    from citydiplomacy.store.schema import PlaceName

    gazetteer, _, gid = str(gazetteer_id).strip().rpartition(":")
    gazetteer = gazetteer or "geonames"
    place = session.scalar(select(Place).where(Place.gazetteer == gazetteer, Place.gazetteer_id == gid))
    if place is not None:
        return place
    gaz = get_gazetteer()
    at = gaz.index_of(gid, gazetteer) if gid.isdigit() else None
    if at is None and fallback is None:
        raise FieldProblem("gazetteer_id", f"no gazetteer entry {gid!r}")
    if at is not None:
        entry, alternates = gaz.place(at), gaz.alternate_names(at)
    else:
        keys = ("name", "country_code", "admin1", "lat", "lng", "population", "is_capital", "wikidata_id", "is_unit")
        entry, alternates = {k: (fallback or {}).get(k) for k in keys}, ()
    qid = entry["wikidata_id"]
    if qid and session.scalar(select(Place.id).where(Place.wikidata_id == qid).limit(1)) is not None:
        qid = None  # an id already held is never duplicated (store.places.lend_wikidata_ids)
    place = Place(
        gazetteer=gazetteer, gazetteer_id=gid, name=entry["name"], name_fa=name_fa or persian_name(alternates),
        country_code=entry["country_code"], admin1_code=entry["admin1"] or None,
        admin_level="region" if entry["is_unit"] else "city", wikidata_id=qid,
        lat=entry["lat"], lng=entry["lng"], population=entry["population"] or None,
        is_capital=bool(entry["is_capital"]),
        status="gazetteer", source_id=source_id, source_locator=source_locator, entered_by=actor,
    )  # fmt: skip
    session.add(place)
    session.flush()
    names = {(place.name, "und"): "official"}
    for alt in alternates:
        if alt and len(alt) <= 300:
            names.setdefault((alt, script_tag(alt)), "alias")
    session.add_all(PlaceName(place_id=place.id, name=n, lang=lang, kind=k) for (n, lang), k in names.items())
    session.flush()
    return place


def place_for_name(session: Session, text: str, actor: str) -> Place:
    """The place a person typed by name into a form (no picker used): the registry's place the name means
    (:func:`~citydiplomacy.store.lookup.find_place`), else the gazetteer's, created by :func:`gazetteer_place`.

    Raises
    ------
    PlaceNotFound
        Neither the registry nor the gazetteer knows the name.
    AmbiguousPlace
        Several places bear it and none dominates; ``candidates`` are the picker's suggestions.
    """
    from citydiplomacy import settings
    from citydiplomacy.core.errors import AmbiguousPlace, PlaceNotFound
    from citydiplomacy.geo.names import normalise_name
    from citydiplomacy.store import lookup

    try:
        return lookup.find_place(session, text)
    except PlaceNotFound:
        pass
    key = normalise_name(text)
    whole = [s for s in lookup.suggest_places(session, text) if s["id"] is None
             and normalise_name(s["matched_name"] or "") == key]  # fmt: skip
    if not whole:
        raise PlaceNotFound(f"no place called {text!r} in the registry or the gazetteer")
    first, second = whole[0]["population"] or 0, (whole[1]["population"] or 0) if len(whole) > 1 else 0
    if len(whole) > 1 and not (first > 0 and first >= settings.PLACE_LOOKUP_DOMINANCE * second):
        raise AmbiguousPlace(f"{text!r} matches {len(whole)} places of the gazetteer", whole)
    fa = text.strip() if any("\u0600" <= ch <= "\u06ff" for ch in text) else None
    return gazetteer_place(session, lookup.gazetteer_ref(whole[0]), actor, name_fa=fa)


class DeletionRefused(Conflict):
    """A record others still refer to (a place with relations, an organisation with members): 409."""

    def __init__(self, message: str, blockers: dict[str, int]):
        super().__init__(message)
        self.blockers = blockers


def _table(name: str) -> Any:
    from citydiplomacy.store.schema import Base

    return Base.metadata.tables[name]


def _referrers(table: Any) -> list[tuple[Any, Any, str | None]]:
    """Every (child table, foreign-key column, ondelete) pointing at ``table``'s id."""
    from citydiplomacy.store.schema import Base

    out = []
    for child in Base.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table and fk.column.name == "id":
                out.append((child, fk.parent, (fk.ondelete or "").upper() or None))
    return out


def _row_json(row: Any) -> dict[str, Any]:
    """A row as JSON: a document's file as base64 text (``{"base64": ...}``), so that its deletion can be undone."""
    from citydiplomacy.store.audit import _jsonable

    return {k: {"base64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else _jsonable(v)
            for k, v in row._mapping.items()}  # fmt: skip


def _collect(session: Session, table: Any, ids: list[int], rows: list[dict[str, Any]],
             nulled: list[dict[str, Any]], blockers: dict[str, int]) -> None:  # fmt: skip
    """Snapshot ``table``'s rows ``ids`` and, depth first, the rows a database cascade would delete with them."""
    for row in session.execute(select(table).where(table.c.id.in_(ids))):
        rows.append({"table": table.name, "row": _row_json(row)})
    for child, column, ondelete in _referrers(table):
        if child is table and ondelete is None:
            continue
        if ondelete == "CASCADE":
            child_ids = list(session.scalars(select(child.c.id).where(column.in_(ids)))) if "id" in child.c else []
            if child_ids:
                _collect(session, child, child_ids, rows, nulled, blockers)
            elif "id" not in child.c:  # a link table without its own id: keep its rows as they are
                for row in session.execute(select(child).where(column.in_(ids))):
                    rows.append({"table": child.name, "row": _row_json(row)})
        elif ondelete == "SET NULL":
            for child_id in session.scalars(select(child.c.id).where(column.in_(ids))):
                nulled.append({"table": child.name, "id": child_id, "column": column.name,
                               "value": session.scalar(select(column).where(child.c.id == child_id))})  # fmt: skip
        else:
            n = session.scalar(select(func.count()).select_from(child).where(column.in_(ids))) or 0
            if n:
                blockers[child.name] = blockers.get(child.name, 0) + n


def delete_record(session: Session, kind_name: str, record_id: int, version: int, actor: str) -> dict[str, Any]:
    """Delete a record of ``kind_name`` and what belongs to it (an agreement's status history, outcomes and
    follow-up actions; an activity's outcomes; a place's names...), if ``version`` is current.

    One audit entry (action ``delete``) keeps a snapshot of every row deleted and every link cleared, so that
    :func:`restore_deleted` can put them back.  A record others still refer to (a place with relations, an
    organisation with members) is refused, naming what refers to it; nothing is written.

    Returns
    -------
    dict
        The snapshot written into the audit entry (``rows``, ``nulled``).

    Raises
    ------
    LookupError
        No such record.
    VersionConflict
        The record's version differs from ``version``.
    DeletionRefused
        Other records still refer to it (``blockers``: table -> count).
    """
    from citydiplomacy.store.audit import record_change

    kind = RECORD_KINDS[kind_name]
    obj = session.get(kind.model, record_id)
    if obj is None:
        raise LookupError(f"no {kind.label} {record_id}")
    current = getattr(obj, "version", None)  # outcomes keep no version
    if current is not None and current != version:
        raise VersionConflict(kind.label, record_id, version, current)
    table = kind.model.__table__
    rows: list[dict[str, Any]] = []
    nulled: list[dict[str, Any]] = []
    blockers: dict[str, int] = {}
    _collect(session, table, [record_id], rows, nulled, blockers)
    if blockers:
        what = ", ".join(f"{n} {t}" for t, n in sorted(blockers.items()))
        raise DeletionRefused(f"{kind.label} {record_id} is still referred to by {what}", blockers)
    session.expunge(obj)  # Core statements below: the ORM must not flush a stale copy afterwards
    for link in nulled:
        t = _table(link["table"])
        session.execute(update(t).where(t.c.id == link["id"]).values({link["column"]: None}))
    for item in reversed(rows):  # children first
        t = _table(item["table"])
        key = t.c.id == item["row"]["id"] if "id" in t.c else None
        if key is None:
            key = and_(*(t.c[k] == v for k, v in item["row"].items() if v is not None))
        session.execute(delete(t).where(key))
    snapshot = {"rows": rows, "nulled": nulled}
    record_change(session, action="delete", entity=table.name, entity_id=record_id, changes=snapshot)
    session.flush()
    return snapshot


def _from_json(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        column = table.c[key]
        try:
            kind = column.type.python_type
        except NotImplementedError:
            kind = None
        if isinstance(value, dict) and kind is bytes and "base64" in value:
            value = base64.b64decode(value["base64"])
        elif isinstance(value, str) and kind is datetime:
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and kind is date:
            value = date.fromisoformat(value)
        out[key] = value
    return out


def restorable(session: Session, entry: Any) -> bool:
    """Whether an audit entry is a deletion :func:`restore_deleted` can undo (kept snapshot, not yet restored)."""
    from citydiplomacy.store.schema import AuditEntry

    if entry.action != "delete" or not isinstance(entry.changes, dict) or "rows" not in entry.changes:
        return False
    later = session.scalars(
        select(AuditEntry.changes).where(
            AuditEntry.action == "restore", AuditEntry.entity == entry.entity, AuditEntry.id > entry.id
        )
    )
    return not any(isinstance(c, dict) and c.get("audit_id") == entry.id for c in later)


def restore_deleted(session: Session, audit_id: int, actor: str) -> dict[str, Any]:
    """Put back what a deletion (audit entry ``audit_id``) removed, from the snapshot the entry keeps: the rows
    with their ids (a new id where another record took it since, and the references to it follow), and the
    links it cleared.  An audit entry (action ``restore``) names the entry restored.

    Returns
    -------
    dict
        ``entity``, ``entity_id`` (the restored record's id now) and ``rows`` (how many rows came back).

    Raises
    ------
    LookupError
        No audit entry ``audit_id``.
    Conflict
        The entry is no deletion with a snapshot, was restored already, or a record it refers to is gone.
    """
    from citydiplomacy.store.audit import record_change
    from citydiplomacy.store.schema import AuditEntry

    entry = session.get(AuditEntry, audit_id)
    if entry is None:
        raise LookupError(f"no audit entry {audit_id}")
    if not restorable(session, entry):
        raise Conflict(f"audit entry {audit_id} is no deletion that can be restored (or it was restored already)")
    moved: dict[tuple[str, int], int] = {}
    try:
        with session.begin_nested():
            for item in entry.changes["rows"]:
                t = _table(item["table"])
                row = _from_json(t, item["row"])
                for fk in t.foreign_keys:
                    old = row.get(fk.parent.name)
                    if old is not None and (fk.column.table.name, old) in moved:
                        row[fk.parent.name] = moved[(fk.column.table.name, old)]
                if "id" in t.c and session.scalar(select(t.c.id).where(t.c.id == row["id"])) is not None:
                    old_id = row.pop("id")
                    new_id = session.execute(insert(t).values(row)).inserted_primary_key[0]
                    moved[(t.name, old_id)] = new_id
                else:
                    session.execute(insert(t).values(row))
            for link in entry.changes.get("nulled", []):
                t = _table(link["table"])
                value = moved.get((_referred_table(t, link["column"]), link["value"]), link["value"])
                session.execute(update(t).where(t.c.id == link["id"]).values({link["column"]: value}))
    except IntegrityError as exc:
        raise Conflict(f"audit entry {audit_id} cannot be restored: a record it refers to is gone") from exc
    entity_id = moved.get((entry.entity, entry.entity_id), entry.entity_id)
    done = {"audit_id": audit_id, "entity": entry.entity, "entity_id": entity_id, "rows": len(entry.changes["rows"])}
    record_change(session, action="restore", entity=entry.entity, entity_id=entity_id, changes=done)
    session.flush()
    return done


def _referred_table(table: Any, column: str) -> str:
    return next(iter(table.c[column].foreign_keys)).column.table.name
