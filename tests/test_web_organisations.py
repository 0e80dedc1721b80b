"""Organisation pages on the bundled case study (issue 13): the list's member counts, the members map fitted to
the members, the member-count chart of stated observations only, acronyms expanded on city profiles; in
English and in Persian, through the real application (TestClient) and in Chromium at desktop and phone width.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_browser_dashboard import ARGS, CHROMIUM, shot
from test_web_support import PASSWORD, login

from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.present import charts, fmt
from citydiplomacy.store import db
from citydiplomacy.store.schema import MemberCount, Organisation, Place
from citydiplomacy.web.app import create_app
from citydiplomacy.web.auth import create_user

LATIN_DIGIT = re.compile(r"[0-9]")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """The case study loaded into a SQLite registry, a viewer, and the ids of the organisations (by acronym or
    name) and of Tehran."""
    url = f"sqlite:///{tmp_path_factory.mktemp('orgs') / 'registry.db'}"
    engine = db.get_engine(url)
    db.upgrade(engine)
    load_case_study(engine)
    with db.session_scope(engine) as s:
        s.info["actor"] = "test"
        create_user(s, "viewer", PASSWORD, "viewer")
        ids = {o.acronym or o.name: o.id for o in s.scalars(select(Organisation))}
        ids["Tehran"] = s.scalar(select(Place.id).where(Place.name == "Tehran", Place.country_code == "IR"))
    yield url, ids
    engine.dispose()


@pytest.fixture(scope="module")
def client(registry: tuple[str, dict[str, int]]) -> Iterator[TestClient]:
    with TestClient(create_app(registry[0], secret_key="orgs")) as c:
        login(c, "viewer")
        yield c


@pytest.fixture
def ids(registry: tuple[str, dict[str, int]]) -> dict[str, int]:
    return registry[1]


def body_text(page: str) -> str:
    """The visible text of a page's body without its left-to-right isolates (acronyms such as C40, citations
    and locators are Latin-script names, isolated as ``<bdi dir="ltr">``) and without scripts."""
    body = page.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    body = re.sub(r'<bdi dir="ltr">.*?</bdi>', " ", body, flags=re.DOTALL)
    return htmllib.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def row_of(page: str, org_id: int) -> str:
    """The text of the list's row of one organisation."""
    row = re.search(rf'<tr><td[^>]*><a href="/organisations/{org_id}">.*?</tr>', page, flags=re.DOTALL)
    assert row, org_id
    return htmllib.unescape(" ".join(re.sub(r"<[^>]+>", " ", row.group(0)).split()))


def figure(page: str, chart_id: str) -> dict[str, Any] | None:
    found = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', page, re.DOTALL)
    return json.loads(found.group(1)) if found else None


def test_the_list_shows_members_in_the_registry_and_the_latest_stated_count(client: TestClient, ids) -> None:
    en = client.get("/organisations?lang=en").text
    # Metropolis: Tehran only (two roles, one place); paper 002's copy of 003's count is one 2014 observation.
    assert re.fullmatch(r".*Metropolis .* 1 104 in 2014 \(1392/93 SH\)", row_of(en, ids["Metropolis"]))
    assert "1 more than 140 in 2025 (1403/04 SH)" in row_of(en, ids["AMF"])  # the latest of 2014 and 2025
    assert "2 30 member cities in 2014" in row_of(en, ids["GFCD"])  # Tehran and Mashhad; cities before organisations
    assert row_of(en, ids["C40"]).endswith("0 —")  # no member, no count
    assert row_of(en, ids["UNDP"]).split()[-1] == "—"  # countries with offices are no membership
    fa = client.get("/organisations?lang=fa").text
    assert "۱ ۱۰۴ در سال ۱۳۹۲/۹۳ (۲۰۱۴)" in row_of(fa, ids["Metropolis"])
    assert "بیش از ۱۴۰ در سال ۱۴۰۳/۰۴ (۲۰۲۵)" in row_of(fa, ids["AMF"])
    assert "شهرهای عضو" in row_of(fa, ids["GFCD"])
    assert not LATIN_DIGIT.search(body_text(fa)), LATIN_DIGIT.findall(body_text(fa))


