"""Return hubs: people whose appeal rights are exhausted moved to centres abroad until removal.

From the start date plus a legal delay, an eligible person (single adults by default;
families and unaccompanied children never) who is still in the UK ``days_before_transfer``
days after their appeal rights were exhausted, not being removed, joins the queue for a hub.
Transfers run at ``transfers_per_month`` as long as the hubs hold fewer than
``capacity_people`` (people present at once, counting transfers under way), first come first
served, or, with ``prefer_returnable``, people returnable on the day they join the queue
first (a hub that chooses whom it can remove). A transferred
person leaves the UK stock and UK accommodation.

In a hub, with probability ``returned_share`` a person is brought back to the UK (legal
challenges, expiry of detention) after an exponential time (mean ``return_mean_days``).
Otherwise their onward removal is due after an exponential time (mean
``onward_removal_mean_days``), and it happens only if their country takes them back: a hub does
not make a country take its nationals back, so a person who is not returnable on that date
stays. Nobody stays longer than ``max_stay_days``: then they are released, back to the UK
(``release_after_max_stay: uk``) or where the hub is (``locally``, leaving the system). People
brought back or released to the UK rejoin the UK stock with appeal rights exhausted and are
not sent to a hub again. People removed onward or released locally have left the UK, and a
share come back later, as after any removal (the scenario's re-entry share and delay).

Legal risk: with ``halt_probability`` the courts halt the scheme at a time drawn uniformly
within ``halt_within_days`` of the first possible transfer (Italy's Albanian centres). After a
halt no transfer happens (one under way is turned back), and with ``bring_back_on_halt``
everyone present is brought back within ``bring_back_within_days``. Costs already incurred
stay paid; the fixed running cost goes on (the centres are under contract).

Costs: a sum per person-day in a hub, a set-up cost at the start, a yearly fixed cost from
the start, a transfer flight per person and the cost of each onward removal.
``deterred_share`` (default 0: none) is the share of would-be arrivals on
``deterrence_routes`` who do not come from the start date (arrivals thinned by
1 - deterred_share); people who left the UK and would come back on those routes (the revolving
door) come back with their chance multiplied by 1 - deterred_share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from ..core import schedules, timeline
from ..core.errors import Problem
from ..core.records import Origin
from ..core.schedules import NonNegativeSchedule
from ..core.units import DAYS_PER_MONTH, DAYS_PER_YEAR
from ..core.vocabulary import HOUSEHOLD_CODES, ROUTE_CODES, ROUTES, Household, Route
from .contract import (
    Charges,
    Policy,
    PolicyConfig,
    PolicyOutput,
    Stay,
    court_halt,
    deterred_share_field,
    event_charges,
    reject_renamed,
    stay_charges,
)

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
    prefer_returnable: bool = Field(
        False,
        description="people returnable on the day they join the transfer queue go first (a "
        "hub choosing whom it can remove); otherwise first come first served",
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
    legal_delay_days: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="days from the start date to the first transfer"
    )
    max_stay_days: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="longest stay in a hub, days (none: no limit)"
    )
    release_after_max_stay: Literal["uk", "locally"] = Field(
        "uk", description="where people are released at the maximum stay"
    )
    halt_probability: float = Field(
        0.0, ge=0, le=1, description="probability that the courts halt the scheme"
    )
    halt_within_days: float = Field(
        365.0,
        gt=0,
        allow_inf_nan=False,
        description="a halt falls uniformly within this many days of the first possible transfer",
    )
    bring_back_on_halt: bool = Field(
        True, description="everyone in a hub is brought back to the UK after a halt"
    )
    bring_back_within_days: float = Field(
        30.0,
        ge=0,
        allow_inf_nan=False,
        description="after a halt, each person is brought back uniformly within this many days",
    )
    deterred_share: float = deterred_share_field(
        "share of would-be arrivals (and re-entries) on deterrence_routes deterred from the "
        "start date (0: none)"
    )
    deterrence_routes: list[Route] = Field(default=list(ROUTES), min_length=1)

    _renamed = model_validator(mode="before")(reject_renamed)

    def problems_with(self, scenario: object) -> list[Problem]:
        """Options of a switch that is off are refused rather than ignored."""
        return self.unused_option(
            "release_after_max_stay",
            self.max_stay_days is not None,
            "max_stay_days (the switch that limits a stay)",
        ) + self.unused_option(
            "bring_back_within_days",
            self.bring_back_on_halt,
            "bring_back_on_halt: true (the switch that brings people back at a halt)",
        )

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


#: how a stay in a hub ends
ONWARD, RETURNED, RELEASED_UK, RELEASED_LOCALLY, HALT_RETURNED = (
    "onward_removal",
    "returned_to_uk",
    "released_to_uk",
    "released_locally",
    "returned_at_halt",
)
TO_UK = (RETURNED, RELEASED_UK, HALT_RETURNED)


class _Stay:
    """One person's stay: when the transfer began, arrived, ended and how."""

    __slots__ = ("person", "begun", "arrived", "left", "how")

    def __init__(self, person: int, begun: float, arrived: float) -> None:
        self.person, self.begun, self.arrived = person, begun, arrived
        self.left, self.how = np.inf, ""


