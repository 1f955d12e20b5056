"""Edges of the fast track, of removal classes limited to recent claims, of shares of
removals (fair queuing) and of the exits target."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import simpy
from conftest import tiny
from test_fast_track import FAST, congested, on_track
from test_removals import removals, stock_only

from simulation.core.records import DecisionOutcome, ExitOutcome, Origin
from simulation.engine.decisions import FastTrackRule
from simulation.engine.queueing import Callbacks, Queue
from simulation.engine.removals import dated_tiers
from simulation.experiments.replications import run_one
from simulation.validation.targets import Target, simulated


def test_a_fast_track_window_includes_its_first_day_and_excludes_its_last():
    rule = FastTrackRule(None, None, start=10.0, end=20.0, certified_share=1.0)
    t = np.array([9.999, 10.0, 19.999, 20.0])
    assert rule.matches(np.zeros(4), np.zeros(4), t).tolist() == [False, True, True, False]


def test_a_claim_matching_two_fast_track_rules_follows_the_first():
    scenario = congested(
        [
            dict(FAST, claims_from="2026-01-01", certified_share=1.0),
            {"name": "everyone", "claims_from": "2026-01-01", "certified_share": 0.0},
        ],
        appeals={"lodged_share": 1.0},
    )
    records = run_one(scenario, 4, keep_records=True).records
    refused = records["dec_outcome"] == DecisionOutcome.REFUSED
    fast = on_track(records, scenario) & refused
    no_appeal = ~np.isfinite(records["t_app_start"])
    assert fast.sum() > 100 and np.all(no_appeal[fast])


def test_a_removal_class_counts_claims_from_its_first_day():
    members = np.ones((1, 1, 1, 1), bool)
    zeros = np.zeros(3, int)
    since = np.array([10.0])
    tiers = dated_tiers((members, since), zeros, zeros, zeros, np.array([9.5, 10.0, 11.0]))
    assert tiers.tolist() == [1, 0, 0]


def test_an_undated_class_keeps_its_place_beside_a_dated_one():
    scenario = stock_only(
        60,
        removal_priority=[
            {"name": "low first", "groups": ["low"]},
            {"name": "recent", "claimed_from": "2030-01-01"},
        ],
    )
    times, groups = removals(run_one(scenario, 2, keep_records=True))
    low = list(scenario.nationality_groups).index("low")
    assert (groups != low).sum() > 30
    assert times[groups == low].max() < times[groups != low].min()


def test_older_claims_reaching_appeal_rights_exhausted_during_the_run_are_not_recent():
    """People of the starting appeal stock join the removal queue during the run with claims
    made before the class's date: they wait behind refused new claimants."""
    recent = [{"name": "recent", "claimed_from": "2026-01-01"}]
    after_refusal = {
        "enforced_removals_per_month": 10,
        "voluntary_departure_rate_per_year": 0.0,
        "further_submission_rate_per_year": 0.0,
        "absconding_rate_per_year": 0.0,
    }
    common = dict(
        initial_state={
            "are_in_uk_people": 0,
            "are_supported_people": 0,
            "appeals_pending_people": 300,
        },
        nationality_groups={"high": {"returnable_share": 1.0}, "low": {"returnable_share": 1.0}},
    )
    fast = [dict(FAST, claims_from="2026-01-01", certified_share=1.0)]

    def removed_old(removal_priority) -> int:
        scenario = congested(
            fast, after_refusal={**after_refusal, "removal_priority": removal_priority}, **common
        )
        records = run_one(scenario, 6, keep_records=True).records
        removed = records["exit_outcome"] == ExitOutcome.REMOVED
        return int((removed & (records["origin"] == Origin.STOCK_APPEAL)).sum())

    print(removed_old([]), removed_old(recent))
    assert removed_old([]) > 50
    assert removed_old(recent) < 0.2 * removed_old([])


