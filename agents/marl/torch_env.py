"""A TorchRL ``EnvBase`` over one or several copies of a
:class:`~agents.marl.batched.BatchedParallelEnv`.

The agent axis stays a tensor dimension end to end: one ``step`` moves one ``(n_agents, ...)``
array per copy in and out, with no per-agent Python loop (TorchRL's own ``PettingZooWrapper``
loops over agents in Python; ``scripts/bench_marl.py`` measures both). Several copies side by
side (a sequence of envs) add a leading batch dimension ``n_envs``: TorchRL's per-step cost,
which dominates for a handful of agents, is then shared by all copies. A copy whose episode
ends is reset alone (TorchRL's partial ``_reset``).

TensorDict layout (TorchRL's multi-agent convention, one group ``"agents"``; ``B`` is ``()``
for one env and ``(n_envs,)`` for copies):

==================================  ==============================  =========================
key                                 shape                           meaning
==================================  ==============================  =========================
``("agents", "observation")``       ``(*B, n_agents, obs_dim)``     float32
``("agents", "active")``            ``(*B, n_agents, 1)`` bool      agent acts at this step
``("agents", "action_mask")``       ``(*B, n_agents, sum(nvec))``   bool, True = valid (if any)
``"state"``                         ``(*B, state_dim)``             global state (if any)
``("agents", "action")``            ``(*B, n_agents, n_slots)``     int64 choice per slot
``("agents", "reward")``            ``(*B, n_agents, 1)``           float32
``("agents", "done" | ...)``        ``(*B, n_agents, 1)`` bool      per-agent end flags
``"done"``                          ``(*B, 1)`` bool                every agent finished
``"terminated"``                    ``(*B, 1)`` bool                every agent terminated
``"truncated"``                     ``(*B, 1)`` bool                done, not all terminated
==================================  ==============================  =========================

A ``Discrete(n)`` action space is one slot (``nvec = (n,)``); the env hands the batched env
``action[:, 0]``. The hybrid ``Dict(target Discrete(n), share Box(0, 1, (1,)))`` action
(:func:`~agents.marl.batched.hybrid_targets`) is ``("agents", "action")`` ``(*B, n_agents,
2)`` float32 ``[target, share]``, with ``nvec = (n,)`` for the target (and its mask, if any).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from gymnasium import spaces
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Binary, Categorical, Composite, MultiCategorical, Unbounded
from torchrl.envs import EnvBase

from agents.marl.batched import (
    ACTION_MASK,
    ACTIVE,
    BatchedParallelEnv,
    action_nvec,
    flat_obs_dim,
    hybrid_targets,
)

GROUP = "agents"
OBSERVATION = (GROUP, "observation")
ACTIVE_KEY = (GROUP, ACTIVE)
ACTION_MASK_KEY = (GROUP, ACTION_MASK)
ACTION_KEY = (GROUP, "action")
REWARD_KEY = (GROUP, "reward")
STATE_KEY = "state"
FLAGS = ("done", "terminated", "truncated")


class BatchedTorchEnv(EnvBase):
    """TorchRL env over a batched multi-agent env, or over copies of one (CPU).

    Args:
        env: one batched env (batch size ``[]``) or a sequence of copies with the same agents
            and spaces (batch size ``[n_envs]``). Each copy's ``reset(seed)`` receives the seed
            of :meth:`set_seed` (``seed + i`` for copy ``i``) once, at its next reset; later
            resets continue the copy's own random stream.
        use_state: put the env's ``state()`` under ``"state"`` (needs ``env.state_space``).
    """

    def __init__(
        self, env: BatchedParallelEnv | Sequence[BatchedParallelEnv], use_state: bool = False
    ) -> None:
        self.vectorised = isinstance(env, Sequence)
        self.envs: list[BatchedParallelEnv] = list(env) if self.vectorised else [env]
        if not self.envs:
            raise ValueError("BatchedTorchEnv needs at least one env")
        lead = (len(self.envs),) if self.vectorised else ()
        super().__init__(device="cpu", batch_size=torch.Size(lead))
        first = self.envs[0]
        for other in self.envs[1:]:
            same = (
                other.agent_ids == first.agent_ids
                and other.observation_space == first.observation_space
                and other.action_space == first.action_space
                and bool(getattr(other, "has_action_mask", False))
                == bool(getattr(first, "has_action_mask", False))
            )
            if not same:
                raise ValueError("env copies must have the same agents, spaces and action masks")
        self.env = first
        self.n_agents = len(first.agent_ids)
        self.obs_dim = flat_obs_dim(first.observation_space)
        n_targets = hybrid_targets(first.action_space)
        self.hybrid = n_targets is not None  # action row [target, share], float32
        self.nvec = (n_targets,) if self.hybrid else action_nvec(first.action_space)
        self.discrete = isinstance(first.action_space, spaces.Discrete)
        if use_state and first.state_space is None:
            raise ValueError("use_state=True needs an env with a state_space (and state())")
        self.use_state = use_state
        self._pending_seeds: list[int | None] = [None] * len(self.envs)
        self._has_mask = bool(getattr(first, "has_action_mask", False))
        self._slot_starts = np.concatenate([[0], np.cumsum(self.nvec)[:-1]]).astype(np.intp)
        self._last: list[dict[str, np.ndarray]] = [{} for _ in self.envs]
        self._make_specs(lead)

    @property
    def n_envs(self) -> int:
        return len(self.envs)

    def _make_specs(self, lead: tuple[int, ...]) -> None:
        n = self.n_agents
        group = (*lead, n)
        agent_obs = {
            "observation": Unbounded(shape=(*group, self.obs_dim), dtype=torch.float32),
            ACTIVE: Binary(n=1, shape=(*group, 1), dtype=torch.bool),
        }
        if self._has_mask:
            width = sum(self.nvec)
            agent_obs[ACTION_MASK] = Binary(n=width, shape=(*group, width), dtype=torch.bool)
        observation = {GROUP: Composite(agent_obs, shape=group)}
        if self.use_state:
            state_dim = flat_obs_dim(self.env.state_space)
            observation[STATE_KEY] = Unbounded(shape=(*lead, state_dim), dtype=torch.float32)
        self.observation_spec = Composite(observation, shape=lead)
        slots = len(self.nvec)
        nvec = torch.tensor(self.nvec).expand(*group, slots).clone()
        action = MultiCategorical(nvec=nvec, shape=(*group, slots), dtype=torch.int64)
        if self.hybrid:
            action = Unbounded(shape=(*group, 2), dtype=torch.float32)
        self.action_spec = Composite(
            {GROUP: Composite({"action": action}, shape=group)}, shape=lead
        )
        reward = Unbounded(shape=(*group, 1))
        self.reward_spec = Composite(
            {GROUP: Composite({"reward": reward}, shape=group)}, shape=lead
        )
        root = {key: Categorical(n=2, shape=(*lead, 1), dtype=torch.bool) for key in FLAGS}
        agents = {key: Categorical(n=2, shape=(*group, 1), dtype=torch.bool) for key in FLAGS}
        self.done_spec = Composite({**root, GROUP: Composite(agents, shape=group)}, shape=lead)

    @property
    def has_action_mask(self) -> bool:
        return self._has_mask

    def _record(self, i: int, obs: np.ndarray, info: dict[str, np.ndarray]) -> dict:
        record = {
            "observation": np.asarray(obs, dtype=np.float32),
            ACTIVE: np.asarray(info[ACTIVE], dtype=bool)[:, None],
        }
        if self._has_mask:
            mask = np.asarray(info[ACTION_MASK], dtype=bool)
            valid = np.add.reduceat(mask, self._slot_starts, axis=1) > 0  # (n_agents, n_slots)
            if not valid.all():
                agent, slot = np.argwhere(~valid)[0]
                raise ValueError(
                    f"action_mask leaves agent {self.env.agent_ids[agent]!r} no valid choice in "
                    f"slot {slot}: every slot needs one (e.g. a 'none' choice)"
                )
            record[ACTION_MASK] = mask
        if self.use_state:
            record[STATE_KEY] = np.asarray(self.envs[i].state(), dtype=np.float32)
        return record

    def _pack(self, records: list[dict[str, np.ndarray]], keys: Sequence[str]) -> TensorDict:
        """Stack per-copy arrays ``keys`` into the output TensorDict (no leading dim for one
        env)."""

        def stacked(key: str) -> torch.Tensor:
            if self.vectorised:
                return torch.from_numpy(np.stack([r[key] for r in records]))
            return torch.from_numpy(np.ascontiguousarray(records[0][key]))

        group = (*self.batch_size, self.n_agents)
        agents = {key: stacked(key) for key in keys if key != STATE_KEY}
        out = {GROUP: TensorDict(agents, batch_size=group)}
        if self.use_state:
            out[STATE_KEY] = stacked(STATE_KEY)
        return TensorDict(out, batch_size=self.batch_size)

    def _observation_keys(self) -> list[str]:
        keys = ["observation", ACTIVE]
        if self._has_mask:
            keys.append(ACTION_MASK)
        if self.use_state:
            keys.append(STATE_KEY)
        return keys

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        which = range(self.n_envs)
        if tensordict is not None and "_reset" in tensordict.keys():  # noqa: SIM118 (TensorDict)
            flags = tensordict.get("_reset").reshape(-1)
            which = [i for i in range(self.n_envs) if bool(flags[i])]
        for i in which:
            seed, self._pending_seeds[i] = self._pending_seeds[i], None
            obs, info = self.envs[i].reset(seed=seed)
            if bool(ACTION_MASK in info) != self._has_mask:
                raise ValueError(
                    "the env's info['action_mask'] appeared or vanished after construction; "
                    "has_action_mask must be fixed"
                )
            record = self._record(i, obs, info)
            for key in FLAGS:
                record[key] = np.zeros((self.n_agents, 1), dtype=bool)
            self._last[i] = record
        # copies not reset keep their last step's values: TorchRL takes only the reset ones
        out = self._pack(self._last, [*self._observation_keys(), *FLAGS])
        for key in FLAGS:
            out[key] = torch.zeros((*self.batch_size, 1), dtype=torch.bool)
        return out

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        actions = tensordict.get(ACTION_KEY).numpy()
        if not self.vectorised:
            actions = actions[None]
        for i, env in enumerate(self.envs):
            action = actions[i][:, 0] if self.discrete else actions[i]
            obs, reward, terminated, truncated, info = env.step(action)
            record = self._record(i, obs, info)
            record["reward"] = np.asarray(reward, dtype=np.float32)[:, None]
            record["terminated"] = np.asarray(terminated, dtype=bool)[:, None]
            record["truncated"] = np.asarray(truncated, dtype=bool)[:, None]
            record["done"] = record["terminated"] | record["truncated"]
            self._last[i] = record
        out = self._pack(self._last, [*self._observation_keys(), "reward", *FLAGS])
        group = out[GROUP]
        over = group["done"].all(-2)
        out["done"] = over
        out["terminated"] = group["terminated"].all(-2)
        out["truncated"] = over & ~out["terminated"]
        return out

    def _set_seed(self, seed: int | None) -> None:
        self._pending_seeds = [None if seed is None else seed + i for i in range(self.n_envs)]

    def close(self, *, raise_if_closed: bool = True) -> None:
        for env in self.envs:
            env.close()
        super().close(raise_if_closed=raise_if_closed)
