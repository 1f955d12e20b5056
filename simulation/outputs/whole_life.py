"""Whole-life costs: what the people in the system at the end date will still cost.

Costs within a run stop at its end date, so a person who arrives late is charged little UK
support while a policy's payments for them may be counted in full, and a comparison moves
with the horizon. The whole-life cost adds, for everyone still in the system at the end
date, the expected remaining cost of their way out, estimated from the model's own rates:
the same run (same scenario, seed and random streams, so the same people up to the end date)
is continued with nobody arriving after the end date, for a number of years or until
everyone has left, and the costs of the days after the end date are added.

What the tail counts: accommodation, support, decisions and appeals (each priced per case,
whatever the scenario's staff costing: idle capacity after the end date is not the cost of
anyone in the system), removals and returns, and the policies' costs that follow people
(payments per person, stays in a hub or a third country). A policy's fixed costs (dated
payments, running costs: ``PolicyOutput.fixed_costs``) are left out after the end date. The
discounted form discounts the tail to the run's start date like every other cost.

The same continued run gives the whole-life cost of a claim by route and outcome
(:mod:`.claim_costs`), reported beside the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine import accommodation
from ..engine.pipeline import RunRecords
from . import claim_costs, costs


@dataclass(frozen=True)
class AfterEnd:
    """What a whole-life run adds to a run's results: the nominal and discounted costs of the
    days after the end date, and the summary families of the cost of a claim."""

    nominal_gbp: float
    discounted_gbp: float
    families: dict[str, dict] = field(default_factory=dict)


def after_end(tail: RunRecords, end_day: int) -> AfterEnd:
    """Everything a whole-life run adds (see the module docstring)."""
    nominal, discounted = tail_costs(tail, end_day)
    table = claim_costs.claim_costs(tail, float(end_day))
    return AfterEnd(nominal, discounted, claim_costs.summary_families(table))


def tail_costs(tail: RunRecords, end_day: int) -> tuple[float, float]:
    """Nominal and discounted costs of the days from ``end_day`` on of a run continued past
    its end date with no arrivals after it (see the module docstring)."""
    scenario = tail.scenario.with_overrides(
        {"costs.decision_costs": "per_case", "costs.appeal_costs": "per_case"}
    )
    days = int(round(tail.horizon))
    occupancy = accommodation.occupancy(tail.records, scenario, days)
    ledger = costs.ledger(tail.records, scenario, occupancy, days)
    for output in tail.policy_outputs.values():
        costs.add(ledger, output.costs)
        for name, fixed in output.fixed_costs.items():
            ledger[name] = ledger[name] - fixed
    daily = np.sum(list(ledger.values()), axis=0)[end_day:]
    factors = costs.discount_factors(scenario.discount_rate_per_year, days)[end_day:]
    return float(daily.sum()), float((daily * factors).sum())
