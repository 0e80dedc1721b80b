"""The read cache and the registry's write counter (citydiplomacy.store.readcache), on SQLite and PostgreSQL.

A cached read is served again only while no transaction has changed the registry since: every committed
write moves the counter, a rolled-back one, a session's bookkeeping and an import's staging tables do not.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from citydiplomacy import settings
from citydiplomacy.core.errors import CityDipError
from citydiplomacy.ingest import common
from citydiplomacy.store import db, readcache, staging
from citydiplomacy.store.schema import Place

CALLS: list[int] = []


@readcache.cached
def place_names(session) -> list[str]:  # type: ignore[no-untyped-def]
    CALLS.append(1)
    return sorted(session.scalars(select(Place.name)))


@pytest.fixture(autouse=True)
def cache_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "WEB_CACHE", True)
    readcache.READS.clear()
    CALLS.clear()


def counter(url: str) -> str | None:
    with db.get_engine(url).connect() as conn:
        return conn.execute(
            text("SELECT value FROM app_setting WHERE name = :n"), {"n": readcache.VERSION_SETTING}
        ).scalar()


def add_place(url: str, name: str) -> None:
    with db.session_scope(db.get_engine(url)) as s:
        s.add(Place(name=name, gazetteer="source", gazetteer_id=f"test:{name}", status="unresolved"))


def names(url: str) -> list[str]:
    with db.session_factory(db.get_engine(url))() as s:
        return place_names(s)


@pytest.mark.parametrize(
    ("statement", "writes", "table"),
    [
        ("SELECT 1", False, None),
        ("  select count(*) from place", False, None),
        ("PRAGMA cache_size=-2000", False, None),
        ("INSERT INTO place (name) VALUES (?)", True, "place"),
        ('DELETE FROM "audit_entry" WHERE id = 1', True, "audit_entry"),
        ("UPDATE web_session SET last_seen_at = ?", True, "web_session"),
        ("INSERT OR IGNORE INTO relation_evidence (x) VALUES (1)", True, "relation_evidence"),
        ("CREATE TEMPORARY TABLE stage_place (x INTEGER)", True, "stage_place"),
        ("DROP TABLE IF EXISTS stage_place", True, "stage_place"),
        ("WITH a AS (SELECT 1) SELECT * FROM a", False, None),
        ("WITH a AS (SELECT 1) INSERT INTO place SELECT * FROM a", True, None),
        ("VACUUM", False, None),
        ("SOMETHING NEW", True, None),  # unknown: taken for a write (a needless recomputation at worst)
    ],
)
def test_statements_that_change_the_registry_are_told_apart(statement: str, writes: bool, table: str | None) -> None:
    assert readcache.statement_writes(statement) == (writes, table)


def test_a_cached_read_is_served_until_a_write_commits(db_url: str) -> None:
    add_place(db_url, "Isfahan")
    assert names(db_url) == ["Isfahan"] and names(db_url) == ["Isfahan"]
    assert len(CALLS) == 1, "the second read came from the cache"
    before = counter(db_url)
    add_place(db_url, "Shiraz")
    assert counter(db_url) != before
    assert names(db_url) == ["Isfahan", "Shiraz"]
    assert len(CALLS) == 2


def test_a_rolled_back_write_and_session_bookkeeping_keep_the_cache(db_url: str) -> None:
    add_place(db_url, "Tabriz")
    names(db_url)
    before = counter(db_url)
    with pytest.raises(RuntimeError), db.session_scope(db.get_engine(db_url)) as s:
        s.add(Place(name="Never", gazetteer="source", gazetteer_id="test:never", status="unresolved"))
        s.flush()
        raise RuntimeError("changed my mind")
    with db.get_engine(db_url).begin() as conn:  # per-request bookkeeping changes no page
        conn.execute(text("DELETE FROM web_session WHERE id < 0"))
        conn.execute(text("DELETE FROM login_throttle WHERE 1 = 0"))
    assert counter(db_url) == before
    assert names(db_url) == ["Tabriz"]
    assert len(CALLS) == 1


def test_a_failed_staged_import_moves_nothing_and_a_good_one_is_seen(db_url: str) -> None:
    """An import staged in temporary tables and failing in its apply step writes nothing (the counter, the
    places and the cached answer stay); the same import succeeding is seen by the next read."""
    add_place(db_url, "Mashhad")
    names(db_url)
    before = counter(db_url)
    engine = db.get_engine(db_url)

    def stage(conn):  # type: ignore[no-untyped-def]
        table = staging.stage_table(conn, "stage_test_place", Place.__table__, ("name", "gazetteer", "gazetteer_id",
                                                                                "status"))  # fmt: skip
        staging.fill(conn, table, [{"name": "Qom", "gazetteer": "source", "gazetteer_id": "test:qom",
                                    "status": "unresolved"}])  # fmt: skip
        return table

    def apply(conn, table, fail: bool) -> None:  # type: ignore[no-untyped-def]
        conn.execute(Place.__table__.insert().from_select(["name", "gazetteer", "gazetteer_id", "status"],
                                                          select(table)))  # fmt: skip
        if fail:
            raise CityDipError("the apply step failed")

    with pytest.raises(CityDipError):
        common.run_staged(engine, stage, lambda conn, t: apply(conn, t, True))
    assert counter(db_url) == before
    assert names(db_url) == ["Mashhad"] and len(CALLS) == 1
    common.run_staged(engine, stage, lambda conn, t: apply(conn, t, False))
    assert counter(db_url) != before
    assert names(db_url) == ["Mashhad", "Qom"]


def test_a_restored_sqlite_file_is_another_version(sqlite_url: str, tmp_path: Path) -> None:
    """A backup restored under the registry's path may hold the very counter value the replaced file had:
    the file's identity keeps the answer cached for the replaced file from being served for the backup."""
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    add_place(sqlite_url, "Yazd")
    backup = tmp_path / "backup.db"
    shutil.copy(path, backup)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        s.scalars(select(Place)).one().name = "Yazd (edited)"
    assert names(sqlite_url) == ["Yazd (edited)"]
    with sqlite3.connect(backup) as raw:  # the worst case: the backup's counter equals the file's now
        raw.execute("UPDATE app_setting SET value = ? WHERE name = ?", (counter(sqlite_url), readcache.VERSION_SETTING))
    raw.close()
    backup.replace(path)
    assert names(sqlite_url) == ["Yazd"]


