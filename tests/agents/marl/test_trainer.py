"""Multi-agent PPO (agents/marl/trainer.py): learnability on a game with a known optimum,
determinism, resume = uninterrupted, argument errors, TensorBoard."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from agents.marl import TrainArgs, evaluate, load_policy, train
from agents.marl.examples import DispersionGame, batched_env, parallel_env
from agents.marl.trainer import (
    UpdateStats,
    build_learner,
    collect,
    episode_returns,
    latest_checkpoint,
    read_progress,
    standardize,
)

from .toy_envs import StaggeredEnv, WideEnv

pytestmark = pytest.mark.usefixtures("one_thread")

#: The learnability instance: 3 agents, 3 slots of MultiDiscrete([4, 4, 4]), masked items.
TINY = {"n_agents": 3, "n_slots": 3, "n_items": 3, "layout_seed": 0}
SOLVE = {
    "total_steps": 8_192,
    "n_envs": 16,
    "steps_per_batch": 256,
    "minibatch_size": 64,
    "learning_rate": 5e-3,
    "entropy_coef": 0.003,
}
QUICK = {"total_steps": 384, "steps_per_batch": 64, "minibatch_size": 32, "epochs": 2}


def _weights(result) -> dict[str, torch.Tensor]:
    params = {f"actor.{k}": v for k, v in result.policy.state_dict().items()}
    params.update({f"critic.{k}": v for k, v in result.critic.state_dict().items()})
    return {k: v.detach().clone() for k, v in params.items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_episode_returns() -> None:
    rewards = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    done = np.array([False, True, True, False])
    np.testing.assert_array_equal(episode_returns(rewards, done), [[4.0, 6.0], [5.0, 6.0]])
    assert episode_returns(rewards, np.zeros(4, bool)).shape == (0, 2)


@pytest.mark.parametrize(
    "options",
    [
        {"critic": "mappo"},
        pytest.param({"critic": "ippo"}, marks=pytest.mark.slow),
        pytest.param({"critic": "mappo", "per_agent_policies": True}, marks=pytest.mark.slow),
    ],
    ids=["mappo", "ippo", "mappo-per-agent"],
)
def test_solves_the_tiny_cooperative_game(options) -> None:
    game = DispersionGame(**TINY)
    optimum = game.optimum()
    env_fn = functools.partial(parallel_env, **TINY)
    result = train(env_fn, TrainArgs(seed=0, **SOLVE, **options))
    assert result.steps == SOLVE["total_steps"]
    assert result.agent_steps == 3 * SOLVE["total_steps"]
    greedy = evaluate(result.policy, env_fn, episodes=2)
    # cooperative: every agent receives the team reward, so each agent's return is the team's
    np.testing.assert_allclose(greedy.per_agent, greedy.per_agent[0])
    assert greedy.total == pytest.approx(3 * greedy.per_agent[0])
    assert greedy.per_agent[0] >= 0.95 * optimum
    assert result.history[0].mean_return < 0.5 * optimum  # it did learn: untrained play is poor


def test_same_seed_same_run_other_seed_other_run() -> None:
    env_fn = functools.partial(batched_env, rounds=2)
    first = train(env_fn, TrainArgs(seed=3, **QUICK))
    second = train(env_fn, TrainArgs(seed=3, **QUICK))
    other = train(env_fn, TrainArgs(seed=4, **QUICK))
    assert first.history == second.history
    assert _same(_weights(first), _weights(second))
    assert first.history != other.history


def test_resume_continues_the_same_run(tmp_path) -> None:
    env_fn = functools.partial(parallel_env, rounds=2)
    args = TrainArgs(seed=1, checkpoint_every=1, run_dir=tmp_path / "killed", **QUICK)
    whole = train(env_fn, TrainArgs(seed=1, run_dir=tmp_path / "whole", **QUICK))

    def kill_after_three(stats: UpdateStats) -> None:
        if stats.update == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(env_fn, args, callbacks=[kill_after_three])
    checkpoint = latest_checkpoint(tmp_path / "killed")
    assert checkpoint is not None and checkpoint.name == "step-000000000192"
    assert read_progress(checkpoint)["updates"] == 3
    resumed = train(env_fn, args)
    assert resumed.resumed_from == 192
    assert resumed.steps == whole.steps == 384
    assert resumed.history == whole.history
    assert _same(_weights(resumed), _weights(whole))
    # a finished run returns at once; the saved policy is the trained one
    again = train(env_fn, args)
    assert again.resumed_from == 384 and again.history == whole.history
    policy = load_policy(tmp_path / "killed", env_fn)
    assert _same(
        {k: v for k, v in policy.state_dict().items()},
        {k: v for k, v in whole.policy.state_dict().items()},
    )
    assert list((tmp_path / "whole" / "tensorboard").glob("events.out.tfevents.*"))


def test_resume_refuses_another_architecture(tmp_path) -> None:
    env_fn = functools.partial(batched_env, rounds=2)
    train(env_fn, TrainArgs(run_dir=tmp_path, **QUICK))
    with pytest.raises(ValueError, match=r"critic='mappo'.*use another run_dir"):
        train(env_fn, TrainArgs(run_dir=tmp_path, critic="ippo", **QUICK))


def test_departing_agents_and_state_critic_train(capsys) -> None:
    result = train(lambda: StaggeredEnv(3), TrainArgs(critic="ippo", **QUICK))
    assert result.history[-1].episodes == QUICK["steps_per_batch"] // 3
    assert all(
        np.isfinite(row.loss_objective) and np.isfinite(row.loss_critic) for row in result.history
    )
    result = train(parallel_env, TrainArgs(critic="state", progress_bar=True, **QUICK))
    assert np.isfinite(result.history[-1].loss_critic)
    assert "MARL" in capsys.readouterr().err  # the tqdm bar


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("total_steps", 0, "total_steps must be a positive integer"),
        ("minibatch_size", 100, r"minibatch_size \(100\) must divide steps_per_batch"),
        ("gamma", 1.5, r"gamma must lie in \(0, 1\]"),
        ("gae_lambda", -0.1, r"gae_lambda must lie in \[0, 1\]"),
        ("learning_rate", 0.0, "learning_rate must be a finite number > 0"),
        ("entropy_coef", -1.0, "entropy_coef must be >= 0"),
        ("hidden_sizes", (), "hidden_sizes must be a non-empty"),
        ("critic", "qmix", "critic must be one of"),
        ("checkpoint_every", -1, "checkpoint_every must be >= 0"),
    ],
)
def test_args_reject_bad_values(field, value, message) -> None:
    with pytest.raises(ValueError, match=message):
        TrainArgs(**{field: value})


def test_evaluate_is_greedy_and_counts_agents() -> None:
    torch.manual_seed(0)
    result = train(batched_env, TrainArgs(**QUICK))
    one = evaluate(result.policy, batched_env, episodes=3)
    two = evaluate(result.policy, parallel_env, episodes=3)
    assert one.per_agent.shape == (3,)
    np.testing.assert_allclose(one.per_agent, two.per_agent)
    assert one.total == pytest.approx(one.per_agent.sum())
    with pytest.raises(ValueError, match="episodes must be >= 1"):
        evaluate(result.policy, batched_env, episodes=0)


def test_gae_runs_along_each_copy() -> None:
    env_fn = functools.partial(batched_env, rounds=3)
    learner = build_learner(env_fn, TrainArgs(n_envs=2, steps_per_batch=20, minibatch_size=10))
    data = collect(learner, 20, seed=0)
    assert data.shape == (2, 10)
    for i in range(2):
        alone = data[i].exclude("advantage", "value_target")
        learner.loss.value_estimator(
            alone,
            params=learner.loss.critic_network_params,
            target_params=learner.loss.target_critic_network_params,
        )
        torch.testing.assert_close(alone["advantage"], data[i]["advantage"])
    with pytest.raises(ValueError, match=r"n_envs \(3\) must divide steps_per_batch"):
        TrainArgs(n_envs=3, steps_per_batch=20, minibatch_size=10)


def test_agents_that_left_do_not_train() -> None:
    torch.manual_seed(0)
    learner = build_learner(lambda: StaggeredEnv(3), TrainArgs(critic="ippo", **QUICK))
    data = collect(learner, 64, seed=0).reshape(-1)
    inactive = ~data["agents", "active"]
    assert inactive.any() and (~inactive).any()
    poisoned = data.clone()
    for key in ("advantage", "value_target", ("agents", "action_log_prob")):
        entry = poisoned[key]
        mask = inactive.reshape(*inactive.shape[:2], *([1] * (entry.ndim - 2))).expand_as(entry)
        poisoned[key] = torch.where(mask, torch.full_like(entry, 1e6), entry)
    for batch in (data, poisoned):
        batch["advantage"] = standardize(batch["advantage"], batch["agents", "active"])
    assert (data["advantage"][~inactive] != 0).any()
    losses, after = learner.loss(data), learner.loss(poisoned)
    for key in ("loss_objective", "loss_critic", "loss_entropy"):
        torch.testing.assert_close(after[key], losses[key])


def test_standardize_over_acting_agents() -> None:
    advantage = torch.tensor([[[1.0], [100.0]], [[3.0], [-50.0]]])
    active = torch.tensor([[[True], [False]], [[True], [False]]])
    out = standardize(advantage, active)
    torch.testing.assert_close(out[..., 0], torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))


def test_qvpn_shaped_env_trains_on_valid_actions_only() -> None:
    env_fn = WideEnv
    learner = build_learner(env_fn, TrainArgs(n_envs=2, **QUICK))
    data = collect(learner, 64, seed=0).reshape(-1)
    assert data["agents", "action"].shape == (64, 3, 150)
    starts = torch.tensor(np.concatenate([[0], np.cumsum(WideEnv.NVEC)[:-1]]))
    chosen = data["agents", "action_mask"].gather(-1, starts + data["agents", "action"])
    assert chosen.all()  # every sampled choice was valid under that step's mask
    result = train(env_fn, TrainArgs(n_envs=2, **QUICK))
    assert all(np.isfinite([row.loss_objective, row.loss_critic]).all() for row in result.history)
    greedy = evaluate(result.policy, env_fn, episodes=2)
    assert greedy.per_agent.shape == (3,) and np.all(
        (greedy.per_agent >= 0) & (greedy.per_agent <= 2)
    )
