"""People of the office's record: officials and staff, the agreements they signed, the delegations they joined.

A person is written by the one write service (:func:`citydiplomacy.store.records.create_record`, kind
``people``: references checked, provenance, audit).  This module adds what is particular to people: finding one
by name (:func:`find_person`, in either script, or ``#id``), an agreement's signatories (:func:`add_signatory`)
and delegations and visits with their participants (:func:`add_delegation`), which stay activities (one table of
activities), so that an agreement's health and the reports count them.

Every function writes in the caller's transaction and flushes; a reference to nothing is a
:class:`~citydiplomacy.store.records.FieldProblem` naming the field, raised before anything is written.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from citydiplomacy.core.errors import Conflict, NotFound
from citydiplomacy.core.text import fold
from citydiplomacy.store import inputs
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    ActivityPerson,
    AgreementSignatory,
    Organisation,
    Person,
    Place,
    Relation,
)

__all__ = [
    "AmbiguousPerson",
    "PersonNotFound",
    "add_delegation",
    "add_signatory",
    "delegation_dict",
    "delegations_query",
    "find_person",
    "people_query",
    "person_dict",
    "signatories_of",
]

_ID = re.compile(r"^#\s*(\d{1,9})$")


class PersonNotFound(NotFound):
    """No person of the registry is called so (or has that id)."""


class AmbiguousPerson(Conflict):
    """Several people bear the name: the message lists them, so that the user gives the ``#id``."""


def _problem(field: str, message: str) -> Exception:
    from citydiplomacy.store.records import FieldProblem  # records imports agreements, which imports us

    return FieldProblem(field, message)


def person_dict(person: Person) -> dict[str, Any]:
    """A person, JSON-ready: names, titles, unit, the place or organisation they belong to, contact."""
    place, org = person.place, person.organisation
    return {
        "id": person.id,
        "name": person.name,
        "name_fa": person.name_fa,
        "title": person.title,
        "title_fa": person.title_fa,
        "unit": person.unit,
        "place_id": person.place_id,
        "place": {"id": place.id, "name": place.name, "name_fa": place.name_fa, "country_code": place.country_code}
        if place
        else None,
        "organisation_id": person.organisation_id,
        "organisation": {"id": org.id, "name": org.name, "name_fa": org.name_fa, "acronym": org.acronym}
        if org
        else None,
        "contact": person.contact,
        "notes": person.notes,
        "version": person.version,
    }


def people_query(q: str | None = None, place_id: int | None = None, organisation_id: int | None = None) -> Select[Any]:
    """People, by name; ``q`` looks in both names, titles and the unit (case-insensitive)."""
    query = select(Person).options(selectinload(Person.place), selectinload(Person.organisation))
    if q and q.strip():
        from citydiplomacy.store.lookup import person_matches  # lookup reads people's records too

        query = query.where(person_matches(q.strip()))
    if place_id is not None:
        query = query.where(Person.place_id == place_id)
    if organisation_id is not None:
        query = query.where(Person.organisation_id == organisation_id)
    return query.order_by(Person.name, Person.id)


def find_person(session: Session, text: str, *, field: str = "person") -> Person:
    """The one person ``text`` names: ``#id``, or a name in English or Persian (case, accents and the Arabic and
    Persian letter variants ignored).

    Raises
    ------
    PersonNotFound
        Nobody is called so (the message names ``field``).
    AmbiguousPerson
        Several people are (the message lists them with their ids).
    """
    text = " ".join((text or "").split())
    by_id = _ID.match(text)
    if by_id:
        person = session.get(Person, int(by_id.group(1)))
        if person is None:
            raise PersonNotFound(f"{field}: no person #{by_id.group(1)} in the registry")
        return person
    if not text:
        raise PersonNotFound(f"{field}: give a person's name or #id")
    key = fold(text)
    rows = session.execute(select(Person.id, Person.name, Person.name_fa)).all()
    ids = [pid for pid, name, name_fa in rows if key in (fold(name), fold(name_fa or ""))]
    if not ids:
        raise PersonNotFound(f"{field}: no person called {text!r} in the registry; add them first (citydip person add)")
    if len(ids) > 1:
        found = session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id))
        shown = ", ".join(f"#{p.id} {p.name} ({p.title or p.unit or '?'})" for p in found)
        raise AmbiguousPerson(f"{field}: {text!r} names {len(ids)} people: {shown}; give the #id")
    return session.get(Person, ids[0])  # type: ignore[return-value]


def _exists(session: Session, field: str, model: type, record_id: int | None) -> None:
    if record_id is not None and session.get(model, record_id) is None:
        raise _problem(field, f"{field}: no {model.__tablename__} with id {record_id}")  # type: ignore[attr-defined]


