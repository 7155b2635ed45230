"""Static against dynamic GA on a synthetic LP problem (the paper's Fig. 4a question).

Runs :func:`agents.baselines.genetic.genetic_search` with ``dynamic=True`` and ``False`` on
:func:`agents.selection.synthetic.capacity_model` for a few seeds and prints the best W-EGR at
a few generations, plus evaluations and cache hits.

Usage: ``python scripts/compare_ga_schedules.py [--pairs 40] [--versions 10 40]
[--generations 300] [--seeds 0 1] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from agents.baselines.genetic import genetic_search
from agents.selection.synthetic import capacity_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--versions", type=int, nargs=2, default=(10, 40))
    parser.add_argument("--links", type=int, default=30)
    parser.add_argument("--generations", type=int, default=300)
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=(0, 1))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    problem = capacity_model(
        n_pairs=args.pairs, versions=tuple(args.versions), n_links=args.links, seed=0
    ).problem(with_features=False)
    marks = sorted({0, *(args.generations * k // 4 for k in range(1, 5))})
    rows = []
    for dynamic in (True, False):
        for seed in args.seeds:
            r = genetic_search(
                problem,
                population=args.population,
                generations=args.generations,
                dynamic=dynamic,
                seed=seed,
            )
            rows.append(
                {
                    "dynamic": dynamic,
                    "seed": seed,
                    "best_at": {str(g): float(r.history_best[g]) for g in marks},
                    "evaluations": r.evaluations,
                    "cache_hits": r.cache_hits,
                    "wall_s": r.wall_time_s,
                }
            )
            best = "  ".join(f"g{g}={r.history_best[g]:.0f}" for g in marks)
            name = "dynamic" if dynamic else "static "
            print(
                f"{name} seed {seed}: {best}  evaluations={r.evaluations} "
                f"hits={r.cache_hits} wall={r.wall_time_s:.0f}s",
                flush=True,
            )
    for dynamic in (True, False):
        final = [row["best_at"][str(marks[-1])] for row in rows if row["dynamic"] == dynamic]
        print(f"{'dynamic' if dynamic else 'static'} mean final best: {np.mean(final):.1f}")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"json": str(args.json)}, "runs": rows}, indent=2)
            + "\n"
        )


if __name__ == "__main__":
    main()
