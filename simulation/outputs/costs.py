"""The cost ledger: every pound by category and day, computed after the run.

Categories of the core model:

- ``accommodation_<type>``: people housed each night times the type's cost per person-night
  (for hotels, times the beds paid for per person housed: contracts pay for empty beds);
- ``support_allowance``: the weekly cash allowance of every housed person, by type;
- ``caseworking``: caseworker FTEs employed each day times their daily cost (paid whether or
  not there is work);
- ``tribunal``: appeals determined times the cost per case;
- ``enforced_removal`` and ``voluntary_return``: per person leaving.

A night is counted at the midnight that ends it, so the cost of day d uses the occupancy at
t = d + 1. Costs are in constant prices ("nominal" below means undiscounted); the discounted
total uses the scenario's rate per year, continuously over days: a pound spent on day d is
worth (1 + r) ** (-d / 365.25) today, as in HM Treasury's Green Book convention.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core import schedules, timeline
from ..core.records import AppealOutcome, ExitOutcome
from ..core.units import DAYS_PER_WEEK, DAYS_PER_YEAR
from ..engine.accommodation import Occupancy
from ..inputs.scenario import Scenario


def ledger(
    records: dict[str, np.ndarray], scenario: Scenario, occupancy: Occupancy, days: int
) -> dict[str, np.ndarray]:
    """Daily cost (GBP) by category for days 0..days-1."""
    acc = scenario.accommodation
    costs = scenario.costs
    allowance = np.zeros(days)
    out: dict[str, np.ndarray] = {}
    for name, housed in occupancy.by_type.items():
        nights = housed[1 : days + 1]
        kind = getattr(acc, name)
        price = schedules.daily(kind.cost_per_person_night_gbp, scenario.start_date, days)
        if hasattr(kind, "paid_beds_per_occupant"):
            price = price * schedules.daily(kind.paid_beds_per_occupant, scenario.start_date, days)
        out[f"accommodation_{name}"] = nights * price
        allowance += nights * kind.allowance_per_person_week_gbp / DAYS_PER_WEEK
    out["support_allowance"] = allowance
    fte = schedules.daily(scenario.decisions.caseworkers_fte, scenario.start_date, days)
    out["caseworking"] = fte * costs.caseworker_cost_per_fte_year_gbp / DAYS_PER_YEAR
    determined = np.isin(records["app_outcome"], (AppealOutcome.ALLOWED, AppealOutcome.DISMISSED))
    out["tribunal"] = (
        timeline.per_day(records["t_app_end"][determined], days)
        * costs.tribunal_cost_per_case_gbp
        / scenario.people_per_case
    )
    exit_ = records["exit_outcome"]
    out["enforced_removal"] = (
        timeline.per_day(records["t_exit"][exit_ == ExitOutcome.REMOVED], days)
        * costs.enforced_removal_cost_per_person_gbp
    )
    out["voluntary_return"] = (
        timeline.per_day(records["t_exit"][exit_ == ExitOutcome.VOLUNTARY], days)
        * costs.voluntary_return_cost_per_person_gbp
    )
    return out


def add(ledger: dict[str, np.ndarray], more: Mapping[str, np.ndarray]) -> None:
    """Add a policy's daily costs to the ledger: new categories appended, amounts in an
    existing category (a credit, when the policy replaces a core cost) summed."""
    for name, values in more.items():
        ledger[name] = ledger[name] + values if name in ledger else values


def discount_factors(rate_per_year: float, days: int) -> np.ndarray:
    return (1.0 + rate_per_year) ** (-np.arange(days) / DAYS_PER_YEAR)
