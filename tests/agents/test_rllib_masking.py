"""agents.rllib.masking: the action mask moves into the observation unchanged (no Ray needed).

Checked on the routing env and on every PettingZoo env of the suite: the Dict observation
holds the env's own observation and ``info["action_mask"]`` flattened in the order RLlib
concatenates a (multi-)categorical's logits, and its spaces contain what it returns. (PettingZoo's
``parallel_api_test`` does not apply to the wrapped envs: it reads a Dict observation's
``action_mask`` as a ``MultiDiscrete`` sampling mask, which wants one array per component.)
"""

from __future__ import annotations

import importlib

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import qnet_envs  # noqa: F401
from agents.rllib.masking import (
    ACTION_MASK,
    OBSERVATIONS,
    MaskedObservation,
    MaskedParallelEnv,
    mask_size,
)
from qnet_envs.registration import PARALLEL_ENVS

TINY = {"qvpn_v0": {"instance": "tiny"}, "planning_v0": {"instance": "tiny"}}
TINY["offloading_v0"] = {"scenario": "tiny"}


def test_mask_size_counts_the_logits_and_rejects_other_spaces():
    assert mask_size(spaces.Discrete(4)) == 4
    assert mask_size(spaces.MultiDiscrete([3, 5, 2])) == 10
    with pytest.raises(ValueError, match="action_space: Box"):
        mask_size(spaces.Box(0, 1, (2,)))


def test_routing_observation_carries_the_env_mask():
    raw = gym.make("qnet_envs/SwapRouting-v0", scenario="tiny")
    env = MaskedObservation(gym.make("qnet_envs/SwapRouting-v0", scenario="tiny"))
    obs, info = env.reset(seed=3)
    raw_obs, raw_info = raw.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(40):
        assert env.observation_space.contains(obs)
        np.testing.assert_array_equal(obs[OBSERVATIONS], raw_obs)
        np.testing.assert_array_equal(obs[ACTION_MASK], raw_info["action_mask"].astype(np.float32))
        valid = np.flatnonzero(obs[ACTION_MASK])
        action = int(rng.choice(valid)) if valid.size else 0
        obs, _, terminated, truncated, info = env.step(action)
        raw_obs, _, raw_term, raw_trunc, raw_info = raw.step(action)
        assert (terminated, truncated) == (raw_term, raw_trunc)
        if terminated or truncated:
            seed = int(rng.integers(1000))
            obs, info = env.reset(seed=seed)
            raw_obs, raw_info = raw.reset(seed=seed)


@pytest.mark.parametrize("name", sorted(PARALLEL_ENVS))
def test_pettingzoo_observations_carry_each_agents_mask(name):
    make = importlib.import_module(PARALLEL_ENVS[name]).parallel_env
    env, raw = MaskedParallelEnv(make(**TINY[name])), make(**TINY[name])
    obs, infos = env.reset(seed=1)
    raw_obs, raw_infos = raw.reset(seed=1)
    rng = np.random.default_rng(1)
    while env.agents:
        for agent in env.agents:
            assert env.observation_space(agent).contains(obs[agent])
            np.testing.assert_array_equal(obs[agent][OBSERVATIONS], raw_obs[agent])
            expected = np.asarray(raw_infos[agent]["action_mask"], np.float32).reshape(-1)
            np.testing.assert_array_equal(obs[agent][ACTION_MASK], expected)
        actions = {}
        for agent in env.agents:  # a masked sample, component by component
            nvec, mask = env.action_space(agent).nvec, obs[agent][ACTION_MASK]
            parts = np.split(mask, np.cumsum(nvec)[:-1])
            actions[agent] = np.array([rng.choice(np.flatnonzero(p)) for p in parts])
        obs, _, _, _, infos = env.step(actions)
        raw_obs, _, _, _, raw_infos = raw.step(actions)
