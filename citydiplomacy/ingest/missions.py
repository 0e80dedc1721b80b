"""Import foreign diplomatic missions by host city (the Database of Embassies and Consulates, from Wikidata).

The file is ``;``-separated with a header (and a trailing ``;``); columns read::

    operator, operatorQID, country, countryQID, city, cityQID, latitude, longitude, type, typeQID, creation, QID

``operator`` (the sending country), ``country`` and ``city`` (where the mission sits) are required.

Decisions
---------
* **Host city.**  Each distinct (city, country, coordinates) is resolved by the gazetteer; a mention it
  cannot place by name (a district it lacks, "Chanakyapuri") is attached to the nearest host place within
  :data:`settings.RESOLVE_SAME_PLACE_KM`.  Districts the gazetteer holds as places of their own (Uccle, a
  municipality of Brussels) are attached to their city by :func:`attach_nearby`: a host place within
  ``RESOLVE_SAME_PLACE_KM`` of a heavier host of the same country (a capital, else more inhabitants, then
  more missions) is counted as that host.  Weighing by missions alone would count Lima as part of San
  Isidro, its district of embassies.
* **Host city by Wikidata id.**  A mention the gazetteer cannot place by name (ambiguous, unresolved) whose
  rows give (by majority) a ``cityQID`` that a gazetteer entry carries (GeoNames places and
  countries-states-cities entries have ids) is linked to that entry, when it lies within
  :data:`settings.RESOLVE_MAX_DISTANCE_KM` of the row's coordinates (a wrong id does not move a mission
  across the world).  A mention placed by name keeps its place: "New Delhi" rows near Delhi's centre count
  as Delhi, GeoNames' capital, as before.
* **Parts named after their city** ("6th arrondissement of Lyon") are resolved to that city.
* **Sending country.**  ``operator`` is parsed to ISO 3166-1 alpha-2 by the gazetteer's country parser; an
  operator that is not a country (the European Union, the Sovereign Order of Malta) is rejected naming the
  field, as is a host country the parser does not know, a row without a city, or bad coordinates.
* **Facts** (``place_fact``, one per place, code and source): ``missions_hosted``,
  ``mission_sending_countries`` and ``embassies_hosted``, with year :data:`DATA_YEAR` (the release of the
  data set, 2022-11-16).

Re-importing the same file creates nothing and changes nothing (facts are keyed by place, code and source).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, Engine, insert, select

from citydiplomacy import settings
from citydiplomacy.geo.gazetteer import haversine_km
from citydiplomacy.ingest.common import (
    Progress,
    count_resolutions,
    file_digest,
    finish_validation,
    get_or_create_source,
    no_progress,
    resolve_mentions,
    run_staged,
)
from citydiplomacy.ingest.tabular import ImportReport, InputError, Reject, parse_float
from citydiplomacy.store.audit import record_bulk_select
from citydiplomacy.store.places import (
    Mention,
    PlaceStage,
    apply_places,
    last_id,
    lend_wikidata_ids,
    place_key,
    stage_places,
)
from citydiplomacy.store.schema import PlaceFact, utcnow

if TYPE_CHECKING:
    from citydiplomacy.geo.gazetteer import Gazetteer
    from citydiplomacy.geo.resolve import Resolution, Resolver

__all__ = [
    "DATA_YEAR",
    "attach_nearby",
    "commit_place_facts",
    "country_code",
    "import_missions",
    "read_delimited",
    "write_place_facts",
]

#: The year of the data set's release (version of 2022-11-16): the year of every fact it gives.
DATA_YEAR = 2022
REQUIRED = ("operator", "country", "city")
COLUMNS = ("file", "operator", "operatorqid", "country", "countryqid", "city", "cityqid", "latitude", "longitude",
           "type", "creation", "qid")  # fmt: skip
EMBASSY = "embassy"


def read_delimited(
    path: Path, *, delimiter: str, header: Iterable[str] | None = None, required: Iterable[str] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, {column: text})`` of a delimited text file, UTF-8.

    Parameters
    ----------
    path
        The file.
    delimiter
        The field separator (``;`` for the embassies file, ``,`` for OpenFlights).
    header
        The column names of a file without a header row; None: the first row is the header (lower-cased).
    required
        Columns a header row must name.

    Raises
    ------
    InputError
        The file is missing, not UTF-8, malformed, or its header lacks a required column.
    """
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 at byte offset {exc.start}; save the file as UTF-8") from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        if header is None:
            names = [c.strip().lower() for c in next(reader, [])]
            missing = [c for c in required if c not in names]
            if missing:
                raise InputError(path, f"missing required column(s) {', '.join(missing)}", row=1, field=missing[0])
        else:
            names = list(header)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            yield reader.line_num, {n: (cells[i].strip() if i < len(cells) else "") for i, n in enumerate(names) if n}
    except csv.Error as exc:
        raise InputError(path, f"malformed file: {exc}", row=reader.line_num) from exc


