"""The dashboard's record forms: list, add, edit, delete every kind of record; a conflict page that keeps the
editor's input beside the stored version; an admin's restore of a deletion from the audit page.

Thin over :mod:`citydiplomacy.store.records` (the one write service: create, update, delete with a snapshot in
the audit trail, restore) and :mod:`citydiplomacy.web.forms` (names, dates and problems as a person types and
reads them).  Editors add, edit and delete records; places and organisations, which others refer to, only an
admin deletes (and only when nothing refers to them); an admin restores a deletion.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from citydiplomacy.core.errors import BadInput, Conflict, VersionConflict
from citydiplomacy.present import fmt, i18n
from citydiplomacy.store.inputs import MAX_ID, MAX_OFFSET
from citydiplomacy.store.records import (
    LIST_FIELDS,
    RECORD_KINDS,
    DeletionRefused,
    FieldProblem,
    body_from_form,
    create_record,
    delete_record,
    input_values,
    restore_deleted,
    update_record,
)
from citydiplomacy.store.schema import AuditEntry, Source
from citydiplomacy.web import auth, data, forms
from citydiplomacy.web.deps import Admin, Editor, check_csrf_form, get_db

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
PAGE_SIZE = 50
#: The kinds only an admin deletes: other records refer to them.
ADMIN_DELETES = ("places", "organisations")
#: The order of the kinds in the forms' menu.
KIND_ORDER = (
    "agreements",
    "relations",
    "activities",
    "outcomes",
    "actions",
    "memberships",
    "organisations",
    "places",
    "people",
    "signatories",
    "participants",
    "activity_parties",
    "documents",
    "dues",
)


def _lang(request: Request) -> str:
    return getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)


def _known_id(record_id: int, what: str) -> int:
    if not 1 <= record_id <= MAX_ID:
        raise HTTPException(status_code=404, detail=f"no {what} {record_id}")
    return record_id


def _kind_or_404(kind: str) -> Any:
    if kind not in RECORD_KINDS:
        raise HTTPException(status_code=404, detail=f"no record kind {kind!r}")
    return RECORD_KINDS[kind]


def _render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    from citydiplomacy.web.pages import render

    return render(request, template, status, kinds=KIND_ORDER, **context)


def _form_page(
    request: Request, db: Session, kind: str, values: dict[str, Any], errors: dict[str, str], record_id: int | None,
    status: int = 200, *, choices: dict[str, list[dict[str, Any]]] | None = None,
    conflict: list[dict[str, Any]] | None = None,
) -> Response:  # fmt: skip
    spec = RECORD_KINDS[kind]
    model = spec.update if record_id else spec.create
    return _render(
        request, "form.html", status, kind=kind, spec=spec, record_id=record_id,
        fields=forms.form_fields(db, model, values, errors, _lang(request), choices, kind_label=spec.label),
        general_error=errors.get("__all__"), conflict=conflict,
        can_delete=record_id is not None, error_count=len([k for k in errors if k != "__all__"]),
    )  # fmt: skip


def _stored_values(db: Session, kind: str, obj: Any) -> dict[str, Any]:
    values = input_values(kind, obj)
    if getattr(obj, "source_id", None):
        source = db.get(Source, obj.source_id)
        values["source"] = source.name if source else None
    return values


async def _form_values(request: Request) -> dict[str, Any]:
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        got = form.getlist(key)
        values[key] = got if len(got) > 1 or key in LIST_FIELDS else got[0]
    return values


def _after_save(kind: str, obj: Any) -> str:
    if kind == "places":
        return f"/cities/{obj.id}?saved=1"
    if kind == "organisations":
        return f"/organisations/{obj.id}?saved=1"
    if kind == "relations":
        return f"/cities/{obj.place_a_id}?saved=1"
    if kind == "agreements":
        return f"/agreements/{obj.id}?saved=1"
    if kind == "memberships":
        return f"/cities/{obj.place_id}?saved=1"
    if kind == "people":
        return f"/records/people/{obj.id}/edit?saved=1"
    if kind == "signatories":
        return f"/agreements/{obj.relation_id}?saved=1#agreement-signatories"
    if kind == "documents" and obj.relation_id:
        return f"/agreements/{obj.relation_id}?saved=1#agreement-documents"
    if kind in ("outcomes", "actions") and obj.relation_id:
        return f"/agreements/{obj.relation_id}?saved=1"
    if kind == "activities" and obj.relation_id:
        return f"/agreements/{obj.relation_id}?saved=1"
    if kind == "activities" and obj.place_id:
        return f"/cities/{obj.place_id}?saved=1"
    return f"/records/{kind}?saved={obj.id}"


def _summary(kind: str, item: dict[str, Any], lang: str) -> str:
    """One line naming a record in a list (its title or name, else its kind and parties' ids)."""
    f = fmt.formatter(lang)
    for key in ("title_fa" if lang == "fa" else "title", "title", "name_fa" if lang == "fa" else "name", "name",
                "file_name"):  # fmt: skip
        if item.get(key):
            return str(item[key])
    if kind == "outcomes":
        return f.term(item.get("code"))
    if kind in ("signatories", "participants", "activity_parties"):
        return item.get("role") or ""
    if kind == "dues":
        return f"{f.year(item.get('year'))} · {f.num(item.get('amount'), 2)} {item.get('currency') or ''}".strip()
    return f.term(item.get("kind")) or f"#{f.digits(item['id'])}"


#: The columns of a listed record naming a party, and what they name.
_PARTY_COLUMNS = {"place_a_id": "place", "place_b_id": "place", "place_id": "place", "organisation_id": "organisation",
                  "person_id": "person"}  # fmt: skip


def _party_names(db: Session, items: list[dict[str, Any]], lang: str) -> dict[tuple[str, int], str]:
    """The names (in ``lang``) of the places and organisations the listed records name."""
    from citydiplomacy.store.schema import Organisation, Person, Place

    out: dict[tuple[str, int], str] = {}
    for what, model in (("place", Place), ("organisation", Organisation), ("person", Person)):
        ids = {item[k] for item in items for k, t in _PARTY_COLUMNS.items() if t == what and item.get(k)}
        for obj in db.scalars(select(model).where(model.id.in_(ids))) if ids else ():
            out[(what, obj.id)] = (obj.name_fa if lang == "fa" else None) or obj.name
    return out


@router.get("/records/{kind}")
def records_list(
    request: Request, kind: str, db: DB, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    user: auth.CurrentUser = Editor,
) -> Response:  # fmt: skip
    """Every record of a kind, newest first, each with its edit and delete links."""
    spec = _kind_or_404(kind)
    query = select(spec.model).order_by(spec.model.id.desc())
    items = data.page(db, query, PAGE_SIZE, offset)
    lang = _lang(request)
    names = _party_names(db, items["items"], lang)
    for item in items["items"]:
        parties = [names[(t, item[k])] for k, t in _PARTY_COLUMNS.items() if item.get(k) and (t, item[k]) in names]
        item["summary"] = " · ".join(x for x in (_summary(kind, item, lang), " – ".join(parties)) if x)
    from citydiplomacy.web.pages import pager

    can_delete = user.can("admin" if kind in ADMIN_DELETES else "editor")
    return _render(request, "records.html", kind=kind, spec=spec, items=items, pager=pager(request, items["total"],
                   offset), can_delete=can_delete)  # fmt: skip


def _not_from_a_form(kind: str) -> Response | None:
    """Where a kind that no form creates is added (a document: on its agreement's page, with its file)."""
    if RECORD_KINDS[kind].creatable:
        return None
    return RedirectResponse("/agreements", status_code=303)


@router.get("/records/{kind}/new")
def new_record(request: Request, kind: str, db: DB, user: auth.CurrentUser = Editor) -> Response:
    _kind_or_404(kind)
    if (elsewhere := _not_from_a_form(kind)) is not None:
        relation = request.query_params.get("relation_id", "")
        return RedirectResponse(f"/agreements/{relation}#agreement-documents", 303) if relation.isdigit() else elsewhere
    return _form_page(request, db, kind, dict(request.query_params), {}, None)


@router.get("/records/{kind}/{record_id}/edit")
def edit_record(request: Request, kind: str, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    spec = _kind_or_404(kind)
    obj = db.get(spec.model, _known_id(record_id, spec.label))
    if obj is None:
        raise HTTPException(status_code=404, detail=f"no {spec.label} {record_id}")
    return _form_page(request, db, kind, _stored_values(db, kind, obj), {}, record_id)


def _read(request: Request, db: Session, kind: str, values: dict[str, Any], actor: str, update: bool) -> Any:
    """The kind's validated body from the submitted form; raises :class:`_FormProblems` with the page's words."""
    spec = RECORD_KINDS[kind]
    lang = _lang(request)
    model = spec.update if update else spec.create
    errors, choices = forms.read_form(db, model, values, lang, actor)
    try:
        body = model.model_validate(body_from_form(kind, values, update=update), strict=False)
    except ValidationError as exc:
        raise _FormProblems({**forms.translated_errors(exc, lang), **errors}, choices) from exc
    if errors:
        raise _FormProblems(errors, choices)
    return body


class _FormProblems(BadInput):
    def __init__(self, errors: dict[str, str], choices: dict[str, list[dict[str, Any]]]):
        super().__init__("form problems")
        self.errors = errors
        self.choices = choices


@router.post("/records/{kind}/new")
async def create_submit(request: Request, kind: str, db: DB, user: auth.CurrentUser = Editor) -> Response:
    _kind_or_404(kind)
    values = await _form_values(request)
    check_csrf_form(request, values.pop("csrf_token", None))
    if (elsewhere := _not_from_a_form(kind)) is not None:
        return elsewhere
    typed = dict(values)
    lang = _lang(request)
    try:
        body = _read(request, db, kind, values, user.username, update=False)
        obj = create_record(db, kind, body, user.username)
        db.commit()
    except IntegrityError:  # a rule of the database (one record per key): the typed form stays
        db.rollback()
        return _form_page(request, db, kind, typed, {"__all__": i18n.translate("record_exists", lang)}, None, 409)
    except _FormProblems as exc:
        db.rollback()  # a place the picker created goes too: nothing half-written
        return _form_page(request, db, kind, typed, exc.errors, None, 422, choices=exc.choices)
    except FieldProblem as exc:
        db.rollback()
        return _form_page(request, db, kind, typed, forms.translated_errors(exc, lang), None, 422)
    except Conflict as exc:  # a lifecycle rule
        db.rollback()
        return _form_page(request, db, kind, typed, {"__all__": str(exc)}, None, 409)
    return RedirectResponse(_after_save(kind, obj), status_code=303)


def _versions_side_by_side(
    db: Session, kind: str, mine: dict[str, Any], stored: dict[str, Any], lang: str
) -> list[dict[str, Any]]:
    """Each field of the form with the editor's value and the stored one, as a person reads them."""
    spec = RECORD_KINDS[kind]
    f = fmt.formatter(lang)
    typed = {x["name"]: x for x in forms.form_fields(db, spec.update, mine, {}, lang)}

    def shown(field: dict[str, Any], value: Any) -> str:
        if field["kind"] in ("place", "organisation", "record"):
            value = field.get("typed") or field.get("line") or ""
        if isinstance(value, list):
            value = ", ".join(f.term(v) for v in value)
        elif field["kind"] in ("select", "multi") and value:
            value = f.term(str(value))
        elif field["kind"] == "checkbox":
            value = i18n.translate("yes" if value in (True, "on", "true") else "no", lang)
        return "" if value is None else str(value)

    rows = []
    for field in forms.form_fields(db, spec.update, stored, {}, lang):
        name = field["name"]
        if name == "version":
            continue
        theirs = shown(field, field["value"])
        yours = shown(typed[name], typed[name]["value"])
        if not yours and not theirs:
            continue
        if field["kind"] == "number":
            yours, theirs = f.digits(yours), f.digits(theirs)
        rows.append({"label": field["label"], "yours": yours, "theirs": theirs, "differs": yours != theirs})
    return rows


@router.post("/records/{kind}/{record_id}/edit")
async def edit_submit(request: Request, kind: str, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    spec = _kind_or_404(kind)
    _known_id(record_id, spec.label)
    values = await _form_values(request)
    check_csrf_form(request, values.pop("csrf_token", None))
    typed = dict(values)
    lang = _lang(request)
    try:
        body = _read(request, db, kind, values, user.username, update=True)
        obj = update_record(db, kind, record_id, body, user.username)
        db.commit()
    except IntegrityError:
        db.rollback()
        return _form_page(request, db, kind, typed, {"__all__": i18n.translate("record_exists", lang)}, record_id, 409)
    except _FormProblems as exc:
        db.rollback()
        return _form_page(request, db, kind, typed, exc.errors, record_id, 422, choices=exc.choices)
    except FieldProblem as exc:
        db.rollback()
        return _form_page(request, db, kind, typed, forms.translated_errors(exc, lang), record_id, 422)
    except (VersionConflict, StaleDataError):
        # Someone else saved first: the editor's input stays in the form, on top of the record's current version,
        # and both versions are shown side by side; saving the form again applies the editor's input.
        db.rollback()
        current = db.get(spec.model, record_id)
        if current is None:
            raise HTTPException(status_code=404, detail=f"no {spec.label} {record_id}") from None
        stored = _stored_values(db, kind, current)
        typed["version"] = current.version
        side = _versions_side_by_side(db, kind, typed, stored, lang)
        return _form_page(request, db, kind, typed, {"__all__": i18n.translate("stale_form", lang)}, record_id, 409,
                          conflict=side)  # fmt: skip
    except Conflict as exc:  # a status change the lifecycle refuses
        db.rollback()
        return _form_page(request, db, kind, typed, {"status": str(exc)}, record_id, 409)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return RedirectResponse(_after_save(kind, obj), status_code=303)


@router.get("/records/{kind}/{record_id}/delete")
def delete_page(request: Request, kind: str, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    """What a deletion would remove, and the button that does it (no JavaScript needed)."""
    spec = _kind_or_404(kind)
    obj = db.get(spec.model, _known_id(record_id, spec.label))
    if obj is None:
        raise HTTPException(status_code=404, detail=f"no {spec.label} {record_id}")
    item = input_values(kind, obj)
    allowed = user.can("admin" if kind in ADMIN_DELETES else "editor")
    version = getattr(obj, "version", 0)
    return _render(request, "delete.html", kind=kind, spec=spec, record_id=record_id, version=version,
                   summary=_summary(kind, item, _lang(request)), allowed=allowed, error=None)  # fmt: skip


@router.post("/records/{kind}/{record_id}/delete")
async def delete_submit(
    request: Request, kind: str, record_id: int, db: DB, user: auth.CurrentUser = Editor
) -> Response:
    spec = _kind_or_404(kind)
    _known_id(record_id, spec.label)
    form = await request.form()
    check_csrf_form(request, str(form.get("csrf_token") or ""))
    if kind in ADMIN_DELETES and not user.can("admin"):
        raise HTTPException(status_code=403, detail=f"this needs the admin role; you are {user.role}")
    lang = _lang(request)
    try:
        version = int(str(form.get("version") or "0"))
    except ValueError:
        version = -1
    try:
        delete_record(db, kind, record_id, version, user.username)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except (VersionConflict, DeletionRefused) as exc:
        db.rollback()
        obj = db.get(spec.model, record_id)
        if isinstance(exc, DeletionRefused):
            f = fmt.formatter(lang)
            what = "، ".join if lang == "fa" else ", ".join
            parts = what(f"{f.digits(n)} {f.term(t)}" for t, n in sorted(exc.blockers.items()))
            message = i18n.translate("delete_refused", lang).format(what=parts)
        else:
            message = i18n.translate("delete_stale", lang)
        return _render(request, "delete.html", 409, kind=kind, spec=spec, record_id=record_id,
                       version=getattr(obj, "version", 0), summary=_summary(kind, input_values(kind, obj), lang),
                       allowed=True, error=message)  # fmt: skip
    db.commit()
    return RedirectResponse(f"/records/{kind}?deleted={record_id}", status_code=303)


@router.post("/audit/{audit_id}/restore")
async def restore_submit(request: Request, audit_id: int, db: DB, user: auth.CurrentUser = Admin) -> Response:
    """Put back what a deletion removed (admin), from the snapshot its audit entry keeps."""
    _known_id(audit_id, "audit entry")
    form = await request.form()
    check_csrf_form(request, str(form.get("csrf_token") or ""))
    if db.get(AuditEntry, audit_id) is None:
        raise HTTPException(status_code=404, detail=f"no audit entry {audit_id}")
    try:
        done = restore_deleted(db, audit_id, user.username)
    except Conflict as exc:
        db.rollback()
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    db.commit()
    return RedirectResponse(f"/audit?entity={done['entity']}&entity_id={done['entity_id']}&restored={audit_id}",
                            status_code=303)  # fmt: skip
