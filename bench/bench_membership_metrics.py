"""Benchmark: ``citydip network metrics --graph membership`` with the Covenant of Mayors and a real-sized list.

Registry: a fresh SQLite file with ``twin_cities.csv`` (``citydip import twinning``) and the Global
Covenant of Mayors (``citydip import covenant``), prepared once and cached in the system temp dir (the
two imports take about 80 s; ``--fresh`` redoes them).  On top of it, unless ``--no-list``, a seeded
list of 17,000 memberships in 59 networks (Zipf-like sizes, the largest of a few thousand members) of
the registry's places, the shape of the list on which the one-mode projection ran 15 minutes at 5.6 GB
per worker and did not finish.

Ours: the CLI command, in a child process, storing its run (wall time; peak resident memory of the
process tree, workers included, polled with psutil).  Baseline, in the same run: the old method (the
dense one-mode projection + every one-mode metric) in a child process on the subsample it can handle
— the memberships of organisations of fewer than ``--baseline-max-members`` members — beside ours on
the same subsample; and the number of pairs the projection of the full network would hold.

Run: ``python bench/bench_membership_metrics.py [--workers 2] [--baseline-max-members 300] [--fresh]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil

from citydiplomacy.settings import shared_data_path

TARGET_S, TARGET_MB = 60.0, 3 * 1024


def run_measured(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS of the process tree (MB), return code and output of a command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(proc.pid)
    peak = 0.0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree) / 2**20)
        except psutil.Error:
            pass
        if time.perf_counter() - started > timeout:
            for p in root.children(recursive=True):
                p.kill()
            proc.kill()
            break
        time.sleep(0.05)
    out = proc.communicate()[0]
    return time.perf_counter() - started, peak, proc.returncode, out


def prepared_registry(fresh: bool) -> Path:
    """The twinning + Covenant registry, imported once and cached in the temp dir (keyed by the data files)."""
    files = [shared_data_path("twin_cities.csv"), shared_data_path("gcom_signatories_2024.xlsx")]
    key = hashlib.sha1("|".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime}" for f in files).encode())
    cache = Path(tempfile.gettempdir()) / "citydip-bench-membership" / f"registry-{key.hexdigest()[:12]}.db"
    if cache.exists() and not fresh:
        print(f"registry: cached ({cache.name})")
        return cache
    from citydiplomacy.ingest.covenant import import_covenant
    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.store import db

    cache.parent.mkdir(parents=True, exist_ok=True)
    work = cache.with_suffix(".tmp")
    work.unlink(missing_ok=True)
    engine = db.get_engine(f"sqlite:///{work}")
    db.upgrade(engine)
    for name, fn in (("twinning", import_twinning), ("covenant", import_covenant)):
        t = time.perf_counter()
        fn(files[0] if name == "twinning" else files[1], engine=engine, on_error="skip")
        print(f"registry: import {name} {time.perf_counter() - t:.0f} s (not timed in the figures)")
    engine.dispose()
    work.replace(cache)
    return cache


def add_list(url: str, memberships: int = 17_000, networks: int = 59, seed: int = 2024) -> None:
    """A seeded list of ``memberships`` memberships in ``networks`` networks of the registry's places."""
    from sqlalchemy import insert, select

    from citydiplomacy.store import db
    from citydiplomacy.store.schema import Membership, Organisation, Place

    rng = np.random.default_rng(seed)
    engine = db.get_engine(url)
    with db.session_scope(engine) as session:
        places = np.asarray(session.scalars(select(Place.id).order_by(Place.id)).all())
        sizes = 1.0 / np.arange(1, networks + 1) ** 1.1
        sizes = np.maximum(2, np.round(sizes / sizes.sum() * memberships)).astype(int)
        ids = []
        for j in range(networks):
            org = Organisation(name=f"Bench network {j + 1}", kind="global_network")
            session.add(org)
            ids.append(org)
        session.flush()
        rows = []
        for org, size in zip(ids, sizes, strict=True):
            members = rng.choice(places, size=min(size, len(places)), replace=False)
            roles = rng.choice(["active", "board", "observer"], size=len(members), p=[0.85, 0.05, 0.1])
            rows += [
                {"place_id": int(p), "organisation_id": org.id, "role": str(r)}
                for p, r in zip(members, roles, strict=True)
            ]
        session.execute(insert(Membership), rows)
    print(f"list: {len(rows):,} memberships in {networks} networks (largest {sizes.max():,}), seeded")


