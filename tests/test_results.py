"""Series, summary, accommodation and costs computed from the records."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import tiny

from simulation import Replications, Result, run
from simulation.core import timeline
from simulation.core.records import ExitOutcome
from simulation.core.vocabulary import FAMILY_MEMBER, SINGLE_ADULT
from simulation.engine.accommodation import allocate, support_intervals
from simulation.experiments.replications import mean_ci, run_one

REQUIRED_SERIES = {
    "awaiting_decision",
    "appeals_pending",
    "are_in_uk",
    "in_hotel",
    "in_dispersal",
    "in_large_sites",
    "supported_total",
    "cumulative_removals_enforced",
    "cumulative_returns_voluntary",
    "cumulative_grants_initial",
    "cumulative_claims",
}
REQUIRED_SUMMARY = {
    "total_cost_gbp",
    "total_cost_discounted_gbp",
    "cost_by_category_gbp",
    "peak_hotel_population",
    "final_hotel_population",
    "final_backlog_initial",
    "final_backlog_appeals",
    "removals_enforced",
    "returns_voluntary",
    "days_to_initial_decision_p50",
    "days_to_initial_decision_p90",
    "days_to_final_outcome_p50",
    "days_to_final_outcome_p90",
}


def test_result_has_the_promised_shape(tiny_scenario):
    result = run(tiny_scenario, seed=1)
    assert isinstance(result, Result)
    assert list(result.series.columns) == ["date", "metric", "value"]
    assert set(result.series["metric"].astype(str)) >= REQUIRED_SERIES
    assert set(result.summary) >= REQUIRED_SUMMARY
    days = tiny_scenario.horizon_days
    assert result.series["date"].nunique() == days + 1
    assert result.series["date"].min() == np.datetime64(tiny_scenario.start_date)
    manifest = result.manifest
    assert manifest["seed"] == 1 and manifest["version"]
    assert manifest["scenario"]["name"] == tiny_scenario.name


def test_series_start_from_the_initial_stocks(tiny_scenario):
    first = run(tiny_scenario, seed=1).series_wide().iloc[0]
    state = tiny_scenario.initial_state
    assert first["awaiting_decision"] == state.awaiting_decision_people
    assert first["appeals_pending"] == state.appeals_pending_people
    assert first["are_in_uk"] == state.are_in_uk_people
    assert first["supported_total"] == state.supported_people
    assert first["in_dispersal"] == 150 and first["in_large_sites"] == 40
    assert first["in_hotel"] == state.supported_people - 190


def test_baseline_starts_with_the_published_hotel_population(baseline):
    result = run(baseline.with_years(0.05), seed=1)
    first = result.series_wide().iloc[0]
    assert first["in_hotel"] == 30657  # end-2025 hotel population, hotel_pop_dec2025
    assert first["supported_total"] == 107003


def test_summary_counts_match_series_ends(tiny_scenario):
    result = run(tiny_scenario, seed=2)
    last = result.series_wide().iloc[-1]
    assert last["cumulative_removals_enforced"] == result.summary["removals_enforced"]
    assert last["cumulative_returns_voluntary"] == result.summary["returns_voluntary"]
    assert last["awaiting_decision"] == result.summary["final_backlog_initial"]
    assert last["in_hotel"] == result.summary["final_hotel_population"]
    assert result.series_wide()["in_hotel"].max() == result.summary["peak_hotel_population"]
    assert last["cumulative_cost_gbp"] == pytest.approx(result.summary["total_cost_gbp"])


def test_fill_cheapest_first_hotels_take_the_overflow():
    scenario = tiny(
        accommodation={
            "dispersal": {"capacity_people": {"2026-01-01": 10, "2026-01-03": 30}},
            "large_sites": {"capacity_people": 5, "cost_per_person_night_gbp": 5},
        }
    )
    occupancy = allocate(np.array([3.0, 12.0, 40.0, 20.0, 50.0]), scenario)
    # large sites (GBP 5) are cheaper than dispersal (GBP 15) here, so they fill first
    assert occupancy.by_type["large_sites"].tolist() == [3, 5, 5, 5, 5]
    assert occupancy.by_type["dispersal"].tolist() == [0, 7, 30, 15, 30]
    assert occupancy.by_type["hotels"].tolist() == [0, 0, 5, 0, 15]


def test_support_rules(tiny_scenario):
    result = run_one(tiny_scenario.with_years(2), 4, keep_records=True)
    r = result.records
    start, end = support_intervals(r, tiny_scenario)
    grace = tiny_scenario.support.support_end_days_after_refusal
    single = (
        (r["exit_outcome"] != ExitOutcome.NONE)
        & (r["household"] == SINGLE_ADULT)
        & (r["supported"] == 1)
    )
    assert single.sum() > 10
    assert np.all(end[single] <= r["t_are"][single] + grace + 1e-9)
    family = (
        (r["exit_outcome"] != ExitOutcome.NONE)
        & (r["household"] == FAMILY_MEMBER)
        & (r["supported"] == 1)
    )
    assert family.sum() > 0
    assert np.array_equal(end[family], r["t_exit"][family])
    assert np.all(np.isnan(start[r["supported"] == 0]))


def test_costs_add_up_and_discounting_lowers_them(tiny_scenario):
    summary = run(tiny_scenario.with_years(3), seed=1).summary
    categories = summary["cost_by_category_gbp"]
    assert summary["total_cost_gbp"] == pytest.approx(sum(categories.values()))
    assert 0 < summary["total_cost_discounted_gbp"] < summary["total_cost_gbp"]
    assert all(v >= 0 for v in categories.values())


def test_hotel_cost_is_nights_times_price(tiny_scenario):
    result = run(tiny_scenario, seed=1)
    nights = result.series_wide()["in_hotel"].to_numpy()[1:].sum()
    price = tiny_scenario.accommodation.hotels.cost_per_person_night_gbp
    assert result.summary["cost_by_category_gbp"]["accommodation_hotels"] == pytest.approx(
        nights * price
    )


def test_replications_summary_has_confidence_intervals(tiny_scenario):
    batch = run(tiny_scenario, seed=1, replications=4)
    assert isinstance(batch, Replications) and len(batch) == 4
    row = batch.summary.set_index("metric").loc["removals_enforced"]
    values = [r.summary["removals_enforced"] for r in batch]
    assert row["mean"] == pytest.approx(np.mean(values))
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    assert set(batch.series["replication"]) == {0, 1, 2, 3}


def test_mean_ci_matches_the_t_interval():
    mean, low, high = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert high - mean == pytest.approx(3.182446305 * np.std([1, 2, 3, 4], ddof=1) / 2)


def test_more_caseworkers_shrink_the_backlog(baseline):
    short = baseline.with_years(1)
    more = short.with_overrides({"decisions.caseworkers_fte": 3000})
    assert (
        run(more, seed=1).summary["final_backlog_initial"]
        < run(short, seed=1).summary["final_backlog_initial"]
    )


def test_timeline_counts():
    assert timeline.stock(
        np.array([0.5, -3.0, np.nan]), np.array([2.0, np.inf, 1.0]), 3
    ).tolist() == [1, 2, 1, 1]
    assert timeline.cumulative(np.array([0.0, 0.2, 2.9]), 3).tolist() == [1, 2, 2, 3]
    assert timeline.per_day(np.array([0.0, 0.2, 2.9, 3.0]), 3).tolist() == [2, 0, 1]


def test_years_shorten_the_horizon(baseline):
    assert baseline.with_years(2).end_date == date(2028, 1, 1)
