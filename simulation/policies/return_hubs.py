"""Return hubs: people whose appeal rights are exhausted moved to centres abroad until removal.

From the start date, an eligible person (single adults by default; families and unaccompanied
children never) who is still in the UK ``days_before_transfer`` days after their appeal rights
were exhausted, not being removed, joins the queue for a hub. Transfers run at
``transfers_per_month`` as long as the hubs hold fewer than ``capacity_people`` (people present
at once, counting transfers under way). A transferred person leaves the UK stock and UK
accommodation.

In a hub a person either is removed onward to their own country after an exponential time
(mean ``onward_removal_mean_days``) or, with probability ``returned_share``, is brought back to
the UK (legal challenges, expiry of detention: Italy's Albanian centres sent everyone back in
their first phase) after an exponential time (mean ``return_mean_days``). People brought back
rejoin the UK stock with appeal rights exhausted and are not sent to a hub again.

Costs: a sum per person-day in a hub, a set-up cost at the start, a yearly fixed cost while
the hubs run, a transfer flight per person and the cost of each onward removal.
``deterrence`` (default 1.0: none) multiplies the arrival rate of the given routes from the
start date.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import Field, field_validator

from ..core import schedules, timeline
from ..core.records import Origin
from ..core.schedules import NonNegativeSchedule
from ..core.units import DAYS_PER_MONTH, DAYS_PER_YEAR
from ..core.vocabulary import HOUSEHOLD_CODES, ROUTE_CODES, ROUTES, Household, Route
from .contract import Policy, PolicyConfig, PolicyOutput, Stay

_POLICY_RETURN = int(Origin.POLICY_RETURN)
NEVER_ELIGIBLE = ("family_member", "unaccompanied_child")


class _Exponentials:
    """Unit exponential service requirements drawn in the order they are asked for."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __getitem__(self, _person: int) -> float:
        return float(self.rng.standard_exponential())


class ReturnHubsConfig(PolicyConfig):
    """Post-rejection return hubs abroad for people with appeal rights exhausted."""

    eligible_households: list[Household] = Field(default=["single_adult"], min_length=1)
    days_before_transfer: float = Field(
        ge=0, allow_inf_nan=False, description="days after ARE without removal before transfer"
    )
    capacity_people: NonNegativeSchedule = Field(description="hub places (people at once)")
    transfers_per_month: NonNegativeSchedule = Field(description="transfer rate, people/month")
    cost_per_person_day_gbp: float = Field(ge=0, allow_inf_nan=False)
    setup_cost_gbp: float = Field(ge=0, allow_inf_nan=False, description="paid on the start date")
    annual_fixed_cost_gbp: float = Field(
        ge=0, allow_inf_nan=False, description="fixed running cost per year while hubs run"
    )
    transfer_cost_per_person_gbp: float = Field(ge=0, allow_inf_nan=False)
    onward_removal_cost_per_person_gbp: float = Field(ge=0, allow_inf_nan=False)
    onward_removal_mean_days: float = Field(gt=0, allow_inf_nan=False)
    returned_share: float = Field(
        ge=0, le=1, description="share of people in hubs brought back to the UK"
    )
    return_mean_days: float = Field(gt=0, allow_inf_nan=False)
    deterrence: float = Field(
        1.0, ge=0, le=1, description="multiplier on the arrival rate of deterrence_routes"
    )
    deterrence_routes: list[Route] = Field(default=list(ROUTES), min_length=1)

    @field_validator("eligible_households")
    @classmethod
    def _no_families_or_children(cls, value: list[str]) -> list[str]:
        barred = [h for h in value if h in NEVER_ELIGIBLE]
        if barred:
            raise ValueError(
                f"families and unaccompanied children are never sent to return hubs "
                f"(remove {', '.join(barred)}); allowed: single_adult"
            )
        return value


