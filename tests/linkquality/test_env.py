"""The Gymnasium adapter: spaces, invalid actions, call order, estimator hook, rendering."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from qnet_envs.linkquality import LinkQualityRoutingEnv, core


def test_episode_runs_to_truncation_with_reward_components():
    env = LinkQualityRoutingEnv("tiny")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info["event"] == "reset"
    steps = 0
    truncated = False
    while not truncated:
        obs, reward, terminated, truncated, info = env.step(0)
        steps += 1
        assert not terminated
        assert reward == pytest.approx(sum(info["rewards"].values()))
        assert env.observation_space.contains(obs)
        assert info["event"] in {"served", "failed_links", "failed_fidelity", "invalid_action"}
        assert info["served"] == (info["event"] == "served")
    assert steps == env.scenario.requests.per_episode
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


def test_empty_slot_drops_the_request_with_the_penalty():
    env = LinkQualityRoutingEnv("tiny")
    env.reset(seed=1)
    for _ in range(env.scenario.requests.per_episode):
        mask = env.action_masks()
        if not mask.all():
            _, reward, _, _, info = env.step(int(np.argmin(mask)))
            assert info["event"] == "invalid_action" and reward == -1.0
            assert info["rewards"]["invalid_action"] == -1.0 and info["path"] == ()
            return
        env.step(0)
    pytest.fail("no request with fewer than k candidate paths in the tiny scenario")


@pytest.mark.parametrize("action", [True, -1, 3, 1.0, "0"])
def test_bad_actions_raise(action):
    env = LinkQualityRoutingEnv("tiny")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 2\]"):
        env.step(action)


def test_step_before_reset_and_bad_arguments():
    env = LinkQualityRoutingEnv("tiny")
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    with pytest.raises(ValueError, match="render_mode"):
        LinkQualityRoutingEnv("tiny", render_mode="human")
    with pytest.raises(ValueError, match="estimator"):
        LinkQualityRoutingEnv("tiny", estimator=3)
    with pytest.raises(ValueError, match="episode_seed"):
        env.reset(options={"episode_seed": "x"})


def test_episode_seed_option_aligns_two_envs():
    a, b = LinkQualityRoutingEnv("tiny"), LinkQualityRoutingEnv("tiny")
    obs_a, info_a = a.reset(seed=3, options={"episode_seed": 42})
    obs_b, info_b = b.reset(seed=9, options={"episode_seed": 42})
    np.testing.assert_array_equal(obs_a, obs_b)
    assert info_a["request"] == info_b["request"]


def test_estimator_hook_sets_the_candidates():
    truth_env = LinkQualityRoutingEnv("waxman-20")
    truth_env.reset(seed=0)

    def clairvoyant(features):
        p, f = truth_env.simulation.truth()
        return np.stack([p, f], axis=1)

    truth_env.estimator = clairvoyant
    obs = truth_env._prepare()
    p, f = truth_env.simulation.truth()
    first = truth_env.network.path_edges(truth_env._candidates[0])
    budget = truth_env.scenario.requests.max_attempts
    assert obs[1] == pytest.approx(np.prod(core.success_within_budget(p[first], budget)), rel=1e-5)
    bad = LinkQualityRoutingEnv("tiny", estimator=lambda z: np.zeros((1, 2)))
    with pytest.raises(ValueError, match="estimator must return"):
        bad.reset(seed=0)


def test_render_rgb_array():
    env = LinkQualityRoutingEnv("tiny", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.close()
