"""Import bilateral relations: sister-city pair lists and an office's own relation lists.

The layout is that of ``../shared/data/twin_cities.csv``::

    city1,country1,lat1,lng1,city2,country2,lat2,lng2

Coordinates are optional.  Optional columns extend it to the relations template
(``citydip template relations``): ``kind`` (sister_city, mou, cooperation_memorandum, friendship,
partnership), ``status``, ``signed_year``, ``ended_year``, ``title``, ``dimensions`` (``;``-separated),
``source`` (a citation or URL for the row).

A pair is stored once whatever order the source gives it (``place_a_id < place_b_id``); the same pair
listed from both sides, or twice under different spellings that resolve to the same places, is one
relation.  Re-running an import of the same file changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, Engine, Integer, Table, and_, case, exists, func, insert, literal, select

from citydiplomacy import settings
from citydiplomacy.core.text import fold
from citydiplomacy.geo.gazetteer import PLACE_GAZETTEERS
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
    Reject,
    open_layout,
    parse_float,
    parse_year,
)
from citydiplomacy.model.vocab import DIMENSIONS, RELATION_KINDS, RELATION_STATUSES
from citydiplomacy.present.i18n import gazetteer_label
from citydiplomacy.store import staging
from citydiplomacy.store.audit import record_bulk_select
from citydiplomacy.store.places import Mention, PlaceStage, apply_places, last_id, place_key, stage_places
from citydiplomacy.store.schema import Place, Relation, RelationEvidence, utcnow

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolution, Resolver

REQUIRED = ("city1", "country1", "city2", "country2")
COLUMNS = (
    "city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2",
    "kind", "status", "signed_year", "ended_year", "title", "dimensions", "source",
)  # fmt: skip


@dataclass(frozen=True)
class PairRow:
    """One validated row: two mentions and the relation's attributes."""

    row: int
    a: Mention
    b: Mention
    kind: str
    status: str
    signed_year: int | None
    ended_year: int | None
    title: str | None
    dimensions: tuple[str, ...]
    note: str | None


def _mention(path: Path, row_no: int, row: dict[str, str], side: str, resolver: Resolver) -> Mention:
    name = row.get(f"city{side}", "")
    if not name:
        raise InputError(path, "empty place name", row=row_no, field=f"city{side}")
    country = row.get(f"country{side}", "")
    if country and resolver.gaz.parse_country(country).code is None:
        raise InputError(path, f"unknown country {country!r}", row=row_no, field=f"country{side}")
    lat = parse_float(path, row_no, f"lat{side}", row.get(f"lat{side}", ""), low=-90, high=90)
    lng = parse_float(path, row_no, f"lng{side}", row.get(f"lng{side}", ""), low=-180, high=180)
    if (lat is None) != (lng is None):
        field = f"lng{side}" if lng is None else f"lat{side}"
        raise InputError(path, "a coordinate pair needs both lat and lng", row=row_no, field=field)
    return Mention(name=name, country=country, lat=lat, lng=lng)


def _validate(path: Path, row_no: int, row: dict[str, str], default_kind: str, resolver: Resolver) -> PairRow:
    a = _mention(path, row_no, row, "1", resolver)
    b = _mention(path, row_no, row, "2", resolver)
    kind = (row.get("kind") or default_kind).strip().lower().replace(" ", "_").replace("-", "_")
    if kind not in RELATION_KINDS:
        raise InputError(path, f"unknown relation kind {kind!r} (one of {', '.join(RELATION_KINDS)})",
                         row=row_no, field="kind")  # fmt: skip
    status = (row.get("status") or "active").strip().lower().replace(" ", "_")
    if status not in RELATION_STATUSES:
        raise InputError(path, f"unknown status {status!r} (one of {', '.join(RELATION_STATUSES)})",
                         row=row_no, field="status")  # fmt: skip
    dims = tuple(d.strip().lower() for d in (row.get("dimensions") or "").split(";") if d.strip())
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad:
        raise InputError(path, f"unknown dimension {bad[0]!r}", row=row_no, field="dimensions")
    signed = parse_year(path, row_no, "signed_year", row.get("signed_year", ""))
    ended = parse_year(path, row_no, "ended_year", row.get("ended_year", ""))
    if signed and ended and ended < signed:
        raise InputError(path, f"ended {ended} before it was signed {signed}", row=row_no, field="ended_year")
    return PairRow(row_no, a, b, kind, status, signed, ended, row.get("title") or None, dims,
                   row.get("source") or None)  # fmt: skip