def attach_nearby(
    places: dict[str, tuple[float | None, float | None, str, float]], radius_km: float = settings.RESOLVE_SAME_PLACE_KM
) -> dict[str, str]:
    """Map each place key to the key it is counted as: the heaviest place of its country within ``radius_km``.

    Parameters
    ----------
    places
        Place key -> (latitude, longitude in degrees, ISO2 country, weight); a heavier place absorbs a
        lighter one nearby (weights tie-broken by key, so the result does not depend on order).
    radius_km
        Distance (km) within which two places count as one metropolitan place.

    Returns
    -------
    dict[str, str]
        Every key of ``places`` -> its representative key (itself when nothing heavier is near).
    """
    order = sorted(places, key=lambda k: (-places[k][3], k))
    roots: dict[str, tuple[list[str], list[float], list[float]]] = defaultdict(lambda: ([], [], []))
    out: dict[str, str] = {}
    for key in order:
        lat, lng, cc, _w = places[key]
        keys, lats, lngs = roots[cc]
        if lat is not None and lng is not None and keys:
            d = haversine_km(lat, lng, np.asarray(lats), np.asarray(lngs))
            i = int(np.argmin(d))
            if d[i] <= radius_km:
                out[key] = keys[i]
                continue
        out[key] = key
        if lat is not None and lng is not None:
            keys.append(key)
            lats.append(lat)
            lngs.append(lng)
    return out


def write_place_facts(
    conn: Connection,
    facts: dict[tuple[str, str], float],
    place_ids: dict[str, int],
    *,
    year: int | None,
    source_id: int,
    locator: Callable[[str], str],
    actor: str,
    context: str,
    report: ImportReport,
) -> None:
    """Insert the facts ``(mention key, code) -> value`` the source does not hold yet, audited.

    ``place_ids`` maps mention keys to place ids (:func:`~citydiplomacy.store.places.apply_places`); a fact
    already stored for the place, code and source is left as it is (re-imports change nothing).
    """
    fact = PlaceFact.__table__
    held = {(p, c) for p, c in conn.execute(select(fact.c.place_id, fact.c.code).where(fact.c.source_id == source_id))}
    now = utcnow()
    rows, seen = [], set()
    for (key, code), value in sorted(facts.items()):
        pid = place_ids[key]
        if (pid, code) in held or (pid, code) in seen:
            continue
        seen.add((pid, code))
        rows.append({"place_id": pid, "code": code, "value": float(value), "year": year, "source_id": source_id,
                     "source_locator": locator(key)[:500], "retrieved_at": now, "entered_by": actor,
                     "entered_at": now})  # fmt: skip
    before = last_id(conn, fact)
    if rows:
        conn.execute(insert(fact), rows)
    ours = select(fact.c.id).where(fact.c.id > before, fact.c.source_id == source_id)
    created = record_bulk_select(conn, actor=actor, action="insert", entity="place_fact", ids=ours, context=context)
    report.records_created["place_fact"] += created
    report.already_present["place_fact"] += len(facts) - created


def commit_place_facts(
    engine: Engine | None,
    report: ImportReport,
    resolved: Sequence[tuple[Mention, Resolution]],
    facts: dict[tuple[str, str], float],
    *,
    source: dict[str, Any],
    year: int | None,
    locator: Callable[[str], str],
    actor: str,
    context: str,
    progress: Progress,
    started: float,
    wikidata_ids: dict[str, str] | None = None,
) -> ImportReport:
    """The write step of an import of place facts: places staged outside the lock, then the source, the places
    and the facts (:func:`write_place_facts`) written in one short transaction; the report completed.

    ``source``: :func:`~citydiplomacy.ingest.common.get_or_create_source`'s arguments but the retrieval time.
    ``wikidata_ids``: mention key -> the place's Wikidata id, stored on places that have none
    (:func:`~citydiplomacy.store.places.lend_wikidata_ids`).
    """

    def stage(conn: Connection) -> PlaceStage:
        return stage_places(conn, resolved, actor=actor)

    def apply(conn: Connection, places: PlaceStage) -> None:
        source_id = get_or_create_source(conn, retrieved_at=utcnow(), **source)
        place_ids, created = apply_places(conn, places, source_id=source_id, actor=actor, context=context)
        report.records_created["place"] += created
        report.already_present["place"] += len(set(place_ids.values())) - created
        write_place_facts(conn, facts, place_ids, year=year, source_id=source_id, actor=actor, context=context,
                          locator=locator, report=report)  # fmt: skip
        if wikidata_ids:
            lent = {place_ids[k]: q for k, q in wikidata_ids.items() if k in place_ids}
            report.details["places given a Wikidata id"] = lend_wikidata_ids(conn, lent, actor=actor, context=context)

    report.write_seconds = round(run_staged(engine, stage, apply, progress), 3)
    report.committed = True
    report.seconds = round(time.perf_counter() - started, 3)
    return report