def test_the_cache_can_be_turned_off(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "WEB_CACHE", False)
    add_place(db_url, "Rasht")
    names(db_url)
    names(db_url)
    assert len(CALLS) == 2


def test_the_cache_is_bounded_in_bytes() -> None:
    cache = readcache.VersionedCache(max_bytes=10_000)

    class Bind:  # no database: every entry under one version
        pass

    original = readcache.current
    readcache.current = lambda _bind: ("v", 1)  # type: ignore[assignment]
    try:
        for i in range(50):
            cache.get(Bind(), i, lambda i=i: "x" * 1000 + str(i))  # type: ignore[arg-type]
        assert cache._bytes <= 10_000
        assert cache.get(Bind(), 49, lambda: "recomputed") != "recomputed"  # type: ignore[arg-type]
        assert cache.get(Bind(), 0, lambda: "recomputed") == "recomputed"  # type: ignore[arg-type]
    finally:
        readcache.current = original  # type: ignore[assignment]


def test_a_transaction_that_wrote_reads_its_own_changes_and_caches_nothing(db_url: str) -> None:
    add_place(db_url, "Ahvaz")
    assert names(db_url) == ["Ahvaz"]
    with db.session_factory(db.get_engine(db_url))() as s:
        s.add(Place(name="Uncommitted", gazetteer="source", gazetteer_id="test:uncommitted", status="unresolved"))
        assert place_names(s) == ["Ahvaz", "Uncommitted"]  # its own change, not the cached answer
        s.rollback()
    assert names(db_url) == ["Ahvaz"]  # the rolled-back change was never cached


def test_a_file_written_by_another_program_is_another_version(sqlite_url: str) -> None:
    """The sqlite3 shell, a script: writes the counter cannot see change the file's stamp."""
    add_place(sqlite_url, "Kerman")
    assert names(sqlite_url) == ["Kerman"]
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as raw:
        raw.execute("UPDATE place SET name = 'Kerman (edited elsewhere)'")
    raw.close()
    assert names(sqlite_url) == ["Kerman (edited elsewhere)"]


def test_the_servers_own_bookkeeping_rows_keep_the_cache_of_an_sqlite_file(sqlite_url: str) -> None:
    """A login's throttle row or a session's last-seen time rewrites the file; it is no other program's write,
    so the cached reads stay (before, every such write emptied the cache of every page)."""
    add_place(sqlite_url, "Yazd")
    assert names(sqlite_url) == ["Yazd"]
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    written = path.stat().st_mtime_ns
    for attempt in range(3):
        with db.get_engine(sqlite_url).begin() as conn:
            conn.execute(
                text("INSERT INTO login_throttle (key, failures) VALUES (:k, 1)"), {"k": f"bookkeeping-{attempt}"}
            )
        assert names(sqlite_url) == ["Yazd"]
    assert path.stat().st_mtime_ns != written  # the file was written ...
    assert len(CALLS) == 1  # ... and the read was computed once
    with sqlite3.connect(path) as raw:  # another program's write is still seen
        raw.execute("INSERT INTO login_throttle (key, failures) VALUES ('elsewhere', 1)")
        raw.execute("UPDATE place SET name = 'Yazd (edited elsewhere)'")
    raw.close()
    assert names(sqlite_url) == ["Yazd (edited elsewhere)"]


def test_readers_arriving_together_compute_a_missing_entry_once(db_url: str) -> None:
    """Single flight: twenty threads missing the same key wait for the one computing it; a failed computation
    is not kept, and the next reader computes it again."""
    import threading
    import time

    add_place(db_url, "Qom")
    engine = db.get_engine(db_url)
    computed: list[int] = []
    start = threading.Barrier(20)

    def slow() -> list[str]:
        computed.append(1)
        time.sleep(0.3)
        return ["Qom"]

    def reader(out: list) -> None:  # type: ignore[type-arg]
        with db.session_factory(engine)() as s:
            start.wait()
            out.append(readcache.READS.get(s, ("single-flight",), slow))

    results: list = []  # type: ignore[type-arg]
    threads = [threading.Thread(target=reader, args=(results,)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [["Qom"]] * 20
    assert len(computed) == 1 and readcache.READS.waits >= 1

    def fails() -> list[str]:
        raise RuntimeError("the database went away")

    with db.session_factory(engine)() as s, pytest.raises(RuntimeError):
        readcache.READS.get(s, ("failing",), fails)
    with db.session_factory(engine)() as s:
        assert readcache.READS.get(s, ("failing",), lambda: ["again"]) == ["again"]
