"""The office's own workbook: the whole record of cooperation as one XLSX, out and back in without loss.

One sheet per record type (places, organisations, people, agreements with their status history and signatories,
memberships and their dues, activities (delegations and visits with their direction, purpose and last day) and
their participants (places, organisations, people), outcomes, follow-up actions), in this order, after an "About" sheet
that explains them in English and Persian.  Records refer to each other by **names, not ids**: each sheet's
``ref`` column holds a readable key ("Tehran, IR", "Tehran, IR – Minsk, BY: sister_city"), unique in the
workbook, and the other sheets name those keys.  Every date is written twice, Gregorian (``signed_on``) and
Solar Hijri (``signed_on_sh``); on import either may be given, and both, when given, must agree.

The layout is decided here once: :func:`export_workbook` writes it and :func:`import_workbook` reads it.
An import is one transaction through the registry's write services (so the audit trail records it); it is
idempotent (a record already held, found by its natural key, is not written twice), and any problem — a
missing sheet or column, an unknown name, a date in the wrong calendar, a value the registry refuses —
is reported with its sheet, row and field, every problem of the workbook at once, and nothing is written.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jdatetime
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from citydiplomacy import settings
from citydiplomacy.core.cells import neutralise
from citydiplomacy.core.errors import BadInput
from citydiplomacy.geo.gazetteer import PLACE_GAZETTEERS
from citydiplomacy.ingest.tabular import InputError, read_rows
from citydiplomacy.model.vocab import MEMBERSHIP_STATUSES, RELATION_STATUSES
from citydiplomacy.present.fmt import to_solar_hijri
from citydiplomacy.present.i18n import translate
from citydiplomacy.store import agreements as agreement_service
from citydiplomacy.store import documents as document_service
from citydiplomacy.store import inputs
from citydiplomacy.store import people as people_service
from citydiplomacy.store.lookup import gazetteer_ref
from citydiplomacy.store.records import create_record, gazetteer_place, source_id_for
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    ActivityPerson,
    AgreementSignatory,
    Document,
    FollowUpAction,
    Membership,
    MembershipDue,
    Organisation,
    Outcome,
    Person,
    Place,
    Relation,
    RelationStatus,
    Source,
)

__all__ = ["SHEETS", "WorkbookError", "WorkbookSummary", "export_workbook", "import_workbook"]

#: sheet name -> its columns, in order.  ``*_sh`` columns are the Solar Hijri twin of the date before them.
SHEETS: dict[str, tuple[str, ...]] = {
    "Places": ("ref", "name", "name_fa", "country", "admin1", "admin_level", "lat", "lng", "population",
               "is_capital", "gazetteer", "gazetteer_id", "wikidata_id"),
    "Organisations": ("ref", "name", "name_fa", "acronym", "kind", "scale", "founded", "seat", "themes",
                      "description"),
    "People": ("ref", "name", "name_fa", "title", "title_fa", "unit", "place", "organisation", "contact", "notes",
               "source", "source_locator"),
    "Agreements": ("ref", "place", "partner_place", "partner_organisation", "kind", "status", "title", "title_fa",
                   "signed_on", "signed_on_sh", "signed_year", "valid_until", "valid_until_sh", "ended_year",
                   "responsible_unit", "dimensions", "functions", "notes", "source", "source_locator"),
    "Status history": ("agreement", "status", "previous_status", "effective_on", "effective_on_sh", "changed_at",
                       "changed_by", "reason", "source", "source_locator"),
    "Signatories": ("agreement", "person", "role"),
    "Memberships": ("ref", "place", "organisation", "role", "role_verbatim", "since_year", "until_year", "status",
                    "notes", "source", "source_locator"),
    "Dues": ("membership", "year", "amount", "currency", "source", "source_locator"),
    "Activities": ("ref", "kind", "title", "title_fa", "happened_on", "happened_on_sh", "year", "place",
                   "organisation", "agreement", "membership", "dimensions", "functions", "indicators",
                   "description", "cost_amount", "cost_currency", "funding_source", "direction", "purpose",
                   "ends_on", "ends_on_sh", "source", "source_locator"),
    "Participants": ("activity", "place", "organisation", "role"),
    "Activity people": ("activity", "person", "role"),
    "Outcomes": ("agreement", "activity", "code", "quantity", "unit", "evidence", "happened_on", "happened_on_sh",
                 "source", "source_locator"),
    "Follow-up actions": ("agreement", "activity", "title", "owner", "due_on", "due_on_sh", "state", "done_on",
                          "done_on_sh", "source", "source_locator"),
    "Documents": ("agreement", "activity", "kind", "title", "file_name", "media_type", "size_bytes", "sha256",
                  "file", "source", "source_locator"),
}  # fmt: skip
#: Sheets a workbook written before they existed may lack (read as empty).
OPTIONAL_SHEETS = ("Documents",)
#: In a zip export: the workbook's name, and the folder of the documents' files (``documents/<sha256>``).
ZIP_WORKBOOK = "workbook.xlsx"
ZIP_DOCUMENTS = "documents/"
#: The columns a sheet must have (the others may be left out of a workbook made by hand).
REQUIRED: dict[str, tuple[str, ...]] = {
    "Places": ("ref", "name", "country"),
    "Organisations": ("ref", "name", "kind"),
    "People": ("ref", "name"),
    "Signatories": ("agreement", "person"),
    "Activity people": ("activity", "person"),
    "Agreements": ("ref", "place", "partner_place", "partner_organisation", "kind"),
    "Status history": ("agreement", "status"),
    "Memberships": ("ref", "place", "organisation", "role"),
    "Dues": ("membership", "year", "amount", "currency"),
    "Activities": ("ref", "kind", "title"),
    "Participants": ("activity",),
    "Outcomes": ("agreement", "activity", "code"),
    "Follow-up actions": ("agreement", "activity", "title", "owner"),
    "Documents": ("agreement", "activity", "file_name", "sha256"),
}
_LIST_SEPARATOR = "; "
#: Years before this on a Gregorian date column are a Solar Hijri date typed in the wrong column.
_FIRST_GREGORIAN_YEAR = 1700
_SH_DATE = re.compile(r"^\s*(\d{3,4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")
_PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


class WorkbookError(BadInput):
    """A workbook that cannot be imported: every problem found, each naming its sheet, row and field."""

    def __init__(self, problems: Sequence[InputError]):
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"the workbook was not imported ({len(self.problems)} problem(s)); nothing was written:\n"
                         f"{shown}{more}")  # fmt: skip


@dataclass
class WorkbookSummary:
    """What an export wrote or an import added (``added``) and found already held (``kept``), per sheet."""

    path: str
    rows: dict[str, int] = field(default_factory=dict)
    added: Counter[str] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.path, "rows": dict(self.rows), "added": dict(self.added), "kept": dict(self.kept)}


# --------------------------------------------------------------------------- dates in both calendars


def _instant(value: datetime | None) -> str | None:
    """A recorded instant as exact ISO text in UTC (a spreadsheet's date cell would round its microseconds)."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(tzinfo=None).isoformat()


def _sh(value: date | None) -> str | None:
    return to_solar_hijri(value).strftime("%Y-%m-%d") if value else None


def _gregorian_from_sh(text: str) -> date:
    match = _SH_DATE.match(text.translate(_PERSIAN_DIGITS))
    if not match:
        raise ValueError(f"{text!r} is not a Solar Hijri date (YYYY-MM-DD, e.g. 1403-02-15)")
    year, month, day = (int(g) for g in match.groups())
    if year >= _FIRST_GREGORIAN_YEAR:
        raise ValueError(f"{text!r} looks like a Gregorian date; a Solar Hijri year is like 1403")
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a Solar Hijri date: {exc}") from exc


def _gregorian(text: str) -> date:
    try:
        value = date.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from exc
    if value.year < _FIRST_GREGORIAN_YEAR:
        raise ValueError(
            f"{text!r} looks like a Solar Hijri date (year {value.year}); put it in the _sh column, or give "
            f"the Gregorian date ({_gregorian_from_sh(text[:10]).isoformat()} if it is Solar Hijri)"
        )
    return value


# --------------------------------------------------------------------------- export


def _join(values: Iterable[str] | None) -> str | None:
    return _LIST_SEPARATOR.join(values) if values else None


def _unique(base: str, taken: set[str]) -> str:
    ref, n = base, 1
    while ref in taken:
        n += 1
        ref = f"{base} [{n}]"
    taken.add(ref)
    return ref


class _Refs:
    """The workbook keys of the records exported: one per record, readable, unique within its sheet."""

    def __init__(self) -> None:
        self.places: dict[int, str] = {}
        self.organisations: dict[int, str] = {}
        self.agreements: dict[int, str] = {}
        self.memberships: dict[int, str] = {}
        self.activities: dict[int, str] = {}
        self.people: dict[int, str] = {}
        self._taken: dict[str, set[str]] = {}

    def add(self, sheet: str, table: dict[int, str], record_id: int, base: str) -> str:
        table[record_id] = _unique(base, self._taken.setdefault(sheet, set()))
        return table[record_id]


def _source_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Source.id, Source.name))}


