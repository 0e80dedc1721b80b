"""Agreements through the API: list, read one (with its status history), add, change some fields, change status.

Thin over :mod:`citydiplomacy.store.records` (the one write service: version check, audit) and
:mod:`citydiplomacy.store.agreements` (the read side).  Writes need an editor and the ``X-CSRF-Token`` header;
a status change needs a reason and must be one the model's lifecycle allows (409 naming the allowed ones).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, HTTPException, Path, Query, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.store import agreements, documents, people
from citydiplomacy.store.inputs import (
    MAX_ID,
    MAX_OFFSET,
    NO_CONTROL_PATTERN,
    ActionIn,
    ActionStateIn,
    ActivityIn,
    AgreementIn,
    AgreementPatch,
    DelegationIn,
    Direction,
    DocumentIn,
    DocumentKind,
    DueIn,
    OutcomeIn,
    PersonIn,
    PersonUpdate,
    RelationKind,
    RelationStatus,
    SignatoryIn,
    StatusChangeIn,
    check_query_text,
)
from citydiplomacy.store.records import change_status, create_record, patch_agreement, update_record
from citydiplomacy.store.schema import Activity, FollowUpAction, Person
from citydiplomacy.web import auth, data
from citydiplomacy.web.api.schemas import Page, problems
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_header, get_db

__all__ = ["download", "router"]

router = APIRouter(tags=["agreements"])
DB = Annotated[Session, Depends(get_db)]
AgreementId = Annotated[int, Path(ge=1, le=MAX_ID, description="The agreement's id")]
Id = Annotated[int | None, Query(ge=1, le=MAX_ID)]
READ = problems(401, 422, 503)
READ_ONE = problems(401, 404, 422, 503)
CREATE = problems(401, 403, 409, 413, 422, 503)
CHANGE = problems(401, 403, 404, 409, 413, 422, 503)


def _one(db: Session, record_id: int) -> dict[str, Any]:
    obj = agreements.load_agreement(db, record_id)
    if obj is None:
        raise HTTPException(status_code=404, detail=f"no agreement {record_id}")
    return data.with_evidence(db, agreements.agreement_dict(db, obj))


@router.get("/agreements", response_model=Page, responses=READ)
def list_agreements(
    db: DB,
    place_id: Id = None,
    organisation_id: Id = None,
    kind: RelationKind | None = None,
    status: RelationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=data.MAX_LIMIT, description="Page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip")] = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Agreements (of a place, either side; with an organisation; of a kind; in a status), each with its parties
    and its ``evidence`` (the sources that give it)."""
    query = agreements.agreements_query(place_id, organisation_id, kind, status)
    found = data.page(db, query, limit, offset, to_dict=lambda r: agreements.summary_dict(r, place_id))
    return data.with_evidence(db, found)


