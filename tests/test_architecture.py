"""The package's layers import only downward, and policies see only their contract.

The contracts live in pyproject.toml ([tool.importlinter]); this runs them, so the layering
is checked by the same test command as everything else.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    command = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    done = subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_validating_a_scenario_does_not_load_simpy_or_the_engine():
    code = (
        "import sys\n"
        "from simulation import Scenario\n"
        "Scenario.from_yaml('scenarios/combined.yaml')\n"
        "loaded = [m for m in ('simpy', 'simulation.engine', 'simulation.experiments') "
        "if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_every_public_name_loads_from_its_layer():
    import simulation

    assert sorted(simulation.__all__) == sorted(["__version__", *simulation._PUBLIC])
    for name, module in simulation._PUBLIC.items():
        value = getattr(simulation, name)
        assert value.__module__ == module, name
