"""asylum-policy-sim: a discrete-event model of the UK asylum system for comparing policies.

>>> from simulation import Scenario, run
>>> scenario = Scenario.from_yaml("scenarios/baseline.yaml")  # doctest: +SKIP
>>> result = run(scenario, seed=1)  # doctest: +SKIP
>>> result.summary["final_hotel_population"]  # doctest: +SKIP

The package is in layers, each importing only those below it (docs/architecture.md):
``core`` < ``inputs`` < ``engine`` < ``policies`` < ``outputs`` < ``experiments`` <
``validation`` < ``cli``. The names below are loaded when first used, so importing the
package is cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .core.version import package_version

__version__ = package_version()

#: public name -> module that defines it
_PUBLIC = {
    "Scenario": "simulation.inputs.scenario",
    "InputError": "simulation.core.errors",
    "ScenarioError": "simulation.core.errors",
    "run": "simulation.experiments.replications",
    "Replications": "simulation.experiments.replications",
    "Result": "simulation.outputs.results",
    "compare": "simulation.experiments.comparison",
    "break_even": "simulation.experiments.comparison",
    "NoCrossing": "simulation.experiments.comparison",
    "sweep": "simulation.experiments.sweep",
    "load_sweep": "simulation.experiments.sweep",
    "sensitivity": "simulation.experiments.sensitivity",
    "stream": "simulation.experiments.streaming",
    "Partial": "simulation.experiments.streaming",
}

__all__ = [
    "InputError",
    "NoCrossing",
    "Partial",
    "Replications",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "break_even",
    "compare",
    "load_sweep",
    "run",
    "sensitivity",
    "stream",
    "sweep",
]

if TYPE_CHECKING:
    from .core.errors import InputError, ScenarioError
    from .experiments.comparison import NoCrossing, break_even, compare
    from .experiments.replications import Replications, run
    from .experiments.sensitivity import sensitivity
    from .experiments.streaming import Partial, stream
    from .experiments.sweep import load_sweep, sweep
    from .inputs.scenario import Scenario
    from .outputs.results import Result


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
