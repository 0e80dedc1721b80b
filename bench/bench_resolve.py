"""Benchmark the place-name resolver on the real sister-city file and print its figures.

Run ``python bench/bench_resolve.py [--sample N]``.  Measures, over the distinct places of
``twin_cities.csv`` (distinct (name, country) pairs over both sides):

* gazetteer load + index time and the process's peak memory,
* WITH the file's coordinates: share linked to a gazetteer entry (GeoNames or CSC) within 30 km of them (right) and
  farther (wrong); subdivisions / ambiguous / unresolved count as neither; and the number of mentions
  left ambiguous because the coordinates lie in another country than the stated one (the file's
  geocoding errors: "Perth, Scotland" at Perth, Western Australia -- "right" by this measure if linked),
* WITHOUT coordinates (names and countries only; coordinates used only for scoring): the same shares,
  against a baseline in the same run: exact name-in-country matching (the raw name equals the GeoNames
  name or an alternate name, most populous wins),
* the time to resolve all distinct places in each mode,
* with ``--explain``: the places not linked within 30 km, in classes (status; whether the gazetteer
  holds a similarly named place within 30 km of the file's coordinates; name forms such as area words,
  qualifiers, saints' names, non-Latin letters), to show which fixes can pay (the coordinates are used
  here only to explain, never by the resolver in the names-only mode).
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citydiplomacy import settings  # noqa: E402
from citydiplomacy.geo.gazetteer import get_gazetteer, haversine_km  # noqa: E402
from citydiplomacy.geo.names import normalise_name  # noqa: E402
from citydiplomacy.geo.resolve import Resolution, Resolver  # noqa: E402

RIGHT_KM = 30.0


def distinct_places(csv: Path) -> pd.DataFrame:
    """Distinct (name, country) pairs over both sides of the file, with their (first) coordinates."""
    df = pd.read_csv(csv)
    cols = ["name", "country", "lat", "lng"]
    sides = [
        df[["city1", "country1", "lat1", "lng1"]].set_axis(cols, axis=1),
        df[["city2", "country2", "lat2", "lng2"]].set_axis(cols, axis=1),
    ]
    places = pd.concat(sides, ignore_index=True)
    places["country"] = places["country"].astype(object).where(places["country"].notna(), None)
    return places.drop_duplicates(["name", "country"]).reset_index(drop=True)


def score(results: list[Resolution], places: pd.DataFrame) -> dict[str, float]:
    """Shares (of all places, in %) linked within / beyond ``RIGHT_KM`` of the file's coordinates."""
    right = wrong = 0
    status: dict[str, int] = {}
    for res, lat, lng in zip(results, places["lat"], places["lng"], strict=True):
        status[res.status] = status.get(res.status, 0) + 1
        if res.linked:
            gaz = get_gazetteer()
            i = gaz.index_of(res.gazetteer_id, res.gazetteer)  # the entry's own coordinates, not the source's
            d = float(haversine_km(lat, lng, gaz.lat[i], gaz.lng[i]))
            right += d <= RIGHT_KM
            wrong += d > RIGHT_KM
    n = len(results)
    out = {"right": 100.0 * right / n, "wrong": 100.0 * wrong / n}
    out.update({k: 100.0 * v / n for k, v in sorted(status.items())})
    return out


def country_conflicts(results: list[Resolution]) -> dict[str, int]:
    """Ambiguous results the resolver gave because the coordinates and the stated country disagree."""
    out = {"name": 0, "other": 0}
    for res in results:
        if res.status != "ambiguous":
            continue
        reasons = [str(c.get("reason", "")) for c in res.candidates]
        if any("coordinates point elsewhere" in r for r in reasons):
            out["name"] += 1
        elif any("not the stated" in r for r in reasons):
            out["other"] += 1
    return out


def baseline(places: pd.DataFrame) -> list[tuple[int | None]]:
    """Exact name-in-country matching: raw name equal to a GeoNames name/alternate, most populous wins."""
    gaz = get_gazetteer()
    out: list[int | None] = []
    for name, country in zip(places["name"], places["country"], strict=True):
        cc = gaz.parse_country(country).code
        idx = gaz.lookup(name, cc, loose=False)  # a superset (normalised); keep raw equality only
        idx = [int(i) for i in idx if name == gaz.names[i] or name in gaz.alternate_names(int(i))]
        out.append(max(idx, key=lambda i: gaz.population[i]) if idx else None)
    return out


