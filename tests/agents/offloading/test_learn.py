"""Offloading agents: the baselines behave as named, and MAPPO learns the tiny scenario."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from agents.baselines import offloading as baselines
from qnet_envs.offloading.env import parallel_env


@pytest.mark.parametrize("variant", ["discrete", "hybrid"])
def test_heuristics_place_where_they_say(variant):
    env = parallel_env(variant=variant)
    env.reset(seed=0)
    layout = env.layout
    for name, policy in baselines.HEURISTICS.items():
        actions = policy(env)
        assert set(actions) == set(env.agents), name
        target, share = env.decode(actions)
        if name == "all_local":
            assert np.all(target == 0)
        elif name == "nearest_edge":
            np.testing.assert_array_equal(target, 1 + layout.home_edge)
            assert np.all(share == 1.0)
        elif name == "all_cloud":
            assert np.all(target == layout.n_remote) and np.all(share == 1.0)


def test_greedy_beats_random_and_the_clairvoyant_bounds_every_policy():
    env = parallel_env(scenario="tiny")
    for seed in range(3):
        greedy = baselines.run_episode(env, baselines.greedy, seed, with_bound=True)
        random = baselines.run_episode(env, baselines.random_policy, seed, with_bound=True)
        assert greedy.mean_cost < random.mean_cost
        for run in (greedy, random):
            for cost, bound in zip(run.step_costs, run.step_bounds, strict=True):
                assert bound <= cost * (1 + 1e-4) + 1e-9


def test_mappo_learns_the_tiny_scenario():
    """MAPPO (shared policy, centralised critic) on the discrete variant of ``tiny`` (2 agents,
    3 steps) must cut the random policy's cost by at least half."""
    import torch

    from agents.marl import TrainArgs, train
    from agents.marl.act import greedy_actions
    from qnet_envs.offloading import core

    torch.set_num_threads(1)
    factory = functools.partial(parallel_env, scenario="tiny", reward_scale=10.0)
    args = TrainArgs(
        total_steps=3072,
        n_envs=8,
        steps_per_batch=384,
        minibatch_size=96,
        learning_rate=3e-3,
        entropy_coef=0.003,
        gamma=0.9,
        seed=0,
    )
    result = train(factory, args)
    env = factory()

    def learned_policy(env):
        obs = core.observe(env.layout, env.current)
        action = greedy_actions(result.policy, obs, env.action_mask())
        return {a: action[i] for i, a in enumerate(env.possible_agents) if a in env.agents}

    learned = np.mean(
        [baselines.run_episode(env, learned_policy, 100 + k).mean_cost for k in range(10)]
    )
    random = np.mean(
        [baselines.run_episode(env, baselines.random_policy, 100 + k).mean_cost for k in range(10)]
    )
    assert learned < 0.5 * random, (learned, random)
