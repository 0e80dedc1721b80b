"""Engines, sessions and migrations of the registry.

``CITYDIP_DATABASE_URL`` chooses the database (see :mod:`citydiplomacy.settings`); SQLite is the
embedded default, PostgreSQL the shared deployment.  The schema is created and upgraded by Alembic
(:func:`upgrade`), never by ``create_all``, so that both back ends follow the same migrations.

An SQLite registry is a file that can be deleted, restored from a backup or replaced while a long-lived
process (the web server) holds pooled connections to it: those keep reading the old copy.  The engine of
a file watches it (:class:`SqliteFileWatch`): a connection opened on a file that has since been replaced
is discarded at checkout and the pool renewed, and a deleted file is reported (:class:`DatabaseFileMissing`)
instead of being recreated empty.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from citydiplomacy import settings
from citydiplomacy.core.errors import Unavailable
from citydiplomacy.store import (
    audit,  # noqa: F401  (registers the audit hook on every Session)
    evidence,  # noqa: F401  (registers the evidence hook on every Session)
    readcache,
)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: How long a SQLite connection waits for another's write lock before failing (seconds).
SQLITE_LOCK_WAIT_S = 5.0


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached, opened or written (locked, gone, wrong URL)."""


class DatabaseFileMissing(DatabaseUnavailable):
    """The SQLite file of the registry was deleted or moved away while in use (the web answers 503)."""

    def __init__(self, path: str):
        super().__init__(
            f"the registry's database file {path} is missing (deleted or moved away while in use); nothing was "
            "read or written: restore the file and the next request uses it, no restart needed"
        )
        self.path = path


#: Key of a pooled connection's ``info``: the (st_dev, st_ino) of the file it was opened on.
_FILE_ID = "citydip_sqlite_file_id"
#: Key of a pooled connection's ``info``: the file's (st_dev, st_ino) and its count of changes made by
#: others (:attr:`SqliteFileWatch.foreign_changes`) at its checkout.
FILE_STAMP = readcache.SQLITE_FILE_STAMP


