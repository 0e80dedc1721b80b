"""The API does what its OpenAPI document says, and nothing else (issue "Trust": the schemathesis findings).

One test per class of defect the schemathesis run found: JSON types enforced exactly (no blank string or
``0`` for a date or a boolean), every error status documented with the Problem body, ``Allow`` on every
405 naming all methods of the path, a body that is not UTF-8 JSON a 422, ids bounded, invalid text refused,
the rules a schema cannot state answered with a typed 422 naming the fields, job parameters declared, and
Swagger UI served from the package under the content security policy.  On SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from test_web_support import Seeded, login, seed

from citydiplomacy.store import db
from citydiplomacy.store import jobs as queue
from citydiplomacy.store.inputs import NAME_PATTERN, ActivityIn, PlaceIn
from citydiplomacy.web.app import create_app

BIG = 2**63


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        yield c


@pytest.fixture
def editor(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": login(client, "editor")}


def _fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    """Every name in the ``loc`` of the 422's errors (``["body", "themes", 0]`` names ``themes``)."""
    return {str(part) for e in response.json()["detail"] for part in e["loc"]}


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("activities", {"kind": "visit", "title": "Visit", "happened_on": ""}, "happened_on"),
        ("activities", {"kind": "visit", "title": "Visit", "happened_on": 0}, "happened_on"),
        ("activities", {"kind": "visit", "title": "Visit", "happened_on": "2014-10-31T00:00:00"}, "happened_on"),
        ("activities", {"kind": "visit", "title": "Visit", "happened_on": "2014-02-30"}, "happened_on"),
        ("places", {"name": "Nowhere", "is_capital": 0}, "is_capital"),
        ("places", {"name": "Nowhere", "is_capital": "true"}, "is_capital"),
        ("places", {"name": "Nowhere", "population": "12"}, "population"),
        ("places", {"name": "Nowhere", "population": True}, "population"),
        ("places", {"name": "Nowhere", "lat": "1.5"}, "lat"),
        ("places", {"name": "Nowhere", "country_code": ""}, "country_code"),
        ("places", {"name": "   "}, "name"),
        ("places", {"name": "\u3000\u00a0"}, "name"),
        ("places", {"name": 7}, "name"),
        ("organisations", {"name": "Net", "kind": "fund", "themes": ["a\x00b"]}, "themes"),
    ],
)
def test_json_types_are_enforced_exactly(
    client: TestClient, editor: dict[str, str], kind: str, body: dict, field: str
) -> None:
    r = client.post(f"/api/{kind}", json=body, headers=editor)
    assert r.status_code == 422, r.text
    assert field in _fields(r), r.json()


def test_what_the_schema_allows_is_accepted(client: TestClient, editor: dict[str, str]) -> None:
    # An integral number is an integer (JSON Schema's rule); surrounding spaces are dropped after validation.
    r = client.post("/api/places", json={"name": "  Qom  ", "population": 1201158.0, "lat": 34, "name_fa": ""},
                    headers=editor)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Qom" and r.json()["population"] == 1201158 and r.json()["name_fa"] is None
    r = client.post("/api/activities", json={"kind": "visit", "title": "Visit", "happened_on": "2019-05-02"},
                    headers=editor)  # fmt: skip
    assert r.status_code == 201 and r.json()["happened_on"] == "2019-05-02" and r.json()["year"] == 2019


def test_forms_still_send_text(client: TestClient, seeded: Seeded) -> None:
    """The dashboard's form posts text for every field: numbers and blank fields are read from it."""
    login(client, "editor")
    page = client.get("/records/activities/new")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/records/activities/new",
        data={
            "csrf_token": token,
            "kind": "visit",
            "title": " Mayor's visit ",
            "happened_on": "",
            "year": "2018",
            "place_id": str(seeded.tehran),
            "organisation_id": "",
            "description": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_python_callers_may_pass_dates() -> None:
    from datetime import date

    assert ActivityIn(kind="visit", title="x", happened_on=date(2014, 10, 31)).year == 2014


def test_name_pattern_matches_the_validator() -> None:
    """The documented pattern of a name and the validator agree on every character (whitespace above all)."""
    pattern = re.compile(NAME_PATTERN)
    for code in [*range(0x0, 0x3100), *range(0xFE00, 0x10000)]:
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        documented = bool(pattern.match(char))
        try:
            PlaceIn(name=char)
            accepted = True
        except ValueError:
            accepted = False
        assert documented == accepted, hex(code)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/places", "GET, POST"),
        ("OPTIONS", "/api/relations", "GET, POST"),
        ("DELETE", "/api/places/1", "GET, PUT"),
        ("PATCH", "/api/activities/1", "GET, PUT"),
        ("GET", "/api/auth/login", "POST"),
        ("PUT", "/api/jobs", "GET, POST"),
    ],
)
def test_405_names_every_method_of_the_path(client: TestClient, method: str, path: str, allow: str) -> None:
    login(client, "editor")
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert "detail" in r.json()