def test_the_chart_plots_only_the_stated_observations_at_their_years(client: TestClient, registry, ids) -> None:
    with db.session_scope(db.get_engine(registry[0])) as s:
        stated = {
            (c.what, c.as_of_year, c.count)
            for c in s.scalars(select(MemberCount).where(MemberCount.organisation_id == ids["AMF"]))
        }
    assert {y for _, y, _ in stated} == {2014, 2025}
    for lang in ("en", "fa"):
        page = client.get(f"/organisations/{ids['AMF']}?lang={lang}").text
        fig = figure(page, "chart-growth")
        assert fig is not None
        words = fmt.formatter(lang)
        plotted = set()
        for trace in fig["data"]:
            assert trace["mode"] == "markers+text"  # no line between years nobody counted
            what = next(w for w, _, _ in stated if words.term(w) == trace["name"])
            plotted |= {(what, x, y) for x, y in zip(trace["x"], trace["y"], strict=True)}
            assert all("Mousavi & Mehrnia (2025)" in h or "Basirat & Jalili" in h for h in trace["hovertext"])
        assert plotted == stated  # every stated count, and nothing else (no registry growth mixed in)
        xaxis, yaxis = fig["layout"]["xaxis"], fig["layout"]["yaxis"]
        assert xaxis["tickvals"] == [2014, 2025] and all(isinstance(v, int) for v in xaxis["tickvals"])
        assert xaxis["title"]["text"] == words.t("year") and yaxis["title"]["text"] == words.t("stated_count_axis")
        assert (xaxis["range"][0] > xaxis["range"][1]) == (lang == "fa")  # Persian runs right to left
        if lang == "fa":
            labels = xaxis["ticktext"] + yaxis["ticktext"] + [t for tr in fig["data"] for t in tr["text"]]
            assert not any(LATIN_DIGIT.search(t) for t in labels), labels
            assert "بیش از ۱۴۰" in labels and not LATIN_DIGIT.search(body_text(page))


def test_a_single_observation_is_a_sentence_and_the_map_fits_one_member(client: TestClient, ids) -> None:
    for lang, sentence in (("en", "members : 104 in 2014 (1392/93 SH)"), ("fa", "اعضا : ۱۰۴ در سال ۱۳۹۲/۹۳ (۲۰۱۴)")):
        page = client.get(f"/organisations/{ids['Metropolis']}?lang={lang}").text
        assert figure(page, "chart-growth") is None and 'id="one-observation"' in page
        assert sentence in body_text(page)
        geo = figure(page, "chart-members")["layout"]["geo"]
        # Around Tehran (35.7 N, 51.4 E), zoomed in: not the whole world, not a blank rectangle of land.
        assert abs(geo["center"]["lat"] - 35.7) < 1 and abs(geo["center"]["lon"] - 51.4) < 1
        assert 2 <= geo["projection"]["scale"] <= 4
        assert re.search(r'id="member-places">\((1|۱)\)', page)  # one place, though two memberships
        if lang == "fa":
            assert not LATIN_DIGIT.search(body_text(page)), LATIN_DIGIT.findall(body_text(page))


def test_an_organisation_without_members_has_no_map_but_a_sentence(client: TestClient, ids) -> None:
    for lang in ("en", "fa"):
        page = client.get(f"/organisations/{ids['C40']}?lang={lang}").text
        assert figure(page, "chart-members") is None
        assert fmt.formatter(lang).t("no_members") in body_text(page)
        assert fmt.formatter(lang).t("no_member_counts") in body_text(page)


def test_city_profiles_expand_acronyms(client: TestClient, ids) -> None:
    en = client.get(f"/cities/{ids['Tehran']}?lang=en").text
    assert '<abbr title="Organization of Islamic Capitals and Cities"><bdi dir="ltr">OICC</bdi></abbr>' in en
    assert "Global Fund for Cities Development" in body_text(en) and "Asian Mayors Forum" in body_text(en)
    fa = client.get(f"/cities/{ids['Tehran']}?lang=fa").text
    assert '<abbr title="صندوق جهانی توسعه شهرها"><bdi dir="ltr">GFCD</bdi></abbr>' in fa


