"""Two-qubit states as real 4 x 4 correlation matrices, and swapping as a matrix product there.

Every two-qubit operator is ``rho = 1/4 sum_ij T_ij sigma_i x sigma_j`` (``sigma_0 = I``, then
X, Y, Z: ``qnet_envs.physics.states.PAULIS``) with the real ``T_ij = tr(rho sigma_i x sigma_j)``
when ``rho`` is Hermitian; ``T_00 = tr(rho)``, row 0 holds the second qubit's Bloch vector,
column 0 the first qubit's, and ``C = T[1:, 1:]`` the correlations.

In this basis entanglement swapping (``qnet_envs.physics.swapping``, both modes) is linear in
the first pair and acts on it from the right: the unnormalised ``T_ad`` is ``T_ab @ K``, where
``K`` (:func:`swap_transfer`) depends only on the second pair and the mode. A batch of swaps is
then one batched 4 x 4 matrix product with 16 real numbers per state (instead of a 16 x 16
complex map), which is what the batched routing env (``qnet_envs.routing.vector``) runs on.

The figures of merit read off ``T`` directly: the singlet fidelity is ``(T_00 - tr C) / 4`` and,
with ``s_1 >= s_2 >= s_3`` the singular values of ``C``, the fully entangled fraction is
``(T_00 + s_1 + s_2 - sign(det C) s_3) / 4`` (the maximally entangled states are
``(I x U)|psi->``, whose overlap ``(1 - tr(C O)) / 4`` is maximised over rotations ``O``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.physics.measures import fully_entangled_fraction
from qnet_envs.physics.states import PAULIS
from qnet_envs.physics.swapping import SWAP_MODES, SwapMode, swap_map

#: ``sigma_i x sigma_j`` for i, j in 0..3, shape (4, 4, 4, 4): (i, j, row, column).
PAULI_PRODUCTS = np.stack([np.stack([np.kron(a, b) for b in PAULIS]) for a in PAULIS])

# Near-degenerate or tiny singular values make the closed form lose digits; such rows are
# recomputed with the eigenvalue routine of qnet_envs.physics.measures.
_DEGENERATE_GAP = 1e-4
_TINY_EIGENVALUE = 1e-6


def correlation_matrix(rho: ArrayLike) -> NDArray[np.float64]:
    """``T_ij = Re tr(rho sigma_i x sigma_j)``, shape ``rho.shape[:-2] + (4, 4)``."""
    r = np.asarray(rho, dtype=np.complex128)
    return np.einsum("ijab,...ba->...ij", PAULI_PRODUCTS, r).real


def density_matrix(correlations: ArrayLike) -> NDArray[np.complex128]:
    """The operator ``1/4 sum_ij T_ij sigma_i x sigma_j``, shape ``T.shape[:-2] + (4, 4)``."""
    t = np.asarray(correlations, dtype=np.float64)
    return np.einsum("...ij,ijab->...ab", t, PAULI_PRODUCTS) / 4.0


def swap_transfer(rho_cd: ArrayLike, mode: SwapMode = "postselected") -> NDArray[np.float64]:
    """The real 4 x 4 ``K`` with ``T(unnormalised rho_ad) = T(rho_ab) @ K`` for every ``rho_ab``.

    ``rho_cd`` is the second pair (its first qubit is measured), shape ``(..., 4, 4)``; the
    result has shape ``rho_cd.shape[:-2] + (4, 4)``. Built from
    :func:`qnet_envs.physics.swapping.swap_map`: row ``j`` of ``K`` is row 0 of the correlation
    matrix of the swap of ``sigma_0 x sigma_j / 4`` (whose own correlation matrix is the unit
    matrix ``E_0j``) with ``rho_cd``. That the swap acts from the right for every first pair is
    a property of the Bell measurement, checked in the tests.
    """
    if mode not in SWAP_MODES:
        raise ValueError(f"mode must be one of {SWAP_MODES}, got {mode!r}")
    link = np.asarray(rho_cd, dtype=np.complex128)
    if link.shape[-2:] != (4, 4):
        raise ValueError(f"rho_cd must have shape (..., 4, 4), got {link.shape}")
    bilinear = swap_map(mode).reshape(16, 16, 16)  # (out, first pair, second pair)
    firsts = PAULI_PRODUCTS[0].reshape(4, 16) / 4.0  # sigma_0 x sigma_j / 4, flattened
    flat = link.reshape(*link.shape[:-2], 16)
    outputs = np.einsum("ohl,jh,...l->...jo", bilinear, firsts, flat).reshape(
        *link.shape[:-2], 4, 4, 4
    )
    return correlation_matrix(outputs)[..., 0, :]


def singlet_fidelity_of_correlations(correlations: ArrayLike) -> NDArray[np.float64]:
    """``<psi-|rho|psi->`` from ``T``, ``(T_00 - T_11 - T_22 - T_33) / 4``: shape T.shape[:-2]."""
    t = np.asarray(correlations, dtype=np.float64)
    return (t[..., 0, 0] - t[..., 1, 1] - t[..., 2, 2] - t[..., 3, 3]) / 4.0


def fully_entangled_fraction_of_correlations(correlations: ArrayLike) -> NDArray[np.float64]:
    """The fully entangled fraction from ``T`` (module docstring), shape ``T.shape[:-2]``.

    Closed form: the eigenvalues of the symmetric ``C^T C`` by the trigonometric solution of
    its characteristic cubic (exact on diagonal ``C^T C``, e.g. Werner states and their swaps),
    their square roots the singular values. Rows where the closed form is ill-conditioned
    (near-degenerate or tiny eigenvalues) are recomputed with
    :func:`qnet_envs.physics.measures.fully_entangled_fraction`; both agree to ~1e-13 (tested).
    """
    t = np.asarray(correlations, dtype=np.float64)
    batch = t.shape[:-2]
    columns = np.moveaxis(t.reshape(-1, 4, 4), 0, -1)  # (4, 4, n)
    return fully_entangled_fraction_of_columns(columns).reshape(batch)


def fully_entangled_fraction_of_columns(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`fully_entangled_fraction_of_correlations` of a batch laid out as ``(4, 4, n)``
    (``t[i, j]`` is the vector of ``T_ij`` over the batch): the layout of the batched env, where
    each entry is one contiguous vector and the closed form is a few dozen vector operations.
    """
    c = t[1:, 1:]
    # A = C^T C, symmetric: a_ij = sum_k c_ki c_kj.
    a00, a11, a22 = (c[:, 0] ** 2).sum(0), (c[:, 1] ** 2).sum(0), (c[:, 2] ** 2).sum(0)
    a01, a02, a12 = (
        (c[:, 0] * c[:, 1]).sum(0),
        (c[:, 0] * c[:, 2]).sum(0),
        (c[:, 1] * c[:, 2]).sum(0),
    )
    off = a01 * a01 + a02 * a02 + a12 * a12
    diagonal = off == 0.0
    if diagonal.all():  # e.g. Werner states and their swaps: no cubic to solve
        return _from_singular_values(t, c, *_sorted3(a00, a11, a22))
    q = (a00 + a11 + a22) / 3.0
    d0, d1, d2 = a00 - q, a11 - q, a22 - q
    p = np.sqrt((d0 * d0 + d1 * d1 + d2 * d2 + 2.0 * off) / 6.0)
    safe_p = np.where(p > 0.0, p, 1.0)
    b00, b11, b22 = d0 / safe_p, d1 / safe_p, d2 / safe_p
    b01, b02, b12 = a01 / safe_p, a02 / safe_p, a12 / safe_p
    half_det = (
        b00 * (b11 * b22 - b12 * b12)
        - b01 * (b01 * b22 - b12 * b02)
        + b02 * (b01 * b12 - b11 * b02)
    ) / 2.0
    phi = np.arccos(np.clip(half_det, -1.0, 1.0)) / 3.0
    largest = q + 2.0 * p * np.cos(phi)
    smallest = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
    middle = 3.0 * q - largest - smallest
    if diagonal.any():
        ordered = _sorted3(a00[diagonal], a11[diagonal], a22[diagonal])
        largest[diagonal], middle[diagonal], smallest[diagonal] = ordered
    fef = _from_singular_values(t, c, largest, middle, smallest)
    scale = np.maximum(largest, 1e-300)
    shaky = ~diagonal & (
        (np.minimum(largest - middle, middle - smallest) < _DEGENERATE_GAP * scale)
        | (smallest < _TINY_EIGENVALUE * scale)
    )
    if shaky.any():
        fef[shaky] = fully_entangled_fraction(density_matrix(np.moveaxis(t[:, :, shaky], -1, 0)))
    return fef


def _from_singular_values(
    t: NDArray[np.float64],
    c: NDArray[np.float64],
    largest: NDArray[np.float64],
    middle: NDArray[np.float64],
    smallest: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``(T_00 + s_1 + s_2 - sign(det C) s_3) / 4`` from the eigenvalues of ``C^T C``."""
    det_c = (
        c[0, 0] * (c[1, 1] * c[2, 2] - c[1, 2] * c[2, 1])
        - c[0, 1] * (c[1, 0] * c[2, 2] - c[1, 2] * c[2, 0])
        + c[0, 2] * (c[1, 0] * c[2, 1] - c[1, 1] * c[2, 0])
    )
    s1, s2, s3 = (np.sqrt(np.maximum(x, 0.0)) for x in (largest, middle, smallest))
    return (t[0, 0] + s1 + s2 - np.where(det_c > 0.0, s3, -s3)) / 4.0


def _sorted3(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Elementwise ``(largest, middle, smallest)`` of three arrays (exact: no arithmetic)."""
    low, high = np.minimum(a, b), np.maximum(a, b)
    return np.maximum(high, c), np.maximum(low, np.minimum(high, c)), np.minimum(low, c)
