"""Conservation, capacities and stage order on random valid scenarios (hypothesis).

The policies drawn are every policy in the registry: each starts from its example config in
scenarios/ and has its fields perturbed within the bounds its pydantic model declares, so a
newly registered policy is exercised here without editing this file.
"""

from __future__ import annotations

import typing
from datetime import date, timedelta
from typing import Any

import annotated_types
import numpy as np
import pytest
from conftest import BASELINE, tiny, tiny_dict
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from invariants import (
    QUEUES,
    check_capacities,
    check_conservation,
    check_record_paths,
    missing_example_message,
    policy_examples,
    queue_state,
    sample_times,
    servers_at,
)
from pydantic import ValidationError

from simulation import Scenario
from simulation.core import schedules
from simulation.core.errors import InputError
from simulation.experiments.evaluate import run_one
from simulation.inputs import files
from simulation.inputs.policy_config import registered

START = date(2026, 1, 1)
rate = st.floats(0, 400, allow_nan=False)
share = st.floats(0, 1, allow_nan=False)
hazard = st.floats(0, 3, allow_nan=False)
small = st.integers(0, 40)
#: The baseline's nationality groups: policies' example configs name them.
GROUPS = list(files.load(BASELINE)["nationality_groups"])
EXAMPLES = policy_examples()
#: How close a drawn number comes to a bound its field excludes (``gt=0``).
OPEN_MARGIN = 1e-3


@st.composite
def schedule(draw, values, max_steps: int = 3):
    """A constant or a dated schedule starting on the start date."""
    if draw(st.booleans()):
        return draw(values)
    offsets = sorted(set(draw(st.lists(st.integers(1, 360), max_size=max_steps - 1))))
    dates = [START] + [START + timedelta(days=o) for o in offsets]
    return {d: draw(values) for d in dates}


@st.composite
def group_shares(draw, n: int) -> list[float]:
    cuts = sorted(draw(st.lists(share, min_size=n - 1, max_size=n - 1)))
    shares = np.diff([0.0, *cuts, 1.0])
    shares[-1] = 1.0 - shares[:-1].sum()
    return [float(s) for s in shares]


@st.composite
def scenarios(draw) -> Scenario:
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
    data["nationality_groups"] = {
        name: {
            "share": group_share,
            "grant_rate": draw(schedule(share)),
            "appeal_allowed_rate": draw(schedule(share)),
            "returnable_share": draw(share),
        }
        for name, group_share in zip(GROUPS, draw(group_shares(len(GROUPS))), strict=True)
    }
    without_policies = Scenario.from_dict(data)
    data["policies"] = draw(policies(without_policies))
    return Scenario.from_dict(data)


# ---------------------------------------------------------------------- policies


def _bounds(metadata) -> tuple[float | None, bool, float | None, bool]:
    """(low, low excluded, high, high excluded) declared by pydantic constraints."""
    low = high = None
    low_open = high_open = False
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = float(item.ge)
        elif isinstance(item, annotated_types.Gt):
            low, low_open = float(item.gt), True
        elif isinstance(item, annotated_types.Le):
            high = float(item.le)
        elif isinstance(item, annotated_types.Lt):
            high, high_open = float(item.lt), True
    return low, low_open, high, high_open


def _inner_metadata(annotation) -> list:
    """The constraints of the numbers inside a schedule type (its first FieldInfo)."""
    for arg in typing.get_args(annotation):
        metadata = getattr(arg, "metadata", None)
        if metadata:
            return list(metadata)
        found = _inner_metadata(arg)
        if found:
            return found
    return []


def _numbers(metadata, example: float, integer: bool) -> st.SearchStrategy:
    """Numbers within the declared bounds: half the time near the lower bound (the property
    scenarios are small), else anywhere up to the declared upper bound, or twice the example
    (at least the lower bound + 1) where none is declared."""
    low, low_open, high, high_open = _bounds(metadata)
    low = 0.0 if low is None else low
    if low_open and not integer:
        # An open bound is approached to within OPEN_MARGIN only: a mean stay or processing
        # period of 1e-300 days is no scenario, and overflows costs to inf (see the report).
        low, low_open = low + OPEN_MARGIN, False
    top = max(2 * abs(example), low + 1)
    high = top if high is None else high
    if integer:
        first = int(np.floor(low)) + 1 if low_open else int(np.ceil(low))
        last = int(np.ceil(high)) - 1 if high_open else int(np.floor(high))
        return st.one_of(st.integers(first, min(last, first + 40)), st.integers(first, last))
    floats = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False)
    near = st.floats(low, min(high, low + 40), exclude_max=high_open and low + 40 >= high, **floats)
    return st.one_of(near, st.floats(low, high, exclude_max=high_open, **floats))


