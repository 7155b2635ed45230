"""Headless matplotlib drawing of a qVPN network and the link utilisation of the last round."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qnet_envs.qvpn import core
from qnet_envs.qvpn.network import Network


def _positions(network: Network) -> NDArray[np.float64]:
    """Seeded spring layout of the trunk graph (original nodes), shape (n_original, 2)."""
    import networkx as nx

    graph = network.trunk_graph()
    pos = nx.spring_layout(graph, seed=0, weight=None)
    return np.array([pos[i] for i in range(network.n_original)])


def draw(layout: core.Layout, played: core.Round | None) -> NDArray[np.uint8]:
    """RGB array ``(height, width, 3)``: trunks coloured by the largest utilisation (use /
    capacity) of their physical links in the last round (grey before the first round), end
    points of pairs in orange. Uses matplotlib's Agg canvas only (no display needed)."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    network = layout.instance.network
    pos = _positions(network)
    figure = Figure(figsize=(6.0, 5.0), dpi=100)
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_axis_off()
    cmap = colormaps["viridis"]
    utilisation = None if played is None else played.lp.link_use / network.capacity
    for t, (a, b) in enumerate(network.trunk_nodes):
        chain = np.asarray(network.trunk_links[t])
        if utilisation is None:
            colour, width = "0.6", 1.0
        else:
            level = float(np.clip(utilisation[chain].max(), 0.0, 1.0))
            colour, width = cmap(level), 1.0 + 3.0 * level
        ax.plot(*pos[[a, b]].T, color=colour, linewidth=width, zorder=1)
    ends = np.unique(np.concatenate([layout.instance.pair_src, layout.instance.pair_dst]))
    ax.scatter(*pos.T, s=18, color="0.3", zorder=2)
    ax.scatter(*pos[ends].T, s=40, color="tab:orange", zorder=3)
    if played is None:
        title = f"{layout.instance.name}: no round played"
    else:
        title = f"{layout.instance.name}: {played.lp.status}, W-EGR {played.lp.w_egr:.4g} pairs/s"
    ax.set_title(title)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    figure.clear()
    return image
