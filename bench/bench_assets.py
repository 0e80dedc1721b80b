"""Benchmark: the first chart page in a real browser, cold and warm, as served now and the old way.

A ``citydip`` web server (uvicorn, loopback) over a registry: by default a fresh one filled by
``citydip demo``, or the one ``--db`` names (e.g. the full real import; a viewer ``bench-assets`` is added
to it when absent).  Headless Chromium (Playwright, /usr/bin/chromium) loads a city profile (the place with
the most relations, or ``--path``) until every chart on it is drawn:

* **now**: as served, gzip accepted, browser cache on; *cold* = a fresh browser profile, *warm* = the
  same page again in the same profile (static files from the cache: versioned URLs, ``immutable``);
* **baseline** in the same run, the same page the old way: ``Accept-Encoding: identity`` (nothing
  compressed) and the browser cache disabled (every file fetched again), as before versioned assets.

Printed per case: median and best time to charts drawn (ms) over ``--runs`` loads, and the bytes that
crossed the wire (headers included, from the DevTools protocol).  ``--mbps`` also emulates a link of that
speed (with 20 ms latency), where bytes cost time.  Then, unless ``--load-seconds 0``, the server's cost of
compressing pages: ``wrk`` with ``--clients`` connections on the same page with and without gzip
(throughput and latency percentiles).

Run: ``python bench/bench_assets.py [--db URL] [--runs 5] [--mbps 0] [--load-seconds 10]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench_web import free_port, start_server
from sqlalchemy import func, select, union_all

from citydiplomacy.report.pdf import CHROMIUM_ARGS
from citydiplomacy.store import db
from citydiplomacy.store.schema import AppUser, Relation

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", *CHROMIUM_ARGS]  # the reports' PDF browser flags
USER, PASSWORD = "bench-assets", "bench-assets-password-1"
TARGET_MS = 500.0
CHARTS_DRAWN = (
    "() => { const c = document.querySelectorAll('[data-figure]');"
    " return c.length > 0 && Array.from(c).every(e => e.getAttribute('data-rendered') === '1'); }"
)


def demo_registry(directory: Path) -> str:
    """A fresh registry filled by ``citydip demo`` (the case study, a network run, an assessment)."""
    url = f"sqlite:///{directory / 'demo.db'}"
    env = {**os.environ, "CITYDIP_DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "citydiplomacy", "demo", "--samples", "50", "--report", str(directory / "r.html")],
        env=env, cwd=directory, check=True, capture_output=True,
    )  # fmt: skip
    print(f"  demo registry: {time.perf_counter() - started:.1f} s", flush=True)
    return url


def prepare(url: str) -> int:
    """Add the bench viewer when absent; return the id of the place with the most relations."""
    from citydiplomacy.web.auth import create_user

    engine = db.get_engine(url)
    with db.session_scope(engine) as s:
        if s.scalar(select(AppUser.id).where(AppUser.username == USER)) is None:
            create_user(s, USER, PASSWORD, "viewer")
        ends = union_all(select(Relation.place_a_id.label("p")), select(Relation.place_b_id.label("p"))).subquery()
        top = s.execute(select(ends.c.p).group_by(ends.c.p).order_by(func.count().desc()).limit(1)).scalar()
    engine.dispose()
    if top is None:
        raise SystemExit("the registry has no relations: no city profile with charts to load")
    return int(top)


class Browser:
    """One headless Chromium; each :meth:`visit` pair runs in a fresh profile (an empty cache)."""

    def __init__(self, playwright: Any, base: str) -> None:
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        self.base = base

    def profile(self, *, baseline: bool, mbps: float) -> tuple[Any, Any, dict[str, Any]]:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        login = context.request.post(f"{self.base}/api/auth/login", data={"username": USER, "password": PASSWORD})
        assert login.ok, login.text()
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        wire = {"bytes": 0, "requests": 0}

        def finished(event: dict[str, Any]) -> None:
            wire["bytes"] += int(event.get("encodedDataLength", 0))
            wire["requests"] += 1

        cdp.on("Network.loadingFinished", finished)
        if baseline:  # the old way: nothing compressed, nothing kept
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
        if mbps > 0:
            rate = mbps * 1e6 / 8
            conditions = {"offline": False, "latency": 20, "downloadThroughput": rate, "uploadThroughput": rate}
            cdp.send("Network.emulateNetworkConditions", conditions)
        return context, page, wire

    def visit(self, page: Any, wire: dict[str, Any], url: str) -> tuple[float, int]:
        """Milliseconds until every chart of ``url`` is drawn, and the bytes received meanwhile."""
        before = wire["bytes"]
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
        elapsed = (time.perf_counter() - started) * 1e3
        page.wait_for_load_state("load")  # let the last loadingFinished events arrive before counting
        return elapsed, wire["bytes"] - before

    def close(self) -> None:
        self.browser.close()


def measure(browser: Browser, url: str, runs: int, mbps: float) -> dict[str, list[tuple[float, int]]]:
    results: dict[str, list[tuple[float, int]]] = {k: [] for k in ("now cold", "now warm", "old cold", "old warm")}
    for _ in range(runs):
        for mode, baseline in (("now", False), ("old", True)):
            context, page, wire = browser.profile(baseline=baseline, mbps=mbps)
            try:
                results[f"{mode} cold"].append(browser.visit(page, wire, url))
                results[f"{mode} warm"].append(browser.visit(page, wire, url))
            finally:
                context.close()
    return results


def print_results(label: str, results: dict[str, list[tuple[float, int]]]) -> None:
    print(f"\n  {label}", flush=True)
    medians = {}
    for case, rows in results.items():
        ms = [t for t, _ in rows]
        wire = statistics.median(b for _, b in rows)
        medians[case] = statistics.median(ms)
        print(
            f"    {case:<9} charts drawn: median {medians[case]:7.0f} ms  best {min(ms):7.0f} ms   "
            f"received {wire / 1e6:7.3f} MB",
            flush=True,
        )
    for temp in ("cold", "warm"):
        now, old = medians[f"now {temp}"], medians[f"old {temp}"]
        print(f"    {temp}: now / old = {now / old:.2f}x", flush=True)
    verdict = "met" if medians["now cold"] <= TARGET_MS else "NOT met"
    print(f"    target: first chart page (cold) <= {TARGET_MS:.0f} ms: {verdict}", flush=True)


WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %.3f %.3f %.3f %.3f %d %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.bytes))
end
"""


