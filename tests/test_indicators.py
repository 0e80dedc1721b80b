"""The indicator catalogue, the capacity checklist and the computation of indicators from the registry.

The registry built here is small enough to count by hand; every expected value below is worked out in
the comment next to it.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citydiplomacy.assess.indicators import (
    COMPUTED,
    ENTERED,
    MISSING,
    _count_relations,
    compute_indicators,
)
from citydiplomacy.model.indicators import (
    CatalogueError,
    load_capacity,
    load_catalogue,
    parse_catalogue,
)
from citydiplomacy.model.vocab import DIMENSIONS
from citydiplomacy.store import db, runs
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    AnalysisRun,
    CityResult,
    IndicatorValue,
    Membership,
    Organisation,
    Place,
    Relation,
)
from citydiplomacy.store.ties import TieRule

# --- the catalogue ----------------------------------------------------------------------------------


def test_catalogue_has_32_indicators_covering_every_dimension() -> None:
    cat = load_catalogue()
    papers = [i for i in cat if i.origin == "paper"]
    assert len(papers) == 32 and all(i.dimension for i in papers)
    assert len(set(cat.codes)) == len(cat)
    # Indicators added for the sources each say why they belong, with a paper of the seeds.
    for ind in cat:
        if ind.origin == "source" or "facts" in ind.rule:
            assert re.search(r"\b00[0-4]\b", ind.justification), ind.code
    assert set(cat.by_dimension()) == set(DIMENSIONS)
    assert all(cat.by_dimension()[dim] for dim in DIMENSIONS)
    assert cat.version
    frame = cat.frame()
    assert set(frame.loc[frame["dimension"] == "security", "sub_kind"]) == {"military", "civilian"}
    assert set(frame.loc[frame["dimension"] == "representation", "sub_kind"]) == {
        "political",
        "non-political",
    }
    other = frame[~frame["dimension"].isin(["security", "representation"])]
    assert other["sub_kind"].isna().all()


def test_catalogue_keeps_the_indicators_and_ranks_paper_000_names() -> None:
    cat = load_catalogue()
    by_name = {ind.name.lower(): ind for ind in cat}

    def find(fragment: str):  # type: ignore[no-untyped-def]
        hits = [ind for name, ind in by_name.items() if fragment in name]
        assert len(hits) == 1, fragment
        return hits[0]

    membership = find("membership in international organisations")
    assert (membership.dimension, membership.literature_rank) == ("networks", 1)
    mou = find("sustainable urban development")
    assert (mou.dimension, mou.sub_kind, mou.literature_rank) == ("security", "civilian", 2)
    knowledge = find("exchange of knowledge and services")
    assert (knowledge.dimension, knowledge.literature_rank) == ("economy", 2)
    cultural = find("cultural exchanges")
    assert (cultural.dimension, cultural.literature_rank) == ("culture", 3)
    for fragment in ("dialogue activities", "urban projects", "foreign taxes"):
        least = find(fragment)
        assert least.least_frequent and least.literature_rank is None
        assert least.rank_tier == max(ind.rank_tier for ind in cat)
    # Only the paper's four ranked indicators carry a rank; the rest are unknown (null).
    assert sorted(i.literature_rank for i in cat if i.literature_rank) == [1, 2, 2, 3]
    assert all(ind.name_fa for ind in cat)


def _mini_catalogue(indicator_yaml: str) -> str:
    dims = "\n".join(f"  - code: {d}" for d in DIMENSIONS)
    base = "\n".join(
        f"  - {{code: Z{i}, name: z, name_fa: z, dimension: {d}, sub_kind: {sk}, unit: u, direction: 1,"
        f" rule: {{kind: manual}}}}"
        for i, (d, sk) in enumerate(
            (d, {"security": "civilian", "representation": "political"}.get(d, "null")) for d in DIMENSIONS
        )
    )
    return f"version: t\ndimensions:\n{dims}\nindicators:\n{base}\n{indicator_yaml}"


def _entry(**overrides: str) -> str:
    fields = {
        "code": "X1",
        "name": "x",
        "name_fa": "x",
        "dimension": "culture",
        "unit": "u",
        "direction": "1",
    }
    fields.update({k: v for k, v in overrides.items() if k != "rule"})
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    return f"  - {{{body}, rule: {overrides.get('rule', '{kind: manual}')}}}"


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        (_entry(dimension="wealth"), "unknown dimension"),
        (_entry(dimension="security", sub_kind="naval"), "sub_kind"),
        (_entry(direction="2"), "direction"),
        (_entry(rule="{kind: guess}"), "unknown rule kind"),
        (_entry(rule="{kind: count_relations, relation_kinds: [twinning]}"), "unknown terms"),
        (_entry(rule="{kind: count_activities}"), "needs activity_kinds"),
        (_entry(code="Z0"), "duplicate"),
    ],
)
def test_catalogue_validation_rejects_malformed_entries(indicator: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(_mini_catalogue(indicator), expected_count=None)


def test_catalogue_validation_accepts_a_well_formed_file_and_counts() -> None:
    text = _mini_catalogue("")
    assert len(parse_catalogue(text, expected_count=None)) == len(DIMENSIONS)
    with pytest.raises(CatalogueError, match="expected 32"):
        parse_catalogue(text)


def test_capacity_checklist_names_the_gaps_of_paper_003() -> None:
    version, items = load_capacity()
    codes = {item.code for item in items}
    assert version
    assert {"CAP_STRATEGY", "CAP_OFFICE", "CAP_BUDGET", "CAP_STAFF", "CAP_LEGAL"} <= codes
    assert all(item.name and item.name_fa and ("003" in item.cite or "002" in item.cite) for item in items)


# --- computing indicators ---------------------------------------------------------------------------

PLACES = {
    "teh": ("Tehran", "IR"),
    "par": ("Paris", "FR"),
    "mos": ("Moscow", "RU"),
    "msh": ("Mashhad", "IR"),
    "lon": ("London", "GB"),
    "han": ("Hanoi", "VN"),
    "nbo": ("Nairobi", "KE"),
    "man": ("Manila", "PH"),
    "bey": ("Beirut", "LB"),
}


def _build_registry(url: str) -> dict[str, int]:
    """A small registry whose indicator values are counted by hand in the tests."""
    with db.session_scope(db.get_engine(url)) as s:
        p = {
            key: Place(gazetteer="source", gazetteer_id=key, name=name, country_code=cc)
            for key, (name, cc) in PLACES.items()
        }
        s.add_all(p.values())
        s.flush()

        def rel(x: str, y: str, kind: str, status: str = "active", **kw: object) -> Relation:
            a, b = sorted((p[x].id, p[y].id))
            return Relation(place_a_id=a, place_b_id=b, kind=kind, status=status, **kw)

        s.add_all(
            [
                rel("teh", "par", "sister_city"),
                rel("teh", "mos", "sister_city"),
                rel("teh", "msh", "sister_city"),  # domestic: reaches no other country
                rel("teh", "han", "sister_city"),
                rel("teh", "lon", "sister_city", status="ended", ended_year=2010),
                rel("teh", "par", "mou"),
                rel("teh", "mos", "cooperation_memorandum", status="in_negotiation"),
                rel("par", "lon", "sister_city", signed_year=2000),
            ]
        )
        org = {
            "oicc": Organisation(
                name="Organization of Islamic Capitals and Cities", acronym="OICC", kind="regional_network"
            ),
            "uclg": Organisation(name="United Cities and Local Governments", acronym="UCLG", kind="global_network"),
            "m4p": Organisation(name="Mayors for Peace", kind="global_network"),
            "unh": Organisation(name="UN-Habitat", kind="un_agency", seat_place_id=p["nbo"].id),
            "amf": Organisation(name="Asian Mayors Forum", kind="forum"),
        }
        s.add_all(org.values())
        s.flush()

        def mem(place: str, o: str, role: str, **kw: object) -> Membership:
            return Membership(place_id=p[place].id, organisation_id=org[o].id, role=role, **kw)

        s.add_all(
            [
                mem("teh", "oicc", "founding"),
                mem("teh", "oicc", "active"),
                mem("teh", "oicc", "board"),
                mem("teh", "uclg", "active"),
                mem("teh", "uclg", "board"),
                mem("teh", "m4p", "active"),
                mem("teh", "unh", "associate"),
                mem("teh", "amf", "secretariat_host"),
                mem("par", "uclg", "board", since_year=1990, until_year=2000),
            ]
        )
        acts = [
            Activity(kind="summit_hosted", title="World Cities Day", year=2014, place_id=p["teh"].id),
            Activity(kind="festival", title="Culture week", year=2018, place_id=p["teh"].id),
            Activity(kind="delegation", title="Knowledge exchange", year=2016, indicators=["ECO01"]),
            Activity(
                kind="project",
                title="Joint project",
                year=2020,
                place_id=p["msh"].id,
                dimensions=["development"],
            ),
            Activity(kind="aid", title="Earthquake aid", year=2017, place_id=p["teh"].id, dimensions=["security"]),
            Activity(
                kind="ranking",
                title="Competitiveness index",
                year=2010,
                place_id=p["teh"].id,
                indicators=["REP04"],
            ),
            Activity(kind="visit", title="Mayor visit", year=2019, place_id=p["bey"].id),
        ]
        s.add_all(acts)
        s.flush()
        s.add_all(
            [
                ActivityParticipant(activity_id=acts[0].id, place_id=p["par"].id, role="participant"),
                ActivityParticipant(activity_id=acts[2].id, place_id=p["teh"].id, role="host"),
                ActivityParticipant(activity_id=acts[2].id, place_id=p["mos"].id, role="participant"),
            ]
        )
        s.add_all(
            [
                IndicatorValue(place_id=p["teh"].id, indicator_code="ECO03", year=2019, value=100.0),
                IndicatorValue(place_id=p["teh"].id, indicator_code="ECO03", year=2021, value=150.0),
                IndicatorValue(place_id=p["teh"].id, indicator_code="ECO03", year=None, value=90.0),
                IndicatorValue(place_id=p["man"].id, indicator_code="ECO04", year=2020, value=500.0),
            ]
        )
        now = runs.network_run_for(None)
        old = AnalysisRun(kind="network", parameters=now, created_at=datetime.now(UTC) - timedelta(days=1))
        new = AnalysisRun(kind="network", parameters=now)
        # Newer still, but of another graph and of a region only: never what the indicators read.
        other = AnalysisRun(kind="network", parameters={**now, "graph": "membership"})
        regional = AnalysisRun(kind="network", parameters={**now, "filter": {**now["filter"], "regions": ["EU"]}})
        s.add_all([old, new, other, regional])
        s.flush()
        s.add_all(
            [
                CityResult(run_id=old.id, place_id=p["teh"].id, code="pagerank", value=0.9),
                CityResult(run_id=new.id, place_id=p["teh"].id, code="pagerank", value=0.3),
                CityResult(run_id=new.id, place_id=p["par"].id, code="pagerank", value=0.2),
                CityResult(run_id=other.id, place_id=p["teh"].id, code="pagerank", value=0.7),
                CityResult(run_id=regional.id, place_id=p["teh"].id, code="pagerank", value=0.6),
            ]
        )
        return {key: place.id for key, place in p.items()}


@pytest.fixture
def registry(db_url: str) -> tuple[str, dict[str, int]]:
    return db_url, _build_registry(db_url)


def _table(url: str, **kw: object):  # type: ignore[no-untyped-def]
    with db.session_scope(db.get_engine(url)) as s:
        return compute_indicators(s, **kw)  # type: ignore[arg-type]


def test_counts_from_relations(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    t = _table(url)
    v = t.values
    teh, par, msh, lon = ids["teh"], ids["par"], ids["msh"], ids["lon"]
    assert v.at[teh, "CUL02"] == 4  # par, mos, msh, han (London ended)
    assert v.at[par, "CUL02"] == 2  # teh, lon
    assert v.at[lon, "CUL02"] == 1  # par (teh ended)
    assert v.at[teh, "SEC01"] == 1  # the Paris MoU; the Moscow memorandum is in negotiation
    assert v.at[teh, "NET05"] == 3  # FR, RU, VN: Mashhad is domestic
    assert v.at[teh, "NET06"] == 2  # Europe (FR, RU) and Asia (VN)
    assert v.at[msh, "NET05"] == 0 and t.coverage.at[msh, "NET05"] == COMPUTED
    assert v.at[teh, "CUL03"] == 0  # no friendship records: a true 0, Tehran has relations
    assert v.at[teh, "DEV02"] == 0


def test_membership_scores_posts_and_secretariats(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    v = _table(url).values
    teh, par, nbo = ids["teh"], ids["par"], ids["nbo"]
    # Highest role per organisation: OICC board 3 + UCLG board 3 + Mayors for Peace active 2
    # + UN-Habitat associate 1 + Asian Mayors Forum secretariat host 3.
    assert v.at[teh, "NET01"] == 12
    assert v.at[teh, "NET02"] == 2  # board of OICC and UCLG
    assert v.at[teh, "NET03"] == 1  # Asian Mayors Forum secretariat
    assert v.at[nbo, "NET03"] == 1  # seat of UN-Habitat
    assert v.at[nbo, "NET01"] == 0  # a seat is membership evidence; no memberships: a true 0
    assert v.at[teh, "SEC04"] == 2  # Mayors for Peace, active
    assert v.at[teh, "DEV03"] == 1  # UN-Habitat (un_agency); the forum does not count
    # Paris's UCLG board seat ended in 2000: no longer held, so Paris has no membership evidence now.
    assert math.isnan(v.at[par, "NET01"]) and math.isnan(v.at[par, "NET02"])


def test_activity_counts(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    t = _table(url)
    v = t.values
    teh, par, mos, msh, bey = ids["teh"], ids["par"], ids["mos"], ids["msh"], ids["bey"]
    assert v.at[teh, "REP01"] == 1  # the summit it hosted
    assert v.at[par, "REP01"] == 0  # took part, did not host
    assert v.at[teh, "CUL01"] == 1  # festival
    assert v.at[teh, "ECO01"] == 1 and v.at[mos, "ECO01"] == 1  # tagged delegation, both participants
    # The aid is tagged with the security dimension, so it counts for SEC02 as well.
    assert v.at[teh, "SEC03"] == 1 and v.at[teh, "SEC02"] == 1
    assert v.at[teh, "REP04"] == 1
    assert v.at[msh, "DEV01"] == 1
    assert v.at[bey, "REP02"] == 1  # a visit counts as a dialogue activity
    assert math.isnan(v.at[bey, "CUL02"])  # Beirut has no relation records
    assert t.coverage.at[bey, "CUL02"] == MISSING


def test_manual_and_network_values(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    t = _table(url)
    teh, man, msh = ids["teh"], ids["man"], ids["msh"]
    assert t.values.at[teh, "ECO03"] == 150  # the latest dated entry
    assert t.coverage.at[teh, "ECO03"] == ENTERED
    assert t.values.at[man, "ECO04"] == 500
    assert math.isnan(t.values.at[teh, "ECO04"]) and t.coverage.at[teh, "ECO04"] == MISSING
    # Manila is in the registry only through a hand-entered value: every count is missing, not 0.
    assert t.coverage.loc[man].value_counts().to_dict() == {MISSING: len(load_catalogue()) - 1, ENTERED: 1}
    # the latest network run that matches (bilateral, whole registry, now, this tie rule): not the older 0.9,
    # nor the newer membership-graph 0.7 or regional 0.6
    assert t.values.at[teh, "NET04"] == pytest.approx(0.3)
    assert math.isnan(t.values.at[msh, "NET04"])
    assert t.notes["network_run_id"] is not None
    assert set(t.manual["code"]) == {"ECO03", "ECO04"}


def test_year_reads_the_registry_as_of_that_year(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    teh, par, lon, msh = ids["teh"], ids["par"], ids["lon"], ids["msh"]
    t95 = _table(url, year=1995)
    assert t95.values.at[teh, "CUL02"] == 5  # London was still a sister city (ended 2010)
    assert t95.values.at[par, "CUL02"] == 1  # Paris-London signed only in 2000
    assert t95.values.at[lon, "CUL02"] == 1  # Tehran
    assert t95.values.at[par, "NET02"] == 1  # Paris sat on the UCLG board 1990-2000
    assert t95.values.at[teh, "ECO03"] == 90  # no entry dated by 1995: the undated one
    assert _table(url, year=2020).values.at[teh, "ECO03"] == 100
    t15 = _table(url, year=2015)
    # The Mashhad project (2020) had not happened: Mashhad has no activity evidence in 2015.
    assert t15.coverage.at[msh, "DEV01"] == MISSING
    assert t15.values.at[teh, "REP01"] == 1


def test_zero_policy_and_place_selection(registry: tuple[str, dict[str, int]]) -> None:
    url, ids = registry
    msh, teh = ids["msh"], ids["teh"]
    family = _table(url)
    assert family.coverage.at[msh, "NET01"] == MISSING  # relations and activities, but no membership records
    loose = _table(url, zero_policy="place")
    assert loose.values.at[msh, "NET01"] == 0 and loose.coverage.at[msh, "NET01"] == COMPUTED
    only = _table(url, places=[teh])
    assert list(only.values.index) == [teh]
    assert only.values.at[teh, "CUL02"] == family.values.at[teh, "CUL02"]
    assert only.places.at[teh, "name"] == "Tehran"


def test_missing_is_exactly_nan(registry: tuple[str, dict[str, int]]) -> None:
    url, _ = registry
    t = _table(url)
    assert ((t.coverage == MISSING) == t.values.isna()).all().all()
    assert list(t.values.columns) == load_catalogue().codes
    share = t.coverage_share()
    assert ((share >= 0) & (share <= 1)).all()
    counts = t.coverage_counts()
    assert (counts.sum(axis=1) == len(load_catalogue())).all()
    long = t.long()
    assert len(long) == t.values.size and set(long["coverage"]) <= {COMPUTED, ENTERED, MISSING}


# --- the relation count against a brute-force count -------------------------------------------------

_pairs = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.integers(0, 6),
        st.sampled_from(["sister_city", "mou", "friendship"]),
        st.sampled_from(["active", "ended"]),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(_pairs)
def test_count_relations_matches_brute_force(rows: list[tuple[int, int, str, str]]) -> None:
    rows = [(a, b, k, s) for a, b, k, s in rows if a != b]
    both = pd.DataFrame(
        [(a, b, k, s) for a, b, k, s in rows] + [(b, a, k, s) for a, b, k, s in rows],
        columns=["place_id", "partner_id", "kind", "status"],
    )
    # The frame holds ties only (store.ties.load_ties applies the one rule upstream): ended relations are none.
    both = both.loc[TieRule().weights(both["kind"], both["status"]) > 0]
    got = _count_relations(both, {"relation_kinds": ["sister_city", "mou"]})
    for place in range(7):
        expected = sum(1 for a, b, k, s in rows if place in (a, b) and k in ("sister_city", "mou") and s == "active")
        assert got.get(place, 0) == expected