class ReturnHubs(Policy):
    name = "return_hubs"
    config: ReturnHubsConfig

    def __init__(self, config, scenario, rng, horizon) -> None:
        super().__init__(config, scenario, rng, horizon)
        self.households = {HOUSEHOLD_CODES[h] for h in config.eligible_households}
        self.routes = {ROUTE_CODES[r] for r in config.deterrence_routes}
        self.occupancy = 0
        self.reserved = 0
        self.capacity = 0.0
        self.entered: dict[int, float] = {}  # joined the transfer queue
        self.begun: dict[int, float] = {}  # transfer started
        # (person, transfer begun, arrived in hub, left, brought back)
        self.stays: list[tuple[int, float, float, float, bool]] = []

    # ------------------------------------------------------------------ hooks

    def arrival_multiplier(self, candidates: Mapping[str, np.ndarray]) -> np.ndarray:
        times = candidates["time"]
        factor = np.ones(len(times))
        deterred = (times >= self.start_time) & np.isin(candidates["route"], list(self.routes))
        factor[deterred] = self.config.deterrence
        return factor

    def start(self) -> None:
        self.queue = self.engine.queue(
            "hub_transfers",
            _Exponentials(self.rng),
            self.entered,
            self._still_waiting,
            self._begin,
            self._transferred,
        )
        self._plan(self.config.capacity_people, self._set_capacity)
        self._plan(
            self.config.transfers_per_month, lambda v: self.queue.set_rate(v / DAYS_PER_MONTH)
        )

    def _plan(self, schedule, action) -> None:
        start = self.scenario.start_date
        action(float(schedules.value_at(schedule, start, 0.0)))
        for t, value in schedules.changes_within(schedule, start, self.horizon):
            self.engine.schedule(t, action, value)

    def on_are(self, person: int, now: float) -> None:
        engine = self.engine
        if engine.value("household", person) not in self.households:
            return
        if engine.value("origin", person) == _POLICY_RETURN:
            return
        check = max(now + self.config.days_before_transfer, self.start_time)
        if check < self.horizon:
            engine.schedule(check - now, self._check, person)

    # ------------------------------------------------------------------ the hub queue

    def _check(self, person: int) -> None:
        engine = self.engine
        if engine.awaiting_removal(person):
            self.entered[person] = engine.now
            self.queue.push(person)

    def _still_waiting(self, person: int, now: float) -> bool:
        return self.engine.awaiting_removal(person)

    def _gate(self) -> None:
        room = self.occupancy + self.reserved < self.capacity
        servers = 1 if room else 0
        if servers != self.queue.servers:
            self.queue.set_servers(servers)

    def _set_capacity(self, capacity: float) -> None:
        self.capacity = capacity
        self._gate()

    def _begin(self, person: int, now: float) -> None:
        self.engine.take_from_are(person, done=False)
        self.begun[person] = now
        self.reserved += 1
        self._gate()

    def _transferred(self, person: int, now: float) -> None:
        self.engine.take_from_are(person, done=True)
        self.reserved -= 1
        self.occupancy += 1
        config = self.config
        returned = self.rng.random() < config.returned_share
        mean = config.return_mean_days if returned else config.onward_removal_mean_days
        leaves = now + self.rng.standard_exponential() * mean
        self.stays.append((person, self.begun.pop(person), now, leaves, returned))
        if leaves < self.horizon:
            self.engine.schedule(leaves - now, self._leave, (person, returned))
        self._gate()

    def _leave(self, stay: tuple[int, bool]) -> None:
        person, returned = stay
        self.occupancy -= 1
        if returned:
            self.engine.return_to_are(person)
        self._gate()

    # ------------------------------------------------------------------ after the run

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        if self.stays:
            people, begun, entered, left, returned = (
                np.array(c) for c in zip(*self.stays, strict=True)
            )
        else:
            people = np.array([], dtype=np.int64)
            begun = entered = left = np.array([], dtype=float)
            returned = np.array([], dtype=bool)
        returned = returned.astype(bool)
        gone = left <= horizon
        return PolicyOutput(
            stays={"in_hub": Stay(people.astype(np.int64), entered, left)},
            events={
                "hub_transfers": entered,
                "hub_onward_removals": left[~returned],
                "hub_returns_to_uk": left[returned],
            },
            summary={
                "transfers": int(len(people)),
                "onward_removals": int((gone & ~returned).sum()),
                "returns_to_uk": int((gone & returned).sum()),
            },
            costs=self._costs(entered, left, returned),
            details={
                "transfer_begun": begun,
                "in_transfer_since": np.array(list(self.begun.values()), dtype=float),
            },
        )

    def _costs(
        self, entered: np.ndarray, left: np.ndarray, returned: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Daily hub running costs (per person-day, fixed, set-up), transfers and onward
        removals."""
        config, days = self.config, self.days
        in_hub = timeline.stock(entered, left, days)[1:]
        running = np.arange(days) >= self.start_time
        operation = in_hub * config.cost_per_person_day_gbp
        operation += running * config.annual_fixed_cost_gbp / DAYS_PER_YEAR
        start_day = int(np.ceil(self.start_time))
        if 0 <= start_day < days:
            operation[start_day] += config.setup_cost_gbp
        return {
            "hub_operation": operation,
            "hub_transfers": timeline.per_day(entered, days) * config.transfer_cost_per_person_gbp,
            "hub_onward_removals": timeline.per_day(left[~returned], days)
            * config.onward_removal_cost_per_person_gbp,
        }


ReturnHubsConfig.runtime = ReturnHubs
