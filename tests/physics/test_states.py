"""Link states, qubit exchange and figures of merit against closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from qnet_envs.physics import (
    amplitude_damped,
    bell_diagonal,
    fully_entangled_fraction,
    phase_shifted,
    reverse,
    singlet_fidelity,
    werner,
)
from tests.physics.qutip_reference import random_density_matrix
from tests.physics.qutip_reference import singlet_fidelity as qutip_singlet_fidelity

fidelities = st.floats(0.0, 1.0)
angles = st.floats(0.0, np.pi / 2)
phases = st.floats(-2 * np.pi, 2 * np.pi)


def assert_density_matrix(rho: np.ndarray) -> None:
    assert rho.shape == (4, 4)
    assert rho.dtype == np.complex128
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-12)
    assert abs(np.trace(rho) - 1.0) < 1e-12
    assert np.linalg.eigvalsh(rho).min() > -1e-12


@given(fidelities)
def test_werner_has_requested_fidelity_and_is_a_state(f):
    rho = werner(f)
    assert_density_matrix(rho)
    assert singlet_fidelity(rho) == pytest.approx(f, abs=1e-12)
    assert fully_entangled_fraction(rho) == pytest.approx(max(f, (1 - f) / 3), abs=1e-12)


@given(angles)
def test_amplitude_damped_closed_forms(theta):
    rho = amplitude_damped(theta)
    assert_density_matrix(rho)
    # <psi-| (cos t |01> - sin t |10>) = (cos t + sin t)/sqrt(2)
    assert singlet_fidelity(rho) == pytest.approx((np.cos(theta) + np.sin(theta)) ** 2 / 2)
    # Pure state with Schmidt coefficients cos^2, sin^2: FEF = (|cos| + |sin|)^2 / 2.
    expected_fef = (abs(np.cos(theta)) + abs(np.sin(theta))) ** 2 / 2
    assert fully_entangled_fraction(rho) == pytest.approx(expected_fef, abs=1e-12)
    np.testing.assert_allclose(reverse(rho), amplitude_damped(np.pi / 2 - theta), atol=1e-12)


@given(phases)
def test_phase_shifted_closed_forms(phi):
    rho = phase_shifted(phi)
    assert_density_matrix(rho)
    assert singlet_fidelity(rho) == pytest.approx((1 + np.cos(phi)) / 2, abs=1e-12)
    assert fully_entangled_fraction(rho) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(reverse(rho), phase_shifted(-phi), atol=1e-12)


def test_reverse_is_an_involution_and_batched():
    states = np.stack([random_density_matrix(seed) for seed in range(20)])
    np.testing.assert_allclose(reverse(reverse(states)), states, atol=0)
    swap_gate = np.eye(4)[[0, 2, 1, 3]]
    for rho, rev in zip(states, reverse(states), strict=True):
        np.testing.assert_allclose(rev, swap_gate @ rho @ swap_gate, atol=1e-15)


def test_singlet_fidelity_matches_qutip_on_random_states():
    for seed in range(100):
        rho = random_density_matrix(seed)
        assert singlet_fidelity(rho) == pytest.approx(qutip_singlet_fidelity(rho), abs=1e-12)


def _fef_by_optimisation(rho: np.ndarray) -> float:
    """max over local unitaries U of <psi-|(U x I)^H rho (U x I)|psi->, by direct search."""
    singlet = np.array([0, 1, -1, 0]) / np.sqrt(2)

    def overlap(x: np.ndarray) -> float:
        a, b, c, d = x
        u = np.array(
            [
                [np.cos(a) * np.exp(1j * b), np.sin(a) * np.exp(1j * c)],
                [-np.sin(a) * np.exp(-1j * c), np.cos(a) * np.exp(-1j * b)],
            ]
        ) * np.exp(1j * d)
        psi = np.kron(u, np.eye(2)) @ singlet
        return -float(np.real(psi.conj() @ rho @ psi))

    rng = np.random.default_rng(0)
    best = min(minimize(overlap, rng.uniform(0, np.pi, 4)).fun for _ in range(12))
    return -best


@pytest.mark.parametrize("seed", range(12))
def test_fully_entangled_fraction_matches_direct_optimisation(seed):
    rho = random_density_matrix(1000 + seed)
    assert fully_entangled_fraction(rho) == pytest.approx(_fef_by_optimisation(rho), abs=1e-7)


@settings(deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda w: sum(w) > 1e-3))
def test_bell_diagonal_weights_are_the_bell_overlaps(raw):
    weights = np.asarray(raw) / np.sum(raw)
    rho = bell_diagonal(weights)
    assert_density_matrix(rho)
    assert singlet_fidelity(rho) == pytest.approx(weights[0], abs=1e-12)
    assert fully_entangled_fraction(rho) == pytest.approx(weights.max(), abs=1e-12)


@pytest.mark.parametrize(
    ("factory", "value", "message"),
    [
        (werner, 1.2, r"fidelity must lie in \[0.0, 1.0\]"),
        (werner, float("nan"), "fidelity must be finite"),
        (amplitude_damped, -0.1, r"theta must lie in \[0.0, 1.57"),
        (phase_shifted, float("inf"), "phi must be finite"),
    ],
)
def test_out_of_range_parameters_are_rejected(factory, value, message):
    with pytest.raises(ValueError, match=message):
        factory(value)


def test_bell_diagonal_rejects_weights_not_summing_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        bell_diagonal([0.5, 0.5, 0.5, 0.0])
