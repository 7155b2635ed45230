"""Scenario families of the swap-routing game, as seeded, deterministic generators.

Reference: "Routing in quantum networks using reinforcement learning", Sec. 2 (the clustered
topology, at most four links per node) and Sec. 4 (white noise, amplitude damping, correlated
phase noise, an evolving network). Every family here builds on one :class:`NetworkLayout`: the
clustered topology of :func:`qnet_envs.topology.clustered_topology` with Alice and Bob two users
seven hops apart, so that on the undamaged network the optimal route has six intermediary nodes.

A family turns a number of intermediary nodes ``k`` into a :class:`Design`: the scenario in the
parametric dict layout of :meth:`Scenario.from_dict` (so it can be written as a readable TOML
file) and the route of ``k + 1`` links it was built around. A design is made in three steps:

1. pick a candidate route ``P`` of ``k + 1`` links (a seeded randomised depth-first search over
   simple paths of healthy links);
2. place the family's *gadget* on it: the pure links (amplitude damped, phase shifted) that make
   the family what it is, among them the one link that cancels the others' damage;
3. damage links (Werner ``F = DAMAGED_FIDELITY``) of every competitor that would be at least as
   good as ``P`` with another length, most shared link first, until no route beats ``P`` and
   every route as good as ``P`` has its length.

Step 3 ranks routes with a cost model that is exact for these families, so the designed length
is the optimal length of the game (``scripts/make_routing_scenarios.py`` checks every shipped
file against the exact oracle). Werner links compose as ``F = (1 + 3 prod p) / 4``, and one
damaged link (``p = 0.467``) costs more than 56 healthy ones (``p = 0.98667``), so among routes
of at most 56 links ``F`` orders them by (damaged links, healthy links), lexicographically. A
family's gadget adds pure links whose damage cancels exactly on the walks the family's
:meth:`Family.step` allows (and only there); every other walk over a pure link ends far below
the designed route's ``F``, so the model forbids it.

Adding a family means subclassing :class:`Family` (``candidate_ok``, ``gadget``, ``start``,
``accepts``, ``step``); nothing else changes. Pure: networkx and numpy, no Gymnasium, no agents.

Modules, one job each (every public name is re-exported here):

- :mod:`.layout`: the constants, link states, action budgets, :class:`NetworkLayout` and
  :func:`ladder_layout`;
- :mod:`.families`: :class:`Gadget`, :class:`Design`, :class:`Family` and the three families;
- :mod:`.search`: the walk-model search, :func:`optimal_routes` and :class:`DesignError`;
- :mod:`.designer`: :func:`design`, a scenario whose optimal routes have a given length;
- :mod:`.family_generators`: :class:`FamilyGenerator`, the three series and :data:`FAMILIES`;
- :mod:`.evolving`: :class:`EvolvingGenerator`, the evolving network (paper Sec. 4.4);
- :mod:`.maze`: :class:`MazeGenerator`, the harder evolving network (a maze per stage)
  and :func:`grid_layout`;
- :mod:`.shipped`: the small :func:`tiny` scenario and :func:`shipped_specs`, every shipped file.
"""

from __future__ import annotations

from qnet_envs.routing.generators.designer import design
from qnet_envs.routing.generators.evolving import (
    EVOLVING_SCHEDULE,
    EvolvingDesign,
    EvolvingGenerator,
    stage_entries,
)
from qnet_envs.routing.generators.families import (
    AMPLITUDE_DAMPING,
    PHASE_NOISE,
    WHITE_NOISE,
    AmplitudeDampingFamily,
    Design,
    Family,
    Gadget,
    PhaseNoiseFamily,
    WhiteNoiseFamily,
)
from qnet_envs.routing.generators.family_generators import (
    FAMILIES,
    FamilyGenerator,
    amplitude_damping,
    phase_noise,
    white_noise,
)
from qnet_envs.routing.generators.layout import (
    ACTION_SLACK,
    DAMAGED_FIDELITY,
    DAMPING_THETA,
    ENDPOINT_DISTANCE,
    HEALTHY_FIDELITY,
    PAPER_MAX_ACTIONS,
    PHASE_SHIFT,
    WORKING_FIDELITY,
    NetworkLayout,
    Route,
    StateSpec,
    damaged_state,
    healthy_state,
    ladder_layout,
    max_actions_for,
)
from qnet_envs.routing.generators.maze import (
    MAZE_HEALED,
    MAZE_MAX_ACTIONS,
    MAZE_SCHEDULE,
    MazeGenerator,
    grid_layout,
    random_spanning_tree,
    tree_path,
)
from qnet_envs.routing.generators.search import DesignError, optimal_routes
from qnet_envs.routing.generators.shipped import INTERMEDIARIES, shipped_specs, tiny

__all__ = [
    "ACTION_SLACK",
    "AMPLITUDE_DAMPING",
    "DAMAGED_FIDELITY",
    "DAMPING_THETA",
    "ENDPOINT_DISTANCE",
    "EVOLVING_SCHEDULE",
    "FAMILIES",
    "HEALTHY_FIDELITY",
    "INTERMEDIARIES",
    "MAZE_HEALED",
    "MAZE_MAX_ACTIONS",
    "MAZE_SCHEDULE",
    "PAPER_MAX_ACTIONS",
    "PHASE_NOISE",
    "PHASE_SHIFT",
    "WHITE_NOISE",
    "WORKING_FIDELITY",
    "AmplitudeDampingFamily",
    "Design",
    "DesignError",
    "EvolvingDesign",
    "EvolvingGenerator",
    "Family",
    "FamilyGenerator",
    "Gadget",
    "MazeGenerator",
    "NetworkLayout",
    "PhaseNoiseFamily",
    "Route",
    "StateSpec",
    "WhiteNoiseFamily",
    "amplitude_damping",
    "damaged_state",
    "design",
    "grid_layout",
    "healthy_state",
    "ladder_layout",
    "max_actions_for",
    "optimal_routes",
    "phase_noise",
    "random_spanning_tree",
    "shipped_specs",
    "stage_entries",
    "tiny",
    "tree_path",
    "white_noise",
]
