"""Per-place metrics of the membership network computed on the two-mode (place–organisation) graph.

Why two-mode: the one-mode projection links every pair of members of an organisation, so an
organisation of n members is a clique of n(n−1)/2 ties.  The Global Covenant of Mayors alone
(~11,400 members) would give 65 million pairs; a real list of 17,000 memberships in 59 networks ran
15 minutes at 5.6 GB per worker without finishing.  Every metric here is computed from the sparse
incidence matrix ``B`` (places × organisations, 1 where the place is a member) or on the bipartite
graph (places + organisations, one edge per membership), in memory proportional to the number of
memberships; no place–place pair is ever materialised.

Sources: Newman, "Scientific collaboration networks. II. Shortest paths, weighted networks, and
centrality", *Phys. Rev. E* 64, 016132 (2001) — the projection weighting; Borgatti & Everett,
"Network analysis of 2-mode data", *Social Networks* 19(3), 1997, and Faust, "Centrality in
affiliation networks", *Social Networks* 19(2), 1997 — centralities read on the bipartite graph.

Definitions (codes as stored in the run's ``city_result`` rows):

``organisations``
    Bipartite degree: organisations the place belongs to.
``role_strength``
    Sum of the place's role values (:data:`citydiplomacy.settings.ROLE_VALUES`).
``org_size_mean``, ``org_size_min``
    Mean and smallest member count of its organisations (a small club is a closer tie than a
    network of thousands).
``degree``
    Distinct co-members (places sharing at least one organisation): the projection's degree, counted
    once per class of places with the same organisations, from ``B`` without forming pairs.
``newman_strength``, ``newman_eigenvector``, ``newman_pagerank``
    Strength, eigenvector centrality (maximum 1) and PageRank (damping 0.85) of Newman's weighted
    projection ``W = B·D·Bᵀ − diag``, ``D = diag(1/(n_j − 1))``: each organisation of n members adds
    1/(n−1) to the tie of each pair of its members, so that each member spends one unit of tie over
    each organisation.  Hence ``newman_strength`` = organisations with at least one other member.  The
    eigenvector and PageRank are found by iterating ``x ↦ B·(D·(Bᵀ·x)) − diag·x``, O(memberships)
    per step: exact for the full projection, huge organisations included, with no pair formed.
``betweenness_2mode``, ``harmonic_2mode``
    Unweighted betweenness (each unordered pair once) and harmonic closeness of the place on the
    bipartite graph, over every vertex (places and organisations; distances in bipartite steps, two
    per shared organisation).  A place brokers between organisations it joins (Borgatti & Everett).
    Exact: places with the same organisations are structurally equivalent (twins), so one search per
    class of twins, weighted by the class size, replaces the searches of all of them (a twin s′ of s
    lies on no shortest path from s, and every other vertex depends on s as on s′).
    Betweenness of the *projection* is left out: it needs all-pairs searches over the cliques (the
    very cost avoided here), and on a Newman-weighted projection it would be a distance reading of
    weights that the sources do not support for city networks.
``countries_reached``, ``continents_reached``, ``subregions_reached``
    As in :mod:`citydiplomacy.network.metrics` for the projection (distinct countries other than
    the place's own, continents and UN M49 sub-regions of co-members), from ``B·(Bᵀ·C)`` where
    ``C`` is the place × region indicator.

Distances to co-members, region diversity and cross-border share of the projection need every
pair and are not computed for this graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import linalg as splinalg

from citydiplomacy.network.graphs import ORG_COLUMNS, BuildNotes, _with_columns, prepare_nodes, role_matrix
from citydiplomacy.network.metrics import PAGERANK_DAMPING, _chunks, _run_tasks

__all__ = [
    "TWOMODE_COLUMNS",
    "TwoMode",
    "bipartite_search_metrics",
    "co_member_counts",
    "newman_eigenvector",
    "newman_operator",
    "newman_org_weights",
    "newman_pagerank",
    "newman_projection",
    "projection_pairs",
    "region_reach",
    "twomode",
    "twomode_metrics",
]

TWOMODE_COLUMNS = (
    "organisations", "role_strength", "org_size_mean", "org_size_min", "degree", "newman_strength",
    "newman_eigenvector", "newman_pagerank", "betweenness_2mode", "harmonic_2mode", "countries_reached",
    "continents_reached", "subregions_reached",
)  # fmt: skip
#: Entries of place × place blocks held at once when counting distinct co-members (≈ 8 bytes each).
_BLOCK_ENTRIES = 4_000_000


@dataclass
class TwoMode:
    """The membership network as matrices: role values ``V`` and incidence ``B`` (places × organisations)."""

    nodes: pd.DataFrame
    organisations: pd.DataFrame
    values: sparse.csr_array
    incidence: sparse.csr_array
    notes: BuildNotes

    @property
    def sizes(self) -> np.ndarray:
        """Members of each organisation."""
        return np.asarray(self.incidence.sum(axis=0)).ravel()


def twomode(
    nodes: pd.DataFrame,
    organisations: pd.DataFrame,
    memberships: pd.DataFrame,
    role_values: Mapping[str, float] | None = None,
) -> TwoMode:
    """Build the two-mode matrices from the frames of :mod:`citydiplomacy.network.graphs`."""
    nodes = prepare_nodes(nodes)
    organisations = _with_columns(organisations, ORG_COLUMNS, ("organisation_id",), "organisations")
    notes = BuildNotes()
    values = role_matrix(nodes, organisations, memberships, role_values, notes)
    incidence = sparse.csr_array((values > 0).astype(float))
    return TwoMode(nodes, organisations.reset_index(drop=True), values, incidence, notes)


def projection_pairs(sizes: np.ndarray) -> int:
    """Place pairs the one-mode projection's cliques hold, ``Σ_j n_j(n_j−1)/2`` (an upper bound on its ties)."""
    n = np.asarray(sizes, dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def newman_org_weights(sizes: np.ndarray) -> np.ndarray:
    """Newman's weight of a tie through each organisation: ``1/(n_j − 1)``, 0 for one-member ones.

    Parameters
    ----------
    sizes
        Members of each organisation.
    """
    n = np.asarray(sizes, dtype=float)
    out = np.zeros(len(n))
    np.divide(1.0, n - 1, out=out, where=n >= 2)
    return out


def newman_projection(incidence: sparse.sparray, *, max_members: int | None = None) -> sparse.coo_array:
    """Newman's weighted projection, upper triangle, as a sparse matrix (for small networks and tests).

    Parameters
    ----------
    incidence
        Binary places × organisations matrix.
    max_members
        Leave out organisations larger than this (their cliques are what makes the projection huge);
        None keeps all.  The metrics of :func:`twomode_metrics` never need this matrix.

    Returns
    -------
    scipy.sparse.coo_array
        ``w_ab = Σ_j B_aj·B_bj/(n_j − 1)`` for ``a < b``.
    """
    b = sparse.csc_array(incidence, dtype=float)
    sizes = np.asarray(b.sum(axis=0)).ravel()
    w = newman_org_weights(sizes)
    if max_members is not None:
        w[sizes > max_members] = 0.0
    keep = np.flatnonzero(w > 0)
    b = b[:, keep]
    w = w[keep]
    product = (b @ sparse.diags_array(w) @ b.T).tocsr()
    return sparse.triu(product, k=1, format="coo")


def newman_operator(incidence: sparse.sparray) -> tuple[splinalg.LinearOperator, np.ndarray]:
    """``x ↦ W·x`` for Newman's projection ``W`` without forming it, and the strengths ``W·1``."""
    b = sparse.csr_array(incidence, dtype=float)
    bt = sparse.csr_array(b.T)
    w = newman_org_weights(np.asarray(b.sum(axis=0)).ravel())
    diagonal = b @ w  # Σ_j B_aj²/(n_j−1): the self-ties the product counts, taken out again

    def matvec(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float).ravel()
        return b @ (w * (bt @ x)) - diagonal * x

    n = b.shape[0]
    op = splinalg.LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=float)
    return op, matvec(np.ones(n))


