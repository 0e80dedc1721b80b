"""Every result code a person sees has a name, an explanation and a unit in both languages (present.metrics),
pages show those instead of raw keys, and the glossary lists them all."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from citydiplomacy.assess.registry_index import COVERAGE_CODE, assess
from citydiplomacy.model.indicators import load_catalogue
from citydiplomacy.model.vocab import RELATION_KINDS
from citydiplomacy.network.analysis import analyse
from citydiplomacy.present import metrics
from citydiplomacy.store import db, runs
from citydiplomacy.store.schema import AnalysisRun, CityResult
from citydiplomacy.web.app import create_app
from tests.test_web_support import Seeded, login, seed

PERSIAN = re.compile(r"[\u0600-\u06ff]")
#: What a raw result key looks like in visible text: snake_case words, ``DIM_...``, indicator codes, CDI_RANK.
RAW_KEY = re.compile(r"\b[a-z]+_[a-z_]+\b|\bDIM_\w+|\b[A-Z]{3}\d{2}\b|\bCDI_RANK\w*|\bCOVERAGE\b")
#: Network results seeded for Tehran beyond the shared seed's (a large strength: no 4.095e+05 on the page).
EXTRA_NETWORK = {
    "betweenness_norm": 0.125,
    "strength_cooperation_memorandum": 409_500.0,
    "partner_distance_mean_km": 3051.7,
}


def visible_text(html: str) -> str:
    """The text a reader sees: scripts, styles and tags (with their attributes) removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)


def written_codes(url: str) -> set[str]:
    """Every result code the application writes on a registry: the network analysis of each graph and an
    assessment, as stored, plus the per-kind codes for every relation kind and the indicator catalogue."""
    engine = db.get_engine(url)
    with db.session_scope(engine) as s:
        codes: set[str] = set()
        for graph in ("bilateral", "membership", "combined"):
            result = analyse(s, graph, store=False)
            codes |= {
                c
                for c in result.metrics.columns
                if c not in ("place_id", "name", "country_code", "continent", "subregion", "lat", "lng")
            }
        assessed = assess(s)
        codes |= set(s.scalars(select(CityResult.code).where(CityResult.run_id == assessed.run_id).distinct()))
    codes |= {f"{m}_{k}" for m in ("degree", "strength") for k in [*RELATION_KINDS, "membership"]}
    codes |= {i.code for i in load_catalogue().indicators} | {f"DIM_{d}" for d in load_catalogue().dimensions}
    return {c for c in codes if not runs.is_interval_code(c)}


def test_catalogue_covers_every_written_code_in_both_languages(sqlite_url: str) -> None:
    seed(sqlite_url)
    codes = written_codes(sqlite_url)
    assert {"betweenness_norm", "degree_sister_city", "CDI", "CDI_RANK", COVERAGE_CODE, "CUL01", "DIM_culture"} <= codes
    missing = sorted(codes - set(metrics.catalogue()))
    assert not missing, f"codes without a catalogue entry: {missing}"
    for code in codes:
        en, fa = metrics.metric(code, "en"), metrics.metric(code, "fa")
        assert en.name and en.note and en.unit and not RAW_KEY.search(en.name), code
        assert PERSIAN.search(fa.name) and PERSIAN.search(fa.note) and PERSIAN.search(fa.unit), code
        assert not re.search(r"[0-9]", fa.name + fa.note + fa.unit), f"Latin digits in Persian words of {code}"


def test_unknown_code_reads_as_words() -> None:
    assert metrics.metric("partner_reach_km", "en").name == "Partner reach km"
    assert metrics.metric("degree_alliance", "fa").name.startswith("شریکان")
    assert metrics.metric("DIM_culture", "fa").anchor == "m-DIM_culture"


@pytest.fixture
def seeded(sqlite_url: str) -> Seeded:
    # SQLite only: these pages read with the queries the API tests run on both databases.
    ids = seed(sqlite_url)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        net = s.scalars(select(AnalysisRun).where(AnalysisRun.kind == "network")).one()
        s.add_all(CityResult(run_id=net.id, place_id=ids.tehran, code=c, value=v) for c, v in EXTRA_NETWORK.items())
    return ids


@pytest.fixture
def client(sqlite_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_url, secret_key="test-secret")) as c:
        login(c, "viewer")
        yield c


def test_city_profile_names_its_network_metrics(client: TestClient, seeded: Seeded) -> None:
    for lang in ("en", "fa"):
        city_profile_in(client, seeded, lang)


def city_profile_in(client: TestClient, seeded: Seeded, lang: str) -> None:
    html = client.get(f"/cities/{seeded.tehran}", params={"lang": lang}).text
    section = html[html.index('id="network-position"') :]
    section = section[: section.index("</table>")]
    text = visible_text(html)
    assert not RAW_KEY.findall(text), RAW_KEY.findall(text)
    assert "e+0" not in text
    for code in ("degree", "betweenness", *EXTRA_NETWORK):
        words = metrics.metric(code, lang)
        assert f'href="/glossary#{words.anchor}"' in section and words.name in section
        assert f'title="{escape(words.note)}' in section
    if lang == "en":
        assert "409,500" in section and "3,052" in section and "km" in section
    else:
        assert "۴۰۹٬۵۰۰" in section and "کیلومتر" in section


def test_rankings_and_network_pages_show_names_not_codes(client: TestClient) -> None:
    for lang, path in [
        (lang, p)
        for lang in ("en", "fa")
        for p in ("/rankings", "/rankings?code=DIM_culture", "/network?code=betweenness_norm")
    ]:
        html = client.get(path, params={"lang": lang}).text
        text = visible_text(html)
        assert not RAW_KEY.findall(text), (path, RAW_KEY.findall(text))
        assert f">{metrics.metric('DIM_culture', lang).name}</option>" in html or "network" in path


def test_glossary_lists_every_metric(client: TestClient) -> None:
    for lang in ("en", "fa"):
        glossary_in(client, lang)


def glossary_in(client: TestClient, lang: str) -> None:
    r = client.get("/glossary", params={"lang": lang})
    assert r.status_code == 200
    for m in metrics.catalogue().values():
        words = m.text(lang)
        assert f'id="{words.anchor}"' in r.text, m.code
        assert escape(words.name) in r.text and escape(words.note) in r.text, m.code
    assert 'href="/glossary"' in r.text  # the nav links it
    if lang == "fa":
        assert 'dir="rtl"' in r.text
