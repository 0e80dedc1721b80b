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
    AgreementIn,
    AgreementPatch,
    RelationKind,
    RelationStatus,
    StatusChangeIn,
)
from citydiplomacy.store.records import change_status, create_record, patch_agreement
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
