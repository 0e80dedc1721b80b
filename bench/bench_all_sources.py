"""Benchmark: every shared real source imported into one fresh registry, and what the index then measures.

Into a fresh SQLite registry, in order: ``twin_cities.csv`` (twinning), ``gcom_signatories_2024.xlsx``
(Covenant of Mayors), ``embassies.csv`` (missions), the OpenFlights airports and routes (flights) and, when
that importer exists, the Wikidata twinning pairs.  Each import runs in a child process of its own, so the
peak memory printed is that import's alone; its wall time is printed beside it, and the total against the
90 s target.

Then the indicators are computed (after a network run of the bilateral graph, which PageRank reads) and the
indicators that *vary* (more than one distinct value among the places that have one) are counted, with the
dimensions they cover (target: at least 10 across at least 5 of the 7).  The baseline, measured in the same
run: the same count with only ``twin_cities.csv`` imported (where the first release stood).

Run: ``python bench/bench_all_sources.py``.  Skips when ``../shared/data/`` is absent.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.store import db  # noqa: E402

TARGET_IMPORT_S = 90.0
TARGET_VARYING, TARGET_DIMENSIONS = 10, 5


def _sources() -> list[tuple[str, Callable[[str], Any]]]:
    """(label, import function of a database URL) for every shared source present."""
    from citydiplomacy.ingest import covenant, flights, missions, twinning

    data = settings.shared_data_path
    out: list[tuple[str, Callable[[str], Any]]] = [
        ("twin_cities.csv", lambda url: twinning.import_twinning(data("twin_cities.csv"), engine=db.get_engine(url),
                                                                 on_error="skip")),
        ("gcom_signatories_2024.xlsx", lambda url: covenant.import_covenant(
            data("gcom_signatories_2024.xlsx"), engine=db.get_engine(url), on_error="skip")),
        ("embassies.csv", lambda url: missions.import_missions(data("embassies.csv"), engine=db.get_engine(url),
                                                               on_error="skip")),
        ("openflights", lambda url: flights.import_flights(data("openflights_airports.dat"),
                                                           data("openflights_routes.dat"),
                                                           engine=db.get_engine(url), on_error="skip")),
    ]  # fmt: skip
    try:
        from citydiplomacy.ingest import wikidata_pairs  # type: ignore[attr-defined]
    except ImportError:
        return out
    out.append(("wikidata_p190_2016", lambda url: wikidata_pairs.import_wikidata_pairs(
        data("wikidata_p190_2016_relations.tsv"), names=data("wikidata_p190_2016_names.tsv"),
        engine=db.get_engine(url), on_error="skip")))  # fmt: skip
    return out


def _child(label: str, url: str, queue: Any) -> None:
    importer = dict(_sources())[label]
    started = time.perf_counter()
    report = importer(url)
    queue.put((time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               report.rows_read, report.rows_rejected))  # fmt: skip


def import_one(label: str, url: str) -> tuple[float, float, int, int]:
    """Import one source in a child process: (seconds, peak MB, rows read, rows rejected)."""
    ctx = mp.get_context("spawn")  # a clean interpreter: its peak memory is the import's own
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(label, url, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode:
        raise SystemExit(f"import of {label} failed (exit {proc.exitcode})")
    return result


def varying(url: str) -> tuple[list[str], set[str], float]:
    """Indicators that vary after a bilateral network run, their dimensions, and the mean coverage."""
    from citydiplomacy.assess.indicators import compute_indicators
    from citydiplomacy.network.analysis import analyse

    engine = db.get_engine(url)
    with db.session_scope(engine) as session:
        analyse(session, "bilateral")
    with db.session_scope(engine) as session:
        table = compute_indicators(session)
    dims = table.catalogue.frame()["dimension"]
    codes = [c for c in table.values.columns if table.values[c].dropna().nunique() > 1]
    return codes, {dims[c] for c in codes}, float(table.coverage_share().mean())


def main() -> None:
    if not settings.shared_data_path("twin_cities.csv").exists():
        print(f"real data absent ({settings.SHARED_DATA_DIR}); nothing to benchmark")
        return
    sources = _sources()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/all.db"
        db.upgrade(db.get_engine(url))
        total = 0.0
        print(f"{'source':<28} {'seconds':>8} {'peak MB':>8} {'rows':>8} {'rejected':>9}")
        for i, (label, _) in enumerate(sources):
            seconds, peak, rows, rejected = import_one(label, url)
            total += seconds
            print(f"{label:<28} {seconds:8.1f} {peak:8.0f} {rows:8,} {rejected:9,}", flush=True)
            if i == 0:
                codes, dims, coverage = varying(url)
                baseline = (len(codes), len(dims))
                print(f"  baseline (twinning only): {len(codes)} indicators vary across {len(dims)} dimensions "
                      f"({', '.join(codes)}); mean coverage {coverage:.1%}", flush=True)  # fmt: skip
        print(f"all imports: {total:.1f} s (target ≤ {TARGET_IMPORT_S:.0f} s: "
              f"{'met' if total <= TARGET_IMPORT_S else 'NOT met'})")  # fmt: skip
        codes, dims, coverage = varying(url)
        met = len(codes) >= TARGET_VARYING and len(dims) >= TARGET_DIMENSIONS
        print(f"all sources: {len(codes)} indicators vary across {len(dims)} dimensions ({', '.join(codes)}); "
              f"mean coverage {coverage:.1%}")  # fmt: skip
        print(f"  against the baseline's {baseline[0]} across {baseline[1]}; target ≥ {TARGET_VARYING} across "
              f"≥ {TARGET_DIMENSIONS}: {'met' if met else 'NOT met'}")  # fmt: skip
        db.get_engine(url).dispose()


if __name__ == "__main__":
    main()
