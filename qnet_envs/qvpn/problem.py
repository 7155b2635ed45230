"""The qVPN problem instance: network, link model, swapping, distillation, paths, workload.

An :class:`Instance` is frozen and validated in ``__post_init__``, so every way in
(constructor, :meth:`Instance.from_dict`, :meth:`Instance.load`) is checked; a bad field raises
:class:`~qnet_envs.validation.FieldError` (a ``ValueError``) reading ``field: problem
(allowed: ...)``. The derived data (the physical network, the candidate paths and the version
table) is computed on first use and cached.

Dict / TOML layout (every section optional except ``organisations`` and ``pairs``; defaults
are the paper's Sec. IV set-up, documented in ``docs/qvpn-model.md``)::

    name = "default"
    description = "..."
    [network]       topology = "Surfnet" | links = [[u, v, length_km], ...]
                    engineered = true, repeater_spacing_km = 10.0, repeater_threshold_km = 20.0
    [link]          alpha = 0.2, attenuation_db_per_km = 0.2, multiplexing = 3.0,
                    repetition_time = "constant" | "per_km",
                    repetition_time_s = 1e-6, repetition_time_per_km_s = 4e-6
    [swap]          success = 1.0, gate_fidelity = 1.0, measurement_fidelity = 0.99
    [distillation]  protocol = "dejmps" | "bbpssw", thresholds = [...16 values...],
                    max_rounds = 32
    [paths]         k = 5, weights = ["hop", "egr", "egr2"], max_paths = 3
    [generator]     provenance only (seed and generator parameters), not read back
    organisations = [{weight = w_k}, ...]        (top level, before the tables)
    pairs = [{org, src, dst, weight (lambda_u), fidelity (F_u), r_min, r_max (inf allowed)}, ...]
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qnet_envs import resources
from qnet_envs.qvpn.links import REPETITION_TIME_MODES
from qnet_envs.qvpn.paths import PATH_WEIGHTS
from qnet_envs.validation import (
    FieldError,
    check_choice,
    check_flag,
    check_integer,
    check_number,
    show,
)

if TYPE_CHECKING:
    from qnet_envs.qvpn.lp import CompactRows
    from qnet_envs.qvpn.network import Network
    from qnet_envs.qvpn.paths import CandidatePaths
    from qnet_envs.qvpn.versions import VersionTable

#: The 16 link-level thresholds F_th in [0.8, 0.998] (the paper names the range and 0.992).
DEFAULT_THRESHOLDS: tuple[float, ...] = (
    0.8,
    0.85,
    0.9,
    0.92,
    0.94,
    0.95,
    0.96,
    0.97,
    0.975,
    0.98,
    0.985,
    0.99,
    0.992,
    0.994,
    0.996,
    0.998,
)
PROTOCOLS: tuple[str, ...] = ("dejmps", "bbpssw")


@dataclass(frozen=True)
class Instance:
    """One qVPN problem; field units: km, seconds, pairs/s; fidelities are singlet fidelities.

    Pair ``u`` of organisation ``pair_org[u]`` joins original nodes ``pair_src[u]`` and
    ``pair_dst[u]``, has weight ``pair_weight[u]`` (``lambda_u``), fidelity threshold
    ``pair_fidelity[u]`` (``F_u``) and rate bounds ``[r_min[u], r_max[u]]`` (pairs/s).
    """

    org_weights: tuple[float, ...]
    pair_org: tuple[int, ...]
    pair_src: tuple[int, ...]
    pair_dst: tuple[int, ...]
    pair_weight: tuple[float, ...]
    pair_fidelity: tuple[float, ...]
    r_min: tuple[float, ...]
    r_max: tuple[float, ...]
    name: str = "custom"
    description: str = ""
    topology: str | None = "Surfnet"
    links: tuple[tuple[int, int, float], ...] | None = None
    engineered: bool = True
    repeater_spacing_km: float = 10.0
    repeater_threshold_km: float = 20.0
    alpha: float = 0.2
    attenuation_db_per_km: float = 0.2
    repetition_time: str = "constant"
    repetition_time_s: float = 1e-6
    repetition_time_per_km_s: float = 4e-6
    multiplexing: float = 3.0
    swap_success: float = 1.0
    gate_fidelity: float = 1.0
    measurement_fidelity: float = 0.99
    protocol: str = "dejmps"
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    max_rounds: int = 32
    k_paths: int = 5
    path_weights: tuple[str, ...] = PATH_WEIGHTS
    max_paths: int = 3
    generator: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in (
            "org_weights",
            "pair_org",
            "pair_src",
            "pair_dst",
            "pair_weight",
            "pair_fidelity",
            "r_min",
            "r_max",
            "thresholds",
            "path_weights",
        ):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise FieldError(name, f"got {type(value).__name__}", "a sequence")
            object.__setattr__(self, name, tuple(value))
        if self.links is not None:
            object.__setattr__(self, "links", tuple(tuple(x) for x in self.links))
        self._validate_network()
        self._validate_physics()
        self._validate_workload()
        self._validate_end_points()

    # -- validation ---------------------------------------------------------------------------
    def _validate_network(self) -> None:
        if (self.topology is None) == (self.links is None):
            raise FieldError(
                "network",
                "topology and links both given or both missing",
                "exactly one of topology (a name or path) and links",
            )
        if self.topology is not None and (not isinstance(self.topology, str) or not self.topology):
            raise FieldError("topology", f"got {show(self.topology)}", "a non-empty string")
        if self.links is not None:
            if not self.links:
                raise FieldError("links", "an empty list", "at least one [u, v, length_km]")
            seen = set()
            for i, link in enumerate(self.links):
                if len(link) != 3:
                    raise FieldError(f"links[{i}]", f"got {show(link)}", "[u, v, length_km]")
                u, v, d = link
                check_integer(f"links[{i}].u", u, 0)
                check_integer(f"links[{i}].v", v, 0)
                check_number(
                    f"links[{i}].length_km", d, 0.0, math.inf, low_open=True, high_open=True
                )
                if u == v or frozenset((u, v)) in seen:
                    raise FieldError(
                        f"links[{i}]",
                        f"got {show(link)}",
                        "two distinct nodes, joined by one link only",
                    )
                seen.add(frozenset((u, v)))
        check_flag("engineered", self.engineered)
        check_number(
            "repeater_spacing_km",
            self.repeater_spacing_km,
            0.0,
            math.inf,
            low_open=True,
            high_open=True,
        )
        check_number(
            "repeater_threshold_km", self.repeater_threshold_km, 0.0, math.inf, high_open=True
        )

    def _validate_physics(self) -> None:
        check_number("alpha", self.alpha, 0.0, 0.5, low_open=True, high_open=True)
        check_number(
            "attenuation_db_per_km", self.attenuation_db_per_km, 0.0, math.inf, high_open=True
        )
        check_choice("repetition_time", self.repetition_time, REPETITION_TIME_MODES)
        check_number(
            "repetition_time_s",
            self.repetition_time_s,
            0.0,
            math.inf,
            low_open=True,
            high_open=True,
        )
        check_number(
            "repetition_time_per_km_s",
            self.repetition_time_per_km_s,
            0.0,
            math.inf,
            low_open=True,
            high_open=True,
        )
        check_number(
            "multiplexing", self.multiplexing, 0.0, math.inf, low_open=True, high_open=True
        )
        check_number("swap_success", self.swap_success, 0.0, 1.0, low_open=True)
        check_number("gate_fidelity", self.gate_fidelity, 0.0, 1.0)
        check_number("measurement_fidelity", self.measurement_fidelity, 0.0, 1.0)
        check_choice("protocol", self.protocol, PROTOCOLS)
        if not self.thresholds:
            raise FieldError("thresholds", "an empty list", "at least one link-level threshold")
        for i, t in enumerate(self.thresholds):
            check_number(f"thresholds[{i}]", t, 0.0, 1.0, high_open=True)
        if len(set(self.thresholds)) != len(self.thresholds):
            raise FieldError(
                "thresholds", f"repeated values in {show(self.thresholds)}", "distinct values"
            )
        check_integer("max_rounds", self.max_rounds, 0)
        check_integer("k_paths", self.k_paths, 1)
        check_integer("max_paths", self.max_paths, 1)
        if not self.path_weights or any(w not in PATH_WEIGHTS for w in self.path_weights):
            raise FieldError(
                "path_weights",
                f"got {show(self.path_weights)}",
                f"a non-empty subset of {list(PATH_WEIGHTS)}",
            )
        if len(set(self.path_weights)) != len(self.path_weights):
            raise FieldError(
                "path_weights", f"repeated values in {show(self.path_weights)}", "distinct values"
            )

    def _validate_workload(self) -> None:
        if not self.org_weights:
            raise FieldError("organisations", "an empty list", "at least one organisation")
        for k, w in enumerate(self.org_weights):
            check_number(f"organisations[{k}].weight", w, 0.0, math.inf, high_open=True)
        n = len(self.pair_org)
        if n == 0:
            raise FieldError("pairs", "an empty list", "at least one user pair")
        for name in ("pair_src", "pair_dst", "pair_weight", "pair_fidelity", "r_min", "r_max"):
            if len(getattr(self, name)) != n:
                raise FieldError(
                    name, f"{len(getattr(self, name))} entries", f"one entry per pair ({n})"
                )
        n_nodes = None
        if self.links is not None:
            n_nodes = 1 + max(max(u, v) for u, v, _ in self.links)
        for u in range(n):
            check_integer(f"pairs[{u}].org", self.pair_org[u], 0, len(self.org_weights) - 1)
            for end in ("src", "dst"):
                node = getattr(self, f"pair_{end}")[u]
                check_integer(
                    f"pairs[{u}].{end}", node, 0, None if n_nodes is None else n_nodes - 1
                )
            if self.pair_src[u] == self.pair_dst[u]:
                raise FieldError(
                    f"pairs[{u}].dst", f"equals src ({self.pair_src[u]})", "a node other than src"
                )
            check_number(f"pairs[{u}].weight", self.pair_weight[u], 0.0, math.inf, high_open=True)
            check_number(f"pairs[{u}].fidelity", self.pair_fidelity[u], 0.25, 1.0, high_open=True)
            check_number(f"pairs[{u}].r_min", self.r_min[u], 0.0, math.inf, high_open=True)
            check_number(f"pairs[{u}].r_max", self.r_max[u], self.r_min[u], math.inf)

    # -- sizes and derived data ---------------------------------------------------------------
    @property
    def n_pairs(self) -> int:
        return len(self.pair_org)

    @property
    def n_orgs(self) -> int:
        return len(self.org_weights)

    @cached_property
    def network(self) -> Network:
        """Physical network (:class:`qnet_envs.qvpn.network.Network`)."""
        from qnet_envs.qvpn.network import build_network

        return build_network(self)

    def _validate_end_points(self) -> None:
        """End points must be original nodes (never repeaters); builds the network once."""
        n = self.network.n_original
        for u in range(self.n_pairs):
            for end in ("src", "dst"):
                node = getattr(self, f"pair_{end}")[u]
                check_integer(f"pairs[{u}].{end}", node, 0, n - 1)

    @cached_property
    def paths(self) -> CandidatePaths:
        """Candidate paths (:class:`qnet_envs.qvpn.paths.CandidatePaths`)."""
        from qnet_envs.qvpn.paths import candidate_paths

        return candidate_paths(self, self.network)

    @cached_property
    def versions(self) -> VersionTable:
        """All usable path versions (:class:`qnet_envs.qvpn.versions.VersionTable`)."""
        from qnet_envs.qvpn.versions import build_versions

        return build_versions(self, self.network, self.paths)

    @cached_property
    def lp_rows(self) -> CompactRows:
        """The version table's link CSR with duplicate repeater-chain rows merged (LP use)."""
        from qnet_envs.qvpn.lp import compact_rows

        return compact_rows(self)

    # -- dict / TOML ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instance:
        """Build an instance from the layout in the module docstring (unknown keys rejected)."""
        if not isinstance(data, Mapping):
            raise FieldError(
                "instance", f"got {type(data).__name__}", "a mapping (the TOML layout)"
            )
        unknown = set(data) - {
            "name",
            "description",
            "organisations",
            "pairs",
            "generator",
            *_SECTION_KEYS,
        }
        if unknown:
            raise FieldError(
                "instance",
                f"unknown top-level keys {sorted(unknown)}",
                f"name, description, organisations, pairs, generator, {', '.join(_SECTION_KEYS)}",
            )
        kwargs: dict[str, Any] = {}
        for section, keys in _SECTION_KEYS.items():
            body = data.get(section, {})
            if not isinstance(body, Mapping):
                raise FieldError(section, f"got {type(body).__name__}", "a table")
            bad = set(body) - set(keys)
            if bad:
                raise FieldError(section, f"unknown keys {sorted(bad)}", f"{sorted(keys)}")
            for key, attr in keys.items():
                if key in body:
                    kwargs[attr] = body[key]
        if "links" in kwargs and "topology" not in kwargs:
            kwargs["topology"] = None
        if "links" in kwargs and kwargs["links"] is not None:
            kwargs["links"] = tuple(tuple(x) for x in kwargs["links"])
        orgs = data.get("organisations")
        if not isinstance(orgs, Sequence) or not orgs:
            raise FieldError(
                "organisations", f"got {show(orgs)}", "a non-empty list of {weight = w}"
            )
        for k, org in enumerate(orgs):
            if not isinstance(org, Mapping) or set(org) != {"weight"}:
                raise FieldError(f"organisations[{k}]", f"got {show(org)}", "a table {weight = w}")
        pairs = data.get("pairs")
        if not isinstance(pairs, Sequence) or not pairs:
            raise FieldError("pairs", f"got {show(pairs)}", "a non-empty list of user pairs")
        pair_keys = {"org", "src", "dst", "weight", "fidelity", "r_min", "r_max"}
        for u, pair in enumerate(pairs):
            if not isinstance(pair, Mapping) or set(pair) != pair_keys:
                raise FieldError(
                    f"pairs[{u}]",
                    f"got {show(pair)}",
                    f"a table with exactly the keys {sorted(pair_keys)}",
                )
        generator = data.get("generator")
        return cls(
            org_weights=tuple(o["weight"] for o in orgs),
            pair_org=tuple(p["org"] for p in pairs),
            pair_src=tuple(p["src"] for p in pairs),
            pair_dst=tuple(p["dst"] for p in pairs),
            pair_weight=tuple(p["weight"] for p in pairs),
            pair_fidelity=tuple(p["fidelity"] for p in pairs),
            r_min=tuple(p["r_min"] for p in pairs),
            r_max=tuple(p["r_max"] for p in pairs),
            name=str(data.get("name", "custom")),
            description=str(data.get("description", "")),
            generator=dict(generator) if generator is not None else None,
            **kwargs,
        )

    def to_dict(self) -> dict[str, Any]:
        """The layout of the module docstring; ``Instance.from_dict(i.to_dict()) == i``."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        for section, keys in _SECTION_KEYS.items():
            body = {}
            for key, attr in keys.items():
                value = getattr(self, attr)
                if value is None:
                    continue
                if isinstance(value, tuple):
                    value = [list(x) if isinstance(x, tuple) else x for x in value]
                body[key] = value
            out[section] = body
        if self.generator is not None:
            out["generator"] = dict(self.generator)
        out["organisations"] = [{"weight": w} for w in self.org_weights]
        out["pairs"] = [
            {
                "org": self.pair_org[u],
                "src": self.pair_src[u],
                "dst": self.pair_dst[u],
                "weight": self.pair_weight[u],
                "fidelity": self.pair_fidelity[u],
                "r_min": self.r_min[u],
                "r_max": self.r_max[u],
            }
            for u in range(self.n_pairs)
        ]
        return out

    @classmethod
    def load(cls, name_or_path: str | Path) -> Instance:
        """Load a TOML instance from a path, or by name from the shipped ``scenarios/qvpn``."""
        path = Path(name_or_path)
        if not path.suffix and not path.exists():
            path = resources.scenario_file("qvpn", str(name_or_path))
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read instance {str(path)!r}: {exc}") from exc
        data.setdefault("name", path.stem)
        try:
            return cls.from_dict(data)
        except FieldError as exc:  # name the file the field is in
            raise FieldError(f"{path}: {exc.field}", exc.problem, exc.allowed) from None

    def to_toml(self) -> str:
        """TOML text of :meth:`to_dict` (what the shipped files are)."""
        return _dump_toml(self.to_dict())


#: TOML section -> {key: Instance attribute}.
_SECTION_KEYS: dict[str, dict[str, str]] = {
    "network": {
        "topology": "topology",
        "links": "links",
        "engineered": "engineered",
        "repeater_spacing_km": "repeater_spacing_km",
        "repeater_threshold_km": "repeater_threshold_km",
    },
    "link": {
        "alpha": "alpha",
        "attenuation_db_per_km": "attenuation_db_per_km",
        "multiplexing": "multiplexing",
        "repetition_time": "repetition_time",
        "repetition_time_s": "repetition_time_s",
        "repetition_time_per_km_s": "repetition_time_per_km_s",
    },
    "swap": {
        "success": "swap_success",
        "gate_fidelity": "gate_fidelity",
        "measurement_fidelity": "measurement_fidelity",
    },
    "distillation": {
        "protocol": "protocol",
        "thresholds": "thresholds",
        "max_rounds": "max_rounds",
    },
    "paths": {"k": "k_paths", "weights": "path_weights", "max_paths": "max_paths"},
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"cannot write {type(value).__name__} to TOML")


def _dump_toml(data: Mapping[str, Any]) -> str:
    # Top-level keys must precede the first [table] in TOML, so the workload comes first.
    lines = [f"name = {_toml_value(data['name'])}"]
    lines.append(f"description = {_toml_value(data.get('description', ''))}")
    lines += ["", "# organisation weights w_k", "organisations = ["]
    lines += [f"  {_toml_value(org)}," for org in data["organisations"]]
    lines += ["]", "", "# org, src, dst, weight (lambda_u), fidelity (F_u), r_min, r_max (pairs/s)"]
    lines.append("pairs = [")
    lines += [f"  {_toml_value(p)}," for p in data["pairs"]]
    lines.append("]")
    for section in (*_SECTION_KEYS, "generator"):
        if section in data:
            lines += ["", f"[{section}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in data[section].items()]
    return "\n".join(lines) + "\n"
