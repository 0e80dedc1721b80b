"""Import the Global Covenant of Mayors signatory list (JRC "GCoM – MyCovenant", sheet ``1`` of the workbook).

Each signatory becomes a membership of the organisation *Global Covenant of Mayors for Climate & Energy*
(``GCoM``, a global network), with its date of adhesion (``since_date``, ``since_year``) and status
(``published`` -> ``active``, ``on_hold`` -> ``suspended``).  Columns read (header names, any order)::

    organisation_id, organisation_name, country_code, country_name, organisation_latitude,
    organisation_longitude, coordinator_name, supporter_name, population_adhesion,
    commitment_com2020_flag, commitment_com2030_flag, commitment_com2050_flag, commitment_mayoradapt_flag,
    adhesion_type, signatory_status, date_of_adhesion, action_plan_expected, group_profile

Only ``organisation_name``, ``country_code``, ``signatory_status`` and ``date_of_adhesion`` are required.

Decisions
---------
* **Groups of towns.**  A row with ``group_profile`` true names several municipalities ("Alkmaar, Bergen,
  Castricum, …").  It is split at commas, semicolons and spaced dashes (a hyphen inside a name, as in
  "Sgonico-Zgonik", is kept), and becomes one membership per town, but only when at least half of its
  towns are found in the gazetteer by name and country: a split the gazetteer does not confirm is not
  trusted.  The towns it lacks are kept as places of their own (review queue) with a warning.  A group
  named as a whole ("Unione dei Comuni della Valconca", "Sierra (Sierra Minera, …)"), or most of whose
  towns the gazetteer lacks, is rejected, naming the file, sheet, row, field and the towns not found.
* **Coordinates** are JRC's geocoding and often rough: a pair given to more than one signatory is a
  placeholder (a country's centre), and whole degrees locate nothing within the resolver's 30 km, so both
  are withheld.  A mention that finds nothing near its coordinates is resolved again by name and country
  (the coordinates are often tens of kilometres off, or have lost their sign); the report says how many
  places were linked by coordinates, by name and country, and how many after the coordinates failed.
* **Backers.**  ``supporter_name`` (a Covenant Supporter, e.g. Climate Alliance) and ``coordinator_name``
  (a Covenant Coordinator, a region or province) become organisations (kinds ``support_organisation`` and
  ``public_authority``) linked to the signatory's membership in ``membership_backer`` with the roles
  ``supporter`` and ``coordinator``: they back the membership, they are not networks the town belongs to.
* **Commitments** (CoM 2020, 2030, 2050, Mayors Adapt), ``action_plan_expected`` and the population on
  joining become ``place_fact`` rows (1.0 / 0.0, the adhesion year), one per place, code and source: facts
  an indicator reads without parsing notes, and that a second source can state again beside them.  The
  population of a group is the group's, so its towns get no population fact.

Re-importing the same file creates nothing (memberships are keyed by place, organisation and role; backers
by membership, organisation and role; facts by place, code and source).  A Covenant membership the registry
holds already (from a membership list, say) is not created again: the signatory's row becomes this file's
evidence of it (``membership_evidence``: locator, retrieval time, adhesion year and status), and a year or
status the two sources give differently is listed by ``citydip review disagreements``.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Engine, Integer, String, and_, exists, insert, literal, select

from citydiplomacy import settings
from citydiplomacy.core.text import fold
from citydiplomacy.ingest.common import (
    Progress,
    count_resolutions,
    file_digest,
    finish_validation,
    get_or_create_source,
    no_progress,
    resolve_mentions,
    run_staged,
)
from citydiplomacy.ingest.tabular import ImportReport, InputError, Reject, parse_float, source_rows
from citydiplomacy.store import staging
from citydiplomacy.store.audit import record_bulk, record_bulk_select
from citydiplomacy.store.evidence import add_evidence
from citydiplomacy.store.places import Mention, PlaceStage, apply_places, last_id, place_key, stage_places
from citydiplomacy.store.schema import Membership, MembershipBacker, Organisation, Place, PlaceFact, utcnow

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolution, Resolver

__all__ = ["COVENANT", "DEFAULT_SHEET", "import_covenant", "split_group"]

DEFAULT_SHEET = "1"
REQUIRED = ("organisation_name", "country_code", "signatory_status", "date_of_adhesion")
COLUMNS = (
    "file", "sheet", "organisation_id", "organisation_name", "country_code", "country_name", "organisation_latitude",
    "organisation_longitude", "coordinator_name", "supporter_name", "population_adhesion", "commitment_com2020_flag",
    "commitment_com2030_flag", "commitment_com2050_flag", "commitment_mayoradapt_flag", "adhesion_type",
    "signatory_status", "date_of_adhesion", "action_plan_expected", "group_profile",
)  # fmt: skip

#: The organisation every signatory joins (found by name or acronym, created on first import).
COVENANT = {
    "name": "Global Covenant of Mayors for Climate & Energy",
    "acronym": "GCoM",
    "kind": "global_network",
    "scale": "global",
    "founded": 2016,  # the EU Covenant of Mayors (2008) and the Compact of Mayors (2014) merged in 2016
    "themes": ["climate", "energy"],
    "description": "Global alliance of cities and local governments for climate and energy action.",
}
ROLE = "active"
_STATUSES = {"published": "active", "on_hold": "suspended", "on-hold": "suspended", "on hold": "suspended"}
#: File column -> place fact code (``model.vocab.PLACE_FACTS``).
_FLAGS = {
    "commitment_com2020_flag": "commitment_com2020",
    "commitment_com2030_flag": "commitment_com2030",
    "commitment_com2050_flag": "commitment_com2050",
    "commitment_mayoradapt_flag": "commitment_adaptation",
    "action_plan_expected": "action_plan_expected",
}
_BACKERS = (("supporter_name", "supporter", "support_organisation"), ("coordinator_name", "coordinator",
            "public_authority"))  # fmt: skip
_TRUE, _FALSE = {"true", "1", "yes", "y", "x"}, {"false", "0", "no", "n"}
_MISSING = {"", "-", "n/a", "na"}

# Where a group's name is split: commas, semicolons, and dashes with spaces around them.
_SEPARATORS = re.compile(r"\s*[,;]\s*|\s+[-–—]\s+")
_LAST_JOINER = re.compile(r"\s+(?:and|e|y|et|und|&)\s+", re.IGNORECASE)
_MUNICIPALITY_PREFIX = re.compile(
    r"^(?:comune|municipality|municipio|municipi|ayuntamiento|concello|gemeente|commune|gmina|obec|mesto)"
    r"\s+(?:di|de|del|of|d')?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signatory:
    """One validated row: a municipality, or a group of them (``towns``)."""

    row: int
    locator: str
    name: str
    country: str
    mention: Mention | None  # a single municipality
    towns: tuple[str, ...]  # a group row's towns (empty for a single municipality)
    status: str
    since: date | None
    facts: tuple[tuple[str, float], ...]
    backers: tuple[tuple[str, str, str], ...]  # (organisation name, role, organisation kind)
    notes: str | None
    values: dict[str, str]


def split_group(name: str) -> list[str] | None:
    """The towns a group row names, or None when the name is not a list of towns.

    >>> split_group("Alkmaar, Bergen, Castricum")
    ['Alkmaar', 'Bergen', 'Castricum']
    >>> split_group("Sgonico-Zgonik, Monrupino-Repentabor")
    ['Sgonico-Zgonik', 'Monrupino-Repentabor']
    >>> split_group("Unione dei Comuni della Valconca") is None
    True
    """
    if re.search(r"\([^)]*[,;][^)]*\)", name):
        return None  # "Sierra (Sierra Minera, Sierra Occidental …)": sub-areas of a named area
    parts = [p for p in _SEPARATORS.split(name) if p.strip()]
    if len(parts) >= 2:
        parts = [*parts[:-1], *_LAST_JOINER.split(parts[-1])]  # "…, Piraino and Teti"
    towns = [_MUNICIPALITY_PREFIX.sub("", p).strip(" .") for p in parts]
    towns = [t for t in towns if t]
    return towns if len(towns) >= 2 else None


def _flag(path: Path, sheet: str, row_no: int, column: str, text: str) -> float | None:
    key = text.strip().lower()
    if key in _MISSING:
        return None
    if key in _TRUE:
        return 1.0
    if key in _FALSE:
        return 0.0
    raise InputError(path, f"{text!r} is not true or false", row=row_no, field=column, sheet=sheet)


def _date(path: Path, sheet: str, row_no: int, text: str) -> date | None:
    if text.strip().lower() in _MISSING:
        return None
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise InputError(path, f"{text!r} is not a date (YYYY-MM-DD)", row=row_no, field="date_of_adhesion",
                         sheet=sheet) from exc  # fmt: skip
    if not 1990 <= day.year <= 2100:
        raise InputError(path, f"{text!r} is not a plausible date of adhesion", row=row_no,
                         field="date_of_adhesion", sheet=sheet)  # fmt: skip
    return day


def _number(
    path: Path, sheet: str, row_no: int, field: str, text: str, low: float, high: float | None = None
) -> float | None:
    if text.strip().lower() in _MISSING:
        return None
    try:
        return parse_float(path, row_no, field, text, low=low, high=high)
    except InputError as exc:
        raise InputError(path, exc.reason, row=row_no, field=field, sheet=sheet) from exc


def _validate(
    path: Path, sheet: str, row_no: int, row: dict[str, str], resolver: Resolver, report: ImportReport
) -> tuple[Signatory, tuple[float, float] | None]:
    name = " ".join(row.get("organisation_name", "").split())
    if name.lower() in _MISSING:
        raise InputError(path, "empty organisation_name", row=row_no, field="organisation_name", sheet=sheet)
    code = row.get("country_code", "").strip().upper()
    country = resolver.gaz.parse_country(code).code if code else None
    if country is None:
        country = resolver.gaz.parse_country(row.get("country_name", "")).code
    if country is None:
        raise InputError(path, f"unknown country code {row.get('country_code', '')!r}", row=row_no,
                         field="country_code", sheet=sheet)  # fmt: skip
    label = row.get("signatory_status", "").strip()
    if label.lower() in _MISSING:
        raise InputError(path, "empty signatory_status", row=row_no, field="signatory_status", sheet=sheet)
    status = _STATUSES.get(label.lower())
    if status is None:
        report.unknown_labels[label] += 1
        status = fold(label)[:30]
    since = _date(path, sheet, row_no, row.get("date_of_adhesion", ""))
    lat = _number(path, sheet, row_no, "organisation_latitude", row.get("organisation_latitude", ""), -90, 90)
    lng = _number(path, sheet, row_no, "organisation_longitude", row.get("organisation_longitude", ""), -180, 180)
    is_group = _flag(path, sheet, row_no, "group_profile", row.get("group_profile", "")) == 1.0
    towns: tuple[str, ...] = ()
    if is_group:
        split = split_group(name)
        if split is None:
            raise InputError(path, f"the group {name!r} cannot be split into towns (a group named as a whole); "
                             "list its towns separated by commas", row=row_no, field="organisation_name",
                             sheet=sheet)  # fmt: skip
        towns = tuple(split)
    facts = []
    for column, fact in _FLAGS.items():
        value = _flag(path, sheet, row_no, column, row.get(column, ""))
        if value is not None:
            facts.append((fact, value))
    population = row.get("population_adhesion", "").strip()
    if population.lower() not in _MISSING and not is_group:  # a group's population is not its towns'
        value = _number(path, sheet, row_no, "population_adhesion", population, low=0)
        if value is not None:
            facts.append(("population_at_adhesion", value))
    backers = []
    for column, role, kind in _BACKERS:
        for org in row.get(column, "").split(";"):
            org = " ".join(org.split())
            if org.lower() not in _MISSING:
                backers.append((org[:300], role, kind))
    oid = row.get("organisation_id", "")
    locator = f"sheet {sheet} row {row_no}" + (f", organisation_id {oid}" if oid else "")
    adhesion = row.get("adhesion_type", "").strip()
    notes = f"{adhesion}" if adhesion and not adhesion.isdigit() else None
    xy = (lat, lng) if lat is not None and lng is not None else None
    mention = None if towns else Mention(name, country)
    sig = Signatory(row_no, locator, name, country, mention, towns, status, since, tuple(facts), tuple(backers),
                    notes, {"file": path.name, "sheet": sheet, **row})  # fmt: skip
    return sig, xy


def _usable(xy: tuple[float, float] | None, shared: Counter[tuple[float, float]]) -> bool:
    """Coordinates that can locate a town: not a placeholder given to several rows, not whole degrees."""
    if xy is None or shared[xy] > 1:
        return False
    return not (float(xy[0]).is_integer() and float(xy[1]).is_integer())


def import_covenant(
    path: str | Path,
    *,
    sheet: str = DEFAULT_SHEET,
    engine: Engine | None = None,
    resolver: Resolver | None = None,
    on_error: str = "abort",
    rejects_path: str | Path | None = None,
    actor: str | None = None,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import the Covenant of Mayors signatory workbook in one transaction (see the module docstring).

    Parameters
    ----------
    path
        The XLSX workbook (or a CSV export of its data sheet).
    sheet
        The data sheet of a workbook (``"1"`` in the JRC release).
    engine, resolver, on_error, rejects_path, actor, progress
        As :func:`citydiplomacy.ingest.twinning.import_twinning`.

    Returns
    -------
    ImportReport
        ``records_created`` for place, organisation, membership, membership_backer and place_fact;
        ``details``: signatories, group rows split, towns of groups, places resolved by coordinates,
        by name and country, and by name after their coordinates found nothing, and the share resolved (%).

    Raises
    ------
    InputError
        The file or sheet cannot be read, or a required column is missing (the message names the sheet).
    ImportAborted
        Rows were rejected with ``on_error="abort"``; nothing was written.
    DatabaseUnavailable
        The database is locked or unreachable; nothing was written.
    """
    from citydiplomacy.geo.resolve import Resolver

    started = time.perf_counter()
    path = Path(path)
    actor = actor or settings.DEFAULT_ACTOR
    resolver = resolver or Resolver()
    xlsx = path.suffix.lower() == ".xlsx"
    report = ImportReport(file=str(path), kind="covenant", sheet=sheet if xlsx else None)
    where = sheet if xlsx else None
    rows = source_rows(path, REQUIRED, None, report, sheet=where)
    signatories: list[tuple[Signatory, tuple[float, float] | None]] = []
    for row_no, row in rows:
        report.rows_read += 1
        try:
            signatories.append(_validate(path, where or "", row_no, row, resolver, report))
        except InputError as exc:
            values = {"file": path.name, "sheet": where or "", **row}
            report.rejects.append(Reject(exc.row or row_no, exc.field, exc.reason, values))
    if report.rows_read == 0:
        raise InputError(path, "no data rows under the header", sheet=where)

    # Resolve: single municipalities with their usable coordinates, then by name where those found nothing;
    # the towns of groups by name and country.
    shared = Counter(xy for _s, xy in signatories if xy is not None)
    singles = {}
    for sig, xy in signatories:
        if sig.mention is not None:
            m = Mention(sig.name, sig.country, *xy) if _usable(xy, shared) and xy else sig.mention
            singles.setdefault(m.key, m)
    towns = {Mention(t, s.country).key: Mention(t, s.country) for s, _xy in signatories for t in s.towns}
    mentions = list(singles.values()) + [m for k, m in towns.items() if k not in singles]
    resolved = resolve_mentions(mentions, resolver, progress)
    by_coordinates = by_name = after_coordinates = 0
    final: list[tuple[Mention, Resolution]] = []
    for m, res in resolved:
        if res.status == "unresolved" and m.lat is not None:
            again = resolver.resolve(m.name, m.country)
            if again.status == "resolved":
                res, after_coordinates = again, after_coordinates + 1
        if res.status == "resolved":
            near = bool(res.candidates) and res.candidates[0].get("distance_km") is not None
            by_coordinates += near
            by_name += not near
        final.append((m, res))
    res_of = {m.key: r for m, r in final}

    # A group is split only when the gazetteer knows at least half of its towns (it confirms the split).
    members: list[tuple[Signatory, Mention, str]] = []  # (signatory, mention, locator)
    groups_split = 0
    for sig, xy in signatories:
        if sig.mention is not None:
            m = Mention(sig.name, sig.country, *xy) if _usable(xy, shared) and xy else sig.mention
            members.append((sig, m, sig.locator))
            continue
        missing = [t for t in sig.towns if res_of[Mention(t, sig.country).key].status == "unresolved"]
        if 2 * len(missing) > len(sig.towns):
            report.rejects.append(Reject(sig.row, "organisation_name", f"group of {len(sig.towns)} towns: "
                                         f"{', '.join(repr(t) for t in missing)} not found in the gazetteer "
                                         f"({sig.country}), too many to trust the split; no town of the group "
                                         "was imported", sig.values))  # fmt: skip
            continue
        if missing:
            report.warnings.append(f"row {sig.row}: {', '.join(repr(t) for t in missing)} of the group "
                                   f"{sig.name!r} not found in the gazetteer: kept as places of their own")  # fmt: skip
        groups_split += 1
        for k, town in enumerate(sig.towns, 1):
            members.append((sig, Mention(town, sig.country), f"{sig.locator}, town {k} of {len(sig.towns)}"))
    report.rejects.sort(key=lambda r: r.row)
    finish_validation(report, on_error, Path(rejects_path) if rejects_path else None, COLUMNS)

    used = {m.key for _s, m, _l in members}
    final = [(m, r) for m, r in final if m.key in used]
    count_resolutions(report, final)
    n_places = len(final) or 1
    report.details.update({
        "signatories (valid rows)": len(signatories),
        "group rows split": groups_split,
        "towns of groups": sum(1 for s, _m, _l in members if s.towns),
        "places resolved by coordinates": by_coordinates,
        "places resolved by name and country": by_name,
        "of which after the coordinates found nothing": after_coordinates,
        "coordinates withheld (placeholders, whole degrees)": sum(
            1 for s, xy in signatories if s.mention is not None and xy is not None and not _usable(xy, shared)
        ),
        "share of places resolved (%)": round(100 * report.places_resolved / n_places, 1),
    })  # fmt: skip
    key_of = {m.key: place_key(m, r) for m, r in final}
    digest = file_digest(path)
    context = f"import covenant {path.name}"

    def stage(conn: Connection) -> tuple[PlaceStage, dict[str, Any]]:
        return stage_places(conn, final, actor=actor), _stage_records(conn, members, key_of, actor, report)

    def apply(conn: Connection, staged: tuple[PlaceStage, dict[str, Any]]) -> None:
        places, records = staged
        now = utcnow()
        source_id = get_or_create_source(
            conn, name=f"{path.name} sha256:{digest[:16]}", kind="file", uri=str(path.resolve()), retrieved_at=now,
            citation="Baldi, Melica, Franco, Treville, Bertoldi (2024). GCoM – MyCovenant, 5th release. "
            "European Commission, Joint Research Centre. CC BY 4.0.",
        )  # fmt: skip
        place_ids, created = apply_places(conn, places, source_id=source_id, actor=actor, context=context)
        report.records_created["place"] += created
        report.already_present["place"] += len(set(place_ids.values())) - created
        _apply_records(conn, records, source_id, actor, context, report)

    report.write_seconds = round(run_staged(engine, stage, apply, progress), 3)
    report.committed = True
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _key_columns(prefix: str = "") -> list[Column[Any]]:
    return [Column(f"{prefix}{c}", Place.__table__.c[c].type) for c in ("gazetteer", "gazetteer_id")]


