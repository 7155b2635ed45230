"""A TorchRL ``EnvBase`` over a :class:`~agents.marl.batched.BatchedParallelEnv`.

The agent axis stays a tensor dimension end to end: one ``step`` moves one ``(n_agents, ...)``
array in and out, with no per-agent Python loop (TorchRL's own ``PettingZooWrapper`` loops
over agents in Python; ``scripts/bench_marl.py`` measures both).

TensorDict layout (TorchRL's multi-agent convention, one group ``"agents"``):

==================================  ============================  ==========================
key                                 shape                         meaning
==================================  ============================  ==========================
``("agents", "observation")``       ``(n_agents, obs_dim)``       float32
``("agents", "active")``            ``(n_agents, 1)`` bool        agent acts at this step
``("agents", "action_mask")``       ``(n_agents, sum(nvec))``     bool, True = valid (if any)
``"state"``                         ``(state_dim,)``              global state (if any)
``("agents", "action")``            ``(n_agents, n_slots)``       int64 choice per slot
``("agents", "reward")``            ``(n_agents, 1)``             float32
``("agents", "done" | ...)``        ``(n_agents, 1)`` bool        per-agent end flags
``"done"``                          ``(1,)`` bool                 every agent finished
``"terminated"``                    ``(1,)`` bool                 every agent terminated
``"truncated"``                     ``(1,)`` bool                 done, not all terminated
==================================  ============================  ==========================

A ``Discrete(n)`` action space is one slot (``nvec = (n,)``); the env hands the batched env
``action[:, 0]``.
"""

from __future__ import annotations

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
)

GROUP = "agents"
OBSERVATION = (GROUP, "observation")
ACTIVE_KEY = (GROUP, ACTIVE)
ACTION_MASK_KEY = (GROUP, ACTION_MASK)
ACTION_KEY = (GROUP, "action")
REWARD_KEY = (GROUP, "reward")
STATE_KEY = "state"


class BatchedTorchEnv(EnvBase):
    """TorchRL env over a batched multi-agent env (CPU, batch size ``[]``).

    Args:
        env: the batched env; its ``reset(seed)`` receives the seed of :meth:`set_seed` once
            (the next reset), later resets continue the env's own random stream.
        use_state: put the env's ``state()`` under ``"state"`` (needs ``env.state_space``).
    """

    def __init__(self, env: BatchedParallelEnv, use_state: bool = False) -> None:
        super().__init__(device="cpu", batch_size=torch.Size([]))
        self.env = env
        self.n_agents = len(env.agent_ids)
        self.obs_dim = flat_obs_dim(env.observation_space)
        self.nvec = action_nvec(env.action_space)
        self.discrete = isinstance(env.action_space, spaces.Discrete)
        if use_state and env.state_space is None:
            raise ValueError("use_state=True needs an env with a state_space (and state())")
        self.use_state = use_state
        self._pending_seed: int | None = None
        self._has_mask = bool(getattr(env, "has_action_mask", False))
        self._make_specs()

    def _make_specs(self) -> None:
        n = self.n_agents
        agent_obs = {
            "observation": Unbounded(shape=(n, self.obs_dim), dtype=torch.float32),
            ACTIVE: Binary(n=1, shape=(n, 1), dtype=torch.bool),
        }
        if self._has_mask:
            agent_obs[ACTION_MASK] = Binary(
                n=sum(self.nvec), shape=(n, sum(self.nvec)), dtype=torch.bool
            )
        observation = {GROUP: Composite(agent_obs, shape=(n,))}
        if self.use_state:
            state_dim = flat_obs_dim(self.env.state_space)
            observation[STATE_KEY] = Unbounded(shape=(state_dim,), dtype=torch.float32)
        self.observation_spec = Composite(observation)
        self.action_spec = Composite(
            {
                GROUP: Composite(
                    {
                        "action": MultiCategorical(
                            nvec=torch.tensor(self.nvec).expand(n, len(self.nvec)).clone(),
                            shape=(n, len(self.nvec)),
                            dtype=torch.int64,
                        )
                    },
                    shape=(n,),
                )
            }
        )
        self.reward_spec = Composite(
            {GROUP: Composite({"reward": Unbounded(shape=(n, 1))}, shape=(n,))}
        )
        flag = {"done", "terminated", "truncated"}
        self.done_spec = Composite(
            {
                **{key: Categorical(n=2, shape=(1,), dtype=torch.bool) for key in flag},
                GROUP: Composite(
                    {key: Categorical(n=2, shape=(n, 1), dtype=torch.bool) for key in flag},
                    shape=(n,),
                ),
            }
        )

    @property
    def has_action_mask(self) -> bool:
        return self._has_mask

    def _observation(self, obs: np.ndarray, info: dict[str, np.ndarray]) -> dict:
        agents = {
            "observation": torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32)),
            ACTIVE: torch.from_numpy(np.asarray(info[ACTIVE], dtype=bool)).unsqueeze(-1),
        }
        if self._has_mask:
            agents[ACTION_MASK] = torch.from_numpy(np.asarray(info[ACTION_MASK], dtype=bool))
        out: dict = {GROUP: TensorDict(agents, batch_size=[self.n_agents])}
        if self.use_state:
            out[STATE_KEY] = torch.from_numpy(np.asarray(self.env.state(), dtype=np.float32))
        return out

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        seed, self._pending_seed = self._pending_seed, None
        obs, info = self.env.reset(seed=seed)
        if bool(ACTION_MASK in info) != self._has_mask:
            raise ValueError(
                "the env's info['action_mask'] appeared or vanished after construction; "
                "has_action_mask must be fixed"
            )
        out = self._observation(obs, info)
        falses = torch.zeros(1, dtype=torch.bool)
        agent_falses = torch.zeros(self.n_agents, 1, dtype=torch.bool)
        for key in ("done", "terminated", "truncated"):
            out[key] = falses.clone()
            out[GROUP].set(key, agent_falses.clone())
        return TensorDict(out, batch_size=[])

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        action = tensordict.get(ACTION_KEY).numpy()
        if self.discrete:
            action = action[:, 0]
        obs, reward, terminated, truncated, info = self.env.step(action)
        out = self._observation(obs, info)
        terminated = torch.from_numpy(np.asarray(terminated, dtype=bool)).unsqueeze(-1)
        truncated = torch.from_numpy(np.asarray(truncated, dtype=bool)).unsqueeze(-1)
        done = terminated | truncated
        group = out[GROUP]
        group.set("reward", torch.from_numpy(np.asarray(reward, dtype=np.float32)).unsqueeze(-1))
        group.set("terminated", terminated)
        group.set("truncated", truncated)
        group.set("done", done)
        over = done.all().reshape(1)
        out["done"] = over
        out["terminated"] = terminated.all().reshape(1)
        out["truncated"] = over & ~out["terminated"]
        return TensorDict(out, batch_size=[])

    def _set_seed(self, seed: int | None) -> None:
        self._pending_seed = seed

    def close(self, *, raise_if_closed: bool = True) -> None:
        self.env.close()
        super().close(raise_if_closed=raise_if_closed)
