"""Typed, validated scenarios of the swap-routing game.

A scenario is a network whose links each hold a two-qubit state, two endpoints (Alice, Bob) and
the game's rules. It is loaded from a dict (``Scenario.from_dict``) or a TOML file
(``Scenario.load``); the dict layout is a contract::

    {
      "name": "white-noise-06",                 # optional
      "nodes": 12 | ["A", "B", ...],             # a count, or a list of unique names
      "edges": [{"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.99}}, ...],
      "alice": 0, "bob": 11,                     # node indices, or names when nodes is a list
      "max_actions": 15,                         # optional, default 15
      "swap_mode": "postselected",               # optional: "postselected" | "deterministic"
      "figure_of_merit": "singlet_fidelity",     # optional: | "fully_entangled_fraction"
      "positions": [[x, y], ...],                # optional, one per node, for rendering only
    }

Edge states: ``{"kind": "werner", "fidelity": F}``, ``{"kind": "amplitude_damped", "theta": t}``
(radians), ``{"kind": "phase_shifted", "phi": p}`` (radians) or ``{"kind": "density_matrix",
"real": 4x4, "imag": 4x4}``. The state of edge ``(u, v)`` has its first qubit at ``u``.
Every node has at most :data:`MAX_DEGREE` links; that is the size of the action space. Parallel
links (two links between the same nodes, e.g. two fibres) are allowed and are separate slots;
Bob must be reachable from Alice.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from qnet_envs import resources
from qnet_envs.physics import (
    SWAP_MODES,
    amplitude_damped,
    phase_shifted,
    validate_density_matrix,
    werner,
)

_T = TypeVar("_T")
MAX_DEGREE = 4
FIGURES_OF_MERIT: tuple[str, ...] = ("singlet_fidelity", "fully_entangled_fraction")
STATE_KINDS: tuple[str, ...] = ("werner", "amplitude_damped", "phase_shifted", "density_matrix")
SCENARIO_DIR = resources.scenario_dir("routing")
_TOP_LEVEL_KEYS = frozenset(
    {
        "name",
        "nodes",
        "edges",
        "alice",
        "bob",
        "max_actions",
        "swap_mode",
        "figure_of_merit",
        "positions",
        "description",
    }
)


class ScenarioError(ValueError):
    """A malformed scenario; the message names the field and the allowed values."""


@dataclasses.dataclass(frozen=True, eq=False)
class Scenario:
    """One instance of the swap-routing game.

    Attributes:
        name: a label for logs and tables.
        node_names: one name per node; node ``i`` is ``node_names[i]``.
        edges: ``(u, v)`` node indices per link, shape (num_edges, 2).
        states: link states, first qubit at ``u``, shape (num_edges, 4, 4), complex128.
        alice: start node index.
        bob: goal node index.
        max_actions: actions per episode before truncation.
        swap_mode: ``"postselected"`` or ``"deterministic"`` (see ``qnet_envs.physics.swap``).
        figure_of_merit: ``"singlet_fidelity"`` or ``"fully_entangled_fraction"``; the ``F``
            of the rewards.
        positions: optional drawing coordinates, shape (num_nodes, 2).
        description: free text.
    """

    name: str
    node_names: tuple[str, ...]
    edges: NDArray[np.int64]  # (num_edges, 2)
    states: NDArray[np.complex128]  # (num_edges, 4, 4)
    alice: int
    bob: int
    max_actions: int = 15
    swap_mode: str = "postselected"
    figure_of_merit: str = "singlet_fidelity"
    positions: NDArray[np.float64] | None = None  # (num_nodes, 2)
    description: str = ""

    @property
    def num_nodes(self) -> int:
        return len(self.node_names)

    @property
    def num_edges(self) -> int:
        return int(self.edges.shape[0])

    def __post_init__(self) -> None:
        _validate(self)

    # ----------------------------------------------------------------------------- loading
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build and validate a scenario from the documented dict layout."""
        if not isinstance(data, Mapping):
            raise ScenarioError(f"scenario must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
        if unknown:
            raise ScenarioError(
                f"unknown scenario field(s) {unknown}; allowed: {sorted(_TOP_LEVEL_KEYS)}"
            )
        for key in ("nodes", "edges", "alice", "bob"):
            if key not in data:
                raise ScenarioError(f"missing required field '{key}'")
        node_names = _parse_nodes(data["nodes"])
        index = {name: i for i, name in enumerate(node_names)}
        edges, states = _parse_edges(data["edges"], node_names, index)
        positions = None
        if data.get("positions") is not None:
            try:
                positions = np.asarray(data["positions"], dtype=np.float64)
            except (TypeError, ValueError) as error:
                raise ScenarioError(
                    f"'positions' must be {len(node_names)} pairs of numbers [x, y]: {error}"
                ) from error
        return cls(
            name=str(data.get("name", "unnamed")),
            node_names=node_names,
            edges=edges,
            states=states,
            alice=parse_node_ref("alice", data["alice"], node_names, index),
            bob=parse_node_ref("bob", data["bob"], node_names, index),
            max_actions=data.get("max_actions", 15),
            swap_mode=data.get("swap_mode", "postselected"),
            figure_of_merit=data.get("figure_of_merit", "singlet_fidelity"),
            positions=positions,
            description=str(data.get("description", "")),
        )

    @classmethod
    def load(cls, path_or_name: str | Path) -> Scenario:
        """Load a TOML scenario from a path, or by name from the shipped ``scenarios/routing``."""
        return load_scenario_file(path_or_name, cls.from_dict)

    def to_dict(self) -> dict[str, Any]:
        """The dict layout of :meth:`from_dict`, states written as density matrices."""
        data: dict[str, Any] = {
            "name": self.name,
            "nodes": list(self.node_names),
            "edges": [
                {
                    "u": int(u),
                    "v": int(v),
                    "state": {
                        "kind": "density_matrix",
                        "real": rho.real.tolist(),
                        "imag": rho.imag.tolist(),
                    },
                }
                for (u, v), rho in zip(self.edges, self.states, strict=True)
            ],
            "alice": self.alice,
            "bob": self.bob,
            "max_actions": self.max_actions,
            "swap_mode": self.swap_mode,
            "figure_of_merit": self.figure_of_merit,
            "description": self.description,
        }
        if self.positions is not None:
            data["positions"] = self.positions.tolist()
        return data

    def with_states(self, states: NDArray[np.complex128], name: str | None = None) -> Scenario:
        """A copy with other link states (same topology), e.g. a stage of an evolving network."""
        return dataclasses.replace(
            self, states=np.asarray(states, dtype=np.complex128), name=name or self.name
        )


# --------------------------------------------------------------------------------- loading
def load_scenario_file(path_or_name: str | Path, from_dict: Callable[[dict[str, Any]], _T]) -> _T:
    """Read a TOML scenario file and build it with ``from_dict``.

    ``path_or_name`` is a path, or, without a suffix, the name of a shipped file
    ``scenarios/routing/<name>.toml`` (found by :func:`qnet_envs.resources.scenario_file`).
    The data's ``name`` defaults to the file's stem. An unknown name raises
    :class:`~qnet_envs.resources.UnknownNameError` (a ``ValueError`` and ``FileNotFoundError``)
    and a missing path ``FileNotFoundError``, both listing the shipped names; invalid TOML, and
    any ``ScenarioError`` of ``from_dict``, raise a ``ScenarioError`` that names the file.
    """
    path = Path(path_or_name)
    if not path.suffix:
        path = resources.scenario_file("routing", str(path_or_name))
    if not path.is_file():
        shipped = resources.shipped_names("routing")
        raise FileNotFoundError(
            f"no scenario file {str(path)!r}; pass a path to a .toml file or one of the "
            f"shipped names: {shipped}"
        )
    with path.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ScenarioError(f"{path}: not valid TOML: {error}") from error
    data.setdefault("name", path.stem)
    try:
        return from_dict(data)
    except ScenarioError as error:
        raise ScenarioError(f"{path}: {error}") from error


# --------------------------------------------------------------------------------- parsing
def _parse_nodes(nodes: Any) -> tuple[str, ...]:
    if isinstance(nodes, bool) or not isinstance(nodes, int | list | tuple):
        raise ScenarioError(f"'nodes' must be a positive count or a list of names, got {nodes!r}")
    if isinstance(nodes, int):
        if nodes < 2:
            raise ScenarioError(f"'nodes' count must be >= 2, got {nodes}")
        return tuple(str(i) for i in range(nodes))
    names = tuple(str(n) for n in nodes)
    if len(names) < 2:
        raise ScenarioError(f"'nodes' must list at least 2 nodes, got {len(names)}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScenarioError(f"'nodes' names must be unique; repeated: {duplicates}")
    return names


def parse_node_ref(field: str, value: Any, names: Sequence[str], index: Mapping[str, int]) -> int:
    """The node index of ``value`` (an index, or a name of ``index``) for the field ``field``."""
    if isinstance(value, bool):
        raise ScenarioError(f"'{field}' must be a node index or name, got {value!r}")
    if isinstance(value, int):
        if not 0 <= value < len(names):
            raise ScenarioError(
                f"'{field}' must be a node index in [0, {len(names) - 1}], got {value}"
            )
        return value
    if isinstance(value, str) and value in index:
        return index[value]
    raise ScenarioError(f"'{field}' must be a node index or one of the node names, got {value!r}")


def parse_state(where: str, spec: Any) -> NDArray[np.complex128]:
    """The density matrix of a link state spec (``{"kind": ..., ...}``) found at ``where``."""
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise ScenarioError(f"{where}.state must be a table with a 'kind' in {STATE_KINDS}")
    kind = spec["kind"]
    required = {
        "werner": ("fidelity",),
        "amplitude_damped": ("theta",),
        "phase_shifted": ("phi",),
        "density_matrix": ("real", "imag"),
    }
    if kind not in required:
        raise ScenarioError(f"{where}.state.kind must be one of {STATE_KINDS}, got {kind!r}")
    extra = sorted(set(spec) - {"kind", *required[kind]})
    missing = [k for k in required[kind] if k not in spec]
    if missing or extra:
        raise ScenarioError(
            f"{where}.state of kind {kind!r} takes exactly {list(required[kind])}; "
            f"missing {missing}, unexpected {extra}"
        )
    try:
        if kind == "werner":
            return werner(_number(f"{where}.state.fidelity", spec["fidelity"]))
        if kind == "amplitude_damped":
            return amplitude_damped(_number(f"{where}.state.theta", spec["theta"]))
        if kind == "phase_shifted":
            return phase_shifted(_number(f"{where}.state.phi", spec["phi"]))
        real = np.asarray(spec["real"], dtype=np.float64)
        imag = np.asarray(spec["imag"], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"{where}.state: {error}") from error
    if real.shape != (4, 4) or imag.shape != (4, 4):
        raise ScenarioError(
            f"{where}.state real and imag must be 4x4, got {real.shape} and {imag.shape}"
        )
    try:
        return validate_density_matrix(real + 1j * imag, name=f"{where}.state")
    except ValueError as error:
        raise ScenarioError(str(error)) from error


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{field} must be a number, got {value!r}")
    return float(value)


def _parse_edges(
    edges: Any, names: Sequence[str], index: Mapping[str, int]
) -> tuple[NDArray[np.int64], NDArray[np.complex128]]:
    if not isinstance(edges, list | tuple) or not edges:
        raise ScenarioError("'edges' must be a non-empty list of {u, v, state} tables")
    pairs, states = [], []
    for i, edge in enumerate(edges):
        where = f"edges[{i}]"
        if not isinstance(edge, Mapping) or set(edge) != {"u", "v", "state"}:
            got = sorted(edge) if isinstance(edge, Mapping) else type(edge).__name__
            raise ScenarioError(
                f"{where} must have exactly the keys ['state', 'u', 'v'], got {got}"
            )
        u = parse_node_ref(f"{where}.u", edge["u"], names, index)
        v = parse_node_ref(f"{where}.v", edge["v"], names, index)
        pairs.append((u, v))
        states.append(parse_state(where, edge["state"]))
    return np.asarray(pairs, dtype=np.int64), np.stack(states)


# ------------------------------------------------------------------------------ validation
def _validate(s: Scenario) -> None:
    n = len(s.node_names)
    if s.edges.ndim != 2 or s.edges.shape[1] != 2:
        raise ScenarioError(f"edges must have shape (num_edges, 2), got {s.edges.shape}")
    if s.states.shape != (s.edges.shape[0], 4, 4):
        raise ScenarioError(
            f"states must have shape ({s.edges.shape[0]}, 4, 4), got {s.states.shape}"
        )
    if s.edges.size and (s.edges.min() < 0 or s.edges.max() >= n):
        raise ScenarioError(f"edge endpoints must be node indices in [0, {n - 1}]")
    loops = [i for i, (u, v) in enumerate(s.edges) if u == v]
    if loops:
        raise ScenarioError(f"edges {loops} are self-loops; u and v must differ")
    degree = np.bincount(s.edges.ravel(), minlength=n)
    crowded = [s.node_names[i] for i in np.flatnonzero(degree > MAX_DEGREE)]
    if crowded:
        raise ScenarioError(
            f"nodes {crowded} have more than {MAX_DEGREE} links; a node may have at most "
            f"{MAX_DEGREE}"
        )
    for field in ("alice", "bob"):
        value = getattr(s, field)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or not (0 <= value < n)
        ):
            raise ScenarioError(f"'{field}' must be a node index in [0, {n - 1}], got {value!r}")
    if s.alice == s.bob:
        raise ScenarioError(f"'alice' and 'bob' must differ, both are {s.alice}")
    if (
        isinstance(s.max_actions, bool)
        or not isinstance(s.max_actions, int | np.integer)
        or not (1 <= s.max_actions <= 1000)
    ):
        raise ScenarioError(f"'max_actions' must be an integer in [1, 1000], got {s.max_actions!r}")
    if s.swap_mode not in SWAP_MODES:
        raise ScenarioError(f"'swap_mode' must be one of {SWAP_MODES}, got {s.swap_mode!r}")
    if s.figure_of_merit not in FIGURES_OF_MERIT:
        raise ScenarioError(
            f"'figure_of_merit' must be one of {FIGURES_OF_MERIT}, got {s.figure_of_merit!r}"
        )
    if s.positions is not None and (
        s.positions.shape != (n, 2) or not np.all(np.isfinite(s.positions))
    ):
        raise ScenarioError(
            f"'positions' must be {n} pairs of finite numbers [x, y], got shape {s.positions.shape}"
        )
    if not _connected(n, s.edges, s.alice, s.bob):
        raise ScenarioError(
            f"'bob' ({s.node_names[s.bob]}) cannot be reached from 'alice' "
            f"({s.node_names[s.alice]}) over the edges"
        )


def _connected(n: int, edges: NDArray[np.int64], source: int, target: int) -> bool:
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges.tolist():
        neighbours[u].append(v)
        neighbours[v].append(u)
    seen, frontier = {source}, [source]
    while frontier:
        node = frontier.pop()
        for other in neighbours[node]:
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return target in seen
