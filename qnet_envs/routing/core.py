"""Pure rules of the swap-routing game: ``initial``, ``transition``, ``observe``, ``action_mask``.

No Gymnasium here; ``env.py`` adapts these functions. The game (Routing in quantum networks using
reinforcement learning, Sec. 3):

* The agent starts at Alice holding a singlet (``F = 1``), both halves at Alice.
* Action ``a`` in ``0..MAX_DEGREE-1`` picks slot ``a`` of the current node. A node's slots are its
  links in the order they appear in the scenario's edge list; slots past its degree are empty.
* A valid action swaps the chosen link's state into the held state (the link oriented with its
  first qubit at the current node) and moves the agent to the link's other end. Each link can be
  used once per episode; nodes may repeat.
* Step reward ``F_i - F_{i-1}``; arriving at Bob adds ``ARRIVAL_REWARD_SCALE * F`` and ends the
  episode. An empty slot or a used link ends the episode with ``invalid_action_reward``. Arriving
  at a node (not Bob) whose links are all used ends the episode ("dead end"): every action from
  there would be invalid, so the step reward gets ``invalid_action_reward`` too (the forced
  invalid action itself is not played, nor counted). After ``max_actions`` actions the episode is
  truncated (event ``"out_of_actions"``, unless that action ended it otherwise).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import SINGLET_DM, fully_entangled_fraction, reverse
from qnet_envs.physics.swapping import ZERO_PROBABILITY, swap_map
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario

ARRIVAL_REWARD_SCALE = 100.0
DEFAULT_INVALID_ACTION_REWARD = -1.0
_MAXIMALLY_MIXED_FLAT = (np.eye(4, dtype=np.complex128) / 4.0).ravel()


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    """A scenario compiled for fast stepping.

    Attributes:
        scenario: the source scenario.
        slot_edge: edge index in each node's slot, ``-1`` if empty, shape (num_nodes, MAX_DEGREE).
        slot_neighbor: node at the other end of each slot, ``-1`` if empty, same shape.
        slot_state: the slot's link state with its first qubit at the slot's node, flattened,
            shape (num_nodes, MAX_DEGREE, 16).
        slot_swap: swapping the slot's link into a held state is linear in the held state;
            ``slot_swap[n, k] @ held`` is the unnormalised new held state (flattened), shape
            (num_nodes, MAX_DEGREE, 16, 16). Built from ``qnet_envs.physics.swapping.swap_map``.
    """

    scenario: Scenario
    slot_edge: NDArray[np.int64]
    slot_neighbor: NDArray[np.int64]
    slot_state: NDArray[np.complex128]
    slot_swap: NDArray[np.complex128]
    # Plain-int copies of slot_edge / slot_neighbor: scalar lookups in the hot path.
    _edges: tuple[tuple[int, ...], ...] = dataclasses.field(init=False, repr=False)
    _neighbors: tuple[tuple[int, ...], ...] = dataclasses.field(init=False, repr=False)
    # slot_swap with two more output rows, the trace and <psi-|.|psi->, so one product gives the
    # unnormalised state, its probability and its singlet fidelity: (num_nodes, 4, 18, 16).
    _step: NDArray[np.complex128] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_edges", tuple(map(tuple, self.slot_edge.tolist())))
        object.__setattr__(self, "_neighbors", tuple(map(tuple, self.slot_neighbor.tolist())))
        readout = np.zeros((2, 16), dtype=np.complex128)
        readout[0, [0, 5, 10, 15]] = 1.0  # trace
        readout[1, [5, 10]], readout[1, [6, 9]] = 0.5, -0.5  # <psi-|rho|psi->
        extra = np.einsum("ro,nkoh->nkrh", readout, self.slot_swap)
        object.__setattr__(self, "_step", np.concatenate([self.slot_swap, extra], axis=2))

    @classmethod
    def compile(cls, scenario: Scenario) -> Network:
        n = scenario.num_nodes
        slot_edge = np.full((n, MAX_DEGREE), -1, dtype=np.int64)
        slot_neighbor = np.full((n, MAX_DEGREE), -1, dtype=np.int64)
        slot_state = np.zeros((n, MAX_DEGREE, 16), dtype=np.complex128)
        filled = np.zeros(n, dtype=np.int64)
        for e, (u, v) in enumerate(scenario.edges):
            for here, there, state in (
                (u, v, scenario.states[e]),
                (v, u, reverse(scenario.states[e])),
            ):
                k = filled[here]
                slot_edge[here, k] = e
                slot_neighbor[here, k] = there
                slot_state[here, k] = state.ravel()
                filled[here] += 1
        bilinear = swap_map(scenario.swap_mode).reshape(16, 16, 16)  # (out, held, link)
        slot_swap = np.ascontiguousarray(np.einsum("ohl,nkl->nkoh", bilinear, slot_state))
        return cls(scenario, slot_edge, slot_neighbor, slot_state, slot_swap)


class GameState(NamedTuple):
    """Everything that determines the rest of an episode.

    ``held`` is the state shared by Alice and ``node`` (first qubit at Alice), flattened (16,).
    ``used`` is a bit set of used edge indices (bit ``e`` set once edge ``e`` is consumed).
    ``valid`` says, per slot of ``node``, whether it holds an unused link (derived from ``node``
    and ``used``, kept so that masks cost nothing).
    """

    node: int
    held: NDArray[np.complex128]  # (16,)
    used: int
    route: tuple[int, ...]
    fidelity: float
    probability: float
    actions: int
    valid: tuple[bool, ...]  # (MAX_DEGREE,)


class StepOutcome(NamedTuple):
    """What one transition produced; ``rewards`` holds the named reward components."""

    reward: float
    terminated: bool
    truncated: bool
    event: str  # "moved" | "arrived" | "dead_end" | "empty_slot" | "used_link" | "out_of_actions"
    rewards: dict[str, float]


def initial(network: Network) -> GameState:
    """The agent at Alice holding a singlet."""
    alice = network.scenario.alice
    valid = valid_slots(network, alice, 0)
    return GameState(alice, SINGLET_DM.ravel().copy(), 0, (), 1.0, 1.0, 0, valid)


def valid_slots(network: Network, node: int, used: int) -> tuple[bool, ...]:
    """For each slot of ``node``: does it hold a link not in the ``used`` bit set?"""
    return tuple(e >= 0 and not (used >> e) & 1 for e in network._edges[node])


def action_mask(network: Network, state: GameState) -> NDArray[np.bool_]:
    """Slots holding an unused link, shape (MAX_DEGREE,)."""
    return np.array(state.valid, dtype=bool)


def swap_in(network: Network, held: NDArray[np.complex128], node: int, slot: int):
    """Swap the link in ``slot`` of ``node`` into ``held``.

    Returns ``(new_held_flat, probability, singlet_fidelity)``. The probability is the
    postselected outcome's, and exactly 1 in deterministic mode (the state is still renormalised
    there, to stop rounding drift over long routes).
    """
    out = network._step[node, slot] @ held
    trace = float(out[16].real)
    if network.scenario.swap_mode == "deterministic":
        probability = 1.0
    elif trace < ZERO_PROBABILITY:
        return _MAXIMALLY_MIXED_FLAT.copy(), 0.0, 0.25
    else:
        probability = min(trace, 1.0)
    return out[:16] / trace, probability, float(out[17].real) / trace


def transition(
    network: Network,
    state: GameState,
    action: int,
    invalid_action_reward: float = DEFAULT_INVALID_ACTION_REWARD,
) -> tuple[GameState, StepOutcome]:
    """Apply one action; pure (the input state is not modified)."""
    scenario = network.scenario
    edge = network._edges[state.node][action] if 0 <= action < MAX_DEGREE else -1
    if edge < 0 or (state.used >> edge) & 1:
        event = "empty_slot" if edge < 0 else "used_link"
        after = state._replace(actions=state.actions + 1)
        rewards = {"invalid_action": float(invalid_action_reward)}
        return after, StepOutcome(float(invalid_action_reward), True, False, event, rewards)

    held, probability, singlet = swap_in(network, state.held, state.node, action)
    if scenario.figure_of_merit == "singlet_fidelity":
        fidelity = singlet
    else:
        fidelity = float(fully_entangled_fraction(held.reshape(4, 4)))
    node = network._neighbors[state.node][action]
    used = state.used | (1 << edge)
    after = GameState(
        node=node,
        held=held,
        used=used,
        route=(*state.route, edge),
        fidelity=fidelity,
        probability=state.probability * probability,
        actions=state.actions + 1,
        valid=valid_slots(network, node, used),
    )
    rewards = {"fidelity_gain": fidelity - state.fidelity}
    if node == scenario.bob:
        rewards["arrival"] = ARRIVAL_REWARD_SCALE * fidelity
        return after, StepOutcome(sum(rewards.values()), True, False, "arrived", rewards)
    if not any(after.valid):
        # Every action from here is invalid: the game ends as if the agent had played one.
        rewards["dead_end"] = float(invalid_action_reward)
        return after, StepOutcome(sum(rewards.values()), True, False, "dead_end", rewards)
    truncated = after.actions >= scenario.max_actions
    event = "out_of_actions" if truncated else "moved"
    return after, StepOutcome(sum(rewards.values()), False, truncated, event, rewards)


def route_fidelity(network: Network, route: tuple[int, ...] | list[int]) -> tuple[float, float]:
    """Walk ``route`` (edge indices) from Alice; returns ``(F, success_probability)`` of the state
    Alice then shares with the walk's last node.

    A route ending at Bob is a complete game; a shorter walk gives the state held part-way (an
    empty walk: the singlet, ``(1.0, 1.0)``). The action budget ``max_actions`` is not checked
    here, so routes longer than the game allows (e.g. Dijkstra's) can still be scored.

    Raises ``ValueError`` if the route is not a walk from Alice over distinct links, or if it
    goes on after arriving at Bob (where the game ends).
    """
    state = initial(network)
    for step, edge in enumerate(route):
        if step > 0 and state.node == network.scenario.bob:
            raise ValueError(
                f"route[{step}] = edge {edge} comes after the walk arrived at Bob, where the "
                "game ends"
            )
        slots = [k for k, e in enumerate(network._edges[state.node]) if e == edge]
        if not slots:
            raise ValueError(f"route[{step}] = edge {edge} is not a link of node {state.node}")
        if (state.used >> int(edge)) & 1:
            raise ValueError(f"route[{step}] = edge {edge} is used twice")
        state, _ = transition(network, state, slots[0])
    return state.fidelity, state.probability


def observation_size(scenario: Scenario) -> int:
    """Length of :func:`observe`'s vector: ``num_nodes + num_edges + 2 + MAX_DEGREE``."""
    return scenario.num_nodes + scenario.num_edges + 2 + MAX_DEGREE


def observe(network: Network, state: GameState) -> NDArray[np.float32]:
    """What the agent can know, as one float32 vector in [0, 1].

    Layout: one-hot current node (num_nodes), used links (num_edges), fraction of the action
    budget spent (1), the held state's figure of merit ``F`` (1), the action mask (MAX_DEGREE).
    The link states themselves are not observed: the agent learns them from its rewards.
    """
    scenario = network.scenario
    n, e = scenario.num_nodes, scenario.num_edges
    obs = np.zeros(n + e + 2 + MAX_DEGREE, dtype=np.float32)
    obs[state.node] = 1.0
    used = state.used
    while used:
        low = used & -used
        obs[n + low.bit_length() - 1] = 1.0
        used ^= low
    obs[n + e] = min(state.actions / scenario.max_actions, 1.0)
    obs[n + e + 1] = min(max(state.fidelity, 0.0), 1.0)
    obs[n + e + 2 :] = action_mask(network, state)
    return obs
