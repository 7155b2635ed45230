"""Physics core of the suite: two-qubit states, swapping, figures of merit, distillation, links.

Pure numpy; conventions in ``docs/physics.md``. Every public name here is a contract.
"""

from qnet_envs.physics.distillation import (
    DistillationSchedule,
    bbpssw,
    dejmps,
    distillation_schedule,
    recurrence_round,
)
from qnet_envs.physics.links import (
    fiber_transmissivity,
    nested_swap_fidelity,
    single_photon_link,
)
from qnet_envs.physics.measures import fully_entangled_fraction, singlet_fidelity
from qnet_envs.physics.states import (
    SINGLET,
    SINGLET_DM,
    amplitude_damped,
    bell_diagonal,
    phase_shifted,
    reverse,
    werner,
)
from qnet_envs.physics.swapping import SWAP_MODES, swap
from qnet_envs.physics.validation import InvalidDensityMatrixError, validate_density_matrix

__all__ = [
    "SINGLET",
    "SINGLET_DM",
    "SWAP_MODES",
    "DistillationSchedule",
    "InvalidDensityMatrixError",
    "amplitude_damped",
    "bbpssw",
    "bell_diagonal",
    "dejmps",
    "distillation_schedule",
    "fiber_transmissivity",
    "fully_entangled_fraction",
    "nested_swap_fidelity",
    "phase_shifted",
    "recurrence_round",
    "reverse",
    "single_photon_link",
    "singlet_fidelity",
    "swap",
    "validate_density_matrix",
    "werner",
]
