"""Read side of the web application: lists with filters and pages, profiles, rankings, network tables.

The API returns these dictionaries as JSON and the dashboard renders them, so both always agree.
Analysis results are read from ``analysis_run`` + ``city_result`` (kinds ``assessment`` and
``network``); a section whose run does not exist yet is simply absent (``None``).
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from typing import Any

from sqlalchemy import Engine, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from citydiplomacy.geo.regions import countries_of_continent
from citydiplomacy.store import lookup, queries, review, runs
from citydiplomacy.store.evidence import evidence_of
from citydiplomacy.store.readcache import cached
from citydiplomacy.store.records import record_dict
from citydiplomacy.store.runs import CDI_CODE, COVERAGE_CODE, DIMENSION_PREFIX, RANK_CODE
from citydiplomacy.store.schema import (
    Activity,
    AnalysisRun,
    AuditEntry,
    CityResult,
    MemberCount,
    Membership,
    Organisation,
    Place,
    PlaceMention,
    PlaceName,
    Relation,
    Source,
)

MAX_LIMIT = 500


def page(session: Session, query: Select[Any], limit: int, offset: int, to_dict=record_dict) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One page of ``query``: ``{"items": [...], "total": n, "limit": limit, "offset": offset}``."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(limit).offset(offset)).all()
    items = [to_dict(*row) if len(row) > 1 else to_dict(row[0]) for row in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def with_evidence(session: Session, found: dict[str, Any], of: str = "relation") -> dict[str, Any]:
    """A page (or one record) of relations (``of="membership"``: memberships), each with its ``evidence``: the
    sources that give it.

    See :func:`~citydiplomacy.store.evidence.evidence_of`.
    """
    items = found.get("items", [found])
    evidence = evidence_of(session.connection(), [item["id"] for item in items], of=of)
    for item in items:
        item["evidence"] = evidence.get(item["id"], [])
    return found


def place_page(
    session: Session,
    q: str | None = None,
    country: str | None = None,
    status: str | None = None,
    admin_level: str | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of places found by name (:func:`citydiplomacy.store.lookup.place_search`: best matches first),
    each with its region, how it matched (``match``) and the name that matched (``matched_name``)."""

    def to_dict(place: Place, match: int | None) -> dict[str, Any]:
        return {
            **record_dict(place),
            "region": lookup.region_name(place.country_code, place.admin1_code),
            "match": lookup.MATCH_KINDS[match] if match is not None else None,
        }

    found = page(session, lookup.place_search(q, country, status, admin_level), limit, offset, to_dict)
    matched = lookup.matched_names(session, q or "", [item["id"] for item in found["items"]])
    for item in found["items"]:
        item["matched_name"] = matched.get(item["id"])
    return found


def relations_query(place_id: int | None = None, kind: str | None = None, status: str | None = None) -> Select[Any]:
    """Relations, optionally of one place (either side), kind and status."""
    query = select(Relation)
    if place_id is not None:
        query = query.where(or_(Relation.place_a_id == place_id, Relation.place_b_id == place_id))
    if kind:
        query = query.where(Relation.kind == kind)
    if status:
        query = query.where(Relation.status == status)
    return query.order_by(Relation.id)


def memberships_query(
    place_id: int | None = None, organisation_id: int | None = None, role: str | None = None
) -> Select[Any]:
    """Memberships, optionally of one place, one organisation and one role."""
    query = select(Membership)
    if place_id is not None:
        query = query.where(Membership.place_id == place_id)
    if organisation_id is not None:
        query = query.where(Membership.organisation_id == organisation_id)
    if role:
        query = query.where(Membership.role == role)
    return query.order_by(Membership.id)


def organisations_query(q: str | None = None, kind: str | None = None) -> Select[Any]:
    """Organisations whose name, Persian name or acronym contains ``q``."""
    query = select(Organisation)
    if q:
        query = query.where(
            or_(
                Organisation.name.icontains(q, autoescape=True),
                Organisation.name_fa.icontains(q, autoescape=True),
                Organisation.acronym.icontains(q, autoescape=True),
            )
        )
    if kind:
        query = query.where(Organisation.kind == kind)
    return query.order_by(Organisation.name)


