"""The paper's Monte Carlo baseline: games of random actions until one plays an optimal route,
and the exact expected number of actions that takes, for two random policies.

"Routing in quantum networks using reinforcement learning", Sec. 3 (Pseudocode II): Monte Carlo
plays the same game as PPO, "the only difference is that Monte Carlo chooses its actions
randomly in each game with no intelligent policy"; its cost is the number of actions played
until the first game that finds the optimal route (Tables 1-3). Two random policies
(:data:`POLICIES`, argument ``policy`` everywhere, default ``"uniform"``):

* ``"uniform"`` (the paper's reading): every action is drawn uniformly from the
  ``MAX_DEGREE = 4`` slots, like an untrained agent: an empty slot or a used link ends the game
  with the penalty, exactly as :func:`qnet_envs.routing.core.transition` says.
* ``"masked"``: every action is drawn uniformly among the current node's *valid* slots (unused
  links, ``GameState.valid``), like an untrained agent behind the action mask (MaskablePPO,
  masked REINFORCE). No invalid action is ever played, so a game ends only at Bob, in a dead
  end (a node whose links are all used) or at truncation. A running game always has a valid
  slot: a node without one ends the game as a dead end, and Alice has a link because scenarios
  require Bob to be reachable from her.

Games are played through ``core.initial`` / ``core.transition`` (no Gymnasium), with the pure
transitions memoised by (route so far, action).

Success. A game succeeds when it arrives at Bob with ``F >= F_target - SUCCESS_TOLERANCE``
(``F`` as the game computes it). Comparing fidelities rather than routes counts every optimal
route: when several walks tie for the optimum, finding any of them is finding the optimum.
:func:`simulate_until_route` takes the target as a route and uses that route's ``F``.

What is counted. Every action of every game: the invalid action that ends a failed game
(uniform policy only), the actions of games that end in a dead end, at truncation or at Bob with
a low ``F``, and all the actions of the successful game itself.

Exact expectation. Games are independent and identically distributed. Let ``L`` be the number
of actions of one game and ``q`` the probability that a game succeeds. The number of games up
to the first success is ``N ~ Geometric(q)``, and the total ``T = sum_{i <= N} L_i``. The event
``{N >= i}`` depends on games ``1..i-1`` only, so it is independent of ``L_i`` and (Wald's
identity) ``E[T] = sum_i E[L_i] P(N >= i) = E[L] E[N] = E[L] / q``, for either policy. Both
factors are exact sums, carried in exact rational arithmetic.

Uniform policy:

* ``q = sum over successful walks w of (1/4)^len(w)``: a walk is one sequence of slot choices,
  each drawn with probability 1/4. The successful walks are enumerated exactly by
  :func:`agents.baselines.oracle.routes_at_least`.
* ``E[L] = sum_{t >= 0} P(L > t) = sum_t (1/4)^t R_t``, with ``R_t`` the number of action
  sequences of length ``t`` after which the game is still running. Whether a game is running
  depends only on (node, used links) (not on the held state), so ``R_t`` is computed layer by
  layer over those classes with multiplicities, each class classified once by
  ``core.transition``.

Masked policy. Let ``k(c)`` be the number of valid slots of a running class ``c = (node, used
links)``; ``1 <= k(c) <= 4`` (see above), and it depends on ``c`` only.

* A walk ``w = (e_1, ..., e_n)`` is played with probability ``prod_i 1 / k(c_{i-1})``,
  ``c_{i-1}`` the class before its ``i``-th link: each step picks one valid slot out of
  ``k``, and slots and unused links of a node correspond one to one (no self-loops; parallel
  links sit in distinct slots), so a walk is exactly one sequence of choices. Hence
  ``q = sum over successful walks w of prod_i 1 / k(c_{i-1})``, the same walks as above
  (``routes_at_least``), each replayed through ``core.transition`` to read ``k`` from
  ``GameState.valid`` at every step.
* ``E[L] = sum_{t >= 0} P(L > t) = sum_t sum_{c running after t actions} P_t(c)``, where the
  class distribution evolves as ``P_{t+1}(c') = sum over (c, valid slot a) with
  c --a--> c' running of P_t(c) / k(c)``, from ``P_0(Alice, {}) = 1``. The same classes as
  for the uniform policy (invalid actions only ever ended games), now weighted by
  probabilities instead of counted; they are carried as integers ``W_t(c) = 12^t P_t(c)``
  (``k`` divides 12, so a step multiplies by the integer ``12 / k``), and
  ``P(L > t) = sum_c W_t(c) / 12^t``. Every action uses a link, so ``L`` is the length of the
  walk played.

Masking raises every factor ``1/4`` of ``q`` to ``1/k >= 1/4`` but also makes games longer;
``E[L] / q`` is not smaller for every scenario by a theorem, but it is on every shipped one
(``docs/baselines.md``).

Cost: ``O(sum_t C_t)`` transitions, ``C_t`` the number of (node, used links) classes reachable
in ``t`` actions, plus the oracle's search for the successful walks (either policy).
"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import numpy as np

from agents.baselines import oracle
from qnet_envs.routing import core
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario

#: A game succeeds with ``F >= F_target - SUCCESS_TOLERANCE``; the oracle's tie tolerance.
SUCCESS_TOLERANCE = oracle.TIE_TOLERANCE
#: The random policies: ``"uniform"`` over the 4 slots, ``"masked"`` over the valid slots.
POLICIES: tuple[str, ...] = ("uniform", "masked")
_CACHE_LIMIT = 200_000  # memoised transitions kept at most per player
_DRAWS = 4096  # random actions drawn per call of the generator
# Masked draws: an integer uniform in [0, 12) picks valid slot ``draw % k``, uniform as k | 12.
_MASKED_BASE = 12
assert all(_MASKED_BASE % k == 0 for k in range(1, MAX_DEGREE + 1))
_ALL_SLOTS = tuple(range(MAX_DEGREE))
# ``GameState.valid`` -> the indices of its valid slots, for every possible mask.
_VALID_SLOTS: dict[tuple[bool, ...], tuple[int, ...]] = {
    mask: tuple(k for k, ok in enumerate(mask) if ok)
    for mask in itertools.product((False, True), repeat=MAX_DEGREE)
}


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
    """Exact statistics of a random player for one success level.

    Attributes:
        target_fidelity: the ``F`` a game must reach (within ``SUCCESS_TOLERANCE``).
        mean_game_length: ``E[L]``, actions per game.
        success_probability: ``q``, probability that one game succeeds.
        expected_actions: ``E[L] / q``, actions until the first success, all counted.
        successful_routes: the walks that succeed, sorted by length then lexicographically.
        policy: ``"uniform"`` or ``"masked"`` (:data:`POLICIES`).
    """

    target_fidelity: float
    mean_game_length: Fraction
    success_probability: Fraction
    expected_actions: float
    successful_routes: tuple[tuple[int, ...], ...]
    policy: str = "uniform"


class RandomPlayer:
    """Plays games of random slots through ``core.transition``, memoised.

    ``policy="uniform"`` draws every action uniformly from the ``MAX_DEGREE`` slots,
    ``policy="masked"`` uniformly from the current node's valid slots (module docstring).
    The memo maps (route so far, action) to the transition's result; the route determines the
    whole game state, and ``transition`` is pure, so memoising changes nothing but speed.

    Raises:
        ValueError: ``policy`` is not one of :data:`POLICIES`.
    """

    def __init__(self, scenario: Scenario, policy: str = "uniform") -> None:
        self.policy = _check_policy(policy)
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
        """One game from Alice, actions uniform over the ``MAX_DEGREE`` slots (``"uniform"``)
        or over the current node's valid slots (``"masked"``)."""
        masked = self.policy == "masked"
        state, outcome = self._initial, None
        while outcome is None or not (outcome.terminated or outcome.truncated):
            if masked:
                slots = _VALID_SLOTS[state.valid]
                action = slots[int(rng.integers(len(slots)))]
            else:
                action = int(rng.integers(MAX_DEGREE))
            state, outcome = self.step(state, action)
        event = "truncated" if outcome.truncated and not outcome.terminated else outcome.event
        return GameRecord(state.actions, state.route, event, state.fidelity)

    def actions_until(
        self, target_fidelity: float, rng: np.random.Generator, max_actions_total: int
    ) -> int | None:
        """Actions played until the first game that reaches Bob with ``F >= target - tol``.

        Returns ``None`` if that does not happen within ``max_actions_total`` actions. Actions
        are drawn in batches (uniform: integers in ``[0, 4)``; masked: integers in ``[0, 12)``,
        valid slot ``draw % k``, uniform since ``k`` divides 12).
        """
        threshold = target_fidelity - SUCCESS_TOLERANCE
        masked = self.policy == "masked"
        base = _MASKED_BASE if masked else MAX_DEGREE
        draws = iter(())
        total = 0
        while True:
            state, outcome = self._initial, None
            while outcome is None or not (outcome.terminated or outcome.truncated):
                if total >= max_actions_total:
                    return None
                action = next(draws, None)
                if action is None:
                    draws = iter(rng.integers(base, size=_DRAWS).tolist())
                    action = next(draws)
                if masked:
                    slots = _VALID_SLOTS[state.valid]
                    action = slots[action % len(slots)]
                state, outcome = self.step(state, action)
                total += 1
            if outcome.event == "arrived" and state.fidelity >= threshold:
                return total


