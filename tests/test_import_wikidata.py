"""Importing Wikidata SPARQL JSON results: P190 (twinning) -> relations, P463 (member of) -> memberships."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from registry_helpers import dump_db
from sqlalchemy import select
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app
from citydiplomacy.ingest.common import ImportAborted
from citydiplomacy.ingest.tabular import InputError, read_json
from citydiplomacy.ingest.wikidata import bindings_to_rows, import_wikidata
from citydiplomacy.store import db
from citydiplomacy.store.queries import stats
from citydiplomacy.store.schema import Membership, Organisation, Place, Relation

FIXTURES = Path(__file__).with_name("fixtures") / "ingest"
P190, P463 = FIXTURES / "wikidata_p190.json", FIXTURES / "wikidata_p463.json"

runner = CliRunner()


def test_bindings_become_rows_with_lat_lng_from_wkt_points() -> None:
    columns, rows = bindings_to_rows(P190, "twinning")
    assert columns[:8] == ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2"]
    assert len(rows) == 4
    first = rows[0]
    # WKT is Point(lng lat): the importer must swap them.
    assert (first["city1"], first["lat1"], first["lng1"]) == ("Tehran", "35.689", "51.389")
    assert (first["city2"], first["lat2"], first["lng2"]) == ("Bishkek", "42.8667", "74.6")
    assert first["source"] == "wikidata Q3616 P190 Q9361"

    _, members = bindings_to_rows(P463, "membership")
    assert [m["since"] for m in members] == ["2004-05-05", "", "2004-01-01"]
    assert members[2]["until"] == "2012-01-01"
    assert members[1]["role"] == "host of the secretariat"


def test_p190_result_becomes_relations_once_per_pair(db_url: str) -> None:
    report = import_wikidata(P190, "twinning", actor="wd")

    assert report.kind == "wikidata-twinning" and report.file == str(P190)
    assert report.rows_read == 4
    assert report.records_created["relation"] == 3  # Tehran-Bishkek is listed from both sides
    with db.session_scope() as session:
        names = {
            frozenset((session.get(Place, r.place_a_id).name, session.get(Place, r.place_b_id).name))
            for r in session.scalars(select(Relation))
        }
        assert names == {frozenset({"Tehran", "Bishkek"}), frozenset({"Tehran", "Havana"}),
                         frozenset({"Tehran", "Istanbul"})}  # fmt: skip
        notes = set(session.scalars(select(Relation.notes)))
        assert "wikidata Q3616 P190 Q9361" in notes
        assert {r.entered_by for r in session.scalars(select(Relation))} == {"wd"}
        tehran = session.scalars(select(Place).where(Place.name == "Tehran")).one()
        assert (tehran.gazetteer, tehran.gazetteer_id) == ("geonames", "112931")


def test_p463_result_becomes_memberships(db_url: str) -> None:
    report = import_wikidata(P463, "membership")

    assert report.kind == "wikidata-membership"
    assert report.records_created["membership"] == 3
    assert report.records_created["organisation"] == 1
    with db.session_scope() as session:
        org = session.scalars(select(Organisation)).one()
        assert org.name == "United Cities and Local Governments"
        got = {
            (session.get(Place, m.place_id).name, m.role, m.since_year, m.until_year)
            for m in session.scalars(select(Membership))
        }
    assert got == {("Tehran", "active", 2004, None), ("Istanbul", "secretariat_host", None, None),
                   ("Havana", "active", 2004, 2012)}  # fmt: skip


@pytest.mark.parametrize(("path", "kind"), [(P190, "twinning"), (P463, "membership")])
def test_wikidata_reimport_changes_nothing(db_url: str, path: Path, kind: str) -> None:
    import_wikidata(path, kind)
    before, before_stats = dump_db(db_url), stats()
    again = import_wikidata(path, kind)
    assert sum(again.records_created.values()) == 0
    assert stats() == before_stats
    assert dump_db(db_url) == before


MALFORMED = [
    ('{"head": {"vars": []}, "results": {"bindings": [ {"city": ', "not valid JSON"),
    ('{"head": {"vars": []}}', "no results.bindings"),
    ('{"head": {"vars": []}, "results": {"bindings": {}}}', "not a list"),
    ('{"head": {"vars": []}, "results": {"bindings": []}}', "no bindings"),
    ("[1, 2, 3]", "no results.bindings"),
]


def test_malformed_sparql_json_is_an_input_error(db_url: str, tmp_path: Path) -> None:
    import_wikidata(P190, "twinning")
    before = dump_db(db_url)
    for i, (content, words) in enumerate(MALFORMED):
        path = tmp_path / f"broken{i}.json"
        path.write_text(content, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            import_wikidata(path, "twinning")
        assert str(caught.value).startswith(str(path)) and words in str(caught.value)

        result = runner.invoke(app, ["import", "wikidata", str(path), "--kind", "twinning"])
        assert result.exit_code == 2 and words in result.stderr
        assert dump_db(db_url) == before


def test_cli_import_wikidata_membership(db_url: str) -> None:
    result = runner.invoke(app, ["import", "wikidata", str(P463), "--kind", "membership", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["records_created"]["membership"] == 3
    bad = runner.invoke(app, ["import", "wikidata", str(P463), "--kind", "sameAs"])
    assert bad.exit_code == 2 and "--kind" in bad.stderr


# ------------------------------------------------------------------ malformed files and bindings (issue 14)
DEEP = 200_000


def _result(bindings: object) -> str:
    return json.dumps({"head": {"vars": ["city", "cityLabel"]}, "results": {"bindings": bindings}})


def _p190_with(index: int, binding: object) -> str:
    """The P190 fixture with binding ``index`` replaced."""
    data = json.loads(P190.read_text(encoding="utf-8"))
    data["results"]["bindings"][index] = binding
    return json.dumps(data)


def _p190_cell(index: int, name: str, cell: object) -> str:
    data = json.loads(P190.read_text(encoding="utf-8"))
    data["results"]["bindings"][index][name] = cell
    return json.dumps(data)


def _refused_by_cli(path: Path, words: str, code: int, *extra: str) -> None:
    result = runner.invoke(app, ["import", "wikidata", str(path), "--kind", "twinning", *extra])
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, no exception escaped
    assert words in result.stderr and "Traceback" not in result.output, result.output


@pytest.mark.parametrize(("name", "content", "words"), [
    ("deep arrays", "[" * DEEP + "]" * DEEP, "nested deeper than 64 levels (JSON_MAX_DEPTH) at line 1 column 65"),
    ("deep objects", '{"a":' * DEEP + "1" + "}" * DEEP, "deeper than 64 levels (JSON_MAX_DEPTH) at line 1 column 321"),
    ("deep and unclosed", '{"results": {"bindings": [' + "[" * DEEP, "JSON_MAX_DEPTH"),
    ("deep in a binding", _result([{"city": {"type": "uri", "value": "x", "extra": "[" * 100 + "]" * 100}},
                                   {"x": json.loads("[" * 70 + "]" * 70)}]), "at line 1 column"),
    ("not JSON", "city1,country1\nTehran,Iran\n", "not valid JSON: Expecting value at line 1 column 1"),
    ("truncated", P190.read_text(encoding="utf-8")[:700], "not valid JSON"),
    ("not UTF-8", b'{"results": {"bindings": ["\xff"]}}', "not valid UTF-8 (byte 0xff at offset 27, line 1)"),
    ("empty", "  \n", "the file is empty"),
    ("a 5000-digit number", '{"results": {"bindings": [' + "9" * 5000 + "]}}", "not valid JSON"),
    ("top level array", "[1, 2, 3]", "no results.bindings): the top level is an array, not an object"),
    ("top level string", '"results"', "the top level is a string, not an object"),
    ("top level null", "null", "the top level is null, not an object"),
    ("head not object", '{"head": [], "results": {"bindings": []}}', "head: head is an array, not an object"),
    ("vars not names", '{"head": {"vars": [1]}, "results": {"bindings": []}}', "head.vars is not an array"),
    ("ASK result", '{"head": {}, "boolean": true}', "results: not a SPARQL JSON result (an ASK result (boolean))"),
    ("results missing", '{"head": {"vars": []}}', "results: not a SPARQL JSON result (no results.bindings)"),
    ("results array", '{"results": [{"bindings": []}]}', "results is an array, not an object"),
    ("bindings missing", '{"results": {"rows": []}}', "results.bindings: not a SPARQL JSON result"),
    ("bindings object", '{"results": {"bindings": {"0": {}}}}', "results.bindings: results.bindings is an object"),
    ("bindings string", '{"results": {"bindings": "[]"}}', "results.bindings is a string, not a list"),
    ("bindings null", '{"results": {"bindings": null}}', "results.bindings is null, not a list"),
    ("no bindings", _result([]), "the result has no bindings"),
])  # fmt: skip
def test_structurally_broken_files_are_refused_whole(
    sqlite_url: str, tmp_path: Path, name: str, content: str | bytes, words: str
) -> None:
    """Refused before the database is touched (the record-level refusals below run on both back ends)."""
    import_wikidata(P190, "twinning")
    before = dump_db(sqlite_url)
    path = tmp_path / "broken.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    for on_error in ("abort", "skip"):
        with pytest.raises(InputError) as caught:
            import_wikidata(path, "twinning", on_error=on_error)
        assert str(caught.value).startswith(f"{path}: ") and words in str(caught.value), str(caught.value)
        assert dump_db(sqlite_url) == before
    _refused_by_cli(path, words, 2)
    _refused_by_cli(path, words, 2, "--on-error", "skip")
    assert dump_db(sqlite_url) == before
    assert not path.with_name("broken.rejects.csv").exists()


def test_nesting_is_refused_before_the_json_module_recurses(tmp_path: Path) -> None:
    """Under a raised recursion limit the json module crashes the interpreter on 200,000 brackets: refused first."""
    path = tmp_path / "deep.json"
    path.write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    script = (
        "import sys; sys.setrecursionlimit(10**7)\n"
        "from citydiplomacy.ingest.tabular import InputError, read_json\n"
        "try:\n    read_json(sys.argv[1])\nexcept InputError as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "JSON_MAX_DEPTH" in done.stdout


def test_brackets_in_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    text = '{"a": "' + "[{" * 1000 + '", "b": "\\"[[[[\\\\", "c": [[["]]]]]]]"]]]}'
    path = tmp_path / "strings.json"
    path.write_text(text, encoding="utf-8")
    assert read_json(path) == json.loads(text)
    path.write_text("[" * 64 + "]" * 64, encoding="utf-8")  # the limit itself is accepted
    assert read_json(path) == json.loads("[" * 64 + "]" * 64)


def test_json_file_size_is_capped(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size = P190.stat().st_size
    monkeypatch.setattr(settings, "JSON_MAX_BYTES", size - 1)
    before = dump_db(db_url)
    with pytest.raises(InputError) as caught:
        import_wikidata(P190, "twinning")
    assert f"larger than the limit of {size - 1:,} bytes (JSON_MAX_BYTES)" in str(caught.value)
    assert dump_db(db_url) == before
    _refused_by_cli(P190, "JSON_MAX_BYTES", 2)
    monkeypatch.setattr(settings, "JSON_MAX_BYTES", size)
    assert import_wikidata(P190, "twinning").committed


def test_missing_file_and_directory_are_input_errors(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        import_wikidata(tmp_path / "absent.json", "twinning")
    with pytest.raises(InputError, match="cannot be read"):
        import_wikidata(tmp_path, "twinning")
    _refused_by_cli(tmp_path / "absent.json", "file not found", 2)


#: (binding 2 of the P190 fixture, i.e. results.bindings[1], made malformed; the field named; words)
BAD_BINDINGS = [
    ("a list", _p190_with(1, [1, 2]), None, "results.bindings[1] is an array, not an object"),
    ("a string", _p190_with(1, "Tehran"), None, "results.bindings[1] is a string, not an object"),
    ("null", _p190_with(1, None), None, "results.bindings[1] is null, not an object"),
    ("a cell string", _p190_cell(1, "twinLabel", "Havana"), "twinLabel", "twinLabel is a string, not an RDF term"),
    ("a cell list", _p190_cell(1, "twinCoord", [23.1, -82.3]), "twinCoord", "twinCoord is an array, not an RDF"),
    ("no value", _p190_cell(1, "cityLabel", {"type": "literal"}), "cityLabel", "cityLabel has no value"),
    ("a number value", _p190_cell(1, "cityLabel", {"type": "literal", "value": 5}), "cityLabel",
     "cityLabel has a value that is a number, not a string"),
    ("an object value", _p190_cell(1, "twin", {"type": "uri", "value": {"id": "Q1"}}), "twin",
     "twin has a value that is an object, not a string"),
    ("a null value", _p190_cell(1, "twin", {"type": "uri", "value": None}), "twin", "a value that is null"),
    ("unexpected type", _p190_cell(1, "twin", {"type": "triple", "value": "x"}), "twin",
     "twin has type 'triple', not one of uri, literal, typed-literal, bnode"),
    ("no type", _p190_cell(1, "twin", {"value": "x"}), "twin", "twin has type null, not one of"),
    ("a bad language", _p190_cell(1, "cityLabel", {"type": "literal", "value": "x", "xml:lang": 1}), "cityLabel",
     "has a xml:lang that is a number"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "field", "words"), BAD_BINDINGS)
def test_a_malformed_binding_is_a_rejected_row(
    db_url: str, tmp_path: Path, name: str, content: str, field: str | None, words: str
) -> None:
    path = tmp_path / "p190.json"
    path.write_text(content, encoding="utf-8")
    rejects = tmp_path / "p190.rejects.csv"
    before = dump_db(db_url)
    where = f"{path}:2: {field + ': ' if field else ''}"

    with pytest.raises(ImportAborted) as caught:  # abort: nothing written, the binding and field named
        import_wikidata(path, "twinning", rejects_path=rejects)
    assert str(caught.value).startswith(where) and words in str(caught.value), str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert [(r.row, r.field) for r in caught.value.report.rejects] == [(2, field)]
    assert dump_db(db_url) == before
    _refused_by_cli(path, words, 3)
    assert dump_db(db_url) == before

    report = import_wikidata(path, "twinning", on_error="skip", rejects_path=rejects)  # skip: the others go in
    assert report.committed and report.rows_read == 4 and report.rows_rejected == 1
    assert report.records_created["relation"] == 2  # all but Tehran-Havana (binding 2)
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [(r["row"], r["field"]) for r in rows] == [("2", field or "")] and words in rows[0]["reason"]


def test_bindings_are_numbered_and_fields_named_as_in_the_file(db_url: str, tmp_path: Path) -> None:
    """A binding the importer refuses is named by its number and its variable, not the converted CSV's."""
    data = json.loads(P190.read_text(encoding="utf-8"))
    data["results"]["bindings"][1]["twinCountryLabel"]["value"] = "Narnia"
    data["results"]["bindings"][2] = 42
    coord = data["results"]["bindings"][3].pop("twinCoord")
    data["results"]["bindings"][3]["partnerCoord"] = {**coord, "value": "Point(500 500)"}  # the alternate variable
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    before = dump_db(db_url)
    with pytest.raises(ImportAborted) as caught:
        import_wikidata(path, "twinning")
    message = str(caught.value)
    assert message.startswith(f"{path}:2: twinCountryLabel: unknown country 'Narnia' (and 2 more row(s)")
    assert "tmp" not in message.replace(str(tmp_path), "")  # no temporary conversion file is named
    got = [(r.row, r.field) for r in caught.value.report.rejects]
    assert got == [(2, "twinCountryLabel"), (3, None), (4, "partnerCoord")]
    assert dump_db(db_url) == before
    result = runner.invoke(app, ["import", "wikidata", str(path), "--kind", "twinning", "--json"])
    assert result.exit_code == 3 and "Traceback" not in result.output
    out = json.loads(result.stdout)
    assert out["file"] == str(path) and [r["row"] for r in out["rejects"]] == [2, 3, 4]