_MEMBERSHIP_COLUMNS = ("since_year", "since_date", "status", "notes", "source_locator", "retrieved_at", "entered_by",
                       "entered_at", "version")  # fmt: skip
_PROVENANCE = ("source_locator", "retrieved_at", "entered_by", "entered_at")


def _stage_records(
    conn: Connection,
    members: list[tuple[Signatory, Mention, str]],
    key_of: dict[str, tuple[str, str]],
    actor: str,
    report: ImportReport,
) -> dict[str, Any]:
    """Stage one membership per place (the first row naming it wins), its backers and its facts."""
    now = utcnow()
    prov = {"retrieved_at": now, "entered_by": actor, "entered_at": now}
    memberships: dict[tuple[str, str], dict] = {}
    backers: dict[tuple[tuple[str, str], str, str], dict] = {}
    facts: dict[tuple[tuple[str, str], str], dict] = {}
    orgs: dict[str, tuple[str, str]] = {}  # fold(name) -> (name, kind)
    for sig, mention, locator in members:
        key = key_of[mention.key]
        place = {"gazetteer": key[0], "gazetteer_id": key[1]}
        if key in memberships:
            report.already_present["membership (repeated in file)"] += 1
            continue
        group = f"one of the group {sig.name!r}" if sig.towns else None
        memberships[key] = {
            **place, "since_year": sig.since.year if sig.since else None, "since_date": sig.since,
            "status": sig.status, "notes": "; ".join(n for n in (group, sig.notes) if n) or None,
            "source_locator": locator[:500], "version": 1, **prov,
        }  # fmt: skip
        for org, role, kind in sig.backers:
            orgs.setdefault(fold(org), (org, kind))
            backers.setdefault((key, fold(org), role), {**place, "org_key": fold(org)[:300], "role": role,
                                                         "source_locator": locator[:500], **prov})  # fmt: skip
        for code, value in sig.facts:
            year = sig.since.year if sig.since else None
            facts.setdefault((key, code), {**place, "code": code, "value": value, "year": year,
                                           "source_locator": locator[:500], **prov})  # fmt: skip
    # Indexed on the place key: without it SQLite joins the staged rows to places by scanning (40 s).
    keyed = [("gazetteer", "gazetteer_id")]
    m_table = staging.stage_table(conn, "stage_cov_membership", Membership.__table__, _MEMBERSHIP_COLUMNS,
                                  extra=_key_columns(), index=keyed)  # fmt: skip
    b_table = staging.stage_table(conn, "stage_cov_backer", MembershipBacker.__table__, ("role", *_PROVENANCE),
                                  extra=[*_key_columns(), Column("org_key", String(300))], index=keyed)  # fmt: skip
    f_table = staging.stage_table(conn, "stage_cov_fact", PlaceFact.__table__, ("code", "value", "year", *_PROVENANCE),
                                  extra=_key_columns(), index=keyed)  # fmt: skip
    staging.fill(conn, m_table, list(memberships.values()))
    staging.fill(conn, b_table, list(backers.values()))
    staging.fill(conn, f_table, list(facts.values()))
    return {"membership": (m_table, len(memberships)), "backer": (b_table, len(backers)),
            "fact": (f_table, len(facts)), "orgs": orgs}  # fmt: skip


