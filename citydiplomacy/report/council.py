"""The council report: one city's year of cooperation, compared with the year before (issue 10).

``citydip report council CITY --year YEAR`` and the dashboard's ``/cities/{id}/council?year=YEAR`` both call
this module: :func:`period_of` turns the year (Gregorian, or Solar Hijri 21 March - 20 March) into a
:class:`Period`, :func:`collect_council` reads the year's figures from the registry (the library service) and
:func:`render_body` / :func:`render_html` format them, in English or in Persian (right to left, Persian digits,
Solar Hijri dates first).  :func:`write_council_report` writes the HTML or the PDF (Debian's Chromium, through
:mod:`citydiplomacy.report.pdf`) atomically, as the city report does.

What is counted in a period, and how:

* agreements **signed** (``signed_on``, or ``signed_year``), **ended** (a status change to ``ended`` taking
  effect in the period, or ``ended_year``), **renewed** (``valid_until`` moved later by an edit made in the
  period, or a status change from dormant or suspended back to active), and **dormant** at the period's end
  (the agreement health of :func:`citydiplomacy.store.agreements.attention`, as of that day);
* the city's **activities** (its own, and those serving its agreements and memberships), by kind, dimension
  and function of the model; **delegations and visits** (kinds ``delegation`` and ``visit``), by direction
  when the record has one; **spending** per currency (never summed across currencies) and **membership dues**;
* **outcomes** (by catalogue code and unit, with the quantities summed per unit), dated by their own date or
  their activity's; **overdue follow-up actions** at the period's end
  (:func:`citydiplomacy.store.agreements.overdue_actions`).

A date known only to its year counts as of that year's last day, as the agreement health counts it; so does a
membership's dues year.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jdatetime
import jinja2
from markupsafe import Markup
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound
from citydiplomacy.model.outcomes import load_outcomes
from citydiplomacy.present import i18n
from citydiplomacy.present.fmt import formatter
from citydiplomacy.report.city_report import (
    LANGS,
    TEMPLATES,
    ReportError,
    _font_faces,
    check_output,
    write_rendered,
)
from citydiplomacy.store import agreements, db, queries
from citydiplomacy.store.agreements import activity_date, agreement_start
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.schema import (
    Activity,
    AuditEntry,
    Membership,
    MembershipDue,
    Outcome,
    Place,
    Relation,
    RelationStatus,
)

__all__ = [
    "CALENDARS",
    "CouncilReportError",
    "Period",
    "collect_council",
    "council_report",
    "council_report_html",
    "default_period",
    "period_of",
    "render_body",
    "render_html",
    "write_council_report",
]

#: ``auto`` decides by the value: 1200-1599 is a Solar Hijri year, 1600 and later a Gregorian one.
CALENDARS: tuple[str, ...] = ("auto", "gregorian", "solar_hijri")
#: Earliest years a council report covers (the registry's records start in the twentieth century).
MIN_GREGORIAN, MIN_SOLAR_HIJRI = 1900, 1279
#: Activity kinds listed as delegations and visits.
DELEGATION_KINDS: tuple[str, ...] = ("delegation", "visit")
#: Delegations by direction: incoming, outgoing, then those whose record has none ("-").
DIRECTION_ORDER: dict[str, int] = {"incoming": 0, "outgoing": 1, "-": 2}
#: Status changes that bring an agreement back into force (a renewal after a quiet or suspended spell).
REVIVED_FROM: frozenset[str] = frozenset({"dormant", "suspended"})


class CouncilReportError(ReportError, BadInput):
    """The council report cannot be made: an unknown city, a year out of range (message in the user's language)."""


def _message(key: str, lang: str, **values: Any) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in (numbers in the language's digits)."""
    fmt = formatter(lang)
    return i18n.translate(key, lang).format(
        **{k: fmt.digits(v) if isinstance(v, int) else v for k, v in values.items()}
    )


# --- the period --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A report year: a Gregorian year (1 January - 31 December) or a Solar Hijri one (1 Farvardin - the last
    day of Esfand, about 21 March - 20 March).

    Attributes
    ----------
    calendar : {"gregorian", "solar_hijri"}
    year : int
        The year in its calendar.
    start, end : date
        The first and the last day (inclusive), Gregorian.
    """

    calendar: str
    year: int
    start: date
    end: date

    @classmethod
    def of(cls, calendar: str, year: int) -> Period:
        """The period of ``year`` in ``calendar`` (no range check: see :func:`period_of`)."""
        if calendar == "solar_hijri":
            start = jdatetime.date(year, 1, 1).togregorian()
            end = jdatetime.date(year + 1, 1, 1).togregorian() - timedelta(days=1)
            return cls(calendar, year, start, end)
        return cls("gregorian", year, date(year, 1, 1), date(year, 12, 31))

    def previous(self) -> Period:
        """The year before, in the same calendar."""
        return Period.of(self.calendar, self.year - 1)

    def following(self) -> Period:
        """The year after, in the same calendar."""
        return Period.of(self.calendar, self.year + 1)

    def contains(self, day: date | None) -> bool:
        """True when ``day`` falls in the period."""
        return day is not None and self.start <= day <= self.end

    @property
    def solar_hijri(self) -> bool:
        return self.calendar == "solar_hijri"

    def name(self, lang: str) -> str:
        """The year as a heading says it: ``1403 SH`` / ``۱۴۰۳``, ``2024 (1402/03 SH)`` / ``۱۴۰۲/۰۳ (۲۰۲۴)``."""
        fmt = formatter(lang)
        if self.solar_hijri:
            return fmt.digits(self.year) if lang == "fa" else f"{self.year} SH"
        return fmt.year(self.year)

    def span(self, lang: str) -> str:
        """First and last day: Solar Hijri first in Persian, Gregorian first in English (both calendars)."""
        fmt = formatter(lang)
        return f"{fmt.date(self.start)} – {fmt.date(self.end)}"


def period_of(year: int, calendar: str = "auto", *, lang: str = "en", today: date | None = None) -> Period:
    """The report period of ``year``.

    Parameters
    ----------
    year : int
        A Gregorian year (2024) or a Solar Hijri one (1403).
    calendar : {"auto", "gregorian", "solar_hijri"}
        ``auto``: 1200-1599 is Solar Hijri, 1600 and later Gregorian (the two never overlap in the years a
        registry holds).
    lang : {"en", "fa"}
        Language of the error message.
    today : date, optional
        The day the report is made (default: today); a year that has not begun is refused.

    Raises
    ------
    CouncilReportError
        An unknown calendar, or a year before 1900 (1279 SH) or after the current one.
    """
    today = today or date.today()
    calendar = calendar.replace("-", "_").lower()
    if calendar not in CALENDARS:
        raise CouncilReportError(_message("council_bad_calendar", lang, calendar=calendar))
    if calendar == "auto":
        calendar = "solar_hijri" if 1200 <= year < 1600 else "gregorian"
    this_sh = jdatetime.date.fromgregorian(date=today).year
    low, high = (MIN_SOLAR_HIJRI, this_sh) if calendar == "solar_hijri" else (MIN_GREGORIAN, today.year)
    if not low <= year <= high:
        raise CouncilReportError(
            _message(
                "council_bad_year",
                lang,
                year=year,
                g_low=MIN_GREGORIAN,
                g_high=today.year,
                sh_low=MIN_SOLAR_HIJRI,
                sh_high=this_sh,
            )  # fmt: skip
        )
    return Period.of(calendar, year)


def default_period(lang: str, today: date | None = None) -> Period:
    """The last complete year in the language's calendar (Solar Hijri in Persian, Gregorian in English)."""
    today = today or date.today()
    if lang == "fa":
        return Period.of("solar_hijri", jdatetime.date.fromgregorian(date=today).year - 1)
    return Period.of("gregorian", today.year - 1)


# --- collecting the year's figures ---------------------------------------------------------------------------------


def _day(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _year_end(year: int | None) -> date | None:
    # A date known only to its year counts as of the year's last day (as agreements.activity_date counts activities).
    return date(year, 12, 31) if year else None


@dataclass
class _Record:
    """Everything of one city the report reads, loaded once for both years."""

    place: Place
    relations: list[Relation]
    memberships: dict[int, Membership]
    activities: list[Activity]
    outcomes: list[Outcome]
    dues: list[MembershipDue]
    history: list[RelationStatus]
    valid_until_edits: list[AuditEntry]


def _load(session: Session, place: Place) -> _Record:
    relations = list(session.scalars(agreements.agreements_query(place.id)))
    rel_ids = [r.id for r in relations]
    memberships = {m.id: m for m in session.scalars(select(Membership).where(Membership.place_id == place.id))}
    conditions = [Activity.place_id == place.id]
    if rel_ids:
        conditions.append(Activity.relation_id.in_(rel_ids))
    if memberships:
        conditions.append(Activity.membership_id.in_(list(memberships)))
    activities = list(session.scalars(select(Activity).where(or_(*conditions)).order_by(Activity.id)))
    act_ids = [a.id for a in activities]
    outcome_of = [Outcome.activity_id.in_(act_ids)] if act_ids else []
    if rel_ids:
        outcome_of.append(Outcome.relation_id.in_(rel_ids))
    outcomes = list(session.scalars(select(Outcome).where(or_(*outcome_of)).order_by(Outcome.id))) if outcome_of else []
    dues = (
        list(session.scalars(select(MembershipDue).where(MembershipDue.membership_id.in_(list(memberships)))))
        if memberships
        else []
    )
    history = (
        list(session.scalars(select(RelationStatus).where(RelationStatus.relation_id.in_(rel_ids)))) if rel_ids else []
    )
    edits = (
        [
            e
            for e in session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity == "relation", AuditEntry.action == "update", AuditEntry.entity_id.in_(rel_ids)
                )
            )
            if isinstance(e.changes, dict) and "valid_until" in e.changes
        ]
        if rel_ids
        else []
    )
    return _Record(place, relations, memberships, activities, outcomes, dues, history, edits)


