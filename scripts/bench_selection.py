"""Benchmark: GA and REINFORCE path-version selection on a problem the size of the qVPN paper's.

The problem is :func:`agents.selection.synthetic.capacity_model` with its defaults: 150 user
pairs, 30-200 versions each (5 candidate paths x distillation costs), 3 slots, 60 links, the
fitness an LP solved by HiGHS through ``scipy.optimize.linprog`` (450 variables, up to 210
constraints). Reported:

* ``evaluations/s``: fitness calls on random selections, no memo;
* the GA (population 100, dynamic schedule): generations/min, evaluations and cache hits;
* REINFORCE (batch 16; MLP on the version features and the free logit table): epochs/min,
  and the share of an epoch spent in the LP;
* with ``--race-epochs``: REINFORCE's wall time (both policies) to reach the GA's final W-EGR
  (the paper's Fig. 8 comparison).

All on one torch thread and one process. Numbers are for this machine; only ratios travel.

Usage: ``python scripts/bench_selection.py [--generations 30] [--epochs 60] [--json out.json]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from agents.baselines.genetic import genetic_search
from agents.selection.reinforce import reinforce_search
from agents.selection.synthetic import capacity_model


class _TimedFitness:
    """The fitness, timing its calls."""

    def __init__(self, fitness: Callable[[np.ndarray], float]) -> None:
        self.fitness = fitness
        self.seconds = 0.0

    def __call__(self, selection: np.ndarray) -> float:
        start = time.perf_counter()
        value = self.fitness(selection)
        self.seconds += time.perf_counter() - start
        return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=200)
    parser.add_argument("--generations", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--race-epochs",
        type=int,
        default=0,
        help="if > 0, also train REINFORCE (mlp) for up to this many epochs with the GA's best "
        "W-EGR as target and report its wall time to reach it",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)

    model = capacity_model(seed=args.seed)
    problem = model.problem()
    n = model.n_versions
    rng = np.random.default_rng(args.seed)
    selections = [
        np.floor(rng.random((n.size, model.max_slots)) * n[:, None]).astype(np.int64)
        for _ in range(args.evaluations)
    ]
    start = time.perf_counter()
    values = [model.fitness(s) for s in selections]
    eval_s = (time.perf_counter() - start) / args.evaluations
    rows: dict[str, dict[str, float]] = {
        "fitness (LP)": {"per_s": 1.0 / eval_s, "random_mean_wegr": float(np.mean(values))}
    }

    ga = genetic_search(problem, generations=args.generations, seed=args.seed)
    rows["GA dynamic, population 100"] = {
        "generations_per_min": 60.0 * ga.generations_run / (ga.wall_time_s - ga.history_wall_s[0]),
        "evaluations": ga.evaluations,
        "cache_hits": ga.cache_hits,
        "best_wegr": ga.best_fitness,
        "wall_s": ga.wall_time_s,
    }
    timed = _TimedFitness(model.fitness)
    for policy in ("mlp", "table"):
        timed.seconds = 0.0
        rl = reinforce_search(
            dataclasses.replace(problem, fitness=timed),
            epochs=args.epochs,
            batch_size=args.batch_size,
            policy=policy,
            learning_rate=1e-3 if policy == "mlp" else 1e-2,
            seed=args.seed,
        )
        epoch_s = rl.wall_s[-1] / rl.epochs_run
        rows[f"REINFORCE {policy}, batch {args.batch_size}"] = {
            "epochs_per_min": 60.0 / epoch_s,
            "evaluations": rl.evaluations,
            "cache_hits": rl.cache_hits,
            "lp_share": timed.seconds / rl.wall_time_s,
            "best_wegr": rl.best_fitness,
            "wall_s": rl.wall_time_s,
        }

    for policy in ("mlp", "table") if args.race_epochs > 0 else ():
        race = reinforce_search(
            problem,
            epochs=args.race_epochs,
            batch_size=args.batch_size,
            policy=policy,
            learning_rate=1e-3 if policy == "mlp" else 1e-2,
            target_fitness=ga.best_fitness,
            seed=args.seed,
        )
        rows[f"REINFORCE {policy} to the GA's best"] = {
            "target_wegr": ga.best_fitness,
            "ga_wall_s": ga.wall_time_s,
            "reached": float(race.time_to_target_s is not None),
            "time_to_target_s": race.time_to_target_s or float("nan"),
            "epochs": race.epochs_run,
            "evaluations": race.evaluations,
            "best_wegr": race.best_fitness,
            "greedy_wegr": race.greedy_fitness,
        }

    for name, row in rows.items():
        print(f"{name:34s} " + "  ".join(f"{k}={v:.4g}" for k, v in row.items()))
    if args.json is not None:
        payload = {
            "machine": platform.platform(),
            "load_average_1min": os.getloadavg()[0],
            "python": platform.python_version(),
            "problem": {
                "pairs": int(n.size),
                "versions_total": int(n.sum()),
                "versions_range": [int(n.min()), int(n.max())],
                "slots": model.max_slots,
                "links": int(model.capacity.size),
            },
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "results": rows,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
