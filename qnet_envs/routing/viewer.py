"""Headless matplotlib drawing of a routing scenario and the route played so far."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import singlet_fidelity
from qnet_envs.routing.scenario import Scenario

#: Links whose own singlet fidelity is below this are drawn as damaged.
DAMAGED_BELOW = 0.95


def layout(scenario: Scenario) -> NDArray[np.float64]:
    """Node coordinates, shape (num_nodes, 2): the scenario's, or a seeded spring layout."""
    if scenario.positions is not None:
        return scenario.positions
    import networkx as nx

    graph = nx.MultiGraph()
    graph.add_nodes_from(range(scenario.num_nodes))
    graph.add_edges_from(map(tuple, scenario.edges.tolist()))
    pos = nx.spring_layout(graph, seed=0)
    return np.array([pos[i] for i in range(scenario.num_nodes)])


class RouteViewer:
    """Draws the network (links coloured by fidelity, damaged ones red), Alice, Bob and the route.

    Uses matplotlib's Agg canvas only, so it works without a display.
    """

    def __init__(self, scenario: Scenario, size_inches: tuple[float, float] = (6.0, 5.0)) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._figure = Figure(figsize=size_inches, dpi=100)
        self._canvas = FigureCanvasAgg(self._figure)
        self._axes = self._figure.add_subplot()
        self._positions = layout(scenario)

    def draw(self, scenario: Scenario, route: Sequence[int], node: int) -> NDArray[np.uint8]:
        """Render to an RGB array of shape (height, width, 3)."""
        ax, pos = self._axes, self._positions
        ax.clear()
        ax.set_axis_off()
        link_fidelity = singlet_fidelity(scenario.states)
        for e, (u, v) in enumerate(scenario.edges.tolist()):
            damaged = link_fidelity[e] < DAMAGED_BELOW
            ax.plot(
                *pos[[u, v]].T,
                color="tab:red" if damaged else "0.6",
                linewidth=1.0,
                linestyle="--" if damaged else "-",
                zorder=1,
            )
        walk = [scenario.alice]
        for e in route:
            u, v = scenario.edges[e]
            walk.append(int(v) if walk[-1] == u else int(u))
        if len(walk) > 1:
            ax.plot(*pos[walk].T, color="tab:orange", linewidth=3.5, alpha=0.8, zorder=2)
        ax.scatter(*pos.T, s=30, color="0.3", zorder=3)
        for who, colour in ((scenario.alice, "tab:green"), (scenario.bob, "tab:blue")):
            ax.scatter(*pos[who], s=160, color=colour, zorder=4)
        ax.scatter(*pos[node], s=70, color="tab:orange", edgecolors="black", zorder=5)
        ax.set_title(f"{scenario.name}: {len(route)} links used")
        self._canvas.draw()
        return np.asarray(self._canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        self._figure.clear()
