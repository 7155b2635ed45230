"""Seeded generators of the white-noise, amplitude-damping and phase-noise series.

A :class:`FamilyGenerator` turns a number of intermediary nodes into a design of its family;
:data:`FAMILIES` holds the three shipped series by scenario-name prefix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import networkx as nx
import numpy as np

from qnet_envs.routing.generators.designer import design
from qnet_envs.routing.generators.families import (
    AMPLITUDE_DAMPING,
    PHASE_NOISE,
    WHITE_NOISE,
    Design,
    Family,
)
from qnet_envs.routing.generators.layout import ACTION_SLACK, PAPER_MAX_ACTIONS, NetworkLayout
from qnet_envs.routing.scenario import Scenario


def _description(family: Family, layout: NetworkLayout, design_: Design, max_actions: int) -> str:
    slack = (
        f"max_actions = {max_actions}: the paper's 15"
        if max_actions == PAPER_MAX_ACTIONS
        else f"max_actions = {max_actions}: the optimal route's {len(design_.route)} links plus "
        f"{ACTION_SLACK} (the paper's 15 would not fit it with slack)"
    )
    return (
        f"{family.summary} Optimal route: {design_.intermediaries} intermediary nodes "
        f"({len(design_.route)} links); {len(design_.damaged)} damaged links. {slack}. "
        f"Network: {layout.label}."
    )


@dataclasses.dataclass(frozen=True, eq=False)
class FamilyGenerator:
    """Seeded generator of one family's scenarios: ``generator(k)`` has ``k`` intermediaries.

    Attributes:
        family: the family.
        layout: topology and endpoints; default the paper's clustered network.
        seed: seed of the design's ``numpy.random.default_rng``; each ``k`` uses
            ``default_rng([seed, k])``.
        cumulative: damage accumulates with ``k`` (``k`` starts from ``k - 2``'s damage, and the
            smallest ``k`` from the undamaged network), as in the paper's white-noise series.
    """

    family: Family
    layout: NetworkLayout = dataclasses.field(default_factory=NetworkLayout.clustered)
    seed: int = 0
    cumulative: bool = False

    def __call__(self, intermediaries: int) -> Scenario:
        """The scenario with ``intermediaries`` intermediary nodes on its optimal route."""
        return self.design(intermediaries).scenario()

    @property
    def minimum(self) -> int:
        """Fewest intermediaries the family can force on this layout (Alice-Bob hops - 1)."""
        hops = nx.shortest_path_length(self.layout.graph, self.layout.alice, self.layout.bob)
        return int(hops) - 1

    def name_of(self, intermediaries: int) -> str:
        """Scenario name, e.g. ``white-noise-06``."""
        return f"{self.family.name}-{intermediaries:02d}"

    def design(self, intermediaries: int) -> Design:
        """The :class:`Design` with ``intermediaries`` intermediary nodes."""
        if isinstance(intermediaries, bool) or not isinstance(intermediaries, int):
            raise ValueError(f"intermediaries must be an integer, got {intermediaries!r}")
        low = self.minimum
        if intermediaries < low or (self.cumulative and (intermediaries - low) % 2):
            step = f"{low}, {low + 2}, ..." if self.cumulative else f">= {low}"
            raise ValueError(
                f"intermediaries must be {step} on this layout (Alice and Bob are {low + 1} "
                f"hops apart), got {intermediaries}"
            )
        damage: frozenset[int] = frozenset()
        if self.cumulative and intermediaries > low:
            damage = self._damage(intermediaries - 2)
        return self._design(intermediaries, damage)

    def _damage(self, intermediaries: int) -> frozenset[int]:
        return self.design(intermediaries).damaged

    def _design(self, intermediaries: int, damage: frozenset[int]) -> Design:
        links = intermediaries + 1
        rng = np.random.default_rng([self.seed, intermediaries])
        name = self.name_of(intermediaries)
        draft = design(
            self.family, self.layout, links, rng, name=name, description="", damaged=damage
        )
        text = _description(self.family, self.layout, draft, draft.spec["max_actions"])
        return dataclasses.replace(draft, spec={**draft.spec, "description": text})


def white_noise(seed: int = 0, layout: NetworkLayout | None = None) -> FamilyGenerator:
    """Generator of the white-noise family (cumulative damage, as in the paper)."""
    return FamilyGenerator(WHITE_NOISE, layout or NetworkLayout.clustered(), seed, cumulative=True)


def amplitude_damping(seed: int = 0, layout: NetworkLayout | None = None) -> FamilyGenerator:
    """Generator of the amplitude-damping family."""
    return FamilyGenerator(AMPLITUDE_DAMPING, layout or NetworkLayout.clustered(), seed)


def phase_noise(seed: int = 0, layout: NetworkLayout | None = None) -> FamilyGenerator:
    """Generator of the correlated-phase-noise family."""
    return FamilyGenerator(PHASE_NOISE, layout or NetworkLayout.clustered(), seed)


#: Family generators by scenario-name prefix: the shipped series are ``<prefix>-<kk>`` for
#: ``kk`` in :data:`INTERMEDIARIES`.
FAMILIES: dict[str, Callable[[], FamilyGenerator]] = {
    "white-noise": white_noise,
    "amplitude-damping": amplitude_damping,
    "phase-noise": phase_noise,
}
