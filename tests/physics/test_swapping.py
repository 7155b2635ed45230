"""Entanglement swapping: closed forms, invariants, and agreement with QuTiP."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnet_envs.physics import (
    SINGLET_DM,
    SWAP_MODES,
    amplitude_damped,
    phase_shifted,
    singlet_fidelity,
    swap,
    werner,
)
from qnet_envs.physics.swapping import swap_map
from tests.physics import qutip_reference as reference

fidelities = st.floats(0.0, 1.0)
angles = st.floats(0.05, np.pi / 2 - 0.05)
modes = st.sampled_from(SWAP_MODES)
seeds = st.integers(0, 2**31 - 1)


@given(fidelities, fidelities, modes)
def test_werner_swap_closed_form(f1, f2, mode):
    rho, probability = swap(werner(f1), werner(f2), mode)
    expected = f1 * f2 + (1 - f1) * (1 - f2) / 3
    assert singlet_fidelity(rho) == pytest.approx(expected, abs=1e-14)
    np.testing.assert_allclose(rho, werner(expected), atol=1e-14)
    assert probability == pytest.approx(0.25 if mode == "postselected" else 1.0, abs=1e-14)


@given(angles)
def test_opposite_amplitude_damping_cancels_when_postselected(theta):
    rho, probability = swap(amplitude_damped(theta), amplitude_damped(np.pi / 2 - theta))
    assert singlet_fidelity(rho) == pytest.approx(1.0, abs=1e-12)
    # <psi-|_bc (cos t|01> - sin t|10>)_ab (sin t|01> - cos t|10>)_cd
    #   = sin t cos t (|10> - |01>)_ad / sqrt(2), of squared norm (sin 2t)^2 / 4.
    assert probability == pytest.approx(np.sin(2 * theta) ** 2 / 4, abs=1e-12)


@given(st.floats(0.05, np.pi / 4 - 0.05))
def test_same_direction_amplitude_damping_does_not_cancel(theta):
    rho, _ = swap(amplitude_damped(theta), amplitude_damped(theta))
    assert singlet_fidelity(rho) < 1.0 - 1e-6


@given(angles)
def test_amplitude_damping_does_not_cancel_deterministically(theta):
    rho, probability = swap(
        amplitude_damped(theta), amplitude_damped(np.pi / 2 - theta), "deterministic"
    )
    assert probability == 1.0
    assert singlet_fidelity(rho) < 1.0 - 1e-6 or abs(theta - np.pi / 4) < 1e-3


@given(st.floats(-np.pi, np.pi))
def test_opposite_phases_cancel_when_postselected(phi):
    rho, probability = swap(phase_shifted(phi), phase_shifted(-phi))
    assert singlet_fidelity(rho) == pytest.approx(1.0, abs=1e-12)
    assert probability == pytest.approx(0.25, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(seeds, seeds, modes)
def test_output_is_a_density_matrix_and_probability_in_unit_interval(s1, s2, mode):
    rho, probability = swap(
        reference.random_density_matrix(s1), reference.random_density_matrix(s2), mode
    )
    assert 0.0 <= probability <= 1.0
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-12)
    assert abs(np.trace(rho) - 1) < 1e-12
    assert np.linalg.eigvalsh(rho).min() > -1e-12


@pytest.mark.parametrize("mode", SWAP_MODES)
def test_agreement_with_qutip_on_random_states(mode):
    worst_state, worst_probability = 0.0, 0.0
    for seed in range(150):
        a = reference.random_density_matrix(2 * seed)
        b = reference.random_density_matrix(2 * seed + 1)
        rho, probability = swap(a, b, mode)
        expected_rho, expected_probability = reference.swap(a, b, mode)
        worst_state = max(worst_state, float(np.abs(rho - expected_rho).max()))
        worst_probability = max(worst_probability, abs(float(probability) - expected_probability))
    assert worst_state < 1e-10
    assert worst_probability < 1e-10


@pytest.mark.parametrize("mode", SWAP_MODES)
def test_batched_swap_equals_pairwise_swap(mode):
    a = np.stack([reference.random_density_matrix(s) for s in range(6)]).reshape(2, 3, 4, 4)
    b = np.stack([reference.random_density_matrix(50 + s) for s in range(6)]).reshape(2, 3, 4, 4)
    rho, probability = swap(a, b, mode)
    assert rho.shape == (2, 3, 4, 4) and probability.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            single_rho, single_p = swap(a[i, j], b[i, j], mode)
            np.testing.assert_allclose(rho[i, j], single_rho, atol=1e-14)
            assert probability[i, j] == pytest.approx(float(single_p), abs=1e-14)
    broadcast_rho, _ = swap(a, b[0, 0], mode)
    np.testing.assert_allclose(broadcast_rho[1, 2], swap(a[1, 2], b[0, 0], mode)[0], atol=1e-14)


@pytest.mark.parametrize("mode", SWAP_MODES)
def test_swap_map_matches_swap(mode):
    matrix = swap_map(mode)
    for seed in range(20):
        a = reference.random_density_matrix(seed)
        b = reference.random_density_matrix(100 + seed)
        unnormalised = (matrix @ np.outer(a.ravel(), b.ravel()).ravel()).reshape(4, 4)
        rho, probability = swap(a, b, mode)
        assert np.trace(unnormalised).real == pytest.approx(float(probability), abs=1e-13)
        np.testing.assert_allclose(unnormalised / np.trace(unnormalised), rho, atol=1e-13)


def test_swapping_with_a_singlet_teleports_the_link_when_postselected():
    link = reference.random_density_matrix(7)
    rho, probability = swap(SINGLET_DM, link)
    np.testing.assert_allclose(rho, link, atol=1e-14)
    assert probability == pytest.approx(0.25)


def test_zero_probability_outcome_gives_maximally_mixed_state_not_nan():
    rho, probability = swap(amplitude_damped(0.0), amplitude_damped(np.pi / 2))
    assert probability == 0.0
    np.testing.assert_allclose(rho, np.eye(4) / 4)


def test_bad_shapes_and_modes_are_rejected():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4, 4\)"):
        swap(np.eye(2), werner(0.9))
    with pytest.raises(ValueError, match="mode must be one of"):
        swap(werner(0.9), werner(0.9), mode="teleport")
