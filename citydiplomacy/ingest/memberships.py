"""Import membership lists: which city belongs to which organisation, in which role, since when.

Columns (header names, any order)::

    city,country,organization,role,since,until,lat,lng,source

Only ``city``, ``country`` and ``organization`` are required; ``country`` is a name or an ISO code.
``role`` is free text mapped onto the model's roles (``founding``, ``board``, ``secretariat_host``,
``active``, ``associate``, ``observer``, ``honorary``, ``former``); a label the mapping does not know is
kept verbatim in ``role_verbatim`` with role ``other`` and reported.  Organisations are matched by name
or acronym (case and accents ignored) and created when absent.

One fact, several evidences: a membership (place, organisation, role) the registry holds already, from the
Covenant file or another list, is not created again; each row becomes this file's evidence of it
(``membership_evidence``: locator, retrieval time, the years it gave), so that sources giving different
years are listed by ``citydip review disagreements``.  Re-importing the same file changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, insert, select

from citydiplomacy import settings
from citydiplomacy.core.text import fold
from citydiplomacy.ingest.common import (
    Progress,
    count_resolutions,
    file_digest,
    finish_validation,
    get_or_create_source,
    no_progress,
    reject_or_raise,
    resolve_mentions,
    run_staged,
)
from citydiplomacy.ingest.tabular import (
    ColumnMap,
    Converted,
    ImportReport,
    InputError,
    open_layout,
    parse_float,
    parse_year,
)
from citydiplomacy.model.vocab import map_role
from citydiplomacy.store.audit import record_bulk
from citydiplomacy.store.evidence import add_evidence
from citydiplomacy.store.places import Mention, PlaceStage, apply_places, stage_places
from citydiplomacy.store.schema import Membership, Organisation, utcnow

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolver

REQUIRED = ("city", "country", "organization")
COLUMNS = ("city", "country", "organization", "role", "since", "until", "lat", "lng", "source")


@dataclass(frozen=True)
class MembershipRow:
    """One validated membership row."""

    row: int
    place: Mention
    organisation: str
    role: str
    role_verbatim: str | None
    since: int | None
    until: int | None
    note: str | None


def _validate(path: Path, row_no: int, row: dict[str, str], resolver: Resolver, report: ImportReport) -> MembershipRow:
    city, country, org = row.get("city", ""), row.get("country", ""), row.get("organization", "")
    for field, value in (("city", city), ("country", country), ("organization", org)):
        if not value:
            raise InputError(path, f"empty {field}", row=row_no, field=field)
    if resolver.gaz.parse_country(country).code is None:
        raise InputError(path, f"unknown country {country!r}", row=row_no, field="country")
    lat = parse_float(path, row_no, "lat", row.get("lat", ""), low=-90, high=90)
    lng = parse_float(path, row_no, "lng", row.get("lng", ""), low=-180, high=180)
    if (lat is None) != (lng is None):
        raise InputError(path, "a coordinate pair needs both lat and lng", row=row_no,
                         field="lng" if lng is None else "lat")  # fmt: skip
    label = row.get("role", "")
    role, known = map_role(label)
    if not known:
        report.unknown_labels[label] += 1
    since = parse_year(path, row_no, "since", row.get("since", ""))
    until = parse_year(path, row_no, "until", row.get("until", ""))
    if since and until and until < since:
        raise InputError(path, f"until {until} is before since {since}", row=row_no, field="until")
    return MembershipRow(row_no, Mention(city, country, lat, lng), org, role, label or None, since, until,
                         row.get("source") or None)  # fmt: skip


def import_memberships(
    path: str | Path,
    *,
    engine: Engine | None = None,
    resolver: Resolver | None = None,
    on_error: str = "abort",
    rejects_path: str | Path | None = None,
    actor: str | None = None,
    progress: Progress = no_progress,
    converted: Converted | None = None,
    sheet: str | None = None,
    mapping: ColumnMap | Sequence[str] | None = None,
) -> ImportReport:
    """Import a membership list in one transaction (see the module docstring for the layout).

    ``converted``, ``sheet`` and ``mapping`` (``field=column`` pairs for a file with its own header) work as
    in :func:`citydiplomacy.ingest.twinning.import_twinning`.

    Returns
    -------
    ImportReport
        With ``records_created`` for ``organisation``, ``membership`` and ``membership_evidence`` (one per row:
        a membership another source holds gets this file's evidence, not a second membership), unknown role
        labels in ``unknown_labels``.

    Raises
    ------
    InputError, ImportAborted, DatabaseUnavailable
        As :func:`citydiplomacy.ingest.twinning.import_twinning`.
    """
    from citydiplomacy.geo.resolve import Resolver

    started = time.perf_counter()
    path = Path(path)
    actor = actor or settings.DEFAULT_ACTOR
    resolver = resolver or Resolver()
    report, rows = open_layout(path, "memberships", REQUIRED, COLUMNS, converted, sheet=sheet, mapping=mapping)
    members: list[MembershipRow] = []
    for row_no, row in rows:
        report.rows_read += 1
        try:
            members.append(_validate(path, row_no, row, resolver, report))
        except InputError as exc:
            reject_or_raise(report, exc, row)
    if report.rows_read == 0:
        raise InputError(path, "no data rows under the header")
    report.rejects.sort(key=lambda r: r.row)
    finish_validation(report, on_error, Path(rejects_path) if rejects_path else None, COLUMNS, converted)
    for label, n in report.unknown_labels.items():
        report.warnings.append(f"role {label!r} ({n} row(s)) is not a known role: kept verbatim as 'other'")

    mentions = list({m.place.key: m.place for m in members}.values())
    resolved = resolve_mentions(mentions, resolver, progress)
    count_resolutions(report, resolved)
    digest = file_digest(path)
    context = f"import memberships {path.name}"
    locator_column = converted.locator_column if converted else None

    def stage(conn: Connection) -> PlaceStage:
        return stage_places(conn, resolved, actor=actor)

    def apply(conn: Connection, places: PlaceStage) -> None:
        now = utcnow()
        source_id = get_or_create_source(
            conn,
            name=f"{path.name} sha256:{digest[:16]}",
            kind=converted.kind if converted else "file",
            uri=str(path.resolve()),
            retrieved_at=now,
        )
        place_ids, created = apply_places(conn, places, source_id=source_id, actor=actor, context=context)
        report.records_created["place"] += created
        report.already_present["place"] += len(set(place_ids.values())) - created
        org_ids = ensure_organisations(conn, [m.organisation for m in members], source_id, actor, context, report)

        def locator(m: MembershipRow) -> str:
            return (m.note or f"row {m.row}") if locator_column else f"row {m.row}"

        cols = (Membership.place_id, Membership.organisation_id, Membership.role, Membership.id)
        existing = {(p, o, r): i for p, o, r, i in conn.execute(select(*cols))}
        new_rows: dict[tuple[int, int, str], dict] = {}
        for m in members:
            key = (place_ids[m.place.key], org_ids[fold(m.organisation)], m.role)
            if key in existing or key in new_rows:
                report.already_present["membership"] += 1
                continue
            new_rows[key] = {
                "place_id": key[0], "organisation_id": key[1], "role": m.role, "role_verbatim": m.role_verbatim,
                "since_year": m.since, "until_year": m.until, "notes": m.note, "source_id": source_id,
                "source_locator": locator(m), "retrieved_at": now, "entered_by": actor, "entered_at": now,
                "version": 1,
            }  # fmt: skip
        ids: list[int] = []
        rows_list = list(new_rows.values())
        for start in range(0, len(rows_list), settings.IMPORT_BATCH_SIZE):
            chunk = rows_list[start : start + settings.IMPORT_BATCH_SIZE]
            ids.extend(conn.execute(insert(Membership).returning(Membership.id), chunk).scalars())
        report.records_created["membership"] += len(ids)
        record_bulk(conn, actor=actor, action="insert", entity="membership", ids=ids, context=context)
        # Every row is this source's evidence of its membership, new or held from another source.
        existing.update(zip(new_rows, ids, strict=True))
        evidence = [
            {"membership_id": existing[(place_ids[m.place.key], org_ids[fold(m.organisation)], m.role)],
             "source_id": source_id, "source_locator": locator(m), "retrieved_at": now,
             "values": {k: v for k, v in (("since_year", m.since), ("until_year", m.until)) if v is not None}}
            for m in members
        ]  # fmt: skip
        created_evidence = add_evidence(conn, evidence, of="membership")
        report.records_created["membership_evidence"] += created_evidence
        report.already_present["membership_evidence"] += len(evidence) - created_evidence

    report.write_seconds = round(run_staged(engine, stage, apply, progress), 3)
    report.committed = True
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def ensure_organisations(
    conn: Connection, names: list[str], source_id: int, actor: str, context: str, report: ImportReport
) -> dict[str, int]:
    """Map organisation names (or acronyms) to ids, creating the unknown ones.

    Returns
    -------
    dict[str, int]
        ``fold(name) -> organisation id`` for every name given.
    """
    known: dict[str, int] = {}
    for oid, name, acronym in conn.execute(select(Organisation.id, Organisation.name, Organisation.acronym)):
        known[fold(name)] = oid
        if acronym:
            known.setdefault(fold(acronym), oid)
    now = utcnow()
    created: list[int] = []
    for name in dict.fromkeys(names):
        key = fold(name)
        if key in known:
            continue
        oid = conn.execute(
            insert(Organisation).values(
                name=name,
                kind="international_organisation",
                themes=[],
                source_id=source_id,
                source_locator="first named in this file",
                retrieved_at=now,
                entered_by=actor,
                entered_at=now,
                version=1,
            )  # fmt: skip
        ).inserted_primary_key[0]
        known[key] = oid
        created.append(oid)
    report.records_created["organisation"] += len(created)
    record_bulk(conn, actor=actor, action="insert", entity="organisation", ids=created, context=context)
    return {fold(n): known[fold(n)] for n in names}
