"""QPLAN's two stages and link-failure scoring (Gan et al., Sec. III-C and IV).

**First stage** (:func:`first_stage_plan`): a split of every demand over its candidate paths,
given as integer *levels* ``(n_demands, k)`` at a *resolution* (the env's ``levels``), becomes
flows exactly as ``planning_v0`` plays them, ``x_p = g_p D_d a_j / resolution`` pairs/s of link
capacity on slot ``j``'s path (a level on a slot without a usable path is played as 0), and the
fewest fibres that carry them, ``y_e = ceil(load_e / C_e)`` (the paper's *First-stage* rule).
Any policy that outputs levels (the trained GNN + Transformer of ``agents/planning``, Greedy's
choice, a fixed rule) plugs in here.

**Second stage** (:func:`solve_qplan`): the ILP of :mod:`qnet_envs.planning.ilp` with the upper
bounds ``x_p <= alpha * x_p^first`` on every candidate path (the paper's scale factor ``alpha``,
default 1.5), warm-started from the first-stage plan.

- *Caps that cannot serve a demand.* When ``alpha * sum_p x_p^first / g_p < D_d`` (the first
  stage left demand ``d`` short by more than ``alpha`` can make up, e.g. all its levels 0) the
  restricted ILP would be infeasible. Those demands' paths are left uncapped (``inf``) and
  counted in ``info["uncapped_demands"]``; every other demand keeps its caps. So the restricted
  problem is feasible whenever the full one is.
- *Warm start repair.* The first-stage plan is offered as the MIP start after a repair that
  makes it feasible for the restricted model: every served demand's flows are scaled to deliver
  exactly ``D_d`` (a factor ``<= alpha`` for capped demands, so the caps hold; an uncapped
  demand with no flow gets its rate on its cheapest usable path, Greedy's choice), then fibres
  ``ceil(load / C_e)``. The repaired start is feasible by construction (re-checked with
  :func:`~qnet_envs.planning.plan.evaluate`), so HiGHS always holds an incumbent, the result is
  never worse than the repaired start and never infeasible.
- *Optimality.* The caps cut the search space: the result's ``bound`` and ``gap`` (HiGHS's)
  are those of the **restricted** problem, not a bound on the true optimum; a restricted
  optimum may be worse than the full ILP's optimum (small ``alpha``). The unrestricted proven
  bound that is always available is the LP relaxation's, :func:`relaxation_bound`, reported in
  ``info["lp_bound"]`` with the gap to it, ``info["lp_gap"]``; the reproduction compares with
  the best bound of a plain (uncapped) HiGHS run as well.

**Link failures** (:func:`satisfied_under_failures`): a plan's hardware is fixed; a random
``fraction`` of the edges fails (``round(fraction * n_edges)`` edges drawn uniformly without
replacement); a path crossing a failed edge delivers nothing, every other path keeps its flow
(nothing is re-routed: the paper tests "the stability of the generated network plan under fault
conditions"). The satisfied demand is then, as for :func:`evaluate`, ``min(1, delivered_d /
D_d)`` per demand and ``sum_d min(delivered_d, D_d) / sum_d D_d`` overall. A plan that splits a
demand over disjoint paths keeps part of it when one path fails; this is why QPLAN's reward
keeps a demand's paths balanced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.planning.ilp import ILPResult, relaxation_bound, solve_ilp
from qnet_envs.planning.plan import Plan, evaluate
from qnet_envs.planning.problem import Instance

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
DEFAULT_ALPHA = 1.5

__all__ = [
    "DEFAULT_ALPHA",
    "FailureOutcome",
    "cheapest_path",
    "first_stage_flows",
    "first_stage_plan",
    "qplan_bounds",
    "repair_plan",
    "satisfied_under_failures",
    "solve_qplan",
]


def _slot_paths(instance: Instance) -> tuple[IntArray, NDArray[np.bool_]]:
    """``(n_demands, k)`` each slot's global path (-1: none) and whether it is usable."""
    paths = instance.paths
    slot_path = -np.ones((instance.n_demands, instance.k_paths), dtype=np.int64)
    slot_path[paths.demand, paths.slot] = np.arange(paths.n_paths)
    real = slot_path >= 0
    usable = real & paths.usable[np.where(real, slot_path, 0)]
    return slot_path, usable


