"""A tiny cooperative game for the multi-agent trainer: its tests, benchmark and CLI example.

**Slot dispersion.** ``n_agents`` agents each fill ``n_slots`` slots; in every slot an agent
picks an item ``1..n_items`` or ``0`` ("none"), the action layout the qVPN env uses
(``MultiDiscrete([n_items + 1] * n_slots)``). Item ``c`` in slot ``s`` is worth
``values[r, s, c - 1]`` in round ``r``: an agent alone on it earns that value; agents that pick
the same item in the same slot collide and each pays ``collision_cost``. Some items are
forbidden to some agents (``forbidden[a, s, c - 1]``, shown as an action mask in ``infos``):
picking one costs ``invalid_cost`` and takes nothing. An episode is ``rounds`` rounds; the
observation of an agent is its index in binary, a one-hot of the round, and a bias feature.

Slots and rounds are independent, so the optimum is exact: :meth:`DispersionGame.optimum`
enumerates the ``(n_items + 1) ** n_agents`` joint choices of each slot and round. With
``cooperative=True`` every agent receives the team reward (the sum of all agents' rewards);
otherwise each its own.

Two implementations share :class:`DispersionGame`: :class:`DispersionParallelEnv` (PettingZoo
parallel API, one dict entry per agent) and :class:`DispersionBatchedEnv` (the
:class:`~agents.marl.batched.BatchedParallelEnv` arrays, vectorised over agents).

Usage (the CLI's ``--env`` takes either factory)::

    python scripts/train_marl.py --env agents.marl.examples:parallel_env --total-steps 20000
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from agents.marl.batched import ACTION_MASK, ACTIVE


@dataclasses.dataclass(frozen=True)
class DispersionGame:
    """The rules: sizes, item values and forbidden items (pure numpy, no env state)."""

    n_agents: int = 3
    """Agents (organisations); >= 1."""
    n_slots: int = 4
    """Action slots per agent (``MultiDiscrete`` entries); >= 1."""
    n_items: int = 3
    """Items per slot besides "none"; >= 1."""
    rounds: int = 1
    """Rounds per episode; >= 1."""
    cooperative: bool = True
    """Every agent gets the team reward (True) or its own (False)."""
    collision_cost: float = 0.5
    """What each of two or more agents on the same item in a slot pays; >= 0."""
    invalid_cost: float = 1.0
    """What picking a forbidden item costs; >= 0."""
    forbidden_fraction: float = 0.2
    """Share of (agent, slot, item) choices forbidden (seeded by ``layout_seed``); [0, 1)."""
    layout_seed: int = 0
    """Seeds the item values (uniform in [0.1, 1)) and the forbidden choices."""

    def __post_init__(self) -> None:
        for field in ("n_agents", "n_slots", "n_items", "rounds"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"DispersionGame.{field} must be an integer >= 1, got {value!r}")
        for field in ("collision_cost", "invalid_cost"):
            value = getattr(self, field)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(
                    f"DispersionGame.{field} must be a finite number >= 0, got {value}"
                )
        if not 0 <= self.forbidden_fraction < 1:
            raise ValueError(
                "DispersionGame.forbidden_fraction must lie in [0, 1), "
                f"got {self.forbidden_fraction}"
            )

    @functools.cached_property
    def values(self) -> np.ndarray:
        """Item values ``(rounds, n_slots, n_items)``."""
        rng = np.random.default_rng(self.layout_seed)
        return rng.uniform(0.1, 1.0, size=(self.rounds, self.n_slots, self.n_items))

    @functools.cached_property
    def forbidden(self) -> np.ndarray:
        """Forbidden choices ``(n_agents, n_slots, n_items)`` bool."""
        rng = np.random.default_rng([self.layout_seed, 1])
        return rng.random((self.n_agents, self.n_slots, self.n_items)) < self.forbidden_fraction

    @property
    def id_bits(self) -> int:
        return max(1, int(np.ceil(np.log2(self.n_agents))))

    @property
    def obs_dim(self) -> int:
        return self.id_bits + self.rounds + 1

    def observe(self, round_: int) -> np.ndarray:
        """Observations ``(n_agents, obs_dim)`` float32 at the start of round ``round_``."""
        ids = np.arange(self.n_agents)[:, None] >> np.arange(self.id_bits)[None, :] & 1
        phase = np.zeros((self.n_agents, self.rounds), dtype=np.float32)
        if round_ < self.rounds:
            phase[:, round_] = 1.0
        bias = np.ones((self.n_agents, 1), dtype=np.float32)
        return np.concatenate([ids.astype(np.float32), phase, bias], axis=1)

    def action_mask(self) -> np.ndarray:
        """Valid choices ``(n_agents, n_slots * (n_items + 1))`` bool, slot-major ("none" is
        always valid)."""
        valid = np.concatenate(
            [np.ones((self.n_agents, self.n_slots, 1), bool), ~self.forbidden], axis=2
        )
        return valid.reshape(self.n_agents, -1)

    def own_rewards(self, round_: int, actions: np.ndarray) -> np.ndarray:
        """Each agent's own reward ``(n_agents,)`` for choices ``(n_agents, n_slots)``."""
        actions = np.asarray(actions, dtype=np.int64)
        slots = np.arange(self.n_slots)[None, :]
        picked = actions > 0
        item = np.where(picked, actions - 1, 0)
        invalid = picked & self.forbidden[np.arange(self.n_agents)[:, None], slots, item]
        taking = picked & ~invalid
        # counts[s, c]: agents validly on item c of slot s
        counts = np.zeros((self.n_slots, self.n_items), dtype=np.int64)
        np.add.at(counts, (np.broadcast_to(slots, actions.shape)[taking], item[taking]), 1)
        alone = taking & (counts[slots, item] == 1)
        collided = taking & ~alone
        reward = (
            np.where(alone, self.values[round_][slots, item], 0.0)
            - self.collision_cost * collided
            - self.invalid_cost * invalid
        ).sum(axis=1)
        return reward.astype(np.float32)

    def rewards(self, round_: int, actions: np.ndarray) -> np.ndarray:
        """The rewards the agents receive ``(n_agents,)``: team total or own."""
        own = self.own_rewards(round_, actions)
        if self.cooperative:
            return np.full(self.n_agents, own.sum(), dtype=np.float32)
        return own

    def optimum(self) -> float:
        """The best team return of an episode (sum over agents and rounds), by enumeration."""
        if (self.n_items + 1) ** self.n_agents > 200_000:
            raise ValueError(
                "optimum() enumerates (n_items + 1) ** n_agents joint choices: too many"
            )
        choices = np.array(
            list(itertools.product(range(self.n_items + 1), repeat=self.n_agents))
        )  # (J, n_agents)
        total = 0.0
        for round_ in range(self.rounds):
            for slot in range(self.n_slots):
                best = -np.inf
                for joint in choices:
                    actions = np.zeros((self.n_agents, self.n_slots), dtype=np.int64)
                    actions[:, slot] = joint
                    best = max(best, float(self.own_rewards(round_, actions).sum()))
                total += best
        return total


