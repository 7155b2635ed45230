"""The batched array interface the multi-agent trainer runs on, and an adapter to it.

A :class:`BatchedParallelEnv` keeps the agent axis as the first array dimension: every agent
has the same observation and action space, observations are ``(n_agents, obs_dim)`` float32,
rewards ``(n_agents,)``. Env families with thousands of agents implement it directly (numpy,
no per-agent Python loop); :class:`StackedParallelEnv` turns any PettingZoo parallel env with
homogeneous spaces into one (a Python loop over agents: fine for a few dozen agents).

Conventions:

* Agent ``i`` is ``agent_ids[i]`` (the PettingZoo env's ``possible_agents`` order).
* ``info`` is one dict of arrays: ``"active"`` ``(n_agents,)`` bool, the agents that act at the
  next step (an agent that finished keeps its slot, with its final observation at the step it
  finishes, then a zero observation, zero reward and ``active`` False until the episode ends);
  ``"action_mask"`` ``(n_agents, mask_dim)`` bool when the env offers masks
  (``mask_dim = sum(nvec)`` for MultiDiscrete, ``n`` for Discrete; slot-major; True = valid).
* The episode is over when every agent is terminated or truncated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

ACTIVE = "active"
ACTION_MASK = "action_mask"


@runtime_checkable
class BatchedParallelEnv(Protocol):
    """A multi-agent env whose agent axis is an array dimension.

    Attributes:
        agent_ids: agent names, index ``i`` is row ``i`` of every array.
        observation_space: one agent's ``Box`` of shape ``(obs_dim,)``, float32.
        action_space: one agent's ``Discrete`` or ``MultiDiscrete`` space.
        state_space: the global state's ``Box`` ``(state_dim,)`` or ``None`` without ``state()``.
        has_action_mask: whether ``info`` carries ``"action_mask"``.
    """

    agent_ids: tuple[str, ...]
    observation_space: spaces.Box
    action_space: spaces.Space
    state_space: spaces.Box | None
    has_action_mask: bool

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Start an episode: observations ``(n_agents, obs_dim)`` and the info arrays."""
        ...

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Play ``actions`` (``(n_agents,)`` Discrete, ``(n_agents, n_slots)`` MultiDiscrete;
        rows of inactive agents are ignored): ``obs, rewards (n_agents,) float32,
        terminated (n_agents,) bool, truncated (n_agents,) bool, info``."""
        ...

    def state(self) -> np.ndarray:
        """The global state ``(state_dim,)`` float32 (only when ``state_space`` is not None)."""
        ...

    def close(self) -> None: ...


def n_agents_of(env: BatchedParallelEnv) -> int:
    return len(env.agent_ids)


def hybrid_targets(space: spaces.Space) -> int | None:
    """``n`` when ``space`` is the hybrid ``Dict({"target": Discrete(n), "share": Box(0, 1,
    (1,))})`` action of the offloading family (batched as a float row ``[target, share]``),
    else ``None``."""
    if not isinstance(space, spaces.Dict) or set(space.spaces) != {"target", "share"}:
        return None
    target, share = space["target"], space["share"]
    if not isinstance(target, spaces.Discrete) or int(target.start) != 0:
        return None
    if not isinstance(share, spaces.Box) or share.shape != (1,):
        return None
    if float(share.low[0]) != 0.0 or float(share.high[0]) != 1.0:
        return None
    return int(target.n)


def action_nvec(space: spaces.Space) -> tuple[int, ...]:
    """Choices per action slot: ``(n,)`` for ``Discrete(n)`` (start 0), ``nvec`` for a 1-D
    ``MultiDiscrete`` (start 0); ``ValueError`` for anything else."""
    if isinstance(space, spaces.Discrete):
        if int(space.start) != 0:
            raise ValueError(f"Discrete action spaces must start at 0, got start={space.start}")
        return (int(space.n),)
    if isinstance(space, spaces.MultiDiscrete):
        if space.nvec.ndim != 1 or np.any(space.start != 0):
            raise ValueError(
                "MultiDiscrete action spaces must be 1-D and start at 0, got "
                f"nvec shape {space.nvec.shape}, start {space.start}"
            )
        return tuple(int(n) for n in space.nvec)
    raise ValueError(
        f"action space must be Discrete or MultiDiscrete, got {type(space).__name__} "
        "(a Box head is not implemented; the hybrid Dict(target, share) is hybrid_targets())"
    )


def flat_obs_dim(space: spaces.Space) -> int:
    """Features of one agent's observation: a ``Box`` of any shape, flattened."""
    if not isinstance(space, spaces.Box):
        raise ValueError(f"observation space must be a Box, got {type(space).__name__}")
    return int(np.prod(space.shape))


