"""Importing sister-city pair lists: counts, pair stored once, idempotence, provenance, audit, bad input.

Every test that writes runs on SQLite and on the real PostgreSQL server (``db_url``).  Bad input must
leave the database exactly as it was: a full dump of every table is compared before and after.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from registry_helpers import TWIN_HEADER, dump_db, write_csv
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app
from citydiplomacy.ingest.common import ImportAborted
from citydiplomacy.ingest.tabular import InputError
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db
from citydiplomacy.store.queries import stats
from citydiplomacy.store.schema import AuditEntry, Place, PlaceMention, Relation, Source

FIXTURES = Path(__file__).with_name("fixtures") / "ingest"
PAIRS = FIXTURES / "pairs_small.csv"
TEHRAN, BISHKEK = "112931", "1528675"  # GeoNames ids

runner = CliRunner()


def _copy_pairs(tmp_path: Path) -> Path:
    target = tmp_path / PAIRS.name
    target.write_bytes(PAIRS.read_bytes())
    return target


def _place(session, geonames_id: str) -> Place:  # type: ignore[no-untyped-def]
    return session.scalars(select(Place).where(Place.gazetteer == "geonames", Place.gazetteer_id == geonames_id)).one()


# --------------------------------------------------------------------------------------- good input
def test_small_pair_list_counts_and_pair_stored_once(db_url: str, tmp_path: Path) -> None:
    report = import_twinning(_copy_pairs(tmp_path), actor="tester")

    assert report.committed
    assert report.rows_read == 5
    assert report.rows_rejected == 0
    # Rows 2 and 3 are one pair listed from both sides: one relation, one warning.
    assert report.records_created["relation"] == 4
    assert report.already_present["relation (repeated in file)"] == 1
    assert any("row 3" in w and "row 2" in w for w in report.warnings)
    # Tehran, Bishkek, Istanbul, Havana, Cardiff, Nantes: gazetteer; Wales: ISO 3166-2; the made-up town: kept.
    assert report.places_resolved == 6
    assert report.places_subdivision == 1
    assert report.places_unresolved == 1
    assert report.places_ambiguous == 0
    assert report.records_created["place"] == 8

    with db.session_scope() as session:
        relations = session.scalars(select(Relation)).all()
        assert len(relations) == 4
        assert all(r.place_a_id < r.place_b_id for r in relations)
        tehran, bishkek = _place(session, TEHRAN), _place(session, BISHKEK)
        pair = [r for r in relations if {r.place_a_id, r.place_b_id} == {tehran.id, bishkek.id}]
        assert len(pair) == 1
        assert pair[0].source_locator.startswith("row 2")
        wales = session.scalars(select(Place).where(Place.gazetteer == "iso3166-2")).one()
        assert (wales.gazetteer_id, wales.status) == ("GB-WLS", "subdivision")
        kept = session.scalars(select(Place).where(Place.gazetteer == "source")).one()
        assert kept.status == "unresolved"
        assert (kept.lat, kept.lng) == pytest.approx((46.1234, 2.5678))
        assert session.scalar(select(func.count()).select_from(PlaceMention)) == 8


def test_same_named_places_with_shared_coordinates_are_kept_apart(db_url: str, tmp_path: Path) -> None:
    """Both sides given one place's coordinates: namesakes are found again by name, or kept apart."""
    path = write_csv(tmp_path / "namesakes.csv", TWIN_HEADER, [
        ["Nienburg", "Germany", "52.6488", "9.2578", "Nienburg", "Germany", "52.6488", "9.2578"],
        ["Randwick", "Australia", "-33.9164", "151.2365", "Randwick", "England, United Kingdom", "-33.9164",
         "151.2365"],
        ["Dobřany", "Czech Republic", "49.6539", "13.2903", "Dobřany", "Czech Republic", "49.6539", "13.2903"],
        ["Nienburg", "Germany", "52.6488", "9.2578", "Nienburg", "Germany", "52.6488", "9.2578"],  # repeated
        ["Randwick", "England, United Kingdom", "", "", "Tehran", "Iran", "", ""],
    ])  # fmt: skip
    report = import_twinning(path)  # on_error="abort": nothing is rejected
    assert report.committed and report.rows_rejected == 0
    assert report.records_created["relation"] == 4
    assert sum("namesake" in w for w in report.warnings) == 4
    with db.session_scope() as session:

        def ends(row: int) -> tuple[Place, Place]:
            rel = session.scalars(select(Relation).where(Relation.source_locator.like(f"row {row}%"))).one()
            return rel.place_a, rel.place_b

        weser, saale = sorted(ends(2), key=lambda p: p.gazetteer_id)
        assert (weser.gazetteer_id, saale.gazetteer_id) == ("2862620", "2862621")  # Nienburg (Saale)
        au, gb = sorted(ends(3), key=lambda p: p.country_code != "AU")
        assert (au.gazetteer, au.country_code, gb.gazetteer, gb.country_code) == ("geonames", "AU", "source", "GB")
        assert gb.lat is None and gb.lng is None  # the shared coordinates are not copied
        gaz, src = sorted(ends(4), key=lambda p: p.gazetteer)
        assert (gaz.gazetteer, src.gazetteer, src.name, src.country_code) == ("geonames", "source", "Dobřany", "CZ")
        derived = session.scalars(select(PlaceMention.key).where(PlaceMention.key.like("%namesake of%"))).all()
        assert len(derived) == 3
    again = import_twinning(path)
    assert again.records_created["relation"] == 0 and again.records_created["place"] == 0