def import_twinning(
    path: str | Path,
    *,
    engine: Engine | None = None,
    resolver: Resolver | None = None,
    default_kind: str = "sister_city",
    on_error: str = "abort",
    rejects_path: str | Path | None = None,
    use_coordinates: bool = True,
    actor: str | None = None,
    progress: Progress = no_progress,
    converted: Converted | None = None,
    sheet: str | None = None,
    mapping: ColumnMap | Sequence[str] | None = None,
) -> ImportReport:
    """Import a pair list into the registry, in one transaction.

    Parameters
    ----------
    path
        CSV or XLSX file in the twinning layout (see the module docstring).
    engine
        Target database (default: ``CITYDIP_DATABASE_URL`` or the SQLite default).
    resolver
        Place resolver (default: one over the embedded gazetteer).
    default_kind
        Relation kind for rows without a ``kind`` column.
    on_error
        ``"abort"``: any rejected row stops the import and nothing is written;
        ``"skip"``: rejected rows are reported and written to ``rejects_path``, the rest imported.
    rejects_path
        Where rejected rows are written (CSV with row, field, reason and the row's values).
    use_coordinates
        Use the file's coordinates to resolve places (withhold them to resolve by name and country).
    actor
        Who is recorded as having entered the records.
    progress
        ``progress(stage, done, total)`` callback.
    converted
        The rows of ``path`` converted to this layout (a Wikidata result): read instead of the file, which
        is still the one the report, the rejects and the provenance name.
    sheet
        The workbook sheet to read (name, or number from 1) of an XLSX file; default the first.
    mapping
        ``field=column`` pairs (or a :class:`~citydiplomacy.ingest.tabular.ColumnMap`): read a file with its
        own header, e.g. ``["city1=Stadt", "city2=Partnerstadt"]``; the other fields keep their names.

    Returns
    -------
    ImportReport
        Counts of rows read, records created and already present, place statuses, rejects.

    Raises
    ------
    InputError
        The file cannot be read as a pair list (missing, empty, not UTF-8, malformed, columns missing).
    ImportAborted
        Rows were rejected with ``on_error="abort"``; nothing was written.
    DatabaseUnavailable
        The database is locked or unreachable; nothing was written.
    """
    from citydiplomacy.geo.resolve import Resolver

    started = time.perf_counter()
    path = Path(path)
    actor = actor or settings.DEFAULT_ACTOR
    resolver = resolver or Resolver(use_coordinates=use_coordinates)
    report, rows = open_layout(path, "twinning", REQUIRED, COLUMNS, converted, sheet=sheet, mapping=mapping)

    pairs: list[PairRow] = []
    seen_rows: dict[tuple[str, str, str], int] = {}
    for row_no, row in rows:
        report.rows_read += 1
        try:
            pair = _validate(path, row_no, row, default_kind, resolver)
        except InputError as exc:
            reject_or_raise(report, exc, row)
            continue
        dup_key = tuple(sorted((pair.a.key, pair.b.key))) + (pair.kind,)
        if dup_key in seen_rows:
            report.warnings.append(f"row {row_no} repeats the pair of row {seen_rows[dup_key]}")
        seen_rows.setdefault(dup_key, row_no)
        pairs.append(pair)
    if report.rows_read == 0:
        raise InputError(path, "no data rows under the header")

    mentions = list({m.key: m for p in pairs for m in (p.a, p.b)}.values())
    # Withheld coordinates: resolve from names and countries only.
    mentions_for_resolver = mentions if use_coordinates else [Mention(m.name, m.country) for m in mentions]
    resolved = resolve_mentions(mentions_for_resolver, resolver, progress)
    # Keep the source's coordinates on the mention even when they were withheld from the resolver.
    resolved = [(m, r) for m, (_, r) in zip(mentions, resolved, strict=True)]
    count_resolutions(report, resolved)
    res_by_key = {m.key: r for m, r in resolved}

    # Self-relations show only after resolution ("Tehran" twinned with "Teheran"); but two sides that
    # resolve to one place are often namesakes the source gave the same coordinates (Nienburg/Weser and
    # Nienburg (Saale)): see _namesake.
    kept: list[PairRow] = []
    derived: dict[str, tuple[Mention, Resolution]] = {}
    for pair in pairs:
        ra, rb = res_by_key[pair.a.key], res_by_key[pair.b.key]
        if pair.a.key != pair.b.key and place_key(pair.a, ra) != place_key(pair.b, rb):
            kept.append(pair)
            continue
        split = _namesake(pair, ra, rb, resolver)
        if split is None:
            report.rejects.append(Reject(pair.row, "city2", f"self-relation: both sides are {ra.name}",
                                         _row_values(pair)))  # fmt: skip
            continue
        side, mention, res = split
        derived.setdefault(mention.key, (mention, res))
        kept.append(replace(pair, **{side: mention}))
        report.warnings.append(
            f"row {pair.row}: both sides resolved to {ra.name}; {mention.name!r} ({mention.country}) is taken "
            f"for a namesake: {_describe(res)}"
        )
    if derived:
        count_resolutions(report, list(derived.values()))
        resolved = [*resolved, *derived.values()]
    report.rejects.sort(key=lambda r: r.row)
    finish_validation(report, on_error, Path(rejects_path) if rejects_path else None, COLUMNS, converted)

    digest = file_digest(path)
    context = f"import twinning {path.name}"
    locator_column = converted.locator_column if converted else None

    key_of = {m.key: place_key(m, r) for m, r in resolved}

    def stage(conn: Connection) -> tuple[PlaceStage, RelationStage]:
        return stage_places(conn, resolved, actor=actor), _stage_relations(conn, kept, key_of, actor, report,
                                                                           locator_column)  # fmt: skip

    def apply(conn: Connection, staged: tuple[PlaceStage, RelationStage]) -> None:
        places, relations = staged
        source_id = get_or_create_source(
            conn, name=f"{path.name} sha256:{digest[:16]}", kind=converted.kind if converted else "file",
            uri=str(path.resolve()), retrieved_at=utcnow(),
        )  # fmt: skip
        place_ids, created_places = apply_places(conn, places, source_id=source_id, actor=actor, context=context)
        report.records_created["place"] += created_places
        report.already_present["place"] += len(set(place_ids.values())) - created_places
        _apply_relations(conn, relations, source_id, actor, context, report)
        report.records_created["relation_evidence"] += evidence_for_staged(conn, relations, source_id)

    report.write_seconds = round(run_staged(engine, stage, apply, progress), 3)
    report.committed = True
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _namesake(
    pair: PairRow, ra: Resolution, rb: Resolution, resolver: Resolver
) -> tuple[str, Mention, Resolution] | None:
    """When both sides of a pair resolve to one place: the side that is another place, or None (a self-relation).

    A place is never twinned with itself, so the source most likely gave two namesakes the same
    coordinates.  The side re-resolved is the second, or the first when only the second is in the shared
    entry's country (Pașcani, Moldova <-> Pașcani, Romania).  It is resolved again by its written name,
    country and qualifier, without the coordinates and excluding the other side's entry:

    * another gazetteer entry found: it is linked (several: the mention goes to the review queue);
    * none, but the written names or countries say they are different places (Randwick, Australia <->
      Randwick, England) or both sides are written identically: it is a source place of its own (no
      coordinates copied);
    * none, and the sides are spellings of one place in one country ("Tehran" <-> "Teheran"): None.

    Returns
    -------
    tuple or None
        ``("a" | "b", derived mention, its resolution)``.
    """
    gaz = resolver.gaz
    ref_a, ref_b = gaz.parse_country(pair.a.country), gaz.parse_country(pair.b.country)
    shared_cc = ra.country_code
    side = "a" if ref_a.code != shared_cc and ref_b.code == shared_cc and shared_cc is not None else "b"
    first, first_res, second = (pair.b, rb, pair.a) if side == "a" else (pair.a, ra, pair.b)
    first_gaz, first_id = place_key(first, first_res)
    excluded = (first_gaz, first_id) if first_gaz in PLACE_GAZETTEERS else None
    mention = Mention(second.name, second.country, derived=f"namesake of {first_gaz}:{first_id}")

    found = _other_entry(resolver, second, excluded)
    if found is not None:
        return side, mention, found
    identical = fold(pair.a.name) == fold(pair.b.name) and fold(pair.a.country) == fold(pair.b.country)
    if identical or _written_apart(pair.a, pair.b, ref_a, ref_b):
        from citydiplomacy.geo.resolve import Resolution

        own = Resolution(
            gazetteer="source", gazetteer_id=None, name=second.name,
            country_code=(ref_b if side == "b" else ref_a).code, admin_level="city", lat=None, lng=None,
            population=None, is_capital=False, score=0.0, status="unresolved",
            candidates=({"reason": f"namesake of {first_res.name} ({first_gaz}:{first_id}), which the source "
                                   "gave the same coordinates"},),
        )  # fmt: skip
        return side, mention, own
    return None


