"""scripts/reproduce_planning.py end to end on the tiny instance: the rows agree with the
solvers called here, a second run resumes instead of recomputing, and the figures are written;
scripts/plan.py runs the First-stage and QPLAN methods."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from qnet_envs.planning import Instance, relaxation_bound, solve_ilp

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reproduce():
    return _load("reproduce_planning")


def test_reproduce_planning_on_tiny_resumes_and_agrees_with_the_solvers(reproduce, tmp_path):
    out = tmp_path / "rep"
    argv = ["--instances", "tiny", "--time-limit", "10", "--failure-draws", "3", "--out", str(out)]
    reproduce.main(argv)
    report = json.loads(out.with_suffix(".json").read_text())
    record = report["tiny"]
    tiny = Instance.load("tiny")
    assert record["info"]["lp_bound"] == pytest.approx(relaxation_bound(tiny))
    ilp = record["common"]["ilp"]
    assert ilp["status"] == "optimal"
    assert ilp["cost"] == pytest.approx(solve_ilp(tiny, time_limit=10).objective, rel=1e-9)
    rows = {**record["common"], **record[reproduce.STANDIN]}
    assert set(rows) == {"greedy", "ilp", "first-stage", "qplan", "qplan-a1", "qplan-a1.25"}
    bound = reproduce.best_bound(record)
    for method, row in rows.items():
        assert row["feasible"], method
        assert row["cost"] >= bound * (1 - 1e-9), method  # nothing beats a proven bound
        fails = [row["failures"][f"{f:.2f}"]["mean"] for f in reproduce.FAILURES]
        assert all(0.0 <= v <= 1.0 for v in fails)
    for tag in ("fig4", "fig5", "fig6", "fig7", "fig9"):
        assert (tmp_path / f"rep-{tag}.png").stat().st_size > 0
    assert "| spread stand-in | qplan |" in out.with_suffix(".md").read_text()

    # a second run with one more alpha reuses every row and adds the new one
    reproduce.main([*argv, "--alphas", "1", "1.25", "1.5", "1.1"])
    again = json.loads(out.with_suffix(".json").read_text())["tiny"]
    for bucket in ("common", reproduce.STANDIN):
        for method, row in record[bucket].items():
            assert again[bucket][method]["time_s"] == row["time_s"], method
    assert again[reproduce.STANDIN]["qplan-a1.1"]["feasible"]


def test_plan_script_runs_first_stage_and_qplan(tmp_path, capsys):
    plan = _load("plan")
    tiny = Instance.load("tiny")
    rows = {m: plan.run(tiny, m, 10.0, None, 1.5) for m in ("first-stage", "qplan", "ilp")}
    assert rows["first-stage"]["satisfied"] == pytest.approx(1.0)
    assert rows["qplan"]["violations"] == {} and rows["qplan"]["uncapped_demands"] == 0
    assert rows["ilp"]["total_cost"] <= rows["qplan"]["total_cost"] + 1e-6
    assert rows["qplan"]["total_cost"] <= rows["first-stage"]["total_cost"] + 1e-6
    assert np.isfinite(rows["qplan"]["time_s"])
