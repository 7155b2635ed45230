"""The uniformly random player: exact expectation (Wald) against closed forms, against a
full enumeration of action sequences, and against simulation.

Invariants:

* ``E[actions until success] = E[L] / q``, with the closed forms 4 (one link) and 20 (two links
  in a row);
* ``mean_game_length`` and ``q`` equal the sums over every action sequence of the game tree;
* the mean of simulated runs lies within 4 standard errors of the exact expectation;
* success is judged by fidelity, so tied optimal routes all count.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from agents.baselines import monte_carlo, oracle
from qnet_envs.routing import core
from qnet_envs.routing.scenario import MAX_DEGREE


def _game_tree_sums(scenario, target: float) -> tuple[Fraction, Fraction]:
    """``(E[L], q)`` summed over every action sequence of the uniformly random player."""
    network = core.Network.compile(scenario)
    length, success = Fraction(0), Fraction(0)
    stack = [(core.initial(network), Fraction(1))]
    while stack:
        state, probability = stack.pop()
        for action in range(MAX_DEGREE):
            after, outcome = core.transition(network, state, action)
            p = probability / MAX_DEGREE
            if outcome.terminated or outcome.truncated:
                length += p * after.actions
                reached = after.fidelity >= target - monte_carlo.SUCCESS_TOLERANCE
                if outcome.event == "arrived" and reached:
                    success += p
            else:
                stack.append((after, p))
    return length, success


def test_one_link_closed_form(make_scenario, link):
    scenario = make_scenario(2, [(0, 1, link.werner(0.9))])
    stats = monte_carlo.random_policy_stats(scenario)
    assert stats.mean_game_length == 1
    assert stats.success_probability == Fraction(1, 4)
    assert stats.expected_actions == 4.0


def test_two_links_in_a_row_closed_form(make_scenario, link):
    # From Alice: slot 0 moves on (1/4), the rest end the game; from the middle node slot 1
    # reaches Bob, slot 0 is the used link. E[L] = 3/4 * 1 + 1/4 * 2 = 5/4, q = 1/16.
    scenario = make_scenario(3, [(0, 1, link.werner(0.9)), (1, 2, link.werner(0.9))])
    stats = monte_carlo.random_policy_stats(scenario)
    assert stats.mean_game_length == Fraction(5, 4)
    assert stats.success_probability == Fraction(1, 16)
    assert monte_carlo.expected_actions_until_route(scenario) == 20.0


def test_tied_optimal_routes_both_count(make_scenario, link):
    square = [(0, 1, link.werner(0.9)), (1, 3, link.werner(0.9))]
    square += [(0, 2, link.werner(0.9)), (2, 3, link.werner(0.9))]
    stats = monte_carlo.random_policy_stats(make_scenario(4, square))
    assert stats.successful_routes == ((0, 1), (2, 3))
    assert stats.success_probability == Fraction(2, 16)


@pytest.mark.parametrize("seed", range(6))
def test_exact_sums_match_the_game_tree(random_scenario, seed):
    mode = ("postselected", "deterministic")[seed % 2]
    merit = ("singlet_fidelity", "fully_entangled_fraction")[seed // 3 % 2]
    scenario = random_scenario(60_000 + seed, mode, merit, max_actions=(3, 5), extra_links=1.5)
    try:
        _, best = oracle.best_route(scenario)
    except ValueError:
        best = 2.0  # unreachable: no game can succeed
    length, success = _game_tree_sums(scenario, best)
    assert monte_carlo.mean_game_length(scenario) == length
    stats = monte_carlo.random_policy_stats(scenario, best)
    assert stats.success_probability == success
    assert stats.expected_actions == (float(length / success) if success else math.inf)


def _check_against_simulation(scenario, runs: int, seed: int) -> None:
    route, fidelity = oracle.best_route(scenario)
    exact = monte_carlo.expected_actions_until_route(scenario, fidelity)
    player = monte_carlo.RandomPlayer(scenario)
    rng = np.random.default_rng(seed)
    samples = np.array([player.actions_until(fidelity, rng, 10**7) for _ in range(runs)], float)
    error = samples.std(ddof=1) / math.sqrt(runs)
    assert abs(samples.mean() - exact) < 4 * error, (samples.mean(), exact, error)


def test_simulation_agrees_with_the_exact_expectation(cancelling_damping_scenario):
    _check_against_simulation(cancelling_damping_scenario, runs=3000, seed=1)


def test_simulation_agrees_on_a_random_deterministic_scenario(random_scenario):
    scenario = random_scenario(
        70_003, "deterministic", "fully_entangled_fraction", nodes=(6, 6), max_actions=(5, 5)
    )
    _check_against_simulation(scenario, runs=3000, seed=2)


def test_simulate_until_route_is_the_player_with_the_same_seed(cancelling_damping_scenario):
    scenario = cancelling_damping_scenario
    route, fidelity = oracle.best_route(scenario)
    player = monte_carlo.RandomPlayer(scenario)
    for seed in range(5):
        via_route = monte_carlo.simulate_until_route(
            scenario, route, np.random.default_rng(seed), 10**6
        )
        direct = player.actions_until(fidelity, np.random.default_rng(seed), 10**6)
        assert via_route == direct
        assert via_route is not None and via_route >= len(route)


def test_budget_exhaustion_returns_none(cancelling_damping_scenario):
    rng = np.random.default_rng(0)
    assert monte_carlo.simulate_until_route(cancelling_damping_scenario, [0, 1], rng, 1) is None


def test_play_reports_a_whole_game(cancelling_damping_scenario):
    player = monte_carlo.RandomPlayer(cancelling_damping_scenario)
    rng = np.random.default_rng(3)
    games = [player.play(rng) for _ in range(200)]
    events = {game.event for game in games}
    assert events <= {"arrived", "dead_end", "empty_slot", "used_link", "truncated"}
    assert {"arrived", "empty_slot"} <= events
    for game in games:
        assert 1 <= game.actions <= cancelling_damping_scenario.max_actions
        assert len(game.route) in (game.actions, game.actions - 1)


def test_bad_targets_raise(cancelling_damping_scenario, make_scenario, link):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="cannot be played"):
        monte_carlo.simulate_until_route(cancelling_damping_scenario, [1, 0], rng, 100)
    with pytest.raises(ValueError, match="admissible walk"):
        monte_carlo.simulate_until_route(cancelling_damping_scenario, [0], rng, 100)
    with pytest.raises(ValueError, match="max_actions_total"):
        monte_carlo.simulate_until_route(cancelling_damping_scenario, [0, 1], rng, 0)
    chain = make_scenario(4, [(i, i + 1, link.werner(0.9)) for i in range(3)], max_actions=2)
    with pytest.raises(ValueError, match="truncated"):
        monte_carlo.simulate_until_route(chain, [0, 1, 2], rng, 100)