class SqliteFileWatch:
    """Keeps the pooled connections of an SQLite engine on the file its path names now.

    * each new connection records the identity of the file it opened, ``(st_dev, st_ino)``;
    * at each checkout the path is stat'ed once (3 µs, see ``bench/bench_sqlite_watch.py``): another
      identity means the file was replaced (restored from a backup, another database moved over it), so
      the pool is invalidated (:class:`~sqlalchemy.exc.InvalidatePoolError`: every connection opened
      before is discarded) and the connection reopened on the new file; no file raises
      :class:`DatabaseFileMissing`;
    * once the file has been seen, a connection is opened only on an existing file (SQLite's ``mode=rw``),
      so a read never recreates a deleted registry as an empty database.

    The identity of an open file cannot be taken by another: a pooled connection keeps its file's inode
    alive, so a restored copy always has another.  A file rewritten in place (same inode) needs nothing:
    SQLite sees the change itself at the next transaction.

    For the read cache's key (:mod:`citydiplomacy.store.readcache`) the same ``os.stat`` tells whether the
    file was written by someone else: a last-write time and size that differ from the last ones seen and
    from those this process's own writes left (recorded when a connection that wrote is checked in) count
    one more :attr:`foreign_changes`.  The server's own session and login rows do not count, so they no
    longer empty the cache.  A change is counted too often at worst (a read between another thread's commit
    and its checkin), except for a write by another program in the very instant between one of this
    process's commits and its checkin, which is taken for this process's own.

    Parameters
    ----------
    path
        The database file, as the dialect opens it.
    """

    def __init__(self, path: str):
        self.path = path
        self.seen = False
        #: Changes of the file that this process did not make, as far as the checkouts saw them.
        self.foreign_changes = 0
        self._last_stamp: tuple[int, int] | None = None  # (st_mtime_ns, st_size) last seen
        self._own_stamp: tuple[int, int] | None = None  # ... as this process's last write left them

    def identity(self) -> tuple[int, int] | None:
        """``(st_dev, st_ino)`` of the file at the path now (None: there is none).

        Raises
        ------
        DatabaseUnavailable
            The path cannot be looked at (permissions).
        """
        st = self._stat()
        return None if st is None else (st.st_dev, st.st_ino)

    def _stat(self) -> os.stat_result | None:
        try:
            return os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise DatabaseUnavailable(f"the registry's database file {self.path} cannot be checked: {exc}") from exc

    def install(self, engine: Engine) -> None:
        event.listen(engine, "do_connect", self.on_do_connect)
        event.listen(engine, "connect", self.on_connect)
        event.listen(engine, "checkout", self.on_checkout)
        event.listen(engine, "checkin", self.on_checkin)

    def allow_create(self) -> None:
        """Let the next connection create the file (an explicit :func:`upgrade` of a missing registry)."""
        if self.identity() is None:
            self.seen = False

    def on_do_connect(self, _dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        if not self.seen:
            return
        if self.identity() is None:
            raise DatabaseFileMissing(self.path)
        if not cparams.get("uri"):  # deleted between the check and the open: SQLite refuses, never creates
            cargs[0] = f"file:{quote(self.path)}?mode=rw"
            cparams["uri"] = True

    def on_connect(self, _dbapi_conn: Any, record: Any) -> None:
        record.info[_FILE_ID] = self.identity()
        self.seen = True

    def on_checkout(self, _dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        st = self._stat()  # the one os.stat of a checkout
        if st is None:
            raise DatabaseFileMissing(self.path)
        if record.info.get(_FILE_ID) != (st.st_dev, st.st_ino):
            raise InvalidatePoolError(f"{self.path} was replaced since the pooled connections were opened")
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._last_stamp:
            if self._last_stamp is not None and stamp != self._own_stamp:
                self.foreign_changes += 1  # written by another program or worker: another read-cache key
            self._last_stamp = stamp
        record.info[FILE_STAMP] = (st.st_dev, st.st_ino, self.foreign_changes)

    def on_checkin(self, _dbapi_conn: Any, record: Any) -> None:
        if record.info.pop(readcache.WROTE_ANYTHING, None):
            st = self._stat()
            if st is not None:  # the file as this process's write left it is not another program's change
                self._own_stamp = self._last_stamp = (st.st_mtime_ns, st.st_size)

    def absent(self) -> bool:
        """True when the file does not exist and never did for this engine (a registry not created yet)."""
        return not self.seen and self.identity() is None


_WATCHES: weakref.WeakKeyDictionary[Engine, SqliteFileWatch] = weakref.WeakKeyDictionary()


def sqlite_file_watch(engine: Engine) -> SqliteFileWatch | None:
    """The watch of an SQLite file engine made by :func:`get_engine` (None: in memory, another database)."""
    return _WATCHES.get(engine)


def _sqlite_path(engine: Engine) -> str | None:
    """The file an SQLite engine opens (None: an in-memory database)."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    target = str(cargs[0]) if cargs else ""
    if cparams.get("uri"):
        from urllib.parse import parse_qs, unquote, urlsplit

        parts = urlsplit(target)
        if "memory" in parse_qs(parts.query).get("mode", []):
            return None
        target = unquote(parts.path)
    return None if target in ("", ":memory:") else target


def _normalise_url(url: str) -> str:
    # Users write postgresql://...; we ship psycopg 3, whose SQLAlchemy dialect is postgresql+psycopg.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@cache
def get_engine(url: str | None = None) -> Engine:
    """Return a (cached) engine for ``url`` or the configured database.

    SQLite connections enforce foreign keys and wait up to :data:`SQLITE_LOCK_WAIT_S` for a lock before
    failing; the engine of an SQLite file follows the file if it is replaced or deleted
    (:class:`SqliteFileWatch`).  A database has one engine (one pool, one watch) however it is named:
    ``get_engine()`` is ``get_engine(its URL)``.
    """
    resolved = _normalise_url(url or settings.database_url())
    if resolved != url:
        return get_engine(resolved)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_LOCK_WAIT_S})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        path = _sqlite_path(engine)
        if path is not None:
            engine.dispose()  # made again with a pool sized for the web's threads (in memory: one connection)
            engine = create_engine(url, connect_args={"timeout": SQLITE_LOCK_WAIT_S}, **_pool_size())
            event.listen(engine, "connect", _sqlite_pragmas)
            watch = SqliteFileWatch(path)
            watch.install(engine)
            _WATCHES[engine] = watch
    else:
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5}, **_pool_size())
    readcache.install(engine)  # every write transaction moves the counter the read cache keys on
    return engine


def _pool_size() -> dict[str, int]:
    return {"pool_size": settings.DB_POOL_SIZE, "max_overflow": settings.DB_MAX_OVERFLOW}


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
    watch = sqlite_file_watch(engine)
    if watch is not None:
        watch.allow_create()  # creating the registry is what an upgrade of a missing file is asked to do
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise DatabaseUnavailable(describe_db_error(engine, exc)) from exc


def current_revision(engine: Engine | None = None) -> str | None:
    """The Alembic revision the database is at, or None for an empty database (or an SQLite file not created)."""
    from alembic.runtime.migration import MigrationContext

    engine = engine or get_engine()
    watch = sqlite_file_watch(engine)
    if watch is not None and watch.absent():
        return None
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_initialised(engine: Engine | None = None) -> bool:
    """True when the registry's tables exist in the database.

    An SQLite file that does not exist (and never did for this engine) has none: False, and no empty file is
    created by asking.

    Raises
    ------
    DatabaseUnavailable
        The database cannot be opened (:class:`DatabaseFileMissing`: its file was deleted while in use).
    """
    engine = engine or get_engine()
    watch = sqlite_file_watch(engine)
    if watch is not None and watch.absent():
        return False
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