def activities_query(
    place_id: int | None = None,
    organisation_id: int | None = None,
    kind: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
) -> Select[Any]:
    """Activities, filtered; the newest first."""
    query = select(Activity)
    if place_id is not None:
        query = query.where(Activity.place_id == place_id)
    if organisation_id is not None:
        query = query.where(Activity.organisation_id == organisation_id)
    if kind:
        query = query.where(Activity.kind == kind)
    if year_from is not None:
        query = query.where(Activity.year >= year_from)
    if year_to is not None:
        query = query.where(Activity.year <= year_to)
    return query.order_by(Activity.year.desc().nulls_last(), Activity.id.desc())


def audit_query(
    entity: str | None = None, entity_id: int | None = None, actor: str | None = None, action: str | None = None
) -> Select[Any]:
    """Audit entries, the newest first."""
    query = select(AuditEntry)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    return query.order_by(AuditEntry.id.desc())


def review_query(status: str = "ambiguous") -> Select[Any]:
    """Place mentions in a status (default: the ambiguous ones waiting for review)."""
    return select(PlaceMention).where(PlaceMention.status == status).order_by(PlaceMention.id)


def run_meta(session: Session, run: AnalysisRun) -> dict[str, Any]:
    """What a page says of the run its results come from (:func:`citydiplomacy.store.runs.freshness`)."""
    return runs.freshness(session, run) or {}


def run_results(rows: list[runs.PlaceResult]) -> list[dict[str, Any]]:
    """A place's results in one run as pages show them: ``[{"code", "value", "low", "high", "detail"}]``, the
    interval rows folded into the result they bound (:mod:`citydiplomacy.store.runs`' one convention)."""
    values = {r.code: r.value for r in rows}
    out = []
    for r in rows:
        if runs.is_interval_code(r.code):
            continue
        low, high = runs.interval_of(values, r.code)
        out.append({"code": r.code, "value": r.value, "low": low, "high": high, "detail": r.detail})
    return out


def analysis_block(session: Session, run: AnalysisRun, rows: list[runs.PlaceResult], place_id: int) -> dict[str, Any]:
    """What a profile shows of one run: its freshness, the place's results, index, rank, dimensions,
    recommendations and SWOT."""
    results = run_results(rows)
    by_code = {r["code"]: r for r in results}
    details = [r["detail"] or {} for r in results]
    return {
        "run": run_meta(session, run),
        "results": results,
        "index": by_code.get(CDI_CODE),
        "rank": by_code.get(RANK_CODE),
        "dimensions": [r for r in results if r["code"].startswith(DIMENSION_PREFIX)],
        "recommendations": [x for d in details for x in d.get("recommendations", [])]
        + list((run.summary or {}).get("recommendations", {}).get(str(place_id), [])),
        "swot": next((d["swot"] for d in details if isinstance(d.get("swot"), dict)), None)
        or (run.summary or {}).get("swot", {}).get(str(place_id)),
    }


@functools.cache
def _place_names_statement() -> Select[Any]:
    """A place's names in the order they were stored, built once (the city profile is the web's hot path)."""
    return (
        select(PlaceName.name, PlaceName.lang, PlaceName.kind)
        .where(PlaceName.place_id == bindparam("place_id"))
        .order_by(PlaceName.id)
    )


@cached  # read once per registry change (store.readcache)
def city_profile(session: Session, place_id: int) -> dict[str, Any] | None:
    """Everything about one place: the registry's profile plus assessment, network and map data."""
    place = session.get(Place, place_id)
    if place is None:
        return None
    # Results are read once, for the store's summary and for the analysis blocks alike.
    found = runs.latest_results_for_place(session, place_id)
    profile = queries.city_profile(session, place, found)
    profile["names"] = [
        {"name": n.name, "lang": n.lang, "kind": n.kind}
        for n in session.connection().execute(_place_names_statement(), {"place_id": place_id})
    ]
    for kind in ("assessment", "network"):
        profile[kind] = analysis_block(session, *found[kind], place_id) if kind in found else None
    counts: Counter[tuple[str, str]] = Counter((r["kind"], r["status"]) for r in profile["relations"])
    profile["relation_counts"] = [{"kind": k, "status": s, "count": n} for (k, s), n in sorted(counts.items())]
    return profile


