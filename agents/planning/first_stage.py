"""QPLAN's First-stage: a trained shared policy's split of every demand over its paths.

A checkpoint of ``scripts/train_planning.py`` is the multi-agent trainer's (``agents.marl``:
``step-<n>/state.pt`` and ``progress.json``, whose ``args`` record the architecture) plus
``planning_env.json`` (:data:`ENV_FILE`) in the checkpoint directory or a directory above it:
the env settings the policy was trained with (``levels``, ``rounds``, ``unmet_penalty``,
``imbalance_penalty``). The actor is size agnostic, so it runs on any instance.

:func:`first_stage_levels` plays ``planning_v0`` on the instance for ``rounds`` rounds with the
mode of the policy (greedy, deterministic) and returns the last round's levels: slot ``j`` of
demand ``d`` carries ``levels[d, j] / resolution`` of ``D_d`` (levels on unusable slots are 0,
the env plays them so). :func:`first_stage_flows` turns them into the flows ``x_p``; the
paper's First-stage plan is ``Plan.from_flows(instance, x)`` (fibres ``ceil(load / C_e)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tensordict import TensorDict
from torchrl.envs.utils import ExplorationType, set_exploration_type

from agents.marl.torch_env import GROUP, STATE_KEY
from agents.marl.trainer import CHECKPOINT_FORMAT, load_policy
from qnet_envs.planning import Instance
from qnet_envs.planning.batched import (
    DEFAULT_IMBALANCE_PENALTY,
    DEFAULT_LEVELS,
    DEFAULT_ROUNDS,
    DEFAULT_UNMET_PENALTY,
    InstanceLike,
    PlanningBatchedEnv,
    resolve_instance,
)

ENV_FILE = "planning_env.json"
ENV_DEFAULTS: dict[str, Any] = {
    "levels": DEFAULT_LEVELS,
    "rounds": DEFAULT_ROUNDS,
    "unmet_penalty": DEFAULT_UNMET_PENALTY,
    "imbalance_penalty": DEFAULT_IMBALANCE_PENALTY,
    "credit": "team",
}


def write_env_settings(directory: str | Path, **settings: Any) -> Path:
    """Write ``planning_env.json`` (the env defaults overridden by ``settings``) into
    ``directory``; ``ValueError`` for a setting the env does not take."""
    unknown = set(settings) - set(ENV_DEFAULTS)
    if unknown:
        raise ValueError(f"env settings: got {sorted(unknown)} (allowed: {sorted(ENV_DEFAULTS)})")
    path = Path(directory) / ENV_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({**ENV_DEFAULTS, **settings}, indent=1))
    tmp.replace(path)
    return path


def read_env_settings(checkpoint: str | Path) -> dict[str, Any]:
    """The env settings of a checkpoint: ``planning_env.json`` in its directory or the nearest
    one above (up to three levels), else the env defaults."""
    path = Path(checkpoint).resolve()
    for directory in [path, *path.parents[:3]]:
        file = directory / ENV_FILE
        if file.is_file():
            return {**ENV_DEFAULTS, **json.loads(file.read_text())}
    return dict(ENV_DEFAULTS)


def _rollout(
    instance: Instance, checkpoint: str | Path, rounds: int | None
) -> tuple[PlanningBatchedEnv, np.ndarray]:
    settings = read_env_settings(checkpoint)
    if rounds is not None:
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"rounds: got {rounds!r} (allowed: an integer >= 1 or None)")
        settings["rounds"] = rounds
    env = PlanningBatchedEnv(instance, **settings)
    actor = load_policy(CHECKPOINT_FORMAT.resolve(checkpoint), lambda: env)
    obs, info = env.reset()
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        for _ in range(env.layout.rounds):
            agents = {
                "observation": torch.as_tensor(obs),
                "action_mask": torch.as_tensor(info["action_mask"]),
            }
            td = TensorDict(
                {
                    GROUP: TensorDict(agents, batch_size=[env.n_agents]),
                    STATE_KEY: torch.as_tensor(env.state()),
                },
                batch_size=[],
            )
            action = actor(td).get((GROUP, "action")).numpy().astype(np.int64)
            obs, _, _, _, info = env.step(action)
    played = env.last_round
    assert played is not None
    return env, played.levels.copy()


def first_stage_levels(
    instance: InstanceLike, checkpoint: str | Path, *, rounds: int | None = None
) -> tuple[np.ndarray, int]:
    """The trained policy's first-stage split of ``instance``'s planned matrix.

    Args:
        instance: an :class:`~qnet_envs.planning.Instance` (``with_matrix(i)`` picks the
            matrix), a shipped name or a TOML path.
        checkpoint: a checkpoint directory or a run directory (its latest checkpoint).
        rounds: refinement rounds to play; ``None``: the rounds it was trained with.

    Returns:
        ``(levels, resolution)``: ``levels`` ``(n_demands, k)`` int64, the last round's
        levels of a greedy (mode) rollout, 0 on unusable slots; slot ``j`` of demand ``d``
        carries ``levels[d, j] / resolution`` of ``D_d`` delivered pairs/s.
    """
    env, levels = _rollout(resolve_instance(instance), checkpoint, rounds)
    return levels, int(env.layout.levels)


def first_stage_flows(instance: Instance, levels: np.ndarray, resolution: int) -> np.ndarray:
    """``(n_paths,)`` flows ``x_p = g_p D_d levels[d, j] / resolution`` (pairs/s of link
    capacity) of a level table (the env's rule; unusable or empty slots carry nothing)."""
    paths = instance.paths
    levels = np.asarray(levels)
    shape = (instance.n_demands, instance.k_paths)
    if levels.shape != shape:
        raise ValueError(f"levels: got shape {levels.shape} (allowed: {shape})")
    x = np.zeros(paths.n_paths)
    usable = paths.usable
    share = levels[paths.demand, paths.slot] / resolution
    x[usable] = paths.g[usable] * instance.demand[paths.demand[usable]] * share[usable]
    return x
