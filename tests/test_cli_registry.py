"""The read side of the CLI: ``citydip demo``, ``stats``, ``city show`` and ``export`` (thin layers over queries)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from registry_helpers import CASE_RELATIONS, TWIN_HEADER, write_csv
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db
from citydiplomacy.store.queries import EXPORT_COLUMNS, stats

PAIRS = Path(__file__).with_name("fixtures") / "ingest" / "pairs_small.csv"
PLACES_COLUMNS = ["name_in_source", "country_in_source", "gazetteer_id", "name", "country_code", "lat", "lng",
                  "score", "status"]  # fmt: skip

runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.stdout


def test_demo_on_a_fresh_sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'citydip.db'}"
    (tmp_path / "fresh").mkdir()
    monkeypatch.chdir(tmp_path / "fresh")  # the demo writes its report into the working directory
    monkeypatch.setenv("CITYDIP_DATABASE_URL", url)
    db.get_engine.cache_clear()
    try:
        out = _ok(["demo"])
        assert (tmp_path / "fresh" / "citydip-report.html").stat().st_size > 0
        assert "Tehran — تهران (IR)" in out
        assert f"Bilateral relations ({CASE_RELATIONS})" in out
        bishkek_lines = [line for line in out.splitlines() if "Bishkek" in line]
        assert any("sister_city" in line and "1994" in line for line in bishkek_lines), out
        assert "Memberships (12)" in out  # Tehran's 12 of the 13 memberships (the 13th is Mashhad's)

        counts = json.loads(_ok(["stats", "--json"]))
        assert counts["relations"] == CASE_RELATIONS
        assert counts["relations_by_kind"]["friendship"] == 5
        assert counts["sources"] == 5
        assert counts == stats()

        again = _ok(["demo"])  # running it again changes nothing
        assert "created: nothing new" in again
        assert json.loads(_ok(["stats", "--json"]))["relations"] == CASE_RELATIONS
    finally:
        db.get_engine(url).dispose()
        db.get_engine.cache_clear()


def test_stats_on_an_empty_file_asks_for_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYDIP_DATABASE_URL", f"sqlite:///{tmp_path / 'nothing.db'}")
    db.get_engine.cache_clear()
    try:
        result = runner.invoke(app, ["stats"])
        assert result.exit_code == 2 and "citydip demo" in result.stderr
    finally:
        db.get_engine.cache_clear()


def test_city_show_by_english_and_persian_name(db_url: str) -> None:
    load_case_study()
    by_en = json.loads(_ok(["city", "show", "Tehran", "--json"]))
    by_fa = json.loads(_ok(["city", "show", "تهران", "--json"]))
    assert by_en == by_fa
    assert by_en["place"]["gazetteer_id"] == "112931" and by_en["place"]["name_fa"] == "تهران"
    assert len(by_en["relations"]) == CASE_RELATIONS
    assert by_en["relations_by_kind"]["friendship:active"] == 5
    assert by_en["relations_by_kind"]["sister_city:in_negotiation"] == 2
    bishkek = [r for r in by_en["relations"] if r["partner"]["name"] == "Bishkek"]
    assert [(r["kind"], r["signed_year"]) for r in bishkek] == [("sister_city", 1994)]
    assert bishkek[0]["provenance"]["source"] == "003_e2ea725f2834c7bc.txt"
    roles = {(m["acronym"], m["role"]) for m in by_en["memberships"]}
    assert {("AMF", "secretariat_host"), ("OICC", "founding"), ("UCLG", "board")} <= roles
    assert by_en["activities"] and all(a["provenance"]["source"] for a in by_en["activities"])

    text = _ok(["city", "show", "Tehran", "--country", "Iran"])
    assert "Tehran — تهران (IR)" in text and f"Bilateral relations ({CASE_RELATIONS})" in text


def test_city_show_ambiguous_and_unknown_names(db_url: str, tmp_path: Path) -> None:
    valencias = [["Valencia", "Spain", "39.47", "-0.376", "Valencia", "Venezuela", "10.16", "-68.0"]]
    import_twinning(write_csv(tmp_path / "v.csv", TWIN_HEADER, valencias))
    ambiguous = runner.invoke(app, ["city", "show", "Valencia"])
    assert ambiguous.exit_code == 2
    assert "add a country (--country)" in ambiguous.stderr
    assert "(ES, pop." in ambiguous.stderr and "(VE, pop." in ambiguous.stderr  # no region ISO can name here

    spain = json.loads(_ok(["city", "show", "Valencia", "--country", "ES", "--json"]))
    assert spain["place"]["country_code"] == "ES"
    assert [r["partner"]["country_code"] for r in spain["relations"]] == ["VE"]

    missing = runner.invoke(app, ["city", "show", "Atlantis"])
    assert missing.exit_code == 2 and "no place called 'Atlantis'" in missing.stderr


def test_export_places_columns_and_gazetteer_ids(db_url: str) -> None:
    import_twinning(PAIRS)
    rows = list(csv.DictReader(io.StringIO(_ok(["export", "places", "--format", "csv"]))))
    with io.StringIO(_ok(["export", "places"])) as handle:  # csv is the default
        assert next(csv.reader(handle)) == PLACES_COLUMNS
    assert EXPORT_COLUMNS["places"] == PLACES_COLUMNS
    assert len(rows) == 8  # one row per place as the source wrote it
    by_name = {(r["name_in_source"], r["country_in_source"]): r for r in rows}
    tehran = by_name[("Tehran", "Iran")]
    assert (tehran["gazetteer_id"], tehran["name"], tehran["country_code"], tehran["status"]) == (
        "112931", "Tehran", "IR", "resolved",
    )  # fmt: skip
    assert float(tehran["lat"]) == pytest.approx(35.694, abs=0.01)
    wales = by_name[("Wales", "United Kingdom")]
    assert (wales["gazetteer_id"], wales["country_code"], wales["status"]) == ("GB-WLS", "GB", "subdivision")
    kept = by_name[("Xyzzyquuxville", "France")]
    assert (kept["gazetteer_id"], kept["lat"], kept["status"]) == ("", "", "unresolved")

    as_json = json.loads(_ok(["export", "places", "--format", "json"]))
    assert [list(r) for r in as_json] == [PLACES_COLUMNS] * 8
    assert {r["gazetteer_id"] for r in as_json} >= {"112931", "GB-WLS"}


def test_export_relations_and_memberships(db_url: str, tmp_path: Path) -> None:
    load_case_study()
    out = tmp_path / "relations.csv"
    runner_out = _ok(["export", "relations", "--format", "csv", "--out", str(out)])
    assert "wrote" in runner_out
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == EXPORT_COLUMNS["relations"]
    assert len(rows) == CASE_RELATIONS
    bishkek = [r for r in rows if "Bishkek" in (r["place_a"], r["place_b"])]
    assert [(r["kind"], r["signed_year"], r["source"]) for r in bishkek] == [
        ("sister_city", "1994", "003_e2ea725f2834c7bc.txt")
    ]
    members = json.loads(_ok(["export", "memberships", "--format", "json"]))
    assert members and [list(m) for m in members] == [EXPORT_COLUMNS["memberships"]] * len(members)
    assert {m["place"] for m in members} == {"Tehran", "Mashhad"}
    assert all(m["source"] and m["locator"] for m in members)


@pytest.mark.parametrize(
    ("args", "words"),
    [(["export", "budgets"], "unknown export"), (["export", "places", "--format", "xml"], "--format")],
)
def test_export_rejects_bad_arguments(db_url: str, args: list[str], words: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and words in result.stderr
