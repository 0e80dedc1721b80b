"""``citydip agreement …``: the office's agreements from the terminal (a thin layer over
:mod:`citydiplomacy.store.agreements` and :func:`citydiplomacy.store.records.change_status`, the service the
dashboard and the API use too)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

agreement_app = typer.Typer(help="List agreements, show one with its status history, change its status.")

AgreementArg = Annotated[int, typer.Argument(help="The agreement's id (see `citydip agreement list`)", min=1)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _party(p: dict[str, Any]) -> str:
    if p["type"] == "organisation":
        return f"{p['acronym'] or p['name']} (organisation #{p['id']})"
    return f"{p['name']} ({p['country_code'] or '?'}, #{p['id']})"


@agreement_app.command("list")
def agreement_list(
    city: Annotated[str | None, typer.Option("--city", help="Only this place's agreements: a name or #id")] = None,
    country: Annotated[str | None, typer.Option(help="The city's country (code or name)")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind (sister_city, mou, ...)")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status (active, dormant, ...)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Agreements, each with its parties, kind, signing year and status.

    Example:
        citydip agreement list --city Tehran --country IR
        citydip agreement list --status dormant --json
    """
    from rich.markup import escape
    from sqlalchemy import func, select

    from citydiplomacy.cli.console import console, fail, print_json
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.store import agreements, db
    from citydiplomacy.store.lookup import find_place

    try:
        with db.session_scope() as session:
            place_id = find_place(session, city, country).id if city else None
            query = agreements.agreements_query(place_id, None, kind, status)
            total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
            items = [agreements.summary_dict(r, place_id) for r in session.scalars(query.limit(limit).offset(offset))]
    except CityDipError as exc:
        fail(str(exc), code=2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json({"items": items, "total": total, "limit": limit, "offset": offset})
        return
    for a in items:
        when = a["signed_on"] or a["signed_year"] or "undated"
        title = f" «{a['title']}»" if a["title"] else ""
        console.print(
            f"[bold]#{a['id']}[/] {escape(_party(a['parties'][0]))} — {escape(_party(a['parties'][1]))}: "
            f"{a['kind']}{escape(title)}, {when}, [green]{a['status']}[/]",
            highlight=False,
        )
    console.print(f"[dim]{offset + 1 if items else 0}–{offset + len(items)} of {total}[/]", highlight=False)


def _show(agreement_id: int) -> dict[str, Any]:
    from citydiplomacy.cli.console import fail
    from citydiplomacy.store import agreements, db

    try:
        with db.session_scope() as session:
            obj = agreements.load_agreement(session, agreement_id)
            if obj is None:
                fail(f"no agreement {agreement_id}", code=2)
            return agreements.agreement_dict(session, obj)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)


def _print(a: dict[str, Any]) -> None:
    from rich.markup import escape

    from citydiplomacy.cli.console import console

    console.print(f"[bold]agreement #{a['id']}[/] (version {a['version']}): {a['kind']}, [green]{a['status']}[/]")
    console.print(f"  parties: {escape(_party(a['parties'][0]))} — {escape(_party(a['parties'][1]))}")
    for label, key in (("title", "title"), ("title (fa)", "title_fa"), ("signed on", "signed_on"),
                       ("signed year", "signed_year"), ("valid until", "valid_until"), ("ended year", "ended_year"),
                       ("responsible unit", "responsible_unit"), ("notes", "notes"), ("source", "source"),
                       ("locator", "source_locator")):  # fmt: skip
        if a[key] not in (None, ""):
            console.print(f"  {label}: {escape(str(a[key]))}", highlight=False)
    if a["dimensions"] or a["functions"]:
        console.print(f"  themes: {', '.join(a['dimensions'] + a['functions'])}", highlight=False)
    console.print("  status history:")
    for h in a["history"]:
        first = f"{h['status']} (first recorded)"
        change = f"{h['previous_status']} → {h['status']}" if h["previous_status"] else first
        effect = f", as of {h['effective_on']}" if h["effective_on"] else ""
        why = f": {h['reason']}" if h["reason"] else ""
        who = escape(h["changed_by"])
        console.print(f"    {h['changed_at'][:16]} {who} {change}{effect}{escape(why)}", highlight=False)
    console.print(f"  may become: {', '.join(a['next_statuses']) or 'nothing'}", highlight=False)


@agreement_app.command("show")
def agreement_show(agreement: AgreementArg, as_json: JsonOpt = False) -> None:
    """One agreement: parties, titles, dates, themes, source, its status history and the changes it allows.

    Example:
        citydip agreement show 12
        citydip agreement show 12 --json
    """
    from citydiplomacy.cli.console import print_json

    a = _show(agreement)
    print_json(a) if as_json else _print(a)


@agreement_app.command("status")
def agreement_status(
    agreement: AgreementArg,
    status: Annotated[str, typer.Argument(help="The new status (proposed, in_negotiation, signed, active, ...)")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why the status changes (required)")],
    effective: Annotated[str | None, typer.Option("--effective", help="When it took effect (YYYY-MM-DD)")] = None,
    source: Annotated[str | None, typer.Option(help="The source that says so")] = None,
    locator: Annotated[str | None, typer.Option(help="Where in the source")] = None,
    version: Annotated[int | None, typer.Option(help="The version you read (refused when stale)", min=1)] = None,
) -> None:
    """Change an agreement's status as the model's lifecycle allows, recording who, when and why.

    Without --version the current one is used; a change the lifecycle does not allow is refused (exit 3) with
    the allowed ones named.

    Example:
        citydip agreement status 12 dormant --reason "no activity since 2019"
        citydip agreement status 12 ended --reason "not renewed" --effective 2024-03-20 --version 3
    """
    from pydantic import ValidationError

    from citydiplomacy import settings
    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.store import db
    from citydiplomacy.store.inputs import StatusChangeIn
    from citydiplomacy.store.records import change_status

    actor = settings.DEFAULT_ACTOR
    try:
        with db.session_scope() as session:
            session.info["actor"] = actor
            session.info["context"] = f"citydip agreement status {agreement} {status}"
            from citydiplomacy.store.schema import Relation

            current = session.get(Relation, agreement)
            if current is None:
                fail(f"no agreement {agreement}", code=2)
            body = StatusChangeIn.model_validate(
                {"status": status, "reason": reason, "version": version or current.version,
                 "effective_on": date.fromisoformat(effective) if effective else None,
                 "source": source, "source_locator": locator},
            )  # fmt: skip
            obj = change_status(session, agreement, body, actor)
            old, new = obj.history[-1].previous_status, obj.status
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), code=2)
    except ValueError as exc:  # a date that is not YYYY-MM-DD
        fail(f"--effective: {exc}", code=2)
    except CityDipError as exc:
        fail(str(exc), code=exc.exit_code if exc.exit_code != 1 else 2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    console.print(f"agreement {agreement}: {old} → [green]{new}[/]", highlight=False)
