"""k shortest simple paths against brute-force enumeration of all simple paths."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnet_envs.topology import clustered_topology, k_shortest_paths


def _cost(graph: nx.Graph, path: list, weight: str | None) -> float:
    total = 0.0
    for u, v in itertools.pairwise(path):
        total += 1.0 if weight is None else graph[u][v][weight]
    return total


def _brute_force(graph: nx.Graph, source, target, weight: str | None) -> list[list]:
    """All simple paths, sorted by the documented rule: cost, then node ranks."""
    rank = {node: i for i, node in enumerate(graph.nodes)}
    paths = [list(p) for p in nx.all_simple_paths(graph, source, target)]
    return sorted(paths, key=lambda p: (_cost(graph, p, weight), [rank[n] for n in p]))


def _assert_valid(graph: nx.Graph, paths: list[list], source, target) -> None:
    assert len({tuple(p) for p in paths}) == len(paths)
    for path in paths:
        assert path[0] == source and path[-1] == target
        assert len(set(path)) == len(path)
        assert all(graph.has_edge(u, v) for u, v in itertools.pairwise(path))


@st.composite
def weighted_graphs(draw, directed: bool = False):
    n = draw(st.integers(min_value=2, max_value=7))
    graph = nx.DiGraph() if directed else nx.Graph()
    graph.add_nodes_from(draw(st.permutations(range(n))))
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v and (directed or u < v)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    for u, v in chosen:
        graph.add_edge(u, v, w=draw(st.integers(min_value=0, max_value=4)))
    source, target = draw(st.sampled_from(list(graph.nodes))), draw(st.sampled_from(range(n)))
    return graph, source, target, draw(st.integers(min_value=1, max_value=12))


@settings(max_examples=150, deadline=None)
@given(weighted_graphs())
def test_matches_brute_force_exactly_on_integer_weights(case):
    # Integer weights make ties exact, so the tie rule is checked too.
    graph, source, target, k = case
    paths = k_shortest_paths(graph, source, target, k, weight="w")
    expected = [[source]] if source == target else _brute_force(graph, source, target, "w")[:k]
    assert paths == expected


@settings(max_examples=80, deadline=None)
@given(weighted_graphs(directed=True))
def test_matches_brute_force_on_directed_graphs(case):
    graph, source, target, k = case
    paths = k_shortest_paths(graph, source, target, k, weight="w")
    expected = [[source]] if source == target else _brute_force(graph, source, target, "w")[:k]
    assert paths == expected


@pytest.mark.parametrize("seed", range(12))
def test_cost_sequence_matches_brute_force_with_real_weights(seed):
    rng = random.Random(seed)
    graph = nx.gnp_random_graph(9, 0.45, seed=seed)
    for u, v in graph.edges:
        graph[u][v]["length_km"] = rng.uniform(0.5, 100.0)
    source, target = 0, 8
    k = rng.randint(1, 30)
    paths = k_shortest_paths(graph, source, target, k)
    _assert_valid(graph, paths, source, target)
    expected = _brute_force(graph, source, target, "length_km")[:k]
    assert [_cost(graph, p, "length_km") for p in paths] == pytest.approx(
        [_cost(graph, p, "length_km") for p in expected]
    )
    costs = [_cost(graph, p, "length_km") for p in paths]
    assert costs == sorted(costs)


def test_hop_count_and_callable_weights():
    graph = nx.cycle_graph(6)
    nx.set_edge_attributes(graph, 1.0, "length_km")
    graph[0][1]["length_km"] = 10.0
    assert k_shortest_paths(graph, 0, 3, 2, weight=None) == [[0, 1, 2, 3], [0, 5, 4, 3]]
    assert k_shortest_paths(graph, 0, 3, 2) == [[0, 5, 4, 3], [0, 1, 2, 3]]

    def hide_edge_45(u, v, data):
        return None if {u, v} == {4, 5} else data["length_km"]

    assert k_shortest_paths(graph, 0, 3, 5, weight=hide_edge_45) == [[0, 1, 2, 3]]


def test_multigraph_uses_the_cheapest_parallel_edge():
    graph = nx.MultiGraph()
    graph.add_edge("a", "b", length_km=5.0)
    graph.add_edge("a", "b", length_km=1.0)
    graph.add_edge("b", "c", length_km=1.0)
    graph.add_edge("a", "c", length_km=3.0)
    assert k_shortest_paths(graph, "a", "c", 3) == [["a", "b", "c"], ["a", "c"]]


def test_trivial_and_unreachable_cases():
    graph = nx.Graph()
    graph.add_edge(0, 1, length_km=1.0)
    graph.add_node(2)
    assert k_shortest_paths(graph, 0, 0, 3) == [[0]]
    assert k_shortest_paths(graph, 0, 2, 3) == []
    assert k_shortest_paths(graph, 0, 1, 3) == [[0, 1]]


def test_zero_weight_cycles_do_not_break_simplicity():
    graph = nx.complete_graph(5)
    nx.set_edge_attributes(graph, 0.0, "length_km")
    paths = k_shortest_paths(graph, 0, 4, 100)
    _assert_valid(graph, paths, 0, 4)
    assert len(paths) == len(list(nx.all_simple_paths(graph, 0, 4)))


def test_deterministic_and_independent_of_copies():
    graph = clustered_topology(seed=1)
    first = k_shortest_paths(graph, 0, 40, 8)
    assert first == k_shortest_paths(graph, 0, 40, 8)
    assert first == k_shortest_paths(graph.copy(), 0, 40, 8)
    assert len(first) == 8
    assert [len(p) for p in first] == sorted(len(p) for p in first)  # uniform lengths


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be"),
        ({"k": 2.0}, "k must be"),
        ({"k": True}, "k must be"),
        ({"source": 99}, "source 99"),
        ({"target": "x"}, "target 'x'"),
        ({"weight": "missing"}, "no attribute 'missing'"),
        ({"weight": 3}, "weight must be"),
        ({"weight": lambda u, v, d: -1.0}, "must be finite and >= 0"),
        ({"weight": lambda u, v, d: float("nan")}, "must be finite and >= 0"),
        ({"weight": lambda u, v, d: "far"}, "non-numeric"),
    ],
)
def test_rejects_bad_arguments(kwargs, message):
    graph = nx.path_graph(4)
    nx.set_edge_attributes(graph, 1.0, "length_km")
    arguments = {"graph": graph, "source": 0, "target": 3, "k": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        k_shortest_paths(**arguments)
