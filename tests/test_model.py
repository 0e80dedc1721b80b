"""The five-level model as data: structure, citations, query API, validation and the CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from citydiplomacy import settings as cd_settings
from citydiplomacy.cli import app
from citydiplomacy.model import DIMENSION_CODES, SEED_FILES, Model, ModelError, clear_cache, load_model
from citydiplomacy.model.catalogue import DATA_DIR, MODEL_FILES
from citydiplomacy.model.vocab import DIMENSIONS, MEMBERSHIP_ROLES, ORGANISATION_KINDS, RELATION_KINDS

SEEDS_DIR = cd_settings.SHARED_DATA_DIR.parent / "seeds"
PERSIAN = re.compile(r"[\u0600-\u06FF]")

MODEL = load_model()


def all_items(model: Model) -> list:
    """Every item of the model, children included."""
    return list(model)


# --- structure ---------------------------------------------------------------------------------------
def test_seven_dimensions_with_fixed_codes_and_sub_kinds() -> None:
    assert tuple(d.code for d in MODEL.dimensions) == DIMENSION_CODES
    assert set(DIMENSION_CODES) == set(DIMENSIONS)  # same keys as the registry vocabulary
    subs = {d.code: [c.code for c in d.children] for d in MODEL.dimensions}
    assert subs["security"] == ["security.military", "security.civilian"]
    assert subs["representation"] == ["representation.political", "representation.non_political"]
    assert MODEL.find("networks").get("criterion_fa") == "تعاون شهری"


def test_twenty_five_activities_in_three_functions() -> None:
    per_function = {f.code: len(MODEL.activities(f.code)) for f in MODEL.functions_of("peace")}
    assert per_function == {
        "peace.direct_participation": 11,
        "peace.political_pressure": 7,
        "peace.awareness_raising": 7,
    }
    assert len(MODEL.activities()) == 25
    assert MODEL.activities("direct_participation") == MODEL.activities("peace.direct_participation")
    with pytest.raises(KeyError):
        MODEL.activities("thonon.cooperation")


def test_membership_forms_map_to_registry_roles() -> None:
    forms = {f.code: f.get("role") for f in MODEL.roles}
    assert forms == {
        "membership.active": "active",
        "membership.observer": "observer",
        "membership.associate": "associate",
    }
    assert all(role in MEMBERSHIP_ROLES for role in forms.values())
    assert MODEL.section("roles") == MODEL.membership_forms
    assert {o.get("role") for o in MODEL.organs} <= set(MEMBERSHIP_ROLES)


def test_types_and_levels_map_to_vocabularies() -> None:
    bilateral = [t for t in MODEL.types if t.get("mode") == "bilateral" and t.get("parent")]
    multilateral = [t for t in MODEL.types if t.get("mode") == "multilateral" and t.get("parent")]
    assert {t.get("relation_kind") for t in bilateral} <= set(RELATION_KINDS)
    assert {t.get("relation_kind") for t in bilateral} >= {"sister_city", "mou", "cooperation_memorandum"}
    assert {t.get("organisation_kind") for t in multilateral} == {
        "un_agency",
        "global_network",
        "regional_network",
    }
    assert set(ORGANISATION_KINDS) >= {t.get("organisation_kind") for t in multilateral}
    assert [lv.get("scale") for lv in MODEL.levels] == ["global", "regional"]
    categories = {a.get("category") for a in MODEL.actors}
    assert categories == {"territorial", "non_territorial", "support"}
    assert [lv.get("level") for lv in MODEL.model_levels] == [1, 2, 3, 4, 5]


def test_function_families_and_paper_001_table() -> None:
    families = {f.get("family") for f in MODEL.functions}
    assert families == {"peace", "diplomatic", "thonon", "multilateral"}
    assert len(MODEL.functions_of("diplomatic")) == 5
    assert len(MODEL.functions_of("thonon")) == 3
    assert len(MODEL.functions_of("multilateral")) == 6
    assert len(MODEL.local_government_roles) == 3
    assert [p.code for p in MODEL.phases] == [
        "phase.pre_conflict",
        "phase.during_conflict",
        "phase.post_conflict",
    ]
    assert len(MODEL.tools) == 8
    table = {row.get("dimension"): row for row in MODEL.dimension_table}
    assert set(table) == set(DIMENSION_CODES) - {"research"}  # paper 001 has six dimensions
    assert table["networks"].get("function") == "cultural-political-economic"
    assert [c.name for c in table["culture"].children] == [
        "Twinning",
        "Cultural exchanges",
        "Holding exhibitions",
    ]


def test_swot_lists_have_the_papers_counts() -> None:
    counts = {kind: len(MODEL.swot(kind)) for kind in ("weakness", "strength", "opportunity", "threat")}
    assert counts == {"weakness": 9, "strength": 7, "opportunity": 9, "threat": 6}
    assert len(MODEL.swot("recommendation")) == 7
    assert len(MODEL.swot("outcome")) == 7
    assert MODEL.swot("Shortcomings") == MODEL.swot("weakness")
    assert MODEL.swot("challenges") == MODEL.swot("threat")
    with pytest.raises(KeyError):
        MODEL.swot("nonsense")
    numbers = [item.get("number") for item in MODEL.swot("opportunity")]
    assert numbers == list(range(1, 10))


def test_solutions_and_recommendations_link_to_weaknesses_or_threats() -> None:
    assert len(MODEL.solutions) == 10
    answerable = {i.code for i in MODEL.swot("weakness") + MODEL.swot("threat")}
    for item in MODEL.solutions + MODEL.swot("recommendation"):
        assert item.get("links"), item.code
        assert set(item.get("links")) <= answerable, item.code


def test_timeline_holds_the_milestones_in_order() -> None:
    years = [event.get("year") for event in MODEL.timeline]
    assert years == sorted(years)
    assert {1920, 1956, 1960, 1982, 1988, 2001, 2005} <= set(years)
    keighley = MODEL.find("tl.1920.keighley_poix_du_nord")
    assert {p["name"] for p in keighley.get("places")} == {"Keighley", "Poix-du-Nord"}


# --- citations and names ------------------------------------------------------------------------------
def test_every_item_has_bilingual_names_and_a_seed_citation() -> None:
    items = list(all_items(MODEL))
    assert len(items) == sum(len(section) for section in MODEL.sections.values())
    for item in items:
        assert item.name.strip(), item.code
        assert PERSIAN.search(item.name_fa), f"{item.code}: name_fa is not Persian"
        assert item.cite.source in SEED_FILES, item.code
        assert item.cite.locator.strip(), item.code
    cited = {item.cite.source for item in items}
    assert cited == SEED_FILES  # all five papers are used


def test_cited_seed_files_exist_when_the_seeds_are_present() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"{SEEDS_DIR} absent")
    for name in {item.cite.source for item in all_items(MODEL)} | set(MODEL.sources):
        assert (SEEDS_DIR / name).is_file(), name


def test_codes_are_unique_across_files() -> None:
    seen: dict[str, str] = {}
    for file in MODEL_FILES:
        doc = yaml.safe_load((DATA_DIR / file).read_text(encoding="utf-8"))

        def walk(entries: list, where: str) -> None:
            for entry in entries:
                assert entry["code"] not in seen, f"{entry['code']} in {where} and {seen.get(entry['code'])}"
                seen[entry["code"]] = where
                for key, value in entry.items():
                    if isinstance(value, list) and value and isinstance(value[0], dict) and "code" in value[0]:
                        walk(value, f"{where}.{key}")

        for key, value in doc.items():
            if key not in {"version", "sources"}:
                walk(value, f"{file}:{key}")
    assert set(seen) == MODEL.codes()


# --- query API ----------------------------------------------------------------------------------------
def test_version_checksum_and_cache() -> None:
    assert re.fullmatch(r"\d{4}\.\d+", MODEL.version)
    assert set(MODEL.file_versions) == set(MODEL_FILES)
    assert re.fullmatch(r"[0-9a-f]{64}", MODEL.checksum)
    assert load_model() is MODEL  # cached while the files are unchanged


def test_find_and_contains() -> None:
    assert MODEL.find("security.civilian").parent == "security"
    assert MODEL.find("lg_role.mediator").label("fa").startswith("دولت")
    assert "weakness.passive_city_council" in MODEL
    with pytest.raises(KeyError):
        MODEL.find("no.such.code")
    with pytest.raises(KeyError):
        MODEL.section("no_such_section")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(MODEL.section_names()))
def test_to_frame_has_one_row_per_item(section: str) -> None:
    frame = MODEL.to_frame(section)
    items = MODEL.section(section)
    assert len(frame) == len(items)
    assert list(frame.columns[:6]) == ["code", "name", "name_fa", "description", "source", "locator"]
    assert frame["code"].tolist() == [item.code for item in items]
    assert frame["code"].is_unique


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["weakness", "strength", "opportunity", "threat", "recommendation", "outcome"]),
    st.booleans(),
)
def test_swot_kind_is_case_and_plural_insensitive(kind: str, upper: bool) -> None:
    plural = {"opportunity": "opportunities", "weakness": "weaknesses"}.get(kind, kind + "s")
    spelled = plural.upper() if upper else plural
    assert MODEL.swot(spelled) == MODEL.swot(kind)


# --- validation -------------------------------------------------------------------------------------
def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "strategy.yaml",
            "code: weakness.few_strategies",
            "code: weakness.no_org_structure",
            "duplicate code",
        ),
        ("five_level_model.yaml", "name_fa: شورای شهر", "name_fa: ''", "missing name_fa"),
        (
            "five_level_model.yaml",
            "  - code: research",
            "  - code: science",
            "dimension codes must be exactly",
        ),
        ("five_level_model.yaml", "role: observer", "role: watcher", "not in store.vocab.MEMBERSHIP_ROLES"),
        (
            "strategy.yaml",
            "links: [weakness.experts_unused]",
            "links: [weakness.nope]",
            "is not a weakness or threat",
        ),
        (
            "functions.yaml",
            'cite: {source: 004_be513f05f174dac0.txt, locator: "§4-2, role 2"}',
            'cite: {source: 004_be513f05f174dac0.txt, locator: ""}',
            "missing or incomplete cite",
        ),
        (
            "timeline.yaml",
            'source: 004_be513f05f174dac0.txt, locator: "§4-1',
            'source: 009_x.txt, locator: "§4-1',
            "not declared",
        ),
    ],
)
def test_broken_data_are_rejected_with_the_reason(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    data = _copy_data(tmp_path)
    _rewrite(data / file, old, new)
    clear_cache()
    with pytest.raises(ModelError) as excinfo:
        load_model(data)
    assert any(message in problem for problem in excinfo.value.problems), excinfo.value.problems


def test_edited_copy_reloads_with_a_new_checksum(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    first = load_model(data)
    assert first.checksum == load_model().checksum  # same bytes, other directory: same checksum
    _rewrite(data / "strategy.yaml", 'version: "2026.11"', 'version: "2026.12"')
    second = load_model(data)
    assert second is not first
    assert second.checksum != first.checksum
    assert second.version == "2026.12"


# --- CLI ------------------------------------------------------------------------------------------------
runner = CliRunner()


def test_cli_show_lists_sections() -> None:
    result = runner.invoke(app, ["model", "show", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["dimensions"] == 7
    assert counts["activities"] == 25
    assert counts["weaknesses"] == 9


def test_cli_show_section_json_and_persian_table() -> None:
    result = runner.invoke(app, ["model", "show", "dimensions", "--json"])
    assert result.exit_code == 0, result.output
    assert [d["code"] for d in json.loads(result.output)] == list(DIMENSION_CODES)
    table = runner.invoke(app, ["model", "show", "roles", "--lang", "fa"])
    assert table.exit_code == 0, table.output
    assert "ناظر" in table.output
    assert "observer" in table.output  # the role column


def test_cli_show_single_code_and_unknown() -> None:
    result = runner.invoke(app, ["model", "show", "tool.twinning", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["name_fa"] == "برقراری ارتباط و پیوند خواهرخواندگی"
    missing = runner.invoke(app, ["model", "show", "no_such_thing"])
    assert missing.exit_code == 2


def test_cli_version() -> None:
    result = runner.invoke(app, ["model", "version", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["version"] == MODEL.version
    assert info["checksum"] == MODEL.checksum
    assert set(info["files"]) == set(MODEL_FILES)
