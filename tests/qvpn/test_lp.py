"""The rate LP: a hand-solved optimum, infeasibility, the JSON export and its re-check."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import linprog

from qnet_envs.qvpn import Instance
from qnet_envs.qvpn.heuristics import shortest_path_selection
from qnet_envs.qvpn.lp import check_solution, solve_lp

from .conftest import requires_surfnet


def one_link(r_min_a: float, r_min_b: float, r_max: float = 1e9) -> Instance:
    """Two pairs of two organisations on one 10 km link; A needs no distillation, B one round."""
    return Instance(
        name="one-link",
        topology=None,
        links=((0, 1, 10.0),),
        engineered=False,
        thresholds=(0.8,),
        k_paths=1,
        max_paths=1,
        org_weights=(1.0, 0.5),
        pair_org=(0, 1),
        pair_src=(0, 0),
        pair_dst=(1, 1),
        pair_weight=(0.6, 0.8),
        pair_fidelity=(0.75, 0.82),
        r_min=(r_min_a, r_min_b),
        r_max=(r_max, r_max),
    )


def closed_form_capacity(instance: Instance, d: float) -> float:
    """c = m * 2 eta alpha / T, eta = 10^(-0.1 beta d)."""
    eta = 10 ** (-0.1 * instance.attenuation_db_per_km * d)
    return instance.multiplexing * 2 * eta * instance.alpha / instance.repetition_time_s


def dejmps_one_round_cost(f: float) -> float:
    """Two Werner pairs per DEJMPS round, success (A+B)^2 + (C+D)^2 with B = C = D = (1-F)/3."""
    q = (1 - f) / 3
    return 2 / ((f + q) ** 2 + (2 * q) ** 2)


SELECT = np.array([[0], [0]])


def test_hand_solved_optimum() -> None:
    inst = one_link(10.0, 20.0)
    c = closed_form_capacity(inst, 10.0)
    g_b = dejmps_one_round_cost(0.8)
    assert inst.network.capacity[0] == pytest.approx(c)
    np.testing.assert_allclose(inst.versions.link_g, [1.0, g_b])
    # max 0.6 xA + 0.4 xB, xA + g_b xB <= c: A has the better ratio (0.6 > 0.4 / g_b), so B
    # gets its minimum and A the rest of the link.
    r = solve_lp(inst, SELECT)
    assert r.status == "optimal"
    x_a, x_b = c - g_b * 20.0, 20.0
    np.testing.assert_allclose(r.rate, [x_a, x_b], rtol=1e-7)
    assert r.w_egr == pytest.approx(0.6 * x_a + 0.4 * x_b, rel=1e-7)
    assert r.link_use[0] == pytest.approx(c, rel=1e-7)
    assert r.link_price[0] == pytest.approx(0.6, rel=1e-6)  # one more pair/s of capacity -> A
    assert r.short_pairs == []


def test_r_max_binds() -> None:
    inst = one_link(10.0, 20.0, r_max=1000.0)
    r = solve_lp(inst, SELECT)
    np.testing.assert_allclose(r.rate, [1000.0, 1000.0], rtol=1e-9)
    assert r.w_egr == pytest.approx(600.0 + 400.0)
    assert r.link_price[0] == pytest.approx(0.0, abs=1e-9)


def test_infeasible_reports_the_shortfall() -> None:
    c = closed_form_capacity(one_link(0, 0), 10.0)
    g_b = dejmps_one_round_cost(0.8)
    r_min_a, r_min_b = 0.5 * c, 0.8 * c / g_b  # needs 1.3 c
    r = solve_lp(one_link(r_min_a, r_min_b), SELECT)
    assert r.status == "infeasible" and not r.feasible
    assert r.w_egr == 0.0
    # The elastic solve minimises the total shortfall: a unit of B's frees g_b > 1 of link,
    # so B is short by (excess) / g_b and A is served in full.
    excess = r_min_a + g_b * r_min_b - c
    np.testing.assert_allclose(r.shortfall, [0.0, excess / g_b], rtol=1e-6, atol=1e-6)
    assert r.short_pairs == [1]
    d = r.to_dict()
    assert check_solution(d) == []
    assert d["status"] == "infeasible" and d["pairs"][1]["shortfall"] > 0


def test_pair_without_version_is_short_by_its_minimum(tiny: Instance) -> None:
    sel = np.array([[0, -1], [0, -1], [-1, -1]])
    r = solve_lp(tiny, sel)
    assert r.status == "infeasible" and r.w_egr == 0.0
    assert r.shortfall[2] == pytest.approx(tiny.r_min[2])
    assert 2 in r.short_pairs


def test_empty_selection(tiny: Instance) -> None:
    empty = np.full((3, 2), -1)
    r = solve_lp(tiny, empty)
    assert r.status == "infeasible"
    np.testing.assert_allclose(r.shortfall, tiny.r_min)
    assert check_solution(r.to_dict()) == []
    free = replace(tiny, r_min=(0.0,) * 3)
    r = solve_lp(free, empty)
    assert r.status == "optimal" and r.w_egr == 0.0
    assert np.all(r.link_price == 0.0) and check_solution(r.to_dict()) == []


def test_selection_validation_and_repeats(tiny: Instance) -> None:
    with pytest.raises(ValueError, match=r"selection\[1, 0\].*pair 1 slot 0"):
        solve_lp(tiny, np.array([[0, 1], [9, -1], [0, -1]]))
    with pytest.raises(ValueError, match="shape"):
        solve_lp(tiny, np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match="integers"):
        solve_lp(tiny, np.full((3, 2), 0.5))
    once = solve_lp(tiny, np.array([[0, -1], [1, -1], [1, -1]]))
    twice = solve_lp(tiny, np.array([[0, 0], [1, 1], [1, -1]]))
    assert once.w_egr == pytest.approx(twice.w_egr)
    np.testing.assert_array_equal(once.selected, twice.selected)


def resolve_from_json(d: dict) -> float:
    """Re-solve the LP from the exported JSON alone, with scipy's HiGHS interface."""
    versions, links, pairs = d["versions"], d["links"], d["pairs"]
    n = len(versions)
    cost = -np.array([v["weight"] * v["swap_factor"] for v in versions])
    a_link = np.zeros((len(links), n))
    a_pair = np.zeros((len(pairs), n))
    for j, v in enumerate(versions):
        for link, g in zip(v["links"], v["g"], strict=True):
            a_link[link, j] += g
        a_pair[v["pair"], j] = 1.0
    cap = np.array([x["capacity"] for x in links])
    r_min = np.array([p["r_min"] for p in pairs])
    r_max = np.array([np.inf if p["r_max"] is None else p["r_max"] for p in pairs])
    finite = np.isfinite(r_max)
    a_ub = np.vstack([a_link, a_pair[finite], -a_pair])
    b_ub = np.concatenate([cap, r_max[finite], -r_min])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    assert res.status == 0
    return -res.fun


