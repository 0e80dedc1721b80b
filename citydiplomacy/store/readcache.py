"""A cache of read results, valid until the registry next changes: the registry's write counter.

Pages such as the rankings, the network table and the city profile read hundreds of thousands of rows to
show fifty; their answer changes only when the registry does.  So every transaction that writes the
registry also increases one counter (the ``app_setting`` row ``write_counter``), and a read result is
cached under the counter's value it was read at: the next request that reads the same value gets the
cached answer, one that reads another recomputes it.  Several workers share nothing but the database, and
each sees the counter move.

Why not :func:`citydiplomacy.store.runs.data_version` (the latest audit entry's id), which says how many
changes a run has missed: analysis runs and a few bulk writes are not audited, and on PostgreSQL ids are
handed out in the order transactions *ask* for them, not the order they commit, so a reader can see id 101
committed while 100 is still to come, and would cache a state that later changes under the same key.

How writes are seen: every statement of an engine made by :func:`citydiplomacy.store.db.get_engine` passes
:func:`note_statement`, which marks the connection's transaction as a writer when the statement changed
rows of a table of the registry (sessions, the login throttle, jobs' progress and import staging tables do not
count: they change no page); when that transaction commits, the counter is increased *inside* it, just
before the commit (:func:`bump`).  Nothing else needs to remember to invalidate anything.

Why the counter is right on PostgreSQL too: the increment takes the row's lock until its transaction
commits (for microseconds: it is the last statement), so increments are ordered as the commits are, and a
reader that reads the counter *before* it reads the data can only ever cache data at least as new as its
counter (never older).  A registry re-created from scratch starts its counter at a random value, so that an
old entry is never taken for the new data's.  On SQLite the key also holds the file's identity and a count
of the changes to the file that this process did not make (from the one ``os.stat`` the file watch makes at
each checkout anyway): a file restored from a backup, or written by another program (the ``sqlite3`` shell,
another worker), is another key, while the server's own unversioned writes (a login, a session's last-seen
time) leave the cache as it is; before, each of them emptied it.  On PostgreSQL, writes made
by other programs (``psql``) are not seen: restart the web server after them, or set
``CITYDIP_WEB_CACHE=0``.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import pickle
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from citydiplomacy import settings

#: ``app_setting`` row holding the write counter.
VERSION_SETTING = "write_counter"
#: Tables whose changes are not data a page shows (per-request bookkeeping, staging of an import).
UNVERSIONED_TABLES = frozenset({"web_session", "login_throttle", "app_setting", "job", "job_lock"})
_STAGING_PREFIX = "stage_"
#: Key of a pooled SQLite connection's ``info`` (set by ``store.db``'s file watch at each checkout).
SQLITE_FILE_STAMP = "citydip_sqlite_file_stamp"
_WROTE = "citydip_data_written"  # connection info: this transaction changed the registry
#: Connection info: the connection wrote something since its checkout, a session row too (read by the SQLite
#: file watch of ``store.db`` at checkin, so that the server's own writes are not taken for another program's).
WROTE_ANYTHING = "citydip_wrote_anything"
_MIGRATING = "citydip_migrating"  # connection info: this transaction runs a migration (no counter yet)

_READ_VERBS = frozenset(
    {"SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "SET", "SHOW", "EXPLAIN", "VALUES",
     "ANALYZE", "VACUUM", "RESET", "DISCARD", "LISTEN", "NOTIFY", "DEALLOCATE"}
)  # fmt: skip
_TARGET = re.compile(
    r"""^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|
    (?:CREATE|DROP|ALTER)\s+(?:(?:TEMP|TEMPORARY|UNIQUE)\s+)*(?:TABLE|INDEX|VIEW|SEQUENCE|TRIGGER)
    (?:\s+IF\s+(?:NOT\s+)?EXISTS)?|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?["`]?(?:\w+["`]?\.["`]?)?(\w+)""",
    re.IGNORECASE | re.VERBOSE,
)
_WRITE_IN_CTE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def statement_writes(statement: str) -> tuple[bool, str | None]:
    """Whether ``statement`` may change the registry, and the table it names first (None: unknown).

    A statement this cannot read is taken for a write: a needless new version costs a recomputation, a
    missed one a stale page.
    """
    head = statement.lstrip().split(None, 1)
    verb = head[0].upper().lstrip("(") if head else ""
    if verb in _READ_VERBS:
        return False, None
    if verb == "WITH":
        return bool(_WRITE_IN_CTE.search(statement)), None
    found = _TARGET.match(statement)
    return True, (found.group(1).lower() if found else None)


def note_statement(conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
    """``after_cursor_execute`` hook: mark the transaction when the statement changed the registry.

    A statement that changed no row (a re-import's ``INSERT ... SELECT`` finding everything present) leaves
    the counter, and so the registry, exactly as they were.
    """
    if conn.info.get(_WROTE):
        return
    writes, table = statement_writes(statement)
    if not writes:
        return
    conn.info[WROTE_ANYTHING] = True
    if table == "alembic_version":
        conn.info[_MIGRATING] = True
    if table is not None and (table in UNVERSIONED_TABLES or table.startswith(_STAGING_PREFIX)):
        return
    rows = getattr(cursor, "rowcount", -1)
    if rows is None or rows != 0:  # -1: the driver cannot tell (DDL): taken for a change
        conn.info[_WROTE] = True


def _forget(conn: Connection) -> None:
    _forget_info(conn.info)


def bump(conn: Connection) -> None:
    """``commit`` hook: increase the counter inside the committing transaction when it changed the registry.

    A migration's transaction is left alone (the table may not exist yet; servers restart after one).
    """
    wrote, migrating = conn.info.get(_WROTE), conn.info.get(_MIGRATING)
    _forget(conn)
    if not wrote or migrating or conn.invalidated:
        return
    start = random.SystemRandom().randrange(1, 2**40)
    sql = (
        "INSERT INTO app_setting (name, value, created_at) VALUES "
        f"('{VERSION_SETTING}', '{start}', CURRENT_TIMESTAMP) ON CONFLICT (name) DO UPDATE SET "
        "value = CAST(CAST(app_setting.value AS BIGINT) + 1 AS VARCHAR(40))"
    )
    raw = conn.connection.dbapi_connection  # below SQLAlchemy: this runs inside its commit
    cursor = raw.cursor()
    postgres = conn.dialect.name == "postgresql"
    try:
        if postgres:  # a failure must not abort the transaction it belongs to
            cursor.execute("SAVEPOINT citydip_write_counter")
        try:
            cursor.execute(sql)
        except Exception:  # a registry without app_setting (an old revision): no version to keep
            if postgres:
                cursor.execute("ROLLBACK TO SAVEPOINT citydip_write_counter")
            return
        if postgres:
            cursor.execute("RELEASE SAVEPOINT citydip_write_counter")
    finally:
        cursor.close()


def install(engine: Engine) -> None:
    """Watch ``engine``'s transactions (done by :func:`~citydiplomacy.store.db.get_engine` for every engine)."""
    event.listen(engine, "after_cursor_execute", note_statement)
    event.listen(engine, "commit", bump)
    event.listen(engine, "rollback", _forget)
    event.listen(engine, "checkin", lambda _dbapi, record: _forget_info(record.info))


def _forget_info(info: dict[str, Any]) -> None:
    info.pop(_WROTE, None)
    info.pop(_MIGRATING, None)


_COUNTER_QUERY = text("SELECT value FROM app_setting WHERE name = :name")


def current(bind: Session | Connection | Engine) -> Hashable | None:
    """The registry's write counter as ``bind``'s transaction sees it, with the database's identity (None:
    cannot be told, nothing is cached).

    Read it *before* the data it versions.  For an SQLite file it includes the file's identity, so that a
    file replaced by a backup is another version.
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return current(conn)
    conn = bind.connection() if isinstance(bind, Session) else bind
    try:
        value = conn.execute(_COUNTER_QUERY, {"name": VERSION_SETTING}).scalar()
    except Exception:  # noqa: BLE001 - no table: nothing cached
        return None
    # The file's identity and last write as the SQLite file watch of store.db saw them at this checkout:
    # a file replaced, or written by another program (the counter sees only this package's writes).
    file_id = conn.info.get(SQLITE_FILE_STAMP) if conn.dialect.name == "sqlite" else None
    return (_database_name(conn.engine.url), file_id, value or "0")


@functools.lru_cache(maxsize=64)
def _database_name(url: Any) -> str:
    """The database part of a cache key (an engine's URL, without its password; URLs are immutable)."""
    return url.render_as_string(hide_password=True)


T = TypeVar("T")


def _has_written(bind: Session | Connection | Engine) -> bool:
    """True when ``bind``'s open transaction has changed the registry (an engine: a transaction of its own)."""
    if isinstance(bind, Engine):
        return False
    if isinstance(bind, Session):
        if bind.new or bind.dirty or bind.deleted:  # changes waiting to be flushed
            return True
        conn = bind.connection()
    else:
        conn = bind
    return bool(getattr(conn, "info", {}).get(_WROTE))


class VersionedCache:
    """A bounded, thread-safe cache of read results, each valid for one value of the write counter.

    Values are kept pickled: a hit returns a fresh copy the caller may change, and the bound is in bytes
    (``settings.WEB_CACHE_MIB``; least recently used entries go first).

    One computation a key at a time (*single flight*): threads that miss a key another thread is computing
    wait for its result (at most :attr:`wait_s` seconds) instead of computing it too.  Twenty readers
    arriving together on a page not computed yet made twenty computations of it, each slower for sharing
    the cores with the others (a first request of 300 ms became nineteen of several seconds).
    """

    #: How long a thread waits for another's computation of the same key before computing it itself (s).
    wait_s = 30.0

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes if max_bytes is not None else settings.WEB_CACHE_MIB * 2**20
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Event] = {}
        self.hits = self.misses = self.waits = 0

    def _lookup(self, full: Hashable) -> bytes | None:
        with self._lock:
            blob = self._entries.get(full)
            if blob is not None:
                self._entries.move_to_end(full)
                self.hits += 1
            return blob

    def get(self, bind: Session | Connection | Engine, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, or its cached result at the registry's current write counter.

        A transaction that has written (and not committed) reads its own changes: it is neither served
        from the cache nor stored in it.
        """
        if not settings.WEB_CACHE or _has_written(bind):
            return compute()
        version = current(bind)
        if version is None:
            return compute()
        full = (version, key)
        blob = self._lookup(full)
        if blob is not None:
            return pickle.loads(blob)
        with self._lock:
            running = self._computing.get(full)
            if running is None:
                done = self._computing[full] = threading.Event()
        if running is not None:  # another thread is computing it: its result, when it comes
            self.waits += 1
            running.wait(self.wait_s)
            blob = self._lookup(full)
            return pickle.loads(blob) if blob is not None else compute()  # it failed or was not kept
        try:
            value = compute()
            if _has_written(bind):  # it flushed changes of its own meanwhile
                return value
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            with self._lock:
                self.misses += 1
                if len(blob) <= self.max_bytes and full not in self._entries:
                    self._entries[full] = blob
                    self._bytes += len(blob)
                    while self._bytes > self.max_bytes:
                        _, old = self._entries.popitem(last=False)
                        self._bytes -= len(old)
            return value
        finally:
            with self._lock:
                self._computing.pop(full, None)
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = self.waits = 0


#: The cache the read paths share (one per process).
READS = VersionedCache()

F = TypeVar("F", bound=Callable[..., Any])


def cached(function: F) -> F:
    """Cache ``function(bind, *args, **kwargs)`` in :data:`READS` under the write counter ``bind`` sees.

    ``bind`` (a session, connection or engine) is the first argument; the others must be hashable and,
    with the data, decide the result.  The result must pickle.
    """
    name = f"{function.__module__}.{function.__qualname__}"
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(bind: Any, *args: Any, **kwargs: Any) -> Any:
        # One key however the arguments are passed (positionally, by name, left to their defaults); the day
        # too, as a few answers depend on it (an agreement due for renewal within 90 days).
        bound = signature.bind(bind, *args, **kwargs)
        bound.apply_defaults()
        key = (name, datetime.date.today(), tuple(bound.arguments.items())[1:])
        return READS.get(bind, key, lambda: function(bind, *args, **kwargs))

    wrapper.uncached = function  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
