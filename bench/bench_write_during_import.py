"""Benchmark: how long a web write waits while the full twinning list is being imported.

For each back end (SQLite and PostgreSQL): a fresh registry with the case study loaded, a ``citydip``
web server in its own process, and one editor writing through the API (``POST /api/activities``, one
write after another, ``--write-pause`` s apart).  Then the real ``twin_cities.csv`` (16,725 places,
230,000 names, 24,393 relations) is imported into the same registry, twice, on fresh registries:

* **baseline, one transaction**: the usual way, and this project's before: every row written inside the
  one transaction that also makes the import all-or-nothing, so the write lock is held throughout;
* **staged**: the project's importer: rows staged in temporary tables outside the lock, then applied in
  one short transaction (``ImportReport.write_seconds``).

Printed for each: the editor's write latency before the import (the floor), during it (p50, p95, max),
errors, and how long the import held the write lock.  The target: no write waits more than 1 s.

Run: ``python bench/bench_write_during_import.py [--backends sqlite,postgresql] [--write-pause 0.05]``.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Connection, create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_web import EDITOR, PASSWORD, POSTGRES_ADMIN_URL, Editor, free_port, start_server, stop  # noqa: E402

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.ingest import common, twinning  # noqa: E402
from citydiplomacy.ingest.casestudy import load_case_study  # noqa: E402
from citydiplomacy.store import db, staging  # noqa: E402
from citydiplomacy.store.schema import Place  # noqa: E402
from citydiplomacy.web.auth import create_user  # noqa: E402

TARGET_MAX_WAIT_S = 1.0


def one_transaction(engine, stage: Callable[[Connection], object], apply, progress=common.no_progress) -> float:  # type: ignore[no-untyped-def]
    """The baseline: stage and apply inside the single write transaction (the lock is held throughout)."""
    started = time.perf_counter()
    with engine.connect() as conn:
        try:
            with db.write_transaction(conn):
                apply(conn, stage(conn))
        finally:
            with conn.begin():
                staging.drop_all(conn)
    return time.perf_counter() - started


@contextlib.contextmanager
def registry(backend: str) -> Iterator[str]:
    """A fresh, migrated registry with the case study and the editor; yields its URL."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            yield _prepare(url)
            db.get_engine.cache_clear()
        return
    name = f"citydip_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _prepare(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    finally:
        db.get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _prepare(url: str) -> str:
    engine = db.get_engine(url)
    db.upgrade(engine)
    load_case_study(engine=engine)
    with db.session_scope(engine) as s:
        create_user(s, EDITOR, PASSWORD, "editor")
    return url


def load() -> str:
    """The machine's load average (1, 5, 15 min): other work on the machine moves every figure."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


class LockWaits(threading.Thread):
    """On PostgreSQL, samples which other sessions wait on a lock (``pg_stat_activity``) every 20 ms.

    What a web write waits on while an import runs: a row or table lock it shares with the import, or none
    (then its latency is the machine's load, not the import's transaction).
    """

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.stop = threading.Event()
        self.samples = 0
        self.waits: dict[str, int] = {}

    def run(self) -> None:
        sql = text(
            "SELECT wait_event_type || ':' || wait_event || ' ' || left(query, 40) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        with self.engine.connect() as conn:
            while not self.stop.wait(0.02):
                self.samples += 1
                for (what,) in conn.execute(sql):
                    self.waits[what] = self.waits.get(what, 0) + 1
                conn.rollback()
        self.engine.dispose()

    def report(self) -> str:
        if not self.waits:
            return f"none in {self.samples} samples"
        top = sorted(self.waits.items(), key=lambda kv: -kv[1])[:3]
        return f"{sum(self.waits.values())} of {self.samples} samples: " + "; ".join(f"{w} ({n})" for w, n in top)


def summary(latencies: list[float]) -> str:
    ms = sorted(x * 1e3 for x in latencies)
    if not ms:
        return "no writes"
    p95 = statistics.quantiles(ms, n=100)[94] if len(ms) >= 2 else ms[0]
    return f"{len(ms):>4} writes  p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  max {ms[-1]:7.1f} ms"


def run(backend: str, csv: Path, pause: float, mode: str) -> float:
    with registry(backend) as url:
        engine = db.get_engine(url)
        with db.session_scope(engine) as s:
            place_ids = list(s.scalars(select(Place.id)))
        port = free_port()
        server = start_server(url, port)
        try:
            editor = Editor(f"http://127.0.0.1:{port}", place_ids, pause)
            editor.start()
            time.sleep(3.0)  # the floor: the editor alone
            floor = list(editor.latencies)
            during_from = len(editor.latencies)
            if mode == "one transaction":
                original = twinning.run_staged
                twinning.run_staged = one_transaction  # type: ignore[assignment]
            sampler = LockWaits(url) if backend == "postgresql" else None
            if sampler:
                sampler.start()
            load_before = load()
            try:
                started = time.perf_counter()
                report = twinning.import_twinning(csv, engine=engine, on_error="skip")
                seconds = time.perf_counter() - started
            finally:
                if mode == "one transaction":
                    twinning.run_staged = original
                if sampler:
                    sampler.stop.set()
                    sampler.join()
            during = editor.latencies[during_from:]
            editor.stop.set()
            editor.join()
        finally:
            stop(server)
        held = report.write_seconds if mode == "staged" else seconds
        worst = max(during, default=0.0)
        print(f"  [{mode}] import {seconds:5.1f} s, {report.records_created['place']} places and "
              f"{report.records_created['relation']} relations created; write lock held {held:5.2f} s")  # fmt: skip
        print(f"    machine load (1/5/15 min) before {load_before}, after {load()}")
        if sampler:
            print(f"    sessions waiting on a lock during the import: {sampler.report()}")
        print(f"    editor alone:        {summary(floor)}")
        print(f"    editor during import: {summary(during)}  errors {len(editor.errors)}"
              + (f" (first: {editor.errors[0]})" if editor.errors else ""))  # fmt: skip
        verdict = "met" if worst <= TARGET_MAX_WAIT_S and not editor.errors else "NOT met"
        print(f"    target: no write waits more than {TARGET_MAX_WAIT_S:.0f} s: {verdict}", flush=True)
        return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--write-pause", type=float, default=0.05, help="editor's pause between writes, s")
    args = parser.parse_args()
    csv = settings.shared_data_path("twin_cities.csv")
    if not csv.exists():
        print(f"real data absent ({csv}); nothing to benchmark")
        return
    for backend in args.backends.split(","):
        print(f"\n[{backend}]", flush=True)
        try:
            for mode in ("one transaction", "staged"):
                run(backend, csv, args.write_pause, mode)
        except Exception as exc:  # no PostgreSQL server: say so and go on
            if backend == "postgresql" and "connect" in str(exc).lower():
                print(f"  unavailable ({exc.__class__.__name__}); skipped")
                continue
            raise


if __name__ == "__main__":
    main()
