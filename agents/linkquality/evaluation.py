"""One episode of a router, and the metrics of the reproduction (``docs/linkquality.md``).

Metrics per episode: ``success_rate`` (served / requests), ``mean_latency_ms`` (over every
request; a failed one costs the time until it was abandoned), ``served_latency_ms`` (over served
requests only), ``throughput_per_s`` (served pairs per second when requests are served back to
back: served / total latency), ``link_utilisation`` (the fraction of all link attempts that
went into served requests) and ``mean_fidelity`` (of served requests).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from agents.linkquality.routers import Router
from qnet_envs.linkquality import core


def run_episode(network: core.Network, episode_seed: int, router: Router) -> dict[str, Any]:
    """Play every request of one episode with ``router``; returns the metrics."""
    sim = core.Simulation(network, episode_seed)
    served, latency, attempts, useful, fidelity = [], [], 0, 0, []
    started = time.perf_counter()
    while not sim.done:
        path = router(sim)
        outcome = sim.serve(path)
        served.append(outcome.served)
        latency.append(outcome.latency_ms)
        attempts += outcome.attempts
        if outcome.served:
            useful += outcome.attempts
            fidelity.append(outcome.fidelity)
    total_ms = float(np.sum(latency))
    n_served = int(np.sum(served))
    return {
        "requests": len(served),
        "served": n_served,
        "success_rate": n_served / len(served),
        "mean_latency_ms": float(np.mean(latency)),
        "served_latency_ms": float(np.mean(np.asarray(latency)[served]))
        if n_served
        else float("nan"),
        "throughput_per_s": 1000.0 * n_served / total_ms if total_ms > 0 else 0.0,
        "link_utilisation": useful / attempts if attempts else 0.0,
        "mean_fidelity": float(np.mean(fidelity)) if fidelity else float("nan"),
        "wall_s": time.perf_counter() - started,
    }
