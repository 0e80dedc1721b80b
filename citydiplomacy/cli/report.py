"""``citydip report``: a city's diplomacy profile (``report city``, the default: ``citydip report CITY`` works too)
and the council report of a year (``report council``), each one self-contained HTML page or a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from citydiplomacy.cli.console import console, fail


class CityByDefault(TyperGroup):
    """A group whose first word, when it names none of its commands, is the city of ``report city``: so
    ``citydip report Tehran …`` keeps working beside ``citydip report council Tehran …``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["city", *args]
        return super().parse_args(ctx, args)


report_app = typer.Typer(
    cls=CityByDefault,
    no_args_is_help=True,
    help="Reports: a city's profile (`citydip report city CITY`, or just `citydip report CITY`) and the council "
    "report of a year (`citydip report council CITY --year YEAR`).",
)


def report_command(
    city: Annotated[str, typer.Argument(help="City name, in any script the registry knows")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (its folder is created)")],
    country: Annotated[str | None, typer.Option("--country", help="ISO code or country name")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Page language: en, or fa (Persian, right-to-left)")] = "en",
    fmt: Annotated[str, typer.Option("--format", help="html (self-contained page) or pdf (needs Chromium)")] = "html",
) -> None:
    """Write a city's profile: relations, partners map, memberships, activities, index, network, sources.

    The file is self-contained (fonts, charts and map data inlined; it makes no network request) and is
    written atomically.  PDF output prints the page with Debian's headless Chromium.

    Examples:

        citydip report city Tehran --out tehran.html

        citydip report city Tehran --lang fa --format pdf --out tehran-fa.pdf
    """
    from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound
    from citydiplomacy.report.city_report import ReportError, write_report
    from citydiplomacy.report.pdf import ChromiumMissing, PdfRenderError
    from citydiplomacy.store import db

    _check_output(lang, fmt)
    try:
        with console.status(f"Writing the {fmt.upper()} report…"):
            path = write_report(None, city, country, lang, fmt, out)
    except (AmbiguousPlace, NotFound, BadInput) as exc:
        fail(str(exc), code=2)
    except ChromiumMissing as exc:
        fail(str(exc), code=2)
    except (ReportError, PdfRenderError) as exc:
        fail(str(exc), code=1)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    size_kib = path.stat().st_size / 1024
    console.print(f"[green]report[/] {path} ({size_kib:,.0f} KiB, {lang}, {fmt})", highlight=False)


def _check_output(lang: str, fmt: str) -> None:
    """Refuse an unknown language or format, an empty registry, or PDF without Chromium, before any work."""
    from citydiplomacy.report.city_report import FORMATS, LANGS
    from citydiplomacy.report.pdf import ChromiumMissing, chromium_path
    from citydiplomacy.store import db

    if lang not in LANGS:
        fail(f"unknown --lang {lang!r}; one of {', '.join(LANGS)}", code=2)
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}; one of {', '.join(FORMATS)}", code=2)
    try:
        if not db.is_initialised():
            fail("the registry is empty: run `citydip demo` or `citydip db upgrade` first", code=2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    if fmt == "pdf":
        try:
            chromium_path()  # fail before reading the registry, with the install hint
        except ChromiumMissing as exc:
            fail(str(exc), code=2)


def council_command(
    city: Annotated[str, typer.Argument(help="City name, in any script the registry knows")],
    year: Annotated[int, typer.Option("--year", help="Gregorian (2024) or Solar Hijri (1403, 21 March - 20 March)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (its folder is created)")],
    country: Annotated[str | None, typer.Option("--country", help="ISO code or country name")] = None,
    calendar: Annotated[
        str, typer.Option("--calendar", help="auto (1200-1599 is Solar Hijri), gregorian or solar_hijri")
    ] = "auto",
    lang: Annotated[str, typer.Option("--lang", help="Page language: en, or fa (Persian, right-to-left)")] = "en",
    fmt: Annotated[str, typer.Option("--format", help="html (self-contained page) or pdf (needs Chromium)")] = "html",
) -> None:
    """Write a city's council report of one year, each figure beside the year before's.

    Agreements signed, renewed, ended and dormant; activities by dimension and function; delegations and visits;
    spending and membership dues per currency; outcomes; overdue follow-up actions.

    A Solar Hijri year runs from 1 Farvardin (about 21 March) to the end of Esfand; the Persian page shows its
    dates in Solar Hijri first, the English page the Gregorian ones (with the Solar Hijri year beside them).
    An unknown city or a year out of range is refused in the page's language, and nothing is written.

    Examples:

        citydip report council Tehran --year 1403 --out council-1403.html

        citydip report council Tehran --year 1403 --lang fa --format pdf --out council-1403-fa.pdf

        citydip report council Tehran --year 2024 --calendar gregorian --out council-2024.html
    """
    from citydiplomacy.report.city_report import ReportError
    from citydiplomacy.report.council import CouncilReportError, write_council_report
    from citydiplomacy.report.pdf import ChromiumMissing, PdfRenderError
    from citydiplomacy.store import db

    _check_output(lang, fmt)
    try:
        with console.status(f"Writing the {fmt.upper()} council report…"):
            path = write_council_report(
                None, city, year, country=country, calendar=calendar, lang=lang, fmt=fmt, out=out
            )
    except CouncilReportError as exc:
        fail(str(exc), code=2)
    except ChromiumMissing as exc:
        fail(str(exc), code=2)
    except (ReportError, PdfRenderError) as exc:
        fail(str(exc), code=1)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    size_kib = path.stat().st_size / 1024
    console.print(f"[green]council report[/] {path} ({size_kib:,.0f} KiB, {lang}, {fmt})", highlight=False)


report_app.command("city")(report_command)
report_app.command("council")(council_command)