class DispersionParallelEnv(ParallelEnv):
    """The slot-dispersion game through the PettingZoo parallel API.

    Agents ``agent_0 ... agent_{n-1}``; ``infos[agent]["action_mask"]`` is the agent's row of
    :meth:`DispersionGame.action_mask` (``action_masks=False``: infos are empty; forbidden
    items still cost ``invalid_cost``). All agents finish together after ``rounds`` steps
    (terminated). ``state()`` is the round one-hot.
    """

    metadata: ClassVar[dict[str, Any]] = {"name": "slot_dispersion_v0", "render_modes": []}

    def __init__(
        self, game: DispersionGame | None = None, action_masks: bool = True, **kwargs: Any
    ) -> None:
        self.game = game if game is not None else DispersionGame(**kwargs)
        self.action_masks = action_masks
        self.possible_agents = [f"agent_{i}" for i in range(self.game.n_agents)]
        self.agents: list[str] = []
        low = np.zeros(self.game.obs_dim, np.float32)
        self._obs_space = spaces.Box(low, np.ones_like(low), dtype=np.float32)
        self._act_space = spaces.MultiDiscrete([self.game.n_items + 1] * self.game.n_slots)
        self.state_space = spaces.Box(0.0, 1.0, (self.game.rounds,), np.float32)
        self._round = 0

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self._act_space

    def _obs_infos(self) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        obs = self.game.observe(self._round)
        mask = self.game.action_mask()
        return (
            {a: obs[i] for i, a in enumerate(self.possible_agents)},
            {
                a: {ACTION_MASK: mask[i]} if self.action_masks else {}
                for i, a in enumerate(self.possible_agents)
            },
        )

    def reset(self, seed: int | None = None, options: dict | None = None):
        self.agents = list(self.possible_agents)
        self._round = 0
        return self._obs_infos()

    def step(self, actions: dict[str, Any]):
        joint = np.stack([np.asarray(actions[a]) for a in self.possible_agents])
        reward = self.game.rewards(self._round, joint)
        self._round += 1
        over = self._round >= self.game.rounds
        obs, infos = self._obs_infos()
        agents = self.possible_agents
        rewards = {a: float(reward[i]) for i, a in enumerate(agents)}
        terminations = {a: over for a in agents}
        truncations = {a: False for a in agents}
        if over:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        state = np.zeros(self.game.rounds, np.float32)
        if self._round < self.game.rounds:
            state[self._round] = 1.0
        return state


