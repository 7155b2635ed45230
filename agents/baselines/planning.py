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

__all__ = ["cheapest_paths", "greedy_plan"]


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
