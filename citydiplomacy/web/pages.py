"""The server-rendered dashboard (Jinja2): search, profiles, rankings, network, forms, review, audit.

Pages read through :mod:`citydiplomacy.web.data` (as the API does) and write through
:mod:`citydiplomacy.store.records`; charts and maps are the Plotly figures of
:mod:`citydiplomacy.present.charts` (the reports' too), embedded as JSON and drawn by ``static/app.js``
with the locally served plotly.min.js (no CDN, no tile server).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AfterValidator, BaseModel, ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from citydiplomacy.core.errors import CityDipError, Conflict, VersionConflict
from citydiplomacy.present import charts, i18n, metrics
from citydiplomacy.present.fmt import formatter
from citydiplomacy.store import queries, review
from citydiplomacy.store.inputs import MAX_ID, MAX_OFFSET, NO_CONTROL_PATTERN, check_query_text
from citydiplomacy.store.records import (
    LIST_FIELDS,
    RECORD_KINDS,
    FieldProblem,
    body_from_form,
    create_record,
    input_values,
    update_record,
)
from citydiplomacy.web import auth, data, sessions
from citydiplomacy.web.api.routes import start_session
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_form, current_user, get_db
from citydiplomacy.web.deps import csrf_token as page_csrf_token

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
PAGE_SIZE = 50
# Bounded like the API's parameters: past 64 bits the database drivers overflow (a 500 or a 503); a NUL in
# a search is refused on PostgreSQL and matched everything on SQLite.
PageOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
NoControl = AfterValidator(check_query_text)


def _known_id(record_id: int, what: str) -> int:
    """``record_id`` when it can name a record; else the 404 page (in the page's language)."""
    if not 1 <= record_id <= MAX_ID:
        raise HTTPException(status_code=404, detail=f"no {what} {record_id}")
    return record_id


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the common context: language, direction, user, CSRF token, language links."""
    lang = getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)
    other = "en" if lang == "fa" else "fa"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "dir": "rtl" if lang == "fa" else "ltr",
            "user": current_user(request),
            "csrf": page_csrf_token(request),
            "switch_url": f"{request.url.path}?{urlencode(params)}",
            **context,
        },
        status_code=status_code,
    )


def _url(path: str, **params: Any) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def pager(request: Request, total: int, offset: int, limit: int = PAGE_SIZE) -> dict[str, Any]:
    """Links to the previous and next pages of a list, keeping the other query parameters."""
    params = {k: v for k, v in request.query_params.items() if k != "offset"}
    prev_url = _url(request.url.path, **params, offset=max(0, offset - limit)) if offset > 0 else None
    next_url = _url(request.url.path, **params, offset=offset + limit) if offset + limit < total else None
    return {"total": total, "offset": offset, "limit": limit, "prev": prev_url, "next": next_url}


# --- session pages ---------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - the usual parameter name
    return render(request, "login.html", next=_safe_next(next), error=None)


def _safe_next(target: str) -> str:
    # Only same-site paths: "//evil.example" or "https://..." would be an open redirect.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.post("/login")
def login_submit(
    request: Request,
    db: DB,
    username: Annotated[str, Form(max_length=80, pattern=NO_CONTROL_PATTERN)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500, pattern=NO_CONTROL_PATTERN)] = "/",  # noqa: A002
) -> Response:
    check_csrf_form(request, csrf_token)
    lang = getattr(request.state, "lang", "en")
    client = sessions.client_address(request)
    wait = auth.login_wait(db, client, username)
    if wait > 0:
        page = render(request, "login.html", 429, next=_safe_next(next), error=i18n.translate("too_many", lang))
        page.headers["Retry-After"] = auth.retry_after(wait)
        return page
    user = auth.authenticate(db, username, password) if username and password else None
    if user is None:
        auth.login_failed(db, client, username)
        db.commit()  # the failure counts although the login failed
        return render(request, "login.html", 401, next=_safe_next(next), error=i18n.translate("bad_login", lang))
    auth.login_succeeded(db, client, username)
    start_session(request, db, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, db: DB, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf_form(request, csrf_token)
    sessions.log_out(request, db)
    db.commit()
    return RedirectResponse("/login", status_code=303)


# --- reading pages ---------------------------------------------------------------------------------


@router.get("/")
def home(
    request: Request,
    db: DB,
    q: Annotated[str | None, Query(max_length=200), NoControl] = None,
    offset: PageOffset = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    figures = queries.stats(db)
    places = data.place_page(db, q, limit=PAGE_SIZE, offset=offset) if q else None
    orgs = data.page(db, data.organisations_query(q), 20, 0) if q else None
    top = data.best_connected(db, 10) if not q else []
    return render(
        request,
        "home.html",
        q=q or "",
        figures=figures,
        places=places,
        orgs=orgs,
        pager=pager(request, places["total"], offset) if places else None,
        top=top,
    )


@router.get("/cities/{place_id}")
def city_page(request: Request, place_id: int, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    profile = data.city_profile(db, _known_id(place_id, "place"))
    if profile is None:
        raise HTTPException(status_code=404, detail=f"no place {place_id}")
    fmt = formatter(request.state.lang)
    assessment = profile["assessment"]
    if profile["network"]:  # the glossary's order (partners, strength, bridging, ...), not the codes' alphabet
        order = {code: i for i, code in enumerate(metrics.catalogue())}
        profile["network"]["results"].sort(key=lambda r: (order.get(r["code"], len(order)), r["code"]))
    figures = {
        "relations": charts.relations_chart(profile, fmt),
        "dimensions": (
            charts.dimensions_chart(assessment["dimensions"], fmt, assessment["index"]) if assessment else None
        ),
        "partners": charts.partners_map(profile, fmt),
        "timeline": charts.timeline_chart(profile["activities"], fmt),
    }
    return render(request, "city.html", p=profile, charts=figures)


@router.get("/organisations")
def organisations_page(
    request: Request,
    db: DB,
    q: Annotated[str | None, Query(max_length=200), NoControl] = None,
    offset: PageOffset = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    """Organisations by name, each with its members in the registry and the latest member count its sources
    state (with the year)."""
    orgs = data.page(db, data.organisations_query(q), PAGE_SIZE, offset)
    summaries = data.organisation_summaries(db, [o["id"] for o in orgs["items"]])
    return render(
        request,
        "organisations.html",
        orgs=orgs,
        summaries=summaries,
        q=q or "",
        pager=pager(request, orgs["total"], offset),
    )


@router.get("/organisations/{organisation_id}")
def organisation_page(request: Request, organisation_id: int, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    profile = data.organisation_profile(db, _known_id(organisation_id, "organisation"))
    if profile is None:
        raise HTTPException(status_code=404, detail=f"no organisation {organisation_id}")
    fmt = formatter(request.state.lang)
    figures = {"members": charts.members_map(profile, fmt), "growth": charts.growth_chart(profile, fmt)}
    return render(request, "organisation.html", o=profile, charts=figures)


def _bad_query_value(field: str, kind: str, message: str) -> HTTPException:
    """A 422 naming the query parameter (the error page words it in the page's language)."""
    return HTTPException(status_code=422, detail=[{"loc": ["query", field], "msg": message, "type": kind}])


@router.get("/rankings")
def rankings_page(
    request: Request,
    db: DB,
    code: Annotated[str, Query(max_length=60), NoControl] = data.CDI_CODE,
    run_id: QueryId = None,
    country: Annotated[str, Query(max_length=2, pattern="^([A-Za-z]{2})?$")] = "",
    min_coverage: Annotated[str, Query(max_length=3, pattern="^[0-9]{0,3}$")] = "",
    find: Annotated[str, Query(max_length=200), NoControl] = "",
    highlight: QueryId = None,
    offset: PageOffset = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    """Places ranked by a result of an assessment run, filtered by country and minimum coverage (a percentage);
    ``find`` jumps to the page holding the named place and highlights its row."""
    if min_coverage and int(min_coverage) > 100:
        raise _bad_query_value("min_coverage", "less_than_equal", "Input should be less than or equal to 100")
    share = int(min_coverage) / 100 if min_coverage else None
    filters = {"country": country.upper() or None, "min_coverage": share}
    ranked = data.ranking(db, run_id, code, PAGE_SIZE, offset, **filters, find=find.strip() or None)
    if ranked is not None and code not in ranked["codes"]:
        raise _bad_query_value("code", "literal_error", "Input should be one of the run's results")
    if ranked is not None and ranked["found"] is not None:
        target = _url(
            "/rankings", code=code, run_id=run_id, country=country.upper(), min_coverage=min_coverage,
            offset=ranked["offset"] or None, highlight=ranked["found"],
        )  # fmt: skip
        return RedirectResponse(f"{target}#row-{ranked['found']}", status_code=303)
    fmt = formatter(request.state.lang)
    figures = {
        "by_value": charts.ranking_chart(ranked["items"], fmt, code) if ranked else None,
        "by_rank": charts.rank_interval_chart(ranked["items"], fmt) if ranked else None,
    }
    # The picker's options grouped as the glossary groups them (index, dimensions, indicators).
    code_groups = [
        (heading, [c for c in (ranked["codes"] if ranked else []) if fmt.metric(c).group == group])
        for group, heading in ((g, words[1 if fmt.rtl else 0]) for g, words in metrics.GROUPS.items())
    ]
    return render(
        request,
        "rankings.html",
        ranked=ranked,
        charts=figures,
        code_groups=code_groups,
        filters={"country": country.upper(), "min_coverage": min_coverage, "find": find.strip()},
        highlight=highlight,
        not_found=bool(find.strip()) and ranked is not None,
        pager=pager(request, ranked["total"], ranked["offset"]) if ranked else None,
    )


@router.get("/glossary")
def glossary_page(request: Request, user: auth.CurrentUser = Viewer) -> Response:
    """Every result code a page can show: its name, what it means and its unit, in the page's language."""
    return render(request, "glossary.html", groups=metrics.glossary(request.state.lang))


@router.get("/network")
def network_page(
    request: Request,
    db: DB,
    code: Annotated[str | None, Query(max_length=60), NoControl] = None,
    run_id: QueryId = None,
    offset: PageOffset = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    table = data.network_table(db, run_id, code, PAGE_SIZE, offset)
    chart = charts.network_map(table["items"], formatter(request.state.lang), table["code"]) if table else None
    return render(
        request,
        "network.html",
        table=table,
        fig=chart,
        pager=pager(request, table["total"], offset) if table else None,
    )


@router.get("/audit")
def audit_page(
    request: Request,
    db: DB,
    entity: Annotated[str | None, Query(max_length=40), NoControl] = None,
    entity_id: QueryId = None,
    actor: Annotated[str | None, Query(max_length=120), NoControl] = None,
    offset: PageOffset = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    query = data.audit_query(entity or None, entity_id, actor or None)
    entries = data.page(db, query, PAGE_SIZE, offset, to_dict=lambda e: e)  # ORM rows: dates stay dates
    return render(
        request,
        "audit.html",
        entries=entries,
        entity=entity or "",
        actor=actor or "",
        pager=pager(request, entries["total"], offset),
    )


@router.get("/review")
def review_page(request: Request, db: DB, offset: PageOffset = 0, user: auth.CurrentUser = Viewer) -> Response:
    queue = review.queue(db, "ambiguous", PAGE_SIZE, offset)
    return render(request, "review.html", queue=queue, pager=pager(request, queue["total"], offset), message=None)


def _review_decision(decision: Callable[[], Any]) -> None:
    """Run a decision of :mod:`citydiplomacy.store.review`; its errors become the dashboard's error pages."""
    try:
        decision()
    except VersionConflict:
        raise  # the application's handler: 409 "changed by someone else"
    except CityDipError as exc:  # BadInput 422, NotFound 404, Conflict 409
        raise HTTPException(status_code=exc.http_status, detail=str(exc)) from exc


def _form_version(form: Any) -> int:
    try:
        version = int(str(form.get("version") or ""))
    except ValueError as exc:
        raise HTTPException(status_code=422, detail="the form lacks the mention's version; reload the page") from exc
    if not 1 <= version <= MAX_ID:
        raise HTTPException(status_code=422, detail="the form's version is out of range; reload the page")
    return version


@router.post("/review/{mention_id}/resolve")
async def review_submit(request: Request, mention_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    _known_id(mention_id, "mention")
    form = await request.form()
    check_csrf_form(request, str(form.get("csrf_token") or ""))
    choice = str(form.get("choice") or "")
    version = _form_version(form)
    kind, _, value = choice.partition(":")
    try:
        number = int(value)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail="choose a candidate or give a place id") from exc
    if not 0 <= number <= MAX_ID:
        raise HTTPException(status_code=422, detail="choose a candidate or give a place id")
    if kind == "place":
        _review_decision(lambda: review.resolve(db, mention_id, place_id=number, version=version, actor=user.username))
    else:
        _review_decision(lambda: review.resolve(db, mention_id, candidate=number, version=version, actor=user.username))
    db.commit()
    return RedirectResponse(_url("/review", resolved=mention_id), status_code=303)


@router.post("/review/{mention_id}/keep")
async def review_keep(request: Request, mention_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    _known_id(mention_id, "mention")
    form = await request.form()
    check_csrf_form(request, str(form.get("csrf_token") or ""))
    version = _form_version(form)
    _review_decision(lambda: review.keep(db, mention_id, version=version, actor=user.username))
    db.commit()
    return RedirectResponse(_url("/review", kept=mention_id), status_code=303)


@router.post("/review/{mention_id}/reject")
async def review_reject(request: Request, mention_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    _known_id(mention_id, "mention")
    form = await request.form()
    check_csrf_form(request, str(form.get("csrf_token") or ""))
    version = _form_version(form)
    _review_decision(lambda: review.reject(db, mention_id, version=version, actor=user.username))
    db.commit()
    return RedirectResponse(_url("/review", rejected=mention_id), status_code=303)


# --- data-entry forms ------------------------------------------------------------------------------


def _field_kind(annotation: Any) -> tuple[str, list[str]]:
    """Map a pydantic annotation to an HTML input kind and its options."""
    if get_origin(annotation) is Annotated:  # the inputs' text and date types (validators, documented patterns)
        return _field_kind(get_args(annotation)[0])
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _field_kind(args[0])
    if origin is Literal:
        return "select", [str(a) for a in get_args(annotation)]
    if origin is list:
        inner = get_args(annotation)[0]
        if get_origin(inner) is Literal:
            return "multi", [str(a) for a in get_args(inner)]
        return "list", []
    if annotation is bool:
        return "checkbox", []
    if annotation in (int, float):
        return "number", []
    if annotation is date:
        return "date", []
    return "text", []


def form_fields(model: type[BaseModel], values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The fields of a record form: name, input kind, options, current value, error, required flag."""
    fields = []
    # Provenance last: what the record is comes first, where it came from after.
    names = sorted(model.model_fields, key=lambda n: n in ("source", "source_locator"))
    for name in names:
        info = model.model_fields[name]
        kind, options = _field_kind(info.annotation)
        if name == "version":
            kind = "hidden"
        max_len = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
        if kind == "text" and max_len and max_len > 1000:
            kind = "textarea"
        default = None if info.is_required() or info.default_factory else info.default
        value = values.get(name, default)
        if isinstance(value, list) and kind == "list":
            value = ", ".join(map(str, value))
        fields.append(
            {
                "name": name,
                "kind": kind,
                "options": options,
                "value": value,
                "error": errors.get(name),
                "required": info.is_required() or default is not None,
                "picker": name.endswith("place_id") or name in ("place_a_id", "place_b_id"),
                "step": "any" if info.annotation in (float, float | None) else "1",
            }
        )
    return fields


def _errors(exc: ValidationError | FieldProblem) -> dict[str, str]:
    if isinstance(exc, FieldProblem):
        return {exc.field: exc.message}
    out: dict[str, str] = {}
    for e in exc.errors():
        key = str(e["loc"][0]) if e["loc"] else "__all__"
        out.setdefault(key, e["msg"].removeprefix("Value error, "))
    return out


def _kind_or_404(kind: str) -> Any:
    if kind not in RECORD_KINDS:
        raise HTTPException(status_code=404, detail=f"no record kind {kind!r}")
    return RECORD_KINDS[kind]


def _form_page(
    request: Request,
    kind: str,
    values: dict[str, Any],
    errors: dict[str, str],
    record_id: int | None,
    status: int = 200,
) -> Response:
    spec = RECORD_KINDS[kind]
    model = spec.update if record_id else spec.create
    return render(
        request,
        "form.html",
        status,
        kind=kind,
        spec=spec,
        record_id=record_id,
        fields=form_fields(model, values, errors),
        general_error=errors.get("__all__"),
    )


@router.get("/records/{kind}/new")
def new_record(request: Request, kind: str, user: auth.CurrentUser = Editor) -> Response:
    _kind_or_404(kind)
    return _form_page(request, kind, dict(request.query_params), {}, None)


@router.get("/records/{kind}/{record_id}/edit")
def edit_record(request: Request, kind: str, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    spec = _kind_or_404(kind)
    obj = db.get(spec.model, _known_id(record_id, spec.label))
    if obj is None:
        raise HTTPException(status_code=404, detail=f"no {spec.label} {record_id}")
    values = input_values(kind, obj)
    if obj.source_id:
        from citydiplomacy.store.schema import Source

        source = db.get(Source, obj.source_id)
        values["source"] = source.name if source else None
    return _form_page(request, kind, values, {}, record_id)


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
    if kind in ("memberships",):
        return f"/cities/{obj.place_id}?saved=1"
    if kind == "activities" and obj.place_id:
        return f"/cities/{obj.place_id}?saved=1"
    return "/audit"


@router.post("/records/{kind}/new")
async def create_submit(request: Request, kind: str, db: DB, user: auth.CurrentUser = Editor) -> Response:
    spec = _kind_or_404(kind)
    values = await _form_values(request)
    check_csrf_form(request, values.pop("csrf_token", None))
    try:
        body = spec.create.model_validate(body_from_form(kind, values, update=False), strict=False)
        obj = create_record(db, kind, body, user.username)
    except (ValidationError, FieldProblem) as exc:
        return _form_page(request, kind, values, _errors(exc), None, 422)
    db.commit()
    return RedirectResponse(_after_save(kind, obj), status_code=303)


@router.post("/records/{kind}/{record_id}/edit")
async def edit_submit(request: Request, kind: str, record_id: int, db: DB, user: auth.CurrentUser = Editor) -> Response:
    spec = _kind_or_404(kind)
    _known_id(record_id, spec.label)
    values = await _form_values(request)
    check_csrf_form(request, values.pop("csrf_token", None))
    try:
        body = spec.update.model_validate(body_from_form(kind, values, update=True), strict=False)
        obj = update_record(db, kind, record_id, body, user.username)
    except (ValidationError, FieldProblem) as exc:
        return _form_page(request, kind, values, _errors(exc), record_id, 422)
    except (VersionConflict, StaleDataError):
        # Someone else saved first: the editor's typed text stays in the form, on the record's current version.
        db.rollback()
        current = db.get(spec.model, record_id)
        if current is None:
            raise HTTPException(status_code=404, detail=f"no {spec.label} {record_id}") from None
        values["version"] = current.version
        lang = getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)
        return _form_page(request, kind, values, {"__all__": i18n.translate("stale_form", lang)}, record_id, 409)
    except Conflict as exc:  # a status change the lifecycle refuses
        return _form_page(request, kind, values, {"status": str(exc)}, record_id, 409)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    db.commit()
    return RedirectResponse(_after_save(kind, obj), status_code=303)