def first_stage_flows(instance: Instance, levels: ArrayLike, resolution: int) -> FloatArray:
    """``(n_paths,)`` flows of a split: ``x_p = g_p D_d a_j / resolution`` on usable slots.

    Raises:
        ValueError: ``levels`` not ``(n_demands, k)``, negative, or ``resolution < 1``.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ValueError(f"resolution: got {resolution!r} (allowed: an integer >= 1)")
    if resolution < 1:
        raise ValueError(f"resolution: got {resolution} (allowed: an integer >= 1)")
    grid = np.asarray(levels)
    shape = (instance.n_demands, instance.k_paths)
    if grid.shape != shape:
        raise ValueError(f"levels: got shape {grid.shape} (allowed: {shape}, demands x paths.k)")
    if not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError("levels: got a negative or non-finite level (allowed: levels >= 0)")
    slot_path, usable = _slot_paths(instance)
    paths = instance.paths
    rows, cols = np.nonzero(usable)
    x = np.zeros(paths.n_paths)
    path = slot_path[rows, cols]
    x[path] = paths.g[path] * instance.demand[rows] * grid[rows, cols] / resolution
    return x


def first_stage_plan(instance: Instance, levels: ArrayLike, resolution: int) -> Plan:
    """The *First-stage* plan: :func:`first_stage_flows` and fibres ``ceil(load / C_e)``."""
    return Plan.from_flows(instance, first_stage_flows(instance, levels, resolution))


def cheapest_path(instance: Instance) -> IntArray:
    """``(n_demands,)`` each demand's usable path of least linear price (-1: none usable)."""
    paths = instance.paths
    price = np.where(paths.usable, paths.delivered_cost(), np.inf)
    best = -np.ones(instance.n_demands, dtype=np.int64)
    order = np.lexsort((np.arange(paths.n_paths), price, paths.demand))  # per demand, cheapest
    order = order[np.isfinite(price[order])]
    first = np.r_[True, paths.demand[order][1:] != paths.demand[order][:-1]]
    best[paths.demand[order[first]]] = order[first]
    return best


def _delivered(instance: Instance, x: FloatArray) -> FloatArray:
    paths = instance.paths
    per_path = np.where(paths.usable, x / np.where(paths.usable, paths.g, 1.0), 0.0)
    return np.bincount(paths.demand, weights=per_path, minlength=instance.n_demands)


def qplan_bounds(
    instance: Instance, first_stage: Plan, alpha: float = DEFAULT_ALPHA
) -> tuple[FloatArray, IntArray]:
    """``(n_paths,)`` caps ``alpha * x_p`` and the demands left uncapped (module docstring)."""
    if not np.isfinite(alpha) or alpha < 1.0:
        raise ValueError(f"alpha: got {alpha!r} (allowed: a number >= 1)")
    paths = instance.paths
    caps = alpha * np.maximum(first_stage.x, 0.0)
    reach = _delivered(instance, caps)
    demand = instance.demand
    served = np.ones(instance.n_demands, dtype=bool)
    served[paths.unserviceable] = False
    short = served & (reach < demand * (1.0 - 1e-9))
    caps = np.where(short[paths.demand], np.inf, caps)
    return caps, np.flatnonzero(short).astype(np.int64)


def repair_plan(instance: Instance, plan: Plan, upper_bounds: ArrayLike | None = None) -> Plan:
    """A feasible plan near ``plan``: each served demand's flows scaled to deliver exactly
    ``D_d`` (no flow: its rate on its cheapest usable path), flows on unusable paths dropped,
    fibres ``ceil(load / C_e)``.

    With ``upper_bounds`` from :func:`qplan_bounds` the repaired flows respect them.
    """
    paths = instance.paths
    x = np.where(paths.usable, np.maximum(plan.x, 0.0), 0.0)
    delivered = _delivered(instance, x)
    demand = instance.demand
    factor = np.where(delivered > 0, demand / np.where(delivered > 0, delivered, 1.0), 0.0)
    x = x * factor[paths.demand]
    empty = (delivered <= 0) & (demand > 0)
    best = cheapest_path(instance)
    fill = empty & (best >= 0)
    x[best[fill]] = paths.g[best[fill]] * demand[fill]
    if upper_bounds is not None:
        caps = np.asarray(upper_bounds, dtype=np.float64)
        x = np.minimum(x, caps)  # removes rounding excess only: factors <= alpha on capped rows
    return Plan.from_flows(instance, x)


