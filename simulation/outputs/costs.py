"""The cost ledger: every pound by category and day, computed after the run.

Categories of the core model:

- ``accommodation_<type>``: people housed each night times the type's cost per person-night
  (for hotels, times the beds paid for per person housed: contracts pay for empty beds);
- ``support_allowance``: the weekly cash allowance of every housed person, by type;
- ``caseworking``: by default (``costs.decision_costs: fixed``) caseworker FTEs employed each
  day times their daily cost, paid whether or not there is work; with ``per_case``, each
  initial decision costs an FTE-year over the cases an FTE decides in a year, at the
  productivity in force when the caseworker took the claim up, charged on the day of the
  decision;
- ``tribunal``: by default (``costs.appeal_costs: per_case``) appeals determined times the
  cost per case; with ``fixed``, the judge capacity of each day (judges times the cases each
  determines a day) times the cost per case, whatever the judges determine;
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
from ..core.records import AppealOutcome, DecisionOutcome, ExitOutcome
from ..core.units import DAYS_PER_WEEK, DAYS_PER_YEAR
from ..engine.accommodation import Occupancy
from ..inputs.scenario import Scenario

MONTHS_PER_YEAR = 12


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
    out["caseworking"] = caseworking(records, scenario, days)
    out["tribunal"] = tribunal(records, scenario, days)
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


def caseworking(records: dict[str, np.ndarray], scenario: Scenario, days: int) -> np.ndarray:
    """Daily cost (GBP) of initial decisions, fixed or per case (``costs.decision_costs``)."""
    costs = scenario.costs
    if costs.decision_costs == "fixed":
        fte = schedules.daily(scenario.decisions.caseworkers_fte, scenario.start_date, days)
        return fte * costs.caseworker_cost_per_fte_year_gbp / DAYS_PER_YEAR
    decided = np.isin(records["dec_outcome"], (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED))
    t_end = records["t_dec_end"][decided]
    t_start = records["t_dec_start"][decided]
    keep = np.isfinite(t_end) & (t_end >= 0) & (t_end < days)
    started = np.floor(t_start[keep]).astype(np.int64)
    unit = decision_cost_per_person(scenario, days)[started]
    if not np.all(np.isfinite(unit)):
        raise RuntimeError("a decision was started on a day with no caseworker productivity")
    day = np.floor(t_end[keep]).astype(np.int64)
    return np.bincount(day, weights=unit, minlength=days)[:days]


def decision_cost_per_person(scenario: Scenario, days: int) -> np.ndarray:
    """GBP per person decided, for work taken up on each day 0..days-1: an FTE-year's cost
    over the people an FTE decides in a year at that day's productivity (12 x decisions per
    FTE per month, in cases, times people per case). NaN on days with no productivity."""
    per_month = schedules.daily(
        scenario.decisions.decisions_per_fte_per_month, scenario.start_date, days
    )
    people_per_fte_year = MONTHS_PER_YEAR * per_month * scenario.people_per_case
    return np.divide(
        scenario.costs.caseworker_cost_per_fte_year_gbp,
        people_per_fte_year,
        out=np.full(days, np.nan),
        where=people_per_fte_year > 0,
    )


def tribunal(records: dict[str, np.ndarray], scenario: Scenario, days: int) -> np.ndarray:
    """Daily cost (GBP) of appeals, per case or fixed (``costs.appeal_costs``)."""
    costs = scenario.costs
    if costs.appeal_costs == "fixed":
        appeals = scenario.appeals
        judges = schedules.daily(appeals.judges_fte, scenario.start_date, days)
        per_judge = schedules.daily(
            appeals.determinations_per_judge_per_day, scenario.start_date, days
        )
        return judges * per_judge * costs.tribunal_cost_per_case_gbp
    determined = np.isin(records["app_outcome"], (AppealOutcome.ALLOWED, AppealOutcome.DISMISSED))
    return (
        timeline.per_day(records["t_app_end"][determined], days)
        * costs.tribunal_cost_per_case_gbp
        / scenario.people_per_case
    )


def add(ledger: dict[str, np.ndarray], more: Mapping[str, np.ndarray]) -> None:
    """Add a policy's daily costs to the ledger: new categories appended, amounts in an
    existing category (a credit, when the policy replaces a core cost) summed."""
    for name, values in more.items():
        ledger[name] = ledger[name] + values if name in ledger else values


def discount_factors(rate_per_year: float, days: int) -> np.ndarray:
    return (1.0 + rate_per_year) ** (-np.arange(days) / DAYS_PER_YEAR)
