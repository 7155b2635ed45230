"""scripts/reproduce_routing.py end to end on its smallest cell: JSON and Markdown agree with the
baselines computed here, and --render rebuilds the same Markdown from the JSON."""

from __future__ import annotations

import importlib.util
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from agents.baselines import dijkstra, oracle
from agents.baselines.monte_carlo import random_policy_stats
from qnet_envs.routing import Scenario
from qnet_envs.routing.evolving import EvolvingScenario

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce_routing.py"
PAGES = sorted((ROOT / "docs").glob("routing-*.json"))


@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location("reproduce_routing", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_each_recorded_page_names_the_command_that_regenerates_it(reproduce, page: Path):
    """The command a page records writes that page's JSON and Markdown, and no other page's."""
    report = json.loads(page.read_text())
    args = reproduce.parse_args(shlex.split(report["command"]))
    assert (ROOT / args.json).resolve() == page.resolve()
    markdown = ROOT / (args.markdown or args.json.with_suffix(".md"))
    assert markdown.resolve() == page.with_suffix(".md").resolve()
    assert reproduce.markdown(report) == markdown.read_text()


def test_default_output_is_not_a_tracked_file(reproduce):
    args = reproduce.parse_args([])
    assert args.json.relative_to(ROOT).parts[0] == "runs"
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()


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


def test_evolving_agents_report_and_resume(reproduce, tmp_path: Path) -> None:
    """The per-agent evolving path on the maze network at a tiny budget: the oracle's uptime is
    exact (it holds a working route after its route's length in every stage), the summary
    agrees with the runs, and --evolving-resume runs only the missing seeds."""
    report_json = tmp_path / "maze.json"
    total = 1000
    command = [
        sys.executable, str(SCRIPT),
        "--skip-static",
        "--evolving-env", "qnet_envs/SwapRouting-EvolvingMaze-v0",
        "--evolving-agents", "oracle", "uniform", "valid", "maskable-ppo",
        "--evolving-total", str(total),
        "--evolving-n-steps", "32",
        "--workers", "2",
        "--json", str(report_json),
    ]  # fmt: skip
    first = [*command, "--evolving-seeds", "1"]
    subprocess.run(first, check=True, capture_output=True, text=True, cwd=ROOT, timeout=300)
    report = json.loads(report_json.read_text())
    ev = report["evolving_agents"]
    assert set(ev["runs"]) == {"oracle", "uniform", "valid", "maskable-ppo"}
    stages = EvolvingScenario.load("evolving-maze").stages
    links = [len(oracle.best_route(stage)[0]) for stage in stages]
    (run,) = ev["runs"]["oracle"]
    stage_length = total // len(stages)
    assert run["stage_uptime"] == pytest.approx([1 - k / stage_length for k in links])
    assert run["uptime"] == pytest.approx(1 - sum(links) / total)
    assert run["actions_played"] == sum(links)
    for agent, runs in ev["runs"].items():
        assert ev["summary"][agent]["uptime"]["mean"] == pytest.approx(runs[0]["uptime"])
        assert ev["summary"][agent]["uptime"]["std"] == 0.0
        assert all(0.0 <= u <= 1.0 for u in runs[0]["stage_uptime"])
    assert ev["runs"]["uniform"][0]["actions_played"] == total  # never up at this budget
    markdown = report_json.with_suffix(".md").read_text()
    assert f"| oracle (exact best route, every stage) | 1 | {run['uptime']:.4f} |" in markdown
    assert "Not finished" not in markdown
    partial = {**report, "args": {**report["args"], "evolving_seeds": 2}}
    assert "seeds done so far: oracle (exact best route, every stage) 1, " in (
        reproduce.markdown(partial)
    )

    again = [*command, "--evolving-seeds", "2", "--evolving-resume"]
    subprocess.run(again, check=True, capture_output=True, text=True, cwd=ROOT, timeout=300)
    resumed = json.loads(report_json.read_text())["evolving_agents"]
    for agent, runs in resumed["runs"].items():
        assert [r["seed"] for r in runs] == [0, 1]
        assert runs[0] == ev["runs"][agent][0]  # kept, not rerun
    assert resumed["runs"]["oracle"][1]["uptime"] == run["uptime"]
    uptimes = [r["uptime"] for r in resumed["runs"]["valid"]]
    assert resumed["summary"]["valid"]["uptime"]["std"] == pytest.approx(statistics.stdev(uptimes))

    mismatched = [*command, "--evolving-seeds", "2", "--evolving-resume", "--evolving-total", "999"]
    failed = subprocess.run(mismatched, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert failed.returncode != 0 and "--evolving-resume" in failed.stderr