def add_signatory(session: Session, body: inputs.SignatoryIn, actor: str) -> AgreementSignatory:
    """Record that a person signed an agreement in a role (flushed; audited).

    Raises
    ------
    FieldProblem
        ``relation_id`` or ``person_id`` names no record.
    Conflict
        The person is already recorded as signing the agreement in that role.
    """
    from citydiplomacy.store.records import source_id_for

    _exists(session, "relation_id", Relation, body.relation_id)
    _exists(session, "person_id", Person, body.person_id)
    same = select(AgreementSignatory.id).where(
        AgreementSignatory.relation_id == body.relation_id,
        AgreementSignatory.person_id == body.person_id,
        AgreementSignatory.role == body.role,
    )
    if session.scalar(same) is not None:
        raise Conflict(f"person {body.person_id} is already a {body.role} of agreement {body.relation_id}")
    row = AgreementSignatory(
        relation_id=body.relation_id, person_id=body.person_id, role=body.role,
        source_id=source_id_for(session, body.source), source_locator=body.source_locator, entered_by=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def signatories_of(session: Session, relation_id: int) -> list[dict[str, Any]]:
    """An agreement's signatories, in the order recorded: the person and their role."""
    rows = session.scalars(
        select(AgreementSignatory)
        .where(AgreementSignatory.relation_id == relation_id)
        .options(selectinload(AgreementSignatory.person).selectinload(Person.place),
                 selectinload(AgreementSignatory.person).selectinload(Person.organisation))
        .order_by(AgreementSignatory.id)
    )  # fmt: skip
    return [{"id": s.id, "role": s.role, "person": person_dict(s.person)} for s in rows]


def add_delegation(session: Session, body: inputs.DelegationIn, actor: str) -> Activity:
    """Record a delegation or a visit: one activity (direction, dates, purpose, the agreement it serves, cost) and
    its participants (people, places, organisations), in one transaction (flushed; audited).

    Raises
    ------
    FieldProblem
        A referenced agreement, place, organisation or person does not exist (the field is named, e.g.
        ``people[1].person_id``); nothing is written.
    """
    from citydiplomacy.store.records import create_record

    for i, p in enumerate(body.people):
        _exists(session, f"people[{i}].person_id", Person, p.person_id)
    for i, pid in enumerate(body.place_ids):
        _exists(session, f"place_ids[{i}]", Place, pid)
    for i, oid in enumerate(body.organisation_ids):
        _exists(session, f"organisation_ids[{i}]", Organisation, oid)
    if len({p.person_id for p in body.people}) != len(body.people):
        raise _problem("people", "people: a person is listed twice")
    activity = inputs.ActivityIn.model_validate(
        body.model_dump(exclude={"people", "place_ids", "organisation_ids"}), strict=False
    )
    row: Activity = create_record(session, "activities", activity, actor)
    for p in body.people:
        row.people.append(ActivityPerson(person_id=p.person_id, role=p.role))
    for pid in dict.fromkeys(body.place_ids):
        row.participants.append(ActivityParticipant(place_id=pid))
    for oid in dict.fromkeys(body.organisation_ids):
        row.participants.append(ActivityParticipant(organisation_id=oid))
    session.flush()
    return row


def delegations_query(relation_id: int | None = None, direction: str | None = None) -> Select[Any]:
    """Delegations and visits (of one agreement, in one direction), the latest first."""
    query = (
        select(Activity)
        .where(Activity.kind.in_(inputs.DELEGATION_KINDS))
        .options(
            selectinload(Activity.people).selectinload(ActivityPerson.person),
            selectinload(Activity.participants),
        )
    )
    if relation_id is not None:
        query = query.where(Activity.relation_id == relation_id)
    if direction:
        query = query.where(Activity.direction == direction)
    return query.order_by(Activity.happened_on.desc().nulls_last(), Activity.year.desc().nulls_last(), Activity.id)


def delegation_dict(session: Session, activity: Activity) -> dict[str, Any]:
    """A delegation or a visit with its participants: people (with role), places and organisations (named)."""
    from citydiplomacy.store.agreements import activity_dict

    place_ids = [p.place_id for p in activity.participants if p.place_id]
    org_ids = [p.organisation_id for p in activity.participants if p.organisation_id]
    places = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_(place_ids)))} if place_ids else {}
    orgs = (
        {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))} if org_ids else {}
    )
    return {
        **activity_dict(activity),
        "people": [
            {
                "person_id": ap.person_id,
                "name": ap.person.name,
                "name_fa": ap.person.name_fa,
                "title": ap.person.title,
                "title_fa": ap.person.title_fa,
                "role": ap.role,
            }
            for ap in activity.people
        ],  # fmt: skip
        "places": [
            {"id": i, "name": places[i].name, "name_fa": places[i].name_fa, "country_code": places[i].country_code}
            for i in place_ids
            if i in places
        ],
        "organisations": [
            {"id": i, "name": orgs[i].name, "name_fa": orgs[i].name_fa, "acronym": orgs[i].acronym}
            for i in org_ids
            if i in orgs
        ],
    }
