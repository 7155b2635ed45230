"""Entanglement distillation by recurrence: BBPSSW and DEJMPS, closed forms and state level.

Conventions (see ``docs/distillation.md``): the target is the singlet ``|psi->``; two-qubit
states are ``(..., 4, 4)`` complex arrays in the basis ``|00>, |01>, |10>, |11>``; the first
qubit of every pair is at node Alice, the second at node Bob.

One recurrence round takes two pairs, the *source* (kept) and the *target* (measured). Both
protocols are written in the frame of Deutsch et al. (1996), whose target is ``|phi+>``, and
reach it from the suite's singlet by the unilateral Pauli ``Y`` on Bob's qubit of each pair
(``(I x Y)|psi-> = i|phi+>``), undone on the output. One round is then

1. BBPSSW only: twirl each pair to a Werner state (random bilateral rotations ``U x U``);
2. the frame change ``I x Y`` on each pair;
3. DEJMPS only: ``Rx(pi/2)`` on Alice's qubits, ``Rx(-pi/2)`` on Bob's qubits;
4. bilateral CNOT: Alice's source qubit controls her target qubit, and the same at Bob;
5. measure both target qubits in the computational basis; keep the round on coincident
   outcomes (``00`` or ``11``), discard both pairs otherwise;
6. undo the frame change (``I x Y`` on the source); BBPSSW only: twirl the output.

Bell-diagonal labelling of :func:`dejmps` (Deutsch's labels moved to the singlet frame by
``I x Y``): ``(A, B, C, D)`` are the weights on ``(|psi->, |phi+>, |phi->, |psi+>)``, which are
Deutsch's ``(|phi+>, |psi->, |psi+>, |phi->)``. ``A`` is the singlet fidelity. In this labelling
the step-3 rotations exchange the ``B`` and ``D`` states and fix ``A`` and ``C``.

References: C. H. Bennett et al., PRL 76, 722 (1996) (BBPSSW); D. Deutsch et al., PRL 77, 2818
(1996) (DEJMPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.physics.states import (
    MAXIMALLY_MIXED,
    PAULIS,
    PHI_MINUS,
    PHI_PLUS,
    PSI_MINUS,
    PSI_PLUS,
    check_range,
)

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]

Protocol = Literal["bbpssw", "dejmps"]
#: Recurrence protocols understood by :func:`recurrence_round` and :func:`distillation_schedule`.
PROTOCOLS: tuple[str, ...] = ("bbpssw", "dejmps")

#: Bell vectors carrying the DEJMPS labels ``(A, B, C, D)``, shape (4, 4): row k is label k.
DEJMPS_BELL_BASIS = np.stack([PSI_MINUS, PHI_PLUS, PHI_MINUS, PSI_PLUS])

#: Tolerance on the sum of Bell-diagonal weights.
WEIGHT_SUM_ATOL = 1e-9

_I2, _X, _Y, _Z = PAULIS
_RX_PLUS = (_I2 - 1j * _X) / np.sqrt(2.0)  # Rx(pi/2) = exp(-i pi X / 4)
_RX_MINUS = (_I2 + 1j * _X) / np.sqrt(2.0)  # Rx(-pi/2)
_FRAME = np.kron(_I2, _Y)  # maps |psi-> to i|phi+>; Hermitian, its own inverse
_DEUTSCH_ROTATION = np.kron(_RX_PLUS, _RX_MINUS)
_PRE = {"bbpssw": _FRAME, "dejmps": _DEUTSCH_ROTATION @ _FRAME}


def _bilateral_cnot() -> ComplexArray:
    """Bilateral CNOT on qubits (a1, b1, a2, b2): ``a1`` controls ``a2``, ``b1`` controls ``b2``."""
    gate = np.zeros((16, 16), dtype=np.complex128)
    for a1, b1, a2, b2 in np.ndindex(2, 2, 2, 2):
        gate[8 * a1 + 4 * b1 + 2 * (a2 ^ a1) + (b2 ^ b1), 8 * a1 + 4 * b1 + 2 * a2 + b2] = 1.0
    return gate


def _coincidence_projections() -> ComplexArray:
    """``<m m|`` on (a2, b2) for m = 0, 1, as maps C^16 -> C^4 (a1, b1), shape (2, 4, 16)."""
    select = np.zeros((2, 4, 16), dtype=np.complex128)
    for m in (0, 1):
        for source in range(4):
            select[m, source, 4 * source + 3 * m] = 1.0
    return select


def _round_kraus(protocol: str) -> ComplexArray:
    """Kraus operators of one kept round (before any twirl), shape (2, 4, 16)."""
    pre = np.kron(_PRE[protocol], _PRE[protocol])
    return _FRAME @ _coincidence_projections() @ _bilateral_cnot() @ pre


_KRAUS = {protocol: _round_kraus(protocol) for protocol in PROTOCOLS}


def _twirl_unitaries() -> ComplexArray:
    """The 12 bilateral rotations ``U x U`` of BBPSSW's twirl, shape (12, 4, 4).

    ``U`` runs over the Paulis times the Clifford cycling ``X -> Y -> Z``; ``U x U`` fixes
    ``|psi->`` and the group averages every state to the Werner state of equal singlet fidelity.
    """
    cycle = (_I2 - 1j * (_X + _Y + _Z)) / 2.0
    singles = [p @ c for p in PAULIS for c in (_I2, cycle, cycle @ cycle)]
    return np.stack([np.kron(u, u) for u in singles])


_TWIRL = _twirl_unitaries()


def werner_twirl(rho: ArrayLike) -> ComplexArray:
    """Average ``rho`` over BBPSSW's bilateral rotations: the Werner state of equal fidelity.

    ``rho`` has shape ``(..., 4, 4)``; the result has the same shape, singlet fidelity and trace.
    """
    r = _as_states(rho, "rho")
    u = _TWIRL[(slice(None),) + (None,) * (r.ndim - 2)]
    return (u @ r[None] @ np.swapaxes(u.conj(), -1, -2)).mean(axis=0)


def _as_states(rho: ArrayLike, name: str) -> ComplexArray:
    r = np.asarray(rho, dtype=np.complex128)
    if r.shape[-2:] != (4, 4):
        raise ValueError(f"{name} must have shape (..., 4, 4), got {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError(f"{name} must have finite entries")
    return r


def _check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def recurrence_round(
    rho1: ArrayLike, rho2: ArrayLike, protocol: Protocol = "dejmps"
) -> tuple[ComplexArray, FloatArray]:
    """One BBPSSW or DEJMPS round on two pairs, at the level of density matrices.

    Args:
        rho1: source pair, shape ``(..., 4, 4)``; kept on success. Any two-qubit density matrix
            (not only Bell-diagonal); validate user input with ``validate_density_matrix``.
        rho2: target pair, shape ``(..., 4, 4)``; measured.
        protocol: ``"dejmps"`` or ``"bbpssw"``; the steps are in the module docstring.

    Returns:
        The output source pair, shape ``(..., 4, 4)`` (broadcast of the leading axes), and the
        success probability (coincident outcomes), shape ``(...)``. A zero-probability round
        returns the maximally mixed state with probability 0 (never NaN).
    """
    _check_protocol(protocol)
    a = _as_states(rho1, "rho1")
    b = _as_states(rho2, "rho2")
    if protocol == "bbpssw":
        a, b = werner_twirl(a), werner_twirl(b)
    joint = a[..., :, None, :, None] * b[..., None, :, None, :]
    joint = joint.reshape(*joint.shape[:-4], 16, 16)
    kraus = _KRAUS[protocol][(slice(None),) + (None,) * (joint.ndim - 2)]
    unnormalised = (kraus @ joint[None] @ np.swapaxes(kraus.conj(), -1, -2)).sum(axis=0)
    probability = np.trace(unnormalised, axis1=-2, axis2=-1).real
    kept = probability > 0.0
    safe = np.where(kept, probability, 1.0)[..., None, None]
    out = np.where(kept[..., None, None], unnormalised / safe, MAXIMALLY_MIXED)
    if protocol == "bbpssw":
        out = werner_twirl(out)
    return out, np.asarray(np.clip(probability, 0.0, 1.0))


def dejmps_state(rho1: ArrayLike, rho2: ArrayLike) -> tuple[ComplexArray, FloatArray]:
    """One DEJMPS round on two states: ``recurrence_round(rho1, rho2, "dejmps")``."""
    return recurrence_round(rho1, rho2, "dejmps")


def bbpssw_state(rho1: ArrayLike, rho2: ArrayLike) -> tuple[ComplexArray, FloatArray]:
    """One BBPSSW round on two states: ``recurrence_round(rho1, rho2, "bbpssw")``."""
    return recurrence_round(rho1, rho2, "bbpssw")


def bbpssw(fidelity: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """One BBPSSW round on two Werner pairs of singlet fidelity ``fidelity``, output re-twirled.

    With ``q = (1 - F) / 3``: success probability ``p = F^2 + 2Fq + 5q^2`` and output fidelity
    ``F' = (F^2 + q^2) / p``. Fixed points: ``F = 1/4, 1/2, 1``; ``F' > F`` for ``1/2 < F < 1``
    (distillation), ``F' < F`` for ``1/4 < F < 1/2``, and ``F' > F`` again below ``1/4``.

    Args:
        fidelity: singlet fidelity in [0, 1]; broadcasts over any shape.

    Returns:
        ``(fidelity_out, probability)``, arrays of the input's shape.
    """
    f = np.asarray(fidelity, dtype=np.float64)
    check_range("fidelity", f, 0.0, 1.0)
    q = (1.0 - f) / 3.0
    probability = f * f + 2.0 * f * q + 5.0 * q * q
    return (f * f + q * q) / probability, probability


def _check_weights(coefficients: ArrayLike) -> FloatArray:
    w = np.asarray(coefficients, dtype=np.float64)
    if w.shape[-1:] != (4,):
        raise ValueError(f"coefficients must have a last axis of length 4, got shape {w.shape}")
    check_range("coefficients", w, 0.0, 1.0)
    total = w.sum(axis=-1)
    if np.any(np.abs(total - 1.0) > WEIGHT_SUM_ATOL):
        raise ValueError(f"coefficients must sum to 1 (within {WEIGHT_SUM_ATOL}), got {total!r}")
    return w


def dejmps(coefficients: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """One DEJMPS round on two copies of a Bell-diagonal state.

    Labelling: ``coefficients = (A, B, C, D)`` are the weights on
    ``(|psi->, |phi+>, |phi->, |psi+>)`` (:data:`DEJMPS_BELL_BASIS`), ``A`` the singlet fidelity.
    With ``N = (A + B)^2 + (C + D)^2`` the output is
    ``(A^2 + B^2, 2CD, C^2 + D^2, 2AB) / N`` in the same labelling, with success probability
    ``N``. ``A = 1`` is a fixed point.

    Args:
        coefficients: shape ``(..., 4)``, non-negative, each row summing to 1.

    Returns:
        ``(coefficients_out, probability)`` of shapes ``(..., 4)`` and ``(...)``.
    """
    w = _check_weights(coefficients)
    a, b, c, d = np.moveaxis(w, -1, 0)
    probability = (a + b) ** 2 + (c + d) ** 2
    out = np.stack([a * a + b * b, 2.0 * c * d, c * c + d * d, 2.0 * a * b], axis=-1)
    return out / probability[..., None], probability


def dejmps_coefficients(rho: ArrayLike) -> FloatArray:
    """Diagonal of ``rho`` in :data:`DEJMPS_BELL_BASIS`: the weights ``(A, B, C, D)``."""
    r = _as_states(rho, "rho")
    basis = DEJMPS_BELL_BASIS
    return np.einsum("ki,...ij,kj->...k", basis.conj(), r, basis).real


@dataclass(frozen=True)
class DistillationSchedule:
    """Rounds of recurrence distillation needed to reach a target singlet fidelity.

    Round ``k`` (1-based) consumes two pairs of level ``k - 1`` and succeeds with probability
    ``success_probabilities[k - 1]``; ``fidelities[k - 1]`` is the singlet fidelity after it.
    ``expected_pairs[k - 1]`` is ``E_k = 2 E_{k-1} / p_k`` (``E_0 = 1``): the expected number of
    raw pairs consumed per pair of level ``k``.
    """

    protocol: str
    initial_fidelity: float
    target_fidelity: float
    rounds: int
    fidelities: tuple[float, ...]
    success_probabilities: tuple[float, ...]
    expected_pairs: tuple[float, ...]

    @property
    def final_fidelity(self) -> float:
        """Singlet fidelity after the last round (the input fidelity if no round is needed)."""
        return self.fidelities[-1] if self.rounds else self.initial_fidelity

    @property
    def raw_pairs_per_output(self) -> float:
        """Expected raw pairs consumed per output pair (1 if no round is needed)."""
        return self.expected_pairs[-1] if self.rounds else 1.0


def _scalar_in_range(name: str, value: float, low: float, high: float) -> float:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != ():
        raise ValueError(f"{name} must be a scalar, got shape {array.shape}")
    check_range(name, array, low, high)
    return float(array)


def distillation_schedule(
    fidelity: float,
    target_fidelity: float,
    protocol: Protocol = "dejmps",
    max_rounds: int = 32,
) -> DistillationSchedule:
    """Plan nested recurrence rounds from Werner pairs of ``fidelity`` to ``target_fidelity``.

    BBPSSW iterates :func:`bbpssw` (each level re-twirled to Werner); DEJMPS iterates
    :func:`dejmps` from the Werner weights ``(F, (1-F)/3, (1-F)/3, (1-F)/3)``.

    Args:
        fidelity: singlet fidelity of the raw pairs, in [0, 1].
        target_fidelity: singlet fidelity wanted, in [0, 1]. Reached with zero rounds when
            ``fidelity >= target_fidelity``; otherwise ``fidelity`` must exceed 1/2, and a target
            of 1 is reachable only from raw pairs of fidelity 1 (both protocols approach 1 only
            asymptotically).
        protocol: ``"dejmps"`` (default) or ``"bbpssw"``.
        max_rounds: the most rounds to try, an integer >= 0.

    Raises:
        ValueError: naming the argument and its allowed range, for out-of-range inputs and
            unreachable targets (including ``max_rounds`` rounds not being enough).
    """
    _check_protocol(protocol)
    f0 = _scalar_in_range("fidelity", fidelity, 0.0, 1.0)
    target = _scalar_in_range("target_fidelity", target_fidelity, 0.0, 1.0)
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int | np.integer):
        raise ValueError(f"max_rounds must be an integer >= 0, got {max_rounds!r}")
    if max_rounds < 0:
        raise ValueError(f"max_rounds must be an integer >= 0, got {max_rounds}")
    if f0 < target and f0 <= 0.5:
        raise ValueError(
            f"fidelity must lie in (0.5, 1] to be distilled, got {f0} (target_fidelity {target})"
        )
    if f0 < target and target == 1.0:
        raise ValueError(
            "target_fidelity must lie in [0, 1) for fidelity < 1: recurrence approaches 1 only "
            f"asymptotically (fidelity {f0})"
        )
    fidelities: list[float] = []
    probabilities: list[float] = []
    pairs: list[float] = []
    state = np.array([f0, (1 - f0) / 3, (1 - f0) / 3, (1 - f0) / 3])
    current, expected = f0, 1.0
    while current < target:
        if len(fidelities) == max_rounds:
            raise ValueError(
                f"target_fidelity {target} is not reached in max_rounds={max_rounds} rounds of "
                f"{protocol} (fidelity {current:.12g} after them); raise max_rounds or lower "
                "target_fidelity"
            )
        if protocol == "bbpssw":
            new, p = bbpssw(current)
            current = float(new)
        else:
            state, p = dejmps(state)
            state = state / state.sum()
            current = float(state[0])
        expected = 2.0 * expected / float(p)
        fidelities.append(current)
        probabilities.append(float(p))
        pairs.append(expected)
    return DistillationSchedule(
        protocol=protocol,
        initial_fidelity=f0,
        target_fidelity=target,
        rounds=len(fidelities),
        fidelities=tuple(fidelities),
        success_probabilities=tuple(probabilities),
        expected_pairs=tuple(pairs),
    )
