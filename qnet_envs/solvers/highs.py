"""A thin, generic layer over HiGHS (``highspy``) for sparse LPs and MILPs.

A model is :class:`LinearProgram`: ``optimise c @ x`` subject to
``row_lower <= A @ x <= row_upper`` and ``col_lower <= x <= col_upper``, ``A`` sparse in
compressed-column form, some columns integer. :func:`solve` runs HiGHS once, with a time limit,
one thread by default and an optional MIP start, and returns a :class:`SolveResult`.

Status mapping (HiGHS ``HighsModelStatus`` -> :attr:`SolveResult.status`):

=====================================  ============================
``kOptimal``                           ``"optimal"``
``kInfeasible``                        ``"infeasible"``
``kUnbounded``                         ``"unbounded"``
``kUnboundedOrInfeasible``             ``"infeasible_or_unbounded"``
``kTimeLimit``                         ``"time_limit"``
``kIterationLimit``                    ``"iteration_limit"``
``kSolutionLimit``                     ``"solution_limit"``
``kInterrupt``, ``kHighsInterrupt``    ``"interrupted"``
``kObjectiveBound``, ``kObjectiveTarget``  ``"objective_limit"``
``kMemoryLimit``                       ``"memory_limit"``
anything else (load/model/solve errors)  ``"error"``
=====================================  ============================

A model without columns is not passed to HiGHS: it is ``"optimal"`` (objective 0) when every
row admits activity 0, else ``"infeasible"``. Under a limit (``time_limit`` and the other
``*_limit`` statuses) ``x`` holds the best feasible point found, or is ``None`` when there is
none; ``objective`` is then that point's value (NaN without one) and ``bound`` the best proven
bound. ``row_duals`` are given for LPs solved to optimality only.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: HiGHS model status name -> our status string (see the module docstring).
STATUS_MAP: dict[str, str] = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "solution_limit",
    "kInterrupt": "interrupted",
    "kHighsInterrupt": "interrupted",
    "kObjectiveBound": "objective_limit",
    "kObjectiveTarget": "objective_limit",
    "kMemoryLimit": "memory_limit",
}
#: Statuses under which the solver stopped early and may still hold a feasible point.
LIMIT_STATUSES = frozenset(
    {"time_limit", "iteration_limit", "solution_limit", "interrupted", "objective_limit"}
)


@dataclass(frozen=True)
class LinearProgram:
    """A sparse LP/MILP in compressed-column form.

    ``A[:, j]`` has the nonzeros ``a_value[a_start[j]:a_start[j + 1]]`` in the rows
    ``a_index[...]``. Bounds may be ``+-inf``. ``integrality[j]`` is true for integer columns
    (a binary is an integer column with bounds ``[0, 1]``).
    """

    cost: FloatArray  # (n_cols,)
    col_lower: FloatArray  # (n_cols,)
    col_upper: FloatArray  # (n_cols,)
    row_lower: FloatArray  # (n_rows,)
    row_upper: FloatArray  # (n_rows,)
    a_start: NDArray[np.int64]  # (n_cols + 1,)
    a_index: NDArray[np.int64]  # (nnz,)
    a_value: FloatArray  # (nnz,)
    maximize: bool = False
    integrality: NDArray[np.bool_] | None = None  # (n_cols,) or None for an LP

    @property
    def n_cols(self) -> int:
        return int(self.cost.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])

    @property
    def is_mip(self) -> bool:
        return self.integrality is not None and bool(np.any(self.integrality))


def from_coo(
    cost: ArrayLike,
    rows: ArrayLike,
    cols: ArrayLike,
    values: ArrayLike,
    *,
    n_rows: int,
    row_lower: ArrayLike,
    row_upper: ArrayLike,
    col_lower: ArrayLike = 0.0,
    col_upper: ArrayLike = np.inf,
    maximize: bool = False,
    integrality: ArrayLike | None = None,
) -> LinearProgram:
    """Build a :class:`LinearProgram` from coordinate triplets (duplicates are summed).

    Scalars broadcast to all columns / rows. Raises ``ValueError`` for mismatched shapes,
    out-of-range indices, non-finite coefficients or NaN bounds.
    """
    c = np.asarray(cost, dtype=np.float64).ravel()
    n_cols = c.shape[0]
    r = np.asarray(rows, dtype=np.int64).ravel()
    j = np.asarray(cols, dtype=np.int64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if not (r.shape == j.shape == v.shape):
        raise ValueError(
            f"rows, cols and values must have one length, got {r.shape}, {j.shape}, {v.shape}"
        )
    if r.size and (r.min() < 0 or r.max() >= n_rows):
        raise ValueError(f"rows must lie in [0, {n_rows - 1}]")
    if j.size and (j.min() < 0 or j.max() >= n_cols):
        raise ValueError(f"cols must lie in [0, {n_cols - 1}]")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(c))):
        raise ValueError("values and cost must be finite")
    order = np.lexsort((r, j))
    r, j, v = r[order], j[order], v[order]
    if r.size:
        key = j * max(n_rows, 1) + r
        first = np.r_[True, key[1:] != key[:-1]]
        groups = np.cumsum(first) - 1
        v = np.bincount(groups, weights=v)
        r, j = r[first], j[first]
    start = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(j, minlength=n_cols), out=start[1:])

    def vec(x: ArrayLike, n: int, name: str) -> FloatArray:
        a = np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()
        if np.any(np.isnan(a)):
            raise ValueError(f"{name} must not be NaN")
        return a

    integ = None
    if integrality is not None:
        integ = np.broadcast_to(np.asarray(integrality, dtype=bool), (n_cols,)).copy()
    return LinearProgram(
        cost=c,
        col_lower=vec(col_lower, n_cols, "col_lower"),
        col_upper=vec(col_upper, n_cols, "col_upper"),
        row_lower=vec(row_lower, n_rows, "row_lower"),
        row_upper=vec(row_upper, n_rows, "row_upper"),
        a_start=start,
        a_index=r,
        a_value=v,
        maximize=maximize,
        integrality=integ,
    )


@dataclass(frozen=True)
class SolveResult:
    """The outcome of one :func:`solve`.

    ``objective`` is the value of ``x`` (NaN when there is no ``x``); ``bound`` the best proven
    bound (equal to ``objective`` for an optimal LP); ``gap`` HiGHS's relative MIP gap
    ``|bound - objective| / max(|objective|, tiny)`` (0 for an optimal LP, ``inf`` without a
    point); ``wall_time_s`` the seconds spent in HiGHS including model transfer.
    """

    status: str
    objective: float
    bound: float
    gap: float
    x: FloatArray | None  # (n_cols,) or None
    row_duals: FloatArray | None  # (n_rows,) for an optimal LP, else None
    wall_time_s: float
    highs_status: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.x is not None


def _empty_model(lp: LinearProgram, started: float) -> SolveResult:
    feasible = bool(np.all(lp.row_lower <= 0.0) and np.all(lp.row_upper >= 0.0))
    status = "optimal" if feasible else "infeasible"
    return SolveResult(
        status=status,
        objective=0.0 if feasible else float("nan"),
        bound=0.0 if feasible else float("nan"),
        gap=0.0 if feasible else float("inf"),
        x=np.zeros(0) if feasible else None,
        row_duals=np.zeros(lp.n_rows) if feasible else None,
        wall_time_s=time.perf_counter() - started,
        highs_status="empty model",
    )


_BANNER_SHOWN = False


def _new_highs(highspy: Any) -> Any:
    """A ``Highs`` object; the first one of a process is made with file descriptor 1 sent to
    ``/dev/null``, since HiGHS prints its copyright banner from C before any option is set."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    _BANNER_SHOWN = True
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve(
    lp: LinearProgram,
    *,
    time_limit: float | None = None,
    threads: int = 1,
    mip_start: ArrayLike | None = None,
    mip_rel_gap: float | None = None,
    options: dict[str, Any] | None = None,
) -> SolveResult:
    """Solve ``lp`` with HiGHS.

    Args:
        lp: the model.
        time_limit: seconds, ``> 0``; ``None`` for no limit.
        threads: HiGHS threads (1 by default; HiGHS fixes its thread pool at the first solve of
            the process, so a later different value may be ignored).
        mip_start: a full primal point ``(n_cols,)`` offered to the MIP solver as a start; HiGHS
            checks it and keeps it as the first incumbent when it is feasible. Ignored for LPs.
        mip_rel_gap: relative gap at which the MIP stops (HiGHS default 1e-4 when ``None``).
        options: further HiGHS options by name (for example ``{"presolve": "off"}``).

    Raises:
        ValueError: ``time_limit`` not positive, ``threads < 1`` or ``mip_start`` of the wrong
            shape.
    """
    import highspy

    started = time.perf_counter()
    if time_limit is not None and not (time_limit > 0):
        raise ValueError(f"time_limit must be > 0 seconds or None, got {time_limit!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
    if lp.n_cols == 0:
        return _empty_model(lp, started)
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if mip_rel_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    model = highspy.HighsLp()
    model.num_col_ = lp.n_cols
    model.num_row_ = lp.n_rows
    model.col_cost_ = lp.cost
    model.col_lower_ = lp.col_lower
    model.col_upper_ = lp.col_upper
    model.row_lower_ = lp.row_lower
    model.row_upper_ = lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.num_col_ = lp.n_cols
    model.a_matrix_.num_row_ = lp.n_rows
    model.a_matrix_.start_ = lp.a_start.astype(np.int32)
    model.a_matrix_.index_ = lp.a_index.astype(np.int32)
    model.a_matrix_.value_ = lp.a_value
    model.sense_ = highspy.ObjSense.kMaximize if lp.maximize else highspy.ObjSense.kMinimize
    is_mip = lp.is_mip
    if is_mip:
        assert lp.integrality is not None
        model.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in lp.integrality
        ]
    h.passModel(model)
    if is_mip and mip_start is not None:
        start = np.asarray(mip_start, dtype=np.float64)
        if start.shape != (lp.n_cols,):
            raise ValueError(f"mip_start must have shape ({lp.n_cols},), got {start.shape}")
        solution = highspy.HighsSolution()
        solution.col_value = start.tolist()
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    raw_status = h.getModelStatus()
    highs_status = str(raw_status).split(".")[-1]
    status = STATUS_MAP.get(highs_status, "error")
    info = h.getInfo()
    has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_point else None
    objective = float(info.objective_function_value) if has_point else float("nan")
    if is_mip:
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap) if has_point else float("inf")
        duals = None
    else:
        bound = objective if status == "optimal" else float("nan")
        gap = 0.0 if status == "optimal" else float("inf")
        duals = (
            np.asarray(h.getSolution().row_dual, dtype=np.float64) if status == "optimal" else None
        )
    if status in ("infeasible", "unbounded", "infeasible_or_unbounded", "error"):
        x, objective = None, float("nan")
    extra = {
        "simplex_iterations": int(info.simplex_iteration_count),
        "mip_nodes": int(info.mip_node_count) if is_mip else 0,
    }
    return SolveResult(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        x=x,
        row_duals=duals,
        wall_time_s=time.perf_counter() - started,
        highs_status=highs_status,
        info=extra,
    )
