"""The generic HiGHS layer on tiny models with hand-solved optima."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qnet_envs.solvers import LinearProgram, from_coo, solve


def _lp_two_rows() -> LinearProgram:
    # max x + y  s.t.  x + 2y <= 4,  3x + y <= 6,  x, y >= 0: optimum (8/5, 6/5), value 14/5,
    # duals solve A^T lambda = c: lambda = (2/5, 1/5).
    return from_coo(
        [1, 1],
        [0, 0, 1, 1],
        [0, 1, 0, 1],
        [1, 2, 3, 1],
        n_rows=2,
        row_lower=-np.inf,
        row_upper=[4, 6],
        maximize=True,
    )


def test_lp_hand_solved_optimum_and_duals() -> None:
    r = solve(_lp_two_rows())
    assert r.status == "optimal"
    assert r.objective == pytest.approx(14 / 5)
    assert r.bound == pytest.approx(14 / 5) and r.gap == 0.0
    np.testing.assert_allclose(r.x, [8 / 5, 6 / 5])
    np.testing.assert_allclose(np.abs(r.row_duals), [2 / 5, 1 / 5], atol=1e-9)
    assert r.wall_time_s > 0.0


def test_minimise_with_row_lower_bound_and_column_bounds() -> None:
    # min 2x + y  s.t.  x + y >= 3,  y <= 1 (column bound): x = 2, y = 1, value 5.
    lp = from_coo(
        [2, 1],
        [0, 0],
        [0, 1],
        [1, 1],
        n_rows=1,
        row_lower=[3],
        row_upper=np.inf,
        col_upper=[np.inf, 1.0],
    )
    r = solve(lp)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(5.0)
    np.testing.assert_allclose(r.x, [2.0, 1.0])


def test_milp_equals_brute_force_knapsack() -> None:
    value, weight, cap = np.array([5, 4, 3, 7.0]), np.array([2, 3, 1, 4.0]), 6.0
    lp = from_coo(
        value,
        np.zeros(4),
        np.arange(4),
        weight,
        n_rows=1,
        row_lower=-np.inf,
        row_upper=[cap],
        col_upper=1.0,
        maximize=True,
        integrality=True,
    )
    r = solve(lp)
    best = max(
        float(value @ np.array(z))
        for z in itertools.product((0, 1), repeat=4)
        if weight @ np.array(z) <= cap
    )
    assert r.status == "optimal"
    assert r.objective == pytest.approx(best)
    assert r.bound == pytest.approx(best)
    assert r.row_duals is None


def test_infeasible_and_unbounded() -> None:
    infeasible = from_coo(
        [1], [0], [0], [1], n_rows=1, row_lower=[2], row_upper=np.inf, col_upper=[1.0]
    )
    r = solve(infeasible)
    assert r.status == "infeasible" and r.x is None and np.isnan(r.objective)
    unbounded = from_coo(
        [1, 1], [0, 0], [0, 1], [1, -1], n_rows=1, row_lower=-np.inf, row_upper=[1], maximize=True
    )
    assert solve(unbounded).status in ("unbounded", "infeasible_or_unbounded")


def _market_split(seed: int = 3, m: int = 4, n: int = 40) -> LinearProgram:
    """Cornuejols-Dawande market split: notoriously hard for branch and bound."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n)).astype(float)
    rhs = np.floor(a.sum(axis=1) / 2)
    rows, cols = np.nonzero(a)
    return from_coo(
        np.zeros(n),
        rows,
        cols,
        a[rows, cols],
        n_rows=m,
        row_lower=rhs,
        row_upper=rhs,
        col_upper=1.0,
        integrality=True,
    )


def test_time_limit_path() -> None:
    r = solve(_market_split(), time_limit=0.2)
    assert r.status == "time_limit"
    assert r.wall_time_s < 5.0


def test_warm_start_is_accepted() -> None:
    # A market split with a planted solution and objective 0: out of reach in 0.2 s from
    # scratch, proven optimal at once when the planted point is offered as a start.
    rng = np.random.default_rng(5)
    m, n = 4, 40
    a = rng.integers(0, 100, size=(m, n)).astype(float)
    planted = rng.integers(0, 2, size=n).astype(float)
    rhs = a @ planted
    rows, cols = np.nonzero(a)
    lp = from_coo(
        np.zeros(n),
        rows,
        cols,
        a[rows, cols],
        n_rows=m,
        row_lower=rhs,
        row_upper=rhs,
        col_upper=1.0,
        integrality=True,
    )
    cold = solve(lp, time_limit=0.2)
    assert cold.status == "time_limit" and cold.x is None
    warm = solve(lp, time_limit=0.2, mip_start=planted)
    assert warm.status == "optimal"
    np.testing.assert_allclose(a @ warm.x, rhs)
    with pytest.raises(ValueError, match="mip_start"):
        solve(lp, mip_start=np.zeros(3))


def test_empty_model_and_argument_errors() -> None:
    empty = from_coo(np.zeros(0), [], [], [], n_rows=1, row_lower=[0.0], row_upper=[1.0])
    assert solve(empty).status == "optimal"
    empty_bad = from_coo(np.zeros(0), [], [], [], n_rows=1, row_lower=[1.0], row_upper=[2.0])
    assert solve(empty_bad).status == "infeasible"
    lp = _lp_two_rows()
    with pytest.raises(ValueError, match="time_limit"):
        solve(lp, time_limit=0.0)
    with pytest.raises(ValueError, match="threads"):
        solve(lp, threads=0)
    with pytest.raises(ValueError, match="rows must lie"):
        from_coo([1], [5], [0], [1.0], n_rows=1, row_lower=0, row_upper=1)
    with pytest.raises(ValueError, match="finite"):
        from_coo([1], [0], [0], [np.nan], n_rows=1, row_lower=0, row_upper=1)


def test_duplicate_triplets_are_summed() -> None:
    # x appears twice in row 0 with coefficient 1 each: 2x <= 4, max x -> 2.
    lp = from_coo(
        [1], [0, 0], [0, 0], [1, 1], n_rows=1, row_lower=-np.inf, row_upper=[4], maximize=True
    )
    assert solve(lp).objective == pytest.approx(2.0)