def simulate_until_route(
    scenario: Scenario,
    target_route: tuple[int, ...] | list[int],
    rng: np.random.Generator,
    max_actions_total: int,
    policy: str = "uniform",
) -> int | None:
    """Actions until the first random game that reaches Bob as well as ``target_route`` does.

    Success is judged by fidelity (module docstring): any walk within ``SUCCESS_TOLERANCE`` of
    ``target_route``'s ``F`` counts. ``policy`` is ``"uniform"`` or ``"masked"``
    (:class:`RandomPlayer`). Returns ``None`` if no game succeeds within ``max_actions_total``
    actions.

    Raises:
        ValueError: ``target_route`` is not a walk from Alice to Bob over distinct links,
            ``max_actions_total < 1``, or ``policy`` is unknown.
    """
    player = RandomPlayer(scenario, policy)
    target_fidelity = _route_target(player.network, tuple(target_route))
    if isinstance(max_actions_total, bool) or not isinstance(max_actions_total, int):
        raise ValueError(f"max_actions_total must be an integer >= 1, got {max_actions_total!r}")
    if max_actions_total < 1:
        raise ValueError(f"max_actions_total must be an integer >= 1, got {max_actions_total}")
    return player.actions_until(target_fidelity, rng, max_actions_total)


def expected_actions_until_route(
    scenario: Scenario, target_fidelity: float | None = None, policy: str = "uniform"
) -> float:
    """Exact ``E[actions until the first success]`` of the random player.

    Args:
        scenario: the game.
        target_fidelity: the ``F`` to reach; default the oracle's optimum.
        policy: ``"uniform"`` over the 4 slots or ``"masked"`` over the valid slots.

    Returns:
        ``E[L] / q`` (module docstring); ``inf`` if no walk reaches ``target_fidelity``.
    """
    return random_policy_stats(scenario, target_fidelity, policy).expected_actions


