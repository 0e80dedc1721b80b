"""The ``citydip`` command: a thin layer over the library, one sub-command group per capability.

Each capability's commands live in a module of this package (``cli/<capability>.py``); this module only wires
them together and holds ``demo``, which spans capabilities.  Command modules import the library inside each
command, so that ``citydip --help`` loads no pandas, SciPy or SQLAlchemy (tests/test_cli_docs.py checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="citydip",
    help="CityDiplomacy Observatory: registry, assessment and network analytics of city diplomacy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# --- capability command groups (one line each; keep this block sorted) -------------------------
from citydiplomacy.cli.agreements import agreement_app  # noqa: E402
from citydiplomacy.cli.assess import assess_command  # noqa: E402
from citydiplomacy.cli.evaluate import evaluate_partners_command  # noqa: E402
from citydiplomacy.cli.imports import import_app, template_command  # noqa: E402
from citydiplomacy.cli.index import index_app  # noqa: E402
from citydiplomacy.cli.jobs import jobs_app  # noqa: E402
from citydiplomacy.cli.model import model_app  # noqa: E402
from citydiplomacy.cli.network import network_app  # noqa: E402
from citydiplomacy.cli.people import person_app  # noqa: E402
from citydiplomacy.cli.registry import city_app, db_app, export_command, stats_command  # noqa: E402
from citydiplomacy.cli.report import report_app  # noqa: E402
from citydiplomacy.cli.review import review_app  # noqa: E402
from citydiplomacy.cli.strategy import evaluate_app, recommend_app, swot_command, union_app  # noqa: E402
from citydiplomacy.cli.web import serve_command, user_app  # noqa: E402
from citydiplomacy.cli.workbook import workbook_app  # noqa: E402

app.add_typer(agreement_app, name="agreement")
app.add_typer(city_app, name="city")
app.add_typer(db_app, name="db")
app.add_typer(evaluate_app, name="evaluate")
evaluate_app.command("partners")(evaluate_partners_command)
app.add_typer(import_app, name="import")
app.add_typer(index_app, name="index")
app.add_typer(jobs_app, name="jobs")
app.add_typer(model_app, name="model")
app.add_typer(network_app, name="network")
app.add_typer(person_app, name="person")
app.add_typer(recommend_app, name="recommend")
app.add_typer(report_app, name="report")
app.add_typer(review_app, name="review")
app.add_typer(union_app, name="union")
app.add_typer(user_app, name="user")
app.add_typer(workbook_app, name="workbook")
app.command("assess")(assess_command)
app.command("export")(export_command)
app.command("serve")(serve_command)
app.command("stats")(stats_command)
app.command("swot")(swot_command)
app.command("template")(template_command)
# --- end of capability command groups ----------------------------------------------------------


@app.command("demo")
def demo(
    city: Annotated[str, typer.Option(help="Whose profile to print at the end")] = "Tehran",
    country: Annotated[str, typer.Option(help="Its country")] = "IR",
    report: Annotated[Path, typer.Option(help="Where the city report (HTML) is written")] = Path("citydip-report.html"),
    samples: Annotated[int, typer.Option(help="Monte Carlo index builds for the rank intervals")] = 1000,
) -> None:
    """Set up the embedded default and run the main job on the bundled case study.

    Creates (or upgrades) the database named by CITYDIP_DATABASE_URL (default: citydip.db here), loads the
    five-level model and the Tehran case study built from the seed papers, analyses the bilateral network,
    assesses every place (indicators incl. network ones, City Diplomacy Index with rank intervals), writes
    the city report and prints the profile.  Loading again changes nothing; each run adds one assessment
    and one network run.

    Examples:

        citydip demo

        citydip demo --city Tehran --country IR --report tehran.html --samples 200
    """
    from citydiplomacy.assess.registry_index import AssessmentChoices, assess
    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.cli.registry import city_show
    from citydiplomacy.ingest.casestudy import load_case_study
    from citydiplomacy.ingest.model_release import record_model_release
    from citydiplomacy.network.analysis import analyse
    from citydiplomacy.report.city_report import write_report
    from citydiplomacy.store import db

    try:
        with console.status("Creating the registry and loading the gazetteer…"):
            db.upgrade()
            version, _new = record_model_release()
            summary = load_case_study()
        console.print(f"[green]registry[/] {db.get_engine().url.render_as_string(hide_password=True)}")
        console.print(f"[green]model[/] version {version}")
        created = ", ".join(f"{n} {k}" for k, n in summary.created.items() if n) or "nothing new"
        console.print(f"[green]case study[/] created: {created}", highlight=False)
        with console.status("Analysing the bilateral network…"), db.session_scope() as session:
            network = analyse(session, "bilateral")
        console.print(f"[green]network[/] run {network.run_id}", highlight=False)
        status = console.status("Assessing every place (32 indicators, City Diplomacy Index, rank intervals)…")
        with status, db.session_scope() as session:
            result = assess(session, None, AssessmentChoices(uncertainty_samples=samples))
        console.print(f"[green]assessment[/] run {result.run_id}: {int(result.scores['CDI'].notna().sum())} places")
        with console.status("Writing the city report…"):
            written = write_report(None, city, country, lang="en", fmt="html", out=report)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    city_show(city, country=country, as_json=False)
    console.print(f"\n[bold]Report:[/] {written.resolve()}  (Persian: citydip report {city} --lang fa --out …)")
    console.print("[bold]Dashboard and API:[/] citydip serve  →  http://127.0.0.1:8000/  (API docs at /api/docs)")


def main() -> None:
    """Entry point used by ``python -m citydiplomacy``."""
    app()


if __name__ == "__main__":
    main()
