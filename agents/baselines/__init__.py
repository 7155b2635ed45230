"""Baselines of the swap-routing game: the exact oracle, Dijkstra, and the Monte Carlo player.

``oracle`` (the best admissible walk, exactly), ``dijkstra`` (shortest path on ``-log F``, the
paper's additive assumption) and ``monte_carlo`` (the random player, uniform over the slots or
masked to the valid ones, and its exact expected cost). Pure numpy on top of
``qnet_envs.routing.core``; see ``docs/baselines.md``.
"""

from agents.baselines.qvpn import qvpn_optimum, shortest_path_selection, widest_selection

__all__ = ["qvpn_optimum", "shortest_path_selection", "widest_selection"]
