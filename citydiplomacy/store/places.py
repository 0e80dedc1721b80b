"""Repository of places and place mentions: turning resolver answers into registry rows, in bulk.

Every mention (a place name as a source wrote it) becomes exactly one place:

* ``resolved``    -> the gazetteer entry: a GeoNames place (``gazetteer="geonames"``) or a
  countries-states-cities municipality or unit (``gazetteer="csc"``), with its Wikidata id when the
  gazetteer knows it and no other place holds it,
* ``subdivision`` -> the ISO 3166-2 subdivision (``gazetteer="iso3166-2"``),
* ``ambiguous`` / ``unresolved`` -> a place of its own (``gazetteer="source"``) with the source's
  coordinates and that status, so no relation is lost; reviewing an ambiguous mention later merges that
  place into the chosen gazetteer entry (:mod:`citydiplomacy.store.review`, through :func:`merge_places`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput
from citydiplomacy.core.text import fold
from citydiplomacy.geo.names import persian_name
from citydiplomacy.store.audit import record_bulk, record_bulk_select
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    AgreementSignatory,
    Base,
    CityResult,
    Document,
    FollowUpAction,
    IndicatorValue,
    Membership,
    MembershipEvidence,
    Organisation,
    Outcome,
    Person,
    Place,
    PlaceFact,
    PlaceMention,
    PlaceName,
    PlaceRedirect,
    Relation,
    RelationEvidence,
    utcnow,
)
from citydiplomacy.store.staging import drop_all, fill, stage_table

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolution


@dataclass(frozen=True)
class Mention:
    """A place as a source wrote it: name, country text and optional coordinates (degrees).

    ``derived`` marks a mention an importer made from another (a namesake twinned with a place, re-resolved
    without the coordinates the source gave both): its key says so, so it never collides with the mentions
    of other rows, and a source place made from it is a place of its own.
    """

    name: str
    country: str = ""
    lat: float | None = None
    lng: float | None = None
    derived: str = ""

    @property
    def key(self) -> str:
        coords = "" if self.lat is None or self.lng is None else f"{self.lat:.5f}|{self.lng:.5f}"
        tail = f"|{self.derived}" if self.derived else ""
        return f"{self.name}|{self.country}|{coords}{tail}"[:500]


def is_district_of_parent(res: Resolution) -> bool:
    """A district the gazetteer lacks, linked by the resolver to its parent city's entry."""
    return res.admin_level == "district" and bool(res.candidates) and res.candidates[0].get("role") == "parent"


def place_key(mention: Mention, res: Resolution) -> tuple[str, str]:
    """The (gazetteer, gazetteer_id) a resolution maps to; source-only places get a stable id.

    A district the gazetteer lacks ("District 12 (Tehran)") stays a place of its own, keyed under its
    parent's entry (``geonames-district`` or ``csc-district``, ``"<parent id>:<folded name>"``), so that its
    relations are not merged into the parent city's.
    """
    if res.status == "resolved" and res.gazetteer_id and is_district_of_parent(res):
        return f"{res.gazetteer}-district", f"{res.gazetteer_id}:{fold(mention.name)}"[:200]
    if res.status in ("resolved", "subdivision") and res.gazetteer_id:
        return res.gazetteer, str(res.gazetteer_id)
    country = res.country_code or fold(mention.country) or "??"
    if "," in mention.country:
        # "England, United Kingdom" / "Azores, Portugal": the region as written keeps apart source places
        # whose name and coordinates coincide but whose region says they are different places.
        country += "/" + fold(mention.country.split(",", 1)[0])
    where = "" if mention.lat is None or mention.lng is None else f"@{mention.lat:.4f},{mention.lng:.4f}"
    if mention.derived:
        where += f"~{mention.derived}"
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


