"""Policies: each moves outcomes the way it must, respects its limits, and is paired."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny
from invariants import check_conservation, check_record_paths
from scipy import stats
from test_determinism import fingerprint

from simulation import ScenarioError, run
from simulation.core.records import DecisionOutcome
from simulation.core.vocabulary import SINGLE_ADULT
from simulation.experiments.comparison import NoCrossing, break_even, compare
from simulation.experiments.replications import run_one
from simulation.inputs.policy_config import registered
from simulation.policies.contract import Policy

OFFSHORE = {
    "start_date": "2026-02-01",
    "relocation_share": 0.8,
    "annual_capacity_people": 150,
    "legal_delay_days": 30,
    "halt_probability": 0.0,
    "halt_within_days": 365,
    "detention_days": 14,
    "detention_cost_per_day_gbp": 120,
    "fixed_payments": [
        {"date": "2026-02-01", "amount_gbp": 2_000_000},
        {"date": "2026-08-01", "amount_gbp": 1_000_000},
        {"date": "2027-02-01", "amount_gbp": 1_000_000},
    ],
    "payment_per_relocation_gbp": 20000,
    "processing_payment_per_person_gbp": 150000,
    "processing_years": 5,
    "flight_cost_per_person_gbp": 11000,
    "threshold_relocations": 100,
    "threshold_payment_gbp": 1_000_000,
    "departure_share": 0.1,
    "departure_payment_gbp": 10000,
}
HUBS = {
    "start_date": "2026-03-01",
    "days_before_transfer": 20,
    "capacity_people": {"2026-01-01": 30, "2026-09-01": 15},
    "transfers_per_month": 40,
    "cost_per_person_day_gbp": 120,
    "setup_cost_gbp": 1_000_000,
    "annual_fixed_cost_gbp": 2_000_000,
    "transfer_cost_per_person_gbp": 5000,
    "onward_removal_cost_per_person_gbp": 5000,
    "onward_removal_mean_days": 30,
    "returned_share": 0.4,
    "return_mean_days": 40,
    "max_stay_days": 90,
}
VOLUNTARY = {
    "start_date": "2026-03-01",
    "payment_gbp": 6000,
    "reference_payment_gbp": 3000,
    "elasticity": 0.7,
    "flight_cost_per_person_gbp": 1500,
    "administration_cost_per_person_gbp": 500,
}


def with_policies(**policies):
    return tiny(policies=policies)


def summary(scenario, seed=1, replication=0):
    return run_one(scenario, seed, replication).summary


# ------------------------------------------------------------------------ the interface


def test_every_policy_plugs_in_through_hooks_only():
    for name, config in registered().items():
        runtime = config.runtime
        assert issubclass(runtime, Policy) and runtime.name == name
        assert runtime.hooks(), name
        assert "enabled" in config.model_fields and "start_date" in config.model_fields


def test_no_policies_or_disabled_policies_equal_the_baseline_bit_for_bit(tiny_scenario):
    base = fingerprint(run(tiny_scenario, seed=9))
    off = dict(OFFSHORE, enabled=False)
    hubs = dict(HUBS, enabled=False)
    assert fingerprint(run(with_policies(offshore=off, return_hubs=hubs), seed=9)) == base
    assert fingerprint(run(with_policies(), seed=9)) == base


def test_a_policy_with_no_effect_leaves_every_person_unchanged(tiny_scenario):
    neutral = with_policies(voluntary_return=dict(VOLUNTARY, payment_gbp=3000))
    a, b = run_one(tiny_scenario, 4, keep_records=True), run_one(neutral, 4, keep_records=True)
    for column in ("t_dec_end", "t_app_end", "t_exit", "exit_outcome"):
        assert np.array_equal(a.records[column], b.records[column], equal_nan=True)


def test_any_combination_runs_and_conserves_people():
    scenario = with_policies(offshore=OFFSHORE, return_hubs=HUBS, voluntary_return=VOLUNTARY)
    scenario = scenario.with_years(2)
    result = run_one(scenario, 2, keep_records=True)
    check_record_paths(result.records, scenario.horizon_days)
    check_conservation(result.records, scenario.horizon_days, result.policy_outputs)
    assert set(result.summary["policies"]) == {"offshore", "return_hubs", "voluntary_return"}


# ------------------------------------------------------------------------ offshore


def test_offshore_relocations_lower_uk_claims_and_respect_capacity(tiny_scenario):
    scenario = with_policies(offshore=OFFSHORE).with_years(2)
    result = run_one(scenario, 3, keep_records=True)
    records = result.records
    relocations = result.policy_outputs["offshore"].events["relocations"]
    assert len(relocations) > 100
    diverted = records["dec_outcome"] == DecisionOutcome.DIVERTED
    # nobody diverted is decided in the UK, and diverted people are eligible ones
    assert np.all(records["route"][diverted] == 0)
    assert np.all(records["household"][diverted] != 2)
    base = run_one(tiny_scenario.with_years(2), 3).summary
    entered_uk_queue = result.summary["claims"] - result.summary["diverted_on_arrival"]
    assert result.summary["claims"] == base["claims"]  # same arrivals (no deterrence)
    assert entered_uk_queue < base["claims"] - 100
    # at most the annual capacity per policy year, none before the legal delay
    arrived = records["t_claim"][diverted]
    start = 31.0  # 2026-02-01
    assert arrived.min() >= start + OFFSHORE["legal_delay_days"]
    per_year = np.bincount(np.floor((arrived - start) / 365.25).astype(int))
    assert per_year.max() <= OFFSHORE["annual_capacity_people"]


def test_halted_scheme_relocates_nobody_after_the_halt_and_keeps_paid_costs():
    halting = dict(OFFSHORE, halt_probability=1.0, halt_within_days=240)
    scenario = with_policies(offshore=halting).with_years(2)
    result = run_one(scenario, 5, keep_records=True)
    output = result.policy_outputs["offshore"]
    halt = output.summary["halt_day"]
    assert 61 < halt < 31 + 240
    assert len(output.events["relocations"]) > 0
    assert np.all(output.events["relocations"] < halt)
    payments = output.costs["offshore_payments"]
    assert len(payments) == scenario.horizon_days
    assert payments[31] >= 2_000_000  # paid before the halt, stays paid
    for day in (212, 396):  # 2026-08-01 and 2027-02-01
        expected_paid = day < halt
        assert (payments[day] >= 1_000_000) == expected_paid


def test_deterrence_thins_eligible_arrivals_only(tiny_scenario):
    base = summary(tiny_scenario.with_years(2))
    deterred = summary(with_policies(offshore=dict(OFFSHORE, deterred_share=0.5)).with_years(2))
    assert deterred["arrivals"]["small_boat"] < 0.8 * base["arrivals"]["small_boat"]
    assert deterred["arrivals"]["in_country"] == base["arrivals"]["in_country"]


# ------------------------------------------------------------------------ return hubs


def test_hubs_lower_the_are_population_and_cost_money(tiny_scenario):
    scenario = with_policies(return_hubs=HUBS)
    base, hubs = summary(tiny_scenario), summary(scenario)
    assert hubs["final_are_in_uk"] < base["final_are_in_uk"]
    assert hubs["policies"]["return_hubs"]["transfers"] > 20
    assert hubs["cost_by_category_gbp"]["hub_operation"] > 1_000_000
    assert "hub_operation" not in base["cost_by_category_gbp"]


def test_no_family_member_or_child_is_ever_in_a_hub_and_capacity_holds():
    scenario = with_policies(return_hubs=HUBS).with_years(2)
    result = run_one(scenario, 8, keep_records=True)
    output = result.policy_outputs["return_hubs"]
    stage = output.stays["in_hub"]
    assert len(stage.records) > 30
    assert np.all(result.records["household"][stage.records] == SINGLE_ADULT)
    # When a transfer starts, the people in hubs plus transfers under way (this one
    # included) fit the capacity of that moment; transfers under way when the capacity
    # falls still finish, like a caseworker's decision in progress.
    begun, arrived = stage.left_uk(), stage.start  # transfers under way at the end: inf
    for t in begun:
        present = np.sum((stage.start <= t) & (stage.end > t))
        travelling = np.sum((begun <= t) & (arrived > t))
        capacity = 30 if t < 243 else 15  # 2026-09-01 is day 243
        assert present + travelling <= capacity
    assert np.any(begun > 243)
    in_hub = result.series_wide()["in_hub"].to_numpy()
    assert in_hub.max() == 30


def test_hubs_refuse_families_and_children():
    with pytest.raises(ScenarioError) as excinfo:
        with_policies(return_hubs=dict(HUBS, eligible_households=["single_adult", "family_member"]))
    ((path, message),) = excinfo.value.problems
    assert path == "policies.return_hubs.eligible_households"
    assert "never sent to return hubs" in message


# ------------------------------------------------------------------------ voluntary return


def test_a_larger_incentive_raises_voluntary_returns():
    returns = [
        summary(with_policies(voluntary_return=dict(VOLUNTARY, payment_gbp=p)))["returns_voluntary"]
        for p in (3000, 6000, 12000)
    ]
    assert returns[0] < returns[1] < returns[2]


def test_offering_before_decision_adds_departures_and_costs():
    offered = dict(VOLUNTARY, offer_before_decision=True, pre_decision_departure_rate_per_year=0.5)
    result = summary(with_policies(voluntary_return=offered))
    assert result["policies"]["voluntary_return"]["returns_before_decision"] > 10
    assert result["cost_by_category_gbp"]["voluntary_return_incentive"] > 0


# ------------------------------------------------------------------------ comparisons


def test_common_random_numbers_shrink_the_variance_of_the_difference():
    base = tiny().with_years(2)
    policy = with_policies(return_hubs=HUBS).with_years(2)
    metric = "final_are_in_uk"
    paired, independent = [], []
    for r in range(12):
        b = summary(base, 1, r)[metric]
        paired.append(summary(policy, 1, r)[metric] - b)
        independent.append(summary(policy, 2, r)[metric] - b)
    ratio = np.var(paired, ddof=1) / np.var(independent, ddof=1)
    # one-sided F test that the paired variance is smaller, at the 1% level
    assert stats.f.cdf(ratio, 11, 11) < 0.01, ratio


def test_compare_table_pairs_replications(tiny_scenario):
    hubs = with_policies(return_hubs=HUBS)
    comparison = compare({"base": tiny_scenario, "hubs": hubs}, replications=3, seed=4)
    table = comparison.table
    assert set(table.columns) >= {
        "metric",
        "scenario",
        "mean",
        "ci_low",
        "ci_high",
        "diff_mean",
        "diff_ci_low",
        "diff_ci_high",
    }
    reference = table[table.scenario == "base"]
    assert np.allclose(reference.diff_mean.fillna(0), 0)
    differences = [
        r.summary["final_are_in_uk"] - b.summary["final_are_in_uk"]
        for r, b in zip(comparison.results["hubs"], comparison.results["base"], strict=True)
    ]
    mean, low, high = comparison.difference("hubs", "final_are_in_uk")
    assert mean == pytest.approx(np.mean(differences)) and low <= mean <= high
    cost, _, _ = comparison.difference("hubs", "cost_by_category_gbp.hub_operation")
    assert cost > 0  # a category the baseline lacks counts as zero there


def test_break_even_finds_where_the_difference_changes_sign(tiny_scenario):
    policy = with_policies(offshore=dict(OFFSHORE, relocation_share=0.0))
    found = break_even(
        tiny_scenario,
        policy,
        parameter="policies.offshore.deterred_share",
        metric="total_cost_gbp",
        replications=3,
        seed=2,
        low=0.0,
        high=1.0,
        xtol=1e-3,
    )
    assert 0.0 < found.value < 1.0
    for replication, root in enumerate(found.per_replication):

        def diff(x, r=replication):
            scenario = policy.with_overrides({"policies.offshore.deterred_share": x})
            return (
                summary(scenario, 2, r)["total_cost_gbp"]
                - summary(tiny_scenario, 2, r)["total_cost_gbp"]
            )

        # more deterred, fewer claims: cheaper above the break-even share
        assert diff(max(root - 0.01, 0.0)) > 0 > diff(min(root + 0.01, 1.0))


def test_break_even_says_when_there_is_no_crossing(tiny_scenario):
    expensive = dict(
        OFFSHORE, relocation_share=0.0, fixed_payments=[{"date": "2026-02-01", "amount_gbp": 1e12}]
    )
    with pytest.raises(NoCrossing, match="no crossing: the policy's total_cost_gbp stays above"):
        break_even(
            tiny_scenario,
            with_policies(offshore=expensive),
            parameter="policies.offshore.deterred_share",
            metric="total_cost_gbp",
            replications=2,
            low=0.0,
            high=0.5,
        )
