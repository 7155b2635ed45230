"""An evolving network: one topology whose link states change in stages.

Reference: "Routing in quantum networks using reinforcement learning", Sec. 4.4: the network
undergoes ten events in which connections become damaged or unperturbed (white noise,
amplitude damping, correlated phase noise); each event breaks the route found before.

The dict (and TOML) layout is a base scenario, with exactly the fields of
:meth:`Scenario.from_dict`, plus a list of stages::

    {
      "name": "evolving", "nodes": 65, "edges": [...], "alice": 0, "bob": 20, ...,
      "stages": [
        {"events": []},                                          # stage 0: the base as is
        {"description": "white noise", "events": [
            {"u": 3, "v": 4, "state": {"kind": "werner", "fidelity": 0.6}},
            {"u": 9, "v": 8, "state": {"kind": "amplitude_damped", "theta": 0.2}},
        ]},
        ...
      ],
    }

Stage ``i``'s link states are stage ``i - 1``'s (stage 0: the base's) with the state of each
event's link replaced. An event names its link by its two end nodes (indices, or names when
``nodes`` is a list), in either order; its state has its first qubit at the event's ``u``, and is
stored reversed when the scenario lists the link as ``(v, u)``. Each stage table takes
``events`` (required, possibly empty) and ``description`` (optional).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import reverse
from qnet_envs.routing.scenario import (
    Scenario,
    ScenarioError,
    load_scenario_file,
    parse_node_ref,
    parse_state,
)

_STAGE_KEYS = frozenset({"events", "description"})
_EVENT_KEYS = frozenset({"u", "v", "state"})


@dataclasses.dataclass(frozen=True, eq=False)
class EvolvingScenario:
    """A sequence of scenarios on one topology (same nodes, links, endpoints and rules).

    Attributes:
        name: a label for logs and tables.
        stages: one :class:`Scenario` per stage, in order; stage ``i`` is named
            ``"<name>/stage-<i>"``.
        description: free text.
    """

    name: str
    stages: tuple[Scenario, ...]
    description: str = ""

    def __post_init__(self) -> None:
        if not self.stages:
            raise ScenarioError("'stages' must list at least one stage")
        first = self.stages[0]
        for i, stage in enumerate(self.stages):
            if not isinstance(stage, Scenario):
                raise ScenarioError(f"stages[{i}] must be a Scenario, got {type(stage).__name__}")
            same = (
                stage.node_names == first.node_names
                and np.array_equal(stage.edges, first.edges)
                and (stage.alice, stage.bob) == (first.alice, first.bob)
            )
            if not same:
                raise ScenarioError(f"stages[{i}] must share stage 0's nodes, links, alice and bob")

    @property
    def num_stages(self) -> int:
        return len(self.stages)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvolvingScenario:
        """Build and validate an evolving scenario from the documented dict layout."""
        if not isinstance(data, Mapping):
            raise ScenarioError(f"scenario must be a mapping, got {type(data).__name__}")
        if "stages" not in data:
            raise ScenarioError("missing required field 'stages'")
        stages = data["stages"]
        if not isinstance(stages, list | tuple) or not stages:
            raise ScenarioError("'stages' must be a non-empty list of {events, description} tables")
        base = Scenario.from_dict({k: v for k, v in data.items() if k != "stages"})
        states = base.states.copy()
        built = []
        for i, stage in enumerate(stages):
            states, text = _apply_stage(base, states, i, stage)
            built.append(
                dataclasses.replace(
                    base.with_states(states.copy(), name=f"{base.name}/stage-{i}"),
                    description=text,
                )
            )
        return cls(name=base.name, stages=tuple(built), description=base.description)

    @classmethod
    def load(cls, path_or_name: str | Path) -> EvolvingScenario:
        """Load a TOML file from a path, or by name from the shipped ``scenarios/routing``."""
        return load_scenario_file(path_or_name, cls.from_dict)


def is_evolving(data: Mapping[str, Any]) -> bool:
    """Whether a scenario dict (or parsed TOML file) is an evolving one (has ``stages``)."""
    return isinstance(data, Mapping) and "stages" in data


def _apply_stage(
    base: Scenario, states: NDArray[np.complex128], i: int, stage: Any
) -> tuple[NDArray[np.complex128], str]:
    """Stage ``i``'s states (``states`` with its events applied) and its description."""
    where = f"stages[{i}]"
    if not isinstance(stage, Mapping):
        raise ScenarioError(f"{where} must be a table with 'events', got {type(stage).__name__}")
    unknown = sorted(set(stage) - _STAGE_KEYS)
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(_STAGE_KEYS)}")
    if "events" not in stage:
        raise ScenarioError(f"{where}: missing required field 'events' (it may be empty)")
    events = stage["events"]
    if not isinstance(events, list | tuple):
        raise ScenarioError(f"{where}.events must be a list of {{u, v, state}} tables")
    states = states.copy()
    for j, event in enumerate(events):
        edge, rho = _parse_event(base, f"{where}.events[{j}]", event)
        states[edge] = rho
    return states, str(stage.get("description", ""))


def _parse_event(base: Scenario, where: str, event: Any) -> tuple[int, NDArray[np.complex128]]:
    """``(edge index, state with its first qubit at the edge's stored u)`` of one event."""
    if not isinstance(event, Mapping) or set(event) != _EVENT_KEYS:
        got = sorted(event) if isinstance(event, Mapping) else type(event).__name__
        raise ScenarioError(f"{where} must have exactly the keys ['state', 'u', 'v'], got {got}")
    index = {name: k for k, name in enumerate(base.node_names)}
    u = parse_node_ref(f"{where}.u", event["u"], base.node_names, index)
    v = parse_node_ref(f"{where}.v", event["v"], base.node_names, index)
    rho = parse_state(where, event["state"])
    matches = _edges_between(base.edges, u, v)
    if len(matches) != 1:
        problem = "is not a link of the scenario" if not matches else "names parallel links"
        raise ScenarioError(
            f"{where}: ({base.node_names[u]}, {base.node_names[v]}) {problem}; an event must "
            f"name exactly one existing link by its two end nodes"
        )
    edge = matches[0]
    stored_u = int(base.edges[edge][0])
    return edge, (rho if stored_u == u else reverse(rho))


def _edges_between(edges: NDArray[np.int64], u: int, v: int) -> Sequence[int]:
    hits = ((edges[:, 0] == u) & (edges[:, 1] == v)) | ((edges[:, 0] == v) & (edges[:, 1] == u))
    return [int(k) for k in np.flatnonzero(hits)]