def page_load(base: str, path: str, clients: int, seconds: float) -> None:
    """Server latency of the page under ``clients`` connections, compressed and not (wrk)."""
    if shutil.which("wrk") is None:
        print("\n  wrk is not installed: no load comparison")
        return
    login = httpx.post(f"{base}/api/auth/login", json={"username": USER, "password": PASSWORD})
    cookie = login.headers["set-cookie"].split(";", 1)[0]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    print(f"\n  server under load: wrk, {clients} connections, {seconds:g} s each, GET {path}", flush=True)
    try:
        for label, encoding in (("baseline, not compressed", "identity"), ("gzip (as browsers ask)", "gzip")):
            out = subprocess.run(
                ["wrk", "-t", "1", "-c", str(clients), "-d", f"{int(seconds)}s", "-s", script.name,
                 "-H", f"Cookie: {cookie}", "-H", f"Accept-Encoding: {encoding}", base + path],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            fields = next(line for line in out.splitlines() if line.startswith("WRK ")).split()[1:]
            n, duration, p50, p95, p99, errors, size = fields
            print(
                f"    {label:<26} {int(n) / float(duration):7.1f} req/s  p50 {float(p50):6.1f} ms  "
                f"p95 {float(p95):6.1f} ms  p99 {float(p99):6.1f} ms  {int(size) / int(n) / 1e3:6.1f} kB/answer  "
                f"errors {errors}",
                flush=True,
            )
    finally:
        os.unlink(script.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="registry URL (default: a fresh one filled by citydip demo)")
    parser.add_argument("--path", help="page to load (default: the profile of the place with most relations)")
    parser.add_argument("--runs", type=int, default=5, help="loads per case (default 5)")
    parser.add_argument("--mbps", type=float, default=0, help="also emulate a link of this many Mbit/s (0: no)")
    parser.add_argument("--load-seconds", type=float, default=10, help="wrk seconds per variant (0: skip)")
    parser.add_argument("--clients", type=int, default=20, help="wrk connections (default 20)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is not installed; nothing to benchmark")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="citydip-bench-assets-") as tmp:
        url = args.db or demo_registry(Path(tmp))
        place = prepare(url)
        path = args.path or f"/cities/{place}"
        port = free_port()
        server = start_server(url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            print(f"  registry: {url.split('@')[-1]}  page: {path}  (machine shared and loaded: timings vary)")
            with sync_playwright() as p:
                browser = Browser(p, base)
                try:
                    measure(browser, base + path, 1, 0)  # warm-up: the server's first answers, Chromium's start
                    print_results("loopback", measure(browser, base + path, args.runs, 0))
                    if args.mbps > 0:
                        print_results(f"{args.mbps:g} Mbit/s link", measure(browser, base + path, args.runs, args.mbps))
                finally:
                    browser.close()
            if args.load_seconds > 0:
                page_load(base, path, args.clients, args.load_seconds)
        finally:
            server.terminate()
            server.wait(timeout=20)
            db.get_engine.cache_clear()


if __name__ == "__main__":
    main()
