"""``citydip agreement …``: the office's agreements from the terminal (a thin layer over
:mod:`citydiplomacy.store.agreements` and :func:`citydiplomacy.store.records.change_status`, the service the
dashboard and the API use too)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
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


activity_app = typer.Typer(help="Activities serving an agreement: add one (with its cost), list them.")
action_app = typer.Typer(help="Follow-up actions of an agreement: add one (owner required), mark it done.")
agreement_app.add_typer(activity_app, name="activity")
agreement_app.add_typer(action_app, name="action")


def _write(context: str, work: Any) -> Any:
    """Run ``work(session, actor)`` in one transaction; bad input ends the command naming the field (exit 2)."""
    from pydantic import ValidationError

    from citydiplomacy import settings
    from citydiplomacy.cli.console import fail
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.store import db

    actor = settings.DEFAULT_ACTOR
    try:
        with db.session_scope() as session:
            session.info["actor"] = actor
            session.info["context"] = context
            return work(session, actor)
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()), code=2)
    except CityDipError as exc:
        fail(str(exc), code=exc.exit_code if exc.exit_code != 1 else 2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)


def _body(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@activity_app.command("add")
def activity_add(
    agreement: AgreementArg,
    title: Annotated[str, typer.Argument(help="What happened")],
    kind: Annotated[str, typer.Option(help="visit, delegation, project, summit_hosted, ...")] = "visit",
    on: Annotated[str | None, typer.Option("--on", help="When (YYYY-MM-DD)")] = None,
    year: Annotated[int | None, typer.Option(help="The year, when the day is not known")] = None,
    cost: Annotated[float | None, typer.Option(help="What it cost (>= 0), in --currency")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code of the cost (IRR, EUR, USD)")] = None,
    funding: Annotated[str | None, typer.Option(help="Who paid: a budget line, a fund, a partner")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an activity serving an agreement, with its cost and funding source.

    Example:
        citydip agreement activity add 12 "Mayor's visit to Minsk" --on 2025-05-14 --cost 12000 --currency EUR
    """
    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import agreements
    from citydiplomacy.store.inputs import ActivityIn
    from citydiplomacy.store.records import create_record

    def work(session: Any, actor: str) -> dict[str, Any]:
        body = ActivityIn.model_validate(_body(
            kind=kind, title=title, happened_on=on, year=year, relation_id=agreement, cost_amount=cost,
            cost_currency=currency.strip().upper() if currency else None, funding_source=funding,
        ))  # fmt: skip
        return agreements.activity_dict(create_record(session, "activities", body, actor))

    a = _write(f"citydip agreement activity add {agreement}", work)
    print_json(a) if as_json else console.print(f"activity #{a['id']} added to agreement {agreement}")


@activity_app.command("list")
def activity_list(agreement: AgreementArg, as_json: JsonOpt = False) -> None:
    """The activities serving an agreement, oldest first, with their cost.

    Example:
        citydip agreement activity list 12
    """
    from rich.markup import escape

    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import agreements

    items = _write("", lambda s, _a: [agreements.activity_dict(a) for a in agreements.activities_of(s, agreement)])
    if as_json:
        print_json({"items": items, "total": len(items)})
        return
    for a in items:
        cost = f", {a['cost_amount']:,.2f} {a['cost_currency']}" if a["cost_amount"] is not None else ""
        when = a["happened_on"] or a["year"] or "undated"
        console.print(f"#{a['id']} {when} {a['kind']}: {escape(a['title'])}{cost}", highlight=False)
    console.print(f"[dim]{len(items)} activities[/]", highlight=False)


@agreement_app.command("outcome")
def outcome_add(
    code: Annotated[str, typer.Argument(help="A code of the outcome catalogue (project_delivered, ...)")],
    agreement: Annotated[int | None, typer.Option("--agreement", help="The agreement that produced it")] = None,
    activity: Annotated[int | None, typer.Option("--activity", help="The activity that produced it")] = None,
    quantity: Annotated[float | None, typer.Option(help="How much (>= 0), in --unit")] = None,
    unit: Annotated[str | None, typer.Option(help="The unit (default: the catalogue's)")] = None,
    evidence: Annotated[str | None, typer.Option(help="What shows it happened")] = None,
    on: Annotated[str | None, typer.Option("--on", help="When (YYYY-MM-DD)")] = None,
) -> None:
    """Record an outcome of an agreement or an activity (codes: model/data/outcomes.yaml).

    Example:
        citydip agreement outcome knowledge_exchanged --agreement 12 --quantity 30 --evidence "training report"
    """
    from citydiplomacy.cli.console import console
    from citydiplomacy.store import agreements
    from citydiplomacy.store.inputs import OutcomeIn

    def work(session: Any, actor: str) -> int:
        body = OutcomeIn.model_validate(_body(
            relation_id=agreement, activity_id=activity, code=code, quantity=quantity, unit=unit,
            evidence=evidence, happened_on=on,
        ))  # fmt: skip
        return agreements.add_outcome(session, body, actor).id

    console.print(f"outcome #{_write('citydip agreement outcome', work)} recorded")


