"""The contract between a policy and the engine.

A policy module defines

- a config, a subclass of :class:`simulation.inputs.policy_config.PolicyConfig` (its
  parameters with units; ``enabled`` switches it off), whose ``runtime`` names
- a runtime, a subclass of :class:`Policy`, made fresh for each replication, that overrides
  only the hooks it needs,

and registers the config under a name in the ``asylum_sim.policies`` entry-point group (see
docs/writing-a-policy.md). The engine calls a hook only for policies that override it, so a
scenario with no policies runs exactly the core model.

A policy sees the engine only through the :class:`Engine` protocol, handed to it once by
:meth:`Policy.attach`: read-only record columns and a few verbs. It never writes a record
column or touches the SimPy environment, and when the run ends :meth:`Policy.finish` returns
what it did as plain data (:class:`PolicyOutput`: stays, events, counts and daily costs), so
nothing after the run calls back into it.

Hook points, in the order a person meets them:

``arrival_multiplier(candidates)``
    factor in [0, 1] on each candidate arrival (deterrence); ``candidates`` holds read-only
    arrays ``time``, ``route``, ``group``, ``household``, ``supported`` and ``returnable``.
    Arrivals are thinned from the same stream, so a factor of 1 changes nothing.
``reentry_multiplier(person, time)``
    factor in [0, 1] on the chance that a person who left the UK (record ``person``, with
    its route, group and household) comes back by crossing again at ``time`` (the revolving
    door): deterrence of re-entrants. Asked when the person leaves, so ``time`` may be in the
    future; it must depend only on the record's attributes and the time. A factor of 1
    changes nothing (a person comes back if their stored uniform is below share x factor).
``divert(people)``
    once before the run, with the new claimants known in advance (record indices in time
    order); may take some out of the UK system on arrival with ``engine.divert``.
``divert_one(person, now)``
    the same for a person coming back during the run; True takes them out.
``on_claims(people)`` / ``on_claim(person, now)``
    after claims join the decision queue (before the run / during it): may bring their
    withdrawal forward with ``engine.withdraw_claims_by`` / ``withdraw_claim_by``.
``voluntary_departure_multiplier()``
    (time, factor) steps multiplying the voluntary-departure hazard after refusal.
``on_are(person, now)``
    a person's appeal rights are exhausted (after their competing exits are drawn).
``start()``
    once before the run, after everything else: open queues, schedule events.
``finish(records, horizon)``
    after the run, with the read-only records: a :class:`PolicyOutput`. A streamed run
    (:func:`simulation.experiments.streaming.stream`) also asks at each stop, with the records
    as they stand and ``horizon`` the stop: a report must leave the policy as it was (draws
    from its generators are undone) and be exact up to ``horizon``; times after it may be
    tentative, since only the dates before the stop are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from pydantic import Field
from pydantic_core import PydanticCustomError

from ..core import timeline
from ..core.units import DAYS_PER_YEAR
from ..inputs.policy_config import RENAMED, Payment, PolicyConfig

if TYPE_CHECKING:
    from ..inputs.scenario import Scenario

HOOKS = (
    "arrival_multiplier",
    "reentry_multiplier",
    "divert",
    "divert_one",
    "on_claims",
    "on_claim",
    "voluntary_departure_multiplier",
    "on_are",
    "start",
)


class ServedQueue(Protocol):
    """A queue a policy opened with :meth:`Engine.queue`."""

    servers: int

    def push(self, person: int, tier: int = 0) -> None: ...

    def set_servers(self, servers: int) -> None: ...

    def set_rate(self, rate: float) -> None: ...


class Engine(Protocol):
    """What a policy may see and do in a running simulation (times in days since the start)."""

    horizon: float

    @property
    def now(self) -> float: ...

    def read(self, column: str) -> np.ndarray:
        """A read-only record column (attributes, times, outcomes), indexed by record."""
        ...

    def value(self, column: str, person: int) -> float:
        """One record's value of a column: :meth:`read` for one person, faster."""
        ...

    def divert(self, people: np.ndarray) -> None:
        """Before the run: take these new claimants out of the UK system on arrival."""
        ...

    def withdraw_claims_by(self, people: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Before the run: withdraw these claims at ``times`` where that comes first."""
        ...

    def withdraw_claim_by(self, person: int, time: float) -> bool:
        """During the run: withdraw this claim at ``time`` if that comes first."""
        ...

    def schedule(self, delay: float, action: Callable[[Any], None], value: Any = None) -> None:
        """Call ``action(value)`` after ``delay`` days."""
        ...

    def queue(
        self,
        name: str,
        work: Any,
        entry_time: Any,
        still_waiting: Callable[[int, float], bool],
        begin: Callable[[int, float], None],
        finish: Callable[[int, float], None],
        tiers: int = 1,
    ) -> ServedQueue:
        """A queue of the policy's own, served by a pool of servers; with ``tiers``, people
        pushed to tier 0 are served before tier 1 and so on, first come first served within
        a tier."""
        ...

    def awaiting_removal(self, person: int) -> bool:
        """In the UK ARE stock now, and nobody is acting on them."""
        ...

    def take_from_are(self, person: int, done: bool) -> None:
        """Take the person out of the UK ARE stock now (pending until ``done``)."""
        ...

    def return_to_are(self, person: int) -> int:
        """Bring the person back to the UK ARE stock now, as a new record."""
        ...

    def return_to_claim(self, person: int) -> int:
        """Bring the person, diverted on arrival and held abroad since, back to the UK now
        as a claimant: a new record in the decision queue, never diverted again."""
        ...

    def left_uk(self, person: int) -> None:
        """The person, in a place the policy owns, has left for good: a share come back
        later, as after any removal."""
        ...

    def make_returnable(self, person: int) -> None:
        """From now on the person can be removed (joins the removal queue if waiting)."""
        ...


@dataclass(frozen=True)
class Stay:
    """People in a place the policy owns (a hub, offshore detention): one entry per stay,
    entered at ``start``, left at ``end`` (inf while still there).

    ``since`` is when each person left the UK stock on their way there (a transfer takes
    time), if earlier than ``start``; a person still on the way at the end of the run has
    ``start`` inf. Left out, it is ``start``.
    """

    records: np.ndarray
    start: np.ndarray
    end: np.ndarray
    since: np.ndarray | None = None

    def left_uk(self) -> np.ndarray:
        """When each person left the UK stock for this place."""
        return self.start if self.since is None else self.since


@dataclass(frozen=True)
class Charges:
    """Costs that follow people: ``gbp[i]`` charged to record ``records[i]`` within the run
    (a record may appear more than once; a credit is negative)."""

    records: np.ndarray
    gbp: np.ndarray

    @classmethod
    def join(cls, *parts: Charges) -> Charges:
        return cls(
            np.concatenate([np.asarray(p.records, dtype=np.int64) for p in parts]),
            np.concatenate([np.asarray(p.gbp, dtype=float) for p in parts]),
        )


def event_charges(records: np.ndarray, times: np.ndarray, gbp: float, days: int) -> Charges:
    """``gbp`` for each record whose event falls within the run (as ``timeline.per_day``
    counts it)."""
    keep = timeline.in_days(times, days)
    return Charges(np.asarray(records, dtype=np.int64)[keep], np.full(int(keep.sum()), gbp))


def stay_charges(
    records: np.ndarray, start: np.ndarray, end: np.ndarray, gbp_per_night: float, days: int
) -> Charges:
    """``gbp_per_night`` for each night within the run of each stay [start, end) (as
    ``timeline.stock(start, end, days)[1:]`` counts them)."""
    return Charges(
        np.asarray(records, dtype=np.int64), timeline.nights(start, end, days) * gbp_per_night
    )


@dataclass
class PolicyOutput:
    """What a policy reports after a run, as plain data.

    ``stays`` become stock series (and peak/final counts), ``events`` cumulative series,
    ``summary`` counts in the run's summary, and ``costs`` daily GBP arrays (length: the run's
    days) added to the cost ledger by category. A policy whose spending replaces a core cost
    credits that category with a negative amount (the incentive payments of voluntary return
    replace the baseline's average cost of a voluntary return). ``fixed_costs`` gives, by
    category, the part of ``costs`` that is fixed: dated payments and running costs paid
    whatever happens to people (whole-life costs leave it out after the horizon). ``details``
    holds any other arrays worth inspecting (kept with the records, read by nothing else).
    """

    stays: dict[str, Stay] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict[str, float] = field(default_factory=dict)
    costs: dict[str, np.ndarray] = field(default_factory=dict)
    details: dict[str, np.ndarray] = field(default_factory=dict)
    fixed_costs: dict[str, np.ndarray] = field(default_factory=dict)
    charges: dict[str, Charges] = field(default_factory=dict)


class Policy:
    """Base class of a policy's per-replication state; override the hooks you need."""

    name: ClassVar[str] = ""

    def __init__(
        self, config: PolicyConfig, scenario: Scenario, rng: np.random.Generator, horizon: float
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.rng = rng
        self.horizon = horizon
        self.days = int(round(horizon))
        self.start_time = float((config.start_date - scenario.start_date).days)
        self.engine: Engine | None = None

    @classmethod
    def hooks(cls) -> list[str]:
        """The hook points this policy overrides."""
        return [h for h in HOOKS if getattr(cls, h) is not getattr(Policy, h)]

    def attach(self, engine: Engine) -> None:
        """Called once, before any hook: the engine this policy acts on."""
        self.engine = engine

    # ---------------------------------------------------------------- hook points

    def arrival_multiplier(self, candidates: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.ones(len(candidates["time"]))

    def reentry_multiplier(self, person: int, time: float) -> float:
        return 1.0

    def divert(self, people: np.ndarray) -> None:
        return None

    def divert_one(self, person: int, now: float) -> bool:
        return False

    def on_claims(self, people: np.ndarray) -> None:
        return None

    def on_claim(self, person: int, now: float) -> None:
        return None

    def voluntary_departure_multiplier(self) -> list[tuple[float, float]]:
        return []

    def on_are(self, person: int, now: float) -> None:
        return None

    def start(self) -> None:
        return None

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        return PolicyOutput()


def deterred_share_field(description: str) -> Any:
    """The ``deterred_share`` field every deterring policy declares: the share of would-be
    arrivals on its routes who do not come while its deterrence applies (0: none)."""
    return Field(0.0, ge=0, le=1, allow_inf_nan=False, description=description)


def reject_renamed(data: Any) -> Any:
    """For a config's ``model_validator(mode="before")``: an old field name is an error that
    says what replaced it (rather than a bare "unknown field")."""
    if isinstance(data, Mapping):
        problems = [(old, message) for old, message in RENAMED.items() if old in data]
        if problems:
            raise PydanticCustomError(
                "renamed_field",
                "{count} renamed field(s)",
                {"count": len(problems), "problems": problems},
            )
    return data


def court_halt(rng: np.random.Generator, probability: float, within: float, first: float) -> float:
    """When the courts halt a scheme: with ``probability``, at a time uniform within ``within``
    days of ``first``; otherwise never (inf). Draws two numbers either way, so a scheme's
    other draws do not depend on whether it is halted."""
    halted = rng.random() < probability
    offset = rng.random() * within
    return first + offset if halted else np.inf


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


__all__ = [
    "HOOKS",
    "Charges",
    "Engine",
    "Payment",
    "Policy",
    "PolicyConfig",
    "PolicyOutput",
    "ServedQueue",
    "Stay",
    "court_halt",
    "deterred_share_field",
    "event_charges",
    "payments_on_dates",
    "reject_renamed",
    "policy_year",
    "stay_charges",
]
