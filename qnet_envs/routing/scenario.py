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

Validation happens in one place, :meth:`Scenario.__post_init__`, so a scenario is checked the
same way however it is made (``from_dict``, ``load``, the constructor, ``dataclasses.replace``,
``with_states``): every link state must be a two-qubit density matrix (finite, Hermitian, unit
trace, positive semidefinite, ``qnet_envs.physics.validate_density_matrix``), and every field
must be in its documented range. A :class:`ScenarioError` reads ``field: what is wrong
(allowed: ...)``, with plain Python values (see ``docs/validation.md``).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs import resources
from qnet_envs.physics import (
    SWAP_MODES,
    amplitude_damped,
    phase_shifted,
    validate_density_matrix,
    werner,
)
from qnet_envs.validation import FieldError, show

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


class ScenarioError(FieldError):
    """A malformed scenario; the message names the field and the allowed values.

    The message reads ``field: problem (allowed: ...)`` (a file's path first when it came from a
    file). ``field``, ``problem`` and ``allowed`` hold its parts (``None`` when not given). A
    :class:`~qnet_envs.validation.FieldError`, like every family's input errors.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        problem: str | None = None,
        allowed: str | None = None,
    ) -> None:
        ValueError.__init__(self, message)
        self.field, self.problem, self.allowed = field, problem, allowed  # type: ignore[assignment]


def field_error(field: str, problem: str, allowed: str | None = None) -> ScenarioError:
    """The :class:`ScenarioError` ``"<field>: <problem> (allowed: <allowed>)"``."""
    message = f"{field}: {problem}" + (f" (allowed: {allowed})" if allowed else "")
    return ScenarioError(message, field=field, problem=problem, allowed=allowed)


@dataclasses.dataclass(frozen=True, eq=False)
class Scenario:
    """One instance of the swap-routing game.

    Every way of making one (the constructor, :meth:`from_dict`, :meth:`load`,
    ``dataclasses.replace``, :meth:`with_states`) validates it in ``__post_init__`` and raises
    :class:`ScenarioError` naming the field. The arrays are stored as read-only copies, so a
    validated scenario cannot be changed afterwards; array-likes (lists) are accepted.

    Attributes:
        name: a label for logs and tables.
        node_names: one unique name per node, at least 2; node ``i`` is ``node_names[i]``.
        edges: ``(u, v)`` node indices per link, shape (num_edges, 2), integers.
        states: link states, first qubit at ``u``, shape (num_edges, 4, 4), complex128; each a
            density matrix (``states[i]`` is reported as ``edges[i].state`` in errors).
        alice: start node index.
        bob: goal node index.
        max_actions: actions per episode before truncation, in [1, 1000].
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
        for field, value in _validated(self).items():
            object.__setattr__(self, field, value)

    # ----------------------------------------------------------------------------- loading
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build and validate a scenario from the documented dict layout."""
        if not isinstance(data, Mapping):
            raise field_error(
                "scenario", f"a {type(data).__name__}, not a mapping", "a table of the fields"
            )
        unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
        if unknown:
            raise field_error(
                "scenario", f"unknown field(s) {unknown}", f"{sorted(_TOP_LEVEL_KEYS)}"
            )
        for key in ("nodes", "edges", "alice", "bob"):
            if key not in data:
                raise field_error(key, "missing required field")
        node_names = _parse_nodes(data["nodes"])
        index = {name: i for i, name in enumerate(node_names)}
        edges, states = _parse_edges(data["edges"], node_names, index)
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
            positions=data.get("positions"),
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

    def with_states(self, states: ArrayLike, name: str | None = None) -> Scenario:
        """A copy with other link states (same topology), e.g. a stage of an evolving network."""
        return dataclasses.replace(self, states=states, name=name or self.name)


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
    allowed = "a count >= 2, or a list of at least 2 unique names"
    if isinstance(nodes, bool) or not isinstance(nodes, int | list | tuple):
        raise field_error("nodes", f"got {show(nodes)}", allowed)
    if isinstance(nodes, int):
        if nodes < 2:
            raise field_error("nodes", f"count {nodes} is too small", allowed)
        return tuple(str(i) for i in range(nodes))
    names = tuple(str(n) for n in nodes)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise field_error("nodes", f"repeated names {repeated}", "unique names")
    return names  # their count: checked by Scenario


def parse_node_ref(field: str, value: Any, names: Sequence[str], index: Mapping[str, int]) -> int:
    """The node index of ``value`` (an index, or a name of ``index``) for the field ``field``."""
    allowed = f"a node index in [0, {len(names) - 1}] or one of the node names"
    is_integer = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if is_integer and 0 <= value < len(names):
        return int(value)
    if isinstance(value, str) and value in index:
        return index[value]
    raise field_error(field, f"{show(value)} is not a node", allowed)


#: Parameters of each parametric state kind: name -> (low, high, allowed values in words).
_STATE_PARAMETERS: dict[str, dict[str, tuple[float, float, str]]] = {
    "werner": {"fidelity": (0.0, 1.0, "a number in [0, 1]")},
    "amplitude_damped": {"theta": (0.0, float(np.pi / 2), "radians, a number in [0, pi/2]")},
    "phase_shifted": {"phi": (-np.inf, np.inf, "radians, a finite number")},
}
_STATE_BUILDERS: dict[str, Callable[[float], NDArray[np.complex128]]] = {
    "werner": werner,
    "amplitude_damped": amplitude_damped,
    "phase_shifted": phase_shifted,
}


def parse_state(where: str, spec: Any) -> NDArray[np.complex128]:
    """The density matrix of a link state spec (``{"kind": ..., ...}``) found at ``where``.

    Parametric kinds have their parameter checked here (a number in its range); a
    ``density_matrix`` is only built (shape 4x4 of numbers): whether it is a density matrix is
    checked once, by :class:`Scenario`, whatever the way in.
    """
    field = f"{where}.state"
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise field_error(field, "not a table with a 'kind'", f"kind in {list(STATE_KINDS)}")
    kind = spec["kind"]
    if kind not in STATE_KINDS:
        raise field_error(f"{field}.kind", f"unknown kind {show(kind)}", f"{list(STATE_KINDS)}")
    required = ["real", "imag"] if kind == "density_matrix" else list(_STATE_PARAMETERS[kind])
    extra = sorted(set(spec) - {"kind", *required})
    missing = [k for k in required if k not in spec]
    if missing or extra:
        problems = [f"missing {missing}"] * bool(missing) + [f"unexpected {extra}"] * bool(extra)
        raise field_error(
            field, f"kind {kind!r}: {', '.join(problems)}", f"exactly {required} besides 'kind'"
        )
    if kind != "density_matrix":
        ((parameter, (low, high, allowed)),) = _STATE_PARAMETERS[kind].items()
        value = _number(f"{field}.{parameter}", spec[parameter], low, high, allowed)
        return _STATE_BUILDERS[kind](value)
    parts = []
    for part in required:
        try:
            array = np.asarray(spec[part], dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is None or array.shape != (4, 4):
            got = "not an array of numbers" if array is None else f"shape {array.shape}"
            raise field_error(f"{field}.{part}", got, "a 4x4 array of real numbers")
        parts.append(array)
    return parts[0] + 1j * parts[1]


def _number(field: str, value: Any, low: float, high: float, allowed: str) -> float:
    """``value`` as a float, if it is a finite number in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise field_error(field, f"{show(value)} is not a number", allowed)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise field_error(field, f"{number} is not finite", allowed)
    if not low <= number <= high:
        raise field_error(field, f"{number:g} is out of range", allowed)
    return number