#: Columns of ``place`` an import stages (``id`` and ``source_id`` are set when the stage is applied).
_PLACE_COLUMNS = (
    "gazetteer", "gazetteer_id", "name", "name_fa", "country_code", "admin1_code", "admin_level", "lat", "lng",
    "population", "is_capital", "status", "source_locator", "retrieved_at", "entered_by", "entered_at", "version",
    "wikidata_id",
)  # fmt: skip
#: The keys of districts the gazetteer lacks, kept apart under their parent's entry (see place_key).
DISTRICT_GAZETTEERS = ("geonames-district", "csc-district")
_MENTION_COLUMNS = ("key", "name_in_source", "country_in_source", "lat_in_source", "lng_in_source", "score", "status",
                    "candidates")  # fmt: skip


@dataclass
class PlaceStage:
    """The places, names and mentions of one import, staged on a connection by :func:`stage_places`."""

    place: Table
    name: Table
    mention: Table
    mentions: int


def stage_places(
    conn: Connection, resolved: Sequence[tuple[Mention, Resolution]], *, actor: str, store_alt_names: bool = True
) -> PlaceStage:
    """Stage the places and mentions for resolver answers in temporary tables on ``conn``.

    Nothing in the registry is read or locked: which places already exist is decided when the stage is
    applied (:func:`apply_places`), inside the write transaction, so that a place created meanwhile is
    reused, not duplicated.

    Parameters
    ----------
    conn
        The import's own connection (temporary tables are private to it).
    resolved
        ``(mention, resolution)`` pairs, one per distinct mention.
    actor
        Who is recorded as having entered the new places.
    store_alt_names
        Also stage the gazetteer's alternate names (every script) as ``place_name`` rows.
    """
    from citydiplomacy.geo.gazetteer import get_gazetteer

    now = utcnow()
    wanted: dict[tuple[str, str], tuple[Mention, Resolution]] = {}
    for mention, res in resolved:
        wanted.setdefault(place_key(mention, res), (mention, res))
    places, names = [], []
    gaz = None
    for key, (mention, res) in wanted.items():
        source_only = key[0] in ("source", *DISTRICT_GAZETTEERS)
        admin1 = None
        if res.linked and res.gazetteer_id:
            # The region tells namesakes apart (five Cambridges in the US): keep GeoNames' admin-1 code.
            gaz = gaz or get_gazetteer()
            i = gaz.index_of(res.gazetteer_id, res.gazetteer)
            admin1 = (gaz.admin1[i] or None) if i is not None else None
        places.append(
            {
                "gazetteer": key[0],
                "gazetteer_id": key[1],
                "name": mention.name if source_only else res.name,
                # Persian pages name the place in Persian where the gazetteer spells it so (a new place only:
                # an existing one keeps the Persian name it has, an office's own included).
                "name_fa": None if source_only else persian_name(res.alt_names),
                "country_code": res.country_code,
                "admin1_code": admin1,
                "admin_level": res.admin_level,
                "lat": mention.lat if source_only and mention.lat is not None else res.lat,
                "lng": mention.lng if source_only and mention.lng is not None else res.lng,
                "population": res.population or None,  # 0: the gazetteer does not know it (CSC entries)
                "is_capital": bool(res.is_capital),
                "status": "district"
                if key[0] in DISTRICT_GAZETTEERS
                else {"resolved": "gazetteer"}.get(res.status, res.status),
                # A source carrying Wikidata ids then joins this place without matching names.
                "wikidata_id": None if source_only else res.wikidata_id,
                "source_locator": f"first named as {mention.name!r}"[:500],
                "retrieved_at": now,
                "entered_by": actor,
                "entered_at": now,
                "version": 1,
            }
        )
        names.extend({"gazetteer": key[0], "gazetteer_id": key[1], **n} for n in _names(mention, res, store_alt_names))
    mentions = [
        {
            "key": m.key,
            "name_in_source": m.name,
            "country_in_source": m.country,
            "lat_in_source": m.lat,
            "lng_in_source": m.lng,
            "score": r.score,
            "status": r.status,
            "candidates": [dict(c) for c in r.candidates] or None,
            "gazetteer": place_key(m, r)[0],
            "gazetteer_id": place_key(m, r)[1],
        }
        for m, r in resolved
    ]
    key_cols = ("gazetteer", "gazetteer_id")
    place_table = stage_table(conn, "stage_place", Place.__table__, _PLACE_COLUMNS, index=[key_cols])
    name_table = stage_table(conn, "stage_place_name", PlaceName.__table__, ("name", "lang", "kind"),
                             extra=_key_columns(), index=[key_cols])  # fmt: skip
    mention_table = stage_table(conn, "stage_mention", PlaceMention.__table__, _MENTION_COLUMNS, extra=_key_columns())
    fill(conn, place_table, places)
    fill(conn, name_table, names)
    fill(conn, mention_table, mentions)
    return PlaceStage(place_table, name_table, mention_table, len(mentions))


