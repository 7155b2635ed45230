"""The exact oracle against brute force, on hand-built and seeded random scenarios.

Invariants:

* ``best_route`` equals the brute-force optimum (every admissible walk played through
  ``core.transition``) exactly: same route, same ``F`` bit for bit, in both swap modes and for
  both figures of merit, with Werner, amplitude-damped, phase-shifted and random links;
* ties go to fewer actions, then the lexicographically smallest route; Bob ends a walk;
* ``routes_at_least`` returns exactly the admissible walks at or above the threshold;
* the two lemmas behind the filter bound hold for random states and filters.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from agents.baselines import oracle
from qnet_envs.physics import singlet_fidelity, werner
from qnet_envs.routing.scenario import Scenario
from qnet_envs.topology import clustered_topology

MODES = ("postselected", "deterministic")
MERITS = ("singlet_fidelity", "fully_entangled_fraction")


def assert_same_optimum(scenario) -> oracle.OracleResult:
    expected_route, expected_fidelity = oracle.brute_force_best(scenario)
    result = oracle.solve(scenario)
    assert list(result.route) == expected_route
    assert result.fidelity == expected_fidelity
    assert oracle.best_route(scenario) == (expected_route, expected_fidelity)
    return result


@pytest.mark.parametrize(
    ("mode", "merit", "seed"), list(itertools.product(MODES, MERITS, range(12)))
)
def test_matches_brute_force_on_random_links(random_scenario, mode, merit, seed):
    offset = 100 * MODES.index(mode) + 1000 * MERITS.index(merit)
    scenario = random_scenario(
        10_000 + offset + seed, mode, merit, max_actions=(3, 8), extra_links=1.5
    )
    try:
        expected = oracle.brute_force_best(scenario)
    except ValueError:
        with pytest.raises(ValueError, match="unreachable"):
            oracle.best_route(scenario)
        return
    assert oracle.best_route(scenario) == expected


@pytest.mark.parametrize(
    ("mode", "merit", "seed"), list(itertools.product(MODES, MERITS, range(8)))
)
def test_matches_brute_force_on_paper_links(random_scenario, mode, merit, seed):
    """Healthy/damaged Werner links with opposite damping and phases: the bounds prune here."""
    scenario = random_scenario(
        20_000 + 100 * MODES.index(mode) + 1000 * MERITS.index(merit) + seed,
        mode,
        merit,
        kinds=("healthy", "healthy", "damaged", "damped_pair", "phase_pair"),
        nodes=(8, 11),
        max_actions=(5, 8),
        extra_links=3.0,
    )
    assert_same_optimum(scenario)


@pytest.mark.parametrize("mode", MODES)
def test_matches_brute_force_on_the_clustered_network(mode):
    """The paper's 65-node clustered topology, ``max_actions = 20``."""
    graph = clustered_topology(seed=3)
    rng = np.random.default_rng(7)
    edges = []
    for u, v in graph.edges():
        draw = rng.random()
        if draw < 0.7:
            state = {"kind": "werner", "fidelity": 0.99}
        elif draw < 0.85:
            state = {"kind": "werner", "fidelity": 0.6}
        else:
            state = {"kind": "amplitude_damped", "theta": float(rng.choice([0.2, np.pi / 2 - 0.2]))}
        edges.append({"u": u, "v": v, "state": state})
    hops = nx.single_source_shortest_path_length(graph, 0)
    bob = max(hops, key=hops.get)
    scenario = Scenario.from_dict(
        {
            "nodes": graph.number_of_nodes(),
            "edges": edges,
            "alice": 0,
            "bob": bob,
            "max_actions": 20,
            "swap_mode": mode,
        }
    )
    result = assert_same_optimum(scenario)
    assert len(result.route) >= hops[bob]


