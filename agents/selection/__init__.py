"""Path-version selection for the qVPN family: the problem contract, a fitness memo, REINFORCE.

``problem`` (:class:`SelectionProblem`, the contract with the LP, and the canonical form of a
selection), ``cache`` (the fitness memo), ``reinforce`` (the paper's gradient-based scheme,
torch) and ``synthetic`` (a seeded LP-coupled toy problem for tests and benchmarks). The genetic
algorithm is :mod:`agents.baselines.genetic`. See ``docs/selection.md``.
"""
