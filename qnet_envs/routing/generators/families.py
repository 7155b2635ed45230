"""The scenario families: what a design is, and each family's gadget and walk model.

A :class:`Family` places its :class:`Gadget` (pure links) on a candidate route and says, as a
finite automaton, which walks cancel the gadget's damage; a :class:`Design` is a generated
scenario with the route it was built around. White noise, amplitude damping and correlated
phase noise, with one shared instance of each.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qnet_envs.routing.generators.layout import (
    DAMPING_THETA,
    PHASE_SHIFT,
    NetworkLayout,
    Route,
    StateSpec,
)
from qnet_envs.routing.scenario import Scenario


@dataclasses.dataclass(frozen=True)
class Gadget:
    """The pure links a family places on a candidate route.

    Attributes:
        pure: edge index -> ``((u, v), state)``: the orientation the state is written in (first
            qubit at ``u``) and its parametric state.
        compensator: ``(edge, from, to)``: the link whose damage cancels the others, and the
            direction in which it does; ``None`` for families without one.
    """

    pure: Mapping[int, tuple[tuple[int, int], StateSpec]]
    compensator: tuple[int, int, int] | None = None


@dataclasses.dataclass(frozen=True)
class Design:
    """A generated scenario and the optimal route it was built around.

    Attributes:
        spec: the dict layout of :meth:`Scenario.from_dict` with parametric states.
        route: the designed optimal route, edge indices from Alice.
        damaged: indices of the damaged links (Werner ``F = DAMAGED_FIDELITY``).
        gadget: the family's pure links on and around ``route``.
    """

    spec: dict[str, Any]
    route: Route
    damaged: frozenset[int]
    gadget: Gadget

    def scenario(self) -> Scenario:
        """The validated :class:`Scenario`."""
        return Scenario.from_dict(self.spec)

    @property
    def intermediaries(self) -> int:
        """Intermediary nodes of the designed route (its links minus one)."""
        return len(self.route) - 1


class Family(ABC):
    """A scenario family: which routes it designs around and which walks can cancel its damage.

    The walk model is a finite automaton run alongside the walk: :meth:`start` is its state at
    Alice, :meth:`step` its transition over one link (``None`` where the family's model forbids
    the move, because the walk could no longer cancel its damage), and a walk counts as a route
    when it reaches Bob in a state for which :meth:`accepts` holds.
    """

    #: Family name, the prefix of its scenario names.
    name: str = ""
    #: One-paragraph description written into every scenario of the family.
    summary: str = ""

    def candidate_ok(self, layout: NetworkLayout, nodes: Sequence[int]) -> bool:
        """Whether a simple path (node sequence, Alice to Bob) can carry the gadget."""
        return True

    @abstractmethod
    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        """The pure links of a design around the candidate path ``nodes``."""

    def start(self) -> int:
        """Automaton state at Alice."""
        return 0

    def accepts(self, state: int) -> bool:
        """Whether arriving at Bob in ``state`` completes a route of the model."""
        return state == 0

    @abstractmethod
    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        """Automaton state after walking ``edge`` from ``here`` to ``there``, or ``None``."""


class WhiteNoiseFamily(Family):
    """Werner links only: the optimal route is the one with fewest damaged, then healthy, links."""

    name = "white-noise"
    summary = (
        "White noise (paper Sec. 4.1): every link is a Werner state, healthy F = 0.99 or "
        "damaged F = 0.6; damage is cumulative along the family (white-noise-06 is undamaged), "
        "each file adding the damaged links that force an optimal route two links longer. "
        "White noise is additive, so Dijkstra on -log F finds the optimum."
    )

    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        return Gadget(pure={})

    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        return state


class AmplitudeDampingFamily(Family):
    """Bob's links amplitude damped; one link next to the route's last one undoes the damping.

    Every link into Bob holds ``amplitude_damped(theta)`` written from the Bob-side neighbour
    ``n`` (walking ``n -> Bob`` gives ``theta``: ``|01>`` amplitude ``cos theta``). The
    compensator ``(n*, x)`` holds the same state written from ``n*``, so walking it the way the
    route does, ``x -> n*``, gives ``pi/2 - theta``. In postselected swapping the two filters
    multiply to a multiple of the identity when adjacent: the route ``... x -> n* -> Bob`` keeps
    the Werner fidelity of its other links exactly. Any other walk keeps a net damping
    (F <= 0.69) or lets white noise in between the two filters, which they then amplify.
    """

    name = "amplitude-damping"
    theta = DAMPING_THETA
    summary = (
        "Amplitude damping (paper Sec. 4.2), postselected swapping: every link into Bob is "
        f"amplitude damped (theta = {DAMPING_THETA} rad, F = 0.69), so every route crosses a "
        "damped link; one link next to a Bob neighbour holds the same damping written the "
        "other way round, and walking it just before the last link cancels the damping "
        "exactly. The optimal route uses it; Dijkstra on -log F avoids it and ends with the "
        "damping uncancelled. Other links are Werner, healthy F = 0.99 or damaged F = 0.6 "
        "(the damage forces the optimal route's length)."
    )

    def candidate_ok(self, layout: NetworkLayout, nodes: Sequence[int]) -> bool:
        return len(nodes) >= 4

    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        bob = layout.bob
        damping = {"kind": "amplitude_damped", "theta": self.theta}
        pure = {edge: ((n, bob), damping) for edge, n in layout.incidence[bob]}
        x, n_star = nodes[-3], nodes[-2]
        compensator = layout.edge_index[frozenset((x, n_star))]
        pure[compensator] = ((n_star, x), damping)
        return Gadget(pure=pure, compensator=(compensator, x, n_star))

    def accepts(self, state: int) -> bool:
        return state == 2

    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        assert gadget.compensator is not None
        compensator, x, _ = gadget.compensator
        if edge == compensator:
            return 1 if (state, here) == (0, x) else None
        if edge in gadget.pure:  # a link into Bob: only right after the compensator
            return 2 if state == 1 else None
        return 0 if state == 0 else None


class PhaseNoiseFamily(Family):
    """Alice's links phase shifted by ``phi``; one link further on shifts back by ``-phi``.

    Every link at Alice holds ``phase_shifted(phi)`` written from Alice, so every first hop adds
    ``phi``; a walk that comes back to Alice and leaves again adds ``-phi + phi``, so Alice's links
    always leave ``phi`` in total. The compensator holds ``phase_shifted(phi)`` written from its
    far end, so walking it the route's way adds ``-phi``. Phases are local unitaries and commute
    with white noise: a route that crosses the compensator that way keeps the Werner fidelity of
    its other links exactly, wherever the compensator sits; any other route ends with a net
    phase ``phi`` or ``2 phi`` (F <= 0.5).
    """

    name = "phase-noise"
    phi = PHASE_SHIFT
    summary = (
        "Correlated phase noise (paper Sec. 4.3), postselected swapping: every first hop from "
        "Alice is phase shifted (phi = pi/2 rad, F = 0.5); one link further on holds the "
        "reversing shift -phi in the direction of the optimal route, which must find it, "
        "then Bob. Dijkstra on -log F avoids that link and keeps the phase. Other links "
        "are Werner, healthy F = 0.99 or damaged F = 0.6 (the damage forces the optimal "
        "route's length)."
    )

    def candidate_ok(self, layout: NetworkLayout, nodes: Sequence[int]) -> bool:
        return len(nodes) >= 4

    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        alice = layout.alice
        shift = {"kind": "phase_shifted", "phi": self.phi}
        pure = {edge: ((alice, n), shift) for edge, n in layout.incidence[alice]}
        # The compensator is link j of the route, 1 <= j <= len - 2: after the first hop, before
        # the last one.
        j = int(rng.integers(1, len(nodes) - 2))
        x, y = nodes[j], nodes[j + 1]
        compensator = layout.edge_index[frozenset((x, y))]
        pure[compensator] = ((y, x), shift)
        return Gadget(pure=pure, compensator=(compensator, x, y))

    def accepts(self, state: int) -> bool:
        return state == 1

    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        assert gadget.compensator is not None
        compensator, x, _ = gadget.compensator
        if edge == compensator:
            return 1 if (state, here) == (0, x) else None
        return state


WHITE_NOISE = WhiteNoiseFamily()
AMPLITUDE_DAMPING = AmplitudeDampingFamily()
PHASE_NOISE = PhaseNoiseFamily()
