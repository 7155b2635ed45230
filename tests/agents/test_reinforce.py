"""REINFORCE (agents/reinforce.py): learnability, determinism, exact resume, atomic checkpoints.

The learnability scenario is conftest's ``TINY`` (fixtures ``tiny`` and ``optimum``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import agents.reinforce as reinforce
from agents.reinforce import Args, evaluate, latest_checkpoint, read_progress, train

pytestmark = pytest.mark.usefixtures("one_thread")


def _params(agent: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in agent.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_scenario_optimum_is_not_the_greedy_route(optimum: tuple[list[int], float]) -> None:
    route, fidelity = optimum
    assert route == [2, 3, 4, 5]
    assert fidelity == pytest.approx(0.980133, abs=1e-6)
    assert 0 not in route  # the F = 0.9 Werner link out of Alice is a trap


@pytest.mark.parametrize(
    ("masked", "baseline"), [(False, "value"), (True, "mean"), (False, "none")]
)
def test_learns_the_cancellation_route(tiny, optimum, masked: bool, baseline: str) -> None:
    route, fidelity = optimum
    result = train(
        Args(
            env_kwargs={"scenario": tiny},
            total_timesteps=6_000,
            masked=masked,
            baseline=baseline,
            seed=1,
            optimal_fidelity=fidelity,
        )
    )
    assert result.first_optimal_step is not None
    assert 0 < result.first_optimal_step <= result.timesteps
    assert list(result.first_optimal_route) == route
    rollout = evaluate(result.agent, tiny, masked=masked)
    assert rollout.event == "arrived"
    assert list(rollout.route) == route
    assert rollout.fidelity == pytest.approx(fidelity, abs=1e-9)
    assert rollout.actions == len(route)


def test_optimal_fidelity_defaults_to_the_oracle(tiny, optimum) -> None:
    result = train(Args(env_kwargs={"scenario": tiny}, total_timesteps=300, seed=0))
    assert result.optimal_fidelity == pytest.approx(optimum[1], abs=1e-12)
    assert result.timesteps >= 300


def test_same_seed_same_run_other_seed_other_run(tiny, optimum) -> None:
    def run(seed: int):
        args = Args(
            env_kwargs={"scenario": tiny},
            total_timesteps=1_500,
            seed=seed,
            optimal_fidelity=optimum[1],
        )
        return train(args)

    first, second, other = run(3), run(3), run(4)
    assert first.first_optimal_step == second.first_optimal_step
    assert first.timesteps == second.timesteps
    assert _same(_params(first.agent), _params(second.agent))
    assert not _same(_params(first.agent), _params(other.agent))


def test_stop_at_optimal_ends_after_the_finding_update(tiny, optimum) -> None:
    args = Args(
        env_kwargs={"scenario": tiny},
        total_timesteps=50_000,
        seed=2,
        episodes_per_update=4,
        optimal_fidelity=optimum[1],
        stop_at_optimal=True,
    )
    result = train(args)
    assert result.first_optimal_step is not None
    # the run stops at the end of the batch of 4 episodes (<= 6 actions each) that found it
    assert result.first_optimal_step <= result.timesteps < result.first_optimal_step + 4 * 6


def test_resume_after_a_kill_matches_an_uninterrupted_run(tiny, optimum, tmp_path, monkeypatch):
    base = {
        "env_kwargs": {"scenario": tiny},
        "total_timesteps": 3_000,
        "seed": 5,
        "optimal_fidelity": optimum[1],
        "checkpoint_every": 500,
    }
    reference = train(Args(**base, run_dir=tmp_path / "reference"))

    # Kill the run mid-rollout, after some checkpoints were written.
    calls = {"n": 0}
    original = reinforce._action_mask

    def dying_mask(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1_800:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(reinforce, "_action_mask", dying_mask)
    run_dir = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        train(Args(**base, run_dir=run_dir))
    monkeypatch.setattr(reinforce, "_action_mask", original)
    checkpoint = latest_checkpoint(run_dir)
    assert checkpoint is not None
    saved = read_progress(checkpoint)["timesteps"]
    assert 1_000 <= saved <= 1_800

    resumed = train(Args(**base, run_dir=run_dir))
    assert resumed.resumed_from == saved
    assert resumed.timesteps == reference.timesteps
    assert resumed.first_optimal_step == reference.first_optimal_step
    assert _same(_params(resumed.agent), _params(reference.agent))

    progress = read_progress(resumed.checkpoint)
    assert progress["timesteps"] == resumed.timesteps
    assert progress["algo"] == "reinforce"
    assert progress["first_optimal_step"] == reference.first_optimal_step
    assert any((run_dir / "tensorboard").iterdir())
    obs_size = len(reinforce.make_env(Args(env_kwargs={"scenario": tiny})).observation_space.low)
    loaded = reinforce.load_agent(run_dir, obs_size, 4)
    assert _same(_params(loaded), _params(reference.agent))

    # A finished run restarted with the same budget trains no further.
    again = train(Args(**base, run_dir=run_dir))
    assert again.timesteps == resumed.timesteps
    assert _same(_params(again.agent), _params(resumed.agent))


def test_interrupted_checkpoint_write_never_hides_the_latest(
    tiny, optimum, tmp_path, interrupted_writes
):
    run_dir = tmp_path / "run"
    args = Args(
        env_kwargs={"scenario": tiny},
        total_timesteps=600,
        seed=0,
        optimal_fidelity=optimum[1],
        run_dir=run_dir,
    )
    first = train(args)
    # A write killed after state.pt, before progress.json: only a temporary directory remains.
    # A half-copied checkpoint directory (no valid progress.json) does not count either.
    interrupted_writes(
        run_dir,
        first.checkpoint,
        latest_checkpoint,
        lambda: reinforce.save_checkpoint(run_dir, 10**9, {"agent": {}}, {"format": 1}),
        reinforce.STATE_FILE,
        "{ truncated",
    )

    resumed = train(Args(**{**vars(args), "total_timesteps": 900}))
    assert resumed.resumed_from == first.timesteps
    assert resumed.timesteps >= 900
    assert not any(p.name.startswith(".tmp-") for p in (run_dir / "checkpoints").iterdir())
    with (resumed.checkpoint / "progress.json").open() as handle:
        assert json.load(handle)["timesteps"] == resumed.timesteps


def test_resume_refuses_another_env_or_masking(tiny, optimum, tmp_path) -> None:
    run_dir = tmp_path / "run"
    train(
        Args(
            env_kwargs={"scenario": tiny},
            total_timesteps=100,
            optimal_fidelity=optimum[1],
            run_dir=run_dir,
        )
    )
    with pytest.raises(ValueError, match="CartPole-v1"):
        train(Args(env_id="CartPole-v1", total_timesteps=200, run_dir=run_dir))
    with pytest.raises(ValueError, match="masked"):
        train(
            Args(env_kwargs={"scenario": tiny}, total_timesteps=200, masked=True, run_dir=run_dir)
        )


def test_runs_on_any_discrete_box_env() -> None:
    result = train(Args(env_id="CartPole-v1", total_timesteps=2_000, seed=0))
    assert result.timesteps >= 2_000
    assert result.optimal_fidelity is None
    assert result.first_optimal_step is None
    with torch.no_grad():
        logits = result.agent.logits(torch.zeros(1, 4))
    assert np.isfinite(logits.numpy()).all()


@pytest.mark.parametrize(
    ("field", "value"),
    [("total_timesteps", 0), ("episodes_per_update", -1), ("baseline", "critic"), ("gamma", 1.5)],
)
def test_bad_args_name_the_field(field: str, value) -> None:
    with pytest.raises(ValueError, match=field):
        Args(**{field: value})
