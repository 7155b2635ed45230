"""Generic LP/MILP layer on HiGHS (``highspy``), shared by the families that need a solver.

``highspy`` is imported only when a model is solved, so importing this package stays light.
See :mod:`qnet_envs.solvers.highs` for the status mapping.
"""

from qnet_envs.solvers.highs import (
    LIMIT_STATUSES,
    STATUS_MAP,
    LinearProgram,
    SolveResult,
    from_coo,
    solve,
)

__all__ = ["LIMIT_STATUSES", "STATUS_MAP", "LinearProgram", "SolveResult", "from_coo", "solve"]