def _agreement_row(relation: Relation, place_id: int, on: date | None, **extra: Any) -> dict[str, Any]:
    return {**agreements.summary_dict(relation, place_id), "on": on.isoformat() if on else None, **extra}


def _partner(activity: Activity, by_id: dict[int, Relation], place_id: int) -> dict[str, Any] | None:
    """Whom an activity was with: its agreement's other party, else its organisation."""
    relation = by_id.get(activity.relation_id) if activity.relation_id else None
    if relation is not None:
        return agreements.parties_of(relation, place_id)[1]
    if activity.organisation is not None:
        org = activity.organisation
        return {"type": "organisation", "id": org.id, "name": org.name, "name_fa": org.name_fa}
    return None


def _figures(session: Session, rec: _Record, period: Period, today: date) -> dict[str, Any]:
    """The figures of one period (see the module's docstring for what counts)."""
    pid = rec.place.id
    as_of = min(period.end, today)
    by_id = {r.id: r for r in rec.relations}

    signed = []
    for r in rec.relations:
        on = agreement_start(r)
        if period.contains(on):
            signed.append(_agreement_row(r, pid, on, year_only=r.signed_on is None))
    ended: dict[int, dict[str, Any]] = {}
    renewed: dict[int, dict[str, Any]] = {}
    for h in sorted(rec.history, key=lambda h: (h.effective_on or _day(h.changed_at), h.id)):
        on = h.effective_on or _day(h.changed_at)
        if not period.contains(on) or h.relation_id not in by_id:
            continue
        if h.status == "ended":
            ended[h.relation_id] = _agreement_row(by_id[h.relation_id], pid, on, year_only=False, reason=h.reason)
        elif h.status == "active" and h.previous_status in REVIVED_FROM:
            renewed[h.relation_id] = _agreement_row(by_id[h.relation_id], pid, on, how="revived",
                                                    previous=h.previous_status, reason=h.reason)  # fmt: skip
    has_end_row = {h.relation_id for h in rec.history if h.status == "ended"}
    for r in rec.relations:
        on = _year_end(r.ended_year)
        if r.id not in ended and r.id not in has_end_row and period.contains(on):
            ended[r.id] = _agreement_row(r, pid, on, year_only=True, reason=None)
    for e in rec.valid_until_edits:
        old, new = e.changes["valid_until"]
        on = _day(e.at)
        if old and new and new > old and period.contains(on) and e.entity_id in by_id:
            renewed.setdefault(e.entity_id, _agreement_row(by_id[e.entity_id], pid, on, how="extended",  # type: ignore[arg-type]
                               previous=old, until=new, reason=None))  # fmt: skip
    dormant = [
        {**a, "on": as_of.isoformat()}
        for a in agreements.attention(session, today=as_of, place_id=pid)
        if "dormant" in a["flags"]
    ]

    acts = [a for a in rec.activities if period.contains(activity_date(a))]
    acts.sort(key=lambda a: (activity_date(a), a.id))
    by_kind = Counter(a.kind for a in acts)
    by_dimension = Counter(d for a in acts for d in (a.dimensions or ["-"]))
    by_function = Counter(f for a in acts for f in (a.functions or ["-"]))
    delegations = []
    for a in acts:
        if a.kind in DELEGATION_KINDS:
            delegations.append({
                **agreements.activity_dict(a), "on": activity_date(a).isoformat(),  # type: ignore[union-attr]
                "year_only": a.happened_on is None, "direction": getattr(a, "direction", None),
                "partner": _partner(a, by_id, pid),
            })  # fmt: skip
    directions = Counter(d["direction"] or "-" for d in delegations)
    spending: dict[str, dict[str, float]] = defaultdict(lambda: {"amount": 0.0, "activities": 0})
    for a in acts:
        if a.cost_amount is not None and a.cost_currency:
            spending[a.cost_currency]["amount"] += a.cost_amount
            spending[a.cost_currency]["activities"] += 1
    dues_rows, dues_total = [], defaultdict(float)
    for d in sorted(rec.dues, key=lambda d: (d.year, d.id)):
        if period.contains(_year_end(d.year)):
            m = rec.memberships[d.membership_id]
            org = m.organisation
            dues_rows.append({"organisation": {"name": org.name, "name_fa": org.name_fa, "acronym": org.acronym,
                              "id": org.id}, "year": d.year, "amount": d.amount, "currency": d.currency})  # fmt: skip
            dues_total[d.currency] += d.amount

    act_dates = {a.id: activity_date(a) for a in rec.activities}
    catalogue = load_outcomes()
    outcome_groups: dict[tuple[str, str], dict[str, Any]] = {}
    n_outcomes = 0
    for o in rec.outcomes:
        on = o.happened_on or act_dates.get(o.activity_id)  # type: ignore[arg-type]
        if not period.contains(on):
            continue
        n_outcomes += 1
        kind = catalogue.get(o.code)
        unit = o.unit or (kind.unit if kind else "") or ""
        g = outcome_groups.setdefault((o.code, unit), {
            "code": o.code, "name": kind.name if kind else o.code, "name_fa": kind.name_fa if kind else o.code,
            "unit": unit, "count": 0, "quantity": None,
        })  # fmt: skip
        g["count"] += 1
        if o.quantity is not None:
            g["quantity"] = (g["quantity"] or 0.0) + o.quantity
    order = {code: i for i, code in enumerate(catalogue)}
    outcomes = sorted(outcome_groups.values(), key=lambda g: (order.get(g["code"], len(order)), g["unit"]))

    act_ids = {a.id for a in rec.activities}
    overdue = [
        x for x in agreements.overdue_actions(session, today=as_of)
        if x["relation_id"] in by_id or x["activity_id"] in act_ids
    ]  # fmt: skip
    for x in overdue:
        relation = by_id.get(x["relation_id"]) if x["relation_id"] else None
        x["agreement"] = agreements.summary_dict(relation, pid) if relation is not None else None
        x["days_late"] = (as_of - date.fromisoformat(x["due_on"])).days

    nothing = not (signed or ended or renewed or acts or dues_rows or n_outcomes or overdue)
    return {
        "period": period,
        "as_of": as_of.isoformat(),
        "partial": as_of < period.end,
        "nothing_recorded": nothing,
        "agreements": {
            "signed": signed,
            "renewed": list(renewed.values()),
            "ended": list(ended.values()),
            "dormant": dormant,
        },
        "activities": {
            "total": len(acts),
            "year_only": sum(1 for a in acts if a.happened_on is None),
            "by_kind": by_kind.most_common(),
            "by_dimension": _ordered(by_dimension, _dimension_order()),
            "by_function": by_function.most_common(),
        },
        "delegations": delegations,
        "directions": sorted(directions.items(), key=lambda kv: DIRECTION_ORDER.get(kv[0], 1)),
        "spending": [{"currency": c, **spending[c]} for c in sorted(spending)],
        "dues": dues_rows,
        "dues_total": [{"currency": c, "amount": dues_total[c]} for c in sorted(dues_total)],
        "outcomes": outcomes,
        "outcomes_total": n_outcomes,
        "overdue": overdue,
    }


