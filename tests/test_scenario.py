"""Scenarios: loading, saving, overrides, composition, provenance and bad input."""

from __future__ import annotations

import csv
from datetime import date

import pytest
import yaml
from conftest import SHARED_DATA, tiny, tiny_dict

from simulation import Scenario, ScenarioError
from simulation.inputs import paths as scenario_paths
from simulation.inputs import published


def problems_of(excinfo) -> dict[str, str]:
    return dict(excinfo.value.problems)


def test_baseline_is_valid(baseline):
    assert baseline.start_date == date(2026, 1, 1)
    assert baseline.end_date == date(2036, 1, 1)
    assert baseline.horizon_days == 3652


def test_yaml_round_trip(baseline, tmp_path):
    path = tmp_path / "copy.yaml"
    baseline.to_yaml(path)
    assert Scenario.from_yaml(path) == baseline


def test_overrides_set_nested_values(baseline):
    before = baseline.to_dict()
    changed = baseline.with_overrides(
        {"appeals.lodged_share": 0.4, "appeals.judges_fte.2027-03-01": 300}
    )
    assert changed.appeals.lodged_share == 0.4
    assert changed.appeals.judges_fte[date(2027, 3, 1)] == 300
    assert baseline.to_dict() == before  # the original is untouched


def test_override_replaces_a_schedule_by_a_constant(baseline):
    assert baseline.with_overrides({"appeals.judges_fte": 250}).appeals.judges_fte == 250


def test_override_of_unknown_path_names_it(baseline):
    with pytest.raises(ScenarioError) as excinfo:
        baseline.with_overrides({"appeals.allowed_rate": 0.4})
    path, message = excinfo.value.problems[0]
    assert path == "appeals.allowed_rate"
    assert "lodged_share" in message  # says what is allowed there


def test_override_with_bad_value_names_field(baseline):
    with pytest.raises(ScenarioError) as excinfo:
        baseline.with_overrides({"appeals.lodged_share": 1.5})
    assert problems_of(excinfo) == {"appeals.lodged_share": "must be <= 1.0, got 1.5"}


def test_composition_deep_merges_and_later_wins(baseline, tmp_path):
    overlay = tmp_path / "policy.yaml"
    overlay.write_text(
        "name: with more judges\n"
        "appeals:\n  judges_fte: {2026-01-01: 400}\n"
        "after_refusal:\n  reentry_share: 0.1\n"
    )
    combined = baseline + overlay
    assert combined.name == "with more judges"
    assert combined.appeals.judges_fte == {date(2026, 1, 1): 400}  # schedule replaced whole
    assert combined.appeals.lodged_share == baseline.appeals.lodged_share  # sibling kept
    assert combined.after_refusal.reentry_share == 0.1
    assert combined.after_refusal.absconding_rate_per_year == (
        baseline.after_refusal.absconding_rate_per_year
    )
    assert baseline + {"name": "renamed"} == baseline.with_overrides({"name": "renamed"})


def test_extends_resolves_relative_to_the_file(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(tiny_dict()))
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "child.yaml"
    child.write_text("extends: ../base.yaml\ndecisions:\n  caseworkers_fte: 99\n")
    loaded = Scenario.from_yaml(child)
    assert loaded.decisions.caseworkers_fte == 99
    assert loaded.decisions.withdrawal_rate_per_year == 0.2


def test_extends_cycle_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="circular"):
        Scenario.from_yaml(tmp_path / "a.yaml")


