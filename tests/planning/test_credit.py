"""Per-agent credit of the planning reward: exact shares of every term, and their rewards."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qnet_envs.planning import Instance, core, parallel_env
from qnet_envs.planning.batched import PlanningBatchedEnv
from qnet_envs.validation import FieldError


def _random_levels(env: PlanningBatchedEnv, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, env.layout.levels + 1, size=(env.n_agents, env.layout.k))


def _own_costs_by_loops(instance: Instance, played: core.Round) -> list[float]:
    """Agent costs from the definition, one path and one edge at a time."""
    paths, edges = instance.paths, instance.edges
    load = [0.0] * edges.n_edges
    for p in range(paths.n_paths):
        for e in paths.edge_index[paths.edge_indptr[p] : paths.edge_indptr[p + 1]]:
            load[e] += played.x[p]
    costs = [0.0] * instance.n_demands
    for p in range(paths.n_paths):
        for e in paths.edge_index[paths.edge_indptr[p] : paths.edge_indptr[p + 1]]:
            fibres = math.ceil(load[e] / edges.fiber_capacity[e] - 1e-9) if load[e] > 0 else 0
            share = played.x[p] / load[e] if load[e] > 0 else 0.0
            costs[paths.demand[p]] += (
                played.x[p] * edges.capacity_cost[e] + share * fibres * edges.fiber_cost[e]
            )
    return costs


@pytest.mark.parametrize("name", ["tiny", "abilene"])
def test_agent_terms_split_every_term_exactly(name: str) -> None:
    env = PlanningBatchedEnv(name, rounds=1)
    rng = np.random.default_rng(7)
    for _ in range(5):
        env.reset()
        env.step(_random_levels(env, rng))
        played = env.last_round
        assert played is not None
        sums = played.agent_terms.sum(axis=0)
        np.testing.assert_allclose(
            sums, [played.cost_ratio, played.unmet, played.imbalance], rtol=1e-10, atol=1e-12
        )
        expected = np.asarray(_own_costs_by_loops(env.instance, played)) / env.layout.cost_scale
        np.testing.assert_allclose(played.agent_terms[:, 0], expected, rtol=1e-10, atol=1e-12)
        demand = env.instance.demand
        np.testing.assert_allclose(
            played.agent_terms[:, 1], (1 - played.satisfied) * demand / demand.sum()
        )


def test_an_agent_with_no_flow_has_no_cost_and_all_its_demand_unmet() -> None:
    env = PlanningBatchedEnv("abilene", rounds=1)
    levels = np.full((env.n_agents, env.layout.k), 0)
    levels[:, 0] = env.layout.levels
    levels[3] = 0
    env.reset()
    env.step(levels)
    played = env.last_round
    assert played is not None
    assert played.agent_terms[3, 0] == 0.0
    demand = env.instance.demand
    assert played.agent_terms[3, 1] == pytest.approx(demand[3] / demand.sum())
    assert (played.agent_terms[np.arange(env.n_agents) != 3, 0] > 0).all()


@pytest.mark.parametrize("credit", [0.0, 0.3, 1.0, "own", "team"])
def test_credited_rewards_average_to_the_cooperative_reward(credit: float | str) -> None:
    env = PlanningBatchedEnv("abilene", rounds=2, credit=credit)
    rng = np.random.default_rng(3)
    env.reset()
    for _ in range(2):
        _, rewards, _, _, _ = env.step(_random_levels(env, rng))
        played = env.last_round
        assert played is not None
        assert rewards.mean() == pytest.approx(played.reward, rel=1e-5)
        if env.credit == 0.0:
            assert np.all(rewards == np.float32(played.reward))
        else:
            assert rewards.std() > 0


def test_own_reward_is_the_agents_weighted_share() -> None:
    env = PlanningBatchedEnv("tiny", rounds=1, credit="own", unmet_penalty=3.0)
    rng = np.random.default_rng(11)
    env.reset()
    _, rewards, _, _, _ = env.step(_random_levels(env, rng))
    played = env.last_round
    assert played is not None
    terms = played.agent_terms
    expected = -env.n_agents * (terms[:, 0] + 3.0 * terms[:, 1] + 0.1 * terms[:, 2])
    np.testing.assert_allclose(rewards, expected, rtol=1e-5)


def test_parallel_env_gives_the_batched_rewards_and_own_terms() -> None:
    par = parallel_env(instance="abilene", rounds=2, credit=0.5)
    bat = PlanningBatchedEnv("abilene", rounds=2, credit=0.5)
    par.reset(seed=0)
    bat.reset(seed=0)
    rng = np.random.default_rng(5)
    for _ in range(2):
        levels = _random_levels(bat, rng)
        actions = {a: levels[i] for i, a in enumerate(par.possible_agents)}
        _, rewards, _, _, infos = par.step(actions)
        _, batched_rewards, _, _, info = bat.step(levels)
        np.testing.assert_array_equal([rewards[a] for a in par.possible_agents], batched_rewards)
        first = infos[par.possible_agents[0]]["own_terms"]
        assert set(first) == {"cost", "unmet", "imbalance"}
        assert first["cost"] == pytest.approx(info["agent_terms"][0, 0])
        assert first["unmet"] == pytest.approx(2.0 * info["agent_terms"][0, 1])


@pytest.mark.parametrize("bad", ["mine", 1.5, -0.1, True, float("nan"), None])
def test_bad_credit_is_a_field_error(bad: object) -> None:
    with pytest.raises(FieldError, match=r"^credit: .*allowed: \"team\", \"own\" or a number"):
        PlanningBatchedEnv("tiny", credit=bad)  # type: ignore[arg-type]


def test_credit_changes_only_the_rewards() -> None:
    """Observations, plans and info terms are the same under every credit."""
    envs = [PlanningBatchedEnv("tiny", rounds=2, credit=c) for c in ("team", 0.4, "own")]
    rng = np.random.default_rng(2)
    first = [env.reset()[0] for env in envs]
    for a, b in itertools.pairwise(first):
        np.testing.assert_array_equal(a, b)
    for _ in range(2):
        levels = _random_levels(envs[0], rng)
        outs = [env.step(levels) for env in envs]
        for a, b in itertools.pairwise(outs):
            np.testing.assert_array_equal(a[0], b[0])
            assert a[4]["cost_ratio"] == b[4]["cost_ratio"]
