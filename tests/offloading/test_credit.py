"""Per-agent credit of the offloading reward: each job's exact share of the step cost, and the
rewards built from it."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from agents.marl.batched import StackedParallelEnv
from qnet_envs.offloading import Scenario, core
from qnet_envs.offloading.env import OffloadingParallelEnv, parallel_env
from qnet_envs.validation import FieldError

SCALE = 10.0


def _random_actions(env: OffloadingParallelEnv, rng: np.random.Generator) -> dict:
    """Random discrete actions, often offloading (so some jobs fall back, some drop)."""
    n_targets, k = env.layout.n_targets, env.scenario.share_levels
    return {
        a: np.array([rng.integers(0, n_targets), rng.integers(0, k)], dtype=np.int64)
        for a in env.agents
    }


def _own_costs_by_loops(env: OffloadingParallelEnv, infos: dict) -> list[float]:
    """Each agent's cost from the definition, one job at a time, from the info it was given."""
    sc = env.scenario
    costs = []
    for agent in env.possible_agents:
        info = infos[agent]
        cost = 0.0
        cost += sc.latency_weight * info["job_latency_s"] / sc.latency_scale_s
        cost += sc.energy_weight * info["job_energy_j"] / sc.energy_scale_j
        cost += sc.drop_penalty * info["dropped_share"]
        costs.append(cost)
    return costs


def _sparse(name: str) -> Scenario:
    """The shipped scenario with half the nodes idle each step (the shipped ones always have a
    job on every node)."""
    base = Scenario.load(name)
    return dataclasses.replace(base, jobs=dataclasses.replace(base.jobs, arrival_probability=0.5))


@pytest.mark.parametrize("scenario", ["default", "tiny"])
def test_own_costs_split_the_step_cost_exactly(scenario: str) -> None:
    env = parallel_env(scenario=_sparse(scenario), qos=(0.8, 0.2), reward_scale=SCALE)
    rng = np.random.default_rng(4)
    seen_drop = seen_idle = False
    for seed in range(3):
        env.reset(seed=seed)
        while env.agents:
            _, _, _, _, infos = env.step(_random_actions(env, rng))
            first = infos[env.possible_agents[0]]
            loops = _own_costs_by_loops(env, infos)
            assert sum(loops) == pytest.approx(first["cost"], rel=1e-12)
            own = [infos[a]["own_cost"] for a in env.possible_agents]
            np.testing.assert_allclose(own, loops, rtol=1e-12, atol=1e-15)
            for key in ("latency", "energy", "drop"):
                total = sum(infos[a]["own_rewards"][key] for a in env.possible_agents)
                assert total == pytest.approx(first["rewards"][key], rel=1e-12, abs=1e-15)
            for agent in env.possible_agents:
                info = infos[agent]
                assert set(info["own_rewards"]) == set(info["rewards"])
                assert sum(info["own_rewards"].values()) == pytest.approx(
                    -info["own_cost"] / SCALE, rel=1e-12, abs=1e-15
                )
                if info["reason"] == "no_job":
                    seen_idle = True
                    assert info["own_cost"] == 0.0
                seen_drop |= info["dropped_share"] > 0
    assert seen_idle
    assert seen_drop or scenario == "tiny"  # default's mobile nodes lack qubits for big jobs


