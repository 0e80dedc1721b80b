"""The home page's map and figures, the network explorer, the rankings' region and size filters, sources as
citations (issue 13): through the real application on the seeded registry, and the home map's aggregates on
a registry of 30,000 places and 25,000 relations.
"""

from __future__ import annotations

import html as htmllib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from test_web_support import Seeded, login, seed

from citydiplomacy.geo.regions import continent_of
from citydiplomacy.present.fmt import citation, locator_text
from citydiplomacy.store import db
from citydiplomacy.store.records import RECORD_KINDS, create_record
from citydiplomacy.store.schema import AnalysisRun, CityResult, Place, Relation, Source
from citydiplomacy.web import explore
from citydiplomacy.web.app import create_app


@pytest.fixture
def seeded(db_url: str) -> Iterator[tuple[TestClient, Seeded, str]]:
    """The seeded registry on SQLite and on PostgreSQL, and an editor's client."""
    ids = seed(db_url)
    with TestClient(create_app(db_url, secret_key="explore")) as client:
        login(client, "editor")
        yield client, ids, db_url


def figure(page: str, chart_id: str) -> dict[str, Any] | None:
    found = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', page, re.S)
    return json.loads(htmllib.unescape(found[1])) if found else None


def text_of(page: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def test_home_opens_on_the_map_with_the_key_figures(seeded) -> None:  # type: ignore[no-untyped-def]
    client, ids, _ = seeded
    for lang in ("en", "fa"):
        page = client.get(f"/?lang={lang}").text
        fig = figure(page, "chart-home-map")
        assert fig is not None and fig["layout"]["geo"]
        points = fig["data"][-1]
        assert f"/cities/{ids.tehran}" in points["customdata"]  # every point opens its profile
        lines = [t for t in fig["data"] if t["mode"] == "lines"]
        assert sum(t["lat"].count(None) for t in lines) == 3  # the seeded three relations
        assert 'id="fig-countries"' in page and 'id="latest-assessment"' in page
        assert 'id="top-connected"' in page
    assert "تهران" in page  # the Persian page names places in Persian
    assert "From run" not in page


def test_overview_is_kept_until_the_registry_changes(seeded) -> None:  # type: ignore[no-untyped-def]
    client, ids, url = seeded
    engine = db.get_engine(url)
    with db.session_scope(engine) as s:
        s.info["actor"] = "test"
        # A place with a membership and no relation is on the map too (sized by its memberships).
        body = RECORD_KINDS["memberships"].create.model_validate(
            {"place_id": ids.evil, "organisation_id": ids.uclg, "role": "active"}
        )
        create_record(s, "memberships", body, "test")
    with db.session_scope(engine) as s:
        first = explore.overview(s)
        assert explore.overview(s) == first  # the registry unchanged: served from the read cache
        assert explore.overview.uncached(s) == first
        lone = next(p for p in first["points"] if p["id"] == ids.evil)
        assert lone["ties"] == 0 and lone["memberships"] >= 1
    with db.session_scope(engine) as s:
        s.info["actor"] = "test"
        body = RECORD_KINDS["relations"].create.model_validate(
            {"place_a_id": ids.beirut, "place_b_id": ids.seoul, "kind": "mou"}
        )
        create_record(s, "relations", body, "test")
    with db.session_scope(engine) as s:
        again = explore.overview(s)
        assert again["figures"]["relations"] == first["figures"]["relations"] + 1  # the write moved the counter


def test_ego_network_and_community_link_every_node(seeded) -> None:  # type: ignore[no-untyped-def]
    client, ids, url = seeded
    page = client.get(f"/network/cities/{ids.tehran}?among=true").text
    fig = figure(page, "chart-graph")
    assert fig is not None
    nodes = fig["data"][-1]
    assert nodes["customdata"][0] == f"/cities/{ids.tehran}"  # the centre first
    assert len(nodes["customdata"]) == 1 + 3  # Tehran's partners in the seed
    assert all(re.fullmatch(r"/cities/\d+", c) for c in nodes["customdata"])
    assert f'href="/network/cities/{ids.tehran}"' in client.get(f"/cities/{ids.tehran}").text
    assert 'href="/network/cities/' in client.get("/network").text
    # No community yet: a sentence.  With one (the network run's ``community`` results): its members.
    assert 'id="no-graph"' in client.get(f"/network/cities/{ids.tehran}?view=community").text
    with db.session_scope(db.get_engine(url)) as s:
        run = s.scalar(select(AnalysisRun).where(AnalysisRun.kind == "network"))
        for pid, label in ((ids.tehran, 0), (ids.istanbul, 0), (ids.seoul, 0), (ids.beirut, 1)):
            s.add(CityResult(run_id=run.id, place_id=pid, code="community", value=label))
    page = client.get(f"/network/cities/{ids.tehran}?view=community&lang=fa").text
    members = figure(page, "chart-graph")["data"][-1]["customdata"]
    assert sorted(members) == sorted(f"/cities/{p}" for p in (ids.tehran, ids.istanbul, ids.seoul))
    assert "اجتماع ۱" in text_of(page)
    assert client.get("/network/cities/99999999").status_code == 404
    assert client.get(f"/network/cities/{ids.tehran}?view=nonsense").status_code == 422


def test_rankings_filter_by_region_and_size(seeded) -> None:  # type: ignore[no-untyped-def]
    client, ids, _ = seeded

    def ranked(query: str) -> list[int]:
        page = client.get(f"/rankings?{query}").text
        return [int(x) for x in re.findall(r'<tr id="row-(\d+)"', page)]

    everyone = ranked("")
    assert set(everyone) == {ids.tehran, ids.seoul, ids.istanbul, ids.kuala_lumpur}
    # GeoNames puts Turkey in Asia: the region is the country's continent, whatever the city's side.
    assert continent_of("TR") == "AS" and continent_of("KR") == "AS"
    assert set(ranked("region=AS")) == set(everyone)
    assert ranked("region=EU") == []
    assert set(ranked("size=gt_5m")) == {ids.tehran, ids.seoul, ids.istanbul}
    assert ranked("size=1m_5m") == [ids.kuala_lumpur]
    assert ranked("size=lt_100k") == []
    page = client.get("/rankings?region=AS&size=gt_5m&lang=fa").text
    assert "آسیا" in page and "بیش از ۵ میلیون" in page
    assert client.get("/rankings?region=XX").status_code == 422
    # "Find my city" keeps the filters.
    found = client.get("/rankings?region=AS&find=Seoul", follow_redirects=False)
    assert found.status_code == 303 and "region=AS" in found.headers["location"]


def test_sources_are_cited_and_linked_never_as_file_hashes(seeded) -> None:  # type: ignore[no-untyped-def]
    client, ids, url = seeded
    with db.session_scope(db.get_engine(url)) as s:
        paper = Source(name="003_e2ea725f2834c7bc.txt", kind="paper", citation="Basirat & Jalili (2014/15), A title")
        data = Source(name="twin_cities.csv sha256:0964bc76aa", kind="file")
        s.add_all([paper, data])
        s.flush()
        for rel in s.scalars(select(Relation).where(Relation.place_a_id == ids.tehran)):
            rel.source_id, rel.source_locator = paper.id, "Table 2, row 20"
        paper_id = paper.id
    for lang in ("en", "fa"):
        page = client.get(f"/cities/{ids.tehran}?lang={lang}").text
        assert "e2ea725f2834c7bc" not in page
        assert f'href="/sources/{paper_id}"' in page and "Basirat &amp; Jalili (2014/15)" in page
    assert "جدول ۲، ردیف ۲۰" in client.get(f"/cities/{ids.tehran}?lang=fa").text
    source = client.get(f"/sources/{paper_id}?lang=fa")
    assert source.status_code == 200 and "مقاله پژوهشی" in source.text
    assert client.get("/sources/99999999").status_code == 404
    # The audit log names the records its entries mention, linked.
    audit = client.get("/audit?entity=relation&lang=en").text
    assert re.search(r'href="/cities/\d+"><bdi>Tehran</bdi>', audit) and "place_a_id" not in text_of(audit)


def test_one_citation_of_a_source() -> None:
    paper = {"source": "003_e2ea725f2834c7bc.txt", "locator": "Table 2, row 5", "source_kind": "paper"}
    assert citation(paper, "en")["label"] == "paper 3" and citation(paper, "fa")["label"] == "مقاله ۳"
    assert citation({**paper, "citation": "Rastegar (2020/21), Urban diplomacy"}, "en")["label"] == "Rastegar (2020/21)"
    data = {"source": "twin_cities.csv sha256:0964bc76…", "locator": "row 23484", "source_kind": "file", "source_id": 4}
    cited = citation(data, "fa")
    assert cited == {"label": "twin_cities.csv", "title": "twin_cities.csv", "where": "ردیف ۲۳۴۸۴",
                     "href": "/sources/4", "ltr": True}  # fmt: skip
    wikidata = {"source": "wikidata_p190.tsv sha256:cd", "source_kind": "wikidata", "values": {"as_of": 2016}}
    assert citation(wikidata, "fa")["label"] == "Wikidata ۲۰۱۶"
    assert locator_text("sheet members row 4, organisation_id 3", "en") == "sheet members row 4"
    # A section sign before digits reads backwards in a right-to-left line: Persian names the section.
    assert locator_text("Table 2, row 5; §6.2", "fa") == "جدول ۲، ردیف ۵؛ بخش ۶.۲"
    assert locator_text("Table 2, row 5; §6.2", "en") == "Table 2, row 5; §6.2"
    assert citation(None, "en") is None


# --- a large registry -------------------------------------------------------------------------------------


@pytest.fixture
def large(sqlite_url: str) -> str:
    """30,000 places and 25,000 relations (written in bulk), the hubs given many ties."""
    engine = db.get_engine(sqlite_url)
    rng = random.Random(5)
    with engine.begin() as conn:
        conn.execute(
            insert(Place),
            [
                {
                    "gazetteer": "geonames",
                    "gazetteer_id": str(i),
                    "name": f"Place {i}",
                    "country_code": "FR",
                    "lat": rng.uniform(-60, 70),
                    "lng": rng.uniform(-180, 180),
                    "admin_level": "city",
                    "status": "gazetteer",
                    "version": 1,
                    "entered_by": "bench",
                }
                for i in range(30_000)
            ],  # fmt: skip
        )
        ids = [r[0] for r in conn.execute(select(Place.id))]
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < 25_000:
            a = ids[min(int(rng.paretovariate(1.2)), len(ids) - 1)] if rng.random() < 0.5 else rng.choice(ids)
            b = rng.choice(ids)
            if a != b:
                pairs.add((min(a, b), max(a, b)))
        conn.execute(
            insert(Relation),
            [
                {
                    "place_a_id": a,
                    "place_b_id": b,
                    "kind": "sister_city",
                    "status": "active",
                    "version": 1,
                    "entered_by": "bench",
                }
                for a, b in sorted(pairs)
            ],  # fmt: skip
        )
    return sqlite_url


def test_the_home_map_of_a_large_registry_draws_the_strongest_ties(large: str) -> None:
    engine = db.get_engine(large)
    with db.session_scope(engine) as s:
        started = time.perf_counter()
        seen = explore._compute_overview(s)
        seconds = time.perf_counter() - started
        ties: Counter[int] = Counter()
        for a, b in s.execute(select(Relation.place_a_id, Relation.place_b_id)):
            ties[a] += 1
            ties[b] += 1
    print(f"overview of 30,000 places and 25,000 relations: {seconds * 1000:.0f} ms")
    assert seen["figures"]["relations"] == 25_000 and seen["lines_total"] == 25_000
    assert len(seen["lines"]) == explore.MAX_LINES and len(seen["points"]) == explore.MAX_POINTS
    assert seen["points"][0]["ties"] == max(ties.values())  # the most connected first
    assert seconds < 10  # generous on a shared machine; the figure is printed above
