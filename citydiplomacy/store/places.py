"""Repository of places and place mentions: turning resolver answers into registry rows, in bulk.

Every mention (a place name as a source wrote it) becomes exactly one place:

* ``resolved``    -> the GeoNames place (``gazetteer="geonames"``),
* ``subdivision`` -> the ISO 3166-2 subdivision (``gazetteer="iso3166-2"``),
* ``ambiguous`` / ``unresolved`` -> a place of its own (``gazetteer="source"``) with the source's
  coordinates and that status, so no relation is lost; reviewing an ambiguous mention later merges that
  place into the chosen gazetteer entry (:func:`review_mention`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.text import fold
from citydiplomacy.store.audit import record_bulk
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    Membership,
    Organisation,
    Place,
    PlaceMention,
    PlaceName,
    Relation,
    utcnow,
)

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolution


@dataclass(frozen=True)
class Mention:
    """A place as a source wrote it: name, country text and optional coordinates (degrees)."""

    name: str
    country: str = ""
    lat: float | None = None
    lng: float | None = None

    @property
    def key(self) -> str:
        coords = "" if self.lat is None or self.lng is None else f"{self.lat:.5f}|{self.lng:.5f}"
        return f"{self.name}|{self.country}|{coords}"


def is_district_of_parent(res: Resolution) -> bool:
    """A district the gazetteer lacks, linked by the resolver to its parent city's entry."""
    return res.admin_level == "district" and bool(res.candidates) and res.candidates[0].get("role") == "parent"


def place_key(mention: Mention, res: Resolution) -> tuple[str, str]:
    """The (gazetteer, gazetteer_id) a resolution maps to; source-only places get a stable id.

    A district the gazetteer lacks ("District 12 (Tehran)") stays a place of its own, keyed under its
    parent's GeoNames id (``geonames-district``, ``"<parent id>:<folded name>"``), so that its relations
    are not merged into the parent city's.
    """
    if res.status == "resolved" and res.gazetteer_id and is_district_of_parent(res):
        return "geonames-district", f"{res.gazetteer_id}:{fold(mention.name)}"[:200]
    if res.status in ("resolved", "subdivision") and res.gazetteer_id:
        return res.gazetteer, str(res.gazetteer_id)
    country = res.country_code or fold(mention.country) or "??"
    where = "" if mention.lat is None or mention.lng is None else f"@{mention.lat:.4f},{mention.lng:.4f}"
    return "source", f"{country}:{fold(mention.name)}{where}"[:200]


def script_tag(name: str) -> str:
    """A BCP 47 tag for a name of unknown language, from its script: ``und-Arab``, ``und-Cyrl``, ..."""
    for ch in name:
        if ch.isalpha():
            script = unicodedata.name(ch, "LATIN").split(" ")[0]
            return {
                "LATIN": "und-Latn",
                "ARABIC": "und-Arab",
                "CYRILLIC": "und-Cyrl",
                "GREEK": "und-Grek",
                "HEBREW": "und-Hebr",
                "CJK": "und-Hani",
                "HIRAGANA": "und-Jpan",
                "KATAKANA": "und-Jpan",
                "HANGUL": "und-Kore",
                "DEVANAGARI": "und-Deva",
                "ARMENIAN": "und-Armn",
                "GEORGIAN": "und-Geor",
                "THAI": "und-Thai",
            }.get(script, "und")
    return "und"


