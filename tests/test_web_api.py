"""REST API of the web application, on SQLite and PostgreSQL: reads, auth, writes, locking, bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_web_support import PASSWORD, XSS_NAME, Seeded, login, seed

from citydiplomacy.store import db
from citydiplomacy.store.schema import PlaceMention, Relation
from citydiplomacy.web.app import create_app

READ_PATHS = [
    "/api/stats",
    "/api/places",
    "/api/relations",
    "/api/memberships",
    "/api/organisations",
    "/api/activities",
    "/api/audit",
    "/api/review",
    "/api/runs",
    "/api/rankings",
    "/api/network",
    "/api/me",
]


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        yield c


def relation_body(a: int, b: int, **extra: object) -> dict[str, object]:
    return {
        "place_a_id": a,
        "place_b_id": b,
        "kind": "mou",
        "status": "active",
        "signed_year": 2019,
        "source": "Tehran municipality press release",
        "source_locator": "2019-05-02",
        **extra,
    }


@pytest.mark.parametrize("path", READ_PATHS)
def test_reads_need_login(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 401
    assert "log in" in r.json()["detail"]


def test_lists_are_paginated_and_filtered(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    for path in READ_PATHS[:-1]:
        assert client.get(path).status_code == 200, path
    page = client.get("/api/places", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 6 and len(page["items"]) == 2 and page["offset"] == 1
    assert [p["name"] for p in client.get("/api/places", params={"q": "تهران"}).json()["items"]] == ["Tehran"]
    assert client.get("/api/places", params={"country": "kr"}).json()["items"][0]["name"] == "Seoul"
    rels = client.get("/api/relations", params={"place_id": seeded.tehran, "kind": "sister_city"}).json()
    assert rels["total"] == 2 and {r["kind"] for r in rels["items"]} == {"sister_city"}
    assert client.get("/api/relations", params={"status": "suspended"}).json()["total"] == 1
    members = client.get("/api/memberships", params={"organisation_id": seeded.metropolis, "role": "board"}).json()
    assert [m["place_id"] for m in members["items"]] == [seeded.tehran]
    acts = client.get("/api/activities", params={"year_from": 2015}).json()
    assert [a["year"] for a in acts["items"]] == [2016]
    assert client.get("/api/audit", params={"actor": "seed", "limit": 1}).json()["total"] > 10
    assert client.get("/api/places", params={"limit": 0}).status_code == 422
    assert client.get("/api/places", params={"limit": 10_000}).status_code == 422


def test_city_profile_has_every_section(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    p = client.get(f"/api/places/{seeded.tehran}").json()
    assert p["place"]["name_fa"] == "تهران"
    assert {(c["kind"], c["status"], c["count"]) for c in p["relation_counts"]} == {
        ("sister_city", "active", 1),
        ("sister_city", "suspended", 1),
        ("friendship", "active", 1),
    }
    assert {m["role"] for m in p["memberships"]} == {"board", "founding"}
    assert p["activities"][0]["year"] == 2016
    assert p["assessment"]["index"]["value"] == pytest.approx(0.61)
    assert p["assessment"]["index"]["low"] == pytest.approx(0.56)
    assert len(p["assessment"]["dimensions"]) == 4
    assert {r["code"] for r in p["network"]["results"]} == {"degree", "betweenness"}
    assert client.get("/api/places/999999").status_code == 404
    org = client.get(f"/api/organisations/{seeded.metropolis}").json()
    assert org["roles"] == {"board": 1, "active": 1}
    assert [c["count"] for c in org["member_counts"]] == [120, 140]
    assert org["registry_growth"][-1]["members"] == 2


def test_rankings_have_rank_intervals(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    r = client.get("/api/rankings").json()
    assert [i["place_id"] for i in r["items"]] == [seeded.seoul, seeded.tehran, seeded.istanbul, seeded.kuala_lumpur]
    assert [i["rank"] for i in r["items"]] == [1, 2, 3, 4]
    assert (r["items"][1]["rank_low"], r["items"][1]["rank_high"]) == (1, 2)  # as seeded for Tehran
    dim = client.get("/api/rankings", params={"code": "DIM_culture"}).json()
    assert dim["total"] == 4 and "DIM_culture" in dim["codes"]
    net = client.get("/api/network", params={"code": "degree", "limit": 1}).json()
    assert net["items"][0]["place_id"] == seeded.tehran and net["total"] == 4


def test_viewer_cannot_write_and_editor_needs_csrf(client: TestClient, seeded: Seeded) -> None:
    token = login(client, "viewer")
    r = client.post("/api/relations", json=relation_body(seeded.beirut, seeded.seoul), headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and "editor" in r.json()["detail"]
    login(client, "editor")
    r = client.post("/api/relations", json=relation_body(seeded.beirut, seeded.seoul))
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/api/relations", json=relation_body(seeded.beirut, seeded.seoul), headers={"X-CSRF-Token": "x"})
    assert r.status_code == 403


def test_create_relation_is_audited_and_in_profile(client: TestClient, seeded: Seeded, db_url: str) -> None:
    token = login(client, "editor")
    # Given in the "wrong" order: stored with place_a_id < place_b_id.
    r = client.post("/api/relations", json=relation_body(seeded.seoul, seeded.beirut), headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    rel = r.json()
    assert rel["place_a_id"] < rel["place_b_id"] and rel["version"] == 1 and rel["entered_by"] == "editor"
    profile = client.get(f"/api/places/{seeded.beirut}").json()
    assert any(x["id"] == rel["id"] and x["kind"] == "mou" for x in profile["relations"])
    assert profile["relations"][-1]["provenance"]["source"] == "Tehran municipality press release"
    audit = client.get("/api/audit", params={"entity": "relation", "entity_id": rel["id"]}).json()["items"]
    assert len(audit) == 1 and audit[0]["actor"] == "editor" and audit[0]["action"] == "insert"
    assert audit[0]["changes"]["kind"] == "mou"
    # The same pair and kind again: a second agreement (issue 10: several between the same parties), audited too.
    again = client.post(
        "/api/relations", json=relation_body(seeded.seoul, seeded.beirut), headers={"X-CSRF-Token": token}
    )
    assert again.status_code == 201 and again.json()["id"] != rel["id"]
    with db.session_scope(db.get_engine(db_url)) as s:
        assert len(s.scalars(select(Relation).where(Relation.kind == "mou")).all()) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "alliance"}, "kind"),
        ({"status": "maybe"}, "status"),
        ({"signed_year": 99}, "signed_year"),
        ({"dimensions": ["astrology"]}, "dimensions"),
        ({"colour": "red"}, "colour"),
        ({"place_b_id": "Tehran"}, "place_b_id"),
    ],
)
def test_invalid_payloads_name_the_field(client: TestClient, seeded: Seeded, body: dict, field: str) -> None:
    token = login(client, "editor")
    r = client.post(
        "/api/relations", json=relation_body(seeded.beirut, seeded.seoul, **body), headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 422
    assert any(field in map(str, e["loc"]) for e in r.json()["detail"]), r.json()


def test_semantic_errors_and_malformed_json(client: TestClient, seeded: Seeded) -> None:
    token = login(client, "editor")
    h = {"X-CSRF-Token": token}
    same = client.post("/api/relations", json=relation_body(seeded.beirut, seeded.beirut), headers=h)
    assert same.status_code == 422 and "two different places" in str(same.json())
    missing = client.post("/api/relations", json=relation_body(seeded.beirut, 987654), headers=h)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "place_b_id"]
    broken = client.post(
        "/api/relations", content=b'{"place_a_id": 1,', headers={**h, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["detail"][0]["type"] == "json_invalid"
    for kind, body in [
        ("places", {"name": "Nowhere", "country_code": "Iran"}),
        ("organisations", {"name": "X", "kind": "club"}),
        ("memberships", {"place_id": seeded.tehran, "organisation_id": seeded.uclg, "role": "king"}),
        ("activities", {"kind": "visit"}),
    ]:
        assert client.post(f"/api/{kind}", json=body, headers=h).status_code == 422, kind


def test_every_record_kind_can_be_created(client: TestClient, seeded: Seeded) -> None:
    h = {"X-CSRF-Token": login(client, "editor")}
    place = client.post(
        "/api/places",
        json={
            "name": "Mashhad",
            "name_fa": "مشهد",
            "country_code": "IR",
            "lat": 36.3,
            "lng": 59.6,
            "source": "manual entry",
        },
        headers=h,
    )
    assert place.status_code == 201 and place.json()["gazetteer"] == "manual"
    org = client.post(
        "/api/organisations", json={"name": "OICC", "kind": "regional_network", "themes": ["heritage"]}, headers=h
    )
    assert org.status_code == 201 and org.json()["themes"] == ["heritage"]
    m = client.post(
        "/api/memberships",
        json={
            "place_id": place.json()["id"],
            "organisation_id": org.json()["id"],
            "role": "founding",
            "since_year": 1980,
        },
        headers=h,
    )
    assert m.status_code == 201
    a = client.post(
        "/api/activities",
        json={
            "kind": "festival",
            "title": "Reza festival",
            "happened_on": "2019-08-01",
            "place_id": place.json()["id"],
        },
        headers=h,
    )
    assert a.status_code == 201 and a.json()["year"] == 2019
    assert client.get(f"/api/memberships/{m.json()['id']}").json()["role"] == "founding"


def test_stale_version_is_refused(client: TestClient, seeded: Seeded) -> None:
    h = {"X-CSRF-Token": login(client, "editor")}
    current = client.get(f"/api/relations/{seeded.relation}").json()
    assert current["version"] == 1
    body = relation_body(
        current["place_a_id"], current["place_b_id"], kind="sister_city", status="suspended", version=1
    )
    first = client.put(f"/api/relations/{seeded.relation}", json=body, headers=h)
    assert first.status_code == 200 and first.json()["version"] == 2 and first.json()["status"] == "suspended"
    # A second editor who also read version 1 must not overwrite the first editor's change.
    second = client.put(f"/api/relations/{seeded.relation}", json={**body, "status": "ended"}, headers=h)
    assert second.status_code == 409
    assert "changed by someone else" in second.json()["detail"]
    assert client.get(f"/api/relations/{seeded.relation}").json()["status"] == "suspended"
    missing_version = {k: v for k, v in body.items() if k != "version"}
    assert client.put(f"/api/relations/{seeded.relation}", json=missing_version, headers=h).status_code == 422
    assert client.put("/api/relations/99999", json=body, headers=h).status_code == 404
    audit = client.get("/api/audit", params={"entity": "relation", "entity_id": seeded.relation, "action": "update"})
    assert audit.json()["items"][0]["changes"]["status"] == ["active", "suspended"]


def test_review_queue_resolution(client: TestClient, seeded: Seeded, db_url: str) -> None:
    h = {"X-CSRF-Token": login(client, "editor")}
    queue = client.get("/api/review").json()
    assert [m["id"] for m in queue["items"]] == [seeded.mention] and len(queue["items"][0]["candidates"]) == 2
    item = queue["items"][0]
    assert item["version"] == 1 and item["best"] == 0  # no source coordinates: the resolver's score decides
    assert [c["region"] for c in item["candidates"]] == ["Missouri", "Illinois"]
    url = f"/api/review/{seeded.mention}"
    bad = client.post(f"{url}/resolve", json={"candidate": 7, "version": 1}, headers=h)
    assert bad.status_code == 422
    both = client.post(f"{url}/resolve", json={"candidate": 0, "place_id": 1, "version": 1}, headers=h)
    assert both.status_code == 422
    assert client.post(f"{url}/resolve", json={"candidate": 1}, headers=h).status_code == 422  # no version
    stale = client.post(f"{url}/resolve", json={"candidate": 1, "version": 5}, headers=h)
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    r = client.post(f"{url}/resolve", json={"candidate": 1, "version": 1}, headers=h)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "reviewed" and done["reviewed_by"] == "editor" and done["reviewed_at"]
    assert done["version"] == 2
    with db.session_scope(db.get_engine(db_url)) as s:
        mention = s.get(PlaceMention, seeded.mention)
        assert mention.place.gazetteer_id == "4250542" and mention.place.name == "Springfield"
        assert mention.place.admin1_code == "IL"
    assert client.get("/api/review").json()["total"] == 0
    assert client.get("/api/review", params={"status": "reviewed"}).json()["total"] == 1
    again = client.post(f"{url}/resolve", json={"candidate": 0, "version": 2}, headers=h)
    assert again.status_code == 409 and "not waiting" in again.json()["detail"]
    for action in ("keep", "reject"):
        assert client.post(f"{url}/{action}", json={"version": 2}, headers=h).status_code == 409
        assert client.post(f"/api/review/424242/{action}", json={"version": 1}, headers=h).status_code == 404
    assert client.post("/api/review/424242/resolve", json={"candidate": 0, "version": 1}, headers=h).status_code == 404


def test_review_keep_and_reject(client: TestClient, seeded: Seeded, db_url: str) -> None:
    with db.session_scope(db.get_engine(db_url)) as s:
        other = PlaceMention(key="Franklin|US|", name_in_source="Franklin", country_in_source="US", status="ambiguous")
        s.add(other)
        s.flush()
        other_id = other.id
    login(client, "viewer")
    viewer = client.post(f"/api/review/{other_id}/keep", json={"version": 1}, headers={"X-CSRF-Token": "x"})
    assert viewer.status_code == 403
    h = {"X-CSRF-Token": login(client, "editor")}
    assert client.post(f"/api/review/{other_id}/keep", json={"version": 1}).status_code == 403  # no CSRF token
    kept = client.post(f"/api/review/{other_id}/keep", json={"version": 1}, headers=h)
    assert kept.status_code == 200 and kept.json()["status"] == "kept"
    rejected = client.post(f"/api/review/{seeded.mention}/reject", json={"version": 1}, headers=h)
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["reviewed_by"]) == ("rejected", "editor")
    assert client.get("/api/review").json()["total"] == 0


def test_review_page_preselects_the_best_and_offers_every_decision(client: TestClient, seeded: Seeded) -> None:
    login(client, "editor")
    for lang, resolve_label in (("en", "Confirm this place"), ("fa", "تأیید این مکان")):
        page = client.get("/review", params={"lang": lang}).text
        assert resolve_label in page and "Missouri" in page and "Illinois" in page
        assert 'value="candidate:0" checked' in page and 'value="candidate:1" >' in page
        assert f'formaction="/review/{seeded.mention}/keep"' in page
        assert f'formaction="/review/{seeded.mention}/reject"' in page
        assert 'name="version" value="1"' in page
    assert ">حل<" not in client.get("/review", params={"lang": "fa"}).text


def test_users_admin_only(client: TestClient) -> None:
    h = {"X-CSRF-Token": login(client, "editor")}
    assert (
        client.post("/api/users", json={"username": "ana", "password": "long-enough-1"}, headers=h).status_code == 403
    )
    h = {"X-CSRF-Token": login(client, "admin")}
    r = client.post("/api/users", json={"username": "ana", "password": "long-enough-1", "role": "editor"}, headers=h)
    assert r.status_code == 201 and r.json()["role"] == "editor"
    assert client.post("/api/users", json={"username": "bo", "password": "short"}, headers=h).status_code == 422
    client.post("/api/auth/logout")
    assert client.get("/api/me").status_code == 401
    r = client.post("/api/auth/login", json={"username": "ana", "password": "long-enough-1"})
    assert r.status_code == 200 and r.json()["csrf_token"]
    assert client.get("/api/me").json()["role"] == "editor"


def test_login_is_rate_limited(client: TestClient) -> None:
    for _ in range(3):  # the free failures of one (address, account)
        assert client.post("/api/auth/login", json={"username": "viewer", "password": "wrong"}).status_code == 401
    # Then every attempt must wait (even with the right password: no guessing while blocked).
    blocked = client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "try again" in blocked.json()["detail"]
    page = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": "x"})
    assert page.status_code == 403  # the dashboard's form still needs its CSRF token first
    form = client.get("/login")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    page = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token})
    assert page.status_code == 429 and int(page.headers["Retry-After"]) >= 1


def test_tampered_and_expired_sessions(db_url: str, seeded: Seeded) -> None:
    with TestClient(create_app(db_url, secret_key="k1", session_max_age=1)) as c:
        login(c, "viewer")
        assert c.get("/api/me").status_code == 200
        time.sleep(2.1)  # the cookie's signature is older than its 1 s lifetime
        assert c.get("/api/me").status_code == 401
        page = c.get("/cities/1", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    with TestClient(create_app(db_url, secret_key="k2")) as c:
        c.cookies.set("citydip_session", "eyJ1c2VyIjogeyJpZCI6IDEsICJyb2xlIjogImFkbWluIn19.forged.sig")
        assert c.get("/api/me").status_code == 401


def test_oversized_upload_is_refused_and_server_keeps_serving(client: TestClient, seeded: Seeded) -> None:
    h = {"X-CSRF-Token": login(client, "editor")}
    big = relation_body(seeded.beirut, seeded.seoul, notes="x" * 1_200_000)
    r = client.post("/api/relations", json=big, headers=h)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b"y" * 50_000

    streamed = client.post("/api/relations", content=chunks(), headers={**h, "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert client.get("/api/stats").status_code == 200


def test_script_injection_is_escaped(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    page = client.get("/", params={"q": "Evilton"})
    assert page.status_code == 200
    assert XSS_NAME not in page.text and "&lt;script&gt;alert(" in page.text
    # JSON embedded for charts cannot close its <script> element either.
    city = client.get(f"/cities/{seeded.tehran}")
    assert "</script>Evilton" not in city.text
    assert client.get(f"/cities/{seeded.evil}").text.count("<script>alert") == 0


@pytest.mark.parametrize(
    "path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/fonts/../../auth.py"]
)
def test_path_tricks_in_file_names(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert "argon2" not in r.text


def test_assets_are_local(client: TestClient) -> None:
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    geo = client.get("/static/vendor/geo-assets.js")
    assert geo.status_code == 200 and b"PlotlyGeoAssets" in geo.content and b'"Topology"' in geo.content
    font = client.get("/static/fonts/Vazirmatn-Regular.woff2")
    assert font.status_code == 200 and font.content[:4] == b"wOF2"
    assert "default-src 'self'" in js.headers["content-security-policy"]


def test_openapi_document(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    for path in (
        "/api/places",
        "/api/places/{place_id}",
        "/api/relations/{relation_id}",
        "/api/review/{mention_id}/resolve",
        "/api/review/{mention_id}/keep",
        "/api/review/{mention_id}/reject",
    ):
        assert path in doc["paths"], path
    assert set(doc["components"]["schemas"]["RelationIn"]["properties"]["kind"]["enum"]) >= {"sister_city", "mou"}


def test_unavailable_database_gives_503_and_recovers(tmp_path, seeded: Seeded, db_url: str) -> None:
    gone = create_app("postgresql+psycopg://nobody@127.0.0.1:1/none", secret_key="k")
    with TestClient(gone) as c:
        r = c.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
        assert r.status_code == 503 and "unavailable" in r.json()["detail"]
        page = c.get("/login")  # pages that need no database still work
        assert page.status_code == 200
    # An SQLite file that stops being a database between two requests.
    path = tmp_path / "copy.db"
    url = f"sqlite:///{path}"
    db.upgrade(db.get_engine(url))
    seed(url)
    with TestClient(create_app(url, secret_key="k")) as c:
        h = {"X-CSRF-Token": login(c, "editor")}
        db.get_engine(url).dispose()
        good = path.read_bytes()
        path.write_bytes(b"this is not a database" * 100)
        r = c.post("/api/relations", json=relation_body(1, 5), headers=h)
        assert r.status_code == 503
        html = c.get("/", headers={"Accept": "text/html"})
        assert html.status_code == 503 and "database" in html.text
        path.write_bytes(good)
        db.get_engine(url).dispose()
        assert c.get("/api/relations", params={"kind": "mou"}).json()["total"] == 0  # nothing partially written
        assert c.get("/api/stats").status_code == 200


def test_language_cookie_and_persian_digits(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    fa = client.get(f"/cities/{seeded.tehran}", params={"lang": "fa"})
    assert 'dir="rtl"' in fa.text and 'lang="fa"' in fa.text
    assert "lang=fa" in fa.headers["set-cookie"]
    assert "۱۳۹۳/۰۸/۰۹" in fa.text  # 2014-10-31 in the Solar Hijri calendar, Persian digits
    again = client.get(f"/cities/{seeded.tehran}")  # no ?lang: the cookie remembers Persian
    assert 'dir="rtl"' in again.text and "تهران" in again.text
    en = client.get(f"/cities/{seeded.tehran}", params={"lang": "en"})
    assert 'dir="ltr"' in en.text and "2014-10-31 (1393/08/09 SH)" in en.text
    # A language the site does not speak is a page saying so (issue 13), and the chosen language stays.
    unknown = client.get("/", params={"lang": "xx"})
    assert unknown.status_code == 404 and 'lang="en"' in unknown.text
    audit_en = client.get("/audit").text
    assert "seed" in audit_en


def test_forms_validate_and_need_csrf(client: TestClient, seeded: Seeded) -> None:
    assert client.get("/records/relations/new", follow_redirects=False).status_code == 303
    login(client, "viewer")
    assert client.get("/records/relations/new").status_code == 403
    login(client, "editor")
    form = client.get("/records/relations/new", params={"place_a_id": seeded.tehran})
    assert form.status_code == 200 and f'value="{seeded.tehran}"' in form.text
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    fields = {
        "place_a_id": str(seeded.tehran),
        "place_b_id": str(seeded.istanbul),
        "kind": "sister_city",
        "status": "active",
        "signed_year": "1999",
        "dimensions": ["culture", "economy"],
        "source": "paper 002",
    }
    assert client.post("/records/relations/new", data=fields).status_code == 403  # no CSRF token
    bad = client.post("/records/relations/new", data={**fields, "signed_year": "abc", "csrf_token": token})
    assert bad.status_code == 422 and "field-error" in bad.text and 'data-field="signed_year"' in bad.text
    ok = client.post("/records/relations/new", data={**fields, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    profile = client.get(ok.headers["location"])
    assert "Istanbul" in profile.text
    rel = client.get("/api/relations", params={"place_id": seeded.istanbul}).json()["items"][0]
    assert rel["dimensions"] == ["culture", "economy"] and rel["entered_by"] == "editor"
    # Editing with a stale version shows the conflict page, in the user's language.
    edit = {**fields, "csrf_token": token, "version": "1", "status": "ended"}
    assert client.post(f"/records/relations/{rel['id']}/edit", data=edit, follow_redirects=False).status_code == 303
    stale = client.post(
        f"/records/relations/{rel['id']}/edit", data={**edit, "status": "suspended"}, params={"lang": "fa"}
    )
    assert stale.status_code == 409 and "شخص دیگری" in stale.text


def test_every_page_renders(client: TestClient, seeded: Seeded) -> None:
    login(client, "editor")
    for path in [
        "/",
        "/?q=a",
        f"/cities/{seeded.tehran}",
        "/organisations",
        f"/organisations/{seeded.metropolis}",
        "/rankings",
        "/rankings?code=DIM_culture",
        "/network",
        "/network?code=degree",
        "/review",
        "/audit",
        "/audit?entity=relation",
        *[f"/records/{k}/new" for k in ("places", "organisations", "relations", "memberships", "activities")],
        f"/records/relations/{seeded.relation}/edit",
    ]:
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    assert client.get("/cities/99999").status_code == 404
    assert client.get("/records/unicorns/new").status_code == 404


def test_profile_agrees_with_the_store(db_url: str, seeded: Seeded) -> None:
    from citydiplomacy.store import queries
    from citydiplomacy.store.schema import Place
    from citydiplomacy.web import data

    with db.session_scope(db.get_engine(db_url)) as s:
        for place_id in (seeded.tehran, seeded.seoul, seeded.evil):
            place = s.get(Place, place_id)
            store_profile = queries.city_profile(s, place)
            web_profile = data.city_profile(s, place_id)
            assert web_profile is not None
            assert {k: web_profile[k] for k in store_profile} == store_profile


def test_intervals_stored_as_sibling_codes(client: TestClient, seeded: Seeded, db_url: str) -> None:
    """The assessment stores rank intervals as CDI_RANK_P05 / CDI_RANK_P95 rows: both pages show them."""
    from citydiplomacy.store.schema import AnalysisRun, CityResult

    with db.session_scope(db.get_engine(db_url)) as s:
        run = AnalysisRun(kind="assessment", parameters={})
        s.add(run)
        s.flush()
        for code, value in [("CDI", 0.5), ("CDI_RANK", 3), ("CDI_RANK_P05", 2), ("CDI_RANK_P95", 6),
                            ("DIM_culture", 0.4), ("DIM_culture_P05", 0.3), ("DIM_culture_P95", 0.45)]:  # fmt: skip
            s.add(CityResult(run_id=run.id, place_id=seeded.tehran, code=code, value=value))
    login(client, "viewer")
    item = client.get("/api/rankings").json()["items"][0]
    assert (item["rank"], item["rank_low"], item["rank_high"]) == (3, 2, 6)
    assert "CDI_RANK_P05" not in client.get("/api/rankings").json()["codes"]
    block = client.get(f"/api/places/{seeded.tehran}").json()["assessment"]
    assert [d["code"] for d in block["dimensions"]] == ["DIM_culture"]
    assert (block["dimensions"][0]["low"], block["dimensions"][0]["high"]) == (0.3, 0.45)
    assert (block["rank"]["low"], block["rank"]["high"]) == (2, 6)
    assert "rank-interval" in client.get(f"/cities/{seeded.tehran}").text
