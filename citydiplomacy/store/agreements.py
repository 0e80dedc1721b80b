"""Agreements: relations read as the office's records (parties, titles, dates, themes, status and its history).

An agreement is a :class:`~citydiplomacy.store.schema.Relation` row: two places, or a place and an
organisation.  Its status changes only through :func:`citydiplomacy.store.records.change_status` (the one write
service: version check, audit), which asks :func:`check_transition` here whether the model's lifecycle
(:mod:`citydiplomacy.model.lifecycle`) allows the change, and writes the history row with :func:`add_status`.

Relations written in bulk (importers) have no history row yet: :func:`history` then shows the status they were
first recorded with, from the record itself, and the first change writes that row before its own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from citydiplomacy import settings
from citydiplomacy.core.errors import Conflict, NotFound
from citydiplomacy.model.lifecycle import load_lifecycle
from citydiplomacy.model.outcomes import load_outcomes
from citydiplomacy.store import documents, inputs, people
from citydiplomacy.store.schema import (
    Activity,
    FollowUpAction,
    Membership,
    MembershipDue,
    Organisation,
    Outcome,
    Place,
    Relation,
    RelationStatus,
    Source,
)

__all__ = [
    "TransitionRefused",
    "action_dict",
    "activities_of",
    "activity_dict",
    "activity_date",
    "add_action",
    "add_due",
    "add_outcome",
    "add_status",
    "agreement_start",
    "attention",
    "health",
    "overdue_actions",
    "set_action_state",
    "agreement_dict",
    "agreements_query",
    "check_transition",
    "ensure_first_status",
    "history",
    "load_agreement",
    "outcome_dict",
    "parties_of",
    "summary_dict",
]


class TransitionRefused(Conflict):
    """The lifecycle does not allow this status change from the agreement's current status (HTTP 409)."""

    def __init__(self, record_id: int, current: str, new: str, allowed: tuple[str, ...]):
        can = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"agreement {record_id} is {current}: it cannot become {new} (from {current} it can become: {can}); "
            "an ended agreement is renegotiated or a new one recorded beside it"
        )
        self.current = current
        self.new = new
        self.allowed = allowed


def check_transition(record_id: int, current: str, new: str) -> None:
    """Refuse a status change the lifecycle does not list.

    Raises
    ------
    TransitionRefused
        ``current`` cannot change to ``new`` (the message names the changes it can make).
    """
    lifecycle = load_lifecycle()
    if not lifecycle.allows(current, new):
        raise TransitionRefused(record_id, current, new, lifecycle.allowed(current))


def add_status(
    session: Session,
    relation: Relation,
    status: str,
    *,
    actor: str,
    reason: str | None,
    previous: str | None,
    effective_on: date | None = None,
    source_id: int | None = None,
    source_locator: str | None = None,
    at: datetime | None = None,
) -> RelationStatus:
    """Append one row to an agreement's status history (in the session's transaction; audited)."""
    row = RelationStatus(
        status=status,
        previous_status=previous,
        effective_on=effective_on,
        changed_by=actor,
        reason=reason,
        source_id=source_id,
        source_locator=source_locator,
    )
    if at is not None:
        row.changed_at = at
    relation.history.append(row)
    return row


def ensure_first_status(session: Session, relation: Relation) -> None:
    """Give a relation written in bulk (no history) the row of the status it was first recorded with."""
    if not relation.history:
        add_status(
            session,
            relation,
            relation.status,
            actor=relation.entered_by,
            reason=None,
            previous=None,
            source_id=relation.source_id,
            source_locator=relation.source_locator,
            at=relation.entered_at,
        )


def load_agreement(session: Session, record_id: int) -> Relation | None:
    """The agreement ``record_id`` with its parties and history loaded (None: no such record)."""
    return session.scalar(
        select(Relation)
        .where(Relation.id == record_id)
        .options(
            selectinload(Relation.place_a),
            selectinload(Relation.place_b),
            selectinload(Relation.organisation),
            selectinload(Relation.history),
        )
    )


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _place(place: Place) -> dict[str, Any]:
    return {
        "type": "place",
        "id": place.id,
        "name": place.name,
        "name_fa": place.name_fa,
        "country_code": place.country_code,
    }


