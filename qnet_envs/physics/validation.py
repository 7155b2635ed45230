"""Validation of user-supplied two-qubit density matrices."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Default absolute tolerance for Hermiticity, positivity and trace checks.
DEFAULT_ATOL = 1e-8


class InvalidDensityMatrixError(ValueError):
    """A matrix that is not a valid two-qubit density matrix; the message says why."""


def validate_density_matrix(
    rho: ArrayLike, *, name: str = "rho", atol: float = DEFAULT_ATOL
) -> NDArray[np.complex128]:
    """Check that ``rho`` is a two-qubit density matrix and return it as complex128.

    Checks, in order: shape ``(4, 4)``, finite entries, Hermitian (``max|rho - rho^H| <= atol``),
    unit trace (``|tr rho - 1| <= atol``), positive semidefinite (smallest eigenvalue
    ``>= -atol``). Raises :class:`InvalidDensityMatrixError` (a ``ValueError``) naming the
    failed property and by how much it failed.
    """
    r = np.asarray(rho)
    if r.shape != (4, 4):
        raise InvalidDensityMatrixError(f"{name}: shape must be (4, 4), got {r.shape}")
    if not np.issubdtype(r.dtype, np.number):
        raise InvalidDensityMatrixError(f"{name}: entries must be numbers, got dtype {r.dtype}")
    r = r.astype(np.complex128)
    if not np.all(np.isfinite(r)):
        bad = int(np.sum(~np.isfinite(r)))
        raise InvalidDensityMatrixError(f"{name}: {bad} entries are not finite (NaN or inf)")
    hermitian_error = float(np.max(np.abs(r - r.conj().T)))
    if hermitian_error > atol:
        raise InvalidDensityMatrixError(
            f"{name}: not Hermitian, max |rho - rho^H| = {hermitian_error:.3g} > atol {atol:g}"
        )
    trace = complex(np.trace(r))
    trace_error = abs(trace - 1.0)
    if trace_error > atol:
        raise InvalidDensityMatrixError(
            f"{name}: trace must be 1, got {trace.real:.12g} (off by {trace_error:.3g} > atol "
            f"{atol:g})"
        )
    smallest = float(np.linalg.eigvalsh(0.5 * (r + r.conj().T))[0])
    if smallest < -atol:
        raise InvalidDensityMatrixError(
            f"{name}: not positive semidefinite, smallest eigenvalue {smallest:.3g} < -atol "
            f"{atol:g}"
        )
    return r
