"""The random players (uniform over the 4 slots, masked over the valid slots): exact
expectation (Wald) against closed forms, against a full enumeration of action sequences, and
against simulation.

Invariants:

* ``E[actions until success] = E[L] / q``, with the closed forms 4 (one link) and 20 (two links
  in a row) for the uniform player, and hand-computed ``E[L]``, ``q`` for the masked player on
  small graphs with branches, dead ends and truncation;
* ``mean_game_length`` and ``q`` equal the sums over every action sequence of the game tree,
  for both policies;
* the mean of simulated runs lies within 4 standard errors of the exact expectation;
* success is judged by fidelity, so tied optimal routes all count;
* ``policy="uniform"`` (the default) is the behaviour from before the masked policy existed;
  masking never costs more on the shipped ``default`` and ``tiny`` scenarios.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from agents.baselines import monte_carlo, oracle
from qnet_envs.routing import core
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario


def _game_tree_sums(scenario, target: float, policy: str = "uniform") -> tuple[Fraction, Fraction]:
    """``(E[L], q)`` summed over every action sequence of the random player of ``policy``."""
    network = core.Network.compile(scenario)
    length, success = Fraction(0), Fraction(0)
    stack = [(core.initial(network), Fraction(1))]
    while stack:
        state, probability = stack.pop()
        if policy == "uniform":
            actions = list(range(MAX_DEGREE))
        else:
            actions = [a for a in range(MAX_DEGREE) if state.valid[a]]
        for action in actions:
            after, outcome = core.transition(network, state, action)
            p = probability / len(actions)
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


@pytest.mark.parametrize("policy", monte_carlo.POLICIES)
@pytest.mark.parametrize("seed", range(6))
def test_exact_sums_match_the_game_tree(random_scenario, seed, policy):
    mode = ("postselected", "deterministic")[seed % 2]
    merit = ("singlet_fidelity", "fully_entangled_fraction")[seed // 3 % 2]
    scenario = random_scenario(60_000 + seed, mode, merit, max_actions=(3, 5), extra_links=1.5)
    try:
        _, best = oracle.best_route(scenario)
    except ValueError:
        best = 2.0  # unreachable: no game can succeed
    length, success = _game_tree_sums(scenario, best, policy)
    assert monte_carlo.mean_game_length(scenario, policy=policy) == length
    stats = monte_carlo.random_policy_stats(scenario, best, policy=policy)
    assert stats.success_probability == success
    assert stats.expected_actions == (float(length / success) if success else math.inf)


def _check_against_simulation(scenario, runs: int, seed: int, policy: str = "uniform") -> None:
    route, fidelity = oracle.best_route(scenario)
    exact = monte_carlo.expected_actions_until_route(scenario, fidelity, policy)
    player = monte_carlo.RandomPlayer(scenario, policy)
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


# --------------------------------------------------------------------------- masked policy
def _lollipop(make_scenario, link, max_actions: int = 10):
    """Alice 0, Bob 4, a leaf 3; links e0 = 0-1, e1 = 0-2, e2 = 1-2, e3 = 1-3, e4 = 2-4, all
    Werner F = 0.9. Routes to Bob: (1, 4), the optimum, and (0, 2, 4)."""
    links = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 4)]
    return make_scenario(5, [(u, v, link.werner(0.9)) for u, v in links], max_actions=max_actions)


def test_masked_one_link_and_chain_closed_forms(make_scenario, link):
    one = monte_carlo.random_policy_stats(
        make_scenario(2, [(0, 1, link.werner(0.9))]), policy="masked"
    )
    assert (one.mean_game_length, one.success_probability, one.expected_actions) == (1, 1, 1.0)
    # Two links in a row: one valid slot at each node, every game walks straight to Bob.
    chain = make_scenario(3, [(0, 1, link.werner(0.9)), (1, 2, link.werner(0.9))])
    two = monte_carlo.random_policy_stats(chain, policy="masked")
    assert (two.mean_game_length, two.success_probability, two.expected_actions) == (2, 1, 2.0)
    assert two.policy == "masked"


def test_masked_two_routes_closed_form(cancelling_damping_scenario):
    # Alice has 2 valid slots; then the middle node has one unused link, to Bob. Every game is
    # 2 actions, half of them on the optimal (cancelling) route: E[L] = 2, q = 1/2, E = 4.
    # Uniform: P(L > 1) = 2/4 and the middle node ends every game, E[L] = 3/2, q = 1/16, E = 24.
    masked = monte_carlo.random_policy_stats(cancelling_damping_scenario, policy="masked")
    assert masked.mean_game_length == 2
    assert masked.success_probability == Fraction(1, 2)
    assert masked.expected_actions == 4.0
    uniform = monte_carlo.random_policy_stats(cancelling_damping_scenario)
    assert uniform.mean_game_length == Fraction(3, 2)
    assert uniform.expected_actions == 24.0


def test_masked_dead_ends_and_levels_closed_form(make_scenario, link):
    # From Alice (k = 2):
    #   e1 -> node 2 (k = 2): e4 -> Bob (1/4, L = 2);
    #                         e2 -> node 1 (k = 2): e0 or e3, both dead ends (1/8 each, L = 3);
    #   e0 -> node 1 (k = 2): e3 -> leaf 3, dead end (1/4, L = 2);
    #                         e2 -> node 2 (k = 2): e4 -> Bob (1/8, L = 3), e1 -> dead end (1/8).
    # E[L] = 2 * 1/2 + 3 * 1/2 = 5/2. Optimum (1, 4): q = 1/4, E = 10. Level of (0, 2, 4):
    # q = 1/4 + 1/8 = 3/8, E = 20/3.
    scenario = _lollipop(make_scenario, link)
    assert monte_carlo.mean_game_length(scenario, "masked") == Fraction(5, 2)
    best = monte_carlo.random_policy_stats(scenario, policy="masked")
    assert best.successful_routes == ((1, 4),)
    assert best.success_probability == Fraction(1, 4)
    assert best.expected_actions == 10.0
    lower, _ = core.route_fidelity(core.Network.compile(scenario), (0, 2, 4))
    level = monte_carlo.random_policy_stats(scenario, lower, policy="masked")
    assert level.successful_routes == ((1, 4), (0, 2, 4))
    assert level.success_probability == Fraction(3, 8)
    assert level.expected_actions == pytest.approx(20 / 3, rel=1e-15)
    # Uniform on the same graph: P(L > 1) = 2/4, P(L > 2) = 2/16, E[L] = 13/8, q = 1/16.
    assert monte_carlo.expected_actions_until_route(scenario) == 26.0
    # Truncated after 2 actions: every game plays exactly 2, E[L] = 2, q = 1/4, E = 8.
    short = monte_carlo.random_policy_stats(_lollipop(make_scenario, link, 2), policy="masked")
    assert (short.mean_game_length, short.success_probability) == (2, Fraction(1, 4))
    assert short.expected_actions == 8.0


def test_masked_walk_probability(make_scenario, link):
    network = core.Network.compile(_lollipop(make_scenario, link))
    assert monte_carlo.masked_walk_probability(network, ()) == 1
    assert monte_carlo.masked_walk_probability(network, (0, 2, 4)) == Fraction(1, 8)
    assert monte_carlo.masked_walk_probability(network, (0, 2, 1)) == Fraction(1, 8)
    with pytest.raises(ValueError, match="cannot be played"):
        monte_carlo.masked_walk_probability(network, (0, 0))
    with pytest.raises(ValueError, match="game ends"):
        monte_carlo.masked_walk_probability(network, (0, 3, 3))


def test_masked_simulation_agrees_with_the_exact_expectation(make_scenario, link):
    _check_against_simulation(_lollipop(make_scenario, link), runs=3000, seed=4, policy="masked")


def test_masked_simulation_agrees_on_a_random_deterministic_scenario(random_scenario):
    scenario = random_scenario(
        70_003, "deterministic", "fully_entangled_fraction", nodes=(6, 6), max_actions=(5, 5)
    )
    _check_against_simulation(scenario, runs=3000, seed=5, policy="masked")


def test_masked_simulation_agrees_on_shipped_tiny():
    _check_against_simulation(Scenario.load("tiny"), runs=2000, seed=6, policy="masked")


def test_masked_play_never_plays_an_invalid_action():
    scenario = Scenario.load("default")
    player = monte_carlo.RandomPlayer(scenario, policy="masked")
    rng = np.random.default_rng(8)
    games = [player.play(rng) for _ in range(3000)]
    assert {game.event for game in games} == {"arrived", "dead_end", "truncated"}
    lengths = np.array([game.actions for game in games], float)
    assert all(len(game.route) == game.actions for game in games)
    exact = float(monte_carlo.mean_game_length(scenario, "masked"))
    error = lengths.std(ddof=1) / math.sqrt(lengths.size)
    assert abs(lengths.mean() - exact) < 4 * error, (lengths.mean(), exact, error)


def test_masked_simulate_until_route_is_the_player_with_the_same_seed(make_scenario, link):
    scenario = _lollipop(make_scenario, link)
    player = monte_carlo.RandomPlayer(scenario, "masked")
    _, fidelity = oracle.best_route(scenario)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        via_route = monte_carlo.simulate_until_route(scenario, (1, 4), rng, 10**6, "masked")
        assert via_route == player.actions_until(fidelity, np.random.default_rng(seed), 10**6)
        assert via_route is not None and via_route >= 2


@pytest.mark.parametrize("name", ["default", "tiny"])
def test_masking_never_costs_more_on_shipped_scenarios(name):
    scenario = Scenario.load(name)
    uniform = monte_carlo.random_policy_stats(scenario)
    masked = monte_carlo.random_policy_stats(scenario, policy="masked")
    assert masked.successful_routes == uniform.successful_routes
    assert masked.success_probability >= uniform.success_probability
    assert masked.expected_actions <= uniform.expected_actions


def test_uniform_policy_is_unchanged():
    # Pinned from the module before the masked policy was added (shipped tiny).
    scenario = Scenario.load("tiny")
    default = monte_carlo.random_policy_stats(scenario)
    assert default == monte_carlo.random_policy_stats(scenario, policy="uniform")
    assert default.policy == "uniform"
    assert default.mean_game_length == Fraction(7357, 4096)
    assert default.success_probability == Fraction(3, 1024)
    assert default.expected_actions == float(Fraction(7357, 4096) / Fraction(3, 1024))
    assert monte_carlo.mean_game_length(scenario) == Fraction(7357, 4096)
    route, _ = oracle.best_route(scenario)
    for policy in ({}, {"policy": "uniform"}):
        runs = [
            monte_carlo.simulate_until_route(
                scenario, route, np.random.default_rng(s), 10**6, **policy
            )
            for s in range(5)
        ]
        assert runs == [536, 19, 208, 29, 1366]


def test_unknown_policy_raises(cancelling_damping_scenario):
    scenario = cancelling_damping_scenario
    with pytest.raises(ValueError, match="policy"):
        monte_carlo.RandomPlayer(scenario, policy="greedy")
    with pytest.raises(ValueError, match="policy"):
        monte_carlo.mean_game_length(scenario, policy="Masked")
    with pytest.raises(ValueError, match="policy"):
        monte_carlo.expected_actions_until_route(scenario, policy="random")
    with pytest.raises(ValueError, match="policy"):
        monte_carlo.simulate_until_route(scenario, [0, 1], np.random.default_rng(0), 10, "x")
