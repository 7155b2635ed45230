"""Greedy actions of a trained actor outside TorchRL's env loop (one state at a time).

For evaluation code that drives a PettingZoo env itself (e.g. to solve an oracle at the very
states a policy visits): hand in the stacked observations and, for masked heads, the mask.
"""

from __future__ import annotations

import numpy as np
import torch
from tensordict import TensorDict
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import ProbabilisticActor

from agents.marl.torch_env import GROUP


def greedy_actions(
    actor: ProbabilisticActor, observations: np.ndarray, action_mask: np.ndarray | None = None
) -> np.ndarray:
    """The mode of ``actor``'s distribution: observations ``(n_agents, obs_dim)``, mask
    ``(n_agents, sum(nvec))`` (True = valid) -> actions ``(n_agents, n_slots)`` int64."""
    obs = torch.as_tensor(np.asarray(observations), dtype=torch.float32)
    entries = {"observation": obs}
    if action_mask is not None:
        entries["action_mask"] = torch.as_tensor(np.asarray(action_mask, dtype=bool))
    td = TensorDict({GROUP: TensorDict(entries, batch_size=[obs.shape[0]])}, batch_size=[])
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        return actor(td).get((GROUP, "action")).numpy().astype(np.int64)
