"""agents.selection.qvpn: the qVPN LP as a SelectionProblem, its index map and its features."""

from __future__ import annotations

import numpy as np
import pytest

from agents.baselines.genetic import genetic_search
from agents.selection.cache import CachedFitness
from agents.selection.problem import validate_problem
from agents.selection.qvpn import (
    PAIR_FEATURES,
    VERSION_FEATURES,
    selection_problem,
    version_map,
)
from agents.selection.reinforce import reinforce_search
from qnet_envs.qvpn.lp import solve_lp
from qnet_envs.qvpn.milp import dominance_representatives, solve_optimum
from qnet_envs.qvpn.workload import tiny_instance


@pytest.fixture(scope="module")
def tiny():
    return tiny_instance()


@pytest.fixture(scope="module")
def optimum(tiny) -> float:
    result = solve_optimum(tiny, 60)
    assert result.status == "optimal"
    return result.objective


def random_selection(rng, counts: np.ndarray, slots: int) -> np.ndarray:
    sel = np.full((counts.size, slots), -1, dtype=np.int64)
    for u, n in enumerate(counts):
        if n:
            sel[u] = rng.integers(-1, n, size=slots)
    return sel


@pytest.mark.parametrize("prune", [True, False])
def test_fitness_is_the_lp_w_egr_on_random_selections(tiny, prune: bool) -> None:
    problem = selection_problem(tiny, prune_dominated=prune)
    validate_problem(problem)
    mapping = version_map(tiny, prune_dominated=prune)
    memo = CachedFitness(problem)
    rng = np.random.default_rng(0)
    feasible = 0
    for _ in range(40):
        sel = random_selection(rng, np.asarray(problem.n_versions), problem.max_slots)
        lp = solve_lp(tiny, mapping.to_lp(sel))
        expected = lp.w_egr if lp.status == "optimal" else 0.0
        feasible += lp.status == "optimal"
        assert problem.fitness(sel) == pytest.approx(expected, rel=1e-12, abs=1e-9)
        assert memo(sel) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert 0 < feasible < 40  # both branches were exercised
    assert memo.evaluations + memo.hits == 40


def test_unpruned_map_is_the_identity(tiny) -> None:
    mapping = version_map(tiny, prune_dominated=False)
    assert np.array_equal(mapping.offered, np.arange(tiny.versions.n_total))
    rng = np.random.default_rng(1)
    sel = random_selection(rng, tiny.versions.counts, tiny.max_paths)
    assert np.array_equal(mapping.to_lp(sel), sel)
    assert np.array_equal(mapping.from_lp(sel), sel)


def test_pruned_map_round_trips_and_never_lowers_w_egr(tiny) -> None:
    mapping = version_map(tiny)
    rep = dominance_representatives(tiny)
    assert np.array_equal(mapping.offered, np.flatnonzero(rep == np.arange(rep.size)))
    assert mapping.offered.size < tiny.versions.n_total  # the tiny instance has dominated ones
    offsets = tiny.versions.pair_offsets
    rng = np.random.default_rng(2)
    for _ in range(30):
        sel = random_selection(rng, mapping.counts, tiny.max_paths)
        lp_sel = mapping.to_lp(sel)
        # every LP index names the offered global version the problem index names
        for u, s in np.argwhere(sel >= 0):
            assert offsets[u] + lp_sel[u, s] == mapping.offered[mapping.offsets[u] + sel[u, s]]
        assert np.array_equal(mapping.from_lp(lp_sel), sel)
        raw = random_selection(rng, tiny.versions.counts, tiny.max_paths)
        mapped = solve_lp(tiny, mapping.to_lp(mapping.from_lp(raw)))
        original = solve_lp(tiny, raw)
        if original.status == "optimal":
            assert mapped.status == "optimal"
            assert mapped.w_egr >= original.w_egr * (1 - 1e-9)


