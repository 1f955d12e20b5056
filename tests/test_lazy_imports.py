"""Importing the package and asking the command line for help load no heavy library.

scipy, pandas, pyarrow, matplotlib, dask and SALib (and SimPy) are loaded by the commands and
functions that use them, so ``import simulation`` and ``asylum-sim --help`` start quickly.
Each check runs in a fresh interpreter, since this test process has loaded them all already.
Times are measured by benchmarks/startup.py, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("scipy", "pandas", "pyarrow", "matplotlib", "dask", "distributed", "SALib", "simpy")

#: what ``from simulation import *`` gave before the names were loaded lazily
PUBLIC = {
    "InputError": "simulation.core.errors",
    "ScenarioError": "simulation.core.errors",
    "Scenario": "simulation.inputs.scenario",
    "Result": "simulation.outputs.results",
    "run": "simulation.experiments.replications",
    "Replications": "simulation.experiments.replications",
    "compare": "simulation.experiments.comparison",
    "break_even": "simulation.experiments.comparison",
    "NoCrossing": "simulation.experiments.comparison",
    "sweep": "simulation.experiments.sweep",
    "load_sweep": "simulation.experiments.sweep",
    "sensitivity": "simulation.experiments.sensitivity",
    "stream": "simulation.experiments.streaming",
    "Partial": "simulation.experiments.streaming",
}


def _loaded_after(code: str) -> list[str]:
    """The heavy libraries in sys.modules after running ``code`` in a fresh interpreter."""
    script = (
        "import sys\n"
        f"{code}\n"
        f"print('LOADED=' + ','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("LOADED=")][-1]
    return [m for m in line.removeprefix("LOADED=").split(",") if m]


def test_importing_the_package_loads_no_heavy_library():
    assert _loaded_after("import simulation; simulation.__version__") == []


def test_building_the_parser_loads_no_heavy_library():
    assert _loaded_after("from simulation.cli import build_parser; build_parser()") == []


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["sweep", "--help"]])
def test_asking_for_help_loads_no_heavy_library(argv):
    code = (
        "from simulation.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "else:\n"
        "    raise AssertionError('--help did not exit')\n"
    )
    assert _loaded_after(code) == []


def test_a_scenario_loads_without_scipy_or_pandas():
    code = "from simulation import Scenario\nScenario.from_yaml('scenarios/combined.yaml')"
    assert _loaded_after(code) == []


@pytest.mark.parametrize(
    "module",
    [
        "simulation.experiments.replications",
        "simulation.experiments.comparison",
        "simulation.experiments.sweep_spec",
    ],
)
def test_the_experiments_load_scipy_only_when_a_function_needs_it(module):
    assert "scipy" not in _loaded_after(f"import {module}")


def test_a_command_still_loads_what_it_needs():
    """The check above is not vacuous: running a command does load pandas and SimPy."""
    code = (
        "from simulation.cli import main\n"
        "assert main(['run', 'scenarios/baseline.yaml', '--years', '0.05', '--quiet']) == 0"
    )
    loaded = _loaded_after(code)
    assert "pandas" in loaded and "simpy" in loaded


def test_every_public_name_resolves_in_a_fresh_interpreter():
    code = (
        "import json, simulation\n"
        "listed = dir(simulation)\n"
        "from simulation import *\n"
        f"names = {sorted(PUBLIC)!r}\n"
        "found = {n: getattr(simulation, n).__module__ for n in names}\n"
        "same = all(globals()[n] is getattr(simulation, n) for n in names)\n"
        "print(json.dumps({'found': found, 'same': same, 'all': simulation.__all__,\n"
        "                  'dir': listed, 'version': simulation.__version__}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["found"] == PUBLIC
    assert seen["same"]
    assert set(seen["all"]) == {*PUBLIC, "__version__"}
    assert set(PUBLIC) <= set(seen["dir"])
    assert seen["version"]


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_each_public_name_imports_as_before(name):
    import importlib

    import simulation

    value = getattr(simulation, name)
    assert value is getattr(importlib.import_module(PUBLIC[name]), name)


def test_an_unknown_name_is_an_attribute_error():
    import simulation

    with pytest.raises(AttributeError, match="no_such_name"):
        simulation.no_such_name  # noqa: B018
