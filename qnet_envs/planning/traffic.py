"""Demands and traffic matrices: which node pairs ask for entanglement, and how much.

Demand pairs (``traffic.pairs``): ``"all"`` is every unordered pair ``s < d`` in node order;
a count ``n`` draws ``n`` distinct unordered pairs uniformly with
``numpy.random.default_rng([seed, 0])`` (listed in the order drawn); explicit pairs are kept as
given. Traffic matrices: ``matrices`` rows, each demand's rate drawn independently from
``N(mean, std)`` with ``default_rng([seed, 1])`` and clipped at 0 (pairs/s); explicit ``rates``
replace the draw. The first ``floor(train_fraction * matrices)`` rows are the training set, the
rest the test set (8 / 2 of the default 10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from qnet_envs.planning.problem import Instance


def demand_pairs(instance: Instance) -> NDArray[np.int64]:
    """``(n_demands, 2)`` demand end points (read-only); see the module docstring."""
    n = instance.n_nodes
    pairs = instance.pairs
    if isinstance(pairs, tuple):
        out = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if out.max() >= n:
            bad = int(np.flatnonzero((out >= n).any(axis=1))[0])
            raise ValueError(
                f"traffic.pairs[{bad}]: got {out[bad].tolist()} (allowed: nodes in [0, {n - 1}])"
            )
        keys = {frozenset(p) for p in out.tolist()}
        if len(keys) != out.shape[0]:
            raise ValueError("traffic.pairs: a node pair is listed twice (allowed: each once)")
    else:
        rows, cols = np.triu_indices(n, k=1)
        if pairs == "all":
            chosen = np.arange(rows.size)
        else:
            if int(pairs) > rows.size:
                raise ValueError(
                    f"traffic.pairs: got {int(pairs)} (allowed: at most {rows.size}, the "
                    f"number of node pairs of {n} nodes)"
                )
            rng = np.random.default_rng([instance.seed, 0])
            chosen = rng.choice(rows.size, size=int(pairs), replace=False)
        out = np.stack([rows[chosen], cols[chosen]], axis=1).astype(np.int64)
    out.setflags(write=False)
    return out


def traffic_matrices(instance: Instance) -> NDArray[np.float64]:
    """``(n_matrices, n_demands)`` rates in pairs/s (read-only); see the module docstring."""
    n_demands = instance.n_demands
    if instance.rates is not None:
        out = np.asarray(instance.rates, dtype=np.float64)
        if out.shape[1] != n_demands:
            raise ValueError(
                f"traffic.rates[0]: got {out.shape[1]} rates (allowed: one per demand, {n_demands})"
            )
    else:
        rng = np.random.default_rng([instance.seed, 1])
        draw = rng.normal(instance.mean, instance.std, size=(instance.matrices, n_demands))
        out = np.maximum(draw, 0.0)
    out.setflags(write=False)
    return out
