"""The actor networks (agents/marl/networks.py): the choice scorer's action layout, its
equivariance and scale invariance, its contract errors, and its use by the trainer on qVPN."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from agents.marl import TrainArgs, load_policy, train
from agents.marl.heads import CategoricalHead
from agents.marl.networks import ChoiceScorer, block_offsets, build_actor_network
from qnet_envs.qvpn.env import parallel_env

pytestmark = pytest.mark.usefixtures("one_thread")

#: 2 global features, 4 groups of 3 features, 5 choices of 6 features, 7 trailing features.
LAYOUT = {"global": (2,), "pairs": (4, 3), "versions": (4, 5, 6), "links": (7,)}
OBS_DIM = 2 + 4 * 3 + 4 * 5 * 6 + 7
SLOTS = 3


def _scorer(seed: int = 0) -> ChoiceScorer:
    torch.manual_seed(seed)
    return ChoiceScorer(LAYOUT, SLOTS, (16, 16))


def _blocks(obs: torch.Tensor) -> dict[str, torch.Tensor]:
    offsets = block_offsets(LAYOUT)
    return {name: obs[..., a:b].unflatten(-1, LAYOUT[name]) for name, (a, b) in offsets.items()}


def _flat(blocks: dict[str, torch.Tensor]) -> torch.Tensor:
    batch = blocks["global"].shape[:-1]
    return torch.cat([blocks[name].reshape(*batch, -1) for name in LAYOUT], dim=-1)


def _logits(scorer: ChoiceScorer, obs: torch.Tensor) -> torch.Tensor:
    """``(..., groups, slots, choices + 1)``."""
    with torch.no_grad():
        return scorer(obs).unflatten(-1, (4, SLOTS, 6))


def test_offsets_follow_the_layout_order() -> None:
    assert block_offsets(LAYOUT) == {
        "global": (0, 2),
        "pairs": (2, 14),
        "versions": (14, 134),
        "links": (134, 141),
    }


def test_every_slot_of_a_group_gets_that_groups_logits() -> None:
    scorer = _scorer()
    obs = torch.randn(5, 3, OBS_DIM)  # (batch, agents, obs)
    out = scorer(obs)
    assert out.shape == (5, 3, scorer.n_outputs) == (5, 3, 4 * SLOTS * 6)
    logits = _logits(scorer, obs)
    assert torch.equal(logits[..., 0, :], logits[..., 1, :])
    assert torch.equal(logits[..., 0, :], logits[..., 2, :])
    # ... and groups differ (a check that the slots are not all one copy of one group)
    assert not torch.allclose(logits[..., 0, 0, :], logits[..., 1, 0, :])


def test_reordering_groups_or_choices_reorders_the_logits() -> None:
    scorer = _scorer(1)
    obs = torch.randn(8, OBS_DIM)
    blocks = _blocks(obs)
    groups = torch.tensor([2, 0, 3, 1])
    choices = torch.tensor([4, 1, 0, 3, 2])
    moved = dict(blocks)
    moved["pairs"] = blocks["pairs"][:, groups]
    moved["versions"] = blocks["versions"][:, groups][:, :, choices]
    before, after = _logits(scorer, obs), _logits(scorer, _flat(moved))
    expected = before[:, groups]
    expected = torch.cat([expected[..., :1], expected[..., 1:][..., choices]], dim=-1)
    torch.testing.assert_close(after, expected)


def test_feature_scales_do_not_matter() -> None:
    scorer = _scorer(2)
    obs = torch.randn(6, OBS_DIM)
    blocks = _blocks(obs)
    scaled = dict(blocks)
    scaled["versions"] = blocks["versions"] * torch.tensor([1e3, 1e-3, 7.0, 1.0, 0.5, 2.0]) + 3
    scaled["pairs"] = blocks["pairs"] * torch.tensor([50.0, 1e-2, 1.0]) - 1
    torch.testing.assert_close(
        _logits(scorer, _flat(scaled)), _logits(scorer, obs), atol=1e-4, rtol=1e-4
    )
    other = dict(blocks)
    other["versions"] = blocks["versions"].clone()
    other["versions"][:, 0, 0, 0] += 5.0  # one choice's feature: that group's logits move
    assert not torch.allclose(_logits(scorer, _flat(other))[:, 0], _logits(scorer, obs)[:, 0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layout": None}, "needs an env with an observation_layout"),
        ({"share_params": False}, "one shared policy"),
        ({"head": CategoricalHead(nvec=(5,) * 12)}, r"6 values per slot .* got nvec"),
        ({"head": CategoricalHead(nvec=(6,) * 10)}, "not a multiple of the 4 groups"),
        ({"obs_dim": OBS_DIM + 1}, f"adds up to {OBS_DIM} features, the env has {OBS_DIM + 1}"),
        ({"layout": {"global": (2,), "pairs": (4, 3)}}, "has no block 'versions'"),
        ({"actor": "gnn"}, "actor must be one of"),
    ],
)
def test_scorer_contract_errors(kwargs, message) -> None:
    call = {
        "actor": "choice-scorer",
        "head": CategoricalHead(nvec=(6,) * 12),
        "n_agents": 3,
        "obs_dim": OBS_DIM,
        "hidden_sizes": (8,),
        "share_params": True,
        "layout": LAYOUT,
    }
    call.update(kwargs)
    with pytest.raises(ValueError, match=message):
        build_actor_network(**call)


def test_train_args_reject_an_unknown_actor() -> None:
    with pytest.raises(ValueError, match="actor must be one of"):
        TrainArgs(actor="transformer")


def test_qvpn_layout_adds_up_to_its_observation() -> None:
    env = parallel_env(instance="tiny")
    layout = env.observation_layout
    assert list(layout) == ["global", "pairs", "versions", "links"]
    size = max(end for _, end in block_offsets(layout).values())
    assert size == env.observation_space(env.possible_agents[0]).shape[0]
    obs, _ = env.reset(seed=0)
    versions = block_offsets(layout)["versions"]
    table = obs["org_0"][slice(*versions)].reshape(layout["versions"])
    assert np.array_equal(
        table[..., 0] > 0, env.layout.action_mask(0)[:: env.layout.instance.max_paths, 1:]
    )


def test_scorer_trains_on_qvpn_and_reloads(tmp_path) -> None:
    env_fn = functools.partial(parallel_env, instance="tiny", rounds=2, cooperative=True)
    args = TrainArgs(
        actor="choice-scorer",
        total_steps=128,
        steps_per_batch=64,
        n_envs=4,
        minibatch_size=32,
        epochs=2,
        run_dir=tmp_path,
    )
    result = train(env_fn, args)
    assert all(np.isfinite(row.loss_objective) for row in result.history)
    reloaded = load_policy(tmp_path, env_fn)
    for key, value in result.policy.state_dict().items():
        assert torch.equal(reloaded.state_dict()[key], value)
    assert isinstance(reloaded.module[0].module[0], ChoiceScorer)