def solve_qplan(
    instance: Instance,
    first_stage: Plan,
    alpha: float = DEFAULT_ALPHA,
    time_limit: float | None = 60.0,
    *,
    threads: int = 1,
    mip_rel_gap: float | None = None,
    strengthen: bool = False,
) -> ILPResult:
    """QPLAN's second stage: the ILP under caps ``alpha * x_p^first``, warm-started from the
    repaired first-stage plan (module docstring). ``strengthen`` passes through to
    :func:`~qnet_envs.planning.ilp.solve_ilp` (linking cuts; the caps still apply).

    Returns:
        :class:`~qnet_envs.planning.ilp.ILPResult` as :func:`solve_ilp` (``bound`` and ``gap``
        of the restricted problem); ``info`` adds ``alpha``, ``uncapped_demands`` (count),
        ``start_cost`` (the repaired start's cost), ``lp_bound`` (the unrestricted LP
        relaxation bound) and ``lp_gap`` (the plan's cost over it, minus 1).
    """
    if first_stage.x.shape != (instance.paths.n_paths,):
        raise ValueError(
            f"first_stage: got x of shape {first_stage.x.shape} (allowed: "
            f"({instance.paths.n_paths},), one per candidate path)"
        )
    caps, uncapped = qplan_bounds(instance, first_stage, alpha)
    start = repair_plan(instance, first_stage, caps)
    start_eval = evaluate(instance, start)
    result = solve_ilp(
        instance,
        time_limit=time_limit,
        upper_bounds=caps,
        warm_start=start,
        threads=threads,
        mip_rel_gap=mip_rel_gap,
        strengthen=strengthen,
    )
    lp_bound = relaxation_bound(instance)
    cost = result.evaluation.total_cost if result.evaluation is not None else float("nan")
    info = {
        **result.info,
        "alpha": float(alpha),
        "uncapped_demands": int(uncapped.size),
        "start_cost": start_eval.total_cost,
        "start_feasible": start_eval.feasible,
        "lp_bound": lp_bound,
        "lp_gap": (cost - lp_bound) / lp_bound if lp_bound > 0 else float("nan"),
    }
    return ILPResult(
        status=result.status,
        plan=result.plan,
        objective=result.objective,
        bound=result.bound,
        gap=result.gap,
        time_s=result.time_s,
        evaluation=result.evaluation,
        unserviceable=result.unserviceable,
        info=info,
    )


@dataclass(frozen=True)
class FailureOutcome:
    """One failure draw: the failed edges, each demand's satisfied fraction, the overall."""

    failed_edges: IntArray
    satisfied: FloatArray  # (n_demands,) in [0, 1]
    satisfied_overall: float


def satisfied_under_failures(
    instance: Instance,
    plan: Plan,
    fraction: float,
    rng: np.random.Generator | None = None,
    *,
    failed_edges: ArrayLike | None = None,
) -> FailureOutcome:
    """Satisfied demand of ``plan`` when ``round(fraction * n_edges)`` random edges fail
    (module docstring), or the given ``failed_edges`` (then ``fraction`` and ``rng`` are not
    used).

    Raises:
        ValueError: ``fraction`` outside ``[0, 1]``, no ``rng`` for a random draw, or a failed
        edge index out of range.
    """
    n_edges = instance.n_edges
    if failed_edges is None:
        if not (0.0 <= fraction <= 1.0):
            raise ValueError(f"fraction: got {fraction!r} (allowed: a number in [0, 1])")
        if rng is None:
            raise ValueError("rng: got None (allowed: a numpy Generator for a random draw)")
        count = round(fraction * n_edges)
        failed = np.sort(rng.choice(n_edges, size=count, replace=False)).astype(np.int64)
    else:
        failed = np.unique(np.asarray(failed_edges, dtype=np.int64))
        if failed.size and (failed.min() < 0 or failed.max() >= n_edges):
            raise ValueError(f"failed_edges: got an index outside [0, {n_edges})")
    paths = instance.paths
    down = np.zeros(n_edges, dtype=bool)
    down[failed] = True
    hit = np.bincount(
        paths.edge_path, weights=down[paths.edge_index].astype(np.float64), minlength=paths.n_paths
    )
    x = np.where(hit > 0, 0.0, plan.x)
    delivered = _delivered(instance, x)
    demand = instance.demand
    satisfied = np.where(
        demand > 0, np.minimum(1.0, delivered / np.where(demand > 0, demand, 1.0)), 1.0
    )
    total = float(demand.sum())
    overall = float(np.minimum(delivered, demand).sum() / total) if total > 0 else 1.0
    return FailureOutcome(failed_edges=failed, satisfied=satisfied, satisfied_overall=overall)
