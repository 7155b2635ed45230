"""Build hook: the wheel carries every file under ``scenarios/`` as ``qnet_envs/_scenarios/``.

All other metadata is in ``pyproject.toml``. ``scenarios/`` stays at the top of the source tree
(data, not code; see ``docs/data.md``); :mod:`qnet_envs.resources` reads the wheel's copy when
installed and the folder itself in a source checkout or an editable install. A new env family's
folder ``scenarios/<family>/`` is shipped with no change here.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
WHEEL_SCENARIOS = ("qnet_envs", "_scenarios")  # must match qnet_envs.resources


class BuildPyWithScenarios(build_py):
    """``build_py`` that also copies ``scenarios/**`` into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads scenarios/ in place
        for source in sorted(SCENARIOS.rglob("*")):
            if source.is_file() and "__pycache__" not in source.parts:
                target = Path(self.build_lib, *WHEEL_SCENARIOS, source.relative_to(SCENARIOS))
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildPyWithScenarios})
