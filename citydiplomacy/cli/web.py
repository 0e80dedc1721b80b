"""``citydip serve`` and ``citydip user ...``: run the web application, manage its users and their sessions.

The commands are thin: the work is done by :mod:`citydiplomacy.web.auth` (users, ending sessions),
:mod:`citydiplomacy.web.sessions` (listing them), :mod:`citydiplomacy.web.app` (the application) and
:mod:`citydiplomacy.web.serving` (uvicorn, one or several workers).
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

user_app = typer.Typer(
    help="Users of the web application (viewer, editor, admin).\n\nExample:\n\n    citydip user add ana --role editor",
    no_args_is_help=True,
)


class LogLevel(enum.StrEnum):
    """uvicorn's log levels, as ``--log-level`` takes them."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


DatabaseOption = Annotated[str | None, typer.Option(help="Database URL (default: CITYDIP_DATABASE_URL)")]


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    database: DatabaseOption = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (they share sessions)")] = 1,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (behind HTTPS; or CITYDIP_SECURE_COOKIES=1)")
    ] = False,
    log_level: Annotated[LogLevel, typer.Option(help="Server log level")] = LogLevel.info,
    access_log: Annotated[bool, typer.Option(help="Log every request (one line each)")] = True,
) -> None:
    """Serve the REST API (/api, OpenAPI at /api/openapi.json) and the dashboard.

    Sessions, login throttle and secret key live in the database: several workers and restarts share them.

    Example:

        citydip serve --port 8000 --workers 4 --secure-cookies
    """
    import os

    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.store import db
    from citydiplomacy.web import serving, sessions

    try:
        engine = db.get_engine(database)
        if not db.is_initialised(engine):
            db.upgrade(engine)
        # Make the secret key now, once, rather than in several workers racing on first start.
        if not os.environ.get("CITYDIP_SECRET_KEY"):
            sessions.stored_secret_key(engine)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    url = engine.url.render_as_string(hide_password=True)
    console.print(f"[green]serving[/] {url} on http://{host}:{port}/  (API docs: /api/docs; {workers} worker(s))")
    # Every worker builds its application from the environment (an import string and a factory).
    os.environ["CITYDIP_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    if secure_cookies:
        os.environ["CITYDIP_SECURE_COOKIES"] = "1"
    os.environ.setdefault("CITYDIP_WEB_WARM", "1")  # the first pages computed at start, not on first request
    engine.dispose()  # workers open their own connections
    serving.serve(host=host, port=port, workers=workers, log_level=log_level.value, access_log=access_log)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin")] = "viewer",
    password: Annotated[
        str | None,
        typer.Option(help="Password (asked for when omitted; or CITYDIP_PASSWORD)", envvar="CITYDIP_PASSWORD"),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Add a user, or reset an existing user's password and role (ends their sessions, enables them again).

    Example:

        citydip user add ana --role editor
    """
    from citydiplomacy.web.auth import create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    pw = password
    _run(database, lambda s: f"user {create_user(s, username, pw, role).username} ({role})")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="User name")],
    database: DatabaseOption = None,
) -> None:
    """Disable a user: no more logins, and every session of theirs ends at once.

    ``citydip user add NAME`` enables them again (with a new password).

    Example:

        citydip user disable ana
    """
    from citydiplomacy.web.auth import disable_user

    _run(database, lambda s: f"user {disable_user(s, username).username} disabled; their sessions ended")


@user_app.command("delete")
def user_delete(
    username: Annotated[str, typer.Argument(help="User name")],
    database: DatabaseOption = None,
) -> None:
    """Delete a user and their sessions (the audit trail keeps their name).

    Example:

        citydip user delete ana
    """
    from citydiplomacy.web.auth import delete_user

    def delete(session) -> str:  # type: ignore[no-untyped-def]
        delete_user(session, username)
        return f"user {username.strip()} deleted"

    _run(database, delete)


@user_app.command("list")
def user_list(database: DatabaseOption = None) -> None:
    """List the users with their role, state, number of live sessions and when they were last seen.

    Example:

        citydip user list
    """
    from rich.table import Table

    from citydiplomacy.cli.console import console
    from citydiplomacy.web.auth import list_users

    def show(session) -> str:  # type: ignore[no-untyped-def]
        table = Table("user", "role", "state", "live sessions", "last seen", "created")
        for user in list_users(session):
            state = f"disabled {user.disabled_at:%Y-%m-%d}" if user.disabled_at else "enabled"
            seen = f"{user.last_seen_at:%Y-%m-%d %H:%M}" if user.last_seen_at else "never"
            table.add_row(
                user.username, user.role, state, str(user.live_sessions), seen, f"{user.created_at:%Y-%m-%d}"
            )  # fmt: skip
        console.print(table)
        return ""

    _run(database, show)


@user_app.command("sessions")
def user_sessions(
    username: Annotated[str | None, typer.Argument(help="Only this user's sessions")] = None,
    database: DatabaseOption = None,
) -> None:
    """List the live login sessions (of every user, or of one): number, user, started, last seen, client, expires.

    The number names a session for ``citydip user end-session``; nothing of its token is shown.

    Example:

        citydip user sessions ana
    """
    from rich.table import Table

    from citydiplomacy.cli.console import console
    from citydiplomacy.web import auth, sessions

    def show(session) -> str:  # type: ignore[no-untyped-def]
        user_id = auth.find_user(session, username).id if username is not None else None
        table = Table("session", "user", "started", "last seen", "client", "expires")
        for live in sessions.live_sessions(session, user_id):
            table.add_row(
                str(live.id), live.username, f"{live.created_at:%Y-%m-%d %H:%M}", f"{live.last_seen_at:%Y-%m-%d %H:%M}",
                live.client or "?", f"{live.expires_at:%Y-%m-%d %H:%M}",
            )  # fmt: skip
        console.print(table)
        return ""

    _run(database, show)


@user_app.command("end-session")
def user_end_session(
    session_id: Annotated[
        int, typer.Argument(min=1, max=2**31 - 1, help="The session's number (citydip user sessions)")
    ],
    database: DatabaseOption = None,
) -> None:
    """End one login session: its browser is logged out at its next request (written to the audit trail).

    Example:

        citydip user end-session 42
    """
    from citydiplomacy.web.auth import end_session

    def end(session) -> str:  # type: ignore[no-untyped-def]
        ended = end_session(session, session_id)
        return f"session {ended.id} of {ended.username} ended"

    _run(database, end)


def _run(database: str | None, work) -> None:  # type: ignore[no-untyped-def]
    """Run ``work(session)`` in one transaction; print its message, or fail with the error's exit code."""
    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.store import db

    try:
        engine = db.get_engine(database)
        with db.session_scope(engine) as session:
            session.info["actor"] = "citydip user"
            message = work(session)
    except CityDipError as exc:  # a bad name or password, no such user, no database
        fail(str(exc), code=max(exc.exit_code, 2))  # 2 as for any unusable argument
    if message:
        console.print(f"[green]{message}[/]")
