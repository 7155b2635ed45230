"""The planning ILP (QPLAN eq. 1-4) on HiGHS, its LP relaxation, and the closed-form bound.

Columns: ``x_p >= 0`` (continuous, one per *usable* candidate path: the fidelity constraint
eq. 4 is applied by leaving unusable paths out) and ``y_e`` (integer >= 0, one per edge).
Objective: ``sum_p x_p sum_{e in p} cost_e + sum_e y_e cost_f L_e``. Rows: demand
``sum_{p in P_d} x_p / g_p >= D_d`` (demands without a usable path are left out and reported)
and capacity ``sum_{p in P(e)} x_p - C_e y_e <= 0``.

``upper_bounds`` (``(n_paths,)``, ``inf`` allowed) caps ``x_p``: QPLAN's pruned search space.
``warm_start`` (a :class:`~qnet_envs.planning.plan.Plan`) is offered to HiGHS as a MIP start
(HiGHS keeps it as the first incumbent when it is feasible for the model, bounds included). The
plan returned is always re-checked with :func:`~qnet_envs.planning.plan.evaluate`.

The LP relaxation decouples: with ``y_e`` continuous the capacity rows are tight at the optimum
and each demand takes its cheapest usable path at ``g_p (sum cost_e + sum cost_f L_e / C_e)``
per delivered pair/s; :func:`relaxation_bound` is that closed form and :func:`solve_lp_bound`
the same bound from HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.planning.plan import Evaluation, Plan, evaluate
from qnet_envs.planning.problem import Instance
from qnet_envs.solvers import LinearProgram, from_coo, solve

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ILPResult:
    """One solve: ``plan`` (``None`` without a feasible point), HiGHS status, objective, best
    bound, relative gap, wall time (s) and the plan's :class:`Evaluation`."""

    status: str
    plan: Plan | None
    objective: float
    bound: float
    gap: float
    time_s: float
    evaluation: Evaluation | None
    unserviceable: tuple[int, ...]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.plan is not None


def build_model(
    instance: Instance, upper_bounds: ArrayLike | None = None, *, relax: bool = False
) -> tuple[LinearProgram, NDArray[np.int64]]:
    """The ILP (or its LP relaxation) and the candidate path of each ``x`` column."""
    paths, edges = instance.paths, instance.edges
    columns = np.flatnonzero(paths.usable)
    n_x, n_e = columns.size, edges.n_edges
    demand = instance.demand
    served = np.setdiff1d(np.arange(instance.n_demands), paths.unserviceable)
    demand_row = -np.ones(instance.n_demands, dtype=np.int64)
    demand_row[served] = np.arange(served.size)
    n_rows = served.size + n_e
    upper = np.full(n_x, np.inf)
    if upper_bounds is not None:
        bounds = np.asarray(upper_bounds, dtype=np.float64)
        if bounds.shape != (paths.n_paths,):
            raise ValueError(
                f"upper_bounds: got shape {bounds.shape} (allowed: ({paths.n_paths},), one per "
                "candidate path)"
            )
        if np.any(np.isnan(bounds)) or np.any(bounds < 0):
            raise ValueError("upper_bounds: got NaN or a negative bound (allowed: >= 0 or inf)")
        upper = bounds[columns]
    # demand rows: x_p / g_p for usable paths of served demands
    d_rows = demand_row[paths.demand[columns]]
    d_vals = 1.0 / paths.g[columns]
    # capacity rows: +1 for each edge of each usable path, -C_e for y_e
    entry_path = paths.edge_path
    col_of_path = -np.ones(paths.n_paths, dtype=np.int64)
    col_of_path[columns] = np.arange(n_x)
    keep = col_of_path[entry_path] >= 0
    c_rows = served.size + paths.edge_index[keep]
    c_cols = col_of_path[entry_path[keep]]
    rows = np.concatenate([d_rows, c_rows, served.size + np.arange(n_e)])
    cols = np.concatenate([np.arange(n_x), c_cols, n_x + np.arange(n_e)])
    vals = np.concatenate([d_vals, np.ones(c_rows.size), -edges.fiber_capacity])
    cost = np.concatenate([paths.unit_cost[columns], edges.fiber_cost])
    row_lower = np.concatenate([demand[served], np.full(n_e, -np.inf)])
    row_upper = np.concatenate([np.full(served.size, np.inf), np.zeros(n_e)])
    integrality = None if relax else np.r_[np.zeros(n_x, bool), np.ones(n_e, bool)]
    lp = from_coo(
        cost,
        rows,
        cols,
        vals,
        n_rows=n_rows,
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=0.0,
        col_upper=np.r_[upper, np.full(n_e, np.inf)],
        integrality=integrality,
    )
    return lp, columns


