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

Strengthened model (``strengthen=True``). Costs are ``>= 0``, so scaling down any excess
delivery never raises the cost nor breaks a capacity row or a cap: some optimal plan has
``sum_{p in P_d} x_p / g_p = D_d`` for every served demand (dominance), hence
``x_p <= g_p D_d``. Restricted to such plans, with ``y_e`` integer:

* ``"path"`` cuts ``x_p <= min(C_e, g_p D_d) y_e`` for each usable path ``p`` and edge ``e in
  p``: ``y_e = 0`` forces ``x_p = 0`` through the capacity row; ``y_e >= 1`` gives
  ``x_p <= g_p D_d <= g_p D_d y_e`` and ``x_p <= C_e y_e``.
* ``"demand"`` cuts ``sum_{p in P_d, e in p} x_p <= min(C_e, D_d G_de) y_e`` with
  ``G_de = max_{p in P_d, e in p} g_p``: the left side is ``<= C_e y_e`` (capacity row) and
  ``<= G_de sum_p x_p / g_p = G_de D_d``; with ``y_e = 0`` it is 0, with ``y_e >= 1``
  ``min(C_e y_e, G_de D_d) <= min(C_e, G_de D_d) y_e``.

Both also set the bounds ``x_p <= g_p D_d``. Every cut holds at one optimal plan of the plain
ILP, so the strengthened ILP has the same optimum, and its LP relaxation (``y`` continuous) is a
relaxation of a model with that optimum: a valid lower bound, never weaker than the plain LP
(the plain rows are kept). A strengthened plan is a plan of the original problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.planning.plan import Evaluation, Plan, evaluate
from qnet_envs.planning.problem import Instance
from qnet_envs.solvers import LinearProgram, from_coo, solve
from qnet_envs.validation import check_choice

CUTS = ("demand", "path")

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


def _cut_rows(
    instance: Instance, columns: NDArray[np.int64], cuts: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], FloatArray, NDArray[np.int64], FloatArray]:
    """Linking cuts (module docstring) as COO entries with local row numbers: ``x`` entries
    ``(rows, cols, 1)`` and one ``y`` entry per row ``(row, edge, -coefficient)``."""
    paths, edges = instance.paths, instance.edges
    col_of_path = -np.ones(paths.n_paths, dtype=np.int64)
    col_of_path[columns] = np.arange(columns.size)
    keep = col_of_path[paths.edge_path] >= 0
    ent_path = paths.edge_path[keep]
    ent_edge = paths.edge_index[keep].astype(np.int64)
    ent_col = col_of_path[ent_path]
    cap = edges.fiber_capacity[ent_edge]
    d = paths.demand[ent_path]
    g = paths.g[ent_path]
    if cuts == "path":
        n = ent_col.size
        row = np.arange(n)
        coef = np.minimum(cap, g * instance.demand[d])
        return row, ent_col, np.ones(n), ent_edge, -coef
    key = d.astype(np.int64) * edges.n_edges + ent_edge
    uniq, row = np.unique(key, return_inverse=True)
    gmax = np.zeros(uniq.size)
    np.maximum.at(gmax, row, g)
    u_d, u_e = uniq // edges.n_edges, uniq % edges.n_edges
    coef = np.minimum(edges.fiber_capacity[u_e], instance.demand[u_d] * gmax)
    return row, ent_col, np.ones(row.size), u_e, -coef


def build_model(
    instance: Instance,
    upper_bounds: ArrayLike | None = None,
    *,
    relax: bool = False,
    strengthen: bool = False,
    cuts: str = "demand",
) -> tuple[LinearProgram, NDArray[np.int64]]:
    """The ILP (or its LP relaxation) and the candidate path of each ``x`` column;
    ``strengthen`` adds the ``cuts`` family and the bounds ``x_p <= g_p D_d``."""
    check_choice("cuts", cuts, CUTS)
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
    if strengthen:
        upper = np.minimum(upper, paths.g[columns] * demand[paths.demand[columns]])
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
    if strengthen:
        k_rows, k_cols, k_vals, y_rows, y_coef = _cut_rows(instance, columns, cuts)
        n_cut = int(y_rows.size)
        rows = np.concatenate([rows, n_rows + k_rows, n_rows + np.arange(n_cut)])
        cols = np.concatenate([cols, k_cols, n_x + y_rows])
        vals = np.concatenate([vals, k_vals, y_coef])
        row_lower = np.r_[row_lower, np.full(n_cut, -np.inf)]
        row_upper = np.r_[row_upper, np.zeros(n_cut)]
        n_rows += n_cut
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
    strengthen: bool = False,
    cuts: str = "demand",
) -> ILPResult:
    """Solve the planning ILP with HiGHS (module docstring).

    Args:
        instance: the problem.
        time_limit: seconds (``None``: no limit).
        upper_bounds: ``(n_paths,)`` caps on ``x_p`` (pairs/s), ``inf`` for none.
        warm_start: a plan offered as the MIP start (its flows on unusable paths are dropped).
        mip_rel_gap: HiGHS's stopping gap (default 1e-4).
        threads: HiGHS threads.
        strengthen: add the linking cuts and ``x_p <= g_p D_d`` (module docstring; same
            optimum, tighter relaxation).
        cuts: ``"demand"`` or ``"path"``, the cut family when strengthening.

    Returns:
        :class:`ILPResult`; ``status`` is the solver layer's (``"optimal"``, ``"time_limit"``,
        ``"infeasible"``, ...), ``gap`` HiGHS's relative MIP gap.
    """
    lp, columns = build_model(instance, upper_bounds, strengthen=strengthen, cuts=cuts)
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


def solve_lp_bound(
    instance: Instance,
    time_limit: float | None = 60.0,
    strengthen: bool = False,
    cuts: str = "demand",
) -> ILPResult:
    """The LP relaxation solved by HiGHS (``y`` continuous); its objective is a lower bound on
    the ILP optimum. With ``strengthen`` it relaxes the strengthened model, whose optimum equals
    the plain ILP's by dominance (module docstring), so it is still a valid lower bound."""
    lp, columns = build_model(instance, relax=True, strengthen=strengthen, cuts=cuts)
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
