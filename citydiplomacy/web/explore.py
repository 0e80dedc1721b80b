"""The dashboard's overview and network explorer: the registry's ties on a world map, a city's ego network
and its community.

* :func:`overview` aggregates the registry in SQL (ties and memberships per place, the strongest ties) and is
  kept until the registry next changes (:mod:`citydiplomacy.store.readcache`): a home page read twice between two
  writes computes it once.
* :func:`ego` is a city, its partners and (optionally) the partners' ties among themselves; :func:`community`
  the members of the city's community in the latest network run (``community`` results, the Leiden
  communities of :mod:`citydiplomacy.network.communities`) with their ties.  Both come with positions for
  :func:`citydiplomacy.present.charts.graph_chart`; every node links to its city profile.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from typing import Annotated, Any

import igraph as ig
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from citydiplomacy.geo.regions import CONTINENTS  # noqa: F401  (the rankings' region filter)
from citydiplomacy.present import charts
from citydiplomacy.present.fmt import formatter
from citydiplomacy.store import runs
from citydiplomacy.store.inputs import MAX_ID
from citydiplomacy.store.readcache import cached
from citydiplomacy.store.schema import AnalysisRun, CityResult, Membership, Organisation, Place, Relation
from citydiplomacy.web import auth
from citydiplomacy.web.deps import Viewer, get_db

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]

#: At most this many ties are drawn on the home map: those between the most connected places.
MAX_LINES = 2000
#: At most this many places are drawn on the home map: the most connected ones.
MAX_POINTS = 3000
#: A community larger than this is drawn as its most connected members.
MAX_COMMUNITY = 150
#: An ego network with more partners than this draws the most connected ones.
MAX_PARTNERS = 200
COMMUNITY_CODE = "community"


def _ties_per_place() -> Any:
    """``(place_id, ties)``: the relations each place is a side of (a subquery)."""
    ends = union_all(select(Relation.place_a_id.label("pid")), select(Relation.place_b_id.label("pid"))).subquery()
    return select(ends.c.pid, func.count().label("ties")).group_by(ends.c.pid).subquery()


@cached
def overview(session: Session) -> dict[str, Any]:
    """The home page's figures and map data, computed once per change of the registry (the read cache,
    :mod:`citydiplomacy.store.readcache`: valid until the registry's write counter moves).

    Returns
    -------
    dict
        ``figures`` (places, relations and relations by kind, memberships, organisations, countries of the
        places with a tie or a membership), ``points`` (located places with their ``ties`` and
        ``memberships``, the most connected first, at most :data:`MAX_POINTS`), ``lines`` (the ties
        between the most connected places: the sum of both ends' tie counts, at most :data:`MAX_LINES`),
        ``points_total``, ``lines_total`` (how many there were to draw), ``top`` (the ten places with the most
        ties, located or not).
    """
    return _compute_overview(session)


@cached
def overview_figure(session: Session, lang: str) -> dict[str, Any] | None:
    """The home map of :func:`overview` in ``lang``, drawn once per change of the registry and language."""
    return charts.ties_map(overview(session), formatter(lang))


def _compute_overview(session: Session) -> dict[str, Any]:
    conn = session.connection()  # Core rows: tens of thousands of them, no ORM objects needed
    ties = _ties_per_place()
    by_kind = dict(conn.execute(select(Relation.kind, func.count()).group_by(Relation.kind)).all())
    member_of = dict(
        conn.execute(
            select(Membership.place_id, func.count(Membership.organisation_id.distinct())).group_by(Membership.place_id)
        ).all()
    )
    rows = conn.execute(
        select(Place.id, Place.name, Place.name_fa, Place.country_code, Place.lat, Place.lng, ties.c.ties)
        .join(ties, ties.c.pid == Place.id)
        .order_by(ties.c.ties.desc(), Place.id)
    ).all()
    degree = {row[0]: row[6] for row in rows}
    only_members = [pid for pid in member_of if pid not in degree]
    for start in range(0, len(only_members), 900):
        rows += conn.execute(
            select(Place.id, Place.name, Place.name_fa, Place.country_code, Place.lat, Place.lng, literal(0)).where(
                Place.id.in_(only_members[start : start + 900])
            )
        ).all()
    countries = {row[3] for row in rows if row[3]}
    located = [row for row in rows if row[4] is not None and row[5] is not None]
    located.sort(key=lambda r: (-(r[6] + member_of.get(r[0], 0)), r[0]))
    points = [_point(*row, member_of.get(row[0], 0)) for row in located[:MAX_POINTS]]
    # The ties to draw: those whose both ends are located, the strongest first (the most ties at both ends).
    # Scored here from the counts above: joining the grouped counts twice in SQL costs ten times more.
    at = {row[0]: (row[4], row[5]) for row in located}
    drawable = [
        (-(degree[a] + degree[b]), rid, kind, a, b)
        for rid, a, b, kind in conn.execute(
            select(Relation.id, Relation.place_a_id, Relation.place_b_id, Relation.kind)
        )
        if a in at and b in at
    ]
    lines = [
        {"kind": kind, "a": at[a], "b": at[b]} for _score, _rid, kind, a, b in heapq.nsmallest(MAX_LINES, drawable)
    ]
    figures = {
        "places": conn.scalar(select(func.count()).select_from(Place)) or 0,
        "relations": sum(by_kind.values()),
        "relations_by_kind": by_kind,
        "memberships": conn.scalar(select(func.count()).select_from(Membership)) or 0,
        "organisations": conn.scalar(select(func.count()).select_from(Organisation)) or 0,
        "countries": len(countries),
    }
    return {
        "figures": figures,
        "top": [{"id": r[0], "name": r[1], "name_fa": r[2], "country_code": r[3], "ties": r[6]} for r in rows[:10]],
        "points": points,
        "points_total": len(located),
        "lines": lines,
        "lines_total": len(drawable),
    }


def _point(pid: int, name: str, name_fa: str | None, cc: str | None, lat: float, lng: float, ties: int, orgs: int):  # type: ignore[no-untyped-def]
    return {"id": pid, "name": name, "name_fa": name_fa, "country_code": cc, "lat": lat, "lng": lng,
            "ties": ties, "memberships": orgs}  # fmt: skip


def latest_assessment(session: Session) -> dict[str, Any] | None:
    """The latest assessment run as pages describe it (:func:`citydiplomacy.store.runs.freshness`)."""
    return runs.freshness(session, runs.latest_run(session, "assessment"))


# --- the network explorer ---------------------------------------------------------------------------


def _place_node(place: Place, ties: int = 0) -> dict[str, Any]:
    return {"id": place.id, "name": place.name, "name_fa": place.name_fa, "country_code": place.country_code,
            "ties": ties}  # fmt: skip


def _tie_counts(session: Session, ids: list[int]) -> Counter[int]:
    """How many relations each of ``ids`` is a side of (in the whole registry)."""
    counts: Counter[int] = Counter()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for column in (Relation.place_a_id, Relation.place_b_id):
            counts.update(
                dict(session.execute(select(column, func.count()).where(column.in_(chunk)).group_by(column)).all())
            )
    return counts


def _ties_among(session: Session, ids: list[int]) -> list[tuple[int, int, str]]:
    """The relations whose both sides are among ``ids``: ``(place_a_id, place_b_id, kind)``."""
    if not ids:
        return []
    out = []
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        out += session.execute(
            select(Relation.place_a_id, Relation.place_b_id, Relation.kind).where(
                Relation.place_a_id.in_(chunk), Relation.place_b_id.in_(ids)
            )
        ).all()
    return [(a, b, k) for a, b, k in out]


def ego(session: Session, place: Place, *, among: bool = False) -> dict[str, Any]:
    """A city and its partners (the most connected :data:`MAX_PARTNERS` when it has more), each partner's
    relations with it (kinds), and with ``among`` the partners' relations among themselves.

    Positions: the city in the middle, its partners on a circle in the order of their relation kind and
    country (one arc per kind), so that the same city draws the same picture every time.
    """
    kinds: dict[int, list[str]] = {}
    for a, b, kind in session.execute(
        select(Relation.place_a_id, Relation.place_b_id, Relation.kind).where(
            or_(Relation.place_a_id == place.id, Relation.place_b_id == place.id)
        )
    ):
        kinds.setdefault(b if a == place.id else a, []).append(kind)
    ties = _tie_counts(session, [place.id, *kinds])
    partner_ids = sorted(kinds, key=lambda p: (-ties[p], p))[:MAX_PARTNERS]
    partners = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_(partner_ids)))} if partner_ids else {}
    order = sorted(partner_ids, key=lambda p: (sorted(kinds[p])[0], partners[p].country_code or "", partners[p].name))
    nodes = [{**_place_node(place, ties[place.id]), "x": 0.0, "y": 0.0, "role": "centre"}]
    for i, pid in enumerate(order):
        angle = 2 * math.pi * i / max(len(order), 1)
        nodes.append({**_place_node(partners[pid], ties[pid]), "x": math.cos(angle), "y": math.sin(angle),
                      "role": "partner", "kinds": sorted(set(kinds[pid]))})  # fmt: skip
    edges = [{"a": place.id, "b": pid, "kind": sorted(kinds[pid])[0]} for pid in order]
    if among:
        edges += [{"a": a, "b": b, "kind": k, "among": True} for a, b, k in _ties_among(session, order) if a != b]
    return {"nodes": nodes, "edges": edges, "partners_total": len(kinds), "among": among}


def community(session: Session, place: Place, run_id: int | None = None) -> dict[str, Any] | None:
    """The members of the place's community in a network run (default: the latest with a community for it),
    the most connected :data:`MAX_COMMUNITY` of them, their relations among themselves and positions
    (a seeded force-directed layout: the same community draws the same picture).

    None when no network run gives the place a community.
    """
    run = session.get(AnalysisRun, run_id) if run_id else runs.latest_run(session, "network", place_id=place.id)
    if run is None:
        return None
    label = session.scalar(
        select(CityResult.value).where(
            CityResult.run_id == run.id, CityResult.place_id == place.id, CityResult.code == COMMUNITY_CODE
        )
    )
    if label is None:
        return None
    member_ids = list(
        session.scalars(
            select(CityResult.place_id).where(
                CityResult.run_id == run.id, CityResult.code == COMMUNITY_CODE, CityResult.value == label
            )
        )
    )
    ties = _tie_counts(session, member_ids)
    kept = sorted(member_ids, key=lambda p: (p != place.id, -ties[p], p))[:MAX_COMMUNITY]
    places = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_(kept)))}
    edges = [{"a": a, "b": b, "kind": k} for a, b, k in _ties_among(session, kept) if a != b]
    index = {pid: i for i, pid in enumerate(kept)}
    g = ig.Graph(n=len(kept), edges=sorted({(index[e["a"]], index[e["b"]]) for e in edges}))
    import random

    state = random.getstate()
    random.seed(7)  # igraph draws its layout's start from Python's random
    try:
        layout = g.layout_fruchterman_reingold(niter=300) if len(kept) > 1 else ig.Layout([(0.0, 0.0)])
    finally:
        random.setstate(state)
    coords = list(layout.coords)
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    nodes = [
        {**_place_node(places[pid], ties[pid]), "x": (coords[i][0] - min(xs)) / span,
         "y": (coords[i][1] - min(ys)) / span, "role": "centre" if pid == place.id else "member"}
        for i, pid in enumerate(kept)
    ]  # fmt: skip
    return {
        "label": int(label),
        "members_total": len(member_ids),
        "nodes": nodes,
        "edges": edges,
        "run": runs.freshness(session, run),
    }


@router.get("/network/cities/{place_id}")
def city_network_page(
    request: Request,
    place_id: int,
    db: DB,
    view: Annotated[str, Query(pattern="^(partners|community)$")] = "partners",
    among: Annotated[bool, Query()] = False,
    user: auth.CurrentUser = Viewer,
) -> Response:
    """A city's partners as an ego network, or the members of its community; every node links to its city."""
    from citydiplomacy.web.pages import render

    place = db.get(Place, place_id) if 1 <= place_id <= MAX_ID else None
    if place is None:
        raise HTTPException(status_code=404, detail=f"no place {place_id}")
    fmt = formatter(request.state.lang)
    graph = ego(db, place, among=among) if view == "partners" else community(db, place)
    fig = charts.graph_chart(graph["nodes"], graph["edges"], fmt) if graph else None
    return render(request, "city_network.html", place=place, view=view, among=among, graph=graph, fig=fig)


#: The rankings' size filter: band key -> population ``[low, high)`` (its words: MESSAGES ``pop_<key>``).
POPULATION_BANDS: dict[str, tuple[int | None, int | None]] = {
    "lt_100k": (None, 100_000),
    "100k_500k": (100_000, 500_000),
    "500k_1m": (500_000, 1_000_000),
    "1m_5m": (1_000_000, 5_000_000),
    "gt_5m": (5_000_000, None),
}


# --- a source's record ------------------------------------------------------------------------------


def source_record(session: Session, source_id: int) -> dict[str, Any] | None:
    """A source as its page shows it: its citation, kind, address, when it was retrieved, its fingerprint
    (for experts) and how many records of each kind cite it.  None when there is no such source."""
    from citydiplomacy.store.schema import Activity, MemberCount, RelationEvidence, Source

    source = session.get(Source, source_id)
    if source is None:
        return None
    counts = {
        "relations": session.scalar(
            select(func.count(func.distinct(RelationEvidence.relation_id))).where(
                RelationEvidence.source_id == source_id
            )
        )
        or session.scalar(select(func.count()).where(Relation.source_id == source_id))
        or 0,
        "memberships": session.scalar(select(func.count()).where(Membership.source_id == source_id)) or 0,
        "activities": session.scalar(select(func.count()).where(Activity.source_id == source_id)) or 0,
        "member_counts": session.scalar(select(func.count()).where(MemberCount.source_id == source_id)) or 0,
        "places": session.scalar(select(func.count()).where(Place.source_id == source_id)) or 0,
    }
    fingerprint = source.name.split("sha256:", 1)[1] if "sha256:" in source.name else None
    return {
        "id": source.id,
        "name": source.name,
        "kind": source.kind,
        "uri": source.uri,
        "citation": source.citation,
        "retrieved_at": source.retrieved_at,
        "fingerprint": fingerprint,
        "counts": {k: v for k, v in counts.items() if v},
    }


@router.get("/sources/{source_id}")
def source_page(request: Request, source_id: int, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    """One source: its citation and file, and what the registry takes from it."""
    from citydiplomacy.web.pages import render

    found = source_record(db, source_id) if 1 <= source_id <= MAX_ID else None
    if found is None:
        raise HTTPException(status_code=404, detail=f"no source {source_id}")
    fmt = formatter(request.state.lang)
    cited = fmt.cite({"source": found["name"], "citation": found["citation"], "source_kind": found["kind"]})
    return render(request, "source.html", s=found, cited=cited)


# --- the audit log's references --------------------------------------------------------------------

#: A changed field holding a record's id -> the kind of record it names.
_REFERENCE_FIELDS = {
    "place_id": "place", "place_a_id": "place", "place_b_id": "place", "resolved_place_id": "place",
    "partner_place_id": "place", "organisation_id": "organisation", "source_id": "source",
    "relation_id": "relation",
}  # fmt: skip


def record_href(entity: str, record_id: int | None) -> str | None:
    """The dashboard page of a record, when it has one."""
    if not record_id:
        return None
    return {
        "place": f"/cities/{record_id}",
        "organisation": f"/organisations/{record_id}",
        "source": f"/sources/{record_id}",
        "relation": f"/agreements/{record_id}",
    }.get(entity)


def audit_refs(session: Session, entries: list[Any], lang: str) -> dict[tuple[str, int], dict[str, Any]]:
    """Names and pages of the records an audit page mentions (its entries' records and the ids in their
    changes): ``(entity, id) -> {"label", "href"}``; ids of records that no longer exist are left out."""
    from citydiplomacy.present.fmt import formatter as fmt_of
    from citydiplomacy.store.schema import Source

    wanted: dict[str, set[int]] = {"place": set(), "organisation": set(), "source": set(), "relation": set()}
    for e in entries:
        if e.entity in wanted and e.entity_id:
            wanted[e.entity].add(e.entity_id)
        for key, value in (e.changes or {}).items():
            kind = _REFERENCE_FIELDS.get(key)
            for v in value if isinstance(value, list) else [value]:
                if kind and isinstance(v, int) and not isinstance(v, bool):
                    wanted[kind].add(v)
    fmt = fmt_of(lang)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    names: dict[int, str] = {}
    place_ids = set(wanted["place"])
    relations = []
    if wanted["relation"]:
        relations = session.execute(
            select(Relation.id, Relation.kind, Relation.place_a_id, Relation.place_b_id).where(
                Relation.id.in_(sorted(wanted["relation"]))
            )
        ).all()
        place_ids.update(x for r in relations for x in (r.place_a_id, r.place_b_id))
    if place_ids:
        for p in session.execute(select(Place.id, Place.name, Place.name_fa).where(Place.id.in_(sorted(place_ids)))):
            names[p.id] = fmt.place({"name": p.name, "name_fa": p.name_fa})
        out.update(
            {
                ("place", pid): {"label": names[pid], "href": record_href("place", pid)}
                for pid in wanted["place"]
                if pid in names
            }
        )
    for r in relations:
        label = f"{fmt.term(r.kind)}: {names.get(r.place_a_id, '?')} – {names.get(r.place_b_id, '?')}"
        out[("relation", r.id)] = {"label": label, "href": record_href("relation", r.id)}
    if wanted["organisation"]:
        for o in session.execute(
            select(Organisation.id, Organisation.name, Organisation.name_fa).where(
                Organisation.id.in_(sorted(wanted["organisation"]))
            )
        ):
            out[("organisation", o.id)] = {"label": fmt.place({"name": o.name, "name_fa": o.name_fa}),
                                           "href": record_href("organisation", o.id)}  # fmt: skip
    if wanted["source"]:
        for s in session.execute(
            select(Source.id, Source.name, Source.citation, Source.kind).where(Source.id.in_(sorted(wanted["source"])))
        ):
            cited = fmt.cite({"source": s.name, "citation": s.citation, "source_kind": s.kind, "source_id": s.id})
            out[("source", s.id)] = {
                "label": cited["label"] if cited else s.name,
                "href": record_href("source", s.id),
                "ltr": bool(cited and cited["ltr"]),
            }
    return out


def reference_kind(field: str) -> str | None:
    """The kind of record a changed field names by id (``place_a_id`` -> ``place``), None for other fields."""
    return _REFERENCE_FIELDS.get(field)