BAD_INPUT = [
    (
        {"arrivals": {"small_boat": {"rate_per_month": -5}}},
        "arrivals.small_boat.rate_per_month",
        "must be >= 0",
    ),
    ({"appeals": {"lodged_share": 1.2}}, "appeals.lodged_share", "must be <= 1"),
    (
        {"nationality_groups": {"high": {"grant_rate": {"2026-01-01": 1.5}}}},
        "nationality_groups.high.grant_rate.2026-01-01",
        "must be <= 1",
    ),
    (
        {"decisions": {"caseworkers_fte_typo": 3}},
        "decisions.caseworkers_fte_typo",
        "unknown field; allowed here: caseworkers_fte",
    ),
    (
        {"decisions": {"caseworkers_fte": {"2026-06-01": 5, "2026-03-01": 9}}},
        "decisions.caseworkers_fte",
        "increasing order",
    ),
    (
        {"decisions": {"caseworkers_fte": {"2026-06-01": 5}}},
        "decisions.caseworkers_fte",
        "after start_date",
    ),
    ({"end_date": "2025-06-01"}, "end_date", "must be after start_date"),
    ({"households": {"single_adult": 0.9}}, "households", "must sum to 1"),
    ({"nationality_groups": {"high": {"share": 0.5}}}, "nationality_groups", "sum to 1"),
    (
        {"initial_state": {"awaiting_over_12_months_people": 5000}},
        "initial_state",
        "exceeds awaiting_decision_people",
    ),
    (
        {"sources": {"appeals.no_such_field": {"kind": "guess", "note": "x"}}},
        "sources.appeals.no_such_field",
        "names no field",
    ),
    (
        {"uncertainty": {"decisions.withdrawal_rate_per_year": {"low": 0.5, "high": 0.1}}},
        "uncertainty.decisions.withdrawal_rate_per_year",
        "must not exceed high",
    ),
    (
        {"uncertainty": {"appeals.lodged_share": {"low": 0.5, "high": 1.3}}},
        "uncertainty.appeals.lodged_share.high",
        "must be <= 1",
    ),
    (
        {"sources": {"appeals.lodged_share": {"kind": "published"}}},
        "sources.appeals.lodged_share",
        "needs a publisher and a title",
    ),
    (
        {"after_refusal": {"reentry_mean_delay_days": 0}},
        "after_refusal.reentry_mean_delay_days",
        "must be > 0",
    ),
]


@pytest.mark.parametrize(("change", "path", "fragment"), BAD_INPUT)
def test_bad_input_names_the_field(change, path, fragment):
    with pytest.raises(ScenarioError) as excinfo:
        tiny(**change)
    problems = problems_of(excinfo)
    assert path in problems, problems
    assert fragment in problems[path]


def test_missing_field_is_named():
    data = tiny_dict()
    del data["costs"]["tribunal_cost_per_case_gbp"]
    with pytest.raises(ScenarioError) as excinfo:
        Scenario.from_dict(data)
    assert problems_of(excinfo) == {"costs.tribunal_cost_per_case_gbp": "required field is missing"}


def test_malformed_yaml_names_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\narrivals: [1, 2\nstart_date: 2026-01-01\n")
    with pytest.raises(ScenarioError) as excinfo:
        Scenario.from_yaml(path)
    (only,) = excinfo.value.lines()
    assert "malformed YAML" in only and "line 3" in only


def test_duplicate_keys_are_rejected(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(tiny_dict()) + "name: again\n")
    with pytest.raises(ScenarioError, match="duplicate key 'name'"):
        Scenario.from_yaml(path)


def test_unsafe_yaml_tags_are_refused(tmp_path):
    path = tmp_path / "unsafe.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ScenarioError, match="malformed YAML"):
        Scenario.from_yaml(path)


def test_every_baseline_number_has_a_source(baseline):
    data = baseline.model_dump(exclude={"sources", "uncertainty"})
    unsourced = [
        path
        for path, value in scenario_paths.leaves(data)
        if isinstance(value, int | float)
        and not isinstance(value, bool)
        and not scenario_paths.covers(path, baseline.sources)
    ]
    assert unsourced == []


def test_every_field_states_a_unit_or_description():
    """A field's unit is in its name (_gbp, _days, _per_month, _share, ...) or description."""
    unit_words = ("_gbp", "_days", "_per_", "_share", "_rate", "_fte", "_people", "share", "_date")
    from simulation.inputs import scenario as models

    missing = []
    for model in (
        models.RouteArrivals,
        models.NationalityGroup,
        models.Households,
        models.Decisions,
        models.Appeals,
        models.AfterRefusal,
        models.Support,
        models.AccommodationType,
        models.OverflowAccommodation,
        models.UnitCosts,
        models.InitialState,
    ):
        for name, field in model.model_fields.items():
            if not (any(w in name for w in unit_words) or field.description):
                missing.append(f"{model.__name__}.{name}")
    assert missing == []


def test_cited_data_keys_exist_in_the_shipped_figures(baseline):
    # The published figures ship inside the package (simulation/data/), so this runs in every
    # clone; tests/test_published.py checks every scenario file and the values too.
    assert SHARED_DATA.is_file()
    with SHARED_DATA.open(newline="", encoding="utf-8") as handle:
        keys = {row["key"] for row in csv.DictReader(handle)}
    assert keys == set(published.figures())
    cited = {s.data_key for s in baseline.sources.values() if s.data_key}
    assert cited and cited <= keys, cited - keys
