"""Tiny selection problems with brute-force optima, for the GA and REINFORCE tests.

``tiny_lp`` problems are :func:`agents.selection.synthetic.capacity_model` instances small
enough to enumerate (3 pairs, 3-4 versions, 2 slots: at most 1,000 selections); their optimum
is found by trying every non-empty version set of every pair. ``penalised`` is a numpy fitness
whose optimum uses fewer versions than slots (so repeats must count once), with one pair that
has no version.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from agents.selection.problem import SelectionProblem
from agents.selection.synthetic import capacity_model

TINY_LP_SEEDS = (0, 1)


def brute_force(problem: SelectionProblem) -> tuple[float, np.ndarray]:
    """The best fitness over every selection of non-empty version sets, and one selection."""
    n, slots = np.asarray(problem.n_versions), problem.max_slots
    rows: list[list[list[int]]] = []
    for count in n:
        options = [
            [*c, *([-1] * (slots - k))]
            for k in range(1, min(slots, int(count)) + 1)
            for c in itertools.combinations(range(int(count)), k)
        ]
        rows.append(options or [[-1] * slots])
    best, best_sel = -np.inf, None
    for combo in itertools.product(*rows):
        sel = np.array(combo, dtype=np.int64)
        value = problem.fitness(sel)
        if value > best:
            best, best_sel = value, sel
    assert best_sel is not None
    return float(best), best_sel


def tiny_lp_problem(seed: int, with_features: bool = True) -> SelectionProblem:
    return capacity_model(
        n_pairs=3,
        versions=(3, 4),
        max_slots=2,
        n_links=3,
        paths_per_pair=3,
        path_len=(1, 2),
        capacity=(50.0, 300.0),
        r_max=200.0,
        seed=seed,
    ).problem(with_features=with_features)


@pytest.fixture(scope="session", params=TINY_LP_SEEDS)
def tiny_lp(request: pytest.FixtureRequest) -> tuple[SelectionProblem, float]:
    """A tiny LP problem and its brute-force optimum."""
    problem = tiny_lp_problem(request.param)
    return problem, brute_force(problem)[0]


def penalised_problem() -> SelectionProblem:
    """5 pairs (pair 2 has no version), 3 slots; each version has a value and using more
    than two versions in a pair costs 10 each, and pairs 0 and 1 sharing version 0 costs 5."""
    n = np.array([4, 5, 0, 3, 6])
    rng = np.random.default_rng(7)
    values = [rng.uniform(1.0, 9.0, size=k) for k in n]

    def fitness(sel: np.ndarray) -> float:
        total = 0.0
        for u, row in enumerate(sel):
            used = sorted({int(v) for v in row if v >= 0})
            total += sum(values[u][v] for v in used) - 10.0 * max(0, len(used) - 2)
        if 0 in set(sel[0].tolist()) and 0 in set(sel[1].tolist()):
            total -= 5.0
        return total

    return SelectionProblem(n_versions=n, max_slots=3, fitness=fitness)


@pytest.fixture(scope="session")
def penalised_optimum() -> tuple[SelectionProblem, float, np.ndarray]:
    """:func:`penalised_problem`, its optimum and an optimal selection."""
    problem = penalised_problem()
    return problem, *brute_force(problem)


@pytest.fixture
def penalised(penalised_optimum) -> tuple[SelectionProblem, float]:
    return penalised_optimum[:2]


class CountingFitness:
    """A fitness wrapper that counts its calls and remembers what it was asked."""

    def __init__(self, fitness: Callable[[np.ndarray], float]) -> None:
        self.fitness = fitness
        self.calls = 0
        self.seen: list[bytes] = []

    def __call__(self, sel: np.ndarray) -> float:
        self.calls += 1
        self.seen.append(np.asarray(sel).tobytes())
        return self.fitness(sel)


@pytest.fixture
def brute() -> Callable[[SelectionProblem], tuple[float, np.ndarray]]:
    """:func:`brute_force`."""
    return brute_force


@pytest.fixture
def counting() -> type[CountingFitness]:
    return CountingFitness
