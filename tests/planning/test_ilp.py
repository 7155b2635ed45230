"""The planning ILP: optimum equal to brute force, LP bound, bounds and warm starts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from agents.baselines.planning import greedy_plan
from qnet_envs.planning import (
    Plan,
    evaluate,
    relaxation_bound,
    solve_ilp,
    solve_lp_bound,
)


def brute_force_optimum(instance) -> tuple[float, np.ndarray]:
    """Enumerate every fibre vector y in {0..y_max}^E; for each, the cheapest flows by an LP
    (scipy's linprog, built here from the instance's arrays). y_max covers the largest load an
    optimal plan can put on an edge: every demand's rate times the largest g_p."""
    paths, edges = instance.paths, instance.edges
    usable = np.flatnonzero(paths.usable)
    n_x = usable.size
    cost_x = paths.unit_cost[usable]
    # demand rows (>= D): -sum x_p / g_p <= -D
    a_demand = np.zeros((instance.n_demands, n_x))
    for j, p in enumerate(usable):
        a_demand[paths.demand[p], j] = -1.0 / paths.g[p]
    a_edge = np.zeros((instance.n_edges, n_x))
    for j, p in enumerate(usable):
        for e in paths.edge_index[paths.edge_indptr[p] : paths.edge_indptr[p + 1]]:
            a_edge[e, j] += 1.0
    y_max = int(np.ceil(instance.demand.sum() * paths.g[usable].max() / edges.fiber_capacity.max()))
    assert y_max <= 4, "keep the enumeration small"
    best, best_y = np.inf, None
    for y in itertools.product(range(y_max + 1), repeat=instance.n_edges):
        y = np.asarray(y, dtype=float)
        fibre = float(y @ edges.fiber_cost)
        if fibre >= best:
            continue
        lp = linprog(
            cost_x,
            A_ub=np.vstack([a_demand, a_edge]),
            b_ub=np.r_[-instance.demand, y * edges.fiber_capacity],
            bounds=[(0, None)] * n_x,
            method="highs",
        )
        if lp.status == 0 and lp.fun + fibre < best:
            best, best_y = lp.fun + fibre, y
    return best, best_y


def test_ilp_optimum_equals_brute_force_on_tiny(tiny):
    result = solve_ilp(tiny, time_limit=30)
    assert result.status == "optimal" and result.gap <= 1e-4
    brute, _ = brute_force_optimum(tiny)
    assert result.objective == pytest.approx(brute, rel=1e-6)
    assert result.evaluation.feasible
    assert result.evaluation.total_cost == pytest.approx(result.objective, rel=1e-9)
    assert result.bound <= result.objective + 1e-6


def test_lp_bound_closed_form_equals_highs(tiny, abilene):
    for instance in (tiny, abilene):
        lp = solve_lp_bound(instance)
        assert lp.status == "optimal"
        assert lp.objective == pytest.approx(relaxation_bound(instance), rel=1e-9)


def test_abilene_ilp_is_proved_and_between_the_bound_and_greedy(abilene):
    result = solve_ilp(abilene, time_limit=60)
    assert result.status == "optimal" and result.gap <= 1e-4
    greedy, _ = greedy_plan(abilene)
    greedy_cost = evaluate(abilene, greedy).total_cost
    assert relaxation_bound(abilene) <= result.bound + 1e-6
    assert result.objective <= greedy_cost + 1e-6
    assert result.evaluation.feasible and result.unserviceable == ()


def _random_first_stage(instance, rng, short: bool) -> Plan:
    """A first-stage-like plan: each demand's four quarters spread at random over its usable
    paths; with ``short``, a random fifth of the demands get only three quarters of their rate
    (the start then violates demand). Fibres ``ceil(load / C)``."""
    paths = instance.paths
    x = np.zeros(paths.n_paths)
    for d in range(instance.n_demands):
        mine = np.flatnonzero((paths.demand == d) & paths.usable)
        quarters = rng.multinomial(4, np.full(mine.size, 1 / mine.size))
        scale = 0.75 if short and rng.random() < 0.2 else 1.0
        x[mine] = paths.g[mine] * instance.demand[d] * scale * quarters / 4.0
    return Plan.from_flows(instance, x)


def test_warm_started_solve_never_returns_an_infeasible_plan(abilene):
    outcomes = set()
    for seed, short, alpha in itertools.product(range(3), (False, True), (1.0, 1.5)):
        start = _random_first_stage(abilene, np.random.default_rng(seed), short)
        bounds = alpha * start.x  # QPLAN: first-stage flows times alpha cap the ILP's x
        result = solve_ilp(abilene, time_limit=10, upper_bounds=bounds, warm_start=start)
        start_eval = evaluate(abilene, start)
        assert start_eval.feasible != short
        if result.has_plan:
            assert result.evaluation.feasible, result.evaluation.violations[:3]
            assert np.all(result.plan.x <= bounds + 1e-6)
            outcomes.add("improved" if start_eval.feasible else "repaired")
        else:
            assert result.status == "infeasible"
            outcomes.add("infeasible")
        if start_eval.feasible:  # a feasible start inside the bounds: never worse than it
            assert result.has_plan
            assert result.objective <= start_eval.total_cost + 1e-6
    # every branch was met: feasible starts improved, infeasible ones repaired or proved so
    assert outcomes == {"improved", "repaired", "infeasible"}


def test_greedy_warm_start_is_kept_or_improved(abilene):
    start, _ = greedy_plan(abilene)
    result = solve_ilp(abilene, time_limit=10, warm_start=start)
    assert result.has_plan and result.evaluation.feasible
    assert result.objective <= evaluate(abilene, start).total_cost + 1e-6


def test_bounds_that_forbid_a_demand_are_infeasible(tiny):
    bounds = np.full(tiny.paths.n_paths, np.inf)
    bounds[tiny.paths.demand == 0] = 0.0
    result = solve_ilp(tiny, time_limit=10, upper_bounds=bounds)
    assert result.status == "infeasible" and not result.has_plan


def test_bad_upper_bounds_name_the_argument(tiny):
    with pytest.raises(ValueError, match=r"upper_bounds: got shape \(2,\)"):
        solve_ilp(tiny, upper_bounds=np.ones(2))
    with pytest.raises(ValueError, match="upper_bounds: got NaN or a negative"):
        solve_ilp(tiny, upper_bounds=-np.ones(tiny.paths.n_paths))
