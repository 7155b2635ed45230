"""Figures of merit of two-qubit states: singlet fidelity and fully entangled fraction."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.physics.states import PHI_MINUS, PHI_PLUS, PSI_MINUS, PSI_PLUS

#: Magic basis (Hill & Wootters 1997), rows are basis vectors: every maximally entangled
#: state is a real combination of these, up to a global phase.
MAGIC_BASIS = np.stack([PHI_PLUS, 1j * PHI_MINUS, 1j * PSI_PLUS, PSI_MINUS])


def singlet_fidelity(rho: ArrayLike) -> NDArray[np.float64]:
    """``<psi-|rho|psi->``, shape ``rho.shape[:-2]``; a float in [0, 1] for a density matrix."""
    r = np.asarray(rho, dtype=np.complex128)
    value = 0.5 * (r[..., 1, 1] + r[..., 2, 2] - r[..., 1, 2] - r[..., 2, 1])
    return np.asarray(value.real, dtype=np.float64)


def fully_entangled_fraction(rho: ArrayLike) -> NDArray[np.float64]:
    """Largest overlap of ``rho`` with any maximally entangled two-qubit state.

    Computed as the largest eigenvalue of the real part of ``rho`` written in the magic basis;
    shape ``rho.shape[:-2]``. Equals the singlet fidelity for Werner states.
    """
    r = np.asarray(rho, dtype=np.complex128)
    in_magic = MAGIC_BASIS.conj() @ r @ MAGIC_BASIS.T
    return np.linalg.eigvalsh(in_magic.real)[..., -1]
