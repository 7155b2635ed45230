"""scripts/make_topology_data.py: the shipped topology files are what it makes from the GML."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from qnet_envs import resources

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_topology_data.py"
_spec = importlib.util.spec_from_file_location("make_topology_data", SCRIPT)
make_topology_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_topology_data)


def test_shipped_files_match_the_gml(zoo_dir):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--zoo", str(zoo_dir), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 shipped topology files" in result.stdout


def test_check_reports_changed_missing_and_extra_files(zoo_dir, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(resources.topology_dir(), out)
    assert make_topology_data.check(zoo_dir, out) == []
    kdl = out / "Kdl.json"
    kdl.write_text(kdl.read_text().replace("Rolla", "Rola", 1))
    (out / "Ans.json").unlink()
    (out / "Extra.json").write_text("{}")
    problems = make_topology_data.check(zoo_dir, out)
    assert problems == [
        f"{out / 'Ans.json'} is missing",
        f"{kdl} differs from what {zoo_dir / 'Kdl.gml'} gives",
        f"{out / 'Extra.json'} is shipped but made by nothing",
    ]
    assert make_topology_data.main(["--zoo", str(zoo_dir), "--out", str(out), "--check"]) == 1


def test_writing_then_checking_round_trips(zoo_dir, tmp_path):
    out = tmp_path / "data"
    assert make_topology_data.main(["--zoo", str(zoo_dir), "--out", str(out)]) == 0
    for name in resources.shipped_topologies():
        shipped = (resources.topology_dir() / f"{name}.json").read_text()
        assert (out / f"{name}.json").read_text() == shipped
    assert make_topology_data.main(["--zoo", str(zoo_dir), "--out", str(out), "--check"]) == 0


def test_missing_gml_folder_exits_2(tmp_path, capsys):
    assert make_topology_data.main(["--zoo", str(tmp_path), "--check"]) == 2
    assert "pass --zoo" in capsys.readouterr().err
