"""Shared helpers of the planning tests."""

from __future__ import annotations

import pytest

from qnet_envs.planning import Instance


def find_path(instance: Instance, nodes: tuple[int, ...]) -> int:
    """The candidate path with this node sequence."""
    return instance.paths.nodes.index(tuple(nodes))


def find_edge(instance: Instance, u: int, v: int) -> int:
    """The edge joining ``u`` and ``v``."""
    return instance.edges.index()[(u, v)]


@pytest.fixture(scope="session")
def path_index():
    return find_path


@pytest.fixture(scope="session")
def edge_index():
    return find_edge


@pytest.fixture(scope="session")
def tiny() -> Instance:
    return Instance.load("tiny")


@pytest.fixture(scope="session")
def abilene() -> Instance:
    return Instance.load("abilene")
