"""The dashboard's agreement pages: the list, one agreement (parties, dates, themes, status and its history,
signatories, delegations with their participants, documents), the status form, the signatory form, the document
upload and the document download (signed-in users only).

Thin over :mod:`citydiplomacy.store.agreements` (reads) and :func:`citydiplomacy.store.records.change_status`
(the one write service).  A status change that loses a race (409) or is refused re-renders the page with the
editor's choice and reason kept in the form, beside the agreement as it is now.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from citydiplomacy import settings
from citydiplomacy.core.errors import CityDipError, Conflict
from citydiplomacy.model.lifecycle import load_lifecycle
from citydiplomacy.model.vocab import RELATION_KINDS, RELATION_STATUSES
from citydiplomacy.present import i18n
from citydiplomacy.store import agreements, documents, people
from citydiplomacy.store.inputs import MAX_ID, DocumentIn, SignatoryIn, StatusChangeIn
from citydiplomacy.store.records import change_status
from citydiplomacy.web import auth, data
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_form, get_db

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
PAGE_SIZE = 50


def _known(record_id: int) -> int:
    if not 1 <= record_id <= MAX_ID:
        raise HTTPException(status_code=404, detail=f"no agreement {record_id}")
    return record_id


@router.get("/agreements")
def agreements_page(
    request: Request,
    db: DB,
    place_id: QueryId = None,
    organisation_id: QueryId = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    from citydiplomacy.web.pages import pager, render_cached

    kind = kind if kind in RELATION_KINDS else None
    status = status if status in RELATION_STATUSES else None

    def build() -> dict[str, Any]:
        query = agreements.agreements_query(place_id, organisation_id, kind, status)
        items = data.page(db, query, PAGE_SIZE, offset, to_dict=lambda r: agreements.summary_dict(r, place_id))
        return {"items": items, "pager": pager(request, items["total"], offset), "place_id": place_id,
                "kind": kind or "", "status": status or "", "kinds": list(RELATION_KINDS),
                "statuses": list(RELATION_STATUSES)}  # fmt: skip

    return render_cached(request, db, "agreements.html", build)


@router.get("/agreements/attention")
def attention_page(request: Request, db: DB, place_id: QueryId = None, user: auth.CurrentUser = Viewer) -> Response:
    from citydiplomacy.web.pages import render_cached

    def build() -> dict[str, Any]:
        return {"items": agreements.attention(db, place_id=place_id), "place_id": place_id,
                "overdue": agreements.overdue_actions(db)}  # fmt: skip

    return render_cached(request, db, "agreements_attention.html", build)


def _page(
    request: Request, db: Session, record_id: int, *, form: dict[str, Any] | None = None, error: str | None = None,
    status_code: int = 200, doc_error: str | None = None, sign_error: str | None = None,
) -> Response:  # fmt: skip
    from citydiplomacy.web.pages import render

    obj = agreements.load_agreement(db, record_id)
    if obj is None:
        raise HTTPException(status_code=404, detail=f"no agreement {record_id}")
    a = agreements.agreement_dict(db, obj)
    delegations = [people.delegation_dict(db, x) for x in db.scalars(people.delegations_query(record_id))]
    return render(
        request, "agreement.html", status_code, a=a, lifecycle=load_lifecycle(), form=form or {}, error=error,
        health=agreements.health(db, obj), delegations=delegations, doc_error=doc_error, sign_error=sign_error,
        document_kinds=("signed_text", "minutes", "other"), max_document_mb=settings.DOCUMENT_MAX_BYTES // 2**20,
    )  # fmt: skip


@router.get("/agreements/{record_id}")
def agreement_page(request: Request, record_id: int, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    return _page(request, db, _known(record_id))


@router.post("/agreements/{record_id}/status")
async def status_submit(request: Request, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    _known(record_id)
    submitted = await request.form()
    check_csrf_form(request, str(submitted.get("csrf_token") or ""))
    form = {k: str(submitted.get(k) or "").strip() for k in ("status", "reason", "effective_on", "version", "source")}
    lang = getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)
    try:
        body = StatusChangeIn.model_validate({k: v for k, v in form.items() if v}, strict=False)
        change_status(db, record_id, body, user.username)
        db.commit()
    except ValidationError as exc:
        fields = ", ".join(i18n.translate(str(e["loc"][0]), lang) for e in exc.errors() if e["loc"])
        db.rollback()
        return _page(request, db, record_id, form=form, error=f"{i18n.translate('check_fields', lang)} {fields}",
                     status_code=422)  # fmt: skip
    except (Conflict, StaleDataError) as exc:
        # Someone else saved first, or the lifecycle refuses: the page as it is now, the editor's text kept.
        db.rollback()
        stale = not isinstance(exc, agreements.TransitionRefused)
        message = i18n.translate("stale_kept", lang) if stale else str(exc)
        return _page(request, db, record_id, form=form, error=message, status_code=409)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return RedirectResponse(f"/agreements/{record_id}?saved=1", status_code=303)


def _lang(request: Request) -> str:
    return getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)


def _said(exc: Exception, lang: str) -> str:
    """A refusal in the page's language: its i18n key and parameters when it has them, else its message."""
    key = getattr(exc, "key", None)
    if not key or key not in i18n.MESSAGES:
        return str(exc)
    params = dict(getattr(exc, "params", {}))
    if "media" in params:  # the type's name in the page's language
        params["kind"] = i18n.translate(f"media:{params['media']}", lang)
    if "kinds" in params:
        sep = "، " if lang == "fa" else ", "
        params["kinds"] = sep.join(i18n.translate(f"media:{m}", lang) for m in settings.DOCUMENT_MEDIA_TYPES)
    return i18n.translate(key, lang).format(**params)


