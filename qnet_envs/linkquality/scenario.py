"""Typed, validated scenarios of link-quality-aware routing.

A scenario fixes the network (a topology-layer generator or a shipped real topology), how each
link's success probability ``p`` and fidelity ``F`` drift, how they are measured, the requests
and the reward. It is loaded from a dict (:meth:`LinkQualityScenario.from_dict`) or a TOML file
(:meth:`LinkQualityScenario.load`, shipped names in ``scenarios/linkquality/``). Layout::

    name = "waxman-50"                     # optional; a file's stem by default
    description = "..."                    # optional
    network_seed = 0                       # seeds the topology and the nominal link values
    k_paths = 4                            # candidate paths per request (the env's action count)

    [topology]                             # kind = "waxman" | "clustered" | "zoo"
    kind = "waxman"
    n_nodes = 50                           # waxman: n_nodes, alpha, beta, width_km
    # clustered: n_clusters, cluster_size, link_length_km; zoo: name (a shipped topology)
    length_scale = 1.0                     # every link length is multiplied by this

    [links]      attenuation_db_per_km, source_efficiency, p_spread, fidelity_low, fidelity_high
    [drift]      reversion, p_sigma, fidelity_sigma
    [bursts]     rate, mean_length, p_factor, fidelity_drop
    [failures]   rate, mean_downtime
    [measurement] probe_rate, probe_attempts, fidelity_noise, ema
    [requests]   per_episode, threshold_low, threshold_high, max_attempts
    [timing]     attempt_overhead_ms, fiber_speed_km_per_ms
    [reward]     success, fidelity, latency_per_ms, invalid_action

Every section and field is optional except ``[topology]``'s ``kind``; defaults are the
dataclass defaults below, and what each field means (with units) is in the section's docstring
and in ``docs/linkquality-model.md``. Validation happens once, in ``__post_init__`` of each
section type, so the constructor, ``from_dict``, ``load`` and ``dataclasses.replace`` check the
same way. Errors are :class:`~qnet_envs.routing.scenario.ScenarioError` (a ``ValueError``)
reading ``field: problem (allowed: ...)``, e.g. ``drift.reversion: 1.5 is out of range
(allowed: a number in (0, 1])``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from qnet_envs import resources
from qnet_envs.routing.scenario import ScenarioError, field_error, show

FAMILY = "linkquality"
TOPOLOGY_KINDS: tuple[str, ...] = ("waxman", "clustered", "zoo")

# A range spec: (low, high, low_open, high_open, integer).
_Range = tuple[float, float, bool, bool, bool]


def _describe(spec: _Range) -> str:
    low, high, low_open, high_open, integer = spec
    what = "an integer" if integer else "a number"
    if math.isinf(low):
        return f"{what} {'<' if high_open else '<='} {high:g}"
    if math.isinf(high):
        return f"{what} {'>' if low_open else '>='} {low:g}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"{what} in {left}{low:g}, {high:g}{right}"


def check_number(field: str, value: Any, spec: _Range) -> int | float:
    """``value`` as a plain ``int``/``float`` if it lies in ``spec``; else a ScenarioError."""
    low, high, low_open, high_open, integer = spec
    allowed = _describe(spec)
    if integer:
        if isinstance(value, bool) or not isinstance(value, int):
            raise field_error(field, f"{show(value)} is not an integer", allowed)
        number: int | float = int(value)
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise field_error(field, f"{show(value)} is not a number", allowed)
        number = float(value)
        if not math.isfinite(number):
            raise field_error(field, f"{number} is not finite", allowed)
    too_low = number <= low if low_open else number < low
    too_high = number >= high if high_open else number > high
    if too_low or too_high:
        raise field_error(field, f"{number:g} is out of range", allowed)
    return number


class _Section:
    """A frozen dataclass whose numeric fields are range-checked from ``RANGES``."""

    SECTION: ClassVar[str] = ""
    RANGES: ClassVar[dict[str, _Range]] = {}

    def __post_init__(self) -> None:
        for name, spec in self.RANGES.items():
            value = check_number(f"{self.SECTION}.{name}", getattr(self, name), spec)
            object.__setattr__(self, name, value)
        self._check()

    def _check(self) -> None:
        """Checks across fields (overridden where needed)."""

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise field_error(cls.SECTION, f"got {show(data)}", "a table")
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise field_error(cls.SECTION, f"unknown field(s) {unknown}", f"{sorted(known)}")
        return cls(**data)


_PROB = (0.0, 1.0, False, False, False)
_POSITIVE = (0.0, math.inf, True, False, False)
_NONNEG = (0.0, math.inf, False, False, False)


@dataclasses.dataclass(frozen=True)
class TopologySpec(_Section):
    """The graph. ``kind``: ``"waxman"`` (``n_nodes`` nodes in a ``width_km`` square, links with
    probability ``beta * exp(-d / (alpha L))``, :func:`qnet_envs.topology.waxman_topology`),
    ``"clustered"`` (:func:`qnet_envs.topology.clustered_topology`, ``n_clusters`` x
    ``cluster_size`` users plus hubs, every link ``link_length_km``) or ``"zoo"`` (the shipped
    real topology ``name``, largest component). ``length_scale`` multiplies every link length
    (km); use it to read a continental topology as a regional one."""

    SECTION: ClassVar[str] = "topology"
    RANGES: ClassVar[dict[str, _Range]] = {
        "n_nodes": (2, 1000, False, False, True),
        "alpha": _POSITIVE,
        "beta": (0.0, 1.0, True, False, False),
        "width_km": _POSITIVE,
        "n_clusters": (3, 100, False, False, True),
        "cluster_size": (3, 100, False, False, True),
        "link_length_km": _POSITIVE,
        "length_scale": _POSITIVE,
    }
    kind: str = "waxman"
    n_nodes: int = 50
    alpha: float = 0.15
    beta: float = 0.4
    width_km: float = 100.0
    n_clusters: int = 6
    cluster_size: int = 6
    link_length_km: float = 10.0
    name: str = "Surfnet"
    length_scale: float = 1.0

    def _check(self) -> None:
        if self.kind not in TOPOLOGY_KINDS:
            raise field_error("topology.kind", f"got {show(self.kind)}", f"{list(TOPOLOGY_KINDS)}")
        if self.kind == "zoo":
            shipped = resources.shipped_topologies()
            if self.name not in shipped:
                raise field_error("topology.name", f"got {show(self.name)}", f"{shipped}")


@dataclasses.dataclass(frozen=True)
class LinkSpec(_Section):
    """Nominal link values, drawn once per network (``network_seed``). A link of length ``d``
    km has loss ``attenuation_db_per_km * d`` dB, transmissivity ``eta`` (physics core
    :func:`~qnet_envs.physics.fiber_transmissivity`) and nominal success probability per attempt
    ``p_nom = source_efficiency * u * eta`` with ``u ~ U(1 - p_spread, 1)``; its nominal
    fidelity (Werner link) is ``F_nom ~ U(fidelity_low, fidelity_high)``."""

    SECTION: ClassVar[str] = "links"
    RANGES: ClassVar[dict[str, _Range]] = {
        "attenuation_db_per_km": _NONNEG,
        "source_efficiency": (0.0, 1.0, True, False, False),
        "p_spread": (0.0, 1.0, False, True, False),
        "fidelity_low": (0.25, 1.0, False, False, False),
        "fidelity_high": (0.25, 1.0, False, False, False),
    }
    attenuation_db_per_km: float = 0.2
    source_efficiency: float = 0.9
    p_spread: float = 0.6
    fidelity_low: float = 0.93
    fidelity_high: float = 0.995

    def _check(self) -> None:
        if self.fidelity_high < self.fidelity_low:
            raise field_error(
                "links.fidelity_high",
                f"{self.fidelity_high:g} is below fidelity_low {self.fidelity_low:g}",
                "a number in [fidelity_low, 1]",
            )


@dataclasses.dataclass(frozen=True)
class DriftSpec(_Section):
    """Slow drift, per slot (one slot per request). Two Ornstein-Uhlenbeck (AR(1)) processes
    per link, ``x <- (1 - reversion) x + sqrt(1 - (1 - reversion)^2) sigma N(0, 1)``, started
    from their stationary law ``N(0, sigma^2)``: ``p = p_nom exp(x_p)`` with ``sigma =
    p_sigma``, ``F = F_nom + x_F`` with ``sigma = fidelity_sigma``."""

    SECTION: ClassVar[str] = "drift"
    RANGES: ClassVar[dict[str, _Range]] = {
        "reversion": (0.0, 1.0, True, False, False),
        "p_sigma": _NONNEG,
        "fidelity_sigma": _NONNEG,
    }
    reversion: float = 0.05
    p_sigma: float = 0.4
    fidelity_sigma: float = 0.03


@dataclasses.dataclass(frozen=True)
class BurstSpec(_Section):
    """Bursts of noise: each slot a link not in a burst starts one with probability ``rate``;
    a burst lasts a geometric number of slots of mean ``mean_length`` (>= 1); during it ``p``
    is multiplied by ``p_factor`` and ``F`` lowered by ``fidelity_drop``."""

    SECTION: ClassVar[str] = "bursts"
    RANGES: ClassVar[dict[str, _Range]] = {
        "rate": _PROB,
        "mean_length": (1.0, math.inf, False, False, False),
        "p_factor": _PROB,
        "fidelity_drop": (0.0, 0.75, False, False, False),
    }
    rate: float = 0.01
    mean_length: float = 10.0
    p_factor: float = 0.25
    fidelity_drop: float = 0.1


@dataclasses.dataclass(frozen=True)
class FailureSpec(_Section):
    """Failures: each slot a working link fails with probability ``rate`` (then ``p = 0``) and
    recovers after a geometric number of slots of mean ``mean_downtime`` (>= 1)."""

    SECTION: ClassVar[str] = "failures"
    RANGES: ClassVar[dict[str, _Range]] = {
        "rate": _PROB,
        "mean_downtime": (1.0, math.inf, False, False, False),
    }
    rate: float = 0.002
    mean_downtime: float = 30.0


@dataclasses.dataclass(frozen=True)
class MeasurementSpec(_Section):
    """What the router sees. Each slot each link is probed with probability ``probe_rate``:
    ``probe_attempts`` attempts give ``successes / probe_attempts`` as a measured ``p`` and, if
    one succeeded, ``F + N(0, fidelity_noise^2)`` (clipped to [0, 1]) as a measured ``F``. A
    served request measures its links the same way from its own attempts. ``ema`` is the weight
    of a new measurement in the running averages of the link features."""

    SECTION: ClassVar[str] = "measurement"
    RANGES: ClassVar[dict[str, _Range]] = {
        "probe_rate": _PROB,
        "probe_attempts": (1, 10_000, False, False, True),
        "fidelity_noise": _NONNEG,
        "ema": (0.0, 1.0, True, False, False),
    }
    probe_rate: float = 0.1
    probe_attempts: int = 5
    fidelity_noise: float = 0.05
    ema: float = 0.3


@dataclasses.dataclass(frozen=True)
class RequestSpec(_Section):
    """Requests: ``per_episode`` per episode, each between a uniformly random pair of distinct
    nodes with a fidelity threshold ``~ U(threshold_low, threshold_high)``. Every link of the
    chosen path gets up to ``max_attempts`` attempts (the time budget)."""

    SECTION: ClassVar[str] = "requests"
    RANGES: ClassVar[dict[str, _Range]] = {
        "per_episode": (1, 100_000, False, False, True),
        "threshold_low": (0.25, 1.0, False, False, False),
        "threshold_high": (0.25, 1.0, False, False, False),
        "max_attempts": (1, 100_000, False, False, True),
    }
    per_episode: int = 100
    threshold_low: float = 0.5
    threshold_high: float = 0.75
    max_attempts: int = 15

    def _check(self) -> None:
        if self.threshold_high < self.threshold_low:
            raise field_error(
                "requests.threshold_high",
                f"{self.threshold_high:g} is below threshold_low {self.threshold_low:g}",
                "a number in [threshold_low, 1]",
            )


@dataclasses.dataclass(frozen=True)
class TimingSpec(_Section):
    """Latency. One attempt on a link of ``d`` km takes ``2 d / fiber_speed_km_per_ms +
    attempt_overhead_ms`` ms (a heralding round trip); the swaps' outcomes travel back along
    the path (one more round trip over its length)."""

    SECTION: ClassVar[str] = "timing"
    RANGES: ClassVar[dict[str, _Range]] = {
        "attempt_overhead_ms": _NONNEG,
        "fiber_speed_km_per_ms": _POSITIVE,
    }
    attempt_overhead_ms: float = 0.1
    fiber_speed_km_per_ms: float = 200.0


@dataclasses.dataclass(frozen=True)
class RewardSpec(_Section):
    """Reward of a request: ``success * served + fidelity * F_end * served - latency_per_ms *
    latency_ms``; a request given an empty candidate slot gets ``invalid_action`` instead."""

    SECTION: ClassVar[str] = "reward"
    RANGES: ClassVar[dict[str, _Range]] = {
        "success": _NONNEG,
        "fidelity": _NONNEG,
        "latency_per_ms": _NONNEG,
        "invalid_action": (-math.inf, 0.0, False, False, False),
    }
    success: float = 1.0
    fidelity: float = 0.0
    latency_per_ms: float = 0.01
    invalid_action: float = -1.0


_SECTIONS: dict[str, type] = {
    "topology": TopologySpec,
    "links": LinkSpec,
    "drift": DriftSpec,
    "bursts": BurstSpec,
    "failures": FailureSpec,
    "measurement": MeasurementSpec,
    "requests": RequestSpec,
    "timing": TimingSpec,
    "reward": RewardSpec,
}
_TOP_LEVEL = frozenset({"name", "description", "network_seed", "k_paths", *_SECTIONS})


@dataclasses.dataclass(frozen=True)
class LinkQualityScenario:
    """One link-quality routing scenario: the sections above, the seed, ``k_paths``.

    Attributes:
        name, description: labels.
        network_seed: seeds the topology generator and the nominal link values (an integer in
            [0, 2^32)); episodes draw their own randomness from the env's seed.
        k_paths: candidate paths offered per request, in [1, 16].
    """

    name: str = "unnamed"
    description: str = ""
    network_seed: int = 0
    k_paths: int = 4
    topology: TopologySpec = dataclasses.field(default_factory=TopologySpec)
    links: LinkSpec = dataclasses.field(default_factory=LinkSpec)
    drift: DriftSpec = dataclasses.field(default_factory=DriftSpec)
    bursts: BurstSpec = dataclasses.field(default_factory=BurstSpec)
    failures: FailureSpec = dataclasses.field(default_factory=FailureSpec)
    measurement: MeasurementSpec = dataclasses.field(default_factory=MeasurementSpec)
    requests: RequestSpec = dataclasses.field(default_factory=RequestSpec)
    timing: TimingSpec = dataclasses.field(default_factory=TimingSpec)
    reward: RewardSpec = dataclasses.field(default_factory=RewardSpec)

    def __post_init__(self) -> None:
        for field in ("name", "description"):
            if not isinstance(getattr(self, field), str):
                raise field_error(field, f"got {show(getattr(self, field))}", "a string")
        seed = check_number("network_seed", self.network_seed, (0, 2**32 - 1, False, False, True))
        object.__setattr__(self, "network_seed", seed)
        k = check_number("k_paths", self.k_paths, (1, 16, False, False, True))
        object.__setattr__(self, "k_paths", k)
        for section, cls in _SECTIONS.items():
            if not isinstance(getattr(self, section), cls):
                raise field_error(section, f"got {show(getattr(self, section))}", cls.__name__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkQualityScenario:
        """Build and validate a scenario from the documented layout."""
        if not isinstance(data, Mapping):
            raise field_error("scenario", f"got {type(data).__name__}", "a table of the fields")
        unknown = sorted(set(data) - _TOP_LEVEL)
        if unknown:
            raise field_error("scenario", f"unknown field(s) {unknown}", f"{sorted(_TOP_LEVEL)}")
        if "topology" not in data or "kind" not in data.get("topology", {}):
            raise field_error("topology.kind", "missing required field", f"{list(TOPOLOGY_KINDS)}")
        kwargs: dict[str, Any] = {
            key: data[key]
            for key in ("name", "description", "network_seed", "k_paths")
            if key in data
        }
        for section, section_cls in _SECTIONS.items():
            if section in data:
                kwargs[section] = section_cls.from_dict(data[section])
        return cls(**kwargs)

    @classmethod
    def load(cls, path_or_name: str | Path) -> LinkQualityScenario:
        """Load a TOML file by path, or by name from the shipped ``scenarios/linkquality``."""
        path = Path(path_or_name)
        if not path.suffix:
            path = resources.scenario_file(FAMILY, str(path_or_name))
        if not path.is_file():
            raise FileNotFoundError(
                f"no scenario file {str(path)!r}; pass a path to a .toml file or one of the "
                f"shipped names: {resources.shipped_names(FAMILY)}"
            )
        with path.open("rb") as handle:
            try:
                data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                raise ScenarioError(f"{path}: not valid TOML: {error}") from error
        data.setdefault("name", path.stem)
        try:
            return cls.from_dict(data)
        except ScenarioError as error:
            raise ScenarioError(
                f"{path}: {error}", field=error.field, problem=error.problem, allowed=error.allowed
            ) from error

    def to_dict(self) -> dict[str, Any]:
        """The layout of :meth:`from_dict` (every field written out)."""
        return dataclasses.asdict(self)
