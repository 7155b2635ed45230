"""Shared fixtures: the tiny instance (no topology data needed) and the shipped SURFnet ones."""

from __future__ import annotations

import pytest

from qnet_envs.qvpn import Instance
from qnet_envs.qvpn.workload import tiny_instance


def _surfnet_available() -> bool:
    """Whether ``qnet_envs.topology.load("Surfnet")`` finds its data (``QNET_ENVS_DATA``)."""
    from qnet_envs.topology import load

    try:
        load("Surfnet")
    except (ValueError, OSError):
        return False
    return True


requires_surfnet = pytest.mark.skipif(not _surfnet_available(), reason="SURFnet GML not found")


@pytest.fixture(scope="session")
def tiny() -> Instance:
    return tiny_instance()


@pytest.fixture(scope="session")
def per_km() -> Instance:
    return Instance.load("paper-per-km")


@pytest.fixture(scope="session")
def default() -> Instance:
    return Instance.load("default")


def first_pairs(instance: Instance, n: int) -> Instance:
    """``instance`` restricted to its first ``n`` user pairs."""
    from dataclasses import replace

    keys = ("pair_org", "pair_src", "pair_dst", "pair_weight", "pair_fidelity", "r_min", "r_max")
    return replace(instance, **{k: getattr(instance, k)[:n] for k in keys})
