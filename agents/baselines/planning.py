"""Planning baselines: Greedy (each demand on its cheapest feasible path) and First-stage fibres.

``greedy_plan`` is the paper's *Greedy*: every demand sends its whole rate over the one usable
candidate path of lowest linear cost per delivered pair/s, ``g_p (sum_e cost_e + sum_e cost_f
L_e / C_e)`` (capacity cost plus the fibre cost spread over a fibre's capacity; ties: the
earlier, shorter candidate), ``x_p = g_p D_d``; fibres are then the fewest that carry the loads,
``y_e = ceil(load_e / C_e)``. Demands without a usable path stay unserved (reported by
``evaluate`` as demand violations). It is the LP relaxation's path choice with integer fibres,
so its cost is an upper bound beside :func:`qnet_envs.planning.relaxation_bound`'s lower one.
"""

from __future__ import annotations

import time

import numpy as np

from qnet_envs.planning import Instance, Plan

__all__ = ["cheapest_paths", "greedy_levels", "greedy_plan", "spread_levels"]


def cheapest_paths(instance: Instance) -> np.ndarray:
    """``(n_demands,)`` the candidate path index Greedy uses per demand (-1: none usable)."""
    paths = instance.paths
    price = paths.delivered_cost()
    best = -np.ones(instance.n_demands, dtype=np.int64)
    order = np.lexsort((np.arange(paths.n_paths), price))  # cheapest first, then index
    seen = np.zeros(instance.n_demands, dtype=bool)
    for p in order.tolist():
        d = int(paths.demand[p])
        if not seen[d] and np.isfinite(price[p]):
            best[d] = p
            seen[d] = True
    return best


def greedy_plan(instance: Instance) -> tuple[Plan, float]:
    """Greedy's plan and the seconds it took (module docstring; the instance's candidate
    paths are computed before the clock starts, as for every method)."""
    paths = instance.paths
    started = time.perf_counter()
    chosen = cheapest_paths(instance)
    x = np.zeros(paths.n_paths)
    served = chosen >= 0
    x[chosen[served]] = paths.g[chosen[served]] * instance.demand[served]
    plan = Plan.from_flows(instance, x)
    return plan, time.perf_counter() - started


def greedy_levels(instance: Instance, resolution: int = 4) -> np.ndarray:
    """``(n_demands, k)`` Greedy as a First-stage split: level ``resolution`` on the cheapest
    usable slot, 0 elsewhere (``qnet_envs.planning.qplan.first_stage_plan`` of it is
    :func:`greedy_plan`'s plan)."""
    levels = np.zeros((instance.n_demands, instance.k_paths), dtype=np.int64)
    chosen = cheapest_paths(instance)
    served = chosen >= 0
    paths = instance.paths
    levels[paths.demand[chosen[served]], paths.slot[chosen[served]]] = resolution
    return levels


def spread_levels(instance: Instance, resolution: int = 4) -> np.ndarray:
    """``(n_demands, k)`` a fixed-rule stand-in for the learned First stage: Greedy's split
    plus one level on every other usable slot.

    It over-provisions on purpose (each alternative path carries ``1 / resolution`` of the
    demand besides the full rate on the cheapest), so that QPLAN's caps ``alpha * x_p`` leave
    the second stage room on every usable path; it is not a learned policy and not a plan
    meant to be used as it is.
    """
    levels = greedy_levels(instance, resolution)
    paths = instance.paths
    slot_path = -np.ones((instance.n_demands, instance.k_paths), dtype=np.int64)
    slot_path[paths.demand, paths.slot] = np.arange(paths.n_paths)
    usable = (slot_path >= 0) & paths.usable[np.where(slot_path >= 0, slot_path, 0)]
    return np.where(usable & (levels == 0), 1, levels)
