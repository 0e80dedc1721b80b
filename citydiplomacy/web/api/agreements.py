"""Agreements through the API: list, read one (with its status history), add, change some fields, change status.

Thin over :mod:`citydiplomacy.store.records` (the one write service: version check, audit) and
:mod:`citydiplomacy.store.agreements` (the read side).  Writes need an editor and the ``X-CSRF-Token`` header;
a status change needs a reason and must be one the model's lifecycle allows (409 naming the allowed ones).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from citydiplomacy.store import agreements
from citydiplomacy.store.inputs import (
    MAX_ID,
    MAX_OFFSET,
    ActionIn,
    ActionStateIn,
    ActivityIn,
    AgreementIn,
    AgreementPatch,
    DueIn,
    OutcomeIn,
    RelationKind,
    RelationStatus,
    StatusChangeIn,
)
from citydiplomacy.store.records import change_status, create_record, patch_agreement
from citydiplomacy.store.schema import FollowUpAction
from citydiplomacy.web import auth, data
from citydiplomacy.web.api.schemas import Page, problems
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_header, get_db

__all__ = ["router"]

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
