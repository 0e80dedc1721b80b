"""One fact, several evidences: the sources that give each relation, and where they disagree.

A relation is stored once however many sources give it (:class:`~citydiplomacy.store.schema.Relation`); each
source that gives it is one :class:`~citydiplomacy.store.schema.RelationEvidence` row with its locator, its
retrieval time and the values it gave (``{"signed_year": 1988}``).  Importers add evidence with
:func:`add_evidence`; the API, the exports and the city profile read it with :func:`evidence_of`;
:func:`disagreements` lists the relations whose sources give different values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from citydiplomacy.store.schema import Place, Relation, RelationEvidence, Source

__all__ = ["COMPARED", "add_evidence", "disagreements", "evidence_of", "short_label"]

#: The values compared across a relation's sources (a disagreement on any is listed for review).
COMPARED = ("signed_year", "ended_year", "status")


def add_evidence(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the evidence rows not yet held (same relation, source and locator), in the caller's transaction.

    Parameters
    ----------
    conn
        A connection inside the import's write transaction.
    rows
        Dicts with ``relation_id``, ``source_id``, ``source_locator``, ``retrieved_at`` and ``values``.

    Returns
    -------
    int
        Evidence rows created (re-running with the same rows creates none).
    """
    ev = RelationEvidence.__table__
    held: set[tuple[int, int | None, str | None]] = set()
    ids = sorted({r["relation_id"] for r in rows})
    for start in range(0, len(ids), 900):  # below SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        q = select(ev.c.relation_id, ev.c.source_id, ev.c.source_locator).where(ev.c.relation_id.in_(chunk))
        held.update((a, b, c) for a, b, c in conn.execute(q))
    new, seen = [], set()
    for r in rows:
        key = (r["relation_id"], r["source_id"], r["source_locator"])
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


def evidence_of(conn: Connection, relation_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The evidence of each relation: source name and kind, locator, retrieval time, values, a short label.

    Returns
    -------
    dict[int, list[dict]]
        Relation id -> its evidence, oldest first (relations without evidence are absent).
    """
    ev, src = RelationEvidence.__table__, Source.__table__
    ids = sorted(set(relation_ids))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(ids), 900):
        rows = conn.execute(
            select(
                ev.c.relation_id,
                ev.c.source_locator,
                ev.c.retrieved_at,
                ev.c["values"],
                src.c.name,
                src.c.kind,
                src.c.citation,
                ev.c.source_id,
            )
            .select_from(ev.outerjoin(src, src.c.id == ev.c.source_id))
            .where(ev.c.relation_id.in_(ids[start : start + 900]))
            .order_by(ev.c.relation_id, ev.c.id)
        ).all()
        for r in rows:
            values = dict(r[3] or {})
            out[r.relation_id].append({
                "source": r.name, "source_kind": r.kind, "source_id": r.source_id, "citation": r.citation,
                "locator": r.source_locator,
                "retrieved_at": r.retrieved_at.isoformat() if r.retrieved_at else None, "values": values,
                "label": short_label(r.name, r.kind, r.source_locator, values),
            })  # fmt: skip
    return dict(out)


def disagreements(conn: Connection, fields: Sequence[str] = COMPARED, *, limit: int | None = None) -> list[dict]:
    """The relations whose sources give different values of ``fields`` (e.g. two signing years).

    A source that gives no value for a field does not disagree on it.

    Returns
    -------
    list[dict]
        One dict per relation and field: ``relation_id``, the two places' names, ``field`` and ``values``
        (a list of ``{"value": …, "label": …}``, one per source), ordered by relation id.
    """
    ev, rel = RelationEvidence.__table__, Relation.__table__
    pa, pb = Place.__table__.alias("pa"), Place.__table__.alias("pb")
    # Relations with two or more pieces of evidence; their JSON values are compared in Python (any backend).
    several = select(ev.c.relation_id).group_by(ev.c.relation_id).having(func.count() > 1)
    by_relation = evidence_of(conn, conn.execute(several).scalars())
    out: list[dict] = []
    for rid in sorted(by_relation):
        items = by_relation[rid]
        if len(items) < 2:
            continue
        for name in fields:
            given = [(e["values"][name], e["label"]) for e in items if e["values"].get(name) is not None]
            if len({v for v, _ in given}) > 1:
                out.append({"relation_id": rid, "field": name,
                            "values": [{"value": v, "label": lab} for v, lab in given]})  # fmt: skip
    if out:
        ids = sorted({d["relation_id"] for d in out})
        names: dict[int, tuple[str, str | None]] = {}
        for start in range(0, len(ids), 900):
            q = (
                select(rel.c.id, pa.c.name, pb.c.name)
                .select_from(rel.join(pa, pa.c.id == rel.c.place_a_id).outerjoin(pb, pb.c.id == rel.c.place_b_id))
                .where(rel.c.id.in_(ids[start : start + 900]))
            )
            names.update({i: (a, b) for i, a, b in conn.execute(q)})
        for d in out:
            d["place_a"], d["place_b"] = names.get(d["relation_id"], (None, None))
    return out[:limit] if limit is not None else out
