"""Importing Wikidata SPARQL JSON results: P190 (twinning) -> relations, P463 (member of) -> memberships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_helpers import dump_db
from sqlalchemy import select
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.tabular import InputError
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
