"""Link models: fibre transmissivity, single-photon scheme, nested swapping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnet_envs.physics import singlet_fidelity, swap, werner
from qnet_envs.physics.links import (
    fiber_transmissivity,
    nested_swap_fidelity,
    single_photon_link,
)
from qnet_envs.physics.states import PAULIS, PSI_PLUS, projector
from qnet_envs.physics.validation import validate_density_matrix

FAST = settings(max_examples=25, deadline=None)
unit = st.floats(0.0, 1.0)

# --- fibre -------------------------------------------------------------------------------------


def test_fiber_known_values() -> None:
    assert float(fiber_transmissivity(0.0)) == 1.0
    assert float(fiber_transmissivity(50.0)) == pytest.approx(0.1, rel=1e-12)
    assert float(fiber_transmissivity(10.0, 1.0)) == pytest.approx(0.1, rel=1e-12)
    np.testing.assert_allclose(fiber_transmissivity([0.0, 100.0]), [1.0, 0.01], rtol=1e-12)


@FAST
@given(st.floats(0.0, 500.0), st.floats(0.0, 500.0), st.floats(0.0, 1.0))
def test_fiber_losses_add_in_db(d1: float, d2: float, beta: float) -> None:
    joint = fiber_transmissivity(d1 + d2, beta)
    product = fiber_transmissivity(d1, beta) * fiber_transmissivity(d2, beta)
    assert float(joint) == pytest.approx(float(product), rel=1e-12, abs=1e-300)
    assert 0.0 < float(joint) <= 1.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1.0,), r"length_km must be >= 0"),
        ((np.nan,), r"length_km must be finite"),
        ((10.0, -0.2), r"attenuation_db_per_km must be >= 0"),
        ((10.0, np.inf), r"attenuation_db_per_km must be finite"),
    ],
)
def test_fiber_errors(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fiber_transmissivity(*args)


# --- single-photon scheme ----------------------------------------------------------------------


@FAST
@given(unit, st.floats(0.0, 0.5))
def test_single_photon_link_properties(eta: float, alpha: float) -> None:
    state, p = single_photon_link(eta, alpha)
    raw, p_raw = single_photon_link(eta, alpha, to_singlet=False)
    validate_density_matrix(state, atol=1e-12)
    validate_density_matrix(raw, atol=1e-12)
    assert float(p) == float(p_raw) == pytest.approx(2.0 * eta * alpha)
    assert float(singlet_fidelity(state)) == pytest.approx(1.0 - alpha, abs=1e-12)
    assert float(singlet_fidelity(raw)) == pytest.approx(0.0, abs=1e-12)
    psi_plus_fidelity = np.real(PSI_PLUS.conj() @ raw @ PSI_PLUS)
    assert psi_plus_fidelity == pytest.approx(1.0 - alpha, abs=1e-12)
    z2 = np.kron(PAULIS[0], PAULIS[3])
    np.testing.assert_allclose(z2 @ raw @ z2, state, atol=1e-15)
    expected_raw = (1 - alpha) * projector(PSI_PLUS) + alpha * np.diag([0, 0, 0, 1.0])
    np.testing.assert_allclose(raw, expected_raw, atol=1e-15)


def test_single_photon_link_broadcasts() -> None:
    state, p = single_photon_link(np.array([0.1, 0.5, 1.0])[:, None], np.array([0.0, 0.1, 0.2]))
    assert state.shape == (3, 3, 4, 4) and p.shape == (3, 3)
    np.testing.assert_allclose(singlet_fidelity(state), np.broadcast_to([1.0, 0.9, 0.8], (3, 3)))


@pytest.mark.parametrize(
    ("eta", "alpha", "match"),
    [
        (0.5, 1.2, r"alpha must lie in \[0\.0, 1\.0\]"),
        (-0.1, 0.1, r"eta must lie in \[0\.0, 1\.0\]"),
        (np.nan, 0.1, r"eta must be finite"),
        (1.0, 0.6, r"2 \* eta \* alpha must lie in \[0, 1\]"),
    ],
)
def test_single_photon_link_errors(eta: float, alpha: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        single_photon_link(eta, alpha)


# --- nested swapping ---------------------------------------------------------------------------


@FAST
@given(unit, st.integers(1, 6), st.sampled_from(["postselected", "deterministic"]))
def test_nested_swap_matches_werner_swap_chain(f: float, n: int, mode: str) -> None:
    rho = werner(f)
    for _ in range(n - 1):
        rho, _ = swap(rho, werner(f), mode)
    assert float(nested_swap_fidelity(f, n)) == pytest.approx(
        float(singlet_fidelity(rho)), abs=1e-12
    )


@FAST
@given(unit, st.integers(1, 10), unit, unit)
def test_nested_swap_is_a_fidelity(f: float, n: int, p2: float, eta_m: float) -> None:
    s = float(nested_swap_fidelity(f, n, p2, eta_m))
    assert -1e-15 <= s <= 1.0 + 1e-15


def test_nested_swap_known_values() -> None:
    assert float(nested_swap_fidelity(0.9, 1, 0.5, 0.5)) == pytest.approx(0.9)
    assert float(nested_swap_fidelity(1.0, 3, 0.99, 1.0)) == pytest.approx(0.25 + 0.75 * 0.99**2)
    eta_m = np.sqrt(0.25 + 0.75 * 0.98)  # (4 eta_m^2 - 1) / 3 = 0.98
    assert float(nested_swap_fidelity(1.0, 2, 1.0, eta_m)) == pytest.approx(0.25 + 0.75 * 0.98)
    np.testing.assert_allclose(
        nested_swap_fidelity(0.85, np.arange(1, 4)), [0.85, 0.85**2 + 0.15**2 / 3, 0.634]
    )


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.9, 0), r"n_links must be an integer >= 1"),
        ((0.9, 2.5), r"n_links must be an integer >= 1"),
        ((0.9, True), r"n_links must be an integer >= 1"),
        ((1.1, 2), r"fidelity must lie in \[0\.0, 1\.0\]"),
        ((0.9, 2, -0.1), r"gate_fidelity must lie in"),
        ((0.9, 2, 1.0, 1.5), r"measurement_fidelity must lie in"),
    ],
)
def test_nested_swap_errors(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        nested_swap_fidelity(*args)
