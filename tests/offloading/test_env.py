"""The offloading PettingZoo env: spaces, info, defined behaviour on bad actions and links."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from qnet_envs.offloading import Scenario, core
from qnet_envs.offloading.env import OffloadingParallelEnv, parallel_env
from qnet_envs.offloading.scenario import LinkClass


def _play(env: OffloadingParallelEnv, seed: int = 0):
    observations, infos = env.reset(seed=seed)
    seen = [observations]
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        observations, rewards, terms, truncs, infos = env.step(actions)
        seen.append(observations)
        yield observations, rewards, infos


@pytest.mark.parametrize("variant", ["discrete", "hybrid"])
def test_an_episode_reports_its_cost(variant):
    env = parallel_env(variant=variant, reward_scale=4.0)
    steps = 0
    for observations, rewards, infos in _play(env):
        steps += 1
        info = infos["mobile_0"]
        assert set(rewards.values()) == {-info["cost"] / 4.0}
        assert sum(info["rewards"].values()) == pytest.approx(rewards["mobile_0"], rel=1e-9)
        for obs in observations.values():
            assert obs.dtype == np.float32 and np.all(np.isfinite(obs))
        if variant == "discrete":
            assert info["action_mask"].shape == (1 + 6 + 4,)
        else:
            assert "action_mask" not in info
        assert info["reason"] in core.REASONS
    assert steps == env.scenario.horizon


def test_spaces_follow_the_scenario():
    env = parallel_env()
    assert env.action_space("mobile_3").nvec.tolist() == [7, 4]
    assert env.observation_space("mobile_3").shape == (10 + 8 * 6,)
    hybrid = parallel_env(variant="hybrid")
    assert hybrid.action_space("mobile_0")["target"].n == 7
    assert env.action_space("mobile_0") is env.action_space("mobile_0")


@pytest.mark.parametrize(
    ("variant", "action", "match"),
    [
        ("discrete", np.array([7, 0]), r"target in \[0, 6\]"),
        ("discrete", np.array([0, 4]), r"level in \[0, 3\]"),
        ("discrete", np.array([0.5, 1.0]), "integer array"),
        ("hybrid", {"target": 1, "share": np.array([1.5])}, "share"),
        ("hybrid", {"target": 1, "share": np.array([np.nan])}, "share"),
        ("hybrid", {"target": 9, "share": np.array([0.5])}, "target"),
        ("hybrid", {"target": 1}, "a dict with 'target' and 'share'"),
    ],
)
def test_malformed_actions_raise(variant, action, match):
    env = parallel_env(variant=variant)
    env.reset(seed=0)
    actions = {a: env.action_space(a).sample() for a in env.agents}
    actions["mobile_2"] = action
    with pytest.raises(ValueError, match=match):
        env.step(actions)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variant": "mixed"}, "variant"),
        ({"qos": (0.5,)}, "qos"),
        ({"qos": (0.5, 1.5)}, "cost.energy_weight"),
        ({"reward_scale": 0}, "reward_scale"),
        ({"render_mode": "human"}, "render_mode"),
        ({"scenario": 3}, "scenario"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        parallel_env(**kwargs)


def _with_links(**changes) -> Scenario:
    base = Scenario()
    return dataclasses.replace(
        base,
        home_edge=dataclasses.replace(base.home_edge, **changes),
        far_edge=dataclasses.replace(base.far_edge, **changes),
        cloud_link=dataclasses.replace(base.cloud_link, **changes),
    )


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        (_with_links(mean_rate_pairs_s=0.0), "link_down"),
        (_with_links(fidelity_low=0.5, fidelity_high=0.5), "fidelity_unreachable"),
    ],
)
def test_unusable_links_are_reported_never_nan(scenario, reason):
    env = parallel_env(scenario=scenario, variant="hybrid")
    env.reset(seed=1)
    offload = {a: {"target": 1, "share": np.array([1.0], np.float32)} for a in env.agents}
    while env.agents:
        observations, rewards, _, _, infos = env.step(offload)
        assert all(np.isfinite(r) for r in rewards.values())
        assert all(np.all(np.isfinite(o)) for o in observations.values())
        reasons = {info["reason"] for info in infos.values()}
        assert reason in reasons
        fitting = [info for info in infos.values() if info["reason"] == reason]
        for info in fitting:  # sent home, or dropped where home is too small
            assert info["remote_share"].sum() == 0.0
            assert info["local_share"] + info["dropped_share"] == 1.0


def test_unservable_jobs_are_dropped_and_reported():
    base = Scenario()
    tiny_nodes = dataclasses.replace(
        base,
        mobile=dataclasses.replace(base.mobile, qubits=4),
        edge=dataclasses.replace(base.edge, qubits=4),
        cloud=dataclasses.replace(base.cloud, qubits=4),
    )
    env = parallel_env(scenario=tiny_nodes)
    _, infos = env.reset(seed=0)
    assert all(info["action_mask"].all() for info in infos.values())  # nothing to avoid
    _, rewards, _, _, infos = env.step({a: np.array([0, 0]) for a in env.agents})
    assert {info["reason"] for info in infos.values()} == {"unservable"}
    assert infos["mobile_0"]["dropped_jobs"] == 10.0
    assert rewards["mobile_0"] == pytest.approx(-10 * base.drop_penalty)


def test_the_mask_marks_the_nodes_a_job_fits_on():
    env = parallel_env()
    _, infos = env.reset(seed=4)
    jobs = env.current.jobs
    for i, agent in enumerate(env.agents):
        mask = infos[agent]["action_mask"]
        q = jobs.qubits[i]
        fits = [q <= 14] + [q <= 24] * 5 + [q <= 64]
        assert mask[:7].tolist() == fits
        assert mask[7:].all()


def test_pickle_mid_episode_continues_identically():
    env = parallel_env(variant="hybrid")
    env.reset(seed=3)
    actions = {a: env.action_space(a).sample() for a in env.agents}
    env.step(actions)
    clone = pickle.loads(pickle.dumps(env))
    a = env.step(actions)
    b = clone.step(actions)
    assert a[1] == b[1]
    for agent in a[0]:
        np.testing.assert_array_equal(a[0][agent], b[0][agent])


def test_render_draws_an_image():
    env = parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


def test_state_is_the_critic_input():
    env = parallel_env()
    env.reset(seed=0)
    state = env.state()
    assert state.shape == env.state_space.shape and np.all(np.isfinite(state))


def test_link_class_defaults_are_a_tier_table():
    assert isinstance(Scenario().cloud_link, LinkClass)
