"""The impact-assessment scenario: the assessment's cost per person relocated, all in."""

from __future__ import annotations

from conftest import ROOT

from simulation import Scenario, run
from simulation.inputs import published

SCENARIO = ROOT / "scenarios" / "appraisal" / "illegal_migration_bill_2023.yaml"


def test_a_relocation_costs_the_assessment_s_figure_and_nothing_else():
    scenario = Scenario.from_yaml(SCENARIO).with_years(1)
    result = run(scenario, seed=1)
    relocated = result.summary["policies"]["offshore"]["relocations"]
    assert relocated > 10_000  # every eligible small-boat claimant, no capacity limit
    categories = result.summary["cost_by_category_gbp"]
    policy_costs = sum(v for k, v in categories.items() if k.startswith("offshore_"))
    per_person = published.figure("ima_eia_cost_per_relocation").number
    assert policy_costs == relocated * per_person == relocated * 169_000


def test_the_assessment_s_own_break_even_is_37_percent():
    """1 - GBP 106,000 avoided / GBP 169,000 spent per person relocated."""
    spent = published.figure("ima_eia_cost_per_relocation").number
    avoided = published.figure("ima_eia_support_saving").number
    assert round(1 - avoided / spent, 2) == 0.37
