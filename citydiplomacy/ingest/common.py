"""What every importer shares: progress reporting, sources, place resolution and the transaction.

An import runs in three steps so that nothing is half-written:

1. read and validate every row (problems become :class:`~citydiplomacy.ingest.tabular.Reject` rows);
2. resolve every distinct place mention with the gazetteer (no database access);
3. write everything in ONE transaction; any error or interruption rolls all of it back.  Large imports
   first *stage* their rows in temporary tables on their own connection (:func:`run_staged`), so that the
   transaction that holds the registry's write lock is a few set-based statements, however large the file.

With ``on_error="abort"`` (the default) a single rejected row stops the import before step 3 and the
database is left exactly as it was; with ``on_error="skip"`` the good rows are imported and the rejected
ones are written to the rejects file.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError

from citydiplomacy.core.errors import CityDipError
from citydiplomacy.ingest.tabular import Converted, ImportReport, InputError, Reject, write_rejects
from citydiplomacy.store import db, staging
from citydiplomacy.store.places import Mention
from citydiplomacy.store.schema import Source, utcnow

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolution, Resolver

#: ``progress(stage, done, total)``: called as work advances (the CLI draws Rich bars from it).
Progress = Callable[[str, int, int], None]

ON_ERROR_CHOICES = ("abort", "skip")
T = TypeVar("T")


class ImportAborted(CityDipError, RuntimeError):
    """The import was stopped before writing anything; ``report`` says why (its rejects, its error)."""

    def __init__(self, message: str, report: ImportReport):
        super().__init__(message)
        self.report = report


def no_progress(_stage: str, _done: int, _total: int) -> None:
    """The progress callback that does nothing (library calls without a UI)."""


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of a source file across re-imports."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def get_or_create_source(
    conn: Connection,
    *,
    name: str,
    kind: str,
    uri: str | None = None,
    citation: str | None = None,
    retrieved_at: datetime | None = None,
) -> int:
    """Return the id of the source called ``name``, creating it on first use."""
    found = conn.execute(select(Source.id).where(Source.name == name)).scalar()
    if found is not None:
        return found
    return conn.execute(
        Source.__table__.insert().values(
            name=name, kind=kind, uri=uri, citation=citation, retrieved_at=retrieved_at, created_at=utcnow()
        )
    ).inserted_primary_key[0]


def resolve_mentions(
    mentions: Sequence[Mention], resolver: Resolver, progress: Progress
) -> list[tuple[Mention, Resolution]]:
    """Resolve distinct mentions with the gazetteer, reporting progress as ``("resolve", done, total)``."""
    total = len(mentions)
    progress("resolve", 0, total)

    def tick(done: int) -> None:
        progress("resolve", done, total)

    results = resolver.resolve_many(((m.name, m.country or None, m.lat, m.lng) for m in mentions), progress=tick)
    progress("resolve", total, total)
    return list(zip(mentions, results, strict=True))


def count_resolutions(report: ImportReport, resolved: Sequence[tuple[Mention, Resolution]]) -> None:
    """Add the resolver's statuses to the report."""
    for _m, res in resolved:
        if res.status == "resolved":
            report.places_resolved += 1
        elif res.status == "subdivision":
            report.places_subdivision += 1
        elif res.status == "ambiguous":
            report.places_ambiguous += 1
        else:
            report.places_unresolved += 1


def finish_validation(
    report: ImportReport,
    on_error: str,
    rejects_path: Path | None,
    columns: Sequence[str],
    converted: Converted | None = None,
) -> None:
    """Write the rejects file, and stop the import when rows were rejected and ``on_error`` is abort.

    The rejects of ``converted`` rows name the fields of the file they were converted from.
    """
    if on_error not in ON_ERROR_CHOICES:
        raise ValueError(f"on_error must be one of {ON_ERROR_CHOICES}, not {on_error!r}")
    if not report.rejects:
        return
    if converted is not None:
        report.rejects = converted.rename_fields(report.rejects)
    if rejects_path is not None:
        write_rejects(rejects_path, report.rejects, columns)
        report.rejects_file = str(rejects_path)
    if on_error == "abort":
        first: Reject = report.rejects[0]
        more = f" (and {len(report.rejects) - 1} more row(s)" if len(report.rejects) > 1 else ""
        where = f" listed in {rejects_path})" if rejects_path and more else (")" if more else "")
        at = report.file + (f" sheet {report.sheet!r}" if report.sheet else "")
        raise ImportAborted(
            f"{at}:{first.row}: {first.field + ': ' if first.field else ''}{first.reason}{more}{where}; "
            "nothing was imported (use --on-error skip to import the other rows)",
            report,
        )


def run_staged(
    engine: Engine | None,
    stage: Callable[[Connection], T],
    apply: Callable[[Connection, T], None],
    progress: Progress = no_progress,
) -> float:
    """Stage an import in temporary tables, then apply it in one short transaction; all or nothing.

    ``stage(conn)`` fills temporary tables on the import's own connection (private to it: no lock on the
    registry, nothing anyone else can see); ``apply(conn, staged)`` moves them into the registry in one
    transaction.  If anything fails, nothing was written.

    Returns
    -------
    float
        Seconds the apply transaction held the registry's write lock.

    Raises
    ------
    DatabaseUnavailable
        The database is locked, gone or unreachable; nothing was written.
    """
    engine = engine or db.get_engine()
    if not db.is_initialised(engine):
        db.upgrade(engine)
    try:
        with engine.connect() as conn, staging.large_cache(conn):
            try:
                with conn.begin():
                    progress("stage", 0, 1)
                    staged = stage(conn)
                    progress("stage", 1, 1)
                started = time.perf_counter()
                with db.write_transaction(conn):
                    progress("write", 0, 1)
                    apply(conn, staged)
                    progress("write", 1, 1)  # inside: an interruption here still writes nothing
                return time.perf_counter() - started
            finally:
                if not conn.invalidated:
                    with conn.begin():
                        staging.drop_all(conn)
    except OperationalError as exc:
        raise db.DatabaseUnavailable(db.describe_db_error(engine, exc)) from exc
    except IntegrityError as exc:  # a concurrent writer got there first: nothing of ours was kept
        raise db.DatabaseUnavailable(
            f"{db.describe_db_error(engine, exc)} (a concurrent change conflicted; run the import again)"
        ) from exc


def reject_or_raise(report: ImportReport, error: InputError, values: dict[str, str]) -> None:
    """Record an :class:`InputError` of one row as a reject of the report."""
    report.rejects.append(Reject(row=error.row or 0, field=error.field, reason=error.reason, values=values))
