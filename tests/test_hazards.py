"""Waiting times under hazards that change on dates (voluntary departure, policy multipliers)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny_dict

from simulation import Scenario, ScenarioError, run
from simulation.engine.hazards import PiecewiseHazard


def test_a_dated_rate_times_a_policy_multiplier_accumulates_exactly():
    # rate 0.01/day before day 100, 0.03/day after; a policy doubles it from day 150 on
    hazard = PiecewiseHazard.from_schedule(
        np.array([-5.0, 100.0]), np.array([0.01, 0.03]), [(150.0, 2.0)]
    )
    assert hazard.rates == [0.01, 0.03, 0.06]
    # exposure 0.5 + 1.5 + 0.6 reached at day 100 + 50 + 10
    assert math.isclose(hazard.time_of(0.0, 0.01 * 100 + 0.03 * 50 + 0.06 * 10), 160.0)
    assert math.isclose(hazard.time_of(120.0, 0.03 * 30), 150.0)


def test_a_constant_schedule_is_the_constant_rate():
    constant = PiecewiseHazard.from_schedule(np.array([-np.inf]), np.array([0.02]), [])
    assert constant.constant == 0.02
    assert constant.time_of(3.0, 1.0) == 3.0 + 1.0 / 0.02
    # a multiplier of 1 changes nothing, not even the arithmetic
    neutral = PiecewiseHazard.from_schedule(np.array([-np.inf]), np.array([0.02]), [(9.0, 1.0)])
    assert neutral.constant == 0.02


def test_a_higher_voluntary_rate_from_a_date_raises_departures_only_after_it(tiny_scenario):
    start = tiny_scenario.start_date
    later = start.replace(month=start.month + 6)
    constant = tiny_scenario.with_overrides(
        {"after_refusal.voluntary_departure_rate_per_year": 0.5}
    )
    dated = tiny_scenario.with_overrides(
        {"after_refusal.voluntary_departure_rate_per_year": {start: 0.5, later: 3.0}}
    )
    a, b = run(constant, seed=3), run(dated, seed=3)
    day = (later - start).days

    def departures(result, until):
        series = result.series_wide()["cumulative_returns_voluntary"].to_numpy()
        return series[min(until, len(series) - 1)]

    assert departures(a, day) == departures(b, day)  # same people, same fate before the change
    assert departures(b, 10**6) > departures(a, 10**6)


@pytest.mark.parametrize("bad", [-0.1, {"2026-01-01": 0.1, "2025-01-01": 0.2}])
def test_a_bad_voluntary_schedule_is_refused(bad):
    with pytest.raises(ScenarioError, match="after_refusal.voluntary_departure_rate_per_year"):
        Scenario.from_dict(tiny_dict(after_refusal={"voluntary_departure_rate_per_year": bad}))
