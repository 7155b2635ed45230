"""First-stage plans of a trained planning policy against Greedy on test traffic matrices.

For every instance and every one of its test matrices: the policy's greedy rollout
(``agents.planning.first_stage_levels``), its plan ``Plan.from_flows`` (fibres ``ceil(load /
C_e)``), checked by ``qnet_envs.planning.evaluate`` (cost, satisfied demand, violations), beside
Greedy's plan (``agents.baselines.planning.greedy_plan``) and the LP-relaxation bound. Writes
``<out>.json``, ``<out>.md`` and ``<out>.png``.

    PYTHONPATH=$PWD nice python scripts/eval_planning_policy.py runs/planpol/1-abilene \\
        --instances tiny abilene cogentco --out docs/planning-policy-eval
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from agents.baselines.planning import greedy_plan
from agents.marl.trainer import CHECKPOINT_FORMAT
from agents.planning import first_stage_flows, first_stage_levels, with_matrix_shared
from qnet_envs.planning import Instance, Plan, evaluate, relaxation_bound


def evaluate_instance(name: str, checkpoint: Path, rounds: int | None) -> list[dict]:
    started = time.perf_counter()
    base = Instance.load(name)
    _ = base.paths
    load_s = time.perf_counter() - started
    rows = []
    for matrix in base.test_matrices or (base.matrix_index,):
        inst = with_matrix_shared(base, matrix)
        bound = relaxation_bound(inst)
        tick = time.perf_counter()
        levels, resolution = first_stage_levels(inst, checkpoint, rounds=rounds)
        policy_s = time.perf_counter() - tick
        plan = Plan.from_flows(inst, first_stage_flows(inst, levels, resolution))
        ours = evaluate(inst, plan)
        greedy, greedy_s = greedy_plan(inst)
        theirs = evaluate(inst, greedy)
        rows.append(
            {
                "instance": name,
                "matrix": matrix,
                "demands": inst.n_demands,
                "edges": inst.n_edges,
                "load_s": load_s,
                "lp_bound": bound,
                "first_stage_cost": ours.total_cost,
                "first_stage_cost_over_lp": ours.total_cost / bound,
                "first_stage_satisfied": ours.satisfied_overall,
                "first_stage_other_violations": sum(v.kind != "demand" for v in ours.violations),
                "first_stage_s": policy_s,
                "level_sum_mean": float(levels.sum(axis=1).mean() / resolution),
                "greedy_cost": theirs.total_cost,
                "greedy_cost_over_lp": theirs.total_cost / bound,
                "greedy_satisfied": theirs.satisfied_overall,
                "greedy_s": greedy_s,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def write_outputs(rows: list[dict], checkpoint: Path, out: Path) -> None:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"checkpoint": str(checkpoint), "commit": commit, "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(report, indent=1))
    lines = [
        f"First stage (checkpoint `{checkpoint}`, commit {commit}) against Greedy, test "
        "matrices. Cost over the LP-relaxation bound; satisfied = delivered / demanded.",
        "",
        "| instance | matrix | demands | LP bound | first-stage cost / LP | first-stage "
        "satisfied | Greedy cost / LP | Greedy satisfied | policy s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['instance']} | {r['matrix']} | {r['demands']} | {r['lp_bound']:,.2f} | "
            f"{r['first_stage_cost_over_lp']:.4f} | {100 * r['first_stage_satisfied']:.2f}% | "
            f"{r['greedy_cost_over_lp']:.4f} | {100 * r['greedy_satisfied']:.2f}% | "
            f"{r['first_stage_s']:.2f} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    names = list(dict.fromkeys(r["instance"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = np.arange(len(names))
    for offset, (key, label) in enumerate([("first_stage", "First stage"), ("greedy", "Greedy")]):
        sat = [np.mean([r[f"{key}_satisfied"] for r in rows if r["instance"] == n]) for n in names]
        cost = [
            np.mean([r[f"{key}_cost_over_lp"] for r in rows if r["instance"] == n]) for n in names
        ]
        axes[0].bar(x + 0.4 * offset - 0.2, np.asarray(sat) * 100, 0.4, label=label)
        axes[1].bar(x + 0.4 * offset - 0.2, cost, 0.4, label=label)
    axes[0].axhline(85, color="k", ls="--", lw=1, label="target 85%")
    axes[0].set_ylabel("satisfied demand (%)")
    axes[1].set_ylabel("cost / LP-relaxation bound")
    axes[1].axhline(1.0, color="k", lw=0.5)
    for ax in axes:
        ax.set_xticks(x, names)
        ax.legend(fontsize=8)
    axes[0].set_title("first-stage satisfied demand (test matrices)")
    axes[1].set_title("cost (test matrices, mean)")
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a checkpoint or a run directory")
    parser.add_argument("--instances", nargs="+", default=["tiny", "abilene"])
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("docs/planning-policy-eval"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    checkpoint = CHECKPOINT_FORMAT.resolve(args.checkpoint)
    rows = [r for name in args.instances for r in evaluate_instance(name, checkpoint, args.rounds)]
    write_outputs(rows, checkpoint, args.out)
    return rows


if __name__ == "__main__":
    main()
