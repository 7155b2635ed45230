"""The harder evolving network (``evolving-maze``) and its generator.

Checked independently of the generator's own reasoning: the spanning-tree sampler against the
uniform distribution (closed-form tree counts), each shipped stage's healthy links against a
networkx spanning-tree test, and each stage's working routes against the exact oracle.
"""

from __future__ import annotations

import collections
import functools

import networkx as nx
import numpy as np
import pytest

from agents.baselines.oracle import best_route, routes_at_least
from qnet_envs.physics import singlet_fidelity
from qnet_envs.routing import core, generators
from qnet_envs.routing.evolving import EvolvingScenario
from qnet_envs.routing.generators.maze import (
    MazeGenerator,
    grid_layout,
    random_spanning_tree,
    tree_path,
)


@functools.cache
def _maze() -> EvolvingScenario:
    return EvolvingScenario.load("evolving-maze")


def test_grid_layout_is_a_grid():
    layout = grid_layout(3, 4, alice=(0, 0), bob=(2, 3))
    assert len(layout.positions) == 12 and len(layout.edges) == 3 * 3 + 2 * 4
    assert max(d for _, d in layout.graph.degree()) == 4
    assert (layout.alice, layout.bob) == (0, 11)
    assert nx.shortest_path_length(layout.graph, layout.alice, layout.bob) == 5
    default = grid_layout()
    assert nx.shortest_path_length(default.graph, default.alice, default.bob) == 9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rows": 1}, "rows must be an integer >= 2"),
        ({"cols": 2.5}, "cols must be an integer >= 2"),
        ({"alice": (8, 0)}, "alice must be a"),
        ({"bob": (0, -1)}, "bob must be a"),
        ({"alice": (1, 1), "bob": (1, 1)}, "alice and bob must differ"),
    ],
)
def test_grid_layout_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        grid_layout(**kwargs)


def test_spanning_trees_are_uniform():
    """A 2 x 3 grid has 15 spanning trees (a 4-cycle and a 4-cycle sharing a link:
    4 * 4 - 1); Wilson's algorithm must draw each with probability 1/15."""
    layout = grid_layout(2, 3, alice=(0, 0), bob=(1, 2))
    rng = np.random.default_rng(5)
    draws = 15_000
    counts = collections.Counter(random_spanning_tree(layout, rng) for _ in range(draws))
    assert len(counts) == 15
    for tree in counts:
        assert nx.is_tree(nx.Graph(layout.edges[e] for e in tree))
        assert len({n for e in tree for n in layout.edges[e]}) == 6
    expected, sd = draws / 15, (draws * (1 / 15) * (14 / 15)) ** 0.5
    assert all(abs(c - expected) < 5 * sd for c in counts.values())


def test_tree_path_walks_the_tree_from_alice():
    layout = grid_layout(3, 3, alice=(0, 0), bob=(2, 2))
    tree = random_spanning_tree(layout, np.random.default_rng(0))
    path = tree_path(layout, tree)
    assert set(path) <= tree
    nodes = layout.route_nodes(path)
    assert nodes[0] == layout.alice and nodes[-1] == layout.bob
    assert len(set(nodes)) == len(nodes)


def test_shipped_maze_is_what_the_generator_makes_and_is_seeded():
    assert generators.shipped_specs()["evolving-maze"] == MazeGenerator().design().spec
    other = MazeGenerator(seed=1).design()
    assert [len(s.route) for s in other.stages] == list(generators.MAZE_SCHEDULE)
    assert other.spec != MazeGenerator().design().spec


def _healthy_links(stage) -> list[int]:
    fidelities = np.array([singlet_fidelity(rho) for rho in stage.states])
    healthy = np.isclose(fidelities, generators.HEALTHY_FIDELITY)
    assert np.all(healthy | np.isclose(fidelities, generators.DAMAGED_FIDELITY))
    return [int(e) for e in np.flatnonzero(healthy)]


