"""Print how far ``qnet_envs.physics.swap`` is from an independent QuTiP swap on random states.

Usage: ``python scripts/physics_agreement.py [--states 2000]``. Needs the ``[dev]`` extra (qutip).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qnet_envs.physics import SWAP_MODES, singlet_fidelity, swap
from tests.physics import qutip_reference as reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--states", type=int, default=2000, help="random state pairs per mode")
    args = parser.parse_args()
    print("| mode | pairs | max abs dev. of rho_ad | max dev. of probability | max dev. of F |")
    print("|---|---:|---:|---:|---:|")
    for mode in SWAP_MODES:
        worst = np.zeros(3)
        for seed in range(args.states):
            a = reference.random_density_matrix(2 * seed)
            b = reference.random_density_matrix(2 * seed + 1)
            rho, probability = swap(a, b, mode)
            ref_rho, ref_probability = reference.swap(a, b, mode)
            deviations = (
                np.abs(rho - ref_rho).max(),
                abs(float(probability) - ref_probability),
                abs(float(singlet_fidelity(rho)) - reference.singlet_fidelity(ref_rho)),
            )
            worst = np.maximum(worst, deviations)
        print(f"| {mode} | {args.states} | {worst[0]:.2e} | {worst[1]:.2e} | {worst[2]:.2e} |")


if __name__ == "__main__":
    main()
