"""The fast Yen (qnet_envs.planning.yen) returns the reference's paths, node for node."""

import networkx as nx
import numpy as np
import pytest

from qnet_envs.planning import Instance
from qnet_envs.planning.yen import YenPaths
from qnet_envs.topology import k_shortest_paths


def _random_graph(seed: int) -> nx.Graph:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    graph = nx.gnm_random_graph(n, int(rng.integers(n - 1, 3 * n)), seed=seed)  # may split
    for a, b in graph.edges:
        if seed % 2:  # few distinct lengths, zero included: ties everywhere
            graph[a][b]["length_km"] = float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0]))
        else:
            graph[a][b]["length_km"] = float(rng.random() * 10)
    return graph


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_match_the_reference(seed):
    graph = _random_graph(seed)
    rng = np.random.default_rng(seed + 1000)
    pairs = [tuple(int(x) for x in rng.integers(0, graph.number_of_nodes(), 2)) for _ in range(15)]
    fast = YenPaths(graph)
    for k in (1, 3, 6):
        for (s, t), got in zip(pairs, fast.many(pairs, k), strict=True):
            reference = k_shortest_paths(graph, s, t, k)
            assert got == reference


def test_disconnected_and_trivial_pairs():
    graph = nx.Graph()
    graph.add_edge(0, 1, length_km=1.0)
    graph.add_edge(2, 3, length_km=1.0)
    fast = YenPaths(graph)
    assert fast.many([(0, 2), (1, 1), (0, 1)], 3) == [[], [[1]], [[0, 1]]]


def test_equal_length_ties_follow_node_order():
    graph = nx.cycle_graph(6)
    nx.set_edge_attributes(graph, 1.0, "length_km")
    graph.add_edge(0, 3, length_km=3.0)
    got = YenPaths(graph).k_shortest_paths(0, 3, 3)
    assert got == k_shortest_paths(graph, 0, 3, 3) == [[0, 1, 2, 3], [0, 3], [0, 5, 4, 3]]


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="graph"):
        YenPaths(nx.DiGraph())
    graph = nx.path_graph(3)
    with pytest.raises(ValueError, match="weight"):
        YenPaths(graph)
    nx.set_edge_attributes(graph, -1.0, "length_km")
    with pytest.raises(ValueError, match="weight"):
        YenPaths(graph)
    nx.set_edge_attributes(graph, 1.0, "length_km")
    with pytest.raises(ValueError, match="k must be"):
        YenPaths(graph).many([(0, 2)], 0)
    with pytest.raises(ValueError, match="target"):
        YenPaths(graph).many([(0, 9)], 2)


def _compare_instance(name: str, limit: int | None) -> int:
    """Compare the fast paths with the reference on ``name``'s demands; returns how many."""
    instance = Instance.load(name)
    pairs = [tuple(p) for p in instance.demand_pairs.tolist()][:limit]
    got = YenPaths(instance.graph).many(pairs, instance.k_paths)
    for (s, t), paths in zip(pairs, got, strict=True):
        assert paths == k_shortest_paths(instance.graph, s, t, instance.k_paths)
    if limit is None:  # the instance's own candidate paths are the fast ones, in order
        assert instance.paths.nodes == tuple(tuple(p) for ps in got for p in ps)
    return len(pairs)


def test_abilene_matches_the_reference():
    assert _compare_instance("abilene", None) == 55


def test_cogentco_matches_the_reference_on_200_demands():
    assert _compare_instance("cogentco", 200) == 200


@pytest.mark.slow
def test_cogentco_and_kdl_match_the_reference():
    assert _compare_instance("cogentco", None) > 0
    assert _compare_instance("kdl", None) > 0