def _plan_of(instance: Instance, columns: NDArray[np.int64], point: FloatArray) -> Plan:
    x = np.zeros(instance.paths.n_paths)
    x[columns] = np.maximum(point[: columns.size], 0.0)
    y = np.round(np.maximum(point[columns.size :], 0.0))
    return Plan(x=x, y=y)


def solve_ilp(
    instance: Instance,
    time_limit: float | None = 60.0,
    upper_bounds: ArrayLike | None = None,
    warm_start: Plan | None = None,
    *,
    mip_rel_gap: float | None = None,
    threads: int = 1,
) -> ILPResult:
    """Solve the planning ILP with HiGHS (module docstring).

    Args:
        instance: the problem.
        time_limit: seconds (``None``: no limit).
        upper_bounds: ``(n_paths,)`` caps on ``x_p`` (pairs/s), ``inf`` for none.
        warm_start: a plan offered as the MIP start (its flows on unusable paths are dropped).
        mip_rel_gap: HiGHS's stopping gap (default 1e-4).
        threads: HiGHS threads.

    Returns:
        :class:`ILPResult`; ``status`` is the solver layer's (``"optimal"``, ``"time_limit"``,
        ``"infeasible"``, ...), ``gap`` HiGHS's relative MIP gap.
    """
    lp, columns = build_model(instance, upper_bounds)
    start = None
    if warm_start is not None:
        if warm_start.x.shape != (instance.paths.n_paths,) or warm_start.y.shape != (
            instance.n_edges,
        ):
            raise ValueError(
                "warm_start: plan shapes do not match the instance (allowed: x per candidate "
                "path, y per edge)"
            )
        start = np.r_[warm_start.x[columns], warm_start.y]
    result = solve(
        lp, time_limit=time_limit, mip_start=start, mip_rel_gap=mip_rel_gap, threads=threads
    )
    plan = _plan_of(instance, columns, result.x) if result.x is not None else None
    return ILPResult(
        status=result.status,
        plan=plan,
        objective=result.objective,
        bound=result.bound,
        gap=result.gap,
        time_s=result.wall_time_s,
        evaluation=evaluate(instance, plan) if plan is not None else None,
        unserviceable=tuple(int(d) for d in instance.paths.unserviceable),
        info={**result.info, "highs_status": result.highs_status},
    )


def relaxation_bound(instance: Instance) -> float:
    """The LP relaxation's optimum in closed form: ``sum_d D_d min_p g_p (sum cost_e + sum
    cost_f L_e / C_e)`` over usable paths (served demands only)."""
    paths = instance.paths
    price = paths.delivered_cost()
    best = np.full(instance.n_demands, np.inf)
    np.minimum.at(best, paths.demand, price)
    served = np.isfinite(best)
    return float(instance.demand[served] @ best[served])


def solve_lp_bound(instance: Instance, time_limit: float | None = 60.0) -> ILPResult:
    """The LP relaxation solved by HiGHS (``y`` continuous); its objective is a lower bound."""
    lp, columns = build_model(instance, relax=True)
    result = solve(lp, time_limit=time_limit)
    plan = None
    if result.x is not None:
        x = np.zeros(instance.paths.n_paths)
        x[columns] = result.x[: columns.size]
        plan = Plan(x=x, y=result.x[columns.size :])
    return ILPResult(
        status=result.status,
        plan=plan,
        objective=result.objective,
        bound=result.bound,
        gap=result.gap,
        time_s=result.wall_time_s,
        evaluation=None,
        unserviceable=tuple(int(d) for d in instance.paths.unserviceable),
        info={**result.info, "highs_status": result.highs_status},
    )
