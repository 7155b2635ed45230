"""The env pages in docs/envs are generated from the env docstrings and must be current."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_env_pages_are_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "_scripts" / "gen_env_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_env_docstring_has_the_spec_sections():
    from docs._scripts.gen_env_docs import pages

    for path, text in pages().items():
        if path.stem.endswith("Env"):
            for section in (
                "## Description",
                "## Action Space",
                "## Rewards",
                "## Episode End",
                "## Arguments",
                "## Version History",
            ):
                assert section in text, f"{path.name} lacks {section}"
