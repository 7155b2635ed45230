"""scripts/compare_gcn_layers.py on the tiny instance: outputs, Markdown = JSON, resume, errors."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_gcn_layers.py"


def _module():
    spec = importlib.util.spec_from_file_location("compare_gcn_layers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runs_writes_consistent_outputs_and_resumes(tmp_path) -> None:
    module = _module()
    out = tmp_path / "out" / "gcn"
    argv = ["--instance", "tiny", "--layers", "1", "2", "--seeds", "0", "--steps", "128"]
    argv += ["--n-envs", "2", "--run-dir", str(tmp_path / "runs"), "--out", str(out)]
    result = module.main(argv)
    saved = json.loads(out.with_suffix(".json").read_text())
    assert {(r["layers"], r["seed"]) for r in saved["runs"]} == {(1, 0), (2, 0)}
    for run in saved["runs"]:
        assert run["steps"] == 128 and len(run["curve_mean_return"]) == 1
        assert 0.0 <= run["satisfied"] <= 1.0 and run["cost_over_lp"] > 0
        expected = run["cost_over_lp"] + 4.0 * (1 - run["satisfied"])
        assert run["objective"] == pytest.approx(expected)
    markdown = out.with_suffix(".md").read_text()
    for run in saved["runs"]:
        row = f"| {run['layers']} | {run['seed']} | " + " | ".join(
            f"{run[k]:.4f}" for k in ("cost_over_lp", "satisfied", "objective")
        )
        assert row in markdown
    for layers, stats in saved["summary"].items():
        mean = stats["satisfied"][0]
        assert re.search(rf"\| {layers} \| [0-9.]+ \+- [0-9.]+ \| {mean:.4f} \+- ", markdown)
    assert out.with_suffix(".png").stat().st_size > 1000
    assert result["summary"].keys() == {1, 2}

    states = sorted((tmp_path / "runs").glob("*/0-tiny/checkpoints/*/state.pt"))
    assert len(states) == 2
    before = [p.stat().st_mtime_ns for p in states]
    again = module.main(argv)
    assert [p.stat().st_mtime_ns for p in states] == before  # not retrained
    assert sorted((tmp_path / "runs").glob("*/0-tiny/checkpoints/*/state.pt")) == states
    assert [r["satisfied"] for r in again["runs"]] == [r["satisfied"] for r in saved["runs"]]


@pytest.mark.parametrize("bad", ["0", "-1"])
def test_bad_layers_error(bad, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _module().main(["--layers", "1", bad])
    assert exit_info.value.code == 2
    assert f"--layers: every count must be >= 1, got {bad}" in capsys.readouterr().err
