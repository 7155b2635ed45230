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
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import reverse
from qnet_envs.routing.scenario import (
    Scenario,
    ScenarioError,
    field_error,
    load_scenario_file,
    parse_node_ref,
    parse_state,
    show,
)

_STAGE_KEYS = frozenset({"events", "description"})
_EVENT_KEYS = frozenset({"u", "v", "state"})
_STATE_FIELD = re.compile(r"edges\[(\d+)\]\.state")


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
        # The one place an evolving scenario is validated (each stage, a Scenario, validated
        # itself when it was made), whatever the way in: from_dict, load or the constructor.
        for field in ("name", "description"):
            if not isinstance(getattr(self, field), str):
                raise field_error(field, f"got {show(getattr(self, field))}", "a string")
        if isinstance(self.stages, str) or not isinstance(self.stages, Sequence):
            raise field_error("stages", f"got {show(self.stages)}", "a tuple of Scenarios")
        stages = tuple(self.stages)
        if not stages:
            raise field_error("stages", "no stage", "at least one stage")
        for i, stage in enumerate(stages):
            if not isinstance(stage, Scenario):
                raise field_error(
                    f"stages[{i}]", f"a {type(stage).__name__}, not a Scenario", "Scenario"
                )
            first = stages[0]
            same = (
                stage.node_names == first.node_names
                and np.array_equal(stage.edges, first.edges)
                and (stage.alice, stage.bob) == (first.alice, first.bob)
            )
            if not same:
                raise field_error(
                    f"stages[{i}]",
                    "other nodes, links, alice or bob than stage 0",
                    "the same topology and endpoints in every stage",
                )
        object.__setattr__(self, "stages", stages)

    @property
    def num_stages(self) -> int:
        return len(self.stages)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvolvingScenario:
        """Build and validate an evolving scenario from the documented dict layout."""
        if not isinstance(data, Mapping):
            raise field_error(
                "scenario", f"a {type(data).__name__}, not a mapping", "a table of the fields"
            )
        if "stages" not in data:
            raise field_error("stages", "missing required field")
        stages = data["stages"]
        if not isinstance(stages, list | tuple) or not stages:
            raise field_error(
                "stages", f"got {show(stages)}", "a non-empty list of {events, description} tables"
            )
        base = Scenario.from_dict({k: v for k, v in data.items() if k != "stages"})
        states = base.states.copy()
        built = []
        for i, stage in enumerate(stages):
            states, text, events = _apply_stage(base, states, i, stage)
            try:
                built.append(
                    dataclasses.replace(
                        base, states=states, name=f"{base.name}/stage-{i}", description=text
                    )
                )
            except ScenarioError as error:
                # Stage i - 1 was valid, so the culprit is an event of stage i: name it.
                edge = _STATE_FIELD.fullmatch(error.field or "")
                if edge is None or int(edge.group(1)) not in events:
                    raise
                where = f"{events[int(edge.group(1))]}.state"
                raise field_error(where, error.problem or "", error.allowed) from None
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
) -> tuple[NDArray[np.complex128], str, dict[int, str]]:
    """Stage ``i``'s states (``states`` with its events applied), its description, and for
    each link an event changed, where that (last) event is."""
    where = f"stages[{i}]"
    if not isinstance(stage, Mapping):
        raise field_error(where, f"a {type(stage).__name__}", "a table with 'events'")
    unknown = sorted(set(stage) - _STAGE_KEYS)
    if unknown:
        raise field_error(where, f"unknown field(s) {unknown}", f"{sorted(_STAGE_KEYS)}")
    if "events" not in stage:
        raise field_error(f"{where}.events", "missing required field", "a list, possibly empty")
    events = stage["events"]
    if not isinstance(events, list | tuple):
        raise field_error(
            f"{where}.events", f"got {show(events)}", "a list of {u, v, state} tables"
        )
    states = states.copy()
    changed = {}
    for j, event in enumerate(events):
        changed_where = f"{where}.events[{j}]"
        edge, rho = _parse_event(base, changed_where, event)
        states[edge] = rho
        changed[edge] = changed_where
    return states, str(stage.get("description", "")), changed


def _parse_event(base: Scenario, where: str, event: Any) -> tuple[int, NDArray[np.complex128]]:
    """``(edge index, state with its first qubit at the edge's stored u)`` of one event."""
    if not isinstance(event, Mapping) or set(event) != _EVENT_KEYS:
        got = f"keys {sorted(event)}" if isinstance(event, Mapping) else type(event).__name__
        raise field_error(where, f"got {got}", "a table with exactly the keys u, v, state")
    index = {name: k for k, name in enumerate(base.node_names)}
    u = parse_node_ref(f"{where}.u", event["u"], base.node_names, index)
    v = parse_node_ref(f"{where}.v", event["v"], base.node_names, index)
    rho = parse_state(where, event["state"])
    matches = _edges_between(base.edges, u, v)
    if len(matches) != 1:
        problem = "is not a link of the scenario" if not matches else "names parallel links"
        raise field_error(
            where,
            f"({base.node_names[u]}, {base.node_names[v]}) {problem}",
            "the two end nodes of exactly one existing link",
        )
    edge = matches[0]
    stored_u = int(base.edges[edge][0])
    return edge, (rho if stored_u == u else reverse(rho))


def _edges_between(edges: NDArray[np.int64], u: int, v: int) -> Sequence[int]:
    hits = ((edges[:, 0] == u) & (edges[:, 1] == v)) | ((edges[:, 0] == v) & (edges[:, 1] == u))
    return [int(k) for k in np.flatnonzero(hits)]
