"""``citydip network …``: metrics, communities, interlocking connectivity, ego pictures and maps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from citydiplomacy.cli.console import console, err_console, fail
from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound

if TYPE_CHECKING:  # pandas, igraph and SQLAlchemy load when a command runs, not for --help
    import pandas as pd

    from citydiplomacy.network.graphs import NetworkFilter

# The graphs ``load_graph`` builds, repeated here so that ``--help`` need not import igraph and pandas
# (tests/test_cli_docs.py checks it equals citydiplomacy.network.graphs.GRAPH_KINDS).
GRAPH_KINDS = ("bilateral", "membership", "combined")

network_app = typer.Typer(help="Network analytics of sister-city and membership networks.", no_args_is_help=True)

GraphOpt = Annotated[str, typer.Option("--graph", help=f"Which graph: {' | '.join(GRAPH_KINDS)}")]
FromOpt = Annotated[int | None, typer.Option("--from-year", help="Period start (relations in force then)")]
ToOpt = Annotated[int | None, typer.Option("--to-year", help="Period end")]
KindOpt = Annotated[list[str] | None, typer.Option("--kind", help="Relation kind to keep (repeatable)")]
StatusOpt = Annotated[list[str] | None, typer.Option("--status", help="Relation status to keep (repeatable)")]
RegionOpt = Annotated[
    list[str] | None,
    typer.Option("--region", help="Continent code, UN M49 sub-region or ISO country (repeatable)"),
]
DatedOpt = Annotated[bool, typer.Option("--only-dated", help="With a period, drop records without years")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Processes for betweenness/closeness")]


def _filter(
    year_from: int | None,
    year_to: int | None,
    kinds: list[str] | None,
    statuses: list[str] | None,
    regions: list[str] | None,
    only_dated: bool,
) -> NetworkFilter:
    from citydiplomacy.network.graphs import NetworkFilter

    return NetworkFilter(
        year_from=year_from,
        year_to=year_to,
        keep_undated=not only_dated,
        kinds=tuple(kinds) if kinds else None,
        statuses=tuple(statuses) if statuses else None,
        regions=tuple(regions) if regions else None,
    )


def _require_registry() -> None:
    from citydiplomacy.store import db

    try:
        if not db.is_initialised():
            fail("the registry is empty: run `citydip demo` or `citydip db upgrade` first", code=2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)


def _write_table(frame: pd.DataFrame, out: Path) -> None:
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(out, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        fail(f"unsupported table format {suffix or '(none)'}: use .csv or .parquet", code=2)


def _print_top(frame: pd.DataFrame, by: str, columns: list[str], title: str, top: int) -> None:
    import pandas as pd

    table = Table(title=title)
    table.add_column("city")
    for col in columns:
        table.add_column(col, justify="right")
    for _, row in frame.sort_values(by, ascending=False).head(top).iterrows():
        cells = []
        for col in columns:
            value = row[col]
            cells.append("" if pd.isna(value) else (f"{value:,.4g}" if isinstance(value, float) else f"{value:,}"))
        table.add_row(f"{row['name']} ({row['country_code'] or '?'})", *cells)
    console.print(table)


@network_app.command("metrics")
def metrics_command(
    graph: GraphOpt = "bilateral",
    out: Annotated[Path | None, typer.Option("--out", help="Write every metric to FILE.csv or FILE.parquet")] = None,
    year_from: FromOpt = None,
    year_to: ToOpt = None,
    kind: KindOpt = None,
    status: StatusOpt = None,
    region: RegionOpt = None,
    only_dated: DatedOpt = False,
    workers: WorkersOpt = 2,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Store results as an analysis run")] = True,
    top: Annotated[int, typer.Option("--top", help="Cities shown in the terminal")] = 15,
) -> None:
    """Per-city network metrics (degree, strength, betweenness, closeness, eigenvector, PageRank,
    clustering, k-core, constraint, reach, distances, diversity, communities), stored as a run.

    ``--graph membership`` computes two-mode metrics on the place–organisation graph (memberships,
    organisation sizes, co-members, Newman-weighted eigenvector and PageRank, bipartite betweenness and
    closeness, reach, interlocking connectivity), so networks of thousands of members stay fast.

    Examples:

        citydip network metrics --graph bilateral --out metrics.parquet

        citydip network metrics --from-year 2000 --to-year 2020 --region AS --no-store

        citydip network metrics --graph membership --out membership.csv
    """
    from citydiplomacy.network.analysis import analyse
    from citydiplomacy.network.graphs import NetworkInputError
    from citydiplomacy.store import db

    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        fail(f"unsupported table format {out.suffix or '(none)'}: use .csv or .parquet", code=2)
    _require_registry()
    flt = _filter(year_from, year_to, kind, status, region, only_dated)
    try:
        with err_console.status(f"Computing metrics of the {graph} graph…"), db.session_scope() as session:
            result = analyse(session, graph, flt, workers=workers, store=store)
    except NetworkInputError as exc:
        fail(str(exc), code=2)
    for note in result.notes:
        err_console.print(f"[yellow]note:[/] {note}")
    s = result.summary
    if s["cities"] == 0:
        console.print("[yellow]the graph is empty: no relation matches the filters[/]")
    else:
        console.print(
            f"{s['cities']:,} cities, {s['ties']:,} ties, {s['components']:,} components "
            f"(largest {s['largest_component']:,}), {s['communities']:,} communities"
            + (f", modularity {s['modularity']:.3f}" if s["modularity"] is not None else ""),
            highlight=False,
        )
        cols = ["degree", "strength", "betweenness_norm", "harmonic_norm", "pagerank", "countries_reached"]
        by = "betweenness" if graph == "bilateral" else "strength"
        if graph == "membership":  # two-mode metrics (citydiplomacy.network.twomode)
            cols = ["organisations", "degree", "newman_eigenvector", "betweenness_2mode", "countries_reached"]
            by = "connectivity"
        if "connectivity_rel" in result.metrics:
            cols.append("connectivity_rel")
        _print_top(result.metrics, by, cols, f"Top {top} cities", top)
    if result.run_id is not None:
        console.print(f"stored as analysis run {result.run_id}")
    if out is not None:
        _write_table(result.metrics, out)
        console.print(f"wrote {len(result.metrics):,} rows to {out}")


@network_app.command("communities")
def communities_command(
    graph: GraphOpt = "bilateral",
    resolution: Annotated[float, typer.Option("--resolution", help="Modularity resolution (>1: smaller)")] = 1.0,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    out: Annotated[Path | None, typer.Option("--out", help="Write the summaries to FILE.csv or .parquet")] = None,
    year_from: FromOpt = None,
    year_to: ToOpt = None,
    kind: KindOpt = None,
    status: StatusOpt = None,
    region: RegionOpt = None,
    only_dated: DatedOpt = False,
    top: Annotated[int, typer.Option("--top", help="Communities shown in the terminal")] = 20,
) -> None:
    """Communities of the graph (Leiden, modularity) with a summary of each.

    Examples:

        citydip network communities

        citydip network communities --resolution 1.5 --out communities.csv
    """
    import pandas as pd

    from citydiplomacy.network.communities import community_summaries, leiden_communities
    from citydiplomacy.network.graphs import NetworkInputError, load_graph
    from citydiplomacy.store import db

    _require_registry()
    flt = _filter(year_from, year_to, kind, status, region, only_dated)
    try:
        with db.session_scope() as session:
            g = load_graph(session, graph, flt)
    except NetworkInputError as exc:
        fail(str(exc), code=2)
    membership, modularity = leiden_communities(g, resolution=resolution, seed=seed)
    summaries = community_summaries(g, membership)
    if summaries.empty:
        console.print("[yellow]no community of two or more cities (the graph has no ties)[/]")
        return
    console.print(f"{len(summaries):,} communities of 2+ cities, modularity {modularity:.3f}", highlight=False)
    table = Table()
    for col in ("#", "size", "countries", "main country", "main region", "cross-border", "top cities"):
        table.add_column(col, justify="right" if col in ("#", "size", "countries", "cross-border") else "left")
    for _, r in summaries.head(top).iterrows():
        table.add_row(
            str(r["community"]),
            f"{r['size']:,}",
            str(r["countries"]),
            f"{r['main_country']} {r['main_country_share']:.0%}",
            f"{r['main_subregion']} {r['main_subregion_share']:.0%}",
            "" if pd.isna(r["cross_border_share"]) else f"{r['cross_border_share']:.0%}",
            r["top_cities"],
        )
    console.print(table)
    if out is not None:
        _write_table(summaries, out)
        console.print(f"wrote {len(summaries):,} communities to {out}")


@network_app.command("connectivity")
def connectivity_command(
    out: Annotated[Path | None, typer.Option("--out", help="Write to FILE.csv or FILE.parquet")] = None,
    year_from: FromOpt = None,
    year_to: ToOpt = None,
    region: RegionOpt = None,
    top: Annotated[int, typer.Option("--top")] = 20,
) -> None:
    """Interlocking network connectivity of cities through their memberships (Taylor's model).

    Example:

        citydip network connectivity --top 30 --out connectivity.csv
    """
    from citydiplomacy.network.graphs import NetworkInputError, load_membership
    from citydiplomacy.network.interlocking import interlocking_connectivity
    from citydiplomacy.store import db

    _require_registry()
    flt = _filter(year_from, year_to, None, None, region, False)
    try:
        with db.session_scope() as session:
            nodes, orgs, members = load_membership(session, flt)
        frame = interlocking_connectivity(nodes, orgs, members)
    except NetworkInputError as exc:
        fail(str(exc), code=2)
    for note in frame.attrs["notes"].messages:
        err_console.print(f"[yellow]note:[/] {note}")
    if frame.empty:
        console.print("[yellow]no memberships match: nothing to compute[/]")
        return
    frame = frame.merge(nodes[["place_id", "country_code"]], on="place_id")
    _print_top(
        frame, "connectivity", ["organisations", "connectivity", "connectivity_rel"], "Interlocking connectivity", top
    )
    if out is not None:
        _write_table(frame, out)
        console.print(f"wrote {len(frame):,} rows to {out}")


def _city_vertex(session, g, city: str, country: str | None) -> int:  # type: ignore[no-untyped-def]
    from citydiplomacy.network.draw import vertex_of
    from citydiplomacy.network.graphs import NetworkInputError
    from citydiplomacy.store.lookup import find_place

    try:
        place = find_place(session, city, country)
    except (AmbiguousPlace, NotFound, BadInput) as exc:
        fail(str(exc), code=2)
    try:
        return vertex_of(g, place.id)
    except NetworkInputError:
        fail(f"{place.name} ({place.country_code}) has no relation in this network (with these filters)", code=2)


def _picture(out: Path) -> None:
    if out.suffix.lower() not in (".html", ".htm", ".png"):
        fail(f"unsupported picture format {out.suffix or '(none)'}: use .html or .png", code=2)


@network_app.command("ego")
def ego_command(
    city: Annotated[str, typer.Argument(help="City name")],
    out: Annotated[Path, typer.Option("--out", help="FILE.html (interactive, offline) or FILE.png")],
    radius: Annotated[int, typer.Option("--radius", min=1, max=4, help="Steps from the city")] = 1,
    country: Annotated[str | None, typer.Option("--country", help="ISO code or country name")] = None,
    graph: GraphOpt = "bilateral",
    year_from: FromOpt = None,
    year_to: ToOpt = None,
    kind: KindOpt = None,
    region: RegionOpt = None,
) -> None:
    """A picture of a city's ego network, nodes coloured by world region.

    Example:

        citydip network ego Tehran --country IR --radius 2 --out ego.html
    """
    from citydiplomacy.network.draw import ego_figure, ego_network
    from citydiplomacy.network.graphs import NetworkInputError, load_graph
    from citydiplomacy.present.assets import SnapshotUnavailable, write_figure
    from citydiplomacy.store import db

    _picture(out)
    _require_registry()
    flt = _filter(year_from, year_to, kind, None, region, False)
    try:
        with db.session_scope() as session:
            g = load_graph(session, graph, flt)
            center = _city_vertex(session, g, city, country)
        ego, ego_center = ego_network(g, center, radius)
        if ego.vcount() > 3000:
            err_console.print(f"[yellow]note:[/] {ego.vcount():,} cities within {radius} steps: the picture is dense")
        write_figure(ego_figure(ego, ego_center), out, title=f"Ego network: {city}")
    except (NetworkInputError, SnapshotUnavailable) as exc:
        fail(str(exc), code=2)
    console.print(f"wrote {out} ({ego.vcount() - 1:,} cities, {ego.ecount():,} ties)")


@network_app.command("map")
def map_command(
    city: Annotated[str, typer.Argument(help="City name")],
    out: Annotated[Path, typer.Option("--out", help="FILE.html (offline world map) or FILE.png")],
    country: Annotated[str | None, typer.Option("--country", help="ISO code or country name")] = None,
    graph: GraphOpt = "bilateral",
    year_from: FromOpt = None,
    year_to: ToOpt = None,
    kind: KindOpt = None,
) -> None:
    """A city's partners on a world map that renders without internet access.

    Example:

        citydip network map Tehran --country IR --out partners.html
    """
    from citydiplomacy.network.draw import partners_map_figure
    from citydiplomacy.network.graphs import NetworkInputError, load_graph
    from citydiplomacy.present.assets import SnapshotUnavailable, write_figure
    from citydiplomacy.store import db

    _picture(out)
    _require_registry()
    flt = _filter(year_from, year_to, kind, None, None, False)
    try:
        with db.session_scope() as session:
            g = load_graph(session, graph, flt)
            center = _city_vertex(session, g, city, country)
        write_figure(partners_map_figure(g, center), out, title=f"Partners of {city}", height=650)
    except (NetworkInputError, SnapshotUnavailable) as exc:
        fail(str(exc), code=2)
    console.print(f"wrote {out} ({g.degree(center):,} partners)")
