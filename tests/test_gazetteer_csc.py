"""The countries-states-cities entries of the gazetteer: merge with GeoNames, Wikidata ids, units and states.

The merge is tested on a few hand-made rows; the rest on the real gazetteer (the package is a dependency, so
its data are always there).
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session

from citydiplomacy.geo.gazetteer import (
    _csc_core_name,
    _index_names,
    _merge_csc,
    _wikidata_order,
    get_gazetteer,
)
from citydiplomacy.geo.resolve import Resolver
from citydiplomacy.ingest.wikidata_pairs import RegistryIndex, join_items
from citydiplomacy.store import db
from citydiplomacy.store.records import gazetteer_place

TEHRAN = "112931"
YONGIN_CSC = "65564"
# La Cisterna, a commune of Santiago de Chile (CSC city 148508): GeoNames' cities500 lacks it.
CISTERNA_CSC, CISTERNA_QID = "148508", "Q14456"


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver()


def _row(i: int, name: str, cc: str, lat: float, lng: float, qid: str | None) -> dict:
    return {"id": i, "name": name, "country_code": cc, "latitude": str(lat), "longitude": str(lng), "wikiDataId": qid}


def test_merge_keeps_geonames_for_a_nearby_namesake_and_adds_the_rest() -> None:
    # Two GeoNames places (ids 10, 11) in Norway and one in Sweden, to anchor the admin1 codes.
    ids = np.array([10, 11, 12], dtype=np.int64)
    lat, lng = np.array([59.00, 60.00, 59.30]), np.array([9.70, 10.00, 18.00])
    country = np.array(["NO", "NO", "SE"], dtype="<U2")
    admin1 = ["17", "12", "26"]
    buckets: dict[str, list[int]] = {}
    for i, name in enumerate(["Langesund", "Hamar", "Stockholm"]):
        _index_names(buckets, i, [name])
    rows = [
        _row(1, "Langesund", "NO", 59.01, 9.71, "Q1"),  # 1.3 km from GeoNames' Langesund: the same place
        _row(2, "Hamar", "NO", 60.50, 10.00, "Q2"),  # 56 km from Hamar: another place
        _row(3, "Bamble", "NO", 59.00, 9.75, "Q3"),  # GeoNames has no Bamble
        _row(4, "Stockholm", "NO", 59.30, 18.00, "Q4"),  # a Swedish name filed under Norway: another place
        _row(5, "Aller", "NO", 0.0, 0.0, None),  # broken coordinates: left out
        _row(6, "Bamble Kommune", "NO", 59.02, 9.76, None),
        _row(7, "Hamarøy", "NO", 68.00, 15.60, "Q2"),  # Hamar's id on a place 800 km away: neither keeps it
    ]
    merged = _merge_csc(rows, buckets, ids, lat, lng, country, admin1)
    assert merged["wikidata"][:3].tolist() == [1, 0, 0]  # Langesund lends GeoNames its id; nothing added for it
    assert merged["names"] == ["Hamar", "Bamble", "Stockholm", "Bamble Kommune", "Hamarøy"]
    assert merged["ids"].tolist() == [-2, -3, -4, -6, -7]  # negated: never a GeoNames id
    assert merged["wikidata"][3:].tolist() == [0, 3, 4, 0, 0]
    assert merged["admin1"] == ["12", "17", "12", "17", "12"]  # the nearest Norwegian GeoNames place's
    assert merged["is_unit"].tolist() == [False, False, False, True, False]
    assert merged["alt"][3] == ("Bamble",)


@pytest.mark.parametrize(
    ("name", "core", "unit"),
    [
        ("Yongin-si", "Yongin", False),
        ("Comuna Fântânele", "Fântânele", True),
        ("Adams County", "Adams", True),
        ("Politischer Bezirk Feldkirch", "Feldkirch", True),
        ("Nagykanizsai Járás", "Nagykanizsai", True),
        ("Bamble", None, False),
    ],
)
def test_core_names(name: str, core: str | None, unit: bool) -> None:
    assert _csc_core_name(name) == (core, unit)


def test_wikidata_lookup_prefers_geonames() -> None:
    wikidata = np.array([5, 0, 7, 5], dtype=np.int64)
    assert _wikidata_order(wikidata).tolist() == [0, 3, 2]
    gaz = get_gazetteer()
    i = gaz.index_of_wikidata("Q3616")
    assert i is not None and gaz.place(i)["gazetteer_id"] == TEHRAN and gaz.gazetteer_of(i) == "geonames"
    assert gaz.wikidata_id(gaz.index_of(TEHRAN)) == "Q3616"  # type: ignore[arg-type]
    assert gaz.index_of_wikidata("Q0") is None and gaz.index_of_wikidata("not an id") is None
    assert gaz.index_of_wikidata("Q999999999") is None


def test_csc_ids_do_not_collide_with_geonames_ids() -> None:
    gaz = get_gazetteer()
    i = gaz.index_of(YONGIN_CSC, "csc")
    assert i is not None and gaz.place(i)["name"] == "Yongin-si"
    assert gaz.index_of(YONGIN_CSC) != i  # GeoNames id 65564 is another entry (or none)
    # CSC gives Yongin's Q18459 to Yongsan-dong (Seoul) too: an id on places far apart is kept by neither.
    assert gaz.wikidata_id(i) is None and gaz.index_of_wikidata("Q18459") is None
    c = gaz.index_of(CISTERNA_CSC, "csc")
    assert c is not None and gaz.wikidata_id(c) == CISTERNA_QID and gaz.index_of_wikidata(CISTERNA_QID) == c
    assert gaz.index_of(TEHRAN, "iso3166-2") is None and gaz.index_of("x", "csc") is None


@pytest.mark.parametrize("xy", [(None, None), (37.24, 127.18)])
def test_yongin_resolves(resolver: Resolver, xy: tuple) -> None:
    res = resolver.resolve("Yongin", "South Korea", *xy)
    assert res.linked and (res.gazetteer, res.gazetteer_id, res.name) == ("csc", YONGIN_CSC, "Yongin-si")


@pytest.mark.parametrize(("name", "country"), [("Bamble", "Norway"), ("La Cisterna", "Chile")])
def test_municipalities_geonames_lacks_resolve(resolver: Resolver, name: str, country: str) -> None:
    res = resolver.resolve(name, country)
    assert res.linked and res.gazetteer == "csc" and res.name == name and res.wikidata_id


@pytest.mark.parametrize("xy", [(None, None), (37.27, 127.01)])  # 127.01: Suwon, the province's capital
@pytest.mark.parametrize("name", ["Gyeonggi Province", "Gyeonggi"])
def test_a_state_resolves_as_a_unit_not_a_town(resolver: Resolver, name: str, xy: tuple) -> None:
    res = resolver.resolve(name, "South Korea", *xy)
    assert (res.status, res.gazetteer, res.gazetteer_id) == ("subdivision", "iso3166-2", "KR-41")


def test_a_unit_is_linked_for_an_area_and_the_town_otherwise(resolver: Resolver) -> None:
    # The Bezirk's point, 2 km from the town: a bare name is the town, "District" the unit.
    town = resolver.resolve("Feldkirch", "Austria", 47.255, 9.584)
    assert (town.gazetteer, town.name, town.admin_level) == ("geonames", "Feldkirch", "city")
    for xy in ((47.255, 9.584), (None, None)):
        unit = resolver.resolve("Feldkirch District", "Austria", *xy)
        assert (unit.gazetteer, unit.name, unit.admin_level) == ("csc", "Politischer Bezirk Feldkirch", "region")


def test_an_unpopulated_entry_does_not_outweigh_a_town(resolver: Resolver) -> None:
    # Many CSC entries share a name with a populated GeoNames town farther than 5 km away: the town wins.
    res = resolver.resolve("Feldkirch", "Austria")
    assert res.gazetteer == "geonames" and res.population


def test_wikidata_pairs_join_by_gazetteer_id(resolver: Resolver) -> None:
    # Labels that name nothing: both items are joined by the ids their gazetteer entries carry.
    join = join_items([("Q3616", CISTERNA_QID)], {"Q3616": "xx", CISTERNA_QID: "yy"}, RegistryIndex(), resolver)
    assert join.how == {"Q3616": "gazetteer id", CISTERNA_QID: "gazetteer id"}
    assert (join.new[CISTERNA_QID].gazetteer, join.new[CISTERNA_QID].gazetteer_id) == ("csc", CISTERNA_CSC)
    assert (join.new["Q3616"].gazetteer_id, join.new["Q3616"].wikidata_id) == (TEHRAN, "Q3616")
    assert join.shares(["Q3616", CISTERNA_QID])["by id"] == 100.0


def test_a_place_made_from_a_csc_entry_keeps_its_wikidata_id(sqlite_url: str) -> None:
    with Session(db.get_engine(sqlite_url)) as session:
        place = gazetteer_place(session, f"csc:{CISTERNA_CSC}", "test")
        assert (place.gazetteer, place.gazetteer_id, place.wikidata_id) == ("csc", CISTERNA_CSC, CISTERNA_QID)
        assert gazetteer_place(session, f"csc:{CISTERNA_CSC}", "test").id == place.id
        tehran = gazetteer_place(session, TEHRAN, "test")
        assert (tehran.gazetteer, tehran.wikidata_id) == ("geonames", "Q3616")


def test_an_imported_municipality_of_unknown_population_shows_none(sqlite_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A CSC entry knows no population: the registry keeps none (shown "—"), not 0 inhabitants."""
    from sqlalchemy import select

    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.store.schema import Place

    csv = tmp_path / "pair.csv"
    csv.write_text("city1,country1,city2,country2\nLa Cisterna,Chile,Tehran,Iran\n", encoding="utf-8")
    engine = db.get_engine(sqlite_url)
    db.upgrade(engine)
    import_twinning(csv, engine=engine)
    with Session(engine) as session:
        cisterna = session.scalar(select(Place).where(Place.name == "La Cisterna"))
        tehran = session.scalar(select(Place).where(Place.country_code == "IR"))
    assert cisterna is not None and cisterna.gazetteer == "csc" and cisterna.population is None
    assert tehran is not None and tehran.population and tehran.population > 1_000_000
