"""``citydip assess``: compute the indicators and the City Diplomacy Index, store the run, print it.

A thin layer over :func:`citydiplomacy.assess.registry_index.assess`; see that module for the method.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound

if TYPE_CHECKING:  # the library (pandas, scipy, SQLAlchemy) is imported when the command runs, not for --help
    from citydiplomacy.assess.registry_index import AssessmentResult

console = Console()
err_console = Console(stderr=True)


def _fmt(value: Any, digits: int = 1) -> str:
    """A score with fixed decimals; ``—`` for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.{digits}f}"


def _fmt_value(value: Any) -> str:
    """A raw indicator value (count, score, money) with up to 4 significant digits; ``—`` for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.4g}"


def _fail(message: str, code: int = 1) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _print_city(result: AssessmentResult) -> None:
    data = result.city()
    cat = result.table.catalogue
    console.print(
        f"[bold]{data['name']}[/bold] ({data['country_code'] or '?'}) — City Diplomacy Index "
        f"[bold]{_fmt(data['cdi'])}[/bold], rank {_fmt(data['rank'], 0)} of {data['of']}, "
        f"coverage {_fmt((data['coverage'] or 0) * 100, 0)}% of {len(cat)} indicators"
    )
    dims = Table(title=f"Dimensions ({result.choices.normalise} scale)")
    dims.add_column("dimension")
    dims.add_column("نام")
    dims.add_column("score", justify="right")
    for dim, info in cat.dimensions.items():
        dims.add_row(info["name"], info.get("name_fa") or "", _fmt(data["dimensions"][dim]))
    console.print(dims)
    ind = Table(title="Indicators")
    for col, justify in (
        ("code", "left"),
        ("indicator", "left"),
        ("dimension", "left"),
        ("value", "right"),
        ("source", "left"),
        ("weight", "right"),
    ):
        ind.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in data["indicators"]:
        style = "dim" if row["coverage"] == "missing" else None
        dropped = row["code"] in result.engine_info.get("indicators_dropped", {})
        weight = "not used" if dropped else _fmt(float(result.weights[row["code"]]), 3)
        ind.add_row(
            row["code"], row["name"], row["dimension"], _fmt_value(row["value"]), row["coverage"], weight, style=style
        )
    console.print(ind)
    for code, reason in result.engine_info.get("indicators_dropped", {}).items():
        err_console.print(f"[dim]{code} left out of the index: {reason}[/dim]")


def _print_all(result: AssessmentResult, top: int) -> None:
    from citydiplomacy.store.runs import CDI_CODE

    scores = result.scores.sort_values(["rank", "coverage"], ascending=[True, False], na_position="last")
    dims = list(result.table.catalogue.dimensions)
    table = Table(title=f"City Diplomacy Index — top {min(top, len(scores))} of {len(scores)} places")
    table.add_column("rank", justify="right")
    table.add_column("place", no_wrap=True, min_width=14, overflow="ellipsis")
    table.add_column("CDI", justify="right", style="bold")
    for dim in dims:
        table.add_column(dim[:3], justify="right")
    table.add_column("cov", justify="right")
    for _, row in scores.head(top).iterrows():
        table.add_row(
            _fmt(row["rank"], 0),
            f"{row['name']} ({row['country_code'] or '?'})",
            _fmt(row[CDI_CODE]),
            *[_fmt(row[dim], 0) for dim in dims],
            f"{row['coverage'] * 100:.0f}%",
        )
    table.caption = "dimensions: " + ", ".join(f"{d[:3]} = {d}" for d in dims) + "; cov = indicators with a value"
    console.print(table)


def _print_capacity(name: str, frame: Any) -> None:
    table = Table(title=f"Institutional capacity for city diplomacy — {name} (checklist of paper 003)")
    for col in ("code", "item", "مورد", "status", "year"):
        table.add_column(col)
    colours = {"in place": "green", "partly": "yellow", "absent": "red", "unknown": "dim"}
    for row in frame.itertuples(index=False):
        table.add_row(
            row.code,
            row.name,
            row.name_fa,
            f"[{colours[row.status]}]{row.status}[/{colours[row.status]}]",
            "" if row.year is None or (isinstance(row.year, float) and math.isnan(row.year)) else str(int(row.year)),
        )
    console.print(table)


def assess_command(
    city: str | None = typer.Argument(None, help="City to assess (any recorded name); omit with --all."),
    all_places: bool = typer.Option(False, "--all", help="Assess every place with records in the registry."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166-1 alpha-2 code to disambiguate CITY."),
    weights: str = typer.Option("rank-order", "--weights", help="equal | rank-order (literature ranks of paper 000)."),
    normalise: str = typer.Option("minmax", "--normalise", help="Normalisation method of the index engine."),
    aggregate: str = typer.Option("arithmetic", "--aggregate", help="Aggregation method of the index engine."),
    missing: str = typer.Option("available", "--missing", help="Treatment of missing indicators by the engine."),
    year: int | None = typer.Option(None, "--year", help="Read the registry as of the end of this year."),
    zero_policy: str = typer.Option(
        "family", "--zero-policy", help="family | place: when a count without records is 0."
    ),
    min_coverage: float = typer.Option(
        0.0, "--min-coverage", help="No CDI for places below this share of indicators (0-1)."
    ),
    uncertainty: int = typer.Option(
        0, "--uncertainty", help="Monte Carlo index builds for 5-95% rank intervals (0: none; e.g. 2000)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the uncertainty analysis."),
    capacity: bool = typer.Option(False, "--capacity", help="Print CITY's institutional-capacity checklist only."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    top: int = typer.Option(20, "--top", help="Rows printed with --all."),
) -> None:
    """Compute the 32 indicators and the City Diplomacy Index, store the run and print the result.

    Examples:

        citydip assess Tehran --country IR

        citydip assess --all --top 10 --uncertainty 2000

        citydip assess Tehran --capacity --json
    """
    from citydiplomacy.assess.registry_index import AssessmentChoices, assess, capacity_status
    from citydiplomacy.model.indicators import CatalogueError
    from citydiplomacy.store import db
    from citydiplomacy.store.lookup import find_place

    if not city and not all_places:
        _fail("name a CITY or pass --all", 2)
    if city and all_places:
        _fail("give either a CITY or --all, not both", 2)
    if weights not in ("equal", "rank-order"):
        _fail(f"--weights must be equal or rank-order, not {weights!r}", 2)
    if zero_policy not in ("family", "place"):
        _fail(f"--zero-policy must be family or place, not {zero_policy!r}", 2)
    if capacity and not city:
        _fail("--capacity needs a CITY", 2)
    try:
        engine = db.get_engine()
        if not db.is_initialised(engine):
            _fail(
                f"the registry at {engine.url.render_as_string(hide_password=True)} is not initialised"
                " (run `citydip db upgrade`, or `citydip demo` to load the case study)"
            )
        with db.session_scope(engine) as session:
            if capacity:
                assert city is not None
                place = find_place(session, city, country)
                frame = capacity_status(session, place.id)
                if as_json:
                    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
                    typer.echo(
                        json.dumps({"place_id": place.id, "name": place.name, "items": records}, ensure_ascii=False)
                    )
                else:
                    _print_capacity(place.name, frame)
                return
            choices = AssessmentChoices(
                weights=weights,  # type: ignore[arg-type]
                normalise=normalise,
                aggregate=aggregate,
                missing=missing,
                year=year,
                zero_policy=zero_policy,  # type: ignore[arg-type]
                min_coverage=min_coverage,
                uncertainty_samples=uncertainty,
                uncertainty_seed=seed,
            )
            with err_console.status("computing indicators and the City Diplomacy Index…"):
                result = assess(session, None if all_places else city, choices, country=country)
    except (AmbiguousPlace, NotFound, BadInput, CatalogueError, ValueError) as exc:
        _fail(str(exc))
        return
    except db.DatabaseUnavailable as exc:
        _fail(str(exc))
        return
    if as_json:
        if result.focus is not None:
            payload: dict[str, Any] = result.city()
        else:
            frame = result.scores.reset_index()
            payload = {
                "run_id": result.run_id,
                "choices": result.choices.as_dict(),
                "catalogue_version": result.catalogue_version,
                "places": frame.astype(object).where(frame.notna(), None).to_dict(orient="records"),
            }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    if result.focus is not None:
        _print_city(result)
    else:
        _print_all(result, top)
    err_console.print(f"stored as assessment run #{result.run_id}")