@router.get("/office/attention", responses=READ)
def agreements_attention(db: DB, place_id: Id = None, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """Agreements needing attention: in force and dormant (no activity for the period in settings), renewal due
    or expired, or with follow-up actions overdue; each with its ``flags``; most flags first."""
    items = agreements.attention(db, place_id=place_id)
    return {"items": items, "total": len(items)}


@router.get("/office/actions/overdue", responses=READ)
def actions_overdue(db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """Open follow-up actions past their due date, the oldest due first."""
    items = agreements.overdue_actions(db)
    return {"items": items, "total": len(items)}


@router.get("/agreements/{agreement_id}", responses=READ_ONE)
def get_agreement(agreement_id: AgreementId, db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """One agreement: parties, kind, titles, dates, responsible unit, themes, notes, source, status history
    (who changed it, when, why) and ``next_statuses``, the changes the lifecycle allows from its status."""
    return _one(db, agreement_id)


@router.post("/agreements", status_code=201, responses=CREATE)
def add_agreement(
    body: Annotated[AgreementIn, Body()],
    db: DB,
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Add an agreement (editor): a place and a partner place or organisation; several between the same parties
    are allowed.  Its history starts with the status given (``status_reason`` says why)."""
    obj = create_record(db, "agreements", body, user.username)
    db.commit()
    return _one(db, obj.id)


@router.patch("/agreements/{agreement_id}", responses=CHANGE)
def edit_agreement(
    agreement_id: AgreementId,
    body: Annotated[AgreementPatch, Body()],
    db: DB,
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Change the fields given (editor); send the version you read, 409 if stale.  Not the status: see
    ``POST /api/agreements/{agreement_id}/status``."""
    try:
        obj = patch_agreement(db, agreement_id, body, user.username)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except ValidationError as exc:  # the merged agreement breaks a rule between its fields
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        ) from exc
    db.commit()
    return _one(db, obj.id)


@router.post("/agreements/{agreement_id}/status", responses=CHANGE)
def set_status(
    agreement_id: AgreementId,
    body: Annotated[StatusChangeIn, Body()],
    db: DB,
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Change the status (editor), with a reason and optionally the date it took effect and a source; send the
    version you read (409 if stale).  A change the lifecycle does not allow is a 409 naming the allowed ones."""
    try:
        obj = change_status(db, agreement_id, body, user.username)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    db.commit()
    return _one(db, obj.id)


@router.get("/agreements/{agreement_id}/health", responses=READ_ONE)
def get_health(agreement_id: AgreementId, db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """The agreement's health: last activity, activities and outcomes per year, cost to date per currency, its
    activities, outcomes and follow-up actions, and ``flags`` (dormant, renewal_due, expired, actions_overdue)."""
    obj = agreements.load_agreement(db, agreement_id)
    if obj is None:
        raise HTTPException(status_code=404, detail=f"no agreement {agreement_id}")
    return agreements.health(db, obj)


@router.post("/office/activities", status_code=201, responses=CREATE)
def add_activity(
    body: Annotated[ActivityIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Add an activity (editor) serving an agreement (``relation_id``) or a membership (``membership_id``), with
    its cost (``cost_amount`` >= 0, ``cost_currency`` ISO 4217) and ``funding_source``."""
    obj = create_record(db, "activities", body, user.username)
    db.commit()
    return agreements.activity_dict(obj)


@router.post("/office/outcomes", status_code=201, responses=CREATE)
def add_outcome(
    body: Annotated[OutcomeIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Record an outcome (editor) of an agreement or an activity: a code of the outcome catalogue, quantity,
    unit, evidence."""
    obj = agreements.add_outcome(db, body, user.username)
    db.commit()
    return agreements.outcome_dict(obj)


@router.post("/office/actions", status_code=201, responses=CREATE)
def add_action(
    body: Annotated[ActionIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Record a follow-up action (editor): what, ``owner`` (required), ``due_on``; it starts ``open``."""
    obj = agreements.add_action(db, body, user.username)
    db.commit()
    return agreements.action_dict(obj)


@router.post("/office/actions/{action_id}/state", responses=CHANGE)
def set_action_state(
    action_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The action's id")],
    body: Annotated[ActionStateIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Mark a follow-up action done or cancelled, or reopen it (editor); send the version you read (409 if
    stale)."""
    try:
        obj = agreements.set_action_state(db, action_id, body, user.username)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    db.commit()
    return agreements.action_dict(db.get(FollowUpAction, obj.id))  # type: ignore[arg-type]


@router.post("/office/dues", status_code=201, responses=CREATE)
def add_due(
    body: Annotated[DueIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Record (or replace) a membership's dues for one year (editor): amount >= 0 in an ISO 4217 currency."""
    obj = agreements.add_due(db, body, user.username)
    db.commit()
    return {"id": obj.id, "membership_id": obj.membership_id, "year": obj.year, "amount": obj.amount,
            "currency": obj.currency}  # fmt: skip


# --- people, signatories, delegations and documents (issue 10) ---------------------------------------------------

PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="The person's id")]
DocumentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The document's id")]
Limit = Annotated[int, Query(ge=1, le=data.MAX_LIMIT, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip")]
UPLOAD = problems(400, 401, 403, 404, 409, 413, 422, 503)


def _body_errors(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
    )


def _person(db: Session, person_id: int) -> dict[str, Any]:
    obj = db.get(Person, person_id)
    if obj is None:
        raise HTTPException(status_code=404, detail=f"no person {person_id}")
    return people.person_dict(obj)


@router.get("/office/people", response_model=Page, responses=READ)
def list_people(
    db: DB,
    q: Annotated[str | None, Query(max_length=200, description="Part of a name, title or unit")] = None,
    place_id: Id = None,
    organisation_id: Id = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Officials and staff (of a city, of an organisation), by name; ``q`` searches both names, titles and unit."""
    query = people.people_query(check_query_text(q), place_id, organisation_id)
    return data.page(db, query, limit, offset, to_dict=people.person_dict)


@router.get("/office/people/{person_id}", responses=READ_ONE)
def get_person(person_id: PersonId, db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """One person: names and titles in English and Persian, unit, the place or organisation, contact."""
    return _person(db, person_id)


@router.post("/office/people", status_code=201, responses=CREATE)
def add_person(
    body: Annotated[PersonIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Add a person (editor): ``name`` required; ``name_fa``, titles, ``unit``, ``place_id`` or
    ``organisation_id`` (whom they work for) and ``contact`` optional."""
    obj = create_record(db, "people", body, user.username)
    db.commit()
    return _person(db, obj.id)


@router.put("/office/people/{person_id}", responses=CHANGE)
def edit_person(
    person_id: PersonId, body: Annotated[PersonUpdate, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Replace a person's fields (editor); send the version you read (409 if stale)."""
    try:
        update_record(db, "people", person_id, body, user.username)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    db.commit()
    return _person(db, person_id)


@router.post("/office/signatories", status_code=201, responses=CREATE)
def add_signatory(
    body: Annotated[SignatoryIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Record that a person signed an agreement (editor), in a ``role`` (default ``signatory``); answers the
    agreement's signatories.  The same person in the same role twice is a 409."""
    people.add_signatory(db, body, user.username)
    db.commit()
    return {"relation_id": body.relation_id, "signatories": people.signatories_of(db, body.relation_id)}


@router.get("/office/delegations", response_model=Page, responses=READ)
def list_delegations(
    db: DB,
    relation_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Of this agreement")] = None,
    direction: Direction | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Delegations and visits (of an agreement; incoming or outgoing), the latest first, each with its people,
    places and organisations."""
    query = people.delegations_query(relation_id, direction)
    return data.page(db, query, limit, offset, to_dict=lambda a: people.delegation_dict(db, a))


@router.post("/office/delegations", status_code=201, responses=CREATE)
def add_delegation(
    body: Annotated[DelegationIn, Body()], db: DB, user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:  # fmt: skip
    """Record a delegation or a visit (editor): ``direction`` (incoming or outgoing, required), ``happened_on``
    (first day) and ``ends_on``, ``purpose``, the agreement it serves (``relation_id``), its cost, and its
    participants: ``people`` (``person_id``, ``role``), ``place_ids`` and ``organisation_ids``.  An unknown
    reference is a 422 naming it; nothing is written."""
    obj = people.add_delegation(db, body, user.username)
    db.commit()
    return people.delegation_dict(db, db.get(Activity, obj.id))  # type: ignore[arg-type]


@router.get("/office/documents", responses=READ)
def list_documents(
    db: DB,
    relation_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Of this agreement")] = None,
    activity_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Of this activity")] = None,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """The documents of an agreement or an activity (their description, checksum and size; not their bytes)."""
    items = [documents.document_dict(d) for d in documents.documents_of(db, relation_id, activity_id)]
    return {"items": items, "total": len(items)}


@router.get("/office/documents/{document_id}", responses=READ_ONE)
def get_document(document_id: DocumentId, db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """One document's description: what it belongs to, kind, title, file name, media type, size, SHA-256."""
    from citydiplomacy.store.schema import Document

    row = db.get(Document, document_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no document {document_id}")
    return documents.document_dict(row)


def download(db: Session, document_id: int) -> Response:
    """A document's bytes as an attachment of its media type (checked against its SHA-256), never rendered by
    the browser in place (the application adds X-Content-Type-Options: nosniff to every answer)."""
    row, content = documents.load_document(db, document_id)
    return Response(
        content,
        media_type=row.media_type,
        headers={
            "Content-Disposition": documents.content_disposition(row.file_name),
            "Cache-Control": "private, no-store",
            "X-Content-SHA256": row.sha256,
            # Sent as stored: the application's gzip leaves an answer with an encoding alone (documents are PDFs,
            # images and zip packages, compressed already; gzip would only cost time).
            "Content-Encoding": "identity",
        },
    )


@router.get(
    "/office/documents/{document_id}/content",
    responses={**READ_ONE, 200: {"content": {m: {} for m in settings.DOCUMENT_MEDIA_TYPES},
                                 "description": "The file, as an attachment"}},
)  # fmt: skip
def get_document_content(document_id: DocumentId, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    """Download a document (signed-in users, viewer and up): its bytes as an attachment, with its media type."""
    return download(db, document_id)


@router.post("/office/documents", status_code=201, responses=UPLOAD)
def add_document(
    db: DB,
    file: Annotated[UploadFile, File(description="The file: PDF, DOCX, ODT, PNG, JPEG or plain text")],
    # Plain types with a None default: a form field is text, and "null" is no integer (the schema says so).
    relation_id: Annotated[int, Form(ge=1, le=MAX_ID, description="The agreement it belongs to")] = None,  # type: ignore[assignment]
    activity_id: Annotated[int, Form(ge=1, le=MAX_ID, description="The activity it belongs to")] = None,  # type: ignore[assignment]
    kind: Annotated[DocumentKind, Form(description="signed_text, minutes or other")] = "other",
    title: Annotated[str, Form(max_length=500, pattern=NO_CONTROL_PATTERN)] = None,  # type: ignore[assignment]
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Attach a file (editor, multipart form) to an agreement (``relation_id``) or an activity (``activity_id``).

    Its type is recognised from its bytes (PDF, DOCX, ODT, PNG, JPEG, plain text) and its name must end as the
    type says; larger than the limit (settings ``DOCUMENT_MAX_BYTES``, 20 MB) is a 413, another type a 422 naming
    ``file``; the same file (SHA-256) on the same record twice is a 409.  Nothing is written on refusal."""
    try:
        meta = DocumentIn.model_validate(
            {"relation_id": relation_id, "activity_id": activity_id, "kind": kind, "title": title}
        )
    except ValidationError as exc:
        raise _body_errors(exc) from exc
    content = file.file.read()  # bounded: the body limit of upload paths is a document and its form
    try:
        row = documents.add_document(db, meta, file.filename, content, user.username)
    except documents.DocumentTooLarge as exc:
        raise HTTPException(status_code=413, detail=str(exc)) from exc
    except documents.DocumentRefused as exc:
        raise HTTPException(
            status_code=422, detail=[{"loc": ["body", exc.field], "msg": str(exc), "type": "document_refused"}]
        ) from exc
    db.commit()
    return documents.document_dict(row)