def _parse_edges(
    edges: Any, names: Sequence[str], index: Mapping[str, int]
) -> tuple[NDArray[np.int64], NDArray[np.complex128]]:
    if not isinstance(edges, list | tuple) or not edges:
        raise field_error("edges", f"got {show(edges)}", "a non-empty list of {u, v, state} tables")
    pairs, states = [], []
    for i, edge in enumerate(edges):
        where = f"edges[{i}]"
        if not isinstance(edge, Mapping) or set(edge) != {"u", "v", "state"}:
            got = f"keys {sorted(edge)}" if isinstance(edge, Mapping) else type(edge).__name__
            raise field_error(where, f"got {got}", "a table with exactly the keys u, v, state")
        u = parse_node_ref(f"{where}.u", edge["u"], names, index)
        v = parse_node_ref(f"{where}.v", edge["v"], names, index)
        pairs.append((u, v))
        states.append(parse_state(where, edge["state"]))
    return np.asarray(pairs, dtype=np.int64), np.stack(states)


# ------------------------------------------------------------------------------ validation
def _validated(s: Scenario) -> dict[str, Any]:
    """Check every field of ``s``; returns the normalised values (read-only array copies,
    plain ints) that ``__post_init__`` stores. Raises :class:`ScenarioError`."""
    for field in ("name", "description"):
        if not isinstance(getattr(s, field), str):
            raise field_error(field, f"got {show(getattr(s, field))}", "a string")
    names = s.node_names
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise field_error("node_names", f"got {show(names)}", "a tuple of at least 2 names")
    names = tuple(names)
    if len(names) < 2 or not all(isinstance(name, str) for name in names):
        raise field_error("node_names", f"got {show(names)}", "a tuple of at least 2 strings")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise field_error("node_names", f"repeated names {repeated}", "unique names")
    n = len(names)
    edges = _integer_array("edges", s.edges, "integer node indices, shape (num_edges, 2)")
    if edges.ndim != 2 or edges.shape[1] != 2 or edges.shape[0] == 0:
        raise field_error(
            "edges", f"shape {edges.shape}", "integer node indices, shape (num_edges, 2)"
        )
    for i, (u, v) in enumerate(edges.tolist()):
        for end, node in (("u", u), ("v", v)):
            if not 0 <= node < n:
                raise field_error(f"edges[{i}].{end}", f"{node} is not a node", f"[0, {n - 1}]")
        if u == v:
            raise field_error(f"edges[{i}]", f"a self-loop at node {u}", "u and v differ")
    degree = np.bincount(edges.ravel(), minlength=n)
    crowded = [names[i] for i in np.flatnonzero(degree > MAX_DEGREE)]
    if crowded:
        raise field_error(
            "edges", f"nodes {crowded} have more than {MAX_DEGREE} links", f"at most {MAX_DEGREE}"
        )
    states = _states(s.states, edges.shape[0])
    values: dict[str, Any] = {"node_names": names, "edges": edges, "states": states}
    for field in ("alice", "bob"):
        values[field] = _integer(
            field, getattr(s, field), 0, n - 1, f"a node index in [0, {n - 1}]"
        )
    if values["alice"] == values["bob"]:
        raise field_error("bob", f"equals alice ({values['bob']})", "a node other than alice")
    values["max_actions"] = _integer(
        "max_actions", s.max_actions, 1, 1000, "an integer in [1, 1000]"
    )
    if s.swap_mode not in SWAP_MODES:
        raise field_error("swap_mode", f"got {show(s.swap_mode)}", f"{list(SWAP_MODES)}")
    if s.figure_of_merit not in FIGURES_OF_MERIT:
        raise field_error(
            "figure_of_merit", f"got {show(s.figure_of_merit)}", f"{list(FIGURES_OF_MERIT)}"
        )
    values["positions"] = None if s.positions is None else _positions(s.positions, n)
    if not _connected(n, edges, values["alice"], values["bob"]):
        raise field_error(
            "bob",
            f"node {names[values['bob']]} cannot be reached from alice ({names[values['alice']]})",
            "a node connected to alice by the edges",
        )
    return values


