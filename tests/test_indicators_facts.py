"""Indicators fed by the facts the sources state (``place_fact``): the one rule for two sources stating one
fact, the mapped values counted by hand, missing where no source states a fact; and, on the real shared
sources, that the index then varies in at least 10 indicators across at least 5 of the 7 dimensions.

The small registry is the one of ``test_indicators`` with facts added; the real-data test skips when
../shared/data is absent.
"""

from __future__ import annotations

import pytest
from test_indicators import _build_registry

from citydiplomacy import settings
from citydiplomacy.assess.indicators import COMPUTED, MISSING, compute_indicators
from citydiplomacy.model.indicators import INDICATORS_PATH, CatalogueError, load_catalogue, parse_catalogue
from citydiplomacy.store import db, queries
from citydiplomacy.store.schema import PlaceFact, Source


def _add_facts(url: str, ids: dict[str, int]) -> None:
    with db.session_scope(db.get_engine(url)) as s:
        old, new, other = (Source(name=n, kind="file") for n in ("embassies 2020", "embassies 2022", "census"))
        s.add_all([old, new, other])
        s.flush()

        def fact(place: str, code: str, value: float, year: int | None, source: Source) -> PlaceFact:
            return PlaceFact(place_id=ids[place], code=code, value=value, year=year, source_id=source.id)

        s.add_all(
            [
                # Tehran: two sources count its missions; the later one (2022) wins over the larger older one.
                fact("teh", "missions_hosted", 60, 2020, old),
                fact("teh", "missions_hosted", 55, 2022, new),
                fact("teh", "mission_sending_countries", 40, 2022, new),
                # Paris: two sources of the same year disagree: the larger count.
                fact("par", "missions_hosted", 150, 2022, new),
                fact("par", "missions_hosted", 160, 2022, other),
                # Mashhad: Covenant commitments, 2020 and adaptation made, 2030 stated as not made.
                fact("msh", "commitment_com2020", 1, 2015, new),
                fact("msh", "commitment_com2030", 0, 2015, new),
                fact("msh", "commitment_adaptation", 1, 2015, new),
                # Manila: only air facts (no relation, membership or activity at all).
                fact("man", "air_destinations_intl", 40, 2014, new),
                fact("man", "air_countries", 12, 2014, new),
            ]
        )


@pytest.fixture
def registry(db_url: str) -> tuple[str, dict[str, int]]:
    ids = _build_registry(db_url)
    _add_facts(db_url, ids)
    return db_url, ids


def test_one_value_per_place_and_fact(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    with db.session_scope(db.get_engine(url)) as s:
        got = {(p, c): v for p, c, v in queries.place_facts(s, ["missions_hosted"])}
        as_of_2021 = {(p, c): v for p, c, v in queries.place_facts(s, ["missions_hosted"], year=2021)}
    assert got == {(ids["teh"], "missions_hosted"): 55, (ids["par"], "missions_hosted"): 160}
    assert as_of_2021 == {(ids["teh"], "missions_hosted"): 60}  # the 2022 counts are not known yet


def test_facts_feed_the_mapped_indicators(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    with db.session_scope(db.get_engine(url)) as s:
        t = compute_indicators(s)
    v, cov = t.values, t.coverage
    teh, par, msh, man, lon = ids["teh"], ids["par"], ids["msh"], ids["man"], ids["lon"]
    assert v.at[par, "REP05"] == 160  # no office activity: missions only
    assert v.at[teh, "REP06"] == 40
    assert v.at[msh, "DEV05"] == 1 and v.at[msh, "SEC05"] == 1  # 2020 made, 2030 stated as not made
    # Manila is in the table for its air facts alone, with the indicators they feed.
    assert (v.at[man, "ECO06"], v.at[man, "ECO07"]) == (40, 12)
    assert cov.at[man, "ECO06"] == COMPUTED and cov.at[man, "CUL02"] == MISSING
    # London: relations, no activity, no fact: missing where only a fact could have told.
    assert cov.at[lon, "REP06"] == MISSING and cov.at[lon, "ECO06"] == MISSING
    with db.session_scope(db.get_engine(url)) as s:
        early = compute_indicators(s, year=2013, places=[man])
    assert early.coverage.at[man, "ECO06"] == MISSING  # the 2014 air facts are not known yet


def test_a_misspelt_fact_code_fails_when_the_catalogue_loads() -> None:
    text = INDICATORS_PATH.read_text(encoding="utf-8")
    assert "facts: [mission_sending_countries]" in text
    with pytest.raises(CatalogueError, match="missions_sendng"):
        parse_catalogue(text.replace("facts: [mission_sending_countries]", "facts: [missions_sendng]"))
    with pytest.raises(CatalogueError, match="justification"):
        parse_catalogue(
            text.replace("origin: source\n", "origin: source\n    justification: ''\n", 1).replace(
                "    justification: >-\n      embassies.csv (sending", "    notes: >-\n      embassies.csv (sending"
            )
        )
    assert sum(1 for i in load_catalogue() if i.origin == "source") == 5


# --- the real sources ------------------------------------------------------------------------------------

REAL = ("twin_cities.csv", "gcom_signatories_2024.xlsx", "embassies.csv", "openflights_airports.dat",
        "openflights_routes.dat")  # fmt: skip


@pytest.mark.realdata
def test_real_sources_make_the_index_vary_in_ten_indicators_and_five_dimensions(sqlite_url: str) -> None:
    paths = [settings.shared_data_path(name) for name in REAL]
    if not all(p.exists() for p in paths):
        pytest.skip("real data sets absent")
    from citydiplomacy.ingest.covenant import import_covenant
    from citydiplomacy.ingest.flights import import_flights
    from citydiplomacy.ingest.missions import import_missions
    from citydiplomacy.ingest.twinning import import_twinning
    from citydiplomacy.network.analysis import analyse

    twins, covenant, embassies, airports, routes = paths
    assert import_twinning(twins, on_error="skip").committed
    assert import_covenant(covenant, on_error="skip").committed
    assert import_missions(embassies, on_error="skip").committed
    assert import_flights(airports, routes, on_error="skip").committed
    engine = db.get_engine(sqlite_url)
    with db.session_scope(engine) as s:
        analyse(s, "bilateral")
    with db.session_scope(engine) as s:
        table = compute_indicators(s)
    vary = [c for c in table.values.columns if table.values[c].dropna().nunique() > 1]
    dims = {table.catalogue.frame()["dimension"][c] for c in vary}
    assert len(vary) >= 10 and len(dims) >= 5, (vary, dims)
    assert {"REP05", "REP06", "ECO06", "DEV05"} <= set(vary)
