"""The real twinning data set (../shared/data/twin_cities.csv) into SQLite: its first 2,000 rows; the
whole file with the default options (same-named places kept apart); the review queue worked after the
network analysis and the assessment, through the CLI and the API.

Skipped when the data set is absent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from registry_helpers import dump_db
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db, review
from citydiplomacy.store.queries import stats
from citydiplomacy.store.schema import CityResult, Place, PlaceMention, PlaceRedirect, Relation

ROWS = 2000


@pytest.fixture
def first_rows(twin_cities_csv: Path, tmp_path: Path) -> Path:
    with twin_cities_csv.open(encoding="utf-8", newline="") as handle:
        lines = [line for _, line in zip(range(ROWS + 1), handle, strict=False)]
    path = tmp_path / f"twin_cities_first_{ROWS}.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


@pytest.mark.realdata
def test_first_rows_of_the_real_data_import_and_reimport(sqlite_url: str, first_rows: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    report = import_twinning(first_rows, on_error="skip", rejects_path=rejects)

    assert report.committed
    assert report.rows_read == ROWS
    assert report.rows_rejected < 0.02 * ROWS
    if report.rejects:
        assert rejects.read_text(encoding="utf-8").count("\n") == report.rows_rejected + 1
    kept = ROWS - report.rows_rejected
    relations = report.records_created["relation"]
    assert relations >= 0.95 * kept, (relations, kept, report.already_present)
    assert relations <= kept
    assert report.places_resolved > 0.8 * (
        report.places_resolved + report.places_subdivision + report.places_ambiguous + report.places_unresolved
    )
    counts = stats()
    assert counts["relations"] == relations
    # One audit entry per created record: relations, places and the place mentions that name them.
    assert counts["audit_entries"] == relations + counts["places"] + counts["place_mentions"]

    before = dump_db(sqlite_url)
    again = import_twinning(first_rows, on_error="skip", rejects_path=rejects)
    assert again.records_created["relation"] == 0 and again.records_created["place"] == 0
    assert stats() == counts
    assert dump_db(sqlite_url) == before


# ------------------------------------------------------------------ the whole file, once per module
#: The nine pairs of same-named places twin_cities.csv gives one pair of coordinates, and what each side
#: becomes: (row, (name, country) of each side, how the second place is told apart).
NAMESAKES = [
    (550, ("Randwick", "AU"), ("Randwick", "GB"), "source"),
    (2375, ("Westerlo", "BE"), ("Westerlo", "US"), "source"),
    (6165, ("Ringsted", "DK"), ("Ringsted", "US"), "source"),
    (10457, ("Akhmeta", "GE"), ("Akhmeta", "CZ"), "source"),
    (12069, ("Nienburg", "DE"), ("Nienburg/Saale", "DE"), "geonames:2862621"),
    (17684, ("Paşcani", "RO"), ("Pașcani", "MD"), "source"),
    (19992, ("Lagoa", "PT"), ("Lagoa", "PT"), "geonames:3372965"),
    (24153, ("Stryi", "UA"), ("Stryi", "UA"), "source"),
    (24482, ("Dobřany", "CZ"), ("Dobřany", "CZ"), "source"),
]
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def full_registry(twin_cities_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole real file imported with the default options into one SQLite registry (read by the tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('full') / 'registry.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CITYDIP_DATABASE_URL", url)
        engine = db.get_engine(url)
        db.upgrade(engine)
        started = time.perf_counter()
        report = import_twinning(twin_cities_csv, engine=engine)  # on_error="abort": the default
        TIMES["import"] = time.perf_counter() - started
        assert report.committed and report.rows_rejected == 0, report.rejects[:5]
        yield url
        db.get_engine(url).dispose()
        db.get_engine.cache_clear()


@pytest.mark.realdata
def test_the_nine_same_named_pairs_are_relations_between_distinct_places(full_registry: str) -> None:
    with db.session_scope(db.get_engine(full_registry)) as session:
        for row, (name_a, cc_a), (name_b, cc_b), kind in NAMESAKES:
            rels = session.scalars(
                select(Relation).where(
                    (Relation.source_locator == f"row {row}")
                    | Relation.source_locator.like(f"row {row},%")
                    | Relation.source_locator.like(f"%, {row}")
                    | Relation.source_locator.like(f"%, {row},%")
                )
            ).all()
            assert len(rels) == 1, (row, [r.source_locator for r in rels])
            a, b = rels[0].place_a, rels[0].place_b
            assert a.id != b.id
            first, second = (
                (a, b) if (a.name, a.country_code) == (name_a, cc_a) and a.gazetteer == "geonames" else (b, a)
            )
            assert (first.name, first.country_code, first.gazetteer) == (name_a, cc_a, "geonames"), row
            assert (second.name, second.country_code) == (name_b, cc_b), row
            if kind == "source":
                assert second.gazetteer == "source" and second.lat is None, row  # no coordinates copied
            else:
                assert f"{second.gazetteer}:{second.gazetteer_id}" == kind, row


def _results_by_run(session: Session, place_id: int) -> dict[int, int]:
    rows = session.execute(
        select(CityResult.run_id, func.count()).where(CityResult.place_id == place_id).group_by(CityResult.run_id)
    )
    return dict(rows.all())


@pytest.mark.realdata
def test_review_after_network_and_assessment_carries_results_over(full_registry: str) -> None:
    from citydiplomacy.assess.registry_index import AssessmentChoices, assess
    from citydiplomacy.network.analysis import analyse
    from citydiplomacy.web.app import create_app
    from citydiplomacy.web.auth import create_user

    engine = db.get_engine(full_registry)
    started = time.perf_counter()
    with db.session_scope(engine) as session:
        analyse(session, "bilateral")
    TIMES["network"] = time.perf_counter() - started
    started = time.perf_counter()
    with db.session_scope(engine) as session:
        assess(session, None, AssessmentChoices(uncertainty_samples=200))
    TIMES["assess"] = time.perf_counter() - started

    # Queue items whose provisional place has results, and is theirs alone (so resolving it merges it).
    with db.session_scope(engine) as session:
        page = review.queue(session, limit=5000)
        waiting = len(page["items"])
        picked = []
        for item in page["items"]:
            shared = session.scalar(
                select(func.count()).select_from(PlaceMention).where(PlaceMention.place_id == item["place_id"])
            )
            if item["best"] is not None and shared == 1 and _results_by_run(session, item["place_id"]):
                picked.append(item)
            if len(picked) == 40:
                break
    assert len(picked) == 40, (waiting, len(picked))

    def before(item: dict) -> tuple[int, dict[int, int], dict[int, int]]:
        gid = item["candidates"][item["best"]]["gazetteer_id"]
        with db.session_scope(engine) as session:
            target = session.scalar(select(Place.id).where(Place.gazetteer == "geonames", Place.gazetteer_id == gid))
            held = _results_by_run(session, target) if target else {}
            return item["place_id"], _results_by_run(session, item["place_id"]), held

    def check(item: dict, old_id: int, old_runs: dict[int, int], held: dict[int, int]) -> None:
        with db.session_scope(engine) as session:
            mention = session.get(PlaceMention, item["id"])
            assert mention.status == "reviewed" and mention.place_id != old_id
            assert session.get(Place, old_id) is None
            assert session.get(PlaceRedirect, old_id).place_id == mention.place_id
            now = _results_by_run(session, mention.place_id)
            for run_id, n in old_runs.items():
                # the target's own figures of a run stand; where it had none, the merged place's carry over
                assert now.get(run_id) == held.get(run_id, n), (item["name_in_source"], run_id)

    runner = CliRunner()
    started = time.perf_counter()
    for item in picked[:20]:
        old_id, old_runs, held = before(item)
        out = runner.invoke(
            app,
            ["review", "resolve", str(item["id"]), "--candidate", str(item["best"]), "--version", str(item["version"])],
            env={"CITYDIP_DATABASE_URL": full_registry},
        )
        assert out.exit_code == 0, out.output
        check(item, old_id, old_runs, held)
    TIMES["cli_20"] = time.perf_counter() - started

    with db.session_scope(engine) as session:
        create_user(session, "reviewer", "a-long-password-1", "editor")
    started = time.perf_counter()
    with TestClient(create_app(full_registry)) as client:
        login = client.post("/api/auth/login", json={"username": "reviewer", "password": "a-long-password-1"})
        assert login.status_code == 200, login.text
        headers = {"X-CSRF-Token": login.json()["csrf_token"]}
        for item in picked[20:]:
            old_id, old_runs, held = before(item)
            r = client.post(
                f"/api/review/{item['id']}/resolve",
                json={"candidate": item["best"], "version": item["version"]},
                headers=headers,
            )
            assert r.status_code == 200, r.text
            check(item, old_id, old_runs, held)
    TIMES["api_20"] = time.perf_counter() - started

    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        orphans = conn.execute(
            text("SELECT count(*) FROM city_result WHERE place_id NOT IN (SELECT id FROM place)")
        ).scalar()
        assert orphans == 0
        merges = conn.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'merge'")).scalar()
        assert merges == 40
        moved = dropped = 0
        for (changes,) in conn.execute(text("SELECT changes FROM audit_entry WHERE action = 'merge'")):
            changes = json.loads(changes) if isinstance(changes, str) else changes
            moved += changes["moved"].get("city_result", 0)
            dropped += changes["dropped"].get("city_result", 0)
        places, relations = (conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("place", "relation"))
    print(
        "\nreal-data figures:", {k: round(v, 1) for k, v in TIMES.items()},
        f"places {places}, relations {relations}, queue {waiting}, results carried over {moved}, dropped {dropped}",
    )  # fmt: skip
