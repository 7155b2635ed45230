"""The paper's hybrid framework as routers: predicted quality -> k candidate paths -> a choice.

:class:`CandidateRouter` builds the env's observation (``core.observation``: the k shortest
paths on predicted quality and their predicted success, fidelity, margin, hops, length and
latency) and lets a chooser pick a slot. Two choosers: :func:`feasible_first` (no learning in
the choice: the most probable candidate predicted to meet the threshold) and an SB3 PPO policy
trained on :class:`~qnet_envs.linkquality.env.LinkQualityRoutingEnv` (:func:`train_ppo`), which
refines the choice from rewards.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qnet_envs.linkquality import LinkQualityRoutingEnv, core

Chooser = Callable[[np.ndarray, int], int]
_WIDTH = len(core.CANDIDATE_FEATURES)


def feasible_first(obs: np.ndarray, k: int) -> int:
    """The candidate with the highest predicted success among those predicted to meet the
    threshold (margin >= 0); if none is, the one with the largest margin."""
    table = obs[: k * _WIDTH].reshape(k, _WIDTH)
    valid = table[:, 0] > 0.5
    feasible = valid & (table[:, 3] >= 0.0)
    if feasible.any():
        return int(np.argmax(np.where(feasible, table[:, 1], -1.0)))
    return int(np.argmax(np.where(valid, table[:, 3], -np.inf)))


class CandidateRouter:
    """Candidates from ``estimator`` (k-shortest on predicted quality), slot from ``chooser``;
    ``k`` candidates (default: the scenario's ``k_paths``)."""

    def __init__(
        self, estimator: core.Estimator, chooser: Chooser, name: str, k: int | None = None
    ) -> None:
        self.estimator, self.chooser, self.name, self.k = estimator, chooser, name, k

    def __call__(self, sim: core.Simulation) -> list[int] | None:
        k = self.k or sim.network.scenario.k_paths
        estimate = np.asarray(self.estimator(sim.features()), dtype=np.float64)
        obs, candidates = core.observation(sim.network, sim.request, sim.index, estimate, k)
        slot = int(self.chooser(obs, k))
        if slot >= len(candidates):
            return None
        return sim.network.path_edges(candidates[slot])


def train_ppo(
    env: LinkQualityRoutingEnv, total_timesteps: int, seed: int = 0
) -> Callable[[np.ndarray, int], int]:
    """Train SB3 PPO (MlpPolicy, small rollouts) on ``env``; returns a deterministic chooser."""
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=256,
        batch_size=64,
        n_epochs=5,
        gamma=0.0,  # requests are independent: a choice does not change later link states
        learning_rate=3e-4,
        ent_coef=0.01,
        seed=seed,
        verbose=0,
        device="cpu",
    )
    model.learn(total_timesteps=total_timesteps)

    def choose(obs: np.ndarray, k: int) -> int:
        action, _ = model.predict(obs, deterministic=True)
        return int(action)

    choose.model = model  # type: ignore[attr-defined]
    return choose
