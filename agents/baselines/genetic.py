"""Elitist genetic algorithm for path-version selection, static or dynamic (qVPN paper, Sec. III-A).

Generic over :class:`agents.selection.problem.SelectionProblem`: the fitness of a chromosome
is ``problem.fitness`` (the paper's W-EGR from its LP (1)), memoised by canonical selection.

## Chromosome (Fig. 2)
A chromosome is a selection, ``(n_pairs, max_slots)`` local version indices, read as one list
with a block of ``max_slots`` cells per user pair. Random chromosomes draw every cell uniformly
from the pair's versions (with repeats, which count once, so a pair may end up using fewer
versions); pairs without versions hold ``-1``. Seed chromosomes (e.g. a shortest-path
baseline, as in the paper's Fig. 7) go into the first population as given and may hold ``-1``.

## One generation
1. Rank the population by fitness (ties: lower index first).
2. Elitism: the ``n_elites`` best are copied unchanged, so the best fitness never decreases.
3. Selection: parents are drawn uniformly from the best ``parent_share`` of the ranking
   (truncation selection; at least two).
4. Crossover (Fig. 2): with probability ``crossover_rate`` a parent couple is cut at
   ``crossover_points`` distinct pair-block boundaries and the two children alternate segments;
   otherwise the children are copies of the parents. Blocks are never split.
5. Mutation (Fig. 2, the last cell of candidate ``n``): with probability ``mutation_rate`` a
   child has ``mutation_slots`` random cells (of pairs with at least one version) redrawn
   uniformly among the pair's other versions. Because repeated versions count once, a row
   like ``(a, a, b)`` uses ``{a, b}``; redrawing one cell can only add a version or drop a
   copy, so swapping ``a`` for ``c`` takes two mutations in a row when a third version
   lowers the fitness. With probability ``replace_share`` (default 0.5) the new
   version therefore replaces every copy of the old one in the row (a swap of one version of
   the pair's set); otherwise only the drawn cell changes.
6. The children are evaluated (cache first) and replace everything but the elites.

## Static and dynamic GA (Sec. III-A-1)
The paper: the dynamic GA "tends to explore the search space more in the early generations and
reduces exploration as time passes ... by adjusting the probability of mutation and crossover
and the selection operation", e.g. "most of the candidate solutions in the early generations
[get] a chance to generate the next population, while using higher values for the probability
of mutation and crossover"; the static GA "always uses the same strategy for selection, such as
using a fixed subset of candidate solutions". It gives no numbers. We chose a linear schedule
from generation 0 to the last generation of the budget (``generations``), for all three knobs:

==================  =====================  ===============
knob                dynamic (start -> end)  static
==================  =====================  ===============
crossover_rate      0.9 -> 0.6             0.6
mutation_rate       0.9 -> 0.2             0.2
parent_share        1.0 -> 0.2             0.2
==================  =====================  ===============

The static GA runs at the dynamic GA's final (exploiting) values, which is the paper's
observation: it "does not adequately explore the search space at the beginning". The
*parent share* is the share of the ranked population that breeds (the "elite share" of the
selection step); the ``n_elites`` copied unchanged stay fixed (default 2).

## Stopping
After ``generations`` generations (the paper: 1000), or ``patience`` generations in a row
without a strictly better best fitness (default ``None``: off, as in the paper), or as soon as
the best fitness reaches ``target_fitness`` (default ``None``).

Usage::

    from agents.baselines.genetic import genetic_search

    result = genetic_search(problem, seed=0, seeds=[shortest_path_selection])
    result.best_selection, result.best_fitness, result.evaluations, result.cache_hits
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.selection.cache import CachedFitness
from agents.selection.problem import (
    SelectionProblem,
    canonical,
    validate_problem,
    validate_selection,
)


@dataclass(frozen=True)
class Schedule:
    """Crossover rate, mutation rate and parent share, each linear from ``(start, end)``:
    ``start`` at generation 0, ``end`` at the last generation of the budget."""

    crossover_rate: tuple[float, float]
    mutation_rate: tuple[float, float]
    parent_share: tuple[float, float]

    def __post_init__(self) -> None:
        for name in ("crossover_rate", "mutation_rate"):
            pair = getattr(self, name)
            if len(pair) != 2 or not all(0.0 <= float(v) <= 1.0 for v in pair):
                raise ValueError(f"{name} must be (start, end) with both in [0, 1], got {pair}")
        pair = self.parent_share
        if len(pair) != 2 or not all(0.0 < float(v) <= 1.0 for v in pair):
            raise ValueError(f"parent_share must be (start, end) with both in (0, 1], got {pair}")

    @classmethod
    def constant(cls, crossover_rate: float, mutation_rate: float, parent_share: float) -> Schedule:
        """A static schedule."""
        return cls(
            (crossover_rate, crossover_rate),
            (mutation_rate, mutation_rate),
            (parent_share, parent_share),
        )

    def at(self, generation: int, generations: int) -> tuple[float, float, float]:
        """``(crossover_rate, mutation_rate, parent_share)`` when breeding generation
        ``generation`` (1-based: the first children are generation 1) of ``generations``."""
        t = 0.0 if generations <= 1 else min(1.0, (generation - 1) / (generations - 1))

        def lerp(pair: tuple[float, float]) -> float:
            return float(pair[0] + t * (pair[1] - pair[0]))

        return lerp(self.crossover_rate), lerp(self.mutation_rate), lerp(self.parent_share)


DYNAMIC = Schedule(crossover_rate=(0.9, 0.6), mutation_rate=(0.9, 0.2), parent_share=(1.0, 0.2))
"""The dynamic GA's default schedule (explore early, exploit late)."""
STATIC = Schedule.constant(crossover_rate=0.6, mutation_rate=0.2, parent_share=0.2)
"""The static GA's default: the dynamic schedule's final values throughout."""


