"""The "Trust" issue: spreadsheet formulas neutralised, XLSX read whole and bounded, out-of-range input refused.

Web tests run on SQLite and PostgreSQL (``db_url``): every hostile request answers 404 or 422, never
500 or 503, and the registry is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from registry_helpers import dump_db
from test_web_support import PASSWORD, Seeded, seed

from citydiplomacy.web.app import create_app

BIG = 2**63  # one past the largest 64-bit integer: what overflowed the database drivers
HUGE = 2**31  # one past the registry's id range


# --------------------------------------------------------------------------------- 4. out-of-range input
@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        yield c


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def _refused(r, expected: tuple[int, ...] = (404, 422)) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code in expected, (r.request.method, str(r.request.url), r.status_code, r.text[:300])


@pytest.mark.parametrize("big", [BIG, HUGE, 10**30])
def test_out_of_range_ids_and_offsets_in_pages_and_queries(client: TestClient, seeded: Seeded, big: int) -> None:
    _login(client, "editor")
    for path in [
        f"/cities/{big}",
        f"/organisations/{big}",
        f"/records/relations/{big}/edit",
        f"/records/places/{big}/edit",
        f"/api/places/{big}",
        f"/api/organisations/{big}",
        f"/api/relations/{big}",
        f"/?q=a&offset={big}",
        f"/organisations?offset={big}",
        f"/rankings?offset={big}",
        f"/rankings?run_id={big}",
        f"/network?offset={big}",
        f"/network?run_id={big}",
        f"/audit?offset={big}",
        f"/audit?entity_id={big}",
        f"/review?offset={big}",
        f"/api/places?offset={big}",
        f"/api/relations?place_id={big}",
        f"/api/memberships?organisation_id={big}",
        f"/api/rankings?run_id={big}",
        f"/api/review?offset={big}",
    ]:
        _refused(client.get(path))


def test_out_of_range_page_ids_answer_in_the_pages_language(client: TestClient) -> None:
    _login(client, "viewer")
    r = client.get(f"/cities/{BIG}", params={"lang": "fa"})
    assert r.status_code == 404 and "پیدا نشد" in r.text


@pytest.mark.parametrize("big", [BIG, HUGE])
def test_out_of_range_ids_in_bodies(client: TestClient, seeded: Seeded, db_url: str, big: int) -> None:
    h = _login(client, "editor")
    before = dump_db(db_url)
    for kind, body in [
        ("relations", {"place_a_id": big, "place_b_id": seeded.tehran, "kind": "mou"}),
        ("relations", {"place_a_id": seeded.tehran, "place_b_id": big, "kind": "mou"}),
        ("memberships", {"place_id": big, "organisation_id": seeded.uclg}),
        ("memberships", {"place_id": seeded.beirut, "organisation_id": big}),
        ("activities", {"kind": "visit", "title": "x", "place_id": big}),
        ("activities", {"kind": "visit", "title": "x", "organisation_id": big}),
        ("organisations", {"name": "X", "kind": "global_network", "seat_place_id": big}),
    ]:
        _refused(client.post(f"/api/{kind}", json=body, headers=h), (422,))
    r = client.put(
        f"/api/relations/{seeded.relation}",
        json={"place_a_id": seeded.tehran, "place_b_id": seeded.kuala_lumpur, "kind": "mou", "version": big},
        headers=h,
    )
    _refused(r, (409, 422))
    _refused(client.post(f"/api/review/{seeded.mention}/resolve", json={"place_id": big, "version": 1}, headers=h))
    assert dump_db(db_url) == before


@pytest.mark.parametrize("bad", ["a\x00b", "a\x01b", "\x1b[31mred"])
def test_control_characters_in_searches(client: TestClient, seeded: Seeded, bad: str) -> None:
    _login(client, "viewer")
    for path, param in [
        ("/api/places", "q"),
        ("/api/organisations", "q"),
        ("/api/relations", "kind"),
        ("/api/audit", "actor"),
        ("/api/rankings", "code"),
        ("/", "q"),
        ("/organisations", "q"),
        ("/audit", "actor"),
    ]:
        r = client.get(path, params={param: bad})
        _refused(r, (422,))
        if path.startswith("/api"):
            assert any(param in map(str, e["loc"]) for e in r.json()["detail"]), r.json()


@pytest.mark.parametrize("bad", ["Evil\x00ton", "Evil\x07ton", "Evil\nton"])
def test_control_characters_in_bodies_name_the_field(client: TestClient, seeded: Seeded, db_url: str, bad: str) -> None:
    h = _login(client, "editor")
    before = dump_db(db_url)
    for kind, body, field in [
        ("places", {"name": bad, "country_code": "FR"}, "name"),
        ("places", {"name": "Lyon", "country_code": "FR", "source": bad}, "source"),
        ("organisations", {"name": "X", "kind": "global_network", "themes": ["ok", bad]}, "themes"),
        ("relations", {"place_a_id": seeded.beirut, "place_b_id": seeded.seoul, "kind": "mou", "title": bad}, "title"),
        ("activities", {"kind": "visit", "title": "x", "description": "a\x00b"}, "description"),
    ]:
        r = client.post(f"/api/{kind}", json=body, headers=h)
        _refused(r, (422,))
        assert any(field in map(str, e["loc"]) for e in r.json()["detail"]), r.json()
    assert dump_db(db_url) == before


def test_free_text_keeps_tabs_and_newlines(client: TestClient, seeded: Seeded) -> None:
    h = _login(client, "editor")
    r = client.post(
        "/api/activities",
        json={"kind": "visit", "title": "Visit", "description": "line one\r\nline\ttwo", "place_id": seeded.tehran},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "line one\r\nline\ttwo"


def test_out_of_range_numbers_in_review_forms(client: TestClient, seeded: Seeded, db_url: str) -> None:
    _login(client, "editor")
    page = client.get("/review")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    before = dump_db(db_url)
    url = f"/review/{seeded.mention}/resolve"
    _refused(client.post(url, data={"csrf_token": token, "choice": f"place:{BIG}", "version": "1"}))
    _refused(client.post(url, data={"csrf_token": token, "choice": "candidate:0", "version": str(BIG)}))
    _refused(client.post(f"/review/{BIG}/keep", data={"csrf_token": token, "version": "1"}))
    assert dump_db(db_url) == before
