"""``citydip import …`` and ``citydip template …``: thin CLI over the importers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from citydiplomacy.cli.console import console, fail, print_json, progress_bars

if TYPE_CHECKING:  # the importers (SQLAlchemy, pandas) load when a command runs, not for --help
    from citydiplomacy.ingest.tabular import ImportReport

import_app = typer.Typer(help="Import real data into the registry (transactional, idempotent).", no_args_is_help=True)

OnError = Annotated[
    str,
    typer.Option("--on-error", help="abort: any bad row stops the import, nothing written; skip: import the rest"),
]
Rejects = Annotated[
    Path | None, typer.Option("--rejects", help="Where rejected rows are written (default: FILE.rejects.csv)")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON")]
Sheet = Annotated[
    str | None, typer.Option("--sheet", help="The workbook's sheet (name, or number from 1); default the first")
]
ColumnMapping = Annotated[
    list[str] | None,
    typer.Option("--map", help="field=column: read the file's column as the layout's field (repeat per field)"),
]


def _run(importer: Callable[..., ImportReport], path: Path, rejects: Path | None, as_json: bool, **kwargs) -> None:
    from citydiplomacy.ingest.common import ImportAborted
    from citydiplomacy.ingest.tabular import InputError
    from citydiplomacy.store.db import DatabaseUnavailable

    rejects = rejects or path.with_name(path.stem + ".rejects.csv")
    try:
        with progress_bars(enabled=not as_json) as progress:
            report = importer(path, rejects_path=rejects, progress=progress, **kwargs)
    except ImportAborted as exc:
        if as_json:
            print_json({**exc.report.to_dict(), "error": str(exc)})
        fail(str(exc), code=3)
    except (InputError, DatabaseUnavailable, ValueError) as exc:
        if as_json:
            print_json({"file": str(path), "error": str(exc), "committed": False})
        fail(str(exc), code=2)
    if as_json:
        print_json(report.to_dict())
    else:
        show_report(report)


def show_report(report: ImportReport) -> None:
    """Print an import summary as a Rich table."""
    sheet = f" (sheet {report.sheet})" if report.sheet else ""
    table = Table(title=f"Import {report.kind}: {report.file}{sheet}", show_header=False)
    if report.mapping:
        table.add_row("columns read as", ", ".join(f"{f} <- {c!r}" for f, c in report.mapping.items()))
    table.add_row("rows read", f"{report.rows_read:,}")
    for entity, n in sorted(report.records_created.items()):
        table.add_row(f"{entity} created", f"{n:,}")
    for entity, n in sorted(report.already_present.items()):
        table.add_row(f"{entity} already present", f"{n:,}")
    table.add_row("places resolved", f"{report.places_resolved:,}")
    table.add_row("places as ISO 3166-2 subdivisions", f"{report.places_subdivision:,}")
    table.add_row("places ambiguous (review queue)", f"{report.places_ambiguous:,}")
    table.add_row("places unresolved (kept, source coordinates)", f"{report.places_unresolved:,}")
    table.add_row(
        "rows rejected",
        f"{report.rows_rejected:,}" + (f" -> {report.rejects_file}" if report.rejects else ""),
    )
    for label, value in report.details.items():
        table.add_row(label, f"{value:,}")
    table.add_row("seconds", f"{report.seconds:.1f}")
    console.print(table)
    for warning in report.warnings[:10]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if len(report.warnings) > 10:
        console.print(f"[yellow]… and {len(report.warnings) - 10} more warnings[/]")


def _mapping(pairs: list[str] | None) -> list[str] | None:
    return list(pairs) if pairs else None


@import_app.command("twinning")
def import_twinning_command(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX: city1,country1,lat1,lng1,city2,country2,lat2,lng2")],
    on_error: OnError = "abort",
    rejects: Rejects = None,
    no_coordinates: Annotated[bool, typer.Option(help="Resolve places from names and countries only")] = False,
    sheet: Sheet = None,
    mapping: ColumnMapping = None,
    as_json: AsJson = False,
) -> None:
    """Import a sister-city pair list (the layout of ../shared/data/twin_cities.csv).

    A list with its own header is read without editing it: `--map field=column` once per field that has
    another name there (fields: city1, country1, lat1, lng1, city2, country2, lat2, lng2, kind, status,
    signed_year, ended_year, title, dimensions, source).

    Examples:

        citydip import twinning ../shared/data/twin_cities.csv --on-error skip

        citydip import twinning pairs.csv --no-coordinates --json

        citydip import twinning partnerschaften.xlsx --sheet Liste --map city1=Stadt --map country1=Land
    """
    from citydiplomacy.ingest.twinning import import_twinning

    _run(import_twinning, file, rejects, as_json, on_error=on_error, use_coordinates=not no_coordinates,
         sheet=sheet, mapping=_mapping(mapping))  # fmt: skip


@import_app.command("relations")
def import_relations_command(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX in the relations template layout")],
    on_error: OnError = "abort",
    rejects: Rejects = None,
    as_json: AsJson = False,
) -> None:
    """Import an office's own list of relations (sister cities, MoUs, memoranda; see `citydip template`).

    Example:

        citydip import relations our_relations.xlsx --rejects bad-rows.csv
    """
    from citydiplomacy.ingest.twinning import import_twinning

    _run(import_twinning, file, rejects, as_json, on_error=on_error)


@import_app.command("memberships")
def import_memberships_command(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX: city,country,organization,role,since,until,lat,lng,source")],
    on_error: OnError = "abort",
    rejects: Rejects = None,
    sheet: Sheet = None,
    mapping: ColumnMapping = None,
    as_json: AsJson = False,
) -> None:
    """Import a membership list; free-text roles are mapped onto the model's roles.

    Any list, CSV or XLSX, is read without editing it: `--sheet` picks the workbook's sheet and
    `--map field=column` says which of its columns holds a field (fields: city, country, organization, role,
    since, until, lat, lng, source).

    Examples:

        citydip import memberships members.csv --on-error skip

        citydip import memberships network.xlsx --sheet Members --map city=Municipality --map since="Year joined"
    """
    from citydiplomacy.ingest.memberships import import_memberships

    _run(import_memberships, file, rejects, as_json, on_error=on_error, sheet=sheet, mapping=_mapping(mapping))


@import_app.command("covenant")
def import_covenant_command(
    file: Annotated[Path, typer.Argument(help="The GCoM signatories workbook (JRC MyCovenant release, XLSX)")],
    sheet: Annotated[str, typer.Option("--sheet", help="The workbook's data sheet")] = "1",
    on_error: OnError = "abort",
    rejects: Rejects = None,
    as_json: AsJson = False,
) -> None:
    """Import the Global Covenant of Mayors signatories: memberships, backers, commitments.

    Each signatory becomes a membership of the Global Covenant of Mayors with its date of adhesion and
    status; a group row ("Alkmaar, Bergen, …") one membership per town; supporters and coordinators
    organisations backing the membership; commitment flags facts about the place.

    Examples:

        citydip import covenant ../shared/data/gcom_signatories_2024.xlsx --on-error skip

        citydip import covenant signatories.xlsx --sheet 1 --json
    """
    from citydiplomacy.ingest.covenant import import_covenant

    _run(import_covenant, file, rejects, as_json, on_error=on_error, sheet=sheet)


@import_app.command("missions")
def import_missions_command(
    file: Annotated[Path, typer.Argument(help="The ;-separated embassies file (operator;…;country;…;city;…)")],
    on_error: OnError = "abort",
    rejects: Rejects = None,
    as_json: AsJson = False,
) -> None:
    """Import foreign diplomatic missions: per host city, missions, sending countries and embassies.

    Each mission's host city is resolved by name, country and coordinates; districts (Uccle,
    Chanakyapuri) count as their city.  The counts become facts about the place.

    Examples:

        citydip import missions ../shared/data/embassies.csv --on-error skip

        citydip import missions embassies.csv --rejects missions-rejects.csv --json
    """
    from citydiplomacy.ingest.missions import import_missions

    _run(import_missions, file, rejects, as_json, on_error=on_error)


@import_app.command("flights")
def import_flights_command(
    airports: Annotated[Path, typer.Option("--airports", help="OpenFlights airports.dat (no header)")],
    routes: Annotated[Path, typer.Option("--routes", help="OpenFlights routes.dat (no header)")],
    on_error: OnError = "abort",
    rejects: Rejects = None,
    as_json: AsJson = False,
) -> None:
    """Import direct air routes: per city, international destinations and countries reached.

    Airports are resolved to their city (one metropolitan area counts once); a route naming an airport
    the airports file lacks is rejected.

    Example:

        citydip import flights --airports airports.dat --routes routes.dat --on-error skip
    """
    from citydiplomacy.ingest.flights import import_flights

    _run(lambda p, **kw: import_flights(p, routes, **kw), airports, rejects, as_json, on_error=on_error)


@import_app.command("wikidata")
def import_wikidata_command(
    file: Annotated[Path, typer.Argument(help="SPARQL JSON result of a P190 (twinning) or P463 (membership) query")],
    kind: Annotated[str, typer.Option("--kind", help="twinning (P190) or membership (P463)")] = "twinning",
    on_error: OnError = "abort",
    rejects: Rejects = None,
    as_json: AsJson = False,
) -> None:
    """Import Wikidata SPARQL JSON results saved to a file.

    Examples:

        citydip import wikidata p190.json --kind twinning

        citydip import wikidata p463.json --kind membership
    """
    from citydiplomacy.ingest.wikidata import import_wikidata

    if kind not in ("twinning", "membership"):
        fail(f"--kind must be twinning or membership, not {kind!r}", code=2)
    _run(lambda p, **kw: import_wikidata(p, kind, **kw), file, rejects, as_json, on_error=on_error)


@import_app.command("wikidata-pairs")
def import_wikidata_pairs_command(
    relations: Annotated[Path, typer.Argument(help="Tab-separated QID<TAB>QID lines (P190 statements, no header)")],
    names: Annotated[Path, typer.Option("--names", help="Tab-separated QID<TAB>label lines")],
    on_error: OnError = "abort",
    rejects: Rejects = None,
    as_json: AsJson = False,
) -> None:
    """Import twinning pairs by Wikidata id; a tie already held gets this source as evidence.

    Items join places by Wikidata id, else by a label that names one place only (never a guess among
    namesakes).  The summary gives the shares joined by id, by name and not at all, and how many ties
    both sources hold and how many only one.

    Example:

        citydip import wikidata-pairs relations.tsv --names names.tsv --on-error skip --json
    """
    from citydiplomacy.ingest.wikidata_pairs import import_wikidata_pairs

    _run(lambda p, **kw: import_wikidata_pairs(p, names, **kw), relations, rejects, as_json, on_error=on_error)


def template_command(
    kind: Annotated[str, typer.Argument(help="twinning | relations | memberships")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (.csv or .xlsx)")],
) -> None:
    """Write an empty CSV/XLSX template that the importers accept.

    Examples:

        citydip template relations -o relations.xlsx

        citydip template memberships -o members.csv
    """
    from citydiplomacy.ingest.templates import write_template

    try:
        written = write_template(kind, out)
    except ValueError as exc:
        fail(str(exc), code=2)
    console.print(f"wrote {written}")
