"""The revolving door by kind of exit, nationality group and date.

Each check counts, among people who left long enough before the end to have come back, the
share who came back, and compares it with the configured share within a 99.9% binomial
interval (fixed seeds).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny
from scipy import stats
from test_policies import HUBS

from simulation import ScenarioError
from simulation.core.records import ExitOutcome, Origin
from simulation.experiments.replications import run_one

QUICK = {"reentry_mean_delay_days": 1.0, "enforced_removals_per_month": 30}


def came_back(
    result,
    outcome: ExitOutcome,
    group: int | None = None,
    before: float = np.inf,
    origin: Origin | None = None,
):
    """(people who left that way before ``before``, how many of them came back)."""
    records = result.records
    left = (records["exit_outcome"] == outcome) & (records["t_exit"] < before)
    if origin is not None:
        left &= records["origin"] == origin
    if outcome == ExitOutcome.POLICY:
        left &= np.isin(
            np.arange(len(left)), result.policy_outputs["return_hubs"].details["removed_onward"]
        )
    if group is not None:
        left &= records["group"] == group
    back = np.isin(np.flatnonzero(left), records["parent"][records["origin"] == Origin.REENTRY])
    return int(left.sum()), int(back.sum())


def assert_share(counts: tuple[int, int], share: float, at_least: int = 40) -> None:
    n, k = counts
    assert n >= at_least, counts
    if share in (0.0, 1.0):
        assert k == share * n, counts
        return
    low, high = stats.binomtest(k, n).proportion_ci(0.999)
    assert low <= share <= high, (counts, share)


def run(after_refusal: dict, seed: int = 5, years: float = 3, **changes):
    scenario = tiny(after_refusal={**QUICK, **after_refusal}, **changes).with_years(years)
    return scenario, run_one(scenario, seed, keep_records=True)


def test_each_kind_of_exit_has_its_own_share():
    rules = [
        {"kinds": ["enforced"], "share": 0.7},
        {"kinds": ["voluntary"], "share": 0.15},
    ]
    scenario, result = run({"reentry_share": 0.4, "reentry_rules": rules})
    before = scenario.horizon_days - 30
    assert_share(came_back(result, ExitOutcome.REMOVED, before=before), 0.7)
    assert_share(came_back(result, ExitOutcome.VOLUNTARY, before=before), 0.15)


def test_a_rule_for_a_group_leaves_the_others_at_the_default():
    rules = [{"groups": ["low"], "share": 0.8}]
    bigger_stock = {"are_in_uk_people": 800}
    scenario, result = run(
        {"reentry_share": 0.1, "reentry_rules": rules}, initial_state=bigger_stock
    )
    before = scenario.horizon_days - 30
    low, high = list(scenario.nationality_groups).index("low"), 0
    assert_share(came_back(result, ExitOutcome.REMOVED, low, before), 0.8)
    assert_share(came_back(result, ExitOutcome.VOLUNTARY, low, before), 0.8)
    # the starting stock's exits are drawn all at once, apart from everyone else's
    stock = came_back(result, ExitOutcome.VOLUNTARY, low, before, Origin.STOCK_ARE)
    assert_share(stock, 0.8)
    assert_share(came_back(result, ExitOutcome.VOLUNTARY, high, before), 0.1)


def test_a_later_rule_overrides_an_earlier_one_for_what_it_names():
    rules = [
        {"share": 0.9},  # every kind, every group
        {"kinds": ["voluntary"], "share": 0.0},
    ]
    scenario, result = run({"reentry_share": 0.3, "reentry_rules": rules})
    before = scenario.horizon_days - 30
    assert_share(came_back(result, ExitOutcome.REMOVED, before=before), 0.9)
    assert_share(came_back(result, ExitOutcome.VOLUNTARY, before=before), 0.0)


def test_a_share_that_changes_on_a_date_applies_by_the_date_people_left():
    change = 365  # 2027-01-01
    scenario, result = run({"reentry_share": {"2026-01-01": 0.0, "2027-01-01": 1.0}})
    records = result.records
    back = records["parent"][records["origin"] == Origin.REENTRY]
    for outcome in (ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY):
        left = records["exit_outcome"] == outcome
        early = left & (records["t_exit"] < change)
        late = left & (records["t_exit"] >= change)
        late &= records["t_exit"] < scenario.horizon_days - 30
        assert early.sum() > 40 and late.sum() > 40
        assert not np.isin(np.flatnonzero(early), back).any()
        assert np.isin(np.flatnonzero(late), back).all()  # read on the day they left


def test_each_kind_has_its_own_mean_delay():
    rules = [
        {"kinds": ["enforced"], "share": 1.0, "mean_delay_days": 40.0},
        {"kinds": ["voluntary"], "share": 1.0, "mean_delay_days": 120.0},
    ]
    scenario, result = run({"reentry_share": 0.0, "reentry_rules": rules}, years=5)
    records = result.records
    child = np.flatnonzero(records["origin"] == Origin.REENTRY)
    parent = records["parent"][child]
    settled = records["t_exit"][parent] < scenario.horizon_days - 1200  # 10 mean delays
    for outcome, mean in ((ExitOutcome.REMOVED, 40.0), (ExitOutcome.VOLUNTARY, 120.0)):
        chosen = settled & (records["exit_outcome"][parent] == outcome)
        delays = (records["t_claim"][child] - records["t_exit"][parent])[chosen]
        assert len(delays) > 40
        # the sum of n unit-mean exponentials is Gamma(n): an exact interval for the mean
        n = len(delays)
        low, high = stats.gamma.interval(0.999, n, scale=1.0 / n)
        assert low * mean <= delays.mean() <= high * mean


def test_people_who_leave_a_return_hub_come_back_by_their_own_rule():
    rules = [
        {"kinds": ["from_policy"], "share": 1.0},
        {"kinds": ["enforced", "voluntary"], "share": 0.0},
    ]
    hubs = dict(HUBS, returned_share=0.0)
    # few removals, so the removal teams leave people in the ARE stock for the hubs to take
    # (at the quick tests' 30 a month they empty it of single adults before the hubs open)
    slow_removals = {"enforced_removals_per_month": 5}
    scenario, result = run(
        {"reentry_share": 0.5, "reentry_rules": rules, **slow_removals},
        seed=11,
        policies={"return_hubs": hubs},
    )
    before = scenario.horizon_days - 30
    assert_share(came_back(result, ExitOutcome.POLICY, before=before), 1.0, at_least=20)
    assert_share(came_back(result, ExitOutcome.REMOVED, before=before), 0.0)


def test_a_rule_naming_an_unknown_group_is_refused_by_name():
    with pytest.raises(ScenarioError) as excinfo:
        tiny(after_refusal={"reentry_rules": [{"groups": ["albania"], "share": 0.2}]})
    problems = dict(excinfo.value.problems)
    assert "unknown nationality group 'albania'" in problems["after_refusal.reentry_rules.0.groups"]


def test_a_rule_that_sets_nothing_is_refused():
    with pytest.raises(ScenarioError) as excinfo:
        tiny(after_refusal={"reentry_rules": [{"kinds": ["enforced"]}]})
    problems = dict(excinfo.value.problems)
    assert "must set share or mean_delay_days" in problems["after_refusal.reentry_rules.0"]
