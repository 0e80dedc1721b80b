"""``citydip db …``, ``citydip stats``, ``citydip city …`` and ``citydip export``: the registry's read side."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from citydiplomacy.cli.console import console, fail, print_json
from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound, RunNotFound

# The registry (SQLAlchemy) is imported inside each command, so that ``--help`` stays fast.

db_app = typer.Typer(help="Create and migrate the registry database.", no_args_is_help=True)
city_app = typer.Typer(help="Look up cities in the registry.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Create or upgrade the schema (Alembic) of the database named by CITYDIP_DATABASE_URL.

    Examples:

        citydip db upgrade

        CITYDIP_DATABASE_URL=postgresql://user@host/citydip citydip db upgrade
    """
    from citydiplomacy.store import db

    try:
        db.upgrade(revision=revision)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    console.print(f"database at revision {db.current_revision()}: {db.get_engine().url.render_as_string()}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database.

    Example:

        citydip db current
    """
    from citydiplomacy.store import db

    console.print(db.current_revision() or "empty (run `citydip db upgrade`)")


def _require_registry() -> None:
    from citydiplomacy.store import db

    try:
        if not db.is_initialised():
            fail("the registry is empty: run `citydip demo` or `citydip db upgrade` first", code=2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)


def stats_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts per entity of the registry.

    Examples:

        citydip stats

        citydip stats --json
    """
    from citydiplomacy.store import queries

    _require_registry()
    data = queries.stats()
    if as_json:
        print_json(data)
        return
    table = Table(title="Registry")
    table.add_column("entity")
    table.add_column("count", justify="right")
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, n in sorted(value.items(), key=lambda kv: str(kv[0])):
                table.add_row(f"  {key.replace('_by_', ' by ')}: {sub}", f"{n:,}")
        else:
            table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)


@city_app.command("show")
def city_show(
    name: Annotated[str, typer.Argument(help="City name, in any script the registry knows")],
    country: Annotated[str | None, typer.Option("--country", help="ISO code or country name")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A city's profile: relations by kind and status, memberships and roles, activities, results.

    Examples:

        citydip city show Tehran --country IR

        citydip city show تهران --json
    """
    from citydiplomacy.store import db, queries
    from citydiplomacy.store.lookup import find_place

    _require_registry()
    with db.session_scope() as session:
        try:
            place = find_place(session, name, country)
        except (AmbiguousPlace, NotFound, BadInput) as exc:
            fail(str(exc), code=2)
        profile = queries.city_profile(session, place)
    if as_json:
        print_json(profile)
    else:
        show_profile(profile)


def show_profile(profile: dict) -> None:
    """Print a city profile with Rich tables (English and Persian names, Gregorian and Solar Hijri years)."""
    from citydiplomacy.present.fmt import solar_hijri_year

    p = profile["place"]
    title = f"{p['name']}" + (f" — {p['name_fa']}" if p.get("name_fa") else "") + f" ({p['country_code']})"
    console.rule(f"[bold]{title}")
    pop = f"{p['population']:,}" if p.get("population") else "unknown"
    console.print(
        f"gazetteer {p['gazetteer']}:{p['gazetteer_id']}  status {p['status']}  population {pop}"
        + ("  capital" if p.get("is_capital") else ""),
        highlight=False,
    )
    rel = Table(title=f"Bilateral relations ({len(profile['relations'])})")
    for col in ("partner", "country", "kind", "status", "signed", "source"):
        rel.add_column(col)
    for r in profile["relations"]:
        year = r["signed_year"]
        signed = f"{year} ({solar_hijri_year(year)} SH)" if year else ""
        rel.add_row(r["partner"]["name"], r["partner"]["country_code"] or "", r["kind"], r["status"], signed,
                    f"{r['provenance']['source'] or ''} {r['provenance']['locator'] or ''}".strip())  # fmt: skip
    console.print(rel)
    mem = Table(title=f"Memberships ({len(profile['memberships'])})")
    for col in ("organisation", "role", "since", "until", "source"):
        mem.add_column(col)
    for m in profile["memberships"]:
        mem.add_row(m["organisation"], m["role"] + (f" ({m['role_verbatim']})" if m["role_verbatim"] else ""),
                    str(m["since_year"] or ""), str(m["until_year"] or ""),
                    f"{m['provenance']['source'] or ''} {m['provenance']['locator'] or ''}".strip())  # fmt: skip
    console.print(mem)
    act = Table(title=f"Activities and events ({len(profile['activities'])})")
    for col in ("year", "kind", "title", "organisation"):
        act.add_column(col)
    for a in profile["activities"]:
        act.add_row(str(a["year"] or ""), a["kind"], a["title"], a["organisation"] or "")
    console.print(act)
    for kind, values in profile["results"].items():
        shown = ", ".join(f"{k}={v:.3g}" for k, v in values.items() if k != "run" and isinstance(v, float))
        console.print(f"[bold]{kind}[/] (run {values['run']}): {shown[:600]}", highlight=False)


def export_command(
    what: Annotated[str, typer.Argument(help="places | relations | memberships | results")],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or xlsx (xlsx needs --out)")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (default: stdout)")] = None,
) -> None:
    """Export places (one row per name as a source wrote it), relations, memberships, or results.

    ``results``: one row per place of the latest assessment, with every indicator, dimension score, the
    index and its rank (and their intervals when the run computed them), the coverage (share of indicators
    with data) and ``low_coverage`` for places below the coverage threshold (``CITYDIP_INDEX_LOW_COVERAGE``).

    In CSV and XLSX, text a spreadsheet would run as a formula (a name such as ``=HYPERLINK(...)``) is
    written with a leading quote, as spreadsheets mark text; importing the file again gives back the
    original text.

    Examples:

        citydip export places --format csv

        citydip export relations --format json -o relations.json

        citydip export memberships --format xlsx -o memberships.xlsx

        citydip export results --format csv -o results.csv
    """
    from citydiplomacy.store import db, queries

    if what not in queries.EXPORT_KINDS:
        fail(f"unknown export {what!r}; one of {', '.join(queries.EXPORT_KINDS)}", code=2)
    if fmt not in ("csv", "json", "xlsx"):
        fail(f"--format must be csv, json or xlsx, not {fmt!r}", code=2)
    if fmt == "xlsx" and out is None:
        fail("--format xlsx writes a workbook: give the file with --out", code=2)
    _require_registry()
    with db.session_scope() as session:
        try:
            columns = queries.export_columns(session, what)
        except RunNotFound as exc:
            fail(str(exc))
    if fmt == "xlsx":
        assert out is not None
        with db.session_scope() as session:
            _write_xlsx(out, what, columns, queries.export_rows(session, what, spreadsheet=True))
        console.print(f"wrote {out}", highlight=False)
        return
    handle = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    try:
        with db.session_scope() as session:
            rows = queries.export_rows(session, what, spreadsheet=fmt == "csv")
            if fmt == "csv":
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
            else:
                json.dump(list(rows), handle, ensure_ascii=False, indent=1, default=str)
                handle.write("\n")
    finally:
        if out:
            handle.close()
    if out:
        console.print(f"wrote {out}", highlight=False)


def _write_xlsx(out: Path, title: str, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write export rows (already defused by ``export_rows(..., spreadsheet=True)``) as a one-sheet workbook."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)  # streamed: an export may be large
    sheet = book.create_sheet(title)
    sheet.append(columns)
    for row in rows:
        # XML 1.0 cannot hold most control characters; openpyxl would refuse the whole file for one.
        sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in (row[c] for c in columns)]
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
