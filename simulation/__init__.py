"""asylum-policy-sim: a discrete-event model of the UK asylum system for comparing policies.

>>> from simulation import Scenario, run
>>> scenario = Scenario.from_yaml("scenarios/baseline.yaml")  # doctest: +SKIP
>>> result = run(scenario, seed=1)  # doctest: +SKIP
>>> result.summary["final_hotel_population"]  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("asylum-policy-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from .comparison import break_even, compare  # noqa: E402
from .errors import ScenarioError  # noqa: E402
from .experiments import Replications, run  # noqa: E402
from .results import Result  # noqa: E402
from .scenario import Scenario  # noqa: E402

__all__ = [
    "Replications",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "break_even",
    "compare",
    "run",
]
