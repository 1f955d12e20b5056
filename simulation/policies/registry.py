"""The registered policies, and the runtimes of a scenario's enabled ones.

Policies register their config class in the ``asylum_sim.policies`` entry-point group (this
package's are in its pyproject.toml); :func:`registered` lists them by name. Hooks run in the
order of the names, so a scenario's results never depend on how the plug-ins were found.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..inputs.policy_config import PolicyConfig, registered
from ..inputs.scenario import Scenario
from .contract import Policy

__all__ = ["build_runtimes", "enabled", "registered"]


def enabled(scenario: Scenario) -> dict[str, PolicyConfig]:
    """The scenario's policies that are switched on, in hook order (by name)."""
    return {
        name: config
        for name, config in sorted(scenario.policies.items())
        if config is not None and config.enabled
    }


def build_runtimes(
    scenario: Scenario,
    rng_for: Callable[[str], np.random.Generator],
    horizon: float,
) -> list[Policy]:
    """Fresh runtimes of the enabled policies; ``rng_for(name)`` gives each its own stream."""
    runtimes = []
    for name, config in enabled(scenario).items():
        runtime = type(config).runtime
        if not (isinstance(runtime, type) and issubclass(runtime, Policy)):
            raise TypeError(f"{type(config).__name__}.runtime must be a Policy subclass")
        if runtime.name != name:
            raise TypeError(
                f"policy registered as {name!r} runs {runtime.__name__}, named {runtime.name!r}"
            )
        runtimes.append(runtime(config, scenario, rng_for(name), horizon))
    return runtimes