def test_provenance_and_audit_on_every_created_record(db_url: str, tmp_path: Path) -> None:
    path = _copy_pairs(tmp_path)
    import_twinning(path, actor="tester")

    with db.session_scope() as session:
        source = session.scalars(select(Source)).one()
        assert source.name.startswith(path.name) and source.kind == "file"
        for model in (Relation, Place):
            records = session.scalars(select(model)).all()
            assert records
            for rec in records:
                assert rec.source_id == source.id, rec
                assert rec.entered_by == "tester"
                assert rec.entered_at is not None
        for rel in session.scalars(select(Relation)):
            assert re.fullmatch(r"row \d+(, \d+)*", rel.source_locator)
            assert rel.retrieved_at is not None
        for entity, model in (("relation", Relation), ("place", Place)):
            ids = set(session.scalars(select(model.id)))
            audited = session.execute(
                select(AuditEntry.entity_id, AuditEntry.action, AuditEntry.actor, AuditEntry.context).where(
                    AuditEntry.entity == entity
                )
            ).all()
            assert {a[0] for a in audited} == ids
            assert len(audited) == len(ids)
            assert {(a[1], a[2], a[3]) for a in audited} == {("insert", "tester", f"import twinning {path.name}")}


def test_reimport_changes_nothing(db_url: str, tmp_path: Path) -> None:
    path = _copy_pairs(tmp_path)
    import_twinning(path)
    before_stats, before = stats(), dump_db(db_url)

    again = import_twinning(path)

    assert again.records_created["relation"] == 0
    assert again.records_created["place"] == 0
    assert again.already_present["relation"] == 4
    assert stats() == before_stats
    assert dump_db(db_url) == before  # not one row added or changed, audit trail included


def test_same_pair_from_both_sides_in_separate_files_is_one_relation(db_url: str, tmp_path: Path) -> None:
    forward = write_csv(tmp_path / "forward.csv", TWIN_HEADER,
                        [["Tehran", "Iran", "", "", "Bishkek", "Kyrgyzstan", "", ""]])  # fmt: skip
    backward = write_csv(tmp_path / "backward.csv", TWIN_HEADER,
                         [["Bishkek", "KG", "", "", "Tehran", "IR", "", ""]])  # fmt: skip
    import_twinning(forward)
    report = import_twinning(backward)

    assert report.records_created["relation"] == 0
    assert report.already_present["relation"] == 1
    assert stats()["relations"] == 1


