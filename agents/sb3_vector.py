"""Stable-Baselines3 on the batched routing env: an SB3 ``VecEnv`` over ``SwapRoutingVectorEnv``.

SB3 (and sb3-contrib's MaskablePPO) train on its own ``VecEnv`` interface, not on Gymnasium's
``VectorEnv``. :class:`SB3RoutingVecEnv` adapts one: it runs the vector env in
``AutoresetMode.SAME_STEP`` (SB3's convention: a finished sub-env is reset within the step, its
last observation in ``infos[i]["terminal_observation"]``), reports ``dones = terminated |
truncated`` with ``infos[i]["TimeLimit.truncated"]``, adds Monitor-style episode statistics
(``infos[i]["episode"] = {"r", "l", "t"}``) so SB3 logs ``ep_rew_mean`` without a
``VecMonitor``, and answers MaskablePPO's ``env_method("action_masks")`` with the batched masks.

Infos: to keep a step free of per-sub-env Python work, ``infos[i]`` is filled only for the
sub-envs whose episode ended in that step, with the single env's info of that last step
(``event``, ``route`` as a tuple, ``singlet_fidelity``, ...: what
``agents.ppo.FirstOptimalCallback`` reads); the other entries are empty dicts.
``full_infos=True`` fills every entry (slower).

Usage::

    from sb3_contrib import MaskablePPO
    from agents.sb3_vector import SB3RoutingVecEnv

    venv = SB3RoutingVecEnv(num_envs=64, scenario="white-noise-16")
    model = MaskablePPO("MlpPolicy", venv, n_steps=16, seed=0).learn(50_000)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from qnet_envs.routing.env import ScenarioLike
from qnet_envs.routing.vector import SwapRoutingVectorEnv

_SCALAR_KEYS = ("singlet_fidelity", "fully_entangled_fraction", "success_probability")


class SB3RoutingVecEnv(VecEnv):
    """An SB3 ``VecEnv`` playing ``num_envs`` routing games in one :class:`SwapRoutingVectorEnv`.

    Args:
        num_envs: sub-envs, int >= 1.
        scenario: as ``SwapRoutingEnv``'s (name, TOML path or Scenario).
        invalid_action_reward: as ``SwapRoutingEnv``'s.
        full_infos: fill ``infos[i]`` for every sub-env each step, not only for finished ones.
    """

    def __init__(
        self,
        num_envs: int = 1,
        scenario: ScenarioLike = "default",
        invalid_action_reward: float = -1.0,
        full_infos: bool = False,
    ) -> None:
        self.env = SwapRoutingVectorEnv(
            num_envs,
            scenario,
            invalid_action_reward=invalid_action_reward,
            autoreset_mode=AutoresetMode.SAME_STEP,
        )
        self.full_infos = bool(full_infos)
        self.render_mode = None
        super().__init__(num_envs, self.env.single_observation_space, self.env.single_action_space)
        self._actions: NDArray[np.int64] | None = None
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, dtype=np.int64)
        self._start = time.perf_counter()

    # ------------------------------------------------------------------------- VecEnv API
    def reset(self) -> NDArray[np.float32]:
        seeds = self._seeds
        seed = None if all(s is None for s in seeds) else list(seeds)
        obs, info = self.env.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._row_infos(info, range(self.num_envs))
        self._returns[:] = 0.0
        self._lengths[:] = 0
        return obs

    def step_async(self, actions: NDArray[Any]) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int64, copy=False)

    def step_wait(self) -> VecEnvStepReturn:
        assert self._actions is not None, "step_async() first"
        obs, reward, terminated, truncated, info = self.env.step(self._actions)
        self._actions = None
        dones = terminated | truncated
        self._returns += reward
        self._lengths += 1
        if self.full_infos:
            infos = self._row_infos(info, range(self.num_envs))
        else:
            infos = [{} for _ in range(self.num_envs)]
        done_rows = np.flatnonzero(dones).tolist()
        if done_rows:
            final = self._row_infos(info["final_info"], done_rows)
            now = round(time.perf_counter() - self._start, 6)
            for i, row_info in zip(done_rows, final, strict=True):
                row_info["terminal_observation"] = info["final_obs"][i]
                row_info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                row_info["episode"] = {
                    "r": float(self._returns[i]),
                    "l": int(self._lengths[i]),
                    "t": now,
                }
                infos[i] = row_info
            self._returns[dones] = 0.0
            self._lengths[dones] = 0
        return obs, reward.astype(np.float32), dones, infos

    def action_masks(self) -> NDArray[np.bool_]:
        """Valid slots of every sub-env, shape ``(num_envs, 4)``."""
        return self.env.action_masks()

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        rows = self._get_indices(indices)
        if method_name == "action_masks":
            masks = self.env.action_masks()
            return [masks[i] for i in rows]
        raise AttributeError(
            f"env_method: {method_name!r} is not a per-sub-env method of the batched routing "
            "env (allowed: 'action_masks')"
        )

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "action_masks":
            return [self.action_masks] * len(self._get_indices(indices))
        return [getattr(self.env, attr_name)] * len(self._get_indices(indices))

    def has_attr(self, attr_name: str) -> bool:
        return attr_name == "action_masks" or hasattr(self.env, attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if len(self._get_indices(indices)) != self.num_envs:
            raise ValueError("set_attr: the batched env shares attributes; set them for all")
        setattr(self.env, attr_name, value)

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None] * self.num_envs

    def close(self) -> None:
        self.env.close()

    # --------------------------------------------------------------------------- internals
    @staticmethod
    def _row_infos(info: dict[str, Any], rows: Iterable[int]) -> list[dict[str, Any]]:
        """Single-env info dicts of ``rows`` from a vector info (its arrays and masks)."""
        rows = list(rows)
        rewards = info["rewards"]
        names = [k for k in rewards if not k.startswith("_")]
        columns = {key: info[key][rows].tolist() for key in (*_SCALAR_KEYS, "node", "event")}
        component_values = {k: rewards[k][rows].tolist() for k in names}
        component_present = {k: rewards[f"_{k}"][rows].tolist() for k in names}
        routes, masks = info["route"][rows], info["action_mask"][rows]
        out = []
        for j in range(len(rows)):
            route = routes[j]
            row_info = {key: values[j] for key, values in columns.items()}
            row_info["route"] = tuple(route[route >= 0].tolist())
            row_info["action_mask"] = masks[j]
            row_info["rewards"] = {
                k: component_values[k][j] for k in names if component_present[k][j]
            }
            out.append(row_info)
        return out
