"""Load real network topologies as clean undirected graphs with link lengths in km.

:func:`load` accepts three kinds of names:

``"path/to/Net.gml"`` (or a :class:`os.PathLike`)
    a GML file, e.g. from the Internet Topology Zoo, read with ``networkx.read_gml(label="id")``.
    Coordinates come from the node attributes ``Latitude``/``Longitude`` (any letter case);
    lengths are great-circle distances.
``"group/name"``, e.g. ``"topozoo/Abilene"``, ``"sndlib/polska"``, ``"caida/2024-08/7018"``
    a key of the offline ``topohub`` repository; coordinates come from its ``pos``
    (longitude, latitude; planar ``(x, y)`` in km for the synthetic ``gabriel/...`` graphs) and
    lengths from its own ``dist`` (km).
``"Name"``, e.g. ``"Cogentco"``
    a bare Topology Zoo name, letter case ignored: the topology shipped with the package
    (Abilene, Ans, Cogentco, Kdl, Surfnet; :func:`qnet_envs.resources.shipped_topologies`), read
    with no network; else the first ``Name.gml`` found on :func:`data_search_path`; else
    ``topohub``'s ``topozoo/Name``.

Whatever the source, the graph goes through the repair policy of
:mod:`qnet_envs.topology.cleaning` and carries its :class:`~qnet_envs.topology.repairs.Repairs`.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import networkx as nx

from qnet_envs import resources
from qnet_envs.topology import shipped
from qnet_envs.topology.cleaning import RawEdge, RawNode, RawTopology, build_graph

DATA_ENV_VAR = "QNET_ENVS_DATA"
# topohub groups whose ``pos`` is planar (x, y) in km rather than (longitude, latitude)
_PLANAR_TOPOHUB_GROUPS = ("gabriel/",)


def data_search_path() -> list[Path]:
    """Folders searched for ``<Name>.gml`` when :func:`load` gets a bare name that is not shipped.

    Each folder in the environment variable ``QNET_ENVS_DATA`` (``os.pathsep``-separated), then
    its ``topology-zoo`` subfolder, in order; empty when the variable is unset. Folders that do
    not exist are listed too (they are skipped when searching).
    """
    folders: list[Path] = []
    for entry in os.environ.get(DATA_ENV_VAR, "").split(os.pathsep):
        if entry:
            folders += [Path(entry), Path(entry) / "topology-zoo"]
    unique: list[Path] = []
    for folder in folders:
        resolved = folder.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def load(name_or_path: str | os.PathLike[str], *, largest_component: bool = False) -> nx.Graph:
    """Load a topology as a simple undirected graph; see the module docstring for the names.

    Args:
        name_or_path: a ``.gml`` path, a topohub key such as ``"topozoo/Abilene"``, or a bare
            Topology Zoo name such as ``"Cogentco"``.
        largest_component: keep only the largest connected component (the removed nodes are
            listed in the report). By default every node is kept and the components are reported.

    Returns:
        ``networkx.Graph`` with nodes ``0..n-1`` in source order. Node attributes: ``name``
        (label), ``source_id`` (original id), ``coordinates_imputed`` (bool), and, when known or
        interpolated, ``latitude``, ``longitude`` (degrees) and ``pos = (longitude, latitude)``
        (planar sources: only ``pos = (x, y)`` in km).
        Edge attributes: ``length_km`` (float), ``multiplicity`` (int, input edges merged into
        this one), ``length_imputed`` (bool). Graph attributes: ``name``, ``source`` and
        ``repairs`` (:class:`~qnet_envs.topology.repairs.Repairs`).

    Raises:
        FileNotFoundError: a ``.gml`` path that does not exist.
        ValueError: an unknown topohub key or bare name (the message lists what was tried and
            close matches), an unsupported file type, or a file that is not valid GML.
    """
    if isinstance(name_or_path, os.PathLike):
        return build_graph(read_gml(Path(name_or_path)), largest_component=largest_component)
    if not isinstance(name_or_path, str):
        raise ValueError(
            f"name_or_path must be a str or os.PathLike, got {type(name_or_path).__name__}"
        )
    name = name_or_path.strip()
    path = Path(name).expanduser()
    if name.lower().endswith(".gml") or path.is_file():
        return build_graph(read_gml(path), largest_component=largest_component)
    if "/" in name or "\\" in name:
        return build_graph(_read_topohub(name), largest_component=largest_component)
    return build_graph(_read_bare_name(name), largest_component=largest_component)


def _read_bare_name(name: str) -> RawTopology:
    shipped_names = resources.shipped_topologies()
    if name.lower() in {n.lower() for n in shipped_names}:
        return shipped.read(resources.topology_file(name))
    folders = data_search_path()
    local: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob("*.gml")):
            local.append(candidate.stem)
            if candidate.stem.lower() == name.lower():
                return read_gml(candidate)
    zoo = {
        key.split("/", 1)[1].lower(): key for key in _topohub_keys() if key.startswith("topozoo/")
    }
    if name.lower() in zoo:
        return _read_topohub(zoo[name.lower()])
    tried = "".join(f"\n  {folder}{'' if folder.is_dir() else ' (missing)'}" for folder in folders)
    zoo_names = sorted(key.split("/", 1)[1] for key in zoo.values())
    known = sorted(set(shipped_names) | set(local) | set(zoo_names))
    close = difflib.get_close_matches(name, known, n=5)
    raise ValueError(
        f"unknown topology name {name!r}: not shipped (shipped: {', '.join(shipped_names)}), "
        f"no {name}.gml on the data search path ({DATA_ENV_VAR}:"
        f"{tried or ' unset'}), and no topohub key 'topozoo/{name}'. Set {DATA_ENV_VAR} to a "
        f"folder of GML files, or pass a path or a topohub key."
        + (f" Close matches: {', '.join(close)}" if close else "")
    )


def read_gml(path: Path) -> RawTopology:
    """The raw records of a GML file (nodes, coordinates, edges as read), before any repair."""
    if not path.is_file():
        raise FileNotFoundError(f"GML file not found: {path} (resolved: {path.resolve()})")
    if path.suffix.lower() != ".gml":
        raise ValueError(f"unsupported file type {path.suffix!r} for {path}: expected .gml")
    text = path.read_text(encoding="utf-8", errors="replace")
    notes: list[str] = []
    try:
        try:
            gml = nx.parse_gml(text, label="id")
        except nx.NetworkXError as err:
            if not str(err).startswith("edge #") or "duplicated" not in str(err):
                raise
            multigraph_text = re.sub(r"graph\s*\[", "graph [\n  multigraph 1", text, count=1)
            gml = nx.parse_gml(multigraph_text, label="id")
            notes.append(
                f"parallel edges but no 'multigraph 1' in the file ({err}): read as multigraph"
            )
    except (nx.NetworkXError, ValueError) as err:
        raise ValueError(f"{path}: not valid GML: {err}") from err
    nodes = []
    for node_id, data in gml.nodes(data=True):
        lower = {str(key).lower(): value for key, value in data.items()}
        located = "latitude" in lower or "longitude" in lower
        nodes.append(
            RawNode(
                source_id=node_id,
                name=str(data.get("label", node_id)),
                coordinates=(lower.get("latitude"), lower.get("longitude")) if located else None,
            )
        )
    edges = [RawEdge(u, v) for u, v in gml.edges()]
    label = gml.graph.get("label") or gml.graph.get("Network")
    return RawTopology(
        name=label if isinstance(label, str) and label else path.stem,
        source=f"gml:{path.resolve()}",
        length_source=shipped.GML_LENGTH_SOURCE,
        nodes=nodes,
        edges=edges,
        directed=gml.is_directed(),
        notes=notes,
    )


def _topohub_data_dir() -> Path:
    import topohub

    return Path(topohub.__file__).resolve().parent / "data"


def _topohub_keys() -> list[str]:
    root = _topohub_data_dir()
    return sorted(
        path.relative_to(root).with_suffix("").as_posix() for path in root.rglob("*.json")
    )


def _read_topohub(key: str) -> RawTopology:
    import topohub

    key = key.replace("\\", "/").strip("/")
    try:
        data = topohub.get(key)
    except (KeyError, OSError, ValueError) as err:
        keys = _topohub_keys()
        close = difflib.get_close_matches(key, keys, n=5)
        lower = [k for k in keys if k.lower() == key.lower()]
        hint = ""
        if key.startswith("topozoo/") and not lower:
            hint = (
                f" Graphs missing from topohub load from GML or from the package: pass a path, or "
                f"the bare name {key.split('/', 1)[1]!r} (shipped: "
                f"{', '.join(resources.shipped_topologies())}; else looked up on the data search "
                f"path)."
            )
        raise ValueError(
            f"unknown topohub key {key!r} (looked for {key}.json in {_topohub_data_dir()})."
            + (f" Close matches: {', '.join(lower or close)}." if (lower or close) else "")
            + hint
        ) from err
    planar = key.startswith(_PLANAR_TOPOHUB_GROUPS)
    nodes = []
    for record in data["nodes"]:
        pos = record.get("pos")
        coordinates = None
        if isinstance(pos, list | tuple) and len(pos) == 2:
            coordinates = (pos[0], pos[1]) if planar else (pos[1], pos[0])
        name = str(record.get("name", record["id"]))
        nodes.append(RawNode(record["id"], name, coordinates=coordinates))
    edge_records = data.get("edges", data.get("links", []))
    edges = [RawEdge(e["source"], e["target"], e.get("dist")) for e in edge_records]
    return RawTopology(
        name=key,
        source=f"topohub:{key}",
        length_source="topohub 'dist' (km); haversine from 'pos' where it is missing",
        nodes=nodes,
        edges=edges,
        directed=bool(data.get("directed", False)),
        coordinate_system="planar" if planar else "geographic",
    )
