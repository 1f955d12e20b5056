"""Staff costs, fixed or per case (``costs.decision_costs``, ``costs.appeal_costs``).

Fixed: the capacity on each date is paid whatever it does. Per case: each decision costs an
FTE-year over the people an FTE decides in a year at the productivity in force when the work
was taken up; each appeal determined costs the tribunal's cost per case.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import BASELINE, tiny
from scipy import stats

from simulation import Scenario, ScenarioError, run
from simulation.core import schedules, timeline
from simulation.core.records import AppealOutcome, DecisionOutcome
from simulation.core.units import DAYS_PER_MONTH, DAYS_PER_YEAR
from simulation.inputs.scenario import UnitCosts

FTE_COST = 50_000
CASE_COST = 556
PER_CASE = {"decision_costs": "per_case", "appeal_costs": "per_case"}
FIXED = {"decision_costs": "fixed", "appeal_costs": "fixed"}
STAFF = ("caseworking", "tribunal")


def staff_costs(result) -> dict[str, float]:
    by_category = result.summary["cost_by_category_gbp"]
    return {name: by_category[name] for name in STAFF}


def daily(result, name: str) -> np.ndarray:
    """A cost category's daily amounts, from its cumulative series."""
    wide = result.series_wide()
    return np.diff(wide[f"cumulative_cost_{name}_gbp"].to_numpy())


def no_claims(**costs: str) -> Scenario:
    """Nobody arrives, nobody waits for a decision or an appeal, nobody comes back."""
    zero = {"rate_per_month": 0}
    return tiny(
        arrivals={"small_boat": zero, "other_irregular": zero, "in_country": zero},
        after_refusal={"further_submission_rate_per_year": 0, "reentry_share": 0},
        initial_state={
            "awaiting_decision_people": 0,
            "awaiting_over_12_months_people": 0,
            "appeals_pending_people": 0,
            "supported_people": 20,
            "are_supported_people": 20,
        },
        costs=costs,
    )


# ---------------------------------------------------------------------------- per case


def test_per_case_decision_cost_is_decisions_times_the_unit_cost_of_their_dates():
    productivity = {"2026-01-01": 18, "2026-07-01": 12}
    scenario = tiny(
        people_per_case=1.3,
        decisions={"decisions_per_fte_per_month": productivity},
        costs=PER_CASE,
    )
    result = run(scenario, seed=3, keep_records=True)
    records, days = result.records, scenario.horizon_days
    decided = np.isin(records["dec_outcome"], (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED))
    # decided within the run (the start state's move-on people were granted before it)
    decided &= (records["t_dec_end"] >= 0) & (records["t_dec_end"] < days)
    change = float((date(2026, 7, 1) - scenario.start_date).days)
    early = decided & (records["t_dec_start"] < change)
    late = decided & (records["t_dec_start"] >= change)
    n_early, n_late = int(early.sum()), int(late.sum())
    assert n_early > 1000 and n_late > 500
    per_person = {rate: FTE_COST / (12 * rate * 1.3) for rate in (18, 12)}
    expected = n_early * per_person[18] + n_late * per_person[12]
    assert staff_costs(result)["caseworking"] == pytest.approx(expected, rel=1e-12)

    # day by day: each decision on the day it was made, at the price of the day it started
    price = np.where(records["t_dec_start"][decided] < change, per_person[18], per_person[12])
    on_day = np.floor(records["t_dec_end"][decided]).astype(int)
    by_day = np.bincount(on_day, weights=price, minlength=days)
    np.testing.assert_allclose(daily(result, "caseworking"), by_day, rtol=1e-9, atol=1e-6)

    # the tribunal: appeals determined times the cost per case, in people
    determined = np.isin(records["app_outcome"], (AppealOutcome.ALLOWED, AppealOutcome.DISMISSED))
    n_determined = int(np.count_nonzero(records["t_app_end"][determined] < days))
    assert staff_costs(result)["tribunal"] == pytest.approx(
        n_determined * CASE_COST / 1.3, rel=1e-12
    )


def test_per_case_pays_nothing_when_there_is_nothing_to_decide():
    result = run(no_claims(**PER_CASE), seed=1)
    assert result.summary["grants_initial"] + result.summary["refusals_initial"] == 0
    assert staff_costs(result) == {"caseworking": 0.0, "tribunal": 0.0}


def test_per_case_equals_fixed_when_caseworkers_are_never_idle():
    """With more claims waiting than can be decided all year and exponential work, decisions
    are a Poisson process at the pool's full rate, so per-case spending is a Poisson count
    times the unit cost and the fixed bill is its mean."""
    fte, per_month, ppc = 12, 18, 1.3
    scenario = tiny(
        people_per_case=ppc,
        decisions={"withdrawal_rate_per_year": 0},
        initial_state={
            "awaiting_decision_people": 5000,
            "awaiting_over_12_months_people": 0,
            "awaiting_oldest_claim_days": 200,
        },
    )
    days = scenario.horizon_days
    mean = fte * per_month * ppc / DAYS_PER_MONTH * days
    unit = FTE_COST / (12 * per_month * ppc)
    fixed = run(scenario.with_overrides({"costs.decision_costs": "fixed"}), seed=5)
    per_case = run(scenario.with_overrides({"costs.decision_costs": "per_case"}), seed=5)
    assert staff_costs(fixed)["caseworking"] == pytest.approx(mean * unit, rel=1e-12)
    assert per_case.summary["final_backlog_initial"] > 0  # never idle
    low, high = stats.poisson.interval(0.999, mean)
    assert low * unit <= staff_costs(per_case)["caseworking"] <= high * unit