def test_a_malformed_membership_binding_is_a_rejected_row(db_url: str, tmp_path: Path) -> None:
    data = json.loads(P463.read_text(encoding="utf-8"))
    data["results"]["bindings"][2]["start"] = {"type": "literal", "value": 2004}
    path = tmp_path / "p463.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    before = dump_db(db_url)
    with pytest.raises(ImportAborted) as caught:
        import_wikidata(path, "membership")
    assert str(caught.value).startswith(f"{path}:3: start: results.bindings[2].start has a value that is a number")
    assert dump_db(db_url) == before
    report = import_wikidata(path, "membership", on_error="skip", rejects_path=tmp_path / "r.csv")
    assert report.records_created["membership"] == 2 and [(r.row, r.field) for r in report.rejects] == [(3, "start")]
    with db.session_scope() as session:
        assert {m.source_locator for m in session.scalars(select(Membership))} == {
            "wikidata Q3616 P463 Q1066775", "wikidata Q406 P463 Q1066775"
        }  # fmt: skip


def test_swot_weights_file_is_read_bounded(sqlite_url: str, tmp_path: Path) -> None:
    deep = tmp_path / "w.json"
    deep.write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    result = runner.invoke(app, ["swot", "Tehran", "--weights", str(deep)])
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "JSON_MAX_DEPTH" in result.output and "Traceback" not in result.output


