"""Fixtures shared by the whole test suite.

The repository's reference data (``../shared/data`` beside the checkout) is a test fixture, not
something the library looks for: tests that need it take :func:`zoo_dir`, which finds it through
``QNET_ENVS_DATA`` (its first entry, or that entry's ``topology-zoo`` subfolder) or, when the
variable is empty, next to the checkout, and skips the test with the folder it tried otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZOO_FILES = ("Abilene.gml", "Ans.gml", "Cogentco.gml", "Kdl.gml", "Surfnet.gml")


def find_zoo_dir() -> Path:
    """The folder that should hold the Topology Zoo GML files (it may not exist)."""
    entries = [e for e in os.environ.get("QNET_ENVS_DATA", "").split(os.pathsep) if e]
    candidates = [Path(e) / "topology-zoo" for e in entries[:1]] + [Path(e) for e in entries[:1]]
    candidates.append(ROOT / ".." / "shared" / "data" / "topology-zoo")
    for folder in candidates:
        if all((folder / name).is_file() for name in ZOO_FILES):
            return folder.resolve()
    return candidates[0].resolve()


@pytest.fixture(scope="session")
def zoo_dir() -> Path:
    """The Topology Zoo GML folder of the reference data; skips the test when it is absent."""
    folder = find_zoo_dir()
    if not all((folder / name).is_file() for name in ZOO_FILES):
        pytest.skip(
            f"Topology Zoo GML files not found at {folder}: set QNET_ENVS_DATA to the reference "
            f"data folder (shared/data) or put it beside the checkout"
        )
    return folder
