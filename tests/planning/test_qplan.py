"""QPLAN's pipeline: First-stage plans, the capped warm-started ILP, link failures."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agents.baselines.planning import greedy_levels, greedy_plan, spread_levels
from qnet_envs.planning import batched_env, evaluate, solve_ilp
from qnet_envs.planning.plan import Plan
from qnet_envs.planning.qplan import (
    first_stage_plan,
    qplan_bounds,
    repair_plan,
    satisfied_under_failures,
    solve_qplan,
)


def _random_levels(instance, rng, resolution: int = 4) -> np.ndarray:
    """Any level on every slot, usable or not (the env plays invalid slots as 0)."""
    return rng.integers(0, resolution + 1, size=(instance.n_demands, instance.k_paths))


@pytest.mark.parametrize("name", ["tiny", "abilene"])
def test_first_stage_plan_is_what_the_env_plays(name, tiny, abilene):
    instance = {"tiny": tiny, "abilene": abilene}[name]
    env = batched_env(instance=instance, rounds=3, levels=4)
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(3):
        levels = _random_levels(instance, rng)
        env.step(levels)
        played = env.last_round
        plan = first_stage_plan(instance, levels, 4)
        np.testing.assert_allclose(plan.x, played.x, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(plan.y, played.fibres)
        assert evaluate(instance, plan).total_cost == pytest.approx(played.total_cost, rel=1e-12)


def test_greedy_levels_give_the_greedy_plan(abilene):
    plan = first_stage_plan(abilene, greedy_levels(abilene, 4), 4)
    greedy, _ = greedy_plan(abilene)
    np.testing.assert_allclose(plan.x, greedy.x, rtol=1e-12)
    np.testing.assert_array_equal(plan.y, greedy.y)


@pytest.mark.parametrize("name", ["tiny", "abilene"])
def test_warm_started_qplan_never_returns_an_infeasible_plan(name, tiny, abilene):
    instance = {"tiny": tiny, "abilene": abilene}[name]
    for seed, alpha in itertools.product(range(4), (1.0, 1.25, 1.5)):
        levels = _random_levels(instance, np.random.default_rng(seed))
        first = first_stage_plan(instance, levels, 4)
        caps, uncapped = qplan_bounds(instance, first, alpha)
        start = repair_plan(instance, first, caps)
        assert evaluate(instance, start).feasible
        assert np.all(start.x <= caps * (1 + 1e-9))
        result = solve_qplan(instance, first, alpha, time_limit=10)
        assert result.has_plan, result.status
        assert result.evaluation.feasible, result.evaluation.violations[:3]
        assert np.all(result.plan.x <= caps * (1 + 1e-6) + 1e-9)
        assert result.objective <= result.info["start_cost"] + 1e-6
        assert result.info["start_feasible"] and result.info["uncapped_demands"] == uncapped.size
        assert result.info["lp_bound"] <= result.objective + 1e-6


def test_all_zero_levels_uncap_every_demand_and_give_the_ilp_optimum(tiny):
    first = first_stage_plan(tiny, np.zeros((tiny.n_demands, tiny.k_paths), int), 4)
    caps, uncapped = qplan_bounds(tiny, first)
    assert uncapped.tolist() == [0, 1, 2] and np.all(np.isinf(caps))
    result = solve_qplan(tiny, first, time_limit=10)
    assert result.objective == pytest.approx(solve_ilp(tiny, time_limit=10).objective, rel=1e-9)


def test_qplan_with_large_alpha_equals_the_plain_ilp_optimum(tiny, abilene):
    for instance in (tiny, abilene):
        # every usable path carries flow, so a large alpha lifts every cap out of the way
        first = first_stage_plan(instance, spread_levels(instance, 4), 4)
        assert np.all(first.x[instance.paths.usable] > 0)
        plain = solve_ilp(instance, time_limit=30)
        wide = solve_qplan(instance, first, alpha=1e6, time_limit=30)
        assert plain.status == wide.status == "optimal"
        assert wide.objective == pytest.approx(plain.objective, rel=2e-4)


def test_small_alpha_can_only_cost_more(abilene):
    first = first_stage_plan(abilene, greedy_levels(abilene, 4), 4)
    plain = solve_ilp(abilene, time_limit=30)
    capped = solve_qplan(abilene, first, alpha=1.0, time_limit=30)
    # Greedy's caps keep every demand on its cheapest path: the restricted optimum is Greedy's
    assert capped.objective >= plan_cost(abilene, greedy_plan(abilene)[0]) - 1e-6
    assert capped.objective > plain.objective * (1 + 1e-3)


def plan_cost(instance, plan: Plan) -> float:
    return evaluate(instance, plan).total_cost


def test_bad_first_stage_arguments_name_themselves(tiny):
    with pytest.raises(ValueError, match=r"levels: got shape \(2, 3\)"):
        first_stage_plan(tiny, np.zeros((2, 3), int), 4)
    with pytest.raises(ValueError, match="resolution: got 0"):
        first_stage_plan(tiny, np.zeros((3, 3), int), 0)
    with pytest.raises(ValueError, match="levels: got a negative"):
        first_stage_plan(tiny, -np.ones((3, 3), int), 4)
    first = first_stage_plan(tiny, np.ones((3, 3), int), 4)
    with pytest.raises(ValueError, match=r"alpha: got 0\.5"):
        solve_qplan(tiny, first, alpha=0.5)


def _hand_plan(tiny, path_index) -> Plan:
    """Demand 0 (15/s) half on 0-2 and half on 0-1-2, demand 1 (10/s) on 1-0-3, demand 2
    (6/s) on 0-1; every path here has g = 1."""
    x = np.zeros(tiny.paths.n_paths)
    x[path_index(tiny, (0, 2))] = 7.5
    x[path_index(tiny, (0, 1, 2))] = 7.5
    x[path_index(tiny, (1, 0, 3))] = 10.0
    x[path_index(tiny, (0, 1))] = 6.0
    return Plan.from_flows(tiny, x)


def test_failures_hand_computed_on_tiny(tiny, path_index, edge_index):
    plan = _hand_plan(tiny, path_index)
    assert evaluate(tiny, plan).feasible
    # edge 0-1 carries 0-1-2, 1-0-3 and 0-1: only demand 0's direct half survives
    out = satisfied_under_failures(tiny, plan, 0.0, failed_edges=[edge_index(tiny, 0, 1)])
    np.testing.assert_allclose(out.satisfied, [0.5, 0.0, 0.0])
    assert out.satisfied_overall == pytest.approx(7.5 / 31.0)
    # edge 0-2 carries only demand 0's direct half
    out = satisfied_under_failures(tiny, plan, 0.0, failed_edges=[edge_index(tiny, 0, 2)])
    np.testing.assert_allclose(out.satisfied, [0.5, 1.0, 1.0])
    assert out.satisfied_overall == pytest.approx(23.5 / 31.0)
    # edge 2-3 carries nothing of this plan
    out = satisfied_under_failures(tiny, plan, 0.0, failed_edges=[edge_index(tiny, 2, 3)])
    assert out.satisfied_overall == pytest.approx(1.0)


def test_no_failures_keep_and_all_failures_lose_the_satisfied_demand(abilene):
    rng = np.random.default_rng(0)
    for seed in range(3):
        plan = first_stage_plan(abilene, _random_levels(abilene, np.random.default_rng(seed)), 4)
        evaluation = evaluate(abilene, plan)
        none = satisfied_under_failures(abilene, plan, 0.0, rng)
        assert none.failed_edges.size == 0
        np.testing.assert_allclose(none.satisfied, evaluation.satisfied)
        assert none.satisfied_overall == pytest.approx(evaluation.satisfied_overall)
        every = satisfied_under_failures(abilene, plan, 1.0, rng)
        assert every.failed_edges.size == abilene.n_edges and every.satisfied_overall == 0.0


def test_failure_draws_fail_the_stated_count_and_only_lower_satisfaction(abilene):
    plan, _ = greedy_plan(abilene)
    rng = np.random.default_rng(3)
    for fraction in (0.05, 0.1, 0.2, 0.5):
        out = satisfied_under_failures(abilene, plan, fraction, rng)
        assert out.failed_edges.size == round(fraction * abilene.n_edges)
        assert np.unique(out.failed_edges).size == out.failed_edges.size
        assert np.all(out.satisfied <= 1.0) and out.satisfied_overall <= 1.0
        # a demand is lost exactly when its one (Greedy) path crosses a failed edge
        paths = abilene.paths
        down = np.isin(paths.edge_index, out.failed_edges)
        hit = np.bincount(paths.edge_path, weights=down, minlength=paths.n_paths) > 0
        used = plan.x > 0
        lost = np.zeros(abilene.n_demands, bool)
        lost[paths.demand[used & hit]] = True
        np.testing.assert_array_equal(out.satisfied == 0.0, lost)


def test_bad_failure_arguments_name_themselves(tiny):
    plan = first_stage_plan(tiny, np.ones((3, 3), int), 4)
    with pytest.raises(ValueError, match=r"fraction: got 1\.5"):
        satisfied_under_failures(tiny, plan, 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng: got None"):
        satisfied_under_failures(tiny, plan, 0.1)
    with pytest.raises(ValueError, match="failed_edges"):
        satisfied_under_failures(tiny, plan, 0.0, failed_edges=[7])