@cached  # the API's answer itself: a hit is bytes to send, not a profile to unpickle and encode again
def city_profile_json(session: Session, place_id: int) -> bytes | None:
    """:func:`city_profile` as the API sends it (UTF-8 JSON), or None for an unknown place."""
    profile = city_profile.uncached(session, place_id)  # kept once, as these bytes
    # Already JSON-ready: no need for FastAPI's generic (slow, recursive) encoder on this hot path.
    if profile is None:
        return None
    return json.dumps(profile, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def headline_count(counts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The member count a list shows for an organisation: the latest stated count of ``members``, else of
    any kind of member (``member cities``, ``member countries``; the latest year, then the largest count).

    ``counts`` are the ``member_counts`` of :func:`organisation_profile` (``what``, ``count``, ``year``, ...);
    None when no row counts members (``countries with offices`` is no membership).
    """
    dated = [c for c in counts if c["count"] is not None]
    for wanted in (lambda w: w.lower() == "members", lambda w: "member" in w.lower()):
        rows = [c for c in dated if wanted(c["what"])]
        if rows:
            return max(rows, key=lambda c: (c["year"] or 0, c["count"]))
    return None


def _member_counts(session: Session, organisation_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The stated member counts of organisations, each with the citation of its source, oldest first."""
    rows = session.execute(
        select(MemberCount, Source.name, Source.citation, Source.id, Source.kind)
        .outerjoin(Source, Source.id == MemberCount.source_id)
        .where(MemberCount.organisation_id.in_(organisation_ids))
        .order_by(MemberCount.what, MemberCount.as_of_year)
    )
    out: dict[int, list[dict[str, Any]]] = {oid: [] for oid in organisation_ids}
    for c, source, citation, source_id, source_kind in rows:
        out[c.organisation_id].append(
            {
                "what": c.what,
                "count": c.count,
                "qualifier": c.qualifier,
                "year": c.as_of_year,
                "provenance": {
                    "source": source,
                    "citation": citation,
                    "locator": c.source_locator,
                    "source_id": source_id,
                    "source_kind": source_kind,
                },  # fmt: skip
            }
        )
    return out


def organisation_summaries(session: Session, organisation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the organisations list shows of each: ``registry_members`` (distinct places with a membership
    in the registry) and ``stated`` (:func:`headline_count` of its stated counts, or None)."""
    if not organisation_ids:
        return {}
    members = dict(
        session.execute(
            select(Membership.organisation_id, func.count(Membership.place_id.distinct()))
            .where(Membership.organisation_id.in_(organisation_ids))
            .group_by(Membership.organisation_id)
        ).all()
    )
    counts = _member_counts(session, organisation_ids)
    return {
        oid: {"registry_members": members.get(oid, 0), "stated": headline_count(counts[oid])}
        for oid in organisation_ids
    }


def organisation_profile(session: Session, organisation_id: int) -> dict[str, Any] | None:
    """An organisation, its members (with coordinates and roles), the member counts its sources state (each
    with its citation) and its members in the registry by year joined."""
    org = session.get(Organisation, organisation_id)
    if org is None:
        return None
    members = [
        {
            "membership_id": m.id,
            "place_id": p.id,
            "name": p.name,
            "name_fa": p.name_fa,
            "country_code": p.country_code,
            "lat": p.lat,
            "lng": p.lng,
            "role": m.role,
            "role_verbatim": m.role_verbatim,
            "since_year": m.since_year,
            "until_year": m.until_year,
            "version": m.version,
        }
        for m, p in session.execute(
            select(Membership, Place)
            .join(Place, Membership.place_id == Place.id)
            .where(Membership.organisation_id == organisation_id)
            .order_by(Place.name)
        )
    ]
    counts = _member_counts(session, [organisation_id])[organisation_id]
    # A place holds one membership per role (founding, board, ...): growth counts places, at their first join.
    first_join: dict[int, int] = {}
    for m in members:
        if m["since_year"]:
            first_join[m["place_id"]] = min(m["since_year"], first_join.get(m["place_id"], m["since_year"]))
    joined = Counter(first_join.values())
    cumulative, total = [], 0
    for year in sorted(joined):
        total += joined[year]
        cumulative.append({"year": year, "members": total})
    return {
        "organisation": record_dict(org),
        "members": members,
        "member_places": len({m["place_id"] for m in members}),
        "roles": dict(Counter(m["role"] for m in members)),
        "member_counts": counts,
        "stated": headline_count(counts),
        "registry_growth": cumulative,
    }


@cached  # read once per registry change (store.readcache)
def ranking(
    session: Session,
    run_id: int | None,
    code: str,
    limit: int,
    offset: int,
    *,
    country: str | None = None,
    min_coverage: float | None = None,
    find: str | None = None,
    continent: str | None = None,
    population: tuple[int | None, int | None] = (None, None),
) -> dict[str, Any] | None:
    """Places ranked by ``code`` in an assessment run (default: the latest), with rank intervals and coverage.

    Parameters
    ----------
    session, run_id, code, limit, offset
        The run (None: the latest assessment), the result code ranked, and the page.
    country
        Only places of this ISO 3166-1 alpha-2 country (ranks stay those among all places).
    min_coverage
        Only places whose indicator coverage (``COVERAGE``, 0-1) is at least this share.
    continent
        Only places of the countries of this GeoNames continent code (``EU``, ``AS``, ...).
    population
        Only places with a population in ``[low, high)`` (either bound None: open on that side).
    find
        A place name: the page returned is the one holding the best match (an exact name, Persian or
        English, before a partial one; the higher ranked first), and ``found`` is its place id (None
        when no place of the ranking matches).

    Returns
    -------
    dict or None
        None when there is no assessment run.  Each item has ``rank`` (1 = best, from the stored
        ``CDI_RANK`` for the CDI, else by value among all places, ties sharing a rank),
        ``rank_low``/``rank_high`` when the run stored them, the value's own interval ``low``/``high``
        and ``coverage`` (0-1, None when the run stored none).
    """
    run = session.get(AnalysisRun, run_id) if run_id else runs.latest_run(session, "assessment")
    if run is None:
        return None
    # Ranks by value among *all* places of the run, before any filter: a country's first city keeps its
    # world rank.
    ranked = (
        select(
            CityResult.place_id,
            CityResult.value,
            func.rank().over(order_by=CityResult.value.desc()).label("by_value"),
        )
        .where(CityResult.run_id == run.id, CityResult.code == code, CityResult.value.is_not(None))
        .subquery()
    )
    coverage_row = aliased(CityResult)
    order = (ranked.c.value.desc(), Place.name, Place.id)
    # The stored rank and the coverage are read for the page's places only (below): joining them for every
    # ranked place cost two index searches a row, on thousands of rows, to show fifty.
    query = select(ranked.c.value, ranked.c.by_value, Place).join(Place, ranked.c.place_id == Place.id)
    if country:
        query = query.where(Place.country_code == country.upper())
    if min_coverage is not None:
        on_coverage = (
            (coverage_row.run_id == run.id)
            & (coverage_row.place_id == ranked.c.place_id)
            & (coverage_row.code == COVERAGE_CODE)
        )
        query = query.join(coverage_row, on_coverage).where(coverage_row.value >= min_coverage)
    if continent:
        query = query.where(Place.country_code.in_(countries_of_continent(continent)))
    if population[0] is not None:
        query = query.where(Place.population >= population[0])
    if population[1] is not None:
        query = query.where(Place.population < population[1])
    found = None
    if find:
        found, position = _find_in_ranking(session, query, order, find)
        if position is not None:
            offset = position // limit * limit
    query = query.order_by(*order)

    def to_dict(value: float, by_value: int, place: Place) -> dict:
        return {
            "place_id": place.id,
            "name": place.name,
            "name_fa": place.name_fa,
            "country_code": place.country_code,
            "value": value,
            "rank": by_value,
            "coverage": None,
        }

    out = page(session, query, limit, offset, to_dict)
    siblings: dict[int, dict[str, float | None]] = {}
    place_ids = [item["place_id"] for item in out["items"]]
    if place_ids:
        wanted = [*runs.interval_codes(code), *runs.interval_codes(RANK_CODE), RANK_CODE, COVERAGE_CODE]
        for pid, c, v in session.execute(
            select(CityResult.place_id, CityResult.code, CityResult.value).where(
                CityResult.run_id == run.id, CityResult.place_id.in_(place_ids), CityResult.code.in_(wanted)
            )
        ):
            siblings.setdefault(pid, {})[c] = v
    for item in out["items"]:
        values = siblings.get(item["place_id"], {})
        stored_rank = values.get(RANK_CODE)
        if code == CDI_CODE and stored_rank is not None:
            item["rank"] = int(stored_rank)
        item["coverage"] = values.get(COVERAGE_CODE)
        item["low"], item["high"] = runs.interval_of(values, code)
        item["rank_low"], item["rank_high"] = runs.interval_of(values, RANK_CODE) if code == CDI_CODE else (None, None)
    codes = [
        c
        for c in session.scalars(select(CityResult.code).where(CityResult.run_id == run.id).distinct())
        if not runs.is_interval_code(c)
    ]
    out["run"] = run_meta(session, run)
    out["code"] = code
    out["codes"] = sorted(codes)
    out["countries"] = sorted(
        c
        for c in session.scalars(
            select(Place.country_code)
            .join(CityResult, CityResult.place_id == Place.id)
            .where(CityResult.run_id == run.id, CityResult.code == code, CityResult.value.is_not(None))
            .distinct()
        )
        if c
    )
    out["found"] = found
    return out


def _find_in_ranking(
    session: Session, query: Select[Any], order: tuple[Any, ...], name: str
) -> tuple[int | None, int | None]:
    """``(place id, 0-based position)`` of the place named ``name`` in ``query`` ranked by ``order``."""
    # with_only_columns keeps the joins and filters: positions are those of the filtered ranking.
    numbered = query.with_only_columns(
        Place.id, Place.name, Place.name_fa, func.row_number().over(order_by=order).label("position")
    ).subquery()
    place, text = numbered.c.id, name.strip()
    exact = (func.lower(numbered.c.name) == text.lower()) | (numbered.c.name_fa == text)
    partial = numbered.c.name.icontains(text, autoescape=True) | numbered.c.name_fa.icontains(text, autoescape=True)
    for condition in (exact, partial):
        hit = session.execute(
            select(place, numbered.c.position).where(condition).order_by(numbered.c.position).limit(1)
        ).first()
        if hit is not None:
            return int(hit[0]), int(hit[1]) - 1
    return None, None


@cached  # read once per registry change (store.readcache)
def network_table(
    session: Session, run_id: int | None, code: str | None, limit: int, offset: int
) -> dict[str, Any] | None:
    """Places by a network metric of a network run (default: latest run, first code); None without runs."""
    run = session.get(AnalysisRun, run_id) if run_id else runs.latest_run(session, "network")
    if run is None:
        return None
    codes = sorted(session.scalars(select(CityResult.code).where(CityResult.run_id == run.id).distinct()).all())
    code = code or (codes[0] if codes else "")
    query = (
        select(CityResult, Place)
        .join(Place, CityResult.place_id == Place.id)
        .where(CityResult.run_id == run.id, CityResult.code == code)
        .order_by(CityResult.value.desc().nulls_last(), Place.name)
    )

    def to_dict(result: CityResult, place: Place) -> dict[str, Any]:
        return {
            "place_id": place.id,
            "name": place.name,
            "name_fa": place.name_fa,
            "country_code": place.country_code,
            "lat": place.lat,
            "lng": place.lng,
            "value": result.value,
            "detail": result.detail,
        }

    out = page(session, query, limit, offset, to_dict)
    out["run"] = {**run_meta(session, run), "summary": run.summary}
    out["code"] = code
    out["codes"] = codes
    return out


def runs_query(kind: str | None = None) -> Select[Any]:
    """Analysis runs, the newest first."""
    query = select(AnalysisRun)
    if kind:
        query = query.where(AnalysisRun.kind == kind)
    return query.order_by(AnalysisRun.id.desc())


@cached  # a count of every place's relations: once per registry change
def best_connected(session: Session, limit: int) -> list[tuple[dict[str, Any], int]]:
    """The ``limit`` places with the most relations, with their counts (the home page's list)."""
    counted = (
        select(Place, func.count())
        .join(Relation, (Relation.place_a_id == Place.id) | (Relation.place_b_id == Place.id))
        .group_by(Place.id)
        .order_by(func.count().desc(), Place.name)
        .limit(limit)
    )
    return [(record_dict(place), n) for place, n in session.execute(counted)]


def warm(engine: Engine, page_size: int) -> None:
    """Compute now what the first visitors' pages read (the counts, the first page of the CDI ranking, of the
    network table and of the review queue, the best-connected places), so that the first request after a
    start finds it in the read cache.

    Run by the web server in a background thread when it starts (``settings.web_warm()``); errors are left
    to the request that meets them.
    """
    from citydiplomacy.store import db

    queries.stats(engine)
    with db.session_factory(engine)() as session:
        ranking(session, None, CDI_CODE, page_size, 0, country=None, min_coverage=None, find=None)
        network_table(session, None, None, page_size, 0)
        best_connected(session, 10)
        review.queue(session, "ambiguous", page_size, 0)


@cached
def agreement_flags(session: Session, place_id: int) -> dict[int, list[str]]:
    """The health flags of a place's agreements needing attention (dormant, renewal due, expired, actions
    overdue): agreement id -> its flags, as :func:`citydiplomacy.store.agreements.attention` finds them today."""
    from citydiplomacy.store import agreements

    return agreements.attention_flags(session, place_id)
