"""The server-rendered dashboard (Jinja2): search, profiles, rankings, network, forms, review, audit.

Pages read through :mod:`citydiplomacy.web.data` (as the API does) and write through
:mod:`citydiplomacy.store.records`; charts and maps are the Plotly figures of
:mod:`citydiplomacy.present.charts` (the reports' too), embedded as JSON and drawn by ``static/app.js``
with the locally served plotly.min.js (no CDN, no tile server).
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AfterValidator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import CityDipError, VersionConflict
from citydiplomacy.present import charts, i18n, metrics
from citydiplomacy.present.fmt import formatter
from citydiplomacy.store import records, review
from citydiplomacy.store.inputs import MAX_ID, MAX_OFFSET, NO_CONTROL_PATTERN, check_query_text
from citydiplomacy.store.readcache import READS
from citydiplomacy.web import auth, data, explore, sessions
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


def render(
    request: Request, template: str, status_code: int = 200, *, csrf_slot: bool = False, **context: Any
) -> HTMLResponse:
    """Render a page with the common context: language, direction, user, CSRF token, language links
    (``csrf_slot``: a placeholder for the token, that :func:`render_cached` fills in)."""
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
            "csrf": _CSRF_SLOT if csrf_slot else page_csrf_token(request),
            "switch_url": f"{request.url.path}?{urlencode(params)}",
            **context,
        },
        status_code=status_code,
    )


#: Stands for the CSRF token in a cached page (the token is the session's, the rest of the page is not).
_CSRF_SLOT = f"citydip-csrf-{secrets.token_hex(16)}"


def render_cached(request: Request, db: Session, template: str, build: Callable[[], dict[str, Any]]) -> HTMLResponse:
    """:func:`render` of the context ``build()`` returns, the HTML kept in the read cache
    (:mod:`citydiplomacy.store.readcache`) until the registry next changes: rendering a template costs more
    than the cached reads behind it, and a page found in the cache does not build its context at all (its
    queries, its charts' figures).

    Only for pages whose context follows from the registry, the address (path and query), the language,
    the user and the day: those make the key.  The CSRF token is put in after, per request.  An exception
    ``build`` raises (a 404, a 422) is the response and is not cached.
    """
    user = current_user(request)
    who = (user.id, user.username, user.role) if user is not None else None
    key = ("page", template, request.url.path, tuple(sorted(request.query_params.multi_items())),
           getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE), who, datetime.date.today())  # fmt: skip

    def draw() -> bytes:
        return bytes(render(request, template, csrf_slot=True, **build()).body)

    body = READS.get(db, key, draw)
    return HTMLResponse(body.replace(_CSRF_SLOT.encode(), page_csrf_token(request).encode()))


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
    def build() -> dict[str, Any]:
        places = data.place_page(db, q, limit=PAGE_SIZE, offset=offset) if q else None
        seen = explore.overview(db)  # aggregated in SQL, kept until the registry changes
        return {
            "q": q or "",
            "figures": seen["figures"],
            "waiting": db.scalar(select(func.count()).select_from(data.review_query("ambiguous").subquery())) or 0,
            "overview": seen,
            "fig": explore.overview_figure(db, request.state.lang) if not q else None,
            "assessment": explore.latest_assessment(db),
            "places": places,
            "orgs": data.page(db, data.organisations_query(q), 20, 0) if q else None,
            "pager": pager(request, places["total"], offset) if places else None,
        }

    return render_cached(request, db, "home.html", build)


@router.get("/cities/{place_id}")
def city_page(request: Request, place_id: int, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    _known_id(place_id, "place")

    def build() -> dict[str, Any]:
        profile = data.city_profile(db, place_id)
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
        return {"p": profile, "charts": figures, "flags": data.agreement_flags(db, place_id)}

    return render_cached(request, db, "city.html", build)


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

    def build() -> dict[str, Any]:
        orgs = data.page(db, data.organisations_query(q), PAGE_SIZE, offset)
        summaries = data.organisation_summaries(db, [o["id"] for o in orgs["items"]])
        return {"orgs": orgs, "summaries": summaries, "q": q or "", "pager": pager(request, orgs["total"], offset)}

    return render_cached(request, db, "organisations.html", build)


@router.get("/organisations/{organisation_id}")
def organisation_page(request: Request, organisation_id: int, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    _known_id(organisation_id, "organisation")

    def build() -> dict[str, Any]:
        profile = data.organisation_profile(db, organisation_id)
        if profile is None:
            raise HTTPException(status_code=404, detail=f"no organisation {organisation_id}")
        fmt = formatter(request.state.lang)
        figures = {"members": charts.members_map(profile, fmt), "growth": charts.growth_chart(profile, fmt)}
        return {"o": profile, "charts": figures}

    return render_cached(request, db, "organisation.html", build)


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
    region: Annotated[str, Query(pattern="^(AF|AN|AS|EU|NA|OC|SA)?$")] = "",
    size: Annotated[str, Query(pattern=f"^({'|'.join(explore.POPULATION_BANDS)})?$")] = "",
    highlight: QueryId = None,
    offset: PageOffset = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    """Places ranked by a result of an assessment run, filtered by country, world region (continent), size
    (population band) and minimum coverage (a percentage);
    ``find`` jumps to the page holding the named place and highlights its row."""
    if min_coverage and int(min_coverage) > 100:
        raise _bad_query_value("min_coverage", "less_than_equal", "Input should be less than or equal to 100")
    share = int(min_coverage) / 100 if min_coverage else None
    filters = {"country": country.upper() or None, "min_coverage": share, "continent": region or None,
               "population": explore.POPULATION_BANDS.get(size, (None, None))}  # fmt: skip

    def ranked_page() -> dict[str, Any] | None:
        ranked = data.ranking(db, run_id, code, PAGE_SIZE, offset, **filters, find=find.strip() or None)
        if ranked is not None and code not in ranked["codes"]:
            raise _bad_query_value("code", "literal_error", "Input should be one of the run's results")
        return ranked

    if find.strip():  # found: a redirect to its page, decided before any cached page is looked up
        ranked = ranked_page()
        if ranked is not None and ranked["found"] is not None:
            target = _url(
                "/rankings", code=code, run_id=run_id, country=country.upper(), min_coverage=min_coverage,
                region=region, size=size, offset=ranked["offset"] or None, highlight=ranked["found"],
            )  # fmt: skip
            return RedirectResponse(f"{target}#row-{ranked['found']}", status_code=303)

    def build() -> dict[str, Any]:
        ranked = ranked_page()
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
        return {
            "ranked": ranked,
            "charts": figures,
            "code_groups": code_groups,
            "filters": {
                "country": country.upper(),
                "min_coverage": min_coverage,
                "find": find.strip(),
                "region": region,
                "size": size,
            },  # fmt: skip
            "regions": explore.CONTINENTS,
            "sizes": list(explore.POPULATION_BANDS),
            "highlight": highlight,
            "not_found": bool(find.strip()) and ranked is not None,
            "pager": pager(request, ranked["total"], ranked["offset"]) if ranked else None,
        }

    return render_cached(request, db, "rankings.html", build)


@router.get("/glossary")
def glossary_page(request: Request, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    """Every result code a page can show: its name, what it means and its unit, in the page's language."""
    return render_cached(request, db, "glossary.html", lambda: {"groups": metrics.glossary(request.state.lang)})


@router.get("/network")
def network_page(
    request: Request,
    db: DB,
    code: Annotated[str | None, Query(max_length=60), NoControl] = None,
    run_id: QueryId = None,
    offset: PageOffset = 0,
    user: auth.CurrentUser = Viewer,
) -> Response:
    def build() -> dict[str, Any]:
        table = data.network_table(db, run_id, code, PAGE_SIZE, offset)
        chart = charts.network_map(table["items"], formatter(request.state.lang), table["code"]) if table else None
        return {"table": table, "fig": chart, "pager": pager(request, table["total"], offset) if table else None}

    return render_cached(request, db, "network.html", build)


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
    def build() -> dict[str, Any]:
        query = data.audit_query(entity or None, entity_id, actor or None)
        entries = data.page(db, query, PAGE_SIZE, offset, to_dict=lambda e: e)  # ORM rows: dates stay dates
        return {
            "entries": entries,
            "restorable": {e.id for e in entries["items"] if user.can("admin") and records.restorable(db, e)},
            "refs": explore.audit_refs(db, entries["items"], request.state.lang),
            "reference_kind": explore.reference_kind,
            "entity": entity or "",
            "actor": actor or "",
            "pager": pager(request, entries["total"], offset),
        }

    return render_cached(request, db, "audit.html", build)


@router.get("/review")
def review_page(request: Request, db: DB, offset: PageOffset = 0, user: auth.CurrentUser = Viewer) -> Response:
    def build() -> dict[str, Any]:
        queue = review.queue(db, "ambiguous", PAGE_SIZE, offset)
        return {"queue": queue, "pager": pager(request, queue["total"], offset), "message": None}

    return render_cached(request, db, "review.html", build)


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


# --- data-entry forms: citydiplomacy.web.record_pages ----------------------------------------------