def _organisation(org: Organisation) -> dict[str, Any]:
    return {"type": "organisation", "id": org.id, "name": org.name, "name_fa": org.name_fa, "acronym": org.acronym}


def parties_of(relation: Relation, place_id: int | None = None) -> list[dict[str, Any]]:
    """The two parties, the place ``place_id`` (when it is one of them) first."""
    first = _place(relation.place_a)
    second = _organisation(relation.organisation) if relation.organisation else _place(relation.place_b)  # type: ignore[arg-type]
    if place_id is not None and second["type"] == "place" and second["id"] == place_id:
        first, second = second, first
    return [first, second]


def history(session: Session, relation: Relation) -> list[dict[str, Any]]:
    """The agreement's statuses, oldest first: status, previous, effective date, who, when, why, source."""
    names = {}
    ids = {r.source_id for r in relation.history if r.source_id} | {relation.source_id}
    ids.discard(None)
    if ids:
        names = dict(session.execute(select(Source.id, Source.name).where(Source.id.in_(ids))).all())
    rows = [
        {
            "status": r.status,
            "previous_status": r.previous_status,
            "effective_on": _iso(r.effective_on),
            "changed_at": _iso(r.changed_at),
            "changed_by": r.changed_by,
            "reason": r.reason,
            "source": names.get(r.source_id) if r.source_id else None,
            "source_locator": r.source_locator,
            "recorded": True,
        }
        for r in relation.history
    ]
    if not rows:  # written in bulk: the status it was first recorded with, from the record itself
        rows = [
            {
                "status": relation.status,
                "previous_status": None,
                "effective_on": None,
                "changed_at": _iso(relation.entered_at),
                "changed_by": relation.entered_by,
                "reason": None,
                "source": names.get(relation.source_id) if relation.source_id else None,
                "source_locator": relation.source_locator,
                "recorded": False,
            }
        ]
    return rows


def summary_dict(relation: Relation, place_id: int | None = None) -> dict[str, Any]:
    """The fields a list of agreements shows: id, parties, kind, titles, dates, status, version."""
    return {
        "id": relation.id,
        "parties": parties_of(relation, place_id),
        "kind": relation.kind,
        "title": relation.title,
        "title_fa": relation.title_fa,
        "signed_on": _iso(relation.signed_on),
        "signed_year": relation.signed_year,
        "valid_until": _iso(relation.valid_until),
        "ended_year": relation.ended_year,
        "status": relation.status,
        "version": relation.version,
    }


def agreement_dict(session: Session, relation: Relation) -> dict[str, Any]:
    """Everything about one agreement, JSON-ready: its fields, parties, themes, provenance, status history,
    signatories and documents (their descriptions, not their bytes)."""
    source = session.get(Source, relation.source_id) if relation.source_id else None
    lifecycle = load_lifecycle()
    return {
        **summary_dict(relation),
        "place_a_id": relation.place_a_id,
        "place_b_id": relation.place_b_id,
        "organisation_id": relation.organisation_id,
        "responsible_unit": relation.responsible_unit,
        "dimensions": list(relation.dimensions or []),
        "functions": list(relation.functions or []),
        "notes": relation.notes,
        "source": source.name if source else None,
        "source_citation": source.citation if source else None,
        "source_locator": relation.source_locator,
        "entered_by": relation.entered_by,
        "entered_at": _iso(relation.entered_at),
        "history": history(session, relation),
        "next_statuses": list(lifecycle.allowed(relation.status)),
        "signatories": people.signatories_of(session, relation.id),
        "documents": [documents.document_dict(d) for d in documents.documents_of(session, relation_id=relation.id)],
    }


