"""Action heads and networks: masked multi-slot categoricals, parameter sharing, per-agent
policies, local and centralised critics."""

from __future__ import annotations

import pytest
import torch
from gymnasium import spaces
from tensordict import TensorDict

from agents.marl.heads import MaskedMultiCategorical, make_head
from agents.marl.policy import VALUE_KEY, build_actor, build_critic

N_AGENTS, OBS_DIM = 3, 5


def _obs(batch: int = 4) -> TensorDict:
    obs = torch.randn(batch, N_AGENTS, OBS_DIM)
    return TensorDict({"agents": {"observation": obs}}, batch_size=[batch])


def test_masked_categorical_samples_valid_choices_only() -> None:
    torch.manual_seed(0)
    nvec = (3, 2, 4)
    logits = torch.randn(1000, 9)
    mask = torch.rand(1000, 9) < 0.6
    mask[:, [0, 3, 5]] = True  # one valid choice per slot at least
    dist = MaskedMultiCategorical(logits, mask, nvec=nvec)
    sample = dist.sample()
    assert sample.shape == (1000, 3)
    for slot, (start, n) in enumerate(zip((0, 3, 5), nvec, strict=True)):
        chosen = mask[torch.arange(1000), start + sample[:, slot]]
        assert chosen.all()
        assert (sample[:, slot] < n).all()
    # log_prob is the sum of the slots' masked log-softmax
    expected = torch.zeros(1000)
    for slot, (start, n) in enumerate(zip((0, 3, 5), nvec, strict=True)):
        part = logits[:, start : start + n].masked_fill(~mask[:, start : start + n], -torch.inf)
        expected += torch.log_softmax(part, -1).gather(-1, sample[:, slot : slot + 1])[:, 0]
    torch.testing.assert_close(dist.log_prob(sample), expected)
    assert torch.isfinite(dist.entropy()).all()
    mode = dist.mode
    assert mask[torch.arange(1000), mode[:, 0]].all()


def test_unmasked_entropy_and_mode() -> None:
    logits = torch.tensor([[0.0, 0.0, 5.0, 0.0]])
    dist = MaskedMultiCategorical(logits, nvec=(2, 2))
    torch.testing.assert_close(dist.mode, torch.tensor([[0, 0]]))
    p = torch.softmax(torch.tensor([5.0, 0.0]), -1)
    expected = torch.log(torch.tensor(2.0)) - (p * p.log()).sum()
    torch.testing.assert_close(dist.entropy(), expected.reshape(1))


def test_head_rejects_box_actions() -> None:
    with pytest.raises(ValueError, match="Discrete or MultiDiscrete"):
        make_head(spaces.Box(0, 1, (2,)), masked=False)
    assert make_head(spaces.Discrete(4), masked=False).nvec == (4,)


@pytest.mark.parametrize("share_params", [True, False])
def test_shared_or_per_agent_policy(share_params: bool) -> None:
    torch.manual_seed(0)
    actor = build_actor(
        make_head(spaces.MultiDiscrete([3, 3]), False), N_AGENTS, OBS_DIM, (16,), share_params
    )
    td = _obs(1)
    td["agents", "observation"][:] = td["agents", "observation"][:, :1]  # same obs for all
    logits = actor(td)["agents", "logits"][0]
    same = torch.allclose(logits[0], logits[1]) and torch.allclose(logits[0], logits[2])
    assert same == share_params
    assert td["agents", "action"].shape == (1, N_AGENTS, 2)
    assert td["agents", "action_log_prob"].shape == (1, N_AGENTS)


@pytest.mark.parametrize("critic, sees_others", [("ippo", False), ("mappo", True)])
def test_centralised_critic_sees_the_other_agents(critic: str, sees_others: bool) -> None:
    torch.manual_seed(0)
    net = build_critic(critic, N_AGENTS, OBS_DIM, (16,), share_params=True)
    td = _obs()
    before = net(td.clone())[VALUE_KEY]
    changed = td.clone()
    changed["agents", "observation"][:, 1] += 1.0
    after = net(changed)[VALUE_KEY]
    assert before.shape == (4, N_AGENTS, 1)
    assert not torch.allclose(before[:, 1], after[:, 1])  # its own observation always counts
    assert (not torch.allclose(before[:, 0], after[:, 0])) == sees_others


def test_state_critic() -> None:
    net = build_critic("state", N_AGENTS, OBS_DIM, (8,), share_params=True, state_dim=2)
    td = TensorDict({"state": torch.randn(4, 2)}, batch_size=[4])
    assert net(td)[VALUE_KEY].shape == (4, N_AGENTS, 1)
    with pytest.raises(ValueError, match="needs an env with a global state"):
        build_critic("state", N_AGENTS, OBS_DIM, (8,), share_params=True)
    with pytest.raises(ValueError, match="critic must be one of"):
        build_critic("qmix", N_AGENTS, OBS_DIM, (8,), share_params=True)