def _organisation_ids(
    conn: Connection, wanted: dict[str, tuple[str, str]], source_id: int, actor: str, context: str, report: ImportReport
) -> dict[str, int]:
    """``fold(name) -> id`` for the Covenant (key ``""``) and every backer, creating the ones absent."""
    known: dict[str, int] = {}
    for oid, name, acronym in conn.execute(select(Organisation.id, Organisation.name, Organisation.acronym)):
        known.setdefault(fold(name), oid)
        if acronym:
            known.setdefault(fold(acronym), oid)
    now = utcnow()
    created: list[int] = []
    todo = {"": (COVENANT["name"], COVENANT["kind"]), **wanted}
    ids: dict[str, int] = {}
    for key, (name, kind) in todo.items():
        found = known.get(fold(name)) if key else known.get(fold(COVENANT["name"])) or known.get(fold("GCoM"))
        if found is None:
            extra = {k: COVENANT[k] for k in ("acronym", "scale", "founded", "description")} if not key else {}
            found = conn.execute(
                insert(Organisation).values(
                    name=name,
                    kind=kind,
                    themes=COVENANT["themes"] if not key else ["climate"],
                    source_id=source_id,
                    source_locator="the Covenant of Mayors" if not key else "first named in this file",
                    retrieved_at=now,
                    entered_by=actor,
                    entered_at=now,
                    version=1,
                    **extra,
                )  # fmt: skip
            ).inserted_primary_key[0]
            known[fold(name)] = found
            created.append(found)
        ids[key] = found
    report.records_created["organisation"] += len(created)
    report.already_present["organisation"] += len(ids) - len(created)
    record_bulk(conn, actor=actor, action="insert", entity="organisation", ids=created, context=context)
    return ids


