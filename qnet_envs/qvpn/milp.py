"""The exact optimum: choose at most ``|P|`` versions per pair and their rates together (MILP).

Over every (kept) version ``v`` of every pair, with binary ``z_v`` and rate ``x_v``::

    maximise   sum_v w_k lambda_u q^(|p_v| - 1) x_v
    s.t.       sum_v g_{v,l} x_v <= c_l                 every link l
               R_min_u <= sum_{v of u} x_v <= R_max_u   every pair u
               sum_{v of u} z_v <= |P|                  every pair u (``instance.max_paths``)
               x_v <= M_v z_v,  M_v = min(R_max_u, B_v) (``B_v`` the bottleneck capacity: an
                                                        implied bound, so M_v is exact)
               x_v >= 0, z_v in {0, 1}

It is solved scaled like the LP (``x_v = B_v y_v``, link rows divided by ``c_l``; see
:func:`qnet_envs.qvpn.lp.rate_program`).

Exact reduction (``reduce=True``): version ``b`` of a pair is dropped when another version
``a`` of the same pair *dominates* it: ``a`` uses no link more per delivered pair
(``g_{a,l} <= g_{b,l}`` for every link, a link ``b`` does not use counting 0 for ``b`` and
requiring ``a`` not to use it either) and its objective coefficient is at least ``b``'s. Any
solution using ``b`` stays feasible, with no less W-EGR and no more versions, when ``b``'s rate
moves to ``a``; among mutually dominating (identical) versions the lowest index is kept.
This removes, for example, the thresholds that lead to the same number of distillation rounds.
The tests check the reduced optimum against the unreduced model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.qvpn.lp import LPResult, _gather, selection_to_global, solve_lp
from qnet_envs.qvpn.problem import Instance
from qnet_envs.solvers import LIMIT_STATUSES, LinearProgram, solve

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class OptimumResult:
    """Outcome of :func:`solve_optimum`.

    ``selection`` is the incumbent's versions (``(n_pairs, max_paths)`` local indices, -1
    padded; ``None`` without an incumbent) and ``lp`` the rate LP re-solved on them;
    ``objective`` is the better of the incumbent's W-EGR and ``lp.w_egr`` (they agree at
    optimality; NaN without an incumbent), ``bound`` the proven upper bound and
    ``gap = (bound - objective) / objective`` (``inf`` when no bound is proven yet).
    """

    status: str
    objective: float
    bound: float
    gap: float
    selection: IntArray | None
    lp: LPResult | None
    n_versions: int
    n_versions_kept: int
    wall_time_s: float
    info: dict[str, Any]

    @property
    def proven_optimal(self) -> bool:
        return self.status == "optimal"


def dominance_representatives(instance: Instance) -> IntArray:
    """For each global version, the kept version that dominates it (itself when kept)."""
    vt = instance.versions
    rep = np.arange(vt.n_total)
    for u in range(vt.n_pairs):
        s, e = int(vt.pair_offsets[u]), int(vt.pair_offsets[u + 1])
        n = e - s
        if n < 2:
            continue
        ids = np.arange(s, e)
        lengths, links, g = _gather(vt, ids)
        local_links, col = np.unique(links, return_inverse=True)
        use = np.zeros((n, local_links.size))
        use[np.repeat(np.arange(n), lengths), col] = g
        coef = vt.coefficient[s:e]
        dom = np.all(use[:, None, :] <= use[None, :, :], axis=2) & (coef[:, None] >= coef[None, :])
        strict = dom & ~dom.T
        tie = dom & dom.T & (np.arange(n)[:, None] < np.arange(n)[None, :])
        beaten = strict | tie  # beaten[a, b]: a beats b
        dropped = beaten.any(axis=0)
        for b in np.flatnonzero(dropped):
            candidates = np.flatnonzero(dom[:, b] & ~dropped)
            rep[s + b] = s + int(candidates[0])
    return rep


def _program(instance: Instance, kept: IntArray) -> tuple[LinearProgram, FloatArray, IntArray]:
    vt, net = instance.versions, instance.network
    n_pairs, n = instance.n_pairs, kept.size
    lengths, links, g = _gather(instance.lp_rows, kept)
    links_used, link_row = np.unique(links, return_inverse=True)
    n_links = links_used.size
    scale = vt.bottleneck_capacity[kept]
    pair = vt.pair[kept]
    r_min = np.asarray(instance.r_min, dtype=np.float64)
    r_max = np.asarray(instance.r_max, dtype=np.float64)
    big_m = np.minimum(r_max[pair] / scale, 1.0)  # bound on y = x / B
    # rows: links | pair rate | pair cardinality | linking y - M z <= 0
    row_pair, row_card, row_link = n_links, n_links + n_pairs, n_links + 2 * n_pairs
    col_y = np.arange(n)
    rows = np.concatenate(
        [link_row, row_pair + pair, row_link + col_y, row_card + pair, row_link + col_y]
    )
    cols = np.concatenate([np.repeat(col_y, lengths), col_y, col_y, n + col_y, n + col_y])
    vals = np.concatenate(
        [
            g * np.repeat(scale, lengths) / net.capacity[links_used][link_row],
            scale,
            np.ones(n),
            np.ones(n),
            -big_m,
        ]
    )
    order = np.lexsort((rows, cols))
    rows, cols, vals = rows[order], cols[order], vals[order]
    start = np.zeros(2 * n + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=2 * n), out=start[1:])
    program = LinearProgram(
        cost=np.concatenate([vt.coefficient[kept] * scale, np.zeros(n)]),
        col_lower=np.zeros(2 * n),
        col_upper=np.concatenate([big_m, np.ones(n)]),
        row_lower=np.concatenate(
            [np.full(n_links, -np.inf), r_min, np.full(n_pairs, -np.inf), np.full(n, -np.inf)]
        ),
        row_upper=np.concatenate(
            [np.ones(n_links), r_max, np.full(n_pairs, float(instance.max_paths)), np.zeros(n)]
        ),
        a_start=start,
        a_index=rows,
        a_value=vals,
        maximize=True,
        integrality=np.concatenate([np.zeros(n, dtype=bool), np.ones(n, dtype=bool)]),
    )
    return program, scale, pair


def solve_optimum(
    instance: Instance,
    time_limit: float | None = 600.0,
    *,
    start: ArrayLike | None = None,
    reduce: bool = True,
    threads: int = 1,
    mip_rel_gap: float = 1e-4,
) -> OptimumResult:
    """Solve the selection MILP (module docstring) with HiGHS.

    Args:
        instance: the problem.
        time_limit: seconds (``None``: no limit); on the limit the best incumbent and the proven
            bound are returned with status ``"time_limit"``.
        start: an optional selection ``(n_pairs, max_paths)`` whose LP solution is offered as a
            MIP start (rates of dropped versions move to their dominating version).
        reduce: drop dominated versions first (exact; module docstring).
        threads: HiGHS threads.
        mip_rel_gap: relative gap at which HiGHS stops (1e-4 = 0.01 %).
    """
    started = time.perf_counter()
    vt = instance.versions
    rep = dominance_representatives(instance) if reduce else np.arange(vt.n_total)
    kept = np.flatnonzero(rep == np.arange(vt.n_total))
    program, scale, _pair = _program(instance, kept)
    position = np.full(vt.n_total, -1, dtype=np.int64)
    position[kept] = np.arange(kept.size)
    mip_start = None
    if start is not None:
        selection_to_global(instance, start)  # validates
        warm = solve_lp(instance, start, threads=threads)
        if warm.feasible:
            x = np.bincount(position[rep], weights=warm.rate, minlength=kept.size)
            y = np.minimum(x / scale, program.col_upper[: kept.size])
            z = (x > 0.0).astype(np.float64)
            mip_start = np.concatenate([y, z])
    result = solve(
        program,
        time_limit=time_limit,
        threads=threads,
        mip_start=mip_start,
        mip_rel_gap=mip_rel_gap,
    )
    selection = None
    lp = None
    if result.x is not None and (result.status == "optimal" or result.status in LIMIT_STATUSES):
        n = kept.size
        chosen = kept[(result.x[n:] > 0.5)]
        selection = np.full((instance.n_pairs, instance.max_paths), -1, dtype=np.int64)
        fill = np.zeros(instance.n_pairs, dtype=np.int64)
        for v in chosen:
            u = int(vt.pair[v])
            selection[u, fill[u]] = v - vt.pair_offsets[u]
            fill[u] += 1
        lp = solve_lp(instance, selection, threads=threads)
    objective = result.objective if result.x is not None else float("nan")
    gap = float(result.gap)
    if lp is not None and lp.feasible and lp.w_egr > objective:
        # Re-solving the rates on the incumbent's versions can only help; under a time limit
        # it often does (the incumbent's rates need not be optimal for its own versions).
        objective = lp.w_egr
        gap = (result.bound - objective) / max(abs(objective), 1e-12)
    return OptimumResult(
        status=result.status,
        objective=float(objective),
        bound=float(result.bound),
        gap=float(max(gap, 0.0)),
        selection=selection,
        lp=lp,
        n_versions=vt.n_total,
        n_versions_kept=int(kept.size),
        wall_time_s=time.perf_counter() - started,
        info={
            **result.info,
            "highs_status": result.highs_status,
            "warm_start": mip_start is not None,
        },
    )
