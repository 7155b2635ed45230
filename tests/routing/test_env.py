"""The swap-routing game: rules, rewards, observations and info on hand-built scenarios."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import qnet_envs  # noqa: F401  (registers the ids)
from qnet_envs.physics import (
    SINGLET_DM,
    amplitude_damped,
    fully_entangled_fraction,
    reverse,
    singlet_fidelity,
    swap,
    werner,
)
from qnet_envs.routing import core
from qnet_envs.routing.env import SwapRoutingEnv
from qnet_envs.routing.scenario import Scenario

THETA = 0.3


def diamond(**overrides) -> Scenario:
    """Alice 0 - 1 - Bob 3 directly (Werner 0.7), or 1 - 2 - 3 through two damped links.

    Edge list (slot order follows it): e0 (0,1) F=0.9; e1 (1,2) damped theta; e2 (3,2) damped
    theta, stored from Bob's side so that walking 2 -> 3 reverses it and cancels e1;
    e3 (1,3) F=0.7.
    """
    data = {
        "name": "diamond",
        "nodes": 4,
        "edges": [
            {"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.9}},
            {"u": 1, "v": 2, "state": {"kind": "amplitude_damped", "theta": THETA}},
            {"u": 3, "v": 2, "state": {"kind": "amplitude_damped", "theta": THETA}},
            {"u": 1, "v": 3, "state": {"kind": "werner", "fidelity": 0.7}},
        ],
        "alice": 0,
        "bob": 3,
    }
    data.update(overrides)
    return Scenario.from_dict(data)


def play(env: gym.Env, actions: list[int]):
    env.reset(seed=0)
    results = [env.step(a) for a in actions]
    return results[-1], results


def test_slots_follow_the_edge_list_order():
    network = core.Network.compile(diamond())
    np.testing.assert_array_equal(
        network.slot_edge, [[0, -1, -1, -1], [0, 1, 3, -1], [1, 2, -1, -1], [2, 3, -1, -1]]
    )
    np.testing.assert_array_equal(network.slot_neighbor[1], [0, 2, 3, -1])


def test_cancelling_route_reward_and_info_match_an_independent_chain_of_swaps():
    env = SwapRoutingEnv(diamond())
    (obs, reward, terminated, truncated, info), results = play(env, [0, 1, 1])
    held, probability = SINGLET_DM, 1.0
    links = [werner(0.9), amplitude_damped(THETA), reverse(amplitude_damped(THETA))]
    fidelities = [1.0]
    for link in links:
        held, p = swap(held, link)
        probability *= p
        fidelities.append(singlet_fidelity(held))
    assert terminated and not truncated
    assert info["event"] == "arrived"
    assert info["route"] == (0, 1, 2)
    assert info["singlet_fidelity"] == pytest.approx(0.9, abs=1e-12)
    assert info["singlet_fidelity"] == pytest.approx(fidelities[-1], abs=1e-12)
    assert info["success_probability"] == pytest.approx(probability, abs=1e-12)
    assert info["fully_entangled_fraction"] == pytest.approx(fully_entangled_fraction(held))
    step_rewards = [r[1] for r in results]
    expected = [fidelities[i + 1] - fidelities[i] for i in range(3)]
    expected[-1] += 100 * fidelities[-1]
    np.testing.assert_allclose(step_rewards, expected, atol=1e-12)
    assert sum(step_rewards) == pytest.approx(fidelities[-1] - 1 + 100 * fidelities[-1])
    assert info["rewards"]["arrival"] == pytest.approx(90.0)


def test_direct_route_is_worse_than_the_cancelling_one():
    env = SwapRoutingEnv(diamond())
    (_, reward, terminated, _, info), _ = play(env, [0, 2])
    assert terminated and info["route"] == (0, 3)
    assert info["singlet_fidelity"] == pytest.approx(0.9 * 0.7 + 0.1 * 0.3 / 3)


def test_walking_a_link_backwards_uses_the_reversed_state():
    # Same walk but with e2 stored from node 2's side: no cancellation.
    scenario = diamond(
        edges=[
            {"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.9}},
            {"u": 1, "v": 2, "state": {"kind": "amplitude_damped", "theta": THETA}},
            {"u": 2, "v": 3, "state": {"kind": "amplitude_damped", "theta": THETA}},
            {"u": 1, "v": 3, "state": {"kind": "werner", "fidelity": 0.7}},
        ]
    )
    (*_, info), _ = play(SwapRoutingEnv(scenario), [0, 1, 1])
    assert info["singlet_fidelity"] < 0.85


@pytest.mark.parametrize(("actions", "event"), [([3], "empty_slot"), ([0, 0], "used_link")])
def test_invalid_actions_end_the_episode_with_the_penalty(actions, event):
    env = SwapRoutingEnv(diamond(), invalid_action_reward=-5.0)
    (obs, reward, terminated, truncated, info), _ = play(env, actions)
    assert terminated and not truncated
    assert info["event"] == event
    assert reward == -5.0 and info["rewards"] == {"invalid_action": -5.0}


def test_dead_end_terminates_with_the_invalid_action_penalty():
    scenario = Scenario.from_dict(
        {
            "nodes": 4,
            "edges": [
                {"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.9}},
                {"u": 0, "v": 2, "state": {"kind": "werner", "fidelity": 0.9}},
                {"u": 2, "v": 3, "state": {"kind": "werner", "fidelity": 0.9}},
            ],
            "alice": 0,
            "bob": 3,
        }
    )
    # Every action at the leaf would be invalid: the game ends there, penalised as one.
    env = SwapRoutingEnv(scenario, invalid_action_reward=-3.0)
    (_, reward, terminated, truncated, info), _ = play(env, [0])
    assert terminated and not truncated and info["event"] == "dead_end"
    assert info["rewards"] == {"fidelity_gain": pytest.approx(-0.1), "dead_end": -3.0}
    assert reward == pytest.approx(-3.1)
    assert info["route"] == (0,) and not info["action_mask"].any()


def test_nodes_may_repeat_but_links_may_not_and_truncation_after_max_actions():
    # A triangle 0-1-2 hanging off Alice, Bob far away: walk around the triangle.
    scenario = Scenario.from_dict(
        {
            "nodes": 5,
            "edges": [
                {"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.95}},
                {"u": 1, "v": 2, "state": {"kind": "werner", "fidelity": 0.95}},
                {"u": 2, "v": 0, "state": {"kind": "werner", "fidelity": 0.95}},
                {"u": 0, "v": 3, "state": {"kind": "werner", "fidelity": 0.95}},
                {"u": 3, "v": 4, "state": {"kind": "werner", "fidelity": 0.95}},
            ],
            "alice": 0,
            "bob": 4,
            "max_actions": 3,
        }
    )
    env = SwapRoutingEnv(scenario)
    (_, _, terminated, truncated, info), results = play(env, [0, 1, 1])
    assert [r[4]["node"] for r in results] == [1, 2, 0]
    assert truncated and not terminated
    assert info["action_mask"].tolist() == [False, False, True, False]


def test_observation_matches_the_pure_observe_function():
    env = SwapRoutingEnv(diamond())
    obs, _ = env.reset(seed=0)
    for action in [0, 1, 1]:
        np.testing.assert_array_equal(obs, core.observe(env._network, env._state))
        obs, *_ = env.step(action)
    np.testing.assert_array_equal(obs, core.observe(env._network, env._state))
    n, e = 4, 4
    assert obs[3] == 1.0 and obs[n : n + e].tolist() == [1, 1, 1, 0]
    assert obs[n + e] == pytest.approx(3 / 15) and obs[n + e + 1] == pytest.approx(0.9)


def test_action_masks_match_info_and_valid_slots():
    env = SwapRoutingEnv(diamond())
    _, info = env.reset(seed=0)
    assert (
        env.action_masks().tolist() == info["action_mask"].tolist() == [True, False, False, False]
    )
    *_, info = env.step(0)
    assert env.action_masks().tolist() == [False, True, True, False]


def test_fully_entangled_fraction_as_figure_of_merit_and_deterministic_mode():
    scenario = diamond(figure_of_merit="fully_entangled_fraction", swap_mode="deterministic")
    (*_, info), results = play(SwapRoutingEnv(scenario), [0, 1, 1])
    held = SINGLET_DM
    for link in [werner(0.9), amplitude_damped(THETA), reverse(amplitude_damped(THETA))]:
        held, p = swap(held, link, "deterministic")
        assert p == 1.0
    assert info["success_probability"] == 1.0
    assert info["fully_entangled_fraction"] == pytest.approx(fully_entangled_fraction(held))
    assert info["rewards"]["arrival"] == pytest.approx(100 * fully_entangled_fraction(held))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="render_mode must be None or one of"):
        SwapRoutingEnv(diamond(), render_mode="human")
    with pytest.raises(ValueError, match="invalid_action_reward must be a finite number <= 0"):
        SwapRoutingEnv(diamond(), invalid_action_reward=1.0)
    env = SwapRoutingEnv(diamond())
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 3\]"):
        env.step(4)
    with pytest.raises(TypeError, match="scenario must be a name, a path or a Scenario"):
        SwapRoutingEnv(42)


def test_rgb_render_draws_the_route():
    env = gym.make("qnet_envs/SwapRouting-v0", scenario=diamond(), render_mode="rgb_array")
    env.reset(seed=0)
    blank = env.render()
    env.step(0)
    env.step(1)
    drawn = env.render()
    assert drawn.shape == blank.shape == (500, 600, 3) and drawn.dtype == np.uint8
    assert np.any(drawn != blank)
    env.close()


@pytest.mark.parametrize(
    ("positions", "problem"),
    [
        ([[0, 0], [1]], "not an array of numbers"),
        ([["a", "b"]] * 4, "not an array of numbers"),
        ([[0, 0]] * 3, "shape (3, 2)"),
        ([[0, float("nan")]] * 4, "entries are not finite"),
    ],
)
def test_bad_positions_name_the_field(positions, problem):
    with pytest.raises(ValueError) as error:
        diamond(positions=positions)
    assert str(error.value) == f"positions: {problem} (allowed: 4 pairs of finite numbers [x, y])"


def test_route_fidelity_refuses_to_walk_past_bob_and_scores_prefixes():
    network = core.Network.compile(diamond())
    assert core.route_fidelity(network, []) == (1.0, 1.0)
    assert core.route_fidelity(network, [0])[0] == pytest.approx(0.9)
    with pytest.raises(
        ValueError, match=r"route\[2\] = edge 2 comes after the walk arrived at Bob"
    ):
        core.route_fidelity(network, [0, 3, 2])
    with pytest.raises(ValueError, match=r"route\[1\] = edge 0 is not a link of node 1|used twice"):
        core.route_fidelity(network, [0, 0])


def _uncached(scenario: str | Scenario) -> SwapRoutingEnv:
    env = SwapRoutingEnv(scenario)
    env.step_cache_size = 0
    return env


@pytest.mark.parametrize("cache_size", [16_384, 7])
def test_remembered_steps_equal_freshly_played_ones(cache_size: int):
    # Random actions, invalid ones included, on one env that remembers its steps (a large cache,
    # and a tiny one that is emptied over and over) and one that recomputes every step.
    cached, fresh = SwapRoutingEnv("amplitude-damping-10"), _uncached("amplitude-damping-10")
    cached.step_cache_size = cache_size
    rng = np.random.default_rng(5)
    for env in (cached, fresh):
        env.reset(seed=0)
    repeated = 0
    for _ in range(4_000):
        action = int(rng.integers(0, 4)) if rng.random() < 0.2 else None
        if action is None:
            mask = cached.action_masks()
            action = int(rng.choice(np.flatnonzero(mask))) if mask.any() else 0
        repeated += (cached._state.route, cached._state.actions, action) in cached._steps
        got, want = cached.step(action), fresh.step(action)
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1:4] == want[1:4]
        assert got[4].keys() == want[4].keys()
        for key in want[4]:
            np.testing.assert_array_equal(got[4][key], want[4][key])
        if got[2] or got[3]:
            for env in (cached, fresh):
                env.reset()
    assert len(cached._steps) <= cache_size
    assert repeated > (1_000 if cache_size > 4_000 else 50)  # the cache was actually used


def test_callers_cannot_corrupt_remembered_steps():
    env = SwapRoutingEnv(diamond())
    first = play(env, [0, 0])
    obs, _, _, _, info = first[0]
    obs[:] = 7.0
    info["action_mask"][:] = True
    info["rewards"]["fidelity_gain"] = 99.0
    reset_obs, reset_info = env.reset()
    reset_obs[:] = 7.0
    reset_info["rewards"]["extra"] = 1.0
    again = play(env, [0, 0])
    fresh = play(_uncached(diamond()), [0, 0])
    np.testing.assert_array_equal(again[0][0], fresh[0][0])
    assert again[0][4]["rewards"] == fresh[0][4]["rewards"]
    np.testing.assert_array_equal(again[0][4]["action_mask"], fresh[0][4]["action_mask"])
    assert env.reset()[1]["rewards"] == {}


# ------------------------------------------------------------ calls outside an episode
@pytest.mark.parametrize("wrapped", [False, True], ids=["raw", "gym.make"])
def test_step_before_reset_raises_reset_needed(wrapped):
    env = gym.make("qnet_envs/SwapRouting-v0", scenario=diamond()) if wrapped else None
    env = env or SwapRoutingEnv(diamond())
    with pytest.raises(gym.error.ResetNeeded, match=r"reset\(\)"):
        env.step(0)
    env.reset(seed=0)
    assert env.step(0)[4]["event"] == "moved"


@pytest.mark.parametrize(
    ("scenario", "actions", "event"),
    [
        (diamond(), [0, 1, 1], "arrived"),
        (diamond(), [3], "empty_slot"),
        (diamond(max_actions=2), [0, 1], "out_of_actions"),
    ],
)
@pytest.mark.parametrize("wrapped", [False, True], ids=["raw", "gym.make"])
def test_step_after_the_episode_ended_raises_until_reset(scenario, actions, event, wrapped):
    env = (
        gym.make("qnet_envs/SwapRouting-v0", scenario=scenario)
        if wrapped
        else SwapRoutingEnv(scenario)
    )
    (_, _, terminated, truncated, info), _ = play(env, actions)
    assert (terminated or truncated) and info["event"] == event
    for action in (0, 1):
        with pytest.raises(gym.error.ResetNeeded, match=f"episode over \\(event '{event}'\\)"):
            env.step(action)
    _, info = env.reset()
    assert info["event"] == "reset" and info["route"] == ()
    assert play(env, actions)[0][4]["event"] == event  # the same episode again, cache or not


def test_truncation_is_its_own_event():
    env = SwapRoutingEnv(diamond(max_actions=2))
    env.reset(seed=0)
    *_, terminated, truncated, info = env.step(0)
    assert (terminated, truncated, info["event"]) == (False, False, "moved")
    *_, terminated, truncated, info = env.step(1)
    assert (terminated, truncated, info["event"]) == (False, True, "out_of_actions")
    # Arriving on the last allowed action is a termination, and says so.
    env = SwapRoutingEnv(diamond(max_actions=2))
    env.reset(seed=0)
    env.step(0)
    *_, terminated, truncated, info = env.step(2)
    assert (terminated, truncated, info["event"]) == (True, False, "arrived")


@pytest.mark.parametrize("action", [True, False, np.bool_(True), 1.0, "1", np.array([1]), None])
def test_non_integer_actions_are_rejected(action):
    env = SwapRoutingEnv(diamond())
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"^action must be an integer in \[0, 3\], got "):
        env.step(action)
    assert env.step(0)[4]["route"] == (0,)  # nothing was played


@pytest.mark.parametrize("action", [1, np.int64(1), np.uint8(1), np.array(1)])
def test_integer_actions_of_every_kind_play_the_same(action):
    env = SwapRoutingEnv(diamond())
    env.reset(seed=0)
    env.step(0)
    assert env.step(action)[4]["route"] == (0, 1)


def test_argument_errors_print_plain_values():
    with pytest.raises(ValueError) as error:
        SwapRoutingEnv(diamond(), invalid_action_reward=np.float64(0.5))
    assert str(error.value) == "invalid_action_reward must be a finite number <= 0, got 0.5"
    env = SwapRoutingEnv(diamond())
    env.reset(seed=0)
    with pytest.raises(ValueError) as error:
        env.step(np.int64(7))
    assert str(error.value) == "action must be an integer in [0, 3], got 7"
