"""Headless matplotlib drawing of a link-quality network: estimated quality, the last path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnet_envs.linkquality.core import Network, Simulation


class LinkQualityViewer:
    """Links coloured by estimated ``p`` (failed links dashed red), the request's endpoints and
    the last path played (orange). Agg canvas only, so it works without a display."""

    def __init__(self, network: Network, size_inches: tuple[float, float] = (6.0, 5.0)) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._network = network
        self._figure = Figure(figsize=size_inches, dpi=100)
        self._canvas = FigureCanvasAgg(self._figure)
        self._axes = self._figure.add_subplot()

    def draw(
        self, estimate: NDArray[np.float64] | None, path: Sequence[int], sim: Simulation | None
    ) -> NDArray[np.uint8]:
        """Render to an RGB array of shape (height, width, 3)."""
        from matplotlib import colormaps

        net, ax = self._network, self._axes
        pos = net.positions
        ax.clear()
        ax.set_axis_off()
        cmap: Any = colormaps["viridis"]
        p_hat = np.zeros(net.num_edges) if estimate is None else estimate[:, 0]
        scale = max(float(p_hat.max()), 1e-9)
        down = sim.world.down_left > 0 if sim is not None else np.zeros(net.num_edges, bool)
        for e, (u, v) in enumerate(net.edges.tolist()):
            style = (
                {"color": "tab:red", "linestyle": "--"}
                if down[e]
                else {"color": cmap(p_hat[e] / scale)}
            )
            ax.plot(*pos[[u, v]].T, linewidth=1.2, zorder=1, **style)
        for e in path:
            u, v = net.edges[e]
            ax.plot(*pos[[u, v]].T, color="tab:orange", linewidth=3.5, alpha=0.8, zorder=2)
        ax.scatter(*pos.T, s=12, color="0.3", zorder=3)
        if sim is not None:
            for node, colour in (
                (sim.request.source, "tab:green"),
                (sim.request.target, "tab:blue"),
            ):
                ax.scatter(*pos[node], s=90, color=colour, zorder=4)
        slot = sim.index if sim is not None else 0
        ax.set_title(f"{net.scenario.name}: request {slot}")
        self._canvas.draw()
        return np.asarray(self._canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        self._figure.clear()
