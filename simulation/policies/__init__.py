"""Policies that can be switched on in a scenario, each a module with a config and a runtime.

``scenario.policies`` has one optional field per registered policy; a policy that is absent,
or present with ``enabled: false``, is off. Any combination can be on at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field, create_model

from . import offshore, return_hubs, voluntary_return
from .base import PolicyConfig, PolicyOutput, PolicyRuntime

if TYPE_CHECKING:
    from ..rng import RandomStreams
    from ..scenario import Scenario

#: name in the scenario file -> (config model, runtime class); order is the order of hooks.
REGISTRY: dict[str, tuple[type[PolicyConfig], type[PolicyRuntime]]] = {
    "offshore": (offshore.OffshoreConfig, offshore.Offshore),
    "return_hubs": (return_hubs.ReturnHubsConfig, return_hubs.ReturnHubs),
    "voluntary_return": (voluntary_return.VoluntaryReturnConfig, voluntary_return.VoluntaryReturn),
}

Policies = create_model(
    "Policies",
    __config__=ConfigDict(extra="forbid", validate_assignment=True),
    __doc__="The policies of a scenario; leave one out (or set enabled: false) to switch it off.",
    **{
        name: (config | None, Field(None, description=(config.__doc__ or "").strip()))
        for name, (config, _) in REGISTRY.items()
    },
)


def build_runtimes(
    scenario: Scenario, streams: RandomStreams, horizon: float
) -> list[PolicyRuntime]:
    """Fresh runtimes for the enabled policies of ``scenario``, in registry order."""
    runtimes = []
    for name, (_, runtime) in REGISTRY.items():
        config = getattr(scenario.policies, name)
        if config is not None and config.enabled:
            runtimes.append(runtime(config, scenario, streams, horizon))
    return runtimes


__all__ = [
    "REGISTRY",
    "PolicyConfig",
    "PolicyOutput",
    "PolicyRuntime",
    "Policies",
    "build_runtimes",
]
