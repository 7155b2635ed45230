"""The suite's registry: Gymnasium ids for single-agent envs, a list of PettingZoo envs.

A new single-agent env joins the suite (and the registry-wide tests in ``tests/test_registry.py``)
by adding a line to :data:`GYMNASIUM_ENVS`; a PettingZoo env by adding its module to
:data:`PARALLEL_ENVS`.
"""

from __future__ import annotations

from typing import Any

import gymnasium

NAMESPACE = "qnet_envs"

#: id (without namespace) -> (entry point, default kwargs).
GYMNASIUM_ENVS: dict[str, tuple[str, dict[str, Any]]] = {
    "SwapRouting-v0": ("qnet_envs.routing.env:SwapRoutingEnv", {}),
    "SwapRouting-WhiteNoise-v0": (
        "qnet_envs.routing.env:SwapRoutingEnv",
        {"scenario": "white-noise-06"},
    ),
    "SwapRouting-AmplitudeDamping-v0": (
        "qnet_envs.routing.env:SwapRoutingEnv",
        {"scenario": "amplitude-damping-06"},
    ),
    "SwapRouting-PhaseNoise-v0": (
        "qnet_envs.routing.env:SwapRoutingEnv",
        {"scenario": "phase-noise-06"},
    ),
    "SwapRouting-Evolving-v0": ("qnet_envs.routing.env:EvolvingSwapRoutingEnv", {}),
    "SwapRouting-EvolvingMaze-v0": (
        "qnet_envs.routing.env:EvolvingSwapRoutingEnv",
        {"scenario": "evolving-maze"},
    ),
    "LinkQualityRouting-v0": ("qnet_envs.linkquality.env:LinkQualityRoutingEnv", {}),
    "LinkQualityRouting-Small-v0": (
        "qnet_envs.linkquality.env:LinkQualityRoutingEnv",
        {"scenario": "waxman-20"},
    ),
    "LinkQualityRouting-Medium-v0": (
        "qnet_envs.linkquality.env:LinkQualityRoutingEnv",
        {"scenario": "waxman-100"},
    ),
    "LinkQualityRouting-Large-v0": (
        "qnet_envs.linkquality.env:LinkQualityRoutingEnv",
        {"scenario": "waxman-200"},
    ),
    "LinkQualityRouting-Surfnet-v0": (
        "qnet_envs.linkquality.env:LinkQualityRoutingEnv",
        {"scenario": "surfnet"},
    ),
}

#: id (without namespace) -> the batched vector env ``gym.make_vec`` builds for it (its
#: ``vector_entry_point``; also make_vec's default mode for these ids). The evolving ids have
#: none: their network changes per sub-env on its own clock (see docs/vector.md).
VECTOR_ENTRY_POINTS: dict[str, str] = {
    name: "qnet_envs.routing.vector:SwapRoutingVectorEnv"
    for name, (entry_point, _) in GYMNASIUM_ENVS.items()
    if entry_point == "qnet_envs.routing.env:SwapRoutingEnv"
}

#: PettingZoo parallel envs: name -> module exporting ``parallel_env``.
PARALLEL_ENVS: dict[str, str] = {
    "qvpn_v0": "qnet_envs.qvpn.env",
    "planning_v0": "qnet_envs.planning.env",
    "offloading_v0": "qnet_envs.offloading.env",
}


def register_envs() -> None:
    """Register every id in :data:`GYMNASIUM_ENVS`; safe to call more than once."""
    for name, (entry_point, kwargs) in GYMNASIUM_ENVS.items():
        env_id = f"{NAMESPACE}/{name}"
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point=entry_point,
            vector_entry_point=VECTOR_ENTRY_POINTS.get(name),
            kwargs=kwargs,
        )
