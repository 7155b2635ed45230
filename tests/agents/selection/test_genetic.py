"""The elitist GA: optima of tiny problems, elitism, the schedules, the memo, seeds, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from agents.baselines.genetic import DYNAMIC, STATIC, Schedule, _mutate, genetic_search
from agents.selection.problem import SelectionProblem, canonical


@pytest.mark.parametrize("dynamic", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ga_finds_the_brute_force_optimum_of_tiny_lp_problems(tiny_lp, dynamic, seed):
    problem, optimum = tiny_lp
    result = genetic_search(problem, population=20, generations=60, dynamic=dynamic, seed=seed)
    assert result.best_fitness == pytest.approx(optimum, rel=1e-9)
    assert problem.fitness(result.best_selection) == pytest.approx(result.best_fitness)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_ga_finds_an_optimum_that_uses_fewer_versions_than_slots(penalised, seed):
    problem, optimum = penalised
    result = genetic_search(problem, population=30, generations=150, seed=seed)
    assert result.best_fitness == pytest.approx(optimum)
    used = (result.best_selection >= 0).sum(axis=1)
    assert used[2] == 0  # the pair without versions
    assert used.max() <= 2  # a third version costs more than any version is worth


def test_elitism_never_lets_the_best_fitness_decrease(penalised):
    problem, _ = penalised
    # High exploration everywhere: without elitism the population's best would fall.
    result = genetic_search(
        problem,
        population=10,
        generations=80,
        schedule=Schedule.constant(1.0, 1.0, 1.0),
        mutation_slots=4,
        n_elites=1,
        seed=5,
    )
    assert (np.diff(result.history_best) >= 0).all()
    assert result.history_best[-1] == result.best_fitness
    assert (result.history_mean <= result.history_best + 1e-12).all()
    assert result.history_best.shape == result.history_mean.shape == (81,)
    assert (np.diff(result.history_wall_s) >= 0).all()


def test_schedule_values():
    g = 1000
    assert DYNAMIC.at(1, g) == (0.9, 0.9, 1.0)
    assert DYNAMIC.at(g, g) == pytest.approx((0.6, 0.2, 0.2))
    mid = DYNAMIC.at(500, g)
    t = 499 / 999
    assert mid == pytest.approx((0.9 - 0.3 * t, 0.9 - 0.7 * t, 1.0 - 0.8 * t))
    rates = np.array([DYNAMIC.at(k, g) for k in range(1, g + 1)])
    assert (np.diff(rates, axis=0) < 0).all()  # every knob falls every generation
    assert STATIC.at(1, g) == STATIC.at(g, g) == pytest.approx(DYNAMIC.at(g, g))
    assert DYNAMIC.at(1, 1) == DYNAMIC.at(1, g)  # a one-generation budget runs at the start
    assert DYNAMIC.at(2 * g, g) == DYNAMIC.at(g, g)


@pytest.mark.parametrize(
    "fields",
    [
        {"crossover_rate": (1.2, 0.5)},
        {"mutation_rate": (0.5, -0.1)},
        {"parent_share": (0.0, 0.5)},
        {"parent_share": (1.0,)},
    ],
)
def test_schedule_rejects_values_out_of_range(fields):
    name = next(iter(fields))
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(DYNAMIC, **fields)


def test_the_run_asks_the_schedule_for_every_generation(tiny_lp):
    problem, _ = tiny_lp
    asked: list[tuple[int, int]] = []

    @dataclasses.dataclass(frozen=True)
    class Spy(Schedule):
        def at(self, generation, generations):
            asked.append((generation, generations))
            return super().at(generation, generations)

    spy = Spy(DYNAMIC.crossover_rate, DYNAMIC.mutation_rate, DYNAMIC.parent_share)
    genetic_search(problem, population=6, generations=7, schedule=spy, seed=0)
    assert asked == [(k, 7) for k in range(1, 8)]


def test_without_crossover_or_mutation_children_are_cache_hits(tiny_lp, counting):
    problem, _ = tiny_lp
    fit = counting(problem.fitness)
    pop, gens, elites = 12, 9, 2
    result = genetic_search(
        dataclasses.replace(problem, fitness=fit),
        population=pop,
        generations=gens,
        schedule=Schedule.constant(0.0, 0.0, 0.5),
        n_elites=elites,
        seed=3,
    )
    # Only the first population is ever scored; every child is a copy of a parent.
    assert fit.calls == result.evaluations == len(set(fit.seen))
    assert result.evaluations + result.cache_hits == pop + (pop - elites) * gens
    assert result.cache_hits >= (pop - elites) * gens


def test_the_cache_never_scores_a_version_set_twice(penalised, counting):
    problem, _ = penalised
    fit = counting(problem.fitness)
    result = genetic_search(dataclasses.replace(problem, fitness=fit), generations=40, seed=1)
    assert fit.calls == result.evaluations == len(set(fit.seen))
    assert result.evaluations + result.cache_hits == 100 + 98 * 40
    assert result.cache_hits > 0


def test_a_seed_is_deterministic_and_seeds_differ(penalised):
    problem, _ = penalised
    a, b = (genetic_search(problem, population=16, generations=20, seed=4) for _ in range(2))
    c = genetic_search(problem, population=16, generations=20, seed=5)
    assert (a.best_selection == b.best_selection).all()
    assert (a.history_mean == b.history_mean).all() and (a.history_best == b.history_best).all()
    assert (a.evaluations, a.cache_hits) == (b.evaluations, b.cache_hits)
    assert not np.array_equal(a.history_mean, c.history_mean)


def test_seed_selections_enter_the_first_population(penalised_optimum):
    problem, optimum, best = penalised_optimum
    with_empty = np.full((5, 3), -1)
    result = genetic_search(problem, population=5, generations=0, seeds=[with_empty, best])
    assert result.history_best[0] == result.best_fitness == pytest.approx(optimum)
    assert (result.best_selection == canonical(best)).all()
    assert result.generations_run == 0 and result.evaluations == 5


def test_early_stop_after_patience_generations_without_improvement():
    flat = SelectionProblem(np.array([3, 3]), 2, lambda s: 1.0)
    result = genetic_search(flat, population=8, generations=100, patience=7, seed=0)
    assert (result.stop_reason, result.generations_run) == ("patience", 7)
    assert result.history_best.shape == (8,)


def test_stop_at_a_target_fitness(penalised):
    problem, optimum = penalised
    result = genetic_search(problem, generations=1000, target_fitness=optimum - 1e-9, seed=0)
    assert result.stop_reason == "target"
    assert result.best_fitness >= optimum - 1e-9
    assert result.generations_run < 1000
    assert 0.0 <= result.time_to_target_s <= result.wall_time_s
    assert genetic_search(problem, generations=3, seed=0).time_to_target_s is None
    assert genetic_search(problem, generations=3, seed=0).stop_reason == "generations"


def test_pairs_without_versions_keep_empty_rows(penalised):
    problem, _ = penalised
    result = genetic_search(problem, population=8, generations=5, seed=0)
    assert (result.best_selection[2] == -1).all()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"population": 1}, "population"),
        ({"population": 10.0}, "population"),
        ({"generations": -1}, "generations"),
        ({"n_elites": 0}, "n_elites"),
        ({"population": 4, "n_elites": 4}, "n_elites"),
        ({"crossover_points": 0}, "crossover_points"),
        ({"mutation_slots": 0}, "mutation_slots"),
        ({"patience": 0}, "patience"),
        ({"target_fitness": float("nan")}, "target_fitness"),
        ({"population": 2, "n_elites": 1, "seeds": [np.zeros((5, 3), int)] * 3}, "seeds"),
        ({"replace_share": 1.5}, "replace_share"),
        ({"seeds": [np.zeros((5, 2), int)]}, "shape"),
        ({"seeds": [np.full((5, 3), 4)]}, r"selection\[0, 0\] = 4"),
    ],
)
def test_invalid_arguments_are_rejected(penalised, kwargs, field):
    problem, _ = penalised
    with pytest.raises(ValueError, match=field):
        genetic_search(problem, **{"generations": 2, **kwargs})


@pytest.mark.parametrize("replace_share", [0.0, 1.0])
def test_mutation_redraws_one_version_of_one_pair(replace_share):
    n = np.array([6, 1, 0, 4])
    parent = np.array([[0, 1, 1], [0, 0, -1], [-1, -1, -1], [3, 3, 3]])
    children = np.tile(parent, (200, 1, 1))
    rng = np.random.default_rng(0)
    _mutate(rng, children, n, np.flatnonzero(n > 0), 1.0, 1, replace_share)
    for child in children:
        rows = np.flatnonzero((child != parent).any(axis=1))
        assert rows.size <= 1 and 2 not in rows  # the pair without versions never mutates
        if rows.size == 0:  # pair 1 has one version: a redraw can only give it back
            continue
        u = int(rows[0])
        changed = child[u] != parent[u]
        old, new = set(parent[u][changed].tolist()), set(child[u][changed].tolist())
        assert len(old) == len(new) == 1 and old != new
        assert min(new) >= 0 and max(new) < n[u]
        if replace_share == 1.0:  # every copy of the old version is gone from the row
            assert old.isdisjoint(child[u].tolist())
        else:
            assert changed.sum() == 1
    assert (children != parent).any(axis=(1, 2)).mean() > 0.5


def test_a_nan_fitness_is_rejected():
    with pytest.raises(ValueError, match="finite"):
        genetic_search(SelectionProblem(np.array([2]), 1, lambda s: float("nan")), generations=1)


@pytest.mark.parametrize("points", [1, 2])
def test_crossover_cuts_only_on_pair_block_boundaries(counting, points):
    """Seed ``i`` holds version ``i`` in every cell. Without mutation, every chromosome ever
    scored is built of whole seed rows, and a first-generation child of ``points`` cuts
    changes seed at most ``points`` times along the pairs."""
    n_pairs, pop = 6, 8
    fit = counting(lambda s: float(np.random.default_rng(list(s.ravel() + 1)).random()))
    problem = SelectionProblem(np.full(n_pairs, 9), 3, fit)
    seeds = [np.full((n_pairs, 3), i) for i in range(pop)]
    kwargs = {"population": pop, "seeds": seeds, "crossover_points": points, "seed": 1}
    cross = Schedule.constant(crossover_rate=1.0, mutation_rate=0.0, parent_share=1.0)
    genetic_search(problem, generations=1, schedule=cross, **kwargs)
    children = [np.frombuffer(b, dtype=np.int64).reshape(n_pairs, 3) for b in fit.seen[pop:]]
    assert children
    changes = [int((np.diff(c[:, 0]) != 0).sum()) for c in children]
    assert max(changes) == points and min(changes) >= 1
    for c in children:
        assert (c[:, 1:] == -1).all()  # each row is a whole seed row, {i}

    fit.seen.clear()
    genetic_search(problem, generations=15, schedule=cross, **kwargs)
    for b in fit.seen:
        c = np.frombuffer(b, dtype=np.int64).reshape(n_pairs, 3)
        assert (c[:, 1:] == -1).all() and (c[:, 0] < pop).all()
