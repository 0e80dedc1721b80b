"""``citydip report``: a city's diplomacy profile as one self-contained HTML page or a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citydiplomacy.cli.console import console, fail


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

        citydip report Tehran --out tehran.html

        citydip report Tehran --lang fa --format pdf --out tehran-fa.pdf
    """
    from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound
    from citydiplomacy.report.city_report import FORMATS, LANGS, ReportError, write_report
    from citydiplomacy.report.pdf import ChromiumMissing, PdfRenderError
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
        from citydiplomacy.report.pdf import chromium_path

        try:
            chromium_path()  # fail before reading the registry, with the install hint
        except ChromiumMissing as exc:
            fail(str(exc), code=2)
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