def test_features_are_the_version_tables_columns(tiny) -> None:
    problem = selection_problem(tiny)
    mapping = version_map(tiny)
    vt, v = tiny.versions, mapping.offered
    vf, pf = np.asarray(problem.version_features), np.asarray(problem.pair_features)
    assert vf.shape == (v.size, len(VERSION_FEATURES))
    assert pf.shape == (tiny.n_pairs, len(PAIR_FEATURES))
    column = dict(zip(VERSION_FEATURES, vf.T, strict=True))
    assert np.array_equal(column["hops"], vt.hops[v])
    assert np.allclose(column["coefficient"], vt.coefficient[v])
    assert np.allclose(np.exp(column["log_bottleneck"]), vt.bottleneck_capacity[v])
    pair = dict(zip(PAIR_FEATURES, pf.T, strict=True))
    assert np.allclose(pair["fidelity_threshold"], tiny.pair_fidelity)
    assert np.array_equal(pair["versions"], mapping.counts)
    assert np.isfinite(vf).all() and np.isfinite(pf).all()


def test_unbounded_rates_give_finite_pair_features(tiny) -> None:
    from dataclasses import replace

    open_rates = replace(tiny, r_min=(0.0,) * 3, r_max=(float("inf"),) * 3)
    pf = np.asarray(selection_problem(open_rates).pair_features)
    pair = dict(zip(PAIR_FEATURES, pf.T, strict=True))
    assert np.all(pair["has_r_max"] == 0) and np.all(pair["r_max"] == 0)


def test_infeasible_scores(tiny) -> None:
    empty = np.full((tiny.n_pairs, tiny.max_paths), -1)
    assert selection_problem(tiny).fitness(empty) == 0.0
    # nothing selected: every pair is short by its whole R_min
    assert selection_problem(tiny, infeasible="shortfall").fitness(empty) == pytest.approx(-1.0)
    sel = empty.copy()
    sel[0, 0] = 0
    lp = solve_lp(tiny, version_map(tiny).to_lp(sel))
    assert lp.status == "infeasible"
    expected = -lp.shortfall.sum() / sum(tiny.r_min)
    assert -1.0 < expected < 0.0
    assert selection_problem(tiny, infeasible="shortfall").fitness(sel) == pytest.approx(expected)


@pytest.mark.parametrize("prune", [True, False])
def test_ga_reaches_the_milp_optimum_on_tiny(tiny, optimum: float, prune: bool) -> None:
    """A population of 6 rarely starts at the optimum (a population of 30 always does)."""
    problem = selection_problem(tiny, prune_dominated=prune, infeasible="shortfall")
    mapping = version_map(tiny, prune_dominated=prune)
    started_below = 0
    for seed in range(5):
        result = genetic_search(problem, population=6, generations=80, seed=seed)
        assert result.best_fitness == pytest.approx(optimum, rel=1e-6)
        lp = solve_lp(tiny, mapping.to_lp(result.best_selection))
        assert lp.w_egr == pytest.approx(optimum, rel=1e-6)
        started_below += result.history_best[0] < optimum * (1 - 1e-6)
    assert started_below >= 1


def test_reinforce_reaches_the_milp_optimum_on_tiny(tiny, optimum: float) -> None:
    problem = selection_problem(tiny, infeasible="shortfall")
    result = reinforce_search(problem, epochs=60, seed=0, hidden=(32,))
    assert result.best_fitness == pytest.approx(optimum, rel=1e-6)


def test_bad_arguments(tiny) -> None:
    with pytest.raises(ValueError, match="prune_dominated"):
        selection_problem(tiny, prune_dominated=1)
    with pytest.raises(ValueError, match="infeasible must be one of"):
        selection_problem(tiny, infeasible="penalty")
    mapping = version_map(tiny)
    bad = np.zeros((tiny.n_pairs, tiny.max_paths), dtype=np.int64)
    bad[1, 0] = mapping.counts[1]
    with pytest.raises(ValueError, match=r"problem selection\[1, 0\]"):
        mapping.to_lp(bad)
    with pytest.raises(ValueError, match="shape"):
        mapping.from_lp(np.zeros((1, 1), dtype=np.int64))
