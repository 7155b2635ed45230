"""Plan a network with any method; print cost, time, satisfied demand and violations, and
write the plan's JSON (re-checkable with ``qnet_envs.planning.load_plan``).

Methods: ``greedy`` (each demand on its cheapest usable path, fibres ``ceil(load / C)``),
``ilp`` (HiGHS on the full ILP, ``--time-limit`` seconds), ``ilp-greedy`` (the ILP
warm-started from Greedy's plan), ``first-stage`` (the trained policy of ``--checkpoint``, or
without one the fixed-rule stand-in ``agents.baselines.planning.spread_levels``, played as
``planning_v0`` plays it, fibres ``ceil(load / C)``) and ``qplan`` (the ILP under caps
``--alpha`` times the first stage's flows, warm-started from it;
``qnet_envs.planning.qplan.solve_qplan``). Every run also prints the LP-relaxation bound and
each plan's gap to it. Instance loading (Yen paths) is timed apart from the method; QPLAN's
time includes its first stage.

Usage::

    python scripts/plan.py abilene --method greedy ilp --out runs/plans
    python scripts/plan.py scenarios/planning/tiny.toml --method ilp --time-limit 10
    python scripts/plan.py cogentco --method ilp ilp-greedy --time-limit 120 --json runs/ilp.json
    python scripts/plan.py abilene --method first-stage qplan --alpha 1.25 --checkpoint ckpt.pt
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from agents.baselines.planning import greedy_plan, spread_levels
from qnet_envs.planning import Instance, evaluate, plan_to_json, relaxation_bound, solve_ilp
from qnet_envs.planning.plan import Plan
from qnet_envs.planning.qplan import DEFAULT_ALPHA, first_stage_plan, solve_qplan

METHODS = ("greedy", "ilp", "ilp-greedy", "first-stage", "qplan")


def first_stage(instance: Instance, checkpoint: str | None) -> tuple[Plan, float]:
    """The First-stage plan (policy of ``checkpoint``, else the stand-in) and its seconds."""
    if checkpoint is None:
        started = time.perf_counter()
        levels, resolution = spread_levels(instance, 4), 4
    else:
        import torch

        from agents.planning.first_stage import first_stage_levels

        torch.set_num_threads(1)
        started = time.perf_counter()  # importing torch is paid once per process: not timed
        levels, resolution = first_stage_levels(instance, checkpoint)
    plan = first_stage_plan(instance, levels, int(resolution))
    return plan, time.perf_counter() - started


def run(
    instance: Instance,
    method: str,
    time_limit: float,
    checkpoint: str | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> dict:
    """One method on ``instance``: its plan's JSON text and the numbers printed."""
    if method == "greedy":
        plan, seconds = greedy_plan(instance)
        row = {"status": "heuristic", "objective": evaluate(instance, plan).total_cost}
        row.update(best_bound=None, gap=None)
    elif method == "first-stage":
        plan, seconds = first_stage(instance, checkpoint)
        row = {"status": "heuristic", "objective": evaluate(instance, plan).total_cost}
        row.update(best_bound=None, gap=None)
    elif method == "qplan":
        start, first_s = first_stage(instance, checkpoint)
        result = solve_qplan(instance, start, alpha, time_limit=time_limit)
        plan, seconds = result.plan, first_s + result.time_s
        row = {"status": result.status, "objective": result.objective}
        # the bound and gap of the capped (restricted) problem: not a bound on the optimum
        row.update(best_bound=result.bound, gap=result.gap, alpha=alpha)
        row.update(uncapped_demands=result.info["uncapped_demands"])
    else:
        start = greedy_plan(instance)[0] if method == "ilp-greedy" else None
        result = solve_ilp(instance, time_limit=time_limit, warm_start=start)
        plan, seconds = result.plan, result.time_s
        row = {"status": result.status, "objective": result.objective}
        row.update(best_bound=result.bound, gap=result.gap)
    row.update(method=method, time_s=seconds)
    if plan is None:
        row.update(satisfied=None, violations=None, plan_json=None)
        return row
    evaluation = evaluate(instance, plan)
    row.update(
        total_cost=evaluation.total_cost,
        capacity_cost=evaluation.capacity_cost,
        fiber_cost=evaluation.fiber_cost,
        satisfied=evaluation.satisfied_overall,
        violations=evaluation.summary()["violations"],
        plan_json=plan_to_json(instance, plan, method=method, time_s=seconds),
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("instance", help="a shipped name (abilene, cogentco, ...) or a TOML path")
    parser.add_argument("--method", nargs="+", choices=METHODS, default=["greedy", "ilp"])
    parser.add_argument("--time-limit", type=float, default=60.0, help="ILP seconds")
    parser.add_argument("--checkpoint", default=None, help="first-stage policy (default: stand-in)")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="QPLAN scale factor")
    parser.add_argument("--matrix", type=int, default=None, help="traffic matrix index")
    parser.add_argument("--out", type=Path, default=None, help="folder for <name>-<method>.json")
    parser.add_argument("--json", type=Path, default=None, help="write the summary rows here")
    args = parser.parse_args()
    started = time.perf_counter()
    instance = Instance.load(args.instance)
    if args.matrix is not None:
        instance = instance.with_matrix(args.matrix)
    _ = instance.paths
    load_s = time.perf_counter() - started
    bound = relaxation_bound(instance)
    print(
        f"{instance.name}: {instance.n_nodes} nodes, {instance.n_edges} edges, "
        f"{instance.n_demands} demands, {instance.paths.n_paths} candidate paths "
        f"(loaded in {load_s:.1f} s); matrix {instance.matrix_index}; LP bound {bound:,.2f}"
    )
    print(
        "| method | status | cost | gap to LP bound | solver gap | time (s) | satisfied |", end=""
    )
    print(" violations |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    rows = []
    for method in args.method:
        row = run(instance, method, args.time_limit, args.checkpoint, args.alpha)
        cost = row.get("total_cost")
        text = "-" if cost is None else f"{cost:,.2f}"
        to_bound = "-" if cost is None else f"{(cost - bound) / bound:.3%}"
        gap = "-" if row["gap"] is None else f"{row['gap']:.3%}"
        sat = "-" if row["satisfied"] is None else f"{row['satisfied']:.4f}"
        print(
            f"| {method} | {row['status']} | {text} | {to_bound} | {gap} | {row['time_s']:.2f} "
            f"| {sat} | {row['violations'] or 'none'} |"
        )
        if args.out is not None and row["plan_json"] is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"{instance.name}-{method}.json"
            path.write_text(row["plan_json"])
            print(f"  wrote {path}")
        row["lp_bound"] = bound
        row["load_s"] = load_s
        row["instance"] = instance.name
        rows.append({k: v for k, v in row.items() if k != "plan_json"})
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
