"""``citydip evaluate partners``: the partner recommender against ties it never saw, beside the field's baselines.

A thin layer over :func:`citydiplomacy.strategy.evaluate.evaluate_partners_file`; registered on the
``evaluate`` group in :mod:`citydiplomacy.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from citydiplomacy import settings
from citydiplomacy.cli.console import console, err_console, fail, print_json

__all__ = ["evaluate_networks_command", "evaluate_partners_command"]

#: Methods as the table names them.
LABELS = {
    "model": "model (calibrated gradient boosting)",
    "preferential_attachment": "preferential attachment",
    "adamic_adar": "Adamic–Adar",
    "gravity": "gravity (pop × pop / km²)",
    "country_pair": "country-pair prior",
}


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.4f}"


def evaluate_partners_command(
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Truth pairs: CSV/XLSX city1,country1,city2,country2[,year].")
    ] = None,
    before: Annotated[
        int | None, typer.Option("--before", help="Temporal split: train on ties dated before YEAR, truth = the rest.")
    ] = None,
    max_cities: Annotated[
        int, typer.Option("--max-cities", min=1, help="Truth cities evaluated (a seeded sample when more).")
    ] = settings.EVALUATE_MAX_CITIES,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the model, the city sample and tie-breaking.")] = 0,
    by_continent: Annotated[bool, typer.Option("--by-continent", help="Also print one table per continent.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per method).")] = False,
) -> None:
    """Rank every eligible place for each truth city; hits@10/50, MRR, ROC/PR AUC for the model and baselines.

    Truth pairs present in the registry are removed from the training graph first; unknown places and
    same-place pairs in the truth file are counted and reported.  Nothing is written to the registry.

    Examples:

        citydip evaluate partners --truth later_ties.csv

        citydip evaluate partners --before 2010 --max-cities 300 --json
    """
    from citydiplomacy.ingest.tabular import InputError
    from citydiplomacy.store.db import DatabaseUnavailable
    from citydiplomacy.strategy.evaluate import EvaluationError, evaluate_partners_file

    try:
        if as_json:
            report = evaluate_partners_file(truth, before=before, max_cities=max_cities, seed=seed)
        else:
            with err_console.status("Resolving the truth, training without it and ranking every place…"):
                report = evaluate_partners_file(truth, before=before, max_cities=max_cities, seed=seed)
    except (EvaluationError, InputError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(report)
        return
    t, c = report["truth"], report["counts"]
    console.print(
        f"truth: {t['source']} — {t['rows']:,} rows, {t['pairs']:,} pairs; {t['unknown_rows']:,} rows with a place "
        f"not in the registry ({t['unknown_places']:,} places), {t['same_place']:,} same-place, "
        f"{t['repeated']:,} repeated",
        highlight=False,
    )
    for line in t["examples"][:5]:
        console.print(f"[yellow]skipped:[/yellow] {line}", highlight=False)
    console.print(
        f"trained on {c['training_ties']:,} of {c['registry_ties']:,} ties "
        f"({c['truth_pairs_removed_from_training']:,} truth pairs removed); ranked {c['places']:,} places for "
        f"{c['evaluated_cities']:,} of {c['truth_cities']:,} truth cities ({c['queries']:,} queries)",
        highlight=False,
    )
    _table("Partners found among every eligible place", report["methods"])
    if by_continent:
        continents = sorted({k for m in report["methods"].values() for k in m["by_continent"]})
        for cont in continents:
            rows = {name: m["by_continent"][cont] for name, m in report["methods"].items() if cont in m["by_continent"]}
            _table(f"Continent {cont}", rows)
    ratio = report["hits_at_10_ratio"]
    best = report["best_baseline"]
    if ratio is None:
        console.print(f"best baseline ({LABELS[best]}) finds no partner in the top 10", highlight=False)
    else:
        colour = "green" if ratio >= 1.2 else ("yellow" if ratio >= 1.0 else "red")
        console.print(
            f"model hits@10 / best baseline's ({LABELS[best]}): [{colour}]{ratio:.2f}×[/]; {report['seconds']:.0f} s",
            highlight=False,
        )


def _table(title: str, methods: dict[str, dict[str, Any]]) -> None:
    table = Table(title=title)
    for col in ("method", "hits@10", "hits@50", "MRR", "ROC AUC", "PR AUC", "queries"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, m in methods.items():
        table.add_row(
            LABELS.get(name, name), _fmt(m["hits_at_10"]), _fmt(m["hits_at_50"]), _fmt(m["mrr"]),
            _fmt(m["roc_auc"]), _fmt(m["pr_auc"]), f"{m['queries']:,}",
        )  # fmt: skip
    console.print(table)


#: Network methods as the table names them.
NETWORK_LABELS = {
    "model": "model",
    "population": "population",
    "country_share": "country share",
    "members_within_reach": "within reach",
}


def evaluate_networks_command(
    before: Annotated[int, typer.Option("--before", help="Split year: predict who joins from YEAR on.")],
    organisation: Annotated[
        str, typer.Option("--organisation", "--org", help="Organisation (name or acronym) with dated memberships.")
    ] = "GCoM",
    window: Annotated[int, typer.Option("--window", min=1, help="Years of the training window before YEAR.")] = 3,
    reach_km: Annotated[
        float, typer.Option("--reach-km", min=1.0, help="Radius of 'members within reach', km.")
    ] = 50.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the model and the tie-breaking.")] = 0,
    all_places: Annotated[
        bool, typer.Option("--all-places", help="Also places known only from the organisation's own list.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per method).")] = False,
) -> None:
    """Rank the places that were not members before YEAR by how likely they are to join; score against who did.

    The model is fitted on joins in [YEAR - window, YEAR) from the state at YEAR - window, and every feature
    reads only what was known before YEAR; baselines: population, share of the country's places that are
    members, members within reach.  Candidates are the places the registry knows apart from the organisation's
    own list (a tie, another membership) unless --all-places.  Nothing is written to the registry.

    Examples:

        citydip evaluate networks --before 2015

        citydip evaluate networks --before 2015 --organisation GCoM --window 4 --json
    """
    from citydiplomacy.store.db import DatabaseUnavailable
    from citydiplomacy.strategy.membership import MembershipError, evaluate_networks_registry

    try:
        with err_console.status("Rebuilding the registry as of the split year, fitting and ranking…"):
            report = evaluate_networks_registry(
                before, organisation=organisation, window=window, reach_km=reach_km, seed=seed, all_places=all_places
            )
    except (MembershipError, DatabaseUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print_json(report)
        return
    c, tr = report["counts"], report["counts"]["training"]
    console.print(
        f"{report['organisation']['label']}: {c['dated_members']:,} dated members ({c['dated_joins_span'][0]}–"
        f"{c['dated_joins_span'][1]}), {c['undated_members']:,} undated; before {before}: {c['members_before']:,} "
        f"members, {c['candidates']:,} candidates ({c['ineligible']:,} places ineligible, "
        f"{c['known_only_from_the_organisation']:,} known only from its list), "
        f"{c['joiners']:,} joined from {before} on",
        highlight=False,
    )
    console.print(
        f"model fitted on {tr['joins']:,} joins in {tr['state_year']}–{tr['until_year']} among "
        f"{tr['candidates']:,} candidates of {tr['state_year']}",
        highlight=False,
    )
    table = Table(title=f"Who joins {report['organisation']['label']} from {before} on")
    cols = ("method", "hits@10", "hits@50", "hits@100", "MRR", "ROC AUC", "PR AUC", "P@100")
    for col in cols:
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, m in report["methods"].items():
        table.add_row(
            NETWORK_LABELS.get(name, name), _fmt(m["hits_at_10"]), _fmt(m["hits_at_50"]), _fmt(m["hits_at_100"]),
            _fmt(m["mrr"]), _fmt(m["roc_auc"]), _fmt(m["pr_auc"]), _fmt(m["precision_at_100"]),
        )  # fmt: skip
    console.print(table)
    console.print(
        "model: logistic regression on percentile ranks; country share: share of the country's places that are "
        "members; within reach: members within the radius.  hits@k: share of joiners ranked above all but k-1 "
        "non-joiners (filtered); P@100: share of the top 100 that joined.  Best baseline: "
        f"{NETWORK_LABELS[report['best_baseline']]}; {report['seconds']:.1f} s",
        style="dim",
        highlight=False,
    )