#: Territories the gazetteer's country parser does not know by these names (ISO 3166-1 codes of their own).
_TERRITORIES = {"macau": "MO", "svalbard": "SJ", "midway islands": "UM", "wake island": "UM", "johnston atoll": "UM"}
#: "Ministry of Foreign Affairs of the Russian Federation", "Government of Sweden": the country behind it.
_ORGAN_OF = re.compile(r"^(?:ministry of foreign affairs|government)(?:\s+and\s+[\w\s]+?)?\s+of\s+(?:the\s+)?",
                       re.IGNORECASE)  # fmt: skip


def country_code(gazetteer: Gazetteer, text: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a source's country name (None when it names no country).

    The gazetteer's parser first; then a few territories by their usual English names (Macau, Svalbard),
    and a ministry or government named after its country.

    >>> from citydiplomacy.geo.resolve import Resolver
    >>> gaz = Resolver().gaz
    >>> country_code(gaz, "Macau"), country_code(gaz, "Ministry of Foreign Affairs of the Russian Federation")
    ('MO', 'RU')
    >>> country_code(gaz, "Sovereign Military Order of Malta") is None
    True
    """
    code = gazetteer.parse_country(text).code
    if code is None:
        code = _TERRITORIES.get(" ".join(text.lower().split()))
    if code is None and _ORGAN_OF.match(text.strip()):
        code = gazetteer.parse_country(_ORGAN_OF.sub("", text.strip())).code
    return code


#: "6th arrondissement of Lyon", "Borough of Queens": a part of a city, named after it.
_PART_OF = re.compile(r"\b(?:arrondissement|district|borough|ward)\s+of\s+(?:the\s+)?(?P<city>.+)$", re.IGNORECASE)


def _parts_as_cities(
    resolved: list[tuple[Mention, Resolution]], resolver: Resolver
) -> tuple[list[tuple[Mention, Resolution]], int]:
    """Resolve a place named as a part of a city ("6th arrondissement of Lyon") to that city, when it is bigger.

    A city whose own name no mission row gives (Lyon's consulates are filed under its arrondissements) would
    otherwise be counted once per part.
    """
    out, parts = [], 0
    for m, r in resolved:
        match = _PART_OF.search(r.name if r.status == "resolved" else m.name)
        if match:
            city = resolver.resolve(match["city"], m.country, m.lat, m.lng)
            if city.status == "resolved" and (city.population or 0) > (r.population or 0):
                r, parts = city, parts + 1
        out.append((m, r))
    return out, parts


def _coordinate(path: Path, row_no: int, field: str, text: str, limit: float) -> float | None:
    return parse_float(path, row_no, field, text.strip(), low=-limit, high=limit) if text.strip() else None


def _validate(path: Path, row_no: int, row: dict[str, str], resolver: Resolver) -> tuple[Mention, str, str]:
    city = " ".join(row.get("city", "").split())
    if not city:
        raise InputError(path, "no city: the mission's host city is unknown", row=row_no, field="city")
    host = country_code(resolver.gaz, row.get("country", ""))
    if host is None:
        raise InputError(path, f"unknown country {row.get('country', '')!r}", row=row_no, field="country")
    sender = country_code(resolver.gaz, row.get("operator", ""))
    if sender is None:
        raise InputError(path, f"the operator {row.get('operator', '')!r} is not a country", row=row_no,
                         field="operator")  # fmt: skip
    lat = _coordinate(path, row_no, "latitude", row.get("latitude", ""), 90)
    lng = _coordinate(path, row_no, "longitude", row.get("longitude", ""), 180)
    if (lat is None) != (lng is None) or (lat == 0 and lng == 0):
        raise InputError(path, "coordinates must be both given, and not 0,0", row=row_no, field="latitude")
    return Mention(city, host, lat, lng), sender, row.get("type", "").strip().lower()


def import_missions(
    path: str | Path,
    *,
    engine: Engine | None = None,
    resolver: Resolver | None = None,
    on_error: str = "abort",
    rejects_path: str | Path | None = None,
    actor: str | None = None,
    progress: Progress = no_progress,
    year: int | None = DATA_YEAR,
) -> ImportReport:
    """Import the missions file in one transaction: per host place, missions, sending countries, embassies.

    Parameters
    ----------
    path
        The ``;``-separated embassies file (see the module docstring).
    engine, resolver, on_error, rejects_path, actor, progress
        As :func:`citydiplomacy.ingest.twinning.import_twinning`.
    year
        The year stored with every fact (the data set's release year).

    Returns
    -------
    ImportReport
        ``records_created`` for place and place_fact; ``details``: missions imported, places with missions,
        districts attached to their city, the share of host mentions resolved (%).

    Raises
    ------
    InputError
        The file cannot be read or lacks a required column.
    ImportAborted
        Rows were rejected with ``on_error="abort"``; nothing was written.
    DatabaseUnavailable
        The database is locked or unreachable; nothing was written.
    """
    from citydiplomacy.geo.resolve import Resolver

    started = time.perf_counter()
    path = Path(path)
    actor = actor or settings.DEFAULT_ACTOR
    resolver = resolver or Resolver()
    report = ImportReport(file=str(path), kind="missions")
    missions: list[tuple[int, Mention, str, str]] = []
    qid_votes: dict[str, Counter[str]] = defaultdict(Counter)  # mention key -> the city ids its rows give
    for row_no, row in read_delimited(path, delimiter=";", required=REQUIRED):
        report.rows_read += 1
        try:
            missions.append((row_no, *_validate(path, row_no, row, resolver)))
            qid = _QID.search(row.get("cityqid", ""))
            if qid:
                qid_votes[missions[-1][1].key][qid[0]] += 1
        except InputError as exc:
            report.rejects.append(Reject(exc.row or row_no, exc.field, exc.reason, {"file": path.name, **row}))
    if report.rows_read == 0:
        raise InputError(path, "no data rows under the header")
    finish_validation(report, on_error, Path(rejects_path) if rejects_path else None, COLUMNS)

    mentions = list({m.key: m for _r, m, _s, _t in missions}.values())
    resolved = _by_wikidata_id(resolve_mentions(mentions, resolver, progress), resolver, qid_votes)
    resolved, parts = _parts_as_cities(resolved, resolver)
    count_resolutions(report, resolved)
    n_missions = Counter(m.key for _r, m, _s, _t in missions)
    key_of = {m.key: place_key(m, r) for m, r in resolved}
    # Metropolitan grouping over resolved places (by place key); unresolved mentions join the nearest.
    hosted: dict[tuple[str, str], int] = Counter()
    where: dict[tuple[str, str], tuple[float | None, float | None, str, float]] = {}
    for m, r in resolved:
        if r.status == "resolved":
            hosted[key_of[m.key]] += n_missions[m.key]
            # A capital first, then the more populous, then the one hosting more missions: missions
            # cluster in a capital's districts (San Isidro in Lima), and the city is not its district.
            where[key_of[m.key]] = (
                r.lat,
                r.lng,
                r.country_code or m.country,
                r.is_capital * 1e10 + (r.population or 0),
            )
    keyed = {"|".join(k): (lat, lng, cc, w + hosted[k] * 1e-3) for k, (lat, lng, cc, w) in where.items()}
    root = attach_nearby(keyed)
    rep_mention: dict[str, tuple[Mention, Resolution]] = {}
    for m, r in resolved:
        if r.status == "resolved":
            rep_mention.setdefault("|".join(key_of[m.key]), (m, r))
    host_of: dict[str, str] = {}  # mention key -> representative place key ("gazetteer|id")
    attached = 0
    for m, r in resolved:
        if r.status == "resolved":
            host_of[m.key] = root["|".join(key_of[m.key])]
            attached += host_of[m.key] != "|".join(key_of[m.key])
        elif m.lat is not None:
            probe = {"probe": (m.lat, m.lng, m.country, -1.0)} | {k: v for k, v in keyed.items() if root[k] == k}
            near = attach_nearby(probe)["probe"]
            host_of[m.key] = near if near != "probe" else m.key
            attached += near != "probe"
        else:
            host_of[m.key] = m.key
    # One mention stands for each host place: the first resolved to it, or the unattached mention itself.
    chosen = {h: rep_mention[h] for h in set(host_of.values()) if h in rep_mention}
    chosen |= {m.key: (m, r) for m, r in resolved if host_of[m.key] == m.key}
    final = list(chosen.values())
    mention_of_host = {h: mr[0].key for h, mr in chosen.items()}
    wikidata_ids = _host_wikidata_ids(resolved, key_of, host_of, qid_votes, mention_of_host)

    facts: dict[tuple[str, str], float] = Counter()
    senders: dict[str, set[str]] = defaultdict(set)
    for _row, m, sender, kind in missions:
        k = mention_of_host[host_of[m.key]]
        facts[(k, "missions_hosted")] += 1
        facts[(k, "embassies_hosted")] += kind == EMBASSY
        senders[k].add(sender)
    for k, s in senders.items():
        facts[(k, "mission_sending_countries")] = len(s)
    hosts = Counter({k: facts[(k, "missions_hosted")] for k in senders})
    names = {m.key: (r.name if r.status == "resolved" else m.name) for m, r in final}
    report.details.update({
        "missions imported": len(missions),
        "places with missions": len(hosts),
        "host mentions attached to a bigger host nearby (districts)": attached,
        "host places named as a part of their city (arrondissements)": parts,
        "share of host mentions resolved (%)": round(100 * report.places_resolved / (len(resolved) or 1), 1),
    })  # fmt: skip
    report.details |= {f"top host {i}: {names[k]}": n for i, (k, n) in enumerate(hosts.most_common(5), 1)}
    digest = file_digest(path)
    context = f"import missions {path.name}"

    source = {
        "name": f"{path.name} sha256:{digest[:16]}", "kind": "file", "uri": str(path.resolve()),
        "citation": "Database of Embassies and Consulates (database-of-embassies), version of 2022-11-16; data "
        "from Wikidata, CC0.",
    }  # fmt: skip
    return commit_place_facts(
        engine, report, final, facts, source=source, year=year, actor=actor, context=context, progress=progress,
        locator=lambda k: f"missions in {names.get(k, k)}", started=started, wikidata_ids=wikidata_ids,
    )  # fmt: skip


def _by_wikidata_id(
    resolved: list[tuple[Mention, Resolution]], resolver: Resolver, votes: dict[str, Counter[str]]
) -> list[tuple[Mention, Resolution]]:
    """Link each mention not placed by name whose rows' city id (by majority) is a gazetteer entry's to that
    entry (see the module docstring)."""
    gaz = resolver.gaz
    out = []
    for m, r in resolved:
        counts = votes.get(m.key) if not r.linked else None
        top = counts.most_common(2) if counts else []
        at = gaz.index_of_wikidata(top[0][0]) if top and (len(top) == 1 or top[0][1] > top[1][1]) else None
        near = at is not None and (
            m.lat is None
            or m.lng is None
            or float(gaz.distance_km(at, m.lat, m.lng)) <= settings.RESOLVE_MAX_DISTANCE_KM
        )
        if near:
            r = resolver.entry_resolution(at)  # type: ignore[arg-type]
        out.append((m, r))
    return out


#: A Wikidata item id, bare or in an entity URL (``http://www.wikidata.org/entity/Q3114``).
_QID = re.compile(r"(?<![A-Za-z0-9])Q[1-9][0-9]*$")


def _host_wikidata_ids(
    resolved: Sequence[tuple[Mention, Resolution]],
    key_of: dict[str, tuple[str, str]],
    host_of: dict[str, str],
    votes: dict[str, Counter[str]],
    mention_of_host: dict[str, str],
) -> dict[str, str]:
    """Each host place's Wikidata id: the one most of the rows naming it (not a district attached to it) give.

    A district attached to its city (Uccle to Brussels) lends the city nothing; an id more than one host
    would receive is given to none.

    Returns
    -------
    dict[str, str]
        Mention key (the one standing for its host) -> Wikidata id.
    """
    per_host: dict[str, Counter[str]] = defaultdict(Counter)
    for m, r in resolved:
        own = "|".join(key_of[m.key]) if r.status == "resolved" else m.key
        if host_of[m.key] == own:
            per_host[own].update(votes.get(m.key, {}))
    out: dict[str, str] = {}
    for host, counts in per_host.items():
        if counts and host in mention_of_host:
            (qid, n), *rest = counts.most_common(2)
            if not rest or n > rest[0][1]:
                out[mention_of_host[host]] = qid
    taken = Counter(out.values())
    return {k: q for k, q in out.items() if taken[q] == 1}