# ---------------------------------------------------------------------------- fixed


def test_fixed_staff_are_paid_whether_or_not_there_are_claims():
    with_claims = run(tiny(costs=FIXED), seed=2)
    without = run(no_claims(**FIXED), seed=2)
    assert with_claims.summary["claims"] > 1000 and without.summary["claims"] == 0
    assert staff_costs(without) == staff_costs(with_claims)
    days = 365  # 2026
    assert staff_costs(without)["caseworking"] == pytest.approx(
        12 * FTE_COST * days / DAYS_PER_YEAR, rel=1e-12
    )
    # judge capacity: judges x cases a judge determines a day x cost per case
    assert staff_costs(without)["tribunal"] == pytest.approx(4 * 0.8 * CASE_COST * days, rel=1e-12)


def test_fixed_tribunal_follows_the_judge_capacity_schedule():
    scenario = tiny(
        appeals={
            "judges_fte": {"2026-01-01": 4, "2026-04-01": 6},
            "determinations_per_judge_per_day": {"2026-01-01": 0.8, "2026-10-01": 0.5},
        },
        costs=FIXED,
    )
    result = run(scenario, seed=1)
    judges = schedules.daily(scenario.appeals.judges_fte, scenario.start_date, 365)
    rate = schedules.daily(
        scenario.appeals.determinations_per_judge_per_day, scenario.start_date, 365
    )
    np.testing.assert_allclose(daily(result, "tribunal"), judges * rate * CASE_COST, rtol=1e-9)
    assert daily(result, "tribunal")[0] == pytest.approx(4 * 0.8 * CASE_COST)
    assert daily(result, "tribunal")[-1] == pytest.approx(6 * 0.5 * CASE_COST)


def test_half_the_arrivals_cost_less_per_case_and_the_same_fixed():
    def halved(**costs: str) -> Scenario:
        base = tiny(costs=costs)
        arrivals = base.arrivals
        return base.with_overrides(
            {
                f"arrivals.{route}.rate_per_month": getattr(arrivals, route).rate_per_month / 2
                for route in ("small_boat", "other_irregular", "in_country")
            }
        )

    per_case = staff_costs(run(tiny(costs=PER_CASE), seed=4))
    per_case_half = staff_costs(run(halved(**PER_CASE), seed=4))
    assert per_case_half["caseworking"] < 0.8 * per_case["caseworking"]
    assert per_case_half["tribunal"] < per_case["tribunal"]
    assert staff_costs(run(halved(**FIXED), seed=4)) == staff_costs(run(tiny(costs=FIXED), seed=4))


# ---------------------------------------------------------------------------- defaults


def test_defaults_are_fixed_caseworkers_and_a_tribunal_paid_per_case():
    assert UnitCosts.model_fields["decision_costs"].default == "fixed"
    assert UnitCosts.model_fields["appeal_costs"].default == "per_case"
    baseline = Scenario.from_yaml(BASELINE)
    assert (baseline.costs.decision_costs, baseline.costs.appeal_costs) == ("fixed", "per_case")
    for key in ("costs.decision_costs", "costs.appeal_costs"):
        assert baseline.sources[key].kind == "assumption" and baseline.sources[key].note


def test_the_default_ledger_is_the_one_before_the_option_bit_for_bit():
    scenario = tiny(
        people_per_case=1.3, decisions={"caseworkers_fte": {"2026-01-01": 12, "2026-05-01": 9}}
    )
    explicit = scenario.with_overrides(
        {"costs.decision_costs": "fixed", "costs.appeal_costs": "per_case"}
    )
    default = run(scenario, seed=6, keep_records=True)
    assert default.flat_summary() == run(explicit, seed=6).flat_summary()
    # the formulas the ledger used before staff costs had a choice
    days, records = scenario.horizon_days, default.records
    fte = schedules.daily(scenario.decisions.caseworkers_fte, scenario.start_date, days)
    determined = np.isin(records["app_outcome"], (AppealOutcome.ALLOWED, AppealOutcome.DISMISSED))
    tribunal = timeline.per_day(records["t_app_end"][determined], days) * CASE_COST / 1.3
    assert default.summary["cost_by_category_gbp"]["caseworking"] == float(
        (fte * FTE_COST / DAYS_PER_YEAR).sum()
    )
    assert default.summary["cost_by_category_gbp"]["tribunal"] == float(tribunal.sum())


def test_an_unknown_costing_is_an_error_naming_the_field_and_the_choices():
    with pytest.raises(ScenarioError) as excinfo:
        tiny(costs={"appeal_costs": "variable"})
    assert excinfo.value.problems == [
        ("costs.appeal_costs", "Input should be 'fixed' or 'per_case', got 'variable'")
    ]
