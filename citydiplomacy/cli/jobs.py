"""``citydip jobs``: list, run and work the jobs the dashboard starts (network metrics, the assessment)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from citydiplomacy.cli.console import console, err_console, fail, print_json
from citydiplomacy.core.errors import CityDipError

jobs_app = typer.Typer(
    help="Jobs: network metrics and the assessment, one at a time, recorded with their progress.",
    no_args_is_help=True,
)


def _parameters(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--set takes key=value, not {pair!r}", code=2)
        out[key.strip()] = value.strip()
    return out


@jobs_app.command("list")
def list_command(
    limit: Annotated[int, typer.Option(help="How many, the newest first")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """The newest jobs: kind, state, progress, who asked, when, and the error of a failed one.

    Example:

        citydip jobs list --limit 5
    """
    from citydiplomacy.store import db
    from citydiplomacy.store import jobs as queue

    try:
        rows = queue.list_jobs(db.get_engine(), limit=limit)
    except CityDipError as exc:
        fail(str(exc), code=exc.exit_code)
    if as_json:
        print_json(rows)
        return
    table = Table(title="Jobs")
    for col in ("id", "kind", "state", "progress", "stage", "by", "created", "error"):
        table.add_column(col)
    for j in rows:
        table.add_row(
            str(j["id"]), j["kind"], j["state"], f"{100 * (j['progress'] or 0):.0f}%", j["stage"] or "",
            j["created_by"], (j["created_at"] or "")[:19], (j["error"] or "")[:80],
        )  # fmt: skip
    console.print(table)


@jobs_app.command("run")
def run_command(
    kind: Annotated[str, typer.Argument(help="network, assessment, membership_model or partner_model")],
    settings: Annotated[
        list[str] | None, typer.Option("--set", help="A job parameter as key=value (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The finished job as JSON on stdout")] = False,
) -> None:
    """Queue a job and run it now in this process, with a progress bar; one job runs at a time.

    Parameters of ``network``: graph (bilateral, membership, combined), year, year_from, year_to, regions.
    Parameters of ``assessment``: weights, normalise, aggregate, missing, year, zero_policy, min_coverage,
    uncertainty_samples, uncertainty_seed.  The assessment first computes the network run it needs when
    none matches the registry's current data.  Parameters of ``membership_model``: organisation (required),
    window, reach_km; it refits the model `citydip recommend members` reads, when the data changed.
    Parameters of ``partner_model``: seed, inner_rounds; it refits the model `citydip recommend partners`
    reads, when the data changed.

    Examples:

        citydip jobs run network

        citydip jobs run assessment --set uncertainty_samples=500

        citydip jobs run membership_model --set organisation=GCoM

        citydip jobs run partner_model
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from citydiplomacy import settings as config
    from citydiplomacy.jobs import run_job, submit
    from citydiplomacy.store import db

    engine = db.get_engine()
    try:
        if not db.is_initialised(engine):
            fail("the registry is empty: run `citydip db upgrade` or `citydip demo` first", code=2)
        job = submit(engine, kind, _parameters(settings), actor=config.DEFAULT_ACTOR)
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console
        ) as bars:  # fmt: skip
            task = bars.add_task(f"job {job['id']} {kind}", total=1.0)

            def show(stage: str, fraction: float) -> None:
                bars.update(task, completed=fraction, description=f"job {job['id']} {kind}: {stage}")

            done = run_job(engine, job["id"], progress=show)
    except CityDipError as exc:
        fail(str(exc), code=exc.exit_code)
    if as_json:
        print_json(done)
    elif done["state"] == "done":
        console.print(f"[green]job {done['id']} done[/]: {json.dumps(done['result'], ensure_ascii=False)}")
    if done["state"] != "done":
        fail(f"job {done['id']} failed: {done['error']}", code=1)


@jobs_app.command("work")
def work_command() -> None:
    """Run the queued jobs (oldest first) until none is left, e.g. from a scheduler on a shared deployment.

    Example:

        citydip jobs work
    """
    from citydiplomacy.jobs import run_job
    from citydiplomacy.store import db
    from citydiplomacy.store import jobs as queue

    engine = db.get_engine()
    ran = 0
    try:
        for job in reversed(queue.list_jobs(engine, limit=1000, state="queued")):
            done = run_job(engine, job["id"])
            ran += 1
            console.print(f"job {done['id']} {done['kind']}: {done['state']} {done['error'] or ''}")
    except CityDipError as exc:
        fail(str(exc), code=exc.exit_code)
    console.print(f"{ran} job(s) run")
