"""Engines, sessions and migrations of the registry.

``CITYDIP_DATABASE_URL`` chooses the database (see :mod:`citydiplomacy.settings`); SQLite is the
embedded default, PostgreSQL the shared deployment.  The schema is created and upgraded by Alembic
(:func:`upgrade`), never by ``create_all``, so that both back ends follow the same migrations.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from citydiplomacy import settings
from citydiplomacy.core.errors import Unavailable
from citydiplomacy.store import audit  # noqa: F401  (registers the audit hook on every Session)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: How long a SQLite connection waits for another's write lock before failing (seconds).
SQLITE_LOCK_WAIT_S = 5.0


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached, opened or written (locked, gone, wrong URL)."""


def _normalise_url(url: str) -> str:
    # Users write postgresql://...; we ship psycopg 3, whose SQLAlchemy dialect is postgresql+psycopg.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@cache
def get_engine(url: str | None = None) -> Engine:
    """Return a (cached) engine for ``url`` or the configured database.

    SQLite connections enforce foreign keys and wait up to :data:`SQLITE_LOCK_WAIT_S` for a lock before failing.
    """
    url = _normalise_url(url or settings.database_url())
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_LOCK_WAIT_S})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    return engine


@contextmanager
def lock_wait(conn: Connection, seconds: float) -> Iterator[Connection]:
    """Within the block, a SQLite connection waits at most ``seconds`` for a lock (other databases: as is).

    For writes that may be skipped (a job's progress while its own transaction holds SQLite's write lock):
    they fail fast instead of stalling the writer for :data:`SQLITE_LOCK_WAIT_S`.
    """
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield conn
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(SQLITE_LOCK_WAIT_S * 1000)}")


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (default: :func:`get_engine`)."""
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A transactional scope: commit on success, roll back on any exception."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    """The Alembic configuration of the package's migrations, bound to ``engine``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` with Alembic.

    Raises
    ------
    DatabaseUnavailable
        When the database cannot be opened or is locked.
    """
    from alembic import command

    engine = engine or get_engine()
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise DatabaseUnavailable(describe_db_error(engine, exc)) from exc


def current_revision(engine: Engine | None = None) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    engine = engine or get_engine()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_initialised(engine: Engine | None = None) -> bool:
    """True when the registry's tables exist in the database."""
    engine = engine or get_engine()
    try:
        return inspect(engine).has_table("place")
    except OperationalError as exc:
        raise DatabaseUnavailable(describe_db_error(engine, exc)) from exc


def describe_db_error(engine: Engine, exc: Exception) -> str:
    """A one-line, human explanation of a database error, naming the database (password hidden)."""
    where = engine.url.render_as_string(hide_password=True)
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    if "locked" in text:
        return f"database {where} is locked by another process ({text}); nothing was written"
    return f"database {where} is unavailable: {text}"
