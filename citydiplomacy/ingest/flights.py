"""Import direct air routes (OpenFlights airports and routes): each city's international reach by air.

Both files are OpenFlights' own comma-separated formats without a header, ``\\N`` for a missing value:

* airports: id, name, city, country (a name), IATA, ICAO, latitude, longitude, altitude, UTC offset, DST,
  time zone, type, source;
* routes: airline, airline id, source airport, source airport id, destination airport, destination airport
  id, codeshare, stops, equipment.

Decisions
---------
* **An airport's place** is its ``city`` resolved with its country and coordinates; when nothing of that
  name lies near the airport (airports sit outside their city) it is resolved again by name and country.
* **Metropolitan areas count once.**  Airports naming the same city resolve to the same place (Heathrow,
  Gatwick, Stansted: London).  Places that resolve apart but lie within
  :data:`settings.RESOLVE_SAME_PLACE_KM` of a more populous place of the same country are counted as that
  place (:func:`citydiplomacy.ingest.missions.attach_nearby`): a suburb's airport serves the city.
* **A route** is a direct flight from one airport to another; airlines and codeshares flying the same
  pair count once.  A route's airports are found by OpenFlights id, else by IATA/ICAO code.  A route
  naming an airport the airports file lacks is rejected (file, row, field).
* **Facts** (``place_fact``), for every place with a route out: ``air_destinations_intl`` (distinct places
  abroad reached directly) and ``air_countries`` (distinct countries reached, its own excluded), with year
  :data:`DATA_YEAR` (the routes are a 2014 snapshot).

Re-importing the same files creates nothing and changes nothing.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from citydiplomacy import settings
from citydiplomacy.ingest.common import (
    ON_ERROR_CHOICES,
    ImportAborted,
    Progress,
    count_resolutions,
    file_digest,
    finish_validation,
    no_progress,
    resolve_mentions,
)
from citydiplomacy.ingest.missions import attach_nearby, commit_place_facts, country_code, read_delimited
from citydiplomacy.ingest.tabular import ImportReport, InputError, Reject, parse_float
from citydiplomacy.store.places import Mention, place_key

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolution, Resolver

__all__ = ["AIRPORT_COLUMNS", "DATA_YEAR", "ROUTE_COLUMNS", "import_flights"]

#: The year of the routes snapshot: the year of every fact this source gives.
DATA_YEAR = 2014
AIRPORT_COLUMNS = ("id", "name", "city", "country", "iata", "icao", "latitude", "longitude", "altitude",
                   "utc_offset", "dst", "tz", "type", "source")  # fmt: skip
ROUTE_COLUMNS = ("airline", "airline_id", "source_airport", "source_airport_id", "destination_airport",
                 "destination_airport_id", "codeshare", "stops", "equipment")  # fmt: skip
COLUMNS = ("file", *AIRPORT_COLUMNS[:8], *ROUTE_COLUMNS[2:6])
_MISSING = "\\N"


def _text(row: dict[str, str], column: str) -> str:
    value = row.get(column, "").strip()
    return "" if value == _MISSING else value


def _airport(path: Path, row_no: int, row: dict[str, str], resolver: Resolver) -> tuple[str, Mention]:
    ident = _text(row, "id")
    if not ident:
        raise InputError(path, "no airport id", row=row_no, field="id")
    city = " ".join(_text(row, "city").split())
    if not city:
        raise InputError(path, f"airport {_text(row, 'name')!r} has no city", row=row_no, field="city")
    cc = country_code(resolver.gaz, _text(row, "country"))
    if cc is None:
        raise InputError(path, f"unknown country {_text(row, 'country')!r}", row=row_no, field="country")
    lat = parse_float(path, row_no, "latitude", _text(row, "latitude"), low=-90, high=90)
    lng = parse_float(path, row_no, "longitude", _text(row, "longitude"), low=-180, high=180)
    if lat is None or lng is None:
        lat = lng = None
    return ident, Mention(city, cc, lat, lng)


def import_flights(
    airports: str | Path,
    routes: str | Path,
    *,
    engine: Engine | None = None,
    resolver: Resolver | None = None,
    on_error: str = "abort",
    rejects_path: str | Path | None = None,
    actor: str | None = None,
    progress: Progress = no_progress,
    year: int | None = DATA_YEAR,
) -> ImportReport:
    """Import OpenFlights airports and routes in one transaction: each place's international air reach.

    Parameters
    ----------
    airports, routes
        The OpenFlights ``airports.dat`` and ``routes.dat`` files (see the module docstring).
    engine, resolver, on_error, rejects_path, actor, progress
        As :func:`citydiplomacy.ingest.twinning.import_twinning`; rejects of both files go to one file,
        its ``file`` column naming which.
    year
        The year stored with every fact (the routes snapshot's).

    Returns
    -------
    ImportReport
        ``records_created`` for place and place_fact; ``details``: airports read and resolved (share, %),
        distinct routes, places with international routes, and the top 5 places by destinations.

    Raises
    ------
    InputError
        A file cannot be read.
    ImportAborted
        Rows were rejected with ``on_error="abort"``; nothing was written.
    DatabaseUnavailable
        The database is locked or unreachable; nothing was written.
    """
    from citydiplomacy.geo.resolve import Resolver

    started = time.perf_counter()
    airports, routes = Path(airports), Path(routes)
    actor = actor or settings.DEFAULT_ACTOR
    resolver = resolver or Resolver()
    report = ImportReport(file=str(airports), kind="flights")
    mention_of: dict[str, Mention] = {}  # airport id -> mention
    by_code: dict[str, str] = {}  # IATA / ICAO -> airport id
    for row_no, row in read_delimited(airports, delimiter=",", header=AIRPORT_COLUMNS):
        report.rows_read += 1
        try:
            ident, mention = _airport(airports, row_no, row, resolver)
        except InputError as exc:
            report.rejects.append(Reject(exc.row or row_no, exc.field, exc.reason, {"file": airports.name, **row}))
            continue
        mention_of[ident] = mention
        for code in (_text(row, "iata"), _text(row, "icao")):
            if code:
                by_code.setdefault(code.upper(), ident)
    n_airports = report.rows_read
    pairs: set[tuple[str, str]] = set()
    for row_no, row in read_delimited(routes, delimiter=",", header=ROUTE_COLUMNS):
        report.rows_read += 1
        ends = []
        for end in ("source_airport", "destination_airport"):
            ident = _text(row, f"{end}_id")
            ident = ident if ident in mention_of else by_code.get(_text(row, end).upper(), "")
            if not ident:
                what = _text(row, f"{end}_id") or _text(row, end)
                report.rejects.append(Reject(row_no, f"{end}_id", f"airport {what!r} is not in {airports.name} "
                                             "(or was rejected there)", {"file": routes.name, **row}))  # fmt: skip
                break
            ends.append(ident)
        else:
            if ends[0] != ends[1]:
                pairs.add((ends[0], ends[1]))
    if n_airports == 0:
        raise InputError(airports, "no airports in the file")
    if on_error not in ON_ERROR_CHOICES:
        raise ValueError(f"on_error must be one of {ON_ERROR_CHOICES}, not {on_error!r}")
    # Written as "skip" then aborted here: the message must name the file of the first reject, not the airports'.
    finish_validation(report, "skip", Path(rejects_path) if rejects_path else None, COLUMNS)
    if on_error == "abort" and report.rejects:
        first = report.rejects[0]
        at = airports if first.values.get("file") == airports.name else routes
        more = f" (and {len(report.rejects) - 1} more row(s) listed in {report.rejects_file})" if len(
            report.rejects) > 1 else ""  # fmt: skip
        raise ImportAborted(f"{at}:{first.row}: {first.field}: {first.reason}{more}; nothing was imported (use "
                            "--on-error skip to import the other rows)", report)  # fmt: skip

    # Resolve the airports that have a route; those the coordinates do not place, again by name and country.
    used = {a for pair in pairs for a in pair}
    mentions = list({mention_of[a].key: mention_of[a] for a in sorted(used)}.values())
    final: list[tuple[Mention, Resolution]] = []
    again = 0
    for m, res in resolve_mentions(mentions, resolver, progress):
        if res.status != "resolved" and m.lat is not None:
            second = resolver.resolve(m.name, m.country)
            if second.status == "resolved":
                res, again = second, again + 1
        final.append((m, res))
    count_resolutions(report, final)
    key_of = {m.key: "|".join(place_key(m, r)) for m, r in final}
    where = {key_of[m.key]: (r.lat, r.lng, r.country_code or m.country, float(r.population or 0))
             for m, r in final if r.status == "resolved"}  # fmt: skip
    root = attach_nearby(where)
    stand_in: dict[str, tuple[Mention, Resolution]] = {}  # place key -> the mention written for it
    country: dict[str, str] = {}
    for m, r in final:
        k = root.get(key_of[m.key], key_of[m.key])
        key_of[m.key] = k
        stand_in.setdefault(k, (m, r))
        country.setdefault(k, r.country_code or m.country)

    out: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        src, dst = key_of[mention_of[a].key], key_of[mention_of[b].key]
        out[src]  # every place with a route out gets its facts, 0 when all its routes are domestic
        if country[dst] != country[src]:
            out[src].add(dst)
    facts: dict[tuple[str, str], float] = {}
    for src, dests in out.items():
        mkey = stand_in[src][0].key
        facts[(mkey, "air_destinations_intl")] = len(dests)
        facts[(mkey, "air_countries")] = len({country[d] for d in dests})
    written = [stand_in[k] for k in out]
    names = {m.key: (r.name if r.status == "resolved" else m.name) for m, r in written}
    top = Counter({stand_in[k][0].key: len(d) for k, d in out.items()})
    report.details.update({
        "airports read": n_airports,
        "airports with a route": len(used),
        "share of airport places resolved (%)": round(100 * report.places_resolved / (len(final) or 1), 1),
        "airport places resolved by name after their coordinates": again,
        "distinct direct routes": len(pairs),
        "places with a route": len(out),
        "places with international routes": sum(1 for d in out.values() if d),
    })  # fmt: skip
    report.details |= {f"top {i}: {names[k]} (destinations)": n for i, (k, n) in enumerate(top.most_common(5), 1)}
    digest = file_digest(airports)[:16] + file_digest(routes)[:16]
    context = f"import flights {airports.name} {routes.name}"

    source = {
        "name": f"{airports.name}+{routes.name} sha256:{digest}", "kind": "file", "uri": str(routes.resolve()),
        "citation": "OpenFlights airports and routes (jpatokal/openflights, routes snapshot of 2014), Open "
        "Database License.",
    }  # fmt: skip
    return commit_place_facts(
        engine, report, written, facts, source=source, year=year, actor=actor, context=context, progress=progress,
        locator=lambda k: f"direct routes from {names.get(k, k)}", started=started,
    )  # fmt: skip