@dataclass(frozen=True)
class GAResult:
    """What a GA run found and what it cost."""

    best_selection: np.ndarray  # (n_pairs, max_slots) canonical: sorted, -1 padded
    best_fitness: float
    history_best: np.ndarray  # (generations_run + 1,) best fitness after each generation (0: seeds)
    history_mean: np.ndarray  # (generations_run + 1,) mean fitness of each population
    history_wall_s: np.ndarray  # (generations_run + 1,) seconds since start at each generation
    generations_run: int
    evaluations: int  # fitness (LP) calls
    cache_hits: int  # fitness requests answered from the memo
    wall_time_s: float
    stop_reason: str  # "generations", "patience" or "target"
    time_to_target_s: float | None  # seconds until best >= target_fitness; None if not reached


def genetic_search(
    problem: SelectionProblem,
    *,
    population: int = 100,
    generations: int = 1000,
    dynamic: bool = True,
    schedule: Schedule | None = None,
    n_elites: int = 2,
    crossover_points: int = 1,
    mutation_slots: int = 1,
    replace_share: float = 0.5,
    patience: int | None = None,
    target_fitness: float | None = None,
    seeds: Sequence[np.ndarray] = (),
    seed: int | None = 0,
) -> GAResult:
    """Run the elitist GA on ``problem`` (see the module docstring for the algorithm).

    ``schedule`` overrides the default of ``dynamic`` (:data:`DYNAMIC` or :data:`STATIC`);
    ``seeds`` are selections placed in the first population (at most ``population``); ``seed``
    seeds the generator (the run is a pure function of its arguments and the fitness).
    """
    validate_problem(problem)
    _check_int("population", population, 2)
    _check_int("generations", generations, 0)
    _check_int("n_elites", n_elites, 1)
    if n_elites >= population:
        raise ValueError(f"n_elites must be < population={population}, got {n_elites}")
    _check_int("crossover_points", crossover_points, 1)
    _check_int("mutation_slots", mutation_slots, 1)
    if not 0.0 <= replace_share <= 1.0:
        raise ValueError(f"replace_share must be in [0, 1], got {replace_share}")
    if patience is not None:
        _check_int("patience", patience, 1)
    if target_fitness is not None and not math.isfinite(target_fitness):
        raise ValueError(f"target_fitness must be finite or None, got {target_fitness}")
    if len(seeds) > population:
        raise ValueError(f"seeds: at most population={population} selections, got {len(seeds)}")
    sched = schedule if schedule is not None else (DYNAMIC if dynamic else STATIC)

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = np.asarray(problem.n_versions, dtype=np.int64)
    n_pairs, slots = n.size, problem.max_slots
    mutable = np.flatnonzero(n > 0)
    fitness = CachedFitness(problem)

    pop = np.empty((population, n_pairs, slots), dtype=np.int64)
    for i, s in enumerate(seeds):
        pop[i] = validate_selection(problem, s)
    for i in range(len(seeds), population):
        pop[i] = _random_chromosome(rng, n, slots)
    fit = np.array([fitness(c) for c in pop])

    best_i = int(np.argmax(fit))
    best_sel, best_fit = pop[best_i].copy(), float(fit[best_i])
    hist_best, hist_mean = [best_fit], [float(fit.mean())]
    hist_wall = [time.perf_counter() - start]
    time_to_target = hist_wall[0] if _reached(best_fit, target_fitness) else None
    stop_reason, stale, gen = "generations", 0, 0

    while gen < generations and time_to_target is None:
        if patience is not None and stale >= patience:
            stop_reason = "patience"
            break
        gen += 1
        cx_rate, mut_rate, share = sched.at(gen, generations)
        order = np.argsort(-fit, kind="stable")
        pool = order[: max(2, math.ceil(share * population))]
        children = _breed(rng, pop, pool, population - n_elites, cx_rate, crossover_points)
        _mutate(rng, children, n, mutable, mut_rate, mutation_slots, replace_share)
        child_fit = np.array([fitness(c) for c in children])
        pop = np.concatenate([pop[order[:n_elites]], children])
        fit = np.concatenate([fit[order[:n_elites]], child_fit])

        i = int(np.argmax(fit))
        if fit[i] > best_fit:
            best_sel, best_fit, stale = pop[i].copy(), float(fit[i]), 0
        else:
            stale += 1
        hist_best.append(best_fit)
        hist_mean.append(float(fit.mean()))
        hist_wall.append(time.perf_counter() - start)
        if _reached(best_fit, target_fitness):
            time_to_target = hist_wall[-1]
    if time_to_target is not None:
        stop_reason = "target"

    return GAResult(
        best_selection=canonical(best_sel),
        best_fitness=best_fit,
        history_best=np.array(hist_best),
        history_mean=np.array(hist_mean),
        history_wall_s=np.array(hist_wall),
        generations_run=len(hist_best) - 1,
        evaluations=fitness.evaluations,
        cache_hits=fitness.hits,
        wall_time_s=time.perf_counter() - start,
        stop_reason=stop_reason,
        time_to_target_s=time_to_target,
    )


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def _reached(best: float, target: float | None) -> bool:
    return target is not None and best >= target


