"""The whole-life cost of a claim: every pound of a run charged to the record it follows,
a person's records to their first claim, reported by route and outcome."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny
from test_policies import HUBS, OFFSHORE, VOLUNTARY

from simulation.core.records import Origin
from simulation.engine import accommodation
from simulation.experiments.evaluate import _simulate, run_one
from simulation.inputs.scenario import add_years
from simulation.outputs import claim_costs, cohorts, costs

PER_CASE = {"decision_costs": "per_case", "appeal_costs": "per_case"}
#: offshore processing whose relocated people move on, are brought back or are removed
THIRD_COUNTRY = dict(
    OFFSHORE,
    relocation_share=0.5,
    departure_share=0.3,
    departure_payment_gbp=3000,
    brought_back_share=0.2,
    brought_back_mean_days=60,
    bring_back_cost_per_person_gbp=2500,
)
AGREEMENT = {
    "start_date": "2026-03-01",
    "group": "low",
    "returnable_share": 0.9,
    "cost_per_removal_gbp": 700,
}
EVERY_POLICY = {
    "offshore": THIRD_COUNTRY,
    "return_hubs": HUBS,
    "voluntary_return": dict(
        VOLUNTARY, offer_before_decision=True, pre_decision_departure_rate_per_year=0.3
    ),
    "returns_agreement": AGREEMENT,
}


@pytest.fixture(scope="module")
def every_policy():
    scenario = tiny(policies=EVERY_POLICY).with_years(2)
    return _simulate(scenario, 3, 0)


def _variable_ledger(run) -> float:
    """The run's costs with staff per case, less the policies' fixed costs."""
    scenario = run.scenario.with_overrides({f"costs.{k}": v for k, v in PER_CASE.items()})
    days = int(round(run.horizon))
    occupancy = accommodation.occupancy(run.records, scenario, days)
    ledger = costs.ledger(run.records, scenario, occupancy, days)
    total = sum(float(v.sum()) for v in ledger.values())
    for output in run.policy_outputs.values():
        total += sum(float(v.sum()) for v in output.costs.values())
        total -= sum(float(v.sum()) for v in output.fixed_costs.values())
    return total


def test_every_pound_but_the_fixed_ones_is_charged_to_a_record(every_policy):
    charged = claim_costs.record_costs(every_policy)
    assert charged.sum() == pytest.approx(_variable_ledger(every_policy), rel=1e-9)
    assert every_policy.policy_outputs["offshore"].summary["brought_back"] > 0
    assert every_policy.policy_outputs["return_hubs"].summary["transfers"] > 0
    assert every_policy.policy_outputs["voluntary_return"].summary["returns_before_decision"] > 0


@pytest.mark.parametrize("policy", sorted(EVERY_POLICY))
def test_each_policy_charges_its_variable_costs_category_by_category(every_policy, policy):
    output = every_policy.policy_outputs[policy]
    assert output.charges, f"{policy} charges nothing to anyone"
    for category, values in output.costs.items():
        variable = values.sum() - output.fixed_costs.get(category, np.zeros(1)).sum()
        charges = output.charges.get(category)
        charged = 0.0 if charges is None else float(np.sum(charges.gbp))
        assert charged == pytest.approx(variable, rel=1e-9, abs=1e-6), category
        if charges is not None:
            assert len(charges.records) == len(charges.gbp)
            assert (charges.records >= 0).all()


def test_a_person_is_charged_the_records_of_every_later_claim(every_policy):
    """A person's cost is the sum over their first record and every record linked to it;
    the people of the claims table are the new claims made before the end date."""
    run = every_policy
    end_day = 365.0
    table = claim_costs.claim_costs(run, end_day)
    records = run.records
    new = (records["origin"] == Origin.NEW_CLAIM) & (records["t_claim"] < end_day)
    assert len(table) == int(new.sum())
    charged = claim_costs.record_costs(run)
    root = cohorts.roots(records)
    people = np.flatnonzero(new)
    with_later = [p for p in people if (root == p).sum() > 1]
    assert len(with_later) > 10
    by_person = dict(zip(people.tolist(), table["cost_gbp"], strict=True))
    dearer = 0
    for person in with_later[:100]:
        assert by_person[person] == pytest.approx(charged[root == person].sum(), rel=1e-12)
        dearer += by_person[person] > charged[person] + 1.0
    assert dearer > 10  # later records cost something


def test_the_summary_means_are_the_claims_means(every_policy):
    table = claim_costs.claim_costs(every_policy, 365.0)
    families = claim_costs.summary_families(table)
    mean = families["whole_life_cost_per_claim_gbp"]
    count = families["whole_life_claims"]
    assert count["all"]["all"] == len(table)
    assert mean["all"]["all"] == pytest.approx(table["cost_gbp"].mean())
    routes = [r for r in mean if r != "all"]
    weighted = sum(mean[r]["all"] * count[r]["all"] for r in routes) / len(table)
    assert weighted == pytest.approx(mean["all"]["all"])
    boats = table[(table["route"] == "small_boat") & (table["outcome"] == "granted")]
    assert mean["small_boat"]["granted"] == pytest.approx(boats["cost_gbp"].mean())
    assert set(mean["all"]) <= {"all", *claim_costs.OUTCOME_KEYS.values()}


def test_claims_that_end_later_cost_more():
    """Support runs while a claim is open: a withdrawn claim ends soonest, a grant after a
    decision, and a person who leaves the UK was refused, appealed and waited first."""
    result = run_one(tiny(costs=PER_CASE), 2, 0, whole_life_years=10)
    mean = result.summary["whole_life_cost_per_claim_gbp"]["all"]
    assert mean["withdrawn"] < mean["granted"] < mean["left_uk"]


def test_whole_life_runs_report_the_cost_of_a_claim_and_others_do_not():
    scenario = tiny(costs=PER_CASE)
    plain = run_one(scenario, 2, 0)
    assert "whole_life_cost_per_claim_gbp" not in plain.summary
    whole = run_one(scenario, 2, 0, whole_life_years=5)
    flat = whole.flat_summary()
    assert flat["whole_life_claims.all.all"] == plain.summary["claims"]
    assert flat["whole_life_cost_per_claim_gbp.all.all"] > 0


def test_with_nobody_left_at_the_end_every_claim_costs_what_its_records_cost():
    """A follow-up long enough for everyone to leave: the charges of the claims and of the
    starting stocks add up to the whole-life total less the policies' fixed costs."""
    scenario = tiny(costs=PER_CASE, policies={"voluntary_return": VOLUNTARY})
    end_day = scenario.horizon_days
    longer = scenario.with_overrides({"end_date": add_years(scenario.end_date, 40)})
    tail = _simulate(longer, 6, 0, arrivals_until=float(end_day))
    whole = run_one(scenario, 6, 0, whole_life_years=40)
    charged = claim_costs.record_costs(tail)
    fixed = sum(
        float(v.sum()) for o in tail.policy_outputs.values() for v in o.fixed_costs.values()
    )
    assert fixed == 0
    assert charged.sum() == pytest.approx(whole.summary["total_cost_whole_life_gbp"], rel=1e-9)


def test_the_printed_report_has_the_claim_cost_section_only_in_whole_life_runs():
    from simulation.outputs.outcomes import CLAIM_COST
    from simulation.outputs.report import summary_table

    scenario = tiny(costs=PER_CASE)
    plain = summary_table(run_one(scenario, 2, 0).flat_summary(), "plain")
    whole = summary_table(run_one(scenario, 2, 0, whole_life_years=5).flat_summary(), "whole")
    assert CLAIM_COST not in plain
    assert CLAIM_COST in whole and "small boat, granted" in whole
