"""One fact, several evidences: the sources that give each relation and membership, and where they disagree.

A relation is stored once however many sources give it (:class:`~citydiplomacy.store.schema.Relation`); each
source that gives it is one :class:`~citydiplomacy.store.schema.RelationEvidence` row with its locator, its
retrieval time and the values it gave (``{"signed_year": 1988}``).  A membership likewise
(:class:`~citydiplomacy.store.schema.MembershipEvidence`, ``{"since_year": 2015, "status": "active"}``).

Two paths write evidence, in the transaction of the record itself:

* bulk importers (Core inserts) call :func:`add_evidence` (``of="relation"`` or ``"membership"``);
* every record written through an ORM session (the write service behind the CLI, the web forms and the API;
  the case-study loader) gets its own provenance as evidence from an ``after_flush`` hook
  (:func:`_evidence_after_flush`): a new relation or membership one row (its source, locator, retrieval or
  entry time, its values); an edit that names another source or locator one more row; an edit of a record
  entered by hand (a ``manual`` source, or none) refreshes the values of its own row, since that source is
  the office stating the record anew.  An imported file's row keeps what the file gave.

The API, the exports and the city profile read evidence with :func:`evidence_of`; :func:`disagreements`
lists the records whose sources give different values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Select,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, UOWTransaction

from citydiplomacy.store.schema import (
    Membership,
    MembershipEvidence,
    Organisation,
    Place,
    Relation,
    RelationEvidence,
    Source,
    utcnow,
)

__all__ = [
    "COMPARED",
    "KINDS",
    "MEMBERSHIP_COMPARED",
    "add_evidence",
    "disagreements",
    "evidence_by_kind",
    "evidence_of",
    "own_evidence",
    "short_label",
]

#: The values compared across a relation's sources (a disagreement on any is listed for review).
COMPARED = ("signed_year", "ended_year", "status")
#: The values compared across a membership's sources.
MEMBERSHIP_COMPARED = ("since_year", "until_year", "status")


@dataclass(frozen=True)
class EvidenceKind:
    """Which records a kind of evidence is about: its table, the key column, the values compared."""

    name: str
    model: type
    evidence: type
    key: str
    compared: tuple[str, ...]

    @property
    def table(self) -> Table:
        return self.evidence.__table__  # type: ignore[attr-defined,no-any-return]


KINDS: dict[str, EvidenceKind] = {
    "relation": EvidenceKind("relation", Relation, RelationEvidence, "relation_id", COMPARED),
    "membership": EvidenceKind("membership", Membership, MembershipEvidence, "membership_id", MEMBERSHIP_COMPARED),
}


def add_evidence(conn: Connection, rows: Sequence[dict[str, Any]], *, of: str = "relation") -> int:
    """Insert the evidence rows not yet held (same record, source and locator), in the caller's transaction.

    Parameters
    ----------
    conn
        A connection inside the import's write transaction.
    rows
        Dicts with ``relation_id`` (``membership_id`` for memberships), ``source_id``, ``source_locator``,
        ``retrieved_at`` and ``values``.
    of
        ``"relation"`` or ``"membership"``.

    Returns
    -------
    int
        Evidence rows created (re-running with the same rows creates none).
    """
    kind = KINDS[of]
    ev, key_col = kind.table, kind.key
    held: set[tuple[int, int | None, str | None]] = set()
    ids = sorted({r[key_col] for r in rows})
    for start in range(0, len(ids), 900):  # below SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        q = select(ev.c[key_col], ev.c.source_id, ev.c.source_locator).where(ev.c[key_col].in_(chunk))
        held.update((a, b, c) for a, b, c in conn.execute(q))
    new, seen = [], set()
    for r in rows:
        key = (r[key_col], r["source_id"], r["source_locator"])
        if key in held or key in seen:
            continue
        seen.add(key)
        new.append({**r, "values": dict(r.get("values") or {})})
    if new:
        conn.execute(insert(ev), new)
    return len(new)


def short_label(source_name: str | None, source_kind: str | None, locator: str | None, values: dict) -> str:
    """A piece of evidence in a few words: ``"twin_cities.csv row 123"``, ``"Wikidata 2016"``.

    >>> short_label("twin_cities.csv sha256:ab12", "file", "row 123", {})
    'twin_cities.csv row 123'
    >>> short_label("wikidata_p190_2016_relations.tsv sha256:cd", "wikidata", "Q64–Q90", {"as_of": 2016})
    'Wikidata 2016'
    """
    if source_kind == "wikidata":
        return f"Wikidata {values['as_of']}" if values.get("as_of") else "Wikidata"
    name = (source_name or "source").split(" sha256:", 1)[0]
    return f"{name} {locator}" if locator else name


def evidence_of(conn: Connection, ids: Iterable[int], *, of: str = "relation") -> dict[int, list[dict[str, Any]]]:
    """The evidence of each record: source name and kind, locator, retrieval time, values, a short label.

    Parameters
    ----------
    ids
        Relation ids (membership ids with ``of="membership"``).

    Returns
    -------
    dict[int, list[dict]]
        Record id -> its evidence, oldest first (records without evidence are absent).
    """
    return evidence_by_kind(conn, {of: ids})[of]


@cache
def _evidence_statement(kinds: tuple[str, ...]) -> Select[Any] | CompoundSelect:
    """The evidence of records of ``kinds`` (ids bound as ``ids_<kind>``, expanding), with their sources: one
    ``UNION ALL`` built once per set of kinds (building it cost more than running it for a city profile)."""
    src = Source.__table__
    parts = []
    for name in kinds:
        kind = KINDS[name]
        ev = kind.table
        key = ev.c[kind.key]
        parts.append(
            select(literal(name, String()).label("kind_name"), key.label("record_id"), ev.c.id.label("ev_id"),
                   ev.c.source_locator, ev.c.retrieved_at, ev.c["values"].label("given"),
                   src.c.name.label("source_name"), src.c.kind.label("source_kind"),
                   src.c.citation.label("citation"), ev.c.source_id.label("source_id"))
            .select_from(ev.outerjoin(src, src.c.id == ev.c.source_id))
            .where(key.in_(bindparam(f"ids_{name}", expanding=True)))
        )  # fmt: skip
    return parts[0] if len(parts) == 1 else union_all(*parts)


def evidence_by_kind(conn: Connection, wanted: Mapping[str, Iterable[int]]) -> dict[str, dict[int, list[dict]]]:
    """:func:`evidence_of` for several kinds of record at once (``{"relation": ids, "membership": ids}``), in
    one statement per 900 ids (a ``UNION ALL``): a city profile reads all its evidence in one round trip.
    """
    pending = [(name, i) for name, ids in wanted.items() for i in sorted(set(ids))]
    found: dict[str, dict[int, list[tuple[int, dict[str, Any]]]]] = {name: defaultdict(list) for name in wanted}
    for start in range(0, len(pending), 900):  # below SQLite's bound-parameter limit
        chunk = pending[start : start + 900]
        ids_of = {name: [i for n, i in chunk if n == name] for name in wanted}
        kinds = tuple(name for name, ids in ids_of.items() if ids)
        params = {f"ids_{name}": ids_of[name] for name in kinds}
        for r in conn.execute(_evidence_statement(kinds), params).all():
            values = dict(r.given or {})
            found[r.kind_name][r.record_id].append((r.ev_id, {
                "source": r.source_name, "source_kind": r.source_kind, "source_id": r.source_id,
                "citation": r.citation, "locator": r.source_locator,
                "retrieved_at": r.retrieved_at.isoformat() if r.retrieved_at else None, "values": values,
                "label": short_label(r.source_name, r.source_kind, r.source_locator, values),
            }))  # fmt: skip
    return {
        name: {rid: [e for _, e in sorted(items, key=lambda x: x[0])] for rid, items in sorted(by.items())}
        for name, by in found.items()
    }


def disagreements(
    conn: Connection, fields: Sequence[str] | None = None, *, of: str | None = None, limit: int | None = None
) -> list[dict]:
    """The records whose sources give different values of ``fields`` (two signing years, two statuses).

    A source that gives no value for a field does not disagree on it.

    Parameters
    ----------
    fields
        The values compared (default: :data:`COMPARED` for relations, :data:`MEMBERSHIP_COMPARED` for
        memberships).
    of
        ``"relation"``, ``"membership"`` or None (both: relations first).

    Returns
    -------
    list[dict]
        One dict per record and field: ``record`` (relation | membership), ``relation_id`` or
        ``membership_id``, the parties (``place_a``/``place_b`` of a relation; ``place``, ``organisation``,
        ``role`` of a membership), ``field`` and ``values`` (a list of ``{"value": …, "label": …}``, one per
        source), ordered by record id.
    """
    out: list[dict] = []
    for name in [of] if of else list(KINDS):
        kind = KINDS[name]
        found = _disagreements(conn, kind, tuple(fields) if fields else kind.compared)
        out.extend(found)
        if limit is not None and len(out) >= limit:
            break
    return out[:limit] if limit is not None else out


def _disagreements(conn: Connection, kind: EvidenceKind, fields: tuple[str, ...]) -> list[dict]:
    ev = kind.table
    # Records with two or more pieces of evidence; their JSON values are compared in Python (any backend).
    several = select(ev.c[kind.key]).group_by(ev.c[kind.key]).having(func.count() > 1)
    by_record = evidence_of(conn, conn.execute(several).scalars(), of=kind.name)
    out: list[dict] = []
    for rid in sorted(by_record):
        items = by_record[rid]
        for name in fields:
            given = [(e["values"][name], e["label"]) for e in items if e["values"].get(name) is not None]
            if len({v for v, _ in given}) > 1:
                out.append({"record": kind.name, kind.key: rid, "field": name,
                            "values": [{"value": v, "label": lab} for v, lab in given]})  # fmt: skip
    if out:
        parties = _parties(conn, kind, sorted({d[kind.key] for d in out}))
        for d in out:
            d.update(parties.get(d[kind.key], {}))
    return out


def _parties(conn: Connection, kind: EvidenceKind, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Who a relation or a membership is between, by name, for the review list."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        if kind.name == "relation":
            rel = Relation.__table__
            pa, pb = Place.__table__.alias("pa"), Place.__table__.alias("pb")
            q = (
                select(rel.c.id, pa.c.name, pb.c.name)
                .select_from(rel.join(pa, pa.c.id == rel.c.place_a_id).outerjoin(pb, pb.c.id == rel.c.place_b_id))
                .where(rel.c.id.in_(chunk))
            )
            out.update({i: {"place_a": a, "place_b": b} for i, a, b in conn.execute(q)})
        else:
            mem, place, org = Membership.__table__, Place.__table__, Organisation.__table__
            q = (
                select(mem.c.id, place.c.name, org.c.name, mem.c.role)
                .select_from(mem.join(place, place.c.id == mem.c.place_id).join(org, org.c.id == mem.c.organisation_id))
                .where(mem.c.id.in_(chunk))
            )
            out.update({i: {"place": p, "organisation": o, "role": r} for i, p, o, r in conn.execute(q)})
    return out


# ---------------------------------------------------------------------------------- records written via the ORM
#: The provenance columns whose change makes an edit a statement of another source.
_PROVENANCE = ("source_id", "source_locator")


def own_evidence(obj: Relation | Membership) -> dict[str, Any]:
    """A record's own provenance as a piece of evidence: its source, locator, retrieval (else entry) time and
    the values it gives.  What the ORM hook writes for a relation or membership entered through a session."""
    kind = KINDS["relation" if isinstance(obj, Relation) else "membership"]
    return {
        kind.key: obj.id,
        "source_id": obj.source_id,
        "source_locator": obj.source_locator,
        "retrieved_at": obj.retrieved_at or obj.entered_at or utcnow(),
        # ``evidence_values``: what the source says besides the record's fields (the case study's "as of" year),
        # set on the object by the writer that knows it.
        "values": {
            **{k: getattr(obj, k) for k in kind.compared if getattr(obj, k) is not None},
            **(getattr(obj, "evidence_values", None) or {}),
        },
    }


def _changed(obj: Any, names: Sequence[str]) -> bool:
    from sqlalchemy import inspect

    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names)


@event.listens_for(Session, "after_flush")
def _evidence_after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Every relation and membership a session creates gets its own provenance as evidence (module docstring)."""
    new: dict[str, list[dict[str, Any]]] = defaultdict(list)
    refresh: dict[str, list[Any]] = defaultdict(list)
    for obj in session.new:
        if isinstance(obj, Relation | Membership):
            new[obj.__tablename__].append(own_evidence(obj))
    for obj in session.dirty:
        if not isinstance(obj, Relation | Membership) or not session.is_modified(obj, include_collections=False):
            continue
        kind = KINDS[obj.__tablename__]
        if _changed(obj, _PROVENANCE):
            new[kind.name].append(own_evidence(obj))
        elif _changed(obj, kind.compared):
            refresh[kind.name].append(obj)
    if not new and not refresh:
        return
    conn = session.connection()
    for name, rows in new.items():
        add_evidence(conn, rows, of=name)
    for name, objs in refresh.items():
        _refresh_own(conn, KINDS[name], objs)


def _refresh_own(conn: Connection, kind: EvidenceKind, objs: list[Any]) -> None:
    """An edit of a record entered by hand (a manual source, or none) restates it: its own row gets the values
    now given (added when missing).  An imported source's row keeps what that source gave."""
    src = Source.__table__
    source_ids = {o.source_id for o in objs if o.source_id is not None}
    manual = set(conn.execute(select(src.c.id).where(src.c.id.in_(source_ids), src.c.kind == "manual")).scalars())
    ev = kind.table
    missing = []
    for obj in objs:
        if obj.source_id is not None and obj.source_id not in manual:
            continue
        row = own_evidence(obj)
        same = [ev.c[kind.key] == obj.id, ev.c.source_locator.is_not_distinct_from(obj.source_locator),
                ev.c.source_id.is_not_distinct_from(obj.source_id)]  # fmt: skip
        if conn.execute(update(ev).where(*same).values({ev.c["values"]: row["values"]})).rowcount == 0:
            missing.append(row)
    if missing:
        add_evidence(conn, missing, of=kind.name)
