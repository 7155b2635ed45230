"""Dijkstra on ``-log F_link``: where the additive model fails, where it is exact, and the
algorithm itself (cost against networkx, simple paths, deterministic ties).

Invariants:

* with opposite amplitude damping or opposite phases (postselected swaps) the oracle beats
  Dijkstra, and both fidelities have their closed forms;
* on white noise (healthy 0.99 / damaged 0.6 Werner links, the paper's Sec. 4.1) Dijkstra's
  route is optimal: its ``F`` equals the oracle's;
* the path cost equals networkx's shortest-path length on the same weights; paths are simple.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from agents.baselines import dijkstra, oracle
from qnet_envs.routing import core


def _werner_pair(f1: float, f2: float) -> float:
    return f1 * f2 + (1 - f1) * (1 - f2) / 3


def test_dijkstra_misses_cancelling_amplitude_damping(cancelling_damping_scenario):
    route, fidelity = dijkstra.dijkstra_route(cancelling_damping_scenario)
    assert route == [2, 3]
    assert fidelity == pytest.approx(_werner_pair(0.9, 0.9), abs=1e-14)
    best_route, best = oracle.best_route(cancelling_damping_scenario)
    assert best_route == [0, 1]
    assert best == pytest.approx(1.0, abs=1e-12)
    assert best > fidelity + 0.1


@pytest.mark.parametrize("phi", [1.0, math.pi / 2, 2.5])
def test_dijkstra_misses_cancelling_phases(make_scenario, link, phi):
    # Route (0, 1) crosses phi then -phi: F = 1. Each phase link alone has F = cos^2(phi / 2),
    # and cos^4(phi / 2) < 0.85^2 for every phi here, so Dijkstra prefers the Werner route.
    links = [(0, 1, link.phase(phi)), (1, 3, link.phase(-phi))]
    links += [(0, 2, link.werner(0.85)), (2, 3, link.werner(0.85))]
    scenario = make_scenario(4, links)
    result = dijkstra.solve(scenario)
    assert result.route == (2, 3)
    assert result.fidelity == pytest.approx(_werner_pair(0.85, 0.85), abs=1e-14)
    assert result.predicted_fidelity == pytest.approx(0.85**2, abs=1e-14)
    route, fidelity = oracle.best_route(scenario)
    assert route == [0, 1]
    assert fidelity == pytest.approx(1.0, abs=1e-12)


def test_dijkstra_takes_the_longer_clean_detour_around_a_damaged_link(make_scenario, link):
    healthy, damaged = link.werner(0.99), link.werner(0.6)
    # Direct 0 -e0- 3 is damaged; the 3-link detour 0-1-2-3 is healthy.
    links = [(0, 3, damaged), (0, 1, healthy), (1, 2, healthy), (2, 3, healthy)]
    scenario = make_scenario(4, links)
    route, fidelity = dijkstra.dijkstra_route(scenario)
    assert route == [1, 2, 3]
    p = (4 * 0.99 - 1) / 3
    assert fidelity == pytest.approx((1 + 3 * p**3) / 4, abs=1e-14)
    assert (route, fidelity) == oracle.best_route(scenario)


MODES = ("postselected", "deterministic")
MERITS = ("singlet_fidelity", "fully_entangled_fraction")


@pytest.mark.parametrize(
    ("mode", "merit", "seed"), list(itertools.product(MODES, MERITS, range(5)))
)
def test_dijkstra_is_optimal_on_white_noise(random_scenario, mode, merit, seed):
    scenario = random_scenario(
        40_000 + 100 * MODES.index(mode) + 1000 * MERITS.index(merit) + seed,
        mode,
        merit,
        kinds=("healthy", "healthy", "damaged"),
        nodes=(7, 10),
        max_actions=(12, 12),
        extra_links=2.0,
    )
    result = dijkstra.solve(scenario)
    assert result.within_budget
    _, best = oracle.best_route(scenario)
    assert result.fidelity == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_path_cost_matches_networkx(random_scenario, seed):
    scenario = random_scenario(50_000 + seed, kinds=("werner", "damped", "phase", "random"))
    weights = dijkstra.link_weights(scenario)
    graph = nx.MultiGraph()
    graph.add_nodes_from(range(scenario.num_nodes))
    for e, (u, v) in enumerate(scenario.edges.tolist()):
        graph.add_edge(u, v, key=e, weight=float(weights[e]))
    result = dijkstra.solve(scenario)
    expected = nx.dijkstra_path_length(graph, scenario.alice, scenario.bob, weight="weight")
    assert -math.log(result.predicted_fidelity) == pytest.approx(expected, abs=1e-12)
    assert sum(weights[list(result.route)]) == pytest.approx(expected, abs=1e-12)
    nodes = [scenario.alice]
    for edge in result.route:
        u, v = scenario.edges[edge]
        nodes.append(int(v) if nodes[-1] == u else int(u))
    assert nodes[-1] == scenario.bob
    assert len(set(nodes)) == len(nodes), "Dijkstra's path must be simple"
    network = core.Network.compile(scenario)
    assert (result.fidelity, result.probability) == core.route_fidelity(network, result.route)


def test_ties_go_to_fewer_links_then_the_smallest_route(make_scenario, link):
    perfect = link.werner(1.0)
    # Equal cost 0: routes (0, 1) and (2, 3) of two links, (4, 5, 6) of three.
    links = [(0, 2, perfect), (2, 3, perfect), (0, 1, perfect), (1, 3, perfect)]
    links += [(0, 4, perfect), (4, 5, perfect), (5, 3, perfect)]
    scenario = make_scenario(6, links, bob=3)
    assert dijkstra.solve(scenario).route == (0, 1)


def test_links_and_weights_follow_the_figure_of_merit(make_scenario, link):
    theta = 0.3
    for merit, expected in (
        ("singlet_fidelity", (1 + math.sin(2 * theta)) / 2),
        ("fully_entangled_fraction", (1 + math.sin(2 * theta)) / 2),
    ):
        scenario = make_scenario(2, [(0, 1, link.damped(theta))], figure_of_merit=merit)
        np.testing.assert_allclose(dijkstra.link_fidelities(scenario), [expected], atol=1e-14)
    phase = make_scenario(2, [(0, 1, link.phase(1.0))], figure_of_merit="fully_entangled_fraction")
    np.testing.assert_allclose(dijkstra.link_fidelities(phase), [1.0], atol=1e-12)


def test_budget_flag_and_unreachable(make_scenario, link):
    chain = [(i, i + 1, link.werner(0.99)) for i in range(4)]
    short = dijkstra.solve(make_scenario(5, chain, max_actions=3))
    assert short.route == (0, 1, 2, 3)
    assert not short.within_budget
    with pytest.raises(ValueError, match=r"^bob: node 3 cannot be reached from alice \(0\)"):
        make_scenario(4, [(0, 1, link.werner(0.9)), (2, 3, link.werner(0.9))])
    product = np.diag([1.0, 0.0, 0.0, 0.0])  # |00><00|: singlet fidelity exactly 0
    orthogonal = {"kind": "density_matrix", "real": product.tolist(), "imag": [[0.0] * 4] * 4}
    dead = make_scenario(2, [(0, 1, orthogonal)])
    with pytest.raises(ValueError, match="F_link > 0"):
        dijkstra.dijkstra_route(dead)