def _key_columns() -> list[Column[Any]]:
    return [Column(c, Place.__table__.c[c].type) for c in ("gazetteer", "gazetteer_id")]


def _names(mention: Mention, res: Resolution, store_alt_names: bool) -> list[dict[str, str]]:
    """The names a new place is stored with: the gazetteer's, the source's, and (optionally) every alias."""
    names = {(res.name, "und", "official")} if res.name else set()
    names.add((mention.name, "und", "source"))
    if store_alt_names:
        names.update((alt, script_tag(alt), "alias") for alt in res.alt_names if alt and len(alt) <= 300)
    seen: set[tuple[str, str]] = set()
    rows = []
    for name, lang, kind in sorted(names, key=lambda n: n[2] != "official"):
        if (name, lang) not in seen:
            seen.add((name, lang))
            rows.append({"name": name, "lang": lang, "kind": kind})
    return rows


def _same_place(staged: Table, place: Any = None) -> Any:
    place = Place.__table__ if place is None else place
    return and_(place.c.gazetteer == staged.c.gazetteer, place.c.gazetteer_id == staged.c.gazetteer_id)


def apply_places(
    conn: Connection, stage: PlaceStage, *, source_id: int | None, actor: str, context: str
) -> tuple[dict[str, int], int]:
    """Create the staged places, names and mentions not yet in the registry; reuse the ones present.

    Runs inside the import's write transaction as a handful of ``INSERT ... SELECT`` statements, however
    many rows, so that the registry's write lock is held briefly.  The records this transaction created are
    the staged keys whose ids exceed the largest id before it (ids only grow; a concurrent writer creating
    one of the same keys makes this transaction fail on the unique key, and nothing is written).

    Returns
    -------
    tuple[dict[str, int], int]
        Mention key -> place id, and the number of places created.
    """
    place, staged = Place.__table__, stage.place
    before = last_id(conn, place)
    conn.execute(
        insert(place).from_select(
            [*_PLACE_COLUMNS, "source_id"],
            select(*(staged.c[c] for c in _PLACE_COLUMNS), literal(source_id, place.c.source_id.type))
            .where(~exists().where(_same_place(staged)))
            .order_by(staged.c.gazetteer, staged.c.gazetteer_id),
        )
    )
    _drop_held_wikidata_ids(conn, before)
    ours = place.join(staged, _same_place(staged))
    created = record_bulk_select(conn, actor=actor, action="insert", entity="place", context=context,
                                 ids=select(place.c.id).select_from(ours).where(place.c.id > before))  # fmt: skip
    names = stage.name
    conn.execute(
        insert(PlaceName.__table__).from_select(
            ["place_id", "name", "lang", "kind"],
            select(place.c.id, names.c.name, names.c.lang, names.c.kind)
            .select_from(names.join(place, _same_place(names)))
            .where(place.c.id > before)  # names come with new places only: an existing place keeps its own
            .order_by(place.c.id),  # the unique (place_id, name, lang) index grows at its end
        )
    )
    mentions, known = stage.mention, PlaceMention.__table__
    before_mention = last_id(conn, known)
    conn.execute(
        insert(known).from_select(
            [*_MENTION_COLUMNS, "place_id", "source_id"],
            select(*(mentions.c[c] for c in _MENTION_COLUMNS), place.c.id, literal(source_id, known.c.source_id.type))
            .select_from(mentions.join(place, _same_place(mentions)))
            .where(~exists().where(known.c.key == mentions.c.key)),
        )
    )
    new_mentions = select(known.c.id).select_from(known.join(mentions, known.c.key == mentions.c.key))
    record_bulk_select(conn, actor=actor, action="insert", entity="place_mention", context=context,
                       ids=new_mentions.where(known.c.id > before_mention))  # fmt: skip
    mention_to_place = dict(
        conn.execute(select(mentions.c.key, place.c.id).select_from(mentions.join(place, _same_place(mentions)))).all()
    )
    if len(mention_to_place) != stage.mentions:  # every staged mention maps to a place now; say so if not
        raise RuntimeError(f"{stage.mentions - len(mention_to_place)} staged mentions found no place")
    return mention_to_place, created


