"""The model against queueing theory.

One stage configured as M/M/c (Poisson arrivals, exponential service, c caseworkers, nobody
withdraws, everyone granted) must reproduce the Erlang C mean wait; and Little's law must hold
on every queue of a stationary run. Both use independent replications and a Student-t
confidence interval: the theory value must lie inside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny
from scipy import stats

from simulation.experiments.replications import run_one
from simulation.core.units import DAYS_PER_MONTH
from simulation.core.records import Origin

CONFIDENCE = 0.99


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (time units of the rates)."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1
    head = sum(a**k / math.factorial(k) for k in range(servers))
    tail = a**servers / (math.factorial(servers) * (1 - rho))
    p_wait = tail / (head + tail)
    return p_wait / (servers * service_rate - arrival_rate)


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1)
    half /= math.sqrt(len(values))
    return values.mean() - half, values.mean() + half


def mmc_scenario(arrivals_per_month: float, per_server_per_month: float, servers: int, days: int):
    quiet_route = {"rate_per_month": 0, "claim_share": 1.0, "support_share": 0.0}
    return tiny(
        end_date=f"{2026 + days // 365}-{1 + (days % 365) // 31:02d}-01",
        arrivals={
            "small_boat": {
                "rate_per_month": arrivals_per_month,
                "claim_share": 1.0,
                "support_share": 0.0,
            },
            "other_irregular": quiet_route,
            "in_country": quiet_route,
        },
        nationality_groups={"high": {"share": 1.0, "grant_rate": 1.0}, "low": {"share": 0.0}},
        decisions={
            "caseworkers_fte": servers,
            "decisions_per_fte_per_month": per_server_per_month,
            "withdrawal_rate_per_year": 0.0,
        },
        initial_state={
            "awaiting_decision_people": 0,
            "awaiting_over_12_months_people": 0,
            "appeals_pending_people": 0,
            "are_in_uk_people": 0,
            "supported_people": 0,
            "are_supported_people": 0,
        },
    )


@pytest.mark.parametrize("load", [0.3, 0.7, 0.9])
def test_mmc_mean_wait_matches_erlang_c(load):
    servers = 4
    per_server = 30.0  # decisions per caseworker per month (people_per_case is 1)
    arrivals = load * servers * per_server
    scenario = mmc_scenario(arrivals, per_server, servers, days=4 * 365)
    theory = erlang_c_wait(arrivals / DAYS_PER_MONTH, per_server / DAYS_PER_MONTH, servers)
    warm_up = 120.0
    means = []
    for replication in range(20):
        records = run_one(scenario, 11, replication, keep_records=True).records
        started = np.isfinite(records["t_dec_start"]) & (records["t_claim"] >= warm_up)
        means.append((records["t_dec_start"] - records["t_claim"])[started].mean())
    low, high = t_interval(np.array(means))
    assert low <= theory <= high, (low, theory, high)


def test_queue_wait_responds_to_capacity_changes():
    """Halving caseworkers mid-run must lengthen waits after the change (a sanity check)."""
    scenario = mmc_scenario(90, 30, 4, days=365).with_overrides(
        {"decisions.caseworkers_fte": {"2026-01-01": 4, "2026-07-01": 3}}
    )
    records = run_one(scenario, 3, keep_records=True).records
    wait = records["t_dec_start"] - records["t_claim"]
    before = wait[(records["t_claim"] > 30) & (records["t_claim"] < 170)]
    after = wait[(records["t_claim"] > 220) & np.isfinite(wait)]
    assert np.nanmean(after) > 3 * np.nanmean(before)


def _stationary_scenario():
    """Every stage busy but stable; hazards high enough to settle within the warm-up."""
    return tiny(
        end_date="2030-01-01",
        initial_state={
            "awaiting_decision_people": 0,
            "awaiting_over_12_months_people": 0,
            "appeals_pending_people": 0,
            "are_in_uk_people": 0,
            "supported_people": 0,
            "are_supported_people": 0,
        },
        decisions={"caseworkers_fte": 16, "withdrawal_rate_per_year": 1.0},
        appeals={"judges_fte": 5},
        after_refusal={
            "voluntary_departure_rate_per_year": 4.0,
            "further_submission_rate_per_year": 1.0,
            "absconding_rate_per_year": 2.0,
        },
    )


def _little_gap(result, start_name, end_name, stage_mask, metric, t1, t2):
    """Time-average stock minus (entries per day x mean sojourn of those entries)."""
    records = result.records
    start, end = records[start_name], records[end_name]
    entered = stage_mask & (start >= t1) & (start < t2)
    sojourn = end[entered] - start[entered]
    assert np.all(np.isfinite(sojourn)), "window too close to the end of the run"
    wide = result.series_wide()[metric].to_numpy()
    average_stock = wide[int(t1) : int(t2)].mean()
    return average_stock - entered.sum() / (t2 - t1) * sojourn.mean()


@pytest.mark.parametrize(
    ("start_name", "end_name", "outcome", "metric"),
    [
        ("t_claim", "t_dec_end", "dec_outcome", "awaiting_decision"),
        ("t_app_start", "t_app_end", "app_outcome", "appeals_pending"),
        ("t_are", "t_exit", "exit_outcome", "are_in_uk"),
    ],
)
def test_littles_law_on_every_queue(start_name, end_name, outcome, metric):
    scenario = _stationary_scenario()
    gaps, stocks = [], []
    t1, t2 = 300.0, 900.0  # leave room after t2 for everyone entering to leave
    for replication in range(12):
        result = run_one(scenario, 5, replication, keep_records=True)
        records = result.records
        mask = (records[outcome] != 0) & (records["origin"] != Origin.STOCK_ARE)
        gaps.append(_little_gap(result, start_name, end_name, mask, metric, t1, t2))
        stocks.append(result.series_wide()[metric].to_numpy()[int(t1) : int(t2)].mean())
    low, high = t_interval(np.array(gaps))
    assert low <= 0 <= high, (low, high, np.mean(stocks))
    assert np.mean(stocks) > 3  # the stage was not trivially empty
