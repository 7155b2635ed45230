"""Node coordinates: geographic (latitude, longitude in degrees) or planar (x, y in km).

Each coordinate system knows how to validate a raw pair, measure a distance in km, and average
points (for placing nodes whose coordinates are missing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

EARTH_RADIUS_KM = 6371.0
CoordinateSystem = Literal["geographic", "planar"]
Point = tuple[float, float]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees (radius 6371.0 km)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def as_float(value: object) -> float | None:
    """``float(value)`` if it is a finite real number (bools excluded), else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Geometry:
    """Operations of one coordinate system on points ``(a, b)``."""

    system: CoordinateSystem

    def validate(self, raw: tuple[object, object] | None) -> Point | None:
        """The point as floats, or ``None`` if missing or invalid (geographic: in range)."""
        if raw is None:
            return None
        a, b = as_float(raw[0]), as_float(raw[1])
        if a is None or b is None:
            return None
        if self.system == "geographic" and not (-90.0 <= a <= 90.0 and -180.0 <= b <= 180.0):
            return None
        return a, b

    def distance_km(self, p: Point, q: Point) -> float:
        """Great-circle (geographic) or Euclidean (planar) distance in km."""
        if self.system == "geographic":
            return haversine_km(*p, *q)
        return math.dist(p, q)

    def node_attributes(self, p: Point) -> dict[str, object]:
        """Node attributes for a located node; ``pos`` is always ``(horizontal, vertical)``."""
        if self.system == "geographic":
            return {"latitude": p[0], "longitude": p[1], "pos": (p[1], p[0])}
        return {"pos": p}

    def _embed(self, p: Point) -> np.ndarray:
        if self.system == "planar":
            return np.array(p, dtype=float)
        phi, lam = math.radians(p[0]), math.radians(p[1])
        return np.array(
            [math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)]
        )

    def _project(self, vector: np.ndarray) -> Point | None:
        if self.system == "planar":
            return float(vector[0]), float(vector[1])
        norm = float(np.linalg.norm(vector))
        if norm < 1e-9:  # antipodal neighbours: no meaningful mean
            return None
        x, y, z = vector / norm
        return math.degrees(math.asin(max(-1.0, min(1.0, z)))), math.degrees(math.atan2(y, x))

    def interpolate(
        self, adjacency: Mapping[int, list[int]], located: Mapping[int, Point], unlocated: list[int]
    ) -> dict[int, Point]:
        """Harmonic interpolation: every unlocated node at the mean of its neighbours.

        Solves ``deg(u) x_u - sum_{w unlocated} x_w = sum_{w located} x_w`` at once for the
        unlocated nodes connected (through unlocated nodes) to a located one; geographic points
        are averaged as 3-D unit vectors and projected back onto the sphere. Nodes that cannot be
        placed are left out of the result.
        """
        reachable: set[int] = set()
        frontier = [u for u in unlocated if any(w in located for w in adjacency[u])]
        reachable.update(frontier)
        while frontier:
            next_frontier = []
            for u in frontier:
                for w in adjacency[u]:
                    if w not in located and w not in reachable:
                        reachable.add(w)
                        next_frontier.append(w)
            frontier = next_frontier
        order = [u for u in unlocated if u in reachable]
        if not order:
            return {}
        index = {u: i for i, u in enumerate(order)}
        dimension = 2 if self.system == "planar" else 3
        laplacian = np.zeros((len(order), len(order)))
        rhs = np.zeros((len(order), dimension))
        for u in order:
            i = index[u]
            laplacian[i, i] = len(adjacency[u])
            for w in adjacency[u]:
                if w in located:
                    rhs[i] += self._embed(located[w])
                else:
                    laplacian[i, index[w]] -= 1.0
        solution = np.linalg.solve(laplacian, rhs)
        placed = {u: self._project(solution[index[u]]) for u in order}
        return {u: p for u, p in placed.items() if p is not None}


GEOGRAPHIC = Geometry("geographic")
PLANAR = Geometry("planar")
