"""Conservation, capacities and stage order on random valid scenarios (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from conftest import tiny_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invariants import check_capacities, check_conservation, check_record_paths
from test_policies import HUBS, OFFSHORE, VOLUNTARY

from simulation import Scenario
from simulation.experiments.replications import run_one

START = date(2026, 1, 1)
rate = st.floats(0, 400, allow_nan=False)
share = st.floats(0, 1, allow_nan=False)
hazard = st.floats(0, 3, allow_nan=False)
small = st.integers(0, 40)


@st.composite
def schedule(draw, values, max_steps: int = 3):
    """A constant or a dated schedule starting on the start date."""
    if draw(st.booleans()):
        return draw(values)
    offsets = sorted(set(draw(st.lists(st.integers(1, 360), max_size=max_steps - 1))))
    dates = [START] + [START + timedelta(days=o) for o in offsets]
    return {d: draw(values) for d in dates}


@st.composite
def scenarios(draw) -> Scenario:
    high_share = draw(share)
    single = draw(st.floats(0, 1))
    family = draw(st.floats(0, 1 - single))
    awaiting = draw(st.integers(0, 120))
    appeals = draw(st.integers(0, 80))
    are = draw(st.integers(0, 80))
    are_supported = draw(st.integers(0, are))
    in_process_supported = draw(st.integers(0, (awaiting + appeals) // 2))
    if single + family == 0:  # all unaccompanied children: none of them is Home Office supported
        in_process_supported = 0
    data = tiny_dict(
        end_date=(START + timedelta(days=draw(st.integers(20, 400)))).isoformat(),
        arrivals={
            route: {
                "rate_per_month": draw(schedule(rate)),
                "claim_share": draw(share),
                "support_share": draw(share),
            }
            for route in ("small_boat", "other_irregular", "in_country")
        },
        nationality_groups={
            "high": {
                "share": high_share,
                "grant_rate": draw(schedule(share)),
                "appeal_allowed_rate": draw(schedule(share)),
                "returnable_share": draw(share),
            },
            "low": {
                "share": 1 - high_share,
                "grant_rate": draw(schedule(share)),
                "appeal_allowed_rate": draw(share),
                "returnable_share": draw(share),
            },
        },
        households={
            "single_adult": single,
            "family_member": family,
            "unaccompanied_child": max(0.0, 1 - single - family),
        },
        decisions={
            "caseworkers_fte": draw(schedule(small)),
            "decisions_per_fte_per_month": draw(schedule(st.floats(0, 40))),
            "withdrawal_rate_per_year": draw(hazard),
        },
        appeals={
            "lodged_share": draw(schedule(share)),
            "judges_fte": draw(schedule(small)),
            "determinations_per_judge_per_day": draw(st.floats(0, 2)),
        },
        after_refusal={
            "enforced_removals_per_month": draw(schedule(st.floats(0, 60))),
            "voluntary_departure_rate_per_year": draw(hazard),
            "further_submission_rate_per_year": draw(hazard),
            "absconding_rate_per_year": draw(hazard),
            "reentry_share": draw(share),
            "reentry_mean_delay_days": draw(st.floats(1, 200)),
        },
        support={
            "move_on_days": draw(st.floats(0, 60)),
            "support_end_days_after_refusal": draw(st.floats(0, 60)),
        },
        accommodation={
            "dispersal": {
                "capacity_people": draw(schedule(st.integers(0, 200))),
                "cost_per_person_night_gbp": draw(st.floats(0, 200)),
            },
            "large_sites": {
                "capacity_people": draw(schedule(st.integers(0, 100))),
                "cost_per_person_night_gbp": draw(st.floats(0, 200)),
            },
        },
        initial_state={
            "awaiting_decision_people": awaiting,
            "awaiting_over_12_months_people": draw(st.integers(0, awaiting)),
            "appeals_pending_people": appeals,
            "are_in_uk_people": are,
            "supported_people": in_process_supported + are_supported,
            "are_supported_people": are_supported,
        },
    )
    data["households"]["unaccompanied_child"] = (
        1 - data["households"]["single_adult"] - data["households"]["family_member"]
    )
    data["policies"] = draw(policies())
    return Scenario.from_dict(data)


@st.composite
def policies(draw) -> dict:
    """Any combination of the three policies, with random parameters."""
    start = (START + timedelta(days=draw(st.integers(0, 200)))).isoformat()
    chosen = {}
    if draw(st.booleans()):
        chosen["offshore"] = dict(
            OFFSHORE,
            start_date=start,
            relocation_share=draw(share),
            annual_capacity_people=draw(st.integers(0, 80)),
            legal_delay_days=draw(st.floats(0, 100)),
            halt_probability=draw(share),
            halt_within_days=draw(st.floats(1, 400)),
            detention_days=draw(st.floats(0, 30)),
            deterrence=draw(share),
        )
    if draw(st.booleans()):
        chosen["return_hubs"] = dict(
            HUBS,
            start_date=start,
            days_before_transfer=draw(st.floats(0, 60)),
            capacity_people=draw(schedule(st.integers(0, 30))),
            transfers_per_month=draw(schedule(st.floats(0, 80))),
            returned_share=draw(share),
            deterrence=draw(share),
        )
    if draw(st.booleans()):
        chosen["voluntary_return"] = dict(
            VOLUNTARY,
            start_date=start,
            payment_gbp=draw(st.floats(100, 20000)),
            elasticity=draw(st.floats(0, 2)),
            offer_before_decision=draw(st.booleans()),
            pre_decision_departure_rate_per_year=draw(hazard),
        )
    return chosen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_people_are_conserved_and_capacities_hold(scenario, seed):
    result = run_one(scenario, seed, keep_records=True)
    records = result.records
    days = scenario.horizon_days
    check_record_paths(records, days)
    check_conservation(records, days, result.policy_outputs)
    check_capacities(result, scenario)
    flat = result.flat_summary()
    categories = sum(v for k, v in flat.items() if k.startswith("cost_by_category_gbp."))
    assert np.isclose(flat["total_cost_gbp"], categories)
    assert flat["total_cost_discounted_gbp"] <= flat["total_cost_gbp"] + 1e-6


def test_invariants_on_a_busy_tiny_run(tiny_scenario):
    scenario = tiny_scenario.with_years(3)
    result = run_one(scenario, 7, keep_records=True)
    records = result.records
    check_record_paths(records, scenario.horizon_days)
    check_conservation(records, scenario.horizon_days)
    check_capacities(result, scenario)
    origin_counts = np.bincount(records["origin"], minlength=6)
    assert origin_counts[4] > 0 and origin_counts[5] > 0  # further submissions and returns
