"""CLI of the strategy tools: ``citydip recommend``, ``citydip evaluate``, ``citydip union``, ``citydip swot``.

A thin layer: every command calls one library function and prints its answer (``--json`` for machines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from citydiplomacy.cli.console import console, err_console, fail, print_json

# The strategy tools and the registry (scikit-learn, SQLAlchemy) are imported inside each command,
# so that ``--help`` stays fast.

recommend_app = typer.Typer(help="Recommend partners and city networks to join, with reasons.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Evaluate the predictive tools against baselines.", no_args_is_help=True)
union_app = typer.Typer(help="Regional urban-union feasibility (paper 000).", no_args_is_help=True)

CountryOpt = Annotated[str | None, typer.Option("--country", help="ISO 3166-1 alpha-2 code to disambiguate CITY.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _status(message: str, enabled: bool = True) -> Any:
    """A spinner on stderr (stdout stays clean for ``--json``)."""
    from contextlib import nullcontext

    return err_console.status(message) if enabled else nullcontext()


@recommend_app.command("partners")
def partners_command(
    city: Annotated[str, typer.Argument(help="The city to find partners for.")],
    country: CountryOpt = None,
    partner_country: Annotated[
        str | None, typer.Option("--partner-country", "--in", help="Only propose partners in this country (ISO code).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Number of candidates.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the model's training.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Ranked candidate sister cities for CITY, each with a calibrated score and its reasons.

    Examples:

        citydip recommend partners Tehran --country IR --top 10

        citydip recommend partners Tehran --in TR --json
    """
    from citydiplomacy.store.db import DatabaseUnavailable, get_engine
    from citydiplomacy.strategy.recommend_partners import RecommendError, recommend_partners

    try:
        with _status("Reading the stored partner model (or training one: minutes)…", not as_json):
            result = recommend_partners(
                city, country=country, partner_country=partner_country, top=top, seed=seed, engine=get_engine()
            )
    except (RecommendError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
        return
    c = result["city"]
    console.print(
        f"[bold]{c['name']}[/bold] ({c['country_code'] or '?'}): {c['ties']} tie(s) in "
        f"{len(c['partner_countries'])} countries — method: {result['method']}"
    )
    for note in result["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")
    table = Table(title="Candidate partners (lift: times likelier to be tied than a typical pair)")
    for col in ("#", "candidate", "country", "lift", "km", "reasons"):
        table.add_column(col, overflow="fold")
    for i, cand in enumerate(result["candidates"], 1):
        km = "—" if cand["distance_km"] is None else f"{cand['distance_km']:,.0f}"
        lift = "—" if cand["lift"] is None else f"{cand['lift']:,.1f}×"
        table.add_row(str(i), cand["name"], cand["country_code"], lift, km, "; ".join(cand["reasons"]) or "—")
    console.print(table)


@evaluate_app.command("link-prediction")
def link_prediction_command(
    holdout: Annotated[float, typer.Option("--holdout", help="Share of ties hidden, in (0, 0.5].")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 0,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Inner hold-out rounds for training.")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Hide a share of the real ties, train on the rest; ROC AUC, AP and precision@10 vs baselines.

    Example:

        citydip evaluate link-prediction --holdout 0.1 --seed 0
    """
    from citydiplomacy.store.db import DatabaseUnavailable, get_engine
    from citydiplomacy.strategy.data import load_registry_graph
    from citydiplomacy.strategy.linkpred import LinkPredictionError, check_holdout, evaluate_link_prediction

    try:
        check_holdout(holdout)
        with _status("Hiding ties, training and scoring…", not as_json):
            graph = load_registry_graph(get_engine())
            report = evaluate_link_prediction(graph, holdout=holdout, seed=seed, inner_rounds=rounds)
    except (LinkPredictionError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(report)
        return
    n = report["counts"]
    console.print(
        f"{n['ties']:,} ties among {n['places_with_ties']:,} places; hidden {n['test_positives']:,} "
        f"(+{n['test_negatives']:,} non-ties), trained on {n['train_ties']:,}; seed {seed}"
    )
    table = Table(title="Link prediction on held-out ties")
    for col in ("scorer", "ROC AUC", "avg precision", "precision@10", "hits@10"):
        table.add_column(col, justify="right" if col != "scorer" else "left")
    rows = [("model (calibrated gradient boosting)", report["model"])] + list(report["baselines"].items())
    for name, m in rows:
        table.add_row(
            name,
            f"{m['roc_auc']:.4f}",
            f"{m['average_precision']:.4f}",
            f"{m['precision_at_10']:.4f}",
            f"{m['hits_at_10']:.4f}",
        )
    console.print(table)
    margin = report["margin_auc"]
    colour = "green" if margin > 0 else "red"
    console.print(
        f"margin over the best baseline ({report['best_baseline']}): [{colour}]{margin:+.4f}[/] AUC; "
        f"Brier {report['model']['brier']:.4f}; {report['seconds']:.1f} s"
    )
    console.print(
        "precision@10: held-out partners in a city's top 10 among them + 100 random non-partners, / 10; "
        "hits@10 divides by min(10, held-out partners).",
        style="dim",
    )


@recommend_app.command("networks")
def networks_command(
    city: Annotated[str, typer.Argument(help="The city that would join.")],
    country: CountryOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Number of organisations.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """City networks and bodies CITY should join: partners' and peers' memberships, scope, reach, themes.

    Example:

        citydip recommend networks Tehran --country IR
    """
    from citydiplomacy.store.db import DatabaseUnavailable, get_engine
    from citydiplomacy.strategy.recommend_networks import recommend_networks
    from citydiplomacy.strategy.recommend_partners import RecommendError

    try:
        result = recommend_networks(city, country=country, top=top, engine=get_engine())
    except (RecommendError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
        return
    c = result["city"]
    console.print(
        f"[bold]{c['name']}[/bold] ({c['country_code'] or '?'}) — member of: "
        f"{', '.join(result['current']) or 'nothing recorded'}"
    )
    table = Table(
        title="Organisations to join (score 0-1: " + ", ".join(f"{k} {w:g}" for k, w in result["weights"].items()) + ")"
    )
    for col in ("#", "organisation", "kind", "score", "reasons"):
        table.add_column(col, overflow="fold")
    for i, rec in enumerate(result["recommendations"], 1):
        table.add_row(str(i), rec["organisation"], rec["kind"], f"{rec['score']:.3f}", "; ".join(rec["reasons"]))
    console.print(table)
    for rec in result["ineligible"]:
        console.print(f"[dim]not eligible: {rec['organisation']} — {rec['reason']}[/dim]")


@recommend_app.command("members")
def members_command(
    organisation: Annotated[str, typer.Argument(help="The organisation (name or acronym) that recruits.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Number of places.")] = 20,
    country: Annotated[str | None, typer.Option("--in", help="Only places of this country (ISO code).")] = None,
    window: Annotated[int, typer.Option("--window", min=1, help="Years of joins the model learns from.")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Places most likely to join ORGANISATION next, for its secretariat, with reasons and a calibrated lift.

    The model (fitted on the latest window of dated joins) is stored with the registry's data version and
    reused until the data changes.  The score reads "N× a typical candidate": the probability of joining
    within the window over the base rate.

    Examples:

        citydip recommend members GCoM --top 20

        citydip recommend members GCoM --in IT --json
    """
    from citydiplomacy.store.db import DatabaseUnavailable, get_engine
    from citydiplomacy.strategy.membership import MembershipError, recommend_members

    try:
        with _status("Reading memberships and scoring candidates…", not as_json):
            result = recommend_members(organisation, top=top, country=country, window=window, engine=get_engine())
    except (MembershipError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
        return
    m = result["model"]
    console.print(
        f"[bold]{result['organisation']['label']}[/bold]: {result['members']:,} members, {result['candidates']:,} "
        f"candidates; model {'reused' if m['reused'] else 'fitted and stored'} (joins "
        f"{m['trained']['state_year']}–{m['trained']['until_year']}, base rate {result['base_rate']:.2%} in "
        f"{result['window']} years)",
        highlight=False,
    )
    table = Table(title="Places to approach (lift: times likelier to join than a typical candidate)")
    for col in ("#", "place", "country", "lift", "reasons"):
        table.add_column(col, overflow="fold")
    for i, rec in enumerate(result["recommendations"], 1):
        lift = "—" if rec["lift"] is None else f"{rec['lift']:,.1f}×"
        table.add_row(str(i), rec["name"], rec["country_code"], lift, "; ".join(rec["reasons"]))
    console.print(table)


@union_app.command("assess")
def union_assess_command(
    countries: Annotated[
        str | None, typer.Option("--countries", help="Comma-separated ISO codes, e.g. IR,IQ,TR.")
    ] = None,
    around: Annotated[str | None, typer.Option("--around", help="A city at the centre of the region.")] = None,
    km: Annotated[float | None, typer.Option("--km", help="Radius around --around, in km.")] = None,
    bbox: Annotated[str | None, typer.Option("--bbox", help="min_lat,min_lng,max_lat,max_lng in degrees.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Country of --around (to disambiguate).")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Secretariat candidates listed.")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Feasibility of an urban union of a region's cities: cohesion, founding core, secretariat hosts.

    Examples:

        citydip union assess --countries IR,IQ,TR,AF,PK

        citydip union assess --around Tehran --country IR --km 1500
    """
    from citydiplomacy.store.db import DatabaseUnavailable, get_engine
    from citydiplomacy.strategy.union import Region, UnionError, assess_union, parse_bbox

    try:
        given = sum(x is not None for x in (countries, around, bbox))
        if given != 1:
            raise UnionError("give exactly one region: --countries, --around CITY --km N, or --bbox")
        if countries is not None:
            codes = tuple(dict.fromkeys(c.strip().upper() for c in countries.split(",") if c.strip()))
            region = Region(countries=codes)
        elif around is not None:
            if km is None:
                raise UnionError("--around needs --km")
            region = Region(around=(around, country, km))
        else:
            region = Region(bbox=parse_bbox(bbox or ""))
        result = assess_union(region, engine=get_engine(), top=top)
    except (UnionError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
        return
    console.print(
        f"[bold]Urban union of {result['region']}[/bold]: {result['cities']:,} cities in "
        f"{len(result['countries'])} countries, {result['ties']['internal']:,} ties inside "
        f"(density {result['ties']['density']:.4g})"
    )
    console.print(f"feasibility [bold]{result['feasibility']:.1f}[/bold] / 100")
    comp = Table(title="Components (0-1)")
    for col in ("component", "value", "weight"):
        comp.add_column(col)
    for k, v in result["components"].items():
        comp.add_row(k, "—" if v is None else f"{v:.3f}", f"{result['weights'][k]:g}")
    console.print(comp)
    core = result["founding_core"]
    console.print(
        f"founding core ({core['method']}, {core['size']} cities): "
        + ", ".join(f"{m['name']} ({m['country_code']})" for m in core["members"][:15])
    )
    hosts = Table(title="Secretariat candidates")
    for col in ("#", "city", "country", "score", "reasons"):
        hosts.add_column(col, overflow="fold")
    for i, h in enumerate(result["secretariat"], 1):
        hosts.add_row(str(i), h["name"], h["country_code"], f"{h['score']:.3f}", "; ".join(h["reasons"]))
    console.print(hosts)
    for note in result["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")


def swot_command(
    city: Annotated[str, typer.Argument(help="The city whose SWOT is built.")],
    country: CountryOpt = None,
    peers: Annotated[str | None, typer.Option("--peers", help="Comma-separated peer cities (Name or Name:CC).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the workbench to FILE (.json, .md or .html).")
    ] = None,
    add: Annotated[list[str] | None, typer.Option("--add", help="Store a user item KIND=TEXT (repeatable).")] = None,
    weights: Annotated[
        Path | None, typer.Option("--weights", help="JSON: item code -> weight or {weight, rating}.")
    ] = None,
    catalogue: Annotated[
        bool | None,
        typer.Option("--catalogue/--no-catalogue", help="Include paper 003's lists (default: Tehran only)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """SWOT workbench of CITY: items, IFE/EFE matrices, SO/ST/WO/WT grid, linked recommendations.

    Examples:

        citydip swot Tehran --peers Istanbul:TR,Baghdad:IQ --out swot.html

        citydip swot Tehran --add "opportunity=A new direct flight to Almaty"
    """
    from citydiplomacy.ingest.tabular import InputError, read_json
    from citydiplomacy.store.db import DatabaseUnavailable, get_engine
    from citydiplomacy.strategy.swot import SwotError, add_items, build_swot, render_markdown, write_swot

    try:
        if out is not None and out.suffix.lower() not in {".json", ".md", ".markdown", ".html", ".htm"}:
            raise SwotError(f"unknown output format {out.suffix or '(none)'}: use .json, .md or .html")
        weight_map = None
        if weights is not None:
            try:
                weight_map = read_json(weights)  # bounded: size and nesting checked before parsing
            except InputError as exc:
                raise SwotError(f"cannot read weights from {exc}") from exc
        peer_list = [p.strip() for p in peers.split(",") if p.strip()] if peers else None
        pairs = []
        for spec in add or []:
            kind, sep, text = spec.partition("=")
            if not sep:
                raise SwotError(f"--add takes KIND=TEXT, got {spec!r}")
            pairs.append((kind, text))
        # Build (and so validate) the whole workbench with the new items before storing any of them.
        result = build_swot(
            city,
            country=country,
            peers=peer_list,
            weights=weight_map,
            use_catalogue=catalogue,
            pending=pairs,
            engine=get_engine(),
        )
        if pairs:
            add_items(city, pairs, country=country, engine=get_engine())
        if out is not None:
            write_swot(result, out)
    except (SwotError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
    elif out is not None:
        console.print(f"wrote {out}")
    else:
        console.print(render_markdown(result), markup=False, highlight=False)


# ``evaluate networks`` lives beside ``evaluate partners`` (cli/evaluate.py) on the group defined here.
from citydiplomacy.cli.evaluate import evaluate_networks_command  # noqa: E402

evaluate_app.command("networks")(evaluate_networks_command)
