"""Headless matplotlib drawing of the offloading network: nodes by tier, the last step's
placements as lines whose width is the share, queue backlogs as bars."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qnet_envs.offloading import core


def draw(
    layout: core.Layout, state: core.State | None, last: tuple[core.Outcome, core.Placement] | None
) -> NDArray[np.uint8]:
    """An RGB image ``(H, W, 3)`` of the network and the last step."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    m, r = layout.n_mobile, layout.n_remote
    fig = Figure(figsize=(6, 4), dpi=80)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    mobile_xy = np.stack([np.linspace(0, 1, m), np.zeros(m)], axis=1)
    remote_x = np.linspace(0.1, 0.9, r) if r > 1 else np.array([0.5])
    remote_y = np.where(np.arange(r) < layout.scenario.n_edge, 1.0, 2.0)
    if last is not None:
        _, placement = last
        for i in range(m):
            for j in range(r):
                share = placement.remote[i, j]
                if share > 0:
                    ax.plot(
                        [mobile_xy[i, 0], remote_x[j]],
                        [0, remote_y[j]],
                        color="tab:blue",
                        linewidth=0.5 + 3 * share,
                        alpha=0.7,
                    )
            if placement.dropped[i] > 0:
                ax.scatter([mobile_xy[i, 0]], [-0.15], marker="x", color="tab:red")
    ax.scatter(mobile_xy[:, 0], mobile_xy[:, 1], s=60, color="tab:green", label="mobile")
    ax.scatter(
        remote_x, remote_y, s=120, color=np.where(remote_y > 1.5, "tab:purple", "tab:orange")
    )
    if state is not None:
        backlog = state.backlog_s / layout.scenario.step_s
        for j in range(r):
            ax.bar(
                remote_x[j] + 0.03,
                0.3 * min(backlog[m + j], 3.0),
                width=0.02,
                bottom=remote_y[j],
                color="grey",
            )
        ax.set_title(f"step {state.step}")
    ax.set_xlim(-0.1, 1.1)
    ax.set_ylim(-0.3, 2.5)
    ax.set_axis_off()
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    return image
