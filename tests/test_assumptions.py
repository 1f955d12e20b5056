"""The assumptions said at the end of a report, and the support phases of the start state."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from simulation import Scenario, run
from simulation.cli import main
from simulation.engine.start_state import support_phases
from simulation.outputs import assumptions
from simulation.outputs.report import with_assumptions

BASELINE = "scenarios/baseline.yaml"


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return Scenario.from_yaml(BASELINE)


def test_dispersal_capacity_is_said_from_the_scenario(baseline):
    said = assumptions.statements(
        baseline.with_overrides({"accommodation.dispersal.capacity_people": 81234})
    )
    places = said[0]
    assert "81,234 places, held for the whole run" in places
    assert "beyond these 82,134 places is in a hotel" in places  # 81,234 + 900 on large sites
    assert "all growth in the supported population goes to hotels" in places
    assert "75,446" not in " ".join(said[:2])


def test_a_dispersal_schedule_is_said_as_its_steps(baseline):
    schedule = {date(2026, 1, 1): 75446, date(2028, 6, 1): 90000}
    places = assumptions.statements(
        baseline.with_overrides({"accommodation.dispersal.capacity_people": schedule})
    )[0]
    assert "75,446 places from 2026-01-01, then 90,000 places from 2028-06-01 held to the end" in (
        places
    )
    assert "all growth" not in places


def test_a_step_after_the_end_is_not_said(baseline):
    schedule = {date(2026, 1, 1): 75446, date(2040, 1, 1): 90000}
    places = assumptions.statements(
        baseline.with_overrides({"accommodation.dispersal.capacity_people": schedule})
    )[0]
    assert "75,446 places, held for the whole run" in places
    assert "90,000" not in places


def test_hotel_price_start_state_and_guesses_follow_the_scenario(baseline):
    changed = baseline.with_overrides(
        {
            "accommodation.hotels.cost_per_person_night_gbp": 150.5,
            "initial_state.supported_people": 100000,
            "after_refusal.reentry_share": 0.07,
        }
    )
    text = " ".join(assumptions.statements(changed))
    assert "Hotel cost per person-night: £150.50" in text
    assert "100,000 supported (23,654 in hotels)" in text  # 100,000 - 75,446 - 900
    assert "after_refusal.reentry_share = 0.07" in text


def test_a_comparison_says_shared_assumptions_once_and_names_the_rest():
    said = assumptions.compared({"a": ["same", "only a"], "b": ["same", "only b"]})
    assert said == ["same", "a only: only a", "b only: only b"]


def test_the_report_ends_with_the_assumptions(baseline):
    said = assumptions.statements(baseline)
    text = with_assumptions("Table\n=====", said)
    assert text.splitlines()[-len(said) :] == [f"- {s}" for s in said]
    assert with_assumptions("Table", []) == "Table"


def test_run_prints_them_last_and_writes_them_in_the_manifest(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--years", "0.1", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.rstrip().splitlines()
    said = assumptions.statements(Scenario.from_yaml(BASELINE).with_years(0.1))
    assert printed[-len(said) - 2] == assumptions.TITLE
    assert printed[-len(said) :] == [f"- {s}" for s in said]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["assumptions"] == said


# ---------------------------------------------------------------------- start-up


def test_support_phases_split_the_published_total(baseline):
    phases = support_phases(baseline)
    state = baseline.initial_state
    assert phases.supported == state.supported_people
    assert phases.in_process + phases.move_on + phases.after_refusal + phases.are_families == (
        state.supported_people
    )
    assert phases.after_refusal + phases.are_families == state.are_supported_people
    assert phases.move_on > 0 and phases.after_refusal > 0
    # twice the move-on period: twice the people in it (to rounding and the in-process share)
    longer = support_phases(baseline.with_overrides({"support.move_on_days": 56}))
    assert longer.move_on == pytest.approx(2 * phases.move_on, rel=0.05)


def test_no_caseworkers_means_nobody_in_move_on_from_decisions(baseline):
    none = baseline.with_overrides({"decisions.caseworkers_fte": 0, "appeals.judges_fte": 0})
    phases = support_phases(none)
    assert phases.move_on == 0 and phases.after_refusal == 0
    assert phases.in_process == none.initial_state.supported_people - (
        none.initial_state.are_supported_people
    )


def test_the_start_state_has_the_phases_as_records(baseline):
    result = run(baseline.with_years(0.1), seed=3, keep_records=True)
    records, phases = result.records, support_phases(baseline)
    move_on = records["origin"] == 8
    assert move_on.sum() == phases.move_on
    assert np.all(records["supported"][move_on] == 1)
    assert np.all((records["t_dec_end"][move_on] <= 0) & (records["t_dec_end"][move_on] > -28))
    # refused single adults within the grace period: ARE dated in the days before the start
    are = records["origin"] == 2
    recent = are & (records["t_are"] < 0)
    assert recent.sum() == phases.after_refusal
    assert np.all((records["t_are"][recent] > -21) & (records["supported"][recent] == 1))
    wide = result.series_wide()
    # grants before the start are not grants of the run
    assert wide["cumulative_grants_initial"].iloc[0] == 0
    assert wide["supported_total"].iloc[0] == baseline.initial_state.supported_people


def test_no_start_up_jump_in_hotels(baseline):
    """Without the two support phases in the start state the hotel population rose by their
    size (about 4,000) in the first month. With them it moves only by the trend and the noise
    of the flows: about 190 supported people arrive a day and about as many leave, so over 60
    days the net change has a standard deviation of about sqrt(2 x 190 x 60) = 150. A quarter
    of the phases (about 1,000, over six standard deviations) separates the two cases."""
    phases = support_phases(baseline)
    hotel = run(baseline.with_years(0.2), seed=1).series_wide()["in_hotel"].to_numpy()
    start = hotel[0]
    assert start == baseline.initial_state.supported_people - 75446 - 900
    assert np.max(np.abs(hotel[:61] - start)) < (phases.move_on + phases.after_refusal) / 4
