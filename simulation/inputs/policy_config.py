"""What every policy's config shares, and the registry that finds policies.

A policy is a module (in this package or any other) that declares a config, a subclass of
:class:`PolicyConfig` whose ``runtime`` names the class that runs it, and registers the config
under a name in the ``asylum_sim.policies`` entry-point group::

    [project.entry-points."asylum_sim.policies"]
    returns_agreement = "simulation.policies.returns_agreement:ReturnsAgreementConfig"

A scenario's ``policies:`` section maps those names to configs. The registry is read the
first time a scenario with policies is validated, so a third-party policy needs no change to
this package: installing it is enough.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, ValidationError

from ..core.errors import InputError, Problem, problems_from_validation_error
from ..core.schedules import StrictInputs

ENTRY_POINT_GROUP = "asylum_sim.policies"

#: fields renamed in a policy's config: old name -> what replaced it (a file, a mapping or a
#: dotted path naming the old field gets this message rather than a bare "unknown field")
RENAMED = {
    "deterrence": "deterrence was replaced by deterred_share = 1 - deterrence (the share of "
    "would-be arrivals deterred: 0 = none, 0.37 = 37% do not come)",
}


class Payment(StrictInputs):
    """A lump sum paid on a date."""

    model_config = ConfigDict(extra="forbid")

    date: datetime.date
    amount_gbp: float = Field(ge=0, allow_inf_nan=False)


class PolicyConfig(StrictInputs):
    """Common fields of every policy's config.

    ``runtime`` is the class that runs the policy in a simulation (see
    :mod:`simulation.policies.contract`); it is made fresh for every replication. Numbers
    given as true/false and dates given as numbers are refused in every config
    (:class:`simulation.core.schedules.StrictInputs`).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    runtime: ClassVar[type | None] = None

    enabled: bool = Field(True, description="false switches the policy off")
    start_date: datetime.date = Field(description="the policy applies from this date")

    def unused_option(self, name: str, switched_on: bool, switch: str) -> list[Problem]:
        """``name`` changed from its default while the switch it needs is off: a problem
        saying which switch (``switch``) would make it count, rather than ignoring it."""
        if switched_on or getattr(self, name) == type(self).model_fields[name].default:
            return []
        return [(name, f"has no effect without {switch}")]

    def problems_with(self, scenario: Any) -> list[Problem]:
        """Problems of this config in the context of the whole scenario (a nationality group
        it names that does not exist, say), as (path below the policy, message) pairs.
        Called when the scenario is validated, before anything runs; none by default."""
        return []


@cache
def registered() -> dict[str, type[PolicyConfig]]:
    """Every registered policy: name -> config class, sorted by name.

    Sorted so that hooks run in the same order in every installation (the order in which
    entry points are listed is not defined).
    """
    found: dict[str, type[PolicyConfig]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        config = entry.load()
        if not (isinstance(config, type) and issubclass(config, PolicyConfig)):
            raise TypeError(
                f"entry point {entry.name} = {entry.value} in {ENTRY_POINT_GROUP} is not a "
                "PolicyConfig subclass"
            )
        if config.runtime is None:
            raise TypeError(f"{config.__name__} does not name its runtime class")
        found[entry.name] = config
    return dict(sorted(found.items()))


def validate_policies(value: Any) -> dict[str, PolicyConfig]:
    """Validate a scenario's ``policies:`` mapping against the registry.

    A policy given as null is left out (off). Problems are reported with their path below
    ``policies``, e.g. ``offshore.relocation_share: must be <= 1, got 1.2``.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError("policies", [("", "must be a mapping of policy names to configs")])
    known = registered()
    configs: dict[str, PolicyConfig] = {}
    problems: list[Problem] = []
    for name, data in value.items():
        if data is None:
            continue
        config_class = known.get(str(name))
        if config_class is None:
            allowed = ", ".join(known) or "(none: is the package installed?)"
            problems.append((str(name), f"unknown policy; registered policies: {allowed}"))
            continue
        if isinstance(data, config_class):
            configs[str(name)] = data
            continue
        try:
            configs[str(name)] = config_class.model_validate(data)
        except ValidationError as exc:
            for path, message in problems_from_validation_error(exc, config_class):
                problems.append((f"{name}.{path}" if path else str(name), message))
    if problems:
        raise InputError("policies", problems)
    return configs
