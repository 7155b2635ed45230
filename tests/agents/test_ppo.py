"""PPO through Stable-Baselines3 (agents/ppo.py): learnability (SB3 test_identity style),
determinism, the first-optimal metric, and atomic checkpoints that a killed run resumes from.

The learnability scenario is conftest's ``TINY`` (fixtures ``tiny`` and ``optimum``).
"""

from __future__ import annotations

import json

import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback

import agents.ppo as ppo
from agents.checkpoints import PROGRESS_FILE
from agents.ppo import TrainArgs, evaluate, latest_checkpoint, read_progress, train
from qnet_envs.routing import core

pytestmark = pytest.mark.usefixtures("one_thread")


def _params(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class KillAt(BaseCallback):
    """Raises KeyboardInterrupt at a given action count: a kill in the middle of a rollout."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.step:
            raise KeyboardInterrupt
        return True


def test_scenario_optimum_is_not_the_greedy_route(tiny, optimum) -> None:
    route, fidelity = optimum
    assert route == [2, 3, 4, 5]
    assert fidelity == pytest.approx(0.980133, abs=1e-6)
    network = core.Network.compile(tiny)
    werner_first, _ = core.route_fidelity(network, [0])
    damped_first, _ = core.route_fidelity(network, [2])
    assert werner_first > damped_first  # a greedy player leaves Alice on the wrong link


def test_ppo_learns_the_cancellation_route(tiny, optimum) -> None:
    route, fidelity = optimum
    result = train(
        TrainArgs(
            scenario=tiny, total_timesteps=8_192, n_steps=256, seed=0, optimal_fidelity=fidelity
        )
    )
    assert result.timesteps == 8_192
    assert result.first_optimal_step is not None
    assert 0 < result.first_optimal_step <= result.timesteps
    assert list(result.first_optimal_route) == route
    assert result.best_fidelity == pytest.approx(fidelity, abs=1e-9)
    rollout = evaluate(result.model, tiny)
    assert rollout.event == "arrived"
    assert list(rollout.route) == route
    assert rollout.fidelity == pytest.approx(fidelity, abs=1e-9)
    assert rollout.actions == len(route)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_maskable_ppo_learns_the_cancellation_route(tiny, optimum, seed: int) -> None:
    route, fidelity = optimum
    result = train(
        TrainArgs(scenario=tiny, total_timesteps=8_192, n_steps=256, seed=seed, masked=True)
    )
    assert result.optimal_fidelity == pytest.approx(fidelity, abs=1e-12)  # from the oracle
    assert result.first_optimal_step is not None
    rollout = evaluate(result.model, tiny)
    assert (rollout.event, list(rollout.route)) == ("arrived", route)
    assert rollout.fidelity == pytest.approx(fidelity, abs=1e-9)


def test_same_seed_same_run(tiny) -> None:
    def run(seed: int):
        args = TrainArgs(
            scenario=tiny, total_timesteps=1_024, n_steps=256, seed=seed, optimal_fidelity=0.999
        )
        return train(args)

    first, second, other = run(7), run(7), run(8)
    assert first.best_fidelity == second.best_fidelity
    assert _same(_params(first.model), _params(second.model))
    assert not _same(_params(first.model), _params(other.model))


def test_first_optimal_step_counts_actions_and_can_stop_training(tiny, optimum) -> None:
    route, fidelity = optimum
    args = TrainArgs(
        scenario=tiny,
        total_timesteps=20_000,
        n_steps=256,
        seed=3,
        optimal_fidelity=fidelity,
        stop_at_optimal=True,
    )
    result = train(args)
    assert result.first_optimal_step is not None
    # Training stops on the very action that completed the first optimal route.
    assert result.timesteps == result.first_optimal_step
    network = core.Network.compile(tiny)
    found_fidelity, _ = core.route_fidelity(network, result.first_optimal_route)
    assert found_fidelity == pytest.approx(fidelity, abs=1e-9)
    # Same seed without stopping: the same first-optimal step.
    budget = result.first_optimal_step + 256
    full = train(TrainArgs(**{**vars(args), "stop_at_optimal": False, "total_timesteps": budget}))
    assert full.first_optimal_step == result.first_optimal_step


def test_vectorised_envs_count_every_copy_s_actions(tiny, optimum) -> None:
    route, fidelity = optimum
    args = TrainArgs(
        scenario=tiny,
        total_timesteps=20_000,
        n_steps=64,
        n_envs=4,
        batch_size=64,
        seed=3,
        optimal_fidelity=fidelity,
        stop_at_optimal=True,
    )
    result = train(args)
    assert result.first_optimal_step is not None
    # One vector step plays one action in each of the 4 copies; training stops after the step
    # in which one copy completed the optimal route, counted in env order within the step.
    assert result.timesteps % 4 == 0
    assert result.timesteps - 4 < result.first_optimal_step <= result.timesteps
    assert list(result.first_optimal_route) == route
    assert result.model.n_envs == 4


def test_hidden_sizes_shape_the_policy(tiny) -> None:
    args = TrainArgs(scenario=tiny, total_timesteps=64, n_steps=64, hidden_sizes=(32, 16, 8))
    model = train(args).model
    widths = [
        m.out_features for m in model.policy.mlp_extractor.policy_net if hasattr(m, "out_features")
    ]
    assert widths == [32, 16, 8]


def test_resume_after_a_kill_continues_the_run(tiny, optimum, tmp_path) -> None:
    route, fidelity = optimum
    run_dir = tmp_path / "run"
    args = TrainArgs(
        scenario=tiny,
        total_timesteps=2_048,
        n_steps=256,
        seed=0,
        optimal_fidelity=fidelity,
        run_dir=run_dir,
        checkpoint_every=512,
    )
    with pytest.raises(KeyboardInterrupt):
        train(args, callbacks=[KillAt(1_300)])
    checkpoint = latest_checkpoint(run_dir)
    assert checkpoint is not None
    assert checkpoint.name == "step-000000001024"  # taken at a rollout boundary
    before = read_progress(checkpoint)
    assert before["timesteps"] == 1_024
    assert before["algo"] == "ppo"
    assert before["first_optimal_step"] is not None  # random play finds it within 1024 actions

    resumed = train(args)
    assert resumed.resumed_from == 1_024
    assert resumed.timesteps == 2_048
    assert resumed.first_optimal_step == before["first_optimal_step"]
    after = read_progress(resumed.checkpoint)
    assert after["timesteps"] == 2_048
    assert after["first_optimal_step"] == before["first_optimal_step"]
    assert after["wall_time_s"] > before["wall_time_s"]
    # the resumed session checkpointed at 1536, then at the end; the two newest are kept
    assert [p.name for p in sorted((run_dir / "checkpoints").iterdir())] == [
        "step-000000001536",
        "step-000000002048",
    ]
    reloaded = ppo.load(run_dir)
    assert reloaded.num_timesteps == 2_048
    assert _same(_params(reloaded), _params(resumed.model))
    assert any((run_dir / "tensorboard").rglob("events.out.tfevents.*"))

    # Restarting a finished run does not train further, nor write a new checkpoint.
    again = train(args)
    assert again.timesteps == 2_048
    assert again.checkpoint == resumed.checkpoint
    assert read_progress(again.checkpoint) == after
    assert _same(_params(again.model), _params(resumed.model))


def test_reward_normalisation_statistics_are_checkpointed(tiny, optimum, tmp_path) -> None:
    run_dir = tmp_path / "run"
    args = TrainArgs(
        scenario=tiny,
        total_timesteps=512,
        n_steps=256,
        optimal_fidelity=optimum[1],
        run_dir=run_dir,
        normalize_reward=True,
        masked=True,
    )
    first = train(args)
    assert (first.checkpoint / ppo.VECNORMALIZE_FILE).is_file()
    resumed = train(TrainArgs(**{**vars(args), "total_timesteps": 1_024}))
    assert resumed.resumed_from == 512
    assert resumed.timesteps == 1_024
    assert (resumed.checkpoint / ppo.VECNORMALIZE_FILE).is_file()
    assert read_progress(resumed.checkpoint)["algo"] == "maskable-ppo"


def test_interrupted_checkpoint_write_never_hides_the_latest(
    tiny, optimum, tmp_path, interrupted_writes
):
    run_dir = tmp_path / "run"
    args = TrainArgs(
        scenario=tiny,
        total_timesteps=256,
        n_steps=256,
        optimal_fidelity=optimum[1],
        run_dir=run_dir,
    )
    first = train(args)
    # A write killed after the model, before progress.json, leaves a temporary directory;
    # neither it nor a checkpoint-named directory with a truncated progress.json counts.
    interrupted_writes(
        run_dir,
        first.checkpoint,
        latest_checkpoint,
        lambda: ppo.save_checkpoint(run_dir, first.model, {"format": ppo.PROGRESS_FORMAT}),
        ppo.MODEL_FILE,
        '{"format": 1, "timesteps": 99',
    )

    resumed = train(TrainArgs(**{**vars(args), "total_timesteps": 512}))
    assert resumed.resumed_from == 256
    assert resumed.timesteps == 512
    assert not any(p.name.startswith(".tmp-") for p in (run_dir / "checkpoints").iterdir())
    with (resumed.checkpoint / PROGRESS_FILE).open() as handle:
        assert json.load(handle)["timesteps"] == 512


def test_resume_refuses_other_settings(tiny, optimum, tmp_path) -> None:
    args = TrainArgs(
        scenario=tiny, total_timesteps=64, n_steps=64, optimal_fidelity=optimum[1], run_dir=tmp_path
    )
    train(args)
    with pytest.raises(ValueError, match="maskable-ppo"):
        train(TrainArgs(**{**vars(args), "masked": True, "total_timesteps": 128}))
    with pytest.raises(ValueError, match="normalize_reward"):
        train(TrainArgs(**{**vars(args), "normalize_reward": True, "total_timesteps": 128}))
    with pytest.raises(ValueError, match="n_envs"):
        train(TrainArgs(**{**vars(args), "n_envs": 2, "total_timesteps": 128}))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_timesteps", 0),
        ("n_steps", -5),
        ("n_envs", 0),
        ("learning_rate", 0.0),
        ("hidden_sizes", (64, 0)),
        ("batch_size", 100),
        ("invalid_action_reward", 1.0),
    ],
)
def test_bad_args_name_the_field(field: str, value) -> None:
    with pytest.raises(ValueError, match=field):
        TrainArgs(**{field: value})
