"""Waiting times that count the claims still waiting at the end date (Kaplan-Meier).

On small hand-made samples the estimate is the textbook one; on records, claims are sorted
into finished, withdrawn (censored at the withdrawal) and still waiting (censored at the end
date). Against queueing theory: in a stationary M/M/c queue the Kaplan-Meier percentiles and
restricted mean of the time to decision match the M/M/c sojourn distribution (Erlang C wait
plus exponential service); where many claims are censored (long services in a short run) the
estimate still matches theory while the figure over finished claims is biased low, as theory
says it must be; and in an overloaded queue whose backlog grows, the finished-only median
falls far below the true median of the same claims followed to the end, with the Kaplan-Meier
median between them. Fixed seeds; intervals are Student-t over independent replications.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize
from test_queueing_theory import erlang_c_wait, mmc_scenario, t_interval

from simulation.core.records import AppealOutcome, DecisionOutcome, ExitOutcome, Origin
from simulation.core.units import DAYS_PER_MONTH
from simulation.experiments.evaluate import _simulate
from simulation.experiments.replications import run_one
from simulation.outputs import outcomes, waiting
from simulation.outputs.waiting import kaplan_meier

# ------------------------------------------------------------------------------ the estimate


def test_without_censoring_the_estimate_is_the_empirical_distribution():
    x = np.random.default_rng(3).exponential(10.0, size=501)
    estimate = kaplan_meier(x, np.array([]), horizon=1e6)
    for q in (10, 50, 90):
        assert estimate[f"p{q}"] == np.percentile(x, q, method="inverted_cdf")
    assert estimate["restricted_mean"] == pytest.approx(x.mean(), rel=1e-12)


def test_a_censored_sample_gives_the_textbook_kaplan_meier():
    # events at 1, 3, 4, 6; censored at 2 and 5. At risk 6, 4, 3, 1:
    # S = 5/6 after 1, 5/6 * 3/4 = 0.625 after 3, 0.625 * 2/3 = 0.4167 after 4, 0 after 6
    estimate = kaplan_meier(np.array([1.0, 3, 4, 6]), np.array([2.0, 5]), horizon=8.0)
    assert estimate["p10"] == 1.0  # 1/6 through by 1
    assert estimate["p50"] == 4.0  # first time at least half through (0.583 at 4)
    assert estimate["p90"] == 6.0
    area = 1 * 1 + 2 * 5 / 6 + 1 * 0.625 + 2 * (0.625 * 2 / 3) + 2 * 0.0
    assert estimate["restricted_mean"] == pytest.approx(area, rel=1e-12)


def test_a_percentile_the_run_does_not_reach_is_nan_and_the_mean_is_capped():
    # half the claims done in 2 days, the rest still waiting at 10 days (the run's end)
    estimate = kaplan_meier(np.full(5, 2.0), np.full(5, 10.0), horizon=10.0)
    assert estimate["p10"] == 2.0 and estimate["p50"] == 2.0
    assert math.isnan(estimate["p90"])
    assert estimate["restricted_mean"] == pytest.approx(2 + 8 * 0.5)
    nobody = kaplan_meier(np.array([]), np.array([]), horizon=10.0)
    assert all(math.isnan(v) for v in nobody.values())


# ------------------------------------------------------------------------------ which claims


def _records(rows: list[dict]) -> dict[str, np.ndarray]:
    """Records with only the columns the waits read; unset times NaN, outcomes NONE."""
    times = ("t_claim", "t_dec_end", "t_app_end", "t_are")
    columns = {name: np.array([r.get(name, np.nan) for r in rows], float) for name in times}
    defaults = {
        "origin": Origin.NEW_CLAIM,
        "dec_outcome": DecisionOutcome.NONE,
        "app_outcome": AppealOutcome.NONE,
        "exit_outcome": ExitOutcome.NONE,
    }
    for name, default in defaults.items():
        columns[name] = np.array([int(r.get(name, default)) for r in rows], np.int8)
    return columns


HORIZON = 100.0
D, A, E, Orig = DecisionOutcome, AppealOutcome, ExitOutcome, Origin
ROWS = [
    # granted at decision on day 30: both waits end there (20 days)
    {"t_claim": 10, "t_dec_end": 30, "dec_outcome": D.GRANTED},
    # refused on day 40, appeal allowed on day 90: 20 days to decision, 70 to final outcome
    {
        "t_claim": 20,
        "t_dec_end": 40,
        "dec_outcome": D.REFUSED,
        "app_outcome": A.ALLOWED,
        "t_app_end": 90,
    },
    # refused on day 50, no appeal, appeal rights exhausted at once: 45 days to both
    {
        "t_claim": 5,
        "t_dec_end": 50,
        "dec_outcome": D.REFUSED,
        "t_are": 50,
        "exit_outcome": E.REMAINS,
    },
    # refused on day 60, appeal still pending: 30 to decision, 70 waited so far for final
    {
        "t_claim": 30,
        "t_dec_end": 60,
        "dec_outcome": D.REFUSED,
        "app_outcome": A.PENDING,
        "t_app_end": np.inf,
    },
    # withdrawn on day 70: censored at 30 days for both waits; not still waiting
    {"t_claim": 40, "t_dec_end": 70, "dec_outcome": D.WITHDRAWN},
    # withdrawal drawn after the end date: still waiting at the end (50 days so far)
    {"t_claim": 50, "t_dec_end": 130, "dec_outcome": D.WITHDRAWN},
    # being decided at the end: still waiting (20 days so far)
    {"t_claim": 80, "t_dec_end": np.inf, "dec_outcome": D.PENDING},
    # a further submission on day 60, granted on day 65: a claim made in the run
    {"t_claim": 60, "t_dec_end": 65, "dec_outcome": D.GRANTED, "origin": Orig.FURTHER_SUBMISSION},
    # a re-entry diverted on arrival: never in the UK queue, left out
    {"t_claim": 70, "t_dec_end": 70, "dec_outcome": D.DIVERTED, "origin": Orig.REENTRY},
    # the starting stock and people brought back by a policy: not claims made in the run
    {"t_claim": -300, "t_dec_end": 5, "dec_outcome": D.GRANTED, "origin": Orig.STOCK_AWAITING},
    {"t_claim": 50, "t_dec_end": 52, "dec_outcome": D.GRANTED, "origin": Orig.POLICY_RETURN_CLAIM},
    {"t_claim": np.nan, "t_app_end": 40, "app_outcome": A.ALLOWED, "origin": Orig.STOCK_APPEAL},
]


def test_claims_are_finished_withdrawn_or_still_waiting():
    found = waiting.waits(_records(ROWS), HORIZON)
    decision, final = found["initial_decision"], found["final_outcome"]
    assert sorted(decision.finished) == [5, 20, 20, 30, 45]
    assert sorted(decision.withdrawn) == [30]
    assert sorted(decision.still_waiting) == [20, 50]
    assert sorted(final.finished) == [5, 20, 45, 70]
    assert sorted(final.withdrawn) == [30]
    assert sorted(final.still_waiting) == [20, 50, 70]


def test_the_outcomes_of_a_run_are_the_declared_waiting_outcomes():
    values = waiting.outcomes(_records(ROWS), HORIZON)
    declared = [o.name for o in outcomes.OUTCOMES if o.name.startswith(("days_to", "days_wait"))]
    assert list(values) == declared
    assert values["days_waited_so_far_final_outcome_median"] == 50
    assert values["days_waited_so_far_initial_decision_mean"] == 35
    assert values["days_to_final_outcome_finished_p50"] == 32.5  # over 5, 20, 45, 70
    # Kaplan-Meier of the final outcome: events 5, 20, 45, 70; censored 20, 30, 50, 70
    # (ties: events first). At risk 8, 7, 4, 2 at the events; S = 7/8, 3/4, 9/16, 9/32
    assert values["days_to_final_outcome_p50"] == 70
    assert values["days_to_final_outcome_p10"] == 5


def test_renamed_waiting_outcomes_say_what_replaced_them():
    message = outcomes.unknown_metric("days_to_final_outcome_mean")
    assert "days_to_final_outcome_restricted_mean" in message
    assert "days_to_final_outcome_finished_mean" in message
    assert outcomes.unknown_metric("days_to_final_outcome_finished_mean") is None


# ------------------------------------------------------------------------------ against theory


def mmc_sojourn_survival(t: float, arrival: float, service: float, servers: int) -> float:
    """P(time in an M/M/c system > t): with the Erlang C probability C a claim waits, for an
    exponential time at rate gamma = c mu - lambda, then is served at rate mu."""
    gamma = servers * service - arrival
    waits = erlang_c_wait(arrival, service, servers) * gamma  # Erlang C probability
    served = math.exp(-service * t)
    if math.isclose(gamma, service):
        waited = (1 + service * t) * served
    else:
        waited = (gamma * served - service * math.exp(-gamma * t)) / (gamma - service)
    return (1 - waits) * served + waits * waited


def survival_quantile(survival, q: float, high: float) -> float:
    """The time by which a share ``q`` is through."""
    return optimize.brentq(lambda t: survival(t) - (1 - q), 0.0, high, xtol=1e-12)


#: Up to seven intervals per test at a family-wise confidence of 99% (Bonferroni)
FAMILY_CONFIDENCE = 1 - 0.01 / 7
REPLICATIONS = 20


def _summaries(scenario, seed: int) -> list[dict[str, float]]:
    return [run_one(scenario, seed, r).summary for r in range(REPLICATIONS)]


def test_time_to_decision_in_a_stationary_mmc_queue_matches_its_sojourn_distribution():
    """c = 4 caseworkers at load 0.7 over two years, about 10,000 claims a run: the queue
    forgets its empty start within days (relaxation time about 1 / (mu (sqrt c - sqrt a)^2),
    a = lambda / mu: two days here), so the claims of the run are close to stationary."""
    servers, per_server, load = 4, 150.0, 0.7
    arrivals = load * servers * per_server
    scenario = mmc_scenario(arrivals, per_server, servers, days=2 * 365)
    lam, mu = arrivals / DAYS_PER_MONTH, per_server / DAYS_PER_MONTH
    survival = lambda t: mmc_sojourn_survival(t, lam, mu, servers)  # noqa: E731
    theory = {f"p{q}": survival_quantile(survival, q / 100, 100.0) for q in (10, 50, 90)}
    theory["restricted_mean"] = erlang_c_wait(lam, mu, servers) + 1 / mu  # tail past 2 y: 0
    summaries = _summaries(scenario, seed=21)
    for key, value in theory.items():
        estimates = np.array([s[f"days_to_initial_decision_{key}"] for s in summaries])
        low, high = t_interval(estimates, FAMILY_CONFIDENCE)
        assert low <= value <= high, (key, low, value, high)


def test_heavy_censoring_kaplan_meier_matches_theory_and_finished_only_is_biased_low():
    """More caseworkers than claims in progress (M/M/infinity in effect: nobody queues), so
    every wait is one exponential service of mean 1 / mu = 61 days, in a run of T = 181 days:
    about a third of the claims are still waiting at the end. A claim made at a uniform time
    t finishes within the run only if its wait x <= T - t, so finished waits have density
    f(x) (T - x) / T normalised: the finished-only median is that density's, well below the
    true median ln 2 / mu. The claims still waiting at T were made a time a ago with density
    proportional to exp(-mu a) on [0, T]: their waits so far are a truncated exponential."""
    per_server, arrivals, servers = 0.5, 60.0, 400  # about 120 claims in progress on average
    scenario = mmc_scenario(arrivals, per_server, servers, days=365).with_overrides(
        {"end_date": "2026-07-01"}
    )
    horizon = float(scenario.horizon_days)
    mu = per_server / DAYS_PER_MONTH
    exponential = lambda t: math.exp(-mu * t)  # noqa: E731
    # not p90 (140 days): only the claims of the first 41 days are followed that long, about
    # eight of them still waiting by then in a run, so it is often not reached
    theory = {f"p{q}": -math.log(1 - q / 100) / mu for q in (10, 50)}
    theory["restricted_mean"] = (1 - math.exp(-mu * horizon)) / mu
    assert horizon == 181
    left = math.exp(-mu * horizon)  # truncation of the ages of those still waiting
    so_far = {
        "days_waited_so_far_initial_decision_mean": 1 / mu - horizon * left / (1 - left),
        "days_waited_so_far_initial_decision_median": -math.log(1 - (1 - left) / 2) / mu,
    }

    def finished_cdf(x: float) -> float:
        area = integrate.quad(lambda y: mu * exponential(y) * (horizon - y), 0, x)[0]
        return area / integrate.quad(lambda y: mu * exponential(y) * (horizon - y), 0, horizon)[0]

    finished_median = optimize.brentq(lambda x: finished_cdf(x) - 0.5, 0.0, horizon)
    assert finished_median < 0.8 * theory["p50"]  # the bias theory predicts is large

    summaries = _summaries(scenario, seed=5)
    expected = {f"days_to_initial_decision_{key}": value for key, value in theory.items()}
    for key, value in {**expected, **so_far}.items():
        low, high = t_interval(np.array([s[key] for s in summaries]), FAMILY_CONFIDENCE)
        assert low <= value <= high, (key, low, value, high)
    finished = np.array([s["days_to_initial_decision_finished_p50"] for s in summaries])
    low, high = t_interval(finished)
    assert low <= finished_median <= high, (low, finished_median, high)
    assert high < theory["p50"]


def test_in_a_growing_backlog_finished_only_waits_fall_far_short_of_the_truth():
    """Arrivals at 1.5 times capacity for a year: the claim made at t waits about
    (rho - 1) t, so by fluid theory the true median over the year's claims is T / 4, the
    median over claims finished by T is T / 6, and the Kaplan-Meier estimate, which assumes
    a wait does not depend on when the claim was made, gives about 0.22 T. The truth comes from
    the same run continued with nobody arriving after T (first come first served: later
    arrivals change nothing for the claims made before T)."""
    servers, per_server = 10, 30.0
    scenario = mmc_scenario(1.5 * servers * per_server, per_server, servers, days=365)
    horizon = float(scenario.horizon_days)
    assert horizon == 365
    longer = scenario.with_years(2)
    for replication in range(3):
        result = run_one(scenario, 8, replication, keep_records=True)
        summary, records = result.summary, result.records
        tail = _simulate(longer, 8, replication, arrivals_until=horizon).records
        new = records["origin"] == Origin.NEW_CLAIM
        made = (tail["origin"] == Origin.NEW_CLAIM) & (tail["t_claim"] <= horizon)
        assert np.array_equal(records["t_claim"][new], tail["t_claim"][made])  # the same claims
        assert np.all(tail["dec_outcome"][made] == DecisionOutcome.GRANTED)  # all decided
        true_median = np.median(tail["t_dec_end"][made] - tail["t_claim"][made])
        finished = summary["days_to_initial_decision_finished_p50"]
        estimate = summary["days_to_initial_decision_p50"]
        assert finished < estimate < true_median, (finished, estimate, true_median)
        assert finished < 0.8 * true_median  # fluid theory: 2/3 of the truth
        assert estimate > 0.8 * true_median  # fluid theory: 0.86 of the truth


def test_a_percentile_the_run_never_reached_is_printed_as_such():
    from simulation.outputs.report import summary_table

    flat = {"days_to_final_outcome_p50": float("nan"), "days_to_initial_decision_p50": 84.2}
    lines = summary_table(flat, "run").splitlines()
    final = next(line for line in lines if "final outcome, median" in line)
    first = next(line for line in lines if "initial decision, median" in line)
    assert final.split()[-2:] == ["not", "reached"]
    assert first.split()[-1] == "84"


def test_a_comparison_says_which_percentile_was_not_reached():
    import pandas as pd

    from simulation.outputs.report import comparison_table

    nan = float("nan")
    rows = [
        ("days_to_final_outcome_p50", "base", nan, 0.0, 0.0, 0.0),
        ("days_to_final_outcome_p50", "more judges", 503.0, nan, nan, nan),
    ]
    table = pd.DataFrame(
        [
            {
                "metric": m,
                "scenario": sc,
                "mean": mean,
                "ci_low": mean,
                "ci_high": mean,
                "diff_mean": d,
                "diff_ci_low": lo,
                "diff_ci_high": hi,
                "n": 3,
            }
            for m, sc, mean, d, lo, hi in rows
        ]
    )
    line = next(ln for ln in comparison_table(table).splitlines() if "final outcome, median" in ln)
    assert line.split()[-5:] == ["not", "reached", "503", "n/a", "n/a"]
