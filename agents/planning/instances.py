"""Traffic matrices of one instance without recomputing its paths.

Kept for callers written before :meth:`Instance.with_matrix` shared the computed network data
itself (graph, demand pairs, fidelity targets, edge table, candidate paths, traffic matrices;
:data:`qnet_envs.planning.problem.MATRIX_FREE_PROPERTIES`): it now simply calls it.
"""

from __future__ import annotations

from qnet_envs.planning import Instance
from qnet_envs.planning.problem import MATRIX_FREE_PROPERTIES

#: Cached properties of :class:`Instance` that do not depend on the planned matrix.
MATRIX_FREE = MATRIX_FREE_PROPERTIES


def with_matrix_shared(instance: Instance, index: int) -> Instance:
    """``instance.with_matrix(index)``, which shares the already computed network data."""
    return instance.with_matrix(index)
