"""Pair features for link prediction, all computed from ONE given tie list (the feature graph).

A :class:`FeatureGraph` is built from a :class:`~citydiplomacy.strategy.data.RegistryGraph`'s places and
an explicit edge array.  Everything that depends on ties (degrees, common neighbours, k-cores, Leiden
communities, how often two countries twin) is computed from that edge array only, so evaluation can
hide ties simply by building the feature graph without them: nothing else reads the registry's ties.

Features of a pair are symmetric (``(u, v)`` and ``(v, u)`` give the same row).  Missing place facts
(no population, no coordinates) are ``nan``; the gradient-boosting model handles them natively.

The four classic baselines (common neighbours, Adamic–Adar, resource allocation, preferential attachment)
are columns of the same matrix and are also exposed as :func:`baseline_scores`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from citydiplomacy.strategy.data import RegistryGraph, country_info, haversine_km

#: Column names of :meth:`FeatureGraph.pair_features`, in order.
FEATURE_NAMES: tuple[str, ...] = (
    "log_degree_min",
    "log_degree_max",
    "log_preferential_attachment",
    "common_neighbours",
    "adamic_adar",
    "resource_allocation",
    "jaccard",
    "log_paths3",
    "shortest_path_capped",
    "log_distance_km",
    "same_country",
    "same_continent",
    "neighbouring_countries",
    "shared_language",
    "log_population_min",
    "log_population_max",
    "log_population_ratio",
    "capitals",
    "core_min",
    "core_max",
    "same_community",
    "log_country_pair_ties",
    "country_pair_affinity",
    "log_ties_into_country_min",
    "log_ties_into_country_max",
    "share_into_country_max",
    "log_two_hop_into_country_max",
    "log_km_to_partner_min",
    "log_km_to_partner_max",
)

#: Baselines reported beside the model: name -> feature column it equals.
BASELINES: dict[str, str] = {
    "preferential_attachment": "log_preferential_attachment",  # log is monotone: same ranking
    "adamic_adar": "adamic_adar",
    "common_neighbours": "common_neighbours",
    "resource_allocation": "resource_allocation",
}

#: Cap of the shortest-path feature: 2 (a common partner), 3 (a path of 3 ties), 4 farther, 5 unreachable.
PATH_CAP = 4


class FeatureGraph:
    """Ties, degrees and derived structure of one feature graph over a registry's places.

    Parameters
    ----------
    graph
        Places (and memberships) of the registry; its own ``edges`` are NOT used.
    edges
        The ties features may see, node-index pairs shape ``(m, 2)``.
    seed
        Seed of the Leiden community detection (communities are a feature, so results depend on it).
    """

    def __init__(self, graph: RegistryGraph, edges: np.ndarray, *, seed: int = 0) -> None:
        self.graph = graph
        self.edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        n = graph.n
        self.n = n
        rows = np.concatenate([self.edges[:, 0], self.edges[:, 1]])
        cols = np.concatenate([self.edges[:, 1], self.edges[:, 0]])
        adjacency = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n, n))
        adjacency.sum_duplicates()
        adjacency.data[:] = 1.0  # a pair listed twice is still one tie
        self.adjacency: sp.csr_matrix = adjacency
        self.degree = np.asarray(adjacency.sum(axis=1)).ravel()
        with np.errstate(divide="ignore"):
            aa_weight = np.where(self.degree > 1, 1.0 / np.log(np.maximum(self.degree, 2)), 0.0)
            ra_weight = np.where(self.degree > 0, 1.0 / np.maximum(self.degree, 1), 0.0)
        self._adj_aa = (adjacency @ sp.diags(aa_weight)).tocsr()
        self._adj_ra = (adjacency @ sp.diags(ra_weight)).tocsr()
        self._adj2: sp.csr_matrix | None = None
        self.seed = seed
        self.core = self._coreness()
        self.community = self._communities(seed)
        self.component = self._components()
        # Countries as integer codes; country-level tie counts from the feature graph only.
        codes, self.country_code = np.unique(graph.countries.astype(str), return_inverse=True)
        self.country_names = codes
        k = len(codes)
        membership = sp.csr_matrix((np.ones(n), (np.arange(n), self.country_code)), shape=(n, k))
        self.ties_into_country = (adjacency @ membership).tocsr()  # (n, k): a place's partners per country
        self.two_hop_into_country = (adjacency @ self.ties_into_country).tocsr()  # partners of partners
        self.country_ties = (membership.T @ self.ties_into_country).toarray()  # (k, k), tie endpoints
        self.country_total = self.country_ties.sum(axis=1)
        self.continent = graph.continents()
        info = country_info()
        neighbours = [info.get(c, {}).get("neighbours", set()) for c in codes]
        languages = [info.get(c, {}).get("languages", set()) for c in codes]
        # Country-pair facts as (k, k) tables, so a pair's fact is one lookup (ranking every place for
        # thousands of cities scores ~10^7 pairs).
        self._neighbouring = np.array([[b in nb for b in codes] for nb in neighbours], dtype=bool).reshape(k, k)
        self._shares_language = np.array([[bool(la & lb) for lb in languages] for la in languages], dtype=bool)
        self._shares_language = self._shares_language.reshape(k, k)

    # -- structure -------------------------------------------------------------------------------------
    def _igraph(self):  # type: ignore[no-untyped-def]
        import igraph as ig

        return ig.Graph(n=self.n, edges=self.edges.tolist(), directed=False)

    def _coreness(self) -> np.ndarray:
        if len(self.edges) == 0:
            return np.zeros(self.n)
        return np.asarray(self._igraph().coreness(), dtype=float)

    def _communities(self, seed: int) -> np.ndarray:
        """Leiden (modularity) communities of the feature graph; isolated places get their own label."""
        labels = np.arange(self.n) + self.n  # unique labels: isolates share a community with nobody
        if len(self.edges) == 0:
            return labels
        import leidenalg

        partition = leidenalg.find_partition(self._igraph(), leidenalg.ModularityVertexPartition, seed=seed)
        membership = np.asarray(partition.membership)
        has_tie = self.degree > 0
        labels[has_tie] = membership[has_tie]
        return labels

    def _components(self) -> np.ndarray:
        _, labels = sp.csgraph.connected_components(self.adjacency, directed=False)
        return labels

    @property
    def adjacency2(self) -> sp.csr_matrix:
        """Walks of length two between places (computed on first use)."""
        if self._adj2 is None:
            self._adj2 = (self.adjacency @ self.adjacency).tocsr()
        return self._adj2

    # -- pair scores -----------------------------------------------------------------------------------
    @staticmethod
    def _row_dot(left: sp.csr_matrix, right: sp.csr_matrix, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``left[u_i] · right[v_i]`` for every pair, shape ``(p,)``."""
        if len(u) == 0:
            return np.zeros(0)
        return np.asarray(left[u].multiply(right[v]).sum(axis=1)).ravel()

    def common_neighbours(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Number of shared partners of each pair."""
        return self._row_dot(self.adjacency, self.adjacency, u, v)

    def adamic_adar(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Adamic–Adar index: sum over shared partners ``w`` of ``1 / ln(deg w)``."""
        return self._row_dot(self._adj_aa, self.adjacency, u, v)

    def resource_allocation(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Resource allocation index: sum over shared partners ``w`` of ``1 / deg w``."""
        return self._row_dot(self._adj_ra, self.adjacency, u, v)

    def preferential_attachment(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Product of the two degrees."""
        return self.degree[u] * self.degree[v]

    def _km_to_partners(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """For each pair, km from ``v`` to the nearest partner of ``u`` (``nan`` when ``u`` has none)."""
        lat, lng = self.graph.lat, self.graph.lng
        indptr, indices = self.adjacency.indptr, self.adjacency.indices
        counts = indptr[u + 1] - indptr[u]
        out = np.full(len(u), np.nan)
        has = counts > 0
        if not has.any():
            return out
        starts = indptr[u[has]]
        reps = counts[has]
        offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        partners = indices[np.repeat(starts, reps) + offsets]
        targets = np.repeat(v[has], reps)
        km = haversine_km(lat[partners], lng[partners], lat[targets], lng[targets])
        km = np.where(np.isnan(km), np.inf, km)
        nearest = np.minimum.reduceat(km, np.cumsum(reps) - reps)
        out[has] = np.where(np.isinf(nearest), np.nan, nearest)
        return out

    def pair_features(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Feature matrix of pairs ``(u_i, v_i)``, shape ``(p, len(FEATURE_NAMES))``, float64.

        Units: distances in km (as ``log1p``), populations in inhabitants (as ``log``); counts are raw.
        """
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        g = self.graph
        du, dv = self.degree[u], self.degree[v]
        cn = self.common_neighbours(u, v)
        aa = self.adamic_adar(u, v)
        ra = self.resource_allocation(u, v)
        union = du + dv - cn
        jaccard = np.divide(cn, union, out=np.zeros_like(cn), where=union > 0)
        paths3 = self._row_dot(self.adjacency2, self.adjacency, u, v)
        same_component = self.component[u] == self.component[v]
        shortest = np.where(cn > 0, 2, np.where(paths3 > 0, 3, np.where(same_component & (du > 0), PATH_CAP, 5)))
        km = haversine_km(g.lat[u], g.lng[u], g.lat[v], g.lng[v])
        cu, cv = self.country_code[u], self.country_code[v]
        names_u, names_v = self.country_names[cu], self.country_names[cv]
        known = (names_u != "") & (names_v != "")
        same_country = (cu == cv) & known
        cont_u, cont_v = self.continent[u], self.continent[v]
        same_continent = (cont_u == cont_v) & (cont_u != "")
        neighbouring = self._neighbouring[cu, cv]
        shared_language = self._shares_language[cu, cv]
        with np.errstate(divide="ignore", invalid="ignore"):
            lpu, lpv = np.log(g.population[u]), np.log(g.population[v])
        pair_ties = self.country_ties[cu, cv]
        denom = np.sqrt(self.country_total[cu] * self.country_total[cv])
        affinity = np.divide(pair_ties, denom, out=np.zeros_like(pair_ties, dtype=float), where=denom > 0)
        into_u = np.asarray(self.ties_into_country[u, cv]).ravel()  # u's partners in v's country
        into_v = np.asarray(self.ties_into_country[v, cu]).ravel()
        share_u = np.divide(into_u, du, out=np.zeros_like(into_u), where=du > 0)
        share_v = np.divide(into_v, dv, out=np.zeros_like(into_v), where=dv > 0)
        hop_u = np.asarray(self.two_hop_into_country[u, cv]).ravel()
        hop_v = np.asarray(self.two_hop_into_country[v, cu]).ravel()
        near_u, near_v = self._km_to_partners(u, v), self._km_to_partners(v, u)
        columns = [
            np.log1p(np.minimum(du, dv)),
            np.log1p(np.maximum(du, dv)),
            np.log1p(du * dv),
            cn,
            aa,
            ra,
            jaccard,
            np.log1p(paths3),
            shortest,
            np.log1p(km),
            same_country,
            same_continent,
            neighbouring & known,
            shared_language & known,
            np.fmin(lpu, lpv),
            np.fmax(lpu, lpv),
            np.abs(lpu - lpv),
            g.capital[u].astype(float) + g.capital[v],
            np.minimum(self.core[u], self.core[v]),
            np.maximum(self.core[u], self.core[v]),
            self.community[u] == self.community[v],
            np.log1p(pair_ties),
            affinity,
            np.log1p(np.minimum(into_u, into_v)),
            np.log1p(np.maximum(into_u, into_v)),
            np.maximum(share_u, share_v),
            np.log1p(np.maximum(hop_u, hop_v)),
            np.log1p(np.fmin(near_u, near_v)),
            np.log1p(np.fmax(near_u, near_v)),
        ]
        return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])


def baseline_scores(fg: FeatureGraph, u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of the four classic baselines for pairs ``(u_i, v_i)``: name -> shape ``(p,)``."""
    funcs: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "preferential_attachment": fg.preferential_attachment,
        "adamic_adar": fg.adamic_adar,
        "common_neighbours": fg.common_neighbours,
        "resource_allocation": fg.resource_allocation,
    }
    return {name: f(np.asarray(u), np.asarray(v)) for name, f in funcs.items()}