def _healthy_trails(stage) -> set[tuple[int, ...]]:
    """Every trail of healthy links from Alice to Bob within the action budget, by a plain
    depth-first search (independent of the oracle)."""
    healthy = set(_healthy_links(stage))
    links_at: dict[int, list[tuple[int, int]]] = collections.defaultdict(list)
    for e in healthy:
        u, v = (int(x) for x in stage.edges[e])
        links_at[u].append((e, v))
        links_at[v].append((e, u))
    found: set[tuple[int, ...]] = set()

    def walk(node: int, trail: tuple[int, ...]) -> None:
        if node == stage.bob:
            found.add(trail)
            return
        if len(trail) == stage.max_actions:
            return
        for e, there in links_at[node]:
            if e not in trail:
                walk(there, (*trail, e))

    walk(stage.alice, ())
    return found


def test_every_stage_is_a_maze_of_healthy_links():
    maze = _maze()
    assert maze.num_stages == len(generators.MAZE_SCHEDULE) == 10
    for i, stage in enumerate(maze.stages):
        healthy = _healthy_links(stage)
        graph = nx.Graph(tuple(int(x) for x in stage.edges[e]) for e in healthy)
        assert graph.number_of_nodes() == stage.num_nodes and nx.is_connected(graph)
        assert len(healthy) <= stage.num_nodes - 1 + generators.MAZE_HEALED
        assert (
            nx.shortest_path_length(graph, stage.alice, stage.bob) == (generators.MAZE_SCHEDULE[i])
        )


def test_working_routes_are_the_healthy_trails_and_break_from_stage_to_stage():
    previous: set[tuple[int, ...]] = set()
    for i, stage in enumerate(_maze().stages):
        route, fidelity = best_route(stage)
        assert len(route) == generators.MAZE_SCHEDULE[i] >= 13
        assert fidelity > generators.WORKING_FIDELITY
        working = {o.route for o in routes_at_least(stage, 0.8) if o.fidelity > 0.8}
        assert working == _healthy_trails(stage)
        assert min(len(r) for r in working) == len(route)
        network = core.Network.compile(stage)
        for old in previous:
            assert core.route_fidelity(network, old)[0] < generators.WORKING_FIDELITY
        previous = working


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"schedule": ()}, "schedule must list at least one stage"),
        ({"schedule": (13, 24)}, r"schedule\[1\] must be an integer in \[1, 23\]"),
        ({"schedule": (13, 17), "max_actions": 15}, "max_actions must be >= the longest"),
        ({"max_actions": 24}, "max_actions must be <= 23"),
        ({"healed": -1}, "healed must be an integer >= 0"),
    ],
)
def test_maze_generator_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MazeGenerator(**kwargs)


def test_an_impossible_path_length_is_a_design_error():
    # On a 3 x 3 grid, corner to corner, tree paths have 4, 6 or 8 links: never 5.
    layout = grid_layout(3, 3, alice=(0, 0), bob=(2, 2))
    with pytest.raises(generators.DesignError, match="path of 5 links"):
        MazeGenerator(layout=layout, schedule=(5,), max_actions=8).design()


def test_healing_keeps_the_shortest_working_route_and_a_perfect_maze_heals_nothing():
    layout = grid_layout(4, 4, alice=(0, 0), bob=(3, 3))
    perfect = MazeGenerator(layout=layout, schedule=(8, 10), max_actions=12, healed=0).design()
    healed = MazeGenerator(layout=layout, schedule=(8, 10), max_actions=12, healed=4).design()
    for p, h in zip(perfect.stages, healed.stages, strict=True):
        assert len(layout.edges) - len(p.damaged) == len(layout.positions) - 1
        assert p.damaged >= h.damaged and len(p.damaged) - len(h.damaged) <= 4
        graph = nx.Graph(layout.edges[e] for e in set(range(len(layout.edges))) - h.damaged)
        assert nx.shortest_path_length(graph, layout.alice, layout.bob) == len(h.route)