@router.post("/agreements/{record_id}/documents")
async def document_upload(request: Request, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    """Attach a file (multipart form) to the agreement; a refusal re-renders the page saying why, in its language."""
    _known(record_id)
    submitted = await request.form()
    check_csrf_form(request, str(submitted.get("csrf_token") or ""))
    lang = _lang(request)
    upload = submitted.get("file")
    kind = str(submitted.get("kind") or "other")
    title = str(submitted.get("title") or "").strip() or None
    form = {"doc_kind": kind, "doc_title": title or ""}
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _page(request, db, record_id, form=form, doc_error=i18n.translate("document_missing", lang),
                     status_code=422)  # fmt: skip
    content = await upload.read()
    try:
        meta = DocumentIn.model_validate({"relation_id": record_id, "kind": kind, "title": title}, strict=False)
        documents.add_document(db, meta, upload.filename, content, user.username)
        db.commit()
    except ValidationError as exc:
        db.rollback()
        fields = ", ".join(i18n.translate(str(e["loc"][0]), lang) for e in exc.errors() if e["loc"])
        return _page(request, db, record_id, form=form, doc_error=f"{i18n.translate('check_fields', lang)} {fields}",
                     status_code=422)  # fmt: skip
    except (documents.DocumentRefused, documents.DuplicateDocument) as exc:
        db.rollback()
        return _page(request, db, record_id, form=form, doc_error=_said(exc, lang), status_code=exc.http_status)
    return RedirectResponse(f"/agreements/{record_id}?saved=1#agreement-documents", status_code=303)


@router.post("/agreements/{record_id}/signatories")
async def signatory_submit(request: Request, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    """Add a signatory, the person named by name (either script) or ``#id``; an unknown name is said, not saved."""
    _known(record_id)
    submitted = await request.form()
    check_csrf_form(request, str(submitted.get("csrf_token") or ""))
    lang = _lang(request)
    form = {k: str(submitted.get(k) or "").strip() for k in ("person", "role")}
    try:
        person = people.find_person(db, form["person"], field=i18n.translate("person", lang))
        body = SignatoryIn.model_validate(
            {"relation_id": record_id, "person_id": person.id, "role": form["role"] or "signatory"}, strict=False
        )
        people.add_signatory(db, body, user.username)
        db.commit()
    except ValidationError as exc:
        db.rollback()
        fields = ", ".join(i18n.translate(str(e["loc"][0]), lang) for e in exc.errors() if e["loc"])
        return _page(request, db, record_id, form=form, sign_error=f"{i18n.translate('check_fields', lang)} {fields}",
                     status_code=422)  # fmt: skip
    except CityDipError as exc:  # unknown or ambiguous person, already recorded, agreement gone
        db.rollback()
        if isinstance(exc, people.PersonNotFound):
            message = i18n.translate("person_unknown", lang).format(name=form["person"])
        else:
            message = str(exc)
        return _page(request, db, record_id, form=form, sign_error=message, status_code=exc.http_status)
    return RedirectResponse(f"/agreements/{record_id}?saved=1#agreement-signatories", status_code=303)


@router.get("/documents/{document_id}")
def document_download(document_id: int, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    """A document's file, to signed-in users only (anonymous visitors are sent to the login page)."""
    from citydiplomacy.web.api.agreements import download

    if not 1 <= document_id <= MAX_ID:
        raise HTTPException(status_code=404, detail=f"no document {document_id}")
    return download(db, document_id)
