"""The shipped scenarios: every file of ``scenarios/routing``, in the dict layout.

The three family series at :data:`INTERMEDIARIES`, ``evolving`` (the paper's), ``evolving-maze``
(the harder benchmark), ``default`` (a copy of ``white-noise-06``) and the small ``tiny``, from
the seeded generators of this package.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from qnet_envs.routing.generators.designer import design
from qnet_envs.routing.generators.evolving import EvolvingGenerator
from qnet_envs.routing.generators.families import WHITE_NOISE, Design
from qnet_envs.routing.generators.family_generators import FAMILIES
from qnet_envs.routing.generators.layout import DAMAGED_FIDELITY, HEALTHY_FIDELITY, ladder_layout
from qnet_envs.routing.generators.maze import MazeGenerator

#: Intermediary counts of the shipped white-noise, amplitude-damping and phase-noise files.
INTERMEDIARIES: tuple[int, ...] = (6, 8, 10, 12, 14, 16)


def tiny(seed: int = 0) -> Design:
    """An 8-node white-noise scenario for learnability tests (PPO solves it in a few 10k steps).

    A 2 x 4 ladder whose direct 3-link route along the top is broken by damage, so the optimal
    route takes 5 links (4 intermediary nodes); 8 actions per episode.
    """
    layout = ladder_layout(4)
    draft = design(
        WHITE_NOISE,
        layout,
        5,
        np.random.default_rng([seed, 5]),
        name="tiny",
        description="",
        max_actions=8,
    )
    text = (
        f"Tiny white-noise scenario for learnability tests: {layout.label}; Werner links, "
        f"healthy F = {HEALTHY_FIDELITY}, damaged F = {DAMAGED_FIDELITY} "
        f"({len(draft.damaged)} damaged). The direct 3-link route is damaged, the optimal route "
        "has 4 intermediary nodes (5 links). max_actions = 8: the route plus 3, short episodes "
        "for a quick learner."
    )
    return dataclasses.replace(draft, spec={**draft.spec, "description": text})


def shipped_specs() -> dict[str, dict[str, Any]]:
    """Every scenario file of ``scenarios/routing``, by name, in the dict layout.

    The three families at :data:`INTERMEDIARIES`, ``evolving``, ``evolving-maze``, ``default``
    (a copy of ``white-noise-06``, the default of ``SwapRouting-v0``) and ``tiny``.
    """
    specs: dict[str, dict[str, Any]] = {}
    for make in FAMILIES.values():
        generator = make()
        for k in INTERMEDIARIES:
            specs[generator.name_of(k)] = generator.design(k).spec
    specs["evolving"] = EvolvingGenerator().design().spec
    specs["evolving-maze"] = MazeGenerator().design().spec
    specs["default"] = {
        **specs["white-noise-06"],
        "name": "default",
        "description": "The default scenario of SwapRouting-v0: a copy of white-noise-06. "
        + specs["white-noise-06"]["description"],
    }
    specs["tiny"] = tiny().spec
    return specs
