"""Two-qubit states of the suite.

Conventions (see ``docs/physics.md``): states are ``numpy`` arrays of shape ``(..., 4, 4)``,
``complex128``, basis order ``|00>, |01>, |10>, |11>``, the first qubit at the first-named node.
The target state is the singlet ``|psi-> = (|01> - |10>) / sqrt(2)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

ComplexArray = NDArray[np.complex128]

SQRT_HALF = 1.0 / np.sqrt(2.0)

#: Bell vectors, shape (4,) each, in the order used across the suite.
PHI_PLUS = np.array([SQRT_HALF, 0, 0, SQRT_HALF], dtype=np.complex128)
PHI_MINUS = np.array([SQRT_HALF, 0, 0, -SQRT_HALF], dtype=np.complex128)
PSI_PLUS = np.array([0, SQRT_HALF, SQRT_HALF, 0], dtype=np.complex128)
PSI_MINUS = np.array([0, SQRT_HALF, -SQRT_HALF, 0], dtype=np.complex128)
SINGLET = PSI_MINUS

#: Single-qubit Paulis I, X, Y, Z, shape (4, 2, 2).
PAULIS = np.array(
    [[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
    dtype=np.complex128,
)

#: Qubit-exchange operator on two qubits, shape (4, 4).
SWAP_GATE = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.complex128)


def projector(vector: ArrayLike) -> ComplexArray:
    """Return ``|v><v|`` for a (..., 4) vector ``v`` (not normalised here)."""
    v = np.asarray(vector, dtype=np.complex128)
    return v[..., :, None] * v[..., None, :].conj()


SINGLET_DM = projector(SINGLET)
MAXIMALLY_MIXED = np.eye(4, dtype=np.complex128) / 4.0


def check_range(name: str, value: NDArray[np.float64], low: float, high: float) -> None:
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if np.any(value < low) or np.any(value > high):
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}")


def werner(fidelity: ArrayLike) -> ComplexArray:
    """Werner state ``p |psi-><psi-| + (1 - p) I/4`` with singlet fidelity ``fidelity``.

    ``fidelity`` = ``(1 + 3p) / 4`` lies in [0, 1] (p in [-1/3, 1]); broadcasts over leading axes.
    """
    f = np.asarray(fidelity, dtype=np.float64)
    check_range("fidelity", f, 0.0, 1.0)
    p = (4.0 * f - 1.0) / 3.0
    p = p[..., None, None]
    return p * SINGLET_DM + (1.0 - p) * MAXIMALLY_MIXED


def amplitude_damped(theta: ArrayLike) -> ComplexArray:
    """Pure state ``cos(theta)|01> - sin(theta)|10>``; ``theta`` in radians, [0, pi/2].

    ``theta = pi/4`` is the singlet. Reversing the qubits maps ``theta`` to ``pi/2 - theta``.
    """
    t = np.asarray(theta, dtype=np.float64)
    check_range("theta", t, 0.0, np.pi / 2)
    vec = np.zeros((*t.shape, 4), dtype=np.complex128)
    vec[..., 1] = np.cos(t)
    vec[..., 2] = -np.sin(t)
    return projector(vec)


def phase_shifted(phi: ArrayLike) -> ComplexArray:
    """Pure state ``(|01> - e^{i phi}|10>) / sqrt(2)``; ``phi`` in radians, any finite value.

    ``phi = 0`` is the singlet. Reversing the qubits maps ``phi`` to ``-phi`` up to a global phase.
    """
    ph = np.asarray(phi, dtype=np.float64)
    if not np.all(np.isfinite(ph)):
        raise ValueError(f"phi must be finite, got {phi!r}")
    vec = np.zeros((*ph.shape, 4), dtype=np.complex128)
    vec[..., 1] = SQRT_HALF
    vec[..., 2] = -SQRT_HALF * np.exp(1j * ph)
    return projector(vec)


def bell_diagonal(coefficients: ArrayLike) -> ComplexArray:
    """State with weights ``(A, B, C, D)`` on ``(|psi->, |phi+>, |phi->, |psi+>)``.

    The labelling follows Deutsch et al. (1996) moved to the singlet target by ``Y`` on the second
    qubit: Deutsch's ``(|phi+>, |psi->, |psi+>, |phi->)``; ``A`` is the singlet weight (see
    ``docs/distillation.md``).
    Weights must be non-negative and sum to one.
    """
    w = np.asarray(coefficients, dtype=np.float64)
    if w.shape[-1:] != (4,):
        raise ValueError(f"coefficients must have a last axis of length 4, got shape {w.shape}")
    check_range("coefficients", w, 0.0, 1.0)
    total = w.sum(axis=-1)
    if np.any(np.abs(total - 1.0) > 1e-9):
        raise ValueError(f"coefficients must sum to 1, got sums {total!r}")
    basis = np.stack([projector(v) for v in (PSI_MINUS, PHI_PLUS, PHI_MINUS, PSI_PLUS)])
    return np.einsum("...k,kij->...ij", w.astype(np.complex128), basis)


def reverse(rho: ArrayLike) -> ComplexArray:
    """Exchange the two qubits: ``SWAP rho SWAP``. Batched over leading axes."""
    r = np.asarray(rho, dtype=np.complex128)
    return r[..., [0, 2, 1, 3], :][..., :, [0, 2, 1, 3]]
