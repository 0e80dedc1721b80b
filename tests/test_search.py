"""Search by name: the best matches first, each result saying which name matched and where it is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from test_web_support import login, seed

from citydiplomacy.present import i18n
from citydiplomacy.store import db
from citydiplomacy.store.schema import Place, PlaceName
from citydiplomacy.web.app import create_app

#: (name, country, admin-1 code, population, alternate name): the most populous ones match least well.
PLACES = [
    ("Bucharest", "RO", "10", 9_000_000, "Little Paris of the East"),
    ("Kuusalu", "EE", "01", 7_000_000, "Kuusalu Parish"),
    ("Comparison", "US", "TX", 4_000_000, None),
    ("Saint-Paris", "FR", "44", 900, None),
    ("Parisot", "FR", "76", 500, None),
    ("Paris", "US", "TX", 25_000, None),
    ("Paris", "US", "TN", 10_000, None),
    ("Paris", "FR", "11", 2_100_000, None),
]


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    seed(db_url)
    with db.session_scope(db.get_engine(db_url)) as s:
        for i, (name, cc, admin1, population, alias) in enumerate(PLACES):
            place = Place(gazetteer="geonames", gazetteer_id=f"search-{i}", name=name, country_code=cc,
                          admin1_code=admin1, population=population, lat=0.0, lng=0.0)  # fmt: skip
            s.add(place)
            s.flush()
            if alias:
                s.add(PlaceName(place_id=place.id, name=alias, lang="en", kind="alias"))
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        login(c, "viewer")
        yield c


def test_best_matches_first_then_the_most_populous(client: TestClient) -> None:
    r = client.get("/api/places", params={"q": "paris"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    found = [(p["name"], p["country_code"], p["match"]) for p in items]
    assert found == [
        ("Paris", "FR", "exact"),
        ("Paris", "US", "exact"),
        ("Paris", "US", "exact"),
        ("Bucharest", "RO", "word"),
        ("Saint-Paris", "FR", "word"),
        ("Parisot", "FR", "prefix"),
        ("Kuusalu", "EE", "word_prefix"),
        ("Comparison", "US", "contains"),
    ]
    by_name = {p["name"]: p for p in items}
    assert by_name["Bucharest"]["matched_name"] == "Little Paris of the East"
    assert by_name["Parisot"]["matched_name"] == "Parisot"
    # Namesakes told apart by their region: named where GeoNames' admin-1 code is ISO's (US); elsewhere none,
    # never the name of the ISO unit that happens to share the code (FR-11 is Aude, GeoNames' FR 11 Ile-de-France).
    assert [p["region"] for p in items if p["name"] == "Paris"] == [None, "Texas", "Tennessee"]
    assert r.json()["total"] == len(PLACES)


def test_filters_and_paging_keep_the_order(client: TestClient) -> None:
    r = client.get("/api/places", params={"q": "Paris", "country": "FR", "limit": 2, "offset": 1}).json()
    assert r["total"] == 3  # Paris, Parisot, Saint-Paris
    assert [p["name"] for p in r["items"]] == ["Saint-Paris", "Parisot"]
    like = client.get("/api/places", params={"q": "100%_"}).json()  # LIKE's wildcards are plain characters
    assert like["total"] == 0


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_search_page_says_which_name_matched_and_where(client: TestClient, lang: str) -> None:
    page = client.get("/", params={"q": "paris", "lang": lang})
    assert page.status_code == 200
    assert f"{i18n.translate('matched_name', lang)}: <bdi>Little Paris of the East</bdi>" in page.text
    assert i18n.country_name("RO", lang) in page.text and "Tennessee" in page.text
    assert page.text.index(">Paris<") < page.text.index(">Bucharest<")