def _entry_key(c: dict | Resolution) -> tuple[str, str]:
    """(gazetteer, id) of a resolution or a candidate (candidates stored before the CSC entries say no gazetteer)."""
    if isinstance(c, dict):
        return str(c.get("gazetteer") or "geonames"), str(c.get("gazetteer_id"))
    return c.gazetteer, str(c.gazetteer_id)


def _other_entry(resolver: Resolver, mention: Mention, excluded: tuple[str, str] | None) -> Resolution | None:
    """The gazetteer entry ``mention`` names by its name, country and qualifier alone, other than ``excluded``.

    Several such entries: an ``ambiguous`` resolution listing them (the review queue decides).
    """
    from citydiplomacy.geo.names import split_qualifier
    from citydiplomacy.geo.resolve import Resolution

    gaz = resolver.gaz
    res = resolver.resolve(mention.name, mention.country)
    if res.gazetteer_id and _entry_key(res) != excluded and res.status in ("resolved", "subdivision"):
        return res
    cands = [c for c in res.candidates if c.get("gazetteer_id") and _entry_key(c) != excluded]
    if not cands and res.status == "resolved":
        # The name's dominant entry is the excluded one: its namesakes in the same country, if any.
        cc = gaz.parse_country(mention.country).code
        main = split_qualifier(" ".join(mention.name.split()))[0]
        idx = {int(i) for v in dict.fromkeys((mention.name, main)) for i in gaz.lookup(v, cc)} if cc else set()
        for i in sorted(idx, key=lambda j: -int(gaz.population[j])):
            entry = gaz.place(i)
            if _entry_key(entry) != excluded:
                cands.append({**entry, "score": res.score, "distance_km": None})
    if not cands:
        return None
    if len(cands) == 1 and not (res.status == "ambiguous" and len(res.candidates) == 1):
        # The exclusion settled it (two Lagoas in Portugal, one is the other side's).
        c = cands[0]
        which, gid = _entry_key(c)
        i = gaz.index_of(gid, which)
        return Resolution(
            gazetteer=which, gazetteer_id=gid, name=str(c["name"]), wikidata_id=c.get("wikidata_id"),
            country_code=c.get("country_code"), admin_level="city", lat=c.get("lat"), lng=c.get("lng"),
            population=c.get("population"), is_capital=bool(gaz.is_capital[i]) if i is not None else False,
            score=max(float(c.get("score") or 0.0), settings.RESOLVE_ACCEPT_SCORE), status="resolved",
            candidates=(c,), alt_names=gaz.alternate_names(i) if i is not None else (),
        )  # fmt: skip
    return Resolution(
        gazetteer="source", gazetteer_id=None, name=mention.name, country_code=cands[0].get("country_code"),
        admin_level="city", lat=None, lng=None, population=None, is_capital=False,
        score=float(res.score), status="ambiguous", candidates=tuple(cands[:10]),
    )  # fmt: skip


