"""Importing foreign diplomatic missions: facts per host place, districts attached to their city.

A small ``;``-separated file laid out as the Database of Embassies and Consulates is written in each test;
the real file (../shared/data/embassies.csv) is imported once into a fresh registry.
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
from citydiplomacy.ingest.missions import DATA_YEAR, attach_nearby, import_missions
from citydiplomacy.model.vocab import PLACE_FACTS
from citydiplomacy.store import db
from citydiplomacy.store.schema import Place, PlaceFact

HEADER = ("operator;operatorQID;jurisdictions;jurisdictionQIDs;country;countryQID;city;cityQID;address;latitude;"
          "longitude;phone;email;website;facebook;twitter;youtube;picture;pictureAuthor;pictureLicense;"
          "pictureLicenseURL;type;typeQID;creation;QID;")  # fmt: skip
Q = "http://www.wikidata.org/entity/"


def _row(operator: str, country: str, city: str, lat: str, lng: str, kind: str = "embassy") -> str:
    cells = [operator, f"{Q}Q1", "", "", country, f"{Q}Q2", city, f"{Q}Q3", "", lat, lng, *[""] * 10, kind,
             f"{Q}Q4", "", f"{Q}Q5"]  # fmt: skip
    return ";".join(cells) + ";"


GOOD = [
    _row("France", "Belgium", "Brussels", "50.8466", "4.3528"),
    _row("Germany", "Belgium", "Brussels", "50.8390", "4.3700"),
    _row("France", "Belgium", "Uccle", "50.8000", "4.3300", "consulate general"),  # a municipality of Brussels
    _row("France", "India", "New Delhi", "28.6000", "77.2000"),
    _row("Germany", "India", "Chanakyapuri", "28.5950", "77.1870", "consulate"),  # a district GeoNames lacks
]
BAD = [
    _row("Japan", "Belgium", "", "", ""),  # row 7: no city
    _row("Sovereign Military Order of Malta", "Belgium", "Brussels", "50.84", "4.36"),  # row 8: not a country
    _row("Japan", "Belgium", "Brussels", "north", "4.36"),  # row 9: bad latitude
]


def _file(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver()


def _facts(url: str) -> dict[tuple[str, str], tuple[float, int | None]]:
    with db.get_engine(url).connect() as conn:
        rows = conn.execute(select(Place.name, PlaceFact.code, PlaceFact.value, PlaceFact.year).join(Place))
        return {(name, code): (value, year) for name, code, value, year in rows}


def test_codes_are_declared() -> None:
    assert {"missions_hosted", "mission_sending_countries", "embassies_hosted"} <= set(PLACE_FACTS)


def test_attach_nearby_absorbs_the_lighter_place_of_the_same_country() -> None:
    places = {"brussels": (50.85, 4.35, "BE", 3.0), "uccle": (50.80, 4.33, "BE", 1.0),
              "lille": (50.63, 3.06, "FR", 1.0), "bxl-fr": (50.81, 4.34, "FR", 9.0)}  # fmt: skip
    assert attach_nearby(places) == {"brussels": "brussels", "uccle": "brussels", "lille": "lille",
                                     "bxl-fr": "bxl-fr"}  # fmt: skip


def test_facts_per_host_place_with_districts_attached(db_url: str, tmp_path: Path, resolver: Resolver) -> None:
    path = _file(tmp_path / "embassies.csv", GOOD + BAD)
    rejects = tmp_path / "rejects.csv"
    report = import_missions(path, on_error="skip", rejects_path=rejects, resolver=resolver, actor="tester")

    assert report.committed and report.rows_read == 8 and report.rows_rejected == 3
    assert report.details["missions imported"] == 5 and report.details["places with missions"] == 2
    # Computed by hand: Brussels hosts France, Germany and France's consulate in Uccle; New Delhi
    # France's embassy and Germany's consulate in Chanakyapuri.
    assert _facts(db_url) == {
        ("Brussels", "missions_hosted"): (3.0, DATA_YEAR),
        ("Brussels", "mission_sending_countries"): (2.0, DATA_YEAR),
        ("Brussels", "embassies_hosted"): (2.0, DATA_YEAR),
        ("New Delhi", "missions_hosted"): (2.0, DATA_YEAR),
        ("New Delhi", "mission_sending_countries"): (2.0, DATA_YEAR),
        ("New Delhi", "embassies_hosted"): (1.0, DATA_YEAR),
    }
    with rejects.open(encoding="utf-8") as fh:
        named = [(r["row"], r["field"], r["file"]) for r in csv.DictReader(fh)]
    assert named == [("7", "city", "embassies.csv"), ("8", "operator", "embassies.csv"),
                     ("9", "latitude", "embassies.csv")]  # fmt: skip

    before = dump_db(db_url)
    again = import_missions(path, on_error="skip", rejects_path=rejects, resolver=resolver, actor="tester")
    assert sum(again.records_created.values()) == 0 and again.already_present["place_fact"] == 6
    assert dump_db(db_url) == before


def test_parts_named_after_their_city_count_as_it(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    rows = [_row("Spain", "France", "6th arrondissement of Lyon", "45.7700", "4.8500", "consulate general"),
            _row("Italy", "France", "3rd arrondissement of Lyon", "45.7590", "4.8490", "consulate")]  # fmt: skip
    report = import_missions(_file(tmp_path / "embassies.csv", rows), resolver=resolver)
    assert report.details["places with missions"] == 1
    facts = _facts(sqlite_url)
    assert facts[("Lyon", "missions_hosted")] == (2.0, DATA_YEAR)
    assert facts[("Lyon", "embassies_hosted")] == (0.0, DATA_YEAR)


def test_a_rejected_row_without_skip_writes_nothing(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    path = _file(tmp_path / "embassies.csv", GOOD + BAD[1:2])
    before = dump_db(sqlite_url)
    with pytest.raises(ImportAborted) as caught:
        import_missions(path, resolver=resolver)
    assert "embassies.csv:7: operator: the operator 'Sovereign Military Order of Malta' is not a country" in str(
        caught.value
    )
    assert dump_db(sqlite_url) == before


def test_cli_imports_with_skip_and_prints_json(sqlite_url: str, tmp_path: Path) -> None:
    path = _file(tmp_path / "embassies.csv", GOOD[:2] + BAD[:1])
    result = CliRunner().invoke(app, ["import", "missions", str(path), "--on-error", "skip", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["committed"] and summary["rows_rejected"] == 1
    assert summary["records_created"]["place_fact"] == 3
    assert summary["details"]["share of host mentions resolved (%)"] == 100.0
    assert (tmp_path / "embassies.rejects.csv").exists()
    result = CliRunner().invoke(app, ["import", "missions", str(path)])
    assert result.exit_code == 3 and "no city" in result.output


@pytest.mark.realdata
def test_real_missions_into_a_fresh_registry(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    path = settings.shared_data_path("embassies.csv")
    if not path.exists():
        pytest.skip(f"real data set absent: {path}")
    started = time.perf_counter()
    report = import_missions(path, on_error="skip", rejects_path=tmp_path / "rejects.csv", resolver=resolver)
    seconds = time.perf_counter() - started
    top = {k: v for k, v in report.details.items() if k.startswith("top host")}
    print(f"\nmissions: {report.details['missions imported']} rows imported, "
          f"{report.details['places with missions']} places, {seconds:.1f} s (a shared machine); {top}")  # fmt: skip

    assert report.rows_read == 9_852
    assert seconds < 60, f"{seconds:.0f} s (issue 11: every source together within 90 s)"
    assert 550 <= report.rows_rejected < 800  # 582 rows without a city, and operators that are not countries
    assert report.details["share of host mentions resolved (%)"] >= 90.0
    assert 400 < report.details["places with missions"] < 800
    facts = _facts(sqlite_url)
    assert facts[("Brussels", "missions_hosted")][0] > 150
    # GeoNames' capital is Delhi (PPLC), of which New Delhi and Chanakyapuri are parts: they count as it.
    assert facts[("Delhi", "mission_sending_countries")][0] > 100
    assert facts[("Lima", "missions_hosted")][0] > 40  # San Isidro, its district of embassies, counts as Lima
    for district in ("Uccle", "Chanakyapuri", "New Delhi", "Minato City"):  # (San Isidro, Argentina, has its own)
        assert (district, "missions_hosted") not in facts
    assert facts[("Tehran", "embassies_hosted")][0] > 50


def test_missions_feed_the_representation_indicators(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    """REP05 counts the missions a place hosts (plus offices recorded), REP06 the countries sending them."""
    from citydiplomacy.assess.indicators import COMPUTED, MISSING, compute_indicators

    import_missions(_file(tmp_path / "embassies.csv", GOOD), resolver=resolver)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        ids = dict(s.execute(select(Place.name, Place.id)).all())
        now = compute_indicators(s)
        brussels, delhi = ids["Brussels"], ids["New Delhi"]
        before = compute_indicators(s, [brussels], year=DATA_YEAR - 1)
    assert (now.values.at[brussels, "REP05"], now.values.at[brussels, "REP06"]) == (3.0, 2.0)
    assert (now.values.at[delhi, "REP05"], now.values.at[delhi, "REP06"]) == (2.0, 2.0)
    assert now.coverage.at[brussels, "REP06"] == COMPUTED
    # A source says nothing about sister cities: those stay missing, not 0.
    assert now.coverage.at[brussels, "CUL02"] == MISSING
    # Facts dated after the year asked for are not read.
    assert before.coverage.at[brussels, "REP06"] == MISSING
