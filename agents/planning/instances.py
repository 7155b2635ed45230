"""Traffic matrices of one instance without recomputing its paths.

``Instance.with_matrix(i)`` returns a new frozen instance whose cached network data (graph,
demand pairs, fidelity targets, edge table, candidate paths, traffic matrices) is computed
again on first use: Yen's algorithm takes seconds to minutes on Cogentco and Kdl. None of those
depend on which matrix is planned (``Instance.demand`` reads the matrix at each access), so
:func:`with_matrix_shared` hands the new instance the same computed objects.
"""

from __future__ import annotations

from qnet_envs.planning import Instance

#: Cached properties of :class:`Instance` that do not depend on the planned matrix.
MATRIX_FREE = ("graph", "demand_pairs", "fidelity_targets", "traffic_matrices", "edges", "paths")


def with_matrix_shared(instance: Instance, index: int) -> Instance:
    """``instance.with_matrix(index)`` sharing ``instance``'s already computed network data."""
    other = instance.with_matrix(index)
    for name in MATRIX_FREE:
        if name in instance.__dict__:
            other.__dict__[name] = instance.__dict__[name]
    return other
