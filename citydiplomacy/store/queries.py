"""Read side of the registry: counts, finding places by name, city profiles and exports.

These are the library calls behind ``citydip stats``, ``citydip city show`` and ``citydip export``; the
web API uses them too, so the CLI and the API always agree.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, Select, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from citydiplomacy import settings
from citydiplomacy.core.cells import neutralise
from citydiplomacy.store import db, runs
from citydiplomacy.store.evidence import evidence_by_kind, evidence_of
from citydiplomacy.store.readcache import cached
from citydiplomacy.store.schema import (
    Activity,
    AnalysisRun,
    AuditEntry,
    CityResult,
    MemberCount,
    Membership,
    Organisation,
    Place,
    PlaceFact,
    PlaceMention,
    PlaceName,
    Relation,
    Source,
)

ENTITIES: dict[str, type] = {
    "places": Place,
    "place_names": PlaceName,
    "place_mentions": PlaceMention,
    "organisations": Organisation,
    "member_counts": MemberCount,
    "relations": Relation,
    "memberships": Membership,
    "activities": Activity,
    "sources": Source,
    "analysis_runs": AnalysisRun,
    "audit_entries": AuditEntry,
}


def stats(engine: Engine | Session | None = None) -> dict[str, Any]:
    """Counts per entity, plus places by resolution status and relations by kind.

    ``engine``: the registry (default: the configured one), or a session to read them in (a web request's).

    Returns
    -------
    dict
        ``{"places": n, ..., "places_by_status": {...}, "relations_by_kind": {...}}``.
    """
    if isinstance(engine, Session):  # a web request's own session: no second pooled connection
        return _stats(engine)
    with db.session_scope(engine or db.get_engine()) as session:
        return _stats(session)


@cached  # a dozen counts over the whole registry: once per registry change
def _stats(session: Session) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: session.scalar(select(func.count()).select_from(model)) for name, model in ENTITIES.items()
    }
    out["places_by_status"] = dict(session.execute(select(Place.status, func.count()).group_by(Place.status)).all())
    out["relations_by_kind"] = dict(session.execute(select(Relation.kind, func.count()).group_by(Relation.kind)).all())
    out["mentions_by_status"] = dict(
        session.execute(select(PlaceMention.status, func.count()).group_by(PlaceMention.status)).all()
    )
    out["memberships_by_role"] = dict(
        session.execute(select(Membership.role, func.count()).group_by(Membership.role)).all()
    )
    return out


PLACE_FIELDS = ("id", "name", "name_fa", "country_code", "gazetteer", "gazetteer_id", "admin_level", "status",
                "lat", "lng", "population", "is_capital")  # fmt: skip


def place_facts(
    session: Session, codes: Collection[str] | None = None, year: int | None = None
) -> list[tuple[int, str, float]]:
    """One value per place and fact code (``place_fact`` rows, :data:`~citydiplomacy.model.vocab.PLACE_FACTS`).

    Two sources may state the same fact (two rows, one per source).  The one rule: the value of the *latest*
    source year wins (a newer count replaces an older one: missions open and close); between sources of the
    same year, or undated ones, the *largest* value (each source lists what it found, and none lists more
    missions or routes than exist).  Dated rows beat undated ones.

    Parameters
    ----------
    session
        An open session.
    codes
        Fact codes wanted (default: all).
    year
        Registry as of the end of this year: facts dated later are left out (undated ones are kept).

    Returns
    -------
    list of (place_id, code, value)
    """
    query = select(PlaceFact.place_id, PlaceFact.code, PlaceFact.value, PlaceFact.year)
    if codes is not None:
        query = query.where(PlaceFact.code.in_(list(codes)))
    if year is not None:
        query = query.where(or_(PlaceFact.year.is_(None), PlaceFact.year <= year))
    best: dict[tuple[int, str], tuple[float, float]] = {}
    for place_id, code, value, fact_year in session.execute(query):
        key = (place_id, code)
        order = (float("-inf") if fact_year is None else float(fact_year), float(value))
        if key not in best or order > best[key]:
            best[key] = order
    return [(pid, code, value) for (pid, code), (_, value) in best.items()]


def place_dict(place: Place) -> dict[str, Any]:
    """The public fields of a place (:data:`PLACE_FIELDS`)."""
    return {field: getattr(place, field) for field in PLACE_FIELDS}


@functools.cache
def _profile_statements() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The three statements of :func:`city_profile`, built once: building a statement costs more than
    running it on a small city, and the profile is the web's hot path.  Columns, not ORM entities, are
    selected for the same reason."""
    pid = bindparam("place_id")
    partner = aliased(Place)
    other_id = case((Relation.place_a_id == pid, Relation.place_b_id), else_=Relation.place_a_id)
    relations = (
        select(
            Relation.id, Relation.kind, Relation.status, Relation.signed_year, Relation.ended_year, Relation.notes,
            Relation.version, Relation.source_locator, Relation.entered_by,
            Source.name.label("src_name"), Source.citation.label("src_citation"), Source.id.label("src_id"),
            Source.kind.label("src_kind"),
            *(getattr(partner, f).label(f"p_{f}") for f in PLACE_FIELDS),
        )
        .join(partner, partner.id == other_id)
        .outerjoin(Source, Source.id == Relation.source_id)
        .where(or_(Relation.place_a_id == pid, Relation.place_b_id == pid))
    )  # fmt: skip
    memberships = (
        select(
            Membership.id, Organisation.name.label("organisation"), Organisation.name_fa.label("organisation_fa"),
            Organisation.acronym, Membership.organisation_id,
            Membership.role, Membership.role_verbatim, Membership.since_year, Membership.until_year,
            Membership.version, Membership.source_locator, Membership.entered_by,
            Source.name.label("src_name"), Source.citation.label("src_citation"), Source.id.label("src_id"),
            Source.kind.label("src_kind"),
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Source, Source.id == Membership.source_id)
        .where(Membership.place_id == pid)
        .order_by(Membership.id)
    )  # fmt: skip
    activities = (
        select(
            Activity.id, Activity.kind, Activity.title, Activity.title_fa, Activity.happened_on, Activity.year,
            Organisation.name.label("organisation"), Activity.dimensions, Activity.description,
            Activity.source_locator, Activity.entered_by,
            Source.name.label("src_name"), Source.citation.label("src_citation"), Source.id.label("src_id"),
            Source.kind.label("src_kind"),
        )
        .outerjoin(Organisation, Organisation.id == Activity.organisation_id)
        .outerjoin(Source, Source.id == Activity.source_id)
        .where(Activity.place_id == pid)
        .order_by(Activity.year.desc().nulls_last(), Activity.id.desc())
    )  # fmt: skip
    return relations, memberships, activities


def _row_cite(row: Any) -> dict[str, Any]:
    return {"source": row.src_name, "citation": row.src_citation, "locator": row.source_locator,
            "entered_by": row.entered_by, "source_id": row.src_id, "source_kind": row.src_kind}  # fmt: skip


def city_profile(
    session: Session, place: Place, found: Mapping[str, tuple[AnalysisRun, list[runs.PlaceResult]]] | None = None
) -> dict[str, Any]:
    """Everything the registry knows of one place: relations, memberships, activities, latest results.

    Four queries whatever the number of partners and runs (the web's city-profile endpoint is a hot path).

    Parameters
    ----------
    session
        The request's or command's database session.
    place
        The place.
    found
        Its latest results (:func:`citydiplomacy.store.runs.latest_results_for_place`) when the caller
        already read them for more than this profile; read here otherwise.

    Returns
    -------
    dict
        ``place``, ``relations`` (partner, kind, status, years, provenance, ``evidence``: each source that gives
        it, :func:`~citydiplomacy.store.evidence.evidence_of`), ``relations_by_kind``,
        ``memberships`` (each with its ``evidence`` likewise), ``activities`` (newest first), ``results``
        (latest run of each kind: code -> value).
    """
    relations_stmt, memberships_stmt, activities_stmt = _profile_statements()
    params = {"place_id": place.id}
    conn = session.connection()  # rows of columns: the ORM session's layer adds nothing but time here
    relations = [
        {
            "id": r.id,
            "partner": {f: getattr(r, f"p_{f}") for f in PLACE_FIELDS},
            "kind": r.kind,
            "status": r.status,
            "signed_year": r.signed_year,
            "ended_year": r.ended_year,
            "notes": r.notes,
            "version": r.version,
            "provenance": _row_cite(r),
        }
        for r in conn.execute(relations_stmt, params)
    ]
    relations.sort(key=lambda r: (r["kind"], r["status"], r["partner"]["name"]))
    memberships = [
        {
            "id": m.id,
            "organisation": m.organisation,
            "organisation_fa": m.organisation_fa,
            "acronym": m.acronym,
            "organisation_id": m.organisation_id,
            "role": m.role,
            "role_verbatim": m.role_verbatim,
            "since_year": m.since_year,
            "until_year": m.until_year,
            "version": m.version,
            "provenance": _row_cite(m),
        }
        for m in conn.execute(memberships_stmt, params)
    ]
    # Every relation's and membership's evidence in one statement.
    evidence = evidence_by_kind(
        conn, {"relation": [r["id"] for r in relations], "membership": [m["id"] for m in memberships]}
    )
    for name, records in (("relation", relations), ("membership", memberships)):
        for rec in records:
            rec["evidence"] = evidence[name].get(rec["id"], [])
    activities = [
        {
            "id": a.id,
            "kind": a.kind,
            "title": a.title,
            "title_fa": a.title_fa,
            "date": a.happened_on.isoformat() if a.happened_on else None,
            "year": a.year,
            "organisation": a.organisation,
            "dimensions": a.dimensions,
            "description": a.description,
            "provenance": _row_cite(a),
        }
        for a in conn.execute(activities_stmt, params)
    ]
    return {
        "place": place_dict(place),
        "relations_by_kind": dict(Counter(f"{r['kind']}:{r['status']}" for r in relations)),
        "relations": relations,
        "memberships": memberships,
        "activities": activities,
        "results": latest_results(session, place.id, found),
    }


def latest_results(
    session: Session, place_id: int, found: Mapping[str, tuple[AnalysisRun, list[runs.PlaceResult]]] | None = None
) -> dict[str, dict[str, Any]]:
    """The latest run of each kind with results for a place (:func:`citydiplomacy.store.runs.latest_run`):
    ``{kind: {"run": id, "changes_since": n, code: value, ...}}`` (``changes_since``: audited changes since the
    run read the registry, None for a run older than data versions).

    ``found``: :func:`citydiplomacy.store.runs.latest_results_for_place` when the caller already read it.
    """
    found = runs.latest_results_for_place(session, place_id) if found is None else found
    return {
        kind: {"run": run.id, "changes_since": runs.changes_since(session, run), **{r.code: r.value for r in rows}}
        for kind, (run, rows) in sorted(found.items())
    }


EXPORT_COLUMNS: dict[str, list[str]] = {
    "places": [
        "name_in_source",
        "country_in_source",
        "gazetteer_id",
        "name",
        "country_code",
        "lat",
        "lng",
        "score",
        "status",
    ],  # fmt: skip
    "relations": [
        "id",
        "place_a",
        "country_a",
        "gazetteer_id_a",
        "place_b",
        "country_b",
        "gazetteer_id_b",
        "organisation",
        "kind",
        "status",
        "signed_year",
        "ended_year",
        "source",
        "locator",
        "evidence",
    ],  # fmt: skip
    "memberships": [
        "id",
        "place",
        "country_code",
        "gazetteer_id",
        "organisation",
        "role",
        "role_verbatim",
        "since_year",
        "until_year",
        "source",
        "locator",
        "evidence",
    ],  # fmt: skip
}


def _gazetteer_coordinates(gazetteer_id: str, gazetteer: str = "geonames") -> tuple[float | str, float | str]:
    """Coordinates of a gazetteer entry (GeoNames or CSC) from the embedded gazetteer (empty strings when absent)."""
    from citydiplomacy.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    i = gaz.index_of(gazetteer_id, gazetteer)
    return ("", "") if i is None else (float(gaz.lat[i]), float(gaz.lng[i]))


#: What ``citydip export`` writes: the registry's records, and the latest assessment's results.
EXPORT_KINDS: tuple[str, ...] = (*EXPORT_COLUMNS, "results")
#: The results export's first columns; the run's own codes follow (index, rank and its interval, dimensions,
#: then indicators).
RESULTS_LEAD_COLUMNS = ["place_id", "name", "name_fa", "country_code", "gazetteer_id", "run", "data_version",
                        "coverage", "low_coverage"]  # fmt: skip


def _results_codes(session: Session, run: AnalysisRun) -> list[str]:
    codes = set(session.scalars(select(CityResult.code).where(CityResult.run_id == run.id).distinct()))
    codes.discard(runs.COVERAGE_CODE)

    def order(code: str) -> tuple[int, str]:
        head = 0 if code.startswith(runs.CDI_CODE) else 1 if code.startswith(runs.DIMENSION_PREFIX) else 2
        return head, code

    return sorted(codes, key=order)


def export_columns(session: Session, what: str) -> list[str]:
    """The columns of an export: fixed for records (:data:`EXPORT_COLUMNS`); for ``results``, the lead columns
    and every code the latest assessment run wrote (:class:`~citydiplomacy.core.errors.RunNotFound` when none)."""
    if what != "results":
        return EXPORT_COLUMNS[what]
    return RESULTS_LEAD_COLUMNS + _results_codes(session, runs.require_run(session, "assessment"))


def export_rows(session: Session, what: str, *, spreadsheet: bool = False) -> Iterator[dict[str, Any]]:
    """Rows of an export (``places``, ``relations`` or ``memberships``), columns as in :data:`EXPORT_COLUMNS`.

    The places export has one row per place name as a source wrote it: ``gazetteer_id`` is the GeoNames
    id for gazetteer places and the ISO 3166-2 code for subdivisions (empty for places the gazetteer
    lacks); ``lat, lng`` are the gazetteer's coordinates, empty where it has none.

    Parameters
    ----------
    session
        An open session.
    what
        ``places``, ``relations`` or ``memberships``.
    spreadsheet
        The rows go to a CSV or XLSX file: text a spreadsheet would run as a formula (``=HYPERLINK(...)``
        in a name) is defused by :func:`citydiplomacy.core.cells.neutralise`; numbers stay numbers.
    """
    rows = _export_rows(session, what)
    if not spreadsheet:
        yield from rows
        return
    for row in rows:
        yield {key: neutralise(value) for key, value in row.items()}


def _results_rows(session: Session) -> Iterator[dict[str, Any]]:
    """One row per place of the latest assessment: every number it stored, its coverage and its rank; places
    below :data:`~citydiplomacy.settings.INDEX_LOW_COVERAGE` flagged; best rank first, then by name."""
    run = runs.require_run(session, "assessment")
    columns = RESULTS_LEAD_COLUMNS + _results_codes(session, run)
    values: dict[int, dict[str, float | None]] = {}
    for place_id, code, value in session.execute(
        select(CityResult.place_id, CityResult.code, CityResult.value).where(CityResult.run_id == run.id)
    ):
        values.setdefault(place_id, {})[code] = value
    places = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_(list(values))))} if values else {}
    rows = []
    for place_id, found in values.items():
        place = places[place_id]
        coverage = found.get(runs.COVERAGE_CODE)
        row = {column: found.get(column) for column in columns}
        row.update(
            place_id=place_id, name=place.name, name_fa=place.name_fa, country_code=place.country_code,
            gazetteer_id=place.gazetteer_id, run=run.id, data_version=run.data_version, coverage=coverage,
            low_coverage=coverage is not None and coverage < settings.INDEX_LOW_COVERAGE,
        )  # fmt: skip
        rows.append(row)
    rows.sort(key=lambda r: (r.get(runs.RANK_CODE) is None, r.get(runs.RANK_CODE) or 0, r["name"]))
    yield from rows


