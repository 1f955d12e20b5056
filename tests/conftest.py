"""Shared fixtures: small scenarios that run in a fraction of a second."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from simulation import Scenario
from simulation.inputs.files import deep_merge

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
# The published figures the scenarios cite, shipped with the package (simulation/data/README.md).
SHARED_DATA = ROOT / "simulation" / "data" / "uk_asylum_figures.csv"

TINY: dict[str, Any] = {
    "name": "tiny",
    "start_date": "2026-01-01",
    "end_date": "2027-01-01",
    "people_per_case": 1.0,
    "discount_rate_per_year": 0.035,
    "arrivals": {
        "small_boat": {"rate_per_month": 120, "claim_share": 0.95, "support_share": 0.9},
        "other_irregular": {"rate_per_month": 30, "claim_share": 1.0, "support_share": 0.8},
        "in_country": {"rate_per_month": 60, "claim_share": 1.0, "support_share": 0.3},
    },
    "nationality_groups": {
        "high": {
            "share": 0.4,
            "grant_rate": 0.8,
            "appeal_allowed_rate": 0.5,
            "returnable_share": 0.1,
        },
        "low": {
            "share": 0.6,
            "grant_rate": 0.2,
            "appeal_allowed_rate": 0.3,
            "returnable_share": 0.8,
        },
    },
    "households": {"single_adult": 0.7, "family_member": 0.25, "unaccompanied_child": 0.05},
    "decisions": {
        "caseworkers_fte": 12,
        "decisions_per_fte_per_month": 18,
        "withdrawal_rate_per_year": 0.2,
    },
    "appeals": {
        "lodged_share": 0.7,
        "judges_fte": 4,
        "determinations_per_judge_per_day": 0.8,
    },
    "after_refusal": {
        "enforced_removals_per_month": 10,
        "voluntary_departure_rate_per_year": 0.5,
        "further_submission_rate_per_year": 0.4,
        "absconding_rate_per_year": 0.3,
        "reentry_share": 0.3,
        "reentry_mean_delay_days": 60,
    },
    "support": {"move_on_days": 28, "support_end_days_after_refusal": 21},
    "accommodation": {
        "dispersal": {
            "capacity_people": 150,
            "cost_per_person_night_gbp": 15,
            "allowance_per_person_week_gbp": 49.18,
        },
        "large_sites": {
            "capacity_people": 40,
            "cost_per_person_night_gbp": 130,
            "allowance_per_person_week_gbp": 8.86,
        },
        "hotels": {
            "cost_per_person_night_gbp": 145,
            "allowance_per_person_week_gbp": 8.86,
            "paid_beds_per_occupant": 1.0,
        },
    },
    "costs": {
        "caseworker_cost_per_fte_year_gbp": 50000,
        "tribunal_cost_per_case_gbp": 556,
        "enforced_removal_cost_per_person_gbp": 14000,
        "voluntary_return_cost_per_person_gbp": 800,
    },
    "initial_state": {
        "awaiting_decision_people": 200,
        "awaiting_over_12_months_people": 50,
        "awaiting_oldest_claim_days": 900,
        "appeals_pending_people": 150,
        "appeals_oldest_lodged_days": 400,
        "are_in_uk_people": 120,
        "supported_people": 250,
        "are_supported_people": 20,
    },
}


def tiny_dict(**changes: Any) -> dict[str, Any]:
    """The tiny scenario as a mapping, with nested ``changes`` deep-merged in."""
    return deep_merge(copy.deepcopy(TINY), changes)


def tiny(**changes: Any) -> Scenario:
    return Scenario.from_dict(tiny_dict(**changes))


@pytest.fixture
def tiny_scenario() -> Scenario:
    return tiny()


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return Scenario.from_yaml(BASELINE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes more than a few seconds (deselect with -m 'not slow')"
    )
