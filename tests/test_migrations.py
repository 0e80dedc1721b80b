"""Alembic migrations: empty -> head, head -> base -> head, and the migrated schema matches schema.py."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from registry_helpers import TWIN_HEADER, write_csv
from sqlalchemy import inspect

from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store import db
from citydiplomacy.store.schema import Base


def _head() -> str:
    return ScriptDirectory.from_config(db.alembic_config(db.get_engine())).get_current_head()


def _schema_diff(url: str) -> list:
    with db.get_engine(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def test_upgrade_of_an_empty_sqlite_database_reaches_head(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert db.current_revision(engine) is None
        assert not db.is_initialised(engine)
        db.upgrade(engine)
        assert db.current_revision(engine) == _head()
        assert db.is_initialised(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        db.upgrade(engine)  # again: a no-op
        assert db.current_revision(engine) == _head()
    finally:
        engine.dispose()
        db.get_engine.cache_clear()


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    assert db.current_revision(db.get_engine(db_url)) == _head()
    assert _schema_diff(db_url) == []


def test_downgrade_to_base_and_upgrade_again(db_url: str, tmp_path: Path) -> None:
    engine = db.get_engine(db_url)
    import_twinning(write_csv(tmp_path / "p.csv", TWIN_HEADER, [["Tehran", "IR", "", "", "Bishkek", "KG", "", ""]]))

    command.downgrade(db.alembic_config(engine), "base")
    inspect(engine).clear_cache()
    assert db.current_revision(engine) is None
    assert not db.is_initialised(engine)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    db.upgrade(engine)
    assert db.current_revision(engine) == _head()
    assert _schema_diff(db_url) == []
    # The registry works again after the round trip.
    report = import_twinning(tmp_path / "p.csv")
    assert report.records_created["relation"] == 1