def _drop_held_wikidata_ids(conn: Connection, before: int) -> None:
    """New places (id > ``before``) keep their gazetteer's Wikidata id only where no other place held it first."""
    place, other = Place.__table__, Place.__table__.alias("other")
    held = exists().where(other.c.wikidata_id == place.c.wikidata_id, other.c.id < place.c.id)
    conn.execute(
        update(place).where(place.c.id > before, place.c.wikidata_id.is_not(None), held).values(wikidata_id=None)
    )


def lend_wikidata_ids(conn: Connection, ids: dict[int, str], *, actor: str, context: str) -> int:
    """Give places a Wikidata id (place id -> ``"Q64"``) where they have none and no other place holds it.

    A source carrying ids (the missions file, a Wikidata crawl) fills them in, so that the next source with
    ids joins without matching names; an id already held is never moved or duplicated.  Audited.

    Returns
    -------
    int
        Places given an id.
    """
    place = Place.__table__
    held = set(conn.execute(select(place.c.wikidata_id).where(place.c.wikidata_id.is_not(None))).scalars())
    claims: dict[str, int] = {}
    for qid in ids.values():
        claims[qid] = claims.get(qid, 0) + 1
    wanted = {p: q for p, q in ids.items() if q not in held and claims[q] == 1}
    keys = sorted(wanted)
    empty: set[int] = set()
    for start in range(0, len(keys), 900):  # below SQLite's bound-parameter limit
        q = select(place.c.id).where(place.c.id.in_(keys[start : start + 900]), place.c.wikidata_id.is_(None))
        empty.update(conn.execute(q).scalars())
    rows = sorted((p, wanted[p]) for p in empty)
    for pid, qid in rows:
        conn.execute(update(place).where(place.c.id == pid).values(wikidata_id=qid))
    record_bulk(conn, actor=actor, action="update", entity="place", ids=[p for p, _ in rows], context=context,
                changes=[{"wikidata_id": [None, q]} for _, q in rows])  # fmt: skip
    return len(rows)


