"""The supervised link-quality model ``q_ij = f_theta(z_ij)`` (the paper's Sec. 4.3 and 6.3).

A torch MLP from a link's observed features (``qnet_envs.linkquality.core.FEATURE_NAMES``: last
and averaged measurements of ``p`` and ``F``, their age and count, length and loss) to its true
current quality ``q = (s, F)``, where ``s = 1 - (1 - p)^B`` is the probability that the link
succeeds within the budget ``B`` (what routing decides on; regressing ``s`` rather than ``p``
served 5 more requests in 100 on the 100-node networks in a trial, since the mean of ``s`` is
not ``s`` of the mean ``p``). Trained by mean squared error on logged history
(:func:`collect_history`: features and true values of the links of simulated episodes).
:meth:`LinkQualityPredictor.estimate` returns ``(p, F)`` (``p`` from ``s`` by inversion): an
env ``estimator``. Saved and loaded atomically (:func:`save`, :func:`load`).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.linkquality.routers import EstimateRouter, Router
from qnet_envs.linkquality import core

FORMAT = 2


def collect_history(
    network: core.Network,
    seeds: Sequence[int],
    router: Router | None = None,
    links_per_slot: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Logged history: ``(features (N, 8) float32, targets (N, 2) float32 = true (p, F))``.

    Plays one episode per seed with ``router`` (default: the running-average k-shortest router,
    so the measurements look like the ones a deployed router makes) and logs, at every slot,
    ``links_per_slot`` random links (all links if fewer).
    """
    router = router or EstimateRouter()
    features, targets = [], []
    for seed in seeds:
        sim = core.Simulation(network, seed)
        pick = np.random.default_rng([seed, 99])
        while not sim.done:
            z = sim.features()
            p, f = sim.truth()
            rows = pick.choice(
                network.num_edges, min(links_per_slot, network.num_edges), replace=False
            )
            features.append(z[rows])
            targets.append(np.stack([p[rows], f[rows]], axis=1))
            sim.serve(router(sim))
    return np.concatenate(features), np.concatenate(targets).astype(np.float32)


class QualityMLP(nn.Module):
    """``len(FEATURE_NAMES)`` -> hidden -> hidden -> 2 (p, F), ReLU."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.hidden = hidden
        self.net = nn.Sequential(
            nn.Linear(len(core.FEATURE_NAMES), hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def quality(targets: np.ndarray, max_attempts: int) -> np.ndarray:
    """``(p, F)`` rows to quality rows ``(s, F)``, ``s = 1 - (1 - p)^B``, float32."""
    out = np.array(targets, dtype=np.float64)
    out[:, 0] = core.success_within_budget(np.clip(out[:, 0], 0.0, 1.0), max_attempts)
    return out.astype(np.float32)


@dataclasses.dataclass
class TrainReport:
    """Mean squared errors in quality space ``(s, F)`` of the predictor and two references."""

    mse: float  # the predictor
    mse_mean: float  # predicting the training targets' mean
    mse_ema: float  # the running averages of the measurements (the env's default estimator)
    epochs: int
    samples: int


class LinkQualityPredictor:
    """A trained :class:`QualityMLP`; :meth:`estimate` is an env ``estimator`` (numpy in, out)."""

    def __init__(self, model: QualityMLP, target_mean: np.ndarray, max_attempts: int) -> None:
        self.model = model.eval()
        self.target_mean = np.asarray(target_mean, dtype=np.float32)  # training mean of (s, F)
        self.max_attempts = int(max_attempts)

    def predict_quality(self, features: np.ndarray) -> np.ndarray:
        """Predicted ``(s, F)``, shape (E, 2), clipped to ``[0, 1] x [0.25, 1]``."""
        with torch.no_grad():
            out = self.model(torch.as_tensor(np.asarray(features, dtype=np.float32))).numpy()
        out = out.astype(np.float64)
        out[:, 0] = np.clip(out[:, 0], 0.0, 1.0)
        out[:, 1] = np.clip(out[:, 1], 0.25, 1.0)
        return out

    def estimate(self, features: np.ndarray) -> np.ndarray:
        """Predicted ``(p, F)``, shape (E, 2): ``p = 1 - (1 - s)^(1/B)``."""
        out = self.predict_quality(features)
        out[:, 0] = -np.expm1(np.log1p(-np.minimum(out[:, 0], 1.0 - 1e-12)) / self.max_attempts)
        return out

    __call__ = estimate

    def evaluate(self, features: np.ndarray, targets: np.ndarray) -> TrainReport:
        """MSE in quality space on ``(features, true (p, F))`` of the predictor, the training
        mean and the running averages of the measurements."""
        truth = quality(targets, self.max_attempts)
        ema = quality(core.ema_estimate(features), self.max_attempts)
        return TrainReport(
            mse=float(np.mean((self.predict_quality(features) - truth) ** 2)),
            mse_mean=float(np.mean((self.target_mean - truth) ** 2)),
            mse_ema=float(np.mean((ema - truth) ** 2)),
            epochs=0,
            samples=len(targets),
        )


def train(
    features: np.ndarray,
    targets: np.ndarray,
    max_attempts: int,
    *,
    hidden: int = 64,
    epochs: int = 30,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
) -> tuple[LinkQualityPredictor, TrainReport]:
    """Fit quality ``(s, F)`` of true ``targets`` ``(p, F)`` by MSE with Adam (``max_attempts``:
    the budget ``B``); returns the predictor and its training-set report."""
    torch.manual_seed(seed)
    model = QualityMLP(hidden)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    q = quality(targets, max_attempts)
    z = torch.as_tensor(features, dtype=torch.float32)
    y = torch.as_tensor(q, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(z), generator=generator)
        for start in range(0, len(z), batch_size):
            batch = order[start : start + batch_size]
            loss = torch.mean((model(z[batch]) - y[batch]) ** 2)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    predictor = LinkQualityPredictor(model, q.mean(axis=0), max_attempts)
    report = predictor.evaluate(features, targets)
    report.epochs = epochs
    return predictor, report


def save(predictor: LinkQualityPredictor, path: str | Path) -> None:
    """Write atomically: a temporary file in the same folder, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "hidden": predictor.model.hidden,
        "max_attempts": predictor.max_attempts,
        "features": list(core.FEATURE_NAMES),
        "target_mean": predictor.target_mean.tolist(),
        "state_dict": predictor.model.state_dict(),
    }
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def load(path: str | Path) -> LinkQualityPredictor:
    """Read a :func:`save` file; ``ValueError`` if its format or feature list differ."""
    payload = torch.load(Path(path), weights_only=True)
    if payload.get("format") != FORMAT or payload.get("features") != list(core.FEATURE_NAMES):
        raise ValueError(
            f"{path}: not a link-quality predictor of format {FORMAT} with features "
            f"{list(core.FEATURE_NAMES)}"
        )
    model = QualityMLP(int(payload["hidden"]))
    model.load_state_dict(payload["state_dict"])
    mean = np.asarray(payload["target_mean"], dtype=np.float32)
    return LinkQualityPredictor(model, mean, int(payload["max_attempts"]))
