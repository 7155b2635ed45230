"""qVPN baselines: the exact optimum (MILP on HiGHS) and the paper's shortest-path selections.

``qvpn_optimum`` wraps :func:`qnet_envs.qvpn.milp.solve_optimum`, warm-started from the best
shortest-path baseline; ``shortest_path_selection`` is the paper's hop, 1/EGR and 1/EGR^2
baselines at link-level threshold 0.992 (:mod:`qnet_envs.qvpn.heuristics`), and
``baseline_results`` solves the LP for each of them. ``widest_selection`` (each pair's
undominated versions with the largest bottleneck capacity) is a no-search yardstick the paper
does not have.
"""

from __future__ import annotations

from qnet_envs.qvpn.heuristics import (
    BASELINE_THRESHOLD,
    shortest_path_selection,
    widest_selection,
)
from qnet_envs.qvpn.lp import LPResult, solve_lp
from qnet_envs.qvpn.milp import OptimumResult, solve_optimum
from qnet_envs.qvpn.problem import Instance

__all__ = [
    "BASELINE_THRESHOLD",
    "baseline_results",
    "qvpn_optimum",
    "shortest_path_selection",
    "widest_selection",
]


def baseline_results(instance: Instance) -> dict[str, LPResult]:
    """The LP of each shortest-path baseline (``"hop"``, ``"egr"``, ``"egr2"``) on ``instance``."""
    return {
        weight: solve_lp(instance, shortest_path_selection(instance, weight))
        for weight in instance.path_weights
    }


def qvpn_optimum(
    instance: Instance, time_limit: float | None = 600.0, *, threads: int = 1
) -> OptimumResult:
    """The exact optimum of ``instance`` (or the best incumbent and proven bound at the limit).

    The MILP starts from the feasible shortest-path baseline of highest W-EGR, if any.
    """
    baselines = baseline_results(instance)
    feasible = {w: r for w, r in baselines.items() if r.feasible}
    start = None
    if feasible:
        best = max(feasible, key=lambda w: feasible[w].w_egr)
        start = shortest_path_selection(instance, best)
    return solve_optimum(instance, time_limit, start=start, threads=threads)