def _written_apart(a: Mention, b: Mention, ref_a: object, ref_b: object) -> bool:
    """The two sides as written name different places: other countries, or other regions or qualifiers."""
    from citydiplomacy.geo.names import split_qualifier

    code_a, code_b = getattr(ref_a, "code", None), getattr(ref_b, "code", None)
    if code_a != code_b:
        return True
    sub_a, sub_b = getattr(ref_a, "subdivision", None), getattr(ref_b, "subdivision", None)
    if sub_a and sub_b and sub_a != sub_b:
        return True

    def qualifier(m: Mention) -> str | None:
        qual = split_qualifier(" ".join(m.name.split()))[1]
        if qual is None and "," in m.country:
            qual = m.country.split(",", 1)[0]
        return fold(qual) if qual else None

    qa, qb = qualifier(a), qualifier(b)
    return bool(qa and qb and qa != qb)


def _describe(res: Resolution) -> str:
    if res.status == "resolved":
        return f"linked to {gazetteer_label(res.gazetteer, 'en')} {res.gazetteer_id} ({res.name}, {res.country_code})"
    if res.status == "ambiguous":
        return f"{len(res.candidates)} candidates, sent to the review queue"
    return "kept as a source place of its own"


def _row_values(pair: PairRow) -> dict[str, str]:
    return {
        "city1": pair.a.name, "country1": pair.a.country, "city2": pair.b.name, "country2": pair.b.country,
        "kind": pair.kind, "status": pair.status,
    }  # fmt: skip