def newman_eigenvector(incidence: sparse.sparray) -> np.ndarray:
    """Eigenvector centrality of Newman's projection, scaled to a maximum of 1 (0 without ties).

    The leading eigenvector of the symmetric, non-negative ``W`` (Lanczos on the implicit operator);
    on a disconnected projection only the component with the largest eigenvalue is non-zero, as in
    :mod:`citydiplomacy.network.metrics`.
    """
    op, strength = newman_operator(incidence)
    n = op.shape[0]
    if n == 0 or not strength.any():
        return np.zeros(n)
    if n < 64:  # Lanczos needs k < n; small networks are solved densely
        dense = op @ np.eye(n)
        vals, vecs = np.linalg.eigh(dense)
        vec = vecs[:, np.argmax(vals)]
    else:
        _, vecs = splinalg.eigsh(op, k=1, which="LA", v0=np.ones(n) / np.sqrt(n), tol=1e-12, maxiter=20 * n)
        vec = vecs[:, 0]
    vec = np.abs(vec)
    vec[vec < 1e-12 * vec.max()] = 0.0
    return vec / vec.max()


def newman_pagerank(incidence: sparse.sparray, damping: float = PAGERANK_DAMPING, tol: float = 1e-13) -> np.ndarray:
    """PageRank of Newman's projection (weighted, dangling mass spread uniformly), by power iteration.

    Parameters
    ----------
    damping
        Probability of following a tie (1 − teleportation).
    tol
        Stop when the L1 change of the vector is below this.
    """
    op, strength = newman_operator(incidence)
    n = op.shape[0]
    if n == 0:
        return np.zeros(0)
    dangling = strength <= 0
    inv = np.zeros(n)
    np.divide(1.0, strength, out=inv, where=~dangling)
    p = np.full(n, 1.0 / n)
    for _ in range(10_000):
        nxt = damping * op.matvec(p * inv) + (damping * p[dangling].sum() + 1.0 - damping) / n
        nxt /= nxt.sum()
        done = np.abs(nxt - p).sum() < tol
        p = nxt
        if done:
            break
    return p


