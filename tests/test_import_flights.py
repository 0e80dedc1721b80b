"""Importing OpenFlights airports and routes: international destinations and countries per place.

Small airports and routes files in OpenFlights' formats are written in each test; the real files
(../shared/data/openflights_*.dat) are imported once into a fresh registry.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from registry_helpers import dump_db
from sqlalchemy import select
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app
from citydiplomacy.geo.resolve import Resolver
from citydiplomacy.ingest.common import ImportAborted
from citydiplomacy.ingest.flights import DATA_YEAR, import_flights
from citydiplomacy.model.vocab import PLACE_FACTS
from citydiplomacy.store import db
from citydiplomacy.store.schema import Place, PlaceFact

AIRPORTS = [
    (1, "London Heathrow Airport", "London", "United Kingdom", "LHR", "EGLL", 51.4706, -0.461941),
    (2, "London Gatwick Airport", "London", "United Kingdom", "LGW", "EGKK", 51.148102, -0.190278),
    (3, "Charles de Gaulle International Airport", "Paris", "France", "CDG", "LFPG", 49.012798, 2.55),
    (4, "Paris-Orly Airport", "Paris", "France", "ORY", "LFPO", 48.7233, 2.37944),
    (5, "Manchester Airport", "Manchester", "United Kingdom", "MAN", "EGCC", 53.353699, -2.27495),
    (6, "Frankfurt am Main Airport", "Frankfurt", "Germany", "FRA", "EDDF", 50.033333, 8.570556),
    (7, "Nowhere Field", "", "France", "\\N", "LFXX", 45.0, 3.0),  # line 7: no city
]
ROUTES = [
    ("BA", "LHR", 1, "CDG", 3),
    ("BA", "LGW", 2, "ORY", 4),  # London -> Paris again, from the other airports: counted once
    ("LH", "LHR", 1, "FRA", 6),
    ("BA", "MAN", 5, "LHR", 1),  # domestic
    ("BA", "LGW", 2, "MAN", 5),  # domestic
    ("AF", "CDG", 3, "LHR", 1),
    ("AF", "ORY", 4, "FRA", 6),
    ("LH", "FRA", 6, "LHR", "\\N"),  # no airport id: found by its IATA code
]
UNKNOWN = ("BA", "LHR", 1, "XXX", "\\N")  # an airport the airports file lacks


def _write(tmp_path: Path, routes: list[tuple], airports: list[tuple] = AIRPORTS) -> tuple[Path, Path]:
    a, r = tmp_path / "airports.dat", tmp_path / "routes.dat"
    with a.open("w", encoding="utf-8", newline="") as fh:
        for ident, name, city, country, iata, icao, lat, lng in airports:
            fh.write(f'{ident},"{name}","{city}","{country}","{iata}","{icao}",{lat},{lng},100,0,"E",'
                     '"Europe/London","airport","OurAirports"\n')  # fmt: skip
    with r.open("w", encoding="utf-8", newline="") as fh:
        for airline, src, src_id, dst, dst_id in routes:
            fh.write(f"{airline},1,{src},{src_id},{dst},{dst_id},,0,320\n")
    return a, r


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver()


def _facts(url: str, country: str | None = None) -> dict[tuple[str, str], tuple[float, int | None]]:
    query = select(Place.name, PlaceFact.code, PlaceFact.value, PlaceFact.year).join(Place)
    if country is not None:  # the real data has namesakes (London, Ontario)
        query = query.where(Place.country_code == country)
    with db.get_engine(url).connect() as conn:
        rows = conn.execute(query)
        return {(name, code): (value, year) for name, code, value, year in rows}


def test_codes_are_declared() -> None:
    assert {"air_destinations_intl", "air_countries"} <= set(PLACE_FACTS)


def test_destinations_abroad_per_place(db_url: str, tmp_path: Path, resolver: Resolver) -> None:
    airports, routes = _write(tmp_path, [*ROUTES, UNKNOWN])
    rejects = tmp_path / "rejects.csv"
    report = import_flights(airports, routes, on_error="skip", rejects_path=rejects, resolver=resolver)

    assert report.committed and report.rows_read == 7 + 9 and report.rows_rejected == 2
    assert report.details["distinct direct routes"] == 8
    assert report.details["places with a route"] == 4 and report.details["places with international routes"] == 3
    # By hand: London reaches Paris and Frankfurt abroad (Manchester is domestic); Paris London and
    # Frankfurt; Frankfurt London; Manchester nothing abroad.
    facts = _facts(db_url)
    frankfurt = next(name for name, _c in facts if name.startswith("Frankfurt"))
    assert facts == {
        ("London", "air_destinations_intl"): (2.0, DATA_YEAR), ("London", "air_countries"): (2.0, DATA_YEAR),
        ("Paris", "air_destinations_intl"): (2.0, DATA_YEAR), ("Paris", "air_countries"): (2.0, DATA_YEAR),
        (frankfurt, "air_destinations_intl"): (1.0, DATA_YEAR), (frankfurt, "air_countries"): (1.0, DATA_YEAR),
        ("Manchester", "air_destinations_intl"): (0.0, DATA_YEAR), ("Manchester", "air_countries"): (0.0, DATA_YEAR),
    }  # fmt: skip
    with rejects.open(encoding="utf-8") as fh:
        named = [(r["file"], r["row"], r["field"]) for r in csv.DictReader(fh)]
    assert named == [("airports.dat", "7", "city"), ("routes.dat", "9", "destination_airport_id")]

    before = dump_db(db_url)
    again = import_flights(airports, routes, on_error="skip", rejects_path=rejects, resolver=resolver)
    assert sum(again.records_created.values()) == 0 and again.already_present["place_fact"] == 8
    assert dump_db(db_url) == before


def test_an_unknown_airport_without_skip_writes_nothing(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    airports, routes = _write(tmp_path, [*ROUTES, UNKNOWN], AIRPORTS[:6])
    before = dump_db(sqlite_url)
    with pytest.raises(ImportAborted) as caught:
        import_flights(airports, routes, resolver=resolver)
    assert "routes.dat:9: destination_airport_id: airport 'XXX' is not in airports.dat" in str(caught.value)
    assert dump_db(sqlite_url) == before


def test_cli_imports_with_skip_and_prints_json(sqlite_url: str, tmp_path: Path) -> None:
    airports, routes = _write(tmp_path, ROUTES[:1])
    args = ["import", "flights", "--airports", str(airports), "--routes", str(routes)]
    result = CliRunner().invoke(app, [*args, "--on-error", "skip", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["committed"] and summary["rows_rejected"] == 1
    assert summary["records_created"]["place_fact"] == 2
    assert summary["details"]["share of airport places resolved (%)"] == 100.0
    assert (tmp_path / "airports.rejects.csv").exists()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3 and "no city" in result.output


@pytest.mark.realdata
def test_real_openflights_into_a_fresh_registry(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    airports = settings.shared_data_path("openflights_airports.dat")
    routes = settings.shared_data_path("openflights_routes.dat")
    if not (airports.exists() and routes.exists()):
        pytest.skip(f"real data set absent: {airports}, {routes}")
    started = time.perf_counter()
    report = import_flights(airports, routes, on_error="skip", rejects_path=tmp_path / "rejects.csv",
                            resolver=resolver)  # fmt: skip
    seconds = time.perf_counter() - started
    d = report.details
    top = {k: v for k, v in d.items() if k.startswith("top ")}
    print(f"\nflights: {d['share of airport places resolved (%)']}% of airport places resolved, "
          f"{d['places with international routes']} places with international routes, {seconds:.1f} s "
          f"(a shared machine); {top}")  # fmt: skip

    assert report.rows_read == 7_698 + 67_663
    assert seconds < 60, f"{seconds:.0f} s (issue 11: every source together within 90 s)"
    assert d["share of airport places resolved (%)"] >= 80.0
    assert 30_000 < d["distinct direct routes"] < 67_663
    assert 800 < d["places with international routes"] < 2_000
    facts = _facts(sqlite_url, "GB")
    assert facts[("London", "air_destinations_intl")][0] > 250
    assert 80 < facts[("London", "air_countries")][0] < 200  # 100 in the 2014 snapshot
    assert list(top.values())[0] == facts[("London", "air_destinations_intl")][0]
    with db.get_engine(sqlite_url).connect() as conn:
        best = conn.execute(select(PlaceFact.value).where(PlaceFact.code == "air_destinations_intl")
                            .order_by(PlaceFact.value.desc()).limit(1)).scalar_one()  # fmt: skip
    assert best == list(top.values())[0]
