"""``citydip review …``: work the review queue from the terminal (a thin layer over
:mod:`citydiplomacy.store.review`, the service the dashboard and the API use too)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

review_app = typer.Typer(help="Work the review queue of place mentions.", no_args_is_help=True)

MentionArg = Annotated[int, typer.Argument(help="The mention's id (see `citydip review list`)", min=1)]
VersionOpt = Annotated[
    int | None, typer.Option("--version", help="The mention's version you read (refused when stale)", min=1)
]


def _decide(action: str, mention_id: int, **kwargs: Any) -> None:
    """Run one decision in a transaction, print what it did, turn errors into exit codes."""
    from citydiplomacy import settings
    from citydiplomacy.cli.console import console, fail
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.store import db, review

    actor = settings.DEFAULT_ACTOR
    try:
        with db.session_scope() as session:
            session.info["actor"] = actor
            session.info["context"] = f"citydip review {action} {mention_id}"
            mention = getattr(review, action)(session, mention_id, actor=actor, **kwargs)
            place = mention.place
            said = f"{place.name} ({place.country_code or '?'}, place #{place.id})" if place else "no place"
            status = mention.status
    except CityDipError as exc:
        fail(str(exc), code=exc.exit_code if exc.exit_code != 1 else 2)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    console.print(f"mention {mention_id}: [green]{status}[/] → {said}", highlight=False)


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="Mentions in this status")] = "ambiguous",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (items, total, limit, offset)")] = False,
) -> None:
    """The review queue: each mention with its candidates (region, population, distance); * marks the best.

    Example:
        citydip review list
        citydip review list --status unresolved --limit 20 --json
    """
    from rich.markup import escape

    from citydiplomacy.cli.console import console, fail, print_json
    from citydiplomacy.present.i18n import gazetteer_label
    from citydiplomacy.store import db, review

    try:
        with db.session_scope() as session:
            page = review.queue(session, status, limit, offset)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        console.print(f"no mentions are {status}")
        return
    for m in page["items"]:
        where = f" @ {m['lat_in_source']:.3f}, {m['lng_in_source']:.3f}" if m["lat_in_source"] is not None else ""
        console.print(
            f"[bold]#{m['id']}[/] {escape(m['name_in_source'])} ({escape(m['country_in_source'] or '?')}){where}"
            f"  [dim]version {m['version']}, place #{m['place_id']}[/]",
            highlight=False,
        )
        for c in m["candidates"]:
            if not c["choosable"]:
                continue
            mark = "*" if c["index"] == m["best"] else " "
            region = f"{c['region']}, " if c.get("region") else ""
            pop = f", pop. {c['population']:,}" if c.get("population") else ""
            dist = f", {c['distance_km']:,.1f} km" if c.get("distance_km") is not None else ""
            console.print(
                f"  {mark} {c['index']}: {escape(str(c['name']))} ({escape(region)}{c.get('country_code') or '?'})"
                f"{pop}{dist}  [dim]{gazetteer_label(c.get('gazetteer') or 'geonames', 'en')} {c['gazetteer_id']}[/]",
                highlight=False,
            )
    shown = page["offset"] + len(page["items"])
    console.print(f"[dim]{page['offset'] + 1}–{shown} of {page['total']}[/]", highlight=False)


@review_app.command("resolve")
def review_resolve(
    mention: MentionArg,
    candidate: Annotated[int | None, typer.Option("--candidate", "-c", help="Candidate number", min=0)] = None,
    place: Annotated[str | None, typer.Option("--place", help="An existing place: a name or #id")] = None,
    country: Annotated[str | None, typer.Option("--country", help="The place's country (code or name)")] = None,
    version: VersionOpt = None,
) -> None:
    """Link a mention to one of its candidates or to a place of the registry; its provisional place is merged.

    Example:
        citydip review resolve 42 --candidate 1
        citydip review resolve 42 --place Cambridge --country GB
        citydip review resolve 42 --place '#1234'
    """
    from citydiplomacy.cli.console import fail
    from citydiplomacy.core.errors import CityDipError
    from citydiplomacy.store import db
    from citydiplomacy.store.lookup import find_place

    if (candidate is None) == (place is None):
        fail("give exactly one of --candidate and --place", code=2)
    if country is not None and place is None:
        fail("--country goes with --place", code=2)
    place_id = None
    if place is not None:
        try:
            with db.session_scope() as session:
                place_id = find_place(session, place, country).id
        except CityDipError as exc:
            fail(str(exc), code=2)
    _decide("resolve", mention, candidate=candidate, place_id=place_id, version=version)


@review_app.command("keep")
def review_keep(mention: MentionArg, version: VersionOpt = None) -> None:
    """Keep a mention as a new place: its provisional place is confirmed as a place of its own.

    Example:
        citydip review keep 42
    """
    _decide("keep", mention, version=version)


@review_app.command("reject")
def review_reject(mention: MentionArg, version: VersionOpt = None) -> None:
    """None of the candidates is right: the mention is marked rejected, its place stays provisional.

    Example:
        citydip review reject 42
    """
    _decide("reject", mention, version=version)


@review_app.command("disagreements")
def review_disagreements(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    of: Annotated[
        str | None, typer.Option("--of", help="Only relations or only memberships (relation | membership)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one item per record and field)")] = False,
) -> None:
    """Relations and memberships whose sources disagree (a signing or joining year, an end year, a status),
    each source's value beside it.

    Example:
        citydip review disagreements
        citydip review disagreements --of membership --limit 200 --json
    """
    from rich.markup import escape
    from rich.table import Table

    from citydiplomacy.cli.console import console, fail, print_json
    from citydiplomacy.store import db
    from citydiplomacy.store.evidence import KINDS, disagreements

    if of is not None and of not in KINDS:
        fail(f"--of: unknown record kind {of!r} (one of {', '.join(KINDS)})", code=2)
    try:
        with db.get_engine().connect() as conn:
            items = disagreements(conn, of=of, limit=limit)
    except db.DatabaseUnavailable as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json({"items": items, "limit": limit})
        return
    table = Table(title=f"Sources that disagree ({len(items)} shown)")
    for column in ("record", "between", "field", "values by source"):
        table.add_column(column)
    for d in items:
        given = "; ".join(f"{v['value']} ({v['label']})" for v in d["values"])
        if d["record"] == "relation":
            record, between = f"relation {d['relation_id']}", f"{d['place_a']} – {d['place_b'] or ''}"
        else:
            record, between = f"membership {d['membership_id']}", f"{d['place']} in {d['organisation']} ({d['role']})"
        table.add_row(record, escape(between), d["field"], escape(given))
    console.print(table)
