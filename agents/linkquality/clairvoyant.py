"""The clairvoyant router: the most probable path on the *true* link values, solved exactly.

For the current request it maximises the probability that the request is served,
``prod_l s_l * [F_end >= threshold]`` with ``s_l = 1 - (1 - p_l)^B`` (true ``p``, budget ``B``),
as a MILP on HiGHS (``qnet_envs.solvers``): binary arcs ``x_a`` (each link in both
directions), flow conservation from source to target, at most one arc leaving each node (the
paper's Eq. 3), minimise ``sum_a -log(s_a) x_a`` subject to ``sum_a -log(w_a) x_a <= -log(w_thr)``,
where ``w = (4F - 1) / 3`` is the Werner parameter: swapping Werner links multiplies their
``w`` (the physics core's swap; ``tests/linkquality`` checks ``core.chain_fidelity`` against
this product), so the constraint is exactly ``F_end >= threshold``. Links with ``s_l`` below
``1e-12`` are removed. When no path meets the threshold, every path has probability 0 and the
router takes the most probable path ignoring fidelity.

Because the link processes do not depend on routing, maximising each request's probability
maximises the expected served fraction of the episode: no router that sees only measurements
(or even the true values) can expect more. Its realised rate is a sample of that bound, and
its latency is not a bound. Solver statuses and gaps are kept in :attr:`ClairvoyantRouter.log`.
"""

from __future__ import annotations

import numpy as np

from qnet_envs.linkquality import core
from qnet_envs.solvers import from_coo, solve

MIN_LINK_SUCCESS = 1e-12


class ClairvoyantRouter:
    """Exact most-probable feasible path on the true ``(p, F)`` at each request."""

    name = "clairvoyant"

    def __init__(self, time_limit: float = 10.0, mip_rel_gap: float = 1e-6) -> None:
        self.time_limit = time_limit
        self.mip_rel_gap = mip_rel_gap
        self.log: list[tuple[str, float]] = []  # (status, gap) per solved MILP
        self._structure: dict[int, tuple[np.ndarray, ...]] = {}

    def _arcs(self, network: core.Network) -> tuple[np.ndarray, ...]:
        key = id(network)
        if key not in self._structure:
            tails = np.concatenate([network.edges[:, 0], network.edges[:, 1]])
            heads = np.concatenate([network.edges[:, 1], network.edges[:, 0]])
            self._structure = {key: (tails, heads)}
        return self._structure[key]

    def __call__(self, sim: core.Simulation) -> list[int]:
        p, f = sim.truth()
        return self.best_path(sim.network, sim.request, p, f)

    def best_path(
        self, network: core.Network, request: core.Request, p: np.ndarray, f: np.ndarray
    ) -> list[int]:
        """Link indices of the most probable path meeting the threshold under per-link ``p``
        and ``F`` (shape (E,) each); the most probable path if none meets it."""
        budget = network.scenario.requests.max_attempts
        success = core.success_within_budget(p, budget)
        tails, heads = self._arcs(network)
        e, n = network.num_edges, network.num_nodes
        link = np.concatenate([np.arange(e), np.arange(e)])
        usable = success[link] >= MIN_LINK_SUCCESS
        usable &= (heads != request.source) & (tails != request.target)
        cost = -np.log(np.maximum(success[link], MIN_LINK_SUCCESS))
        w = np.maximum((4.0 * f[link] - 1.0) / 3.0, 1e-300)
        fidelity_cost = -np.log(w)
        w_threshold = (4.0 * request.threshold - 1.0) / 3.0
        arcs = np.arange(2 * e)
        rows = np.concatenate([tails, heads, n + tails, np.full(2 * e, 2 * n)])
        cols = np.concatenate([arcs, arcs, arcs, arcs])
        values = np.concatenate([np.ones(2 * e), -np.ones(2 * e), np.ones(2 * e), fidelity_cost])
        balance = np.zeros(n)
        balance[request.source], balance[request.target] = 1.0, -1.0
        upper_fidelity = -np.log(w_threshold) - 1e-9 if w_threshold > 0 else np.inf
        row_lower = np.concatenate([balance, np.full(n, -np.inf), [-np.inf]])
        row_upper = np.concatenate([balance, np.ones(n), [upper_fidelity]])
        lp = from_coo(
            cost,
            rows,
            cols,
            values,
            n_rows=2 * n + 1,
            row_lower=row_lower,
            row_upper=row_upper,
            col_lower=0.0,
            col_upper=usable.astype(np.float64),
            integrality=np.ones(2 * e, dtype=bool),
        )
        result = solve(lp, time_limit=self.time_limit, mip_rel_gap=self.mip_rel_gap)
        self.log.append((result.status, float(result.gap)))
        if result.x is None:
            fallback = network.finder.k_shortest(
                request.source,
                request.target,
                1,
                np.where(success > 0, -np.log(np.maximum(success, MIN_LINK_SUCCESS)), 1e3),
            )[0]
            return network.path_edges(fallback)
        chosen = result.x > 0.5
        step = {
            int(t): (int(h), int(a))
            for t, h, a in zip(tails[chosen], heads[chosen], arcs[chosen], strict=True)
        }
        node, path = request.source, []
        while node != request.target:
            node, arc = step[node]
            path.append(int(link[arc]))
        return path
