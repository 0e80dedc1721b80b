"""Profile: which statements of the twinning import's locked apply take the time, on one back end.

Imports the real ``twin_cities.csv`` into a fresh registry (as ``bench_write_during_import.py`` makes it)
and prints the seconds the write transaction held the lock, split into its statements (slowest first)
and the commit.  The machine's load moves every figure: it is printed too.

Run: ``python bench/profile_import_apply.py [sqlite|postgresql]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_write_during_import import load, registry  # noqa: E402

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.ingest import twinning  # noqa: E402
from citydiplomacy.store import db  # noqa: E402


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    csv = settings.shared_data_path("twin_cities.csv")
    if not csv.exists():
        print(f"real data absent ({csv}); nothing to profile")
        return
    with registry(backend) as url:
        engine = db.get_engine(url)
        times: list[tuple[float, str]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, _cursor, _stmt, _params, _ctx, _many):  # type: ignore[no-untyped-def]
            conn.info["profile_started"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, _cursor, stmt, _params, _ctx, _many):  # type: ignore[no-untyped-def]
            times.append((time.perf_counter() - conn.info["profile_started"], " ".join(stmt.split())[:110]))

        marks: dict[int, tuple[float, int]] = {}

        def progress(stage: str, done: int, _total: int) -> None:
            if stage == "write":
                marks[done] = (time.perf_counter(), len(times))

        print(f"[{backend}] machine load before {load()}")
        report = twinning.import_twinning(csv, engine=engine, on_error="skip", progress=progress)
        (start, first), (end, last) = marks[0], marks[1]
        print(f"  lock held {report.write_seconds:.3f} s: statements {end - start:.3f} s, "
              f"commit {report.write_seconds - (end - start):.3f} s; machine load after {load()}")  # fmt: skip
        for seconds, stmt in sorted(times[first:last], reverse=True)[:12]:
            print(f"  {seconds:7.3f} s  {stmt}")


if __name__ == "__main__":
    main()
