"""Action masks carried in the observation, the form RLlib's masking RL module reads.

RLlib's PPO sees only observations, so the masks the suite's envs put in ``info["action_mask"]``
are moved into a ``Dict({"observations": obs, "action_mask": Box(0, 1, (n,))})`` observation,
``n`` the number of logits of the action space (``Discrete(n)``: ``n``; ``MultiDiscrete(nvec)``:
``sum(nvec)``, component-major, the order in which RLlib concatenates a multi-categorical's
logits). The masking module adds ``log(mask)`` to the logits, so masked actions are never
sampled. Nothing here imports Ray.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo.utils.env import ParallelEnv

OBSERVATIONS = "observations"
ACTION_MASK = "action_mask"


def mask_size(action_space: spaces.Space) -> int:
    """Logits of ``action_space``; ``ValueError`` for a space without a categorical mask."""
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim == 1:
        return int(action_space.nvec.sum())
    raise ValueError(
        f"action_space: {action_space} has no categorical action mask "
        f"(allowed: Discrete, one-dimensional MultiDiscrete)"
    )


def masked_observation_space(observation_space: spaces.Space, size: int) -> spaces.Dict:
    """The Dict space of an observation with its mask of ``size`` logits."""
    return spaces.Dict(
        {
            OBSERVATIONS: observation_space,
            ACTION_MASK: spaces.Box(0.0, 1.0, (size,), np.float32),
        }
    )


def flat_mask(info: dict[str, Any], size: int, where: str) -> NDArray[np.float32]:
    """``info["action_mask"]`` as ``size`` float32 0/1 entries, checked."""
    if ACTION_MASK not in info:
        raise ValueError(f"{where}: info has no 'action_mask' (run with masking off for this env)")
    mask = np.asarray(info[ACTION_MASK], dtype=np.float32).reshape(-1)
    if mask.size != size:
        raise ValueError(f"{where}: action_mask has {mask.size} entries, the action space {size}")
    return mask


class MaskedObservation(gym.Wrapper):
    """A Gymnasium env whose observation carries ``info["action_mask"]`` (see the module doc).

    After the episode's last step the env's mask may be all False; the observation then
    carries it unchanged (no action is taken from a final observation).
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._size = mask_size(env.action_space)
        self.observation_space = masked_observation_space(env.observation_space, self._size)

    def _wrap(self, observation: Any, info: dict[str, Any]) -> dict[str, Any]:
        return {OBSERVATIONS: observation, ACTION_MASK: flat_mask(info, self._size, "env")}

    def reset(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        return self._wrap(observation, info), info

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._wrap(observation, info), reward, terminated, truncated, info


class MaskedParallelEnv(ParallelEnv):
    """A PettingZoo parallel env whose observations carry ``infos[agent]["action_mask"]``."""

    def __init__(self, env: ParallelEnv) -> None:
        self.env = env
        self.metadata = getattr(env, "metadata", {})
        self.possible_agents = list(env.possible_agents)
        self._sizes = {a: mask_size(env.action_space(a)) for a in self.possible_agents}
        self._observation_spaces = {
            a: masked_observation_space(env.observation_space(a), self._sizes[a])
            for a in self.possible_agents
        }

    @property
    def agents(self) -> list[str]:  # type: ignore[override]
        return self.env.agents

    @property
    def render_mode(self) -> str | None:  # type: ignore[override]
        return getattr(self.env, "render_mode", None)

    def observation_space(self, agent: str) -> spaces.Dict:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.env.action_space(agent)

    def _wrap(
        self, observations: dict[str, Any], infos: dict[str, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        return {
            a: {
                OBSERVATIONS: observation,
                ACTION_MASK: flat_mask(infos.get(a, {}), self._sizes[a], f"agent {a!r}"),
            }
            for a, observation in observations.items()
        }

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._wrap(observations, infos), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        return self._wrap(observations, infos), rewards, terminations, truncations, infos

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    def state(self) -> NDArray:
        return self.env.state()
