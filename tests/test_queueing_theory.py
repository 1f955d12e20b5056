"""The model against queueing theory.

One stage configured as M/M/c (Poisson arrivals, exponential service, c caseworkers, nobody
withdraws, everyone granted) must reproduce the Erlang C mean wait. Little's law must hold on
every stage of a stationary tandem network whose stocks theory gives (M/M/c decisions, M/M/c
appeals, an M/M/infinity ARE stock): the daily series' time-average stock and lambda W from the
records must each match the textbook stock, and each other. All use independent replications
and Student-t confidence intervals: the theory value must lie inside them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny
from scipy import stats

from simulation.core.units import DAYS_PER_MONTH, DAYS_PER_YEAR
from simulation.experiments.replications import run_one

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


# ---------------------------------------------------------------------- Little's law

#: Arrivals, per-server speeds (people a day) and servers of the tandem network below.
LAMBDA = 150 / DAYS_PER_MONTH
CASEWORKERS, PER_CASEWORKER = 6, 30 / DAYS_PER_MONTH
JUDGES, PER_JUDGE = 4, 1.6
ALLOWED = 0.5
LEAVING = (12 + 6) / DAYS_PER_YEAR  # voluntary departure + absconding, per day
WINDOW = (200.0, 1100.0)  # days: after the warm-up, well before the end of the run
LITTLE_REPLICATIONS = 12
#: 9 intervals (3 stages x 3 checks) at a family-wise confidence of 99% (Bonferroni)
LITTLE_CONFIDENCE = 1 - 0.01 / 9


def tandem_scenario():
    """A Jackson network whose every stage has a textbook stock.

    Poisson arrivals; decisions M/M/c (nobody withdraws, everyone refused, so by Burke's
    theorem the refusals are Poisson too); everyone appeals to an M/M/c tribunal; half the
    appeals are dismissed, and those people leave the ARE stock at a constant hazard (no
    removals, further submissions or returns): an M/M/infinity stage.
    """
    quiet = {"rate_per_month": 0, "claim_share": 1.0, "support_share": 0.0}
    return tiny(
        end_date="2030-01-01",
        arrivals={
            "small_boat": {
                "rate_per_month": LAMBDA * DAYS_PER_MONTH,
                "claim_share": 1.0,
                "support_share": 0.0,
            },
            "other_irregular": quiet,
            "in_country": quiet,
        },
        nationality_groups={
            "high": {
                "share": 1.0,
                "grant_rate": 0.0,
                "appeal_allowed_rate": ALLOWED,
                "returnable_share": 0.0,
            },
            "low": {"share": 0.0, "returnable_share": 0.0},
        },
        decisions={
            "caseworkers_fte": CASEWORKERS,
            "decisions_per_fte_per_month": PER_CASEWORKER * DAYS_PER_MONTH,
            "withdrawal_rate_per_year": 0.0,
        },
        appeals={
            "lodged_share": 1.0,
            "judges_fte": JUDGES,
            "determinations_per_judge_per_day": PER_JUDGE,
        },
        after_refusal={
            "enforced_removals_per_month": 0,
            "voluntary_departure_rate_per_year": 12.0,
            "further_submission_rate_per_year": 0.0,
            "absconding_rate_per_year": 6.0,
            "reentry_share": 0.0,
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


def mmc_stock(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean number in an M/M/c system (waiting or served): lambda (W_q + 1 / mu)."""
    return arrival_rate * (erlang_c_wait(arrival_rate, service_rate, servers) + 1 / service_rate)


#: (series, entry time, end time, outcome column, theoretical mean stock)
STAGES = {
    "decisions": (
        "awaiting_decision",
        "t_claim",
        "t_dec_end",
        "dec_outcome",
        mmc_stock(LAMBDA, PER_CASEWORKER, CASEWORKERS),
    ),
    "appeals": (
        "appeals_pending",
        "t_app_start",
        "t_app_end",
        "app_outcome",
        mmc_stock(LAMBDA, PER_JUDGE, JUDGES),
    ),
    "appeal rights exhausted": (
        "are_in_uk",
        "t_are",
        "t_exit",
        "exit_outcome",
        LAMBDA * (1 - ALLOWED) / LEAVING,
    ),
}


@pytest.fixture(scope="module")
def tandem_runs():
    scenario = tandem_scenario()
    return [
        run_one(scenario, 5, replication, keep_records=True)
        for replication in range(LITTLE_REPLICATIONS)
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_littles_law_on_every_queue(stage, tandem_runs):
    """L = lambda W on each stage, with L and lambda W measured independently.

    L is the time average of the stage's daily series (``result.series``, read at midnights);
    lambda and W come from the records: the people entering the stage within the window per
    day, and the mean time they spent in it. Each is compared with the stage's textbook
    mean stock (M/M/c, M/M/c, M/M/infinity), and with each other, by Student-t intervals over
    replications at a family-wise confidence of 99%. A series that counts the wrong people
    or days fails the first; records whose times are wrong (an end written late, a stage
    entered at the wrong time) fail the second; either fails the third unless both are wrong
    alike.
    """
    metric, start_name, end_name, outcome, theory = STAGES[stage]
    t1, t2 = WINDOW
    series_stock, lambda_w, gaps = [], [], []
    for result in tandem_runs:
        records = result.records
        start, end = records[start_name], records[end_name]
        entered = (records[outcome] != 0) & (start >= t1) & (start < t2)
        sojourn = end[entered] - start[entered]
        assert np.all(np.isfinite(sojourn)), "window too close to the end of the run"
        arrival_rate = entered.sum() / (t2 - t1)
        series = result.series
        daily = series[series.metric == metric]["value"].to_numpy()
        stock = daily[int(t1) : int(t2)].mean()
        series_stock.append(stock)
        lambda_w.append(arrival_rate * sojourn.mean())
        gaps.append(stock - arrival_rate * sojourn.mean())
    for name, values, target in (
        ("time-average stock (series)", series_stock, theory),
        ("lambda W (records)", lambda_w, theory),
        ("stock - lambda W", gaps, 0.0),
    ):
        low, high = t_interval(np.array(values), LITTLE_CONFIDENCE)
        assert low <= target <= high, (
            f"{stage}: {name} in [{low:.3f}, {high:.3f}], not {target:.3f}"
        )
    assert theory > 3  # the stage was not trivially empty
