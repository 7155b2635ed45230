"""Link model of the qVPN paper: single-photon heralding over fibre, repetition time, multiplexing.

A link of length ``d`` km makes pairs with success probability ``p = 2 eta alpha`` per attempt,
``eta = 10^(-0.1 beta d)`` (:func:`qnet_envs.physics.fiber_transmissivity`), and singlet
fidelity ``1 - alpha`` (:func:`qnet_envs.physics.single_photon_link`, corrected to the singlet).
Its capacity is ``c = m p / T`` pairs/s with multiplexing factor ``m`` and repetition time ``T``:

- ``repetition_time = "constant"`` (the paper's text): ``T = repetition_time_s`` (1 us);
- ``repetition_time = "per_km"`` (its authors' public code): ``T = repetition_time_per_km_s * d``
  (4 us per km), so the rate falls with length both through ``eta`` and through ``T``.

The heralded state ``(1 - alpha)|psi-><psi-| + alpha|11><11|`` is not Werner; like the paper we
treat each link pair as a Werner pair of the same singlet fidelity (a bilateral twirl makes it
one without changing its fidelity).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.physics import fiber_transmissivity, single_photon_link, singlet_fidelity
from qnet_envs.validation import FieldError, show

FloatArray = NDArray[np.float64]

#: Repetition-time modes (see the module docstring).
REPETITION_TIME_MODES: tuple[str, ...] = ("constant", "per_km")


def repetition_time(
    length_km: ArrayLike, mode: str, constant_s: float, per_km_s: float
) -> FloatArray:
    """Repetition time ``T`` in seconds of links of ``length_km`` under ``mode``."""
    d = np.asarray(length_km, dtype=np.float64)
    if mode == "constant":
        return np.full(d.shape, float(constant_s))
    if mode == "per_km":
        return float(per_km_s) * d
    raise FieldError(
        "repetition_time", f"got {show(mode)}", f"one of {list(REPETITION_TIME_MODES)}"
    )


def link_parameters(
    length_km: ArrayLike,
    *,
    alpha: float,
    attenuation_db_per_km: float = 0.2,
    mode: str = "constant",
    constant_s: float = 1e-6,
    per_km_s: float = 4e-6,
    multiplexing: float = 1.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Capacity (pairs/s), singlet fidelity and per-attempt success probability of each link.

    Args:
        length_km: link lengths in km, each ``> 0``.
        alpha: bright-state population of the single-photon scheme, in (0, 1).
        attenuation_db_per_km: fibre loss ``beta`` in dB/km.
        mode: ``"constant"`` or ``"per_km"`` (module docstring).
        constant_s: ``T`` in s for ``"constant"``.
        per_km_s: ``T`` per km in s for ``"per_km"``.
        multiplexing: parallel heralding channels per link, ``> 0``.

    Returns:
        ``(capacity, fidelity, probability)``, arrays of ``length_km``'s shape.
    """
    d = np.asarray(length_km, dtype=np.float64)
    if np.any(~np.isfinite(d)) or np.any(d <= 0.0):
        raise FieldError("length_km", f"got {show(d)}", "finite lengths > 0")
    eta = fiber_transmissivity(d, attenuation_db_per_km)
    state, probability = single_photon_link(eta, alpha)
    fidelity = np.asarray(singlet_fidelity(state), dtype=np.float64)
    period = repetition_time(d, mode, constant_s, per_km_s)
    capacity = multiplexing * probability / period
    return capacity, fidelity, np.asarray(probability, dtype=np.float64)
