"""One greedy routing episode of a trained policy: the route a trainer's ``evaluate`` proposes.

The trainers differ only in how their policy picks an action; :func:`greedy_rollout` plays the
episode and reports it the same way for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from qnet_envs.routing.env import SwapRoutingEnv


class GreedyRollout(NamedTuple):
    """One deterministic routing episode of a trained policy."""

    route: tuple[int, ...]  # edge indices from Alice
    fidelity: float  # the scenario's F of the state held at the end (Alice-Bob if arrived)
    actions: int  # actions played, an ending invalid one included
    event: str  # how the episode ended: "arrived", "dead_end", "empty_slot", ...


def greedy_rollout(
    env: SwapRoutingEnv, choose: Callable[[NDArray[np.float32]], int]
) -> GreedyRollout:
    """Play one episode of ``env`` with ``choose(observation)``'s action at every step.

    The episode ends when the env terminates or truncates it, or after the scenario's
    ``max_actions``; ``env`` is closed afterwards. The game is deterministic, so with a policy's
    most likely action this is the route the trained agent proposes.
    """
    obs, info = env.reset()
    figure_of_merit = env.scenario.figure_of_merit
    actions, fidelity = 0, 1.0
    for _ in range(env.scenario.max_actions):
        obs, _, terminated, truncated, info = env.step(choose(obs))
        actions += 1
        fidelity = float(info[figure_of_merit])
        if terminated or truncated:
            break
    env.close()
    return GreedyRollout(tuple(info["route"]), fidelity, actions, str(info["event"]))
