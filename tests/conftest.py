"""Shared fixtures: fresh registries on SQLite and on the real PostgreSQL server, real-data paths."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# A wide login-throttle window (read by the settings at import): on a busy CI machine a request can take
# longer than the production default of 1 s, and the throttle tests must not slip past the wait they check.
os.environ.setdefault("CITYDIP_LOGIN_BASE_DELAY_S", "30")

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.store import db  # noqa: E402

FIXTURES = Path(__file__).with_name("fixtures")
POSTGRES_ADMIN_URL = os.environ.get(
    "CITYDIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3}).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_ok() -> bool:
    return _postgres_available()


def _fresh_postgres_url() -> Iterator[str]:
    name = f"citydip_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        db.get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """URL of an empty, migrated registry, once on SQLite and once on PostgreSQL.

    ``CITYDIP_DATABASE_URL`` is set to it, so library calls and CLI runs without a URL use it.
    """
    if request.param == "sqlite":
        gen: Iterator[str] = iter([f"sqlite:///{tmp_path / 'registry.db'}"])
    else:
        if not _postgres_available():
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} (CI must start it)")
            pytest.skip("PostgreSQL server not reachable")
        gen = _fresh_postgres_url()
    url = next(gen)
    monkeypatch.setenv("CITYDIP_DATABASE_URL", url)
    db.upgrade(db.get_engine(url))
    yield url
    db.get_engine(url).dispose()
    db.get_engine.cache_clear()
    for _ in gen:  # runs the postgres teardown
        pass


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """URL of an empty, migrated SQLite registry (for tests that need only the embedded default)."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("CITYDIP_DATABASE_URL", url)
    db.upgrade(db.get_engine(url))
    yield url
    db.get_engine(url).dispose()
    db.get_engine.cache_clear()


@pytest.fixture(scope="session")
def twin_cities_csv() -> Path:
    """The real twinning data set in ../shared/data; tests that need it skip when it is absent."""
    path = settings.shared_data_path("twin_cities.csv")
    if not path.exists():
        pytest.skip(f"real data set absent: {path}")
    return path
