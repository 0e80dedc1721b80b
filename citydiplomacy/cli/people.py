"""``citydip person …``: the office's officials and staff from the terminal (a thin layer over
:mod:`citydiplomacy.store.people` and :func:`citydiplomacy.store.records.create_record`, the services the dashboard
and the API use too)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from citydiplomacy.cli.agreements import JsonOpt, _body, _write

person_app = typer.Typer(help="Officials and staff: add a person, list them, show one with what they signed.")


def _line(p: dict[str, Any]) -> str:
    fa = f" / {p['name_fa']}" if p["name_fa"] else ""
    title = p["title"] or p["title_fa"]
    where = (
        (p["organisation"] or {}).get("acronym")
        or (p["organisation"] or {}).get("name")
        or (p["place"] or {}).get("name")
    )
    extra = ", ".join(x for x in (title, p["unit"], where) if x)
    return f"#{p['id']} {p['name']}{fa}" + (f" — {extra}" if extra else "")


@person_app.command("add")
def person_add(
    name: Annotated[str, typer.Argument(help="The person's name (Latin script)")],
    fa: Annotated[str | None, typer.Option("--fa", help="The name in Persian")] = None,
    title: Annotated[str | None, typer.Option(help="Title or position in English")] = None,
    title_fa: Annotated[str | None, typer.Option("--title-fa", help="Title or position in Persian")] = None,
    unit: Annotated[str | None, typer.Option(help="Unit or department")] = None,
    city: Annotated[str | None, typer.Option("--city", help="The city they work for: a name or #id")] = None,
    country: Annotated[str | None, typer.Option(help="The city's country (code or name)")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="The organisation they work for: name, acronym or #id")
    ] = None,
    contact: Annotated[str | None, typer.Option(help="E-mail or telephone (optional)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an official or a member of staff, with names and titles in English and Persian.

    Example:
        citydip person add "Ali Rezaei" --fa "علی رضایی" --title "Director, International Affairs" --city Tehran
    """
    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import people
    from citydiplomacy.store.inputs import PersonIn
    from citydiplomacy.store.lookup import find_organisation, find_place
    from citydiplomacy.store.records import create_record

    def work(session: Any, actor: str) -> dict[str, Any]:
        place_id = find_place(session, city, country).id if city else None
        org_id = find_organisation(session, organisation, field="--organisation").id if organisation else None
        body = PersonIn.model_validate(_body(
            name=name, name_fa=fa, title=title, title_fa=title_fa, unit=unit, place_id=place_id,
            organisation_id=org_id, contact=contact,
        ))  # fmt: skip
        return people.person_dict(create_record(session, "people", body, actor))

    p = _write(f"citydip person add {name}", work)
    print_json(p) if as_json else console.print(f"person {_line(p)} added", highlight=False)


@person_app.command("list")
def person_list(
    search: Annotated[str | None, typer.Option("--search", "-q", help="Part of a name, title or unit")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Officials and staff, by name (in either script), with title, unit and whom they work for.

    Example:
        citydip person list --search international
    """
    from rich.markup import escape

    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import people

    def work(session: Any, _actor: str) -> list[dict[str, Any]]:
        return [people.person_dict(p) for p in session.scalars(people.people_query(search).limit(limit))]

    items = _write("", work)
    if as_json:
        print_json({"items": items, "total": len(items)})
        return
    for p in items:
        console.print(escape(_line(p)), highlight=False)
    console.print(f"[dim]{len(items)} people[/]", highlight=False)


@person_app.command("show")
def person_show(
    person: Annotated[str, typer.Argument(help="The person: a name (English or Persian) or #id")],
    as_json: JsonOpt = False,
) -> None:
    """One person: names, titles, unit, contact, the agreements they signed and the delegations they joined.

    Example:
        citydip person show "Ali Rezaei"
        citydip person show "#3" --json
    """
    from rich.markup import escape
    from sqlalchemy import select

    from citydiplomacy.cli.console import console, print_json
    from citydiplomacy.store import people
    from citydiplomacy.store.schema import Activity, ActivityPerson, AgreementSignatory

    def work(session: Any, _actor: str) -> dict[str, Any]:
        p = people.find_person(session, person, field="person")
        signed = session.execute(
            select(AgreementSignatory.relation_id, AgreementSignatory.role).where(AgreementSignatory.person_id == p.id)
        ).all()
        joined = session.execute(
            select(Activity.id, Activity.kind, Activity.title, Activity.happened_on, Activity.direction,
                   ActivityPerson.role)
            .join(ActivityPerson, ActivityPerson.activity_id == Activity.id)
            .where(ActivityPerson.person_id == p.id).order_by(Activity.happened_on, Activity.id)
        ).all()  # fmt: skip
        return {
            **people.person_dict(p),
            "signed": [{"agreement_id": r, "role": role} for r, role in signed],
            "activities": [
                {
                    "id": i,
                    "kind": k,
                    "title": t,
                    "happened_on": on.isoformat() if on else None,
                    "direction": d,
                    "role": role,
                }
                for i, k, t, on, d, role in joined
            ],  # fmt: skip
        }

    p = _write("", work)
    if as_json:
        print_json(p)
        return
    console.print(f"[bold]{escape(_line(p))}[/]", highlight=False)
    for label, key in (("title (fa)", "title_fa"), ("contact", "contact"), ("notes", "notes")):
        if p[key]:
            console.print(f"  {label}: {escape(str(p[key]))}", highlight=False)
    for s in p["signed"]:
        console.print(f"  signed agreement #{s['agreement_id']} as {escape(s['role'])}", highlight=False)
    for a in p["activities"]:
        role = f" ({a['role']})" if a["role"] else ""
        way = f" {a['direction']}" if a["direction"] else ""
        when = a["happened_on"] or "undated"
        console.print(f"  {when}{way} {a['kind']} #{a['id']}: {escape(a['title'])}{escape(role)}", highlight=False)
