"""Scenario values that pydantic alone would take, or that would crash a run later, are refused
before anything runs, by field path, saying what is allowed (docs/scenarios.md, "Limits").

Each case was accepted (or gave a traceback) before: a yes/no value read as a number, a number
read as a date, magnitudes no run can hold, horizons past the calendar, payments and policies
outside the run, a priority that cannot act, a capacity that rounds to nobody, an option whose
switch is off, and the old name of deterred_share in a dotted path.
"""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any

import pytest
import yaml
from conftest import ROOT, tiny_dict
from test_policies import HUBS, OFFSHORE, VOLUNTARY

from simulation import Scenario, ScenarioError, run
from simulation.cli import main
from simulation.core.errors import InputError
from simulation.experiments import evaluate as evaluate_module
from simulation.inputs import memory
from simulation.inputs.scenario import MAX_HORIZON_YEARS

SHIPPED = sorted(
    p
    for p in [*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("scenarios/*/*.yaml")]
    if p.parent.name not in ("sweeps", "validation")
)


def with_policies(**policies: Any) -> dict[str, Any]:
    return tiny_dict(policies=copy.deepcopy(policies))


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set a dotted path in a plain mapping (creating nothing: every step must exist, except
    the last key)."""
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def case(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    return _set(copy.deepcopy(base), path, value)


TINY = tiny_dict()
OFFSHORE_TINY = with_policies(offshore=OFFSHORE)
HUBS_TINY = with_policies(return_hubs=HUBS)
VOLUNTARY_TINY = with_policies(voluntary_return=VOLUNTARY)
REENTRY_TINY = tiny_dict(
    after_refusal={"reentry_rules": [{"kinds": ["enforced"], "mean_delay_days": 30}]}
)
FAST_TRACK_TINY = tiny_dict(
    decisions={
        "fast_track": [{"name": "fast", "claims_from": "2026-01-01", "certified_share": 0.5}]
    }
)
UNCERTAIN_TINY = tiny_dict(uncertainty={"appeals.lodged_share": {"low": True, "high": 0.8}})

#: (id, bad scenario mapping, field path named, a fragment of what the message says)
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    # 1. yes/no values are not numbers (pydantic would read true as 1)
    (
        "bool-constant-schedule",
        case(TINY, "appeals.judges_fte", True),
        "appeals.judges_fte",
        "must be a number, got true",
    ),
    (
        "bool-dated-schedule",
        case(TINY, "decisions.caseworkers_fte", {"2026-01-01": True}),
        "decisions.caseworkers_fte.2026-01-01",
        "must be a number, got true",
    ),
    (
        "bool-count",
        case(TINY, "initial_state.awaiting_decision_people", True),
        "initial_state.awaiting_decision_people",
        "must be a number",
    ),
    (
        "bool-plain-float",
        case(TINY, "people_per_case", True),
        "people_per_case",
        "must be a number",
    ),
    (
        "bool-false-rate",
        case(TINY, "decisions.withdrawal_rate_per_year", False),
        "decisions.withdrawal_rate_per_year",
        "got false",
    ),
    (
        "bool-in-list-of-models",
        case(REENTRY_TINY, "after_refusal.reentry_rules.0.mean_delay_days", True),
        "after_refusal.reentry_rules.0.mean_delay_days",
        "must be a number",
    ),
    (
        "bool-route-mix",
        case(TINY, "arrivals.small_boat.group_shares", {"high": True, "low": 0.0}),
        "arrivals.small_boat.group_shares.high",
        "must be a number",
    ),
    (
        "bool-policy-float",
        case(OFFSHORE_TINY, "policies.offshore.relocation_share", True),
        "policies.offshore.relocation_share",
        "must be a number",
    ),
    (
        "bool-policy-int",
        case(OFFSHORE_TINY, "policies.offshore.threshold_relocations", True),
        "policies.offshore.threshold_relocations",
        "must be a number",
    ),
    (
        "bool-policy-payment",
        case(OFFSHORE_TINY, "policies.offshore.fixed_payments.0.amount_gbp", True),
        "policies.offshore.fixed_payments.0.amount_gbp",
        "must be a number",
    ),
    (
        "bool-policy-schedule",
        case(HUBS_TINY, "policies.return_hubs.capacity_people", {"2026-01-01": True}),
        "policies.return_hubs.capacity_people.2026-01-01",
        "must be a number",
    ),
    (
        "bool-uncertainty",
        UNCERTAIN_TINY,
        "uncertainty.appeals.lodged_share.low",
        "must be a number",
    ),
    # 2. numbers are not dates (pydantic would read 0 as 1 January 1970)
    ("int-start-date", case(TINY, "start_date", 0), "start_date", "YYYY-MM-DD"),
    ("int-end-date", case(TINY, "end_date", 20270101), "end_date", "YYYY-MM-DD"),
    ("float-date", case(TINY, "end_date", 1.5e9), "end_date", "not the number"),
    (
        "int-schedule-key",
        case(TINY, "decisions.caseworkers_fte", {0: 12}),
        "decisions.caseworkers_fte.0",
        "YYYY-MM-DD",
    ),
    ("numeric-text-date", case(TINY, "start_date", "86400"), "start_date", "YYYY-MM-DD"),
    (
        "int-priority-date",
        case(TINY, "decisions.priority_claims_before", 0),
        "decisions.priority_claims_before",
        "YYYY-MM-DD",
    ),
    (
        "int-fast-track-date",
        case(FAST_TRACK_TINY, "decisions.fast_track.0.claims_from", 0),
        "decisions.fast_track.0.claims_from",
        "YYYY-MM-DD",
    ),
    (
        "int-policy-start",
        case(OFFSHORE_TINY, "policies.offshore.start_date", 0),
        "policies.offshore.start_date",
        "YYYY-MM-DD",
    ),
    (
        "int-payment-date",
        case(OFFSHORE_TINY, "policies.offshore.fixed_payments.1.date", 1),
        "policies.offshore.fixed_payments.1.date",
        "YYYY-MM-DD",
    ),
    (
        "bool-date",
        case(OFFSHORE_TINY, "policies.offshore.halt_date", True),
        "policies.offshore.halt_date",
        "YYYY-MM-DD",
    ),
    # 3. magnitudes no run can hold
    (
        "huge-arrivals",
        case(TINY, "arrivals.small_boat.rate_per_month", 1e300),
        "arrivals.small_boat.rate_per_month",
        "at most 10,000,000",
    ),
    (
        "huge-dated-arrivals",
        case(TINY, "arrivals.in_country.rate_per_month", {"2026-01-01": 60, "2026-06-01": 2e7}),
        "arrivals.in_country.rate_per_month.2026-06-01",
        "forcibly displaced",
    ),
    (
        "huge-stock",
        case(TINY, "initial_state.are_in_uk_people", 10**30),
        "initial_state.are_in_uk_people",
        "at most 10,000,000",
    ),
    (
        "huge-capacity",
        case(TINY, "accommodation.dispersal.capacity_people", 1e12),
        "accommodation.dispersal.capacity_people",
        "at most 10,000,000",
    ),
    (
        "huge-caseworkers",
        case(TINY, "decisions.caseworkers_fte", 5e6),
        "decisions.caseworkers_fte",
        "civil service",
    ),
    (
        "huge-removal-teams",
        case(TINY, "after_refusal.removal_teams", 1e9),
        "after_refusal.removal_teams",
        "at most 1,000,000",
    ),
    (
        "huge-paid-beds",
        case(TINY, "accommodation.hotels.paid_beds_per_occupant", 1e300),
        "accommodation.hotels.paid_beds_per_occupant",
        "at most 100",
    ),
    (
        "incentive-multiplier-overflows",
        case(VOLUNTARY_TINY, "policies.voluntary_return.elasticity", 1e300),
        "policies.voluntary_return.elasticity",
        "more than 1,000,000",
    ),
    # 4. dates a scenario can describe, and the longest horizon
    ("year-9999", case(TINY, "end_date", "9999-01-01"), "end_date", "between 1900-01-01"),
    ("year-1800", case(TINY, "start_date", "1800-01-01"), "start_date", "between 1900-01-01"),
    (
        "horizon-over-100-years",
        case(TINY, "end_date", "2127-01-01"),
        "end_date",
        "at most 100 years after start_date",
    ),
    # 5. a payment before the start date would be left out of the costs
    (
        "payment-before-start",
        case(OFFSHORE_TINY, "policies.offshore.fixed_payments.0.date", "2025-12-31"),
        "policies.offshore.fixed_payments.0.date",
        "before start_date",
    ),
    # 6. a policy starting after the end never acts
    (
        "policy-after-end",
        case(HUBS_TINY, "policies.return_hubs.start_date", "2027-03-01"),
        "policies.return_hubs.start_date",
        "never act",
    ),
    (
        "policy-on-end",
        case(VOLUNTARY_TINY, "policies.voluntary_return.start_date", "2027-01-01"),
        "policies.voluntary_return.start_date",
        "not before end_date",
    ),
    # 7. a priority for old claims that cannot act
    (
        "priority-until-alone",
        case(TINY, "decisions.priority_until", "2026-06-01"),
        "decisions.priority_until",
        "without decisions.priority_claims_before",
    ),
    (
        "priority-ends-before-run",
        _set(
            case(TINY, "decisions.priority_claims_before", "2025-06-01"),
            "decisions.priority_until",
            "2025-12-01",
        ),
        "decisions.priority_until",
        "before the run starts",
    ),
    (
        "priority-ends-before-cutoff",
        _set(
            case(TINY, "decisions.priority_claims_before", "2026-09-01"),
            "decisions.priority_until",
            "2026-06-01",
        ),
        "decisions.priority_until",
        "must be after decisions.priority_claims_before",
    ),
    # 8. a capacity that rounds to no server
    (
        "caseworkers-0.4",
        case(TINY, "decisions.caseworkers_fte", 0.4),
        "decisions.caseworkers_fte",
        "rounds to 0 caseworkers",
    ),
    (
        "judges-0.5-dated",
        case(TINY, "appeals.judges_fte", {"2026-01-01": 4, "2026-07-01": 0.5}),
        "appeals.judges_fte.2026-07-01",
        "rounds to 0 judges",
    ),
    (
        "removal-teams-0.2",
        case(TINY, "after_refusal.removal_teams", 0.2),
        "after_refusal.removal_teams",
        "rounds to 0 removal teams",
    ),
    # 9. an option whose switch is off
    (
        "pre-decision-rate-without-offer",
        case(VOLUNTARY_TINY, "policies.voluntary_return.pre_decision_departure_rate_per_year", 0.3),
        "policies.voluntary_return.pre_decision_departure_rate_per_year",
        "without offer_before_decision: true",
    ),
    (
        "removal-there-without-decisions",
        case(OFFSHORE_TINY, "policies.offshore.removal_there_mean_days", 60),
        "policies.offshore.removal_there_mean_days",
        "without decision_mean_days",
    ),
    (
        "offshore-bring-back-days-without-switch",
        case(OFFSHORE_TINY, "policies.offshore.bring_back_within_days", 10),
        "policies.offshore.bring_back_within_days",
        "without bring_back_on_halt: true",
    ),
    (
        "hub-release-without-max-stay",
        _set(
            case(HUBS_TINY, "policies.return_hubs.max_stay_days", None),
            "policies.return_hubs.release_after_max_stay",
            "locally",
        ),
        "policies.return_hubs.release_after_max_stay",
        "without max_stay_days",
    ),
    (
        "hub-bring-back-days-without-switch",
        _set(
            case(HUBS_TINY, "policies.return_hubs.bring_back_on_halt", False),
            "policies.return_hubs.bring_back_within_days",
            5,
        ),
        "policies.return_hubs.bring_back_within_days",
        "without bring_back_on_halt: true",
    ),
    # 10. the old name of deterred_share, as a dotted path in a side table
    (
        "renamed-in-uncertainty",
        case(
            OFFSHORE_TINY,
            "uncertainty",
            {"policies.offshore.deterrence": {"low": 0.1, "high": 0.3}},
        ),
        "uncertainty.policies.offshore.deterrence",
        "replaced by deterred_share",
    ),
]


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as excinfo:
        Scenario.from_dict(data)
    return excinfo.value.problems


@pytest.mark.parametrize(
    ("data", "path", "fragment"), [pytest.param(d, p, f, id=n) for n, d, p, f in BAD]
)
def test_refused_by_field_path(data, path, fragment):
    problems = _problems(data)
    named = [message for where, message in problems if where == path]
    assert named, f"{path} not named; problems: {problems}"
    assert any(fragment in message for message in named), named


@pytest.mark.parametrize(
    ("data", "path", "fragment"), [pytest.param(d, p, f, id=n) for n, d, p, f in BAD]
)
def test_validate_command_exits_2_naming_the_field(tmp_path, capsys, data, path, fragment):
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(file)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: " in err and fragment in err
    assert "Traceback" not in err


def test_the_valid_neighbours_of_the_cases_are_accepted():
    """What the cases change is refused for the change, not the field: nearby values pass."""
    accepted = [
        case(TINY, "decisions.caseworkers_fte", 0),  # no caseworkers, on purpose
        case(TINY, "decisions.caseworkers_fte", 0.6),  # rounds to one caseworker
        case(TINY, "appeals.judges_fte", {"2026-01-01": 4, "2026-07-01": 1}),
        case(TINY, "end_date", "2126-01-01"),  # exactly 100 years
        case(TINY, "arrivals.small_boat.rate_per_month", 10_000_000),
        case(TINY, "initial_state.are_in_uk_people", 10_000_000),
        _set(
            case(TINY, "decisions.priority_claims_before", "2026-03-01"),
            "decisions.priority_until",
            "2026-06-01",
        ),
        _set(
            case(VOLUNTARY_TINY, "policies.voluntary_return.offer_before_decision", True),
            "policies.voluntary_return.pre_decision_departure_rate_per_year",
            0.3,
        ),
        case(OFFSHORE_TINY, "policies.offshore.fixed_payments.0.date", "2026-01-01"),
    ]
    disabled_late = case(HUBS_TINY, "policies.return_hubs.start_date", "2027-03-01")
    disabled_late["policies"]["return_hubs"]["enabled"] = False  # switched off: never checked
    for data in [*accepted, disabled_late]:
        Scenario.from_dict(data)


def test_a_renamed_field_in_an_override_says_what_replaced_it():
    scenario = Scenario.from_dict(OFFSHORE_TINY)
    with pytest.raises(ScenarioError) as excinfo:
        scenario.with_overrides({"policies.offshore.deterrence": 0.3})
    [(path, message)] = excinfo.value.problems
    assert path == "policies.offshore.deterrence"
    assert "replaced by deterred_share" in message and "0 = none" in message


@pytest.mark.parametrize(
    "years", [math.inf, -math.inf, math.nan, 1e6, MAX_HORIZON_YEARS + 0.01, 0, -1, True, "2"]
)
def test_with_years_refuses_what_is_not_a_horizon(years):
    with pytest.raises(ScenarioError) as excinfo:
        Scenario.from_dict(TINY).with_years(years)
    [(path, message)] = excinfo.value.problems
    assert path == "years" and "at most 100" in message


def test_with_years_accepts_the_longest_horizon():
    assert Scenario.from_dict(TINY).with_years(MAX_HORIZON_YEARS).end_date.year == 2126


def test_shortening_a_run_before_a_policy_starts_says_how_long_to_run():
    scenario = Scenario.from_dict(HUBS_TINY)  # hubs start 2026-03-01, 59 days in
    with pytest.raises(ScenarioError) as excinfo:
        scenario.with_years(0.1)
    [(path, message)] = excinfo.value.problems
    assert path == "years" and "policies.return_hubs.start_date" in message
    assert "at least 0.17 years" in message
    assert scenario.with_years(0.17).end_date > scenario.policies["return_hubs"].start_date


@pytest.mark.parametrize("years", ["inf", "nan", "0", "-2"])
def test_years_argument_must_be_a_positive_finite_number(capsys, years):
    with pytest.raises(SystemExit) as excinfo:
        main(["run", str(ROOT / "scenarios" / "baseline.yaml"), "--years", years])
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert "--years" in err and "positive finite number" in err and "Traceback" not in err


def test_run_command_refuses_a_horizon_past_the_limit(capsys):
    assert main(["run", str(ROOT / "scenarios" / "baseline.yaml"), "--years", "1e6"]) == 2
    err = capsys.readouterr().err
    assert "years: must be a number of years more than 0 and at most 100" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------------- memory


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a simulation starts."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a simulation started")

    monkeypatch.setattr(evaluate_module, "_simulate", refuse)


def test_the_estimate_counts_stocks_claims_and_later_records():
    scenario = Scenario.from_dict(TINY)
    estimate = memory.expected_records(scenario)
    state = TINY["initial_state"]
    stocks = (
        state["awaiting_decision_people"]
        + state["appeals_pending_people"]
        + state["are_in_uk_people"]
    )
    routes = TINY["arrivals"].values()
    claims = sum(r["rate_per_month"] * r["claim_share"] for r in routes) * 365 / (365.25 / 12)
    # p = largest re-entry share + further submissions' share of the ways out of ARE
    after = TINY["after_refusal"]
    further = after["further_submission_rate_per_year"] / (
        after["voluntary_departure_rate_per_year"]
        + after["further_submission_rate_per_year"]
        + after["absconding_rate_per_year"]
    )
    factor = 1 + after["reentry_share"] + further
    assert estimate["stocks"] == stocks
    assert estimate["claims"] == pytest.approx(claims, rel=1e-12)
    assert estimate["factor"] == pytest.approx(factor, rel=1e-12)
    assert estimate["records"] == pytest.approx((stocks + claims) * factor, rel=1e-12)


def test_the_estimate_bounds_the_records_a_run_makes():
    """Every stock and claim makes a record, and the estimate covers the records made later."""
    scenario = Scenario.from_dict(tiny_dict(end_date="2031-01-01"))
    made = len(run(scenario, seed=1, keep_records=True).records["t_claim"])
    estimate = memory.expected_records(scenario)
    assert estimate["stocks"] + estimate["claims"] < made <= estimate["records"]


def test_a_run_too_large_for_the_machine_is_refused_before_it_starts(no_simulation):
    baseline = Scenario.from_yaml(ROOT / "scenarios" / "baseline.yaml")
    most = {
        f"arrivals.{route}.rate_per_month": 10_000_000
        for route in ("small_boat", "other_irregular", "in_country")
    }
    huge = baseline.with_overrides(most).with_years(MAX_HORIZON_YEARS)  # 36 billion records
    with pytest.raises(memory.RunTooLargeError) as excinfo:
        run(huge, seed=1)
    [(path, message)] = excinfo.value.problems
    assert path == "memory"
    assert "billion records" in message and "GiB" in message
    assert memory.MAX_RECORDS_VARIABLE in message and "--" not in message


def test_the_limit_comes_from_the_environment_variable(monkeypatch, no_simulation):
    scenario = Scenario.from_dict(TINY)
    records = memory.expected_records(scenario)["records"]
    monkeypatch.setenv(memory.MAX_RECORDS_VARIABLE, str(int(records) - 1))
    with pytest.raises(memory.RunTooLargeError) as excinfo:
        run(scenario, seed=1)
    assert f"{memory.MAX_RECORDS_VARIABLE}={int(records) - 1}" in str(excinfo.value)
    monkeypatch.setenv(memory.MAX_RECORDS_VARIABLE, str(int(records) + 1))
    memory.check(scenario)  # fits
    with pytest.raises(memory.RunTooLargeError):  # a whole-life run needs twice as much
        memory.check(scenario, whole_life=True)


@pytest.mark.parametrize("text", ["many", "0", "-5", "1.5"])
def test_a_bad_limit_in_the_environment_is_named(monkeypatch, text):
    monkeypatch.setenv(memory.MAX_RECORDS_VARIABLE, text)
    with pytest.raises(InputError) as excinfo:
        memory.check(Scenario.from_dict(TINY))
    assert excinfo.value.problems[0][0] == memory.MAX_RECORDS_VARIABLE


def test_the_refusal_survives_a_worker_process():
    error = memory.RunTooLargeError("run", [("memory", "too large")])
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is memory.RunTooLargeError and again.problems == error.problems


def test_run_command_refuses_a_run_over_the_limit(tmp_path, monkeypatch, capsys):
    file = tmp_path / "tiny.yaml"
    file.write_text(yaml.safe_dump(TINY))
    monkeypatch.setenv(memory.MAX_RECORDS_VARIABLE, "10")
    assert main(["run", str(file), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "memory: the run would make about" in err and "Traceback" not in err


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_pass_every_check_at_20_years(path, no_simulation):
    scenario = Scenario.from_yaml(path).with_years(20)
    memory.check(scenario, whole_life=True)
    assert memory.expected_records(scenario)["records"] < 3_000_000
