"""Wikidata pairs and relation evidence: one tie from two sources is one relation with two pieces of evidence.

Small fixtures (``fixtures/ingest/wikidata_pairs_*.tsv``) name Tehran, Bishkek, Istanbul and Havana (held by
``pairs_small.csv``), Tbilisi (one gazetteer entry, "Tiflis") and Springfield (34 namesakes: never guessed).
The real crawl and twin_cities.csv are imported once when ../shared/data is present.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from registry_helpers import TWIN_HEADER, dump_db, write_csv
from sqlalchemy import func, select
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app
from citydiplomacy.geo.resolve import Resolver
from citydiplomacy.ingest.common import ImportAborted
from citydiplomacy.ingest.missions import import_missions
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.ingest.wikidata_pairs import import_wikidata_pairs
from citydiplomacy.store import db
from citydiplomacy.store.evidence import disagreements, evidence_of
from citydiplomacy.store.places import merge_places
from citydiplomacy.store.queries import city_profile, export_rows
from citydiplomacy.store.schema import Place, Relation, RelationEvidence

FIXTURES = Path(__file__).with_name("fixtures") / "ingest"
PAIRS = FIXTURES / "pairs_small.csv"
RELATIONS = FIXTURES / "wikidata_pairs_relations.tsv"
NAMES = FIXTURES / "wikidata_pairs_names.tsv"
runner = CliRunner()


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver()


def _copy(tmp_path: Path, *paths: Path) -> list[Path]:
    out = []
    for p in paths:
        (tmp_path / p.name).write_bytes(p.read_bytes())
        out.append(tmp_path / p.name)
    return out


def _evidence_count(url: str) -> int:
    with db.get_engine(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(RelationEvidence)).scalar_one())


def test_pairs_after_twinning_add_evidence_not_relations(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    pairs, relations, names = _copy(tmp_path, PAIRS, RELATIONS, NAMES)
    twin = import_twinning(pairs, resolver=resolver)
    assert twin.records_created["relation_evidence"] == twin.records_created["relation"] == 4

    report = import_wikidata_pairs(relations, names, resolver=resolver)
    d = report.details
    assert report.rows_read == 7 and d["pairs read (undirected)"] == 4
    # Teheran, Bischkek, Istanbul, Havanna: one registry place each (Tehran's place has the Wikidata id its
    # gazetteer entry carries: joined by it); Tiflis: one gazetteer entry; Springfield: none.
    assert d["items joined by Wikidata id"] == 1
    assert d["items joined by label (one registry place)"] == 3
    assert d["items joined by label (one gazetteer place)"] == 1
    assert d["items not joined"] == 1 and d["share of items not joined (%)"] == 16.7
    # Tehran-Bishkek and Istanbul-Havana were held: evidence added; Tehran-Tbilisi is new.
    assert report.records_created["relation"] == 1
    assert report.records_created["place"] == 1
    assert d["ties both sources hold"] == 2
    assert d["ties only these pairs hold"] == 1
    assert d["sister-city ties only other sources hold"] == 2
    with db.get_engine(sqlite_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Relation)).scalar_one() == 5
        tehran = conn.execute(select(Place.id, Place.wikidata_id).where(Place.gazetteer_id == "112931")).one()
        assert tehran.wikidata_id == "Q3616"  # lent by the label join
        rel = conn.execute(select(Relation.id).where((Relation.place_a_id == tehran.id) |
                                                     (Relation.place_b_id == tehran.id))).scalars().all()  # fmt: skip
        labels = sorted(e["label"] for rid in rel for e in evidence_of(conn, [rid]).get(rid, []))
    assert "Wikidata 2016" in labels and "pairs_small.csv row 2, 3" in labels

    # A re-import changes nothing, and the items now join by their ids.
    before = dump_db(sqlite_url)
    again = import_wikidata_pairs(relations, names, resolver=resolver)
    assert dump_db(sqlite_url) == before
    assert again.details["items joined by Wikidata id"] == 5
    assert again.details["ties both sources hold"] == 2


def test_an_item_the_gazetteer_places_on_a_held_place_joins_its_namesake_partner_the_first_time(
    sqlite_url: str, tmp_path: Path, resolver: Resolver
) -> None:
    # "Donostia/San Sebastián" names no registry place as written but one gazetteer entry, which the registry
    # holds (from twin_cities.csv); "Reno" names one registry place but many in the world, so only the tie
    # the registry holds tells which.  The first import must join both, as the re-import (finding Donostia
    # by the id it was lent) would: a re-import creates nothing.
    rows = [["Donostia / San Sebastián", "Spain", "43.31283", "-1.97499", "Reno", "United States", "39.52963",
             "-119.8138"]]  # fmt: skip
    import_twinning(write_csv(tmp_path / "twins.csv", TWIN_HEADER, rows), resolver=resolver)
    relations, names = tmp_path / "rel.tsv", tmp_path / "names.tsv"
    relations.write_text("Q10313\tQ49225\nQ49225\tQ10313\n", encoding="utf-8")
    names.write_text("Q10313\tDonostia/San Sebastián\nQ49225\tReno\n", encoding="utf-8")
    first = import_wikidata_pairs(relations, names, resolver=resolver)
    # Reno's place has the Wikidata id of its gazetteer entry (Q49225): joined by it, no tie needed.
    assert first.details["items joined by Wikidata id"] == 1
    assert first.details["items joined by label (one gazetteer place)"] == 1
    assert first.details["ties both sources hold"] == 1 and first.records_created["relation_evidence"] == 1
    before = dump_db(sqlite_url)
    second = import_wikidata_pairs(relations, names, resolver=resolver)
    assert sum(second.records_created.values()) == 0 and second.details["places given a Wikidata id"] == 0
    assert second.details["items joined by Wikidata id"] == 2
    assert dump_db(sqlite_url) == before


def test_malformed_qid_names_file_row_field_and_writes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    relations = tmp_path / "rel.tsv"
    relations.write_text("Q3616\tQ9361\nQ12x\tQ406\nQ406\tq1563\n", encoding="utf-8")
    (names,) = _copy(tmp_path, NAMES)
    db.upgrade(db.get_engine(sqlite_url))
    before = dump_db(sqlite_url)
    with pytest.raises(ImportAborted) as err:
        import_wikidata_pairs(relations, names, rejects_path=tmp_path / "rej.csv")
    assert "rel.tsv:2: item: malformed Wikidata id 'Q12x'" in str(err.value)
    assert dump_db(sqlite_url) == before
    rejects = (tmp_path / "rej.csv").read_text(encoding="utf-8")
    assert "rel.tsv" in rejects and ",twin," in rejects.replace('"', "")  # row 3: the second field


def test_twinning_years_that_disagree_are_listed(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    head = [*TWIN_HEADER, "signed_year"]
    row = ["Tehran", "Iran", "35.6944", "51.4215", "Bishkek", "Kyrgyzstan", "42.87", "74.59"]
    first = write_csv(tmp_path / "office.csv", head, [[*row, "1992"]])
    second = write_csv(tmp_path / "other.csv", head, [[*row, "1995"], [*row[4:], *row[:4], "1995"]])
    import_twinning(first, resolver=resolver)
    report = import_twinning(second, resolver=resolver)
    assert report.records_created["relation"] == 0 and report.records_created["relation_evidence"] == 1
    with db.get_engine(sqlite_url).connect() as conn:
        found = disagreements(conn)
    assert len(found) == 1 and found[0]["field"] == "signed_year"
    assert sorted(v["value"] for v in found[0]["values"]) == [1992, 1995]
    assert {found[0]["place_a"], found[0]["place_b"]} == {"Tehran", "Bishkek"}

    result = runner.invoke(app, ["review", "disagreements", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["items"][0]["field"] == "signed_year"


def test_merge_moves_evidence_of_a_dropped_duplicate(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    bishkek = ["Bishkek", "Kyrgyzstan", "42.87", "74.59"]
    import_twinning(write_csv(tmp_path / "a.csv", TWIN_HEADER, [["Tehran", "Iran", "35.69", "51.42", *bishkek]]),
                    resolver=resolver)  # fmt: skip
    import_twinning(write_csv(tmp_path / "b.csv", TWIN_HEADER, [["Qwzxtown", "Iran", "", "", *bishkek]]),
                    resolver=resolver)  # fmt: skip
    assert _evidence_count(sqlite_url) == 2
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        old = s.scalars(select(Place).where(Place.name == "Qwzxtown")).one()
        target = s.scalars(select(Place).where(Place.gazetteer_id == "112931")).one()
        summary = merge_places(s, old, target, actor="tester")
        assert summary.dropped["relation"] == 1 and summary.moved["relation_evidence"] == 1
    with db.get_engine(sqlite_url).connect() as conn:
        (rid,) = conn.execute(select(Relation.id)).scalars().all()
        assert sorted(e["label"] for e in evidence_of(conn, [rid])[rid]) == ["a.csv row 2", "b.csv row 2"]


def test_missions_lend_city_ids_that_pairs_then_join_by(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    head = "operator;country;city;cityQID;latitude;longitude;type;"
    rows = ["France;Iran;Tehran;http://www.wikidata.org/entity/Q3616;35.69;51.42;embassy;",
            "Germany;Iran;Tehran;http://www.wikidata.org/entity/Q3616;35.70;51.41;embassy;",
            "France;Kyrgyzstan;Bishkek;http://www.wikidata.org/entity/Q9361;42.87;74.59;embassy;"]  # fmt: skip
    missions = tmp_path / "embassies.csv"
    missions.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    report = import_missions(missions, resolver=resolver)
    # Tehran's place has Q3616 from its gazetteer entry already; Bishkek's is lent Q9361.
    assert report.details["places given a Wikidata id"] == 1
    relations, names = _copy(tmp_path, RELATIONS, NAMES)
    pairs = import_wikidata_pairs(relations, names, resolver=resolver)
    assert pairs.details["items joined by Wikidata id"] == 2
    assert pairs.details["share of pairs joined by id (%)"] == 25.0  # Tehran-Bishkek of 4 pairs

    with db.session_scope(db.get_engine(sqlite_url)) as s:
        tehran = s.scalars(select(Place).where(Place.wikidata_id == "Q3616")).one()
        profile = city_profile(s, tehran)
        assert all(r["evidence"] and r["evidence"][0]["label"] == "Wikidata 2016" for r in profile["relations"])
        exported = list(export_rows(s, "relations"))
    assert exported and all(r["evidence"] == "Wikidata 2016" for r in exported)


def test_migration_0007_backfills_each_relations_own_provenance(db_url: str, tmp_path: Path) -> None:
    from alembic import command

    head = [*TWIN_HEADER, "signed_year"]
    rows = [["Tehran", "Iran", "35.69", "51.42", "Bishkek", "Kyrgyzstan", "42.87", "74.59", "1992"],
            ["Istanbul", "Turkey", "41.01", "28.95", "Havana", "Cuba", "23.13", "-82.38", ""]]  # fmt: skip
    import_twinning(write_csv(tmp_path / "office.csv", head, rows))
    engine = db.get_engine(db_url)
    command.downgrade(db.alembic_config(engine), "0006")
    db.upgrade(engine)
    with engine.connect() as conn:
        got = conn.execute(
            select(RelationEvidence.relation_id, RelationEvidence.source_locator, RelationEvidence.values)
            .order_by(RelationEvidence.relation_id)
        ).all()  # fmt: skip
        held = conn.execute(select(Relation.id, Relation.source_locator).order_by(Relation.id)).all()
    assert [(r[0], r[1]) for r in got] == [tuple(h) for h in held]
    assert sorted(r[2].get("signed_year", 0) for r in got) == [0, 1992]


def test_cli_json_summary(sqlite_url: str, tmp_path: Path) -> None:
    relations, names = _copy(tmp_path, RELATIONS, NAMES)
    result = runner.invoke(app, ["import", "wikidata-pairs", str(relations), "--names", str(names), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["committed"] and out["details"]["ties only these pairs hold"] == out["records_created"]["relation"]


# ------------------------------------------------------------------------------------------------ real data
def test_real_twin_cities_then_wikidata_pairs_overlap_is_consistent(
    sqlite_url: str, twin_cities_csv: Path, resolver: Resolver
) -> None:
    relations = settings.shared_data_path("wikidata_p190_2016_relations.tsv")
    names = settings.shared_data_path("wikidata_p190_2016_names.tsv")
    if not relations.exists() or not names.exists():
        pytest.skip(f"real data set absent: {relations}")
    twin = import_twinning(twin_cities_csv, resolver=resolver, on_error="skip")
    held = twin.records_created["relation"]
    report = import_wikidata_pairs(relations, names, resolver=resolver, on_error="skip")
    d = report.details
    assert d["pairs read (undirected)"] == 17_401
    assert d["ties both sources hold"] + d["sister-city ties only other sources hold"] == held
    assert d["ties only these pairs hold"] == report.records_created["relation"]
    assert d["ties both sources hold"] > 1000  # the two sources overlap substantially
    shares = d["share of items joined by id (%)"] + d["share of items joined by name (%)"]
    assert abs(shares + d["share of items not joined (%)"] - 100) < 0.2
    assert _evidence_count(sqlite_url) >= held + d["ties both sources hold"] + d["ties only these pairs hold"]


def test_real_wikidata_pairs_imported_again_write_nothing(
    sqlite_url: str, twin_cities_csv: Path, resolver: Resolver
) -> None:
    # The README's real-data sequence: twin_cities.csv, the missions (which lend Wikidata ids), then the pairs
    # twice.  The second import finds by id what the first joined by label, and must create nothing.
    relations = settings.shared_data_path("wikidata_p190_2016_relations.tsv")
    names = settings.shared_data_path("wikidata_p190_2016_names.tsv")
    missions = settings.shared_data_path("embassies.csv")
    if not (relations.exists() and names.exists() and missions.exists()):
        pytest.skip(f"real data set absent: {relations}")
    import_twinning(twin_cities_csv, resolver=resolver, on_error="skip")
    import_missions(missions, resolver=resolver, on_error="skip")
    first = import_wikidata_pairs(relations, names, resolver=resolver, on_error="skip")
    assert first.records_created["relation_evidence"] > 10_000
    before = dump_db(sqlite_url)
    second = import_wikidata_pairs(relations, names, resolver=resolver, on_error="skip")
    assert {k: v for k, v in second.records_created.items() if v} == {}
    assert second.details["places given a Wikidata id"] == 0
    assert second.details["ties both sources hold"] == first.details["ties both sources hold"]
    assert second.details["items not joined"] == first.details["items not joined"]
    assert dump_db(sqlite_url) == before


def test_city_page_and_api_show_each_relations_sources(sqlite_url: str, tmp_path: Path, resolver: Resolver) -> None:
    from fastapi.testclient import TestClient
    from test_web_api import login
    from test_web_support import PASSWORD

    from citydiplomacy.web.app import create_app
    from citydiplomacy.web.auth import create_user

    pairs, relations, names = _copy(tmp_path, PAIRS, RELATIONS, NAMES)
    import_twinning(pairs, resolver=resolver)
    import_wikidata_pairs(relations, names, resolver=resolver)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        create_user(s, "viewer", PASSWORD, "viewer")
        tehran = s.scalars(select(Place.id).where(Place.gazetteer_id == "112931")).one()
    with TestClient(create_app(sqlite_url, secret_key="t")) as client:
        login(client, "viewer")
        page = client.get(f"/cities/{tehran}")
        assert page.status_code == 200
        cell = re.search(r'<td class="evidence"[^>]*>(.*?)</td>', page.text.split("Bishkek", 1)[1], re.S)
        # Each source as its citation, one a line: the file's name and where in it, then the Wikidata crawl.
        assert cell and re.sub(r"<[^>]+>", "", cell[1].replace("<br>", "\n")).split("\n") == [
            "pairs_small.csv · row 2, 3", "Wikidata 2016 · Q3616–Q9361"]  # the items the crawl pairs  # fmt: skip
        api = client.get("/api/relations", params={"place_id": tehran}).json()
        labels = sorted(e["label"] for item in api["items"] for e in item["evidence"])
        assert labels == ["Wikidata 2016", "Wikidata 2016", "pairs_small.csv row 2, 3"]
        one = client.get(f"/api/agreements/{api['items'][0]['id']}").json()
        assert one["evidence"]
