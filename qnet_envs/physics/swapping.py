"""Entanglement swapping: a Bell measurement on the two middle qubits of two pairs.

Given ``rho_ab`` (qubits a, b) and ``rho_cd`` (qubits c, d), the qubits b and c are measured in
the Bell basis and ``rho_ad`` is left between a and d.

Modes:
``"postselected"``
    keep only the ``|psi->`` outcome on (b, c), renormalise; the probability is that outcome's
    probability (1/4 for any product of states with maximally mixed marginals). Opposite amplitude
    damping and opposite phases cancel in this mode.
``"deterministic"``
    keep all four outcomes; the outcome ``(I x sigma_k)|psi->`` is followed by ``sigma_k`` on
    qubit d, which maps two singlets to a singlet for every outcome. Trace preserving:
    probability 1.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.physics.states import PAULIS, SINGLET

SwapMode = Literal["postselected", "deterministic"]
#: Postselected outcomes less likely than this are treated as impossible: renormalising them
#: would only amplify rounding errors. Such swaps return I/4 with probability 0.
ZERO_PROBABILITY = 1e-14
SWAP_MODES: tuple[str, ...] = ("postselected", "deterministic")

_IDENTITY2 = np.eye(2, dtype=np.complex128)
# Bell outcomes (I x sigma_k)|psi-> as (2, 2) amplitude tables over (b, c), shape (4, 2, 2).
_OUTCOMES = np.stack([(np.kron(_IDENTITY2, p) @ SINGLET).reshape(2, 2) for p in PAULIS])
# Isometries V_k: C^4 (a, d) -> C^16 (a, b, c, d) with V_k^dagger = <B_k|_bc, shape (4, 16, 4).
_PROJECTIONS = np.einsum("kbc,ae,df->kabcdef", _OUTCOMES, _IDENTITY2, _IDENTITY2).reshape(4, 16, 4)
# Correction sigma_k on d after outcome k, as a (4, 4) operator on (a, d), shape (4, 4, 4).
_CORRECTIONS = np.stack([np.kron(_IDENTITY2, p) for p in PAULIS])
# Deterministic mode: Kraus operators C_k V_k^dagger, shape (4, 4, 16).
_DETERMINISTIC_KRAUS = np.einsum("kij,klj->kil", _CORRECTIONS, _PROJECTIONS.conj())
_POSTSELECTED_KRAUS = _PROJECTIONS[0].conj().T  # (4, 16)


def _joint_state(rho_ab: NDArray[np.complex128], rho_cd: NDArray[np.complex128]):
    """``rho_ab x rho_cd`` with qubit order (a, b, c, d), shape (..., 16, 16)."""
    joint = rho_ab[..., :, None, :, None] * rho_cd[..., None, :, None, :]
    return joint.reshape(*joint.shape[:-4], 16, 16)


def swap(
    rho_ab: ArrayLike, rho_cd: ArrayLike, mode: SwapMode = "postselected"
) -> tuple[NDArray[np.complex128], NDArray[np.float64]]:
    """Swap two pairs into one: returns ``(rho_ad, probability)``.

    Args:
        rho_ab: first pair, shape ``(..., 4, 4)``; its second qubit is measured.
        rho_cd: second pair, shape ``(..., 4, 4)``; its first qubit is measured.
        mode: ``"postselected"`` or ``"deterministic"`` (see the module docstring).

    Returns:
        ``rho_ad`` of shape ``(..., 4, 4)`` (broadcast of the inputs' leading axes) and the
        success probability of shape ``(...)``. In postselected mode an outcome of probability
        below :data:`ZERO_PROBABILITY` yields the maximally mixed state with probability 0
        (never NaN).
    """
    a = np.asarray(rho_ab, dtype=np.complex128)
    b = np.asarray(rho_cd, dtype=np.complex128)
    if a.shape[-2:] != (4, 4) or b.shape[-2:] != (4, 4):
        raise ValueError(
            f"rho_ab and rho_cd must have shape (..., 4, 4), got {a.shape} and {b.shape}"
        )
    joint = _joint_state(a, b)
    if mode == "postselected":
        k = _POSTSELECTED_KRAUS
        unnormalised = k @ joint @ k.conj().T
        probability = np.trace(unnormalised, axis1=-2, axis2=-1).real
        possible = probability >= ZERO_PROBABILITY
        probability = np.where(possible, probability, 0.0)
        safe = np.where(possible, probability, 1.0)[..., None, None]
        rho_ad = np.where(
            possible[..., None, None],
            unnormalised / safe,
            np.eye(4, dtype=np.complex128) / 4.0,
        )
        return rho_ad, np.asarray(np.clip(probability, 0.0, 1.0))
    if mode == "deterministic":
        k = _DETERMINISTIC_KRAUS[(slice(None),) + (None,) * (joint.ndim - 2)]
        rho_ad = (k @ joint[None] @ np.swapaxes(k.conj(), -1, -2)).sum(axis=0)
        return rho_ad, np.ones(rho_ad.shape[:-2])
    raise ValueError(f"mode must be one of {SWAP_MODES}, got {mode!r}")


def swap_map(mode: SwapMode = "postselected") -> NDArray[np.complex128]:
    """The swap as a matrix ``T`` of shape (16, 256) acting on ``kron(vec(rho_ab), vec(rho_cd))``.

    ``T @ np.outer(rho_ab.ravel(), rho_cd.ravel()).ravel()`` is ``vec`` of the *unnormalised*
    ``rho_ad`` (its trace is the outcome probability in postselected mode, 1 in deterministic
    mode). A single-pair hot path for environments: two small products instead of a 16x16 joint
    state.
    """
    if mode == "postselected":
        kraus = _POSTSELECTED_KRAUS[None]
    elif mode == "deterministic":
        kraus = _DETERMINISTIC_KRAUS
    else:
        raise ValueError(f"mode must be one of {SWAP_MODES}, got {mode!r}")
    k = kraus.reshape(-1, 4, 2, 2, 2, 2)  # (kraus, out, a, b, c, d)
    t = np.einsum("kiabcd,kjefgh->ijabefcdgh", k, k.conj())
    # t indices: (i, j, a, b, a', b', c, d, c', d'); group into (16, 16 * 16).
    return np.ascontiguousarray(t.reshape(16, 256))
