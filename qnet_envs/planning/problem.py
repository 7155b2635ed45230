"""The QPLAN planning instance: topology, link and cost model, physics, paths, traffic.

An :class:`Instance` is frozen and validated in ``__post_init__``, so every way in (the
constructor, :meth:`Instance.from_dict`, :meth:`Instance.load`, ``dataclasses.replace``) is
checked; a bad field raises ``ValueError`` in the suite's format ``field: problem (allowed:
...)``. Derived data (the network's edge table, the candidate paths with their fidelity and
``g_p``, the traffic matrices) is computed on first use and cached. Every default and its
reason is in ``docs/planning-model.md``.

Dict / TOML layout (every table optional except ``[network]``)::

    name = "abilene"
    description = "..."
    [network]       topology = "Abilene"                        (a shipped or Topology Zoo name)
                    | links = [[u, v, length_km], ...]          (explicit; nodes 0..n-1)
                    | waxman = {n_nodes, alpha, beta, seed, width_km, height_km}
    [link]          attenuation_db_per_km = 0.2, alpha = 0.005, max_segment_km = 100.0,
                    min_length_km = 1.0
    [swap]          success = 1.0, gate_fidelity = 1.0, measurement_fidelity = 1.0
    [distillation]  protocol = "dejmps" | "bbpssw", max_rounds = 8
    [cost]          capacity_cost = 0.01, fiber_cost_per_km = 1.0, fiber_capacity = 100.0
    [paths]         k = 3
    [traffic]       pairs = "all" | n | [[s, d], ...], fidelity = 0.8 | [F_d, ...],
                    mean = 10.0, std = 3.0, seed = 0, matrices = 10, train_fraction = 0.8,
                    matrix = <index; default: the first test matrix>,
                    rates = [[D_d, ...], ...]  (explicit matrices; replace the generator)

Units: km, pairs/s (rates and capacities), cost units (the capacity cost is per pair/s of
link capacity, the fibre cost per fibre per km); fidelities are singlet fidelities.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from qnet_envs import resources
from qnet_envs.validation import FieldError, check_integer, check_number, show

if TYPE_CHECKING:
    from qnet_envs.planning.network import EdgeTable
    from qnet_envs.planning.paths import CandidatePaths

PROTOCOLS: tuple[str, ...] = ("dejmps", "bbpssw")
WAXMAN_KEYS: tuple[str, ...] = ("n_nodes", "alpha", "beta", "seed", "width_km", "height_km")


def _fail(name: str, value: Any, allowed: str, problem: str | None = None) -> FieldError:
    """``name: got <value> (allowed: ...)``, or ``name: <problem> (allowed: ...)``."""
    return FieldError(name, problem if problem is not None else f"got {show(value)}", allowed)


#: Cached properties of :class:`Instance` that do not depend on the planned traffic matrix.
MATRIX_FREE_PROPERTIES = (
    "graph",
    "demand_pairs",
    "fidelity_targets",
    "traffic_matrices",
    "edges",
    "paths",
)


@dataclass(frozen=True)
class Instance:
    """One planning problem (QPLAN eq. 1-4) with its traffic matrices.

    The network is exactly one of ``topology`` (a name for :func:`qnet_envs.topology.load`),
    ``links`` (``(u, v, length_km)`` triples) and ``waxman`` (keyword arguments of
    :func:`qnet_envs.topology.waxman_topology`). ``pairs`` is ``"all"`` (every unordered node
    pair), a count (that many distinct pairs drawn uniformly, seeded) or explicit ``(s, d)``
    pairs. ``rates``, when given, are the traffic matrices (one row per matrix, one column per
    demand); otherwise ``matrices`` rows are drawn ``N(mean, std)`` per demand, clipped at 0.
    Matrices ``0 .. n_train - 1`` are the training set, the rest the test set; ``matrix`` is the
    one whose demand this instance plans (default: the first test matrix).
    """

    name: str = "custom"
    description: str = ""
    topology: str | None = None
    links: tuple[tuple[int, int, float], ...] | None = None
    waxman: Mapping[str, Any] | tuple[tuple[str, Any], ...] | None = None
    attenuation_db_per_km: float = 0.2
    alpha: float = 0.005
    max_segment_km: float = 100.0
    min_length_km: float = 1.0
    swap_success: float = 1.0
    gate_fidelity: float = 1.0
    measurement_fidelity: float = 1.0
    protocol: str = "dejmps"
    max_rounds: int = 8
    capacity_cost: float = 0.01
    fiber_cost_per_km: float = 1.0
    fiber_capacity: float = 100.0
    k_paths: int = 3
    pairs: str | int | tuple[tuple[int, int], ...] = "all"
    fidelity: float | tuple[float, ...] = 0.8
    mean: float = 10.0
    std: float = 3.0
    seed: int = 0
    matrices: int = 10
    train_fraction: float = 0.8
    matrix: int | None = None
    rates: tuple[tuple[float, ...], ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.links is not None:
            object.__setattr__(self, "links", tuple(tuple(x) for x in self.links))
        if isinstance(self.pairs, Sequence) and not isinstance(self.pairs, str):
            object.__setattr__(self, "pairs", tuple(tuple(x) for x in self.pairs))
        if isinstance(self.fidelity, Sequence):
            object.__setattr__(self, "fidelity", tuple(self.fidelity))
        if self.rates is not None:
            if isinstance(self.rates, str) or not isinstance(self.rates, Sequence):
                raise _fail("traffic.rates", self.rates, "a list of matrices, each a list")
            object.__setattr__(self, "rates", tuple(tuple(row) for row in self.rates))
        if self.waxman is not None:  # stored as sorted (key, value) pairs: instances hash
            items = self.waxman.items() if isinstance(self.waxman, Mapping) else self.waxman
            object.__setattr__(self, "waxman", tuple(sorted((str(k), v) for k, v in items)))
        self._validate_network()
        self._validate_physics()
        self._validate_traffic()

    # -- validation ---------------------------------------------------------------------------
    def _validate_network(self) -> None:
        given = [k for k in ("topology", "links", "waxman") if getattr(self, k) is not None]
        if len(given) != 1:
            raise _fail(
                "network",
                given,
                "exactly one of topology (a name), links ([[u, v, length_km], ...]) and waxman",
                problem=f"got {given or 'none'}",
            )
        if self.topology is not None and (not isinstance(self.topology, str) or not self.topology):
            raise _fail("network.topology", self.topology, "a non-empty topology name")
        if self.links is not None:
            if not self.links:
                raise _fail("network.links", [], "at least one [u, v, length_km]")
            seen: set[frozenset[int]] = set()
            for i, link in enumerate(self.links):
                if len(link) != 3:
                    raise _fail(f"network.links[{i}]", list(link), "[u, v, length_km]")
                u = check_integer(f"network.links[{i}].u", link[0], 0)
                v = check_integer(f"network.links[{i}].v", link[1], 0)
                check_number(
                    f"network.links[{i}].length_km", link[2], 0.0, math.inf, high_open=True
                )
                if u == v or frozenset((u, v)) in seen:
                    raise _fail(
                        f"network.links[{i}]", list(link), "two distinct nodes, each pair once"
                    )
                seen.add(frozenset((u, v)))
            nodes = {x for link in self.links for x in link[:2]}
            if nodes != set(range(len(nodes))):
                raise _fail("network.links", sorted(nodes)[:10], "nodes numbered 0..n-1")
        if self.waxman is not None:
            waxman = self.waxman_kwargs
            bad = set(waxman) - set(WAXMAN_KEYS)
            if bad:
                raise _fail("network.waxman", sorted(bad), f"keys {list(WAXMAN_KEYS)}")
            for key in ("n_nodes", "seed"):
                if key in waxman:
                    check_integer(
                        f"network.waxman.{key}", waxman[key], 2 if key == "n_nodes" else 0
                    )
            for key in ("alpha", "width_km", "height_km"):
                if key in waxman:
                    check_number(
                        f"network.waxman.{key}",
                        waxman[key],
                        0.0,
                        math.inf,
                        low_open=True,
                        high_open=True,
                    )
            if "beta" in waxman:
                check_number("network.waxman.beta", waxman["beta"], 0.0, 1.0, low_open=True)

    def _validate_physics(self) -> None:
        check_number("link.attenuation_db_per_km", self.attenuation_db_per_km, 0.0, 10.0)
        check_number("link.alpha", self.alpha, 0.0, 0.5, low_open=True, high_open=True)
        check_number(
            "link.max_segment_km", self.max_segment_km, 0.0, math.inf, low_open=True, high_open=True
        )
        check_number(
            "link.min_length_km", self.min_length_km, 0.0, math.inf, low_open=True, high_open=True
        )
        check_number("swap.success", self.swap_success, 0.0, 1.0, low_open=True)
        check_number("swap.gate_fidelity", self.gate_fidelity, 0.0, 1.0)
        check_number(
            "swap.measurement_fidelity", self.measurement_fidelity, 0.5, 1.0, low_open=True
        )
        if self.protocol not in PROTOCOLS:
            raise _fail("distillation.protocol", self.protocol, str(list(PROTOCOLS)))
        check_integer("distillation.max_rounds", self.max_rounds, 0, 64)
        check_number("cost.capacity_cost", self.capacity_cost, 0.0, math.inf, high_open=True)
        check_number(
            "cost.fiber_cost_per_km", self.fiber_cost_per_km, 0.0, math.inf, high_open=True
        )
        check_number(
            "cost.fiber_capacity", self.fiber_capacity, 0.0, math.inf, low_open=True, high_open=True
        )
        check_integer("paths.k", self.k_paths, 1, 16)

    def _validate_traffic(self) -> None:
        p = self.pairs
        if isinstance(p, str):
            if p != "all":
                raise _fail("traffic.pairs", p, '"all", a count >= 1 or a list of [s, d]')
        elif isinstance(p, int | np.integer) and not isinstance(p, bool):
            check_integer("traffic.pairs", p, 1)
        elif isinstance(p, tuple):
            if not p:
                raise _fail("traffic.pairs", [], "at least one [s, d]")
            for i, pair in enumerate(p):
                if len(pair) != 2:
                    raise _fail(f"traffic.pairs[{i}]", list(pair), "[s, d]")
                s = check_integer(f"traffic.pairs[{i}].s", pair[0], 0)
                d = check_integer(f"traffic.pairs[{i}].d", pair[1], 0)
                if s == d:
                    raise _fail(f"traffic.pairs[{i}]", list(pair), "two distinct nodes")
        else:
            raise _fail("traffic.pairs", p, '"all", a count >= 1 or a list of [s, d]')
        if isinstance(self.fidelity, tuple):
            if not self.fidelity:
                raise _fail("traffic.fidelity", [], "a number or one number per demand")
            for i, f in enumerate(self.fidelity):
                check_number(f"traffic.fidelity[{i}]", f, 0.25, 1.0, high_open=True)
        else:
            check_number("traffic.fidelity", self.fidelity, 0.25, 1.0, high_open=True)
        check_number("traffic.mean", self.mean, 0.0, math.inf, high_open=True)
        check_number("traffic.std", self.std, 0.0, math.inf, high_open=True)
        check_integer("traffic.seed", self.seed, 0)
        if self.rates is None:
            check_integer("traffic.matrices", self.matrices, 2)
        check_number("traffic.train_fraction", self.train_fraction, 0.0, 1.0, high_open=True)
        n_matrices = self.n_matrices
        if self.rates is not None:
            if not self.rates:
                raise _fail("traffic.rates", [], "at least one matrix")
            width = len(self.rates[0])
            for m, row in enumerate(self.rates):
                if len(row) != width:
                    raise _fail(f"traffic.rates[{m}]", len(row), f"{width} entries, like rates[0]")
                for d, rate in enumerate(row):
                    check_number(f"traffic.rates[{m}][{d}]", rate, 0.0, math.inf, high_open=True)
        if self.n_train >= n_matrices and n_matrices > 1:
            raise _fail(
                "traffic.train_fraction",
                self.train_fraction,
                f"a fraction that leaves at least one of {n_matrices} matrices for testing",
            )
        if self.matrix is not None:
            check_integer("traffic.matrix", self.matrix, 0, n_matrices - 1)

    @property
    def waxman_kwargs(self) -> dict[str, Any]:
        """``waxman`` as keyword arguments of :func:`qnet_envs.topology.waxman_topology`."""
        return dict(self.waxman or ())

    # -- traffic --------------------------------------------------------------------------------
    @property
    def n_matrices(self) -> int:
        return len(self.rates) if self.rates is not None else int(self.matrices)

    @property
    def n_train(self) -> int:
        """Matrices ``0 .. n_train - 1`` are the training set (``0`` with a single matrix)."""
        if self.n_matrices == 1:
            return 0
        return math.floor(self.train_fraction * self.n_matrices + 1e-9)

    @property
    def train_matrices(self) -> tuple[int, ...]:
        return tuple(range(self.n_train))

    @property
    def test_matrices(self) -> tuple[int, ...]:
        return tuple(range(self.n_train, self.n_matrices))

    @property
    def matrix_index(self) -> int:
        """The matrix this instance plans: ``matrix``, or the first test matrix."""
        return self.n_train if self.matrix is None else int(self.matrix)

    def with_matrix(self, index: int) -> Instance:
        """The same network and demands, planning traffic matrix ``index`` instead.

        The network data already computed on ``self`` (graph, demand pairs, fidelity targets,
        traffic matrices, edge table, candidate paths: none depends on which matrix is planned)
        is shared with the new instance, not computed again; Yen's algorithm alone takes
        seconds to minutes on Cogentco and Kdl.
        """
        other = replace(self, matrix=index)
        for name in MATRIX_FREE_PROPERTIES:
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    @cached_property
    def graph(self) -> Any:
        """The undirected ``networkx.Graph`` (nodes ``0..n-1``, edges with ``length_km``)."""
        from qnet_envs.planning.network import build_graph

        return build_graph(self)

    @property
    def n_nodes(self) -> int:
        return int(self.graph.number_of_nodes())

    @cached_property
    def demand_pairs(self) -> NDArray[np.int64]:
        """``(n_demands, 2)`` source and destination of each demand, ``s < d`` unless given."""
        from qnet_envs.planning.traffic import demand_pairs

        return demand_pairs(self)

    @property
    def n_demands(self) -> int:
        return int(self.demand_pairs.shape[0])

    @cached_property
    def fidelity_targets(self) -> NDArray[np.float64]:
        """``(n_demands,)`` the fidelity ``F_d`` each demand requires."""
        if isinstance(self.fidelity, tuple):
            if len(self.fidelity) != self.n_demands:
                raise _fail(
                    "traffic.fidelity",
                    len(self.fidelity),
                    f"one number or {self.n_demands} numbers (one per demand)",
                    problem=f"got {len(self.fidelity)} numbers",
                )
            values = np.asarray(self.fidelity, dtype=np.float64)
        else:
            values = np.full(self.n_demands, float(self.fidelity))
        values.setflags(write=False)
        return values

    @cached_property
    def traffic_matrices(self) -> NDArray[np.float64]:
        """``(n_matrices, n_demands)`` demand rates ``D_d`` in pairs/s (read-only)."""
        from qnet_envs.planning.traffic import traffic_matrices

        return traffic_matrices(self)

    @property
    def demand(self) -> NDArray[np.float64]:
        """``(n_demands,)`` the rates ``D_d`` (pairs/s) of the planned matrix."""
        return self.traffic_matrices[self.matrix_index]

    # -- derived network data -------------------------------------------------------------------
    @cached_property
    def edges(self) -> EdgeTable:
        """Edge table: lengths, segments, ``cost_e``, fibre cost, capacity per fibre."""
        from qnet_envs.planning.network import edge_table

        return edge_table(self)

    @property
    def n_edges(self) -> int:
        return self.edges.n_edges

    @cached_property
    def paths(self) -> CandidatePaths:
        """Candidate paths of every demand with fidelity, distillation rounds and ``g_p``."""
        from qnet_envs.planning.paths import candidate_paths

        return candidate_paths(self)

    # -- dict / TOML ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instance:
        """Build an instance from the layout in the module docstring (unknown keys rejected)."""
        if not isinstance(data, Mapping):
            raise _fail("instance", type(data).__name__, "a mapping (a TOML document)")
        allowed = {"name", "description", *_SECTION_KEYS}
        unknown = set(data) - allowed
        if unknown:
            raise _fail("instance", sorted(unknown), f"top-level keys {sorted(allowed)}")
        if "network" not in data:
            raise _fail("network", None, "a [network] table", problem="missing")
        kwargs: dict[str, Any] = {}
        for section, keys in _SECTION_KEYS.items():
            body = data.get(section, {})
            if not isinstance(body, Mapping):
                raise _fail(section, body, f"a table with keys {sorted(keys)}")
            bad = set(body) - set(keys)
            if bad:
                raise _fail(section, sorted(bad), f"keys {sorted(keys)}")
            for key, attr in keys.items():
                if key in body:
                    kwargs[attr] = body[key]
        for key in ("links", "pairs", "rates"):
            value = kwargs.get(key)
            if isinstance(value, list):
                kwargs[key] = tuple(tuple(x) if isinstance(x, list) else x for x in value)
        if isinstance(kwargs.get("fidelity"), list):
            kwargs["fidelity"] = tuple(kwargs["fidelity"])
        return cls(
            name=str(data.get("name", "custom")),
            description=str(data.get("description", "")),
            **kwargs,
        )

    def to_dict(self) -> dict[str, Any]:
        """The layout of the module docstring; ``Instance.from_dict(i.to_dict()) == i``."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        for section, keys in _SECTION_KEYS.items():
            body: dict[str, Any] = {}
            for key, attr in keys.items():
                value = getattr(self, attr)
                if value is None:
                    continue
                if attr == "waxman":
                    value = self.waxman_kwargs
                elif isinstance(value, tuple):
                    value = [list(x) if isinstance(x, tuple) else x for x in value]
                body[key] = value
            out[section] = body
        return out

    @classmethod
    def load(cls, name_or_path: str | Path) -> Instance:
        """Load a TOML instance from a path, or by name from the shipped ``scenarios/planning``."""
        path = Path(name_or_path)
        if not path.suffix and not path.exists():
            path = resources.scenario_file("planning", str(name_or_path))
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read instance: {exc}") from exc
        data.setdefault("name", path.stem)
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc


#: TOML table -> {key: Instance attribute}.
_SECTION_KEYS: dict[str, dict[str, str]] = {
    "network": {"topology": "topology", "links": "links", "waxman": "waxman"},
    "link": {
        "attenuation_db_per_km": "attenuation_db_per_km",
        "alpha": "alpha",
        "max_segment_km": "max_segment_km",
        "min_length_km": "min_length_km",
    },
    "swap": {
        "success": "swap_success",
        "gate_fidelity": "gate_fidelity",
        "measurement_fidelity": "measurement_fidelity",
    },
    "distillation": {"protocol": "protocol", "max_rounds": "max_rounds"},
    "cost": {
        "capacity_cost": "capacity_cost",
        "fiber_cost_per_km": "fiber_cost_per_km",
        "fiber_capacity": "fiber_capacity",
    },
    "paths": {"k": "k_paths"},
    "traffic": {
        "pairs": "pairs",
        "fidelity": "fidelity",
        "mean": "mean",
        "std": "std",
        "seed": "seed",
        "matrices": "matrices",
        "train_fraction": "train_fraction",
        "matrix": "matrix",
        "rates": "rates",
    },
}
