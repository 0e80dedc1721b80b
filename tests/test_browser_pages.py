"""Every dashboard page in Chromium, in English and Persian, at desktop and phone width (issue 13).

On the bundled case study, analysed (network run: partners, communities) and assessed (rankings), each page
fails the test when its visible text shows a raw metric key (``betweenness_norm``, ``DIM_culture``,
``CUL01``), an internal id (``sha256:…``, ``manual 1a2b3c4d``, a seed paper's file name
``003_e2ea725f2834c7bc.txt``), a Latin digit in a Persian page outside left-to-right marked codes, when it
is wider than a 360 px screen, or when the browser logs an error.  A screenshot of each page in each
language and width is kept: in ``$CITYDIP_SCREENSHOTS`` when set, else under pytest's temporary directory.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from test_browser_dashboard import ARGS, CHROMIUM
from test_web_support import PASSWORD

from citydiplomacy.assess.registry_index import AssessmentChoices, assess
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.network.analysis import analyse
from citydiplomacy.present import metrics
from citydiplomacy.store import db
from citydiplomacy.store.schema import Organisation, Place, Relation, Source
from citydiplomacy.web.app import create_app
from citydiplomacy.web.auth import create_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

LATIN_DIGIT = re.compile(r"[0-9]")
INTERNAL_ID = re.compile(r"sha256:|manual [0-9a-f]{8}|_[0-9a-f]{16}\.txt")
#: Result codes with an underscore or a digit (``betweenness_norm``, ``CUL01``), and every ``DIM_`` code.
RAW_KEYS = sorted({c for c in metrics.catalogue() if "_" in c or re.search(r"\d", c)}, key=len, reverse=True)
RAW_KEY = re.compile(r"DIM_\w+|\b(?:" + "|".join(map(re.escape, RAW_KEYS)) + r")\b")

#: The page's visible text, without what is marked as left-to-right code (file names, citations, acronyms)
#: and without the charts (their labels are checked as drawn SVG text).
VISIBLE_TEXT = """(ltrFree) => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, style, .chart').forEach(e => e.remove());
  if (ltrFree) { body.querySelectorAll('[dir=ltr], code').forEach(e => e.remove()); }
  const box = document.createElement('div');
  box.style.position = 'absolute'; box.style.left = '-99999px';
  box.appendChild(body);
  document.documentElement.appendChild(box);
  const text = box.innerText;
  box.remove();
  return text;
}"""
CHART_TEXT = "() => Array.from(document.querySelectorAll('.chart svg text'), e => e.textContent).join('\\n')"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """The case study in a SQLite registry, analysed and assessed, an admin and a viewer, and the ids the
    pages need."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'registry.db'}"
    engine = db.get_engine(url)
    db.upgrade(engine)
    load_case_study(engine)
    with db.session_scope(engine) as s:
        s.info["actor"] = "test"
        analyse(s, "bilateral")
    with db.session_scope(engine) as s:
        s.info["actor"] = "test"
        assess(s, None, AssessmentChoices(uncertainty_samples=20))
    with db.session_scope(engine) as s:
        s.info["actor"] = "test"
        create_user(s, "admin", PASSWORD, "admin")
        create_user(s, "viewer", PASSWORD, "viewer")
        tehran = s.scalar(select(Place.id).where(Place.name == "Tehran", Place.country_code == "IR"))
        ids = {
            "tehran": tehran,
            "relation": s.scalar(select(Relation.id).where(Relation.place_a_id == tehran).limit(1))
            or s.scalar(select(Relation.id).where(Relation.place_b_id == tehran).limit(1)),
            "metropolis": s.scalar(select(Organisation.id).where(Organisation.acronym == "Metropolis"))
            or s.scalar(select(Organisation.id).where(Organisation.name.contains("Metropolis"))),
            "paper": s.scalar(select(Source.id).where(Source.kind == "paper").order_by(Source.id).limit(1)),
        }
    yield url, ids
    engine.dispose()


@pytest.fixture(scope="module")
def live(registry: tuple[str, dict[str, int]]) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(registry[0], secret_key="pages"), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("CITYDIP_SCREENSHOTS")
    out = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _pages(ids: dict[str, int]) -> list[tuple[str, str, int, tuple[str, ...]]]:
    """``(name, path, expected status, charts that must be drawn)`` of every page an admin sees."""
    t = ids["tehran"]
    return [
        ("home", "/", 200, ("#chart-home-map",)),
        ("search", "/?q=Teh", 200, ()),
        ("city", f"/cities/{t}", 200, ("#chart-partners",)),
        ("city_partners", f"/network/cities/{t}?among=true", 200, ("#chart-graph",)),
        ("city_community", f"/network/cities/{t}?view=community", 200, ("#chart-graph",)),
        ("organisations", "/organisations", 200, ()),
        ("organisation", f"/organisations/{ids['metropolis']}", 200, ("#chart-members",)),
        ("rankings", "/rankings", 200, ("#chart-ranking",)),
        ("rankings_filtered", "/rankings?region=AS&size=gt_5m", 200, ()),
        ("network", "/network", 200, ("#chart-network",)),
        ("agreements", "/agreements", 200, ()),
        ("agreement", f"/agreements/{ids['relation']}", 200, ()),
        ("attention", "/agreements/attention", 200, ()),
        ("glossary", "/glossary", 200, ()),
        ("source", f"/sources/{ids['paper']}", 200, ()),
        ("audit", "/audit", 200, ()),
        ("review", "/review", 200, ()),
        ("jobs", "/jobs", 200, ()),
        ("users", "/admin/users", 200, ()),
        ("not_found", "/cities/99999999", 404, ()),
        ("bad_filter", "/rankings?min_coverage=500", 422, ()),
    ]


