"""scripts/reproduce_routing.py end to end on its smallest cell: JSON and Markdown agree with the
baselines computed here, and --render rebuilds the same Markdown from the JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agents.baselines import dijkstra, oracle
from agents.baselines.monte_carlo import random_policy_stats
from qnet_envs.routing import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce_routing.py"


def test_one_cell_report(tmp_path: Path) -> None:
    report_json, report_md = tmp_path / "r.json", tmp_path / "r.md"
    command = [
        sys.executable,
        str(SCRIPT),
        "--families", "white-noise",
        "--sizes", "6",
        "--seeds", "2",
        "--ppo-budget", "60000",
        "--mc-simulate-budget", "2000000",
        "--workers", "2",
        "--skip-evolving",
        "--json", str(report_json),
        "--markdown", str(report_md),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, timeout=600)
    report = json.loads(report_json.read_text())
    (row,) = report["static"]
    scenario = Scenario.load("white-noise-06")
    best = oracle.solve(scenario)
    assert row["optimal_fidelity"] == pytest.approx(best.fidelity, abs=1e-12)
    assert row["dijkstra_fidelity"] == pytest.approx(dijkstra.solve(scenario).fidelity, abs=1e-12)
    uniform = random_policy_stats(scenario, best.fidelity)
    masked = random_policy_stats(scenario, best.fidelity, policy="masked")
    assert row["mc_expected_actions"] == pytest.approx(uniform.expected_actions)
    assert row["mc_masked_expected_actions"] == pytest.approx(masked.expected_actions)
    assert masked.expected_actions < uniform.expected_actions
    steps = [run["first_optimal_step"] for run in row["ppo_runs"]]
    assert all(step is not None and 0 < step <= 60_000 for step in steps)
    assert row["ppo_median_actions"] == pytest.approx(sum(steps) / 2)
    assert row["ratio_mc_over_ppo"] == pytest.approx(
        uniform.expected_actions / row["ppo_median_actions"]
    )
    assert len(row["mc_simulated_actions"]) == len(row["mc_masked_simulated_actions"]) == 2
    markdown = report_md.read_text()
    assert "| white-noise-06 | 0.9327 | 7 | 0.9327 |" in markdown
    assert f"{row['mc_expected_actions']:,.0f}" in markdown

    rendered = tmp_path / "again.md"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--render", str(report_json), "--markdown", str(rendered)],
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert rendered.read_text() == markdown