@action_app.command("add")
def action_add(
    agreement: AgreementArg,
    title: Annotated[str, typer.Argument(help="What is to be done")],
    owner: Annotated[str, typer.Option(help="Who is responsible (required)")] = "",
    due: Annotated[str | None, typer.Option(help="By when (YYYY-MM-DD)")] = None,
) -> None:
    """Add a follow-up action to an agreement: what, who is responsible, by when.

    Example:
        citydip agreement action add 12 "Send the draft work plan" --owner "International affairs" --due 2026-01-31
    """
    from citydiplomacy.cli.console import console
    from citydiplomacy.store import agreements
    from citydiplomacy.store.inputs import ActionIn

    def work(session: Any, actor: str) -> int:
        body = ActionIn.model_validate(_body(relation_id=agreement, title=title, owner=owner, due_on=due))
        return agreements.add_action(session, body, actor).id

    console.print(f"action #{_write(f'citydip agreement action add {agreement}', work)} added (open)")


@action_app.command("done")
def action_done(
    action: Annotated[int, typer.Argument(help="The action's id", min=1)],
    on: Annotated[str | None, typer.Option("--on", help="When it was done (YYYY-MM-DD; default today)")] = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancelled, not done")] = False,
) -> None:
    """Mark a follow-up action done (or cancelled).

    Example:
        citydip agreement action done 7
        citydip agreement action done 8 --cancel
    """
    from citydiplomacy.cli.console import console
    from citydiplomacy.store import agreements
    from citydiplomacy.store.inputs import ActionStateIn
    from citydiplomacy.store.schema import FollowUpAction

    def work(session: Any, actor: str) -> str:
        current = session.get(FollowUpAction, action)
        body = ActionStateIn.model_validate(_body(
            state="cancelled" if cancel else "done", on=on, version=current.version if current else 1,
        ))  # fmt: skip
        return agreements.set_action_state(session, action, body, actor).state

    console.print(f"action #{action}: {_write(f'citydip agreement action done {action}', work)}")


