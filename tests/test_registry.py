"""Registry-wide API tests: every registered env and every listed PettingZoo env gets them.

A new env joins by being registered in ``qnet_envs/registration.py``.
"""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import qnet_envs
from qnet_envs.registration import GYMNASIUM_ENVS, NAMESPACE, PARALLEL_ENVS

ENV_IDS = sorted(f"{NAMESPACE}/{name}" for name in GYMNASIUM_ENVS)
ROLLOUT_STEPS = 200


def test_every_listed_env_is_registered_with_gymnasium():
    registered = {env_id for env_id in gym.registry if env_id.startswith(f"{NAMESPACE}/")}
    assert set(ENV_IDS) <= registered
    assert "qnet_envs/SwapRouting-v0" in registered


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def _rollout(env: gym.Env, seed: int, steps: int) -> list[tuple]:
    """Seeded random actions, restarting on episode end; records everything observable."""
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, size=steps)
    obs, info = env.reset(seed=seed)
    trace = [("reset", obs.tobytes(), repr(sorted(info.items())))]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.all(np.isfinite(obs)) and np.isfinite(reward)
        assert env.observation_space.contains(obs)
        trace.append(
            (int(action), obs.tobytes(), reward, terminated, truncated, repr(sorted(info.items())))
        )
        if terminated or truncated:
            obs, info = env.reset()
            trace.append(("reset", obs.tobytes(), repr(sorted(info.items()))))
    return trace


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory(env_id):
    first = _rollout(gym.make(env_id), seed=123, steps=ROLLOUT_STEPS)
    second = _rollout(gym.make(env_id), seed=123, steps=ROLLOUT_STEPS)
    assert first == second


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickle_round_trip_mid_episode(env_id):
    env = gym.make(env_id)
    env.reset(seed=7)
    rng = np.random.default_rng(7)
    for _ in range(3):
        *_, terminated, truncated, _ = env.step(env.unwrapped.action_masks().argmax())
        if terminated or truncated:
            env.reset()
    clone = pickle.loads(pickle.dumps(env))
    for action in rng.integers(0, env.action_space.n, size=50):
        original = env.step(action)
        copied = clone.step(action)
        np.testing.assert_array_equal(original[0], copied[0])
        assert original[1:4] == copied[1:4]
        assert repr(sorted(original[4].items())) == repr(sorted(copied[4].items()))
        if original[2] or original[3]:
            np.testing.assert_array_equal(env.reset()[0], clone.reset()[0])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_make_without_prior_import(env_id):
    code = (
        "import gymnasium as gym; "
        f"env = gym.make('qnet_envs:{env_id}'); env.reset(seed=0); print(env.spec.id)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == env_id


@pytest.mark.parametrize("name", sorted(PARALLEL_ENVS))
def test_parallel_api(name):
    from pettingzoo.test import parallel_api_test

    module = importlib.import_module(PARALLEL_ENVS[name])
    parallel_api_test(module.parallel_env(), num_cycles=200)


@pytest.mark.parametrize("name", sorted(PARALLEL_ENVS))
def test_parallel_seed(name):
    from pettingzoo.test import parallel_seed_test

    module = importlib.import_module(PARALLEL_ENVS[name])
    parallel_seed_test(module.parallel_env)


def test_import_is_light():
    code = (
        "import sys, qnet_envs; "
        "heavy = [m for m in ('torch', 'qutip', 'stable_baselines3', 'matplotlib', 'networkx') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"import qnet_envs pulled in {result.stdout.strip()}"
    assert qnet_envs.__version__
