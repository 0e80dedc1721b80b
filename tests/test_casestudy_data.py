"""The bundled Tehran case study: parses, cites its papers, matches paper 003, uses the vocabularies."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

import citydiplomacy
from citydiplomacy import settings
from citydiplomacy.model import load_model
from citydiplomacy.model.vocab import (
    ACTIVITY_KINDS,
    DIMENSIONS,
    MEMBERSHIP_ROLES,
    ORGANISATION_KINDS,
    RELATION_KINDS,
    RELATION_STATUSES,
)

CASE_FILE = Path(citydiplomacy.__file__).parent / "ingest" / "casestudy" / "tehran.yaml"
SEEDS_DIR = settings.SHARED_DATA_DIR.parent / "seeds"
PERSIAN = re.compile(r"[\u0600-\u06FF]")
DATA = yaml.safe_load(CASE_FILE.read_text(encoding="utf-8"))
TABLE_2_ROW = re.compile(r"Table 2, row (\d+)")


def cited_records() -> list[tuple[str, dict]]:
    """Every record that must carry a citation, with a label saying where it is."""
    records: list[tuple[str, dict]] = []
    for section in ("places", "organisations", "relations", "memberships", "activities"):
        records += [(f"{section}[{i}]", rec) for i, rec in enumerate(DATA[section])]
    for org in DATA["organisations"]:
        records += [(f"{org['name']}.member_counts[{i}]", mc) for i, mc in enumerate(org["member_counts"])]
    return records


def table_2_relations() -> list[dict]:
    return [r for r in DATA["relations"] if TABLE_2_ROW.search(r["cite"]["locator"])]


def test_file_parses_with_version_and_five_sources() -> None:
    assert isinstance(DATA["version"], str) and re.fullmatch(r"\d{4}\.\d+", DATA["version"])
    assert set(DATA["sources"]) == {f"paper00{i}" for i in range(5)}
    for key, source in DATA["sources"].items():
        assert source["file"].startswith(key[-3:] + "_"), key
        assert source["citation"]


def test_every_record_cites_a_declared_source() -> None:
    for where, record in cited_records():
        cite = record.get("cite")
        assert cite, f"{where} has no cite"
        assert cite["source"] in DATA["sources"], f"{where} cites undeclared {cite['source']!r}"
        assert str(cite.get("locator") or "").strip(), f"{where} has no locator"


def test_declared_source_files_exist_when_seeds_are_present() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"{SEEDS_DIR} absent")
    for key, source in DATA["sources"].items():
        assert (SEEDS_DIR / source["file"]).is_file(), key


def test_relations_match_paper_003() -> None:
    table = table_2_relations()
    assert len(table) == 24  # 23 table rows; row 13 is "Ankara and Istanbul"
    assert len({int(TABLE_2_ROW.search(r["cite"]["locator"]).group(1)) for r in table}) == 23
    friends = [r for r in DATA["relations"] if r["kind"] == "friendship"]
    assert sorted(r["partner"] for r in friends) == [
        "Paris",
        "Saint Petersburg",
        "Seoul",
        "Shanghai",
        "Sydney",
    ]
    assert len(DATA["relations"]) == len(table) + len(friends) == 29

    counts = Counter((r["kind"], r["status"]) for r in table)
    assert counts == {
        ("sister_city", "active"): 18,
        ("sister_city", "in_negotiation"): 2,
        ("cooperation_memorandum", "active"): 1,
        ("mou", "active"): 3,
    }
    by_kind: dict[tuple[str, str], list[str]] = {}
    for r in table:
        by_kind.setdefault((r["kind"], r["status"]), []).append(r["partner"])
    assert sorted(by_kind[("sister_city", "in_negotiation")]) == ["Damascus", "Tunis"]
    assert by_kind[("cooperation_memorandum", "active")] == ["Kabul"]
    assert sorted(by_kind[("mou", "active")]) == ["Milan", "Paris", "Saint Petersburg"]
    assert all(r["city"] == "Tehran" and r["country"] == "IR" for r in DATA["relations"])


def test_first_twinning_is_bishkek_1994() -> None:
    dated = [r for r in DATA["relations"] if r["signed_year"] is not None]
    first = min(dated, key=lambda r: r["signed_year"])
    assert (first["partner"], first["partner_country"], first["signed_year"], first["kind"]) == (
        "Bishkek",
        "KG",
        1994,
        "sister_city",
    )


def test_terms_come_from_the_registry_vocabularies() -> None:
    for r in DATA["relations"]:
        assert r["kind"] in RELATION_KINDS and r["status"] in RELATION_STATUSES, r
    for m in DATA["memberships"]:
        assert m["role"] in MEMBERSHIP_ROLES, m
    for org in DATA["organisations"]:
        assert org["kind"] in ORGANISATION_KINDS, org["name"]
        assert org["scale"] in {"global", "regional"}, org["name"]
        for mc in org["member_counts"]:
            assert isinstance(mc["count"], int) and mc["count"] > 0
            assert mc["qualifier"] in {None, "more_than", "about"}
    for a in DATA["activities"]:
        assert a["kind"] in ACTIVITY_KINDS, a["title"]
        assert set(a["dimensions"]) <= set(DIMENSIONS), a["title"]


def test_activity_functions_are_model_codes() -> None:
    codes = load_model().codes()
    for a in DATA["activities"]:
        assert set(a["functions"]) <= codes, a["title"]


def test_every_named_place_is_declared_once() -> None:
    declared = Counter((p["name"], p["country"]) for p in DATA["places"])
    assert max(declared.values()) == 1
    for p in DATA["places"]:
        assert PERSIAN.search(p["name_fa"]), p["name"]
    used: set[tuple[str, str]] = set()
    for r in DATA["relations"]:
        used |= {(r["city"], r["country"]), (r["partner"], r["partner_country"])}
    used |= {(m["city"], m["country"]) for m in DATA["memberships"]}
    used |= {(a["city"], a["country"]) for a in DATA["activities"] if a["city"]}
    used |= {(o["seat"]["name"], o["seat"]["country"]) for o in DATA["organisations"] if o["seat"]}
    assert used <= set(declared), used - set(declared)


def test_organisation_references_resolve_uniquely() -> None:
    names = Counter(o["name"] for o in DATA["organisations"])
    acronyms = Counter(o["acronym"] for o in DATA["organisations"] if o["acronym"])
    assert max(names.values()) == 1 and max(acronyms.values()) == 1
    keys = set(names) | set(acronyms)
    for m in DATA["memberships"]:
        assert m["organisation"] in keys, m
    for a in DATA["activities"]:
        assert a["organisation"] is None or a["organisation"] in keys, a["title"]
    for o in DATA["organisations"]:
        assert PERSIAN.search(o["name_fa"]), o["name"]


def test_records_respect_the_registry_unique_keys() -> None:
    memberships = Counter((m["city"], m["organisation"], m["role"]) for m in DATA["memberships"])
    assert max(memberships.values()) == 1
    relations = Counter((frozenset({r["city"], r["partner"]}), r["kind"]) for r in DATA["relations"])
    assert max(relations.values()) == 1
    for org in DATA["organisations"]:
        counts = Counter((mc["what"], mc["as_of_year"]) for mc in org["member_counts"])
        assert not counts or max(counts.values()) == 1, org["name"]


def test_paper_000_table_3_networks() -> None:
    table_3 = {
        "Mayors for Peace": (1982, "Hiroshima"),
        "World Association of the Major Metropolises": (1984, "Montreal"),
        "United Nations Human Settlements Programme": (1987, "Nairobi"),
        "Alliance for Healthy Cities": (2003, "Manila"),
        "United Cities and Local Governments": (2004, "Barcelona"),
        "C40 Cities Climate Leadership Group": (2005, "London"),
        "Arab Town Organization": (1976, "Kuwait City"),
        "Organization of Islamic Capitals and Cities": (1980, "Jeddah"),
        "Eurocities": (1986, "Brussels"),
        "MedCities": (1991, "Barcelona"),
        "Union of the Baltic Cities": (1991, "Gdańsk"),
        "Southeast Asian Creative Cities Network": (2014, "Chiang Mai"),
    }
    orgs = {o["name"]: o for o in DATA["organisations"]}
    for name, (founded, seat) in table_3.items():
        assert (orgs[name]["founded"], orgs[name]["seat"]["name"]) == (founded, seat), name
        assert orgs[name]["cite"]["source"] == "paper000"
    regional = {n for n in table_3 if orgs[n]["scale"] == "regional"}
    assert len(regional) == 6


def test_member_counts_and_eligibility() -> None:
    orgs = {o["acronym"] or o["name"]: o for o in DATA["organisations"]}

    def counts(key: str) -> dict[tuple[str, int], int]:
        return {(mc["what"], mc["as_of_year"]): mc["count"] for mc in orgs[key]["member_counts"]}

    assert counts("Mayors for Peace")[("members", 2021)] == 8024
    assert counts("Mayors for Peace")[("members", 2013)] == 5551
    assert counts("OICC")[("member cities and capitals", 2025)] == 141
    assert counts("OICC")[("observer cities", 2025)] == 8
    assert counts("OICC")[("honorary members", 2025)] == 14
    assert counts("AMF")[("Iranian member cities", 2025)] == 24
    assert counts("World Bank")[("member countries", 2025)] == 189
    assert counts("IMF")[("member countries", 2025)] == 190
    assert counts("UNDP")[("countries with offices", 2025)] == 166
    assert orgs["Metropolis"]["eligibility"]["min_population"] == 250000
    assert orgs["Metropolis"]["eligibility"]["min_urban_area_population"] == 1000000
    gfcd_members = {m["city"] for m in DATA["memberships"] if m["organisation"] == "GFCD"}
    assert gfcd_members == {"Tehran", "Mashhad"}


def test_key_activities_are_present() -> None:
    by_title = {a["title"]: a for a in DATA["activities"]}
    wcd = by_title["First World Cities Day ceremony"]
    assert str(wcd["date"]) == "2014-10-31" and wcd["organisation"] == "UN-Habitat"
    assert by_title["Tehran Golden Brick world award"]["value"] == 5
    gcui = by_title["Global Urban Competitiveness Index 2010"]
    assert (gcui["value"], gcui["of"], gcui["year"]) == (332, 500, 2010)
    assert by_title["Economist city competitiveness ranking"]["value"] == 120
    un_cooperation = {a["organisation"] for a in DATA["activities"] if a["title"].startswith("Cooperation with")}
    assert un_cooperation == {
        "UNDP",
        "UNESCO",
        "WHO",
        "UNIDO",
        "UNEP",
        "UNWTO",
        "World Bank",
        "UNICEF",
        "UNHCR",
        "UNODC",
    }
    assert by_title["Cooperation MoU with UN-Habitat"]["kind"] == "declaration"