def _place_scope(session: Session, place_id: int | None) -> tuple[list[Relation], list[Membership], list[Activity]]:
    relations = select(Relation).options(selectinload(Relation.history)).order_by(Relation.id)
    memberships = select(Membership).order_by(Membership.id)
    activities = select(Activity).options(selectinload(Activity.participants)).order_by(Activity.id)
    if place_id is not None:
        relations = relations.where((Relation.place_a_id == place_id) | (Relation.place_b_id == place_id))
        memberships = memberships.where(Membership.place_id == place_id)
    rel = list(session.scalars(relations))
    mem = list(session.scalars(memberships))
    act = list(session.scalars(activities))
    if place_id is not None:
        rel_ids, mem_ids = {r.id for r in rel}, {m.id for m in mem}
        act = [
            a for a in act
            if a.place_id == place_id or a.relation_id in rel_ids or a.membership_id in mem_ids
            or any(p.place_id == place_id for p in a.participants)
        ]  # fmt: skip
    return rel, mem, act


def export_workbook(session: Session, out: str | Path, *, place_id: int | None = None) -> WorkbookSummary:
    """Write the office's record (every agreement, membership, activity, … or one place's) as one workbook.

    Parameters
    ----------
    session
        A session on the registry (only read).
    out
        The ``.xlsx`` file to write (replaced if it exists).
    place_id
        Only this place's record: its agreements and memberships, the activities that serve them or
        involve it, with the places and organisations these name.  None: the whole registry's record.

    Returns
    -------
    WorkbookSummary
        The rows written per sheet.
    """
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    relations, memberships, activities = _place_scope(session, place_id)
    activity_ids = {a.id for a in activities}
    relation_ids = {r.id for r in relations}
    outcomes = [o for o in session.scalars(select(Outcome).order_by(Outcome.id))
                if o.relation_id in relation_ids or o.activity_id in activity_ids]  # fmt: skip
    actions = [a for a in session.scalars(select(FollowUpAction).order_by(FollowUpAction.id))
               if a.relation_id in relation_ids or a.activity_id in activity_ids]  # fmt: skip
    dues = [d for d in session.scalars(select(MembershipDue).order_by(MembershipDue.id))
            if d.membership_id in {m.id for m in memberships}]  # fmt: skip
    sources = _source_names(session)

    place_ids: set[int] = set() if place_id is None else {place_id}
    org_ids: set[int] = set()
    for r in relations:
        place_ids.update(i for i in (r.place_a_id, r.place_b_id) if i)
        org_ids.update(i for i in (r.organisation_id,) if i)
    for m in memberships:
        place_ids.add(m.place_id)
        org_ids.add(m.organisation_id)
    for a in activities:
        place_ids.update(i for i in [a.place_id, *(p.place_id for p in a.participants)] if i)
        org_ids.update(i for i in [a.organisation_id, *(p.organisation_id for p in a.participants)] if i)
    relation_ids_all = {r.id for r in relations}
    signatories = [x for x in session.scalars(select(AgreementSignatory).order_by(AgreementSignatory.id))
                   if x.relation_id in relation_ids_all]  # fmt: skip
    activity_people = [x for x in session.scalars(select(ActivityPerson).order_by(ActivityPerson.id))
                       if x.activity_id in activity_ids]  # fmt: skip
    person_ids = {x.person_id for x in signatories} | {x.person_id for x in activity_people}
    if place_id is None:
        person_ids |= set(session.scalars(select(Person.id)))
    else:
        person_ids |= set(session.scalars(select(Person.id).where(Person.place_id == place_id)))
    persons = [x for x in session.scalars(select(Person).order_by(Person.id)) if x.id in person_ids]
    for x in persons:
        place_ids.update(i for i in (x.place_id,) if i)
        org_ids.update(i for i in (x.organisation_id,) if i)
    orgs = [o for o in session.scalars(select(Organisation).order_by(Organisation.id)) if o.id in org_ids]
    place_ids.update(o.seat_place_id for o in orgs if o.seat_place_id)
    places = sorted((session.get(Place, i) for i in place_ids), key=lambda p: p.id)  # type: ignore[union-attr]

    refs = _Refs()
    names = Counter(f"{p.name}, {p.country_code or '?'}" for p in places)
    for p in places:
        base = f"{p.name}, {p.country_code or '?'}"
        if names[base] > 1 and p.admin1_code:
            base = f"{p.name}, {p.country_code} {p.admin1_code}"
        refs.add("Places", refs.places, p.id, base)
    acronyms = Counter(o.acronym for o in orgs if o.acronym)
    for o in orgs:
        refs.add("Organisations", refs.organisations, o.id, o.acronym if o.acronym and acronyms[o.acronym] == 1
                 else o.name)  # fmt: skip

    def place(i: int | None) -> str | None:
        return refs.places.get(i) if i else None

    def org(i: int | None) -> str | None:
        return refs.organisations.get(i) if i else None

    def src(i: int | None) -> str | None:
        return sources.get(i) if i else None

    for x in persons:
        refs.add("People", refs.people, x.id, f"{x.name} ({x.unit})" if x.unit else x.name)
    for r in relations:
        partner = place(r.place_b_id) or org(r.organisation_id)
        year = f" {r.signed_year}" if r.signed_year else ""
        refs.add("Agreements", refs.agreements, r.id, f"{place(r.place_a_id)} – {partner}: {r.kind}{year}")
    for m in memberships:
        refs.add("Memberships", refs.memberships, m.id, f"{place(m.place_id)} in {org(m.organisation_id)} ({m.role})")
    for a in activities:
        when = a.happened_on.isoformat() if a.happened_on else (str(a.year) if a.year else "")
        refs.add("Activities", refs.activities, a.id, f"{a.title} ({when})" if when else a.title)

    rows: dict[str, list[list[Any]]] = {name: [] for name in SHEETS}
    for p in places:
        rows["Places"].append([refs.places[p.id], p.name, p.name_fa, p.country_code, p.admin1_code, p.admin_level,
                               p.lat, p.lng, p.population, p.is_capital, p.gazetteer, p.gazetteer_id,
                               p.wikidata_id])  # fmt: skip
    for o in orgs:
        rows["Organisations"].append([refs.organisations[o.id], o.name, o.name_fa, o.acronym, o.kind, o.scale,
                                      o.founded, place(o.seat_place_id), _join(o.themes), o.description])  # fmt: skip
    for x in persons:
        rows["People"].append([
            refs.people[x.id], x.name, x.name_fa, x.title, x.title_fa, x.unit, place(x.place_id),
            org(x.organisation_id), x.contact, x.notes, src(x.source_id), x.source_locator,
        ])  # fmt: skip
    for x in signatories:
        rows["Signatories"].append([refs.agreements[x.relation_id], refs.people[x.person_id], x.role])
    for x in activity_people:
        rows["Activity people"].append([refs.activities[x.activity_id], refs.people[x.person_id], x.role])
    for r in relations:
        rows["Agreements"].append([
            refs.agreements[r.id], place(r.place_a_id), place(r.place_b_id), org(r.organisation_id), r.kind,
            r.status, r.title, r.title_fa, r.signed_on, _sh(r.signed_on), r.signed_year, r.valid_until,
            _sh(r.valid_until), r.ended_year, r.responsible_unit, _join(r.dimensions), _join(r.functions), r.notes,
            src(r.source_id), r.source_locator,
        ])  # fmt: skip
        # A relation written in bulk has no history yet: its first row is implied (the status it was recorded
        # with, by whom, when), as store.agreements.ensure_first_status would write it.
        implied = [RelationStatus(status=r.status, previous_status=None, effective_on=None, changed_at=r.entered_at,
                                  changed_by=r.entered_by, reason=None, source_id=r.source_id,
                                  source_locator=r.source_locator)]  # fmt: skip
        for h in r.history or implied:
            rows["Status history"].append([
                refs.agreements[r.id], h.status, h.previous_status, h.effective_on, _sh(h.effective_on),
                _instant(h.changed_at), h.changed_by, h.reason, src(h.source_id), h.source_locator,
            ])  # fmt: skip
    for m in memberships:
        rows["Memberships"].append([refs.memberships[m.id], place(m.place_id), org(m.organisation_id), m.role,
                                    m.role_verbatim, m.since_year, m.until_year, m.status, m.notes,
                                    src(m.source_id), m.source_locator])  # fmt: skip
    for d in dues:
        rows["Dues"].append([refs.memberships[d.membership_id], d.year, d.amount, d.currency, src(d.source_id),
                             d.source_locator])  # fmt: skip
    for a in activities:
        rows["Activities"].append([
            refs.activities[a.id], a.kind, a.title, a.title_fa, a.happened_on, _sh(a.happened_on), a.year,
            place(a.place_id), org(a.organisation_id), refs.agreements.get(a.relation_id or 0),
            refs.memberships.get(a.membership_id or 0), _join(a.dimensions), _join(a.functions),
            _join(a.indicators), a.description, a.cost_amount, a.cost_currency, a.funding_source, a.direction,
            a.purpose, a.ends_on, _sh(a.ends_on), src(a.source_id), a.source_locator,
        ])  # fmt: skip
        for part in a.participants:
            rows["Participants"].append([refs.activities[a.id], place(part.place_id), org(part.organisation_id),
                                         part.role])  # fmt: skip
    for o in outcomes:
        rows["Outcomes"].append([refs.agreements.get(o.relation_id or 0), refs.activities.get(o.activity_id or 0),
                                 o.code, o.quantity, o.unit, o.evidence, o.happened_on, _sh(o.happened_on),
                                 src(o.source_id), o.source_locator])  # fmt: skip
    docs = [d for d in session.scalars(select(Document).order_by(Document.id))
            if d.relation_id in relation_ids or d.activity_id in activity_ids]  # fmt: skip
    as_zip = Path(out).suffix.lower() == ".zip"
    for d in docs:
        rows["Documents"].append([
            refs.agreements.get(d.relation_id or 0), refs.activities.get(d.activity_id or 0), d.kind, d.title,
            d.file_name, d.media_type, d.size_bytes, d.sha256, ZIP_DOCUMENTS + d.sha256 if as_zip else None,
            src(d.source_id), d.source_locator,
        ])  # fmt: skip
    for x in actions:
        rows["Follow-up actions"].append([
            refs.agreements.get(x.relation_id or 0), refs.activities.get(x.activity_id or 0), x.title, x.owner,
            x.due_on, _sh(x.due_on), x.state, x.done_on, _sh(x.done_on), src(x.source_id), x.source_locator,
        ])  # fmt: skip

    book = Workbook()
    about = book.active
    about.title = "About"
    about.append(["CityDiplomacy Observatory", translate("app_title", "fa")])
    about.append([translate("workbook_about", "en"), translate("workbook_about", "fa")])
    about.append([])
    about.append(["sheet", "English", "فارسی", "rows"])
    for cell in about[4]:
        cell.font = Font(bold=True)
    for name in SHEETS:
        key = "workbook_sheet_" + name.lower().replace(" ", "_").replace("-", "_")
        about.append([name, translate(key, "en"), translate(key, "fa"), len(rows[name])])
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 80
    about.column_dimensions["C"].width = 80

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            return ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(value))
        return value

    summary = WorkbookSummary(str(out))
    for name, columns in SHEETS.items():
        sheet = book.create_sheet(name)
        sheet.append(list(columns))
        for c in sheet[1]:
            c.font = Font(bold=True)
        for values in rows[name]:
            sheet.append([cell(v) for v in values])
        sheet.freeze_panes = "A2"
        summary.rows[name] = len(rows[name])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if not as_zip:
        book.save(tmp)
        tmp.replace(out)
        return summary
    # The zip: the workbook and each document's bytes once (``documents/<sha256>``), read one at a time.
    sheet_tmp = out.with_name(out.name + ".xlsx.part")
    try:
        book.save(sheet_tmp)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(sheet_tmp, ZIP_WORKBOOK)
            for digest in dict.fromkeys(d.sha256 for d in docs):
                content = session.scalar(select(Document.content).where(Document.sha256 == digest).limit(1))
                archive.writestr(ZIP_DOCUMENTS + digest, bytes(content))
        tmp.replace(out)
    finally:
        sheet_tmp.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    summary.rows["Document files"] = len({d.sha256 for d in docs})
    return summary


