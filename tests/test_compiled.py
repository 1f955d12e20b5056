"""The compiled hot path and its pure-Python version give bit-identical results."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from simulation.engine import COMPILED_MODULES, PURE_PYTHON_VARIABLE, hot_path

# each case: a shipped scenario and years; the policies use the queue's tiers and bookings
SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_determinism import fingerprint
from simulation import Scenario, run
from simulation.engine import hot_path
print(hot_path())
cases = [("baseline", 2), ("combined", 2), ("return_hubs", 1.5), ("history/uk_2023_2025", None)]
for name, years in cases:
    scenario = Scenario.from_yaml({scenarios!r} + "/" + name + ".yaml")
    if years:
        scenario = scenario.with_years(years)
    print(name, fingerprint(run(scenario, seed=7)))
"""


def _run(pure: bool) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != PURE_PYTHON_VARIABLE}
    if pure:
        env[PURE_PYTHON_VARIABLE] = "1"
    script = SCRIPT.format(tests=str(ROOT / "tests"), scenarios=str(ROOT / "scenarios"))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


def test_the_compiled_hot_path_is_installed():
    if os.environ.get(PURE_PYTHON_VARIABLE):
        pytest.skip(f"{PURE_PYTHON_VARIABLE} is set: the pure-Python path was asked for")
    assert hot_path() == "compiled", (
        f"the engine's hot path is not compiled ({hot_path()}): reinstall with `pip install -e .` "
        f"on a machine with a C compiler, or set {PURE_PYTHON_VARIABLE}=1 to test without it"
    )


@pytest.mark.slow
def test_compiled_and_pure_python_give_identical_results():
    compiled, pure = _run(pure=False), _run(pure=True)
    assert pure[0] == "pure Python"
    if not os.environ.get(PURE_PYTHON_VARIABLE):
        assert compiled[0] == "compiled"
    assert compiled[1:] == pure[1:]
    assert len(compiled) == 5


def test_setup_compiles_the_modules_the_pure_python_switch_replaces():
    tree = ast.parse((ROOT / "setup.py").read_text())
    (compiled,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED"
    ]
    assert compiled == [f"simulation.engine.{module}" for module in COMPILED_MODULES]
