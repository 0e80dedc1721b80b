"""Benchmark the Wikidata pairs import on the real crawl, after twin_cities.csv (and the missions file).

Run ``python bench/bench_wikidata_pairs.py [--no-missions]``.  Into a fresh SQLite registry:

1. import ``../shared/data/twin_cities.csv`` (with coordinates) and, unless ``--no-missions``,
   ``embassies.csv`` (which lends its cities' Wikidata ids to the places it resolves);
2. the baseline, measured on that registry in the same run: join each item by its label written exactly
   as a registry place's name (case-sensitive), accepted when exactly one place has that name; and the
   precision of the label rules against the ids the missions file gave (joined with those ids withheld);
3. ``import_wikidata_pairs`` on ``wikidata_p190_2016_relations.tsv`` / ``…_names.tsv``: wall time, peak memory,
   the shares of items and pairs joined by id, by name, not at all, and the overlap with twin_cities.csv
   (ties both hold, only one);
4. the import again: nothing new (idempotence), and its time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.geo.resolve import Resolver  # noqa: E402
from citydiplomacy.ingest.missions import import_missions  # noqa: E402
from citydiplomacy.ingest.tabular import ImportReport  # noqa: E402
from citydiplomacy.ingest.twinning import import_twinning  # noqa: E402
from citydiplomacy.ingest.wikidata_pairs import (  # noqa: E402
    RegistryIndex,
    import_wikidata_pairs,
    join_items,
    read_pairs,
)
from citydiplomacy.store import db  # noqa: E402
from citydiplomacy.store.schema import Place  # noqa: E402


def peak_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline_exact(engine, relations: Path, names: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Shares (%) of items and pairs joined by exact label = one registry place's name, nothing else."""
    pairs, labels = read_pairs(relations, names, ImportReport(file=str(relations), kind="baseline"))
    with engine.connect() as conn:
        count = Counter(conn.execute(select(Place.name)).scalars())
    items = {q for p in pairs for q in p}
    joined = {q for q in items if count.get(labels.get(q, ""), 0) == 1}
    n_pairs = len(pairs) or 1
    return {
        "items joined (%)": round(100 * len(joined) / len(items), 1),
        "pairs joined (%)": round(100 * sum(a in joined and b in joined for a, b in pairs) / n_pairs, 1),
    }


def check_labels(engine, relations: Path, names: Path, resolver: Resolver) -> None:  # type: ignore[no-untyped-def]
    """Precision of the label rules against the ids the missions file gave: join with the ids withheld, and
    count the label joins landing on a place whose (missions) id is the item's, or another item's.

    Only ids the missions file gives count (places also carry their gazetteer entry's id, often another item
    of the same place: Thun's settlement Q22494742 beside the municipality Q68978 that P190 uses), and only
    label joins (a join by a gazetteer entry's id is right by construction)."""
    import re

    pairs, labels = read_pairs(relations, names, ImportReport(file=str(relations), kind="check"))
    text = settings.shared_data_path("embassies.csv").read_text(encoding="utf-8")
    missions_ids = set(re.findall(r"wikidata\.org/entity/(Q[0-9]+)", text))
    with engine.connect() as conn:
        index = RegistryIndex.load(conn)
    index.by_wikidata = {}
    join = join_items(pairs, labels, index, resolver)
    right = wrong = 0
    for q, pid in join.place.items():
        known = index.wikidata_of.get(pid)
        if known and known in missions_ids and join.how[q] in ("name", "tie", "gazetteer"):
            right += known == q
            wrong += known != q
    print(
        f"\nLabel joins checked against the missions ids (ids withheld): {right} right, {wrong} wrong "
        f"({100 * wrong / max(right + wrong, 1):.1f}% wrong)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-missions", action="store_true", help="do not import embassies.csv first (no ids)")
    args = parser.parse_args()
    twin = settings.shared_data_path("twin_cities.csv")
    missions = settings.shared_data_path("embassies.csv")
    relations = settings.shared_data_path("wikidata_p190_2016_relations.tsv")
    names = settings.shared_data_path("wikidata_p190_2016_names.tsv")
    for p in (twin, relations, names, *(() if args.no_missions else (missions,))):
        if not p.exists():
            sys.exit(f"real data set absent: {p}")
    resolver = Resolver()
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.upgrade(engine)
        t = time.perf_counter()
        import_twinning(twin, engine=engine, resolver=resolver, on_error="skip", rejects_path=Path(tmp) / "r1.csv")
        print(f"twin_cities.csv imported in {time.perf_counter() - t:.1f} s")
        if not args.no_missions:
            t = time.perf_counter()
            m = import_missions(missions, engine=engine, resolver=resolver, on_error="skip",
                                rejects_path=Path(tmp) / "r2.csv")  # fmt: skip
            print(f"embassies.csv imported in {time.perf_counter() - t:.1f} s; places given a Wikidata id: "
                  f"{m.details.get('places given a Wikidata id', 0)}")  # fmt: skip
        t = time.perf_counter()
        base = baseline_exact(engine, relations, names)
        print(f"\nBaseline (exact label = one registry place's name), {time.perf_counter() - t:.1f} s:")
        for k, v in base.items():
            print(f"  {k:<40} {v:>6.1f}")
        if not args.no_missions:
            check_labels(engine, relations, names, resolver)
        rss = peak_mb()
        t = time.perf_counter()
        report = import_wikidata_pairs(relations, names, engine=engine, resolver=resolver, on_error="skip",
                                       rejects_path=Path(tmp) / "r3.csv")  # fmt: skip
        seconds = time.perf_counter() - t
        print(f"\nimport wikidata-pairs: {seconds:.1f} s (write lock {report.write_seconds:.1f} s), "
              f"peak memory {peak_mb():.0f} MB (before: {rss:.0f} MB)")  # fmt: skip
        for k, v in report.details.items():
            print(f"  {k:<52} {v:>8}")
        print(f"  {'relations created':<52} {report.records_created['relation']:>8}")
        print(f"  {'evidence created':<52} {report.records_created['relation_evidence']:>8}")
        t = time.perf_counter()
        again = import_wikidata_pairs(relations, names, engine=engine, resolver=resolver, on_error="skip",
                                      rejects_path=Path(tmp) / "r4.csv")  # fmt: skip
        created = sum(again.records_created.values())
        print(f"\nre-import: {time.perf_counter() - t:.1f} s, records created {created} (expected 0)")
        engine.dispose()


if __name__ == "__main__":
    main()