def _export_rows(session: Session, what: str) -> Iterator[dict[str, Any]]:
    if what == "results":
        yield from _results_rows(session)
        return
    if what == "places":
        from citydiplomacy.geo.gazetteer import PLACE_GAZETTEERS
        from citydiplomacy.store.places import DISTRICT_GAZETTEERS

        query = (
            select(PlaceMention, Place).outerjoin(Place, PlaceMention.place_id == Place.id).order_by(PlaceMention.id)
        )
        for mention, place in session.execute(query):
            in_gazetteer = place is not None and place.gazetteer in (*PLACE_GAZETTEERS, "iso3166-2")
            gazetteer_id = place.gazetteer_id if in_gazetteer else ""
            lat = place.lat if in_gazetteer and place.lat is not None else ""
            lng = place.lng if in_gazetteer and place.lng is not None else ""
            if place is not None and place.gazetteer in DISTRICT_GAZETTEERS:
                # A district the gazetteer lacks is linked to its parent city's entry: show that entry.
                gazetteer_id = place.gazetteer_id.split(":", 1)[0]
                lat, lng = _gazetteer_coordinates(gazetteer_id, place.gazetteer.removesuffix("-district"))
            yield {
                "name_in_source": mention.name_in_source,
                "country_in_source": mention.country_in_source,
                "gazetteer_id": gazetteer_id,
                "name": place.name if place else "",
                "country_code": (place.country_code or "") if place else "",
                "lat": lat,
                "lng": lng,
                "score": round(mention.score, 2) if mention.score is not None else "",
                "status": "district" if place is not None and place.status == "district" else mention.status,
            }
    elif what == "relations":
        a, b = aliased(Place), aliased(Place)
        query = (
            select(Relation, a, b, Organisation.name, Source.name)
            .join(a, Relation.place_a_id == a.id)
            .outerjoin(b, Relation.place_b_id == b.id)  # an agreement with an organisation has no place b
            .outerjoin(Organisation, Relation.organisation_id == Organisation.id)
            .outerjoin(Source, Relation.source_id == Source.id)
            .order_by(Relation.id)
        )
        # Each relation's sources in a few words ("twin_cities.csv row 12; Wikidata 2016"), read once for all.
        evidence = evidence_of(session.connection(), session.scalars(select(Relation.id)))
        for rel, pa, pb, org, source in session.execute(query):
            yield {
                "id": rel.id, "place_a": pa.name, "country_a": pa.country_code, "gazetteer_id_a": pa.gazetteer_id,
                "place_b": pb.name if pb else None, "country_b": pb.country_code if pb else None,
                "gazetteer_id_b": pb.gazetteer_id if pb else None, "organisation": org, "kind": rel.kind,
                "status": rel.status, "signed_year": rel.signed_year, "ended_year": rel.ended_year,
                "source": source, "locator": rel.source_locator,
                "evidence": "; ".join(e["label"] for e in evidence.get(rel.id, [])),
            }  # fmt: skip
    elif what == "memberships":
        query = (
            select(Membership, Place, Organisation, Source.name)
            .join(Place, Membership.place_id == Place.id)
            .join(Organisation, Membership.organisation_id == Organisation.id)
            .outerjoin(Source, Membership.source_id == Source.id)
            .order_by(Membership.id)
        )
        evidence = evidence_of(session.connection(), session.scalars(select(Membership.id)), of="membership")
        for m, p, o, source in session.execute(query):
            yield {
                "id": m.id, "place": p.name, "country_code": p.country_code, "gazetteer_id": p.gazetteer_id,
                "organisation": o.name, "role": m.role, "role_verbatim": m.role_verbatim,
                "since_year": m.since_year, "until_year": m.until_year, "source": source,
                "locator": m.source_locator, "evidence": "; ".join(e["label"] for e in evidence.get(m.id, [])),
            }  # fmt: skip
    else:
        raise ValueError(f"unknown export {what!r}; one of {', '.join(EXPORT_COLUMNS)}")