def test_nesting_measure_agrees_with_the_parsed_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random JSON whose strings hold brackets, quotes and backslashes: refused exactly when too deep."""
    rnd = random.Random(14)
    letters = ["[", "]", "{", "}", '"', "\\", "a", ",", ":", "\n", "é"]

    def text() -> str:
        return "".join(rnd.choice(letters) for _ in range(rnd.randint(0, 6)))

    def value(level: int) -> object:
        pick = rnd.random()
        if level > 9 or pick < 0.3:
            return text() if rnd.random() < 0.7 else rnd.randint(0, 9)
        if pick < 0.65:
            return [value(level + 1) for _ in range(rnd.randint(0, 3))]
        return {text(): value(level + 1) for _ in range(rnd.randint(0, 3))}

    def depth(v: object) -> int:
        inner = v if isinstance(v, list) else list(v.values()) if isinstance(v, dict) else None
        return 0 if inner is None else 1 + max(map(depth, inner), default=0)

    monkeypatch.setattr(settings, "JSON_MAX_DEPTH", 4)
    path = tmp_path / "random.json"
    for _ in range(2000):
        v = value(0)
        path.write_text(json.dumps(v, ensure_ascii=rnd.random() < 0.5, indent=rnd.choice([None, 1])), "utf-8")
        if depth(v) > 4:
            with pytest.raises(InputError, match="JSON_MAX_DEPTH"):
                read_json(path)
        else:
            assert read_json(path) == v