#: Columns of ``relation`` an import stages (the two place ids and ``source_id`` are set when it is applied).
_RELATION_COLUMNS = ("kind", "status", "signed_year", "ended_year", "title", "dimensions", "notes", "source_locator",
                     "retrieved_at", "entered_by", "entered_at", "version")  # fmt: skip


@dataclass
class RelationStage:
    """The relations of one import, staged by the two places' gazetteer keys (their ids may not exist yet)."""

    table: Table
    rows: int


def _stage_relations(
    conn: Connection,
    pairs: Sequence[PairRow],
    key_of: dict[str, tuple[str, str]],
    actor: str,
    report: ImportReport,
    locator_column: str | None = None,
) -> RelationStage:
    """Stage one relation per distinct (pair of places, kind); rows repeating one add their locators."""
    now = utcnow()
    wanted: dict[tuple[tuple[str, str], tuple[str, str], str], dict] = {}
    for pair in pairs:
        a, b = sorted((key_of[pair.a.key], key_of[pair.b.key]))
        key = (a, b, pair.kind)
        locator = (pair.note or f"row {pair.row}") if locator_column else f"row {pair.row}"
        if key in wanted:
            wanted[key]["source_locator"] += f"; {locator}" if locator_column else f", {pair.row}"
            continue
        wanted[key] = {
            "a_gazetteer": a[0], "a_gazetteer_id": a[1], "b_gazetteer": b[0], "b_gazetteer_id": b[1],
            "kind": pair.kind, "status": pair.status, "signed_year": pair.signed_year,
            "ended_year": pair.ended_year, "title": pair.title, "dimensions": list(pair.dimensions),
            "notes": pair.note, "source_locator": locator, "retrieved_at": now, "entered_by": actor,
            "entered_at": now, "version": 1,
        }  # fmt: skip
    report.already_present["relation (repeated in file)"] += len(pairs) - len(wanted)
    key_type = Place.__table__.c
    rows = list(wanted.values())
    for i, row in enumerate(rows, 1):  # the evidence each staged relation gives, made here, outside the lock
        row["stage_id"] = i
        row["evidence_values"] = {k: row[k] for k in ("signed_year", "ended_year", "status") if row[k] is not None}
    table = staging.stage_table(
        conn, "stage_relation", Relation.__table__, _RELATION_COLUMNS,
        extra=[Column("stage_id", Integer, primary_key=True),
               Column("evidence_values", RelationEvidence.__table__.c["values"].type),
               *(Column(f"{side}_{c}", key_type[c].type) for side in "ab" for c in ("gazetteer", "gazetteer_id"))],
    )  # fmt: skip
    staging.fill(conn, table, rows)
    return RelationStage(table, len(wanted))