def weighted_starts(weights, zero_weight_only: bool = False) -> list[int]:
    """Tier of each start: one server, unit work; tier 0 has 100 people from day 0, tier 1
    has 40 arriving on day 50 (nothing earlier: no credit)."""
    env = simpy.Environment()
    n0, n1 = 100, 40
    work = np.ones(n0 + n1)
    entry = np.r_[np.zeros(n0), np.full(n1, 50.0)]
    started: list[int] = []
    queue = Queue(
        env,
        "q",
        memoryview(work),
        memoryview(entry),
        Callbacks(lambda p, t: True, lambda p, t: started.append(int(p >= n0)), lambda p, t: None),
        tiers=2,
    )
    queue.preload(np.arange(n0), entry[:n0], tier=0)
    queue.preload(np.arange(n0, n0 + n1), entry[n0:], tier=1)
    queue.set_weights(weights)
    queue.set_rate(1.0)
    queue.set_servers(1)
    env.run(until=1000)
    return started


def test_a_tier_that_was_idle_gets_its_share_from_then_on_not_a_burst():
    started = weighted_starts([0.5, 0.5])
    assert started[:50] == [0] * 50
    after = started[50:70]  # both tiers waiting: they alternate
    assert abs(sum(after) - 10) <= 1


def test_a_tier_of_weight_zero_is_served_only_when_nobody_else_waits():
    started = weighted_starts([0.0, 1.0])
    assert len(started) == 140
    assert started[50:90] == [1] * 40  # from day 50 tier 1 takes every start
    assert started[90:] == [0] * 50


def exits_target(**changes) -> Target:
    fields = dict(
        id="x",
        group="V9",
        label="x",
        kind="exits",
        exits=["removed", "voluntary"],
        routes=["small_boat"],
        start="2026-02-01",
        end="2026-03-01",
        published=1.0,
        tolerance=0.1,
    )
    return Target(**{**fields, **changes})


def test_an_exits_target_counts_the_named_exits_by_route_in_the_window():
    scenario = tiny()  # starts 2026-01-01: the window is days 31 to 59
    removed, voluntary, absconded = (
        ExitOutcome.REMOVED,
        ExitOutcome.VOLUNTARY,
        ExitOutcome.ABSCONDED,
    )
    records = {  # (t_exit, exit_outcome, route), route 0 = small_boat
        "t_exit": np.array([31.0, 40, 58.9, 40, 40, 30.9, 59, np.inf]),
        "exit_outcome": np.array(
            [removed, voluntary, removed, absconded, removed, removed, voluntary, 0]
        ),
        "route": np.array([0, 0, 0, 0, 1, 0, 0, 0]),
    }
    result = SimpleNamespace(records=records)
    assert simulated(exits_target(), result, scenario, None) == 3
    assert simulated(exits_target(exits=["removed"]), result, scenario, None) == 2
    assert simulated(exits_target(routes=None), result, scenario, None) == 4
    assert (
        simulated(
            exits_target(unit="cases"),
            result,
            scenario.model_copy(update={"people_per_case": 2.0}),
            None,
        )
        == 1.5
    )


def test_a_further_submission_keeps_the_date_of_the_first_claim():
    """People of the starting stock who make a further submission and are refused again
    reach the removal queue as new records claimed during the run; they are not recent
    claimants. With fewer removals than the stock, none of them is removed."""
    scenario = stock_only(
        10,
        further_submission_rate_per_year=2.0,
        removal_priority=[{"name": "recent", "claimed_from": "2026-01-01"}],
    )
    records = run_one(scenario, 3, keep_records=True).records
    again = records["origin"] == Origin.FURTHER_SUBMISSION
    assert (again & np.isfinite(records["t_are"])).sum() > 20  # they do reach the queue
    removed = records["exit_outcome"] == ExitOutcome.REMOVED
    assert not np.any(removed & again)


def test_routes_and_exits_on_another_kind_of_target_are_refused():
    with pytest.raises(ValueError, match="routes and exits apply only to exits targets"):
        exits_target(kind="flow", metric="cumulative_removals_enforced")
