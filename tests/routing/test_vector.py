"""The batched vector env plays exactly the single env's game, sub-env by sub-env.

Reference: ``gymnasium.vector.SyncVectorEnv`` over single ``SwapRoutingEnv``s (Gymnasium's own
loop over sub-envs, its own autoreset and info layout), stepped with the same actions; every
observation, reward, termination, truncation, info entry (masks included) and action mask must
agree, across many autoresets, in every autoreset mode.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import qnet_envs  # noqa: F401  (registers the ids)
from qnet_envs.registration import NAMESPACE, VECTOR_ENTRY_POINTS
from qnet_envs.routing.env import SwapRoutingEnv
from qnet_envs.routing.scenario import Scenario
from qnet_envs.routing.vector import SwapRoutingVectorEnv

FLOAT_TOLERANCE = 1e-12


def scenario(name: str) -> Scenario:
    if name == "deterministic-fef":
        base = Scenario.load("amplitude-damping-08")
        return dataclasses.replace(
            base, swap_mode="deterministic", figure_of_merit="fully_entangled_fraction"
        )
    if name == "postselected-fef":
        return dataclasses.replace(
            Scenario.load("phase-noise-10"), figure_of_merit="fully_entangled_fraction"
        )
    return Scenario.load(name)


def assert_same_info(ours: dict[str, Any], ref: dict[str, Any], where: str) -> None:
    assert set(ours) == set(ref), f"{where}: keys {sorted(ours)} != {sorted(ref)}"
    for key, expected in ref.items():
        got = ours[key]
        here = f"{where}[{key!r}]"
        if isinstance(expected, dict):
            assert_same_info(got, expected, here)
            continue
        if key.startswith("_"):
            np.testing.assert_array_equal(got, expected, err_msg=here)
            continue
        present = ref[f"_{key}"]
        if key == "route":  # ours: int array padded with -1; Gymnasium: object array of tuples
            for i in np.flatnonzero(present):
                assert tuple(got[i][got[i] >= 0].tolist()) == expected[i], f"{here} row {i}"
        elif key == "final_obs":
            for i in np.flatnonzero(present):
                np.testing.assert_allclose(got[i], expected[i], atol=1e-6, err_msg=here)
        elif expected.dtype.kind == "f":
            np.testing.assert_allclose(
                got[present], expected[present], rtol=0, atol=FLOAT_TOLERANCE, err_msg=here
            )
        else:
            np.testing.assert_array_equal(got[present], expected[present], err_msg=here)


def choose_actions(rng: np.random.Generator, masks: np.ndarray) -> np.ndarray:
    """Mostly valid actions (long games, arrivals, dead ends), some uniform (invalid ones)."""
    actions = rng.integers(0, 4, size=len(masks))
    for i, mask in enumerate(masks):
        valid = np.flatnonzero(mask)
        if len(valid) and rng.random() < 0.85:
            actions[i] = rng.choice(valid)
    return actions


def run_both(scenario_name: str, mode: AutoresetMode, num_envs: int, steps: int, seed: int):
    s = scenario(scenario_name)
    ours = SwapRoutingVectorEnv(num_envs, s, autoreset_mode=mode)
    ref = SyncVectorEnv([lambda: SwapRoutingEnv(s)] * num_envs, autoreset_mode=mode)
    obs, info = ours.reset(seed=seed)
    ref_obs, ref_info = ref.reset(seed=seed)
    np.testing.assert_array_equal(obs, ref_obs)
    assert_same_info(info, ref_info, "reset")
    assert ours.np_random_seed == ref.np_random_seed
    rng = np.random.default_rng(seed)
    ends = 0
    for t in range(steps):
        masks = ours.action_masks()
        np.testing.assert_array_equal(masks, np.stack(ref.call("action_masks")))
        actions = choose_actions(rng, masks)
        got = ours.step(actions)
        expected = ref.step(actions)
        where = f"{scenario_name} {mode.value} step {t}"
        np.testing.assert_allclose(got[0], expected[0], rtol=0, atol=1e-6, err_msg=where)
        np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=FLOAT_TOLERANCE, err_msg=where)
        np.testing.assert_array_equal(got[2], expected[2], err_msg=where)
        np.testing.assert_array_equal(got[3], expected[3], err_msg=where)
        assert_same_info(got[4], expected[4], where)
        ends += int((got[2] | got[3]).sum())
        if mode == AutoresetMode.DISABLED and (got[2] | got[3]).any():
            mask = got[2] | got[3]
            obs, info = ours.reset(options={"reset_mask": mask})
            ref_obs, ref_info = ref.reset(options={"reset_mask": mask})
            np.testing.assert_array_equal(obs, ref_obs)
            assert_same_info(info, ref_info, f"{where} masked reset")
    return ends


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.value)
@pytest.mark.parametrize(
    "scenario_name",
    ["tiny", "default", "white-noise-16", "amplitude-damping-08", "phase-noise-16"],
)
def test_trajectories_equal_single_envs(scenario_name: str, mode: AutoresetMode):
    ends = run_both(scenario_name, mode, num_envs=7, steps=120, seed=3)
    assert ends >= 20  # many autoresets were exercised


@pytest.mark.parametrize("scenario_name", ["deterministic-fef", "postselected-fef"])
def test_trajectories_equal_other_swap_modes_and_figures_of_merit(scenario_name: str):
    ends = run_both(scenario_name, AutoresetMode.NEXT_STEP, num_envs=5, steps=150, seed=11)
    assert ends >= 20


@pytest.mark.parametrize("name", sorted(VECTOR_ENTRY_POINTS))
def test_make_vec_builds_the_native_vector_env(name: str):
    env_id = f"{NAMESPACE}/{name}"
    env = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(env.unwrapped, SwapRoutingVectorEnv)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    single = gym.make(env_id)
    assert env.unwrapped.scenario.name == single.unwrapped.scenario.name
    assert env.single_observation_space == single.observation_space
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, *single.observation_space.shape)
    assert env.observation_space.contains(obs)
    # make_vec's default mode is the native env; kwargs reach it.
    same = gym.make_vec(env_id, num_envs=2, autoreset_mode="SameStep")
    assert isinstance(same.unwrapped, SwapRoutingVectorEnv)
    assert same.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP


def test_evolving_ids_have_no_vector_entry_point():
    with pytest.raises(gym.error.Error, match="vector entry point"):
        gym.make_vec(
            "qnet_envs/SwapRouting-Evolving-v0", 2, vectorization_mode="vector_entry_point"
        )


def test_gymnasium_vector_checks_pass():
    from gymnasium.utils.env_checker import data_equivalence

    env = gym.make_vec("qnet_envs/SwapRouting-v0", num_envs=4)
    obs_1, info_1 = env.reset(seed=5)
    obs_2, info_2 = env.reset(seed=5)
    assert data_equivalence(obs_1, obs_2) and data_equivalence(info_1, info_2)
    for _ in range(30):
        actions = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(actions)
        assert env.observation_space.contains(obs)
        assert reward.shape == terminated.shape == truncated.shape == (4,)
        assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == np.bool_


def test_step_rejects_bad_actions_and_calls_out_of_order():
    env = SwapRoutingVectorEnv(3, "tiny", autoreset_mode="Disabled")
    with pytest.raises(gym.error.ResetNeeded, match="before reset"):
        env.step(np.zeros(3, dtype=np.int64))
    env.reset(seed=0)
    for bad in ([0, 1], [0, 1, 4], [0, -1, 1], np.array([0.0, 1.0, 2.0]), [True, False, True]):
        with pytest.raises(ValueError, match=r"actions must be an integer array of shape \(3,\)"):
            env.step(bad)
    # Play until some sub-env ends, then stepping it without a reset is refused.
    for _ in range(50):
        _, _, terminated, truncated, _ = env.step(np.zeros(3, dtype=np.int64))
        if (terminated | truncated).any():
            break
    with pytest.raises(gym.error.ResetNeeded, match="autoreset"):
        env.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="reset_mask"):
        env.reset(options={"reset_mask": [True, False, True]})
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": np.zeros(3, dtype=bool)})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_envs": 0}, "num_envs must be an integer >= 1"),
        ({"num_envs": True}, "num_envs must be an integer >= 1"),
        ({"autoreset_mode": "sometimes"}, "autoreset_mode must be"),
        ({"render_mode": "human"}, "render_mode must be None"),
        ({"invalid_action_reward": 1.0}, "invalid_action_reward must be"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], match: str):
    with pytest.raises(ValueError, match=match):
        SwapRoutingVectorEnv(**{"num_envs": 2, **kwargs})


def test_seeds_per_env_match_sync_vector_env():
    ours = SwapRoutingVectorEnv(3, "tiny")
    ref = SyncVectorEnv([lambda: SwapRoutingEnv("tiny")] * 3)
    ours.reset(seed=[7, None, 9])
    ref.reset(seed=[7, None, 9])
    assert ours.np_random_seed[0] == ref.np_random_seed[0] == 7
    assert ours.np_random_seed[2] == ref.np_random_seed[2] == 9
    ours.reset(seed=40)
    assert ours.np_random_seed == (40, 41, 42)
    with pytest.raises(ValueError, match="seed must be"):
        ours.reset(seed=[1, 2])


def test_returned_arrays_are_fresh_and_pickle_round_trips():
    env = SwapRoutingVectorEnv(4, "default")
    obs, info = env.reset(seed=0)
    obs[:] = 0.5
    info["action_mask"][:] = False
    masks = env.action_masks()
    masks[:] = False
    again, info = env.reset(seed=0)
    assert again.max() == 1.0 and info["action_mask"].any() and env.action_masks().any()
    actions = np.array([0, 1, 0, 1])
    clone = pickle.loads(pickle.dumps(env))
    a, b = env.step(actions), clone.step(actions)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
