"""An independent QuTiP implementation of the physics core, used only by the tests.

Written from the definitions (tensor products, projectors, partial traces), sharing no code with
``qnet_envs.physics``.
"""

from __future__ import annotations

import numpy as np
import qutip

_Q = [2, 2]


def _ket(amplitudes) -> qutip.Qobj:
    return qutip.Qobj(np.asarray(amplitudes, dtype=complex).reshape(4, 1), dims=[_Q, [1, 1]])


def singlet() -> qutip.Qobj:
    """(|01> - |10>)/sqrt(2) built from qutip basis kets."""
    zero, one = qutip.basis(2, 0), qutip.basis(2, 1)
    return (qutip.tensor(zero, one) - qutip.tensor(one, zero)).unit()


def to_qobj(rho: np.ndarray) -> qutip.Qobj:
    return qutip.Qobj(np.asarray(rho), dims=[_Q, _Q])


def paulis() -> list[qutip.Qobj]:
    return [qutip.qeye(2), qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()]


def swap(rho_ab: np.ndarray, rho_cd: np.ndarray, mode: str) -> tuple[np.ndarray, float]:
    """Bell measurement on qubits b, c of rho_ab (x) rho_cd; returns (rho_ad, probability)."""
    joint = qutip.tensor(to_qobj(rho_ab), to_qobj(rho_cd))
    identity = qutip.qeye(2)
    outcomes = [qutip.tensor(identity, p) * singlet() for p in paulis()]
    if mode == "postselected":
        projector = qutip.tensor(identity, outcomes[0] * outcomes[0].dag(), identity)
        unnormalised = (projector * joint * projector).ptrace([0, 3])
        probability = float(np.real(unnormalised.tr()))
        return (unnormalised / probability).full(), probability
    total = qutip.Qobj(np.zeros((4, 4)), dims=[_Q, _Q])
    for outcome, pauli in zip(outcomes, paulis(), strict=True):
        projector = qutip.tensor(identity, outcome * outcome.dag(), identity)
        post = (projector * joint * projector).ptrace([0, 3])
        correction = qutip.tensor(identity, pauli)
        total = total + correction * post * correction.dag()
    return total.full(), 1.0


def singlet_fidelity(rho: np.ndarray) -> float:
    return float(np.real(qutip.expect(to_qobj(rho), singlet())))


def random_density_matrix(seed: int) -> np.ndarray:
    """A random full-rank or low-rank two-qubit state from QuTiP's generators."""
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    return qutip.rand_dm([2, 2], distribution="ginibre", rank=rank, seed=seed).full()
