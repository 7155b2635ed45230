"""The exact optimum: equal to brute force over all selections; the reduction is exact."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from qnet_envs.qvpn import Instance
from qnet_envs.qvpn.heuristics import shortest_path_selection
from qnet_envs.qvpn.lp import solve_lp
from qnet_envs.qvpn.milp import dominance_representatives, solve_optimum

from .conftest import first_pairs, requires_surfnet


def brute_force(instance: Instance) -> float:
    """Best LP W-EGR over every selection of at most max_paths versions per pair."""
    vt = instance.versions
    options = []
    for u in range(instance.n_pairs):
        n = vt.n_versions(u)
        subsets = [
            c for k in range(instance.max_paths + 1) for c in itertools.combinations(range(n), k)
        ]
        options.append(subsets)
    best = 0.0
    for combo in itertools.product(*options):
        sel = np.full((instance.n_pairs, instance.max_paths), -1)
        for u, chosen in enumerate(combo):
            sel[u, : len(chosen)] = chosen
        r = solve_lp(instance, sel)
        if r.feasible:
            best = max(best, r.w_egr)
    return best


def test_milp_equals_brute_force(tiny: Instance) -> None:
    best = brute_force(tiny)
    for reduce in (True, False):
        r = solve_optimum(tiny, 30.0, reduce=reduce)
        assert r.status == "optimal"
        assert r.objective == pytest.approx(best, rel=1e-6)
        assert r.lp is not None and r.lp.w_egr == pytest.approx(best, rel=1e-6)
        assert r.gap <= 1e-4
        assert np.all((r.selection >= 0).sum(axis=1) <= tiny.max_paths)


def test_milp_brute_force_single_path_and_tight_minimum(tiny: Instance) -> None:
    one = replace(tiny, max_paths=1, r_min=(300.0, 300.0, 300.0))
    best = brute_force(one)
    r = solve_optimum(one, 30.0)
    assert best > 0.0 and r.status == "optimal"
    assert r.objective == pytest.approx(best, rel=1e-6)


def test_infeasible_milp(tiny: Instance) -> None:
    r = solve_optimum(replace(tiny, r_min=(1e5, 1e5, 1e5), r_max=(1e5,) * 3), 10.0)
    assert r.status == "infeasible"
    assert r.selection is None and r.lp is None


def test_dominance_keeps_a_dominating_representative(tiny: Instance) -> None:
    inst = replace(tiny, thresholds=(0.8, 0.81, 0.83, 0.95))  # 0.81, 0.83: one DEJMPS round
    vt = inst.versions
    rep = dominance_representatives(inst)
    kept = rep == np.arange(vt.n_total)
    assert kept.sum() < vt.n_total
    for b in np.flatnonzero(~kept):
        a = rep[b]
        assert kept[a] and vt.pair[a] == vt.pair[b]
        la, ga = vt.links_of(a)
        lb, gb = vt.links_of(b)
        use_b = dict(zip(lb.tolist(), gb.tolist(), strict=True))
        assert all(
            link in use_b and g <= use_b[link] + 1e-12
            for link, g in zip(la.tolist(), ga.tolist(), strict=True)
        )
        assert vt.coefficient[a] >= vt.coefficient[b]
    full = solve_optimum(inst, 30.0, reduce=False)
    reduced = solve_optimum(inst, 30.0, reduce=True)
    assert reduced.n_versions_kept == kept.sum()
    assert reduced.objective == pytest.approx(full.objective, rel=1e-7)


@requires_surfnet
def test_reduction_exact_on_surfnet_subset(per_km: Instance) -> None:
    n = 25
    sub = first_pairs(per_km, n)
    sub = replace(sub, r_max=(60.0,) * n)  # capacity and R_max both bind somewhere
    full = solve_optimum(sub, 60.0, reduce=False)
    reduced = solve_optimum(sub, 60.0, reduce=True)
    assert full.status == reduced.status == "optimal"
    assert reduced.objective == pytest.approx(full.objective, rel=1e-6)
    assert reduced.n_versions_kept < full.n_versions_kept


@requires_surfnet
def test_optimum_dominates_baselines_with_warm_start(per_km: Instance) -> None:
    start = shortest_path_selection(per_km, "egr")
    base = solve_lp(per_km, start)
    r = solve_optimum(per_km, 120.0, start=start)
    assert r.info["warm_start"]
    assert r.status == "optimal"
    assert r.objective >= base.w_egr * (1 - 1e-9)
    assert r.lp is not None and r.lp.w_egr == pytest.approx(r.objective, rel=1e-6)
    for weight in ("hop", "egr2"):
        assert r.objective >= solve_lp(per_km, shortest_path_selection(per_km, weight)).w_egr


@requires_surfnet
def test_sec4e_unusable_pairs_are_reported_and_served_zero() -> None:
    inst = Instance.load("sec4e")
    vt = inst.versions
    dead = vt.unusable_pairs()
    assert dead, "F_u up to 0.96 with end-to-end distillation only leaves some pairs unusable"
    assert all(vt.n_versions(u) == 0 for u in dead)
    assert {u for u, *_ in vt.unusable} >= set(dead)
    sel = shortest_path_selection(inst, "hop")
    assert np.all(sel[dead] == -1)
    r = solve_lp(inst, sel)
    assert r.status == "optimal" and np.all(r.pair_rate[dead] == 0.0)
    opt = solve_optimum(inst, 60.0, start=sel)
    assert opt.status == "optimal" and opt.objective >= r.w_egr * (1 - 1e-9)


@requires_surfnet
def test_time_limit_returns_incumbent_and_bound(per_km: Instance) -> None:
    start = shortest_path_selection(per_km, "egr")
    base = solve_lp(per_km, start).w_egr
    r = solve_optimum(per_km, 0.05, start=start)
    assert r.status in ("time_limit", "optimal")
    assert r.selection is not None and r.lp is not None and r.lp.feasible
    assert r.objective >= base * (1 - 1e-9)
    assert r.objective == pytest.approx(max(r.lp.w_egr, r.objective))
    assert r.bound >= r.objective * (1 - 1e-9)
    assert r.gap >= 0.0
