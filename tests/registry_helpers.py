"""Helpers shared by the registry and importer tests: full dumps of the database, small CSV writers."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select

from citydiplomacy.ingest.casestudy import read_case_study
from citydiplomacy.store import db
from citydiplomacy.store.schema import Base

TWIN_HEADER = ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2"]


def dump_db(url_or_engine: str | Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the registry (Alembic's table included), ordered by primary key.

    Two dumps compare equal only when the database holds exactly the same data.
    """
    engine = url_or_engine if isinstance(url_or_engine, Engine) else db.get_engine(url_or_engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name in names:
                out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
        if "alembic_version" in names:
            out["alembic_version"] = [tuple(r) for r in conn.exec_driver_sql("select version_num from alembic_version")]
    return out


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """Write a UTF-8 CSV file with ``header`` and ``rows``; returns ``path``."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def non_empty_counts(dump: dict[str, list[tuple[Any, ...]]]) -> dict[str, int]:
    """Row counts of the tables that hold rows (for readable assertion messages)."""
    return {name: len(rows) for name, rows in dump.items() if rows}


#: The bundled case study's relation count, read from its file (a fact added from a paper changes it).
CASE_RELATIONS = len(read_case_study()["relations"])
