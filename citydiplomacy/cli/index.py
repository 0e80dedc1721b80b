"""``citydip index``: build a composite index from CSV files and analyse its uncertainty.

A thin layer over :mod:`citydiplomacy.assess.pipeline` and :mod:`citydiplomacy.assess.uncertainty`.
Outputs are written to a temporary directory next to the target and moved into place only after the
whole computation succeeded, so a failing run writes nothing (exit code 1, message on stderr).
"""

from __future__ import annotations

import html
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:  # pandas and the index engine load when a command runs, not for --help
    import pandas as pd

    from citydiplomacy.assess.pipeline import Choices, IndexPipeline
    from citydiplomacy.assess.uncertainty import UncertaintyResult

index_app = typer.Typer(
    help="Composite indicators (OECD/JRC Handbook): build, uncertainty, sensitivity.", no_args_is_help=True
)
_err = Console(stderr=True)


def _fail(exc: Exception) -> typer.Exit:
    _err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    return typer.Exit(code=1)


def _write_atomically(targets: dict[Path, Callable[[Path], None]]) -> None:
    """Write each target through its writer into a temp dir beside it, then move all into place."""
    staged: list[tuple[Path, Path, tempfile.TemporaryDirectory[str]]] = []
    try:
        for target, writer in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = tempfile.TemporaryDirectory(dir=target.parent, prefix=".citydip-")
            path = Path(tmp.name) / target.name
            writer(path)
            staged.append((path, target, tmp))
        for path, target, _ in staged:
            if target.is_dir() and path.is_dir():
                for item in path.iterdir():
                    shutil.move(str(item), target / item.name)
            else:
                shutil.move(str(path), target)
    finally:
        for *_, tmp in staged:
            tmp.cleanup()


def _pipeline(
    data: Path, framework: Path, denominators: Path | None, choices: Choices, meta: list[str]
) -> IndexPipeline:
    from citydiplomacy.assess.pipeline import IndexPipeline

    return IndexPipeline.from_csv(data, framework, denominators, choices, meta_columns=meta)


@index_app.command("build")
def build_command(
    data: Path = typer.Argument(
        ...,
        help="Units CSV: unit, optional name/meta columns, one column per indicator; or COINr's iData "
        "(uCode, uName, Time, groups, denominators: recognised without --meta).",
    ),
    framework: Path = typer.Option(
        ...,
        "--framework",
        help="Framework CSV (code,name,parent,weight,direction,denominator) or COINr's iMeta "
        "(iCode,Parent,Weight,Direction,Denominator,Type).",
    ),
    denominators: Path | None = typer.Option(None, "--denominators", help="CSV: unit + denominator columns."),
    impute: str = typer.Option("none", "--impute", help="none|mean|median|group-mean:COLUMN"),
    treat: str = typer.Option("none", "--treat", help="none|winsorise"),
    normalise: str = typer.Option("minmax", "--normalise", help="minmax|zscore|rank|goalposts|frontier"),
    weights: str = typer.Option("framework", "--weights", help="framework|equal|rank-order|entropy|pca|ahp:FILE"),
    aggregate: str = typer.Option("arithmetic", "--aggregate", help="arithmetic|geometric|harmonic"),
    no_denominate: bool = typer.Option(False, "--no-denominate", help="Ignore the framework's denominators."),
    meta: list[str] = typer.Option([], "--meta", help="Extra non-indicator data column (repeatable)."),
    out: Path | None = typer.Option(None, "--out", help="Results CSV (default: print to stdout)."),
    stages: Path | None = typer.Option(None, "--stages", help="Directory for every intermediate stage as CSV."),
) -> None:
    """Build the index: RESULTS.csv has unit, one score column per aggregate, then rank_<code> columns.

    Examples:

        citydip index build data.csv --framework framework.csv --out results.csv

        citydip index build data.csv --framework framework.csv --impute median --weights equal --stages stages/
    """
    from citydiplomacy.assess.errors import IndexInputError
    from citydiplomacy.assess.pipeline import Choices

    try:
        choices = Choices(
            denominate=not no_denominate,
            impute=impute,
            treat=treat,
            normalise=normalise,
            weights=weights,
            aggregate=aggregate,
        )
        result = _pipeline(data, framework, denominators, choices, meta).run()
    except (IndexInputError, ValueError) as exc:
        raise _fail(exc) from None
    table = result.results_table()
    targets: dict[Path, Callable[[Path], None]] = {}
    if out is not None:
        targets[out] = lambda path: table.to_csv(path, index=False)
    if stages is not None:

        def write_stages(path: Path) -> None:
            path.mkdir()
            for name, frame in result.stages().items():
                frame.to_csv(path / f"{name}.csv", index=False)

        targets[stages] = write_stages
    _write_atomically(targets)
    if out is None:
        typer.echo(table.to_csv(index=False), nl=False)
    else:
        _err.print(f"wrote {len(table)} units to {out}")


