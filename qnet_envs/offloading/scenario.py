"""The offloading scenario: node tiers, tier links, the job distribution and the cost weights.

A :class:`Scenario` is frozen and validated in ``__post_init__`` (every way in: the
constructor, :meth:`Scenario.from_dict`, :meth:`Scenario.load`, ``dataclasses.replace``); a bad
field raises :class:`ScenarioError` whose message reads ``field: problem (allowed: ...)``, the
field named as it is written in a file (``edge.qubits``, ``links.cloud.outage_probability``).

TOML layout (every table optional; defaults are the suite's reading of paper 002, Sec. IV,
documented in ``docs/offloading-model.md``)::

    name = "default"
    description = "..."
    horizon = 10                 # steps per episode
    step_s = 1.0                 # seconds of processing a node does per step
    [mobile]  count, qubits, gate_time_s, gate_fidelity, power_w
    [edge]    count, qubits, gate_time_s, gate_fidelity, power_w
    [cloud]   count (0 or 1), qubits, gate_time_s, gate_fidelity, power_w
    [links.home_edge] / [links.far_edge] / [links.cloud]
              mean_rate_pairs_s, rate_shape, outage_probability, fidelity_low, fidelity_high,
              hops, energy_per_pair_j
    [jobs]    n_min, n_max, k_min, k_max, shots_min, shots_max, layers_per_qubit,
              fidelity_need_low, fidelity_need_high, arrival_probability
    [cost]    latency_weight, energy_weight, latency_scale_s, energy_scale_j, drop_penalty
    [model]   share_levels, protocol, max_rounds, advertised_noise, fidelity_resolution
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qnet_envs import resources

FAMILY = "offloading"
PROTOCOLS = ("dejmps", "bbpssw")
LINK_CLASSES = ("home_edge", "far_edge", "cloud")


class ScenarioError(ValueError):
    """A malformed offloading scenario; the message reads ``field: problem (allowed: ...)``."""

    def __init__(self, field: str, problem: str, allowed: str | None = None) -> None:
        message = f"{field}: {problem}" + (f" (allowed: {allowed})" if allowed else "")
        super().__init__(message)
        self.field, self.problem, self.allowed = field, problem, allowed


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    return repr(value)


def _number(field: str, value: Any, low: float, high: float, *, low_open=False, high_open=False):
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    allowed = f"a number in {lo}{low:g}, {high:g}{hi}"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ScenarioError(field, f"{_show(value)} is not a number", allowed)
    v = float(value)
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if math.isnan(v) or not inside:
        raise ScenarioError(field, f"{_show(value)} is out of range", allowed)


def _integer(field: str, value: Any, low: int, high: int | None = None) -> None:
    allowed = f"an integer in [{low}, {high}]" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ScenarioError(field, f"{_show(value)} is not an integer", allowed)
    if value < low or (high is not None and value > high):
        raise ScenarioError(field, f"{_show(value)} is out of range", allowed)


@dataclasses.dataclass(frozen=True)
class Tier:
    """The nodes of one tier (all alike).

    Attributes:
        count: nodes in the tier.
        qubits: computation qubits per node (a job fits when it needs at most this many).
        gate_time_s: seconds per circuit layer.
        gate_fidelity: fidelity of one circuit layer; a run of depth ``D`` is error-free with
            probability ``gate_fidelity ** D``.
        power_w: power drawn while computing, watts.
    """

    count: int
    qubits: int
    gate_time_s: float
    gate_fidelity: float
    power_w: float

    def check(self, name: str, min_count: int, max_count: int | None = None) -> None:
        _integer(f"{name}.count", self.count, min_count, max_count)
        _integer(f"{name}.qubits", self.qubits, 0)
        _number(
            f"{name}.gate_time_s", self.gate_time_s, 0.0, math.inf, low_open=True, high_open=True
        )
        _number(f"{name}.gate_fidelity", self.gate_fidelity, 0.0, 1.0, low_open=True)
        _number(f"{name}.power_w", self.power_w, 0.0, math.inf, high_open=True)


@dataclasses.dataclass(frozen=True)
class LinkClass:
    """The entanglement links of one class (mobile to its home edge, to another edge, to cloud).

    Every step each link's rate and fidelity are drawn anew: with probability
    ``outage_probability`` the rate is 0 (the link is down), else it is
    ``mean_rate_pairs_s * Gamma(rate_shape, 1 / rate_shape)`` (mean ``mean_rate_pairs_s``,
    coefficient of variation ``1 / sqrt(rate_shape)``). The elementary fidelity is uniform on the
    grid ``fidelity_low, fidelity_low + resolution, ..., fidelity_high`` and the end-to-end
    pair is ``hops`` such Werner links swapped
    (:func:`qnet_envs.physics.nested_swap_fidelity`). Each raw pair costs
    ``energy_per_pair_j`` joules (generation, distillation and teleportation together).
    """

    mean_rate_pairs_s: float
    rate_shape: float
    outage_probability: float
    fidelity_low: float
    fidelity_high: float
    hops: int
    energy_per_pair_j: float

    def check(self, name: str) -> None:
        _number(f"{name}.mean_rate_pairs_s", self.mean_rate_pairs_s, 0.0, math.inf, high_open=True)
        _number(f"{name}.rate_shape", self.rate_shape, 0.0, math.inf, low_open=True, high_open=True)
        _number(f"{name}.outage_probability", self.outage_probability, 0.0, 1.0)
        _number(f"{name}.fidelity_low", self.fidelity_low, 0.25, 1.0)
        _number(f"{name}.fidelity_high", self.fidelity_high, 0.25, 1.0)
        if self.fidelity_high < self.fidelity_low:
            raise ScenarioError(
                f"{name}.fidelity_high",
                f"{self.fidelity_high!r} is below fidelity_low {self.fidelity_low!r}",
                "fidelity_high >= fidelity_low",
            )
        _integer(f"{name}.hops", self.hops, 1)
        _number(f"{name}.energy_per_pair_j", self.energy_per_pair_j, 0.0, math.inf, high_open=True)


@dataclasses.dataclass(frozen=True)
class Jobs:
    """The quantum-autoencoder jobs: one per mobile node per step with ``arrival_probability``.

    A job compresses ``n`` (uniform in ``[n_min, n_max]``) qubits to ``k`` (uniform in
    ``[k_min, min(k_max, n - 1)]``); it needs ``2n - k + 1`` qubits (``n`` input, ``n - k``
    reference, one auxiliary), has circuit depth ``layers_per_qubit * (2n - k + 1)`` layers,
    and needs ``shots`` (uniform integer in ``[shots_min, shots_max]``) error-free runs. Each
    run consumes a fresh copy of the ``n``-qubit input state; an offloaded run needs it
    teleported (``n`` pairs, each purified to ``fidelity_need``, uniform on the fidelity grid in
    ``[fidelity_need_low, fidelity_need_high]``).
    """

    n_min: int = 6
    n_max: int = 9
    k_min: int = 3
    k_max: int = 5
    shots_min: int = 200
    shots_max: int = 1000
    layers_per_qubit: int = 4
    fidelity_need_low: float = 0.9
    fidelity_need_high: float = 0.97
    arrival_probability: float = 1.0

    def check(self) -> None:
        _integer("jobs.n_min", self.n_min, 2)
        _integer("jobs.n_max", self.n_max, self.n_min)
        _integer("jobs.k_min", self.k_min, 1, self.n_min - 1)
        _integer("jobs.k_max", self.k_max, self.k_min)
        _integer("jobs.shots_min", self.shots_min, 1)
        _integer("jobs.shots_max", self.shots_max, self.shots_min)
        _integer("jobs.layers_per_qubit", self.layers_per_qubit, 1)
        _number("jobs.fidelity_need_low", self.fidelity_need_low, 0.0, 1.0)
        _number("jobs.fidelity_need_high", self.fidelity_need_high, self.fidelity_need_low, 1.0)
        _number("jobs.arrival_probability", self.arrival_probability, 0.0, 1.0)


DEFAULT_TIERS = {
    "mobile": Tier(count=10, qubits=14, gate_time_s=5e-6, gate_fidelity=0.999, power_w=5.0),
    "edge": Tier(count=5, qubits=24, gate_time_s=1e-6, gate_fidelity=0.9995, power_w=40.0),
    "cloud": Tier(count=1, qubits=64, gate_time_s=2e-7, gate_fidelity=0.9999, power_w=400.0),
}
DEFAULT_LINKS = {
    "home_edge": LinkClass(300_000.0, 4.0, 0.05, 0.93, 0.99, 1, 2e-5),
    "far_edge": LinkClass(150_000.0, 4.0, 0.05, 0.95, 0.995, 2, 4e-5),
    "cloud": LinkClass(200_000.0, 2.0, 0.10, 0.85, 0.97, 1, 5e-5),
}


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One offloading network and its workload (units: seconds, watts, joules, pairs/s).

    Node order: mobile nodes ``0 .. M-1``, edge nodes ``M .. M+E-1``, then the cloud. Mobile
    node ``i``'s home edge is edge ``i mod E``. Costs: a step costs
    ``latency_weight * latency / latency_scale_s + energy_weight * energy / energy_scale_j +
    drop_penalty * dropped`` (``dropped`` in jobs; see ``docs/offloading-model.md``).
    """

    name: str = "custom"
    description: str = ""
    horizon: int = 10
    step_s: float = 1.0
    mobile: Tier = DEFAULT_TIERS["mobile"]
    edge: Tier = DEFAULT_TIERS["edge"]
    cloud: Tier = DEFAULT_TIERS["cloud"]
    home_edge: LinkClass = DEFAULT_LINKS["home_edge"]
    far_edge: LinkClass = DEFAULT_LINKS["far_edge"]
    cloud_link: LinkClass = DEFAULT_LINKS["cloud"]
    jobs: Jobs = Jobs()
    latency_weight: float = 0.5
    energy_weight: float = 0.5
    latency_scale_s: float = 0.1
    energy_scale_j: float = 1.0
    drop_penalty: float = 20.0
    share_levels: int = 4
    protocol: str = "dejmps"
    max_rounds: int = 8
    advertised_noise: float = 0.1
    fidelity_resolution: float = 1e-3

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError("name", f"{_show(self.name)} is not a non-empty string")
        _integer("horizon", self.horizon, 1)
        _number("step_s", self.step_s, 0.0, math.inf, low_open=True, high_open=True)
        for tier, field, min_count, max_count in (
            (self.mobile, "mobile", 1, None),
            (self.edge, "edge", 0, None),
            (self.cloud, "cloud", 0, 1),
        ):
            if not isinstance(tier, Tier):
                raise ScenarioError(field, f"{_show(tier)} is not a Tier", "a table")
            tier.check(field, min_count, max_count)
        if self.edge.count + self.cloud.count == 0:
            raise ScenarioError(
                "edge.count",
                "no edge and no cloud node: nothing to offload to",
                "edge.count + cloud.count >= 1",
            )
        for link, field in zip(self.link_classes, LINK_CLASSES, strict=True):
            if not isinstance(link, LinkClass):
                raise ScenarioError(f"links.{field}", f"{_show(link)} is not a link", "a table")
            link.check(f"links.{field}")
        if not isinstance(self.jobs, Jobs):
            raise ScenarioError("jobs", f"{_show(self.jobs)} is not a Jobs table", "a table")
        self.jobs.check()
        _number("cost.latency_weight", self.latency_weight, 0.0, 1.0)
        _number("cost.energy_weight", self.energy_weight, 0.0, 1.0)
        _number(
            "cost.latency_scale_s",
            self.latency_scale_s,
            0.0,
            math.inf,
            low_open=True,
            high_open=True,
        )
        _number(
            "cost.energy_scale_j", self.energy_scale_j, 0.0, math.inf, low_open=True, high_open=True
        )
        _number("cost.drop_penalty", self.drop_penalty, 0.0, math.inf, high_open=True)
        _integer("model.share_levels", self.share_levels, 1, 100)
        if self.protocol not in PROTOCOLS:
            raise ScenarioError(
                "model.protocol", f"got {_show(self.protocol)}", str(list(PROTOCOLS))
            )
        _integer("model.max_rounds", self.max_rounds, 0, 32)
        _number("model.advertised_noise", self.advertised_noise, 0.0, math.inf, high_open=True)
        _number("model.fidelity_resolution", self.fidelity_resolution, 1e-6, 0.1)
        for field, value in (
            ("jobs.fidelity_need_low", self.jobs.fidelity_need_low),
            ("jobs.fidelity_need_high", self.jobs.fidelity_need_high),
            *(
                (f"links.{name}.{end}", getattr(link, end))
                for name, link in zip(LINK_CLASSES, self.link_classes, strict=True)
                for end in ("fidelity_low", "fidelity_high")
            ),
        ):
            steps = value / self.fidelity_resolution
            if abs(steps - round(steps)) > 1e-6:
                raise ScenarioError(
                    field,
                    f"{value!r} is not on the fidelity grid",
                    f"a multiple of model.fidelity_resolution = {self.fidelity_resolution!r}",
                )

    # ------------------------------------------------------------------ derived sizes
    @property
    def link_classes(self) -> tuple[LinkClass, LinkClass, LinkClass]:
        return (self.home_edge, self.far_edge, self.cloud_link)

    @property
    def n_mobile(self) -> int:
        return self.mobile.count

    @property
    def n_edge(self) -> int:
        return self.edge.count

    @property
    def n_remote(self) -> int:
        """Offloading targets besides local: the edge nodes, then the cloud (if any)."""
        return self.edge.count + self.cloud.count

    @property
    def n_nodes(self) -> int:
        return self.mobile.count + self.n_remote

    @property
    def qos(self) -> tuple[float, float]:
        return (self.latency_weight, self.energy_weight)

    def with_qos(self, latency_weight: float, energy_weight: float) -> Scenario:
        """This scenario with the QoS weights ``(d, e)`` replaced (validated)."""
        return dataclasses.replace(self, latency_weight=latency_weight, energy_weight=energy_weight)

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """A scenario from the layout in the module docstring; unknown keys are errors."""
        if not isinstance(data, Mapping):
            raise ScenarioError("scenario", f"{type(data).__name__} is not a table", "a table")
        top = {"name", "description", "horizon", "step_s"}
        tables = {"mobile", "edge", "cloud", "links", "jobs", "cost", "model"}
        unknown = sorted(set(data) - top - tables)
        if unknown:
            raise ScenarioError(unknown[0], "unknown key", str(sorted(top | tables)))
        kwargs: dict[str, Any] = {k: data[k] for k in top if k in data}
        for tier in ("mobile", "edge", "cloud"):
            if tier in data:
                kwargs[tier] = _table(Tier, tier, data[tier], DEFAULT_TIERS[tier])
        links = data.get("links", {})
        if not isinstance(links, Mapping):
            raise ScenarioError("links", f"{_show(links)} is not a table", "a table")
        bad = sorted(set(links) - set(LINK_CLASSES))
        if bad:
            raise ScenarioError(f"links.{bad[0]}", "unknown link class", str(list(LINK_CLASSES)))
        for name, attr in zip(LINK_CLASSES, ("home_edge", "far_edge", "cloud_link"), strict=True):
            if name in links:
                kwargs[attr] = _table(LinkClass, f"links.{name}", links[name], DEFAULT_LINKS[name])
        if "jobs" in data:
            kwargs["jobs"] = _table(Jobs, "jobs", data["jobs"], Jobs())
        for table, keys in (
            (
                "cost",
                (
                    "latency_weight",
                    "energy_weight",
                    "latency_scale_s",
                    "energy_scale_j",
                    "drop_penalty",
                ),
            ),
            (
                "model",
                (
                    "share_levels",
                    "protocol",
                    "max_rounds",
                    "advertised_noise",
                    "fidelity_resolution",
                ),
            ),
        ):
            body = data.get(table, {})
            if not isinstance(body, Mapping):
                raise ScenarioError(table, f"{_show(body)} is not a table", "a table")
            extra = sorted(set(body) - set(keys))
            if extra:
                raise ScenarioError(f"{table}.{extra[0]}", "unknown key", str(list(keys)))
            kwargs.update({k: body[k] for k in keys if k in body})
        return cls(**kwargs)

    @classmethod
    def load(cls, name_or_path: str | Path) -> Scenario:
        """A shipped scenario by name (``scenarios/offloading/<name>.toml``) or a TOML path;
        a file's errors carry its path in front."""
        path = Path(name_or_path)
        if path.suffix != ".toml" and not path.exists():
            path = resources.scenario_file(FAMILY, str(name_or_path))
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ScenarioError(str(path), f"cannot read the file ({error})") from error
        data.setdefault("name", path.stem)
        try:
            return cls.from_dict(data)
        except ScenarioError as error:
            raise ScenarioError(f"{path}: {error.field}", error.problem, error.allowed) from None


def _table(kind: type, field: str, body: Any, default: Any) -> Any:
    if not isinstance(body, Mapping):
        raise ScenarioError(field, f"{_show(body)} is not a table", "a table")
    names = [f.name for f in dataclasses.fields(kind)]
    extra = sorted(set(body) - set(names))
    if extra:
        raise ScenarioError(f"{field}.{extra[0]}", "unknown key", str(names))
    return dataclasses.replace(default, **dict(body))
