"""The ``citydip`` command: a thin layer over the library, one sub-command group per capability.

Each capability module owns its commands (``<capability>/commands.py``); this module only wires them
together and holds the few commands that span capabilities (``demo``, ``stats``, ``init``).
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="citydip",
    help="CityDiplomacy Observatory: registry, assessment and network analytics of city diplomacy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# --- capability command groups (one line each; keep this block sorted) -------------------------
from citydiplomacy.assess.assess_commands import assess_command  # noqa: E402

app.command("assess")(assess_command)
from citydiplomacy.assess.commands import index_app  # noqa: E402

app.add_typer(index_app, name="index")
from citydiplomacy.ingest.commands import import_app, template_command  # noqa: E402
from citydiplomacy.model.commands import model_app  # noqa: E402
from citydiplomacy.store.commands import city_app, db_app, export_command, stats_command  # noqa: E402

app.add_typer(city_app, name="city")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(model_app, name="model")
from citydiplomacy.network.commands import network_app  # noqa: E402

app.add_typer(network_app, name="network")
app.command("export")(export_command)
app.command("stats")(stats_command)
app.command("template")(template_command)
from citydiplomacy.report.commands import report_command  # noqa: E402

app.command("report")(report_command)
from citydiplomacy.web.commands import serve_command, user_app  # noqa: E402

app.command("serve")(serve_command)
app.add_typer(user_app, name="user")
from citydiplomacy.strategy.commands import evaluate_app, recommend_app, swot_command, union_app  # noqa: E402

app.add_typer(evaluate_app, name="evaluate")
app.add_typer(recommend_app, name="recommend")
app.add_typer(union_app, name="union")
app.command("swot")(swot_command)
# --- end of capability command groups ----------------------------------------------------------


@app.command("demo")
def demo(
    city: Annotated[str, typer.Option(help="Whose profile to print at the end")] = "Tehran",
    country: Annotated[str, typer.Option(help="Its country")] = "IR",
) -> None:
    """Set up the embedded default and run the main job on the bundled case study.

    Creates (or upgrades) the database named by CITYDIP_DATABASE_URL (default: citydip.db here), loads
    the five-level model and the Tehran case study built from the seed papers, and prints the profile.
    Running it again changes nothing.
    """
    from citydiplomacy.console import console, fail
    from citydiplomacy.ingest.casestudy import load_case_study
    from citydiplomacy.ingest.model_release import record_model_release
    from citydiplomacy.store import db
    from citydiplomacy.store.commands import city_show

    try:
        with console.status("Creating the registry and loading the gazetteer…"):
            db.upgrade()
            version, _new = record_model_release()
            summary = load_case_study()
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    console.print(f"[green]registry[/] {db.get_engine().url.render_as_string(hide_password=True)}")
    console.print(f"[green]model[/] version {version}")
    created = ", ".join(f"{n} {k}" for k, n in summary.created.items() if n) or "nothing new"
    console.print(f"[green]case study[/] created: {created}", highlight=False)
    city_show(city, country=country, as_json=False)


def main() -> None:
    """Entry point used by ``python -m citydiplomacy``."""
    app()


if __name__ == "__main__":
    main()
