"""The gnn-transformer actor learns the tiny planning game with the multi-agent trainer.

Untrained, its greedy plan on ``tiny`` leaves demand unmet or over-provisions; after a short
IPPO run (seconds) the greedy first stage must meet at least 85% of the demand (the issue's
target) and score a better round objective (cost / LP bound + unmet and imbalance penalties)
than the untrained policy's. Both are checked on the plan rebuilt from the levels by
``qnet_envs.planning.evaluate``, not on the trainer's returns.
"""

from __future__ import annotations

import functools

import pytest
import torch

from agents.marl import TrainArgs, train
from agents.marl.trainer import PROGRESS_FORMAT, _json_args, build_learner, save_checkpoint
from agents.planning import first_stage_flows, first_stage_levels, write_env_settings
from qnet_envs.planning import Instance, Plan, batched_env, evaluate
from qnet_envs.planning.core import play_round

pytestmark = pytest.mark.usefixtures("one_thread")

SETTINGS = {"rounds": 1, "levels": 2}
ARGS = {
    "seed": 0,
    "n_envs": 16,
    "steps_per_batch": 256,
    "minibatch_size": 64,
    "learning_rate": 5e-3,
    "entropy_coef": 0.003,
    "hidden_sizes": (16, 16),
    "critic": "ippo",
    "actor": "gnn-transformer",
    "gcn_layers": 2,
}


def objective_and_satisfied(instance: Instance, checkpoint) -> tuple[float, float]:
    levels, resolution = first_stage_levels(instance, checkpoint)
    env = batched_env(instance=instance, **SETTINGS)
    plan = Plan.from_flows(instance, first_stage_flows(instance, levels, resolution))
    return -play_round(env.layout, levels).reward, evaluate(instance, plan).satisfied_overall


def test_training_beats_the_untrained_plan_and_meets_85_percent(tmp_path) -> None:
    instance = Instance.load("tiny").with_matrix(0)  # the training matrix
    env_fn = functools.partial(batched_env, instance=instance, **SETTINGS)
    untrained_dir, trained_dir = tmp_path / "untrained", tmp_path / "trained"
    for run in (untrained_dir, trained_dir):
        write_env_settings(run, **SETTINGS)
    torch.manual_seed(ARGS["seed"])
    args = TrainArgs(total_steps=2_048, run_dir=trained_dir, **ARGS)
    learner = build_learner(env_fn, args)  # the weights train() starts from (same seed)
    progress = {"format": PROGRESS_FORMAT, "args": _json_args(args), "history": []}
    untrained = save_checkpoint(untrained_dir, learner, 0, progress)
    before, before_satisfied = objective_and_satisfied(instance, untrained)
    result = train(env_fn, args)
    after, satisfied = objective_and_satisfied(instance, result.checkpoint)
    assert satisfied >= 0.85
    assert after < before - 0.05, (before, before_satisfied, after, satisfied)
