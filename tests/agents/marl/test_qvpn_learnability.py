"""The MARL trainer solves the tiny qVPN instance: its greedy plan reaches the MILP optimum."""

from __future__ import annotations

import functools

import pytest

from agents.marl import TrainArgs, evaluate, train
from qnet_envs.qvpn import Instance, solve_optimum
from qnet_envs.qvpn.env import parallel_env

pytestmark = pytest.mark.usefixtures("one_thread")

ROUNDS = 2


def test_mappo_reaches_the_exact_optimum_of_the_tiny_instance() -> None:
    instance = Instance.load("tiny")
    optimum = solve_optimum(instance, time_limit=60).objective
    env_fn = functools.partial(parallel_env, instance=instance, rounds=ROUNDS, cooperative=True)
    assert env_fn().layout.reward_scale == pytest.approx(optimum)  # so a round's reward is W/W*
    args = TrainArgs(
        seed=0,
        total_steps=4_096,
        n_envs=16,
        steps_per_batch=256,
        minibatch_size=64,
        learning_rate=5e-3,
        entropy_coef=0.003,
    )
    result = train(env_fn, args)
    greedy = evaluate(result.policy, env_fn, episodes=1)
    # cooperative: each agent's return is the sum over rounds of W-EGR / optimum
    assert greedy.per_agent.min() >= 0.99 * ROUNDS
    assert result.history[0].mean_return <= 0.5 * ROUNDS  # untrained play is far from it