@index_app.command("uncertainty")
def uncertainty_command(
    data: Path = typer.Argument(..., help="Units CSV."),
    framework: Path = typer.Option(..., "--framework", help="Framework CSV."),
    denominators: Path | None = typer.Option(None, "--denominators", help="Denominators CSV."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    samples: int = typer.Option(1000, "--samples", help="Total number of index builds (N (k+2))."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the design."),
    weight_spread: float = typer.Option(0.25, "--weight-spread", help="Weights vary by U(1-s, 1+s)."),
    normalisations: str = typer.Option("minmax,zscore,rank", "--normalisations", help="Comma-separated."),
    aggregations: str = typer.Option("arithmetic,geometric", "--aggregations", help="Comma-separated."),
    imputations: str = typer.Option("mean,median", "--imputations", help="Comma-separated."),
    treat: str = typer.Option("none", "--treat", help="Nominal treatment: none|winsorise."),
    weights: str = typer.Option("framework", "--weights", help="Nominal (base) weights."),
    meta: list[str] = typer.Option([], "--meta", help="Extra non-indicator data column (repeatable)."),
) -> None:
    """Monte Carlo over choices: median rank and 5-95 % interval per unit, Sobol indices, chart.

    Example:

        citydip index uncertainty data.csv --framework framework.csv --samples 10000 --seed 1 --out ua/
    """
    from citydiplomacy.assess.errors import IndexInputError
    from citydiplomacy.assess.pipeline import Choices
    from citydiplomacy.assess.uncertainty import UncertaintySpec, run_uncertainty

    split = lambda text: tuple(s.strip() for s in text.split(",") if s.strip())  # noqa: E731
    spec = UncertaintySpec(
        weight_spread=weight_spread,
        normalisations=split(normalisations),
        aggregations=split(aggregations),
        imputations=split(imputations),
    )
    try:
        for norm in spec.normalisations:
            Choices(normalise=norm)
        for agg in spec.aggregations:
            Choices(aggregate=agg)
        nominal = Choices(
            impute=spec.imputations[0],
            treat=treat,
            normalise=spec.normalisations[0],
            weights=weights,
            aggregate=spec.aggregations[0],
        )
        pipeline = _pipeline(data, framework, denominators, nominal, meta)
        with Progress(
            TextColumn("Monte Carlo"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_err,
            transient=False,
        ) as bar:
            task = bar.add_task("mc", total=samples)
            result = run_uncertainty(
                pipeline,
                spec,
                samples=samples,
                seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except (IndexInputError, ValueError) as exc:
        raise _fail(exc) from None

    def write(path: Path) -> None:
        path.mkdir()
        write_uncertainty(result, path)

    _write_atomically({out: write})
    _err.print(
        f"{result.n_runs} builds ({result.n_base} base samples, factors: {', '.join(result.factors)}); wrote {out}"
    )
    outside = result.outside
    _err.print(
        f"nominal rank outside its 5-95 % interval: {outside['better_than_q05']} better, "
        f"{outside['worse_than_q95']} worse"
    )


def write_uncertainty(result: UncertaintyResult, directory: Path) -> None:
    """Write ranks.csv, scores.csv (5-95 % score intervals on the nominal scale), sobol.csv, sobol_units.csv
    and the rank chart (HTML with plotly.js inlined, SVG)."""
    result.ranks.to_csv(directory / "ranks.csv", index=False)
    result.scores.rename_axis("unit").reset_index().to_csv(directory / "scores.csv", index=False)
    result.sobol.to_csv(directory / "sobol.csv", index=False)
    result.sobol_units.to_csv(directory / "sobol_units.csv", index=False)
    chart = rank_chart(result.ranks)
    chart.write_html(directory / "ranks.html", include_plotlyjs=True, full_html=True)
    try:
        chart.write_image(directory / "ranks.png")
    except Exception:  # kaleido/Chrome absent: the HTML and SVG versions below are enough
        (directory / "ranks.svg").write_text(rank_svg(result.ranks), encoding="utf-8")


def rank_chart(ranks: pd.DataFrame, max_units: int = 2000):  # noqa: ANN201 - plotly Figure
    """Plotly chart of median ranks with their 5-95 % interval (best ``max_units`` nominal units)."""
    import plotly.graph_objects as go

    shown = ranks.sort_values("median_rank").head(max_units)
    figure = go.Figure(
        go.Scatter(
            x=shown["unit"],
            y=shown["median_rank"],
            mode="markers",
            name="median rank",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": shown["q95_rank"] - shown["median_rank"],
                "arrayminus": shown["median_rank"] - shown["q05_rank"],
            },
        )
    )
    figure.add_trace(
        go.Scatter(
            x=shown["unit"], y=shown["nominal_rank"], mode="markers", name="nominal rank", marker={"symbol": "x"}
        )
    )
    figure.update_layout(
        title="Rank uncertainty (median and 5-95 % interval)",
        xaxis_title="unit",
        yaxis_title="rank (1 = best)",
        yaxis_autorange="reversed",
    )
    return figure


def rank_svg(ranks: pd.DataFrame, max_units: int = 50) -> str:
    """A dependency-free static SVG of the best ``max_units`` units' median rank and interval."""
    shown = ranks.sort_values("median_rank").head(max_units).reset_index(drop=True)
    width, height, left, top, bottom = 900, 400, 50, 30, 90
    worst = float(max(shown["q95_rank"].max(), shown["nominal_rank"].max(), 2.0))
    step = (width - left - 10) / max(len(shown), 1)

    def y(rank: float) -> float:
        return top + (rank - 1) / (worst - 1) * (height - top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="10">',
        f'<text x="{left}" y="15">Rank uncertainty: median (dot) and 5-95 % interval (bar); 1 = best</text>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="5" y="{top + 4}">1</text><text x="5" y="{height - bottom}">{worst:g}</text>',
    ]
    for i, row in shown.iterrows():
        x = left + step * (i + 0.5)
        parts.append(
            f'<line x1="{x:.1f}" y1="{y(row.q05_rank):.1f}" x2="{x:.1f}" y2="{y(row.q95_rank):.1f}" '
            'stroke="steelblue" stroke-width="2"/>'
        )
        parts.append(f'<circle cx="{x:.1f}" cy="{y(row.median_rank):.1f}" r="3" fill="navy"/>')
        label = html.escape(str(row.unit))
        parts.append(f'<text transform="translate({x:.1f},{height - bottom + 8}) rotate(60)">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