@agreement_app.command("attention")
def agreement_attention(
    city: Annotated[str | None, typer.Option("--city", help="Only this place's agreements: a name or #id")] = None,
    country: Annotated[str | None, typer.Option(help="The city's country (code or name)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Agreements needing attention: dormant, renewal due or expired, or with overdue follow-up actions.

    Example:
        citydip agreement attention --city Tehran --country IR
    """
    from rich.markup import escape

    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import agreements
    from citydiplomacy.store.lookup import find_place

    def work(session: Any, _actor: str) -> list[dict[str, Any]]:
        place_id = find_place(session, city, country).id if city else None
        return agreements.attention(session, place_id=place_id)

    items = _write("", work)
    if as_json:
        print_json({"items": items, "total": len(items)})
        return
    for a in items:
        last = a["last_activity"] or "no activity recorded"
        console.print(
            f"[bold]#{a['id']}[/] {escape(_party(a['parties'][0]))} — {escape(_party(a['parties'][1]))}: "
            f"[red]{', '.join(a['flags'])}[/] (last activity: {last})",
            highlight=False,
        )
    console.print(f"[dim]{len(items)} agreements need attention[/]", highlight=False)


# --- signatories, delegations and documents (issue 10) -----------------------------------------------------------

signatory_app = typer.Typer(help="Signatories of an agreement: add a person who signed it, list them.")
delegation_app = typer.Typer(help="Delegations and visits serving an agreement: add one with its participants, list.")
document_app = typer.Typer(help="Documents of an agreement (signed text, minutes): attach a file, list, download.")
agreement_app.add_typer(signatory_app, name="signatory")
agreement_app.add_typer(delegation_app, name="delegation")
agreement_app.add_typer(document_app, name="document")


@signatory_app.command("add")
def signatory_add(
    agreement: AgreementArg,
    person: Annotated[str, typer.Argument(help="The person: a name (English or Persian) or #id")],
    role: Annotated[str, typer.Option(help="Their role on the agreement")] = "signatory",
) -> None:
    """Record that a person signed an agreement, in a role (the person must be in the registry: citydip person add).

    Example:
        citydip agreement signatory add 12 "Ali Rezaei" --role "Mayor of Tehran"
    """
    from citydiplomacy.cli.console import console
    from citydiplomacy.store import people
    from citydiplomacy.store.inputs import SignatoryIn

    def work(session: Any, actor: str) -> str:
        who = people.find_person(session, person, field="person")
        people.add_signatory(session, SignatoryIn(relation_id=agreement, person_id=who.id, role=role), actor)
        return who.name

    name = _write(f"citydip agreement signatory add {agreement}", work)
    console.print(f"{name} recorded as {role} of agreement {agreement}", highlight=False)


@signatory_app.command("list")
def signatory_list(agreement: AgreementArg, as_json: JsonOpt = False) -> None:
    """The people who signed an agreement, with their roles.

    Example:
        citydip agreement signatory list 12
    """
    from rich.markup import escape

    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import people

    items = _write("", lambda s, _a: people.signatories_of(s, agreement))
    if as_json:
        print_json({"items": items, "total": len(items)})
        return
    for s in items:
        p = s["person"]
        title = f", {p['title']}" if p["title"] else ""
        console.print(f"#{p['id']} {escape(p['name'])}{escape(title)}: {escape(s['role'])}", highlight=False)
    console.print(f"[dim]{len(items)} signatories[/]", highlight=False)


@delegation_app.command("add")
def delegation_add(
    agreement: AgreementArg,
    title: Annotated[str, typer.Argument(help="What the delegation or visit was")],
    direction: Annotated[
        str | None, typer.Option(help="incoming (the partner came) or outgoing (the city went); required")
    ] = None,
    kind: Annotated[str, typer.Option(help="delegation or visit")] = "delegation",
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD)")] = None,
    purpose: Annotated[str | None, typer.Option(help="What it was for")] = None,
    person: Annotated[
        list[str] | None, typer.Option("--person", help="A participant: name or #id, optionally NAME:ROLE (repeat)")
    ] = None,
    place: Annotated[
        list[str] | None, typer.Option("--place", help="A participating city: name or #id (repeat)")
    ] = None,
    organisation: Annotated[
        list[str] | None, typer.Option("--organisation", help="A participating organisation (repeat)")
    ] = None,
    cost: Annotated[float | None, typer.Option(help="What it cost (>= 0), in --currency")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code of the cost (IRR, EUR, USD)")] = None,
    funding: Annotated[str | None, typer.Option(help="Who paid: a budget line, a fund, a partner")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a delegation or a visit serving an agreement: direction, dates, purpose and participants.

    Every participant is looked up by name before anything is written: an unknown one ends the command naming it.

    Example:
        citydip agreement delegation add 12 "Minsk delegation" --direction incoming --from 2025-05-14 --place Minsk
        citydip agreement delegation add 12 "Visit to Minsk" --direction outgoing --person "Ali Rezaei:head"
    """
    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import people
    from citydiplomacy.store.inputs import DelegationIn
    from citydiplomacy.store.lookup import find_organisation, find_place

    def work(session: Any, actor: str) -> dict[str, Any]:
        members = []
        for spec in person or []:
            name, _, role = spec.partition(":")
            who = people.find_person(session, name, field="--person")
            members.append({"person_id": who.id, "role": role.strip() or None})
        body = DelegationIn.model_validate(_body(
            kind=kind, title=title, direction=direction, happened_on=start, ends_on=end, purpose=purpose,
            relation_id=agreement, cost_amount=cost, cost_currency=currency.strip().upper() if currency else None,
            funding_source=funding, people=members,
            place_ids=[find_place(session, p).id for p in place or []],
            organisation_ids=[find_organisation(session, o, field="--organisation").id for o in organisation or []],
        ))  # fmt: skip
        row = people.add_delegation(session, body, actor)
        return people.delegation_dict(session, row)

    d = _write(f"citydip agreement delegation add {agreement}", work)
    if as_json:
        print_json(d)
        return
    n = len(d["people"]) + len(d["places"]) + len(d["organisations"])
    console.print(f"{d['kind']} #{d['id']} ({d['direction']}) added to agreement {agreement}, {n} participants")


@delegation_app.command("list")
def delegation_list(
    agreement: Annotated[int | None, typer.Argument(help="Only this agreement's (default: all)", min=1)] = None,
    direction: Annotated[str | None, typer.Option(help="Only incoming or outgoing")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Delegations and visits (of one agreement), the latest first, with their participants.

    Example:
        citydip agreement delegation list 12
        citydip agreement delegation list --direction outgoing --json
    """
    from rich.markup import escape

    from citydiplomacy.cli.console import console, fail, print_json
    from citydiplomacy.store import people

    if direction not in (None, "incoming", "outgoing"):
        fail(f"--direction: {direction!r} is neither incoming nor outgoing", code=2)
    items = _write("", lambda s, _a: [people.delegation_dict(s, a)
                                      for a in s.scalars(people.delegations_query(agreement, direction))])  # fmt: skip
    if as_json:
        print_json({"items": items, "total": len(items)})
        return
    for d in items:
        when = d["happened_on"] or d["year"] or "undated"
        if d["ends_on"] and d["ends_on"] != d["happened_on"]:
            when = f"{when}–{d['ends_on']}"
        who = ", ".join(
            [p["name"] + (f" ({p['role']})" if p["role"] else "") for p in d["people"]]
            + [p["name"] for p in d["places"]]
            + [o["acronym"] or o["name"] for o in d["organisations"]]
        )
        console.print(f"#{d['id']} {when} {d['kind']} {d['direction'] or ''}: {escape(d['title'])}"
                      + (f" — {escape(who)}" if who else ""), highlight=False)  # fmt: skip
    console.print(f"[dim]{len(items)} delegations and visits[/]", highlight=False)


@document_app.command("add")
def document_add(
    agreement: AgreementArg,
    file: Annotated[Path, typer.Argument(help="The file: PDF, DOCX, ODT, PNG, JPEG or plain text", dir_okay=False)],
    kind: Annotated[str, typer.Option(help="signed_text, minutes or other")] = "other",
    title: Annotated[str | None, typer.Option(help="What the document is")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach a file to an agreement: stored in the database with its SHA-256; its type is checked from its bytes
    and its size against the limit (settings DOCUMENT_MAX_BYTES); the same file twice is refused (exit 3).

    Example:
        citydip agreement document add 12 signed-mou.pdf --kind signed_text --title "MoU, signed copy"
    """
    from citydiplomacy.cli.console import console, fail, print_json
    from citydiplomacy.store import documents
    from citydiplomacy.store.inputs import DocumentIn

    try:
        content = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}", code=2)

    def work(session: Any, actor: str) -> dict[str, Any]:
        body = DocumentIn.model_validate(_body(relation_id=agreement, kind=kind, title=title))
        return documents.document_dict(documents.add_document(session, body, file.name, content, actor))

    d = _write(f"citydip agreement document add {agreement} {file.name}", work)
    if as_json:
        print_json(d)
        return
    console.print(f"document #{d['id']} {d['file_name']} ({d['type_name']}, {d['size_bytes']:,} bytes, "
                  f"sha256 {d['sha256']}) attached to agreement {agreement}", highlight=False)  # fmt: skip


@document_app.command("list")
def document_list(agreement: AgreementArg, as_json: JsonOpt = False) -> None:
    """The documents of an agreement: kind, title, file name, type, size and SHA-256.

    Example:
        citydip agreement document list 12
    """
    from rich.markup import escape

    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import documents

    items = _write("", lambda s, _a: [documents.document_dict(d) for d in documents.documents_of(s, agreement)])
    if as_json:
        print_json({"items": items, "total": len(items)})
        return
    for d in items:
        title = f" «{d['title']}»" if d["title"] else ""
        console.print(f"#{d['id']} {d['kind']}{escape(title)}: {escape(d['file_name'])} ({d['type_name']}, "
                      f"{d['size_bytes']:,} bytes) sha256 {d['sha256'][:16]}…", highlight=False)  # fmt: skip
    console.print(f"[dim]{len(items)} documents[/]", highlight=False)


@document_app.command("get")
def document_get(
    document: Annotated[int, typer.Argument(help="The document's id (see `citydip agreement document list`)", min=1)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write it (default: its name)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a document's file out, after checking its bytes against the stored SHA-256.

    Example:
        citydip agreement document get 3 --output mou.pdf
    """
    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.store import documents

    def work(session: Any, _actor: str) -> tuple[str, bytes, str]:
        row, content = documents.load_document(session, document)
        return row.file_name, content, row.sha256

    name, content, digest = _write("", work)
    target = output or Path(name)
    if target.exists() and not force:
        fail(f"{target} exists; give --output or --force", code=2)
    try:
        target.write_bytes(content)
    except OSError as exc:
        fail(f"{target}: {exc.strerror or exc}", code=2)
    console.print(f"{target}: {len(content):,} bytes, sha256 {digest} (checked)", highlight=False)
