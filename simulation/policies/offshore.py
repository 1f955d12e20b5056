"""Offshore processing, Rwanda style: new arrivals relocated to a third country before any UK
decision.

From the start date plus a legal delay, each new claimant on an eligible route and of an
eligible household is relocated with probability ``relocation_share``, as long as the policy
year's ``annual_capacity_people`` is not used up (first come, first served within the year).
Relocated people are detained for ``detention_days`` before their flight and never enter the UK
decision queue; everyone else goes through the UK system as usual.

The scheme may be halted (by the courts or a new government): with ``halt_probability`` it stops
at a time drawn uniformly within ``halt_within_days`` of the start. Nobody is relocated after
the halt (a claimant whose flight would fall after it stays in the UK system), and fixed
payments due after it are not made; those already made stay paid.

Costs follow the terms of the UK-Rwanda partnership as the NAO described them: fixed payments
on dates, a payment per person relocated, processing payments per person spread over five years
(stopping if the person leaves the third country, with a one-off payment then), flights, a
payment triggered when relocations reach a threshold, and detention before the flight.

``deterrence`` multiplies the arrival rate on the eligible routes while relocations are possible
(from the first possible relocation until a halt). Nobody knows its value: the default 1.0
means no deterrent effect; vary it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import Field

from ..core import timeline
from ..core.units import DAYS_PER_YEAR
from ..core.vocabulary import HOUSEHOLD_CODES, ROUTE_CODES, Household, Route
from .contract import (
    Payment,
    Policy,
    PolicyConfig,
    PolicyOutput,
    Stay,
    court_halt,
    payments_on_dates,
    policy_year,
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
        ge=0, le=1, description="share of relocated people who later leave the third country"
    )
    departure_payment_gbp: float = Field(
        ge=0, allow_inf_nan=False, description="one-off payment when a relocated person leaves"
    )
    deterrence: float = Field(
        1.0, ge=0, le=1, description="multiplier on eligible routes' arrival rate while running"
    )


class Offshore(Policy):
    name = "offshore"
    config: OffshoreConfig

    def __init__(self, config, scenario, rng, horizon) -> None:
        super().__init__(config, scenario, rng, horizon)
        self.first = self.start_time + config.legal_delay_days
        self.halt_time = court_halt(
            self.rng, config.halt_probability, config.halt_within_days, self.start_time
        )
        self.routes = {ROUTE_CODES[r] for r in config.eligible_routes}
        self.households = {HOUSEHOLD_CODES[h] for h in config.eligible_households}
        self.capacity = int(np.floor(config.annual_capacity_people))
        self.used: dict[int, int] = {}
        self.people: list[int] = []
        self.arrived: list[float] = []

    def _window(self, t: np.ndarray) -> np.ndarray:
        flight = t + self.config.detention_days
        return (t >= self.first) & (flight < self.halt_time)

    def arrival_multiplier(self, candidates: Mapping[str, np.ndarray]) -> np.ndarray:
        times = candidates["time"]
        factor = np.ones(len(times))
        running = (times >= self.first) & (times < self.halt_time)
        running &= np.isin(candidates["route"], list(self.routes))
        factor[running] = self.config.deterrence
        return factor

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
        self.used[year] = self.used.get(year, 0) + 1
        self.people.append(person)
        self.arrived.append(now)
        return True

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        people = np.array(self.people, dtype=np.int64)
        arrived = np.array(self.arrived, dtype=float)
        relocated = arrived + self.config.detention_days
        n = len(people)
        leaves = self.rng.random(n) < self.config.departure_share
        years = self.config.processing_years * DAYS_PER_YEAR
        departure = np.where(leaves, relocated + self.rng.random(n) * years, np.inf)
        done = relocated <= horizon
        return PolicyOutput(
            stays={"in_offshore_detention": Stay(people, arrived, relocated)},
            events={
                "relocations": relocated,
                "departures_from_third_country": departure[done],
            },
            summary={
                "relocations": int(done.sum()),
                "halted": float(np.isfinite(self.halt_time) and self.halt_time <= horizon),
                "halt_day": float(self.halt_time) if self.halt_time <= horizon else float("nan"),
            },
            costs=self._costs(arrived, relocated, departure),
        )

    def _costs(
        self, arrived: np.ndarray, relocated: np.ndarray, departure: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Daily payments to the third country, flights and detention before the flight."""
        config, days = self.config, self.days
        payments = payments_on_dates(
            config.fixed_payments, self.scenario.start_date, days, self.halt_time
        )
        payments += timeline.per_day(relocated, days) * config.payment_per_relocation_gbp
        years = config.processing_years * DAYS_PER_YEAR
        paying_until = np.minimum(relocated + years, departure)
        daily = config.processing_payment_per_person_gbp / years
        payments += timeline.stock(relocated, paying_until, days)[1:] * daily
        payments += timeline.per_day(departure, days) * config.departure_payment_gbp
        threshold = config.threshold_relocations
        if 0 < threshold <= len(relocated):
            when = np.sort(relocated)[threshold - 1]
            if when < days:
                payments[int(when)] += config.threshold_payment_gbp
        detained = timeline.stock(arrived, relocated, days)[1:]
        return {
            "offshore_payments": payments,
            "offshore_flights": timeline.per_day(relocated, days)
            * config.flight_cost_per_person_gbp,
            "offshore_detention": detained * config.detention_cost_per_day_gbp,
        }


OffshoreConfig.runtime = Offshore