BASELINE = textwrap.dedent(
    """
    import sys, time
    from citydiplomacy.store import db
    from citydiplomacy.network.graphs import load_membership, membership_projection
    from citydiplomacy.network.metrics import city_metrics
    from citydiplomacy.network.twomode import twomode_metrics
    limit, method, workers = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    with db.session_scope() as session:
        nodes, orgs, members = load_membership(session)
    sizes = members.groupby("organisation_id").size()
    members = members[members["organisation_id"].isin(sizes[sizes < limit].index)]
    nodes = nodes[nodes["place_id"].isin(set(members["place_id"]))].reset_index(drop=True)
    t = time.perf_counter()
    if method == "old":
        g = membership_projection(nodes, orgs, members)
        out = city_metrics(g, workers=workers)
        print(f"SUBSAMPLE {len(members)} memberships, {len(nodes)} places, {g.ecount()} projected ties")
    else:
        out = twomode_metrics(nodes, orgs, members, workers=workers)
        print(f"SUBSAMPLE {len(members)} memberships, {len(nodes)} places")
    print(f"COMPUTE {time.perf_counter() - t:.2f}")
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--baseline-max-members",
        default="100,300",
        help="subsamples (comma-separated): memberships of organisations smaller than each",
    )
    parser.add_argument("--baseline-timeout", type=float, default=600.0, help="seconds before the baseline is stopped")
    parser.add_argument("--no-list", action="store_true", help="only the Covenant, without the 17,000-membership list")
    parser.add_argument("--fresh", action="store_true", help="redo the imports instead of using the cached registry")
    args = parser.parse_args()
    if not (shared_data_path("twin_cities.csv").exists() and shared_data_path("gcom_signatories_2024.xlsx").exists()):
        print("real data absent (twin_cities.csv, gcom_signatories_2024.xlsx): nothing to benchmark")
        return 0

    cache = prepared_registry(args.fresh)
    tmp = tempfile.TemporaryDirectory(prefix="bench-membership-")
    registry = Path(tmp.name) / "registry.db"
    shutil.copyfile(cache, registry)
    url = f"sqlite:///{registry}"
    if not args.no_list:
        add_list(url)
    env = {**os.environ, "CITYDIP_DATABASE_URL": url}

    from citydiplomacy.network.graphs import load_membership
    from citydiplomacy.network.twomode import projection_pairs, twomode
    from citydiplomacy.store import db

    with db.session_scope(db.get_engine(url)) as session:
        nodes, orgs, members = load_membership(session)
    sizes = twomode(nodes, orgs, members).sizes
    print(
        f"membership network: {len(members):,} memberships, {len(nodes):,} places, {int((sizes > 0).sum())} "
        f"organisations with members (largest {int(sizes.max()):,}); its one-mode projection: "
        f"{projection_pairs(sizes):,} pairs"
    )
    print(f"machine: {os.cpu_count()} cores, shared with other jobs; load average {os.getloadavg()[0]:.2f}")

    cli = [sys.executable, "-m", "citydiplomacy", "network", "metrics", "--graph", "membership",
           "--workers", str(args.workers), "--top", "5"]  # fmt: skip
    wall, peak, rc, out = run_measured(cli, env, timeout=600)
    print(f"\nours: `citydip network metrics --graph membership` (stores its run): {wall:.1f} s, peak {peak:,.0f} MB")
    if rc != 0:
        print(out)
        return 1
    print(textwrap.indent(out.strip(), "  "))

    figures: dict[tuple[int, str], tuple[float, float, int]] = {}
    limits = [int(x) for x in args.baseline_max_members.split(",")]
    for limit in limits:
        print(f"\nsubsample: memberships of organisations of fewer than {limit} members")
        for method in ("new", "old"):
            cmd = [sys.executable, "-c", BASELINE, str(limit), method, str(args.workers)]
            t_wall, t_peak, t_rc, t_out = run_measured(cmd, env, timeout=args.baseline_timeout)
            lines = dict(line.split(" ", 1) for line in t_out.splitlines() if line.startswith(("SUBSAMPLE", "COMPUTE")))
            label = "ours (two-mode)" if method == "new" else "baseline (dense projection + one-mode metrics)"
            status = "" if t_rc == 0 else f" - DID NOT FINISH (stopped after {args.baseline_timeout:.0f} s)"
            compute = f", compute {lines['COMPUTE']} s" if "COMPUTE" in lines else ""
            print(f"  {label}: {t_wall:.1f} s{compute}, peak {t_peak:,.0f} MB{status}; {lines.get('SUBSAMPLE', '')}")
            figures[limit, method] = (t_wall, t_peak, t_rc)
    ok = wall <= TARGET_S and peak <= TARGET_MB
    print(
        f"\nRESULT: full membership metrics {wall:.1f} s, {peak:,.0f} MB peak "
        f"(target <= {TARGET_S:.0f} s and <= {TARGET_MB / 1024:.0f} GB: {'met' if ok else 'NOT met'})"
    )
    for limit in limits:
        new, old = figures[limit, "new"], figures[limit, "old"]
        print(
            f"  subsample < {limit} members: ours {new[0]:.1f} s / {new[1]:,.0f} MB vs the old projection "
            f"{old[0]:.1f} s / {old[1]:,.0f} MB{'' if old[2] == 0 else ' (unfinished)'}"
        )
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
