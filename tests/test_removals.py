"""Enforced removals: priority classes are served first, capacity can be parallel teams.

The scenarios here hold only a starting stock of people with appeal rights exhausted, all
returnable, with no other way out, so every exit is a removal and the queue's order shows in
the order of the exits.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny
from scipy import stats

from simulation import ScenarioError
from simulation.core.records import ExitOutcome, Origin
from simulation.experiments.replications import run_one

NO_ARRIVALS = {
    route: {"rate_per_month": 0, "claim_share": 1.0, "support_share": 0.0}
    for route in ("small_boat", "other_irregular", "in_country")
}
ONLY_ARE_STOCK = {
    "awaiting_decision_people": 0,
    "awaiting_over_12_months_people": 0,
    "appeals_pending_people": 0,
    "are_in_uk_people": 400,
    "supported_people": 0,
    "are_supported_people": 0,
}


def stock_only(per_month: float, families: int = 0, **after_refusal):
    return tiny(
        arrivals=NO_ARRIVALS,
        initial_state=dict(
            ONLY_ARE_STOCK, supported_people=families, are_supported_people=families
        ),
        nationality_groups={
            "high": {"returnable_share": 1.0},
            "low": {"returnable_share": 1.0},
        },
        after_refusal={
            "enforced_removals_per_month": per_month,
            "voluntary_departure_rate_per_year": 0.0,
            "further_submission_rate_per_year": 0.0,
            "absconding_rate_per_year": 0.0,
            "reentry_share": 0.0,
            **after_refusal,
        },
    )


def removals(result) -> tuple[np.ndarray, np.ndarray]:
    records = result.records
    removed = (records["exit_outcome"] == ExitOutcome.REMOVED) & (
        records["origin"] == Origin.STOCK_ARE
    )
    return records["t_exit"][removed], records["group"][removed]


def test_a_priority_class_is_removed_before_everyone_else():
    scenario = stock_only(60, removal_priority=[{"name": "low first", "groups": ["low"]}])
    result = run_one(scenario, 2, keep_records=True)
    times, groups = removals(result)
    low = list(scenario.nationality_groups).index("low")
    stock = result.records["group"][result.records["origin"] == Origin.STOCK_ARE]
    assert (groups == low).sum() == (stock == low).sum()  # every low-group person removed
    assert (groups != low).sum() > 30  # then the others
    assert times[groups == low].max() < times[groups != low].min()


def test_without_classes_the_queue_is_first_come_first_served():
    result = run_one(stock_only(30), 2, keep_records=True)
    times, groups = removals(result)
    order = groups[np.argsort(times)]
    first_half = order[: len(order) // 2]
    assert 0 < first_half.mean() < 1  # both groups among the first removed


def families_and_boats(*classes: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Removal times of a stock with families, and who came by small boat or is a family."""
    result = run_one(
        stock_only(60, families=60, removal_priority=list(classes)), 4, keep_records=True
    )
    records = result.records
    removed = records["exit_outcome"] == ExitOutcome.REMOVED
    boat = records["route"][removed] == 0
    family = records["household"][removed] == 1
    return records["t_exit"][removed], boat, family


def test_a_class_by_route_and_household_is_served_in_its_order():
    times, boat, family = families_and_boats(
        {"name": "families", "households": ["family_member"]},
        {"name": "small boats", "routes": ["small_boat"]},
    )
    boat_only = boat & ~family
    rest = ~family & ~boat
    assert family.sum() > 0 and boat_only.sum() > 0 and rest.sum() > 0
    assert times[family].max() < times[boat_only].min()
    assert times[boat_only].max() < times[rest].min()


@pytest.mark.parametrize("teams", [None, 3])
def test_the_monthly_capacity_is_the_throughput_however_many_teams(teams):
    per_month, months = 25.0, 12
    extra = {} if teams is None else {"removal_teams": teams}
    result = run_one(stock_only(per_month, **extra), 6, keep_records=True)
    times, _ = removals(result)
    count = int((times <= months * 365.25 / 12).sum())
    # with every team always busy, removals are a Poisson stream at the monthly capacity
    low, high = stats.poisson.interval(0.999, per_month * months)
    assert low <= count <= high, count


def test_an_unknown_group_in_a_priority_class_is_refused_by_name():
    with pytest.raises(ScenarioError) as excinfo:
        stock_only(30, removal_priority=[{"name": "x", "groups": ["albania"]}])
    problems = dict(excinfo.value.problems)
    assert "after_refusal.removal_priority.0.groups" in problems
    assert (
        "unknown nationality group 'albania'" in problems["after_refusal.removal_priority.0.groups"]
    )


def test_a_person_matching_two_classes_belongs_to_the_first():
    times, boat, family = families_and_boats(
        {"name": "small boats", "routes": ["small_boat"]},
        {"name": "families", "households": ["family_member"]},
    )
    assert (boat & family).sum() > 5  # families who came by small boat are in both classes
    assert times[boat].max() < times[family & ~boat].min()


def test_classes_with_shares_of_removals_share_them_in_proportion():
    """The high group (46 of the 400 in the stock, a tenth of removals) and everyone else have
    people waiting for the first 300 removals, so fair queuing gives the high group a tenth of
    them, to within one."""
    scenario = stock_only(
        30, removal_priority=[{"name": "high", "groups": ["high"], "share_of_removals": 0.1}]
    )
    times, groups = removals(run_one(scenario, 2, keep_records=True))
    high = list(scenario.nationality_groups).index("high")
    order = groups[np.argsort(times)]
    assert len(order) > 300
    for n in (40, 120, 300):
        assert abs((order[:n] == high).sum() - 0.1 * n) <= 1.5


def test_a_share_of_removals_is_not_kept_for_a_class_with_nobody_waiting():
    """A class that matches nobody leaves all the capacity to everyone else."""
    recent = {"name": "recent", "claimed_from": "2030-01-01", "share_of_removals": 0.9}
    shared = stock_only(30, removal_priority=[recent])
    plain = stock_only(30)
    removed_shared = len(removals(run_one(shared, 2, keep_records=True))[0])
    removed_plain = len(removals(run_one(plain, 2, keep_records=True))[0])
    assert removed_shared == removed_plain


@pytest.mark.parametrize(
    "classes, message",
    [
        (
            [{"name": "a", "groups": ["low"], "share_of_removals": 0.5}, {"name": "b"}],
            "every class or on none",
        ),
        (
            [
                {"name": "a", "groups": ["low"], "share_of_removals": 0.7},
                {"name": "b", "share_of_removals": 0.6},
            ],
            "at most 1",
        ),
    ],
)
def test_shares_of_removals_are_all_or_none_and_sum_to_at_most_one(classes, message):
    with pytest.raises(ScenarioError, match=message):
        stock_only(30, removal_priority=classes)