class StackedParallelEnv:
    """A PettingZoo parallel env with homogeneous spaces as a :class:`BatchedParallelEnv`.

    Observations are flattened to float32 rows; ``info[agent]["action_mask"]`` (if the env
    offers one at reset) is stacked into ``info["action_mask"]`` (rows of finished agents are
    all True, so a masked distribution stays defined). Agents that leave ``env.agents`` keep
    their row (their final observation at the step they leave, zeros after; ``active`` False)
    until the episode ends.

    Whether the env offers masks is found by one probing ``env.reset()`` at construction (the
    trainer reseeds the env at every reset it makes, so the probe changes no run).

    Args:
        env: the PettingZoo parallel env (``possible_agents`` fixed).

    Raises:
        ValueError: when agents differ in observation or action space, or the spaces are not
            a ``Box`` observation and a ``Discrete``/``MultiDiscrete`` action.
    """

    def __init__(self, env: ParallelEnv) -> None:
        self.env = env
        self.agent_ids = tuple(env.possible_agents)
        if not self.agent_ids:
            raise ValueError("env.possible_agents is empty")
        first = self.agent_ids[0]
        self.observation_space_raw = env.observation_space(first)
        self.action_space = env.action_space(first)
        for agent in self.agent_ids[1:]:
            if env.observation_space(agent) != self.observation_space_raw:
                raise ValueError(
                    f"agents {first!r} and {agent!r} have different observation spaces; the "
                    "batched adapter needs homogeneous agents"
                )
            if env.action_space(agent) != self.action_space:
                raise ValueError(
                    f"agents {first!r} and {agent!r} have different action spaces; the batched "
                    "adapter needs homogeneous agents"
                )
        self.obs_dim = flat_obs_dim(self.observation_space_raw)
        self.hybrid = hybrid_targets(self.action_space) is not None
        if self.hybrid:  # one categorical slot (the target) plus a continuous share
            self.nvec = (int(hybrid_targets(self.action_space)),)
        else:
            self.nvec = action_nvec(self.action_space)
        low = np.asarray(self.observation_space_raw.low, dtype=np.float32).reshape(-1)
        high = np.asarray(self.observation_space_raw.high, dtype=np.float32).reshape(-1)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        state_space = getattr(env, "state_space", None)
        self.state_space = None
        if isinstance(state_space, spaces.Box):
            self.state_space = spaces.Box(
                np.asarray(state_space.low, np.float32).reshape(-1),
                np.asarray(state_space.high, np.float32).reshape(-1),
                dtype=np.float32,
            )
        self._index = {agent: i for i, agent in enumerate(self.agent_ids)}
        self._done = np.ones(len(self.agent_ids), dtype=bool)
        _, infos = env.reset()
        self.has_action_mask = any(ACTION_MASK in infos.get(a, {}) for a in env.agents)

    @property
    def n_agents(self) -> int:
        return len(self.agent_ids)

    def _stack_obs(self, obs: dict[str, Any]) -> np.ndarray:
        out = np.zeros((self.n_agents, self.obs_dim), dtype=np.float32)
        for agent, value in obs.items():
            out[self._index[agent]] = np.asarray(value, dtype=np.float32).reshape(-1)
        return out

    def _info(self, infos: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
        info = {ACTIVE: ~self._done.copy()}
        if self.has_action_mask:
            mask = np.ones((self.n_agents, sum(self.nvec)), dtype=bool)
            for agent, agent_info in infos.items():
                if self._done[self._index[agent]]:
                    continue
                if ACTION_MASK not in agent_info:
                    raise ValueError(f"agent {agent!r} gave no info['action_mask'] this step")
                row = np.asarray(agent_info[ACTION_MASK], bool).reshape(-1)
                if row.shape != (sum(self.nvec),):
                    raise ValueError(
                        f"agent {agent!r}: info['action_mask'] has {row.size} entries, expected "
                        f"sum(nvec) = {sum(self.nvec)} (slot-major, True = valid)"
                    )
                mask[self._index[agent]] = row
            info[ACTION_MASK] = mask
        return info

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        obs, infos = self.env.reset(seed=seed)
        self._done = np.array([agent not in self.env.agents for agent in self.agent_ids])
        return self._stack_obs(obs), self._info(infos)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        actions = np.asarray(actions)
        expected: tuple[int, ...] = (self.n_agents, len(self.nvec))
        if isinstance(self.action_space, spaces.Discrete):
            expected = (self.n_agents,)
        if self.hybrid:
            expected = (self.n_agents, 2)  # [target, share] per agent, float
        if actions.shape != expected:
            raise ValueError(f"actions must have shape {expected}, got {actions.shape}")
        live = list(self.env.agents)
        action_dict = {agent: self._agent_action(actions[self._index[agent]]) for agent in live}
        obs, rewards, terminations, truncations, infos = self.env.step(action_dict)
        reward = np.zeros(self.n_agents, dtype=np.float32)
        terminated = self._done.copy()
        truncated = np.zeros(self.n_agents, dtype=bool)
        for agent in live:
            i = self._index[agent]
            reward[i] = rewards.get(agent, 0.0)
            terminated[i] = bool(terminations.get(agent, False))
            truncated[i] = bool(truncations.get(agent, False))
        for agent in self.agent_ids:
            if agent not in self.env.agents:
                self._done[self._index[agent]] = True
        # agents that finish now keep their final observation (a truncated agent's value is
        # bootstrapped from it); those gone before stay zero
        obs_array = self._stack_obs({a: o for a, o in obs.items() if a in live})
        return obs_array, reward, terminated, truncated, self._info(infos)

    def _agent_action(self, row: np.ndarray) -> Any:
        if self.hybrid:
            share = np.asarray([row[1]], dtype=np.float32)
            return {"target": round(float(row[0])), "share": share}
        if isinstance(self.action_space, spaces.Discrete):
            return int(row)
        return row.astype(self.action_space.dtype)

    def state(self) -> np.ndarray:
        if self.state_space is None:
            raise AttributeError("the wrapped env has no state_space")
        return np.asarray(self.env.state(), dtype=np.float32).reshape(-1)

    def close(self) -> None:
        self.env.close()


EnvFactory = Callable[[], "ParallelEnv | BatchedParallelEnv"]
"""Builds a fresh env: a PettingZoo parallel env or a :class:`BatchedParallelEnv`."""


def as_batched(env: ParallelEnv | BatchedParallelEnv) -> BatchedParallelEnv:
    """``env`` itself if it already is a :class:`BatchedParallelEnv`, else stacked."""
    if isinstance(env, ParallelEnv):
        return StackedParallelEnv(env)
    if isinstance(env, BatchedParallelEnv):
        return env
    raise ValueError(
        f"expected a PettingZoo ParallelEnv or a BatchedParallelEnv, got {type(env).__name__}"
    )