class ReturnHubs(Policy):
    name = "return_hubs"
    config: ReturnHubsConfig

    def __init__(self, config, scenario, rng, horizon) -> None:
        super().__init__(config, scenario, rng, horizon)
        self.households = {HOUSEHOLD_CODES[h] for h in config.eligible_households}
        self.routes = {ROUTE_CODES[r] for r in config.deterrence_routes}
        self.first_transfer = self.start_time + config.legal_delay_days
        self.halt_time = court_halt(
            self.rng, config.halt_probability, config.halt_within_days, self.first_transfer
        )
        self.halted = False
        self.max_stay = config.max_stay_days if config.max_stay_days is not None else np.inf
        self.occupancy = 0
        self.reserved = 0
        self.capacity = 0.0
        self.entered: dict[int, float] = {}  # joined the transfer queue
        self.begun: dict[int, float] = {}  # transfer started
        self.present: dict[int, _Stay] = {}  # in a hub now
        self.stays: list[_Stay] = []
        # transfers under way at a halt, turned back on arrival: stays of no length
        self.turned_back: list[_Stay] = []

    # ------------------------------------------------------------------ hooks

    def arrival_multiplier(self, candidates: Mapping[str, np.ndarray]) -> np.ndarray:
        times = candidates["time"]
        factor = np.ones(len(times))
        deterred = (times >= self.start_time) & np.isin(candidates["route"], list(self.routes))
        factor[deterred] = 1.0 - self.config.deterred_share
        return factor

    def reentry_multiplier(self, person: int, time: float) -> float:
        """A re-entrant on a deterred route is deterred as a new arrival would be."""
        if time >= self.start_time and self.engine.value("route", person) in self.routes:
            return 1.0 - self.config.deterred_share
        return 1.0

    def start(self) -> None:
        self.queue = self.engine.queue(
            "hub_transfers",
            _Exponentials(self.rng),
            self.entered,
            self._still_waiting,
            self._begin,
            self._transferred,
            tiers=2 if self.config.prefer_returnable else 1,
        )
        self._plan(self.config.capacity_people, self._set_capacity)
        self._plan(
            self.config.transfers_per_month, lambda v: self.queue.set_rate(v / DAYS_PER_MONTH)
        )
        if self.halt_time < self.horizon:
            self.engine.schedule(max(self.halt_time, 0.0), self._halt)

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
        check = max(now + self.config.days_before_transfer, self.first_transfer)
        if check < min(self.horizon, self.halt_time):
            engine.schedule(check - now, self._check, person)

    # ------------------------------------------------------------------ the hub queue

    def _check(self, person: int) -> None:
        engine = self.engine
        if not self.halted and engine.awaiting_removal(person):
            self.entered[person] = engine.now
            later = self.config.prefer_returnable and not engine.value("returnable", person)
            self.queue.push(person, 1 if later else 0)

    def _still_waiting(self, person: int, now: float) -> bool:
        return self.engine.awaiting_removal(person)

    def _gate(self) -> None:
        room = not self.halted and self.occupancy + self.reserved < self.capacity
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
        engine = self.engine
        engine.take_from_are(person, done=True)
        self.reserved -= 1
        begun = self.begun.pop(person)
        if self.halted:  # turned back: the courts stopped transfers while under way
            stay = _Stay(person, begun, now)
            stay.left, stay.how = now, HALT_RETURNED
            self.turned_back.append(stay)
            engine.return_to_are(person)
            self._gate()
            return
        self.occupancy += 1
        stay = _Stay(person, begun, now)
        self.stays.append(stay)
        self.present[person] = stay
        config = self.config
        returned = self.rng.random() < config.returned_share
        mean = config.return_mean_days if returned else config.onward_removal_mean_days
        leaves = now + self.rng.standard_exponential() * mean
        how = RETURNED if returned else ONWARD
        if leaves >= now + self.max_stay:
            leaves, how = now + self.max_stay, self._release()
        if leaves < self.horizon:
            engine.schedule(leaves - now, self._leave, (person, how))
        self._gate()

    def _release(self) -> str:
        return RELEASED_UK if self.config.release_after_max_stay == "uk" else RELEASED_LOCALLY

    def _leave(self, event: tuple[int, str]) -> None:
        person, how = event
        stay = self.present.get(person)
        if stay is None:  # brought back at a halt already
            return
        engine = self.engine
        now = engine.now
        if how == ONWARD and not engine.value("returnable", person):
            # their country does not take them back: they stay, up to the maximum
            release = stay.arrived + self.max_stay
            if release < self.horizon:
                engine.schedule(release - now, self._leave, (person, self._release()))
            return
        del self.present[person]
        stay.left, stay.how = now, how
        self.occupancy -= 1
        if how in TO_UK:
            engine.return_to_are(person)
        else:  # removed onward or released where the hub is: left the UK
            engine.left_uk(person)
        self._gate()

    def _halt(self, _value: object = None) -> None:
        """The courts halt the scheme: no more transfers; bring everyone back if so set."""
        self.halted = True
        self._gate()
        if not self.config.bring_back_on_halt:
            return
        within = self.config.bring_back_within_days
        for person in list(self.present):
            delay = self.rng.random() * within
            if self.engine.now + delay < self.horizon:
                self.engine.schedule(delay, self._leave, (person, HALT_RETURNED))

    # ------------------------------------------------------------------ after the run

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        # a transfer turned back at a halt is a stay of no length: the record leaves the UK
        # stock on arrival and a new one starts back in it at the same moment
        every = self.stays + self.turned_back + self._under_way()
        people = np.array([s.person for s in every], dtype=np.int64)
        begun = np.array([s.begun for s in every], dtype=float)
        entered = np.array([s.arrived for s in every], dtype=float)
        left = np.array([s.left for s in every], dtype=float)
        how = np.array([s.how for s in every], dtype=object)
        turned = np.arange(len(every)) >= len(self.stays)
        turned &= np.arange(len(every)) < len(self.stays) + len(self.turned_back)
        arrived = np.isfinite(entered)
        gone = left <= horizon

        def ended(*kinds: str) -> np.ndarray:
            return left[np.isin(how, kinds)]

        turned_back = left[turned]
        return PolicyOutput(
            stays={"in_hub": Stay(people, entered, left, since=begun)},
            events={
                "hub_transfers": entered[arrived & ~turned],
                "hub_onward_removals": ended(ONWARD),
                "hub_returns_to_uk": ended(RETURNED, HALT_RETURNED),
                "hub_releases_to_uk": ended(RELEASED_UK),
                "hub_releases_locally": ended(RELEASED_LOCALLY),
            },
            summary={
                "transfers": int((arrived & ~turned).sum()),
                "onward_removals": int((gone & (how == ONWARD)).sum()),
                "returns_to_uk": int((gone & np.isin(how, (RETURNED, HALT_RETURNED))).sum()),
                "released_to_uk": int((gone & (how == RELEASED_UK)).sum()),
                "released_locally": int((gone & (how == RELEASED_LOCALLY)).sum()),
                "halted": float(self.halt_time <= horizon),
                "halt_day": float(self.halt_time) if self.halt_time <= horizon else float("nan"),
            },
            costs=self._costs(entered[arrived & ~turned], left[arrived & ~turned], ended(ONWARD)),
            fixed_costs={"hub_operation": self._fixed_operation()},
            charges=self._charges(
                people[arrived & ~turned],
                entered[arrived & ~turned],
                left[arrived & ~turned],
                how[arrived & ~turned],
            ),
            details={
                "turned_back_begun": begun[turned],
                "turned_back": turned_back,
                "removed_onward": people[gone & (how == ONWARD)],
            },
        )

    def _under_way(self) -> list[_Stay]:
        """Transfers still under way at the end of the run: not arrived (start inf)."""
        return [_Stay(person, begun, np.inf) for person, begun in self.begun.items()]

    def _fixed_operation(self) -> np.ndarray:
        """The hubs' daily running cost paid whoever is there, and the set-up cost."""
        config, days = self.config, self.days
        running = np.arange(days) >= self.start_time
        fixed = running * config.annual_fixed_cost_gbp / DAYS_PER_YEAR
        start_day = int(np.ceil(self.start_time))
        if 0 <= start_day < days:
            fixed[start_day] += config.setup_cost_gbp
        return fixed

    def _costs(
        self, entered: np.ndarray, left: np.ndarray, onward: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Daily hub running costs (per person-day, fixed, set-up), transfers and onward
        removals."""
        config, days = self.config, self.days
        in_hub = timeline.stock(entered, left, days)[1:]
        operation = in_hub * config.cost_per_person_day_gbp
        operation += self._fixed_operation()
        return {
            "hub_operation": operation,
            "hub_transfers": timeline.per_day(entered, days) * config.transfer_cost_per_person_gbp,
            "hub_onward_removals": timeline.per_day(onward, days)
            * config.onward_removal_cost_per_person_gbp,
        }

    def _charges(
        self, people: np.ndarray, entered: np.ndarray, left: np.ndarray, how: np.ndarray
    ) -> dict[str, Charges]:
        """The costs of :meth:`_costs` that follow people, charged to each record that
        reached a hub (``entered``, ``left`` and ``how`` of those stays only)."""
        config, days = self.config, self.days
        onward = np.where(how == ONWARD, left, np.nan)
        return {
            "hub_operation": stay_charges(
                people, entered, left, config.cost_per_person_day_gbp, days
            ),
            "hub_transfers": event_charges(
                people, entered, config.transfer_cost_per_person_gbp, days
            ),
            "hub_onward_removals": event_charges(
                people, onward, config.onward_removal_cost_per_person_gbp, days
            ),
        }


ReturnHubsConfig.runtime = ReturnHubs