def _apply_relations(
    conn: Connection, stage: RelationStage, source_id: int, actor: str, context: str, report: ImportReport
) -> None:
    """Create the staged relations not yet in the registry (one ``INSERT ... SELECT``), audited."""
    staged, relation = stage.table, Relation.__table__
    pa, pb = Place.__table__.alias("pa"), Place.__table__.alias("pb")
    lower = case((pa.c.id < pb.c.id, pa.c.id), else_=pb.c.id)
    upper = case((pa.c.id < pb.c.id, pb.c.id), else_=pa.c.id)
    joined = staged.join(pa, and_(pa.c.gazetteer == staged.c.a_gazetteer, pa.c.gazetteer_id == staged.c.a_gazetteer_id))
    joined = joined.join(pb, and_(pb.c.gazetteer == staged.c.b_gazetteer, pb.c.gazetteer_id == staged.c.b_gazetteer_id))
    present = exists().where(relation.c.place_a_id == lower, relation.c.place_b_id == upper,
                             relation.c.kind == staged.c.kind)  # fmt: skip
    before = last_id(conn, relation)
    conn.execute(
        insert(relation).from_select(
            ["place_a_id", "place_b_id", *_RELATION_COLUMNS, "source_id"],
            select(lower, upper, *(staged.c[c] for c in _RELATION_COLUMNS),
                   literal(source_id, relation.c.source_id.type)).select_from(joined).where(~present),
        )
    )  # fmt: skip
    # This transaction's relations: new ids from this source (a concurrent import of the same file would
    # clash on the unique pair and fail).
    ours = select(relation.c.id).where(relation.c.id > before, relation.c.source_id == source_id)
    created = record_bulk_select(conn, actor=actor, action="insert", entity="relation", ids=ours, context=context)
    report.records_created["relation"] += created
    report.already_present["relation"] += stage.rows - created


def evidence_for_staged(conn: Connection, stage: RelationStage, source_id: int) -> int:
    """This source's evidence of every staged relation (new or already held from another source).

    A pair the registry holds several agreements of one kind for gets the evidence on the oldest of them.
    One ``INSERT ... SELECT`` inside the write transaction (the evidence values were made when staging):
    reading 24,000 rows back into Python and writing them again held the lock four times as long.

    Returns
    -------
    int
        Evidence rows created (none on a re-import).
    """
    staged, relation, ev = stage.table, Relation.__table__, RelationEvidence.__table__
    pa, pb = Place.__table__.alias("pa"), Place.__table__.alias("pb")
    lower = case((pa.c.id < pb.c.id, pa.c.id), else_=pb.c.id)
    upper = case((pa.c.id < pb.c.id, pb.c.id), else_=pa.c.id)
    joined = staged.join(pa, and_(pa.c.gazetteer == staged.c.a_gazetteer, pa.c.gazetteer_id == staged.c.a_gazetteer_id))
    joined = joined.join(pb, and_(pb.c.gazetteer == staged.c.b_gazetteer, pb.c.gazetteer_id == staged.c.b_gazetteer_id))
    joined = joined.join(relation, and_(relation.c.place_a_id == lower, relation.c.place_b_id == upper,
                                        relation.c.kind == staged.c.kind))  # fmt: skip
    oldest = (
        select(func.min(relation.c.id).label("relation_id"), staged.c.stage_id)
        .select_from(joined)
        .group_by(staged.c.stage_id)
        .subquery()
    )
    held = exists().where(ev.c.relation_id == oldest.c.relation_id, ev.c.source_id == source_id,
                          ev.c.source_locator == staged.c.source_locator)  # fmt: skip
    # Counted, not read from the cursor's rowcount: PostgreSQL's driver may answer -1 for INSERT ... SELECT.
    of_source = select(func.count()).select_from(ev).where(ev.c.source_id == source_id)
    before = conn.scalar(of_source) or 0
    conn.execute(
        insert(ev).from_select(
            ["relation_id", "source_id", "source_locator", "retrieved_at", "values"],
            select(oldest.c.relation_id, literal(source_id, ev.c.source_id.type), staged.c.source_locator,
                   staged.c.retrieved_at, staged.c.evidence_values)
            .select_from(oldest.join(staged, staged.c.stage_id == oldest.c.stage_id))
            .where(~held)
            .order_by(oldest.c.relation_id),
        )
    )  # fmt: skip
    return int((conn.scalar(of_source) or 0) - before)
