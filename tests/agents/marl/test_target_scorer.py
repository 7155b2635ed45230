"""The target-scorer actor: shapes, one shared score per target, its contract errors, and one
training run on each offloading variant."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from agents.marl.heads import CategoricalHead, HybridHead
from agents.marl.networks import build_actor_network
from agents.marl.target_scorer import TargetScorer
from qnet_envs.offloading.env import parallel_env

LAYOUT = {"global": (3,), "targets": (4, 2)}
OBS_DIM = 3 + 4 * 2


def test_outputs_are_local_then_one_logit_per_target_then_the_rest() -> None:
    torch.manual_seed(0)
    scorer = TargetScorer(LAYOUT, n_rest=3, hidden_sizes=(8,))
    obs = torch.randn(5, 2, OBS_DIM)
    out = scorer(obs)
    assert out.shape == (5, 2, 1 + 4 + 3) and scorer.n_outputs == 8
    g = obs[..., :3]
    torch.testing.assert_close(out[..., 0:1], scorer.local(g))
    rows = obs[..., 3:].unflatten(-1, (4, 2))
    for j in range(4):
        want = scorer.score(torch.cat([g, rows[..., j, :]], dim=-1))
        torch.testing.assert_close(out[..., 1 + j : 2 + j], want)
    torch.testing.assert_close(out[..., 5:], scorer.rest(obs))


def test_permuting_the_targets_permutes_their_logits() -> None:
    torch.manual_seed(1)
    scorer = TargetScorer(LAYOUT, n_rest=0, hidden_sizes=(8,))
    obs = torch.randn(7, OBS_DIM)
    perm = torch.tensor([2, 0, 3, 1])
    rows = obs[:, 3:].unflatten(-1, (4, 2))[:, perm]
    permuted = torch.cat([obs[:, :3], rows.flatten(-2)], dim=-1)
    out, out_p = scorer(obs), scorer(permuted)
    torch.testing.assert_close(out_p[:, 0], out[:, 0])
    torch.testing.assert_close(out_p[:, 1:], out[:, 1:][:, perm])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layout": None}, "needs an env with an observation_layout"),
        ({"share_params": False}, "one shared policy"),
        ({"head": CategoricalHead(nvec=(4, 3))}, r"first slot has 5 values"),
        ({"head": HybridHead(n_targets=6)}, r"first slot has 5 values"),
        ({"obs_dim": OBS_DIM + 1}, f"adds up to {OBS_DIM} features, the env has {OBS_DIM + 1}"),
        ({"layout": {"global": (3,), "pairs": (4, 2)}}, r"exactly \['global', 'targets'\]"),
    ],
)
def test_contract_errors(kwargs, message) -> None:
    call = {
        "actor": "target-scorer",
        "head": CategoricalHead(nvec=(5, 3)),
        "n_agents": 2,
        "obs_dim": OBS_DIM,
        "hidden_sizes": (8,),
        "share_params": True,
        "layout": LAYOUT,
    }
    call.update(kwargs)
    with pytest.raises(ValueError, match=message):
        build_actor_network(**call)


def test_the_offloading_layout_adds_up_to_its_observation() -> None:
    env = parallel_env(scenario="default")
    layout = env.observation_layout
    assert layout == {"global": (10,), "targets": (6, 8)}
    obs, _ = env.reset(seed=0)
    assert obs["mobile_0"].shape == (10 + 6 * 8,)
    rows = obs["mobile_3"][10:].reshape(6, 8)
    home = env.layout.home_edge[3]
    assert rows[home, 7] == 1.0 and rows[:, 7].sum() == 1.0  # the "is home edge" column


@pytest.mark.parametrize("variant", ["discrete", "hybrid"])
def test_mappo_trains_with_the_target_scorer(variant) -> None:
    from agents.marl import TrainArgs, evaluate, train

    torch.set_num_threads(1)
    factory = functools.partial(parallel_env, scenario="tiny", variant=variant, reward_scale=10.0)
    args = TrainArgs(
        total_steps=768,
        n_envs=8,
        steps_per_batch=384,
        minibatch_size=96,
        seed=0,
        actor="target-scorer",
    )
    result = train(factory, args)
    assert len(result.history) == 2
    assert all(np.isfinite(h.loss_objective) for h in result.history)
    net = result.policy.module[0].module[0]
    assert isinstance(net, TargetScorer) and net.n_targets == 2
    assert np.isfinite(evaluate(result.policy, factory, episodes=2, seed=0).total)