def _insert(conn: Connection):  # type: ignore[no-untyped-def]
    """The dialect's INSERT that supports ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def upsert_places(
    conn: Connection,
    resolved: Sequence[tuple[Mention, Resolution]],
    *,
    source_id: int | None,
    actor: str,
    context: str,
    store_alt_names: bool = True,
) -> tuple[dict[str, int], int]:
    """Create the places and mentions for resolver answers; reuse the ones already present.

    Parameters
    ----------
    conn
        Connection inside the import's transaction.
    resolved
        ``(mention, resolution)`` pairs, one per distinct mention.
    source_id, actor, context
        Provenance written on new rows and in the audit trail.
    store_alt_names
        Also store the gazetteer's alternate names (every script) as ``place_name`` rows.

    Returns
    -------
    tuple[dict[str, int], int]
        Mention key -> place id, and the number of places created.
    """
    now = utcnow()
    wanted: dict[tuple[str, str], tuple[Mention, Resolution]] = {}
    for mention, res in resolved:
        wanted.setdefault(place_key(mention, res), (mention, res))

    existing = _existing_place_ids(conn, list(wanted))
    new_rows = []
    gaz = None
    for key, (mention, res) in wanted.items():
        if key in existing:
            continue
        source_only = key[0] in ("source", "geonames-district")
        admin1 = None
        if res.gazetteer == "geonames" and res.gazetteer_id:
            # The region tells namesakes apart (five Cambridges in the US): keep GeoNames' admin-1 code.
            from citydiplomacy.geo.gazetteer import get_gazetteer

            gaz = gaz or get_gazetteer()
            i = gaz.index_of(res.gazetteer_id)
            admin1 = (gaz.admin1[i] or None) if i is not None else None
        new_rows.append(
            {
                "gazetteer": key[0],
                "gazetteer_id": key[1],
                "name": mention.name if source_only else res.name,
                "country_code": res.country_code,
                "admin1_code": admin1,
                "admin_level": res.admin_level,
                "lat": mention.lat if source_only and mention.lat is not None else res.lat,
                "lng": mention.lng if source_only and mention.lng is not None else res.lng,
                "population": res.population,
                "is_capital": bool(res.is_capital),
                "status": "district"
                if key[0] == "geonames-district"
                else {"resolved": "gazetteer"}.get(res.status, res.status),
                "source_id": source_id,
                "source_locator": f"first named as {mention.name!r}"[:500],
                "retrieved_at": now,
                "entered_by": actor,
                "entered_at": now,
                "version": 1,
            }
        )
    for start in range(0, len(new_rows), settings.IMPORT_BATCH_SIZE):
        conn.execute(_insert(conn)(Place), new_rows[start : start + settings.IMPORT_BATCH_SIZE])
    created_keys = [(r["gazetteer"], r["gazetteer_id"]) for r in new_rows]
    ids = _existing_place_ids(conn, list(wanted))
    if created_keys:
        record_bulk(
            conn,
            actor=actor,
            action="insert",
            entity="place",
            ids=[ids[k] for k in created_keys],
            context=context,
        )
        _insert_names(conn, [(ids[k], wanted[k]) for k in created_keys], store_alt_names)

    mention_to_place = {m.key: ids[place_key(m, r)] for m, r in resolved}
    mention_ids = _upsert_mentions(conn, resolved, mention_to_place, source_id)
    record_bulk(conn, actor=actor, action="insert", entity="place_mention", ids=mention_ids, context=context)
    return mention_to_place, len(new_rows)


def _existing_place_ids(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    step = 400  # keeps the IN list under SQLite's bound-parameter limit
    for start in range(0, len(keys), step):
        chunk = keys[start : start + step]
        rows = conn.execute(
            select(Place.gazetteer, Place.gazetteer_id, Place.id).where(
                tuple_(Place.gazetteer, Place.gazetteer_id).in_(chunk)
            )
        )
        found.update({(g, gid): pid for g, gid, pid in rows})
    return found


def _insert_names(
    conn: Connection, created: Iterable[tuple[int, tuple[Mention, Resolution]]], store_alt_names: bool
) -> None:
    rows: list[dict[str, Any]] = []
    for place_id, (mention, res) in created:
        names = {(res.name, "und", "official")} if res.name else set()
        names.add((mention.name, "und", "source"))
        if store_alt_names:
            names.update((alt, script_tag(alt), "alias") for alt in res.alt_names if alt and len(alt) <= 300)
        seen: set[tuple[str, str]] = set()
        for name, lang, kind in sorted(names, key=lambda n: n[2] != "official"):
            if (name, lang) not in seen:
                seen.add((name, lang))
                rows.append({"place_id": place_id, "name": name, "lang": lang, "kind": kind})
    for start in range(0, len(rows), settings.IMPORT_BATCH_SIZE * 5):
        conn.execute(
            _insert(conn)(PlaceName).on_conflict_do_nothing(),
            rows[start : start + settings.IMPORT_BATCH_SIZE * 5],
        )


def _upsert_mentions(
    conn: Connection,
    resolved: Sequence[tuple[Mention, Resolution]],
    mention_to_place: dict[str, int],
    source_id: int | None,
) -> list[int]:
    """Insert the mentions not yet known; return the ids of those inserted."""
    rows = [
        {
            "key": m.key,
            "name_in_source": m.name,
            "country_in_source": m.country,
            "lat_in_source": m.lat,
            "lng_in_source": m.lng,
            "place_id": mention_to_place[m.key],
            "score": r.score,
            "status": r.status,
            "candidates": [dict(c) for c in r.candidates] or None,
            "source_id": source_id,
        }
        for m, r in resolved
    ]
    inserted: list[int] = []
    statement = _insert(conn)(PlaceMention).on_conflict_do_nothing(index_elements=["key"]).returning(PlaceMention.id)
    for start in range(0, len(rows), settings.IMPORT_BATCH_SIZE):
        inserted.extend(conn.execute(statement, rows[start : start + settings.IMPORT_BATCH_SIZE]).scalars())
    return inserted


def review_mention(session: Session, mention_id: int, place_id: int, *, actor: str) -> PlaceMention:
    """Settle a mention in the review queue: link it to ``place_id`` and merge its provisional place.

    Relations, memberships and activities that pointed at the provisional (``source``) place are moved
    to the chosen one; a relation that would duplicate one the chosen place already has is dropped (its
    provenance stays in the audit trail).  Runs in the caller's transaction.

    Raises
    ------
    LookupError
        When the mention or the place does not exist.
    """
    mention = session.get(PlaceMention, mention_id)
    target = session.get(Place, place_id)
    if mention is None:
        raise LookupError(f"no place mention {mention_id}")
    if target is None:
        raise LookupError(f"no place {place_id}")
    session.info.setdefault("actor", actor)
    old = session.get(Place, mention.place_id) if mention.place_id else None
    mention.place_id = target.id
    mention.status = "reviewed"
    mention.reviewed_by = actor
    mention.reviewed_at = utcnow()
    if old is not None and old.id != target.id and old.gazetteer == "source":
        others = session.scalar(
            select(PlaceMention.id).where(PlaceMention.place_id == old.id, PlaceMention.id != mention.id).limit(1)
        )
        if others is None:
            merge_places(session, old, target)
    session.flush()
    return mention


def merge_places(session: Session, old: Place, target: Place) -> None:
    """Move every record of ``old`` onto ``target`` and delete ``old`` (both stay audited)."""
    for rel in session.scalars(
        select(Relation).where((Relation.place_a_id == old.id) | (Relation.place_b_id == old.id))
    ):
        other = rel.place_b_id if rel.place_a_id == old.id else rel.place_a_id
        a, b = sorted((other, target.id))
        clash = session.scalar(
            select(Relation.id).where(Relation.place_a_id == a, Relation.place_b_id == b, Relation.kind == rel.kind)
        )
        if a == b or clash is not None:
            session.delete(rel)
        else:
            rel.place_a_id, rel.place_b_id = a, b
    for model, column in ((Membership, Membership.place_id), (Activity, Activity.place_id)):
        for obj in session.scalars(select(model).where(column == old.id)):
            obj.place_id = target.id
    session.execute(
        update(ActivityParticipant).where(ActivityParticipant.place_id == old.id).values(place_id=target.id)
    )
    session.execute(update(Organisation).where(Organisation.seat_place_id == old.id).values(seat_place_id=target.id))
    session.execute(update(PlaceMention).where(PlaceMention.place_id == old.id).values(place_id=target.id))
    session.flush()
    session.delete(old)