def agreements_query(
    place_id: int | None = None,
    organisation_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> Select[Any]:
    """Agreements, optionally of one place (either side), one partner organisation, kind and status; by id."""
    query = select(Relation).options(
        selectinload(Relation.place_a), selectinload(Relation.place_b), selectinload(Relation.organisation)
    )
    if place_id is not None:
        query = query.where(or_(Relation.place_a_id == place_id, Relation.place_b_id == place_id))
    if organisation_id is not None:
        query = query.where(Relation.organisation_id == organisation_id)
    if kind:
        query = query.where(Relation.kind == kind)
    if status:
        query = query.where(Relation.status == status)
    return query.order_by(Relation.id)


# --- The office's record: activities, outcomes, follow-up actions, dues, health (issue 10) -----------------------


def _refer(session: Session, field: str, model: type, record_id: int | None) -> None:
    if record_id is not None and session.get(model, record_id) is None:
        from citydiplomacy.store.records import FieldProblem  # records imports this module: import when needed

        raise FieldProblem(field, f"{field}: no {model.__tablename__} with id {record_id}")  # type: ignore[attr-defined]


def _source_id(session: Session, name: str | None) -> int | None:
    from citydiplomacy.store.records import source_id_for

    return source_id_for(session, name)


def add_outcome(session: Session, body: inputs.OutcomeIn, actor: str) -> Outcome:
    """Record a result of an agreement or an activity (flushed; audited).  An activity's outcome also counts for
    the agreement the activity serves.

    Raises
    ------
    FieldProblem
        ``relation_id`` or ``activity_id`` names no record.
    """
    _refer(session, "relation_id", Relation, body.relation_id)
    _refer(session, "activity_id", Activity, body.activity_id)
    row = Outcome(
        relation_id=body.relation_id, activity_id=body.activity_id, code=body.code, quantity=body.quantity,
        unit=body.unit or load_outcomes()[body.code].unit or None, evidence=body.evidence,
        happened_on=body.happened_on, source_id=_source_id(session, body.source),
        source_locator=body.source_locator, entered_by=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def add_action(session: Session, body: inputs.ActionIn, actor: str) -> FollowUpAction:
    """Record a follow-up action (state ``open``) of an agreement or an activity (flushed; audited)."""
    _refer(session, "relation_id", Relation, body.relation_id)
    _refer(session, "activity_id", Activity, body.activity_id)
    row = FollowUpAction(
        relation_id=body.relation_id, activity_id=body.activity_id, title=body.title, owner=body.owner,
        due_on=body.due_on, state="open", source_id=_source_id(session, body.source),
        source_locator=body.source_locator, entered_by=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def set_action_state(
    session: Session, action_id: int, body: inputs.ActionStateIn, actor: str, today: date | None = None
) -> FollowUpAction:
    """Mark an action done or cancelled (``done_on``: ``body.on`` or today) or reopen it; version-checked.

    Raises
    ------
    NotFound
        No action ``action_id``.
    VersionConflict
        ``body.version`` is not the action's current version.
    """
    from citydiplomacy.core.errors import VersionConflict

    row = session.get(FollowUpAction, action_id)
    if row is None:
        raise NotFound(f"no follow-up action {action_id}")
    if row.version != body.version:
        raise VersionConflict("follow-up action", action_id, body.version, row.version)
    row.state = body.state
    row.done_on = None if body.state == "open" else (body.on or today or date.today())
    session.flush()
    return row


def add_due(session: Session, body: inputs.DueIn, actor: str) -> MembershipDue:
    """Record (or replace) a membership's dues for one year (flushed; audited)."""
    _refer(session, "membership_id", Membership, body.membership_id)
    row = session.scalar(
        select(MembershipDue).where(MembershipDue.membership_id == body.membership_id, MembershipDue.year == body.year)
    )
    if row is None:
        row = MembershipDue(membership_id=body.membership_id, year=body.year, entered_by=actor)
        session.add(row)
    row.amount, row.currency = body.amount, body.currency
    row.source_id, row.source_locator = _source_id(session, body.source), body.source_locator
    session.flush()
    return row


def activity_date(activity: Activity) -> date | None:
    """When an activity happened; one known only by its year counts as of the year's last day (it may have
    happened that late).  The one rule for health, the council report and the lists."""
    if activity.happened_on:
        return activity.happened_on
    return date(activity.year, 12, 31) if activity.year else None


def activity_dict(a: Activity) -> dict[str, Any]:
    """An activity as the office's record lists it: kind, title, date, what it serves, its cost."""
    return {
        "id": a.id, "kind": a.kind, "title": a.title, "title_fa": a.title_fa, "happened_on": _iso(a.happened_on),
        "year": a.year, "relation_id": a.relation_id, "membership_id": a.membership_id,
        "cost_amount": a.cost_amount, "cost_currency": a.cost_currency, "funding_source": a.funding_source,
        "description": a.description, "direction": a.direction, "purpose": a.purpose, "ends_on": _iso(a.ends_on),
        "version": a.version,
    }  # fmt: skip


def outcome_dict(o: Outcome) -> dict[str, Any]:
    """An outcome with its catalogue names in both languages."""
    kind = load_outcomes().get(o.code)
    return {
        "id": o.id, "relation_id": o.relation_id, "activity_id": o.activity_id, "code": o.code,
        "name": kind.name if kind else o.code, "name_fa": kind.name_fa if kind else o.code,
        "quantity": o.quantity, "unit": o.unit, "evidence": o.evidence, "happened_on": _iso(o.happened_on),
    }  # fmt: skip


def action_dict(a: FollowUpAction, today: date | None = None) -> dict[str, Any]:
    """A follow-up action; ``overdue``: open on ``today`` (done only later counts as open then) and past its due
    date."""
    today = today or date.today()
    return {
        "id": a.id, "relation_id": a.relation_id, "activity_id": a.activity_id, "title": a.title,
        "owner": a.owner, "due_on": _iso(a.due_on), "state": a.state, "done_on": _iso(a.done_on),
        "overdue": (a.state == "open" or (a.done_on is not None and a.done_on > today)) and a.due_on is not None
        and a.due_on < today, "version": a.version,
    }  # fmt: skip


def activities_of(session: Session, relation_id: int) -> list[Activity]:
    """The activities serving agreement ``relation_id``, oldest first (undated last)."""
    rows = list(session.scalars(select(Activity).where(Activity.relation_id == relation_id).order_by(Activity.id)))
    return sorted(rows, key=lambda a: (activity_date(a) is None, activity_date(a) or date.min, a.id))


def _outcomes_of(session: Session, relation_id: int) -> list[Outcome]:
    served = select(Activity.id).where(Activity.relation_id == relation_id)
    query = select(Outcome).where(or_(Outcome.relation_id == relation_id, Outcome.activity_id.in_(served)))
    return list(session.scalars(query.order_by(Outcome.id)))


def _actions_of(session: Session, relation_id: int) -> list[FollowUpAction]:
    served = select(Activity.id).where(Activity.relation_id == relation_id)
    query = select(FollowUpAction).where(
        or_(FollowUpAction.relation_id == relation_id, FollowUpAction.activity_id.in_(served))
    )
    return list(session.scalars(query.order_by(FollowUpAction.due_on.is_(None), FollowUpAction.due_on)))


def agreement_start(relation: Relation) -> date | None:
    """When an agreement began: its signing date, or the last day of its signing year when only that is known."""
    if relation.signed_on:
        return relation.signed_on
    return date(relation.signed_year, 12, 31) if relation.signed_year else None


def status_on(relation: Relation, day: date) -> str | None:
    """The agreement's status on ``day``, by its history: the last change that took effect (or, without an
    effective date, was recorded) by then; None when it did not exist yet (signed later, or first recorded
    later with no earlier date known).  Today and later: the current status."""
    if day >= date.today():
        return relation.status
    start = agreement_start(relation)
    if start is not None and start > day:
        return None
    status = None
    for row in sorted(relation.history, key=lambda h: h.id):
        took_effect = row.effective_on or (row.changed_at.date() if row.changed_at else None)
        if row.previous_status is None:
            status = row.status  # the first status holds from the start, whenever it was recorded
        elif took_effect is not None and took_effect <= day:
            status = row.status
    return status if status is not None or relation.history else relation.status


def _flags(
    relation: Relation, last: date | None, overdue: int, today: date, *, dormant_days: int, renewal_days: int
) -> list[str]:
    flags: list[str] = []
    status = status_on(relation, today)
    if status is None:  # not signed yet on that day
        return flags
    in_force = load_lifecycle().status(status).in_force
    # Quiet since the last activity, or since signing when nothing is recorded; undated and silent: quiet too.
    since = last or agreement_start(relation)
    if in_force and (since is None or (today - since).days > dormant_days):
        flags.append("dormant")
    if in_force and relation.valid_until is not None:
        if relation.valid_until < today:
            flags.append("expired")
        elif relation.valid_until <= today + timedelta(days=renewal_days):
            flags.append("renewal_due")
    if overdue:
        flags.append("actions_overdue")
    return flags


def health(session: Session, relation: Relation, today: date | None = None) -> dict[str, Any]:
    """An agreement's health: its activities, outcomes and follow-up actions, last activity, activities and
    outcomes per year, cost to date (per currency, never converted) and its flags.

    Flags: ``dormant`` (in force, no activity for :data:`~citydiplomacy.settings.AGREEMENT_DORMANT_AFTER_DAYS`
    days, counted from signing when none is recorded), ``renewal_due`` (``valid_until`` within
    :data:`~citydiplomacy.settings.AGREEMENT_RENEWAL_WARNING_DAYS` days), ``expired`` (in force past
    ``valid_until``), ``actions_overdue`` (an open action past its due date).
    """
    today = today or date.today()
    acts = activities_of(session, relation.id)
    outs = _outcomes_of(session, relation.id)
    actions = _actions_of(session, relation.id)
    dates = [d for d in (activity_date(a) for a in acts) if d is not None and d <= today]
    last = max(dates) if dates else None
    per_year: dict[int, dict[str, int]] = defaultdict(lambda: {"activities": 0, "outcomes": 0})
    for a in acts:
        if activity_date(a):
            per_year[activity_date(a).year]["activities"] += 1  # type: ignore[union-attr]
    year_of = {a.id: activity_date(a) for a in acts}
    for o in outs:
        when = o.happened_on or year_of.get(o.activity_id)  # type: ignore[arg-type]
        if when:
            per_year[when.year]["outcomes"] += 1
    cost: dict[str, float] = defaultdict(float)
    for a in acts:
        if a.cost_amount is not None and a.cost_currency and (activity_date(a) is None or activity_date(a) <= today):  # type: ignore[operator]
            cost[a.cost_currency] += a.cost_amount
    action_rows = [action_dict(a, today) for a in actions]
    overdue = sum(1 for a in action_rows if a["overdue"])
    return {
        "last_activity": _iso(last),
        "days_since_activity": (today - last).days if last else None,
        "per_year": [{"year": y, **per_year[y]} for y in sorted(per_year)],
        "cost_to_date": [{"currency": c, "amount": cost[c]} for c in sorted(cost)],
        "activities": [activity_dict(a) for a in acts],
        "outcomes": [outcome_dict(o) for o in outs],
        "actions": action_rows,
        "actions_overdue": overdue,
        "flags": _flags(relation, last, overdue, today, dormant_days=settings.AGREEMENT_DORMANT_AFTER_DAYS,
                        renewal_days=settings.AGREEMENT_RENEWAL_WARNING_DAYS),
        "as_of": today.isoformat(),
    }  # fmt: skip


def attention(session: Session, today: date | None = None, place_id: int | None = None) -> list[dict[str, Any]]:
    """Agreements needing attention (of one place, either side, when given): each one's summary, its flags,
    last activity and overdue actions; the most flags first, then by id."""
    out = [
        {**summary_dict(relation, place_id), "flags": flags, "last_activity": _iso(last), "actions_overdue": overdue}
        for relation, flags, last, overdue in _flagged(session, today or date.today(), place_id, summaries=True)
    ]
    out.sort(key=lambda r: (-len(r["flags"]), r["id"]))
    return out


def attention_flags(session: Session, place_id: int, today: date | None = None) -> dict[int, list[str]]:
    """The flags of one place's agreements needing attention (agreement id -> flags), as :func:`attention`
    finds them, without the summaries the list shows (the city page's badges)."""
    return {r.id: flags for r, flags, _, _ in _flagged(session, today or date.today(), place_id, summaries=False)}


def _flagged(
    session: Session, today: date, place_id: int | None, *, summaries: bool
) -> list[tuple[Relation, list[str], date | None, int]]:
    """(agreement, flags, last activity, actions overdue) of the agreements needing attention on ``today``.

    Four queries whatever the size; for one place the activities and actions read are that place's only.
    """
    lifecycle = load_lifecycle()
    # The parties and organisation are read only for the summaries (agreements_query loads them).
    query = agreements_query(place_id) if summaries else select(Relation).order_by(Relation.id)
    of_place = or_(Relation.place_a_id == place_id, Relation.place_b_id == place_id)
    if place_id is not None and not summaries:
        query = query.where(of_place)
    of_mine = (
        Activity.relation_id.in_(select(Relation.id).where(of_place))
        if place_id is not None
        else Activity.relation_id.is_not(None)
    )
    last_on = dict(session.execute(
        select(Activity.relation_id, func.max(Activity.happened_on)).where(of_mine, Activity.happened_on <= today)
        .group_by(Activity.relation_id)).all())  # fmt: skip
    last_year = dict(session.execute(
        select(Activity.relation_id, func.max(Activity.year)).where(of_mine, Activity.happened_on.is_(None),
        Activity.year <= today.year).group_by(Activity.relation_id)).all())  # fmt: skip
    served = select(Activity.id, Activity.relation_id).subquery()
    overdue_rows = session.execute(
        select(func.coalesce(FollowUpAction.relation_id, served.c.relation_id), func.count())
        .outerjoin(served, served.c.id == FollowUpAction.activity_id)
        .where(_open_on(today), FollowUpAction.due_on < today)
        .group_by(func.coalesce(FollowUpAction.relation_id, served.c.relation_id))
    ).all()
    overdue = {rid: n for rid, n in overdue_rows if rid is not None}
    out = []
    for relation in session.scalars(query.options(selectinload(Relation.history))):
        status = status_on(relation, today)
        if status is None or (not lifecycle.status(status).in_force and relation.id not in overdue):
            continue
        known = [d for d in (last_on.get(relation.id), last_year.get(relation.id)) if d]
        last = max(date(d, 12, 31) if isinstance(d, int) else d for d in known) if known else None
        flags = _flags(relation, last, overdue.get(relation.id, 0), today,
                       dormant_days=settings.AGREEMENT_DORMANT_AFTER_DAYS,
                       renewal_days=settings.AGREEMENT_RENEWAL_WARNING_DAYS)  # fmt: skip
        if flags:
            out.append((relation, flags, last, overdue.get(relation.id, 0)))
    return out


def _open_on(day: date) -> Any:
    """Follow-up actions open on ``day``: open now, or done or cancelled only after it (a past year's report
    lists what was late then, not what is late now)."""
    return or_(FollowUpAction.state == "open", and_(FollowUpAction.done_on.is_not(None), FollowUpAction.done_on > day))


def overdue_actions(session: Session, today: date | None = None) -> list[dict[str, Any]]:
    """Open follow-up actions past their due date, the oldest due first: the office's list of what is late."""
    today = today or date.today()
    query = select(FollowUpAction).where(_open_on(today), FollowUpAction.due_on < today)
    return [action_dict(a, today) for a in session.scalars(query.order_by(FollowUpAction.due_on))]
