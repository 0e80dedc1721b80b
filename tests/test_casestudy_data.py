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
    # + Baghdad's cooperation memorandum of §6.2 (besides its Table 2 twinning)
    assert len(DATA["relations"]) == len(table) + len(friends) + 1 == 30

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


_QUOTE = re.compile(r"\(([^()]*[\u0600-\u06FF][^()]*)\)")
_FOLD = str.maketrans("يكۀة۰۱۲۳۴۵۶۷۸۹", "یکهه0123456789")


def _folded(text: str) -> str:
    """Persian text compared as read: Arabic and Persian letter forms and digits alike, no tatweel, ZWNJ
    or direction marks, runs of spaces as one."""
    text = re.sub(r"[\u0640\u200c\u200f\u200e]", "", text.translate(_FOLD))
    return " ".join(text.split())


def _said_near(words: str, paper: str, reach: int = 120) -> bool:
    """Every word of ``words`` within ``reach`` characters of its first word's rarest anchor in ``paper``.

    The papers' tables come from PDFs whose extracted lines run right to left in pieces ("کشور عضو • دارای
    184"), so a quote is matched as its words close together, not as one string.
    """
    tokens = words.split()
    anchor = min(tokens, key=paper.count)
    start = paper.find(anchor)
    while start >= 0:
        window = paper[max(0, start - reach) : start + reach]
        if all(t in window for t in tokens):
            return True
        start = paper.find(anchor, start + 1)
    return False


def _paper(source: str) -> str:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"{SEEDS_DIR} absent")
    return _folded((SEEDS_DIR / DATA["sources"][source]["file"]).read_text(encoding="utf-8"))


def test_member_counts_quote_their_paper_and_carry_its_number() -> None:
    """Each count's quoted words are in the paper it cites, and the count is in them: read from the papers."""
    checked = 0
    for org in DATA["organisations"]:
        for mc in org["member_counts"]:
            quote = _QUOTE.search(mc["cite"]["locator"])
            if quote is None:
                continue
            words = _folded(quote.group(1))
            assert _said_near(words, _paper(mc["cite"]["source"])), (org["name"], quote.group(1))
            number = str(mc["count"])
            if number in words.split() or (number, words) == ("30", _folded("سی شهر از سراسر جهان")):
                checked += 1
            elif "هزار" in words:  # "بیش از یک هزار": more than one thousand
                assert mc["count"] == 1000, org["name"]
                checked += 1
            else:
                raise AssertionError(f"{org['name']}: {mc['count']} not in the quoted words {quote.group(1)!r}")
    assert checked >= 10


def test_paper_002_counts_copied_from_paper_003_are_not_stamped_a_second_time() -> None:
    """A count 002 repeats from 003 without a year is one 2014 observation, not a flat 2014-2025 "series"."""
    for org in DATA["organisations"]:
        by_source = {
            src: {(mc["what"], mc["count"]) for mc in org["member_counts"] if mc["cite"]["source"] == src}
            for src in ("paper002", "paper003")
        }
        assert not by_source["paper002"] & by_source["paper003"], org["name"]
    metropolis = next(o for o in DATA["organisations"] if o["acronym"] == "Metropolis")
    assert [(mc["count"], mc["as_of_year"]) for mc in metropolis["member_counts"]] == [(104, 2014)]


def test_oicc_membership_ended_as_paper_002_says() -> None:
    said = _folded("تهران از اعضای بنیانگذار و فعال این سازمان تا پیش از تیرگی روابط ایران و عربستان در دهه اخیر")
    assert _said_near(said, _paper("paper002"))
    oicc = [m for m in DATA["memberships"] if m["organisation"] == "OICC"]
    assert oicc and all(m["status"] == "ended" for m in oicc)


def test_baghdad_is_also_a_cooperation_memorandum_partner_as_section_6_2_says() -> None:
    # §6.2 as extracted: "کابل، سن پترزبورگ و پاریس  جمله این شهرها می توان به بغداد،" (lines run right to left)
    assert _said_near(_folded("جمله این شهرها می توان به بغداد، کابل، سن پترزبورگ و پاریس"), _paper("paper003"))
    kinds = {r["kind"] for r in DATA["relations"] if r["partner"] == "Baghdad"}
    assert kinds == {"sister_city", "cooperation_memorandum"}


def test_eligibility_and_members() -> None:
    orgs = {o["acronym"] or o["name"]: o for o in DATA["organisations"]}
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


def test_the_tables_as_of_years_are_the_years_their_own_source_lines_give() -> None:
    """``as_of_sh`` of a cited table is read from the paper: the table's source line («مأخذ …») names that year
    (002 Table 3: Tehran Municipality's international affairs, 1400; 003 Table 2: its directorate of public and
    international relations, 1391, updated).  Checked in the papers' own text, not a copy typed here."""
    checked = 0
    source_words = {"paper002": "اطلاعات دریافتی از امور شهرداری تهران", "paper003": "روابط عمومی و بین الملل شهرداری"}
    for key, source in DATA["sources"].items():
        for table, year in (source.get("as_of_sh") or {}).items():
            text = _paper(key)
            digits = str(year)
            persian = digits.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
            number = table.split()[1]
            title = f"جدول {number}"
            title_fa = f"جدول {number.translate(str.maketrans('0123456789', '۰۱۲۳۴۵۶۷۸۹'))}"
            assert title in text or title_fa in text, (key, table)
            if table == "Table 3" and key == "paper003":
                assert _said_near(f"بصیرت، {digits}", text), (key, table)  # the table rests on Basirat 1391
            else:
                said = _said_near(f"{source_words[key]} {digits}", text, reach=200) or _said_near(
                    f"{source_words[key]} {persian}", text, reach=200)  # fmt: skip
                assert said, (key, table, year)
            checked += 1
    assert checked == 3


def test_relations_and_memberships_carry_the_year_their_table_is_stated_for(sqlite_url: str) -> None:
    """The loaded case study: the evidence of each relation of 003 Table 2 and each membership of 002 Table 3
    says the year its facts are stated for, and the relation's first status says as of when."""
    from sqlalchemy import select

    from citydiplomacy.ingest.casestudy import as_of_sh, load_case_study
    from citydiplomacy.store import db
    from citydiplomacy.store.schema import MembershipEvidence, RelationEvidence, RelationStatus

    load_case_study(db.get_engine(sqlite_url))
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        relation_years = [e.values.get("as_of_sh") for e in s.scalars(select(RelationEvidence))]
        membership_years = [e.values.get("as_of_sh") for e in s.scalars(select(MembershipEvidence))]
        reasons = [h.reason for h in s.scalars(select(RelationStatus))]
    expected = [as_of_sh(DATA, r) for r in DATA["relations"]]
    assert sorted(y for y in relation_years if y) == sorted(y for y in expected if y) and expected.count(1391) == 24
    assert membership_years.count(1400) == sum(as_of_sh(DATA, m) == 1400 for m in DATA["memberships"]) >= 6
    assert sum("برای سال ۱۳۹۱ (۲۰۱۲/۱۳)" in (r or "") and "جدول ۲ مقاله ۳" in (r or "") for r in reasons) == 24
