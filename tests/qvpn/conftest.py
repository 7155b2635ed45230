"""Shared fixtures: the tiny instance (no topology data needed) and the shipped SURFnet ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qnet_envs.qvpn import Instance
from qnet_envs.qvpn.workload import tiny_instance


def _surfnet_available() -> bool:
    from qnet_envs.topology import data_search_path

    if "QNET_ENVS_DATA" not in os.environ:
        shared = Path(__file__).resolve().parents[3] / "shared" / "data"
        if shared.exists():
            os.environ["QNET_ENVS_DATA"] = str(shared)
    try:
        from qnet_envs.topology import load

        load("Surfnet")
    except (ValueError, OSError):
        return False
    return bool(data_search_path()) or True


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