def _random_chromosome(rng: np.random.Generator, n: np.ndarray, slots: int) -> np.ndarray:
    """Every cell uniform over its pair's versions; ``-1`` for pairs without versions."""
    draw = np.floor(rng.random((n.size, slots)) * n[:, None]).astype(np.int64)
    return np.where(n[:, None] > 0, draw, -1)


def _breed(
    rng: np.random.Generator,
    pop: np.ndarray,
    pool: np.ndarray,
    count: int,
    cx_rate: float,
    points: int,
) -> np.ndarray:
    """``count`` children of parent couples drawn from ``pool``, cut on pair-block boundaries."""
    n_pairs = pop.shape[1]
    children = np.empty((count, *pop.shape[1:]), dtype=pop.dtype)
    k = min(points, n_pairs - 1)
    for c in range(0, count, 2):
        a, b = rng.choice(pool, size=2, replace=False)
        first, second = pop[a].copy(), pop[b].copy()
        if k > 0 and rng.random() < cx_rate:
            cuts = rng.choice(np.arange(1, n_pairs), size=k, replace=False)
            # Segment of each pair block: how many cuts lie at or before it; odd ones swap.
            swap = (np.searchsorted(np.sort(cuts), np.arange(n_pairs), side="right") % 2) == 1
            first[swap], second[swap] = pop[b][swap], pop[a][swap]
        children[c] = first
        if c + 1 < count:
            children[c + 1] = second
    return children


def _mutate(
    rng: np.random.Generator,
    children: np.ndarray,
    n: np.ndarray,
    mutable: np.ndarray,
    rate: float,
    slots_per_mutation: int,
    replace_share: float,
) -> None:
    """In place: each child, with probability ``rate``, gets cells redrawn among other versions;
    a redrawn version replaces all its copies in the row with probability ``replace_share``."""
    slots = children.shape[2]
    cells = mutable.size * slots
    for c in np.flatnonzero(rng.random(len(children)) < rate):
        child = children[c]  # a view: the edits land in ``children``
        for cell in rng.choice(cells, size=min(slots_per_mutation, cells), replace=False):
            u, s = int(mutable[cell // slots]), int(cell % slots)
            current, count = int(child[u, s]), int(n[u])
            if count == 1 or current < 0:
                child[u, s] = int(rng.integers(count))
                continue
            draw = int(rng.integers(count - 1))  # uniform over the pair's other versions
            new = draw + (draw >= current)
            if rng.random() < replace_share:
                child[u][child[u] == current] = new  # the version leaves the row for good
            else:
                child[u, s] = new
