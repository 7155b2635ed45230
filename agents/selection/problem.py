"""The path-version selection problem that the GA and REINFORCE optimise, and its selections.

Each user pair ``u`` has ``n_versions[u]`` path versions (a candidate path x a link-level
distillation threshold) and uses up to ``max_slots`` (the paper's ``|P|``) of them at once.
A *selection* is an int array ``(n_pairs, max_slots)`` of local version indices
``0..n_versions[u]-1``, or ``-1`` for an empty slot; repeated indices in one row count once, so
a row with duplicates uses fewer versions. ``fitness(selection)`` is the weighted entanglement
generation rate (W-EGR, EPR pairs/s, higher is better) that the LP of the qVPN paper gives for
that selection; the optimisers only ever call it, so any function of a selection works.

The canonical form of a selection sorts each row's distinct indices ascending and pads with
``-1``; two selections with the same canonical form use the same versions and have the same
fitness, which is what :class:`agents.selection.cache.CachedFitness` keys on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SelectionProblem:
    """A path-version selection problem (the contract between the optimisers and the LP)."""

    n_versions: np.ndarray  # (n_pairs,) int >= 0; 0 = the pair has no usable version
    max_slots: int  # versions a pair may use at once (|P|)
    fitness: Callable[[np.ndarray], float]  # selection (n_pairs, max_slots) int -> W-EGR
    version_features: np.ndarray | None = None  # (sum(n_versions), f), pair u at offsets[u]:[u+1]
    pair_features: np.ndarray | None = None  # (n_pairs, h) float


def validate_problem(problem: SelectionProblem) -> None:
    """Raise ``ValueError`` naming the field if ``problem`` breaks the contract."""
    n = np.asarray(problem.n_versions)
    if n.ndim != 1 or n.size == 0:
        raise ValueError(f"n_versions must be a non-empty 1-D array, got shape {n.shape}")
    if not np.issubdtype(n.dtype, np.integer):
        raise ValueError(f"n_versions must hold integers, got dtype {n.dtype}")
    if (n < 0).any():
        raise ValueError(f"n_versions must be >= 0, got min {int(n.min())}")
    if int(n.sum()) == 0:
        raise ValueError("n_versions is all zero: no pair has a version to select")
    slots = problem.max_slots
    if isinstance(slots, bool) or not isinstance(slots, int | np.integer) or slots < 1:
        raise ValueError(f"max_slots must be an int >= 1, got {slots!r}")
    if not callable(problem.fitness):
        raise ValueError(f"fitness must be callable, got {type(problem.fitness).__name__}")
    total = int(n.sum())
    if problem.version_features is not None:
        vf = np.asarray(problem.version_features)
        if vf.ndim != 2 or vf.shape[0] != total or vf.shape[1] == 0:
            raise ValueError(
                f"version_features must have shape (sum(n_versions)={total}, f >= 1), "
                f"got {vf.shape}"
            )
        if not np.isfinite(vf).all():
            raise ValueError("version_features must be finite")
    if problem.pair_features is not None:
        pf = np.asarray(problem.pair_features)
        if pf.ndim != 2 or pf.shape[0] != n.size or pf.shape[1] == 0:
            raise ValueError(
                f"pair_features must have shape (n_pairs={n.size}, h >= 1), got {pf.shape}"
            )
        if not np.isfinite(pf).all():
            raise ValueError("pair_features must be finite")


def offsets(problem: SelectionProblem) -> np.ndarray:
    """``(n_pairs + 1,)`` start rows of each pair's versions in ``version_features``."""
    return np.concatenate([[0], np.cumsum(np.asarray(problem.n_versions, dtype=np.int64))])


def validate_selection(problem: SelectionProblem, selection: np.ndarray) -> np.ndarray:
    """``selection`` as an ``int64`` array, or ``ValueError`` saying what is wrong with it."""
    sel = np.asarray(selection)
    n = np.asarray(problem.n_versions)
    shape = (n.size, problem.max_slots)
    if sel.shape != shape:
        raise ValueError(f"selection must have shape (n_pairs, max_slots)={shape}, got {sel.shape}")
    if not np.issubdtype(sel.dtype, np.integer):
        raise ValueError(f"selection must hold integers, got dtype {sel.dtype}")
    sel = sel.astype(np.int64)
    bad = (sel < -1) | (sel >= n[:, None])
    if bad.any():
        u, s = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"selection[{u}, {s}] = {int(sel[u, s])} is out of range: pair {u} has "
            f"{int(n[u])} versions, so allowed values are -1..{int(n[u]) - 1}"
        )
    return sel


def canonical(selection: np.ndarray) -> np.ndarray:
    """Rows sorted ascending, repeated indices dropped, ``-1`` padding at the end of each row."""
    sel = np.sort(np.asarray(selection, dtype=np.int64), axis=1)
    dup = np.zeros_like(sel, dtype=bool)
    dup[:, 1:] = sel[:, 1:] == sel[:, :-1]
    sel[dup] = -1
    # Move -1 to the end of each row while keeping the other indices ascending.
    keys = np.where(sel < 0, np.iinfo(np.int64).max, sel)
    return np.take_along_axis(sel, np.argsort(keys, axis=1, kind="stable"), axis=1)
