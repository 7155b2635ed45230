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


def test_every_stage_is_a_perfect_maze_of_healthy_links():
    maze = _maze()
    assert maze.num_stages == len(generators.MAZE_SCHEDULE) == 10
    for stage in maze.stages:
        fidelities = np.array([singlet_fidelity(rho) for rho in stage.states])
        healthy = np.isclose(fidelities, generators.HEALTHY_FIDELITY)
        assert np.all(healthy | np.isclose(fidelities, generators.DAMAGED_FIDELITY))
        graph = nx.Graph(tuple(int(x) for x in stage.edges[e]) for e in np.flatnonzero(healthy))
        assert graph.number_of_nodes() == stage.num_nodes and nx.is_tree(graph)


def test_each_stage_has_one_long_working_route_and_breaks_the_previous():
    previous = None
    for i, stage in enumerate(_maze().stages):
        route, fidelity = best_route(stage)
        assert len(route) == generators.MAZE_SCHEDULE[i]
        assert fidelity > generators.WORKING_FIDELITY
        working = [o.route for o in routes_at_least(stage, 0.8) if o.fidelity > 0.8]
        assert working == [tuple(route)]
        assert len(route) - 1 >= 12
        if previous is not None:
            before, _ = core.route_fidelity(core.Network.compile(stage), previous)
            assert before < generators.WORKING_FIDELITY
        previous = route


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"schedule": ()}, "schedule must list at least one stage"),
        ({"schedule": (13, 24)}, r"schedule\[1\] must be an integer in \[1, 23\]"),
        ({"schedule": (13, 17), "max_actions": 15}, "max_actions must be >= the longest"),
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
