"""Benchmark the whole twinning import on the real file and print the registry's figures.

Run ``python bench/bench_import.py [--postgres URL]``.  On ``../shared/data/twin_cities.csv``:

1. import WITH the file's coordinates into a fresh SQLite registry: wall time and peak memory, distinct
   undirected relations, places by status; then import the same file again and check that no count changes;
2. from the registry's own places export (one row per place name as the file wrote it): the share of the
   distinct places linked to a gazetteer entry within 30 km of the file's coordinates, and farther;
3. import WITHOUT coordinates (names and countries only) into another fresh registry: the same shares,
   against the baseline measured in the same run: exact name-in-country matching against the same
   gazetteer (the raw name equals the GeoNames name or one of its alternate names; most populous wins);
4. optionally the same import into PostgreSQL (``--postgres``), for comparison.

The baseline is the usual way: look the name up as written, within the stated country.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.geo.gazetteer import get_gazetteer, haversine_km  # noqa: E402
from citydiplomacy.ingest.twinning import import_twinning  # noqa: E402
from citydiplomacy.store import db, queries  # noqa: E402


def peak_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def file_places(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """Distinct (name, country) places of the file with their coordinates."""
    places: dict[tuple[str, str], tuple[float, float]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for side in ("1", "2"):
                places.setdefault((row[f"city{side}"], row[f"country{side}"]),
                                  (float(row[f"lat{side}"]), float(row[f"lng{side}"])))  # fmt: skip
    return places


def linked_shares(engine, places: dict[tuple[str, str], tuple[float, float]]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Shares of the file's distinct places linked within / beyond 30 km, from the registry's export."""
    within = farther = 0
    with db.session_scope(engine) as session:
        for row in queries.export_rows(session, "places"):
            if row["lat"] == "" or not str(row["gazetteer_id"]).isdigit():
                continue  # subdivision, district, ambiguous or unresolved: neither right nor wrong
            lat, lng = places[(row["name_in_source"], row["country_in_source"])]
            d = float(haversine_km(lat, lng, float(row["lat"]), float(row["lng"])))
            if d <= settings.RESOLVE_MAX_DISTANCE_KM:
                within += 1
            else:
                farther += 1
    n = len(places)
    return {"within_30km": 100 * within / n, "farther": 100 * farther / n}


def baseline_exact(places: dict[tuple[str, str], tuple[float, float]]) -> dict[str, float]:
    """Exact name-in-country matching: the usual way, measured on the same places and gazetteer."""
    gaz = get_gazetteer()
    by_name: dict[tuple[str, str], int] = {}
    population = np.asarray(gaz.population)
    for i in np.argsort(population, kind="stable"):  # ascending: the most populous is written last and wins
        cc = str(gaz.country[i])
        for name in (gaz.names[i], *gaz.alternate_names(int(i))):
            by_name[(name, cc)] = int(i)
    within = farther = 0
    for (name, country), (lat, lng) in places.items():
        cc = gaz.parse_country(country).code
        i = by_name.get((name, cc or ""))
        if i is None:
            continue
        entry = gaz.place(i)
        d = float(haversine_km(lat, lng, entry["lat"], entry["lng"]))
        within += d <= settings.RESOLVE_MAX_DISTANCE_KM
        farther += d > settings.RESOLVE_MAX_DISTANCE_KM
    n = len(places)
    return {"within_30km": 100 * within / n, "farther": 100 * farther / n}


def merged_listings(engine, path: Path) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Relations the file lists more than once (both sides, other spellings), and how many of those
    repeats put BOTH places within 30 km of the first listing by the file's own coordinates (same pair)."""
    from sqlalchemy import select

    from citydiplomacy.store.schema import Relation

    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    repeats = confirmed = 0
    with engine.connect() as conn:
        for (locator,) in conn.execute(select(Relation.source_locator).where(Relation.source_locator.like("%,%"))):
            numbers = [int(x) for x in locator.replace("row ", "").split(", ")]
            first = rows[numbers[0] - 1]
            a0, b0 = (float(first[2]), float(first[3])), (float(first[6]), float(first[7]))
            for n in numbers[1:]:
                r = rows[n - 1]
                a1, b1 = (float(r[2]), float(r[3])), (float(r[6]), float(r[7]))
                same = max(haversine_km(*a0, *a1), haversine_km(*b0, *b1))
                swapped = max(haversine_km(*a0, *b1), haversine_km(*b0, *a1))
                repeats += 1
                confirmed += min(float(same), float(swapped)) <= settings.RESOLVE_MAX_DISTANCE_KM
    return repeats, confirmed


