"""The review queue: place mentions the resolver could not settle, and the decisions people take on them.

The one review service: the REST API, the dashboard and the ``citydip review`` commands all call it.

* :func:`queue` lists the mentions waiting (``ambiguous`` by default) with their candidates enriched for a
  person to tell namesakes apart (region, population, distance from the source's coordinates) and the
  index of the **best** one (the closest when the source gave coordinates, else the resolver's score,
  then population);
* :func:`resolve` links a mention to a candidate (the gazetteer place is created if new) or to any place
  of the registry, merging its provisional place into it (:func:`~citydiplomacy.store.places.merge_places`);
* :func:`keep` ("keep as a new place") confirms the provisional place as a place of its own;
* :func:`reject` ("none of these") records that no candidate is right; the place stays provisional.

Decisions name the mention's ``version`` they were taken on: a stale one raises
:class:`~citydiplomacy.core.errors.VersionConflict`, a mention no longer waiting
:class:`~citydiplomacy.core.errors.Conflict`.  Every function runs in the caller's transaction.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput, Conflict, NotFound, VersionConflict
from citydiplomacy.store.lookup import get_place_by_id, region_name
from citydiplomacy.store.places import merge_places
from citydiplomacy.store.readcache import cached
from citydiplomacy.store.schema import Place, PlaceMention, PlaceName, utcnow

__all__ = ["best_candidate", "enrich_candidates", "keep", "mention_dict", "queue", "reject", "resolve"]


class MentionNotFound(NotFound):
    """No place mention has that id."""


def _gazetteer():  # type: ignore[no-untyped-def]
    # Loaded on first use only: listing a queue without GeoNames candidates needs no gazetteer.
    from citydiplomacy.geo.gazetteer import get_gazetteer

    return get_gazetteer()


def _distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    from citydiplomacy.geo.gazetteer import haversine_km

    return float(haversine_km(lat1, lng1, lat2, lng2))


def enrich_candidates(mention: PlaceMention) -> list[dict[str, Any]]:
    """The mention's candidates with what tells namesakes apart: region, population, distance (km).

    Each candidate keeps the resolver's fields (``gazetteer_id``, ``name``, ``country_code``, ``lat``,
    ``lng``, ``population``, ``score``) and gains ``index`` (its position, what a decision names),
    ``choosable`` (it is a gazetteer entry), ``admin1``, ``region`` and ``distance_km`` (from the source's
    coordinates, when the source gave them).
    """
    out: list[dict[str, Any]] = []
    gaz = None
    has_xy = mention.lat_in_source is not None and mention.lng_in_source is not None
    for i, raw in enumerate(mention.candidates or []):
        cand = dict(raw)
        cand["index"] = i
        cand["choosable"] = bool(cand.get("gazetteer_id"))
        admin1 = cand.get("admin1")
        if cand["choosable"] and not admin1:
            gaz = gaz or _gazetteer()
            at = gaz.index_of(cand["gazetteer_id"], cand.get("gazetteer") or "geonames")
            admin1 = (gaz.admin1[at] or None) if at is not None else None
        cand["admin1"] = admin1 or None
        cand["region"] = region_name(cand.get("country_code"), admin1 or None)
        if has_xy and cand.get("lat") is not None and cand.get("lng") is not None:
            cand["distance_km"] = round(
                _distance_km(mention.lat_in_source, mention.lng_in_source, cand["lat"], cand["lng"]),  # type: ignore[arg-type]
                1,
            )
        else:
            cand.setdefault("distance_km", None)
        out.append(cand)
    return out


def best_candidate(candidates: list[dict[str, Any]], has_coordinates: bool) -> int | None:
    """The index of the candidate a reviewer most likely means (None when none is a gazetteer entry).

    With source coordinates, the closest; without, the highest resolver score, then the most populous.
    """
    choosable = [c for c in candidates if c.get("choosable", bool(c.get("gazetteer_id")))]
    if not choosable:
        return None
    if has_coordinates and any(c.get("distance_km") is not None for c in choosable):
        near = min(choosable, key=lambda c: (c["distance_km"] is None, c.get("distance_km") or math.inf))
        return int(near["index"])
    top = max(choosable, key=lambda c: (float(c.get("score") or 0.0), int(c.get("population") or 0)))
    return int(top["index"])


def mention_dict(mention: PlaceMention) -> dict[str, Any]:
    """A mention as the queue shows it: its fields, its enriched candidates and the best one's index."""
    candidates = enrich_candidates(mention)
    has_xy = mention.lat_in_source is not None and mention.lng_in_source is not None
    return {
        "id": mention.id,
        "key": mention.key,
        "name_in_source": mention.name_in_source,
        "country_in_source": mention.country_in_source,
        "lat_in_source": mention.lat_in_source,
        "lng_in_source": mention.lng_in_source,
        "place_id": mention.place_id,
        "score": mention.score,
        "status": mention.status,
        "source_id": mention.source_id,
        "reviewed_by": mention.reviewed_by,
        "reviewed_at": mention.reviewed_at.isoformat() if mention.reviewed_at else None,
        "version": mention.version,
        "candidates": candidates,
        "best": best_candidate(candidates, has_xy),
    }


