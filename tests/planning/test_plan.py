"""Plan evaluation against hand-computed costs and constraints, and the JSON round trip."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from agents.baselines.planning import cheapest_paths, greedy_plan
from qnet_envs.planning import Instance, Plan, evaluate, load_plan, plan_from_json, plan_to_json


def hand_plan(tiny: Instance, path_index, edge_index) -> Plan:
    """Demand 0 (0-2, 15/s) on 0-2, demand 1 (1-3, 10/s) on 1-2-3, demand 2 (0-1, 6/s) on 0-1."""
    x = np.zeros(tiny.paths.n_paths)
    x[path_index(tiny, (0, 2))] = 15.0
    x[path_index(tiny, (1, 2, 3))] = 10.0
    x[path_index(tiny, (0, 1))] = 6.0
    y = np.zeros(tiny.n_edges)
    for u, v in ((0, 2), (1, 2), (2, 3), (0, 1)):
        y[edge_index(tiny, u, v)] = 1.0
    return Plan(x=x, y=y)


def test_tiny_demands_and_segments_are_what_the_hand_computation_uses(tiny, path_index, edge_index):
    np.testing.assert_array_equal(tiny.demand, [15.0, 10.0, 6.0])
    for nodes, segments in (((0, 2), 2), ((1, 2, 3), 3), ((0, 1), 1), ((0, 3, 2, 1), 5)):
        p = path_index(tiny, nodes)
        assert tiny.paths.segments[p] == segments
        # F0 = 0.995, F_d = 0.98: up to 4 segments need no distillation
        assert tiny.paths.g[p] == 1.0 if segments <= 4 else tiny.paths.g[p] > 2.0


def test_cost_and_constraints_by_hand(tiny, path_index, edge_index):
    result = evaluate(tiny, hand_plan(tiny, path_index, edge_index))
    c01 = 0.5 * 10**0.8  # 40 km, one segment
    c12 = 0.5 * 2 * 10**0.6  # 60 km, two 30 km segments
    c23 = 0.5 * 10**1.0  # 50 km, one segment
    c02 = 0.5 * 2 * 10**0.9  # 90 km, two 45 km segments
    capacity = 15 * c02 + 10 * c12 + 10 * c23 + 6 * c01
    assert result.capacity_cost == pytest.approx(capacity, rel=1e-12)
    assert result.fiber_cost == pytest.approx(90 + 60 + 50 + 40)
    assert result.total_cost == pytest.approx(capacity + 240)
    np.testing.assert_allclose(result.delivered, [15, 10, 6])
    np.testing.assert_allclose(result.satisfied, [1, 1, 1])
    assert result.satisfied_overall == pytest.approx(1.0)
    assert result.feasible and result.violations == ()
    assert result.load[edge_index(tiny, 0, 3)] == 0.0
    assert result.load[edge_index(tiny, 2, 3)] == pytest.approx(10.0)


def test_every_violation_is_reported_with_its_amount(tiny, path_index, edge_index):
    plan = hand_plan(tiny, path_index, edge_index)
    x, y = plan.x.copy(), plan.y.copy()
    x[path_index(tiny, (0, 2))] = 9.0  # demand 0 short by 6; edge 0-2 fits
    x[path_index(tiny, (1, 2, 3))] = 30.0  # edges 1-2 and 2-3 over their 25/s by 5
    y[edge_index(tiny, 0, 1)] = 0.5  # fractional, and 6 > 12.5? no: within capacity
    result = evaluate(tiny, Plan(x=x, y=y))
    kinds = {(v.kind, v.index): v.amount for v in result.violations}
    assert kinds[("demand", 0)] == pytest.approx(6.0)
    assert kinds[("capacity", edge_index(tiny, 1, 2))] == pytest.approx(5.0)
    assert kinds[("capacity", edge_index(tiny, 2, 3))] == pytest.approx(5.0)
    assert kinds[("fractional_fibres", edge_index(tiny, 0, 1))] == pytest.approx(0.5)
    assert len(kinds) == 4
    assert result.satisfied[0] == pytest.approx(9 / 15)
    assert result.satisfied_overall == pytest.approx((9 + 10 + 6) / 31)
    x2 = plan.x.copy()
    x2[path_index(tiny, (0, 3, 2))] = -1.0
    y2 = plan.y.copy()
    y2[edge_index(tiny, 0, 3)] = -2.0
    negative = evaluate(tiny, Plan(x=x2, y=y2))
    assert {(v.kind, v.amount) for v in negative.violations} >= {
        ("negative_flow", 1.0),
        ("negative_fibres", 2.0),
    }


def test_flow_on_a_path_no_distillation_lifts_is_a_fidelity_violation(tiny, path_index, edge_index):
    strict = dataclasses.replace(tiny, max_rounds=0)
    p = path_index(strict, (0, 3, 2, 1))
    assert not strict.paths.usable[p]
    x = hand_plan(strict, path_index, edge_index).x.copy()
    x[path_index(strict, (0, 1))] = 0.0
    x[p] = 6.0
    y = np.ones(strict.n_edges)
    result = evaluate(strict, Plan(x=x, y=y))
    assert ("fidelity", p) in {(v.kind, v.index) for v in result.violations}
    assert result.delivered[2] == 0.0  # unusable pairs deliver nothing


def test_distillation_scaling_counts_in_the_demand(tiny, path_index, edge_index):
    p = path_index(tiny, (0, 3, 2, 1))
    g = tiny.paths.g[p]
    x = np.zeros(tiny.paths.n_paths)
    x[p] = 6.0 * g
    result = evaluate(tiny, Plan.from_flows(tiny, x))
    assert result.delivered[2] == pytest.approx(6.0)
    assert result.load[edge_index(tiny, 0, 3)] == pytest.approx(6.0 * g)


def test_shape_errors_name_the_field(tiny):
    with pytest.raises(ValueError, match=r"plan\.x: got shape \(2,\)"):
        evaluate(tiny, Plan(x=np.zeros(2), y=np.zeros(tiny.n_edges)))
    with pytest.raises(ValueError, match=r"plan\.y"):
        evaluate(tiny, Plan(x=np.zeros(tiny.paths.n_paths), y=np.zeros(1)))
    with pytest.raises(ValueError, match=r"plan\.x: not finite"):
        Plan(x=[np.nan], y=[0.0])


def test_greedy_uses_each_demands_cheapest_path_and_fibres_ceil(abilene):
    plan, _ = greedy_plan(abilene)
    chosen = cheapest_paths(abilene)
    price = abilene.paths.delivered_cost()
    for d in range(abilene.n_demands):
        mine = np.flatnonzero(abilene.paths.demand == d)
        assert price[chosen[d]] == price[mine].min()
        assert plan.x[mine].sum() == pytest.approx(plan.x[chosen[d]])
    result = evaluate(abilene, plan)
    assert result.feasible
    np.testing.assert_array_equal(plan.y, np.ceil(result.load / 100.0 - 1e-9))


def test_json_round_trip_recheck(tiny, tmp_path, path_index, edge_index):
    plan = hand_plan(tiny, path_index, edge_index)
    text = plan_to_json(tiny, plan, method="hand", note="test")
    doc = json.loads(text)
    assert doc["format"] == "qnet_envs-plan/1" and doc["meta"] == {"note": "test"}
    assert doc["evaluation"]["total_cost"] == pytest.approx(evaluate(tiny, plan).total_cost)
    back = plan_from_json(tiny, text)
    np.testing.assert_array_equal(back.x, plan.x)
    np.testing.assert_array_equal(back.y, plan.y)
    file = tmp_path / "plan.json"
    file.write_text(text)
    instance, again = load_plan(file)  # from the file alone: the instance is named in it
    assert dataclasses.replace(instance, matrix=None) == tiny
    assert instance.matrix_index == tiny.matrix_index
    assert evaluate(instance, again).summary() == doc["evaluation"]


def test_json_rejects_what_the_instance_lacks(tiny, path_index, edge_index):
    text = plan_to_json(tiny, hand_plan(tiny, path_index, edge_index))
    doc = json.loads(text)
    doc["paths"][0]["nodes"] = [0, 3, 1]
    with pytest.raises(ValueError, match=r"plan\.paths\[0\]: demand 0 path \[0, 3, 1\]"):
        plan_from_json(tiny, json.dumps(doc))
    doc = json.loads(text)
    doc["edges"][0]["v"] = 3
    doc["edges"][0]["u"] = 1
    with pytest.raises(ValueError, match=r"plan\.edges\[0\]: \(1, 3\)"):
        plan_from_json(tiny, json.dumps(doc))
    with pytest.raises(ValueError, match=r"plan\.format"):
        plan_from_json(tiny, json.dumps({"format": "x"}))
