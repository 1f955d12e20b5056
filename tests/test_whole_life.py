"""Whole-life costs: the run continued past its end date with nobody arriving, its costs
after the end date added, so that break-even stops depending on the horizon."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny
from test_deterrence import DETERRING

from simulation import run
from simulation.core.errors import InputError
from simulation.engine import accommodation
from simulation.experiments.comparison import break_even
from simulation.experiments.evaluate import _simulate, run_one
from simulation.inputs.scenario import add_years
from simulation.outputs import costs

NO_ARRIVALS = {
    route: {"rate_per_month": 0, "claim_share": 1.0, "support_share": 0.0}
    for route in ("small_boat", "other_irregular", "in_country")
}
PER_CASE = {"decision_costs": "per_case", "appeal_costs": "per_case"}


def _ledger(run) -> np.ndarray:
    days = int(round(run.horizon))
    occupancy = accommodation.occupancy(run.records, run.scenario, days)
    ledger = costs.ledger(run.records, run.scenario, occupancy, days)
    for output in run.policy_outputs.values():
        costs.add(ledger, output.costs)
    return np.sum(list(ledger.values()), axis=0)


def test_the_continued_run_is_the_same_run_up_to_the_end_date():
    """On the same streams, with arrivals only up to the end date, every day's cost up to
    the end date is the ordinary run's, to the penny: the tail follows the same people."""
    scenario = tiny(policies={"offshore": dict(DETERRING, relocation_share=0.3)})
    end = scenario.horizon_days
    longer = scenario.with_overrides({"end_date": add_years(scenario.end_date, 5)})
    ordinary = _ledger(_simulate(scenario, 4, 0))
    continued = _ledger(_simulate(longer, 4, 0, arrivals_until=float(end)))
    assert len(continued) > len(ordinary) == end
    np.testing.assert_array_equal(continued[:end], ordinary)
    assert continued[end:].sum() > 0  # the people left at the end still cost something


def test_with_no_arrivals_whole_life_is_the_cost_of_a_run_until_everyone_has_left():
    """Nobody arrives in either run, staff are paid per case: one year plus its whole-life
    tail of 30 years costs what a 31-year run costs."""
    scenario = tiny(arrivals=NO_ARRIVALS, costs=PER_CASE)
    year = run_one(scenario, 5, 0, whole_life_years=30)
    long_run = run_one(scenario.with_years(31), 5, 0)
    assert year.summary["total_cost_whole_life_gbp"] == pytest.approx(
        long_run.summary["total_cost_gbp"], rel=1e-9
    )
    assert year.summary["total_cost_whole_life_discounted_gbp"] == pytest.approx(
        long_run.summary["total_cost_discounted_gbp"], rel=1e-9
    )
    assert year.summary["total_cost_whole_life_gbp"] > year.summary["total_cost_gbp"]


def test_whole_life_costs_only_when_asked_for():
    result = run_one(tiny(), 1, 0)
    assert "total_cost_whole_life_gbp" not in result.summary


@pytest.mark.slow
def test_break_even_on_whole_life_costs_does_not_depend_on_the_horizon():
    """Constant rates, no queue that grows, accommodation that costs the same for every
    person (all in dispersal), and a policy whose costs run at a constant rate (per person
    relocated, no lump sums): the deterred share at which it breaks even on whole-life costs
    is the same at 5 and 10 years, within the confidence intervals. On costs within the run
    it is not: a late arrival's UK costs are cut off at the end date, the policy's are not."""
    steady = dict(DETERRING, relocation_share=0.3, fixed_payments=[], threshold_relocations=0)
    stable = {
        "decisions": {"caseworkers_fte": 20},
        "appeals": {"judges_fte": 10},
        "accommodation": {"dispersal": {"capacity_people": 100000}},
    }
    policy = tiny(policies={"offshore": steady}, **stable)

    def at(years: int, metric: str):
        baseline = tiny(**stable).with_years(years)
        return break_even(baseline, policy.with_years(years), metric=metric, replications=8, seed=3)

    five, ten = (at(years, "total_cost_whole_life_discounted_gbp") for years in (5, 10))
    assert five.metric == "total_cost_whole_life_discounted_gbp"
    assert five.ci_low <= ten.ci_high and ten.ci_low <= five.ci_high
    five, ten = (at(years, "total_cost_discounted_gbp") for years in (5, 10))
    assert five.ci_high < ten.ci_low


def test_a_policy_s_fixed_payments_after_the_end_date_are_not_charged_to_anyone():
    """A lump sum dated after the end date is not a cost of the people in the system then:
    the whole-life total is the same with or without it, while the policy's payments that
    follow people (processing in the third country) go on being counted after the end."""
    relocating = dict(DETERRING, relocation_share=0.3, fixed_payments=[])
    later = dict(relocating, fixed_payments=[{"date": "2027-06-01", "amount_gbp": 5_000_000}])
    without, with_later = (
        run_one(tiny(policies={"offshore": config}), 6, 0, whole_life_years=10)
        for config in (relocating, later)
    )
    assert with_later.summary["total_cost_whole_life_gbp"] == pytest.approx(
        without.summary["total_cost_whole_life_gbp"], rel=1e-12
    )
    in_run = without.summary["cost_by_category_gbp"]["offshore_payments"]
    tail = without.summary["total_cost_whole_life_gbp"] - without.summary["total_cost_gbp"]
    assert in_run > 0 and tail > 0


@pytest.mark.parametrize("years", [0, -5, float("inf"), "30"])
def test_a_whole_life_period_that_is_not_positive_is_refused_by_name(years):
    with pytest.raises(InputError, match="whole_life_years: must be a positive number"):
        run(tiny(), seed=1, whole_life_years=years)