def test_fitted_maps_zoom_on_few_members_and_show_the_world_for_many() -> None:
    en = fmt.formatter("en")
    two = [
        {"place_id": 1, "lat": 35.69, "lng": 51.42, "role": "active", "name": "Tehran"},
        {"place_id": 2, "lat": 36.3, "lng": 59.6, "role": "board", "name": "Mashhad"},
        {"place_id": 2, "lat": 36.3, "lng": 59.6, "role": "active", "name": "Mashhad"},  # a second role
    ]
    fig = charts.members_map({"members": two}, en)
    assert fig is not None and sum(len(t["lat"]) for t in fig["data"]) == 2  # one marker per place
    assert [t["name"] for t in fig["data"]] == ["board", "active"]  # Mashhad shows as the board member
    assert fig["layout"]["geo"]["projection"]["scale"] == 4.0
    labels = [p for t in fig["data"] for p in t["textposition"]]
    assert sorted(labels) == ["bottom center", "top center"]  # close names apart
    spread = charts.fitted_geo([35.7, -33.9, 40.7], [51.4, 151.2, -74.0])
    assert "scale" not in spread["projection"] and spread["fitbounds"] is False  # the world
    assert charts.members_map({"members": [{"lat": None, "lng": None, "role": "active", "name": "X"}]}, en) is None


def test_one_observation_per_kind_draws_no_chart() -> None:
    one = {"what": "members", "count": 104, "qualifier": None, "year": 2014, "provenance": {}}
    assert charts.growth_chart({"member_counts": [one]}, fmt.formatter("en")) is None
    other = {**one, "what": "observer cities", "count": 8}
    assert charts.growth_chart({"member_counts": [one, other]}, fmt.formatter("en")) is None
    later = {**one, "year": 2020, "count": 140, "qualifier": "more_than"}
    fig = charts.growth_chart({"member_counts": [one, later, other]}, fmt.formatter("fa"))
    assert fig is not None and fig["data"][0]["text"] == ["۱۰۴", "بیش از ۱۴۰"]


# --- in Chromium ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(registry: tuple[str, dict[str, int]]) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(registry[0], secret_key="orgs-e2e"), host="127.0.0.1", port=port, log_level="warning")
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


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed")
def test_organisation_pages_in_chromium_both_languages_and_widths(live: str, ids) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for width in (1280, 360):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(live + "/login")
            page.fill("input[name=username]", "viewer")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-button")
            page.wait_for_selector("#fig-places")
            for name, path, drawn in (
                ("list", "/organisations", ()),
                ("metropolis", f"/organisations/{ids['Metropolis']}", ("#chart-members",)),
                ("amf", f"/organisations/{ids['AMF']}", ("#chart-members", "#chart-growth")),
            ):
                for lang in ("en", "fa"):
                    page.goto(f"{live}{path}?lang={lang}")
                    for chart in drawn:
                        page.wait_for_selector(f"{chart}[data-rendered='1']")
                    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                    assert overflow <= 0, (name, lang, width, overflow)
                    if drawn:  # the map draws its countries (an empty map has no long paths)
                        longest = page.evaluate(
                            "Math.max(...Array.from(document.querySelectorAll('#chart-members .geo path'),"
                            " p => (p.getAttribute('d') || '').length))"
                        )
                        assert longest > 1000, (name, lang, width)
                    if lang == "fa":
                        text = page.evaluate(
                            "(() => { const b = document.body.cloneNode(true);"
                            " b.querySelectorAll('bdi[dir=ltr], script, .chart').forEach(e => e.remove());"
                            " return b.innerText; })()"
                        )
                        assert not LATIN_DIGIT.search(text), (name, width, LATIN_DIGIT.findall(text))
                        if name == "amf":  # the drawn year ticks, as Plotly wrote them into the SVG
                            ticks = page.eval_on_selector_all(
                                "#chart-growth .xtick text, #chart-growth .ytick text",
                                "els => els.map(e => e.textContent)",
                            )
                            assert ticks and not any(LATIN_DIGIT.search(t) for t in ticks), ticks
                    shot(page, f"org_{name}_{lang}_{width}")
            page.close()
        browser.close()
    assert problems == []
