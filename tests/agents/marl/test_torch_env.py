"""The TorchRL env over the batched interface: specs, and the same trajectory as the batched
env it wraps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchrl.envs.utils import check_env_specs

from agents.marl.batched import StackedParallelEnv
from agents.marl.examples import batched_env, parallel_env
from agents.marl.torch_env import ACTION_KEY, BatchedTorchEnv

from .toy_envs import RandomLengthEnv, StaggeredEnv


@pytest.mark.parametrize("use_state", [False, True])
def test_specs_hold(use_state: bool) -> None:
    check_env_specs(BatchedTorchEnv(batched_env(rounds=4), use_state=use_state), seed=0)
    check_env_specs(BatchedTorchEnv(StackedParallelEnv(StaggeredEnv(5))), seed=0)


def test_rollout_equals_batched_env() -> None:
    game = {"n_agents": 4, "rounds": 3, "cooperative": False}
    env = BatchedTorchEnv(StackedParallelEnv(parallel_env(**game)), use_state=True)
    torch.manual_seed(0)
    data = env.rollout(7, break_when_any_done=False)  # random actions, auto-reset after 3
    reference = batched_env(**game)
    obs, info = reference.reset()
    for t in range(7):
        np.testing.assert_array_equal(data["agents", "observation"][t].numpy(), obs)
        np.testing.assert_array_equal(data["agents", "action_mask"][t].numpy(), info["action_mask"])
        np.testing.assert_array_equal(data["state"][t].numpy(), reference.state())
        obs, reward, terminated, truncated, info = reference.step(data[ACTION_KEY][t].numpy())
        np.testing.assert_array_equal(data["next", "agents", "reward"][t, :, 0].numpy(), reward)
        np.testing.assert_array_equal(data["next", "agents", "terminated"][t, :, 0], terminated)
        np.testing.assert_array_equal(data["next", "agents", "active"][t, :, 0], info["active"])
        assert bool(data["next", "done"][t]) == bool(terminated.all())
        if terminated.all():
            obs, info = reference.reset()


def test_discrete_actions_and_departures() -> None:
    env = BatchedTorchEnv(StackedParallelEnv(StaggeredEnv(3)))
    assert env.action_spec[ACTION_KEY].shape == (3, 1)
    data = env.rollout(10, break_when_any_done=True)
    assert data.shape == (3,)  # the last agent leaves after three steps
    active = data["next", "agents", "active"][..., 0]
    np.testing.assert_array_equal(active.numpy(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    assert data["next", "truncated"][-1].item() and not data["next", "terminated"][-1].item()
    # reward (i + 1) * action - t of the agents still acting
    actions = data[ACTION_KEY][..., 0].numpy()
    expected = (np.arange(1, 4)[None, :] * actions - np.arange(3)[:, None]) * data[
        "agents", "active"
    ][..., 0].numpy()
    np.testing.assert_array_equal(data["next", "agents", "reward"][..., 0].numpy(), expected)


def test_state_needs_a_state_space() -> None:
    with pytest.raises(ValueError, match="use_state=True needs"):
        BatchedTorchEnv(StackedParallelEnv(StaggeredEnv(3)), use_state=True)


def test_copies_reset_alone_and_match_single_envs() -> None:
    copies = BatchedTorchEnv([StackedParallelEnv(RandomLengthEnv()) for _ in range(3)])
    assert copies.batch_size == (3,)
    check_env_specs(copies, seed=0)
    copies.set_seed(10)
    torch.manual_seed(0)
    data = copies.rollout(12, break_when_any_done=False)
    assert data.shape == (3, 12)
    done = data["next", "done"][..., 0]
    assert done.any() and not torch.equal(done[0], done[1])  # episodes of different lengths
    for i in range(3):
        single = StackedParallelEnv(RandomLengthEnv())
        obs, _ = single.reset(seed=10 + i)
        for t in range(12):
            np.testing.assert_array_equal(data["agents", "observation"][i, t].numpy(), obs)
            obs, reward, terminated, truncated, _ = single.step(
                data[ACTION_KEY][i, t, :, 0].numpy()
            )
            np.testing.assert_array_equal(data["next", "agents", "reward"][i, t, :, 0], reward)
            assert bool(done[i, t]) == bool(truncated.all())
            if truncated.all():
                obs, _ = single.reset()


def test_copies_must_match() -> None:
    with pytest.raises(ValueError, match="same agents, spaces"):
        BatchedTorchEnv([batched_env(), batched_env(n_agents=4)])
    with pytest.raises(ValueError, match="at least one env"):
        BatchedTorchEnv([])


def test_a_slot_without_valid_choices_is_an_error() -> None:
    env = batched_env(n_agents=2, n_slots=2, n_items=2)
    env._mask[1, 3:6] = False  # agent_1, slot 1: "none" and both items forbidden
    with pytest.raises(ValueError, match="leaves agent 'agent_1' no valid choice in slot 1"):
        BatchedTorchEnv(env).reset()
