"""The dashboard's static files: one table, versioned URLs, a year of caching, gzip made once.

Every file the pages load (``app.css``, ``app.js``, plotly.min.js, the world map script, the Persian
font, Swagger UI's files) is in one :class:`~citydiplomacy.present.assets.AssetTable`, built once per
process.  Templates ask :func:`asset_url` for a file's URL (the Jinja global ``asset_url``), which names
the file's content: ``/static/v/<sha256 prefix>/vendor/plotly.min.js``.  Under that URL the answer is
``Cache-Control: public, max-age=31536000, immutable`` (a new release has new URLs), gzip-compressed
when the client accepts it (compressed once, at start-up, not per request).  The old unversioned URLs
(``/static/app.css``) keep working, with ``Cache-Control: no-cache`` and an ETag (a 304 when unchanged);
a versioned URL whose digest is not the current one redirects to the current one.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

import plotly
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from citydiplomacy.present import assets

__all__ = [
    "STATIC_PREFIX",
    "PageGZipMiddleware",
    "accepts_gzip",
    "asset_table",
    "asset_url",
    "serve_asset",
    "static_routes",
]

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
STATIC_PREFIX = "/static"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
#: Swagger UI 5's files, as the fastapi-offline package ships them (no CDN).
#: Not swagger-ui-bundle: its Swagger UI 4.15 cannot read an OpenAPI 3.1 document ("Unable to render").
SWAGGER_UI_DIR = Path(str(importlib.resources.files("fastapi_offline") / "static"))
#: Unversioned URLs still answer, but are revalidated on each use (their content changes with a release).
REVALIDATE = "no-cache"


#: Swagger UI's files the API docs page loads (not the package's ReDoc bundle, which no page uses).
SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


def _files_under(directory: Path, prefix: str = "") -> dict[str, Path]:
    return {
        prefix + path.relative_to(directory).as_posix(): path
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


@cache
def asset_table() -> assets.AssetTable:
    """Every static file of the dashboard, read, hashed and compressed once per process (about 1 s)."""
    files: dict[str, bytes | Path] = {
        **_files_under(STATIC_DIR),
        **_files_under(assets.FONTS_DIR, "fonts/"),
        **{f"swagger-ui/{name}": SWAGGER_UI_DIR / name for name in SWAGGER_UI_FILES},
        "vendor/plotly.min.js": PLOTLY_JS,
        "vendor/geo-assets.js": assets.geo_assets_js().encode("utf-8"),
    }
    return assets.AssetTable(files, STATIC_PREFIX)


def asset_url(name: str) -> str:
    """The versioned URL of the static file ``name`` (e.g. ``app.css``): the one place that decides it."""
    return asset_table().url(name)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header admits gzip (``gzip;q=0`` refuses it, ``*`` admits it)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding:
            weights[coding.strip()] = q
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


async def serve_asset(request: Request) -> Response:
    """Answer ``/static/v/{digest}/{name}`` (immutable) or ``/static/{name}`` (revalidated) from the table."""
    name = request.path_params["name"]
    digest = request.path_params.get("digest")
    asset = asset_table().get(name)
    if asset is None:
        raise HTTPException(status_code=404, detail=f"no static file {name}")
    if digest is not None and digest != asset.digest:
        # A page of an older release: send the current file rather than a 404 (never cached itself).
        return RedirectResponse(asset.url, status_code=307, headers={"Cache-Control": "no-store"})
    gzipped = asset.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding", ""))
    etag = asset.etag(gzipped)
    headers = {"Cache-Control": assets.IMMUTABLE if digest else REVALIDATE, "ETag": etag}
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    body = asset.gzipped if gzipped and asset.gzipped is not None else asset.body
    return Response(body, media_type=asset.media_type, headers=headers)


class PageGZipMiddleware(GZipMiddleware):
    """Starlette's gzip for pages and API answers, not for static files: they come compressed already.

    (Going through it, an uncompressed static answer would get a second ``Vary`` and be compressed again
    on every request.)
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(STATIC_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def static_routes() -> list[Route]:
    """The routes of the static files (versioned first); GET and HEAD."""
    return [
        Route(f"{STATIC_PREFIX}/v/{{digest}}/{{name:path}}", serve_asset, methods=["GET"], include_in_schema=False),
        Route(f"{STATIC_PREFIX}/{{name:path}}", serve_asset, methods=["GET"], include_in_schema=False),
    ]