def test_pruning_expands_fewer_walks_than_there_are_routes(make_scenario, link):
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4))
    rng = np.random.default_rng(0)
    links = [(u, v, link.werner(float(rng.choice([0.99, 0.6])))) for u, v in grid.edges()]
    scenario = make_scenario(16, links, max_actions=10)
    result = assert_same_optimum(scenario)
    assert result.expanded < len(oracle.enumerate_routes(scenario)) / 4


def test_cancelling_damping_is_found(cancelling_damping_scenario):
    route, fidelity = oracle.best_route(cancelling_damping_scenario)
    assert route == [0, 1]
    assert fidelity == pytest.approx(1.0, abs=1e-12)


def test_ties_prefer_fewer_actions_then_the_smallest_route(make_scenario, link):
    perfect = link.werner(1.0)
    # Two 2-link routes (0 -e0- 2 -e1- 3 and 0 -e2- 1 -e3- 3) and a 3-link one, all F = 1.
    links = [(0, 2, perfect), (2, 3, perfect), (0, 1, perfect), (1, 3, perfect)]
    links += [(0, 4, perfect), (4, 5, perfect), (5, 3, perfect)]
    scenario = make_scenario(6, links, bob=3, max_actions=6)
    route, fidelity = oracle.best_route(scenario)
    assert route == [0, 1]
    assert fidelity == pytest.approx(1.0, abs=1e-12)
    assert oracle.brute_force_best(scenario) == (route, fidelity)


def test_select_best_applies_the_tie_rule():
    outcome = oracle.RouteOutcome
    pool = [
        outcome((3, 1, 2), 0.9, 1.0),
        outcome((5, 4), 0.9 - oracle.TIE_TOLERANCE / 2, 1.0),
        outcome((4, 9), 0.9, 1.0),
        outcome((0,), 0.8, 1.0),
    ]
    assert oracle.select_best(pool).route == (4, 9)
    with pytest.raises(ValueError, match="at least one"):
        oracle.select_best([])


def test_bob_ends_the_walk(make_scenario, link):
    """Through Bob and back would cancel the damping; the game stops at Bob instead."""
    theta = 0.3
    links = [(0, 1, link.damped(theta)), (1, 2, link.damped(math.pi / 2 - theta))]
    links += [(2, 1, link.werner(1.0))]
    scenario = make_scenario(3, links, bob=1, max_actions=5)
    route, fidelity = oracle.best_route(scenario)
    assert route == [0]
    assert fidelity == pytest.approx((1 + math.sin(2 * theta)) / 2, abs=1e-12)


def test_white_noise_chain_has_the_closed_form(make_scenario, link):
    fidelities = [0.99, 0.95, 0.9, 0.97]
    links = [(i, i + 1, link.werner(f)) for i, f in enumerate(fidelities)]
    scenario = make_scenario(5, links, swap_mode="deterministic")
    p = np.prod([(4 * f - 1) / 3 for f in fidelities])
    route, fidelity = oracle.best_route(scenario)
    assert route == [0, 1, 2, 3]
    assert fidelity == pytest.approx((1 + 3 * p) / 4, abs=1e-14)


def test_walks_may_repeat_nodes(make_scenario, link):
    """Around a loop to pick up the opposite damping: node 1 is visited twice."""
    theta = 0.25
    links = [
        (0, 1, link.damped(theta)),
        (1, 2, link.werner(1.0)),
        (2, 1, link.damped(math.pi / 2 - theta)),
        (1, 3, link.werner(1.0)),
    ]
    scenario = make_scenario(4, links, max_actions=5)
    route, fidelity = oracle.best_route(scenario)
    assert route == [0, 1, 2, 3]
    assert fidelity == pytest.approx(1.0, abs=1e-12)


def test_unreachable_bob_raises(make_scenario, link):
    with pytest.raises(ValueError, match=r"^bob: node 3 cannot be reached from alice \(0\)"):
        make_scenario(4, [(0, 1, link.werner(0.9)), (2, 3, link.werner(0.9))])
    too_far = make_scenario(3, [(0, 1, link.werner(0.9)), (1, 2, link.werner(0.9))], max_actions=1)
    with pytest.raises(ValueError, match="max_actions=1"):
        oracle.best_route(too_far)
    with pytest.raises(ValueError, match="unreachable"):
        oracle.brute_force_best(too_far)