def _twin_classes(incidence: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Class of each place (places with the same organisations share one) and a representative per class."""
    b = sparse.csr_array(incidence)
    b.sort_indices()
    keys = [b.indices[b.indptr[i] : b.indptr[i + 1]].tobytes() for i in range(b.shape[0])]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object))
    _, first = np.unique(codes, return_index=True)
    return np.asarray(codes, dtype=np.int64), first


def co_member_counts(incidence: sparse.sparray) -> np.ndarray:
    """Distinct co-members of each place (its degree in the one-mode projection), block by block.

    One row per class of places with the same organisations, in blocks of bounded size: the memory
    used is ``_BLOCK_ENTRIES`` entries, whatever the size of the organisations.
    """
    b = sparse.csr_array(incidence, dtype=float)
    n = b.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    classes, reps = _twin_classes(b)
    bt = sparse.csr_array(b.T)
    counts = np.zeros(len(reps), dtype=np.int64)
    step = max(1, _BLOCK_ENTRIES // max(n, 1))
    for start in range(0, len(reps), step):
        block = b[reps[start : start + step]] @ bt
        counts[start : start + step] = np.diff(sparse.csr_array(block).indptr)
    # the union of a place's organisations holds the place itself
    return np.maximum(counts[classes] - 1, 0)


def _bipartite_graph(incidence: sparse.csr_array) -> ig.Graph:
    coo = sparse.coo_array(incidence)
    n, m = incidence.shape
    return ig.Graph(n=n + m, edges=np.column_stack([coo.row, coo.col + n]).tolist())


def bipartite_search_metrics(incidence: sparse.sparray, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Exact unweighted betweenness and harmonic closeness of the places on the bipartite graph.

    One breadth-first search per class of twin places (same organisations) and per organisation;
    betweenness searches are weighted by the class size (see the module docstring).

    Parameters
    ----------
    incidence
        Binary places × organisations matrix.
    workers
        Processes to spread the searches over (1: in this process).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``(betweenness, harmonic)`` of each place (rows of ``incidence``), each pair of vertices
        (places and organisations) counted once; harmonic closeness not normalised.
    """
    b = sparse.csr_array(incidence, dtype=float)
    n, m = b.shape
    if n == 0 or b.nnz == 0:
        return np.zeros(n), np.zeros(n)
    g = _bipartite_graph(b)
    classes, reps = _twin_classes(b)
    class_size = np.bincount(classes)
    degree = np.diff(b.indptr)
    orgs = np.arange(n, n + m)
    parts = max(1, 2 * workers) if workers > 1 else 1
    tasks: list[tuple[str, float, list[int]]] = []
    searched = reps[degree[reps] > 0]
    weights = class_size[classes[searched]]
    for weight in np.unique(weights):
        for chunk in _chunks(searched[weights == weight], parts):
            tasks.append(("betweenness", float(weight), chunk))
    for chunk in _chunks(orgs, parts):
        tasks.append(("betweenness", 1.0, chunk))
    tasks += [("harmonic", 1.0, chunk) for chunk in _chunks(searched, parts)]
    bc = np.zeros(n + m)
    hc_rep = np.zeros(n + m)
    for what, vertices, values in _run_tasks(g, tasks, workers):
        if what == "betweenness":
            bc += values
        else:
            hc_rep[vertices] = values
    harmonic = hc_rep[reps][classes]
    harmonic[degree == 0] = 0.0
    return bc[:n], harmonic


def region_reach(two: TwoMode) -> pd.DataFrame:
    """Distinct countries (not the own), continents and sub-regions of each place's co-members.

    From ``M = B·(Bᵀ·C)``, ``C`` the place × region indicator: ``M_ac`` counts, over a's
    organisations, their members in region c, a itself once per organisation; the place reaches c when
    what is left after taking itself out is positive.
    """
    b = two.incidence
    n = b.shape[0]
    out = pd.DataFrame(index=pd.RangeIndex(n))
    memberships = np.diff(b.indptr).astype(float)
    for column, code in (("country_code", "countries_reached"), ("continent", "continents_reached"),
                         ("subregion", "subregions_reached")):  # fmt: skip
        labels = two.nodes[column]
        known = labels.notna().to_numpy()
        codes, _ = pd.factorize(labels)
        k = int(codes.max()) + 1 if known.any() else 0
        if k == 0:
            out[code] = np.zeros(n, dtype=int)
            continue
        c = sparse.csr_array((np.ones(known.sum()), (np.flatnonzero(known), codes[known])), shape=(n, k))
        reach = sparse.coo_array(b @ (sparse.csr_array(b.T) @ c))
        own = np.where(known, codes, -1)
        is_own = reach.col == own[reach.row]
        if code == "countries_reached":
            hit = ~is_own & (reach.data > 0)
        else:
            hit = (reach.data - np.where(is_own, memberships[reach.row], 0.0)) > 0.5
        out[code] = np.bincount(reach.row[hit], minlength=n).astype(int)
    return out


def twomode_metrics(
    nodes: pd.DataFrame,
    organisations: pd.DataFrame,
    memberships: pd.DataFrame,
    role_values: Mapping[str, float] | None = None,
    *,
    workers: int = 1,
) -> pd.DataFrame:
    """Every two-mode metric of each place (definitions in the module docstring).

    Parameters
    ----------
    nodes, organisations, memberships
        Frames as in :mod:`citydiplomacy.network.graphs` (e.g. from
        :func:`~citydiplomacy.network.graphs.load_membership`).
    role_values
        Value of each role (default :data:`citydiplomacy.settings.ROLE_VALUES`).
    workers
        Processes for the bipartite betweenness and closeness searches.

    Returns
    -------
    pandas.DataFrame
        One row per node in frame order: ``place_id``, ``name``, ``country_code``, ``continent``,
        ``subregion``, then :data:`TWOMODE_COLUMNS`.  ``.attrs["notes"]`` is the :class:`BuildNotes`.
    """
    two = twomode(nodes, organisations, memberships, role_values)
    b, sizes = two.incidence, two.sizes
    n = b.shape[0]
    member_orgs = np.diff(b.indptr)
    size_of = sparse.csr_array((sizes[b.indices], b.indices, b.indptr), shape=b.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        size_mean = np.asarray(size_of.sum(axis=1)).ravel() / member_orgs
    size_min = np.full(n, np.nan)
    has = member_orgs > 0
    if b.nnz:
        size_min[has] = np.minimum.reduceat(size_of.data, b.indptr[:-1][has])
    _, strength = newman_operator(b)
    bc, hc = bipartite_search_metrics(b, workers)
    out = two.nodes[["place_id", "name", "country_code", "continent", "subregion"]].copy()
    out["organisations"] = member_orgs.astype(int)
    out["role_strength"] = np.asarray(two.values.sum(axis=1)).ravel()
    out["org_size_mean"] = size_mean
    out["org_size_min"] = size_min
    out["degree"] = co_member_counts(b)
    out["newman_strength"] = strength
    out["newman_eigenvector"] = newman_eigenvector(b)
    out["newman_pagerank"] = newman_pagerank(b)
    out["betweenness_2mode"] = bc
    out["harmonic_2mode"] = hc
    out = pd.concat([out, region_reach(two)], axis=1)
    out.attrs["notes"] = two.notes
    return out
