"""First stage from a checkpoint: round trip, size agnosticism through ``init_from``, the
levels' meaning, and the trainer's validation of the new actor."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import torch

from agents.marl import TrainArgs, load_policy, train
from agents.marl.act import greedy_actions
from agents.marl.examples import parallel_env as toy_env
from agents.planning import (
    ENV_FILE,
    first_stage_flows,
    first_stage_levels,
    read_env_settings,
    with_matrix_shared,
    write_env_settings,
)
from qnet_envs.planning import Instance, Plan, batched_env, evaluate
from qnet_envs.planning.core import play_round

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = {"hidden_sizes": (16, 16), "actor": "gnn-transformer", "critic": "ippo"}


def small_args(**kwargs) -> TrainArgs:
    base = {"total_steps": 32, "steps_per_batch": 16, "minibatch_size": 8, **SMALL}
    return TrainArgs(**{**base, **kwargs})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("planpol") / "tiny"
    write_env_settings(run_dir, rounds=2, levels=3)
    env_fn = functools.partial(batched_env, instance="tiny", rounds=2, levels=3)
    result = train(env_fn, small_args(run_dir=run_dir, gcn_layers=1))
    return run_dir, result, env_fn


def test_checkpoint_round_trip_gives_the_same_greedy_actions(tiny_run) -> None:
    run_dir, result, env_fn = tiny_run
    progress = json.loads((result.checkpoint / "progress.json").read_text())
    assert progress["args"]["actor"] == "gnn-transformer"
    assert progress["args"]["gcn_layers"] == 1
    loaded = load_policy(run_dir, env_fn)
    env = env_fn()
    obs, info = env.reset()
    from tensordict import TensorDict
    from torchrl.envs.utils import ExplorationType, set_exploration_type

    td = TensorDict(
        {
            "agents": TensorDict(
                {
                    "observation": torch.as_tensor(obs),
                    "action_mask": torch.as_tensor(info["action_mask"]),
                },
                batch_size=[env.n_agents],
            ),
            "state": torch.as_tensor(env.state()),
        },
        batch_size=[],
    )
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        a = result.policy(td.clone()).get(("agents", "logits"))
        b = loaded(td.clone()).get(("agents", "logits"))
    torch.testing.assert_close(a, b)


def test_first_stage_levels_replays_the_greedy_rollout(tiny_run) -> None:
    run_dir, result, env_fn = tiny_run
    assert read_env_settings(result.checkpoint)["levels"] == 3  # found two levels up
    inst = Instance.load("tiny")
    levels, resolution = first_stage_levels(inst, result.checkpoint)
    assert resolution == 3
    assert levels.shape == (inst.n_demands, inst.k_paths) and levels.dtype == np.int64
    assert levels.min() >= 0 and levels.max() <= 3
    env = env_fn()
    assert not levels[~env.layout.slot_usable].any()
    again, _ = first_stage_levels("tiny", run_dir)  # deterministic, run dir = its latest
    np.testing.assert_array_equal(levels, again)
    # the flows reproduce the env's round: same loads, cost and satisfied demand
    played = play_round(env.layout, levels)
    x = first_stage_flows(inst, levels, resolution)
    np.testing.assert_allclose(x, played.x)
    check = evaluate(inst, Plan.from_flows(inst, x))
    assert check.total_cost == pytest.approx(played.total_cost)
    more, _ = first_stage_levels(inst, run_dir, rounds=1)
    assert more.shape == levels.shape
    with pytest.raises(ValueError, match="rounds"):
        first_stage_levels(inst, run_dir, rounds=0)


def test_init_from_carries_the_weights_to_another_topology(tiny_run, tmp_path) -> None:
    _, result, _ = tiny_run
    abilene = functools.partial(batched_env, instance="abilene", rounds=2, levels=3)
    args = small_args(run_dir=tmp_path / "abilene", gcn_layers=1, init_from=result.checkpoint)
    # before any update, the weights are the tiny run's: compare on one parameter
    from agents.marl.trainer import build_learner, init_weights

    learner = build_learner(abilene, args)
    init_weights(result.checkpoint, learner, args)
    tiny_params = dict(result.policy.named_parameters())
    for name, value in learner.actor.named_parameters():
        torch.testing.assert_close(value, tiny_params[name])
    write_env_settings(tmp_path / "abilene", rounds=2, levels=3)
    trained = train(abilene, args)
    levels, _ = first_stage_levels("abilene", trained.checkpoint)
    assert levels.shape == (55, 3)
    with pytest.raises(ValueError, match="gcn_layers"):
        train(abilene, small_args(gcn_layers=2, init_from=result.checkpoint))


def test_the_actor_needs_a_graph_layout_and_valid_settings() -> None:
    with pytest.raises(ValueError, match="graph_layout"):
        train(toy_env, small_args())
    with pytest.raises(ValueError, match="gcn_layers"):
        small_args(gcn_layers=0)
    with pytest.raises(ValueError, match="allowed"):
        write_env_settings("/tmp", speed=3)


def test_matrices_share_the_computed_paths() -> None:
    inst = Instance.load("tiny")
    _ = inst.paths
    other = with_matrix_shared(inst, 0)
    assert other.paths is inst.paths
    np.testing.assert_array_equal(other.demand, inst.traffic_matrices[0])
    assert not np.array_equal(other.demand, inst.demand)
    fresh = inst.with_matrix(0)
    np.testing.assert_array_equal(fresh.paths.g, other.paths.g)


def test_env_file_name() -> None:
    assert ENV_FILE == "planning_env.json"


def test_greedy_actions_helper_is_not_enough_for_a_state_actor(tiny_run) -> None:
    """``agents.marl.act.greedy_actions`` hands in observations only; the state actor needs
    the state too, which is why first_stage builds its own TensorDict."""
    _, result, env_fn = tiny_run
    env = env_fn()
    obs, info = env.reset()
    with pytest.raises(KeyError):
        greedy_actions(result.policy, obs, info["action_mask"])
