"""The "Trust" issue: an SQLite registry deleted, restored or replaced under a running process.

Pooled connections kept reading the deleted copy (stale reads, 503s until a restart).  The engine now
checks the file at every checkout: a replaced file renews the pool, a missing one is a clear error naming
it (503 on the web), never an empty database created by a read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from test_web_support import Seeded, login, seed
from typer.testing import CliRunner

from citydiplomacy.cli import app as cli_app
from citydiplomacy.present.i18n import translate
from citydiplomacy.store import db
from citydiplomacy.store.schema import Place
from citydiplomacy.web.app import create_app

runner = CliRunner()


def _file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _copy(src: Path, dst: Path) -> Path:
    """A consistent copy of an SQLite file (the backup API, as a backup tool would take it)."""
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)
    source.close()
    target.close()
    return dst


def _set_name(path: Path, place_id: int, name: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute("update place set name = ? where id = ?", (name, place_id))
    con.close()


def _name(engine: Engine, place_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(text("select name from place where id = :id"), {"id": place_id}).scalar_one()


@pytest.fixture
def seeded(sqlite_url: str) -> Seeded:
    return seed(sqlite_url)


def _hold_connections(engine: Engine, n: int) -> list[sqlite3.Connection]:
    """Open ``n`` connections at once and give them back: the pool then holds ``n`` idle ones (returned)."""
    conns = [engine.connect() for _ in range(n)]
    raw = []
    for conn in conns:
        conn.execute(text("select 1"))
        raw.append(conn.connection.dbapi_connection)
    for conn in conns:
        conn.close()
    return raw  # type: ignore[return-value]


def _closed(con: sqlite3.Connection) -> bool:
    try:
        con.execute("select 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def test_a_replaced_file_is_read_at_the_next_checkout(sqlite_url: str, seeded: Seeded, tmp_path: Path) -> None:
    engine = db.get_engine(sqlite_url)
    path = _file(sqlite_url)
    tehran = seeded.tehran
    old_connections = _hold_connections(engine, 3)
    assert _name(engine, tehran) == "Tehran" and engine.pool.checkedin() == 3

    other = _copy(path, tmp_path / "other.db")
    _set_name(other, tehran, "Tehran (the other registry)")
    old_id = os.stat(path).st_ino
    os.replace(other, path)  # another registry moved over the file
    assert os.stat(path).st_ino != old_id
    assert _name(engine, tehran) == "Tehran (the other registry)"
    # The whole pool was renewed: every idle connection opened on the old file is discarded, not just one.
    for _ in range(5):
        assert _name(engine, tehran) == "Tehran (the other registry)"
    assert all(_closed(con) for con in old_connections)
    with db.session_scope(engine) as session:  # the ORM, through the same pool
        assert session.get(Place, tehran).name == "Tehran (the other registry)"
        session.execute(update(Place).where(Place.id == tehran).values(name="Tehran (written)"))
    con = sqlite3.connect(path)  # written to the new file, not the deleted copy
    assert con.execute("select name from place where id = ?", (tehran,)).fetchone()[0] == "Tehran (written)"
    con.close()


def test_a_deleted_file_is_an_error_then_its_restore_is_read(sqlite_url: str, seeded: Seeded, tmp_path: Path) -> None:
    engine = db.get_engine(sqlite_url)
    path = _file(sqlite_url)
    backup = _copy(path, tmp_path / "backup.db")
    _set_name(backup, seeded.tehran, "Tehran (restored)")
    _hold_connections(engine, 2)
    assert _name(engine, seeded.tehran) == "Tehran"

    path.unlink()
    for _ in range(3):  # every pooled connection refuses, none reads the deleted copy
        with pytest.raises(db.DatabaseFileMissing) as caught:
            _name(engine, seeded.tehran)
        assert isinstance(caught.value, db.DatabaseUnavailable) and caught.value.http_status == 503
        assert str(path) in str(caught.value) and "missing" in str(caught.value)
    with pytest.raises(db.DatabaseUnavailable):
        db.is_initialised(engine)
    assert not path.exists()  # not recreated as an empty database by the reads
    result = runner.invoke(cli_app, ["stats"])  # the same engine, through the CLI (same process)
    assert result.exit_code != 0 and "missing" in result.output and "Traceback" not in result.output
    assert not path.exists()

    shutil.copy(backup, path)  # restored (a copy, a new inode)
    assert _name(engine, seeded.tehran) == "Tehran (restored)"
    assert db.is_initialised(engine)


def test_a_file_deleted_between_check_and_open_is_not_created(sqlite_url: str, seeded: Seeded) -> None:
    """Once seen, the file is opened read-write only: SQLite refuses a missing file instead of creating it."""
    engine = db.get_engine(sqlite_url)
    path = _file(sqlite_url)
    watch = db.sqlite_file_watch(engine)
    assert watch is not None and watch.seen
    cargs, cparams = [str(path)], {"check_same_thread": False}
    watch.on_do_connect(None, None, cargs, cparams)
    assert cparams["uri"] is True and cargs[0].endswith("?mode=rw")
    path.unlink()
    with pytest.raises(sqlite3.OperationalError):
        sqlite3.connect(cargs[0], uri=True)
    assert not path.exists()


def test_an_explicit_upgrade_creates_a_missing_registry(sqlite_url: str) -> None:
    engine = db.get_engine(sqlite_url)
    path = _file(sqlite_url)
    assert db.is_initialised(engine)
    engine.dispose()
    path.unlink()
    with pytest.raises(db.DatabaseFileMissing):
        db.is_initialised(engine)
    db.upgrade(engine)  # asked for: a new, empty registry
    assert path.exists() and db.is_initialised(engine)


def test_a_file_rewritten_in_place_needs_no_renewal(sqlite_url: str, seeded: Seeded, tmp_path: Path) -> None:
    engine = db.get_engine(sqlite_url)
    path = _file(sqlite_url)
    backup = _copy(path, tmp_path / "backup.db")
    _set_name(backup, seeded.tehran, "Tehran (copied over)")
    _hold_connections(engine, 2)
    inode = os.stat(path).st_ino
    with sqlite3.connect(backup) as source, sqlite3.connect(path) as target:  # restore into the same file
        source.backup(target)
    assert os.stat(path).st_ino == inode
    assert _name(engine, seeded.tehran) == "Tehran (copied over)"


def test_concurrent_readers_survive_a_replacement(sqlite_url: str, seeded: Seeded, tmp_path: Path) -> None:
    engine = db.get_engine(sqlite_url)
    path = _file(sqlite_url)
    other = _copy(path, tmp_path / "other.db")
    _set_name(other, seeded.tehran, "Tehran (new)")
    errors: list[BaseException] = []
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.add(_name(engine, seeded.tehran))
            except BaseException as exc:  # noqa: BLE001 - any failure is the test's
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    os.replace(other, path)
    deadline = time.monotonic() + 30
    while "Tehran (new)" not in seen and not errors and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert _name(engine, seeded.tehran) == "Tehran (new)"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_databases_are_not_watched(url: str) -> None:
    engine = db.get_engine(url)
    try:
        assert db.sqlite_file_watch(engine) is None
        assert not engine.pool.dispatch.checkout
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    finally:
        engine.dispose()
        db.get_engine.cache_clear()


def test_postgresql_is_not_watched(db_url: str) -> None:
    engine = db.get_engine(db_url)
    if engine.dialect.name != "postgresql":
        assert db.sqlite_file_watch(engine) is not None
        return
    assert db.sqlite_file_watch(engine) is None and not engine.pool.dispatch.checkout
    assert db.is_initialised(engine)


# ------------------------------------------------------------------------------------------------ the web
@pytest.fixture
def client(sqlite_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_url, secret_key="test-secret")) as c:
        yield c


def test_the_web_reads_a_restored_file_without_a_restart(
    client: TestClient, sqlite_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    path = _file(sqlite_url)
    login(client, "viewer")
    place = f"/api/places/{seeded.tehran}"
    assert client.get(place).json()["place"]["name"] == "Tehran"

    other = _copy(path, tmp_path / "other.db")  # holds the login session too
    _set_name(other, seeded.tehran, "Tehran (other registry)")
    os.replace(other, path)
    r = client.get(place)
    assert r.status_code == 200 and r.json()["place"]["name"] == "Tehran (other registry)"

    saved = path.rename(tmp_path / "saved.db")  # deleted (moved away), not yet restored
    for url in (place, "/api/stats", f"/cities/{seeded.tehran}"):
        r = client.get(url)
        assert r.status_code == 503, (url, r.status_code, r.text[:300])
    assert client.get(place).json() == {"detail": "the database is unavailable; nothing was written"}
    page = client.get(f"/cities/{seeded.tehran}?lang=fa")  # the dashboard says it in the page's language
    assert page.status_code == 503 and translate("db_unavailable", "fa") in page.text
    assert client.get("/api/health").json() == {"status": "ok"}
    assert not path.exists()

    _set_name(saved, seeded.tehran, "Tehran (restored)")
    saved.rename(path)
    r = client.get(place)
    assert r.status_code == 200 and r.json()["place"]["name"] == "Tehran (restored)"
    assert client.get(f"/cities/{seeded.tehran}").status_code == 200


def test_one_engine_per_database_however_named(sqlite_url: str) -> None:
    assert db.get_engine() is db.get_engine(sqlite_url)  # CITYDIP_DATABASE_URL is sqlite_url
    assert db.sqlite_file_watch(db.get_engine()) is db.sqlite_file_watch(db.get_engine(sqlite_url))


def test_asking_about_a_new_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    engine = db.get_engine(f"sqlite:///{path}")
    try:
        assert not db.is_initialised(engine) and not path.exists()
        assert db.current_revision(engine) is None and not path.exists()
        db.upgrade(engine)
        assert path.exists() and db.is_initialised(engine)
    finally:
        engine.dispose()
        db.get_engine.cache_clear()