@cached  # the candidates are enriched from the gazetteer (seconds on a first read): once per registry change
def queue(session: Session, status: str = "ambiguous", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One page of the review queue: mentions in ``status``, oldest first.

    Returns
    -------
    dict
        ``items`` (see :func:`mention_dict`), ``total`` (mentions in that status), ``limit``, ``offset``.
    """
    where = PlaceMention.status == status
    total = session.scalar(select(func.count()).select_from(PlaceMention).where(where)) or 0
    rows = session.scalars(select(PlaceMention).where(where).order_by(PlaceMention.id).limit(limit).offset(offset))
    return {"items": [mention_dict(m) for m in rows], "total": int(total), "limit": limit, "offset": offset}


def _waiting(session: Session, mention_id: int, version: int | None) -> PlaceMention:
    """The mention, checked: it exists, ``version`` is current, and it still waits for a decision."""
    mention = session.get(PlaceMention, mention_id)
    if mention is None:
        raise MentionNotFound(f"no place mention {mention_id}")
    if version is not None and version != mention.version:
        raise VersionConflict("place mention", mention_id, version, mention.version)
    if mention.status not in settings.REVIEW_WAITING_STATUSES:
        by = f" by {mention.reviewed_by}" if mention.reviewed_by else ""
        raise Conflict(f"place mention {mention_id} is {mention.status}{by}, not waiting for review")
    return mention


def _decided(session: Session, mention: PlaceMention, status: str, actor: str, given: int) -> None:
    mention.status = status
    mention.reviewed_by = actor
    mention.reviewed_at = utcnow()
    try:
        session.flush()
    except StaleDataError as exc:  # someone decided it between our read and our write (the caller rolls back)
        raise VersionConflict("place mention", mention.id, given, given + 1) from exc


def _gazetteer_place(session: Session, cand: dict[str, Any], mention: PlaceMention, actor: str) -> Place:
    """The registry's place for a gazetteer candidate (GeoNames or CSC), created (with its names) when it is new."""
    from citydiplomacy.store.lookup import gazetteer_ref
    from citydiplomacy.store.records import gazetteer_place

    locator = f"chosen in review for {mention.name_in_source!r}"[:500]
    fallback = {**cand, "name": cand.get("name") or mention.name_in_source}
    return gazetteer_place(session, gazetteer_ref(cand), actor, source_id=mention.source_id,
                           source_locator=locator, fallback=fallback)  # fmt: skip


def resolve(
    session: Session,
    mention_id: int,
    *,
    candidate: int | None = None,
    place_id: int | None = None,
    version: int | None,
    actor: str,
) -> PlaceMention:
    """Settle a mention: it names ``candidate`` (an index into its candidates) or the place ``place_id``.

    The mention is linked to that place (a GeoNames candidate new to the registry is created), marked
    ``reviewed`` with the reviewer and time; its provisional place, when no other mention uses it, is
    merged into the chosen one (every relation, membership, result... moves; see
    :func:`~citydiplomacy.store.places.merge_places`).

    Parameters
    ----------
    session
        An open session (the caller commits).
    mention_id
        The mention decided.
    candidate, place_id
        Exactly one: the candidate's index, or a registry place's id (redirects of merged places followed).
    version
        The mention's version the decision was taken on (None: the current one, for scripts).
    actor
        The reviewer.

    Raises
    ------
    MentionNotFound, PlaceNotFound
        No such mention or place.
    BadInput
        Not exactly one of ``candidate`` and ``place_id``, or no such (gazetteer) candidate.
    VersionConflict
        ``version`` is stale.
    Conflict
        The mention is no longer waiting for review.
    """
    if (candidate is None) == (place_id is None):
        raise BadInput("give exactly one of a candidate and a place")
    mention = _waiting(session, mention_id, version)
    session.info.setdefault("actor", actor)
    if place_id is not None:
        target = get_place_by_id(session, place_id)
    else:
        cands = mention.candidates or []
        assert candidate is not None
        if not 0 <= candidate < len(cands) or not cands[candidate].get("gazetteer_id"):
            raise BadInput(f"mention {mention_id} has no candidate {candidate} (it has {len(cands)}, numbered from 0)")
        target = _gazetteer_place(session, cands[candidate], mention, actor)
    old = session.get(Place, mention.place_id) if mention.place_id else None
    mention.place_id = target.id
    given = mention.version
    _decided(session, mention, "reviewed", actor, given)
    held = session.scalar(
        select(PlaceName.id).where(PlaceName.place_id == target.id, PlaceName.name == mention.name_in_source)
    )
    if held is None:  # the source's spelling finds the place from now on
        session.add(PlaceName(place_id=target.id, name=mention.name_in_source, lang="und", kind="source"))
    if old is not None and old.id != target.id and old.gazetteer == "source":
        others = session.scalar(
            select(PlaceMention.id).where(PlaceMention.place_id == old.id, PlaceMention.id != mention.id).limit(1)
        )
        if others is None:
            merge_places(session, old, target, actor=actor)
    session.flush()
    return mention


def keep(session: Session, mention_id: int, *, version: int | None, actor: str) -> PlaceMention:
    """ "Keep as a new place": the mention is ``kept``, its provisional place confirmed as a place of its own.

    Raises
    ------
    MentionNotFound, VersionConflict, Conflict
        As for :func:`resolve`.
    """
    mention = _waiting(session, mention_id, version)
    session.info.setdefault("actor", actor)
    _decided(session, mention, "kept", actor, mention.version)
    place = session.get(Place, mention.place_id) if mention.place_id else None
    if place is not None and place.gazetteer == "source":
        place.status = settings.REVIEW_CONFIRMED_PLACE_STATUS
        session.flush()
    return mention


def reject(session: Session, mention_id: int, *, version: int | None, actor: str) -> PlaceMention:
    """ "None of these": the mention is ``rejected`` (no candidate is right), the reviewer recorded; its place
    stays a provisional place of its own.

    Raises
    ------
    MentionNotFound, VersionConflict, Conflict
        As for :func:`resolve`.
    """
    mention = _waiting(session, mention_id, version)
    session.info.setdefault("actor", actor)
    _decided(session, mention, "rejected", actor, mention.version)
    return mention