def _apply_records(
    conn: Connection, staged: dict[str, Any], source_id: int, actor: str, context: str, report: ImportReport
) -> None:
    """Create the staged memberships, backers and facts not yet in the registry, audited (INSERT ... SELECT)."""
    org_ids = _organisation_ids(conn, staged["orgs"], source_id, actor, context, report)
    covenant = org_ids.pop("")
    place = Place.__table__
    src = literal(source_id, Membership.__table__.c.source_id.type)

    def at_place(table: Any) -> Any:
        return table.join(place, and_(place.c.gazetteer == table.c.gazetteer,
                                      place.c.gazetteer_id == table.c.gazetteer_id))  # fmt: skip

    # Memberships of the Covenant.
    m_table, m_rows = staged["membership"]
    membership = Membership.__table__
    held = exists().where(membership.c.place_id == place.c.id, membership.c.organisation_id == covenant,
                          membership.c.role == ROLE)  # fmt: skip
    before = last_id(conn, membership)
    conn.execute(insert(membership).from_select(
        ["place_id", "organisation_id", "role", *_MEMBERSHIP_COLUMNS, "source_id"],
        select(place.c.id, literal(covenant, Integer()), literal(ROLE, membership.c.role.type),
               *(m_table.c[c] for c in _MEMBERSHIP_COLUMNS), src).select_from(at_place(m_table)).where(~held),
    ))  # fmt: skip
    ours = select(membership.c.id).where(membership.c.id > before, membership.c.source_id == source_id)
    created = record_bulk_select(conn, actor=actor, action="insert", entity="membership", ids=ours, context=context)
    report.records_created["membership"] += created
    report.already_present["membership"] += m_rows - created
    # This file's evidence of every staged membership, new or held from another source (a membership list).
    of_place = and_(membership.c.place_id == place.c.id, membership.c.organisation_id == covenant,
                    membership.c.role == ROLE)  # fmt: skip
    given = conn.execute(
        select(membership.c.id, m_table.c.source_locator, m_table.c.retrieved_at, m_table.c.since_year,
               m_table.c.status).select_from(at_place(m_table).join(membership, of_place))
    ).all()  # fmt: skip
    evidence = [
        {"membership_id": mid, "source_id": source_id, "source_locator": loc, "retrieved_at": at,
         "values": {k: v for k, v in (("since_year", year), ("status", status)) if v is not None}}
        for mid, loc, at, year, status in given
    ]  # fmt: skip
    created = add_evidence(conn, evidence, of="membership")
    report.records_created["membership_evidence"] += created
    report.already_present["membership_evidence"] += len(evidence) - created

    # Backers of those memberships: the organisation ids go through a small staging table of their own.
    b_table, b_rows = staged["backer"]
    org_table = staging.stage_table(conn, "stage_cov_org", Organisation.__table__, ("id",),
                                    extra=[Column("org_key", String(300))], index=[("org_key",)])  # fmt: skip
    staging.fill(conn, org_table, [{"id": i, "org_key": k[:300]} for k, i in org_ids.items()])
    backer = MembershipBacker.__table__
    joined = at_place(b_table).join(org_table, org_table.c.org_key == b_table.c.org_key).join(
        membership, and_(membership.c.place_id == place.c.id, membership.c.organisation_id == covenant,
                         membership.c.role == ROLE))  # fmt: skip
    held = exists().where(backer.c.membership_id == membership.c.id, backer.c.organisation_id == org_table.c.id,
                          backer.c.role == b_table.c.role)  # fmt: skip
    before = last_id(conn, backer)
    conn.execute(insert(backer).from_select(
        ["membership_id", "organisation_id", "role", *_PROVENANCE, "source_id"],
        select(membership.c.id, org_table.c.id, b_table.c.role, *(b_table.c[c] for c in _PROVENANCE), src)
        .select_from(joined).where(~held),
    ))  # fmt: skip
    ours = select(backer.c.id).where(backer.c.id > before, backer.c.source_id == source_id)
    created = record_bulk_select(conn, actor=actor, action="insert", entity="membership_backer", ids=ours,
                                 context=context)  # fmt: skip
    report.records_created["membership_backer"] += created
    report.already_present["membership_backer"] += b_rows - created

    # Facts (commitments, action plan, population), one per place, code and source.
    f_table, f_rows = staged["fact"]
    fact = PlaceFact.__table__
    facts = select(place.c.id, f_table.c.code, f_table.c.value, f_table.c.year,
                   *(f_table.c[c] for c in _PROVENANCE), src).select_from(at_place(f_table))  # fmt: skip
    if conn.execute(select(exists().where(fact.c.source_id == source_id))).scalar():
        # Only a source already imported can hold these facts (PostgreSQL plans this anti-join badly on
        # fresh temporary tables: minutes for 68,000 rows, so a first import does without it).
        facts = facts.where(~exists().where(fact.c.place_id == place.c.id, fact.c.code == f_table.c.code,
                                            fact.c.source_id == source_id))  # fmt: skip
    before = last_id(conn, fact)
    conn.execute(insert(fact).from_select(["place_id", "code", "value", "year", *_PROVENANCE, "source_id"], facts))
    ours = select(fact.c.id).where(fact.c.id > before, fact.c.source_id == source_id)
    created = record_bulk_select(conn, actor=actor, action="insert", entity="place_fact", ids=ours, context=context)
    report.records_created["place_fact"] += created
    report.already_present["place_fact"] += f_rows - created
