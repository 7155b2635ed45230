"""Plain versus strengthened planning ILP: LP bounds, their ratio, and ILP runs.

Writes ``<out>.json``, ``<out>.md`` and ``<out>.png`` (bar chart of strong-LP / plain-LP).
Bounds are in the instance's cost units; times are wall seconds (HiGHS, one thread).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from qnet_envs.planning import Instance, solve_ilp, solve_lp_bound

CUT_FAMILIES = ("demand", "path")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--instances", nargs="+", default=["abilene", "cogentco", "kdl", "waxman850"]
    )
    parser.add_argument("--time-limit", type=float, default=120.0, help="ILP limit (s)")
    parser.add_argument(
        "--matrix", type=int, default=None, help="traffic matrix (default: the instance's)"
    )
    parser.add_argument("--cuts", nargs="+", default=list(CUT_FAMILIES), choices=CUT_FAMILIES)
    parser.add_argument("--skip-ilp", nargs="*", default=[], help="instances without ILP runs")
    parser.add_argument("--out", default="docs/planning-strong-ilp")
    return parser.parse_args(argv)


def _ilp_row(result) -> dict:
    return {
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "time_s": result.time_s,
        "feasible": bool(result.evaluation.feasible) if result.evaluation is not None else None,
    }


def run(name: str, args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    instance = Instance.load(name)
    if args.matrix is not None:
        instance = instance.with_matrix(args.matrix)
    _ = instance.paths
    row: dict = {"matrix": instance.matrix_index, "load_s": time.perf_counter() - started}
    plain = solve_lp_bound(instance, time_limit=600)
    row["lp"] = {
        "plain": {"bound": plain.objective, "time_s": plain.time_s, "status": plain.status}
    }
    for cuts in args.cuts:
        strong = solve_lp_bound(instance, time_limit=600, strengthen=True, cuts=cuts)
        row["lp"][cuts] = {
            "bound": strong.objective,
            "time_s": strong.time_s,
            "status": strong.status,
            "ratio": strong.objective / plain.objective,
        }
        print(f"{name}: LP {cuts} {strong.objective:.6g} / plain {plain.objective:.6g}", flush=True)
    if name not in args.skip_ilp:
        row["ilp"] = {
            "plain": _ilp_row(solve_ilp(instance, time_limit=args.time_limit)),
            "strong": _ilp_row(solve_ilp(instance, time_limit=args.time_limit, strengthen=True)),
        }
        print(f"{name}: ILP {row['ilp']}", flush=True)
    return row


def write(results: dict, args: argparse.Namespace, command: str) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Strengthened planning ILP: bounds",
        "",
        f"Command: `{command}`",
        "",
        "| instance | matrix | plain LP | "
        + " | ".join(f"{c} LP | ratio" for c in args.cuts)
        + " | LP times (s) |",
        "|---" * (4 + 2 * len(args.cuts)) + "|",
    ]
    for name, row in results.items():
        lp = row["lp"]
        cells = [f"{lp[c]['bound']:.6g} | {lp[c]['ratio']:.3f}" for c in args.cuts]
        times = ", ".join(f"{k} {v['time_s']:.1f}" for k, v in lp.items())
        lines.append(
            f"| {name} | {row['matrix']} | {lp['plain']['bound']:.6g} | "
            + " | ".join(cells)
            + f" | {times} |"
        )
    lines += ["", f"ILP runs (time limit {args.time_limit:g} s, strengthened = demand cuts):", ""]
    lines += ["| instance | model | status | objective | best bound | gap | time (s) | feasible |"]
    lines += ["|---|---|---|---|---|---|---|---|"]
    for name, row in results.items():
        for model, r in row.get("ilp", {}).items():
            lines.append(
                f"| {name} | {model} | {r['status']} | {r['objective']:.6g} | {r['bound']:.6g} | "
                f"{r['gap']:.4f} | {r['time_s']:.1f} | {r['feasible']} |"
            )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = list(results)
    width = 0.8 / len(args.cuts)
    for k, cuts in enumerate(args.cuts):
        ratios = [results[n]["lp"][cuts]["ratio"] for n in names]
        ax.bar([i + k * width for i in range(len(names))], ratios, width, label=f"{cuts} cuts")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks([i + width * (len(args.cuts) - 1) / 2 for i in range(len(names))], names)
    ax.set_ylabel("strengthened LP bound / plain LP bound")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=120)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    command = "python scripts/bench_planning_ilp.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    results = {}
    for name in args.instances:
        results[name] = run(name, args)
        write(results, args, command)


if __name__ == "__main__":
    main()
