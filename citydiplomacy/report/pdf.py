"""Print a report page to PDF with headless Chromium (Debian's ``/usr/bin/chromium``) through Playwright.

The page is loaded with every network request refused, so the PDF shows exactly what the self-contained
HTML holds; the renderer waits for the embedded font and for every Plotly figure to finish drawing (the
page sets ``window.__citydipReportReady`` when its ``Plotly.newPlot`` promises resolve).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from citydiplomacy.core.errors import CityDipError, Unavailable

#: Where Debian's chromium package installs the browser; ``CITYDIP_CHROMIUM`` overrides it.
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A4 at 96 CSS px per inch is 794 px wide; with 10 mm margins the printable width is ~718 px.  Laying the
#: page out at that width makes Plotly size its SVGs for the paper, not for a wider screen.
PRINT_VIEWPORT = {"width": 718, "height": 1000}
PDF_MARGIN = {"top": "10mm", "bottom": "12mm", "left": "10mm", "right": "10mm"}
READY_FLAG = "window.__citydipReportReady === true"


class ChromiumMissing(Unavailable):
    """No Chromium executable to print with."""


class PdfRenderError(CityDipError, RuntimeError):
    """Chromium ran but the page failed to draw (a figure raised, or drawing timed out)."""


@dataclass
class PdfRender:
    """A rendered PDF and what the page tried to fetch (always refused; should be empty).

    Attributes
    ----------
    pdf : bytes
        The PDF file's bytes.
    blocked_requests : list of str
        URLs the page requested; the renderer refuses them all, so a self-contained report has none.
    """

    pdf: bytes
    blocked_requests: list[str] = field(default_factory=list)


def chromium_path() -> Path:
    """The Chromium executable to use: ``$CITYDIP_CHROMIUM``, ``/usr/bin/chromium``, or ``chromium`` on PATH.

    Raises
    ------
    ChromiumMissing
        None of them exists; the message says how to install Debian's chromium.
    """
    configured = os.environ.get("CITYDIP_CHROMIUM")
    candidates = [Path(configured)] if configured else [DEFAULT_CHROMIUM]
    on_path = shutil.which("chromium")
    if not configured and on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ChromiumMissing(
        f"Chromium not found at {candidates[0]}; PDF output needs it. Install Debian's chromium "
        "(`apt-get install chromium`, or run scripts/system-deps.sh), or set CITYDIP_CHROMIUM to its path. "
        "HTML output (--format html) works without it."
    )


def html_to_pdf(html: str, *, chromium: Path | None = None, timeout_s: float = 120.0) -> PdfRender:
    """Render one self-contained HTML page to an A4 PDF.

    Parameters
    ----------
    html : str
        The page (from :func:`citydiplomacy.report.city_report.render_html`).
    chromium : Path, optional
        The browser executable (default: :func:`chromium_path`).
    timeout_s : float
        Longest wait for the page to draw, in seconds.

    Returns
    -------
    PdfRender
        The PDF bytes (A4, backgrounds printed) and the refused network requests.

    Raises
    ------
    ChromiumMissing
        No Chromium installed.
    PdfRenderError
        The page reported a drawing error or did not finish within ``timeout_s``.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = chromium or chromium_path()
    blocked: list[str] = []
    timeout_ms = timeout_s * 1000
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            raise ChromiumMissing(f"could not start Chromium at {executable}: {exc.message.splitlines()[0]}") from exc
        try:
            page = browser.new_page(viewport=PRINT_VIEWPORT)

            def refuse(route) -> None:  # type: ignore[no-untyped-def]
                blocked.append(route.request.url)
                route.abort()

            # data: URIs are not routed; anything else would be a leak of a non-self-contained page.
            page.route("**/*", refuse)
            page.emulate_media(media="print")
            page.set_content(html, wait_until="load", timeout=timeout_ms)
            try:
                page.wait_for_function(READY_FLAG, timeout=timeout_ms)
            except PlaywrightError as exc:
                raise PdfRenderError(f"the report did not finish drawing within {timeout_s:g} s") from exc
            error = page.evaluate("window.__citydipReportError || null")
            if error:
                raise PdfRenderError(f"a figure failed to draw: {error}")
            pdf = page.pdf(format="A4", print_background=True, margin=PDF_MARGIN)
        finally:
            browser.close()
    return PdfRender(pdf=pdf, blocked_requests=blocked)
