"""Instances: validation on every way in, dict/TOML round trips, shipped files, network, paths."""

from __future__ import annotations

import math
import tomllib
from dataclasses import replace

import numpy as np
import pytest

from qnet_envs.qvpn import Instance
from qnet_envs.qvpn.heuristics import shortest_path_selection
from qnet_envs.qvpn.links import link_parameters
from qnet_envs.qvpn.workload import shipped_instances, tiny_instance

from .conftest import requires_surfnet


def test_dict_and_toml_round_trip(tiny: Instance) -> None:
    assert Instance.from_dict(tiny.to_dict()) == tiny
    assert Instance.from_dict(tomllib.loads(tiny.to_toml())) == tiny
    assert Instance.load("tiny") == tiny


def test_load_path_and_unknown_name(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(tiny_instance().to_toml())
    assert Instance.load(path) == tiny_instance()
    with pytest.raises(ValueError, match="shipped"):
        Instance.load("no-such-instance")


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("link", "alpha", 0.7, r"^alpha: 0.7 is out of range \(allowed: a number in \(0, 0.5\)\)$"),
        ("link", "alpha", "x", r"^alpha: 'x' is not a number \(allowed: a number in \(0, 0.5\)\)$"),
        (
            "link",
            "repetition_time",
            "weekly",
            r"^repetition_time: got 'weekly' \(allowed: one of \['constant', 'per_km'\]\)$",
        ),
        ("link", "multiplexing", 0, "multiplexing"),
        ("swap", "success", 0.0, "swap_success"),
        ("swap", "measurement_fidelity", 1.5, "measurement_fidelity"),
        (
            "distillation",
            "protocol",
            "bennett",
            r"^protocol: got 'bennett' \(allowed: one of \['dejmps', 'bbpssw'\]\)$",
        ),
        ("distillation", "thresholds", [0.9, 1.0], r"thresholds\[1\]"),
        ("distillation", "thresholds", [], r"^thresholds: an empty list \(allowed: at least one"),
        ("distillation", "max_rounds", -1, "max_rounds"),
        ("paths", "k", 0, "k_paths"),
        ("paths", "weights", ["length"], "path_weights"),
        ("paths", "max_paths", 1.5, "max_paths"),
        ("network", "links", [[0, 0, 1.0]], r"links\[0\]"),
        ("network", "links", [[0, 1, -1.0]], r"links\[0\].length_km"),
        ("network", "engineered", "yes", r"^engineered: got 'yes' \(allowed: true or false\)$"),
        ("link", "colour", 1, "unknown keys"),
    ],
)
def test_bad_fields_name_field_and_range(section, key, value, message) -> None:
    d = tiny_instance().to_dict()
    d[section][key] = value
    with pytest.raises(ValueError, match=message):
        Instance.from_dict(d)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "fidelity",
            1.0,
            r"^pairs\[0\].fidelity: 1 is out of range \(allowed: a number in \[0.25, 1\)\)$",
        ),
        ("r_min", -1.0, r"pairs\[0\].r_min"),
        (
            "r_max",
            1.0,
            r"^pairs\[0\].r_max: 1 is out of range \(allowed: a number in \[10, inf\]\)$",
        ),
        ("org", 5, r"^pairs\[0\].org: 5 is out of range \(allowed: an integer in \[0, 1\]\)$"),
        ("dst", 0, r"^pairs\[0\].dst: equals src \(0\) \(allowed: a node other than src\)$"),
        ("src", 9, r"^pairs\[0\].src: 9 is out of range \(allowed: an integer in \[0, 3\]\)$"),
        (
            "weight",
            float("nan"),
            r"^pairs\[0\].weight: nan is not a number \(allowed: a number >= 0\)$",
        ),
    ],
)
def test_bad_pairs(key, value, message) -> None:
    d = tiny_instance().to_dict()
    d["pairs"][0][key] = value
    with pytest.raises(ValueError, match=message):
        Instance.from_dict(d)


def test_constructor_validates_too(tiny: Instance) -> None:
    with pytest.raises(ValueError, match="alpha"):
        replace(tiny, alpha=-0.1)
    with pytest.raises(ValueError, match="exactly one of topology"):
        replace(tiny, topology="Surfnet")
    with pytest.raises(ValueError, match="one entry per pair"):
        replace(tiny, r_min=(1.0,))
    with pytest.raises(ValueError, match="organisations"):
        Instance.from_dict({**tiny.to_dict(), "organisations": []})


