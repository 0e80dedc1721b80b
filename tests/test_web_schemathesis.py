"""Property-based run of schemathesis against the API's own OpenAPI document (GET endpoints, bounded).

Every generated request, valid or not, must get a documented status code and a body that matches the
document; no input may cause a server error.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from test_web_support import PASSWORD, seed  # noqa: E402

from citydiplomacy.web.app import SESSION_COOKIE, create_app  # noqa: E402


@pytest.fixture
def web_app(sqlite_url: str):  # type: ignore[no-untyped-def]
    seed(sqlite_url)
    return create_app(sqlite_url, secret_key="schemathesis")


@pytest.fixture
def session_cookie(web_app) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as c:
        r = c.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
        assert r.status_code == 200
        yield {SESSION_COOKIE: c.cookies[SESSION_COOKIE]}


def test_get_endpoints_conform(web_app, session_cookie: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", web_app).include(method="GET")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            statuses.append(case.call_and_validate(cookies=session_cookie).status_code)

        check()
    # The run really exercised the endpoints as a logged-in user (not just 401s), and bad input too.
    assert statuses.count(200) > len(operations) and 401 not in statuses
    assert all(code < 500 for code in statuses)