def test_a_dropped_job_costs_its_agent_the_penalty() -> None:
    env = parallel_env(scenario="default", reward_scale=SCALE, credit="own")
    rng = np.random.default_rng(0)
    env.reset(seed=1)
    for _ in range(env.scenario.horizon):
        _, rewards, _, _, infos = env.step(_random_actions(env, rng))
        for i, agent in enumerate(env.possible_agents):
            info = infos[agent]
            assert info["own_rewards"]["drop"] == pytest.approx(
                -env.scenario.drop_penalty * info["dropped_share"] / SCALE
            )
            want = -env.layout.n_mobile * _own_costs_by_loops(env, infos)[i] / SCALE
            assert rewards[agent] == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_team_credit_is_the_old_reward_bit_for_bit() -> None:
    envs = [parallel_env(reward_scale=SCALE), parallel_env(reward_scale=SCALE, credit="team")]
    envs.append(parallel_env(reward_scale=SCALE, credit=0.0))
    rng = np.random.default_rng(1)
    for env in envs:
        env.reset(seed=3)
    while envs[0].agents:
        actions = _random_actions(envs[0], rng)
        outs = [env.step(actions) for env in envs]
        info = outs[0][4]["mobile_0"]
        old = -info["cost"] / SCALE  # the reward before credit existed
        for _, rewards, _, _, _ in outs:
            assert set(rewards) == set(envs[0].possible_agents)
            assert all(r == old for r in rewards.values())
            assert all(type(r) is float for r in rewards.values())


@pytest.mark.parametrize("weight", [0.25, 0.5, 0.75])
def test_weights_interpolate_and_keep_the_team_mean(weight: float) -> None:
    credits = ("team", weight, "own")
    envs = [parallel_env(reward_scale=SCALE, qos=(0.8, 0.2), credit=c) for c in credits]
    rng = np.random.default_rng(2)
    for env in envs:
        env.reset(seed=5)
    spread = 0.0
    while envs[0].agents:
        actions = _random_actions(envs[0], rng)
        outs = [env.step(actions) for env in envs]
        team, mixed, own = (np.array(list(out[1].values())) for out in outs)
        np.testing.assert_allclose(mixed, (1 - weight) * team + weight * own, rtol=1e-12)
        assert own.mean() == pytest.approx(team[0], rel=1e-12)
        assert mixed.mean() == pytest.approx(team[0], rel=1e-12)
        spread = max(spread, float(own.std()))
        for a, b in itertools.pairwise(outs):  # credit changes the rewards only
            for agent in envs[0].possible_agents:
                np.testing.assert_array_equal(a[0][agent], b[0][agent])
                assert a[4][agent]["own_rewards"] == b[4][agent]["own_rewards"]
    assert spread > 0


@pytest.mark.parametrize("bad", ["mine", "teams", 1.5, -0.1, True, float("nan"), None])
def test_bad_credit_is_a_field_error(bad: object) -> None:
    with pytest.raises(FieldError, match=r"^credit: .*allowed: \"team\", \"own\" or a number") as e:
        parallel_env(credit=bad)
    assert e.value.field == "credit"


@pytest.mark.parametrize("credit", ["team", 0.5, "own"])
def test_the_array_interface_gives_the_parallel_rewards(credit: str | float) -> None:
    """The trainer stacks the parallel env (``agents.marl.batched.StackedParallelEnv``): its
    ``(n_agents,)`` rewards are the parallel env's, agent by agent, as float32."""
    par = parallel_env(scenario="tiny", reward_scale=SCALE, credit=credit)
    stacked = StackedParallelEnv(parallel_env(scenario="tiny", reward_scale=SCALE, credit=credit))
    par.reset(seed=7)
    stacked.reset(seed=7)
    rng = np.random.default_rng(8)
    while par.agents:
        actions = _random_actions(par, rng)
        rows = np.stack([actions[a] for a in par.possible_agents])
        _, rewards, _, _, infos = par.step(actions)
        _, batched, _, _, _ = stacked.step(rows)
        want = np.array([rewards[a] for a in par.possible_agents], dtype=np.float32)
        np.testing.assert_array_equal(batched, want)
        manual = core.credited_rewards(
            par.layout,
            *_outcome(par),
            par.credit,
            SCALE,
        )
        np.testing.assert_allclose(manual, [rewards[a] for a in par.possible_agents], rtol=1e-12)


def _outcome(env: OffloadingParallelEnv) -> tuple[core.Outcome, core.Placement]:
    assert env._last is not None
    return env._last
