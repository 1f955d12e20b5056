"""The fast track: named claims decided first and, when refused, certified with no appeal;
removal classes limited to recent claims.

The scenarios are the tiny one with too few caseworkers, so the decision queue grows and the
order in which claims are served shows.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny
from scipy import stats

from simulation import ScenarioError
from simulation.core.records import DecisionOutcome, ExitOutcome, Origin
from simulation.experiments.replications import run_one

FAST = {"name": "low by boat", "groups": ["low"], "routes": ["small_boat"]}


def congested(fast_track: list[dict], **changes):
    """Caseworkers decide about half of the claims, so a queue builds up."""
    return tiny(
        decisions={"caseworkers_fte": 6, "fast_track": fast_track},
        end_date="2028-01-01",
        **changes,
    )


def on_track(records, scenario, claims_from: float = 0.0) -> np.ndarray:
    low = list(scenario.nationality_groups).index("low")
    return (
        (records["group"] == low)
        & (records["route"] == 0)
        & (records["t_claim"] >= claims_from)
        & (records["origin"] != Origin.STOCK_AWAITING)
    )


def test_fast_tracked_claims_are_decided_before_anyone_waiting_longer():
    scenario = congested([dict(FAST, claims_from="2026-01-01", certified_share=0.0)])
    records = run_one(scenario, 3, keep_records=True).records
    fast = on_track(records, scenario)
    started = np.isfinite(records["t_dec_start"])
    # strict priority: no other claim starts while a fast-tracked claim made earlier waits
    waiting_fast_claims = np.sort(records["t_claim"][fast & started])
    waiting_fast_starts = records["t_dec_start"][fast & started][
        np.argsort(records["t_claim"][fast & started])
    ]
    others = ~fast & started
    for start in records["t_dec_start"][others]:
        made = waiting_fast_claims <= start
        assert not np.any(waiting_fast_starts[made] > start + 1e-9)
    wait = records["t_dec_start"] - records["t_claim"]
    assert np.median(wait[fast & started]) < 0.2 * np.median(wait[others])


def test_without_the_fast_track_the_same_claims_wait_like_everyone_else():
    scenario = congested([])
    records = run_one(scenario, 3, keep_records=True).records
    fast = on_track(records, scenario)
    started = np.isfinite(records["t_dec_start"])
    wait = records["t_dec_start"] - records["t_claim"]
    ratio = np.median(wait[fast & started]) / np.median(wait[~fast & started])
    assert ratio > 0.5


@pytest.mark.parametrize("share", [0.0, 0.6, 1.0])
def test_a_share_of_fast_tracked_refusals_is_certified_with_no_appeal(share):
    scenario = congested(
        [dict(FAST, claims_from="2026-01-01", certified_share=share)],
        appeals={"lodged_share": 1.0},
    )
    records = run_one(scenario, 4, keep_records=True).records
    refused = records["dec_outcome"] == DecisionOutcome.REFUSED
    fast = on_track(records, scenario) & refused
    no_appeal = ~np.isfinite(records["t_app_start"])
    certified = int((fast & no_appeal).sum())
    n = int(fast.sum())
    assert n > 100
    low, high = stats.binom.interval(0.999, n, share)
    assert low <= certified <= high
    # certified people's appeal rights end at the decision
    assert np.all(records["t_are"][fast & no_appeal] == records["t_dec_end"][fast & no_appeal])
    # everyone else refused appeals (lodged_share 1)
    assert not np.any(~fast & refused & no_appeal & (records["origin"] != Origin.STOCK_APPEAL))


def test_claims_outside_the_window_are_not_fast_tracked():
    scenario = congested(
        [dict(FAST, claims_from="2026-07-01", claims_until="2027-01-01", certified_share=1.0)],
        appeals={"lodged_share": 1.0},
    )
    records = run_one(scenario, 5, keep_records=True).records
    refused = records["dec_outcome"] == DecisionOutcome.REFUSED
    low_boat = on_track(records, scenario)
    inside = (records["t_claim"] >= 181) & (records["t_claim"] < 365)
    no_appeal = ~np.isfinite(records["t_app_start"])
    assert (low_boat & inside & refused & no_appeal).sum() > 20
    outside = low_boat & ~inside & refused & (records["origin"] == Origin.NEW_CLAIM)
    assert outside.sum() > 20
    assert not np.any(outside & no_appeal)


def test_recent_claimants_can_have_removal_priority():
    """A class limited to claims from the start puts refused new claimants before the
    starting stock of people with appeal rights exhausted."""
    recent = [{"name": "recent", "claimed_from": "2026-01-01"}]
    changes = dict(
        after_refusal={
            "enforced_removals_per_month": 10,  # 240 in two years, fewer than the stock
            "voluntary_departure_rate_per_year": 0.0,
            "further_submission_rate_per_year": 0.0,
            "absconding_rate_per_year": 0.0,
        },
        initial_state={"are_in_uk_people": 300},
        nationality_groups={"high": {"returnable_share": 1.0}, "low": {"returnable_share": 1.0}},
    )
    with_class = congested(
        [dict(FAST, claims_from="2026-01-01", certified_share=1.0)],
        **{**changes, "after_refusal": {**changes["after_refusal"], "removal_priority": recent}},
    )
    without = congested([dict(FAST, claims_from="2026-01-01", certified_share=1.0)], **changes)

    def removed_new(scenario) -> int:
        records = run_one(scenario, 6, keep_records=True).records
        removed = records["exit_outcome"] == ExitOutcome.REMOVED
        return int((removed & (records["origin"] != Origin.STOCK_ARE)).sum())

    assert removed_new(without) == 0  # behind the 300 of the stock, first come first served
    assert removed_new(with_class) > 100


def test_a_fast_track_with_an_unknown_group_is_refused_by_name():
    with pytest.raises(ScenarioError, match=r"decisions\.fast_track\.0\.groups"):
        congested([dict(FAST, groups=["nobody"], claims_from="2026-01-01", certified_share=1)])


def test_a_fast_track_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(ScenarioError, match="claims_until"):
        congested(
            [
                dict(
                    FAST,
                    claims_from="2026-06-01",
                    claims_until="2026-01-01",
                    certified_share=1,
                )
            ]
        )
