"""scripts/reproduce_qvpn.py end to end on the tiny instance (--quick): the report agrees with
the LP, the MILP and the baselines computed here, and --render rebuilds the same page; every
recorded docs page names the command that regenerates it."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qnet_envs.qvpn.heuristics import shortest_path_selection
from qnet_envs.qvpn.lp import solve_lp
from qnet_envs.qvpn.milp import solve_optimum
from qnet_envs.qvpn.workload import tiny_instance

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce_qvpn.py"
PAGES = sorted((ROOT / "docs").glob("qvpn-reproduction*.json"))
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}


@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location("reproduce_qvpn", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory) -> tuple[dict, Path]:
    folder = tmp_path_factory.mktemp("qvpn")
    report_json = folder / "r.json"
    command = [sys.executable, str(SCRIPT), "--quick", "--json", str(report_json)]
    subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=ENV,
                   timeout=300)  # fmt: skip
    return json.loads(report_json.read_text()), report_json


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_each_recorded_page_names_the_command_that_regenerates_it(reproduce, page: Path):
    report = json.loads(page.read_text())
    args = reproduce.parse_args(shlex.split(report["command"]))
    assert (ROOT / args.json).resolve() == page.resolve()
    markdown = ROOT / (args.markdown or args.json.with_suffix(".md"))
    assert markdown.resolve() == page.with_suffix(".md").resolve()
    text = markdown.read_text()
    assert reproduce.markdown(report) == text
    assert f"python scripts/reproduce_qvpn.py {report['command']}" in text
    for name in ("fig4a", "fig7", "fig8", "fig9", "marl"):  # every figure the page shows exists
        if f"-{name}.png" in text:
            assert page.with_name(f"{page.stem}-{name}.png").is_file()


def test_default_output_is_not_a_tracked_file(reproduce):
    args = reproduce.parse_args([])
    assert args.json.relative_to(ROOT).parts[0] == "runs"
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()


def test_bad_experiment_name_is_an_error(reproduce):
    with pytest.raises(SystemExit):
        reproduce.parse_args(["--only", "fig4a,fig10"])


def test_threshold_subset_keeps_the_baseline_threshold(reproduce):
    from qnet_envs.qvpn import DEFAULT_THRESHOLDS

    for n in (1, 2, 4, 8, 16):
        subset = reproduce.threshold_subset(DEFAULT_THRESHOLDS, n)
        assert len(subset) == n and 0.992 in subset and set(subset) <= set(DEFAULT_THRESHOLDS)
    with pytest.raises(ValueError, match="thresholds=17"):
        reproduce.threshold_subset(DEFAULT_THRESHOLDS, 17)


def test_quick_report_agrees_with_the_lp_and_the_milp(quick_report) -> None:
    report, _ = quick_report
    raw, derived = report["raw"], report["derived"]
    summaries = {row["key"]: row for row in raw["summary"]}
    tiny = tiny_instance()
    optimum = solve_optimum(tiny, 60).objective
    assert summaries["tiny"]["optimum"]["objective"] == pytest.approx(optimum, rel=1e-9)
    hop = solve_lp(tiny, shortest_path_selection(tiny, "hop", threshold=0.95))
    assert summaries["tiny"]["baselines"]["hop"]["w_egr"] == pytest.approx(hop.w_egr, rel=1e-9)
    for fig in ("fig4a", "fig4b", "fig4c", "fig5", "fig6", "fig7"):
        for run in raw[fig]:
            opt = summaries[run["key"]]["optimum"]["objective"]
            assert 0.0 <= run["best"] <= opt * (1 + 1e-9)
            assert np.all(np.diff(run["history"]) >= 0)  # best so far
    dynamic = [r["best"] / optimum for r in raw["fig4a"] if r["dynamic"]]
    assert derived["fig4a"]["dynamic"]["mean"] == pytest.approx(np.mean(dynamic))
    for run in raw["marl"]:
        assert 0.0 <= run["w_egr"] <= optimum * (1 + 1e-9)
        assert len(run["round_w_egr"]) == 4  # the env's default rounds
    names = [t["name"] for t in derived["targets"]]
    assert "GA / optimum" in names
    assert "MARL (MAPPO, choice-scorer, 4 rounds) / optimum" in names
    assert "MARL (MAPPO, mlp, 4 rounds) / optimum" in names


def test_table3_correlations_are_pearsons(quick_report) -> None:
    report, _ = quick_report
    summaries = {row["key"]: row for row in report["raw"]["summary"]}
    for row in report["derived"]["fig9"]:
        pairs = summaries[f"tiny:rmax={row['rmax']:g}"]["pairs"]
        rate, lam = np.asarray(pairs["rate"]), np.asarray(pairs["lambda"])
        # Pearson written out
        expected = ((rate - rate.mean()) * (lam - lam.mean())).mean() / (rate.std() * lam.std())
        assert row["correlations"]["lambda"] == pytest.approx(expected, rel=1e-9)


def test_quick_report_writes_figures_and_renders_the_same_page(quick_report, tmp_path) -> None:
    report, report_json = quick_report
    markdown = report_json.with_suffix(".md").read_text()
    opt = report["raw"]["summary"][0]["optimum"]["objective"]
    assert f"| {opt:,.1f} |" in markdown
    for name in ("fig4a", "fig4b", "fig4c", "fig5", "fig6", "fig7", "fig8", "fig9", "marl"):
        png = report_json.with_name(f"r-{name}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"(r-{name}.png)" in markdown
    rendered = tmp_path / "again.md"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--render", str(report_json), "--markdown", str(rendered)],
        check=True, cwd=ROOT, env=ENV, timeout=120,
    )  # fmt: skip
    assert rendered.read_text() == markdown


def test_update_reruns_marl_only_and_records_the_command(quick_report, tmp_path) -> None:
    report, report_json = quick_report
    copy = tmp_path / "u.json"
    copy.write_text(report_json.read_text())
    command = ["--quick", "--only", "marl", "--marl-actors", "choice-scorer", "--marl-rounds", "1"]
    subprocess.run(
        [sys.executable, str(SCRIPT), *command, "--update", str(copy)],
        check=True, capture_output=True, cwd=ROOT, env=ENV, timeout=300,
    )  # fmt: skip
    updated = json.loads(copy.read_text())
    for fig in ("fig4a", "fig7", "summary"):  # untouched
        assert updated["raw"][fig] == report["raw"][fig]
    before = report["raw"]["marl"]
    assert updated["raw"]["marl"][: len(before)] == before  # other configurations stay
    fresh = updated["raw"]["marl"][len(before) :]
    assert [(r["actor"], r["rounds"], len(r["round_w_egr"])) for r in fresh] == [
        ("choice-scorer", 1, 1)
    ] * report["args"]["seeds"]
    assert updated["command"] == report["command"]
    (entry,) = updated["updates"]
    assert entry["only"] == ["marl"] and "--marl-rounds 1" in entry["command"]
    text = copy.with_suffix(".md").read_text()
    assert f"scripts/reproduce_qvpn.py {entry['command']}" in text
    for label in ("choice-scorer, 1 round", "choice-scorer, 4 rounds", "mlp, 4 rounds"):
        assert f"| {label} |" in text


def test_update_refuses_other_experiments_and_other_settings(quick_report, tmp_path) -> None:
    _, report_json = quick_report
    base = [sys.executable, str(SCRIPT), "--quick", "--update", str(report_json)]
    for extra, message in (
        (["--only", "fig4a"], "--update reruns only marl"),
        (["--only", "marl", "--marl-lr", "1e-3"], "other settings (marl_lr)"),
    ):
        done = subprocess.run(
            [*base, *extra], capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=120
        )
        assert done.returncode != 0 and message in done.stderr
