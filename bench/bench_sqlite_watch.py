"""Benchmark the cost of watching an SQLite registry's file at every pool checkout.

Run ``python bench/bench_sqlite_watch.py [--n 20000] [--repeat 30]``.  On a temporary SQLite registry,
times (best of ``--repeat`` interleaved runs of ``--n`` each)

* a pool checkout and checkin (``engine.pool.connect().close()``), the step the watch adds its
  ``os.stat`` to;
* ``engine.connect()`` and its close, what every request and every session transaction does;
* the same with one small query (``select count(*) from place``), the cheapest real read;
* ``os.stat`` of the file alone,

for the engine of :func:`citydiplomacy.store.db.get_engine` (watched) and for the same engine without the
watch (the foreign-keys pragma only, as before), and prints checkouts per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, event, text  # noqa: E402

from citydiplomacy.store import db  # noqa: E402


def _unwatched(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 5})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _rates(steps: dict[str, Callable[[], None]], n: int, repeat: int) -> dict[str, float]:
    """Calls per second of each step: the best of ``repeat`` runs, the steps' runs interleaved (a busy
    machine slows them alike)."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(repeat):
        for name, step in steps.items():
            started = time.perf_counter()
            for _ in range(n):
                step()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: n / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.db"
        url = f"sqlite:///{path}"
        watched = db.get_engine(url)
        db.upgrade(watched)
        assert db.sqlite_file_watch(watched) is not None
        plain = _unwatched(url)
        engines = {"without the check": plain, "with the check": watched}
        steps: dict[str, dict[str, Callable[[], None]]] = {"checkout": {}, "connect": {}, "read": {}}
        query = text("select count(*) from place")
        for label, engine in engines.items():
            engine.pool.connect().close()  # one pooled connection, opened outside the timing

            def read(engine: Engine = engine) -> None:
                with engine.connect() as conn:
                    conn.execute(query).scalar()

            steps["checkout"][label] = lambda engine=engine: engine.pool.connect().close()
            steps["connect"][label] = lambda engine=engine: engine.connect().close()
            steps["read"][label] = read
        rates = {kind: _rates(s, args.n if kind != "read" else args.n // 4, args.repeat) for kind, s in steps.items()}
        stat_rate = _rates({"stat": lambda: os.stat(path)}, args.n, args.repeat)["stat"]
        plain.dispose()
        watched.dispose()
    rows = [(label, *(rates[kind][label] for kind in steps)) for label in engines]
    print(f"SQLite pool checkouts, best of {args.repeat} x {args.n:,} (Python {sys.version.split()[0]})")
    print(f"{'':20} {'pool checkout/s':>16} {'engine.connect/s':>17} {'connect+query/s':>16}")
    for label, pool_rate, connect_rate, read_rate in rows:
        print(f"{label:20} {pool_rate:16,.0f} {connect_rate:17,.0f} {read_rate:16,.0f}")
    (_, *before), (_, *after) = rows
    costs = [1e6 / a - 1e6 / b for a, b in zip(after, before, strict=True)]
    print(f"{'added per checkout':20} " + " ".join(f"{c:{w}.2f}µs" for c, w in zip(costs, (14, 15, 14), strict=True)))
    print(f"os.stat alone: {stat_rate:,.0f}/s ({1e6 / stat_rate:.2f} µs)")


if __name__ == "__main__":
    main()