def last_id(conn: Connection, table: Table) -> int:
    """The largest id in ``table`` (0 when empty): what a bulk insert's new rows exceed."""
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def upsert_places(
    conn: Connection,
    resolved: Sequence[tuple[Mention, Resolution]],
    *,
    source_id: int | None,
    actor: str,
    context: str,
    store_alt_names: bool = True,
) -> tuple[dict[str, int], int]:
    """Stage and apply in one go, inside the caller's transaction (small imports such as the case study).

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
    stage = stage_places(conn, resolved, actor=actor, store_alt_names=store_alt_names)
    try:
        return apply_places(conn, stage, source_id=source_id, actor=actor, context=context)
    finally:
        drop_all(conn)


# --- merging two places ------------------------------------------------------------------------------

#: Every ``(table, column)`` referring to ``place.id`` that :func:`merge_places` handles with a rule of its
#: own (unique constraints that bite, audited records moved through the ORM).  A reference not listed here
#: is still moved, by :func:`_move_generic`; ``tests/test_review.py`` fails when the schema gains one, so
#: that its rule is decided on purpose.
MERGE_RULES: dict[tuple[str, str], str] = {
    ("relation", "place_a_id"): "relation",
    ("relation", "place_b_id"): "relation",
    ("membership", "place_id"): "membership",
    ("indicator_value", "place_id"): "indicator_value",
    ("city_result", "place_id"): "city_result",
    ("place_name", "place_id"): "place_name",
    ("place_mention", "place_id"): "place_mention",
    ("activity", "place_id"): "activity",
    ("activity_participant", "place_id"): "activity_participant",
    ("organisation", "seat_place_id"): "organisation",
    ("place_redirect", "place_id"): "place_redirect",
    ("place_fact", "place_id"): "place_fact",
    ("person", "place_id"): "person",
}


def place_references(metadata: MetaData | None = None) -> list[tuple[str, str]]:
    """Every ``(table, column)`` of the schema with a foreign key to ``place.id``, sorted."""
    metadata = metadata if metadata is not None else Base.metadata
    found = {
        (table.name, fk.parent.name)
        for table in metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == "place" and fk.column.name == "id"
    }
    return sorted(found)


@dataclass
class MergeSummary:
    """What :func:`merge_places` did: records moved onto the target and dropped as duplicates, per table."""

    old_id: int
    target_id: int
    moved: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_relations: list[dict[str, Any]] = field(default_factory=list)

    def count(self, what: str, table: str, n: int = 1) -> None:
        bucket = self.moved if what == "moved" else self.dropped
        if n:
            bucket[table] = bucket.get(table, 0) + n


def merge_places(session: Session, old: Place, target: Place, *, actor: str) -> MergeSummary:
    """Merge ``old`` into ``target``: move every reference to ``old`` onto ``target``, then delete ``old``.

    Every foreign key to ``place.id`` in the schema is covered (:data:`MERGE_RULES`, and a generic move for
    any other), in the caller's transaction, so either all of it happens or none:

    * relations (``place_a_id < place_b_id`` kept; with an organisation, the place side moves): one that
      becomes a self-relation or is the same fact as one of the target's (kind, title, signing year: two
      agreements of a kind may be two different agreements) is dropped (its provenance stays in the audit
      trail, and in the merge's entry);
    * memberships (place, organisation, role), indicator values (place, code, year) and place facts
      (place, code, source): the target's record wins over a duplicate;
    * analysis results (run, place, code): carried over for the runs in which the target has none, dropped
      for the others (the target's own figures of that run stand);
    * names (deduplicated), mentions, activities, activity participants, organisation seats and earlier
      redirects move;
    * a :class:`~citydiplomacy.store.schema.PlaceRedirect` leads ``old.id`` to ``target``, and an audit
      entry (entity ``place``, action ``merge``) records the target and the counts.

    Parameters
    ----------
    session
        An open session; the merge is flushed, not committed.
    old, target
        The place merged away and the place it becomes.
    actor
        Who is recorded as making the change.

    Returns
    -------
    MergeSummary
        Counts moved and dropped per table.

    Raises
    ------
    BadInput
        ``old`` and ``target`` are the same place.
    """
    if old.id == target.id:
        raise BadInput(f"cannot merge place {old.id} ({old.name}) into itself")
    previous_actor = session.info.get("actor")
    session.info["actor"] = actor
    try:
        session.flush()
        summary = MergeSummary(old.id, target.id)
        handlers = {
            "relation": _move_relations,
            "membership": _move_memberships,
            "indicator_value": _move_indicator_values,
            "city_result": _move_city_results,
            "place_name": _move_names,
            "place_mention": _move_simple(PlaceMention, PlaceMention.place_id),
            "activity": _move_simple(Activity, Activity.place_id),
            "activity_participant": _move_participants,
            "organisation": _move_simple(Organisation, Organisation.seat_place_id),
            "place_redirect": _move_redirects,
            "place_fact": _move_place_facts,
            "person": _move_simple(Person, Person.place_id),
        }
        done: set[str] = set()
        for table, column in place_references():
            rule = MERGE_RULES.get((table, column))
            if rule is None:
                _move_generic(session, Base.metadata.tables[table], column, old.id, target.id, summary)
            elif rule not in done:
                done.add(rule)
                handlers[rule](session, old.id, target.id, summary)
        session.flush()
        # The redirect: links to the old id (bookmarks, exports, reports) lead to the place it became.
        stale = session.get(PlaceRedirect, old.id)  # an id SQLite reused after an earlier merge
        if stale is not None:
            session.delete(stale)
            session.flush()
        session.add(PlaceRedirect(old_place_id=old.id, place_id=target.id, merged_by=actor, merged_at=utcnow()))
        session.expire(old, ["names"])  # the names were moved by a bulk update: do not cascade on stale ones
        session.delete(old)
        session.flush()
        record_bulk(
            session.connection(),
            actor=actor,
            action="merge",
            entity="place",
            ids=[summary.old_id],
            context=session.info.get("context") or "merge places",
            changes=[
                {
                    "target_id": summary.target_id,
                    "moved": summary.moved,
                    "dropped": summary.dropped,
                    "dropped_relations": summary.dropped_relations,
                }
            ],
        )
    finally:
        if previous_actor is None:
            session.info.pop("actor", None)
        else:
            session.info["actor"] = previous_actor
    return summary


def _move_simple(model: type, column: Any):  # type: ignore[no-untyped-def]
    """A reference without a unique constraint: every row moves (through the ORM, so it is audited)."""

    def move(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
        rows = list(session.scalars(select(model).where(column == old_id)))
        for obj in rows:
            setattr(obj, column.key, target_id)
        summary.count("moved", model.__tablename__, len(rows))  # type: ignore[attr-defined]

    return move


def _move_relations(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    rows = list(
        session.scalars(select(Relation).where((Relation.place_a_id == old_id) | (Relation.place_b_id == old_id)))
    )

    def fact(a: int | None, b: int | None, rel: Relation) -> tuple[Any, ...]:
        # Several agreements between two places are allowed: a duplicate is the same fact (kind, title, year).
        return (a, b, rel.organisation_id, rel.kind, rel.title, rel.signed_year)

    taken = {
        fact(rel.place_a_id, rel.place_b_id, rel): rel.id
        for rel in session.scalars(
            select(Relation).where((Relation.place_a_id == target_id) | (Relation.place_b_id == target_id))
        )
    }
    for rel in rows:
        if rel.place_b_id is None:  # an agreement with an organisation: the place side moves
            a, b, other = target_id, None, None
        else:
            other = rel.place_b_id if rel.place_a_id == old_id else rel.place_a_id
            a, b = sorted((other, target_id))
        reason = "self-relation" if a == b else "duplicate" if fact(a, b, rel) in taken else None
        if reason is not None:
            summary.dropped_relations.append(
                {
                    "id": rel.id,
                    "kind": rel.kind,
                    "other_place_id": other,
                    "reason": reason,
                    "source_id": rel.source_id,
                    "source_locator": rel.source_locator,
                }
            )
            summary.count("dropped", "relation")
            # The evidence follows the fact: a duplicate's sources become the kept relation's (a source already
            # cited there at the same locator once); a self-relation's go with it.
            kept = taken.get(fact(a, b, rel)) if reason == "duplicate" else None
            _move_evidence(session, rel.id, kept, summary)
            _move_signatories_and_documents(session, rel.id, kept)
            _move_office_record(session, rel.id, kept, summary)
            session.delete(rel)
        else:
            taken[fact(a, b, rel)] = rel.id
            rel.place_a_id, rel.place_b_id = a, b
            summary.count("moved", "relation")


def _move_office_record(session: Session, old_relation: int, kept: int | None, summary: MergeSummary) -> None:
    """A dropped duplicate's activities, outcomes and follow-up actions become the kept agreement's: the office's
    record of what the agreement yielded is not lost with the duplicate (a self-relation's activities keep
    their place and lose the link; its outcomes and actions go with it)."""
    if kept is None:
        return
    for model, what in ((Activity, "activity"), (Outcome, "outcome"), (FollowUpAction, "follow_up_action")):
        moved = session.execute(
            update(model).where(model.relation_id == old_relation).values(relation_id=kept)  # type: ignore[attr-defined]
        ).rowcount
        if moved:
            summary.count("moved", what, moved)
    session.flush()


def _move_signatories_and_documents(session: Session, old_relation: int, kept: int | None) -> None:
    """A dropped duplicate's signatories and documents become the kept relation's (the same person in the same role,
    or the same file, once); a self-relation's go with it."""
    if kept is None:
        return
    signed = set(
        session.execute(
            select(AgreementSignatory.person_id, AgreementSignatory.role).where(AgreementSignatory.relation_id == kept)
        ).all()
    )
    for row in session.scalars(select(AgreementSignatory).where(AgreementSignatory.relation_id == old_relation)):
        if (row.person_id, row.role) not in signed:
            row.relation_id = kept
    files = set(session.scalars(select(Document.sha256).where(Document.relation_id == kept)))
    for doc in session.scalars(select(Document).where(Document.relation_id == old_relation)):
        if doc.sha256 not in files:
            doc.relation_id = kept
    session.flush()  # before the relation's DELETE, whose ON DELETE CASCADE would take them


def _move_evidence(
    session: Session, old_record: int, kept: int | None, summary: MergeSummary, table: Table | None = None
) -> None:
    """Move a dropped relation's (or, with ``table`` membership_evidence, membership's) evidence onto the record
    ``kept`` (None: delete it with the record)."""
    ev = RelationEvidence.__table__ if table is None else table
    key = "relation_id" if table is None else "membership_id"
    if kept is not None:
        other = ev.alias("other")
        clash = (
            select(other.c.id)
            .where(
                other.c[key] == kept,
                other.c.source_id.is_not_distinct_from(ev.c.source_id),
                other.c.source_locator.is_not_distinct_from(ev.c.source_locator),
            )
            .exists()
        )
        moved = session.execute(update(ev).where(ev.c[key] == old_record, ~clash).values({ev.c[key]: kept}))
        summary.count("moved", ev.name, moved.rowcount or 0)
    dropped = session.execute(delete(ev).where(ev.c[key] == old_record))
    summary.count("dropped", ev.name, dropped.rowcount or 0)


def _move_unique(session: Session, model: type, key: Any, old_id: int, target_id: int, summary: MergeSummary) -> None:
    """Move ``model`` rows of ``old`` unless the target already has one with the same ``key(row)``."""
    held = {key(obj) for obj in session.scalars(select(model).where(model.place_id == target_id))}  # type: ignore[attr-defined]
    for obj in list(session.scalars(select(model).where(model.place_id == old_id))):  # type: ignore[attr-defined]
        if key(obj) in held:
            session.delete(obj)
            summary.count("dropped", model.__tablename__)  # type: ignore[attr-defined]
        else:
            held.add(key(obj))
            obj.place_id = target_id
            summary.count("moved", model.__tablename__)  # type: ignore[attr-defined]


def _move_memberships(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    # A membership the target holds already keeps the dropped one's evidence (its sources) as its own.
    held = {(m.organisation_id, m.role): m.id for m in session.scalars(select(Membership).where(
        Membership.place_id == target_id))}  # fmt: skip
    for m in session.scalars(select(Membership).where(Membership.place_id == old_id)):
        kept = held.get((m.organisation_id, m.role))
        if kept is not None:
            _move_evidence(session, m.id, kept, summary, MembershipEvidence.__table__)
    # Delete the duplicates before moving the rest, so the flush never sees two equal (place, org, role).
    _move_unique(session, Membership, lambda m: (m.organisation_id, m.role), old_id, target_id, summary)


def _move_indicator_values(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    _move_unique(session, IndicatorValue, lambda v: (v.indicator_code, v.year), old_id, target_id, summary)


def _move_place_facts(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    _move_unique(session, PlaceFact, lambda f: (f.code, f.source_id), old_id, target_id, summary)


def _drop_clashes_then_move(
    session: Session, model: type, clash: Any, old_id: int, target_id: int, summary: MergeSummary
) -> None:
    """Delete the old place's rows of ``model`` that ``clash`` with the target's, move the rest to the target."""
    no_sync = {"synchronize_session": False}
    dropped = session.execute(delete(model).where(model.place_id == old_id, clash), execution_options=no_sync)
    moved = session.execute(
        update(model).where(model.place_id == old_id).values(place_id=target_id), execution_options=no_sync
    )
    summary.count("dropped", model.__tablename__, dropped.rowcount or 0)
    summary.count("moved", model.__tablename__, moved.rowcount or 0)


def _move_city_results(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    # Per run: the target's figures, when it has any in that run, describe it in that run's network; the old
    # place's would mix two nodes.  Where it has none, the merged place's figures are the place's figures.
    target_runs = select(CityResult.run_id).where(CityResult.place_id == target_id).distinct()
    _drop_clashes_then_move(session, CityResult, CityResult.run_id.in_(target_runs), old_id, target_id, summary)


def _move_names(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    held = select(PlaceName.name, PlaceName.lang).where(PlaceName.place_id == target_id)
    clash = tuple_(PlaceName.name, PlaceName.lang).in_(held)
    _drop_clashes_then_move(session, PlaceName, clash, old_id, target_id, summary)


def _move_participants(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    # An activity both places took part in keeps one participant row (the target's).
    both = select(ActivityParticipant.activity_id).where(ActivityParticipant.place_id == target_id)
    clash = ActivityParticipant.activity_id.in_(both)
    _drop_clashes_then_move(session, ActivityParticipant, clash, old_id, target_id, summary)


def _move_redirects(session: Session, old_id: int, target_id: int, summary: MergeSummary) -> None:
    # Earlier merges into ``old`` now lead straight to the target (no chains of redirects).
    moved = session.execute(
        update(PlaceRedirect).where(PlaceRedirect.place_id == old_id).values(place_id=target_id),
        execution_options={"synchronize_session": False},
    ).rowcount
    summary.count("moved", "place_redirect", moved or 0)


def _move_generic(
    session: Session, table: Table, column: str, old_id: int, target_id: int, summary: MergeSummary
) -> None:
    """Move a reference no rule names (a table added later): rows whose unique key the target already holds
    are dropped, the others moved (audited in bulk)."""
    col = table.c[column]
    uniques = [
        [c for c in uc.columns if c.name != column]
        for uc in table.constraints
        if isinstance(uc, UniqueConstraint | PrimaryKeyConstraint) and column in uc.columns
    ]
    conn = session.connection()
    pk = list(table.primary_key.columns)
    dropped_ids: list[Any] = []
    for others in uniques:
        if not others:  # the reference is the key itself: the target's row wins
            target_has = conn.execute(select(col).where(col == target_id).limit(1)).first() is not None
            clash = conn.execute(select(*pk).where(col == old_id)).all() if target_has else []
        else:
            held = select(*others).where(col == target_id)
            clash = conn.execute(select(*pk).where(col == old_id, tuple_(*others).in_(held))).all()
        for row in clash:
            conn.execute(delete(table).where(*(c == v for c, v in zip(pk, row, strict=True))))
            dropped_ids.append(row[0])
    moved_ids = [row[0] for row in conn.execute(select(*pk).where(col == old_id))]
    conn.execute(update(table).where(col == old_id).values({column: target_id}))
    context = session.info.get("context") or "merge places"
    actor = session.info.get("actor", settings.DEFAULT_ACTOR)
    ints = all(isinstance(i, int) for i in moved_ids + dropped_ids)
    if ints:
        record_bulk(conn, actor=actor, action="update", entity=table.name, ids=moved_ids, context=context,
                    changes=[{column: [old_id, target_id]}] * len(moved_ids))  # fmt: skip
        record_bulk(conn, actor=actor, action="delete", entity=table.name, ids=dropped_ids, context=context)
    summary.count("moved", table.name, len(moved_ids))
    summary.count("dropped", table.name, len(dropped_ids))
