"""The paper's Monte Carlo baseline: games of uniformly random actions until one plays an
optimal route, and the exact expected number of actions that takes.

"Routing in quantum networks using reinforcement learning", Sec. 3 (Pseudocode II): Monte Carlo
plays the same game as PPO, "the only difference is that Monte Carlo chooses its actions
randomly in each game with no intelligent policy"; its cost is the number of actions played
until the first game that finds the optimal route (Tables 1-3). Here every action is drawn
uniformly from the ``MAX_DEGREE = 4`` slots, like an untrained agent: an empty slot or a used
link ends the game with the penalty, exactly as :func:`qnet_envs.routing.core.transition` says.
Games are played through ``core.initial`` / ``core.transition`` (no Gymnasium), with the pure
transitions memoised by (route so far, action).

Success. A game succeeds when it arrives at Bob with ``F >= F_target - SUCCESS_TOLERANCE``
(``F`` as the game computes it). Comparing fidelities rather than routes counts every optimal
route: when several walks tie for the optimum, finding any of them is finding the optimum.
:func:`simulate_until_route` takes the target as a route and uses that route's ``F``.

What is counted. Every action of every game: the invalid action that ends a failed game, the
actions of games that end in a dead end, at truncation or at Bob with a low ``F``, and all the
actions of the successful game itself.

Exact expectation. Games are independent and identically distributed. Let ``L`` be the number
of actions of one game and ``q`` the probability that a game succeeds. The number of games up
to the first success is ``N ~ Geometric(q)``, and the total ``T = sum_{i <= N} L_i``. The event
``{N >= i}`` depends on games ``1..i-1`` only, so it is independent of ``L_i`` and (Wald's
identity) ``E[T] = sum_i E[L_i] P(N >= i) = E[L] E[N] = E[L] / q``. Both are exact sums:

* ``q = sum over successful walks w of (1/4)^len(w)``: a walk is one sequence of slot choices,
  each drawn with probability 1/4. The successful walks are enumerated exactly by
  :func:`agents.baselines.oracle.routes_at_least`.
* ``E[L] = sum_{t >= 0} P(L > t) = sum_t (1/4)^t R_t``, with ``R_t`` the number of action
  sequences of length ``t`` after which the game is still running. Whether a game is running
  depends only on (node, used links) (not on the held state), so ``R_t`` is computed layer by
  layer over those classes with multiplicities, each class classified once by
  ``core.transition``. The sums are carried in exact rational arithmetic.

Cost: ``O(sum_t C_t)`` transitions, ``C_t`` the number of (node, used links) classes reachable
in ``t`` actions, plus the oracle's search for the successful walks.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from agents.baselines import oracle
from qnet_envs.routing import core
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario

#: A game succeeds with ``F >= F_target - SUCCESS_TOLERANCE``; the oracle's tie tolerance.
SUCCESS_TOLERANCE = oracle.TIE_TOLERANCE
_CACHE_LIMIT = 200_000  # memoised transitions kept at most per player
_DRAWS = 4096  # random actions drawn per call of the generator


@dataclasses.dataclass(frozen=True)
class GameRecord:
    """One game: actions played, the walk, how it ended (``core.StepOutcome.event``, or
    ``"truncated"``), and the held state's ``F`` at the end."""

    actions: int
    route: tuple[int, ...]
    event: str
    fidelity: float


@dataclasses.dataclass(frozen=True)
class RandomPolicyStats:
    """Exact statistics of the uniformly random player for one success level.

    Attributes:
        target_fidelity: the ``F`` a game must reach (within ``SUCCESS_TOLERANCE``).
        mean_game_length: ``E[L]``, actions per game.
        success_probability: ``q``, probability that one game succeeds.
        expected_actions: ``E[L] / q``, actions until the first success, all counted.
        successful_routes: the walks that succeed, sorted by length then lexicographically.
    """

    target_fidelity: float
    mean_game_length: Fraction
    success_probability: Fraction
    expected_actions: float
    successful_routes: tuple[tuple[int, ...], ...]


