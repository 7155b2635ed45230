"""Generators: determinism per seed, the clustered topology's degree and robustness, Waxman."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pytest

from qnet_envs.topology import Repairs, clustered_topology, waxman_topology


def _snapshot(graph: nx.Graph) -> tuple[list, list, dict]:
    return list(graph.nodes(data=True)), list(graph.edges(data=True)), dict(graph.graph)


# clustered_topology ---------------------------------------------------------------------------


def test_clustered_defaults_have_the_documented_size_and_diameter():
    graph = clustered_topology()
    roles = nx.get_node_attributes(graph, "role")
    assert graph.number_of_nodes() == 65
    assert graph.number_of_edges() == 80
    assert list(graph.nodes) == list(range(65))
    assert sum(role == "user" for role in roles.values()) == 60
    assert sum(role == "hub" for role in roles.values()) == 5
    assert 12 <= nx.diameter(graph) <= 15
    assert all(data["length_km"] == 1.0 for _, _, data in graph.edges(data=True))
    assert isinstance(graph.graph["repairs"], Repairs)
    assert graph.graph["repairs"].is_clean


def test_clustered_node_attributes_follow_the_numbering():
    graph = clustered_topology(n_clusters=6, cluster_size=5, seed=3)
    for node, data in graph.nodes(data=True):
        if node < 6 * 5:
            assert (data["role"], data["cluster"]) == ("user", node // 5)
        else:
            assert (data["role"], data["cluster"]) == ("hub", -1)
        assert len(data["pos"]) == 2
        assert all(math.isfinite(x) for x in data["pos"])
    # Users link to ring neighbours of their own cluster or to hubs, never across clusters.
    for u, v in graph.edges:
        cu, cv = graph.nodes[u]["cluster"], graph.nodes[v]["cluster"]
        assert cu == cv != -1 or (cu == -1) != (cv == -1)


@pytest.mark.parametrize(
    ("n_clusters", "cluster_size"), [(3, 3), (4, 4), (5, 5), (7, 6), (10, 6), (9, 8)]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clustered_degree_and_single_node_failure(n_clusters, cluster_size, seed):
    graph = clustered_topology(n_clusters=n_clusters, cluster_size=cluster_size, seed=seed)
    assert graph.number_of_nodes() == n_clusters * cluster_size + math.ceil(n_clusters / 2)
    assert max(degree for _, degree in graph.degree) <= 4
    assert min(degree for _, degree in graph.degree) >= 2
    assert nx.is_connected(graph)
    for failed in graph.nodes:
        remaining = graph.subgraph(n for n in graph.nodes if n != failed)
        assert nx.is_connected(remaining), f"node {failed} is a cut vertex"


def test_clustered_far_apart_nodes_have_two_node_disjoint_routes():
    graph = clustered_topology()
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    diameter = max(max(row.values()) for row in lengths.values())
    far = [(u, v) for u in graph for v in graph if u < v and lengths[u][v] >= diameter - 1]
    assert len(far) >= 10
    for u, v in far[:: max(1, len(far) // 25)]:
        assert nx.node_connectivity(graph, u, v) >= 2


def test_clustered_user_pairs_span_all_route_lengths_up_to_twelve_hops():
    # Routing scenarios pick Alice and Bob at a chosen distance (the paper's 6, 8, ... 16
    # intermediaries come from damaged links forcing detours); undamaged, every shortest route
    # fits the paper's 15 actions.
    graph = clustered_topology()
    users = [n for n, role in graph.nodes(data="role") if role == "user"]
    hops = {nx.shortest_path_length(graph, u, v) for u, v in itertools.combinations(users, 2)}
    assert set(range(1, 13)) <= hops
    assert max(hops) <= 15


def test_clustered_same_seed_same_graph_and_seed_matters():
    assert _snapshot(clustered_topology(seed=7)) == _snapshot(clustered_topology(seed=7))
    edge_sets = {frozenset(clustered_topology(seed=s).edges) for s in range(5)}
    assert len(edge_sets) > 1


def test_clustered_link_length_is_configurable():
    graph = clustered_topology(n_clusters=4, cluster_size=4, link_length_km=2.5)
    assert {data["length_km"] for _, _, data in graph.edges(data=True)} == {2.5}


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"n_clusters": 2}, "n_clusters"),
        ({"n_clusters": 4.0}, "n_clusters"),
        ({"cluster_size": 2}, "cluster_size"),
        ({"cluster_size": True}, "cluster_size"),
        ({"link_length_km": 0.0}, "link_length_km"),
        ({"link_length_km": math.nan}, "link_length_km"),
    ],
)
def test_clustered_rejects_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        clustered_topology(**kwargs)


# waxman_topology ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def waxman850() -> nx.Graph:
    return waxman_topology(850, seed=0)


def test_waxman850_size_connectivity_and_lengths(waxman850):
    graph = waxman850
    report = graph.graph["repairs"]
    assert graph.number_of_nodes() == 850
    assert list(graph.nodes) == list(range(850))
    assert 2000 <= graph.number_of_edges() <= 2800
    assert nx.is_connected(graph)
    assert sum(report.components) == 850
    assert len(report.edges_added) == len(report.components) - 1
    assert graph.number_of_edges() == report.input_edges + len(report.edges_added)
    for node, (x, y) in graph.nodes(data="pos"):
        assert 0.0 <= x <= 1000.0 and 0.0 <= y <= 1000.0, node
    for u, v, data in graph.edges(data=True):
        assert data["length_km"] == pytest.approx(
            math.dist(graph.nodes[u]["pos"], graph.nodes[v]["pos"])
        )
    added = {(u, v) for u, v, flag in graph.edges(data="connectivity_repair") if flag}
    assert added == {(u, v) for u, v, _ in report.edges_added}


def test_waxman_same_seed_same_graph(waxman850):
    assert _snapshot(waxman_topology(850, seed=0)) == _snapshot(waxman850)
    assert set(waxman_topology(850, seed=1).edges) != set(waxman850.edges)


def test_waxman_without_links_is_repaired_into_the_euclidean_minimum_spanning_tree():
    graph = waxman_topology(40, beta=0.0, seed=5, width_km=10.0, height_km=20.0)
    report = graph.graph["repairs"]
    assert report.input_edges == 0
    assert report.components == (1,) * 40
    assert graph.number_of_edges() == 39 and nx.is_tree(graph)
    complete = nx.Graph()
    for u, v in itertools.combinations(graph.nodes, 2):
        complete.add_edge(u, v, weight=math.dist(graph.nodes[u]["pos"], graph.nodes[v]["pos"]))
    mst_length = nx.minimum_spanning_tree(complete).size(weight="weight")
    assert graph.size(weight="length_km") == pytest.approx(mst_length)


def test_waxman_connected_sample_needs_no_repair():
    graph = waxman_topology(30, alpha=10.0, beta=1.0, seed=0)
    report = graph.graph["repairs"]
    assert report.components == (30,)
    assert report.edges_added == ()
    assert not any(flag for _, _, flag in graph.edges(data="connectivity_repair"))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"n_nodes": 0}, "n_nodes"),
        ({"n_nodes": 5.5}, "n_nodes"),
        ({"alpha": 0.0}, "alpha"),
        ({"beta": 1.5}, "beta"),
        ({"beta": -0.1}, "beta"),
        ({"width_km": -1.0}, "width_km"),
        ({"height_km": math.inf}, "height_km"),
    ],
)
def test_waxman_rejects_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        waxman_topology(**{"n_nodes": 10, **kwargs})
