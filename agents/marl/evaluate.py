"""Greedy evaluation: the policy's most likely action for every agent at every step."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torchrl.envs.utils import ExplorationType, set_exploration_type, step_mdp
from torchrl.modules import ProbabilisticActor

from agents.marl.batched import EnvFactory, as_batched
from agents.marl.torch_env import REWARD_KEY, STATE_KEY, BatchedTorchEnv


class Evaluation(NamedTuple):
    """Mean episode returns of greedy play."""

    per_agent: np.ndarray  # (n_agents,) mean episode return of each agent
    total: float  # mean episode return summed over agents
    episodes: int


def evaluate(
    policy: ProbabilisticActor,
    env_fn: EnvFactory,
    episodes: int = 10,
    seed: int = 0,
    max_steps: int = 100_000,
) -> Evaluation:
    """Play ``episodes`` episodes with the mode of ``policy``'s distribution.

    Episode ``k`` is reset with seed ``seed + k``. ``max_steps`` bounds one episode (a policy
    that never ends an episode raises ``RuntimeError`` rather than hanging).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    batched = as_batched(env_fn())
    # a state critic is not needed to act, but the env must match what the actor reads
    env = BatchedTorchEnv(batched, use_state=STATE_KEY in policy.in_keys)
    returns = np.zeros((episodes, env.n_agents))
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        for episode in range(episodes):
            env.set_seed(seed + episode)
            td = env.reset()
            for _ in range(max_steps):
                td = env.step(policy(td))
                returns[episode] += td["next", *REWARD_KEY][..., 0].numpy()
                if bool(td["next", "done"].all()):
                    break
                td = step_mdp(td)
            else:
                raise RuntimeError(f"episode {episode} did not end within {max_steps} steps")
    env.close()
    per_agent = returns.mean(axis=0)
    return Evaluation(
        per_agent=per_agent, total=float(returns.sum(axis=1).mean()), episodes=episodes
    )