def _read_only(array: NDArray[Any]) -> NDArray[Any]:
    array = np.array(array)  # a copy: the caller's array can change, the scenario cannot
    array.flags.writeable = False
    return array


def _integer_array(field: str, value: Any, allowed: str) -> NDArray[np.int64]:
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise field_error(field, f"entries of dtype {array.dtype}", allowed)
    return _read_only(array.astype(np.int64))


def _integer(field: str, value: Any, low: int, high: int, allowed: str) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise field_error(field, f"{show(value)} is not an integer", allowed)
    if not low <= value <= high:
        raise field_error(field, f"{show(value)} is out of range", allowed)
    return int(value)


def _states(value: Any, num_edges: int) -> NDArray[np.complex128]:
    """``value`` as read-only link states, each checked to be a density matrix."""
    try:
        states = np.asarray(value, dtype=np.complex128)
    except (TypeError, ValueError):
        raise field_error(
            "states", "not an array of numbers", "complex, shape (num_edges, 4, 4)"
        ) from None
    if states.shape != (num_edges, 4, 4):
        raise field_error("states", f"shape {states.shape}", f"shape ({num_edges}, 4, 4)")
    for i, rho in enumerate(states):
        name = f"edges[{i}].state"
        try:
            validate_density_matrix(rho, name=name)
        except ValueError as error:
            problem = str(error).removeprefix(f"{name}: ")
            raise field_error(name, problem, _DENSITY_MATRIX) from None
    return _read_only(states)


_DENSITY_MATRIX = "a two-qubit density matrix: finite, Hermitian, trace 1, positive semidefinite"


def _positions(value: Any, n: int) -> NDArray[np.float64]:
    allowed = f"{n} pairs of finite numbers [x, y]"
    try:
        positions = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise field_error("positions", "not an array of numbers", allowed) from None
    if positions.shape != (n, 2):
        raise field_error("positions", f"shape {positions.shape}", allowed)
    if not np.all(np.isfinite(positions)):
        raise field_error("positions", "entries are not finite", allowed)
    return _read_only(positions)


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
