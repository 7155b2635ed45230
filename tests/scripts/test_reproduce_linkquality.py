"""scripts/reproduce_linkquality.py: a smoke run, and the recorded page agrees with its raw runs."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce_linkquality.py"
PAGE = ROOT / "docs" / "linkquality-reproduction.json"


@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location("reproduce_linkquality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorded_page_matches_its_raw_runs_and_command(reproduce):
    report = json.loads(PAGE.read_text())
    command = shlex.split(report["command"].removeprefix("PYTHONPATH=$PWD python "))
    assert command[0] == "scripts/reproduce_linkquality.py"
    args = reproduce.parse_args(command[1:])
    assert (ROOT / args.out).resolve() == PAGE.with_suffix("").resolve()
    for result in report["results"]:
        recomputed = json.loads(json.dumps(reproduce.summarise(result), default=float))
        assert recomputed == result["summary"]
        assert all(len(runs) == report["args"]["seeds"] for runs in result["runs"].values())
    for name in report["figures"]:
        assert (PAGE.parent / name).is_file()
    assert PAGE.with_suffix(".md").read_text() == reproduce.markdown(report)


@pytest.mark.slow
def test_smoke_run_writes_json_markdown_and_figures(reproduce, tmp_path):
    out = tmp_path / "lq"
    argv = ["--sizes", "20", "--seeds", "2", "--requests", "20", "--train-episodes", "1"]
    argv += ["--epochs", "2", "--ppo-steps", "256", "--out", str(out)]
    assert reproduce.main(argv) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    (result,) = report["results"]
    assert set(result["runs"]) >= {"shortest path", "greedy", "static", "clairvoyant"}
    assert len(report["figures"]) == 5
    assert all((tmp_path / name).is_file() for name in report["figures"])
    assert out.with_suffix(".md").read_text().startswith("# Link-quality-aware routing")
