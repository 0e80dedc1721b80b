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

    SQLite connections enforce foreign keys and wait up to 5 s for a lock before failing.
    """
    url = _normalise_url(url or settings.database_url())
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 5})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    return engine


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (default: :func:`get_engine`)."""
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def write_transaction(conn: Connection) -> Iterator[Connection]:
    """A transaction on ``conn`` that will write: on SQLite it takes the write lock when it begins.

    A deferred SQLite transaction that reads and then writes while another connection writes cannot wait
    for the lock (the two could deadlock), so SQLite refuses it at once with "database is locked".  Taking
    the lock up front (``BEGIN IMMEDIATE``) waits for the other writer instead, up to the busy timeout.
    """
    with conn.begin():
        _begin_immediate(conn)
        yield conn


def _begin_immediate(conn: Connection) -> None:
    # The SQLite driver begins a transaction itself, lazily, before its first write; beginning it here
    # first (the driver then sees one open and adds none) takes the lock before any read.
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")


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
