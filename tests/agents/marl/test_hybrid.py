"""The hybrid Dict(target, share) action path: distribution, batching, one training run."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from torch import distributions as D

from agents.marl.batched import StackedParallelEnv, hybrid_targets
from agents.marl.heads import HybridHead, HybridTargetShare, make_head
from qnet_envs.offloading.env import parallel_env


def test_log_prob_and_entropy_are_the_sum_of_the_parts():
    torch.manual_seed(0)
    logits = torch.randn(5, 3, 4)
    raw = torch.randn(5, 3, 2)
    dist = HybridTargetShare(logits, raw)
    value = dist.sample()
    assert value.shape == (5, 3, 2) and value.dtype == torch.float32
    a, b = (1 + torch.nn.functional.softplus(raw)).unbind(-1)
    cat, beta = D.Categorical(logits=logits), D.Beta(a, b)
    want = cat.log_prob(value[..., 0].long()) + beta.log_prob(value[..., 1])
    torch.testing.assert_close(dist.log_prob(value), want)
    torch.testing.assert_close(dist.entropy(), cat.entropy() + beta.entropy())
    mode = dist.mode
    torch.testing.assert_close(mode[..., 0], logits.argmax(-1).float())
    torch.testing.assert_close(mode[..., 1], (a - 1) / (a + b - 2))
    assert torch.all((value[..., 1] >= 0) & (value[..., 1] <= 1))


def test_a_masked_target_is_never_sampled_nor_the_mode():
    logits = torch.zeros(2000, 4)
    logits[:, 2] = 5.0
    mask = torch.ones(2000, 4, dtype=torch.bool)
    mask[:, 2] = False
    dist = HybridTargetShare(logits, torch.zeros(2000, 2), mask=mask)
    assert not torch.any(dist.sample()[..., 0] == 2)
    assert not torch.any(dist.mode[..., 0] == 2)


def test_the_offloading_hybrid_space_is_recognised_and_batched():
    env = parallel_env(scenario="tiny", variant="hybrid")
    space = env.action_space("mobile_0")
    assert hybrid_targets(space) == 3
    assert isinstance(make_head(space, masked=False), HybridHead)
    batched = StackedParallelEnv(env)
    assert batched.nvec == (3,) and not batched.has_action_mask
    batched.reset(seed=0)
    obs, reward, terminated, truncated, info = batched.step(np.array([[1.0, 0.5], [0.0, 0.3]]))
    assert obs.shape == (2, env.observation_space("mobile_0").shape[0])
    with pytest.raises(ValueError, match="shape"):
        batched.step(np.array([1.0, 0.5]))


def test_mappo_trains_the_hybrid_variant():
    from agents.marl import TrainArgs, evaluate, train

    torch.set_num_threads(1)
    factory = functools.partial(parallel_env, scenario="tiny", variant="hybrid", reward_scale=10.0)
    args = TrainArgs(total_steps=768, n_envs=8, steps_per_batch=384, minibatch_size=96, seed=0)
    result = train(factory, args)
    assert len(result.history) == 2
    assert all(np.isfinite(h.loss_objective) for h in result.history)
    greedy = evaluate(result.policy, factory, episodes=2, seed=0)
    assert np.isfinite(greedy.total)