def test_duplicate_rows_are_warnings_not_duplicates(db_url: str, tmp_path: Path) -> None:
    row = ["Tehran", "Iran", "35.6944", "51.4215", "Istanbul", "Turkey", "41.0138", "28.9497"]
    path = write_csv(tmp_path / "dupes.csv", TWIN_HEADER, [row, row, row])
    report = import_twinning(path)

    assert report.rows_rejected == 0
    assert report.records_created["relation"] == 1
    assert len(report.warnings) == 2
    assert "row 3 repeats the pair of row 2" in report.warnings
    with db.session_scope() as session:
        assert session.scalars(select(Relation.source_locator)).one() == "row 2, 3, 4"


def test_optional_columns_of_the_relations_template(db_url: str, tmp_path: Path) -> None:
    header = [*TWIN_HEADER, "kind", "status", "signed_year", "ended_year", "dimensions", "source"]
    path = write_csv(tmp_path / "office.csv", header, [
        ["Tehran", "IR", "", "", "Bishkek", "KG", "", "", "sister city", "active", "1994", "", "culture;economy", "p3"],
        ["Tehran", "IR", "", "", "Bishkek", "KG", "", "", "mou", "ended", "2001-05-02", "2010", "", ""],
    ])  # fmt: skip
    report = import_twinning(path)

    assert report.records_created["relation"] == 2  # same pair, two kinds
    with db.session_scope() as session:
        rels = {r.kind: r for r in session.scalars(select(Relation))}
    assert set(rels) == {"sister_city", "mou"}
    assert rels["sister_city"].signed_year == 1994 and rels["sister_city"].dimensions == ["culture", "economy"]
    assert rels["sister_city"].notes == "p3"
    assert (rels["mou"].status, rels["mou"].signed_year, rels["mou"].ended_year) == ("ended", 2001, 2010)


# ---------------------------------------------------------------------------------------- bad input
GOOD = "Tehran,Iran,35.6944,51.4215,Bishkek,Kyrgyzstan,42.87,74.59\r\n"
HEAD = ",".join(TWIN_HEADER) + "\r\n"

#: name -> (file bytes, exit code, error type, row, field, words the message must contain)
BAD_INPUTS: dict[str, tuple[bytes, int, type[Exception], int | None, str | None, tuple[str, ...]]] = {
    "unterminated_quote": ((HEAD + GOOD + 'Havana,Cuba,,,"Bishkek,Kyrgyzstan,,\r\n').encode(),
                           2, InputError, 3, None, ("malformed CSV",)),
    "latin1_bytes": ((HEAD + GOOD).encode() + "Montréal,Canada,,,Havana,Cuba,,\r\n".encode("latin-1"),
                     2, InputError, 3, None, ("UTF-8",)),
    "missing_columns": (b"city1,country1,city2\r\nTehran,Iran,Bishkek\r\n", 2, InputError, 1, "country2",
                        ("missing required column",)),
    "empty_file": (b"", 2, InputError, None, None, ("empty",)),
    "header_only": (HEAD.encode(), 2, InputError, None, None, ("no data rows",)),
    "unknown_country": ((HEAD + GOOD + "Tehran,Iran,,,Cair Paravel,Narnia,,\r\n").encode(),
                        3, ImportAborted, 3, "country2", ("unknown country", "Narnia")),
    "non_numeric_lat": ((HEAD + GOOD + "Tehran,Iran,north,51.42,Havana,Cuba,,\r\n").encode(),
                        3, ImportAborted, 3, "lat1", ("not a number",)),
    "lat_out_of_range": ((HEAD + GOOD + "Tehran,Iran,95.5,51.42,Havana,Cuba,,\r\n").encode(),
                         3, ImportAborted, 3, "lat1", ("outside",)),
    "lng_out_of_range": ((HEAD + GOOD + "Tehran,Iran,35.7,-181,Havana,Cuba,,\r\n").encode(),
                         3, ImportAborted, 3, "lng1", ("outside",)),
    "half_coordinate_pair": ((HEAD + GOOD + "Tehran,Iran,35.7,,Havana,Cuba,,\r\n").encode(),
                             3, ImportAborted, 3, "lng1", ("both lat and lng",)),
    "self_relation": ((HEAD + GOOD + "Tehran,Iran,,,Teheran,IR,,\r\n").encode(),
                      3, ImportAborted, 3, "city2", ("self-relation",)),
    "empty_name": ((HEAD + GOOD + ",Iran,,,Havana,Cuba,,\r\n").encode(), 3, ImportAborted, 3, "city1",
                   ("empty place name",)),
}  # fmt: skip


