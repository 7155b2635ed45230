"""Correlation-matrix physics against the density-matrix implementation on random states."""

from __future__ import annotations

import numpy as np
import pytest

from qnet_envs.physics import (
    amplitude_damped,
    fully_entangled_fraction,
    phase_shifted,
    singlet_fidelity,
    swap,
    werner,
)
from qnet_envs.physics.correlations import (
    correlation_matrix,
    density_matrix,
    fully_entangled_fraction_of_correlations,
    singlet_fidelity_of_correlations,
    swap_transfer,
)


def random_states(rng: np.random.Generator, count: int) -> np.ndarray:
    """Ginibre density matrices of every rank 1-4."""
    ranks = rng.integers(1, 5, size=count)
    g = rng.normal(size=(count, 4, 4)) + 1j * rng.normal(size=(count, 4, 4))
    g *= np.arange(4)[None, None, :] < ranks[:, None, None]  # keep `rank` columns
    rho = g @ np.conj(np.swapaxes(g, -1, -2))
    return rho / np.trace(rho, axis1=-2, axis2=-1)[:, None, None]


def structured_states(rng: np.random.Generator, count: int) -> np.ndarray:
    return np.concatenate(
        [
            werner(rng.uniform(0.25, 1.0, count)),
            amplitude_damped(rng.uniform(0.0, np.pi / 2, count)),
            phase_shifted(rng.uniform(0.0, 2 * np.pi, count)),
        ]
    )


def test_correlation_matrix_round_trips_and_is_real():
    rho = random_states(np.random.default_rng(0), 500)
    t = correlation_matrix(rho)
    assert t.shape == (500, 4, 4) and t.dtype == np.float64
    np.testing.assert_allclose(density_matrix(t), rho, atol=1e-15)
    np.testing.assert_allclose(t[:, 0, 0], 1.0, atol=1e-15)  # unit trace
    np.testing.assert_allclose(
        correlation_matrix(werner(1.0)), np.diag([1.0, -1.0, -1.0, -1.0]), atol=1e-15
    )


@pytest.mark.parametrize("mode", ["postselected", "deterministic"])
def test_swap_is_a_right_product_of_correlation_matrices(mode: str):
    rng = np.random.default_rng(1)
    first = np.concatenate([random_states(rng, 300), structured_states(rng, 100)])
    second = np.concatenate([random_states(rng, 300), structured_states(rng, 100)])
    second = second[rng.permutation(len(second))]
    rho, probability = swap(first, second, mode)
    unnormalised = correlation_matrix(first) @ swap_transfer(second, mode)
    np.testing.assert_allclose(unnormalised[:, 0, 0], probability, atol=1e-15)
    np.testing.assert_allclose(
        unnormalised / unnormalised[:, :1, :1], correlation_matrix(rho), atol=1e-13
    )


def test_swap_transfer_rejects_bad_input():
    with pytest.raises(ValueError, match="mode must be one of"):
        swap_transfer(werner(0.9), "teleport")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4, 4\)"):
        swap_transfer(np.eye(2))


def test_singlet_fidelity_of_correlations():
    rho = random_states(np.random.default_rng(2), 500)
    np.testing.assert_allclose(
        singlet_fidelity_of_correlations(correlation_matrix(rho)), singlet_fidelity(rho), atol=1e-15
    )


def test_fully_entangled_fraction_closed_form_matches_the_eigenvalue_routine():
    rng = np.random.default_rng(3)
    states = [random_states(rng, 5000), structured_states(rng, 500)]
    # Swap chains of the paper's link kinds (Werner chains stay diagonal: the exact branch).
    held = structured_states(rng, 500)
    for _ in range(6):
        held, _ = swap(held, structured_states(rng, 500)[rng.permutation(1500)])
        states.append(held)
    # Near-degenerate correlations (the fallback branch): Werner plus a tiny perturbation.
    tiny = random_states(rng, 500)
    states.append(0.999999 * werner(rng.uniform(0.3, 1.0, 500)) + 1e-6 * tiny)
    states.append(np.eye(4)[None] / 4.0)  # no correlations at all
    rho = np.concatenate(states)
    got = fully_entangled_fraction_of_correlations(correlation_matrix(rho))
    np.testing.assert_allclose(got, fully_entangled_fraction(rho), rtol=0, atol=1e-12)
    assert got.shape == (len(rho),)
    assert fully_entangled_fraction_of_correlations(
        correlation_matrix(rho[:12]).reshape(3, 4, 4, 4)
    ).shape == (3, 4)
