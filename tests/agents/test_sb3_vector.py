"""The SB3 adapter of the batched routing env: same data as SB3's DummyVecEnv, and it trains."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks

from agents.ppo import FirstOptimalCallback, make_env, optimal_fidelity_of
from agents.sb3_vector import SB3RoutingVecEnv
from qnet_envs.routing.scenario import Scenario


@pytest.mark.parametrize("scenario_name", ["default", "amplitude-damping-08"])
def test_adapter_steps_like_dummy_vec_env_over_single_envs(scenario_name: str):
    scenario = Scenario.load(scenario_name)
    ours = SB3RoutingVecEnv(6, scenario)
    ref = make_env(scenario, n_envs=6)  # DummyVecEnv over Monitor(gym.make(...))
    ours.seed(4)
    ref.seed(4)
    np.testing.assert_array_equal(ours.reset(), ref.reset())
    rng = np.random.default_rng(0)
    finished = 0
    for t in range(200):
        masks = get_action_masks(ours)
        np.testing.assert_array_equal(masks, get_action_masks(ref))
        actions = np.array(
            [
                rng.choice(np.flatnonzero(m)) if rng.random() < 0.9 else rng.integers(4)
                for m in masks
            ]
        )
        obs, reward, dones, infos = ours.step(actions)
        ref_obs, ref_reward, ref_dones, ref_infos = ref.step(actions)
        np.testing.assert_allclose(obs, ref_obs, atol=1e-6, err_msg=f"step {t}")
        np.testing.assert_allclose(reward, ref_reward, atol=1e-6, err_msg=f"step {t}")
        np.testing.assert_array_equal(dones, ref_dones)
        for i in np.flatnonzero(dones):
            got, expected = infos[i], ref_infos[i]
            assert got["event"] == expected["event"] and got["route"] == expected["route"]
            assert got["node"] == expected["node"]
            assert got["TimeLimit.truncated"] == expected["TimeLimit.truncated"]
            for key in ("singlet_fidelity", "fully_entangled_fraction", "success_probability"):
                assert got[key] == pytest.approx(expected[key], abs=1e-12)
            assert got["rewards"] == pytest.approx(expected["rewards"], abs=1e-12)
            np.testing.assert_allclose(
                got["terminal_observation"], expected["terminal_observation"], atol=1e-6
            )
            assert got["episode"]["l"] == expected["episode"]["l"]
            assert got["episode"]["r"] == pytest.approx(expected["episode"]["r"], abs=1e-5)
            finished += 1
    assert finished >= 30


def test_maskable_ppo_learns_the_optimal_route_on_the_batched_env(tiny):
    """The trainers' learnability scenario (conftest's TINY: the greedy-looking first link is
    not the optimal route's)."""
    torch.set_num_threads(1)
    scenario = tiny
    optimal = optimal_fidelity_of(scenario)
    venv = SB3RoutingVecEnv(8, scenario)
    model = MaskablePPO("MlpPolicy", venv, n_steps=64, seed=0, device="cpu")
    found = FirstOptimalCallback(optimal, scenario.figure_of_merit)
    model.learn(8_192, callback=found)
    assert found.found, f"best F {found.best_fidelity} < optimal {optimal}"
    # The trained greedy policy plays an oracle-optimal route.
    obs = venv.reset()
    for _ in range(scenario.max_actions):
        actions, _ = model.predict(obs, action_masks=venv.action_masks(), deterministic=True)
        obs, _, dones, infos = venv.step(actions)
        if dones[0]:
            break
    assert infos[0]["event"] == "arrived"
    assert infos[0]["singlet_fidelity"] == pytest.approx(optimal, abs=1e-9)


def test_env_method_names_what_it_supports():
    venv = SB3RoutingVecEnv(2, "tiny")
    venv.reset()
    assert np.stack(venv.env_method("action_masks")).shape == (2, 4)
    with pytest.raises(AttributeError, match="allowed: 'action_masks'"):
        venv.env_method("render")