def run_import(url: str, path: Path, use_coordinates: bool) -> tuple[dict, float, int]:
    engine = db.get_engine(url)
    db.upgrade(engine)
    started = time.perf_counter()
    report = import_twinning(path, engine=engine, on_error="skip", use_coordinates=use_coordinates,
                             rejects_path=Path(tempfile.gettempdir()) / "bench_import.rejects.csv")  # fmt: skip
    return queries.stats(engine), time.perf_counter() - started, report.rows_rejected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="also import into this (empty, throwaway) PostgreSQL database URL")
    args = parser.parse_args()
    path = settings.shared_data_path("twin_cities.csv")
    if not path.exists():
        print(f"skipped: real data set absent ({path})")
        return 0
    places = file_places(path)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        get_gazetteer()
        print(f"gazetteer loaded in {time.perf_counter() - t0:.1f} s (from its cache when warm)")
        url = f"sqlite:///{tmp}/with_coords.db"
        stats1, seconds, rejected = run_import(url, path, use_coordinates=True)
        print(f"import WITH coordinates (SQLite): {seconds:.1f} s (target <= 60 s), peak memory {peak_mb():.0f} MB")
        print(f"  distinct undirected relations: {stats1['relations']:,} (target >= 25,000)")
        repeats, confirmed = merged_listings(db.get_engine(url), path)
        print(
            f"  rows rejected (self-relations): {rejected}; rows repeating a pair already listed: {repeats:,}, "
            f"of which {confirmed:,} have both places within 30 km of the first listing by the file's own "
            "coordinates (the same pair written twice)"
        )
        print(f"  places: {stats1['places']:,} by status {stats1['places_by_status']}")
        stats2, seconds2, _ = run_import(url, path, use_coordinates=True)
        changed = {k: (stats1[k], stats2[k]) for k in stats1 if stats1[k] != stats2[k] and k != "audit_entries"}
        print(f"  re-import: {seconds2:.1f} s; counts changed: {changed or 'none'}")
        shares = linked_shares(db.get_engine(url), places)
        print(f"  distinct places in the file: {len(places):,}")
        print(f"  linked within 30 km: {shares['within_30km']:.2f}% (target >= 90%), farther: "
              f"{shares['farther']:.2f}% (target <= 1%)")  # fmt: skip

        url2 = f"sqlite:///{tmp}/names_only.db"
        _stats, seconds3, _ = run_import(url2, path, use_coordinates=False)
        shares2 = linked_shares(db.get_engine(url2), places)
        t1 = time.perf_counter()
        base = baseline_exact(places)
        t_base = time.perf_counter() - t1
        print(f"import WITHOUT coordinates (names and countries only): {seconds3:.1f} s")
        print(f"  resolver: {shares2['within_30km']:.2f}% within 30 km (target >= 82%), "
              f"{shares2['farther']:.2f}% farther (target <= 4%)")  # fmt: skip
        print(f"  baseline exact name-in-country: {base['within_30km']:.2f}% within, {base['farther']:.2f}% "
              f"farther ({t_base:.1f} s)")  # fmt: skip
        gain = shares2["within_30km"] / base["within_30km"] if base["within_30km"] else float("nan")
        print(f"  ratio right resolver/baseline: {gain:.3f}x; wrong: {shares2['farther']:.2f}% vs "
              f"{base['farther']:.2f}%")  # fmt: skip
        if args.postgres:
            stats_pg, seconds_pg, _ = run_import(args.postgres, path, use_coordinates=True)
            print(f"import WITH coordinates (PostgreSQL): {seconds_pg:.1f} s, relations {stats_pg['relations']:,}")
    print(f"peak memory of the whole benchmark: {peak_mb():.0f} MB; numpy {np.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
