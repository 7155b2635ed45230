"""The suite's envs as RLlib envs, and the PPO config ``scripts/train_rllib.py`` trains.

An env is named by a Gymnasium id of the suite (``qnet_envs/SwapRouting-v0``, ...; RLlib's
single-agent path) or by a name in ``qnet_envs.registration.PARALLEL_ENVS`` (``qvpn_v0``,
``planning_v0``, ``offloading_v0``; wrapped in RLlib's ``ParallelPettingZooEnv``). With
``mask=True`` the env's action mask travels in the observation (``agents.rllib.masking``) and
the RL module is RLlib's action-masking PPO module, so masked actions are never sampled. Env
runners build their envs through :func:`make_env` from the ``env_config`` dict, so this module
must be importable on every node of a cluster (install the package there).
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym

import qnet_envs  # noqa: F401  (registers the ids)
from agents.rllib.masking import MaskedObservation, MaskedParallelEnv
from qnet_envs.registration import GYMNASIUM_ENVS, NAMESPACE, PARALLEL_ENVS

RLLIB_ENV_NAME = "qnet_envs_rllib"
POLICIES = ("shared", "per-agent")
SHARED_MODULE = "shared"


def gymnasium_ids() -> list[str]:
    """The suite's Gymnasium ids, with namespace."""
    return [f"{NAMESPACE}/{name}" for name in GYMNASIUM_ENVS]


def is_parallel(env: str) -> bool:
    """Whether ``env`` names a PettingZoo env; ``ValueError`` when it names none of the suite."""
    if env in PARALLEL_ENVS:
        return True
    if env in gymnasium_ids():
        return False
    raise ValueError(
        f"env: {env!r} is not an env of the suite (allowed: "
        f"{', '.join(gymnasium_ids() + sorted(PARALLEL_ENVS))})"
    )


def make_raw_env(env: str, kwargs: dict[str, Any]) -> Any:
    """The env itself: ``gym.make(env, **kwargs)`` or the PettingZoo module's ``parallel_env``."""
    if is_parallel(env):
        return importlib.import_module(PARALLEL_ENVS[env]).parallel_env(**kwargs)
    return gym.make(env, **kwargs)


def make_env(env_config: dict[str, Any]) -> Any:
    """RLlib's env creator: ``env_config`` holds ``env``, ``kwargs`` and ``mask``."""
    env = make_raw_env(env_config["env"], dict(env_config.get("kwargs", {})))
    if is_parallel(env_config["env"]):
        from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

        return ParallelPettingZooEnv(MaskedParallelEnv(env) if env_config["mask"] else env)
    return MaskedObservation(env) if env_config["mask"] else env


def register() -> None:
    """Register :func:`make_env` with Ray Tune's registry as :data:`RLLIB_ENV_NAME`."""
    from ray.tune.registry import register_env

    register_env(RLLIB_ENV_NAME, make_env)


def shared_mapping(agent_id: Any, *args: Any, **kwargs: Any) -> str:
    """Every agent plays the one shared module."""
    return SHARED_MODULE


def own_mapping(agent_id: Any, *args: Any, **kwargs: Any) -> str:
    """Every agent plays its own module, named after it."""
    return str(agent_id)


def build_config(
    env: str,
    env_kwargs: dict[str, Any],
    *,
    policies: str = "shared",
    mask: bool = True,
    num_env_runners: int = 1,
    train_batch_size: int = 1000,
    minibatch_size: int = 250,
    num_epochs: int = 4,
    lr: float = 3e-4,
    hidden: tuple[int, ...] = (64, 64),
    seed: int = 0,
) -> Any:
    """RLlib's ``PPOConfig`` (new API stack) for ``env``; arguments are checked by the caller."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    parallel = is_parallel(env)
    if policies not in POLICIES:
        raise ValueError(f"policies: {policies!r} (allowed: {', '.join(POLICIES)})")
    if policies == "per-agent" and not parallel:
        raise ValueError(f"policies: 'per-agent' needs a PettingZoo env ({env} has one agent)")
    register()
    module_class = None
    if mask:
        from ray.rllib.examples.rl_modules.classes.action_masking_rlm import (
            ActionMaskingTorchRLModule,
        )

        module_class = ActionMaskingTorchRLModule
    model_config = DefaultModelConfig(fcnet_hiddens=list(hidden), vf_share_layers=False)
    module_spec = RLModuleSpec(module_class=module_class, model_config=model_config)
    config = (
        PPOConfig()
        .environment(RLLIB_ENV_NAME, env_config={"env": env, "kwargs": env_kwargs, "mask": mask})
        .framework("torch")
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=1)
        .learners(num_learners=0)
        .training(
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=num_epochs,
            lr=lr,
        )
        .debugging(seed=seed)
    )
    if not parallel:
        return config.rl_module(rl_module_spec=module_spec)
    probe = make_raw_env(env, env_kwargs)
    agents = list(probe.possible_agents)
    probe.close()
    if policies == "shared":
        modules, mapping = {SHARED_MODULE: module_spec}, shared_mapping
    else:
        modules, mapping = {a: module_spec for a in agents}, own_mapping
    return config.multi_agent(policies=set(modules), policy_mapping_fn=mapping).rl_module(
        rl_module_spec=MultiRLModuleSpec(rl_module_specs=modules)
    )
