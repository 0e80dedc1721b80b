"""``citydip serve`` and ``citydip user add``: run the web application, manage its users."""

from __future__ import annotations

from typing import Annotated

import typer

user_app = typer.Typer(help="Users of the web application (viewer, editor, admin).", no_args_is_help=True)


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    database: Annotated[str | None, typer.Option(help="Database URL (default: CITYDIP_DATABASE_URL)")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (needs CITYDIP_SECRET_KEY when > 1)")] = 1,
) -> None:
    """Serve the REST API (/api, OpenAPI at /api/openapi.json) and the dashboard.

    Examples:

        citydip serve

        citydip serve --host 0.0.0.0 --port 8080
    """
    import os

    import uvicorn

    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.store import db
    from citydiplomacy.web.app import create_app

    try:
        engine = db.get_engine(database)
        if not db.is_initialised(engine):
            db.upgrade(engine)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    url = engine.url.render_as_string(hide_password=True)
    console.print(f"[green]serving[/] {url} on http://{host}:{port}/  (API docs: /api/docs)")
    if workers > 1:
        if not os.environ.get("CITYDIP_SECRET_KEY"):
            fail("several workers need a shared CITYDIP_SECRET_KEY to accept each other's sessions", code=2)
        if database:
            os.environ["CITYDIP_DATABASE_URL"] = database
        uvicorn.run("citydiplomacy.web.app:create_app", factory=True, host=host, port=port, workers=workers)
    else:
        uvicorn.run(create_app(database), host=host, port=port)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin")] = "viewer",
    password: Annotated[
        str | None,
        typer.Option(help="Password (asked for when omitted; or CITYDIP_PASSWORD)", envvar="CITYDIP_PASSWORD"),
    ] = None,
    database: Annotated[str | None, typer.Option(help="Database URL (default: CITYDIP_DATABASE_URL)")] = None,
) -> None:
    """Add a user, or reset an existing user's password and role.

    Examples:

        citydip user add admin --role admin

        citydip user add ali --role editor
    """
    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.store import db
    from citydiplomacy.web.auth import create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        engine = db.get_engine(database)
        with db.session_scope(engine) as session:
            user = create_user(session, username, password, role)
            console.print(f"[green]user[/] {user.username} ({user.role})")
    except ValueError as exc:
        fail(str(exc), code=2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
