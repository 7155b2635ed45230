"""Hand-built and seeded random swap-routing scenarios for the baseline and trainer tests.

Every scenario is built through ``Scenario.from_dict`` (the documented dict layout). Random
scenarios: a random spanning tree on ``n`` nodes (so Bob is usually reachable) plus extra random
links, every node of degree at most ``MAX_DEGREE``; Alice is node 0 and Bob node ``n - 1``.
The trainers' learnability scenario is :data:`TINY` (fixtures ``tiny`` and ``optimum``).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from agents.baselines.oracle import best_route
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario

#: Link kinds of :func:`random_state`: Werner, amplitude damped, phase shifted, random density
#: matrix, and the paper's fixed values (healthy / damaged Werner, opposite damping, opposite
#: phases, and the degenerate product states of damping at 0 and pi/2).
ALL_KINDS: tuple[str, ...] = ("werner", "damped", "phase", "random")
PAPER_KINDS: tuple[str, ...] = ("healthy", "healthy", "damaged", "damped_pair", "phase_pair")

#: The trainers' learnability scenario. From Alice the greedy-looking link is a Werner link
#: (F = 0.9, then 0.81 at Bob), while the optimal route starts on an amplitude-damped link
#: (F = 0.78) whose damage the next, opposite link cancels (F = 1), then two F = 0.99 links to
#: Bob (F = 0.980).
THETA = 0.3
TINY = {
    "name": "tiny-cancellation",
    "nodes": ["Alice", "W", "D1", "D2", "R", "Bob"],
    "edges": [
        {"u": "Alice", "v": "W", "state": {"kind": "werner", "fidelity": 0.9}},
        {"u": "W", "v": "Bob", "state": {"kind": "werner", "fidelity": 0.9}},
        {"u": "Alice", "v": "D1", "state": {"kind": "amplitude_damped", "theta": THETA}},
        {"u": "D1", "v": "D2", "state": {"kind": "amplitude_damped", "theta": math.pi / 2 - THETA}},
        {"u": "D2", "v": "R", "state": {"kind": "werner", "fidelity": 0.99}},
        {"u": "R", "v": "Bob", "state": {"kind": "werner", "fidelity": 0.99}},
        {"u": "W", "v": "D1", "state": {"kind": "werner", "fidelity": 0.95}},
        {"u": "D2", "v": "Bob", "state": {"kind": "werner", "fidelity": 0.8}},
    ],
    "alice": "Alice",
    "bob": "Bob",
    "max_actions": 6,
}


def random_state(rng: np.random.Generator, kind: str) -> dict[str, Any]:
    """A link state spec of ``kind`` for ``Scenario.from_dict``."""
    if kind == "werner":
        return {"kind": "werner", "fidelity": float(rng.uniform(0.3, 1.0))}
    if kind == "damped":
        return {"kind": "amplitude_damped", "theta": float(rng.uniform(0.0, math.pi / 2))}
    if kind == "phase":
        return {"kind": "phase_shifted", "phi": float(rng.uniform(-math.pi, math.pi))}
    if kind == "random":
        g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = g @ g.conj().T
        rho /= np.trace(rho)
        return {"kind": "density_matrix", "real": rho.real.tolist(), "imag": rho.imag.tolist()}
    if kind in ("healthy", "damaged"):
        return {"kind": "werner", "fidelity": 0.99 if kind == "healthy" else 0.6}
    if kind == "damped_pair":
        theta = float(rng.choice([0.2, math.pi / 2 - 0.2, 0.0, math.pi / 2]))
        return {"kind": "amplitude_damped", "theta": theta}
    if kind == "phase_pair":
        return {"kind": "phase_shifted", "phi": float(rng.choice([math.pi / 2, -math.pi / 2]))}
    raise ValueError(f"unknown link kind {kind!r}")


def build_random_scenario(
    seed: int,
    swap_mode: str = "postselected",
    figure_of_merit: str = "singlet_fidelity",
    kinds: Sequence[str] = ALL_KINDS,
    nodes: tuple[int, int] = (6, 10),
    max_actions: tuple[int, int] = (3, 7),
    extra_links: float = 1.0,
) -> Scenario:
    """A seeded random scenario; ``nodes`` and ``max_actions`` are inclusive ranges and
    ``extra_links`` the number of extra link attempts per node beyond the spanning tree."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(nodes[0], nodes[1] + 1))
    degree = np.zeros(n, dtype=int)
    pairs: list[tuple[int, int]] = []
    order = rng.permutation(n)
    for i in range(1, n):
        u = int(order[i])
        candidates = [int(v) for v in order[:i] if degree[v] < MAX_DEGREE]
        v = int(rng.choice(candidates))
        pairs.append((u, v))
        degree[u] += 1
        degree[v] += 1
    for _ in range(int(extra_links * n)):
        u, v = (int(x) for x in rng.choice(n, size=2, replace=False))
        if degree[u] < MAX_DEGREE and degree[v] < MAX_DEGREE:
            pairs.append((u, v))
            degree[u] += 1
            degree[v] += 1
    edges = [
        {"u": u, "v": v, "state": random_state(rng, str(rng.choice(list(kinds))))} for u, v in pairs
    ]
    return Scenario.from_dict(
        {
            "name": f"random-{seed}",
            "nodes": n,
            "edges": edges,
            "alice": 0,
            "bob": n - 1,
            "max_actions": int(rng.integers(max_actions[0], max_actions[1] + 1)),
            "swap_mode": swap_mode,
            "figure_of_merit": figure_of_merit,
        }
    )


