"""Graphs of city diplomacy, built from plain data frames (the pure layer) or from the registry.

Three graphs are built, all undirected, simple (one edge per pair of places) and weighted:

* the **bilateral** graph: places linked by their ties (sister-city agreements, MoUs, ...), as the one tie
  rule of :mod:`citydiplomacy.store.ties` says: a relation weighs ``kind weight × status weight`` and is
  left out when that is 0 (in negotiation, suspended, ended); the relations of one pair are summed
  into one edge, which also keeps per-kind counts (``n_<kind>``) and weights (``w_<kind>``);
* the **membership** graph: the bipartite place–organisation graph (vertex attribute ``type``: False
  for places, True for organisations), weighted by the role value of
  :data:`citydiplomacy.settings.ROLE_VALUES`, and its one-mode projections (place–place weighted by
  ``Σ_j v_aj·v_bj``, the pair's interlock in Taylor's model; organisation–organisation likewise);
* the **combined** graph: bilateral and place–place membership edges summed.

The place–place projection makes every organisation a clique (n members: n(n−1)/2 ties; the Global
Covenant of Mayors' ~11,400 members alone would give 65 million).  :func:`load_graph` therefore leaves
out of the projection the organisations of more than :data:`PROJECTION_MAX_MEMBERS` members, and says
so in ``g["notes"]``; the membership *metrics* (``citydip network metrics --graph membership``) are
computed on the two-mode graph instead, with every organisation (:mod:`citydiplomacy.network.twomode`).

Frames
------
nodes
    ``place_id`` (int, unique), ``name``, ``country_code`` (ISO alpha-2), ``lat``, ``lng`` (degrees),
    ``population``; missing optional columns are filled with nulls.
edges (relations)
    ``place_a_id``, ``place_b_id``, ``kind``, ``status``; optional ``signed_year``, ``ended_year``.
organisations
    ``organisation_id``, ``name``; optional ``acronym``, ``kind``.
memberships
    ``place_id``, ``organisation_id``, ``role``; optional ``since_year``, ``until_year``.

The database loaders (:func:`load_bilateral`, :func:`load_membership`) return these frames, so tests
and benchmarks can feed frames of their own.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import igraph as ig
import numpy as np
import pandas as pd
from scipy import sparse
from sqlalchemy import select
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput
from citydiplomacy.geo.regions import UN_M49_SUBREGIONS, continent_of, subregion_of
from citydiplomacy.model.vocab import RELATION_KINDS, RELATION_STATUSES
from citydiplomacy.store.schema import Membership, Organisation, Place
from citydiplomacy.store.ties import TieRule, in_force, load_ties

NODE_COLUMNS = ("place_id", "name", "country_code", "lat", "lng", "population")
EDGE_COLUMNS = ("place_a_id", "place_b_id", "kind", "status", "signed_year", "ended_year")
ORG_COLUMNS = ("organisation_id", "name", "acronym", "kind")
MEMBERSHIP_COLUMNS = ("place_id", "organisation_id", "role", "since_year", "until_year")
CONTINENT_CODES = ("AF", "AN", "AS", "EU", "NA", "OC", "SA")
GRAPH_KINDS = ("bilateral", "membership", "combined")
#: Organisations larger than this enter no place–place projection built by :func:`load_graph` (the
#: communities, ego and map views and the combined graph): a clique of 1,000 is already 499,500 ties, and
#: in Newman's weighting (1/(n−1)) a tie through such an organisation weighs at most 0.001.
PROJECTION_MAX_MEMBERS = 1000


class NetworkInputError(BadInput):
    """The frames or filters given to the network layer cannot be used (the message says why)."""


@dataclass(frozen=True)
class NetworkFilter:
    """Which relations and memberships enter a graph.

    Attributes
    ----------
    year_from, year_to
        Period (inclusive years): a relation is kept when it was in force at the end of some year of it
        (:func:`citydiplomacy.store.ties.in_force`: signed by ``year_to``, not ended by ``year_from``);
        memberships when held in some year of it (``since_year <= year_to``, ``until_year >= year_from``).
        Records without a year are kept when ``keep_undated``.  ``year_from == year_to == Y``: as of ``Y``.
    keep_undated
        Keep relations and memberships whose years are unknown (most sources give none).
    kinds
        Relation kinds to keep (None: all).
    statuses
        Relation statuses to keep (None: all; only the tie rule's statuses are ties in any case).
    regions
        Keep only places in these regions, and the relations between them (the induced subgraph):
        continent codes (``EU``), UN M49 sub-region names (``Western Asia``) or ISO country codes.
    """

    year_from: int | None = None
    year_to: int | None = None
    keep_undated: bool = True
    kinds: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None

    def as_parameters(self) -> dict[str, Any]:
        """The filter as a JSON-ready dict (stored with every analysis run)."""
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


@dataclass
class BuildNotes:
    """What a graph builder left out, and why (stored on the graph as ``g["notes"]``)."""

    self_relations: int = 0
    zero_weight_relations: int = 0
    duplicate_memberships: int = 0
    messages: list[str] = field(default_factory=list)


# --- frames ---------------------------------------------------------------------------------------


def _with_columns(frame: pd.DataFrame, columns: Iterable[str], required: Iterable[str], what: str) -> pd.DataFrame:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise NetworkInputError(f"{what} frame lacks column(s) {', '.join(missing)}")
    frame = frame.copy()
    for col in columns:
        if col not in frame.columns:
            frame[col] = None
    return frame


def prepare_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """Check a nodes frame and add ``continent`` and ``subregion`` (see :mod:`.regions`).

    Raises
    ------
    NetworkInputError
        A required column is missing or ``place_id`` repeats.
    """
    nodes = _with_columns(nodes, NODE_COLUMNS, ("place_id",), "nodes")
    if nodes["place_id"].duplicated().any():
        dup = nodes.loc[nodes["place_id"].duplicated(), "place_id"].head(5).tolist()
        raise NetworkInputError(f"nodes frame repeats place_id {dup}")
    nodes["place_id"] = nodes["place_id"].astype("int64")
    nodes["name"] = nodes["name"].fillna("").astype(str)
    nodes["lat"] = pd.to_numeric(nodes["lat"], errors="coerce").astype(float)
    nodes["lng"] = pd.to_numeric(nodes["lng"], errors="coerce").astype(float)
    cc = nodes["country_code"].astype(object).where(nodes["country_code"].notna(), None)
    codes = [c.upper() if isinstance(c, str) and c else None for c in cc]
    # object dtype keeps None as None (pandas' string dtype would turn it into NaN).
    nodes["country_code"] = pd.Series(codes, index=nodes.index, dtype=object)
    nodes["continent"] = pd.Series([continent_of(c) for c in codes], index=nodes.index, dtype=object)
    nodes["subregion"] = pd.Series([subregion_of(c) for c in codes], index=nodes.index, dtype=object)
    return nodes.reset_index(drop=True)


def _region_mask(nodes: pd.DataFrame, regions: Iterable[str]) -> np.ndarray:
    subregions = {s.casefold(): s for s in UN_M49_SUBREGIONS}
    mask = np.zeros(len(nodes), dtype=bool)
    for region in regions:
        key = region.strip()
        if key.upper() in CONTINENT_CODES:
            mask |= (nodes["continent"] == key.upper()).to_numpy()
        elif key.casefold() in subregions:
            mask |= (nodes["subregion"] == subregions[key.casefold()]).to_numpy()
        elif len(key) == 2 and key.isalpha():
            mask |= (nodes["country_code"] == key.upper()).to_numpy()
        else:
            raise NetworkInputError(
                f"unknown region {region!r}: use a continent code ({', '.join(CONTINENT_CODES)}), "
                "a UN M49 sub-region name (e.g. 'Western Asia') or an ISO country code"
            )
    return mask


def _in_period(start: pd.Series, end: pd.Series, flt: NetworkFilter) -> np.ndarray:
    """Memberships in force at some time of the filter's period (``until_year`` is the last year held)."""
    start = pd.to_numeric(start, errors="coerce")
    end = pd.to_numeric(end, errors="coerce")
    keep = np.ones(len(start), dtype=bool)
    if flt.year_to is not None:
        keep &= ~(start > flt.year_to).to_numpy()
    if flt.year_from is not None:
        keep &= ~(end < flt.year_from).to_numpy()
    if not flt.keep_undated and (flt.year_from is not None or flt.year_to is not None):
        keep &= start.notna().to_numpy()
    return keep


def filter_bilateral(
    nodes: pd.DataFrame, edges: pd.DataFrame, flt: NetworkFilter | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply a :class:`NetworkFilter` to prepared nodes and relation frames.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        The kept nodes (all places of the region, isolated ones included) and the kept relations.
    """
    flt = flt or NetworkFilter()
    edges = _with_columns(edges, EDGE_COLUMNS, ("place_a_id", "place_b_id"), "relations")
    # Relations in force in the period, with their status as it was then: the tie rule's reading of time.
    edges = in_force(edges, flt.year_from, flt.year_to, keep_undated=flt.keep_undated)
    keep = np.ones(len(edges), dtype=bool)
    if flt.kinds is not None:
        keep &= edges["kind"].isin(flt.kinds).to_numpy()
    if flt.statuses is not None:
        keep &= edges["status"].isin(flt.statuses).to_numpy()
    edges = edges.loc[keep]
    if flt.regions:
        nodes = nodes.loc[_region_mask(nodes, flt.regions)]
        ids = set(nodes["place_id"])
        edges = edges.loc[edges["place_a_id"].isin(ids) & edges["place_b_id"].isin(ids)]
    return nodes.reset_index(drop=True), edges.reset_index(drop=True)


# --- graphs ---------------------------------------------------------------------------------------


def _vertex_attributes(g: ig.Graph, nodes: pd.DataFrame) -> None:
    for col in ("place_id", "name", "country_code", "lat", "lng", "population", "continent", "subregion"):
        values = nodes[col].tolist()
        if col in ("lat", "lng"):
            values = [float(v) for v in nodes[col].to_numpy(float)]
        g.vs[col] = values


def relation_weights(edges: pd.DataFrame, rule: TieRule | None = None) -> np.ndarray:
    """Weight of each relation under the tie rule: kind weight × status weight (0: not a tie).

    Raises
    ------
    NetworkInputError
        A kind or status outside the registry's vocabulary (a typo in a frame must not silently drop ties).
    """
    rule = rule or TieRule()
    kinds = edges["kind"].fillna("sister_city")
    statuses = edges["status"].fillna("active")
    for values, vocab, what in ((kinds, RELATION_KINDS, "kind"), (statuses, RELATION_STATUSES, "status")):
        unknown = sorted(set(values) - set(vocab))
        if unknown:
            raise NetworkInputError(
                f"unknown relation {what}(s): {', '.join(map(str, unknown))} (known: {', '.join(vocab)})"
            )
    return rule.weights(kinds, statuses)


def bilateral_graph(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    rule: TieRule | None = None,
) -> ig.Graph:
    """The bilateral graph: one vertex per node row, one weighted edge per pair of places with a tie.

    Parameters
    ----------
    nodes
        Nodes frame (see the module docstring); every row becomes a vertex, isolated or not.
    edges
        Relations frame; both ends must be in ``nodes``.  Self-relations and relations that are not ties
        (weight 0 under the rule: in negotiation, suspended, ended) are left out and counted in ``g["notes"]``.
    rule
        The tie rule (default: the settings').

    Returns
    -------
    igraph.Graph
        Undirected simple graph; vertex attributes ``place_id``, ``name``, ``country_code``, ``lat``,
        ``lng``, ``population``, ``continent``, ``subregion``; edge attributes ``weight``,
        ``n_relations`` and, per relation kind, ``n_<kind>`` and ``w_<kind>``.

    Raises
    ------
    NetworkInputError
        A relation names a place missing from ``nodes``.
    """
    nodes = prepare_nodes(nodes)
    edges = _with_columns(edges, EDGE_COLUMNS, ("place_a_id", "place_b_id"), "relations")
    notes = BuildNotes()
    index = pd.Series(np.arange(len(nodes)), index=nodes["place_id"].to_numpy())
    a = edges["place_a_id"].map(index)
    b = edges["place_b_id"].map(index)
    if a.isna().any() or b.isna().any():
        missing = sorted(set(edges.loc[a.isna(), "place_a_id"]) | set(edges.loc[b.isna(), "place_b_id"]))
        raise NetworkInputError(f"relations name place ids absent from the nodes frame: {missing[:10]}")
    weights = relation_weights(edges, rule) if len(edges) else np.zeros(0)
    a_idx, b_idx = a.to_numpy(np.int64), b.to_numpy(np.int64)
    self_loop = a_idx == b_idx
    zero = (weights <= 0) & ~self_loop
    notes.self_relations = int(self_loop.sum())
    notes.zero_weight_relations = int(zero.sum())
    if notes.self_relations:
        notes.messages.append(f"{notes.self_relations} self-relation(s) left out")
    keep = ~self_loop & ~zero
    frame = pd.DataFrame(
        {
            "u": np.minimum(a_idx, b_idx)[keep],
            "v": np.maximum(a_idx, b_idx)[keep],
            "kind": edges["kind"].fillna("sister_city").to_numpy()[keep],
            "weight": weights[keep],
        }
    )
    kinds = sorted(frame["kind"].unique())
    grouped = frame.groupby(["u", "v"], sort=True)
    pairs = grouped["weight"].agg(["sum", "size"])
    g = ig.Graph(
        n=len(nodes), edges=list(zip(pairs.index.get_level_values(0), pairs.index.get_level_values(1), strict=True))
    )
    g.es["weight"] = pairs["sum"].to_numpy(float).tolist()
    g.es["n_relations"] = pairs["size"].to_numpy(int).tolist()
    if kinds:
        by_kind_n = frame.pivot_table(index=["u", "v"], columns="kind", values="weight", aggfunc="size", fill_value=0)
        by_kind_w = frame.pivot_table(index=["u", "v"], columns="kind", values="weight", aggfunc="sum", fill_value=0.0)
        by_kind_n = by_kind_n.reindex(pairs.index, fill_value=0)
        by_kind_w = by_kind_w.reindex(pairs.index, fill_value=0.0)
        for kind in kinds:
            g.es[f"n_{kind}"] = by_kind_n[kind].to_numpy(int).tolist()
            g.es[f"w_{kind}"] = by_kind_w[kind].to_numpy(float).tolist()
    g["relation_kinds"] = kinds
    g["graph_kind"] = "bilateral"
    g["notes"] = notes
    _vertex_attributes(g, nodes)
    return g


def role_matrix(
    nodes: pd.DataFrame,
    organisations: pd.DataFrame,
    memberships: pd.DataFrame,
    role_values: Mapping[str, float] | None = None,
    notes: BuildNotes | None = None,
) -> sparse.csr_array:
    """The place × organisation matrix of role values ``v_aj`` (Taylor's service values).

    A place holding several roles in one organisation (e.g. founding and board) takes the highest
    value: the matrix says how much the place matters to the organisation, not how many records exist.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(len(nodes), len(organisations))``, rows and columns in frame order.

    Raises
    ------
    NetworkInputError
        A membership has a role without a value, or names an unknown place or organisation.
    """
    role_values = dict(settings.ROLE_VALUES if role_values is None else role_values)
    memberships = _with_columns(memberships, MEMBERSHIP_COLUMNS, ("place_id", "organisation_id", "role"), "memberships")
    unknown = sorted(set(memberships["role"].fillna("<empty>")) - set(role_values))
    if unknown:
        raise NetworkInputError(
            f"membership role(s) without a value: {', '.join(map(str, unknown))} "
            f"(known: {', '.join(sorted(role_values))}; map free-text labels with store.vocab.map_role)"
        )
    rows = memberships["place_id"].map(pd.Series(np.arange(len(nodes)), index=nodes["place_id"].to_numpy()))
    cols = memberships["organisation_id"].map(
        pd.Series(np.arange(len(organisations)), index=organisations["organisation_id"].to_numpy())
    )
    if rows.isna().any() or cols.isna().any():
        raise NetworkInputError("memberships name places or organisations absent from their frames")
    frame = pd.DataFrame(
        {"r": rows.to_numpy(np.int64), "c": cols.to_numpy(np.int64), "v": memberships["role"].map(role_values)}
    )
    collapsed = frame.groupby(["r", "c"], sort=True)["v"].max()
    if notes is not None:
        notes.duplicate_memberships = len(frame) - len(collapsed)
        if notes.duplicate_memberships:
            notes.messages.append(
                f"{notes.duplicate_memberships} repeated place-organisation membership(s): highest role kept"
            )
    collapsed = collapsed[collapsed > 0]
    return sparse.csr_array(
        (
            collapsed.to_numpy(float),
            (collapsed.index.get_level_values(0), collapsed.index.get_level_values(1)),
        ),
        shape=(len(nodes), len(organisations)),
    )


def membership_graph(
    nodes: pd.DataFrame,
    organisations: pd.DataFrame,
    memberships: pd.DataFrame,
    role_values: Mapping[str, float] | None = None,
) -> ig.Graph:
    """The bipartite place–organisation graph, weighted by role value.

    Returns
    -------
    igraph.Graph
        Places first (``type`` False, place attributes), then organisations (``type`` True,
        ``organisation_id``, ``name``); edge attribute ``weight`` = role value; ``g["notes"]``.
    """
    nodes = prepare_nodes(nodes)
    organisations = _with_columns(organisations, ORG_COLUMNS, ("organisation_id",), "organisations")
    notes = BuildNotes()
    v = role_matrix(nodes, organisations, memberships, role_values, notes).tocoo()
    n = len(nodes)
    g = ig.Graph(n=n + len(organisations), edges=list(zip(v.row.tolist(), (v.col + n).tolist(), strict=True)))
    g.es["weight"] = v.data.tolist()
    g.vs["type"] = [False] * n + [True] * len(organisations)
    for col in ("place_id", "name", "country_code", "lat", "lng", "population", "continent", "subregion"):
        g.vs[col] = nodes[col].tolist() + [None] * len(organisations)
    g.vs["organisation_id"] = [None] * n + organisations["organisation_id"].tolist()
    g.vs[n:]["name"] = organisations["name"].fillna("").astype(str).tolist()
    g["graph_kind"] = "membership_bipartite"
    g["notes"] = notes
    return g


def _projection(matrix: sparse.csr_array) -> tuple[sparse.coo_array, sparse.coo_array]:
    """Upper triangles of ``V·Vᵀ`` (summed products) and ``B·Bᵀ`` (shared counts), aligned entry by entry."""
    binary = (matrix > 0).astype(float)
    products, counts = (sparse.csr_array(sparse.triu(m @ m.T, k=1)) for m in (matrix, binary))
    products.sort_indices()
    counts.sort_indices()
    return products.tocoo(), counts.tocoo()


def membership_projection(
    nodes: pd.DataFrame,
    organisations: pd.DataFrame,
    memberships: pd.DataFrame,
    role_values: Mapping[str, float] | None = None,
    *,
    mode: str = "places",
    max_members: int | None = None,
) -> ig.Graph:
    """One-mode projection of the membership graph.

    Parameters
    ----------
    mode
        ``"places"``: places linked when they share an organisation, weight ``Σ_j v_aj·v_bj``;
        ``"organisations"``: organisations linked by shared members, weight ``Σ_a v_aj·v_ak``.
    max_members
        For ``"places"``: organisations with more members than this add no tie (their clique would
        dominate time and memory); each one left out is named in ``g["notes"]``.  None keeps all.

    Returns
    -------
    igraph.Graph
        Undirected simple weighted graph (edge attributes ``weight`` = ``w_membership`` and
        ``n_membership`` = number of shared organisations or members); vertices in frame order.
    """
    nodes = prepare_nodes(nodes)
    organisations = _with_columns(organisations, ORG_COLUMNS, ("organisation_id",), "organisations")
    notes = BuildNotes()
    v = role_matrix(nodes, organisations, memberships, role_values, notes)
    if max_members is not None and mode == "places":
        sizes = np.diff(v.tocsc().indptr)
        big = np.flatnonzero(sizes > max_members)
        if len(big):
            names = organisations["name"].fillna("").astype(str).to_numpy()
            notes.messages.append(
                f"{len(big)} organisation(s) of more than {max_members:,} members left out of the place–place "
                "projection: " + "; ".join(f"{names[j]} ({sizes[j]:,})" for j in big[:5])
            )
            keep = np.ones(v.shape[1])
            keep[big] = 0.0
            v = sparse.csr_array(v @ sparse.diags_array(keep))
            v.eliminate_zeros()
    if mode == "organisations":
        v = v.T.tocsr()
    elif mode != "places":
        raise NetworkInputError(f"unknown projection mode {mode!r}: use 'places' or 'organisations'")
    products, counts = _projection(v)
    g = ig.Graph(n=v.shape[0], edges=list(zip(products.row.tolist(), products.col.tolist(), strict=True)))
    g.es["weight"] = products.data.astype(float).tolist()
    g.es["n_membership"] = counts.data.astype(int).tolist()  # same structure and order as products
    g.es["w_membership"] = g.es["weight"]
    if mode == "places":
        _vertex_attributes(g, nodes)
    else:
        g.vs["organisation_id"] = organisations["organisation_id"].tolist()
        g.vs["name"] = organisations["name"].fillna("").astype(str).tolist()
    g["relation_kinds"] = ["membership"] if mode == "places" else []
    g["graph_kind"] = f"membership_{mode}"
    g["notes"] = notes
    return g


def combined_graph(bilateral: ig.Graph, projection: ig.Graph) -> ig.Graph:
    """Bilateral and place–place membership edges on the same vertices, weights summed.

    Both graphs must have the same vertices in the same order (build them from one nodes frame).

    Returns
    -------
    igraph.Graph
        Simple weighted graph; edge attributes ``weight``, the bilateral per-kind ``n_``/``w_``
        attributes, and ``n_membership``/``w_membership`` for the membership layer.
    """
    if bilateral.vs["place_id"] != projection.vs["place_id"]:
        raise NetworkInputError("bilateral and membership graphs are on different places")
    kinds = list(bilateral["relation_kinds"])
    union = bilateral.copy()
    union.es["n_membership"] = [0] * union.ecount()
    union.es["w_membership"] = [0.0] * union.ecount()
    start = union.ecount()
    union.add_edges(projection.get_edgelist())
    new = union.es[start:]
    new["weight"] = projection.es["weight"]
    new["n_membership"] = projection.es["n_membership"]
    new["w_membership"] = projection.es["weight"]
    new["n_relations"] = [0] * projection.ecount()
    for kind in kinds:
        new[f"n_{kind}"] = [0] * projection.ecount()
        new[f"w_{kind}"] = [0.0] * projection.ecount()
    combine = {"weight": "sum", "n_relations": "sum", "n_membership": "sum", "w_membership": "sum"}
    combine.update({f"n_{k}": "sum" for k in kinds} | {f"w_{k}": "sum" for k in kinds})
    union.simplify(multiple=True, loops=True, combine_edges=combine)
    union["relation_kinds"] = [*kinds, "membership"]
    union["graph_kind"] = "combined"
    notes = bilateral["notes"]
    if "notes" in projection.attributes():
        notes.messages.extend(m for m in projection["notes"].messages if m not in notes.messages)
    union["notes"] = notes
    return union


# --- loading from the registry --------------------------------------------------------------------


def _places_frame(session: Session, place_ids: Iterable[int] | None = None) -> pd.DataFrame:
    query = select(Place.id.label("place_id"), Place.name, Place.country_code, Place.lat, Place.lng, Place.population)
    rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(NODE_COLUMNS))
    if place_ids is not None:
        frame = frame.loc[frame["place_id"].isin(set(place_ids))]
    return frame.sort_values("place_id").reset_index(drop=True)


def load_bilateral(
    session: Session,
    flt: NetworkFilter | None = None,
    *,
    include_isolated: bool = False,
    rule: TieRule | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read places and relations from the registry and apply the filter.

    Parameters
    ----------
    include_isolated
        Keep every place of the registry (in the filtered regions) as a vertex, related or not;
        by default only places with at least one kept relation.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        ``(nodes, edges)`` frames as described in the module docstring.
    """
    # Only ties enter the graph (the one rule, read in the filter's period); kinds and regions follow.
    flt = flt or NetworkFilter()
    ties = load_ties(session, year_from=flt.year_from, year_to=flt.year_to, keep_undated=flt.keep_undated, rule=rule)
    edges = ties[list(EDGE_COLUMNS)].copy()
    nodes = prepare_nodes(_places_frame(session))
    nodes, edges = filter_bilateral(nodes, edges, flt)
    if not include_isolated:
        used = set(edges["place_a_id"]) | set(edges["place_b_id"])
        nodes = nodes.loc[nodes["place_id"].isin(used)].reset_index(drop=True)
    return nodes, edges


def load_membership(
    session: Session, flt: NetworkFilter | None = None, *, nodes: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Read places, organisations and memberships from the registry and apply the filter.

    Parameters
    ----------
    nodes
        Use these places (e.g. the bilateral graph's, for a combined graph); memberships of other
        places are dropped.  Default: every place with a kept membership.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame, pandas.DataFrame]
        ``(nodes, organisations, memberships)``.
    """
    flt = flt or NetworkFilter()
    orgs = pd.DataFrame(
        session.execute(select(Organisation.id, Organisation.name, Organisation.acronym, Organisation.kind)).all(),
        columns=list(ORG_COLUMNS),
    )
    members = pd.DataFrame(
        session.execute(
            select(
                Membership.place_id,
                Membership.organisation_id,
                Membership.role,
                Membership.since_year,
                Membership.until_year,
            )  # fmt: skip
        ).all(),
        columns=list(MEMBERSHIP_COLUMNS),
    )
    members = members.loc[_in_period(members["since_year"], members["until_year"], flt)]
    if nodes is None:
        nodes = prepare_nodes(_places_frame(session, set(members["place_id"])))
        if flt.regions:
            nodes = nodes.loc[_region_mask(nodes, flt.regions)].reset_index(drop=True)
    else:
        nodes = prepare_nodes(nodes)
    members = members.loc[members["place_id"].isin(set(nodes["place_id"]))].reset_index(drop=True)
    return nodes, orgs.sort_values("organisation_id").reset_index(drop=True), members


def load_graph(session: Session, graph: str = "bilateral", flt: NetworkFilter | None = None) -> ig.Graph:
    """Build one of :data:`GRAPH_KINDS` from the registry.

    ``membership`` is the place–place projection (weighted by shared role values); ``combined`` is
    bilateral + that projection on the union of their places.  Organisations of more than
    :data:`PROJECTION_MAX_MEMBERS` members enter neither (see the module docstring).
    """
    if graph not in GRAPH_KINDS:
        raise NetworkInputError(f"unknown graph {graph!r}: use one of {', '.join(GRAPH_KINDS)}")
    if graph == "bilateral":
        nodes, edges = load_bilateral(session, flt)
        return bilateral_graph(nodes, edges)
    if graph == "membership":
        nodes, orgs, members = load_membership(session, flt)
        return membership_projection(nodes, orgs, members, max_members=PROJECTION_MAX_MEMBERS)
    b_nodes, edges = load_bilateral(session, flt)
    m_nodes, orgs, members = load_membership(session, flt)
    nodes = pd.concat([b_nodes, m_nodes]).drop_duplicates("place_id").sort_values("place_id")
    nodes = nodes.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        projection = membership_projection(nodes, orgs, members, max_members=PROJECTION_MAX_MEMBERS)
        return combined_graph(bilateral_graph(nodes, edges), projection)