def test_exported_solution_rechecks_and_resolves(tiny: Instance) -> None:
    r = solve_lp(tiny, np.array([[0, 1], [0, 3], [1, 2]]))
    assert r.status == "optimal"
    d = json.loads(json.dumps(r.to_dict()))
    assert check_solution(d) == []
    assert resolve_from_json(d) == pytest.approx(r.w_egr, rel=1e-7)
    for v in d["versions"]:
        assert set(v) >= {"links", "g", "swap_factor", "weight", "rate"}
    assert all({"capacity", "use"} <= set(x) for x in d["links"])
    # Tampering is caught.
    bad = json.loads(json.dumps(d))
    bad["versions"][0]["rate"] *= 10.0
    assert check_solution(bad)
    bad = json.loads(json.dumps(d))
    bad["w_egr"] += 1.0
    assert any("w_egr" in p for p in check_solution(bad))


@requires_surfnet
def test_shipped_instance_export_and_speed(per_km: Instance) -> None:
    sel = shortest_path_selection(per_km, "hop")
    r = solve_lp(per_km, sel)
    assert r.status == "optimal" and r.w_egr > 0.0
    d = json.loads(json.dumps(r.to_dict()))
    assert check_solution(d) == []
    assert resolve_from_json(d) == pytest.approx(r.w_egr, rel=1e-6)
    assert np.all(r.link_use <= per_km.network.capacity * (1 + 1e-7))


def test_unbounded_rates_are_bounded_by_capacity(tiny: Instance) -> None:
    free = replace(tiny, r_min=(0.0,) * 3, r_max=(float("inf"),) * 3)
    r = solve_lp(free, np.array([[0, 1], [0, 1], [0, 1]]))
    assert r.status == "optimal" and np.isfinite(r.w_egr)
    d = r.to_dict()
    assert all(p["r_max"] is None for p in d["pairs"])
    assert check_solution(d) == []