class RandomPlayer:
    """Plays games of uniformly random slots through ``core.transition``, memoised.

    The memo maps (route so far, action) to the transition's result; the route determines the
    whole game state, and ``transition`` is pure, so memoising changes nothing but speed.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.network = core.Network.compile(scenario)
        self._initial = core.initial(self.network)
        self._memo: dict[tuple[tuple[int, ...], int], tuple[core.GameState, core.StepOutcome]] = {}

    def step(self, state: core.GameState, action: int) -> tuple[core.GameState, core.StepOutcome]:
        """``core.transition(network, state, action)``, memoised."""
        key = (state.route, action)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        result = core.transition(self.network, state, action)
        if len(self._memo) < _CACHE_LIMIT:
            self._memo[key] = result
        return result

    def play(self, rng: np.random.Generator) -> GameRecord:
        """One game from Alice with actions uniform over the ``MAX_DEGREE`` slots."""
        state, outcome = self._initial, None
        while outcome is None or not (outcome.terminated or outcome.truncated):
            state, outcome = self.step(state, int(rng.integers(MAX_DEGREE)))
        event = "truncated" if outcome.truncated and not outcome.terminated else outcome.event
        return GameRecord(state.actions, state.route, event, state.fidelity)

    def actions_until(
        self, target_fidelity: float, rng: np.random.Generator, max_actions_total: int
    ) -> int | None:
        """Actions played until the first game that reaches Bob with ``F >= target - tol``.

        Returns ``None`` if that does not happen within ``max_actions_total`` actions.
        """
        threshold = target_fidelity - SUCCESS_TOLERANCE
        draws = iter(())
        total = 0
        while True:
            state, outcome = self._initial, None
            while outcome is None or not (outcome.terminated or outcome.truncated):
                if total >= max_actions_total:
                    return None
                action = next(draws, None)
                if action is None:
                    draws = iter(rng.integers(MAX_DEGREE, size=_DRAWS).tolist())
                    action = next(draws)
                state, outcome = self.step(state, action)
                total += 1
            if outcome.event == "arrived" and state.fidelity >= threshold:
                return total


def simulate_until_route(
    scenario: Scenario,
    target_route: tuple[int, ...] | list[int],
    rng: np.random.Generator,
    max_actions_total: int,
) -> int | None:
    """Actions until the first random game that reaches Bob as well as ``target_route`` does.

    Success is judged by fidelity (module docstring): any walk within ``SUCCESS_TOLERANCE`` of
    ``target_route``'s ``F`` counts. Returns ``None`` if no game succeeds within
    ``max_actions_total`` actions.

    Raises:
        ValueError: ``target_route`` is not a walk from Alice to Bob over distinct links, or
            ``max_actions_total < 1``.
    """
    player = RandomPlayer(scenario)
    target_fidelity = _route_target(player.network, tuple(target_route))
    if isinstance(max_actions_total, bool) or not isinstance(max_actions_total, int):
        raise ValueError(f"max_actions_total must be an integer >= 1, got {max_actions_total!r}")
    if max_actions_total < 1:
        raise ValueError(f"max_actions_total must be an integer >= 1, got {max_actions_total}")
    return player.actions_until(target_fidelity, rng, max_actions_total)


def expected_actions_until_route(scenario: Scenario, target_fidelity: float | None = None) -> float:
    """Exact ``E[actions until the first success]`` of the uniformly random player.

    Args:
        scenario: the game.
        target_fidelity: the ``F`` to reach; default the oracle's optimum.

    Returns:
        ``E[L] / q`` (module docstring); ``inf`` if no walk reaches ``target_fidelity``.
    """
    return random_policy_stats(scenario, target_fidelity).expected_actions


def random_policy_stats(
    scenario: Scenario, target_fidelity: float | None = None
) -> RandomPolicyStats:
    """``E[L]``, ``q`` and ``E[L] / q`` for the uniformly random player, exactly.

    ``target_fidelity`` defaults to the oracle's optimum (``ValueError`` if Bob is
    unreachable); with an explicit target no walk may succeed, and then ``q = 0`` and
    ``expected_actions`` is ``inf``.
    """
    if target_fidelity is None:
        target_fidelity = oracle.solve(scenario).fidelity
    routes = oracle.routes_at_least(scenario, target_fidelity - SUCCESS_TOLERANCE)
    success = sum((Fraction(1, MAX_DEGREE ** len(o.route)) for o in routes), Fraction(0))
    length = mean_game_length(scenario)
    expected = float(length / success) if success else float("inf")
    return RandomPolicyStats(
        target_fidelity=float(target_fidelity),
        mean_game_length=length,
        success_probability=success,
        expected_actions=expected,
        successful_routes=tuple(o.route for o in routes),
    )


def mean_game_length(scenario: Scenario) -> Fraction:
    """Exact ``E[L]`` of one game of uniformly random actions (module docstring)."""
    network = core.Network.compile(scenario)
    running = {(scenario.alice, 0): (core.initial(network), 1)}
    total = Fraction(0)
    depth = 0
    while running:
        total += Fraction(sum(count for _, count in running.values()), MAX_DEGREE**depth)
        after: dict[tuple[int, int], tuple[core.GameState, int]] = {}
        for state, count in running.values():
            for action in range(MAX_DEGREE):
                nxt, outcome = core.transition(network, state, action)
                if outcome.terminated or outcome.truncated:
                    continue
                key = (nxt.node, nxt.used)
                previous = after.get(key)
                after[key] = (nxt, count + (previous[1] if previous else 0))
        running = after
        depth += 1
    return total


def _route_target(network: core.Network, route: tuple[int, ...]) -> float:
    """``F`` of a route that must end at Bob."""
    state, event = core.initial(network), "none"
    for step, edge in enumerate(route):
        if event != "none":
            raise ValueError(f"target_route: the game ends before step {step} ({event})")
        slots = np.flatnonzero(network.slot_edge[state.node] == edge)
        if slots.size == 0 or (state.used >> int(edge)) & 1:
            raise ValueError(f"target_route[{step}] = edge {edge} cannot be played here")
        state, outcome = core.transition(network, state, int(slots[0]))
        if outcome.terminated or outcome.truncated:
            event = "truncated" if not outcome.terminated else outcome.event
    if event != "arrived":
        raise ValueError("target_route must be a non-empty admissible walk from Alice to Bob")
    return state.fidelity
