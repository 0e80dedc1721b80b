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
    # Added for the field's protocol (rank every place): local paths weighted as resource allocation
    # (a truncated Katz / personalised-PageRank walk), the country-pair prior as a rate, each country's
    # twinning rate, the gravity score and the overlap of the two ends' partner countries.
    "log_ra_paths3",
    "log_country_pair_rate",
    "log_country_rate_min",
    "log_country_rate_max",
    "log_gravity",
    "partner_country_cosine",
    # The field's per-query view: where each end stands in the other's list by Adamic–Adar, by the
    # country-pair prior and by degree (log of 1 + places ranked above it), the better and the worse side.
    "log_rank_aa_min",
    "log_rank_aa_max",
    "log_rank_country_min",
    "log_rank_country_max",
    "log_rank_degree_min",
    "log_rank_degree_max",
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
    structure
        ``(coreness, communities)`` computed before for the same places, ``edges`` and ``seed`` (a stored
        partner model keeps them: the Leiden run is most of the build's time); default: computed here.
    """

    def __init__(
        self,
        graph: RegistryGraph,
        edges: np.ndarray,
        *,
        seed: int = 0,
        structure: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
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
        self._ra2: sp.csr_matrix | None = None
        self._aa_keys: tuple[np.ndarray, float] | None = None
        self.seed = seed
        if structure is None:
            self.core = self._coreness()
            self.community = self._communities(seed)
        else:
            self.core = np.asarray(structure[0], dtype=float).reshape(n)
            self.community = np.asarray(structure[1], dtype=np.int64).reshape(n)
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
        # The country-pair prior as a rate: ties per pair of places of the two countries (a tie inside one
        # country is counted at both ends of the diagonal, hence the halving), with a small pseudo-count.
        places = np.bincount(self.country_code, minlength=k).astype(float)
        pair_count = np.outer(places, places)
        np.fill_diagonal(pair_count, places * (places - 1) / 2)
        pair_ties = self.country_ties.astype(float).copy()
        np.fill_diagonal(pair_ties, np.diag(pair_ties) / 2)
        self._log_pair_rate = np.log((pair_ties + 0.1) / np.maximum(pair_count, 1.0))
        self._log_country_rate = np.log1p(self.country_total / np.maximum(places, 1.0))  # mean ties a place
        norms = np.sqrt(np.asarray(self.ties_into_country.multiply(self.ties_into_country).sum(axis=1)).ravel())
        self._country_profile = (
            sp.diags(np.divide(1.0, norms, out=np.zeros(n), where=norms > 0)) @ self.ties_into_country
        ).tocsr()
        # Places of countries with more ties to the row's country than the column's (the prior's rank).
        ct = self.country_ties
        self._country_rank = np.einsum("ikl,l->ik", ct[:, None, :] > ct[:, :, None], places) if k else ct
        self._degree_sorted = np.sort(self.degree)
        known_pop = graph.population[np.isfinite(graph.population) & (graph.population > 0)]
        self._median_log_pop = float(np.log(np.median(known_pop))) if len(known_pop) else 0.0
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

    @property
    def ra_paths2(self) -> sp.csr_matrix:
        """``A D⁻¹ A D⁻¹``: two-step walks weighted by the inverse degree of each place passed (first use)."""
        if self._ra2 is None:
            self._ra2 = (self._adj_ra @ self._adj_ra).tocsr()
        return self._ra2

    def _aa_above(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Places ``w != u`` with a higher Adamic–Adar index with ``u`` than ``v`` has, per pair."""
        if self._aa_keys is None:
            m = (self._adj_aa @ self.adjacency).tocsr()
            m.setdiag(0)
            m.eliminate_zeros()
            rows = np.repeat(np.arange(self.n), np.diff(m.indptr))
            scale = float(m.data.max()) * (1 + 1e-9) if m.nnz else 1.0
            self._aa_keys = (np.sort(rows + m.data / scale), scale)
        keys, scale = self._aa_keys
        aa = self.adamic_adar(u, v)
        return np.searchsorted(keys, u + 1.0, side="left") - np.searchsorted(keys, u + aa / scale, side="right")

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
        ra3 = self._row_dot(self.ra_paths2, self.adjacency, u, v)  # sum over paths u-a-b-v of 1/(deg a deg b)
        rate_u, rate_v = self._log_country_rate[cu], self._log_country_rate[cv]
        log_pops = np.nan_to_num(lpu, nan=self._median_log_pop) + np.nan_to_num(lpv, nan=self._median_log_pop)
        gravity = log_pops - 2.0 * np.log1p(km)  # pop x pop / (1 + km)^2, unknown sizes at the median
        cosine = self._row_dot(self._country_profile, self._country_profile, u, v)
        aa_above_u, aa_above_v = np.log1p(self._aa_above(u, v)), np.log1p(self._aa_above(v, u))
        c_above_u, c_above_v = np.log1p(self._country_rank[cu, cv]), np.log1p(self._country_rank[cv, cu])
        d_sorted = self._degree_sorted
        deg_above_u = np.log1p(self.n - np.searchsorted(d_sorted, du, side="right"))
        deg_above_v = np.log1p(self.n - np.searchsorted(d_sorted, dv, side="right"))
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
            np.log1p(ra3),
            self._log_pair_rate[cu, cv],
            np.minimum(rate_u, rate_v),
            np.maximum(rate_u, rate_v),
            gravity,
            cosine,
            np.minimum(aa_above_u, aa_above_v),
            np.maximum(aa_above_u, aa_above_v),
            np.minimum(c_above_u, c_above_v),
            np.maximum(c_above_u, c_above_v),
            np.minimum(deg_above_u, deg_above_v),
            np.maximum(deg_above_u, deg_above_v),
        ]
        return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])


def city_baselines(fg: FeatureGraph, city: int) -> dict[str, np.ndarray]:
    """The field's baselines for ``city`` against every place, name -> shape ``(n,)`` (higher: likelier).

    One sparse matrix-vector product per score instead of ``n`` row products, so ranking every place for a
    city costs milliseconds.  ``preferential_attachment`` (log of the degree product), ``adamic_adar``,
    ``gravity`` (log of population × population / (1 + km)², an unknown population at the registry's median,
    ``-inf`` without coordinates) and ``country_pair`` (log of 1 + the ties between the two countries).
    Equal to the matching columns of :meth:`FeatureGraph.pair_features` (gravity: ``log_gravity``).
    """
    g = fg.graph
    c = int(city)
    aa_row = np.asarray(fg._adj_aa[c].toarray()).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pop = np.nan_to_num(np.log(g.population), nan=fg._median_log_pop)
    km = haversine_km(np.full(fg.n, g.lat[c]), np.full(fg.n, g.lng[c]), g.lat, g.lng)
    gravity = np.where(np.isnan(km), -np.inf, log_pop[c] + log_pop - 2.0 * np.log1p(km))
    return {
        "preferential_attachment": np.log1p(fg.degree[c] * fg.degree),
        "adamic_adar": fg.adjacency @ aa_row,
        "gravity": gravity,
        "country_pair": np.log1p(fg.country_ties[fg.country_code[c], fg.country_code]),
    }


def baseline_scores(fg: FeatureGraph, u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of the four classic baselines for pairs ``(u_i, v_i)``: name -> shape ``(p,)``."""
    funcs: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "preferential_attachment": fg.preferential_attachment,
        "adamic_adar": fg.adamic_adar,
        "common_neighbours": fg.common_neighbours,
        "resource_allocation": fg.resource_allocation,
    }
    return {name: f(np.asarray(u), np.asarray(v)) for name, f in funcs.items()}
