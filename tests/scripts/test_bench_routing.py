"""scripts/bench_routing.py on a tiny budget: repeats, spread, optional QuTiP, default output."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_routing.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_routing", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny(tmp_path: Path) -> list[str]:
    return ["--scenario", "tiny", "--steps", "300", "--qutip-steps", "50", "--repeats", "3",
            "--json", str(tmp_path / "out" / "bench.json")]  # fmt: skip


def test_runs_without_qutip_and_says_why(bench, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "qutip", None)  # import qutip now raises ImportError
    result = bench.main(_tiny(tmp_path))
    out = capsys.readouterr().out
    assert "QuTiP reference skipped: " in out and "pip install qutip" in out
    assert result["qutip_skipped"] and result["summary"]["qutip_steps_per_s"] is None
    assert result["summary"]["ratio_to_qutip"] is None
    assert "| QuTiP swap + fidelity | skipped | skipped | skipped |" in out
    assert json.loads((tmp_path / "out" / "bench.json").read_text()) == result


def test_reports_min_median_max_over_the_rounds(bench, tmp_path):
    pytest.importorskip("qutip")
    result = bench.main(_tiny(tmp_path))
    assert result["qutip_skipped"] is None and len(result["rounds"]) == 3
    for key, spread in result["summary"].items():
        assert spread["min"] <= spread["median"] <= spread["max"], key
    ours = [r["qnet_envs_steps_per_s"] for r in result["rounds"]]
    assert result["summary"]["qnet_envs_steps_per_s"] == {
        "min": min(ours),
        "median": sorted(ours)[1],
        "max": max(ours),
    }
    ratios = sorted(r["qnet_envs_steps_per_s"] / r["qutip_steps_per_s"] for r in result["rounds"])
    assert result["summary"]["ratio_to_qutip"]["median"] == pytest.approx(ratios[1])


def test_default_output_is_under_the_ignored_runs_folder(bench):
    relative = bench.DEFAULT_JSON.relative_to(ROOT)
    assert relative.parts[0] == "runs"
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()


def test_help_describes_every_option_with_its_default():
    help_text = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--scenario", "--steps", "--qutip-steps", "--repeats", "--seed", "--json"):
        assert option in help_text
    assert help_text.count("(default:") == 6


def test_bad_counts_are_refused(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(["--repeats", "0"])
