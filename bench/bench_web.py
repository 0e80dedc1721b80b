"""Benchmark: the city-profile API under 20 concurrent clients, PostgreSQL and SQLite, full twinning data.

For each back end: a fresh registry, the full ``twin_cities.csv`` imported with the project's importer,
a ``citydip serve`` web server in its own process (uvicorn, loopback), then ``--clients`` concurrent clients
(one login session each) request ``GET /api/places/{id}`` for random places that have relations, for
``--duration`` seconds: first alone, then while one editor writes (``POST /api/activities`` on random
places, one after another, ``--write-pause`` seconds apart).  Printed: requests, throughput, p50/p95/p99
latency, errors, the editor's write latencies, server RSS, and the ratio to a floor baseline
(``GET /api/health``: same stack, no database) and between the back ends.  With ``--workers`` above 1,
the readers alone again on the usual way of serving the same application, ``uvicorn --factory --workers N``
(one shared listening socket, Nagle's algorithm on), the baseline of ``citydip serve``'s own start.  Reads
use ``wrk`` (a C load generator) when it is installed, so that the Python client's share of the two cores
is not counted.

Then the dashboard pages (unless ``--page-seconds 0``), after a network run and an assessment of the whole
registry (``citydip network metrics``, ``citydip assess --all``, so that rankings and the network table have
rows): twice, on a server as configured now and on the same server with the read cache off
(``CITYDIP_WEB_CACHE=0``: the code path before it, the baseline of the same run).  For each: the first
request of each page after the server started (cold), then ``--clients`` wrk connections on that page for
``--page-seconds`` (p50/p95/p99, errors); the city page spreads them over the 50 best-connected places.
Targets: the first chart page (the best-connected city's profile) under 500 ms, every page's p95 under
300 ms.  ``uptime`` is printed before each phase: the machine may be shared.

Run: ``python bench/bench_web.py [--duration 60] [--clients 20] [--backends postgresql,sqlite]
[--page-seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, not an installed one

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.store import db  # noqa: E402
from citydiplomacy.store.schema import Relation  # noqa: E402
from citydiplomacy.web.serving import APP  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "CITYDIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
USER, PASSWORD = "bench", "bench-password-1"
EDITOR = "bench-editor"
TARGET_P95_MS = 150.0
TARGET_PAGE_P95_MS = 300.0
TARGET_FIRST_CHART_MS = 500.0
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, csv: Path) -> list[int]:
    """Migrate, import the twinning data, add the bench user; return ids of places with relations."""
    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.web.auth import create_user

    engine = db.get_engine(url)
    db.upgrade(engine)
    started = time.perf_counter()
    import_twinning(csv, engine=engine, on_error="skip")  # the file has a few self-pairs; skip them
    print(f"  import: {time.perf_counter() - started:.1f} s", flush=True)
    with db.session_scope(engine) as s:
        create_user(s, USER, PASSWORD, "viewer")
        create_user(s, EDITOR, PASSWORD, "editor")
        ids = sorted(set(s.scalars(select(Relation.place_a_id))) | set(s.scalars(select(Relation.place_b_id))))
    engine.dispose()
    return ids


def start_server(
    url: str, port: int, workers: int = 1, extra_env: dict[str, str] | None = None, *, plain_uvicorn: bool = False
) -> subprocess.Popen[bytes]:
    """``citydip serve`` on ``port``; with ``plain_uvicorn``, uvicorn's own start of the same application
    (``uvicorn --factory --workers N``: one shared listening socket, Nagle on), the usual way and the baseline."""
    env = {**os.environ, "CITYDIP_DATABASE_URL": url, "CITYDIP_SECRET_KEY": "bench", "PYTHONPATH": str(ROOT),
           "CITYDIP_WEB_WARM": "1", "CITYDIP_EXPOSE_WORKER": "1", **(extra_env or {})}  # fmt: skip
    command = ["uvicorn", APP, "--factory"] if plain_uvicorn else ["citydiplomacy", "serve"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *command,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    # Every worker listening before the clock starts (each has a socket of its own; a late one would
    # leave the first clients all on the others): new connections until each worker has answered.
    answered: set[str] = set()
    for _ in range(600):
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/api/health", headers={"Connection": "close"}, timeout=1)
            answered.add(r.headers.get("x-citydip-worker", ""))
            if r.status_code == 200 and len(answered) >= workers:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the web server did not start ({len(answered)} of {workers} workers answered)")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop a server started here; killed when requests still queued keep it from stopping in 20 s."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=20)


async def load(base: str, paths: list[str], clients: int, duration: float) -> list[float]:
    """Latencies (seconds) of every request made by ``clients`` concurrent clients in ``duration`` s.

    All clients log in first; the clock starts when the last one is in (argon2 logins are slow by design).
    """
    latencies: list[float] = []
    rng = random.Random(7)
    sessions = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(clients)]
    try:
        for c in sessions:
            (await c.post("/api/auth/login", json={"username": USER, "password": PASSWORD})).raise_for_status()
        deadline = time.perf_counter() + duration

        async def client(c: httpx.AsyncClient) -> None:
            while time.perf_counter() < deadline:
                path = rng.choice(paths)
                t0 = time.perf_counter()
                resp = await c.get(path)
                latencies.append(time.perf_counter() - t0)
                if resp.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {resp.status_code} {resp.text[:200]}")

        await asyncio.gather(*(client(c) for c in sessions))
    finally:
        for c in sessions:
            await c.aclose()
    return latencies


def report(label: str, latencies: list[float], duration: float) -> dict[str, float]:
    qs = statistics.quantiles(latencies, n=100)
    out = {
        "n": len(latencies),
        "rps": len(latencies) / duration,
        "p50": qs[49] * 1e3,
        "p95": qs[94] * 1e3,
        "p99": qs[98] * 1e3,
    }
    print(
        f"  {label:<28} {out['n']:>7} req  {out['rps']:>7.1f} req/s  p50 {out['p50']:6.1f} ms  "
        f"p95 {out['p95']:6.1f} ms  p99 {out['p99']:6.1f} ms",
        flush=True,
    )
    return out


WRK_SCRIPT = """
math.randomseed(7)
local ids = {%s}
request = function()
  return wrk.format("GET", "/api/places/" .. ids[math.random(#ids)])
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%.3f %%.3f %%.3f %%.3f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def load_with_wrk(base: str, ids: list[int], clients: int, duration: float) -> dict[str, float] | None:
    """The same load from ``wrk`` (a C load generator, one thread a core): latency without Python's client cost.

    Returns None when wrk is not installed (Debian package ``wrk``).
    """
    if shutil.which("wrk") is None:
        return None
    cookie = httpx.post(f"{base}/api/auth/login", json={"username": USER, "password": PASSWORD}).headers["set-cookie"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ",".join(str(i) for i in ids))
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(clients), "-d", f"{int(duration)}s", "-s", script.name,
         "-H", f"Cookie: {cookie.split(';', 1)[0]}", base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    n, seconds, p50, p95, p99, errors = next(line for line in out.splitlines() if line.startswith("WRK ")).split()[1:]
    result = {
        "n": int(n), "rps": int(n) / float(seconds), "p50": float(p50), "p95": float(p95), "p99": float(p99),
        "errors": int(errors),
    }  # fmt: skip
    print(
        f"  {'wrk GET /api/places/{id}':<28} {result['n']:>7} req  {result['rps']:>7.1f} req/s  p50 "
        f"{result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  p99 {result['p99']:6.1f} ms  errors {errors}",
        flush=True,
    )
    return result


class Editor(threading.Thread):
    """One editor writing through the API (an activity on a random place), one write after another."""

    def __init__(self, base: str, place_ids: list[int], pause_s: float) -> None:
        super().__init__(daemon=True)
        self.base, self.place_ids, self.pause_s = base, place_ids, pause_s
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        rng = random.Random(11)
        with httpx.Client(base_url=self.base, timeout=30) as c:
            login = c.post("/api/auth/login", json={"username": EDITOR, "password": PASSWORD})
            login.raise_for_status()
            headers = {"X-CSRF-Token": login.json()["csrf_token"]}
            n = 0
            while not self.stop.is_set():
                n += 1
                body = {
                    "kind": "visit",
                    "title": f"bench visit {n}",
                    "year": 2024,
                    "place_id": rng.choice(self.place_ids),
                }
                t0 = time.perf_counter()
                resp = c.post("/api/activities", json=body, headers=headers)
                self.latencies.append(time.perf_counter() - t0)
                if resp.status_code != 201:
                    self.errors.append(f"HTTP {resp.status_code} {resp.text[:200]}")
                self.stop.wait(self.pause_s)

    def summary(self) -> str:
        if not self.latencies:
            return "no writes"
        ms = sorted(x * 1e3 for x in self.latencies)
        p95 = statistics.quantiles(ms, n=100)[94] if len(ms) >= 2 else ms[0]
        return (
            f"{len(ms)} writes, p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms, "
            f"errors {len(self.errors)}" + (f" (first: {self.errors[0]})" if self.errors else "")
        )


def reads(base: str, ids: list[int], clients: int, duration: float) -> dict[str, float]:
    """Profile reads for ``duration`` s: by wrk when installed, else by the Python client."""
    by_wrk = load_with_wrk(base, ids, clients, duration)
    if by_wrk is not None:  # the server's own latency, without the Python client's share of the 2 cores
        return by_wrk
    paths = [f"/api/places/{i}" for i in ids]
    return report("GET /api/places/{id}", asyncio.run(load(base, paths, clients, duration)), duration)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def analyse(url: str) -> None:
    """A network run and an assessment of the whole registry, as an office would run them (the CLI)."""
    env = {**os.environ, "CITYDIP_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    for command in (["network", "metrics"], ["assess", "--all", "--top", "1"]):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "citydiplomacy", *command], env=env, cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        print(f"  citydip {' '.join(command)}: {time.perf_counter() - started:.1f} s", flush=True)


def dashboard_pages(url: str) -> list[tuple[str, list[str]]]:
    """(label, paths) of every dashboard page a viewer reads; the city page over the 50 best-connected places."""
    from sqlalchemy import func, union_all

    engine = db.get_engine(url)
    with engine.connect() as conn:
        ends = union_all(select(Relation.place_a_id.label("p")), select(Relation.place_b_id.label("p"))).subquery()
        top = list(conn.scalars(select(ends.c.p).group_by(ends.c.p).order_by(func.count().desc()).limit(50)))
    return [
        ("/cities/{id} (first chart page)", [f"/cities/{top[0]}"]),
        ("/cities/{id} (50 places)", [f"/cities/{i}" for i in top]),
        ("/", ["/"]),
        ("/rankings", ["/rankings"]),
        ("/network", ["/network"]),
        ("/organisations", ["/organisations"]),
        ("/agreements", ["/agreements"]),
        ("/audit", ["/audit"]),
        ("/review", ["/review"]),
        ("/glossary", ["/glossary"]),
        ("/api/places/{id} (50 places)", [f"/api/places/{i}" for i in top]),
    ]


PATHS_SCRIPT = """
math.randomseed(7)
local paths = {%s}
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%.3f %%.3f %%.3f %%.3f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def wrk_paths(base: str, cookie: str, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(PATHS_SCRIPT % ",".join(f'"{p}"' for p in paths))
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(clients), "-d", f"{int(seconds)}s", "--timeout", "60s", "-s", script.name,
         "-H", f"Cookie: {cookie}", base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    n, secs, p50, p95, p99, errors = next(line for line in out.splitlines() if line.startswith("WRK ")).split()[1:]
    return {"n": int(n), "rps": int(n) / float(secs), "p50": float(p50), "p95": float(p95), "p99": float(p99),
            "errors": int(errors)}  # fmt: skip


def page_phase(url: str, clients: int, seconds: float, workers: int) -> None:
    """Every dashboard page, cold then under load, with the read cache (now) and without it (baseline)."""
    pages = dashboard_pages(url)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for mode, extra in (("baseline (cache off)", {"CITYDIP_WEB_CACHE": "0"}), ("now", {})):
        print(f"  dashboard pages, {mode}; {uptime()}", flush=True)
        port = free_port()
        server = start_server(url, port, workers, extra)
        try:
            base = f"http://127.0.0.1:{port}"
            time.sleep(5.0)  # as long for both: the start-up warm-up (cache on) runs in the background meanwhile
            with httpx.Client(base_url=base, timeout=60) as c:
                c.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).raise_for_status()
                cookie = f"citydip_session={c.cookies['citydip_session']}"
                for label, paths in pages:
                    t0 = time.perf_counter()
                    resp = c.get(paths[0])
                    cold = (time.perf_counter() - t0) * 1e3
                    if resp.status_code != 200:
                        raise RuntimeError(f"{paths[0]}: HTTP {resp.status_code} {resp.text[:200]}")
                    results.setdefault(label, {})[mode] = {"cold": cold}
            for label, paths in pages:
                r = wrk_paths(base, cookie, paths, clients, seconds)
                results[label][mode].update(r)
        finally:
            stop(server)
    print(f"  {'page':<34} {'first request (ms)':>22}   {'p95 under load (ms)':>22}   {'req/s':>13}  errors  p95 met",
          flush=True)  # fmt: skip
    print(f"  {'':<34} {'baseline':>10} {'now':>10}   {'baseline':>10} {'now':>10}   {'base':>6} {'now':>6}")
    for label, by_mode in results.items():
        b, n = by_mode["baseline (cache off)"], by_mode["now"]
        met = "yes" if n["p95"] <= TARGET_PAGE_P95_MS and n["errors"] == 0 else "NO"
        print(f"  {label:<34} {b['cold']:10.1f} {n['cold']:10.1f}   {b['p95']:10.1f} {n['p95']:10.1f}   "
              f"{b['rps']:6.1f} {n['rps']:6.1f}  {b['errors']:>3}/{n['errors']:<3} {met}", flush=True)  # fmt: skip
    first = results["/cities/{id} (first chart page)"]["now"]["cold"]
    print(f"  first chart page, first request after start: {first:.0f} ms (target < {TARGET_FIRST_CHART_MS:.0f}: "
          f"{'met' if first < TARGET_FIRST_CHART_MS else 'NOT met'}); every page p95 <= {TARGET_PAGE_P95_MS:.0f} ms: "
          f"{'met' if all(r['now']['p95'] <= TARGET_PAGE_P95_MS for r in results.values()) else 'NOT met'}",
          flush=True)  # fmt: skip


def warm_up(base: str, ids: list[int], clients: int) -> None:
    """Two seconds of profile reads on 50 places before any measurement (each server started is warmed so)."""
    asyncio.run(load(base, [f"/api/places/{i}" for i in ids[:50]], clients, 2.0))


def run_backend(
    name: str,
    url: str,
    csv: Path,
    clients: int,
    duration: float,
    workers: int = 1,
    write_pause: float = 0.1,
    page_seconds: float = 10.0,
) -> dict[str, float]:
    print(f"\n[{name}] {url.split('@')[-1]}; {uptime()}", flush=True)
    ids = prepare(url, csv)
    print(f"  places with relations: {len(ids)}", flush=True)
    port = free_port()
    server = start_server(url, port, workers)
    try:
        base = f"http://127.0.0.1:{port}"
        proc = psutil.Process(server.pid)
        warm_up(base, ids, clients)
        floor = report(
            "baseline GET /api/health", asyncio.run(load(base, ["/api/health"], clients, duration / 4)), duration / 4
        )
        print("  readers alone:", flush=True)
        alone = reads(base, ids, clients, duration)
        print(f"  readers while one editor writes (a write every {write_pause:g} s at most):", flush=True)
        editor = Editor(base, ids, write_pause)
        editor.start()
        try:
            result = reads(base, ids, clients, duration)
        finally:
            editor.stop.set()
            editor.join()
        print(f"  editor: {editor.summary()}", flush=True)
        met = result["p95"] <= TARGET_P95_MS and not editor.errors and result.get("errors", 0) == 0
        print(
            f"  server RSS: {proc.memory_info().rss / 2**20:.0f} MiB; p95 with editor / alone = "
            f"{result['p95'] / alone['p95']:.2f}x; p95 / health p95 = {result['p95'] / floor['p95']:.1f}x; "
            f"target p95 <= {TARGET_P95_MS:.0f} ms with zero errors: {'met' if met else 'NOT met'}",
            flush=True,
        )
    finally:
        stop(server)
    if workers > 1:  # the same reads, alone, on uvicorn's own multi-worker start of the same application
        port = free_port()
        server = start_server(url, port, workers, plain_uvicorn=True)
        try:
            base = f"http://127.0.0.1:{port}"
            warm_up(base, ids, clients)
            print(f"  baseline, readers alone on `uvicorn --workers {workers}` (shared socket, Nagle on):", flush=True)
            plain = reads(base, ids, clients, duration)
            print(f"  readers alone, citydip serve / uvicorn: p95 {alone['p95'] / plain['p95']:.2f}x, "
                  f"throughput {alone['rps'] / plain['rps']:.2f}x", flush=True)  # fmt: skip
        finally:
            stop(server)
    if page_seconds > 0 and shutil.which("wrk"):
        analyse(url)
        page_phase(url, clients, page_seconds, workers)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per back end (default 60)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--write-pause", type=float, default=0.1, help="editor's pause between writes, s")
    parser.add_argument("--backends", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite")
    parser.add_argument("--page-seconds", type=float, default=10.0, help="wrk seconds per dashboard page (0: none)")
    args = parser.parse_args()
    csv = settings.shared_data_path("twin_cities.csv")
    if not csv.exists():
        print(f"real data absent ({csv}); nothing to benchmark")
        return
    results: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results[backend] = run_backend(
                    "sqlite",
                    f"sqlite:///{tmp}/bench.db",
                    csv,
                    args.clients,
                    args.duration,
                    args.workers,
                    args.write_pause,
                    args.page_seconds,
                )
        elif backend == "postgresql":
            name = f"citydip_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            except Exception as exc:  # no server: say so and go on with the other back end
                print(f"\n[postgresql] unavailable ({exc.__class__.__name__}); skipped")
                continue
            try:
                url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
                results[backend] = run_backend(
                    "postgresql", url, csv, args.clients, args.duration, args.workers, args.write_pause,
                    args.page_seconds,
                )  # fmt: skip
            finally:
                db.get_engine.cache_clear()
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if {"postgresql", "sqlite"} <= results.keys():
        pg, lite = results["postgresql"], results["sqlite"]
        print(f"\nPostgreSQL / SQLite: p95 {pg['p95'] / lite['p95']:.2f}x, throughput {pg['rps'] / lite['rps']:.2f}x")


if __name__ == "__main__":
    main()