def test_link_model_closed_form() -> None:
    d = np.array([5.0, 10.0, 42.0])
    for mode, period in (("constant", np.full(3, 1e-6)), ("per_km", 4e-6 * d)):
        c, f, p = link_parameters(d, alpha=0.2, mode=mode, multiplexing=3.0)
        eta = 10 ** (-0.02 * d)
        np.testing.assert_allclose(p, 2 * eta * 0.2)
        np.testing.assert_allclose(c, 3 * 2 * eta * 0.2 / period)
        np.testing.assert_allclose(f, 0.8)
    with pytest.raises(ValueError, match="length_km"):
        link_parameters([0.0], alpha=0.2)


def test_network_without_repeaters(tiny: Instance) -> None:
    net = tiny.network
    assert net.n_nodes == net.n_original == 4 and net.n_links == 4
    np.testing.assert_allclose(net.length_km, [10, 15, 12, 30])


@requires_surfnet
def test_engineered_surfnet(default: Instance) -> None:
    net = default.network
    plain = replace(default, engineered=False).network
    assert plain.n_nodes == net.n_original == 50
    for t, chain in enumerate(net.trunk_links):
        d = float(net.trunk_length_km[t])
        expected = math.ceil(d / 10.0) if d > 20.0 else 1
        assert len(chain) == expected
        np.testing.assert_allclose(net.length_km[list(chain)].sum(), d)
        assert np.all(net.length_km[list(chain)] <= max(10.0, 20.0) + 1e-9)
        nodes = net.link_nodes[list(chain)]
        inner = nodes[1:, 0]
        assert np.all(inner >= net.n_original)  # repeaters numbered after the originals
        np.testing.assert_array_equal(nodes[1:, 0], nodes[:-1, 1])  # a chain
    assert net.n_nodes > net.n_original
    ends = np.concatenate([default.pair_src, default.pair_dst])
    assert ends.max() < net.n_original  # repeaters are never end points


@requires_surfnet
def test_shipped_files_match_their_generators() -> None:
    for name, instance in shipped_instances().items():
        assert Instance.load(name) == instance, name


@requires_surfnet
def test_paper_workload_shape(default: Instance) -> None:
    assert default.n_orgs == 3 and default.n_pairs == 150
    assert all(0.1 <= w <= 1.0 for w in default.org_weights)
    assert all(0.3 <= x <= 0.7 for x in default.pair_weight)
    assert all(0.75 <= x <= 0.9 for x in default.pair_fidelity)
    assert set(default.r_min) == {10.0} and set(default.r_max) == {1000.0}
    graph = default.network.trunk_graph()
    import networkx as nx

    for s, t in zip(default.pair_src, default.pair_dst, strict=True):
        assert nx.shortest_path_length(graph, s, t, weight="hop") <= 7


@requires_surfnet
def test_candidate_paths_include_each_weights_shortest(default: Instance) -> None:
    from qnet_envs.topology import k_shortest_paths

    graph = default.network.trunk_graph()
    paths = default.paths
    for u in range(0, default.n_pairs, 17):
        assert paths.n_paths(u) <= 15
        for weight in ("hop", "egr", "egr2"):
            yen = k_shortest_paths(graph, default.pair_src[u], default.pair_dst[u], 5, weight)
            got = [list(paths.nodes[u][i]) for i in paths.shortest[weight][u]]
            assert got == [list(map(int, p)) for p in yen]


def test_shortest_path_selection(tiny: Instance) -> None:
    sel = shortest_path_selection(tiny, "hop", threshold=0.95)
    vt = tiny.versions
    for u in range(tiny.n_pairs):
        for slot, local in enumerate(sel[u]):
            v = vt.pair_offsets[u] + local
            assert vt.threshold[v] == 0.95
            assert vt.path[v] == tiny.paths.shortest["hop"][u][slot]
    with pytest.raises(ValueError, match="threshold"):
        shortest_path_selection(tiny, "hop", threshold=0.5)
    with pytest.raises(ValueError, match="weight"):
        shortest_path_selection(tiny, "egr")


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, qnet_envs.qvpn; "
        "print(sorted(m for m in ('networkx', 'highspy', 'torch', 'matplotlib', 'qutip') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_instance_pickles_with_its_derived_data(tiny: Instance) -> None:
    import pickle

    tiny.versions  # noqa: B018 - computes the cached table
    clone = pickle.loads(pickle.dumps(tiny))
    assert clone == tiny
    np.testing.assert_array_equal(clone.versions.link_g, tiny.versions.link_g)


@requires_surfnet
def test_named_topology_end_points_checked_at_construction(default: Instance) -> None:
    with pytest.raises(
        ValueError,
        match=r"^pairs\[0\].src: 60 is out of range \(allowed: an integer in \[0, 49\]\)$",
    ):
        replace(default, pair_src=(60, *default.pair_src[1:]))
    with pytest.raises(ValueError):
        replace(default, topology="NoSuchNetwork")
