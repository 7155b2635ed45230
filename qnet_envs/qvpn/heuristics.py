"""Heuristic selections: the paper's hop, 1/EGR and 1/EGR^2 shortest-path baselines, and a
widest-version heuristic the paper does not have.

For weight ``w``, pair ``u`` takes its first ``n_paths`` (default ``instance.max_paths``)
candidate paths in Yen's order under ``w``, each with link-level threshold ``threshold``
(0.992 in the paper). A path whose version at that threshold is unusable (no distillation
reaches ``F_u``) leaves its slot empty (``-1``); a pair left with no version then makes the LP
infeasible, which is how the paper's baselines score 0.

:func:`widest_selection` ranks a pair's *versions* instead of its paths: the ``n_paths``
undominated versions (no other version of the pair has at least its LP coefficient and at most
its ``g`` on every link, :func:`~qnet_envs.qvpn.milp.dominance_representatives`) with the largest
bottleneck capacity ``min_l c_l / g_l``. It needs no search and no LP; it is the yardstick that
shows how much of an optimiser's gain over the paper's baselines comes from choosing the
distillation threshold per path rather than fixing it at 0.992.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qnet_envs.qvpn.milp import dominance_representatives
from qnet_envs.qvpn.paths import PATH_WEIGHTS
from qnet_envs.qvpn.problem import Instance
from qnet_envs.validation import FieldError, show

#: Link-level threshold of the paper's baselines.
BASELINE_THRESHOLD = 0.992


def version_lookup(instance: Instance, pair: int, path: int, threshold: float) -> int:
    """Local index of ``pair``'s version (``path``, ``threshold``), or -1 when unusable."""
    vt = instance.versions
    s, e = vt.pair_offsets[pair], vt.pair_offsets[pair + 1]
    hit = np.flatnonzero((vt.path[s:e] == path) & np.isclose(vt.threshold[s:e], threshold))
    return int(hit[0]) if hit.size else -1


def shortest_path_selection(
    instance: Instance,
    weight: str = "hop",
    *,
    threshold: float | None = None,
    n_paths: int | None = None,
) -> NDArray[np.int64]:
    """The ``(n_pairs, max_paths)`` selection of the shortest-path baseline under ``weight``.

    ``threshold=None`` takes 0.992 (:data:`BASELINE_THRESHOLD`), or the instance's only
    threshold when it has one (Sec. IV-E: end-to-end distillation only).

    Raises:
        ValueError: ``weight`` not among ``instance.path_weights``, ``threshold`` not among
            ``instance.thresholds``, or ``n_paths`` outside ``[1, max_paths]``.
    """
    if weight not in PATH_WEIGHTS or weight not in instance.path_weights:
        raise FieldError(
            "weight",
            f"got {show(weight)}",
            f"one of the instance's path_weights {list(instance.path_weights)}",
        )
    if threshold is None:
        single = len(instance.thresholds) == 1
        threshold = instance.thresholds[0] if single else BASELINE_THRESHOLD
    if not np.any(np.isclose(instance.thresholds, threshold)):
        raise FieldError(
            "threshold",
            f"got {show(threshold)}",
            f"one of the instance's thresholds {list(instance.thresholds)}",
        )
    n_paths = instance.max_paths if n_paths is None else n_paths
    if (
        isinstance(n_paths, bool)
        or not isinstance(n_paths, int)
        or not (1 <= n_paths <= instance.max_paths)
    ):
        raise FieldError(
            "n_paths", f"got {show(n_paths)}", f"an integer in [1, {instance.max_paths}]"
        )
    selection = np.full((instance.n_pairs, instance.max_paths), -1, dtype=np.int64)
    for u in range(instance.n_pairs):
        for slot, path in enumerate(instance.paths.shortest[weight][u][:n_paths]):
            selection[u, slot] = version_lookup(instance, u, path, threshold)
    return selection


def widest_selection(instance: Instance, n_paths: int | None = None) -> NDArray[np.int64]:
    """The ``(n_pairs, max_paths)`` selection of each pair's ``n_paths`` (default
    ``instance.max_paths``) undominated versions with the largest bottleneck capacity (ties:
    the larger LP coefficient, then the lower index); ``-1`` pads pairs with fewer versions.

    Raises:
        ValueError: ``n_paths`` outside ``[1, max_paths]``.
    """
    n_paths = instance.max_paths if n_paths is None else n_paths
    if (
        isinstance(n_paths, bool)
        or not isinstance(n_paths, int)
        or not (1 <= n_paths <= instance.max_paths)
    ):
        raise FieldError(
            "n_paths", f"got {show(n_paths)}", f"an integer in [1, {instance.max_paths}]"
        )
    vt = instance.versions
    kept = dominance_representatives(instance) == np.arange(vt.n_total)
    selection = np.full((instance.n_pairs, instance.max_paths), -1, dtype=np.int64)
    for u in range(instance.n_pairs):
        s, e = int(vt.pair_offsets[u]), int(vt.pair_offsets[u + 1])
        local = np.flatnonzero(kept[s:e])
        order = np.lexsort((local, -vt.coefficient[s + local], -vt.bottleneck_capacity[s + local]))
        chosen = local[order[:n_paths]]
        selection[u, : chosen.size] = chosen
    return selection
