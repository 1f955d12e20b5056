"""Voluntary return: a paid incentive to leave.

From the start date, an incentive of ``payment_gbp`` per person multiplies the hazard of
voluntary departure of everyone whose appeal rights are exhausted by

    (payment_gbp / reference_payment_gbp) ** elasticity

where the reference is the payment the baseline's departure rate already reflects (the
Voluntary Returns Service's GBP 3,000). People already waiting when the incentive starts are
affected from that date on. Optionally the incentive is also offered before a decision: people
awaiting a decision then withdraw their claim and leave at ``pre_decision_departure_rate_per_year``
(at the reference payment, scaled the same way).

Each return under the policy costs the payment, a flight and administration; these replace the
baseline's average cost per voluntary return for departures after the start date.

How departures respond to the size of the payment has never been measured in the UK (the only
figure is a Home Office expectation for a 2006 pilot): ``elasticity`` is a guess and must be
varied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from pydantic import Field

from ..core import timeline
from ..core.errors import Problem
from ..core.records import DecisionOutcome, ExitOutcome
from ..core.units import DAYS_PER_YEAR
from .contract import Charges, Policy, PolicyConfig, PolicyOutput, event_charges

#: the largest factor the incentive may put on the departure hazard: at a million, the
#: baseline's 0.12 departures a person a year becomes one every few minutes; a larger factor
#: is a slip (and overflows past about 1e308)
MAX_MULTIPLIER = 1_000_000


class VoluntaryReturnConfig(PolicyConfig):
    """A paid incentive to leave voluntarily after refusal (optionally before a decision)."""

    payment_gbp: float = Field(gt=0, allow_inf_nan=False, description="incentive per person")
    reference_payment_gbp: float = Field(
        gt=0, allow_inf_nan=False, description="the payment the baseline departure rate reflects"
    )
    elasticity: float = Field(
        ge=0, allow_inf_nan=False, description="response of the departure hazard to the payment"
    )
    flight_cost_per_person_gbp: float = Field(ge=0, allow_inf_nan=False)
    administration_cost_per_person_gbp: float = Field(ge=0, allow_inf_nan=False)
    offer_before_decision: bool = Field(
        False, description="also offer the incentive to people awaiting a decision"
    )
    pre_decision_departure_rate_per_year: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="hazard of withdrawing and leaving while awaiting a decision, per year, "
        "at the reference payment",
    )

    def problems_with(self, scenario: object) -> list[Problem]:
        """A departure rate before decision needs the offer before decision switched on, and
        the incentive's multiplier must be a number a run can use."""
        problems: list[Problem] = []
        if self.pre_decision_departure_rate_per_year > 0 and not self.offer_before_decision:
            problems.append(
                (
                    "pre_decision_departure_rate_per_year",
                    "has no effect without offer_before_decision: true (the switch that "
                    "offers the incentive before a decision); switch it on or give 0",
                )
            )
        ratio = self.payment_gbp / self.reference_payment_gbp
        if self.elasticity * math.log(ratio) > math.log(MAX_MULTIPLIER):
            problems.append(
                (
                    "elasticity",
                    f"with payment_gbp / reference_payment_gbp = {ratio:g}, an elasticity of "
                    f"{self.elasticity:g} multiplies the departure hazard by more than "
                    f"{MAX_MULTIPLIER:,} (everyone would leave at once); give a smaller "
                    "elasticity or payment",
                )
            )
        return problems


class VoluntaryReturn(Policy):
    name = "voluntary_return"
    config: VoluntaryReturnConfig

    def __init__(self, config, scenario, rng, horizon) -> None:
        super().__init__(config, scenario, rng, horizon)
        self.multiplier = (config.payment_gbp / config.reference_payment_gbp) ** config.elasticity
        self.pre_decision_rate = (
            config.pre_decision_departure_rate_per_year / DAYS_PER_YEAR * self.multiplier
            if config.offer_before_decision
            else 0.0
        )
        self.leaving: dict[int, float] = {}

    def voluntary_departure_multiplier(self) -> list[tuple[float, float]]:
        return [(self.start_time, self.multiplier)]

    def on_claims(self, people: np.ndarray) -> None:
        if self.pre_decision_rate <= 0:
            return
        engine = self.engine
        start = np.maximum(np.maximum(engine.read("t_claim")[people], 0.0), self.start_time)
        with np.errstate(over="ignore"):  # a tiny rate: never, in effect
            leave = start + self.rng.standard_exponential(len(people)) / self.pre_decision_rate
        sooner = engine.withdraw_claims_by(people, leave)
        self.leaving.update(zip(people[sooner].tolist(), leave[sooner].tolist(), strict=True))

    def on_claim(self, person: int, now: float) -> None:
        if self.pre_decision_rate <= 0:
            return
        leave = max(now, self.start_time) + self.rng.standard_exponential() / (
            self.pre_decision_rate
        )
        if self.engine.withdraw_claim_by(person, leave):
            self.leaving[person] = leave

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        people = np.array(list(self.leaving), dtype=np.int64)
        planned = np.array(list(self.leaving.values()), dtype=float)
        kept = (records["dec_outcome"][people] == DecisionOutcome.WITHDRAWN) & (
            records["t_dec_end"][people] == planned
        )
        before = planned[kept]
        returned = (records["exit_outcome"] == ExitOutcome.VOLUNTARY) & (
            records["t_exit"] >= self.start_time
        )
        after_refusal = records["t_exit"][returned]
        return PolicyOutput(
            events={
                "incentivised_returns_after_refusal": after_refusal,
                "incentivised_returns_before_decision": before,
            },
            summary={
                "returns_after_refusal": int((after_refusal <= horizon).sum()),
                "returns_before_decision": int((before <= horizon).sum()),
                "departure_rate_multiplier": float(self.multiplier),
            },
            costs=self._costs(after_refusal, before),
            charges=self._charges(np.flatnonzero(returned), after_refusal, people[kept], before),
        )

    def _costs(self, after: np.ndarray, before: np.ndarray) -> dict[str, np.ndarray]:
        """Each return under the policy costs the payment, a flight and administration, in
        place of the baseline's average cost of a voluntary return (credited back)."""
        config, days = self.config, self.days
        per_return = (
            config.payment_gbp
            + config.flight_cost_per_person_gbp
            + config.administration_cost_per_person_gbp
        )
        after = timeline.per_day(after, days)
        before = timeline.per_day(before, days)
        return {
            "voluntary_return": -(after * self.scenario.costs.voluntary_return_cost_per_person_gbp),
            "voluntary_return_incentive": (after + before) * per_return,
        }

    def _charges(
        self, returned: np.ndarray, after: np.ndarray, withdrew: np.ndarray, before: np.ndarray
    ) -> dict[str, Charges]:
        """The costs of :meth:`_costs`, charged to the records that left under the policy."""
        config, days = self.config, self.days
        per_return = (
            config.payment_gbp
            + config.flight_cost_per_person_gbp
            + config.administration_cost_per_person_gbp
        )
        credit = -self.scenario.costs.voluntary_return_cost_per_person_gbp
        return {
            "voluntary_return": event_charges(returned, after, credit, days),
            "voluntary_return_incentive": Charges.join(
                event_charges(returned, after, per_return, days),
                event_charges(withdrew, before, per_return, days),
            ),
        }


VoluntaryReturnConfig.runtime = VoluntaryReturn
