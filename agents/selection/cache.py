"""A fitness memo keyed by canonical selection, counting evaluations and cache hits.

A fitness evaluation is the expensive step of both optimisers (one LP solve, about a
millisecond); a GA population keeps re-creating selections it has already scored (elites,
parents copied without crossover, mutations that redraw a version already in the row), and a
converging REINFORCE policy keeps sampling the same ones. Selections that use the same versions
(see :func:`agents.selection.problem.canonical`) share one entry.
"""

from __future__ import annotations

import math

import numpy as np

from agents.selection.problem import SelectionProblem, canonical


class CachedFitness:
    """``problem.fitness`` behind a memo.

    ``evaluations`` counts calls of ``problem.fitness``, ``hits`` counts calls answered from the
    memo; ``evaluations + hits`` is the number of selections scored. The selection handed to
    ``problem.fitness`` is the canonical one (rows sorted, repeats replaced by ``-1``), a fresh
    array the fitness may keep.
    """

    def __init__(self, problem: SelectionProblem) -> None:
        self._fitness = problem.fitness
        self._memo: dict[bytes, float] = {}
        self.evaluations = 0
        self.hits = 0

    def __call__(self, selection: np.ndarray) -> float:
        """The fitness of a validated selection ``(n_pairs, max_slots)``."""
        canon = canonical(selection)
        key = canon.tobytes()
        value = self._memo.get(key)
        if value is not None:
            self.hits += 1
            return value
        raw = self._fitness(canon)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"fitness must return a float, got {type(raw).__name__}") from None
        if not math.isfinite(value):
            raise ValueError(
                f"fitness returned {value}; it must be finite (score an infeasible selection "
                "with a finite value such as 0.0, the paper's W-EGR of an infeasible LP)"
            )
        self.evaluations += 1
        self._memo[key] = value
        return value

    def __len__(self) -> int:
        return len(self._memo)