def test_beam_width_changes_nothing_but_speed(random_scenario):
    scenario = random_scenario(31, kinds=("healthy", "damaged", "damped_pair"), nodes=(9, 9))
    results = {oracle.solve(scenario, beam_width=w).route for w in (1, 3, 1000)}
    assert len(results) == 1
    with pytest.raises(ValueError, match="beam_width"):
        oracle.solve(scenario, beam_width=0)


@pytest.mark.parametrize(("mode", "seed"), list(itertools.product(MODES, range(4))))
def test_routes_at_least_is_the_brute_force_set(random_scenario, mode, seed):
    scenario = random_scenario(
        30_000 + 100 * MODES.index(mode) + seed, mode, kinds=("healthy", "damaged", "damped_pair")
    )
    every = oracle.enumerate_routes(scenario)
    if not every:
        return
    threshold = float(np.median([o.fidelity for o in every]))
    expected = {o.route: o.fidelity for o in every if o.fidelity >= threshold}
    found = oracle.routes_at_least(scenario, threshold)
    assert {o.route: o.fidelity for o in found} == expected
    assert [len(o.route) for o in found] == sorted(len(o.route) for o in found)


def test_enumerate_routes_refuses_to_truncate(random_scenario):
    scenario = random_scenario(41, nodes=(8, 8), max_actions=(6, 6), extra_links=2.0)
    count = len(oracle.enumerate_routes(scenario))
    assert count > 2
    with pytest.raises(ValueError, match="max_routes=2"):
        oracle.enumerate_routes(scenario, max_routes=2)


# ------------------------------------------------------------- the filter-bound lemmas
def _random_density_matrix(rng: np.random.Generator) -> np.ndarray:
    rank = int(rng.integers(1, 5))
    g = rng.normal(size=(4, rank)) + 1j * rng.normal(size=(4, rank))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def _pauli(rho: np.ndarray) -> np.ndarray:
    return (oracle._TO_PAULI @ rho.ravel()).real.reshape(4, 4)


def _filtered(rho: np.ndarray, k: np.ndarray) -> np.ndarray:
    kk = np.kron(np.eye(2), k)
    out = kk @ rho @ kk.conj().T
    return out / np.trace(out)


def _depolarised(rho: np.ndarray, p: float) -> np.ndarray:
    alice = np.einsum("abcb->ac", rho.reshape(2, 2, 2, 2))
    return p * rho + (1 - p) * np.kron(alice, np.eye(2) / 2)


def test_filter_bound_dominates_every_filter_and_werner_contracts_it():
    rng = np.random.default_rng(5)
    for _ in range(300):
        rho = _random_density_matrix(rng)
        phi = float(oracle._filter_bound(_pauli(rho)[None])[0])
        k = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
        assert singlet_fidelity(_filtered(rho, k)) <= phi + 1e-9
        p = float(rng.uniform(0.0, 1.0))
        contracted = float(oracle._filter_bound(_pauli(_depolarised(rho, p))[None])[0])
        if phi >= 0.5:
            assert contracted - 0.5 <= (phi - 0.5) * p / (p + phi * (1 - p)) + 1e-9
        else:
            assert contracted <= 0.5 + 1e-9


def test_filter_bound_is_attained_by_undoing_damping():
    theta = 0.3
    rho = werner(0.9)
    damp = np.diag([math.cos(theta), math.sin(theta)]).astype(complex)
    damped = _filtered(rho, damp)
    phi = float(oracle._filter_bound(_pauli(damped)[None])[0])
    assert phi == pytest.approx(0.9, abs=1e-12)
    assert singlet_fidelity(_filtered(damped, np.linalg.inv(damp))) == pytest.approx(0.9, abs=1e-12)
