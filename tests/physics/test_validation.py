"""Validation of user-supplied density matrices says which property failed and by how much."""

import numpy as np
import pytest

from qnet_envs.physics import InvalidDensityMatrixError, validate_density_matrix, werner


def test_valid_state_is_returned_as_complex128():
    rho = validate_density_matrix(werner(0.8).real)
    assert rho.dtype == np.complex128
    np.testing.assert_allclose(rho, werner(0.8))


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.eye(3) / 3, r"shape must be \(4, 4\), got \(3, 3\)"),
        (np.full((4, 4), np.nan), "16 entries are not finite"),
        (
            np.eye(4) / 4 + np.triu(np.ones((4, 4)), 1) * 0.1,
            r"not Hermitian, max \|rho - rho\^H\| = 0.1",
        ),
        (np.eye(4) / 2, r"trace must be 1, got 2 \(off by 1"),
        (np.diag([0.75, 0.5, -0.25, 0.0]), r"not positive semidefinite, smallest eigenvalue -0.25"),
        (np.array([["a"] * 4] * 4), "entries must be numbers"),
    ],
)
def test_each_failure_is_named(matrix, message):
    with pytest.raises(InvalidDensityMatrixError, match=message):
        validate_density_matrix(matrix)


def test_error_is_a_value_error_and_carries_the_name():
    with pytest.raises(ValueError, match=r"^edges\[3\].state: trace"):
        validate_density_matrix(np.eye(4), name="edges[3].state")


def test_tolerance_is_respected():
    nearly = werner(0.9) + np.eye(4) * 1e-10
    validate_density_matrix(nearly)
    with pytest.raises(InvalidDensityMatrixError, match="trace"):
        validate_density_matrix(nearly, atol=1e-12)
