"""Elementary-link models: fibre loss, the single-photon (single-click) scheme, nested swapping.

Conventions (see ``docs/distillation.md``): two-qubit states are ``(..., 4, 4)`` complex arrays
in the basis ``|00>, |01>, |10>, |11>``, the first qubit at the first-named node; the target is
the singlet ``|psi->``. Lengths are in km, attenuation in dB/km; every other argument here is a
dimensionless number in [0, 1].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.physics.states import PSI_PLUS, SINGLET_DM, check_range, projector

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]

#: ``|11><11|``: both nodes hold a photon-emitting (bright) state, shape (4, 4).
BOTH_BRIGHT_DM = np.diag(np.array([0, 0, 0, 1], dtype=np.complex128))
#: ``|psi+><psi+|``, the state heralded by the single-photon scheme before correction.
PSI_PLUS_DM = projector(PSI_PLUS)


def _check_non_negative(name: str, value: FloatArray) -> None:
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    if np.any(value < 0.0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def fiber_transmissivity(
    length_km: ArrayLike, attenuation_db_per_km: ArrayLike = 0.2
) -> FloatArray:
    """Transmissivity ``eta = 10^(-0.1 * beta * d)`` of ``d = length_km`` of fibre.

    Args:
        length_km: fibre length in km, finite and >= 0.
        attenuation_db_per_km: ``beta`` in dB/km, finite and >= 0 (0.2 dB/km: telecom fibre at
            1550 nm).

    Returns:
        ``eta`` in (0, 1], broadcast over both arguments. 50 km at 0.2 dB/km gives 0.1.
    """
    d = np.asarray(length_km, dtype=np.float64)
    beta = np.asarray(attenuation_db_per_km, dtype=np.float64)
    _check_non_negative("length_km", d)
    _check_non_negative("attenuation_db_per_km", beta)
    return np.power(10.0, -0.1 * beta * d)


def single_photon_link(
    eta: ArrayLike, alpha: ArrayLike, *, to_singlet: bool = True
) -> tuple[ComplexArray, FloatArray]:
    """Heralded state and success probability of the single-photon (single-click) scheme.

    Each node entangles a memory with a photon, ``sqrt(1 - alpha)|0>|vac> + sqrt(alpha)|1>|1_ph>``,
    and sends the photon through a channel of transmissivity ``eta`` to a beam splitter; one
    detector click heralds the pair (either detector; the sign set by which one clicked is
    corrected locally). In the usual leading-order model with a phase-stabilised channel the
    heralded state is ``(1 - alpha)|psi+><psi+| + alpha|11><11|`` with success probability
    ``2 eta alpha``.

    This heralded state has singlet fidelity 0 and fidelity ``1 - alpha`` to ``|psi+>``. A local
    ``Z`` on the second qubit maps ``|psi+>`` to the singlet (up to a global phase) and leaves
    ``|11><11|`` unchanged.

    Args:
        eta: channel transmissivity in [0, 1] (see :func:`fiber_transmissivity`).
        alpha: bright-state population in [0, 1]; ``2 * eta * alpha`` must not exceed 1.
        to_singlet: default ``True``: return the state after the ``Z`` correction,
            ``(1 - alpha)|psi-><psi-| + alpha|11><11|``, whose singlet fidelity is ``1 - alpha``
            (the suite's target). ``False``: the heralded ``|psi+>`` state, uncorrected.

    Returns:
        ``(state, success_probability)`` with shapes ``(..., 4, 4)`` and ``(...)``, the
        broadcast of ``eta`` and ``alpha``.
    """
    e = np.asarray(eta, dtype=np.float64)
    a = np.asarray(alpha, dtype=np.float64)
    check_range("eta", e, 0.0, 1.0)
    check_range("alpha", a, 0.0, 1.0)
    e, a = np.broadcast_arrays(e, a)
    probability = 2.0 * e * a
    if np.any(probability > 1.0):
        raise ValueError(
            f"2 * eta * alpha must lie in [0, 1] (it is a probability), got {probability!r}"
        )
    entangled = SINGLET_DM if to_singlet else PSI_PLUS_DM
    weight = a[..., None, None]
    state = (1.0 - weight) * entangled + weight * BOTH_BRIGHT_DM
    return state, probability


def nested_swap_fidelity(
    fidelity: ArrayLike,
    n_links: ArrayLike,
    gate_fidelity: ArrayLike = 1.0,
    measurement_fidelity: ArrayLike = 1.0,
) -> FloatArray:
    """Singlet fidelity after swapping a chain of ``n_links`` Werner links into one pair.

    ``S = 1/4 + 3/4 * (P2 (4 eta_m^2 - 1) / 3)^(N - 1) * ((4F - 1) / 3)^N`` with ``N = n_links``,
    ``P2 = gate_fidelity`` (depolarising two-qubit gate of the Bell measurement) and
    ``eta_m = measurement_fidelity`` (probability of a correct single-qubit readout), after
    Briegel, Dür, Cirac and Zoller, PRL 81, 5932 (1998). With ``P2 = eta_m = 1`` it is exact
    Werner swapping: the Werner parameter ``(4F - 1) / 3`` multiplies along the chain.

    Args:
        fidelity: singlet fidelity of each (Werner) link, in [0, 1].
        n_links: number of links ``N``, an integer >= 1 (``N - 1`` swaps).
        gate_fidelity: ``P2`` in [0, 1].
        measurement_fidelity: ``eta_m`` in [0, 1].

    Returns:
        The end-to-end singlet fidelity, broadcast over all arguments.
    """
    f = np.asarray(fidelity, dtype=np.float64)
    p2 = np.asarray(gate_fidelity, dtype=np.float64)
    eta_m = np.asarray(measurement_fidelity, dtype=np.float64)
    check_range("fidelity", f, 0.0, 1.0)
    check_range("gate_fidelity", p2, 0.0, 1.0)
    check_range("measurement_fidelity", eta_m, 0.0, 1.0)
    n = np.asarray(n_links)
    if n.dtype == np.bool_ or not np.issubdtype(n.dtype, np.integer) or np.any(n < 1):
        raise ValueError(f"n_links must be an integer >= 1, got {n_links!r}")
    swap_factor = p2 * (4.0 * eta_m**2 - 1.0) / 3.0
    link_factor = (4.0 * f - 1.0) / 3.0
    return 0.25 + 0.75 * np.power(swap_factor, n - 1) * np.power(link_factor, n)