def _check_page(page, name: str, lang: str, width: int, shots: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """What is wrong with the page shown (empty when nothing), after saving its screenshot."""
    where = f"{name} {lang} {width}px"
    found = []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        found.append(f"{where}: {overflow} px wider than the screen")
    text = page.evaluate(VISIBLE_TEXT, False)
    for pattern, what in ((RAW_KEY, "raw metric key"), (INTERNAL_ID, "internal id")):
        hits = sorted(set(pattern.findall(text + "\n" + page.evaluate(CHART_TEXT))))
        if hits:
            found.append(f"{where}: {what} {hits[:5]}")
    if lang == "fa":
        if page.get_attribute("html", "dir") != "rtl":
            found.append(f"{where}: not right to left")
        persian = page.evaluate(VISIBLE_TEXT, True) + "\n" + page.evaluate(CHART_TEXT)
        lines = [line for line in persian.splitlines() if LATIN_DIGIT.search(line)]
        if lines:
            found.append(f"{where}: Latin digits in {lines[:4]}")
        decimal = page.evaluate(
            "Array.from(document.querySelectorAll('ol')).filter(o => getComputedStyle(o).listStyleType === 'decimal')"
            ".length"
        )
        if decimal:  # the numbers of an ordered list are drawn by the browser: not in the text
            found.append(f"{where}: {decimal} list(s) numbered with Latin digits")
    page.screenshot(path=str(shots / f"{name}_{lang}_{width}.png"), full_page=True)
    return found


def _log_in(page, live: str, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#fig-places")


def test_every_page_in_both_languages_and_widths(live: str, registry, shots: Path) -> None:  # type: ignore[no-untyped-def]
    playwright = pytest.importorskip("playwright.sync_api")
    ids = registry[1]
    problems: list[str] = []
    current = {"where": "login"}

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and "status of 4" not in message.text:  # the error pages' own status
            problems.append(f"{current['where']}: console {message.text}")

    def on_error(error) -> None:  # type: ignore[no-untyped-def]
        problems.append(f"{current['where']}: page error {error}")

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for width in (1280, 360):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", on_error)
            for lang in ("en", "fa"):  # the login page, logged out
                page.goto(f"{live}/login?lang={lang}")
                problems += _check_page(page, "login", lang, width, shots)
            _log_in(page, live, "admin")
            for name, path, status, drawn in _pages(ids):
                for lang in ("en", "fa"):
                    current["where"] = f"{name} {lang} {width}px"
                    sep = "&" if "?" in path else "?"
                    answer = page.goto(f"{live}{path}{sep}lang={lang}")
                    assert answer is not None and answer.status == status, (name, lang, answer and answer.status)
                    for chart in drawn:
                        page.wait_for_selector(f"{chart}[data-rendered='1']", timeout=20_000)
                    problems += _check_page(page, name, lang, width, shots)
            context.close()
        # A viewer asking for an admin's page: the 403 page, in both languages.
        context = browser.new_context(viewport={"width": 360, "height": 900})
        page = context.new_page()
        _log_in(page, live, "viewer")
        for lang in ("en", "fa"):
            answer = page.goto(f"{live}/admin/users?lang={lang}")
            assert answer is not None and answer.status == 403
            problems += _check_page(page, "forbidden", lang, 360, shots)
        context.close()
        browser.close()
    assert not problems, "\n".join(problems)
    assert len(list(shots.glob("*.png"))) >= 4 * len(_pages(ids))


def test_nodes_link_to_their_profiles(live: str, registry) -> None:  # type: ignore[no-untyped-def]
    """A click on a partner in the ego network opens that partner's profile; the community lists its members,
    each a link to its profile; the city profile and the network page lead to the explorer."""
    playwright = pytest.importorskip("playwright.sync_api")
    tehran = registry[1]["tehran"]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _log_in(page, live, "viewer")
        page.goto(f"{live}/cities/{tehran}?lang=en")
        page.click("#city-network")
        page.wait_for_selector("#chart-graph[data-rendered='1']")
        assert page.url.endswith(f"/network/cities/{tehran}")
        rows = page.locator("#graph-nodes tbody tr").count()
        assert rows >= 20  # Tehran and its partners in the case study
        # Click the first partner's point (the second point of the node trace: the centre comes first).
        box = page.evaluate(
            """() => { const pts = document.querySelectorAll('#chart-graph .scatterlayer .trace:last-child .point');
                 const r = pts[1].getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }"""
        )
        with page.expect_navigation():
            page.mouse.click(*box)
        assert re.search(r"/cities/\d+$", page.url) and not page.url.endswith(f"/cities/{tehran}")
        page.goto(f"{live}/network/cities/{tehran}?view=community&lang=en")
        page.wait_for_selector("#chart-graph[data-rendered='1']")
        links = page.eval_on_selector_all("#graph-nodes a[href^='/cities/']", "els => els.map(e => e.href)")
        assert len(links) >= 2
        page.goto(f"{live}/network?lang=en")
        assert page.locator("#network-table a[href^='/network/cities/']").count() >= 1
        browser.close()