# --------------------------------------------------------------------------- import


@dataclass
class _Row:
    sheet: str
    number: int
    values: dict[str, str]


def _sheet_names(path: Path) -> set[str]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return set(book.sheetnames)
    finally:
        book.close()


class _Reader:
    """Reads every sheet, collects every problem (sheet, row, field) instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[InputError] = []
        self.sheets: dict[str, list[_Row]] = {}
        for name in SHEETS:
            if name in OPTIONAL_SHEETS and name not in _sheet_names(path):  # the file passed read_rows' limits
                self.sheets[name] = []
                continue
            try:
                _header, rows = read_rows(path, REQUIRED[name], sheet=name)
                self.sheets[name] = [_Row(name, number, values) for number, values in rows]
            except InputError as exc:
                self.problems.append(exc)
                self.sheets[name] = []
                if exc.sheet is None:  # the file itself is unreadable: every sheet would say the same
                    break

    def problem(self, row: _Row, column: str | None, message: str) -> None:
        self.problems.append(InputError(self.path, message, row=row.number, field=column, sheet=row.sheet))

    def text(self, row: _Row, column: str) -> str | None:
        value = row.values.get(column, "").strip()
        return value or None

    def date(self, row: _Row, column: str) -> date | None:
        gregorian, solar = self.text(row, column), self.text(row, column + "_sh")
        try:
            from_g = _gregorian(gregorian) if gregorian else None
            from_sh = _gregorian_from_sh(solar) if solar else None
        except ValueError as exc:
            self.problem(row, column + ("_sh" if solar and not gregorian else ""), str(exc))
            return None
        if from_g and from_sh and from_g != from_sh:
            self.problem(
                row, column + "_sh",
                f"{solar} (Solar Hijri) is {from_sh.isoformat()}, but {column} says {from_g.isoformat()}; "
                "give one of them, or make them agree",
            )  # fmt: skip
            return None
        return from_g or from_sh

    def ref(self, row: _Row, column: str, table: dict[str, int], what: str) -> int | None:
        name = self.text(row, column)
        if name is None:
            return None
        if name not in table:
            self.problem(row, column, f"no {what} {name!r} in the workbook's {what} sheet (or it had a problem)")
            return None
        return table[name]

    def body(self, row: _Row, model: type[BaseModel], values: dict[str, Any], names: dict[str, str]) -> Any:
        """``values`` validated by the registry's own input model; its errors named by the sheet's columns."""
        try:
            return model.model_validate({k: v for k, v in values.items() if v is not None}, strict=False)
        except ValidationError as exc:
            for error in exc.errors():
                where = names.get(str(error["loc"][0]), str(error["loc"][0])) if error["loc"] else None
                self.problem(row, where, error["msg"])
            return None


def _eq(column: Any, value: Any) -> Any:
    """``column = value``, where an empty value matches an empty column (SQL's ``= NULL`` matches nothing)."""
    return column.is_(None) if value is None else column == value


def _list(text: str | None) -> list[str]:
    return [item.strip() for item in re.split(r"[;,]", text or "") if item.strip()]


def _number(reader: _Reader, row: _Row, column: str, kind: Callable[[str], Any] = float) -> Any:
    text = reader.text(row, column)
    if text is None:
        return None
    try:
        return kind(float(text)) if kind is int else kind(text)
    except ValueError:
        reader.problem(row, column, f"{text!r} is not a number")
        return None


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes", "y", "بله")


def _place(session: Session, reader: _Reader, row: _Row, actor: str) -> tuple[Place | None, bool]:
    text = reader.text
    name, country = text(row, "name"), (text(row, "country") or "").upper() or None
    gazetteer, gazetteer_id = text(row, "gazetteer"), text(row, "gazetteer_id")
    wikidata = text(row, "wikidata_id")
    if gazetteer and gazetteer_id:
        found = session.scalar(select(Place).where(Place.gazetteer == gazetteer, Place.gazetteer_id == gazetteer_id))
        if found is not None:
            return found, False
    if wikidata:
        found = session.scalar(select(Place).where(Place.wikidata_id == wikidata).limit(1))
        if found is not None:
            return found, False
    if not gazetteer or not gazetteer_id:
        found = session.scalar(select(Place).where(Place.name == name, Place.country_code == country).limit(2))
        if found is not None:
            return found, False
    body = reader.body(row, inputs.PlaceIn, {
        "name": name, "name_fa": text(row, "name_fa"), "country_code": country,
        "admin_level": text(row, "admin_level") or "city", "lat": _number(reader, row, "lat"),
        "lng": _number(reader, row, "lng"), "population": _number(reader, row, "population", int),
        "is_capital": _bool(text(row, "is_capital")),
    }, {"country_code": "country"})  # fmt: skip
    if body is None:
        return None, False
    if gazetteer in PLACE_GAZETTEERS and gazetteer_id:
        # Through the one service that makes a registry place of a gazetteer entry (its names in every script,
        # so that a search finds it in Persian too); the workbook's own columns stand in for an entry the
        # embedded gazetteer lacks, and the workbook's Persian name wins.
        fallback = {"name": body.name, "country_code": body.country_code, "lat": body.lat, "lng": body.lng,
                    "population": body.population, "admin1": text(row, "admin1")}  # fmt: skip
        ref = gazetteer_ref({"gazetteer": gazetteer, "gazetteer_id": gazetteer_id})
        place = gazetteer_place(session, ref, actor, name_fa=body.name_fa, fallback=fallback)
        place.wikidata_id = place.wikidata_id or wikidata
        return place, True
    if gazetteer and gazetteer_id:  # a place of another authority comes back under its own id, not as "manual"
        place = Place(**body.model_dump(exclude={"source", "source_locator"}), gazetteer=gazetteer,
                      gazetteer_id=gazetteer_id, admin1_code=text(row, "admin1"), wikidata_id=wikidata,
                      status=gazetteer, entered_by=actor)  # fmt: skip
        session.add(place)
        session.flush()
        return place, True
    place = create_record(session, "places", body, actor)
    place.admin1_code, place.wikidata_id = text(row, "admin1"), wikidata
    return place, True


def import_workbook(session: Session, path: str | Path, *, actor: str) -> WorkbookSummary:
    """Read a workbook of :data:`SHEETS` into the registry, in ``session``'s transaction.

    Parameters
    ----------
    session
        The transaction to write in; on :class:`WorkbookError` the caller rolls it back (``db.session_scope``
        does), so that nothing of the workbook is written.
    path
        The ``.xlsx`` file (as :func:`export_workbook` writes it, or made by hand with the same sheets).
    actor
        Who imports (the audit trail's actor and the records' ``entered_by``).

    Raises
    ------
    WorkbookError
        Every problem found, each naming the sheet, the row and the column.
    """
    path = Path(path)
    if zipfile.is_zipfile(path) and not _is_xlsx(path):
        return _import_zip(session, path, actor=actor)
    return _import(session, path, actor=actor, files=None)


def _is_xlsx(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return "[Content_Types].xml" in archive.namelist()


def _import_zip(session: Session, path: Path, *, actor: str) -> WorkbookSummary:
    """A zip as :func:`export_workbook` writes it: ``workbook.xlsx`` and the documents' files, each checked
    against the checksum its row gives before it is attached."""
    problems: list[InputError] = []
    with zipfile.ZipFile(path) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        if ZIP_WORKBOOK not in infos:
            raise WorkbookError([InputError(path, f"the zip holds no {ZIP_WORKBOOK}")])
        limit = settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES
        for info in infos.values():
            most = limit if info.filename == ZIP_WORKBOOK else settings.DOCUMENT_MAX_BYTES
            if info.file_size > most:
                problems.append(InputError(path, f"{info.filename}: {info.file_size:,} bytes, more than {most:,}"))
        if problems:
            raise WorkbookError(problems)
        with tempfile.TemporaryDirectory(prefix="citydip-workbook-") as tmp:
            sheet = Path(tmp) / ZIP_WORKBOOK
            sheet.write_bytes(archive.read(ZIP_WORKBOOK))

            def files(name: str) -> bytes | None:
                info = infos.get(name)
                return None if info is None or not name.startswith(ZIP_DOCUMENTS) else archive.read(info)

            summary = _import(session, sheet, actor=actor, files=files)
    summary.path = str(path)
    return summary


def _import(
    session: Session, path: Path, *, actor: str, files: Callable[[str], bytes | None] | None
) -> WorkbookSummary:
    reader = _Reader(path)
    if reader.problems:  # a missing sheet or column: the rows cannot be read as meant, say so first
        raise WorkbookError(reader.problems)
    summary = WorkbookSummary(str(path), rows={name: len(rows) for name, rows in reader.sheets.items()})
    text = reader.text

    def source(row: _Row) -> dict[str, Any]:
        return {"source": text(row, "source"), "source_locator": text(row, "source_locator")}

    def seen(name: str, added: bool) -> None:
        (summary.added if added else summary.kept)[name] += 1

    places: dict[str, int] = {}
    for row in reader.sheets["Places"]:
        ref = text(row, "ref")
        if ref in places:
            reader.problem(row, "ref", f"{ref!r} names two places; each ref must be unique")
            continue
        place, added = _place(session, reader, row, actor)
        if place is not None and ref:
            places[ref] = place.id
            seen("Places", added)

    orgs: dict[str, int] = {}
    for row in reader.sheets["Organisations"]:
        ref, name = text(row, "ref"), text(row, "name")
        found = session.scalar(select(Organisation).where(Organisation.name == name)) if name else None
        if found is None:
            body = reader.body(row, inputs.OrganisationIn, {
                "name": name, "name_fa": text(row, "name_fa"), "acronym": text(row, "acronym"),
                "kind": text(row, "kind"), "scale": text(row, "scale"),
                "founded": _number(reader, row, "founded", int),
                "seat_place_id": reader.ref(row, "seat", places, "place"), "themes": _list(text(row, "themes")),
                "description": text(row, "description"),
            }, {"seat_place_id": "seat"})  # fmt: skip
            found = create_record(session, "organisations", body, actor) if body is not None else None
            added = found is not None
        else:
            added = False
        if found is not None and ref:
            orgs[ref] = found.id
            seen("Organisations", added)

    persons: dict[str, int] = {}
    for row in reader.sheets["People"]:
        ref, name, unit = text(row, "ref"), text(row, "name"), text(row, "unit")
        found = (
            session.scalar(select(Person).where(Person.name == name, _eq(Person.unit, unit)).limit(1)) if name else None
        )
        added = found is None
        if found is None:
            body = reader.body(row, inputs.PersonIn, {
                "name": name, "name_fa": text(row, "name_fa"), "title": text(row, "title"),
                "title_fa": text(row, "title_fa"), "unit": unit, "place_id": reader.ref(row, "place", places, "place"),
                "organisation_id": reader.ref(row, "organisation", orgs, "organisation"),
                "contact": text(row, "contact"), "notes": text(row, "notes"), **source(row),
            }, {"place_id": "place", "organisation_id": "organisation"})  # fmt: skip
            found = create_record(session, "people", body, actor) if body is not None else None
        if found is not None and ref:
            persons[ref] = found.id
            seen("People", added)

    history: dict[str, list[_Row]] = {}
    for row in reader.sheets["Status history"]:
        history.setdefault(text(row, "agreement") or "", []).append(row)
    agreements: dict[str, int] = {}
    for row in reader.sheets["Agreements"]:
        ref = text(row, "ref")
        values = {
            "place_id": reader.ref(row, "place", places, "place"),
            "partner_place_id": reader.ref(row, "partner_place", places, "place"),
            "partner_organisation_id": reader.ref(row, "partner_organisation", orgs, "organisation"),
            "kind": text(row, "kind"), "status": text(row, "status") or "active", "title": text(row, "title"),
            "title_fa": text(row, "title_fa"), "signed_on": reader.date(row, "signed_on"),
            "signed_year": _number(reader, row, "signed_year", int), "valid_until": reader.date(row, "valid_until"),
            "ended_year": _number(reader, row, "ended_year", int), "responsible_unit": text(row, "responsible_unit"),
            "dimensions": _list(text(row, "dimensions")), "functions": _list(text(row, "functions")),
            "notes": text(row, "notes"), **source(row),
        }  # fmt: skip
        body = reader.body(row, inputs.AgreementIn, values, {
            "place_id": "place", "partner_place_id": "partner_place",
            "partner_organisation_id": "partner_organisation",
        })  # fmt: skip
        if body is None or not ref:
            continue
        a, b = sorted(x for x in (body.place_id, body.partner_place_id) if x) if body.partner_place_id else (
            body.place_id, None)  # fmt: skip
        found = session.scalar(select(Relation).where(
            Relation.place_a_id == a, Relation.place_b_id.is_(b) if b is None else Relation.place_b_id == b,
            _eq(Relation.organisation_id, body.partner_organisation_id),
            Relation.kind == body.kind, _eq(Relation.title, body.title),
            _eq(Relation.signed_year, body.signed_year),
        ).limit(1))  # fmt: skip
        if found is None:
            found = create_record(session, "agreements", body, actor)
            found.source_locator = body.source_locator
            rows_of = history.get(ref, [])
            if rows_of:  # the workbook's history replaces the first row create_record wrote
                found.history.clear()
                session.flush()
                for h in rows_of:
                    changed = text(h, "changed_at")
                    try:
                        at = datetime.fromisoformat(changed).replace(tzinfo=UTC) if changed else None
                    except ValueError:
                        reader.problem(h, "changed_at", f"{changed!r} is not a date and time")
                        at = None
                    status = text(h, "status")
                    if status not in RELATION_STATUSES:
                        reader.problem(h, "status", f"unknown status {status!r}")
                        continue
                    agreement_service.add_status(
                        session, found, status, actor=text(h, "changed_by") or actor, reason=text(h, "reason"),
                        previous=text(h, "previous_status"), effective_on=reader.date(h, "effective_on"),
                        source_id=source_id_for(session, text(h, "source")), source_locator=text(h, "source_locator"),
                        at=at,
                    )  # fmt: skip
            seen("Agreements", True)
        else:
            seen("Agreements", False)
        agreements[ref] = found.id
    for name in history:
        if name and name not in agreements and not any(
            text(r, "ref") == name for r in reader.sheets["Agreements"]
        ):  # fmt: skip
            reader.problem(history[name][0], "agreement", f"no agreement {name!r} in the Agreements sheet")

    for row in reader.sheets["Signatories"]:
        relation_id = reader.ref(row, "agreement", agreements, "agreement")
        person_id = reader.ref(row, "person", persons, "person")
        role = text(row, "role") or "signatory"
        if relation_id is None or person_id is None:
            continue
        held = session.scalar(select(AgreementSignatory.id).where(
            AgreementSignatory.relation_id == relation_id, AgreementSignatory.person_id == person_id,
            AgreementSignatory.role == role))  # fmt: skip
        if held is None:
            people_service.add_signatory(session, inputs.SignatoryIn(relation_id=relation_id, person_id=person_id,
                                                                      role=role), actor)  # fmt: skip
        seen("Signatories", held is None)

    memberships: dict[str, int] = {}
    for row in reader.sheets["Memberships"]:
        ref = text(row, "ref")
        body = reader.body(row, inputs.MembershipIn, {
            "place_id": reader.ref(row, "place", places, "place"),
            "organisation_id": reader.ref(row, "organisation", orgs, "organisation"),
            "role": text(row, "role"), "role_verbatim": text(row, "role_verbatim"),
            "since_year": _number(reader, row, "since_year", int),
            "until_year": _number(reader, row, "until_year", int),
            "notes": text(row, "notes"), **source(row),
        }, {"place_id": "place", "organisation_id": "organisation"})  # fmt: skip
        if body is None or not ref:
            continue
        found = session.scalar(select(Membership).where(
            Membership.place_id == body.place_id, Membership.organisation_id == body.organisation_id,
            Membership.role == body.role))  # fmt: skip
        added = found is None
        if found is None:
            found = create_record(session, "memberships", body, actor)
            found.source_locator = body.source_locator
        status = text(row, "status")
        if status and status not in MEMBERSHIP_STATUSES:
            reader.problem(row, "status", f"unknown status {status!r}: one of {', '.join(MEMBERSHIP_STATUSES)}")
        elif status and added:
            found.status = status
        memberships[ref] = found.id
        seen("Memberships", added)

    for row in reader.sheets["Dues"]:
        body = reader.body(row, inputs.DueIn, {
            "membership_id": reader.ref(row, "membership", memberships, "membership"),
            "year": _number(reader, row, "year", int), "amount": _number(reader, row, "amount"),
            "currency": text(row, "currency"), **source(row),
        }, {"membership_id": "membership"})  # fmt: skip
        if body is not None:
            held = session.scalar(select(MembershipDue).where(
                MembershipDue.membership_id == body.membership_id, MembershipDue.year == body.year))  # fmt: skip
            agreement_service.add_due(session, body, actor)
            seen("Dues", held is None)

    activities: dict[str, int] = {}
    for row in reader.sheets["Activities"]:
        ref = text(row, "ref")
        body = reader.body(row, inputs.ActivityIn, {
            "kind": text(row, "kind"), "title": text(row, "title"), "title_fa": text(row, "title_fa"),
            "happened_on": reader.date(row, "happened_on"), "year": _number(reader, row, "year", int),
            "place_id": reader.ref(row, "place", places, "place"),
            "organisation_id": reader.ref(row, "organisation", orgs, "organisation"),
            "relation_id": reader.ref(row, "agreement", agreements, "agreement"),
            "membership_id": reader.ref(row, "membership", memberships, "membership"),
            "dimensions": _list(text(row, "dimensions")), "description": text(row, "description"),
            "cost_amount": _number(reader, row, "cost_amount"), "cost_currency": text(row, "cost_currency"),
            "funding_source": text(row, "funding_source"), "direction": text(row, "direction"),
            "purpose": text(row, "purpose"), "ends_on": reader.date(row, "ends_on"), **source(row),
        }, {"place_id": "place", "organisation_id": "organisation", "relation_id": "agreement",
            "membership_id": "membership"})  # fmt: skip
        if body is None or not ref:
            continue
        found = session.scalar(select(Activity).where(
            Activity.kind == body.kind, Activity.title == body.title,
            _eq(Activity.happened_on, body.happened_on),
            _eq(Activity.year, body.year),
            _eq(Activity.place_id, body.place_id),
        ).limit(1))  # fmt: skip
        added = found is None
        if found is None:
            found = create_record(session, "activities", body, actor)
            found.functions, found.indicators = _list(text(row, "functions")), _list(text(row, "indicators"))
            found.source_locator = body.source_locator
        activities[ref] = found.id
        seen("Activities", added)

    for row in reader.sheets["Participants"]:
        activity_id = reader.ref(row, "activity", activities, "activity")
        place_id = reader.ref(row, "place", places, "place")
        org_id = reader.ref(row, "organisation", orgs, "organisation")
        if activity_id is None:
            continue
        if place_id is None and org_id is None:
            reader.problem(row, "place", "a participant is a place or an organisation: give one")
            continue
        role = text(row, "role")
        held = session.scalar(select(ActivityParticipant).where(
            ActivityParticipant.activity_id == activity_id,
            _eq(ActivityParticipant.place_id, place_id),
            _eq(ActivityParticipant.organisation_id, org_id)))  # fmt: skip
        if held is None:
            session.add(ActivityParticipant(activity_id=activity_id, place_id=place_id, organisation_id=org_id,
                                            role=role))  # fmt: skip
            session.flush()
        seen("Participants", held is None)

    for row in reader.sheets["Activity people"]:
        activity_id = reader.ref(row, "activity", activities, "activity")
        person_id = reader.ref(row, "person", persons, "person")
        if activity_id is None or person_id is None:
            continue
        role = text(row, "role")
        held = session.scalar(select(ActivityPerson.id).where(
            ActivityPerson.activity_id == activity_id, ActivityPerson.person_id == person_id))  # fmt: skip
        if held is None:
            session.add(ActivityPerson(activity_id=activity_id, person_id=person_id, role=role))
            session.flush()
        seen("Activity people", held is None)

    for row in reader.sheets["Outcomes"]:
        body = reader.body(row, inputs.OutcomeIn, {
            "relation_id": reader.ref(row, "agreement", agreements, "agreement"),
            "activity_id": reader.ref(row, "activity", activities, "activity"),
            "code": text(row, "code"), "quantity": _number(reader, row, "quantity"), "unit": text(row, "unit"),
            "evidence": text(row, "evidence"), "happened_on": reader.date(row, "happened_on"), **source(row),
        }, {"relation_id": "agreement", "activity_id": "activity"})  # fmt: skip
        if body is None:
            continue
        held = session.scalar(select(Outcome).where(
            _eq(Outcome.relation_id, body.relation_id),
            _eq(Outcome.activity_id, body.activity_id),
            Outcome.code == body.code,
            _eq(Outcome.happened_on, body.happened_on),
            _eq(Outcome.evidence, body.evidence),
        ).limit(1))  # fmt: skip
        if held is None:
            agreement_service.add_outcome(session, body, actor)
        seen("Outcomes", held is None)

    for row in reader.sheets["Follow-up actions"]:
        body = reader.body(row, inputs.ActionIn, {
            "relation_id": reader.ref(row, "agreement", agreements, "agreement"),
            "activity_id": reader.ref(row, "activity", activities, "activity"),
            "title": text(row, "title"), "owner": text(row, "owner"), "due_on": reader.date(row, "due_on"),
            **source(row),
        }, {"relation_id": "agreement", "activity_id": "activity"})  # fmt: skip
        state, done_on = text(row, "state") or "open", reader.date(row, "done_on")
        if state not in ("open", "done", "cancelled"):
            reader.problem(row, "state", f"unknown state {state!r}: open, done or cancelled")
            continue
        if body is None:
            continue
        held = session.scalar(select(FollowUpAction).where(
            _eq(FollowUpAction.relation_id, body.relation_id),
            _eq(FollowUpAction.activity_id, body.activity_id),
            FollowUpAction.title == body.title, FollowUpAction.owner == body.owner,
        ).limit(1))  # fmt: skip
        if held is None:
            action = agreement_service.add_action(session, body, actor)
            action.state, action.done_on = state, done_on
        seen("Follow-up actions", held is None)

    for row in reader.sheets["Documents"]:
        _import_document(session, reader, row, agreements, activities, files, actor, seen)

    if reader.problems:
        raise WorkbookError(reader.problems)
    session.flush()
    return summary


def _import_document(
    session: Session, reader: _Reader, row: _Row, agreements: dict[str, int], activities: dict[str, int],
    files: Callable[[str], bytes | None] | None, actor: str, seen: Callable[[str, bool], None],
) -> None:  # fmt: skip
    """One row of the Documents sheet: kept if its agreement or activity holds the file (by checksum) already;
    else attached from the zip's file, whose SHA-256 must be the row's."""
    text = reader.text
    body = reader.body(row, inputs.DocumentIn, {
        "relation_id": reader.ref(row, "agreement", agreements, "agreement"),
        "activity_id": reader.ref(row, "activity", activities, "activity"), "kind": text(row, "kind") or "other",
        "title": text(row, "title"), "source": text(row, "source"), "source_locator": text(row, "source_locator"),
    }, {"relation_id": "agreement", "activity_id": "activity"})  # fmt: skip
    digest = (text(row, "sha256") or "").lower()
    if body is None:
        return
    owner = Document.relation_id == body.relation_id if body.relation_id else Document.activity_id == body.activity_id
    if session.scalar(select(Document.id).where(owner, Document.sha256 == digest)) is not None:
        seen("Documents", False)
        return
    member = text(row, "file")
    content = files(member) if files is not None and member else None
    if content is None:
        reader.problem(row, "file", "the document's file is not carried by an .xlsx workbook: import the .zip "
                       "that `workbook export FILE.zip` writes (the workbook with the documents' files)"
                       if files is None else f"the zip holds no file {member!r}")  # fmt: skip
        return
    if hashlib.sha256(content).hexdigest() != digest:
        reader.problem(row, "sha256", f"the file {member!r} does not match its checksum {digest[:12]}…: it was "
                       "changed or damaged after the export")  # fmt: skip
        return
    try:
        with session.begin_nested():
            document_service.add_document(session, body, text(row, "file_name"), content, actor)
    except (document_service.DocumentRefused, document_service.DuplicateDocument) as exc:
        reader.problem(row, "file", str(exc))
        return
    seen("Documents", True)
