"""Offshore processing, Rwanda style: new arrivals relocated to a third country before any UK
decision.

From the start date plus a legal delay, each new claimant on an eligible route and of an
eligible household is relocated with probability ``relocation_share``, as long as the policy
year's ``annual_capacity_people`` is not used up (first come, first served within the year).
Relocated people are detained for ``detention_days`` before their flight and never enter the UK
decision queue; everyone else goes through the UK system as usual.

The scheme may be halted (by the courts or a new government): with ``halt_probability`` it stops
at a time drawn uniformly within ``halt_within_days`` of the start, or on ``halt_date`` when it
is known. Nobody is relocated after
the halt (a claimant whose flight would fall after it stays in the UK system), and fixed
payments due after it are not made; those already made stay paid.

In the third country (every option below is off by default, which is the model as it was):

- Brought back: with ``brought_back_share`` a person's relocation is overturned (a court
  ruling, say) and they are brought back to the UK after an exponential time with mean
  ``brought_back_mean_days`` from the flight, undecided there. With ``bring_back_on_halt``,
  everyone still held there undecided at a halt is brought back uniformly within
  ``bring_back_within_days`` of it (as Italy brought back everyone it sent to Albania), and no
  decision is made there after the halt. A person brought back claims asylum in the UK again,
  where they left the UK system: a new record in the decision queue
  (``Engine.return_to_claim``), never relocated again.
- Decided there (``decision_mean_days``): a decision an exponential time after the flight,
  a grant with ``grant_rate_there``. Granted people stay or move on
  (``granted_move_on_share``); refused people are removed from there (``refused_removed_share``,
  after an exponential time with mean ``removal_there_mean_days``), move on
  (``refused_move_on_share``) or stay. Moving on happens at a time uniform between the
  decision and the end of the processing period (``processing_years`` after the flight).
  Without ``decision_mean_days`` nobody is decided there, and ``departure_share`` of the people
  relocated move on at a time uniform within the processing period; ``departure_share`` is
  also the default move-on share after either decision. People who move on or are removed
  from there leave it through ``Engine.left_uk``: the scenario's re-entry share for exits from
  a policy's place abroad (``reentry_rules`` kind ``from_policy``, by default
  ``reentry_share``) come back to the UK as new claimants, and may be relocated again.

Costs follow the terms of the UK-Rwanda partnership as the NAO described them: fixed payments
on dates, a payment per person relocated, processing payments per person spread over five years
(stopping when the person leaves the third country, by any way, with a one-off payment to
people who choose to move on), flights, a payment triggered when relocations reach a
threshold, and detention before the flight. A flight back costs
``bring_back_cost_per_person_gbp``.

Deterrence: while relocations are possible (from the first possible relocation until a halt),
a share ``deterred_share`` of would-be arrivals on the eligible routes do not come (arrivals are
thinned by 1 - deterred_share), and people who left the UK and would come back on those routes
(the revolving door) come back with their chance multiplied by 1 - deterred_share. Nobody knows
its value: the default 0 means no deterrent effect; vary it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from ..core import timeline
from ..core.errors import Problem
from ..core.units import DAYS_PER_YEAR
from ..core.vocabulary import HOUSEHOLD_CODES, ROUTE_CODES, Household, Route
from .contract import (
    Charges,
    Payment,
    Policy,
    PolicyConfig,
    PolicyOutput,
    Stay,
    court_halt,
    deterred_share_field,
    event_charges,
    payments_on_dates,
    policy_year,
    reject_renamed,
    stay_charges,
)


class OffshoreConfig(PolicyConfig):
    """Rwanda-style offshore processing of new arrivals before any UK decision."""

    eligible_routes: list[Route] = Field(default=["small_boat"], min_length=1)
    eligible_households: list[Household] = Field(
        default=["single_adult", "family_member"], min_length=1
    )
    relocation_share: float = Field(
        ge=0, le=1, description="share of eligible new claimants relocated, capacity allowing"
    )
    annual_capacity_people: float = Field(
        ge=0, allow_inf_nan=False, description="most people relocated per policy year"
    )
    legal_delay_days: float = Field(
        ge=0, allow_inf_nan=False, description="days from the start date to the first relocation"
    )
    halt_probability: float = Field(ge=0, le=1, description="probability the scheme is halted")
    halt_within_days: float = Field(
        gt=0, allow_inf_nan=False, description="a halt falls uniformly within this many days"
    )
    halt_date: date | None = Field(
        None,
        description="a known date the scheme stopped (an election, a decision): the halt "
        "falls then, whatever halt_probability says",
    )
    detention_days: float = Field(ge=0, allow_inf_nan=False, description="detention before flight")
    detention_cost_per_day_gbp: float = Field(ge=0, allow_inf_nan=False)
    fixed_payments: list[Payment] = Field(
        default_factory=list, description="lump sums paid on dates (none after a halt)"
    )
    payment_per_relocation_gbp: float = Field(ge=0, allow_inf_nan=False)
    processing_payment_per_person_gbp: float = Field(
        ge=0, allow_inf_nan=False, description="paid evenly over processing_years per person"
    )
    processing_years: float = Field(gt=0, allow_inf_nan=False)
    flight_cost_per_person_gbp: float = Field(ge=0, allow_inf_nan=False)
    threshold_relocations: int = Field(
        ge=0, description="relocations that trigger threshold_payment_gbp (0: none)"
    )
    threshold_payment_gbp: float = Field(ge=0, allow_inf_nan=False)
    departure_share: float = Field(
        ge=0,
        le=1,
        description="share of relocated people who later move on from the third country "
        "(after a decision there, if decisions are modelled, unless the outcome's share is set)",
    )
    departure_payment_gbp: float = Field(
        ge=0, allow_inf_nan=False, description="one-off payment when a relocated person moves on"
    )
    deterred_share: float = deterred_share_field(
        "share of would-be arrivals (and re-entries) on the eligible routes deterred while "
        "relocations are possible (0: none)"
    )
    # brought back to the UK
    brought_back_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of relocated people brought back to the UK, undecided there",
    )
    brought_back_mean_days: float = Field(
        90.0,
        gt=0,
        allow_inf_nan=False,
        description="mean days (exponential) from the flight to being brought back",
    )
    bring_back_on_halt: bool = Field(
        False, description="everyone held undecided in the third country is brought back at a halt"
    )
    bring_back_within_days: float = Field(
        30.0,
        ge=0,
        allow_inf_nan=False,
        description="after a halt, each person is brought back uniformly within this many days",
    )
    bring_back_cost_per_person_gbp: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="flight back to the UK, per person"
    )
    # decided in the third country
    decision_mean_days: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="mean days (exponential) from the flight to a decision in the third "
        "country (none: no decision there is modelled)",
    )
    grant_rate_there: float | None = Field(
        None, ge=0, le=1, description="share of decisions in the third country that grant"
    )
    granted_move_on_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="share of people granted there who move on (none: departure_share)",
    )
    refused_removed_share: float = Field(
        0.0, ge=0, le=1, description="share of people refused there who are removed from there"
    )
    refused_move_on_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="share of people refused there who move on (none: departure_share)",
    )
    removal_there_mean_days: float = Field(
        180.0,
        gt=0,
        allow_inf_nan=False,
        description="mean days (exponential) from a refusal there to removal from there",
    )

    _renamed = model_validator(mode="before")(reject_renamed)

    def problems_with(self, scenario: Any) -> list[Problem]:
        """A known halt falls after the start; decision-stage fields need
        ``decision_mean_days`` and fit together; options of a switch that is off are
        refused rather than ignored."""
        if self.halt_date is not None and self.halt_date < self.start_date:
            return [
                (
                    "halt_date",
                    f"must be on or after start_date ({self.start_date.isoformat()}), "
                    f"got {self.halt_date.isoformat()}",
                )
            ]
        unused = self.unused_option(
            "bring_back_within_days",
            self.bring_back_on_halt,
            "bring_back_on_halt: true (the switch that brings people back at a halt)",
        )
        if self.decision_mean_days is None:
            given = [
                name
                for name in ("grant_rate_there", "granted_move_on_share", "refused_move_on_share")
                if getattr(self, name) is not None
            ]
            if self.refused_removed_share > 0:
                given.append("refused_removed_share")
            if self.unused_option("removal_there_mean_days", False, ""):
                given.append("removal_there_mean_days")
            return unused + [
                (name, "has no effect without decision_mean_days (decisions in the third country)")
                for name in given
            ]
        if unused:
            return unused
        if self.grant_rate_there is None:
            return [("grant_rate_there", "is required with decision_mean_days, in [0, 1]")]
        removed, moved = self.refused_removed_share, self.refused_shares()[1]
        if removed + moved > 1:
            return [
                (
                    "refused_move_on_share",
                    f"with refused_removed_share ({removed:g}) must sum to at most 1, "
                    f"got {moved:g} (the rest of the people refused there stay)",
                )
            ]
        return []

    def refused_shares(self) -> tuple[float, float]:
        """(removed from there, move on) shares of the people refused there."""
        moved = self.refused_move_on_share
        return self.refused_removed_share, self.departure_share if moved is None else moved

    def granted_move_on(self) -> float:
        moved = self.granted_move_on_share
        return self.departure_share if moved is None else moved


#: per-person uniform draws of the third-country model, one column each
_BACK, _BACK_DELAY, _DECISION_DELAY, _GRANT, _AFTER, _MOVE_TIME, _REMOVAL_DELAY, _HALT = range(8)
_DRAWS = 8


class Offshore(Policy):
    name = "offshore"
    config: OffshoreConfig

    def __init__(self, config, scenario, rng, horizon) -> None:
        super().__init__(config, scenario, rng, horizon)
        self.first = self.start_time + config.legal_delay_days
        self.halt_time = court_halt(
            self.rng, config.halt_probability, config.halt_within_days, self.start_time
        )
        if config.halt_date is not None:  # after the draws, so no other draw moves
            self.halt_time = float((config.halt_date - scenario.start_date).days)
        self.routes = {ROUTE_CODES[r] for r in config.eligible_routes}
        self.households = {HOUSEHOLD_CODES[h] for h in config.eligible_households}
        self.capacity = int(np.floor(config.annual_capacity_people))
        self.used: dict[int, int] = {}
        self.people: list[int] = []
        self.arrived: list[float] = []
        # the third country's paths, drawn at relocation, whenever anyone can leave it; with
        # nobody leaving, the draws in finish (none, in effect)
        self.modelled = (
            config.brought_back_share > 0
            or config.bring_back_on_halt
            or config.decision_mean_days is not None
            or config.departure_share > 0
        )
        # its own stream, spawned from the policy's: switching it on shifts no other draw
        self.fate_rng = self.rng.spawn(1)[0] if self.modelled else None
        self.fates: dict[str, list[float]] = {
            key: [] for key in ("flight", "back", "at_halt", "decided", "granted", "moved")
        }
        self.fates["removed"] = []
        self.back_at: dict[int, float] = {}  # index into people -> when brought back
        self.returned: set[int] = set()  # records brought back to claim

    def _window(self, t: np.ndarray) -> np.ndarray:
        flight = t + self.config.detention_days
        return (t >= self.first) & (flight < self.halt_time)

    def arrival_multiplier(self, candidates: Mapping[str, np.ndarray]) -> np.ndarray:
        times = candidates["time"]
        factor = np.ones(len(times))
        running = (times >= self.first) & (times < self.halt_time)
        running &= np.isin(candidates["route"], list(self.routes))
        factor[running] = 1.0 - self.config.deterred_share
        return factor

    def reentry_multiplier(self, person: int, time: float) -> float:
        """A re-entrant on an eligible route is deterred as a new arrival would be."""
        if (
            self.first <= time < self.halt_time
            and self.engine.value("route", person) in self.routes
        ):
            return 1.0 - self.config.deterred_share
        return 1.0

    def divert(self, people: np.ndarray) -> None:
        engine = self.engine
        t = engine.read("t_claim")[people]
        chosen = self.rng.random(len(people)) < self.config.relocation_share
        eligible = (
            np.isin(engine.read("route")[people], list(self.routes))
            & np.isin(engine.read("household")[people], list(self.households))
            & self._window(t)
            & chosen
        )
        candidates = people[eligible]
        years = policy_year(t[eligible], self.start_time)
        # first come, first served within each policy year, up to the annual capacity
        order_in_year = np.zeros(len(candidates), dtype=np.int64)
        for year in np.unique(years):
            in_year = years == year
            order_in_year[in_year] = np.arange(in_year.sum())
        relocated = candidates[order_in_year < self.capacity]
        for year, count in zip(
            *np.unique(
                policy_year(engine.read("t_claim")[relocated], self.start_time),
                return_counts=True,
            ),
            strict=True,
        ):
            self.used[int(year)] = int(count)
        self.people.extend(relocated.tolist())
        self.arrived.extend(engine.read("t_claim")[relocated].tolist())
        engine.divert(relocated)
        if self.modelled:
            self._plan(engine.read("t_claim")[relocated])

    def start(self) -> None:
        """Bring-backs and departures from the third country of the people relocated before
        the run, planned at relocation."""
        for index in range(len(self.fates["back"])):
            self._schedule_fate(index)

    def _schedule_fate(self, index: int) -> None:
        """Bring the person back, or let them leave the third country (moved on or removed
        from there: the revolving door may bring them back to the UK), when planned."""
        engine, now = self.engine, self.engine.now
        back = self.fates["back"][index]
        if back < self.horizon:
            engine.schedule(back - now, self._bring_back, index)
        left = min(self.fates["moved"][index], self.fates["removed"][index])
        if left < self.horizon:
            engine.schedule(left - now, self._left_third_country, index)

    def _left_third_country(self, index: int) -> None:
        self.engine.left_uk(self.people[index])

    def divert_one(self, person: int, now: float) -> bool:
        chosen = self.rng.random() < self.config.relocation_share
        engine = self.engine
        if not (
            chosen
            and engine.value("route", person) in self.routes
            and engine.value("household", person) in self.households
            and self._window(np.array([now]))[0]
        ):
            return False
        year = int(policy_year(np.array([now]), self.start_time)[0])
        if self.used.get(year, 0) >= self.capacity:
            return False
        if self.returned and self._brought_back_before(person):
            return False
        self.used[year] = self.used.get(year, 0) + 1
        self.people.append(person)
        self.arrived.append(now)
        if self.modelled:
            self._plan(np.array([now]))
            self._schedule_fate(len(self.people) - 1)
        return True

    # ------------------------------------------------------------------ the third country

    def _plan(self, arrived: np.ndarray) -> np.ndarray:
        """Each person's path in the third country, drawn at relocation (the halt's date is
        known from the start); returns when each is brought back (inf: never)."""
        config = self.config
        n = len(arrived)
        u = self.fate_rng.random((n, _DRAWS))
        exp = -np.log1p(-u)  # unit exponentials from the same uniforms
        flight = arrived + config.detention_days
        years = config.processing_years * DAYS_PER_YEAR
        inf = np.full(n, np.inf)
        back_branch = u[:, _BACK] < config.brought_back_share
        back = np.where(
            back_branch, flight + exp[:, _BACK_DELAY] * config.brought_back_mean_days, inf
        )
        granted = np.zeros(n, dtype=bool)
        removed = inf.copy()
        if config.decision_mean_days is None:
            decided = inf.copy()
            moves = ~back_branch & (u[:, _AFTER] < config.departure_share)
            moved = np.where(moves, flight + u[:, _MOVE_TIME] * years, inf)
        else:
            decided = np.where(
                back_branch, inf, flight + exp[:, _DECISION_DELAY] * config.decision_mean_days
            )
            known = np.isfinite(decided)
            granted = known & (u[:, _GRANT] < config.grant_rate_there)
            refused = known & ~granted
            share_removed, share_moved = config.refused_shares()
            after = u[:, _AFTER]
            moves = granted & (after < config.granted_move_on())
            moves |= refused & (after >= share_removed) & (after < share_removed + share_moved)
            goes = refused & (after < share_removed)
            rest = np.maximum(flight + years - np.where(known, decided, flight), 0.0)
            moved = np.where(moves, np.where(known, decided, 0.0) + u[:, _MOVE_TIME] * rest, inf)
            removed = np.where(
                goes,
                np.where(known, decided, 0.0)
                + exp[:, _REMOVAL_DELAY] * config.removal_there_mean_days,
                inf,
            )
        at_halt = np.zeros(n, dtype=bool)
        halt = self.halt_time
        if config.bring_back_on_halt and np.isfinite(halt):
            # held at the halt: there (flown before it, not yet left) and undecided
            gone = np.minimum(np.minimum(back, moved), removed)
            held = (flight <= halt) & (gone > halt) & (decided > halt)
            then = halt + u[:, _HALT] * config.bring_back_within_days
            at_halt = held & (then < back)
            back = np.where(held, np.minimum(back, then), back)
            decided = np.where(held, np.inf, decided)
            granted &= ~held
            moved = np.where(held, np.inf, moved)
            removed = np.where(held, np.inf, removed)
        fates = self.fates
        for key, values in (
            ("flight", flight),
            ("back", back),
            ("at_halt", at_halt),
            ("decided", decided),
            ("granted", granted),
            ("moved", moved),
            ("removed", removed),
        ):
            fates[key].extend(values.tolist())
        return back

    def _bring_back(self, index: int) -> None:
        """The person comes back to the UK and claims again where they left the system."""
        person = self.people[index]
        self.engine.return_to_claim(person)
        self.back_at[index] = self.engine.now
        self.returned.add(person)

    def _brought_back_before(self, person: int) -> bool:
        """Whether the person (any earlier record of theirs) was brought back to claim."""
        engine = self.engine
        while person >= 0:
            if person in self.returned:
                return True
            person = int(engine.value("parent", person))
        return False

    # ------------------------------------------------------------------ after the run

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        people = np.array(self.people, dtype=np.int64)
        arrived = np.array(self.arrived, dtype=float)
        relocated = arrived + self.config.detention_days
        n = len(people)
        done = relocated <= horizon
        if self.modelled:
            paths = self._paths(n)
        else:  # the model without third-country options: departures drawn here, as before
            leaves = self.rng.random(n) < self.config.departure_share
            years = self.config.processing_years * DAYS_PER_YEAR
            departure = np.where(leaves, relocated + self.rng.random(n) * years, np.inf)
            never = np.full(n, np.inf)
            paths = {
                "back": never,
                "at_halt": np.zeros(n, dtype=bool),
                "decided": never,
                "granted": np.zeros(n, dtype=bool),
                "moved": departure,
                "removed": never,
            }
        back, decided, granted = paths["back"], paths["decided"], paths["granted"]
        moved, removed = paths["moved"], paths["removed"]
        left = np.minimum(np.minimum(back, moved), removed)
        departed = np.minimum(moved, removed)
        came_back = done & (back < horizon)
        judged = done & (decided <= horizon)
        return PolicyOutput(
            stays={
                "in_offshore_detention": Stay(people, arrived, relocated),
                "in_third_country": Stay(people, relocated, left),
            },
            events={
                "relocations": relocated,
                "departures_from_third_country": departed[done],
                "brought_back_from_offshore": back[came_back],
                "granted_in_third_country": decided[judged & granted],
                "refused_in_third_country": decided[judged & ~granted],
                "moved_on_from_third_country": moved[done & np.isfinite(moved)],
                "removed_from_third_country": removed[done & np.isfinite(removed)],
            },
            summary={
                "relocations": int(done.sum()),
                "halted": float(np.isfinite(self.halt_time) and self.halt_time <= horizon),
                "halt_day": float(self.halt_time) if self.halt_time <= horizon else float("nan"),
                "brought_back": int(came_back.sum()),
                "brought_back_at_halt": int((came_back & paths["at_halt"]).sum()),
                "granted_there": int((judged & granted).sum()),
                "refused_there": int((judged & ~granted).sum()),
                "undecided_there": int((done & ~came_back & ~judged).sum()),
                "moved_on": int((done & (moved <= horizon)).sum()),
                "removed_from_there": int((done & (removed <= horizon)).sum()),
            },
            costs=self._costs(arrived, relocated, left, moved, back[came_back]),
            fixed_costs={"offshore_payments": self._fixed_payments(relocated)},
            charges=self._charges(people, arrived, relocated, left, moved, back),
        )

    def _paths(self, n: int) -> dict[str, np.ndarray]:
        """The planned paths, with the actual time of each bring-back that happened."""
        fates = self.fates
        paths = {key: np.array(values, dtype=float) for key, values in fates.items()}
        for key in ("at_halt", "granted"):
            paths[key] = paths[key].astype(bool)
        back = paths["back"]
        for index, when in self.back_at.items():
            back[index] = when  # the clock's time of the event (the new record's claim)
        assert len(back) == n
        return paths

    def _fixed_payments(self, relocated: np.ndarray) -> np.ndarray:
        """Daily payments that do not follow people: the lump sums on their dates (none after
        a halt) and the payment when relocations reach the threshold."""
        config, days = self.config, self.days
        payments = payments_on_dates(
            config.fixed_payments, self.scenario.start_date, days, self.halt_time
        )
        threshold = config.threshold_relocations
        if 0 < threshold <= len(relocated):
            when = np.sort(relocated)[threshold - 1]
            if when < days:
                payments[int(when)] += config.threshold_payment_gbp
        return payments

    def _costs(
        self,
        arrived: np.ndarray,
        relocated: np.ndarray,
        left: np.ndarray,
        moved: np.ndarray,
        back: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Daily payments to the third country, flights and detention before the flight.

        Processing payments stop when the person leaves the third country (``left``); the
        departure payment goes to people who move on (``moved``); ``back`` are the flights
        back to the UK."""
        config, days = self.config, self.days
        payments = self._fixed_payments(relocated)
        payments += timeline.per_day(relocated, days) * config.payment_per_relocation_gbp
        years = config.processing_years * DAYS_PER_YEAR
        paying_until = np.minimum(relocated + years, left)
        daily = config.processing_payment_per_person_gbp / years
        payments += timeline.stock(relocated, paying_until, days)[1:] * daily
        payments += timeline.per_day(moved, days) * config.departure_payment_gbp
        detained = timeline.stock(arrived, relocated, days)[1:]
        flights = timeline.per_day(relocated, days) * config.flight_cost_per_person_gbp
        if config.bring_back_cost_per_person_gbp > 0:
            flights += timeline.per_day(back, days) * config.bring_back_cost_per_person_gbp
        return {
            "offshore_payments": payments,
            "offshore_flights": flights,
            "offshore_detention": detained * config.detention_cost_per_day_gbp,
        }

    def _charges(
        self,
        people: np.ndarray,
        arrived: np.ndarray,
        relocated: np.ndarray,
        left: np.ndarray,
        moved: np.ndarray,
        back: np.ndarray,
    ) -> dict[str, Charges]:
        """The costs of :meth:`_costs` that follow people, charged to each diverted record."""
        config, days = self.config, self.days
        years = config.processing_years * DAYS_PER_YEAR
        paying_until = np.minimum(relocated + years, left)
        daily = config.processing_payment_per_person_gbp / years
        return {
            "offshore_payments": Charges.join(
                event_charges(people, relocated, config.payment_per_relocation_gbp, days),
                stay_charges(people, relocated, paying_until, daily, days),
                event_charges(people, moved, config.departure_payment_gbp, days),
            ),
            "offshore_flights": Charges.join(
                event_charges(people, relocated, config.flight_cost_per_person_gbp, days),
                event_charges(people, back, config.bring_back_cost_per_person_gbp, days),
            ),
            "offshore_detention": stay_charges(
                people, arrived, relocated, config.detention_cost_per_day_gbp, days
            ),
        }


OffshoreConfig.runtime = Offshore