def _field_values(field, example: Any) -> st.SearchStrategy | None:
    """A strategy for one field of a policy config, or None to keep the example's value."""
    annotation = field.annotation
    if isinstance(example, bool):
        return st.booleans()
    if annotation in (int, float) and isinstance(example, int | float):
        return _numbers(field.metadata, float(example), annotation is int)
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if typing.get_origin(item) is typing.Literal:
            return st.lists(st.sampled_from(typing.get_args(item)), min_size=1, unique=True)
        return None
    is_dated = isinstance(example, dict) and example and all(isinstance(k, date) for k in example)
    if is_dated or (isinstance(example, int | float) and annotation not in (int, float)):
        # a schedule: its numbers' bounds are inside the type
        values = list(example.values()) if is_dated else [example]
        return schedule(_numbers(_inner_metadata(annotation), float(max(values)), False))
    return None


@st.composite
def policy_config(draw, name: str, scenario: Scenario):
    """The example config of policy ``name`` with every field it can perturb redrawn (a
    value its model refuses, in isolation or against ``scenario``, keeps the example's)."""
    config_class = registered()[name]
    example = config_class.model_validate(EXAMPLES[name].raw)
    config = example.model_copy()
    # a policy starts before the run ends (one starting later would never act: refused)
    last = min(200, scenario.horizon_days - 1)
    config.start_date = START + timedelta(days=draw(st.integers(0, last)))
    for field_name, field in config_class.model_fields.items():
        if field_name in ("enabled", "start_date"):
            continue
        values = _field_values(field, getattr(example, field_name))
        if values is None:
            continue
        value = draw(values)
        before = getattr(config, field_name)
        try:
            setattr(config, field_name, value)
        except ValidationError:
            continue
        if config.problems_with(scenario):
            setattr(config, field_name, before)
    if config.problems_with(scenario):
        return None
    return config.model_dump(mode="python")


@st.composite
def policies(draw, scenario: Scenario) -> dict:
    """Any combination of the registered policies that have an example config."""
    chosen = {}
    for name in EXAMPLES:
        if draw(st.booleans()):
            config = draw(policy_config(name, scenario))
            if config is not None:
                chosen[name] = config
    note(f"policies: {sorted(chosen)}")
    return chosen


def test_every_registered_policy_is_drawn():
    """The property test draws every registered policy (one with no example is named)."""
    missing = [name for name in registered() if name not in EXAMPLES]
    if missing:
        pytest.skip("; ".join(missing_example_message(name) for name in missing))
    assert set(EXAMPLES) == set(registered())


@pytest.mark.parametrize("name", sorted(registered()))
def test_each_policy_draws_valid_configs(name):
    if name not in EXAMPLES:
        pytest.skip(missing_example_message(name))

    @settings(max_examples=25, deadline=None)
    @given(data=st.data())
    def draws(data):
        scenario = data.draw(scenarios().map(lambda s: s.model_copy(update={"policies": {}})))
        config = data.draw(policy_config(name, scenario))
        if config is not None:
            try:
                Scenario.from_dict({**scenario.to_dict(), "policies": {name: config}})
            except InputError as exc:  # pragma: no cover - a failure message
                raise AssertionError(f"{name}: drawn config refused: {exc}") from None

    draws()


# ---------------------------------------------------------------------- the property test


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


# ---------------------------------------------------------------------- judges at work


def congested_appeals() -> Scenario:
    """More appeals than judges can hear all year, with judges added and then cut."""
    return tiny(
        appeals={
            "lodged_share": 1.0,
            "judges_fte": {"2026-01-01": 4, "2026-05-01": 7, "2026-09-01": 2},
            "determinations_per_judge_per_day": 0.3,
        }
    )


def test_every_judge_hears_an_appeal_while_appeals_wait():
    """Hearings in progress equal the judges in force whenever appeals wait, and never exceed
    them at a hearing's start: doubling or halving the judges the engine uses breaks this."""
    scenario = congested_appeals()
    result = run_one(scenario, 3, keep_records=True)
    check_capacities(result, scenario)  # at most as many hearings as judges; none idle
    appeals = next(q for q in QUEUES if q.name == "appeals")
    records = result.records
    t = sample_times(records, appeals, scenario.horizon_days)
    present, hearing = queue_state(records, appeals, t)
    judges = servers_at(appeals, scenario, t)
    waiting = present > hearing
    assert waiting.mean() > 0.95, "the scenario must keep appeals waiting"
    # Judges are never idle while appeals wait; after the cut to 2 judges, the hearings
    # under way finish first (nobody is interrupted), so more may sit for a while.
    settled = waiting & ~((t >= 243) & (t < 273))  # 2026-09-01 is day 243
    assert np.array_equal(hearing[settled], judges[settled])
    for moment, count in ((100, 4), (200, 7), (300, 2)):
        assert np.round(schedules.value_at(scenario.appeals.judges_fte, START, moment)) == count
        assert hearing[np.searchsorted(t, moment)] == count
