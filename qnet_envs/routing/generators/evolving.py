"""The evolving-network generator (paper Sec. 4.4): stages of families on one network.

Each stage is a design whose damage breaks every optimal route of the stage before; the
stages' differences become the events of an :class:`EvolvingScenario`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from qnet_envs.routing.evolving import EvolvingScenario
from qnet_envs.routing.generators.designer import design
from qnet_envs.routing.generators.families import (
    AMPLITUDE_DAMPING,
    PHASE_NOISE,
    WHITE_NOISE,
    Design,
    Family,
)
from qnet_envs.routing.generators.layout import (
    DAMAGED_FIDELITY,
    DAMPING_THETA,
    HEALTHY_FIDELITY,
    PAPER_MAX_ACTIONS,
    WORKING_FIDELITY,
    NetworkLayout,
    Route,
)
from qnet_envs.routing.generators.search import optimal_routes

#: (family, links of the optimal route) per stage of the shipped evolving network: it starts
#: undamaged and slightly damaged (stages 0, 1), ends slightly damaged (stage 9), and goes
#: through every noise type in between (paper Sec. 4.4, Fig. 12).
EVOLVING_SCHEDULE: tuple[tuple[Family, int], ...] = (
    (WHITE_NOISE, 7),
    (WHITE_NOISE, 9),
    (AMPLITUDE_DAMPING, 9),
    (PHASE_NOISE, 11),
    (WHITE_NOISE, 11),
    (AMPLITUDE_DAMPING, 7),
    (PHASE_NOISE, 13),
    (WHITE_NOISE, 11),
    (AMPLITUDE_DAMPING, 11),
    (WHITE_NOISE, 9),
)


@dataclasses.dataclass(frozen=True)
class EvolvingDesign:
    """A generated evolving network and the design of each of its stages.

    Attributes:
        spec: the dict layout of :meth:`EvolvingScenario.from_dict` (base + ``stages``).
        stages: the full design of each stage (its states, route and gadget).
    """

    spec: dict[str, Any]
    stages: tuple[Design, ...]

    def scenario(self) -> EvolvingScenario:
        """The validated :class:`EvolvingScenario`."""
        return EvolvingScenario.from_dict(self.spec)


@dataclasses.dataclass(frozen=True, eq=False)
class EvolvingGenerator:
    """Seeded generator of an evolving network (paper Sec. 4.4).

    Stage ``i`` is a design of ``schedule[i]``'s family, made from the undamaged network, whose
    optimal route has ``schedule[i]``'s number of links and in which every optimal route of stage
    ``i - 1`` has ``F < WORKING_FIDELITY`` (links are damaged until it does). Its events are
    the links whose state differs from stage ``i - 1``'s: damage (white noise, amplitude
    damping, phase shifts) and healing back to ``F = HEALTHY_FIDELITY``. Every stage has a
    route with ``F > WORKING_FIDELITY``: its designed route.

    Attributes:
        layout: topology and endpoints; default the paper's clustered network.
        seed: stage ``i`` uses ``numpy.random.default_rng([seed, 1000 + i])``.
        schedule: ``(family, links)`` per stage.
        max_actions: the action budget of every stage.
        name: scenario name.
    """

    layout: NetworkLayout = dataclasses.field(default_factory=NetworkLayout.clustered)
    seed: int = 0
    schedule: tuple[tuple[Family, int], ...] = EVOLVING_SCHEDULE
    max_actions: int = PAPER_MAX_ACTIONS
    name: str = "evolving"

    def __call__(self) -> EvolvingScenario:
        return self.design().scenario()

    def design(self) -> EvolvingDesign:
        """The :class:`EvolvingDesign` (deterministic for a given generator)."""
        stages: list[Design] = []
        previous: list[Route] = []
        for i, (family, links) in enumerate(self.schedule):
            rng = np.random.default_rng([self.seed, 1000 + i])
            text = f"stage {i}: {family.name}, optimal route {links - 1} intermediary nodes" + (
                "" if i == 0 else f"; stage {i - 1}'s optimal routes now have F < 0.8"
            )
            stage = design(
                family,
                self.layout,
                links,
                rng,
                name=f"{self.name}/stage-{i}",
                description=text,
                max_actions=self.max_actions,
                must_break=previous,
            )
            stages.append(stage)
            previous = optimal_routes(self.layout, family, stage)
        return EvolvingDesign(self._spec(stages), tuple(stages))

    def _spec(self, stages: Sequence[Design]) -> dict[str, Any]:
        base = dict(stages[0].spec)
        names = ", ".join(f"{f.name} ({links - 1})" for f, links in self.schedule)
        base["name"] = self.name
        base["description"] = (
            f"Evolving network (paper Sec. 4.4), postselected swapping: {len(stages)} stages on "
            f"one network; each stage's events damage links (white noise F = {DAMAGED_FIDELITY}, "
            f"amplitude damping theta = {DAMPING_THETA} rad, phase shift phi = pi/2 rad) or heal "
            f"them (F = {HEALTHY_FIDELITY}) so that every optimal route of the previous stage "
            f"falls below F = {WORKING_FIDELITY} while a route above it exists. Stage families "
            f"(optimal intermediary nodes): {names}. max_actions = {self.max_actions}, the "
            f"paper's. Network: {self.layout.label}."
        )
        base["stages"] = stage_entries(stages)
        return base


def stage_entries(stages: Sequence[Design]) -> list[dict[str, Any]]:
    """The ``stages`` list of :meth:`EvolvingScenario.from_dict` from each stage's design:
    stage 0 without events, then per stage the links whose entry differs from the stage
    before, with the stage design's description."""
    entries = [{"description": stages[0].spec["description"], "events": []}]
    for before, after in itertools.pairwise(stages):
        events = [
            new
            for old, new in zip(before.spec["edges"], after.spec["edges"], strict=True)
            if old != new
        ]
        entries.append({"description": after.spec["description"], "events": events})
    return entries