def _check_bad_input(url: str, tmp_path: Path, case: str) -> None:
    content, exit_code, error_type, row, field, words = BAD_INPUTS[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(content)
    before = dump_db(url)

    with pytest.raises(error_type) as caught:
        import_twinning(path)
    message = str(caught.value)
    expected_where = f"{path}:{row}" if row is not None else str(path)
    assert message.startswith(expected_where), message
    if field is not None:
        assert f": {field}: " in message
    for word in words:
        assert word in message
    if isinstance(caught.value, ImportAborted):
        first = caught.value.report.rejects[0]
        assert (first.row, first.field) == (row, field)
        assert not caught.value.report.committed

    result = runner.invoke(app, ["import", "twinning", str(path)])
    assert result.exit_code == exit_code, result.output
    assert path.name in result.stderr and words[0] in result.stderr
    assert dump_db(url) == before


def _seed(tmp_path: Path) -> None:
    """A first, good import so that "untouched" means more than "still empty"."""
    import_twinning(write_csv(tmp_path / "seed.csv", TWIN_HEADER, [["Istanbul", "TR", "", "", "Havana", "CU", "", ""]]))


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_located_and_leaves_the_database_untouched(sqlite_url: str, tmp_path: Path, case: str) -> None:
    _seed(tmp_path)
    _check_bad_input(sqlite_url, tmp_path, case)


def test_every_bad_input_leaves_the_database_untouched_on_both_back_ends(db_url: str, tmp_path: Path) -> None:
    # One database for all cases: a fresh PostgreSQL database per case would dominate the suite's run time.
    _seed(tmp_path)
    for case in sorted(BAD_INPUTS):
        _check_bad_input(db_url, tmp_path, case)


def test_on_error_skip_imports_good_rows_and_writes_rejects(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mixed.csv", TWIN_HEADER, [
        ["Tehran", "Iran", "", "", "Bishkek", "Kyrgyzstan", "", ""],
        ["Tehran", "Iran", "", "", "Cair Paravel", "Narnia", "", ""],
        ["Istanbul", "Turkey", "95", "28.9", "Havana", "Cuba", "", ""],
        ["Istanbul", "Turkey", "", "", "Havana", "Cuba", "", ""],
    ])  # fmt: skip
    rejects = tmp_path / "out" / "mixed.rejects.csv"
    report = import_twinning(path, on_error="skip", rejects_path=rejects)

    assert report.committed
    assert report.records_created["relation"] == 2
    assert [(r.row, r.field) for r in report.rejects] == [(3, "country2"), (4, "lat1")]
    assert report.rejects_file == str(rejects)
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("row,field,reason,city1,country1,lat1,lng1,city2,country2")
    assert lines[1].startswith("3,country2,unknown country 'Narnia',Tehran,Iran,,,Cair Paravel,Narnia")
    assert lines[2].startswith("4,lat1,")
    assert "'95' is outside" in lines[2] and ",Istanbul,Turkey,95,28.9,Havana,Cuba" in lines[2]
    assert stats()["relations"] == 2


def test_cli_on_error_skip_exits_zero_and_reports_rejects(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mixed.csv", TWIN_HEADER, [
        ["Tehran", "Iran", "", "", "Bishkek", "Kyrgyzstan", "", ""],
        ["Tehran", "Iran", "", "", "Cair Paravel", "Narnia", "", ""],
    ])  # fmt: skip
    result = runner.invoke(app, ["import", "twinning", str(path), "--on-error", "skip", "--json"])

    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["committed"] and data["rows_rejected"] == 1 and data["records_created"]["relation"] == 1
    assert Path(data["rejects_file"]) == tmp_path / "mixed.rejects.csv"
    assert (tmp_path / "mixed.rejects.csv").exists()