class DispersionBatchedEnv:
    """The slot-dispersion game as a :class:`~agents.marl.batched.BatchedParallelEnv`
    (``action_masks`` as in :class:`DispersionParallelEnv`)."""

    def __init__(
        self, game: DispersionGame | None = None, action_masks: bool = True, **kwargs: Any
    ) -> None:
        self.game = game if game is not None else DispersionGame(**kwargs)
        self.agent_ids = tuple(f"agent_{i}" for i in range(self.game.n_agents))
        low = np.zeros(self.game.obs_dim, np.float32)
        self.observation_space = spaces.Box(low, np.ones_like(low), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete([self.game.n_items + 1] * self.game.n_slots)
        self.state_space = spaces.Box(0.0, 1.0, (self.game.rounds,), np.float32)
        self.has_action_mask = action_masks
        self._mask = self.game.action_mask()
        self._round = 0

    def _info(self, active: bool) -> dict[str, np.ndarray]:
        info = {ACTIVE: np.full(self.game.n_agents, active)}
        if self.has_action_mask:  # finished agents: every choice valid
            info[ACTION_MASK] = self._mask.copy() if active else np.ones_like(self._mask)
        return info

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        self._round = 0
        return self.game.observe(0), self._info(True)

    def step(self, actions: np.ndarray):
        reward = self.game.rewards(self._round, actions)
        self._round += 1
        over = self._round >= self.game.rounds
        terminated = np.full(self.game.n_agents, over)
        truncated = np.zeros(self.game.n_agents, dtype=bool)
        obs = self.game.observe(self._round)  # at the end: no round one-hot
        return obs, reward, terminated, truncated, self._info(not over)

    def state(self) -> np.ndarray:
        state = np.zeros(self.game.rounds, np.float32)
        if self._round < self.game.rounds:
            state[self._round] = 1.0
        return state

    def close(self) -> None:
        pass


def parallel_env(**kwargs: Any) -> DispersionParallelEnv:
    """The PettingZoo slot-dispersion env (keyword arguments: :class:`DispersionGame` fields)."""
    return DispersionParallelEnv(**kwargs)


def batched_env(**kwargs: Any) -> DispersionBatchedEnv:
    """The batched slot-dispersion env (keyword arguments: :class:`DispersionGame` fields)."""
    return DispersionBatchedEnv(**kwargs)
