"""The city profile, the API's hot path: a bounded number of statements and one pooled connection per request.

Twenty readers on a profile while an editor writes must stay under 150 ms at p95 (``bench/bench_web.py``);
what that rests on is asserted here so that a later change cannot quietly add a round trip per run or
per request.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from test_web_support import Seeded, login, seed

from citydiplomacy import settings
from citydiplomacy.store import db
from citydiplomacy.store.schema import AnalysisRun, CityResult
from citydiplomacy.web.app import create_app

#: place, its latest results (every run kind at once), those runs, relations, memberships, activities, names,
#: and the one count of changes since the runs' data version: the profile as computed (the read cache off).
PROFILE_STATEMENTS = 8


@pytest.fixture(autouse=True)
def uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    """The statements of the profile as computed: the read cache (store.readcache) off, unless a test turns
    it on."""
    monkeypatch.setattr(settings, "WEB_CACHE", False)


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        login(c, "viewer")
        yield c


class Counter:
    """Statements run and connections checked out of the pool, on one engine."""

    def __init__(self, url: str) -> None:
        self.engine = db.get_engine(url)
        self.statements: list[str] = []
        self.checkouts = 0

    def __enter__(self) -> Counter:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "checkout", self._checkout)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "checkout", self._checkout)

    def _statement(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)

    def _checkout(self, *_args) -> None:  # type: ignore[no-untyped-def]
        self.checkouts += 1


def profile(client: TestClient, place_id: int) -> dict:  # type: ignore[type-arg]
    r = client.get(f"/api/places/{place_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_profile_reads_a_bounded_number_of_statements_on_one_connection(
    client: TestClient, seeded: Seeded, db_url: str
) -> None:
    profile(client, seeded.tehran)  # warm: the session's last-seen time is written once, not per request
    with Counter(db_url) as counted:
        body = profile(client, seeded.tehran)
    assert body["assessment"] and body["network"], "the seed has both kinds of run for Tehran"
    # The session lookup is the request's first statement, on the request's own connection.
    assert counted.checkouts == 1
    session_lookups = [s for s in counted.statements if "web_session" in s]
    assert len(session_lookups) == 1
    assert len(counted.statements) - len(session_lookups) <= PROFILE_STATEMENTS, counted.statements


def test_more_runs_add_no_statement_and_the_newest_run_wins(client: TestClient, seeded: Seeded, db_url: str) -> None:
    profile(client, seeded.tehran)
    with Counter(db_url) as before:
        profile(client, seeded.tehran)
    with db.session_scope(db.get_engine(db_url)) as s:
        for kind, code in (("assessment", "CDI"), ("network", "degree"), ("index", "CDI")):
            run = AnalysisRun(kind=kind, parameters={}, model_version="test")
            s.add(run)
            s.flush()
            s.add(CityResult(run_id=run.id, place_id=seeded.tehran, code=code, value=123.5))
    with Counter(db_url) as after:
        body = profile(client, seeded.tehran)
    assert len(after.statements) == len(before.statements)
    assert body["results"]["assessment"]["CDI"] == 123.5
    # The newest network run replaces the older one whole: its betweenness is not mixed in.
    assert body["results"]["network"]["degree"] == 123.5 and "betweenness" not in body["results"]["network"]
    assert body["results"]["index"]["CDI"] == 123.5
    assert body["network"]["results"] == [{"code": "degree", "value": 123.5, "low": None, "high": None, "detail": None}]


def test_a_cached_profile_reads_two_statements_until_the_registry_changes(
    client: TestClient, seeded: Seeded, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the read cache on, a profile already read costs the session lookup and the write counter; any
    committed write (here a run added behind the web's back, through the library) is seen at once."""
    monkeypatch.setattr(settings, "WEB_CACHE", True)
    first = profile(client, seeded.tehran)
    with Counter(db_url) as counted:
        again = profile(client, seeded.tehran)
    assert again == first
    assert len(counted.statements) == 2, counted.statements
    assert "app_setting" in counted.statements[1]
    with db.session_scope(db.get_engine(db_url)) as s:
        run = AnalysisRun(kind="assessment", parameters={}, model_version="test")
        s.add(run)
        s.flush()
        s.add(CityResult(run_id=run.id, place_id=seeded.tehran, code="CDI", value=77.25))
    with Counter(db_url) as counted:
        changed = profile(client, seeded.tehran)
    assert changed["results"]["assessment"]["CDI"] == 77.25
    assert len(counted.statements) > 2