def score_baseline(picks: list[int | None], places: pd.DataFrame) -> dict[str, float]:
    gaz = get_gazetteer()
    right = wrong = 0
    for i, lat, lng in zip(picks, places["lat"], places["lng"], strict=True):
        if i is None:
            continue
        d = float(haversine_km(lat, lng, gaz.lat[i], gaz.lng[i]))
        right += d <= RIGHT_KM
        wrong += d > RIGHT_KM
    n = len(picks)
    return {"right": 100.0 * right / n, "wrong": 100.0 * wrong / n}


def unlinked_causes(results: list[Resolution], mentions: list[tuple]) -> dict[str, int]:
    """Why unresolved mentions were not linked: their name is unknown to the gazetteer (no entry in any
    country: only another source of places can help), known only in another country, or known in the
    stated country but farther than the resolver's radius from the source's coordinates (a namesake the
    gazetteer lacks, or the source's geocoding error: linking it would count as wrong here)."""
    gaz = get_gazetteer()
    out = {"name unknown to the gazetteer": 0, "known in another country only": 0, "known, but far": 0}
    for res, (name, country, _lat, _lng) in zip(results, mentions, strict=True):
        if res.status != "unresolved":
            continue
        if len(gaz.lookup(name, gaz.parse_country(country).code, loose=False)):
            out["known, but far"] += 1
        elif len(gaz.lookup(name, None, loose=False)):
            out["known in another country only"] += 1
        else:
            out["name unknown to the gazetteer"] += 1
    return out


# Name forms of the places not linked (a place may show several).
_FORMS = {
    "area word (District, County, Municipality...)": re.compile(
        r"\b(district|county|municipality|township|borough|region|province|prefecture|oblast|raion|shire|council)$",
        re.I,
    ),
    "qualifier in parentheses": re.compile(r"\("),
    "qualifier after a comma": re.compile(r","),
    "saint's name (St, San, Sankt...)": re.compile(r"\b(st|saint|sankt|san|santa|sainte|sao)\b", re.I),
    "Japanese/Chinese/Korean suffix (-shi, -gun, -ku, -xian)": re.compile(
        r"-(shi|gun|ku|machi|cho|mura|si|gu)$|\b(xian|shi)$", re.I
    ),
    "'City of' / 'X City'": re.compile(r"^(city|town|municipality) of |\bcity$", re.I),
    "non-Latin letters": re.compile(r"[^\x00-\u024f\u1e00-\u1eff\u2010-\u2015]"),
}


def _similar_near(gaz, name: str, lat: float, lng: float) -> str:
    """How like the name the most similar name of a gazetteer place within ``RIGHT_KM`` is."""
    from rapidfuzz import fuzz

    key, best = normalise_name(name), -1.0
    for i in gaz.near(lat, lng, RIGHT_KM):
        for n in {gaz.names[int(i)], *gaz.alternate_names(int(i))}:
            best = max(best, fuzz.ratio(key, normalise_name(n)))
    if best < 0:
        return "no gazetteer place within 30 km"
    if best >= 90:
        return "a near-identical name within 30 km (ratio >= 90)"
    if best >= 75:
        return "a similar name within 30 km (ratio 75-90)"
    return "no similar name within 30 km (ratio < 75): the gazetteer lacks the place"


def explain(results: list[Resolution], mentions: list[tuple], label: str) -> None:
    """Print the classes of the places not linked within ``RIGHT_KM`` (see the module docstring)."""
    gaz = get_gazetteer()
    classes: dict[str, int] = {}
    forms: dict[str, int] = {}
    for res, (name, _country, lat, lng) in zip(results, mentions, strict=True):
        if res.linked:
            i = gaz.index_of(res.gazetteer_id, res.gazetteer)
            if float(haversine_km(lat, lng, gaz.lat[i], gaz.lng[i])) <= RIGHT_KM:
                continue
            status = "linked farther than 30 km"
        else:
            status = res.status
        cls = f"{status}; {_similar_near(gaz, name, lat, lng)}"
        classes[cls] = classes.get(cls, 0) + 1
        for form, rx in _FORMS.items():
            if rx.search(str(name)):
                forms[form] = forms.get(form, 0) + 1
    n = len(results)
    print(f"\n--- places not linked within 30 km, {label} coordinates: {sum(classes.values()):,} ---")
    for cls, k in sorted(classes.items(), key=lambda kv: -kv[1]):
        print(f"  {k:6,} ({100.0 * k / n:5.2f}%)  {cls}")
    print("  by name form (a place may show several):")
    for form, k in sorted(forms.items(), key=lambda kv: -kv[1]):
        print(f"  {k:6,} ({100.0 * k / n:5.2f}%)  {form}")


