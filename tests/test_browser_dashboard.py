"""End-to-end: the dashboard in a real headless Chromium against a live server on loopback.

Skips when /usr/bin/chromium is absent.  Screenshots are kept in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_support import PASSWORD, Seeded, seed

from citydiplomacy.store import db

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(sqlite_url: str) -> Iterator[tuple[str, Seeded]]:
    """A uvicorn server in a thread, serving a seeded SQLite registry on a free loopback port."""
    import uvicorn

    from citydiplomacy.web.app import create_app

    ids = seed(sqlite_url)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(sqlite_url, secret_key="e2e"), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}", ids
    server.should_exit = True
    thread.join(timeout=10)
    db.get_engine(sqlite_url).dispose()


@pytest.fixture
def browser_page(live_server: tuple[str, Seeded]):  # type: ignore[no-untyped-def]
    playwright = pytest.importorskip("playwright.sync_api")
    base, _ = live_server
    problems: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "request",
            lambda r: (
                problems.append(f"external request: {r.url}")
                if not (r.url.startswith(base) or r.url.startswith("data:"))
                else None
            ),
        )
        yield page, problems
        browser.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_dashboard_end_to_end(live_server: tuple[str, Seeded], browser_page) -> None:  # type: ignore[no-untyped-def]
    base, ids = live_server
    page, problems = browser_page

    # Log in (anonymous visitors are sent to the login page).
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", "editor")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#fig-places")
    assert page.inner_text("#fig-relations").strip() == "3"
    shot(page, "01_home")

    # Search and open a city profile.
    page.fill("#q", "Tehr")
    page.press("#q", "Enter")
    page.click("#place-results a:has-text('Tehran')")
    page.wait_for_selector("#city-name")
    assert "Tehran" in page.inner_text("#city-name")
    page.wait_for_selector("#chart-partners[data-rendered='1']")  # the offline world map was drawn
    page.wait_for_selector("#chart-dimensions[data-rendered='1']")
    # Country borders drawn from the vendored topojson: long SVG paths (an empty map has none).
    longest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('#chart-partners .geo path'),"
        " p => (p.getAttribute('d') || '').length))"
    )
    assert longest > 5000
    shot(page, "02_city_en")

    # Switch to Persian: right-to-left layout, Persian digits, choice remembered.
    page.click("#lang-switch")
    page.wait_for_selector("html[dir='rtl']")
    assert page.get_attribute("html", "lang") == "fa"
    assert "تهران" in page.inner_text("#city-name")
    assert "۱۳۹۳/۰۸/۰۹" in page.inner_text("#activities")
    page.wait_for_selector("#chart-partners[data-rendered='1']")
    shot(page, "03_city_fa")
    page.goto(base + "/audit")
    assert page.get_attribute("html", "dir") == "rtl"  # the cookie keeps Persian without ?lang
    page.goto(base + f"/cities/{ids.tehran}?lang=en")
    assert page.get_attribute("html", "dir") == "ltr"

    # Add a relation through the form, with the place picker.
    page.click("#add-relation")
    page.wait_for_selector("#record-form")
    assert page.input_value("#f-place_a_id") == str(ids.tehran)
    page.fill("input.picker[data-target='f-place_b_id']", "Istan")
    page.click("#results-f-place_b_id button.pick")
    assert page.input_value("#f-place_b_id") == str(ids.istanbul)
    page.select_option("#f-kind", "cooperation_memorandum")
    page.fill("#f-signed_year", "2017")
    page.check("#f-dimensions input[value='culture']")
    page.fill("#f-source", "Tehran municipality")
    shot(page, "04_form")
    page.click("#save")
    page.wait_for_selector("#relations")
    row = page.locator("#relations tr:has-text('Istanbul')")
    assert row.count() == 1 and "cooperation memorandum" in row.inner_text()
    shot(page, "05_city_after_add")

    # ... and see it in the audit log.
    page.goto(base + "/audit?entity=relation")
    first = page.locator("#audit tbody tr").first.inner_text()
    assert "editor" in first and "cooperation memorandum" in first  # the kind in words, not its code
    shot(page, "06_audit")

    # Resolve the review-queue item.
    page.goto(base + "/review")
    page.check(f"#mention-{ids.mention} input[value='candidate:1']")
    page.click(f"#mention-{ids.mention} button.resolve")
    page.wait_for_selector("#resolved-flash")
    assert page.locator("#queue-empty").count() == 1
    shot(page, "07_review_done")

    # The other pages render, their charts too.
    for path, chart in [
        ("/rankings", "#chart-ranking"),
        ("/network", "#chart-network"),
        (f"/organisations/{ids.metropolis}", "#chart-members"),
    ]:
        page.goto(base + path)
        page.wait_for_selector(f"{chart}[data-rendered='1']")
        shot(page, path.strip("/").replace("/", "_"))

    assert problems == []


def test_api_docs_render_offline(live_server: tuple[str, Seeded], browser_page) -> None:  # type: ignore[no-untyped-def]
    """Swagger UI at /api/docs, from the package, under the CSP: every operation listed, no console error."""
    base, _ = live_server
    page, problems = browser_page
    page.goto(base + "/api/docs")
    page.wait_for_selector(".opblock-summary", timeout=20_000)
    operations = page.locator(".opblock").count()
    assert operations >= 35, operations
    assert page.locator(".opblock-post").count() >= 10 and page.locator(".opblock-put").count() >= 5
    assert "CityDiplomacy Observatory" in page.inner_text(".info")
    page.click(".opblock-get .opblock-summary >> nth=0")  # opening an operation works (scripts run)
    page.wait_for_selector(".opblock.is-open")
    shot(page, "20_api_docs")
    assert problems == []