def scenario_from_links(
    nodes: int,
    links: Sequence[tuple[int, int, dict[str, Any]]],
    alice: int = 0,
    bob: int | None = None,
    **rules: Any,
) -> Scenario:
    """A hand-built scenario: ``links`` are ``(u, v, state spec)``, the state's first qubit at
    ``u``; ``rules`` are the optional top-level fields (``max_actions``, ``swap_mode``, ...)."""
    return Scenario.from_dict(
        {
            "nodes": nodes,
            "edges": [{"u": u, "v": v, "state": state} for u, v, state in links],
            "alice": alice,
            "bob": nodes - 1 if bob is None else bob,
            **rules,
        }
    )


class LinkSpecs:
    """State specs of the dict layout, for hand-built scenarios."""

    @staticmethod
    def werner(fidelity: float) -> dict[str, Any]:
        return {"kind": "werner", "fidelity": fidelity}

    @staticmethod
    def damped(theta: float) -> dict[str, Any]:
        return {"kind": "amplitude_damped", "theta": theta}

    @staticmethod
    def phase(phi: float) -> dict[str, Any]:
        return {"kind": "phase_shifted", "phi": phi}


def check_interrupted_writes_are_ignored(
    run_dir: Path,
    good: Path,
    latest_checkpoint: Callable[[Path], Path | None],
    killed_save: Callable[[], object],
    payload: str,
    truncated_progress: str,
) -> None:
    """Check that neither kind of incomplete checkpoint hides a run's latest checkpoint ``good``.

    ``killed_save()`` writes a checkpoint with ``json.dump`` raising KeyboardInterrupt (a write
    killed after its ``payload``, before ``progress.json``): a temporary directory is left. Then
    a checkpoint-named directory with ``payload`` and a ``progress.json`` holding
    ``truncated_progress`` appears. ``latest_checkpoint(run_dir)`` is ``good`` throughout.
    """
    assert latest_checkpoint(run_dir) == good
    checkpoints = run_dir / "checkpoints"

    def killed_dump(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(json, "dump", killed_dump)
        killed_save()
    assert any(p.name.startswith(".tmp-") for p in checkpoints.iterdir())
    assert latest_checkpoint(run_dir) == good

    fake = checkpoints / "step-999999999999"
    fake.mkdir()
    shutil.copy(good / payload, fake / payload)
    (fake / "progress.json").write_text(truncated_progress)
    assert latest_checkpoint(run_dir) == good


@pytest.fixture
def random_scenario() -> Callable[..., Scenario]:
    """Factory: :func:`build_random_scenario`."""
    return build_random_scenario


@pytest.fixture
def make_scenario() -> Callable[..., Scenario]:
    """Factory: :func:`scenario_from_links`."""
    return scenario_from_links


@pytest.fixture
def link() -> type[LinkSpecs]:
    """State specs: ``link.werner(F)``, ``link.damped(theta)``, ``link.phase(phi)``."""
    return LinkSpecs


@pytest.fixture
def cancelling_damping_scenario() -> Scenario:
    """Two Alice-Bob routes of two links each, postselected swaps.

    Route ``(0, 1)`` (via node 1) crosses two opposite amplitude-damped links,
    ``theta = 0.2`` then ``pi/2 - 0.2`` in walking direction: the damping cancels, ``F = 1``,
    though each link alone has ``F = (1 + sin 0.4) / 2 = 0.695``. Route ``(2, 3)`` (via node 2)
    crosses two Werner links of ``F = 0.9``: ``F = 0.81 + 0.01 / 3``. Dijkstra on ``-log F``
    prefers the Werner route (``0.81 > 0.695^2``).
    """
    return scenario_from_links(
        4,
        [
            (0, 1, LinkSpecs.damped(0.2)),
            (1, 3, LinkSpecs.damped(math.pi / 2 - 0.2)),
            (0, 2, LinkSpecs.werner(0.9)),
            (2, 3, LinkSpecs.werner(0.9)),
        ],
        max_actions=4,
    )


@pytest.fixture
def interrupted_writes() -> Callable[..., None]:
    """Check: :func:`check_interrupted_writes_are_ignored`."""
    return check_interrupted_writes_are_ignored


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread for the test (trainer tests: ``usefixtures("one_thread")``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    """The trainers' learnability scenario, :data:`TINY`."""
    return Scenario.from_dict(TINY)


@pytest.fixture(scope="module")
def optimum(tiny: Scenario) -> tuple[list[int], float]:
    """The oracle's optimal route of :data:`TINY` and its ``F``."""
    return best_route(tiny)
