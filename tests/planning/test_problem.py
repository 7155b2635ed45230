"""The planning instance: loading, validation, traffic, link/cost model, paths and physics."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from qnet_envs.physics import bbpssw, dejmps
from qnet_envs.planning import Instance
from qnet_envs.planning.problem import _SECTION_KEYS

TINY_LINKS = [[0, 1, 40.0], [1, 2, 60.0], [2, 3, 50.0], [3, 0, 70.0], [0, 2, 90.0]]


def tiny_dict(**traffic):
    body = {"pairs": [[0, 2], [1, 3], [0, 1]], "rates": [[12.0, 8.0, 5.0], [15.0, 10.0, 6.0]]}
    body.update(traffic)
    return {
        "name": "t",
        "network": {"links": TINY_LINKS},
        "link": {"max_segment_km": 50.0},
        "cost": {"capacity_cost": 0.5, "fiber_capacity": 25.0},
        "traffic": {"fidelity": 0.98, "train_fraction": 0.5, **body},
    }


def test_shipped_tiny_is_the_dict_above():
    shipped = Instance.load("tiny")
    built = Instance.from_dict({**tiny_dict(), "name": "tiny", "description": shipped.description})
    assert shipped == built


@pytest.mark.parametrize("name, nodes, edges", [("abilene", 11, 14), ("cogentco", 197, 243)])
def test_shipped_topologies_sizes(name, nodes, edges):
    instance = Instance.load(name)
    assert (instance.n_nodes, instance.n_edges) == (nodes, edges)
    assert nx.is_connected(instance.graph)


def test_abilene_has_every_pair_as_a_demand():
    instance = Instance.load("abilene")
    assert instance.n_demands == 55
    assert {tuple(p) for p in instance.demand_pairs.tolist()} == {
        (s, d) for s in range(11) for d in range(s + 1, 11)
    }


def test_round_trip_through_dict():
    instance = Instance.load("abilene")
    assert Instance.from_dict(instance.to_dict()) == instance
    tiny = Instance.from_dict(tiny_dict())
    assert Instance.from_dict(tiny.to_dict()) == tiny


def test_every_documented_key_is_accepted_and_overrides_its_default():
    values = {
        ("link", "attenuation_db_per_km"): 0.25,
        ("link", "alpha"): 0.01,
        ("link", "max_segment_km"): 80.0,
        ("link", "min_length_km"): 2.0,
        ("swap", "success"): 0.9,
        ("swap", "gate_fidelity"): 0.999,
        ("swap", "measurement_fidelity"): 0.999,
        ("distillation", "protocol"): "bbpssw",
        ("distillation", "max_rounds"): 3,
        ("cost", "capacity_cost"): 0.2,
        ("cost", "fiber_cost_per_km"): 2.0,
        ("cost", "fiber_capacity"): 50.0,
        ("paths", "k"): 2,
    }
    data = tiny_dict()
    for (section, key), value in values.items():
        data.setdefault(section, {})[key] = value
    instance = Instance.from_dict(data)
    for (section, key), value in values.items():
        assert getattr(instance, _SECTION_KEYS[section][key]) == value


@pytest.mark.parametrize(
    "patch, message",
    [
        (
            {"link": {"alpha": 0.7}},
            "link.alpha: 0.7 is out of range (allowed: a number in (0, 0.5))",
        ),
        (
            {"link": {"max_segment_km": 0}},
            "link.max_segment_km: 0 is out of range (allowed: a number > 0)",
        ),
        (
            {"cost": {"fiber_capacity": -1.0}},
            "cost.fiber_capacity: -1 is out of range (allowed: a number > 0)",
        ),
        ({"distillation": {"protocol": "x"}}, "distillation.protocol: got 'x' (allowed: ['dejmps'"),
        ({"paths": {"k": 0}}, "paths.k: 0 is out of range (allowed: an integer in [1, 16])"),
        (
            {"swap": {"success": 0.0}},
            "swap.success: 0 is out of range (allowed: a number in (0, 1])",
        ),
        ({"cost": {"colour": 1}}, "cost: got ['colour'] (allowed: keys"),
        ({"network": {"links": [[0, 0, 1.0]]}}, "network.links[0]: got [0, 0, 1.0]"),
        (
            {"network": {"links": [[0, 1, -1.0]]}},
            "network.links[0].length_km: -1 is out of range (allowed: a number >= 0)",
        ),
        ({"network": {"topology": "Abilene", "links": TINY_LINKS}}, "network: got ['topology'"),
        ({"traffic": {"pairs": [[0, 0]]}}, "traffic.pairs[0]: got [0, 0]"),
        ({"traffic": {"pairs": "some"}}, "traffic.pairs: got 'some'"),
        (
            {"traffic": {"fidelity": 1.0}},
            "traffic.fidelity: 1 is out of range (allowed: a number in [0.25, 1))",
        ),
        ({"traffic": {"rates": [[1.0, -2.0, 1.0]]}}, "traffic.rates[0][1]: -2 is out of range"),
        ({"traffic": {"rates": [[1.0, 2.0, 1.0], [1.0]]}}, "traffic.rates[1]: got 1"),
        (
            {"traffic": {"matrix": 5}},
            "traffic.matrix: 5 is out of range (allowed: an integer in [0, 1])",
        ),
        (
            {"traffic": {"train_fraction": 1.0}},
            "traffic.train_fraction: 1 is out of range (allowed: a number in [0, 1))",
        ),
        ({"flavour": 1}, "instance: got ['flavour']"),
    ],
)
def test_bad_fields_name_themselves(patch, message):
    data = tiny_dict()
    for section, body in patch.items():
        if isinstance(body, dict):
            if section == "network":
                data["network"] = dict(body)
            else:
                data[section] = {**data.get(section, {}), **body}
        else:
            data[section] = body
    with pytest.raises(ValueError) as info:
        Instance.from_dict(data)
    assert message in str(info.value)


def test_lazy_errors_name_the_field():
    with pytest.raises(ValueError, match=r"traffic.pairs\[0\]: got \[0, 9\]"):
        _ = Instance.from_dict(tiny_dict(pairs=[[0, 9], [1, 3], [0, 1]])).demand_pairs
    with pytest.raises(ValueError, match=r"traffic.rates\[0\]: got 2 rates"):
        _ = Instance.from_dict(tiny_dict(rates=[[1.0, 2.0], [1.0, 2.0]])).demand
    with pytest.raises(ValueError, match=r"traffic\.fidelity: got 2 numbers"):
        _ = Instance.from_dict(tiny_dict(fidelity=[0.9, 0.9])).fidelity_targets


def test_unknown_shipped_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="abilene"):
        Instance.load("abilen")


def test_traffic_is_seeded_normal_and_split_80_20():
    data = {"network": {"topology": "Abilene"}, "traffic": {"matrices": 400, "seed": 3}}
    first, second = Instance.from_dict(data), Instance.from_dict(data)
    np.testing.assert_array_equal(first.traffic_matrices, second.traffic_matrices)
    other = Instance.from_dict({**data, "traffic": {"matrices": 400, "seed": 4}})
    assert not np.array_equal(first.traffic_matrices, other.traffic_matrices)
    rates = first.traffic_matrices
    assert rates.shape == (400, 55) and rates.min() >= 0
    # N(10, 3): 22,000 draws (clipping at 0 is a 4-sigma event) within a few standard errors
    assert abs(rates.mean() - 10.0) < 4 * 3 / math.sqrt(rates.size)
    assert abs(rates.std() - 3.0) < 0.05
    assert first.train_matrices == tuple(range(320))
    assert first.test_matrices == tuple(range(320, 400))
    assert first.matrix_index == 320
    np.testing.assert_array_equal(first.demand, rates[320])
    np.testing.assert_array_equal(first.with_matrix(7).demand, rates[7])


def test_with_matrix_shares_the_network_data_and_changes_only_the_demand():
    base = Instance.load("abilene")
    paths, edges, demand = base.paths, base.edges, base.demand  # computed once, here
    other = base.with_matrix(7)
    assert other.matrix_index == 7 and base.matrix_index != 7
    assert other.paths is paths and other.edges is edges
    assert other.traffic_matrices is base.traffic_matrices
    assert not np.array_equal(other.demand, demand)
    # a fresh instance computes the same data: sharing changes nothing but the time
    fresh = Instance.load("abilene").with_matrix(7)
    assert fresh.paths.nodes == paths.nodes
    np.testing.assert_array_equal(fresh.paths.g, paths.g)
    np.testing.assert_array_equal(fresh.demand, other.demand)
    # nothing computed yet on the source: nothing shared, computed on first use
    lazy = Instance.load("abilene").with_matrix(3)
    assert "paths" not in lazy.__dict__ and lazy.paths.n_paths == paths.n_paths


def test_sampled_pairs_are_distinct_seeded_and_in_range():
    instance = Instance.load("cogentco")
    pairs = instance.demand_pairs
    assert pairs.shape == (1000, 2)
    assert np.all(pairs[:, 0] < pairs[:, 1]) and pairs.max() < 197
    assert len({tuple(p) for p in pairs.tolist()}) == 1000
    again = Instance.from_dict(instance.to_dict())
    np.testing.assert_array_equal(again.demand_pairs, pairs)


def test_link_cost_model_by_hand():
    """cost_e = capacity_cost * s_e * 10^(0.1 beta L_e / s_e), s_e = ceil(L_e / 50 km)."""
    instance = Instance.from_dict(tiny_dict())
    edges = instance.edges
    by_ends = {(int(u), int(v)): e for e, (u, v) in enumerate(zip(edges.u, edges.v, strict=True))}
    expected_segments = {(0, 1): 1, (1, 2): 2, (2, 3): 1, (0, 3): 2, (0, 2): 2}
    lengths = {(0, 1): 40.0, (1, 2): 60.0, (2, 3): 50.0, (0, 3): 70.0, (0, 2): 90.0}
    for ends, e in by_ends.items():
        s, km = expected_segments[ends], lengths[ends]
        assert edges.segments[e] == s
        assert edges.capacity_cost[e] == pytest.approx(0.5 * s * 10 ** (0.02 * km / s), rel=1e-12)
        assert edges.fiber_cost[e] == pytest.approx(km)
        assert edges.fiber_capacity[e] == 25.0
    assert edges.segment_fidelity == pytest.approx(1 - 0.005, abs=1e-15)


def test_zero_length_link_costs_what_a_min_length_link_costs():
    data = tiny_dict()
    data["network"] = {"links": [[0, 1, 0.0], *TINY_LINKS[1:]]}
    data["link"]["min_length_km"] = 2.0
    edges = Instance.from_dict(data).edges
    e = int(np.flatnonzero((edges.u == 0) & (edges.v == 1))[0])
    assert edges.length_km[e] == 0.0 and edges.effective_km[e] == 2.0
    assert edges.fiber_cost[e] == pytest.approx(2.0)
    assert edges.capacity_cost[e] == pytest.approx(0.5 * 10 ** (0.02 * 2.0))


def test_candidate_paths_are_the_three_shortest_simple_paths():
    instance = Instance.from_dict(tiny_dict())
    graph, paths = instance.graph, instance.paths
    for d, (s, t) in enumerate(instance.demand_pairs.tolist()):
        reference = list(nx.shortest_simple_paths(graph, s, t, weight="length_km"))
        lengths = sorted(nx.path_weight(graph, p, "length_km") for p in reference)[:3]
        ours = [paths.nodes[p] for p in range(paths.n_paths) if paths.demand[p] == d]
        assert len(ours) == 3
        got = [nx.path_weight(graph, list(p), "length_km") for p in ours]
        assert got == pytest.approx(lengths)
        assert all(tuple(p) in {tuple(r) for r in reference} for p in ours)


def _werner_chain(f: float, n: int) -> float:
    """Independent closed form: Werner parameters multiply along a perfect swap chain."""
    return 0.25 + 0.75 * ((4 * f - 1) / 3) ** n


def _ladder(f0: float, protocol: str, rounds: int) -> tuple[list[float], list[float]]:
    """Fidelity and expected raw pairs after 0..rounds recurrence rounds, iterated here."""
    fidelities, pairs = [f0], [1.0]
    state = np.array([f0, (1 - f0) / 3, (1 - f0) / 3, (1 - f0) / 3])
    f, expected = f0, 1.0
    for _ in range(rounds):
        if protocol == "bbpssw":
            new, p = bbpssw(f)
            f = float(new)
        else:
            state, p = dejmps(state)
            f = float(state[0])
        expected = 2 * expected / float(p)
        fidelities.append(f)
        pairs.append(expected)
    return fidelities, pairs


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
def test_path_fidelity_and_g_match_an_independent_ladder(protocol):
    data = {
        "network": {"topology": "Abilene"},
        "distillation": {"protocol": protocol},
        "traffic": {"fidelity": 0.8},
    }
    instance = Instance.from_dict(data)
    paths = instance.paths
    f0 = 1 - instance.alpha
    fidelities, pairs = _ladder(f0, protocol, instance.max_rounds)
    assert paths.rounds.max() >= 1, "the instance should exercise distillation"
    for p in range(paths.n_paths):
        n = int(paths.segments[p])
        assert paths.fidelity_raw[p] == pytest.approx(_werner_chain(f0, n), abs=1e-12)
        # the fewest rounds whose chain reaches the target
        needed = next(r for r, f in enumerate(fidelities) if _werner_chain(f, n) >= 0.8)
        assert paths.rounds[p] == needed
        assert paths.g[p] == pytest.approx(pairs[needed], rel=1e-12)
        assert paths.fidelity_delivered[p] >= 0.8


def test_paths_no_distillation_can_lift_are_excluded():
    data = tiny_dict()
    data["distillation"] = {"max_rounds": 0}
    instance = Instance.from_dict(data)
    paths = instance.paths
    f0 = 1 - instance.alpha
    for p in range(paths.n_paths):
        fine = _werner_chain(f0, int(paths.segments[p])) >= 0.98
        assert bool(paths.usable[p]) == fine
        assert math.isinf(paths.g[p]) != fine
    assert not paths.usable.all() and paths.usable.any()


def test_swap_success_divides_g():
    base = Instance.from_dict(tiny_dict())
    data = tiny_dict()
    data["swap"] = {"success": 0.9}
    lossy = Instance.from_dict(data)
    np.testing.assert_allclose(
        lossy.paths.g, base.paths.g / 0.9 ** (base.paths.segments - 1), rtol=1e-12
    )


@pytest.mark.slow
def test_large_shipped_instances():
    kdl = Instance.load("kdl")
    assert (kdl.n_nodes, kdl.n_edges) == (754, 895)
    zero = np.flatnonzero(kdl.edges.length_km == 0.0)
    assert zero.size == 2
    np.testing.assert_allclose(
        kdl.edges.fiber_cost[zero], kdl.min_length_km * kdl.fiber_cost_per_km
    )
    assert kdl.edges.capacity_cost[zero].min() > 0
    waxman = Instance.load("waxman850")
    assert waxman.n_nodes == 850 and 2150 <= waxman.n_edges <= 2330
    for instance in (kdl, waxman):
        assert instance.n_demands == 1000
        assert instance.paths.unserviceable.size == 0


def test_waxman_instances_hash_and_round_trip():
    data = {"network": {"waxman": {"n_nodes": 30, "seed": 2}}, "traffic": {"pairs": 5}}
    instance = Instance.from_dict(data)
    assert hash(instance) == hash(Instance.from_dict(data))
    assert Instance.from_dict(instance.to_dict()) == instance
    assert instance.n_nodes == 30 and instance.n_demands == 5
    with pytest.raises(ValueError, match=r"network\.waxman\.beta: 2 is out of range"):
        Instance.from_dict({"network": {"waxman": {"beta": 2.0}}})
    with pytest.raises(ValueError, match=r"network\.waxman: got \['size'\]"):
        Instance.from_dict({"network": {"waxman": {"size": 2}}})
