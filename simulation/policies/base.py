"""What a policy is: a pydantic config and a runtime that plugs into named points of the model.

A policy module defines

- a config model (its parameters, with units; ``enabled`` switches it off without removing it),
- a :class:`PolicyRuntime` subclass, made fresh for each replication, that overrides only the
  hooks it needs,

and registers both in :mod:`simulation.policies`. The engine calls a hook only for policies
that override it, so a scenario with no policies runs exactly the core model.

Hook points, in the order a person meets them:

``arrival_multiplier(route, times)``
    factor in [0, 1] on the arrival rate of a route at given times (deterrence); arrivals are
    thinned from the same stream, so a multiplier of 1 changes nothing.
``divert(pipeline, people)``
    called once before the run with the new claimants known in advance (record indices in
    time order); may take some out of the UK decision queue (offshore processing).
``divert_one(pipeline, person, now)``
    the same for a claim made during the run (a return to the UK); returns True if diverted.
``on_claims(pipeline, people)`` / ``on_claim(pipeline, person, now)``
    after claims join the decision queue: may add a way out while waiting.
``voluntary_departure_multiplier()``
    (time, factor) steps multiplying the voluntary-departure hazard after refusal.
``on_are(pipeline, person, now)``
    a person's appeal rights are exhausted (after their competing exits are drawn).
``start(pipeline)``
    set up queues and events before the run.
``finish(records, horizon)``
    after the run: a :class:`PolicyOutput` with the policy's stocks, events and summary.
``ledger(records, occupancy, days, costs)``
    add cost categories (and adjust core ones the policy replaces) in the daily cost ledger.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from ..model import Pipeline
    from ..rng import RandomStreams
    from ..scenario import Scenario

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
HOOKS = (
    "arrival_multiplier",
    "divert",
    "divert_one",
    "on_claims",
    "on_claim",
    "voluntary_departure_multiplier",
    "on_are",
    "start",
)


class Payment(BaseModel):
    """A lump sum paid on a date."""

    model_config = ConfigDict(extra="forbid")

    date: datetime.date
    amount_gbp: float = Field(ge=0, allow_inf_nan=False)


class PolicyConfig(BaseModel):
    """Common fields of every policy's config."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    enabled: bool = Field(True, description="false switches the policy off")
    start_date: date = Field(description="the policy applies from this date")


@dataclass
class Stage:
    """People in a state the policy owns: per record, entered at ``start``, left at ``end``.

    ``records`` are record indices; ``end`` is inf while still there. When ``terminal`` the
    person leaves the system at ``end`` (e.g. removed from a hub); otherwise the record ends
    and a new record carries on (e.g. brought back to the UK).
    """

    records: np.ndarray
    start: np.ndarray
    end: np.ndarray


@dataclass
class PolicyOutput:
    """What a policy reports after a run."""

    stages: dict[str, Stage] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)  # name -> event times
    summary: dict[str, float] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # anything the ledger needs


class PolicyRuntime:
    """Base class of a policy's per-replication state; override the hooks you need."""

    name: ClassVar[str] = ""

    def __init__(
        self, config: PolicyConfig, scenario: Scenario, streams: RandomStreams, horizon: float
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.rng = streams[f"policy:{self.name}"]
        self.horizon = horizon
        self.start_time = float((config.start_date - scenario.start_date).days)

    @classmethod
    def hooks(cls) -> list[str]:
        """The hook points this policy overrides."""
        return [h for h in HOOKS if getattr(cls, h) is not getattr(PolicyRuntime, h)]

    # ---------------------------------------------------------------- hook points

    def arrival_multiplier(self, route: int, times: np.ndarray) -> np.ndarray:
        return np.ones(len(times))

    def divert(self, pipeline: Pipeline, people: np.ndarray) -> None:
        return None

    def divert_one(self, pipeline: Pipeline, person: int, now: float) -> bool:
        return False

    def on_claims(self, pipeline: Pipeline, people: np.ndarray) -> None:
        return None

    def on_claim(self, pipeline: Pipeline, person: int, now: float) -> None:
        return None

    def voluntary_departure_multiplier(self) -> list[tuple[float, float]]:
        return []

    def on_are(self, pipeline: Pipeline, person: int, now: float) -> None:
        return None

    def start(self, pipeline: Pipeline) -> None:
        return None

    def finish(self, records: dict[str, np.ndarray], horizon: float) -> PolicyOutput:
        return PolicyOutput()

    def ledger(
        self,
        records: dict[str, np.ndarray],
        output: PolicyOutput,
        days: int,
        costs: dict[str, np.ndarray],
    ) -> None:
        """Add this policy's cost categories to ``costs`` (daily GBP arrays), in place."""
        return None


def policy_year(times: np.ndarray, start: float) -> np.ndarray:
    """Index of the policy year (0 = the first 365.25 days from the start) of each time."""
    return np.floor((np.asarray(times) - start) / DAYS_PER_YEAR).astype(np.int64)


def payments_on_dates(
    payments: list[Payment], scenario_start: date, days: int, until: float = np.inf
) -> np.ndarray:
    """Daily array of lump sums paid on their dates, none on or after ``until``."""
    out = np.zeros(days)
    for payment in payments:
        t = (payment.date - scenario_start).days
        if 0 <= t < min(days, until):
            out[t] += payment.amount_gbp
    return out
