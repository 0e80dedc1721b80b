"""Benchmark computing the 32 indicators over a registry built from the real sister-city file.

Run ``python bench/bench_assess.py [--baseline-sample N]``.  Builds a temporary SQLite registry from
``twin_cities.csv`` (places keyed by name and country as the file writes them, one ``sister_city``
relation per distinct pair: no gazetteer resolution, which is not what is measured here), then times

* :func:`citydiplomacy.assess.indicators.compute_indicators` over every place (a few set-wise queries
  and pandas group-bys), with peak memory (tracemalloc);
* the usual way in the same run: one ORM query per place and relation-based indicator (count of
  sister cities, MoUs, friendly cities, partnerships, distinct partner countries), timed on a sample of
  places and scaled to all of them; the values are checked equal on the sample.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import psutil
import pycountry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, or_, select  # noqa: E402

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.assess.indicators import compute_indicators  # noqa: E402
from citydiplomacy.assess.registry_index import assess  # noqa: E402
from citydiplomacy.store import db  # noqa: E402
from citydiplomacy.store.schema import CityResult, Place, Relation  # noqa: E402


def _country_code(name: str) -> str | None:
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        try:
            return pycountry.countries.search_fuzzy(name)[0].alpha_2
        except LookupError:
            return None


def build_registry(csv: Path, url: str) -> tuple[int, int]:
    """Load places and sister-city relations from the file; returns (places, relations)."""
    df = pd.read_csv(csv).dropna(subset=["city1", "city2"])
    countries = pd.unique(pd.concat([df["country1"], df["country2"]]).dropna())
    codes = {name: _country_code(str(name)) for name in countries}
    keys = pd.concat(
        [
            df[["city1", "country1"]].set_axis(["name", "country"], axis=1),
            df[["city2", "country2"]].set_axis(["name", "country"], axis=1),
        ]
    ).drop_duplicates()
    keys = keys.assign(key=keys["name"].astype(str) + "|" + keys["country"].fillna("").astype(str))
    engine = db.get_engine(url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            Place.__table__.insert(),
            [
                {
                    "gazetteer": "source",
                    "gazetteer_id": key[:200],
                    "name": str(name)[:300],
                    "country_code": codes.get(country) if isinstance(country, str) else None,
                    "admin_level": "city",
                    "is_capital": False,
                    "status": "unresolved",
                    "entered_by": "bench",
                    "version": 1,
                }
                for name, country, key in keys.drop_duplicates("key").itertuples(index=False)
            ],
        )
        ids = dict(conn.execute(select(Place.gazetteer_id, Place.id)).all())
    a = (df["city1"].astype(str) + "|" + df["country1"].fillna("").astype(str)).str[:200].map(ids)
    b = (df["city2"].astype(str) + "|" + df["country2"].fillna("").astype(str)).str[:200].map(ids)
    pairs = pd.DataFrame({"a": a.combine(b, min), "b": a.combine(b, max)})
    pairs = pairs[pairs["a"] != pairs["b"]].drop_duplicates()
    with engine.begin() as conn:
        conn.execute(
            Relation.__table__.insert(),
            [
                {"place_a_id": int(x), "place_b_id": int(y), "kind": "sister_city", "status": "active"}
                | {"entered_by": "bench", "version": 1, "dimensions": []}
                for x, y in pairs.itertuples(index=False)
            ],
        )
    return len(ids), len(pairs)


def naive_values(session, place_ids: list[int]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The usual way: one query per place and indicator."""
    rows = {}
    for pid in place_ids:
        mine = or_(Relation.place_a_id == pid, Relation.place_b_id == pid)
        row = {}
        for code, kinds in (
            ("CUL02", ["sister_city"]),
            ("SEC01", ["mou", "cooperation_memorandum"]),
            ("CUL03", ["friendship"]),
            ("DEV02", ["partnership"]),
        ):
            q = select(func.count()).where(mine, Relation.kind.in_(kinds), Relation.status == "active")
            row[code] = float(session.scalar(q))
        own = session.scalar(select(Place.country_code).where(Place.id == pid))
        partners = session.scalars(
            select(Place.country_code)
            .join(
                Relation,
                or_(
                    (Relation.place_a_id == pid) & (Relation.place_b_id == Place.id),
                    (Relation.place_b_id == pid) & (Relation.place_a_id == Place.id),
                ),
            )
            .where(Relation.status == "active")
        ).all()
        row["NET05"] = float(len({c for c in partners if c is not None and c != own}))
        rows[pid] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-sample", type=int, default=1000)
    args = parser.parse_args()
    csv = settings.shared_data_path("twin_cities.csv")
    if not csv.exists():
        print(f"real data set absent: {csv}; nothing to benchmark")
        return
    proc = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        n_places, n_rel = build_registry(csv, url)
        print(f"registry: {n_places} places, {n_rel} sister-city relations (built in {time.perf_counter() - t0:.1f} s)")
        engine = db.get_engine(url)
        with db.session_scope(engine) as s:
            tracemalloc.start()
            t0 = time.perf_counter()
            table = compute_indicators(s)
            t_set = time.perf_counter() - t0
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"compute_indicators: {len(table.values)} places x {table.values.shape[1]} indicators in "
                f"{t_set:.2f} s; peak traced memory {peak / 2**20:.1f} MiB;"
                f" process RSS {proc.memory_info().rss / 2**20:.0f} MiB"
            )
            sample = list(table.values.index[: args.baseline_sample])
            t0 = time.perf_counter()
            naive = naive_values(s, sample)
            t_naive_sample = time.perf_counter() - t0
            per_place = t_naive_sample / len(sample)
            t_naive = per_place * len(table.values)
            cols = list(naive.columns)
            equal = (naive[cols].to_numpy() == table.values.loc[sample, cols].to_numpy()).all()
            print(
                f"baseline (one query per place and indicator, 5 relation indicators only): "
                f"{t_naive_sample:.2f} s for {len(sample)} places -> {t_naive:.1f} s for all (scaled)"
            )
            print(f"values equal on the sample: {bool(equal)}")
            print(f"ratio baseline / set-wise (baseline covers 5 of 32 indicators): {t_naive / t_set:.1f}x")
            t0 = time.perf_counter()
            result = assess(s, "all")
            s.flush()
            t_assess = time.perf_counter() - t0
            n_rows = s.scalar(select(func.count()).select_from(CityResult).where(CityResult.run_id == result.run_id))
            print(
                f"assess --all (indicators + CDI with the index engine + storing {n_rows} result rows): "
                f"{t_assess:.2f} s; {int(result.scores['CDI'].notna().sum())} places with a CDI; "
                f"indicators used: {len(result.engine_info['indicators_used'])}"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