@cache
def _dimension_order() -> tuple[str, ...]:
    from citydiplomacy.model.vocab import DIMENSIONS

    return tuple(DIMENSIONS)


def _ordered(counts: Counter[str], order: tuple[str, ...]) -> list[tuple[str, int]]:
    rank = {code: i for i, code in enumerate(order)}
    return sorted(counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def collect_council(session: Session, place: Place, period: Period, today: date | None = None) -> dict[str, Any]:
    """The council report's figures of ``place`` for ``period`` and for the year before.

    Returns
    -------
    dict
        ``place`` (:func:`~citydiplomacy.store.queries.place_dict`), ``period``, ``current`` and ``previous``:
        the figures of each year (``agreements`` signed/renewed/ended/dormant, ``activities`` by kind,
        dimension and function, ``delegations`` with ``directions``, ``spending`` and ``dues`` per currency,
        ``outcomes`` by code and unit, ``overdue`` actions, ``nothing_recorded``), and ``comparison``: the
        count figures side by side, ``(key, this year, the year before)``.
    """
    today = today or date.today()
    rec = _load(session, place)
    current = _figures(session, rec, period, today)
    previous = _figures(session, rec, period.previous(), today)
    return {
        "place": queries.place_dict(place),
        "period": period,
        "current": current,
        "previous": previous,
        "comparison": _comparison(current, previous),
        "money": _money(current, previous),
        "outcome_rows": _outcome_rows(current, previous),
        "today": today.isoformat(),
    }


def _counts(f: dict[str, Any]) -> dict[str, int]:
    a = f["agreements"]
    return {
        "council_signed": len(a["signed"]),
        "council_renewed": len(a["renewed"]),
        "council_ended": len(a["ended"]),
        "council_dormant": len(a["dormant"]),
        "council_activities": f["activities"]["total"],
        "council_delegations": len(f["delegations"]),
        "council_outcomes": f["outcomes_total"],
        "council_overdue": len(f["overdue"]),
    }


def _comparison(current: dict[str, Any], previous: dict[str, Any]) -> list[tuple[str, int, int]]:
    now, before = _counts(current), _counts(previous)
    return [(key, now[key], before[key]) for key in now]


def _money(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """Spending and dues per currency, this year beside the year before (never added across currencies)."""
    rows = []
    for what, key in (("council_spending", "spending"), ("council_dues", "dues_total")):
        now = {r["currency"]: r["amount"] for r in current[key]}
        before = {r["currency"]: r["amount"] for r in previous[key]}
        for c in sorted(now.keys() | before.keys()):
            rows.append({"what": what, "currency": c, "current": now.get(c), "previous": before.get(c)})
    return rows


def _outcome_rows(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """Outcomes by code and unit, this year beside the year before (catalogue order)."""
    before = {(g["code"], g["unit"]): g for g in previous["outcomes"]}
    rows = [{**g, "before": before.pop((g["code"], g["unit"]), None)} for g in current["outcomes"]]
    rows += [{**g, "count": 0, "quantity": None, "before": g} for g in before.values()]
    order = {code: i for i, code in enumerate(load_outcomes())}
    return sorted(rows, key=lambda g: (order.get(g["code"], len(order)), g["unit"]))


# --- rendering ------------------------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _context(report: dict[str, Any], lang: str, link: bool) -> dict[str, Any]:
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    fmt = formatter(lang)

    def change(now: float | None, before: float | None) -> str:
        if now is None or before is None:
            return ""
        delta = now - before
        return ("+" if delta > 0 else "") + fmt.num(delta) if delta else "±" + fmt.num(0)

    def unit(text: str | None) -> str:
        key = "council_unit_" + (text or "").replace(" ", "_")
        return fmt.t(key) if key in i18n.MESSAGES else (text or "")

    def direction(code: str | None) -> str:
        return fmt.t("council_direction_" + (code if code in ("incoming", "outgoing") else "unknown"))

    return {
        "lang": lang, "dir": "rtl" if lang == "fa" else "ltr", "fmt": fmt, "t": fmt.t, "r": report,
        "place": report["place"], "period": report["period"], "previous": report["period"].previous(),
        "cur": report["current"], "prev": report["previous"], "change": change, "direction": direction, "unit": unit,
        "link": link, "dormant_days": settings.AGREEMENT_DORMANT_AFTER_DAYS,
        "money": lambda v: fmt.num(v, 0 if v is None or float(v).is_integer() else 2),
    }  # fmt: skip


def render_body(report: dict[str, Any], lang: str = "en", *, link: bool = False) -> Markup:
    """The report's sections as an HTML fragment (the dashboard page embeds it; :func:`render_html` wraps it).

    ``link``: make agreements and cities links of the dashboard (``/agreements/{id}``).
    """
    html = _environment().get_template("council_body.html").render(**_context(report, lang, link))
    return Markup(html)


def render_html(report: dict[str, Any], lang: str = "en", generated: datetime | None = None) -> str:
    """The self-contained council report page (embedded font, no network request) of :func:`collect_council`."""
    context = _context(report, lang, link=False)
    fmt = context["fmt"]
    return (
        _environment()
        .get_template("council_report.html")
        .render(
            **context,
            body=render_body(report, lang),
            font_faces=Markup(_font_faces()),
            generated=fmt.date((generated or datetime.now().astimezone()).date()),
        )
    )


def council_report(
    session: Session, city: str, country: str | None, year: int, calendar: str = "auto", *, lang: str = "en",
    today: date | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Look the city up and collect its council report (the service the CLI calls).

    Raises
    ------
    CouncilReportError
        The city is unknown or ambiguous, or the year is out of range (the message in ``lang``).
    """
    period = period_of(year, calendar, lang=lang, today=today)
    try:
        place = find_place(session, city, country)
    except AmbiguousPlace as exc:
        raise CouncilReportError(_message("council_ambiguous_city", lang, city=city)) from exc
    except NotFound as exc:
        raise CouncilReportError(_message("council_unknown_city", lang, city=city)) from exc
    return collect_council(session, place, period, today)


def council_report_html(
    engine: Engine | None, city: str, country: str | None, year: int, calendar: str = "auto", lang: str = "en",
    today: date | None = None,
) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The council report page of a city and a year, and the collected report."""
    engine = engine or db.get_engine()
    with db.session_scope(engine) as session:
        report = council_report(session, city, country, year, calendar, lang=lang, today=today)
        html = render_html(report, lang)
    return html, report


def write_council_report(
    engine: Engine | None, city: str, year: int, *, country: str | None = None, calendar: str = "auto",
    lang: str = "en", fmt: str = "html", out: str | Path = "council.html", today: date | None = None,
) -> Path:  # fmt: skip
    """Write a city's council report for a year as HTML or PDF (atomically) and return the path written.

    Raises
    ------
    CouncilReportError
        Unknown city, year out of range (in ``lang``).
    ReportError
        Unknown language or format.
    citydiplomacy.report.pdf.ChromiumMissing
        ``fmt="pdf"`` and no Chromium is installed.
    """
    check_output(lang, fmt)
    html, _report = council_report_html(engine, city, country, year, calendar, lang, today)
    return write_rendered(html, fmt, out)