def test_cli_abort_json_names_the_row(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", TWIN_HEADER, [["Tehran", "Iran", "", "", "Cair Paravel", "Narnia", "", ""]])
    result = runner.invoke(app, ["import", "twinning", str(path), "--json"])
    assert result.exit_code == 3
    import json

    data = json.loads(result.stdout)
    assert data["committed"] is False
    assert data["rejects"][0]["row"] == 2 and data["rejects"][0]["field"] == "country2"
    assert f"{path}:2: country2:" in data["error"]


# ------------------------------------------------------------------------------------ interruptions
def _raise_on(step: str, exc: BaseException, after: int) -> Callable[[str, int, int], None]:
    def progress(stage: str, done: int, _total: int) -> None:
        if stage == step and done >= after:
            raise exc

    return progress


@pytest.mark.parametrize(
    ("step", "exc", "after"),
    [
        ("write", KeyboardInterrupt(), 1),  # the last moment of the final transaction, before its commit
        ("write", RuntimeError("disk on fire"), 0),
        ("stage", KeyboardInterrupt(), 1),  # staged, not yet applied
    ],
)
def test_interrupted_import_leaves_nothing_partial(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, exc: BaseException, after: int
) -> None:
    import_twinning(write_csv(tmp_path / "seed.csv", TWIN_HEADER, [["Paris", "FR", "", "", "Milan", "IT", "", ""]]))
    before = dump_db(db_url)
    monkeypatch.setattr(settings, "IMPORT_BATCH_SIZE", 1)  # one relation per batch: stop half-way through
    seen: list[tuple[str, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        seen.append((stage, done))
        _raise_on(step, exc, after)(stage, done, total)

    with pytest.raises(type(exc)):
        import_twinning(_copy_pairs(tmp_path), progress=progress)

    assert (step, after) in seen  # it really was interrupted inside that step
    assert dump_db(db_url) == before


# ---------------------------------------------------------------------------- unavailable databases
def test_locked_sqlite_database_is_reported_and_nothing_written(sqlite_url: str, tmp_path: Path) -> None:
    path = _copy_pairs(tmp_path)
    before = dump_db(sqlite_url)
    locker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    # A short busy timeout keeps the test quick; the CLI's engine waits 5 s before giving up.
    impatient = create_engine(sqlite_url, connect_args={"timeout": 0.2})
    try:
        locker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(db.DatabaseUnavailable) as caught:
            import_twinning(path, engine=impatient)
        assert "locked" in str(caught.value)
        assert "nothing was written" in str(caught.value)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
        impatient.dispose()
    assert dump_db(sqlite_url) == before


def test_cli_on_locked_database_exits_2(sqlite_url: str, tmp_path: Path) -> None:
    path = _copy_pairs(tmp_path)
    locker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        result = runner.invoke(app, ["import", "twinning", str(path)])
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert result.exit_code == 2
    assert "locked" in result.stderr
    assert stats()["relations"] == 0


def test_unreachable_postgres_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://citydip@127.0.0.1:9/citydip"  # port 9 (discard): nothing listens there
    monkeypatch.setenv("CITYDIP_DATABASE_URL", url)
    db.get_engine.cache_clear()
    path = _copy_pairs(tmp_path)
    try:
        with pytest.raises(db.DatabaseUnavailable) as caught:
            import_twinning(path)
        assert "127.0.0.1:9" in str(caught.value) and "unavailable" in str(caught.value)

        result = runner.invoke(app, ["import", "twinning", str(path)])
        assert result.exit_code == 2
        assert "unavailable" in result.stderr
        assert "Traceback" not in result.output
    finally:
        db.get_engine.cache_clear()
