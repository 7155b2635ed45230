"""The evolving env's clock, stage switching and uptime on a hand-built two-stage network."""

from __future__ import annotations

import gymnasium as gym
import pytest

from qnet_envs.routing.env import EvolvingSwapRoutingEnv
from qnet_envs.routing.evolving import EvolvingScenario

DIAMOND = {
    "name": "diamond",
    "nodes": 4,
    "edges": [
        {"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.9}},
        {"u": 1, "v": 2, "state": {"kind": "amplitude_damped", "theta": 0.3}},
        {"u": 3, "v": 2, "state": {"kind": "amplitude_damped", "theta": 0.3}},
        {"u": 1, "v": 3, "state": {"kind": "werner", "fidelity": 0.7}},
    ],
    "alice": 0,
    "bob": 3,
    "stages": [
        {"events": []},
        {"events": [{"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.6}}]},
    ],
}
CANCELLING_ROUTE = [0, 1, 1]  # e0, e1, e2: F = 0.9
DIRECT_ROUTE = [0, 2]  # e0, e3


def make_env(total_actions: int = 100) -> EvolvingSwapRoutingEnv:
    return EvolvingSwapRoutingEnv(EvolvingScenario.from_dict(DIAMOND), total_actions=total_actions)


def play(env, actions):
    for action in actions:
        result = env.step(action)
    return result


def test_success_holds_the_route_until_the_next_stage():
    env = make_env()
    assert env.stage_bounds(0) == (0, 50) and env.stage_bounds(1) == (50, 100)
    _, info = env.reset(seed=0)
    assert info["stage"] == 0 and info["clock"] == 0 and info["uptime"] == 0.0
    *_, info = play(env, CANCELLING_ROUTE)
    assert info["event"] == "arrived" and info["singlet_fidelity"] == pytest.approx(0.9)
    assert info["clock"] == 50
    assert info["uptime"] == pytest.approx(47 / 50)
    assert info["stage_uptime"] == pytest.approx([47 / 50, 0.0])
    assert env.evolution_info() == {
        key: info[key] for key in ("stage", "clock", "uptime", "stage_uptime")
    }


def test_next_reset_enters_the_damaged_stage_where_the_old_route_fails():
    env = make_env()
    env.reset(seed=0)
    play(env, CANCELLING_ROUTE)
    _, info = env.reset()
    assert info["stage"] == 1
    *_, info = play(env, CANCELLING_ROUTE)
    assert info["singlet_fidelity"] == pytest.approx(0.6) and info["clock"] == 53
    assert info["uptime"] == pytest.approx(47 / 53)


def test_failures_do_not_count_as_uptime_and_clock_ticks_per_action():
    env = make_env()
    env.reset(seed=0)
    *_, info = play(env, DIRECT_ROUTE)  # F = 0.9 * 0.7 + 0.1 * 0.3 / 3 = 0.64 < 0.8
    assert info["event"] == "arrived" and info["clock"] == 2 and info["uptime"] == 0.0


def test_seeded_reset_restarts_the_evolution():
    env = make_env()
    env.reset(seed=0)
    play(env, CANCELLING_ROUTE)
    env.reset()
    _, info = env.reset(seed=1)
    assert info["stage"] == 0 and info["clock"] == 0 and info["uptime"] == 0.0
    _, info = env.reset(options={"restart": True})
    assert info["clock"] == 0


def test_episode_is_truncated_when_the_run_ends():
    env = make_env(total_actions=4)
    env.reset(seed=0)
    *_, truncated, info = env.step(0)
    assert not truncated
    env.step(1)
    env.step(0)  # back over e1 is a used link: invalid, episode ends
    env.reset()
    _, _, terminated, truncated, info = env.step(0)
    assert info["clock"] == 4 and truncated and not terminated


def test_bad_arguments_are_rejected():
    scenario = EvolvingScenario.from_dict(DIAMOND)
    with pytest.raises(
        ValueError, match=r"total_actions must be an integer >= the number of stages \(2\)"
    ):
        EvolvingSwapRoutingEnv(scenario, total_actions=1)
    with pytest.raises(ValueError, match=r"success_threshold must lie in \(0, 1\)"):
        EvolvingSwapRoutingEnv(scenario, success_threshold=1.5)


def test_the_end_of_the_run_is_its_own_event_and_needs_a_restart():
    env = make_env(total_actions=2)
    env.reset(seed=0)
    *_, truncated, info = env.step(0)
    assert not truncated and info["event"] == "moved"
    *_, terminated, truncated, info = env.step(1)
    assert (terminated, truncated, info["event"], info["clock"]) == (False, True, "end_of_run", 2)
    with pytest.raises(gym.error.ResetNeeded, match="run over"):
        env.step(0)
    env.reset()  # the run goes on past its end: every episode is cut after one action
    *_, truncated, info = env.step(0)
    assert truncated and info["event"] == "end_of_run"
    env.reset(seed=0)
    *_, truncated, info = env.step(0)
    assert not truncated and info["clock"] == 1


def test_step_before_reset_and_bool_actions_are_refused():
    env = make_env()
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="got True"):
        env.step(True)
    assert env.step(0)[4]["clock"] == 1
