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

With ``--source covenant`` (or ``all``), on ``../shared/data/gcom_signatories_2024.xlsx``: the covenant
import into a fresh SQLite registry (wall time, rows/s, the seconds the write lock was held, peak memory of
a process that did only that import), its re-import (nothing new), and the shares of places resolved (by
coordinates, by name and country, ambiguous, unresolved); beside it, in the same run, the baseline: the
generic membership importer on the same rows written in its layout (one place per row, groups not split,
no backers, no facts), and exact name-in-country lookup of the same single-municipality names.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
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


def covenant_as_memberships(path: Path, out: Path) -> tuple[Path, list[tuple[str, str]]]:
    """The covenant workbook's rows in the memberships layout (the baseline's input), and the
    (name, ISO code) of its single municipalities."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    rows = book["1"].iter_rows(values_only=True)
    header = [str(h).lower() for h in next(rows)]
    singles = []
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["city", "country", "organization", "role", "since", "lat", "lng"])
        for cells in rows:
            r = dict(zip(header, cells, strict=False))
            lat, lng = r["organisation_latitude"], r["organisation_longitude"]
            xy = (lat, lng) if isinstance(lat, float | int) and isinstance(lng, float | int) else ("", "")
            year = r["date_of_adhesion"].year if hasattr(r["date_of_adhesion"], "year") else ""
            writer.writerow([r["organisation_name"], str(r["country_code"]).upper(), "GCoM", "active", year, *xy])
            if not r["group_profile"]:
                singles.append((str(r["organisation_name"]), str(r["country_code"]).upper()))
    return out, singles


def exact_share(names: list[tuple[str, str]]) -> float:
    """Share (%) of names found as written (GeoNames name or alternate name) in the stated country."""
    gaz = get_gazetteer()
    known = {(n, str(gaz.country[i])) for i in range(len(gaz.names)) for n in (gaz.names[i], *gaz.alternate_names(i))}
    return 100 * sum((n, cc) in known for n, cc in names) / len(names)


def child(kind: str, url: str, path: str) -> None:
    """Run one import in this (fresh) process and print its figures as JSON: peak memory is its own."""
    engine = db.get_engine(url)
    db.upgrade(engine)
    get_gazetteer()  # loaded before the clock starts, as in every other figure here
    rss_before = peak_mb()
    started = time.perf_counter()
    if kind == "covenant":
        from citydiplomacy.ingest.covenant import import_covenant

        report = import_covenant(path, engine=engine, on_error="skip")
    else:
        from citydiplomacy.ingest.memberships import import_memberships

        report = import_memberships(path, engine=engine, on_error="skip")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "gazetteer_mb": rss_before,
                      "report": report.to_dict()}))  # fmt: skip


def run_child(kind: str, url: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, url, str(path)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def bench_covenant(tmp: str) -> None:
    path = settings.shared_data_path("gcom_signatories_2024.xlsx")
    if not path.exists():
        print(f"covenant skipped: real data set absent ({path})")
        return
    print("covenant import (shared, loaded machine: timings vary with the load)")
    url = f"sqlite:///{tmp}/covenant.db"
    first = run_child("covenant", url, path)
    r = first["report"]
    rows = r["rows_read"]
    print(f"  citydip import covenant: {first['seconds']:.1f} s (aim <= 30 s), {rows / first['seconds']:,.0f} rows/s, "
          f"write lock held {r['write_seconds']:.2f} s, peak memory {first['peak_mb']:.0f} MB "
          f"(gazetteer alone {first['gazetteer_mb']:.0f} MB)")  # fmt: skip
    print(f"  created: {r['records_created']}; rows rejected {r['rows_rejected']}")
    again = run_child("covenant", url, path)
    print(f"  re-import: {again['seconds']:.1f} s, created {sum(again['report']['records_created'].values())} records")
    d = r["details"]
    n = r["places_resolved"] + r["places_subdivision"] + r["places_ambiguous"] + r["places_unresolved"]
    print(f"  places: {n:,}; resolved {100 * r['places_resolved'] / n:.1f}% "
          f"(by coordinates {100 * d['places resolved by coordinates'] / n:.1f}%, by name and country "
          f"{100 * d['places resolved by name and country'] / n:.1f}%, of which after the coordinates found "
          f"nothing {100 * d['of which after the coordinates found nothing'] / n:.1f}%), subdivisions "
          f"{100 * r['places_subdivision'] / n:.1f}%, ambiguous {100 * r['places_ambiguous'] / n:.1f}%, "
          f"unresolved {100 * r['places_unresolved'] / n:.1f}%")  # fmt: skip
    print(f"  groups: {d['group rows split']} rows split into {d['towns of groups']} towns")
    csv_path, singles = covenant_as_memberships(path, Path(tmp) / "covenant_as_memberships.csv")
    base = run_child("memberships", f"sqlite:///{tmp}/baseline.db", csv_path)
    b = base["report"]
    print(f"  baseline, citydip import memberships on the same rows: {base['seconds']:.1f} s, "
          f"{b['rows_read'] / base['seconds']:,.0f} rows/s, peak memory {base['peak_mb']:.0f} MB; "
          f"created {b['records_created']}")  # fmt: skip
    bn = b["places_resolved"] + b["places_subdivision"] + b["places_ambiguous"] + b["places_unresolved"]
    print(f"    its places resolved: {100 * b['places_resolved'] / bn:.1f}% of {bn:,} (raw coordinates, groups as one "
          "place)")  # fmt: skip
    print(f"  baseline exact name-in-country lookup of the single municipalities: {exact_share(singles):.1f}% found")


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="also import into this (empty, throwaway) PostgreSQL database URL")
    parser.add_argument("--source", choices=("twinning", "covenant", "all"), default="all")
    args = parser.parse_args()
    if args.source in ("covenant", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            bench_covenant(tmp)
        if args.source == "covenant":
            return 0
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
