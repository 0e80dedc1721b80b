"""``citydip workbook …``: the office's whole record as one XLSX, out and back in (a thin layer over
:mod:`citydiplomacy.ingest.workbook`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

workbook_app = typer.Typer(help="Export the office's record as one workbook, or import such a workbook.")


@workbook_app.command("export")
def workbook_export(
    out: Annotated[Path, typer.Argument(help="The .xlsx file to write, or a .zip: the workbook and the documents")],
    city: Annotated[str | None, typer.Option("--city", help="Only this place's record: a name or #id")] = None,
    country: Annotated[str | None, typer.Option(help="The city's country (code or name)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows per sheet as JSON")] = False,
) -> None:
    """Write agreements (with their status history), memberships and dues, activities and their participants,
    outcomes and follow-up actions, with the places and organisations they name, as one workbook: a sheet
    per record type, records naming each other by names (not ids), every date in both calendars.  A ``.zip``
    name writes the workbook with the documents' files beside it (``documents/<sha256>``); an ``.xlsx`` alone
    lists the documents (kind, title, name, type, size, checksum) without their bytes.

    Example:
        citydip workbook export tehran-office.zip --city Tehran --country IR
    """
    from citydiplomacy.cli.console import console, fail, print_json
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.ingest.workbook import export_workbook
    from citydiplomacy.store import db
    from citydiplomacy.store.lookup import find_place

    try:
        with db.session_scope() as session:
            place_id = find_place(session, city, country).id if city else None
            summary = export_workbook(session, out, place_id=place_id)
    except (CityDipError, db.DatabaseUnavailable) as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(summary.to_dict())
        return
    shown = ", ".join(f"{name} {n:,}" for name, n in summary.rows.items())
    console.print(f"wrote {out}: {shown}", highlight=False)


@workbook_app.command("import")
def workbook_import(
    path: Annotated[
        Path, typer.Argument(help="The .xlsx workbook or .zip (as `workbook export` writes it)", exists=True)
    ],  # fmt: skip
    as_json: Annotated[bool, typer.Option("--json", help="Print what was added and kept as JSON")] = False,
) -> None:
    """Import a workbook of the office's record in one transaction: records already held are kept (not written
    twice); any problem (a missing sheet or column, an unknown name, a date in the wrong calendar) is listed with
    its sheet, row and column, and then nothing is written.  A ``.zip`` also brings the documents' files back,
    each checked against the checksum its row gives.

    Example:
        citydip workbook import tehran-office.xlsx --json
    """
    from citydiplomacy import settings
    from citydiplomacy.cli.console import console, fail, print_json
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.ingest.workbook import import_workbook
    from citydiplomacy.store import db

    actor = settings.DEFAULT_ACTOR
    try:
        with db.session_scope() as session:
            session.info["actor"] = actor
            summary = import_workbook(session, path, actor=actor)
    except (CityDipError, db.DatabaseUnavailable) as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(summary.to_dict())
        return
    added = ", ".join(f"{name} {n:,}" for name, n in summary.added.items()) or "nothing"
    kept = sum(summary.kept.values())
    console.print(f"imported {path}: added {added}; {kept:,} already held", highlight=False)
