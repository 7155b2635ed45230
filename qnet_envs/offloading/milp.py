"""The step assignment as a MILP on HiGHS: the clairvoyant per-step optimum, and the builder the
two-stage stochastic program (:mod:`qnet_envs.offloading.stochastic`) shares.

Given the node backlogs ``B`` and the step's jobs, choose for every job a local share ``l_i``,
at most one remote node ``j`` (binary ``y_ij``) with share ``x_ij``, and a dropped share
``d_i``; ``l_i + sum_j x_ij + d_i = 1``, ``l_i = 0`` where the job does not fit locally. For
each link scenario ``s`` (one for the clairvoyant: the realised links) with weight ``w_s``,
``F_is`` the shares of job ``i`` sent over links unusable in ``s`` (they fall back to the
job's node when it fits there, else they are dropped)::

    minimise  sum_s w_s [ d / L * sum_i z_is
                          + e / E * (sum_i P_i a_i (l_i + F_is)
                                     + sum_{ij usable in s} (P_j a_ij + q_ijs) x_ij)
                          + p * (sum_i d_i + F_is for jobs that do not fit locally) ]
    z_is >= B_i + a_i (l_i + F_is)                          (F_is only where the job fits locally)
    z_is >= t_ijs x_ij + B_j y_ij + sum_{i' usable at j in s} a_i'j x_i'j
            - (sum_{i' != i usable at j in s} a_i'j) (1 - y_ij)   (ij usable in s),  x_ij <= y_ij
    z_is >= (t_ijs + a_ij) x_ij + B_j y_ij                   (valid, tightens the relaxation)

with ``a`` the run times (s), ``P`` the powers (W), ``t_ijs`` / ``q_ijs`` the transfer time /
energy of the whole job at scenario ``s``'s rate and fidelity and ``p`` the drop penalty; the
second latency row is the big-M row with the smallest valid M (the other senders' whole work)
and ``B_j`` switched by ``y_ij``. ``z_is`` is job ``i``'s latency, exactly as
:func:`qnet_envs.offloading.core.step_cost` computes it. With ``share_levels`` the shares are
multiples of ``1/K`` (the discrete action variant). Every env action from the same state is a
feasible point of the model with the same cost, so the optimum is a lower bound on the step cost
of any action (the clairvoyant case, one scenario: the realisation) or on the sampled average
cost of any action that does not see the draw (the stochastic case).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from qnet_envs.offloading import core
from qnet_envs.solvers import SolveResult, from_coo, solve

FloatArray = NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class StepDecision:
    """An optimal assignment: targets and shares (the env's action), the shares per place,
    the model's objective (mean step cost over its scenarios), the proof (status, bound, gap).
    """

    target: NDArray[np.int64]  # (M,) 0 local, 1 + j remote j
    share: FloatArray  # (M,) share offloaded to the target
    local: FloatArray  # (M,)
    remote: FloatArray  # (M, R)
    dropped: FloatArray  # (M,)
    objective: float
    bound: float
    gap: float
    status: str
    wall_time_s: float
    n_scenarios: int

    def actions(self, env_variant: str, share_levels: int, agents: Sequence[str]) -> dict:
        """The decision as the env's action dict (``"discrete"`` or ``"hybrid"``)."""
        out: dict = {}
        for i, agent in enumerate(agents):
            t = int(self.target[i])
            if env_variant == "hybrid":
                out[agent] = {"target": t, "share": np.array([self.share[i]], np.float32)}
            else:
                level = max(round(float(self.share[i]) * share_levels) - 1, 0) if t else 0
                out[agent] = np.array([t, level], dtype=np.int64)
        return out


def build_and_solve(
    layout: core.Layout,
    backlog: FloatArray,
    jobs: core.Jobs,
    scenarios: Sequence[core.JobCosts],
    *,
    candidates: NDArray[np.bool_] | None = None,
    share_levels: int | None = None,
    time_limit: float | None = 60.0,
    mip_rel_gap: float = 1e-4,
) -> StepDecision:
    """Build the model above over ``scenarios`` (equal weights) and solve it.

    ``candidates`` ``(M, R)``: the remote nodes a job may be sent to (default: where it fits);
    ``share_levels``: ``K`` for shares in multiples of ``1/K``, ``None`` for continuous shares.
    """
    sc = layout.scenario
    m = layout.n_mobile
    n_scen = len(scenarios)
    if n_scen < 1:
        raise ValueError("scenarios: got none (allowed: at least one JobCosts)")
    first = scenarios[0]
    if candidates is None:
        candidates = first.fits_remote
    candidates = candidates & jobs.present[:, None]
    weight = 1.0 / n_scen
    d_w, e_w = sc.latency_weight / sc.latency_scale_s, sc.energy_weight / sc.energy_scale_j
    power_local, power_remote = layout.power_w[:m], layout.power_w[m:]
    b_local, b_remote = backlog[:m], backlog[m:]

    cols: list[float] = []  # objective
    lower: list[float] = []
    upper: list[float] = []
    integer: list[bool] = []

    def column(cost: float, lo: float, hi: float, is_int: bool = False) -> int:
        cols.append(cost)
        lower.append(lo)
        upper.append(hi)
        integer.append(is_int)
        return len(cols) - 1

    jobs_idx = np.flatnonzero(jobs.present)
    l_col, d_col = {}, {}
    x_col, y_col = {}, {}
    for i in jobs_idx:
        a = first.exec_local_s[i]
        fits = bool(first.fits_local[i])
        l_col[i] = column(e_w * power_local[i] * a, 0.0, 1.0 if fits else 0.0)
        d_col[i] = column(sc.drop_penalty, 0.0, 1.0)
        fallback = e_w * power_local[i] * a if fits else sc.drop_penalty
        for j in np.flatnonzero(candidates[i]):
            cost = 0.0
            for costs in scenarios:
                if costs.usable[i, j]:
                    cost += (
                        weight
                        * e_w
                        * (
                            power_remote[j] * costs.exec_remote_s[i, j]
                            + costs.tx_energy_full_j[i, j]
                        )
                    )
                else:
                    cost += weight * fallback
            x_col[i, j] = column(cost, 0.0, 1.0)
            y_col[i, j] = column(0.0, 0.0, 1.0, True)
    rows: list[int] = []
    cidx: list[int] = []
    vals: list[float] = []
    row_lo: list[float] = []
    row_hi: list[float] = []

    def row(entries: list[tuple[int, float]], lo: float, hi: float) -> None:
        k = len(row_lo)
        for c, v in entries:
            rows.append(k)
            cidx.append(c)
            vals.append(v)
        row_lo.append(lo)
        row_hi.append(hi)

    for i in jobs_idx:
        remote_cols = [x_col[i, j] for j in np.flatnonzero(candidates[i])]
        row([(l_col[i], 1.0), (d_col[i], 1.0), *[(c, 1.0) for c in remote_cols]], 1.0, 1.0)
        ys = [y_col[i, j] for j in np.flatnonzero(candidates[i])]
        if ys:
            row([(c, 1.0) for c in ys], -np.inf, 1.0)
        for j in np.flatnonzero(candidates[i]):
            row([(x_col[i, j], 1.0), (y_col[i, j], -1.0)], -np.inf, 0.0)
    if share_levels is not None:
        for c in x_col.values():
            level = column(0.0, 0.0, float(share_levels), True)
            row([(c, float(share_levels)), (level, -1.0)], 0.0, 0.0)
    for costs in scenarios:
        usable = costs.usable & candidates
        for i in jobs_idx:
            z = column(weight * d_w, 0.0, np.inf)
            a = costs.exec_local_s[i]
            entries = [(z, 1.0), (l_col[i], -a)]
            if costs.fits_local[i]:
                entries += [(x_col[i, j], -a) for j in np.flatnonzero(candidates[i] & ~usable[i])]
            row(entries, b_local[i], np.inf)
            for j in np.flatnonzero(usable[i]):
                senders = np.flatnonzero(usable[:, j])
                tx = costs.tx_full_s[i, j]
                others = costs.exec_remote_s[senders, j].sum() - costs.exec_remote_s[i, j]
                # z >= t x_ij + B_j y_ij + sum_k a_kj x_kj - (sum_{k != i} a_kj)(1 - y_ij)
                entries = [(z, 1.0), (y_col[i, j], -(b_remote[j] + others))]
                for k in senders:
                    coeff = costs.exec_remote_s[k, j] + (tx if k == i else 0.0)
                    entries.append((x_col[k, j], -coeff))
                row(entries, -others, np.inf)
                own = costs.exec_remote_s[i, j] + tx
                row([(z, 1.0), (x_col[i, j], -own), (y_col[i, j], -b_remote[j])], 0.0, np.inf)
    lp = from_coo(
        np.array(cols),
        rows,
        cidx,
        vals,
        n_rows=len(row_lo),
        row_lower=row_lo,
        row_upper=row_hi,
        col_lower=lower,
        col_upper=upper,
        integrality=np.array(integer, dtype=bool),
    )
    result = solve(lp, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    return _decision(layout, result, jobs_idx, l_col, d_col, x_col, n_scen)


def _decision(
    layout: core.Layout, result: SolveResult, jobs_idx, l_col, d_col, x_col, n_scen: int
) -> StepDecision:
    m, r = layout.n_mobile, layout.n_remote
    if not result.has_solution:
        raise RuntimeError(
            f"the offloading step MILP has no solution (status {result.status!r}); every "
            "job can always be dropped, so this is a solver failure"
        )
    x = np.asarray(result.x)
    local = np.zeros(m)
    remote = np.zeros((m, r))
    dropped = np.zeros(m)
    for i in jobs_idx:
        local[i] = x[l_col[i]]
        dropped[i] = x[d_col[i]]
    for (i, j), c in x_col.items():
        remote[i, j] = x[c]
    remote[remote < 1e-9] = 0.0
    remote = np.minimum(remote, 1.0)
    share = remote.sum(axis=1)
    target = np.where(share > 0, 1 + remote.argmax(axis=1), 0)
    return StepDecision(
        target=target.astype(np.int64),
        share=np.where(target > 0, share, 0.0),
        local=local,
        remote=remote,
        dropped=dropped,
        objective=float(result.objective),
        bound=float(result.bound),
        gap=float(result.gap),
        status=result.status,
        wall_time_s=result.wall_time_s,
        n_scenarios=n_scen,
    )


def solve_clairvoyant(
    layout: core.Layout,
    state: core.State,
    *,
    share_levels: int | None = None,
    time_limit: float | None = 60.0,
    mip_rel_gap: float = 1e-4,
) -> StepDecision:
    """The per-step optimum that sees the step's realised rates and fidelities (a lower bound
    on the step cost of every action from ``state``, up to the reported gap)."""
    costs = state.costs(layout)
    return build_and_solve(
        layout,
        state.backlog_s,
        state.jobs,
        [costs],
        candidates=costs.usable,
        share_levels=share_levels,
        time_limit=time_limit,
        mip_rel_gap=mip_rel_gap,
    )