def fmt_causes(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in d.items())


def fmt(d: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}%" for k, v in d.items())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=0, help="resolve only a random sample of N places")
    ap.add_argument("--show-wrong", type=int, default=0, help="print N wrong/unlinked examples per mode")
    ap.add_argument("--explain", action="store_true", help="classify the places not linked within 30 km")
    args = ap.parse_args()
    csv = settings.shared_data_path("twin_cities.csv")
    if not csv.exists():
        print(f"real data absent ({csv}); nothing to measure")
        return 0
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t = time.perf_counter()
    gaz = get_gazetteer()
    t_load = time.perf_counter() - t
    grown = (proc.memory_info().rss - rss0) / 1e6
    print(f"gazetteer: {len(gaz):,} places; load+index {t_load:.2f} s; RSS +{grown:.0f} MB")

    places = distinct_places(csv)
    print(f"distinct places = distinct (name, country) pairs over both sides: {len(places):,}")
    if args.sample:
        places = places.sample(args.sample, random_state=0).reset_index(drop=True)
        print(f"sample of {len(places):,}")
    mentions = list(zip(places["name"], places["country"], places["lat"], places["lng"], strict=True))

    t, c = time.perf_counter(), time.process_time()
    with_xy = Resolver(gaz).resolve_many(mentions)
    t_xy, c_xy = time.perf_counter() - t, time.process_time() - c
    s_xy = score(with_xy, places)
    print(f"\nWITH coordinates   ({t_xy:.2f} s wall, {c_xy:.2f} s CPU): {fmt(s_xy)}")
    print("  target (issue 11): right >= 93%, wrong <= 0.5%")
    print(f"  not linked, by cause: {fmt_causes(unlinked_causes(with_xy, mentions))}")
    conflicts = country_conflicts(with_xy)
    print(
        f"  country-conflict ambiguous (coordinates in another country than the stated one): "
        f"{conflicts['name']:,} with a same-named place in the stated country, "
        f"{conflicts['other']:,} matched abroad only under another name"
    )

    t, c = time.perf_counter(), time.process_time()
    blind = Resolver(gaz, use_coordinates=False).resolve_many(mentions)
    t_blind, c_blind = time.perf_counter() - t, time.process_time() - c
    s_blind = score(blind, places)
    print(f"WITHOUT coordinates ({t_blind:.2f} s wall, {c_blind:.2f} s CPU): {fmt(s_blind)}")
    print("  target (issue 11): right >= 88%, wrong <= 3%")

    t = time.perf_counter()
    base = score_baseline(baseline(places), places)
    t_base = time.perf_counter() - t
    print(f"BASELINE exact name-in-country, most populous ({t_base:.2f} s): {fmt(base)}")
    print(
        f"  resolver vs baseline without coordinates: right {s_blind['right']:.2f}% vs {base['right']:.2f}% "
        f"(x{s_blind['right'] / max(base['right'], 1e-9):.3f}, "
        f"+{s_blind['right'] - base['right']:.2f} points); "
        f"wrong {s_blind['wrong']:.2f}% vs {base['wrong']:.2f}%"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (max RSS): {peak:.0f} MB")

    if args.explain:
        explain(with_xy, mentions, "with")
        explain(blind, mentions, "without")

    if args.show_wrong:
        for label, results in (("with", with_xy), ("without", blind)):
            print(f"\n--- examples {label} coordinates (not right) ---")
            shown = 0
            for res, (name, country, lat, lng) in zip(results, mentions, strict=True):
                if res.linked:
                    i = gaz.index_of(res.gazetteer_id, res.gazetteer)
                    d = float(haversine_km(lat, lng, gaz.lat[i], gaz.lng[i]))
                    if d <= RIGHT_KM:
                        continue
                    tag = f"WRONG {d:.0f} km -> {res.name} ({res.country_code})"
                else:
                    tag = f"{res.status} {res.candidates[:1]}"
                print(f"{name!r:40} {country!r:25} {lat:.3f},{lng:.3f}  {tag}")
                shown += 1
                if shown >= args.show_wrong:
                    break

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
