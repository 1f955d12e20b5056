"""Return hubs respect returnability, a maximum stay and the courts.

A hub does not make a country take its nationals back: onward removal happens only for people
who are returnable on that date. Nobody stays past the maximum; after a court halt no transfer
happens and, when so set, the hubs are empty within the stated delay. People removed onward
come back at the scenario's re-entry share, as after any removal.
"""

from __future__ import annotations

import numpy as np
from conftest import tiny
from scipy import stats
from test_policies import HUBS

from simulation.core.records import ExitOutcome, Origin
from simulation.experiments.replications import run_one

YEARS = 2


def hubs_run(seed: int = 3, years: float = YEARS, **changes):
    config = dict(HUBS, **changes)
    scenario = tiny(policies={"return_hubs": config}).with_years(years)
    result = run_one(scenario, seed, keep_records=True)
    return scenario, result, result.policy_outputs["return_hubs"]


def test_nobody_whose_country_does_not_take_them_back_is_removed_onward():
    _, result, output = hubs_run(max_stay_days=None)
    returnable = result.records["returnable"]
    in_hub = output.stays["in_hub"].records
    removed = output.details["removed_onward"]
    assert len(removed) > 10
    assert np.all(returnable[removed] == 1)
    # non-returnable people were sent (so the rule is tested), and stay with no maximum
    stuck = in_hub[returnable[in_hub] == 0]
    assert len(stuck) > 10
    assert not np.isin(stuck, removed).any()


def test_no_stay_is_longer_than_the_maximum_and_capacity_holds():
    _, result, output = hubs_run(max_stay_days=45)
    stay = output.stays["in_hub"]
    ended = np.isfinite(stay.end)
    assert ended.sum() > 30
    assert np.all(stay.end[ended] - stay.start[ended] <= 45 + 1e-9)
    # people still there at the end have been there less than the maximum
    days = len(result.series_wide()) - 1
    assert np.all(days - stay.start[~ended] <= 45 + 1e-9)
    in_hub = result.series_wide()["in_hub"].to_numpy()
    capacity = np.where(np.arange(len(in_hub)) < 243, 30, 15)  # 2026-09-01 is day 243
    # a fall in capacity does not evict anyone: only entries must respect it
    for start in stay.start[np.isfinite(stay.start)]:  # inf: a transfer under way at the end
        day = int(np.ceil(start))
        assert in_hub[day] <= max(capacity[day], in_hub[day - 1])
    assert in_hub.max() <= 30


def test_released_people_go_where_the_config_says_and_are_counted():
    _, uk_result, uk = hubs_run(max_stay_days=30, returned_share=0.0)
    _, local_result, local = hubs_run(
        max_stay_days=30, returned_share=0.0, release_after_max_stay="locally"
    )
    assert uk.summary["released_to_uk"] > 10 and uk.summary["released_locally"] == 0
    assert local.summary["released_locally"] > 10 and local.summary["released_to_uk"] == 0
    back = uk_result.records["origin"] == Origin.POLICY_RETURN
    assert back.sum() == uk.summary["released_to_uk"]
    assert (local_result.records["origin"] == Origin.POLICY_RETURN).sum() == 0


def test_the_first_transfer_waits_for_the_legal_delay():
    _, _, output = hubs_run(legal_delay_days=120)
    transfers = output.events["hub_transfers"]
    assert len(transfers) > 10
    assert transfers.min() >= 59 + 120  # 2026-03-01 is day 59


def test_after_a_halt_no_transfer_happens_and_the_hubs_empty_within_the_delay():
    _, result, output = hubs_run(
        seed=5, halt_probability=1.0, halt_within_days=200, bring_back_within_days=20
    )
    halt = output.summary["halt_day"]
    assert 59 < halt < 59 + 200
    assert np.all(output.events["hub_transfers"] < halt)
    assert len(output.events["hub_transfers"]) > 10
    assert np.all(output.details["turned_back_begun"] < halt)  # none begins after the halt
    in_hub = result.series_wide()["in_hub"].to_numpy()
    assert in_hub[int(np.floor(halt))] > 0  # people were there when the courts stopped it
    assert np.all(in_hub[int(np.ceil(halt + 20)) + 1 :] == 0)
    stay = output.stays["in_hub"]
    present = (stay.start <= halt) & (stay.end > halt)
    assert present.sum() > 10
    assert np.all(stay.end[present] <= halt + 20)  # brought back (or gone) within the delay
    returned = output.events["hub_returns_to_uk"]
    assert np.sum((returned >= halt) & (returned <= halt + 20)) > present.sum() / 2


def test_a_halt_without_bringing_back_keeps_people_until_they_leave():
    _, result, output = hubs_run(
        seed=5, halt_probability=1.0, halt_within_days=200, bring_back_on_halt=False
    )
    halt = output.summary["halt_day"]
    assert np.all(output.events["hub_transfers"] < halt)
    in_hub = result.series_wide()["in_hub"].to_numpy()
    assert in_hub[int(np.ceil(halt)) + 40] > 0  # no return on the halt's account


def test_people_removed_onward_come_back_at_the_reentry_share():
    share = 0.5
    scenario = tiny(
        policies={"return_hubs": dict(HUBS, returned_share=0.0)},
        after_refusal={"reentry_share": share, "reentry_mean_delay_days": 1.0},
    ).with_years(3)
    result = run_one(scenario, 11, keep_records=True)
    output = result.policy_outputs["return_hubs"]
    removed = output.details["removed_onward"]
    left = output.stays["in_hub"]
    end_of = dict(zip(left.records.tolist(), left.end.tolist(), strict=True))
    # people removed onward at least 30 mean delays before the end have had time to return
    horizon = scenario.horizon_days
    settled = np.array([p for p in removed if end_of[p] < horizon - 30])
    assert len(settled) > 40
    records = result.records
    reentered = records["parent"][records["origin"] == Origin.REENTRY]
    came_back = np.isin(settled, reentered).sum()
    low, high = stats.binomtest(int(came_back), len(settled), share).proportion_ci(0.999)
    assert low <= share <= high, (came_back, len(settled))
    assert np.all(records["exit_outcome"][settled] == ExitOutcome.POLICY)


def test_a_hub_that_prefers_returnable_people_takes_them_first():
    """Transfers are scarce (5 a month) and the tiny scenario's ARE stock always holds
    returnable single adults waiting, so a hub that prefers them sends nobody else after the
    first transfer (which starts as soon as anyone joins the queue); without
    the preference it sends people in the order they joined, returnable or not."""
    changes = dict(transfers_per_month=5, capacity_people=1000, max_stay_days=None)
    _, preferred, out_preferred = hubs_run(prefer_returnable=True, **changes)
    stay = out_preferred.stays["in_hub"]
    # the first transfer starts on the first day, as soon as anyone joins the queue
    sent = stay.records[stay.since > stay.since.min()]
    assert len(sent) > 40
    assert np.all(preferred.records["returnable"][sent] == 1)
    _, plain, out_plain = hubs_run(**changes)
    sent_plain = out_plain.stays["in_hub"].records
    assert len(sent_plain) > 40
    assert np.mean(plain.records["returnable"][sent_plain]) < 0.9
