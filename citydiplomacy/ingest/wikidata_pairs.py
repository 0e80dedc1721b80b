"""Import twinning pairs given by Wikidata ids (a crawl of property P190, "twinned administrative body").

Two tab-separated files without a header (the layout of ``wikidata_p190_2016_relations.tsv`` and
``…_names.tsv``)::

    relations:  Q200166<TAB>Q182059      one directed statement a line; a pair usually appears from both sides
    names:      Q201391<TAB>Kohtla-Järve  one label per item (mostly German)

No countries, no coordinates: each item is joined to a registry place

1. by its Wikidata id (``place.wikidata_id``, filled by sources that carry ids, e.g. the missions file);
2. by its Wikidata id in the gazetteer (GeoNames places and countries-states-cities entries carry ids:
   :meth:`~citydiplomacy.geo.gazetteer.Gazetteer.index_of_wikidata`); the entry's registry place, or a new
   place created from the entry;
3. by its label, only where the label cannot mean two places: no other item of the crawl carries it, and it
   names exactly one registry place (its name or one of its names, case and accents folded) and no other
   gazetteer entry, or, naming no registry place, exactly one gazetteer entry (a new place is created for
   it); or, for a pair, the two
   labels match the two ends of exactly one sister-city tie the registry already holds from another source.

Nothing is guessed among namesakes: an item whose label names several places, and no held tie tells them
apart, is left unjoined (counted, not imported).  An item joined by label lends its id to the place when the
place has none and no other item claims it.

A pair whose two ends are joined is one sister-city relation: when the registry already holds the tie (from
``twin_cities.csv`` say), this source's evidence is added to it instead of a second relation.  The summary
says how many ties both sources hold and how many only one.  Re-importing changes nothing.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, func, insert, select

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
    run_staged,
)
from citydiplomacy.ingest.missions import read_delimited
from citydiplomacy.ingest.tabular import ImportReport, InputError, Reject
from citydiplomacy.store.audit import record_bulk_select
from citydiplomacy.store.evidence import add_evidence
from citydiplomacy.store.places import Mention, PlaceStage, apply_places, last_id, lend_wikidata_ids, stage_places
from citydiplomacy.store.schema import Place, PlaceName, Relation, RelationEvidence, Source, utcnow

if TYPE_CHECKING:
    from citydiplomacy.geo.resolve import Resolution, Resolver

__all__ = ["DATA_YEAR", "QID", "Join", "RegistryIndex", "import_wikidata_pairs", "join_items", "read_pairs"]

#: The year of the crawl (September 2016): what each piece of evidence says it is as of.
DATA_YEAR = 2016
#: A Wikidata item id.
QID = re.compile(r"^Q[1-9][0-9]*$")
COLUMNS = ("file", "item", "twin", "label")
KIND = "sister_city"
#: The join kinds that match no name.
_BY_ID = ("id", "gazetteer id")


def read_pairs(relations: Path, names: Path, report: ImportReport) -> tuple[dict[tuple[str, str], int], dict[str, str]]:
    """The undirected pairs (first line giving each) and the labels; malformed lines become rejects.

    Parameters
    ----------
    relations, names
        The two tab-separated files (see the module docstring).
    report
        Receives ``rows_read`` (relation lines) and the rejects (file, row, field, reason).

    Returns
    -------
    tuple
        ``{(qid, qid) sorted: first line}`` and ``{qid: label}``.
    """
    pairs: dict[tuple[str, str], int] = {}
    for row_no, row in read_delimited(relations, delimiter="\t", header=("item", "twin")):
        report.rows_read += 1
        bad = next((f for f in ("item", "twin") if not QID.match(row.get(f, ""))), None)
        if bad is not None:
            report.rejects.append(Reject(row_no, bad, f"malformed Wikidata id {row.get(bad, '')!r} (Q and digits)",
                                         {"file": relations.name, **row}))  # fmt: skip
            continue
        if row["item"] == row["twin"]:
            report.rejects.append(Reject(row_no, "twin", "self-relation: an item twinned with itself",
                                         {"file": relations.name, **row}))  # fmt: skip
            continue
        key = (row["item"], row["twin"]) if row["item"] < row["twin"] else (row["twin"], row["item"])
        pairs.setdefault(key, row_no)
    if report.rows_read == 0:
        raise InputError(relations, "no data rows")
    labels: dict[str, str] = {}
    for row_no, row in read_delimited(names, delimiter="\t", header=("item", "label")):
        if not QID.match(row.get("item", "")):
            report.rejects.append(Reject(row_no, "item", f"malformed Wikidata id {row.get('item', '')!r} (Q and "
                                         "digits)", {"file": names.name, **row}))  # fmt: skip
            continue
        if row.get("label"):
            labels.setdefault(row["item"], row["label"])
    return pairs, labels


@dataclass
class RegistryIndex:
    """What the join reads from the registry: places by Wikidata id and by folded name, and the held ties."""

    by_wikidata: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    wikidata_of: dict[int, str | None] = field(default_factory=dict)
    #: Place id -> its gazetteer entry (gazetteer, id), for the places that are GeoNames or CSC entries.
    entry_of: dict[int, tuple[str, str]] = field(default_factory=dict)
    ties: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def load(cls, conn: Connection, own_source: int | None = None) -> RegistryIndex:
        """Read the index from the registry (places, their names, sister-city ties).

        ``own_source``: the importing source, if it imported before: the places and ties it created are left
        out of the name and tie rules (they would join on a re-import what the first import did not), and
        are found again by their ids.
        """
        index = cls()
        place, name, rel = Place.__table__, PlaceName.__table__, Relation.__table__
        own: set[int] = set()
        cols = (
            place.c.id,
            place.c.name,
            place.c.wikidata_id,
            place.c.source_id,
            place.c.gazetteer,
            place.c.gazetteer_id,
        )
        for pid, pname, qid, src, gaz, gaz_id in conn.execute(select(*cols)):
            index.wikidata_of[pid] = qid
            if gaz in PLACE_GAZETTEERS:
                index.entry_of[pid] = (gaz, gaz_id)
            if qid:
                index.by_wikidata.setdefault(qid, pid)
            if own_source is not None and src == own_source:
                own.add(pid)
                continue
            index.by_name[fold(pname)].add(pid)
        for pid, pname in conn.execute(select(name.c.place_id, name.c.name)):
            if pid not in own:
                index.by_name[fold(pname)].add(pid)
        q = select(rel.c.place_a_id, rel.c.place_b_id).where(rel.c.kind == KIND, rel.c.place_b_id.is_not(None))
        if own_source is not None:
            q = q.where(rel.c.source_id.is_distinct_from(own_source))
        index.ties = {(a, b) for a, b in conn.execute(q)}
        return index


@dataclass
class Join:
    """How items were joined: ``how[qid]`` is id | gazetteer id | name | tie | gazetteer; ``place[qid]`` a
    registry place id (for a gazetteer join, whose resolution is ``new[qid]``, only when that entry is a registry
    place already)."""

    how: dict[str, str] = field(default_factory=dict)
    place: dict[str, int] = field(default_factory=dict)
    new: dict[str, Resolution] = field(default_factory=dict)

    def shares(self, items: Iterable[str]) -> dict[str, float]:
        """Percent of ``items`` joined by id, by name (any label rule), and not at all."""
        items = list(items)
        n = len(items) or 1
        by = Counter(self.how.get(q, "none") for q in items)
        return {
            "by id": round(100 * (by["id"] + by["gazetteer id"]) / n, 1),
            "by name": round(100 * (by["name"] + by["tie"] + by["gazetteer"]) / n, 1),
            "not at all": round(100 * by["none"] / n, 1),
        }


def join_items(
    pairs: Iterable[tuple[str, str]], labels: dict[str, str], index: RegistryIndex, resolver: Resolver | None
) -> Join:
    """Join every item of ``pairs`` to a place: by Wikidata id, else by an unambiguous label (module docstring).

    Parameters
    ----------
    pairs
        Undirected pairs of Wikidata ids.
    labels
        Item -> label.
    index
        The registry's places, names and ties (:meth:`RegistryIndex.load`).
    resolver
        The gazetteer's resolver, for labels naming no registry place (None: no gazetteer step).
    """
    pairs = list(pairs)
    join = Join()
    items = sorted({q for p in pairs for q in p})
    # A label two items carry names namesakes: neither is joined by it alone (a held tie may tell them apart).
    shared = Counter(fold(labels[q]) for q in items if q in labels)
    cands: dict[str, set[int]] = {}
    held_entries = {key: pid for pid, key in index.entry_of.items()}
    for q in items:
        if q in index.by_wikidata and not _label_contradicts(resolver, labels.get(q), index, index.by_wikidata[q]):
            join.how[q], join.place[q] = "id", index.by_wikidata[q]
            continue
        at = resolver.gaz.index_of_wikidata(q) if resolver is not None else None
        if at is not None and not _label_contradicts(resolver, labels.get(q), index, None, at):
            # The gazetteer entry bearing the id: no name is matched (its registry place, or a new one).
            res = resolver.entry_resolution(at)  # type: ignore[union-attr]
            join.how[q], join.new[q] = "gazetteer id", res
            held = held_entries.get((res.gazetteer, str(res.gazetteer_id)))
            if held is not None:
                join.place[q] = held
            continue
        found = index.by_name.get(fold(labels[q]), set()) if q in labels else set()
        cands[q] = found
        if len(found) == 1 and shared[fold(labels[q])] == 1 and _world_unique(resolver, labels[q], index, found):
            join.how[q], join.place[q] = "name", next(iter(found))
    # Namesakes told apart by a tie the registry already holds between exactly one pair of candidates; repeated
    # while it joins more (an item joined so is one candidate for its other pairs), so that a re-import, which
    # finds those items by id, joins nothing new.
    while _join_by_ties(pairs, join, cands, index):
        pass
    if resolver is not None:
        gaz = resolver.gaz
        for q in items:
            if q in join.how or q not in labels or cands.get(q) or shared[fold(labels[q])] > 1:
                continue
            idx = gaz.lookup(labels[q], loose=False)
            if len(idx) != 1:
                continue
            entry = gaz.place(int(idx[0]))
            res = resolver.resolve(entry["name"], entry["country_code"], entry["lat"], entry["lng"])
            if res.status == "resolved" and res.gazetteer_id == entry["gazetteer_id"]:
                join.how[q], join.new[q] = "gazetteer", res
                held = held_entries.get((res.gazetteer, str(res.gazetteer_id)))
                if held is not None:
                    join.place[q] = held  # the entry is a registry place already (named otherwise there)
        # An item the gazetteer placed on a registry place is one candidate for its pairs' namesakes, as it is
        # on a re-import, which finds it by the id it was lent: the tie rule runs again, so that the first
        # import joins what the second would.
        while _join_by_ties(pairs, join, cands, index):
            pass
    return join


def _label_contradicts(
    resolver: Resolver | None, label: str | None, index: RegistryIndex, pid: int | None, at: int | None = None
) -> bool:
    """Whether the item's label names gazetteer entries, none of them the one its id leads to (place ``pid`` or
    entry ``at``): the id is then not trusted.  The countries-states-cities database gives some places a
    neighbour's id (Q3630, Jakarta, on Jambi City); an exonym the gazetteer does not know ("Kudschir" for
    Cugir) contradicts nothing.
    """
    if resolver is None or not label:
        return False
    gaz = resolver.gaz
    if at is None:
        entry = index.entry_of.get(pid) if pid is not None else None
        at = gaz.index_of(entry[1], entry[0]) if entry is not None else None
        if at is None:
            return False  # a place of no gazetteer entry: nothing to compare
    named = gaz.lookup(label, loose=False)
    return len(named) > 0 and at not in set(named.tolist())


def _world_unique(resolver: Resolver | None, label: str, index: RegistryIndex, found: set[int]) -> bool:
    """Whether the one registry place a label names is the one place of that name in the world, as far as the
    gazetteer knows: a registry that holds one "Philadelphia" (Amman's ancient name) does not make it unique.
    """
    if resolver is None:
        return True
    idx = resolver.gaz.lookup(label, loose=False)
    if len(idx) == 0:
        return True
    return len(idx) == 1 and index.entry_of.get(next(iter(found))) == resolver.gaz.entry_key(int(idx[0]))


def _join_by_ties(pairs: list[tuple[str, str]], join: Join, cands: dict[str, set[int]], index: RegistryIndex) -> int:
    """One round of the tie rule of :func:`join_items`; returns the items it joined."""
    proposals: dict[str, set[int]] = defaultdict(set)
    for a, b in pairs:
        if a in join.how and b in join.how:
            continue
        ca = {join.place[a]} if a in join.place else cands.get(a, set())
        cb = {join.place[b]} if b in join.place else cands.get(b, set())
        if not ca or not cb or len(ca) * len(cb) > 10_000:
            continue
        held = [(x, y) for x in ca for y in cb if x != y and (min(x, y), max(x, y)) in index.ties]
        if len(held) == 1:
            proposals[a].add(held[0][0])
            proposals[b].add(held[0][1])
    fresh = {q: p for q, p in proposals.items() if q not in join.how and len(p) == 1}
    taken = Counter(next(iter(p)) for p in fresh.values())
    taken.update(join.place.values())
    joined = 0
    for q, pids in sorted(fresh.items()):
        # Every held tie of the item points at the same place, and no other item is joined to that place.
        if taken[next(iter(pids))] == 1:
            join.how[q], join.place[q] = "tie", next(iter(pids))
            joined += 1
    return joined


def import_wikidata_pairs(
    path: str | Path,
    names: str | Path,
    *,
    engine: Engine | None = None,
    resolver: Resolver | None = None,
    on_error: str = "abort",
    rejects_path: str | Path | None = None,
    actor: str | None = None,
    progress: Progress = no_progress,
    as_of: int | None = DATA_YEAR,
) -> ImportReport:
    """Import twinning pairs by Wikidata id in one transaction, as relations or as evidence of held ones.

    Parameters
    ----------
    path
        The relations file (``QID<TAB>QID`` a line).
    names
        The labels file (``QID<TAB>label`` a line).
    engine, resolver, on_error, rejects_path, actor, progress
        As :func:`citydiplomacy.ingest.twinning.import_twinning`.
    as_of
        The year the crawl is as of (stored in each piece of evidence).

    Returns
    -------
    ImportReport
        ``records_created`` for place, relation, relation_evidence; ``details``: pairs, items joined by id,
        by name, not at all (counts and %), ties both sources hold, ties only this source holds, sister-city
        ties only other sources hold.

    Raises
    ------
    InputError
        A file cannot be read.
    ImportAborted
        Lines were rejected with ``on_error="abort"``; nothing was written.
    DatabaseUnavailable
        The database is locked or unreachable; nothing was written.
    """
    from citydiplomacy.geo.resolve import Resolver

    started = time.perf_counter()
    path, names = Path(path), Path(names)
    if not names.exists():
        raise InputError(names, "file not found")
    actor = actor or settings.DEFAULT_ACTOR
    resolver = resolver or Resolver()
    report = ImportReport(file=str(path), kind="wikidata-pairs")
    pairs, labels = read_pairs(path, names, report)
    finish_validation(report, on_error, Path(rejects_path) if rejects_path else None, COLUMNS)
    digest = file_digest(path)
    context = f"import wikidata-pairs {path.name}"
    source_name = f"{path.name} sha256:{digest[:16]}"

    def stage(conn: Connection) -> tuple[Join, PlaceStage]:
        progress("join", 0, len(pairs))
        own = conn.execute(select(Source.id).where(Source.name == source_name)).scalar()
        join = join_items(pairs, labels, RegistryIndex.load(conn, own), resolver)
        progress("join", len(pairs), len(pairs))
        resolved = list({_mention(q, labels, join).key: (_mention(q, labels, join), res)
                         for q, res in sorted(join.new.items())}.values())  # fmt: skip
        count_resolutions(report, resolved)
        return join, stage_places(conn, resolved, actor=actor)

    def apply(conn: Connection, staged: tuple[Join, PlaceStage]) -> None:
        join, places = staged
        source_id = get_or_create_source(
            conn, name=source_name, kind="wikidata", uri=str(path.resolve()),
            citation="Wikidata, property P190 (twinned administrative body), crawl of September 2016 "
            "(L3viathan/sister-cities); CC0.", retrieved_at=utcnow(),
        )  # fmt: skip
        place_ids, created = apply_places(conn, places, source_id=source_id, actor=actor, context=context)
        report.records_created["place"] += created
        report.already_present["place"] += len(set(place_ids.values())) - created
        pid = dict(join.place) | {q: place_ids[_mention(q, labels, join).key] for q in join.new}
        _lend_ids(conn, join, pid, actor, context, report)
        _write_pairs(conn, pairs, pid, source_id, as_of, actor, context, report)
        _summarise(conn, pairs, join, source_id, report)

    report.write_seconds = round(run_staged(engine, stage, apply, progress), 3)
    report.committed = True
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _mention(q: str, labels: dict[str, str], join: Join) -> Mention:
    """The mention an item joined to a gazetteer entry is recorded as: its label (or the entry's name); an item
    joined by its id keeps a mention of its own (two items of one label may be two entries)."""
    name = labels.get(q) or join.new[q].name
    return Mention(name, "", derived=f"wikidata {q}") if join.how[q] == "gazetteer id" else Mention(name, "")


def _lend_ids(
    conn: Connection, join: Join, pid: dict[str, int], actor: str, context: str, report: ImportReport
) -> None:
    """Give each place joined by label its item's id, when it has none and no other item was joined to it."""
    claims = Counter(pid.values())
    wanted = {p: q for q, p in pid.items() if join.how[q] != "id" and claims[p] == 1}
    report.details["places given a Wikidata id"] = lend_wikidata_ids(conn, wanted, actor=actor, context=context)


def _write_pairs(
    conn: Connection,
    pairs: dict[tuple[str, str], int],
    pid: dict[str, int],
    source_id: int,
    as_of: int | None,
    actor: str,
    context: str,
    report: ImportReport,
) -> None:
    """One sister-city relation per joined pair (a held tie gets evidence, not a second relation)."""
    rel = Relation.__table__
    q = (
        select(func.min(rel.c.id), rel.c.place_a_id, rel.c.place_b_id)
        .where(rel.c.kind == KIND, rel.c.place_b_id.is_not(None))
        .group_by(rel.c.place_a_id, rel.c.place_b_id)
    )
    held = {(a, b): i for i, a, b in conn.execute(q)}
    now = utcnow()
    new: dict[tuple[int, int], str] = {}
    locator_of: dict[tuple[int, int], list[str]] = defaultdict(list)
    same_place = 0
    for (qa, qb), _row in sorted(pairs.items(), key=lambda kv: kv[1]):
        if qa not in pid or qb not in pid:
            continue
        a, b = sorted((pid[qa], pid[qb]))
        if a == b:
            same_place += 1
            continue
        locator = f"{qa}–{qb}"
        locator_of[(a, b)].append(locator)
        if (a, b) not in held:
            new.setdefault((a, b), locator)
    before = last_id(conn, rel)
    if new:
        conn.execute(insert(rel), [
            {"place_a_id": a, "place_b_id": b, "kind": KIND, "status": "active", "dimensions": [], "functions": [],
             "source_id": source_id, "source_locator": loc, "retrieved_at": now, "entered_by": actor,
             "entered_at": now, "version": 1}
            for (a, b), loc in sorted(new.items())
        ])  # fmt: skip
    ours = select(rel.c.id).where(rel.c.id > before, rel.c.source_id == source_id)
    report.records_created["relation"] += record_bulk_select(conn, actor=actor, action="insert", entity="relation",
                                                             ids=ours, context=context)  # fmt: skip
    report.already_present["relation"] += len(locator_of) - len(new)
    ids = dict(held)
    created = select(rel.c.id, rel.c.place_a_id, rel.c.place_b_id).where(ours.whereclause)
    ids.update({(a, b): i for i, a, b in conn.execute(created)})
    values = {"as_of": as_of} if as_of else {}
    evidence = [
        {"relation_id": ids[key], "source_id": source_id, "source_locator": loc, "retrieved_at": now, "values": values}
        for key, locs in locator_of.items()
        for loc in locs
    ]
    report.records_created["relation_evidence"] += add_evidence(conn, evidence)
    report.already_present["relation_evidence"] += len(evidence) - report.records_created["relation_evidence"]
    if same_place:
        report.warnings.append(f"{same_place} pair(s) joined both items to one place; not imported")
    report.details["pairs joined to one place (not imported)"] = same_place


def _summarise(
    conn: Connection, pairs: dict[tuple[str, str], int], join: Join, source_id: int, report: ImportReport
) -> None:
    """Join shares (items and pairs) and the overlap with the registry's other sources."""
    items = sorted({q for p in pairs for q in p})
    by = Counter(join.how.get(q, "none") for q in items)
    pair_how = Counter(
        "none" if join.how.get(a, "none") == "none" or join.how.get(b, "none") == "none"
        else "id" if join.how[a] in _BY_ID and join.how[b] in _BY_ID else "name"
        for a, b in pairs
    )  # fmt: skip
    n_pairs = len(pairs) or 1
    ev, rel = RelationEvidence.__table__, Relation.__table__
    ours = select(ev.c.relation_id).where(ev.c.source_id == source_id)
    # Another source: its evidence, or (a relation entered by hand, say) its own provenance.
    others = (
        select(ev.c.relation_id)
        .where(ev.c.source_id != source_id)
        .union(select(rel.c.id).where(rel.c.source_id.is_distinct_from(source_id)))
    )
    sister = and_(rel.c.kind == KIND, rel.c.place_b_id.is_not(None))

    def count(where: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(rel).where(sister, where)).scalar_one())

    both = count(and_(rel.c.id.in_(ours), rel.c.id.in_(others)))
    only_ours = count(and_(rel.c.id.in_(ours), rel.c.id.not_in(others)))
    only_others = count(rel.c.id.not_in(ours))
    shares = join.shares(items)
    report.details |= {
        "pairs read (undirected)": len(pairs),
        "items": len(items),
        "items joined by Wikidata id": by["id"],
        "items joined by Wikidata id (a gazetteer entry)": by["gazetteer id"],
        "items joined by label (one registry place)": by["name"],
        "items joined by label (a tie already held)": by["tie"],
        "items joined by label (one gazetteer place)": by["gazetteer"],
        "items not joined": by["none"],
        "share of items joined by id (%)": shares["by id"],
        "share of items joined by name (%)": shares["by name"],
        "share of items not joined (%)": shares["not at all"],
        "share of pairs joined by id (%)": round(100 * pair_how["id"] / n_pairs, 1),
        "share of pairs joined by name (%)": round(100 * pair_how["name"] / n_pairs, 1),
        "share of pairs not joined (%)": round(100 * pair_how["none"] / n_pairs, 1),
        "ties both sources hold": both,
        "ties only these pairs hold": only_ours,
        "sister-city ties only other sources hold": only_others,
    }
