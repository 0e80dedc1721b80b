"""``citydip model``: browse the five-level model and its catalogues (a thin layer over ``catalogue``)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the catalogue (pandas) loads when a command runs, not for --help
    from citydiplomacy.model.catalogue import Item, Model

model_app = typer.Typer(
    help="The five-level model of city diplomacy: types, levels, actors, dimensions, functions, SWOT.",
    no_args_is_help=True,
)


class Lang(StrEnum):
    """Label language of the tables."""

    en = "en"
    fa = "fa"


# Extra fields worth a column when present in a section, in display order.
_EXTRA_COLUMNS = (
    "family",
    "mode",
    "category",
    "role",
    "relation_kind",
    "organisation_kind",
    "scale",
    "dimension",
    "function",
    "year",
    "number",
    "links",
)


def _model_or_exit() -> Model:
    from citydiplomacy.model.catalogue import ModelError, load_model

    try:
        return load_model()
    except ModelError as exc:  # the data are broken: say exactly how, then stop
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _items_table(title: str, items: tuple[Item, ...], lang: str) -> Table:
    extras = [col for col in _EXTRA_COLUMNS if any(col in item.extra for item in items)]
    table = Table(title=title, show_lines=False)
    table.add_column("code", style="cyan", no_wrap=True)
    table.add_column("name" if lang == "en" else "name_fa")
    for col in extras:
        table.add_column(col)
    table.add_column("cite", style="dim")
    for item in items:
        label = item.label(lang)
        if item.children:
            label += "\n" + "\n".join(f"  · {child.label(lang)}" for child in item.children)
        table.add_row(
            item.code,
            label,
            *(_cell(item.get(col)) for col in extras),
            f"{item.cite.source[:3]} {item.cite.locator}",
        )
    return table


@model_app.command("show")
def show(
    section: Annotated[
        str | None,
        typer.Argument(help="Section (e.g. dimensions, types, roles, activities, weaknesses) or an item code."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Label language.")] = Lang.en,
) -> None:
    """Show the sections of the model, one section, or one item by code.

    Examples:

        citydip model show

        citydip model show dimensions --lang fa

        citydip model show activities --json
    """
    model = _model_or_exit()
    console = Console()
    if section is None:
        counts = {name: len(model.section(name)) for name in model.section_names()}
        if as_json:
            typer.echo(json.dumps(counts, ensure_ascii=False, indent=2))
            return
        table = Table(title=f"City-diplomacy model {model.version}")
        table.add_column("section", style="cyan")
        table.add_column("items", justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count))
        console.print(table)
        return

    try:
        items = model.section(section)
    except KeyError:
        if section not in model:
            typer.echo(f"unknown section or code {section!r}; sections: {', '.join(model.section_names())}", err=True)
            raise typer.Exit(code=2) from None
        items = (model.find(section),)
    if as_json:
        typer.echo(json.dumps([item.to_dict() for item in items], ensure_ascii=False, indent=2))
        return
    console.print(_items_table(f"{section} ({len(items)})", items, lang.value))


@model_app.command("version")
def version(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the model version, its checksum and each file's version.

    Examples:

        citydip model version

        citydip model version --json
    """
    model = _model_or_exit()
    info = {
        "version": model.version,
        "checksum": model.checksum,
        "files": dict(model.file_versions),
        "sources": dict(model.sources),
    }
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    typer.echo(f"model {model.version}  sha256 {model.checksum}")
    for name, file_version in model.file_versions.items():
        typer.echo(f"  {name}: {file_version}")