def test_405_allow_matches_the_document(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    for path, operations in doc["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        r = client.request("TRACE", concrete)
        assert r.status_code == 405, path
        assert r.headers["allow"] == ", ".join(sorted(m.upper() for m in operations)), path


def test_a_body_that_is_not_utf8_json_is_a_422(client: TestClient, editor: dict[str, str]) -> None:
    for raw in (b'{"name": "\xff\xfe"}', b"\x93\x00\x81", b"[" * 100_000):
        r = client.post("/api/places", content=raw, headers={**editor, "Content-Type": "application/json"})
        assert r.status_code == 422, (raw[:10], r.text)
        assert r.json()["detail"][0]["loc"] == ["body"] and r.json()["detail"][0]["type"] == "json_invalid"
    assert client.get("/api/health").status_code == 200


def test_ids_are_bounded_everywhere(client: TestClient, editor: dict[str, str], seeded: Seeded) -> None:
    for path in ("/api/places/{}", "/api/relations/{}", "/api/jobs/{}", "/api/activities/{}"):
        r = client.get(path.format(BIG))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "path", r.text
    r = client.put(f"/api/places/{BIG}", json={"name": "x", "version": 1}, headers=editor)
    assert r.status_code == 422 and "place_id" in _fields(r)
    r = client.post(f"/api/review/{seeded.mention}/resolve", json={"place_id": BIG, "version": 1}, headers=editor)
    assert r.status_code == 422 and "place_id" in _fields(r)
    r = client.post("/api/jobs", json={"kind": "assessment", "parameters": {"uncertainty_seed": BIG}}, headers=editor)
    assert r.status_code == 422 and "uncertainty_seed" in _fields(r)


@pytest.mark.parametrize("bad", ["Evil\x00ton", "\ud800Evil", "Evil\x1bton"])
def test_invalid_text_is_refused_naming_the_field(client: TestClient, editor: dict[str, str], bad: str) -> None:
    as_json = {"Content-Type": "application/json"}  # json.dumps writes a lone surrogate as its \\u escape
    for kind, body, field in (
        ("places", {"name": "Ok", "name_fa": bad}, "name_fa"),
        ("activities", {"kind": "visit", "title": "Ok", "description": bad}, "description"),
    ):
        r = client.post(f"/api/{kind}", content=json.dumps(body), headers={**editor, **as_json})
        assert r.status_code == 422 and field in _fields(r), r.text
    credentials = json.dumps({"username": "editor", "password": "\ud800" * 8})
    r = client.post("/api/auth/login", content=credentials, headers=as_json)
    assert r.status_code == 422 and "password" in _fields(r), r.text


def test_rules_no_schema_can_state_are_typed_and_named(
    client: TestClient, editor: dict[str, str], seeded: Seeded
) -> None:
    same = {"place_a_id": seeded.beirut, "place_b_id": seeded.beirut, "kind": "mou"}
    r = client.post("/api/relations", json=same, headers=editor)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "cross_field"
    assert "place_a_id" in r.json()["detail"][0]["msg"] and "place_b_id" in r.json()["detail"][0]["msg"]
    order = {"place_id": seeded.tehran, "organisation_id": seeded.uclg, "since_year": 2010, "until_year": 2001}
    r = client.post("/api/memberships", json=order, headers=editor)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "cross_field" and "until_year" in r.text
    missing = {"place_a_id": seeded.beirut, "place_b_id": 987654, "kind": "mou"}
    r = client.post("/api/relations", json=missing, headers=editor)
    assert r.status_code == 422 and r.json()["detail"] == [
        {"loc": ["body", "place_b_id"], "msg": "no place with id 987654", "type": "reference_not_found"}
    ]
    r = client.post(f"/api/review/{seeded.mention}/resolve", json={"candidate": 1000, "version": 1}, headers=editor)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "reference_not_found"
    both = {"candidate": 0, "place_id": seeded.tehran, "version": 1}
    r = client.post(f"/api/review/{seeded.mention}/resolve", json=both, headers=editor)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "cross_field"


def test_job_parameters_are_declared_and_checked(client: TestClient, editor: dict[str, str]) -> None:
    doc = client.get("/api/openapi.json").json()
    params = doc["components"]["schemas"]["AssessmentParameters"]
    assert params["additionalProperties"] is False and "uncertainty_samples" in params["properties"]
    for body, field in (
        ({"kind": "network", "parameters": {"graph": "social"}}, "graph"),
        ({"kind": "network", "parameters": {"year": "2010"}}, "year"),
        ({"kind": "network", "parameters": {"regions": ["Atlantis"]}}, "regions"),
        ({"kind": "assessment", "parameters": {"uncertainty_samples": 10**6}}, "uncertainty_samples"),
        ({"kind": "assessment", "parameters": {"normalise": "magic"}}, "normalise"),
        ({"kind": "assessment", "parameters": {"bogus": 1}}, "bogus"),
        ({"kind": "membership_model", "parameters": {}}, "organisation"),
        ({"kind": "membership_model", "parameters": {"organisation": "GCoM", "window": 0}}, "window"),
        ({"kind": "partner_model", "parameters": {"inner_rounds": 0}}, "inner_rounds"),
        ({"kind": "partner_model", "parameters": {"seed": -1}}, "seed"),
        ({"kind": "gossip"}, "body"),
    ):
        r = client.post("/api/jobs", json=body, headers=editor)
        assert r.status_code == 422, (body, r.text)
        assert any(field in map(str, e["loc"]) for e in r.json()["detail"]), (body, r.json())


def test_every_error_status_is_documented_with_the_problem_body(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    problem = "#/components/schemas/Problem"
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": problem}, (method, path, status)
            has_body = "requestBody" in op
            if has_body:
                assert {"413", "422"} <= set(op["responses"]), (method, path)
            if path.startswith("/api/") and path != "/api/health":
                assert "503" in op["responses"], (method, path)
    login = doc["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"200", "401", "422", "429"} <= set(login) and "Retry-After" in login["429"]["headers"]
    # One path per resource: GET and PUT of a record share it (so a 405's Allow names both).
    assert {"get", "put"} <= set(doc["paths"]["/api/places/{place_id}"])
    assert {"get", "put"} <= set(doc["paths"]["/api/relations/{relation_id}"])


def test_progress_reports_never_wait_for_the_jobs_own_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A running job's progress report skips, at once, while SQLite's write lock is held (by the job itself).

    It used to wait the full 5 s, keeping the job's lock that much longer: web writes meanwhile failed (503).
    """
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    engine = db.get_engine(url)
    db.upgrade(engine)
    job = queue.enqueue(engine, "network", {}, actor="t")
    with engine.connect() as holder:
        holder.execute(text("UPDATE job SET stage = 'writing' WHERE id = :id"), {"id": job["id"]})  # write lock
        started = time.monotonic()
        with pytest.raises(OperationalError):
            queue.report_progress(engine, job["id"], 0.5, "half", wait_s=0.05)
        assert time.monotonic() - started < 2
        holder.rollback()
    # The connection is back to the usual wait: a writer that must wait for a short lock still gets through.
    with engine.connect() as holder:
        holder.execute(text("UPDATE job SET stage = 'writing' WHERE id = :id"), {"id": job["id"]})
        threading.Timer(0.3, holder.rollback).start()
        queue.report_progress(engine, job["id"], 0.5, "half")
    engine.dispose()
    db.get_engine.cache_clear()


def test_swagger_ui_is_served_from_the_package(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "http://" not in page.text and "https://" not in page.text
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 500, url
    # The page's policy admits exactly its one inline script, by hash; no 'unsafe-inline' for scripts.
    csp = page.headers["content-security-policy"]
    assert page.headers.get_list("content-security-policy") == [csp]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert len(inline) == 1 and script_src.split() == ["'self'", f"'sha256-{digest}'"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    # Every other page keeps the strict policy.
    assert "sha256" not in client.get("/api/health").headers["content-security-policy"]
