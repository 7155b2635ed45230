"""Small PettingZoo parallel envs for the MARL trainer's tests (beside the shipped example
game, :mod:`agents.marl.examples`)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv


class StaggeredEnv(ParallelEnv):
    """Agent ``i`` of ``n`` plays ``i + 1`` steps, then leaves ``agents`` (terminated; the last
    agent is truncated instead). Observation: ``[i, t, noise]`` (noise from the reset seed;
    ``[i, t, -1]`` as the final observation of a leaving agent);
    reward of an agent: ``(i + 1) * action - t``. ``Discrete(3)`` actions, no masks."""

    metadata: ClassVar[dict[str, Any]] = {"name": "staggered_v0", "render_modes": []}

    def __init__(self, n: int = 3) -> None:
        self.possible_agents = [f"a{i}" for i in range(n)]
        self.agents: list[str] = []
        self._obs_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self._act_space = spaces.Discrete(3)
        self._t = 0
        self._rng = np.random.default_rng()

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_space

    def _obs(self) -> dict[str, np.ndarray]:
        return {
            a: np.array([int(a[1:]), self._t, self._rng.normal()], dtype=np.float32)
            for a in self.agents
        }

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self._t = 0
        return self._obs(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        rewards = {a: float((int(a[1:]) + 1) * int(actions[a]) - self._t) for a in self.agents}
        self._t += 1
        last = self.possible_agents[-1]
        terminations = {a: int(a[1:]) + 1 <= self._t and a != last for a in self.agents}
        truncations = {a: a == last and self._t >= len(self.possible_agents) for a in self.agents}
        self.agents = [a for a in self.agents if not (terminations[a] or truncations[a])]
        obs = self._obs()
        final = {a: np.array([int(a[1:]), self._t, -1.0], np.float32) for a in rewards}
        obs.update({a: final[a] for a in rewards if a not in self.agents})
        return obs, rewards, terminations, truncations, {a: {} for a in rewards}


class MixedSpacesEnv(StaggeredEnv):
    """Agent ``a0`` has a different action space: not batchable."""

    def action_space(self, agent: str) -> spaces.Discrete:
        return spaces.Discrete(4) if agent == "a0" else self._act_space


class RandomLengthEnv(ParallelEnv):
    """Two agents; an episode lasts 1-4 steps (drawn at reset from the seeded stream), then both
    are truncated. Observation ``[t, u]`` with ``u`` uniform; reward ``action * (t + 1)``;
    ``Discrete(2)``. For partial resets of env copies."""

    metadata: ClassVar[dict[str, Any]] = {"name": "random_length_v0", "render_modes": []}

    def __init__(self) -> None:
        self.possible_agents = ["p0", "p1"]
        self.agents: list[str] = []
        self._obs_space = spaces.Box(0.0, 5.0, (2,), np.float32)
        self._act_space = spaces.Discrete(2)
        self._rng = np.random.default_rng()
        self._t, self._length = 0, 1

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_space

    def _obs(self) -> dict[str, np.ndarray]:
        return {a: np.array([self._t, self._rng.random()], np.float32) for a in self.agents}

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self._t, self._length = 0, int(self._rng.integers(1, 5))
        return self._obs(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        rewards = {a: float(int(actions[a]) * (self._t + 1)) for a in self.agents}
        self._t += 1
        over = self._t >= self._length
        obs = self._obs()
        truncations = {a: over for a in self.agents}
        terminations = {a: False for a in self.agents}
        infos = {a: {} for a in self.agents}
        if over:
            self.agents = []
        return obs, rewards, terminations, truncations, infos


class WideEnv(ParallelEnv):
    """qVPN-shaped: 3 agents, a 300-feature observation, ``MultiDiscrete([3, 5, 2] * 50)``
    (150 slots of unequal size), a random action mask per agent and step in ``infos`` (choice 0
    always valid). Reward: the share of an agent's slots on their last valid choice. Two
    rounds."""

    metadata: ClassVar[dict[str, Any]] = {"name": "wide_v0", "render_modes": []}
    NVEC = (3, 5, 2) * 50

    def __init__(self) -> None:
        self.possible_agents = ["org_0", "org_1", "org_2"]
        self.agents: list[str] = []
        self._obs_space = spaces.Box(-1.0, 1.0, (300,), np.float32)
        self._act_space = spaces.MultiDiscrete(self.NVEC)
        self._rng = np.random.default_rng()
        self._t = 0
        self._masks: dict[str, np.ndarray] = {}

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self._act_space

    def _draw(self):
        obs, infos = {}, {}
        for agent in self.agents:
            mask = self._rng.random(sum(self.NVEC)) < 0.6
            mask[np.concatenate([[0], np.cumsum(self.NVEC)[:-1]])] = True
            self._masks[agent] = mask
            obs[agent] = self._rng.uniform(-1, 1, 300).astype(np.float32)
            infos[agent] = {"action_mask": mask}
        return obs, infos

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self._t = 0
        return self._draw()

    def step(self, actions: dict[str, Any]):
        starts = np.concatenate([[0], np.cumsum(self.NVEC)[:-1]])
        rewards = {}
        for agent in self.agents:
            mask = self._masks[agent]
            last = np.array(
                [
                    np.flatnonzero(mask[s : s + n])[-1]
                    for s, n in zip(starts, self.NVEC, strict=True)
                ]
            )
            rewards[agent] = float(np.mean(np.asarray(actions[agent]) == last))
        self._t += 1
        over = self._t >= 2
        agents = list(self.agents)
        obs, infos = self._draw()
        if over:
            self.agents = []
        return obs, rewards, {a: over for a in agents}, {a: False for a in agents}, infos
