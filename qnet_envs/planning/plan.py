"""A network plan, its evaluation against QPLAN eq. 1-4, and its plain-JSON form.

A :class:`Plan` is ``x`` (pairs/s of link capacity on each candidate path, in the order of
``instance.paths``) and ``y`` (fibres on each edge, in ``instance.edges`` order).
:func:`evaluate` recomputes everything from the instance and the plan:

- cost (eq. 1): ``capacity = sum_e load_e cost_e`` with ``load_e = sum_{p in P(e)} x_p``, and
  ``fiber = sum_e y_e cost_f L_e``; ``total`` is their sum;
- delivered rate of demand ``d``: ``sum_{p in P_d, usable} x_p / g_p`` (eq. 2 after the
  fidelity-equivalent scaling); satisfied fraction ``min(1, delivered / D_d)`` (1 when
  ``D_d = 0``), overall ``sum_d min(delivered_d, D_d) / sum_d D_d``;
- violations, each a :class:`Violation`: ``"demand"`` (eq. 2, amount ``D_d - delivered``,
  pairs/s), ``"capacity"`` (eq. 3, ``load_e - y_e C_e``), ``"fidelity"`` (eq. 4: flow on a path
  no distillation can lift, amount ``x_p``), ``"negative_flow"``, ``"negative_fibres"``,
  ``"fractional_fibres"`` (``y_e`` not an integer). A constraint counts as violated when it
  misses by more than ``tolerance`` (relative: ``1e-6`` of the right-hand side, at least
  ``1e-9``).

JSON (``format = "qnet_envs-plan/1"``): the instance's name and planned matrix, every path by
its node sequence with ``x``, every edge by its end points with ``y``, and the evaluation as
written. :func:`plan_from_json` maps the node sequences back onto the instance's candidate paths
(a path that is not a candidate is an error), so a plan can be re-checked from its file alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.planning.problem import Instance

FloatArray = NDArray[np.float64]
PLAN_FORMAT = "qnet_envs-plan/1"
DEFAULT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Plan:
    """Path flows ``x`` ``(n_paths,)`` (pairs/s of link capacity), fibres ``y`` ``(n_edges,)``."""

    x: FloatArray
    y: FloatArray

    def __post_init__(self) -> None:
        x = np.array(self.x, dtype=np.float64).reshape(-1)
        y = np.array(self.y, dtype=np.float64).reshape(-1)
        for name, value in (("x", x), ("y", y)):
            if not np.all(np.isfinite(value)):
                raise ValueError(f"plan.{name}: not finite (allowed: finite numbers)")
            value.setflags(write=False)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @classmethod
    def from_flows(cls, instance: Instance, x: ArrayLike) -> Plan:
        """The plan with flows ``x`` and the fewest fibres that carry them: ``ceil(load / C_e)``."""
        flows = np.asarray(x, dtype=np.float64)
        return cls(x=flows, y=fibres_for(instance, edge_loads(instance, flows)))


@dataclass(frozen=True)
class Violation:
    """One violated constraint: ``kind``, the demand / edge / path ``index``, and by how much."""

    kind: str
    index: int
    amount: float


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` finds (costs in cost units, rates in pairs/s)."""

    capacity_cost: float
    fiber_cost: float
    total_cost: float
    load: FloatArray  # (n_edges,) pairs/s of link capacity
    delivered: FloatArray  # (n_demands,) usable end-to-end pairs/s
    satisfied: FloatArray  # (n_demands,) in [0, 1]
    satisfied_overall: float
    violations: tuple[Violation, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    def count(self, kind: str) -> int:
        return sum(1 for v in self.violations if v.kind == kind)

    def summary(self) -> dict[str, Any]:
        kinds = sorted({v.kind for v in self.violations})
        return {
            "capacity_cost": self.capacity_cost,
            "fiber_cost": self.fiber_cost,
            "total_cost": self.total_cost,
            "satisfied_overall": self.satisfied_overall,
            "feasible": self.feasible,
            "violations": {k: self.count(k) for k in kinds},
        }


def edge_loads(instance: Instance, x: ArrayLike) -> FloatArray:
    """``(n_edges,)`` ``load_e = sum_{p in P(e)} x_p``."""
    paths = instance.paths
    flows = np.asarray(x, dtype=np.float64)
    return np.bincount(paths.edge_index, weights=flows[paths.edge_path], minlength=instance.n_edges)


def fibres_for(instance: Instance, load: ArrayLike) -> FloatArray:
    """Fewest fibres carrying ``load``: ``ceil(load / C_e)``, rounding loads within 1e-9 of a
    multiple of ``C_e`` down."""
    ratio = np.asarray(load, dtype=np.float64) / instance.edges.fiber_capacity
    return np.maximum(np.ceil(ratio - 1e-9), 0.0)


def evaluate(instance: Instance, plan: Plan, tolerance: float = DEFAULT_TOLERANCE) -> Evaluation:
    """Cost, delivered rate, satisfied demand and every violation of ``plan`` (module docstring)."""
    paths, edges = instance.paths, instance.edges
    if plan.x.shape != (paths.n_paths,):
        raise ValueError(
            f"plan.x: got shape {plan.x.shape} (allowed: ({paths.n_paths},), one per candidate "
            "path)"
        )
    if plan.y.shape != (edges.n_edges,):
        raise ValueError(
            f"plan.y: got shape {plan.y.shape} (allowed: ({edges.n_edges},), one per edge)"
        )
    x, y = plan.x, plan.y
    load = edge_loads(instance, x)
    capacity_cost = float(load @ edges.capacity_cost)
    fiber_cost = float(y @ edges.fiber_cost)
    usable = paths.usable
    per_path = np.where(usable, x / np.where(usable, paths.g, 1.0), 0.0)
    delivered = np.bincount(paths.demand, weights=per_path, minlength=instance.n_demands)
    demand = instance.demand
    satisfied = np.where(
        demand > 0, np.minimum(1.0, delivered / np.where(demand > 0, demand, 1)), 1
    )
    total = float(demand.sum())
    overall = float(np.minimum(delivered, demand).sum() / total) if total > 0 else 1.0
    violations: list[Violation] = []

    def slack(rhs: FloatArray) -> FloatArray:
        return np.maximum(tolerance * np.abs(rhs), 1e-9)

    short = demand - delivered
    for d in np.flatnonzero(short > slack(demand)).tolist():
        violations.append(Violation("demand", d, float(short[d])))
    over = load - y * edges.fiber_capacity
    for e in np.flatnonzero(over > slack(y * edges.fiber_capacity)).tolist():
        violations.append(Violation("capacity", e, float(over[e])))
    for p in np.flatnonzero(~usable & (x > 1e-9)).tolist():
        violations.append(Violation("fidelity", p, float(x[p])))
    for p in np.flatnonzero(x < -1e-9).tolist():
        violations.append(Violation("negative_flow", p, float(-x[p])))
    for e in np.flatnonzero(y < -1e-9).tolist():
        violations.append(Violation("negative_fibres", e, float(-y[e])))
    fraction = np.abs(y - np.round(y))
    for e in np.flatnonzero(fraction > 1e-6).tolist():
        violations.append(Violation("fractional_fibres", e, float(fraction[e])))
    return Evaluation(
        capacity_cost=capacity_cost,
        fiber_cost=fiber_cost,
        total_cost=capacity_cost + fiber_cost,
        load=load,
        delivered=delivered,
        satisfied=satisfied,
        satisfied_overall=overall,
        violations=tuple(violations),
    )


def plan_to_json(instance: Instance, plan: Plan, method: str = "", **extra: Any) -> str:
    """The plan as JSON text (module docstring); ``extra`` keys are stored under ``"meta"``."""
    paths, edges = instance.paths, instance.edges
    result = evaluate(instance, plan)
    doc = {
        "format": PLAN_FORMAT,
        "instance": instance.name,
        "matrix": instance.matrix_index,
        "method": method,
        "paths": [
            {"demand": int(paths.demand[p]), "nodes": list(paths.nodes[p]), "x": float(plan.x[p])}
            for p in range(paths.n_paths)
            if plan.x[p] != 0.0
        ],
        "edges": [
            {"u": int(edges.u[e]), "v": int(edges.v[e]), "y": float(plan.y[e])}
            for e in range(edges.n_edges)
            if plan.y[e] != 0.0
        ],
        "evaluation": result.summary(),
        "meta": extra,
    }
    return json.dumps(doc, indent=1)


def plan_from_json(instance: Instance, text: str) -> Plan:
    """Read a plan written by :func:`plan_to_json` onto ``instance``'s paths and edges.

    Raises:
        ValueError: wrong format, or a path / edge / demand the instance does not have.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"plan: not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise ValueError(f"plan.format: got {doc.get('format')!r} (allowed: {PLAN_FORMAT!r})")
    paths, edges = instance.paths, instance.edges
    by_nodes = {(int(paths.demand[p]), paths.nodes[p]): p for p in range(paths.n_paths)}
    x = np.zeros(paths.n_paths)
    for i, row in enumerate(doc.get("paths", [])):
        key = (int(row["demand"]), tuple(int(n) for n in row["nodes"]))
        if key not in by_nodes:
            raise ValueError(
                f"plan.paths[{i}]: demand {key[0]} path {list(key[1])} is not a candidate path "
                f"of instance {instance.name!r} (allowed: its candidate paths)"
            )
        x[by_nodes[key]] = float(row["x"])
    index = edges.index()
    y = np.zeros(edges.n_edges)
    for i, row in enumerate(doc.get("edges", [])):
        key = (int(row["u"]), int(row["v"]))
        if key not in index:
            raise ValueError(
                f"plan.edges[{i}]: ({key[0]}, {key[1]}) is not an edge of {instance.name!r} "
                "(allowed: its edges)"
            )
        y[index[key]] = float(row["y"])
    return Plan(x=x, y=y)


def load_plan(path: str | Path) -> tuple[Instance, Plan]:
    """Re-check entry point: the instance named in the file (shipped name or path) and its plan."""
    text = Path(path).read_text(encoding="utf-8")
    doc = json.loads(text)
    instance = Instance.load(doc["instance"]).with_matrix(int(doc["matrix"]))
    return instance, plan_from_json(instance, text)
