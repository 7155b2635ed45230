"""The selection contract: validation, canonical form, the fitness memo, the synthetic LP."""

from __future__ import annotations

import numpy as np
import pytest

from agents.selection.cache import CachedFitness
from agents.selection.problem import (
    SelectionProblem,
    canonical,
    offsets,
    validate_problem,
    validate_selection,
)
from agents.selection.synthetic import CapacityModel, capacity_model


def _problem(**changes):
    fields = {"n_versions": np.array([2, 0, 3]), "max_slots": 2, "fitness": lambda s: 0.0}
    fields.update(changes)
    return SelectionProblem(**fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"n_versions": np.array([])}, "n_versions"),
        ({"n_versions": np.array([[1, 2]])}, "n_versions"),
        ({"n_versions": np.array([1.0, 2.0])}, "n_versions"),
        ({"n_versions": np.array([1, -1])}, "n_versions"),
        ({"n_versions": np.array([0, 0])}, "n_versions"),
        ({"max_slots": 0}, "max_slots"),
        ({"max_slots": 2.0}, "max_slots"),
        ({"max_slots": True}, "max_slots"),
        ({"fitness": 3.0}, "fitness"),
        ({"version_features": np.ones((4, 2))}, "version_features"),
        ({"version_features": np.full((5, 2), np.nan)}, "version_features"),
        ({"pair_features": np.ones((2, 1))}, "pair_features"),
        ({"pair_features": np.full((3, 1), np.inf)}, "pair_features"),
    ],
)
def test_malformed_problems_are_rejected_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        validate_problem(_problem(**changes))


def test_offsets_are_the_start_rows_of_each_pair():
    assert offsets(_problem()).tolist() == [0, 2, 2, 5]


@pytest.mark.parametrize(
    ("selection", "match"),
    [
        (np.zeros((3, 3), dtype=int), "shape"),
        (np.zeros((3, 2)), "integers"),
        (np.array([[0, 2], [-1, -1], [0, 1]]), r"selection\[0, 1\] = 2 .* -1\.\.1"),
        (np.array([[0, 1], [0, -1], [0, 1]]), r"selection\[1, 0\] = 0 .* 0 versions"),
        (np.array([[0, 1], [-1, -1], [-2, 1]]), r"selection\[2, 0\] = -2"),
    ],
)
def test_malformed_selections_are_rejected(selection, match):
    with pytest.raises(ValueError, match=match):
        validate_selection(_problem(), selection)


def test_canonical_is_the_sorted_distinct_set_padded():
    rng = np.random.default_rng(3)
    for _ in range(200):
        sel = rng.integers(-1, 4, size=(6, 4))
        canon = canonical(sel)
        for row, crow in zip(sel, canon, strict=True):
            used = sorted({int(v) for v in row if v >= 0})
            assert crow.tolist() == used + [-1] * (4 - len(used))
        assert (canonical(canon) == canon).all()
        assert (canonical(rng.permuted(sel, axis=1)) == canon).all()


def test_cache_evaluates_each_version_set_once(counting):
    fit = counting(lambda s: float((s >= 0).sum()))
    cached = CachedFitness(_problem(fitness=fit))
    a = np.array([[1, 0], [-1, -1], [2, 2]])
    same = np.array([[0, 1], [-1, -1], [-1, 2]])
    other = np.array([[0, 0], [-1, -1], [2, 1]])
    assert cached(a) == cached(same) == 3.0
    assert cached(other) == 3.0
    assert cached(a) == 3.0
    assert (fit.calls, cached.evaluations, cached.hits, len(cached)) == (2, 2, 2, 2)
    # The fitness sees the canonical selection.
    assert fit.seen[0] == canonical(a).tobytes()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, "x", None])
def test_cache_rejects_a_fitness_that_is_not_a_finite_float(value):
    cached = CachedFitness(_problem(fitness=lambda s: value))
    with pytest.raises(ValueError, match="fitness"):
        cached(np.array([[0, 1], [-1, -1], [0, 1]]))


# ------------------------------------------------------------------ the synthetic LP
def _one_link_model(rng, n_pairs):
    """Every pair has one version using one shared link: the LP is a fractional knapsack."""
    return CapacityModel(
        n_versions=np.ones(n_pairs, dtype=np.int64),
        max_slots=1,
        capacity=np.array([rng.uniform(10.0, 100.0)]),
        usage=rng.uniform(1.0, 5.0, size=(n_pairs, 1)),
        weight=rng.uniform(0.1, 1.0, size=n_pairs),
        r_max=rng.uniform(1.0, 40.0, size=n_pairs),
    )


def test_synthetic_lp_on_one_shared_link_is_the_fractional_knapsack():
    rng = np.random.default_rng(11)
    for _ in range(20):
        m = _one_link_model(rng, int(rng.integers(1, 6)))
        a, w, cap = m.usage[:, 0], m.weight, float(m.capacity[0])
        expected = 0.0
        for u in np.argsort(-w / a, kind="stable"):  # best value per unit of capacity first
            x = min(float(m.r_max[u]), cap / a[u])
            expected += w[u] * x
            cap -= a[u] * x
        sel = np.zeros((m.n_versions.size, 1), dtype=np.int64)
        assert m.fitness(sel) == pytest.approx(expected, rel=1e-7)
        assert m.fitness(np.full_like(sel, -1)) == 0.0


def test_synthetic_lp_is_monotone_and_ignores_order_and_repeats():
    m = capacity_model(n_pairs=8, versions=(3, 6), max_slots=3, n_links=6, path_len=(1, 3), seed=2)
    rng = np.random.default_rng(0)
    for _ in range(10):
        sel = np.floor(rng.random((8, 3)) * m.n_versions[:, None]).astype(np.int64)
        fewer = sel.copy()
        fewer[:, 2] = fewer[:, 0]  # drop the third version (a repeat of the first)
        assert m.fitness(fewer) <= m.fitness(sel) + 1e-6
        assert m.fitness(rng.permuted(sel, axis=1)) == pytest.approx(m.fitness(sel))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"versions": (5, 2)}, "versions"),
        ({"path_len": (0, 2)}, "path_len"),
        ({"path_len": (1, 9), "n_links": 4}, "path_len"),
        ({"cost": (0.5, 2.0)}, "cost"),
        ({"n_pairs": 0}, "n_pairs"),
    ],
)
def test_synthetic_model_rejects_bad_ranges(kwargs, field):
    with pytest.raises(ValueError, match=field):
        capacity_model(**kwargs)


def test_synthetic_problem_has_contract_shaped_features():
    m = capacity_model(n_pairs=5, versions=(2, 4), seed=1)
    p = m.problem()
    validate_problem(p)
    assert p.version_features.shape == (int(m.n_versions.sum()), 5)
    assert p.pair_features.shape == (5, 2)
    assert m.problem(with_features=False).version_features is None
