"""Where the package's shipped data lives: scenario files and topology files.

This module is the only place the library locates data it ships. It finds:

- **Scenario files**, ``scenarios/<family>/<name>.toml`` (or ``.yaml``/``.yml``) at the top of
  the source tree. A built wheel carries a copy of that whole folder as ``qnet_envs/_scenarios/``
  (the build hook in ``setup.py`` copies every file under ``scenarios/``, so a new family needs
  no packaging change). An installed wheel reads that copy; an editable install or a source
  checkout on ``PYTHONPATH`` reads ``scenarios/`` itself.
- **Topology files**, ``qnet_envs/topology/zoo-data/<Name>.json``: compact Topology Zoo graphs
  written by ``scripts/make_topology_data.py`` (ordinary package data, found through
  :mod:`importlib.resources` in every kind of install).

Nothing here looks outside the package and its own source tree; data a user keeps elsewhere is
passed by path (or, for GML topologies, through ``QNET_ENVS_DATA``, see
:func:`qnet_envs.topology.data_search_path`). See ``docs/data.md``.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

SCENARIO_SUFFIXES: tuple[str, ...] = (".toml", ".yaml", ".yml")
TOPOLOGY_SUFFIX = ".json"
_PACKAGE = "qnet_envs"
_WHEEL_SCENARIOS = "_scenarios"  # the wheel's copy of scenarios/, inside the package
_TOPOLOGY_DATA = ("topology", "zoo-data")


class UnknownNameError(ValueError, FileNotFoundError):
    """A name that no shipped file has; the message lists the shipped names.

    A ``ValueError`` (a bad argument) and, for callers that catch missing files, a
    ``FileNotFoundError``.
    """


def _package_dir() -> Path:
    # Wheels and editable installs put the package on the file system, so this is a real path.
    return Path(str(resources.files(_PACKAGE)))


def scenarios_root() -> Path:
    """The folder holding one subfolder of scenario files per env family.

    ``qnet_envs/_scenarios`` in an installed wheel, else ``scenarios/`` beside the package in
    its source tree (editable install or ``PYTHONPATH`` checkout).

    Raises:
        FileNotFoundError: neither exists (a broken install).
    """
    package = _package_dir()
    installed = package / _WHEEL_SCENARIOS
    if installed.is_dir():
        return installed
    source = package.parent / "scenarios"
    if source.is_dir() and (package.parent / "pyproject.toml").is_file():
        return source
    raise FileNotFoundError(
        f"no shipped scenarios: neither {installed} (wheel install) nor {source} (source tree) "
        f"exists; reinstall qnet_envs"
    )


def scenario_families() -> list[str]:
    """The env families that ship scenario files (the subfolders of :func:`scenarios_root`)."""
    return sorted(
        p.name
        for p in scenarios_root().iterdir()
        if p.is_dir() and not p.name.startswith(("_", "."))
    )


def scenario_dir(family: str) -> Path:
    """The folder of the shipped scenario files of ``family`` (e.g. ``"routing"``).

    Raises:
        UnknownNameError: ``family`` ships no scenarios (the message lists those that do).
    """
    families = scenario_families()
    if family not in families:
        raise UnknownNameError(_unknown("scenario family", family, families))
    return scenarios_root() / family


def shipped_names(family: str) -> list[str]:
    """The names (file stems) of ``family``'s shipped scenario files, sorted."""
    return sorted(
        p.stem
        for p in scenario_dir(family).iterdir()
        if p.is_file() and p.suffix in SCENARIO_SUFFIXES
    )


def scenario_file(family: str, name: str) -> Path:
    """The shipped scenario file ``name`` (a stem, no suffix) of ``family``.

    Raises:
        UnknownNameError: no such shipped file; the message lists the shipped names, close
            matches first.
    """
    folder = scenario_dir(family)
    for suffix in SCENARIO_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if Path(name).name == name and path.is_file():
            return path
    raise UnknownNameError(_unknown(f"{family} scenario", name, shipped_names(family)))


def topology_dir() -> Path:
    """The folder of the shipped topology files (``<Name>.json``)."""
    return _package_dir().joinpath(*_TOPOLOGY_DATA)


def shipped_topologies() -> list[str]:
    """The names of the shipped topologies, e.g. ``["Abilene", "Ans", ...]``, sorted."""
    folder = topology_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix == TOPOLOGY_SUFFIX)


def topology_file(name: str) -> Path:
    """The shipped topology file of ``name``, letter case ignored (``"kdl"`` -> ``Kdl.json``).

    Raises:
        UnknownNameError: no shipped topology has that name (the message lists them).
    """
    names = shipped_topologies()
    for shipped in names:
        if shipped.lower() == name.lower():
            return topology_dir() / f"{shipped}{TOPOLOGY_SUFFIX}"
    raise UnknownNameError(_unknown("shipped topology", name, names))


def _unknown(what: str, name: str, names: list[str]) -> str:
    """The error message for an unknown ``name``: close matches, then every shipped name."""
    close = difflib.get_close_matches(name, names, n=5)
    ordered = close + [n for n in names if n not in close]
    hint = f"; close matches: {', '.join(close)}" if close else ""
    return f"unknown {what} {name!r}{hint}; shipped names: {ordered}"
