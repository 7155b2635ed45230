"""Loaders: the Topology Zoo GML files, topohub keys, name resolution, and the repair report."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from qnet_envs import resources
from qnet_envs.topology import Repairs, data_search_path, load
from qnet_envs.topology.cleaning import RawEdge, RawNode, RawTopology, build_graph

KM_PER_DEGREE = 6371.0 * math.pi / 180.0  # along the equator or a meridian


def _write_gml(path: Path, nodes, edges, header: str = "") -> Path:
    """``nodes``: (id, latitude or None, longitude or None); ``edges``: (u, v)."""
    lines = ["graph [", header]
    for node_id, lat, lon in nodes:
        lines.append(f'  node [ id {node_id} label "n{node_id}"')
        if lat is not None:
            lines.append(f"    Latitude {lat}")
        if lon is not None:
            lines.append(f"    Longitude {lon}")
        lines.append("  ]")
    lines += [f"  edge [ source {u} target {v} ]" for u, v in edges]
    lines.append("]")
    path.write_text("\n".join(lines))
    return path


def _check_invariants(graph: nx.Graph) -> Repairs:
    report = graph.graph["repairs"]
    assert isinstance(report, Repairs)
    assert type(graph) is nx.Graph
    assert list(graph.nodes) == list(range(graph.number_of_nodes()))
    assert nx.number_of_selfloops(graph) == 0
    for _, _, data in graph.edges(data=True):
        assert math.isfinite(data["length_km"]) and data["length_km"] >= 0.0
        assert data["multiplicity"] >= 1
        assert isinstance(data["length_imputed"], bool)
    json.dumps(report.as_dict(), default=str)
    assert pickle.loads(pickle.dumps(graph)).graph["repairs"] == report
    assert report.summary().startswith(report.source)
    return report


# The five Topology Zoo files --------------------------------------------------------------------

# name: nodes, edges as read, edges after merging, nodes without coordinates, imputed edges
ZOO_EXPECTED = {
    "Abilene": (11, 14, 14, 0, 0),
    "Ans": (18, 25, 25, 0, 0),
    "Cogentco": (197, 245, 243, 11, 31),
    "Kdl": (754, 899, 895, 28, 76),
    "Surfnet": (50, 73, 68, 0, 0),
}


@pytest.mark.parametrize("name", sorted(ZOO_EXPECTED))
def test_topology_zoo_files_load_with_reported_repairs(name, zoo_dir):
    nodes, edges_read, edges, unlocated, imputed = ZOO_EXPECTED[name]
    graph = load(zoo_dir / f"{name}.gml")
    report = _check_invariants(graph)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (nodes, edges)
    assert report.source == f"gml:{zoo_dir / f'{name}.gml'}"
    assert graph.graph["name"] == name
    assert report.input_edges == edges_read
    assert report.parallel_edges_merged == edges_read - edges
    assert sum(m for _, _, m in graph.edges(data="multiplicity")) == edges_read
    assert len(report.nodes_without_coordinates) == unlocated
    assert report.coordinates_imputed == report.nodes_without_coordinates
    assert len(report.imputed_edges) == imputed
    assert report.components == (nodes,)
    assert report.self_loops_removed == () and report.removed_nodes == ()
    unlocated_nodes = {n for n, flag in graph.nodes(data="coordinates_imputed") if flag}
    touching = {(u, v) for u, v in graph.edges if u in unlocated_nodes or v in unlocated_nodes}
    assert {(u, v) for u, v, flag in graph.edges(data="length_imputed") if flag} == touching
    assert all(graph.edges[e]["length_km"] > 0 for e in touching)
    assert all("latitude" in data and "longitude" in data for _, data in graph.nodes(data=True))


def test_gml_lengths_are_great_circle_distances(zoo_dir):
    graph = load(zoo_dir / "Abilene.gml")
    names = {data["name"]: n for n, data in graph.nodes(data=True)}
    new_york, chicago = names["New York"], names["Chicago"]
    # Spherical law of cosines on the file's coordinates of the two cities.
    p1, l1, p2, l2 = map(math.radians, (40.71427, -74.00597, 41.85003, -87.65005))
    central = math.acos(
        math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1)
    )
    assert graph.edges[new_york, chicago]["length_km"] == pytest.approx(6371.0 * central, rel=1e-9)
    assert graph.edges[new_york, chicago]["length_km"] == pytest.approx(1145.84, abs=0.01)
    assert "haversine" in graph.graph["repairs"].length_source


# The shipped copies of the five files ----------------------------------------------------------


def test_the_five_topologies_are_shipped():
    assert resources.shipped_topologies() == sorted(ZOO_EXPECTED)


@pytest.mark.parametrize("name", sorted(ZOO_EXPECTED))
def test_shipped_topology_is_the_gml_graph(name, zoo_dir, monkeypatch):
    monkeypatch.setenv("QNET_ENVS_DATA", str(zoo_dir))  # the GML is on the search path too
    shipped = load(name.upper())
    gml = load(zoo_dir / f"{name}.gml")
    assert shipped.graph["source"] == f"shipped:{name}.json"
    assert shipped.graph["name"] == gml.graph["name"] == name
    assert list(shipped.nodes(data=True)) == list(gml.nodes(data=True))
    assert list(shipped.edges(data=True)) == list(gml.edges(data=True))
    report, gml_report = shipped.graph["repairs"], gml.graph["repairs"]
    assert report.source == f"shipped:{name}.json"
    assert dataclasses.replace(report, source=gml_report.source) == gml_report
    _check_invariants(shipped)
    pruned = load(name, largest_component=True)
    assert list(pruned.edges(data=True)) == list(
        load(zoo_dir / f"{name}.gml", largest_component=True).edges(data=True)
    )


def test_shipped_topology_loads_with_no_search_path_and_no_topohub(tmp_path):
    code = (
        "import sys\n"
        "from qnet_envs.topology import data_search_path, load\n"
        "assert data_search_path() == [], data_search_path()\n"
        "graph = load('kdl')\n"
        "assert 'topohub' not in sys.modules\n"
        "print(graph.graph['source'], graph.number_of_nodes(), graph.number_of_edges())\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "QNET_ENVS_DATA": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["shipped:Kdl.json", "754", "895"]


def test_data_search_path_is_only_the_env_var(monkeypatch, tmp_path):
    monkeypatch.delenv("QNET_ENVS_DATA", raising=False)
    assert data_search_path() == []
    monkeypatch.setenv("QNET_ENVS_DATA", "")
    assert data_search_path() == []
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("QNET_ENVS_DATA", f"{first}{os.pathsep}{second}")
    assert data_search_path() == [
        first.resolve(),
        (first / "topology-zoo").resolve(),
        second.resolve(),
        (second / "topology-zoo").resolve(),
    ]


def test_unknown_bare_name_lists_close_matches(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QNET_ENVS_DATA", str(tmp_path))
    with pytest.raises(ValueError, match=r"Close matches: .*Cogentco") as info:
        load("Cogentc0")
    message = str(info.value)
    assert "shipped: Abilene, Ans, Cogentco, Kdl, Surfnet" in message
    assert str(tmp_path.resolve()) in message


# topohub -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "nodes", "edges"), [("topozoo/Abilene", 11, 14), ("topozoo/Surfnet", 50, 68)]
)
def test_topohub_graphs_use_topohub_lengths(key, nodes, edges):
    import topohub

    graph = load(key)
    report = _check_invariants(graph)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (nodes, edges)
    assert graph.graph["source"] == f"topohub:{key}" and graph.graph["name"] == key
    assert report.is_clean
    raw = topohub.get(key)
    index = {record["id"]: i for i, record in enumerate(raw["nodes"])}
    for record in raw["edges"]:
        u, v = index[record["source"]], index[record["target"]]
        assert graph.edges[u, v]["length_km"] == record["dist"]
    for i, record in enumerate(raw["nodes"]):
        assert graph.nodes[i]["pos"] == tuple(record["pos"])
        assert graph.nodes[i]["name"] == record["name"]


def test_bare_name_falls_back_to_topohub(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    graph = load("Aarnet")  # in topohub, not among the shared GML files
    assert graph.graph["source"] == "topohub:topozoo/Aarnet"


def test_unknown_topohub_key_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Close matches: topozoo/Abilene"):
        load("topozoo/Abilen")


def test_topohub_key_missing_from_topohub_points_to_gml():
    with pytest.raises(ValueError, match=r"unknown topohub key 'topozoo/Cogentco'.*GML"):
        load("topozoo/Cogentco")


# Name resolution and file errors ---------------------------------------------------------------


def test_env_var_folder_is_searched_first(monkeypatch, tmp_path):
    _write_gml(tmp_path / "MyNet.gml", [(0, 0.0, 0.0), (1, 0.0, 1.0)], [(0, 1)])
    monkeypatch.setenv("QNET_ENVS_DATA", str(tmp_path))
    assert data_search_path()[0] == tmp_path.resolve()
    graph = load("mynet")
    assert graph.graph["source"] == f"gml:{(tmp_path / 'MyNet.gml').resolve()}"
    assert graph.graph["name"] == "MyNet"


def test_missing_gml_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.gml"):
        load(tmp_path / "nope.gml")
    with pytest.raises(FileNotFoundError, match=r"nope\.gml"):
        load(str(tmp_path / "nope.gml"))


def test_bad_files_and_arguments_raise_value_error(tmp_path):
    (tmp_path / "net.txt").write_text("graph [ ]")
    with pytest.raises(ValueError, match=r"unsupported file type '\.txt'"):
        load(tmp_path / "net.txt")
    (tmp_path / "broken.gml").write_text("graph [ node [ id 0 ]")
    with pytest.raises(ValueError, match="not valid GML"):
        load(tmp_path / "broken.gml")
    with pytest.raises(ValueError, match="name_or_path must be"):
        load(42)  # type: ignore[arg-type]


# Messy data, one issue at a time ---------------------------------------------------------------


def test_clean_file_reports_nothing(tmp_path):
    path = _write_gml(tmp_path / "clean.gml", [(0, 0.0, 0.0), (1, 0.0, 2.0)], [(0, 1)])
    graph = load(path)
    report = _check_invariants(graph)
    assert report.is_clean
    assert report.components == (2,)
    assert graph.edges[0, 1] == {
        "length_km": pytest.approx(2 * KM_PER_DEGREE),
        "multiplicity": 1,
        "length_imputed": False,
    }
    assert graph.nodes[0] == {
        "name": "n0",
        "source_id": 0,
        "coordinates_imputed": False,
        "latitude": 0.0,
        "longitude": 0.0,
        "pos": (0.0, 0.0),
    }


def test_missing_coordinates_are_interpolated_between_neighbours(tmp_path):
    nodes = [(0, 0.0, 0.0), (1, None, None), (2, None, None), (3, 0.0, 9.0)]
    graph = load(_write_gml(tmp_path / "chain.gml", nodes, [(0, 1), (1, 2), (2, 3)]))
    report = _check_invariants(graph)
    assert report.nodes_without_coordinates == (1, 2)
    assert report.coordinates_imputed == (1, 2)
    assert report.invalid_coordinates == ()
    assert report.imputed_edges == (
        (0, 1, "interpolated"),
        (1, 2, "interpolated"),
        (2, 3, "interpolated"),
    )
    assert graph.nodes[1]["latitude"] == pytest.approx(0.0, abs=1e-9)
    assert graph.nodes[1]["longitude"] == pytest.approx(3.0, abs=0.01)
    assert graph.nodes[2]["longitude"] == pytest.approx(6.0, abs=0.01)
    assert graph.size(weight="length_km") == pytest.approx(9 * KM_PER_DEGREE)
    assert all(graph.edges[e]["length_imputed"] for e in graph.edges)


def test_pendant_unlocated_node_gets_the_median_length(tmp_path):
    nodes = [(0, 0.0, 0.0), (1, 0.0, 1.0), (2, 0.0, 3.0), (3, None, None)]
    graph = load(_write_gml(tmp_path / "pendant.gml", nodes, [(0, 1), (1, 2), (1, 3)]))
    report = _check_invariants(graph)
    assert report.coordinates_imputed == (3,)
    assert report.imputed_edges == ((1, 3, "median"),)
    assert graph.edges[1, 3]["length_km"] == pytest.approx(1.5 * KM_PER_DEGREE)
    assert not graph.edges[0, 1]["length_imputed"]


def test_component_without_coordinates_is_kept_with_median_lengths(tmp_path):
    nodes = [(0, 0.0, 0.0), (1, 0.0, 1.0), (2, None, None), (3, None, None)]
    graph = load(_write_gml(tmp_path / "split.gml", nodes, [(0, 1), (2, 3)]))
    report = _check_invariants(graph)
    assert graph.number_of_nodes() == 4
    assert report.components == (2, 2)
    assert report.nodes_without_coordinates == (2, 3)
    assert report.coordinates_imputed == ()
    assert report.imputed_edges == ((2, 3, "median"),)
    assert graph.edges[2, 3]["length_km"] == pytest.approx(KM_PER_DEGREE)
    assert "latitude" not in graph.nodes[2] and not graph.nodes[2]["coordinates_imputed"]


def test_no_coordinates_at_all_gives_the_default_length(tmp_path):
    graph = load(_write_gml(tmp_path / "bare.gml", [(0, None, None), (1, None, None)], [(0, 1)]))
    report = _check_invariants(graph)
    assert report.imputed_edges == ((0, 1, "default"),)
    assert graph.edges[0, 1]["length_km"] == 1.0


def test_invalid_or_partial_coordinates_count_as_missing(tmp_path):
    nodes = [(0, 0.0, 0.0), (1, 123.0, 5.0), (2, 0.0, 2.0), (3, 5.0, None), (4, None, None)]
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]
    graph = load(_write_gml(tmp_path / "invalid.gml", nodes, edges))
    report = _check_invariants(graph)
    assert report.invalid_coordinates == (1, 3)
    assert report.nodes_without_coordinates == (1, 3, 4)
    assert report.coordinates_imputed == (1, 3, 4)
    assert graph.nodes[1]["longitude"] == pytest.approx(1.0)
    assert graph.nodes[1]["latitude"] == pytest.approx(0.0, abs=1e-9)


def test_planar_topohub_graphs_keep_planar_positions():
    import topohub

    graph = load("gabriel/25/0")
    report = _check_invariants(graph)
    assert report.is_clean
    raw = topohub.get("gabriel/25/0")
    for i, record in enumerate(raw["nodes"]):
        assert graph.nodes[i]["pos"] == tuple(record["pos"])
        assert "latitude" not in graph.nodes[i]
    for u, v, km in graph.edges(data="length_km"):  # topohub rounds pos and dist to 0.01
        assert km == pytest.approx(
            math.dist(graph.nodes[u]["pos"], graph.nodes[v]["pos"]), abs=0.03
        )


def test_planar_interpolation_uses_the_plain_mean():
    raw = RawTopology(
        name="planar",
        source="test",
        length_source="euclidean",
        nodes=[RawNode(0, "a", (0.0, 0.0)), RawNode(1, "b"), RawNode(2, "c", (4.0, 2.0))],
        edges=[RawEdge(0, 1), RawEdge(1, 2)],
        coordinate_system="planar",
    )
    graph = build_graph(raw)
    report = graph.graph["repairs"]
    assert graph.nodes[1]["pos"] == pytest.approx((2.0, 1.0))
    assert report.imputed_edges == ((0, 1, "interpolated"), (1, 2, "interpolated"))
    assert graph.size(weight="length_km") == pytest.approx(math.hypot(4.0, 2.0))


@pytest.mark.parametrize("header", ["  multigraph 1", ""])
def test_parallel_edges_are_merged_and_counted(tmp_path, header):
    nodes = [(0, 0.0, 0.0), (1, 0.0, 1.0), (2, 0.0, 2.0)]
    edges = [(0, 1), (1, 0), (0, 1), (1, 2)]
    graph = load(_write_gml(tmp_path / "multi.gml", nodes, edges, header))
    report = _check_invariants(graph)
    assert graph.number_of_edges() == 2
    assert report.input_edges == 4
    assert report.parallel_edges == ((0, 1, 3),)
    assert report.parallel_edges_merged == 2
    assert graph.edges[0, 1]["multiplicity"] == 3 and graph.edges[1, 2]["multiplicity"] == 1
    if header:
        assert report.notes == ()
    else:
        assert len(report.notes) == 1 and "multigraph" in report.notes[0]


def test_self_loops_are_removed_and_listed(tmp_path):
    nodes = [(0, 0.0, 0.0), (1, 0.0, 1.0)]
    graph = load(_write_gml(tmp_path / "loop.gml", nodes, [(0, 0), (0, 1), (1, 1)]))
    report = _check_invariants(graph)
    assert report.self_loops_removed == (0, 1)
    assert list(graph.edges) == [(0, 1)]


def test_directed_input_merges_the_two_directions(tmp_path):
    nodes = [(0, 0.0, 0.0), (1, 0.0, 1.0), (2, 0.0, 2.0)]
    edges = [(0, 1), (1, 0), (1, 2), (1, 2)]
    graph = load(_write_gml(tmp_path / "directed.gml", nodes, edges, "  directed 1"))
    report = _check_invariants(graph)
    assert report.directed_input
    assert graph.edges[0, 1]["multiplicity"] == 1
    assert report.parallel_edges == ((1, 2, 2),)


def test_co_located_nodes_give_reported_zero_length_edges(tmp_path):
    nodes = [(0, 10.0, 10.0), (1, 10.0, 10.0), (2, 10.0, 11.0)]
    graph = load(_write_gml(tmp_path / "colocated.gml", nodes, [(0, 1), (1, 2)]))
    report = _check_invariants(graph)
    assert report.zero_length_edges == ((0, 1),)
    assert graph.edges[0, 1]["length_km"] == 0.0 and not graph.edges[0, 1]["length_imputed"]


def test_disconnected_graph_is_kept_or_pruned_on_request(tmp_path):
    nodes = [(10, 0.0, 0.0), (11, 0.0, 1.0), (20, 1.0, 0.0), (21, 1.0, 1.0), (22, 1.0, 2.0)]
    edges = [(10, 11), (20, 21), (21, 22), (22, 20)]
    path = _write_gml(tmp_path / "two.gml", nodes, edges)

    kept = load(path)
    report = _check_invariants(kept)
    assert kept.number_of_nodes() == 5 and kept.number_of_edges() == 4
    assert report.components == (3, 2)
    assert report.removed_nodes == ()

    pruned = load(path, largest_component=True)
    report = _check_invariants(pruned)
    assert report.components == (3, 2)
    assert report.removed_nodes == (10, 11)
    assert [pruned.nodes[n]["source_id"] for n in pruned] == [20, 21, 22]
    assert sorted(pruned.edges) == [(0, 1), (0, 2), (1, 2)]
    assert nx.is_connected(pruned)