def random_policy_stats(
    scenario: Scenario, target_fidelity: float | None = None, policy: str = "uniform"
) -> RandomPolicyStats:
    """``E[L]``, ``q`` and ``E[L] / q`` for the random player of ``policy``, exactly.

    ``target_fidelity`` defaults to the oracle's optimum (``ValueError`` if Bob is
    unreachable); with an explicit target no walk may succeed, and then ``q = 0`` and
    ``expected_actions`` is ``inf``. ``policy``: ``"uniform"`` (default) or ``"masked"``
    (module docstring; ``ValueError`` otherwise).
    """
    policy = _check_policy(policy)
    if target_fidelity is None:
        target_fidelity = oracle.solve(scenario).fidelity
    routes = oracle.routes_at_least(scenario, target_fidelity - SUCCESS_TOLERANCE)
    if policy == "uniform":
        success = sum((Fraction(1, MAX_DEGREE ** len(o.route)) for o in routes), Fraction(0))
    else:
        network = core.Network.compile(scenario)
        success = sum((masked_walk_probability(network, o.route) for o in routes), Fraction(0))
    length = mean_game_length(scenario, policy)
    expected = float(length / success) if success else float("inf")
    return RandomPolicyStats(
        target_fidelity=float(target_fidelity),
        mean_game_length=length,
        success_probability=success,
        expected_actions=expected,
        successful_routes=tuple(o.route for o in routes),
        policy=policy,
    )


def masked_walk_probability(network: core.Network, route: tuple[int, ...] | list[int]) -> Fraction:
    """Probability that the masked player walks ``route`` (edge indices, from Alice): the
    product over its steps of ``1 / (number of valid slots)``, replayed through ``core``.

    Raises:
        ValueError: ``route`` cannot be played (a link that is not a valid slot of the current
            node, or a step after the game ended).
    """
    state = core.initial(network)
    probability = Fraction(1)
    for step, edge in enumerate(route):
        slots = [k for k in _VALID_SLOTS[state.valid] if network.slot_edge[state.node, k] == edge]
        if len(slots) != 1:
            raise ValueError(f"route[{step}] = edge {edge} cannot be played here")
        probability /= len(_VALID_SLOTS[state.valid])
        state, outcome = core.transition(network, state, slots[0])
        if (outcome.terminated or outcome.truncated) and step + 1 < len(route):
            raise ValueError(f"the game ends at step {step} ({outcome.event}), before the route")
    return probability


def mean_game_length(scenario: Scenario, policy: str = "uniform") -> Fraction:
    """Exact ``E[L]`` of one game of random actions of ``policy`` (module docstring)."""
    policy = _check_policy(policy)
    network = core.Network.compile(scenario)
    masked = policy == "masked"
    # Uniform: W_t counts the 4^t action sequences, every slot continues with multiplicity 1.
    # Masked: W_t = 12^t P_t, a valid slot out of k continues with 12 / k of its class's weight.
    base = _MASKED_BASE if masked else MAX_DEGREE
    running = {(scenario.alice, 0): (core.initial(network), 1)}
    total = Fraction(0)
    depth = 0
    while running:
        total += Fraction(sum(weight for _, weight in running.values()), base**depth)
        after: dict[tuple[int, int], tuple[core.GameState, int]] = {}
        for state, weight in running.values():
            if masked:
                slots = _VALID_SLOTS[state.valid]
                factor = _MASKED_BASE // len(slots)
            else:
                slots, factor = _ALL_SLOTS, 1
            for action in slots:
                nxt, outcome = core.transition(network, state, action)
                if outcome.terminated or outcome.truncated:
                    continue
                key = (nxt.node, nxt.used)
                previous = after.get(key)
                after[key] = (nxt, weight * factor + (previous[1] if previous else 0))
        running = after
        depth += 1
    return total


def _check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    return policy


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
