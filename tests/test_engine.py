"""The engine's stages against what they promise: booking ahead is exact, the starting ARE stock
enters as anyone else does, and the revolving door turns at its configured share."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import simpy
from conftest import tiny, tiny_dict
from scipy import stats

from simulation import Scenario
from simulation.core.records import TIMES, DecisionOutcome, ExitOutcome, Origin
from simulation.core.units import DAYS_PER_YEAR
from simulation.engine import pipeline
from simulation.engine.after_refusal import AfterRefusal
from simulation.engine.decisions import DecisionStage
from simulation.engine.hazards import PiecewiseHazard
from simulation.engine.reentry import Reentry
from simulation.experiments.evaluate import run_one
from simulation.inputs.files import deep_merge

#: Confidence of each statistical interval in this file (four of them: at least 99.6% that
#: none fails by chance); each run has a fixed seed.
CONFIDENCE = 0.999


# ---------------------------------------------------------------------- booking ahead


def dated(steps) -> dict[date, float]:
    """A dated schedule (date keys: merged whole, as in a scenario file)."""
    return {date.fromisoformat(day): value for day, value in dict(steps).items()}


def booking_scenario(**changes):
    """Caseworkers idle much of the time (so they book claims ahead), a spell in which they
    are too few (so bookings are cut short by the change), servers and speed that change on
    dates within the run, and claims made during the run (further submissions, returns)
    that arrive while servers are booked; ``changes`` are deep-merged in."""
    base = {
        "decisions": {
            "caseworkers_fte": dated({"2026-01-01": 6, "2026-04-01": 3, "2026-08-01": 8}),
            "decisions_per_fte_per_month": dated({"2026-01-01": 60, "2026-06-15": 40}),
            "withdrawal_rate_per_year": 0.5,
        },
        "after_refusal": {
            "enforced_removals_per_month": 40,
            "further_submission_rate_per_year": 3.0,
            "reentry_share": 0.5,
            "reentry_mean_delay_days": 30,
        },
    }
    return Scenario.from_dict(deep_merge(tiny_dict(**base), changes))


def sparse_booking_scenario():
    """Few claims and many idle caseworkers, who book claims days ahead; servers and speed
    change every month on different dates, from plenty to too few and back, so bookings
    meet changes and claims wait long enough to withdraw after a booking is cancelled."""
    months = [f"2026-{m:02d}-01" for m in range(1, 13)]
    halves = ["2026-01-01"] + [f"2026-{m:02d}-15" for m in range(1, 12)]
    return booking_scenario(
        arrivals={
            "small_boat": {"rate_per_month": 20},
            "other_irregular": {"rate_per_month": 5},
            "in_country": {"rate_per_month": 10},
        },
        decisions={
            "caseworkers_fte": dated(
                zip(months, [6, 1, 5, 2, 6, 1, 4, 1, 6, 2, 5, 1], strict=True)
            ),
            "decisions_per_fte_per_month": dated(
                zip(halves, [15, 5, 20, 8, 12, 4, 20, 6, 10, 5, 15, 8], strict=True)
            ),
            "withdrawal_rate_per_year": 6.0,
        },
        initial_state={
            "awaiting_decision_people": 20,
            "awaiting_over_12_months_people": 5,
            "appeals_pending_people": 20,
            "are_in_uk_people": 30,
            "supported_people": 30,
            "are_supported_people": 5,
        },
    )


def impatient_booking_scenario():
    """Two or three caseworkers, busy three quarters of the time, and claimants who withdraw
    within days: some whose booking was cancelled withdraw before anyone serves them."""
    return booking_scenario(
        arrivals={
            "small_boat": {"rate_per_month": 60},
            "other_irregular": {"rate_per_month": 0},
            "in_country": {"rate_per_month": 0},
        },
        decisions={
            "caseworkers_fte": dated({"2026-01-01": 2, "2026-05-01": 3, "2026-09-01": 2}),
            "decisions_per_fte_per_month": dated({"2026-01-01": 45, "2026-07-15": 36}),
            "withdrawal_rate_per_year": 100.0,
        },
        after_refusal={"further_submission_rate_per_year": 12.0},
        initial_state={
            "awaiting_decision_people": 20,
            "awaiting_over_12_months_people": 5,
            "appeals_pending_people": 20,
            "are_in_uk_people": 100,
            "supported_people": 30,
            "are_supported_people": 5,
        },
    )


BOOKING_CASES = {
    "core": booking_scenario(),
    "sparse, changing monthly": sparse_booking_scenario(),
    "impatient": impatient_booking_scenario(),
    "with a pre-decision incentive": booking_scenario(
        policies={
            "voluntary_return": {
                "start_date": "2026-02-01",
                "payment_gbp": 6000,
                "reference_payment_gbp": 3000,
                "elasticity": 0.5,
                "flight_cost_per_person_gbp": 1500,
                "administration_cost_per_person_gbp": 500,
                "offer_before_decision": True,
                "pre_decision_departure_rate_per_year": 1.0,
            }
        }
    ),
}


#: How far two computations of the same instant may differ: a few units in the last place. A
#: booked service ends at ``now + ((start - now) + service)`` (SimPy adds the delay to the
#: clock), an unbooked one at ``start + service``: the same instant, up to the rounding of
#: one addition.
ULPS = 4


def _differences(first: dict[str, np.ndarray], second: dict[str, np.ndarray], ulps: int):
    """Columns that differ: times by more than ``ulps`` units in the last place (NaN equals
    NaN, inf equals inf), everything else at all; with the largest time difference."""
    assert first.keys() == second.keys()
    differ, largest = [], 0.0
    for name in first:
        a, b = first[name], second[name]
        if a.shape != b.shape:
            differ.append(name)
        elif name in TIMES:
            both = np.isfinite(a) & np.isfinite(b)
            same_special = np.array_equal(a[~both], b[~both], equal_nan=True)
            gap = np.abs(a[both] - b[both])
            allowed = ulps * np.spacing(np.maximum(np.abs(a[both]), np.abs(b[both])))
            largest = max(largest, float(gap.max(initial=0.0)))
            if not same_special or np.any(gap > allowed):
                differ.append(name)
        elif not np.array_equal(a, b):
            differ.append(name)
    return differ, largest


def run_with_and_without_booking(scenario, seed, monkeypatch):
    """(result with booking, result without, what booking did: bookings made, bookings
    cancelled, and cancelled bookings whose claimant withdrew before anyone served them)."""
    counts = {"booked": 0, "cancelled": 0}
    cancelled: list[int] = []

    class Counting(DecisionStage):
        def save(self, person):
            counts["booked"] += 1
            return super().save(person)

        def restore(self, person, saved):
            counts["cancelled"] += 1
            cancelled.append(person)
            return super().restore(person, saved)

    class NotBooking(Counting):
        def book_ahead(self, change_times):
            pass

    # subclasses where the pipeline makes the stage (a compiled class cannot be patched)
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "DecisionStage", Counting)
        booked = run_one(scenario, seed, keep_records=True)
        made = dict(counts)
        patch.setattr(pipeline, "DecisionStage", NotBooking)
        unbooked = run_one(scenario, seed, keep_records=True)
        assert counts == made, "booking was not switched off"
    people = np.array(cancelled, dtype=np.int64)
    records = unbooked.records
    made["withdrew after a cancelled booking"] = int(
        np.sum(
            (records["dec_outcome"][people] == DecisionOutcome.WITHDRAWN)
            & np.isnan(records["t_dec_start"][people])
        )
    )
    return booked, unbooked, made


@pytest.mark.parametrize("case", BOOKING_CASES)
def test_booking_ahead_changes_nothing_but_the_event_count(case, monkeypatch):
    """The same scenario and seed with idle caseworkers booking known claims ahead and with
    booking switched off give the same records, column by column: the same outcomes, and
    the same times up to the rounding of one addition (see ULPS)."""
    booked, unbooked, made = run_with_and_without_booking(BOOKING_CASES[case], 5, monkeypatch)
    # the test is only worth something if bookings were made, and some were cancelled by a
    # claim arriving while every caseworker was busy or booked
    assert made["booked"] >= 30 and made["cancelled"] >= 5, made
    if case == "impatient":  # a cancelled booking must leave the claim as it was
        assert made["withdrew after a cancelled booking"] >= 1, made
    differ, largest = _differences(booked.records, unbooked.records, ULPS)
    assert not differ, f"booking ahead changed {differ} (largest time difference {largest})"
    assert booked.manifest["events_scheduled"] < unbooked.manifest["events_scheduled"]


# ---------------------------------------------------------------------- entering ARE


def are_columns(n: int, seed: int) -> dict[str, np.ndarray]:
    """Columns of ``n`` people about to enter ARE, with the engine's dtypes."""
    rng = np.random.default_rng(seed)
    columns = {name: np.full(n, np.nan) for name in ("t_are", "t_exit")}
    columns["exit_outcome"] = np.zeros(n, dtype=np.int8)
    columns["returnable"] = (rng.random(n) < 0.4).astype(np.int8)
    columns["group"] = (rng.random(n) < 0.5).astype(np.int8)  # tiny's groups: high, low
    for name in ("e_voluntary", "e_further", "e_abscond", "e_reentry"):
        columns[name] = rng.standard_exponential(n, dtype=np.float32)
    columns["u_reentry"] = rng.random(n, dtype=np.float32)
    return columns


HAZARDS = {
    "constant": PiecewiseHazard.from_schedule(np.array([-np.inf]), np.array([0.8 / 365.25]), []),
    "dated, with policy multipliers": PiecewiseHazard.from_schedule(
        np.array([0.0, 60.0, 150.0]),  # a dated schedule (as schedules.steps gives it)
        np.array([0.4, 1.5, 0.2]) / DAYS_PER_YEAR,
        [(30.0, 2.0), (150.0, 0.5), (90.0, 1.3), (90.0, 1.1)],  # two policies on one date
    ),
    "none": PiecewiseHazard.from_schedule(np.array([-np.inf]), np.array([0.0]), [(40.0, 3.0)]),
}


#: re-entry with a share that changes on a date and a rule of its own for one group
REENTRY = Reentry(
    tiny(
        after_refusal={
            "reentry_share": {"2026-01-01": 0.35, "2026-05-01": 0.5},
            "reentry_mean_delay_days": 40.0,
            "reentry_rules": [{"groups": ["low"], "share": 0.6, "mean_delay_days": 25.0}],
        }
    )
)


def are_stage(columns, hazard, further_rate, abscond_rate, horizon=500.0):
    """An ARE stage on its own SimPy environment; returns it and what it asked of the rest
    of the engine: (claims made again, removal-queue joins, on_are calls)."""
    env = simpy.Environment()
    mv = {name: memoryview(column) for name, column in columns.items()}
    claims, joins, seen = [], [], []

    def claim_again(parent, origin, now):
        claims.append((now, parent, origin))
        return -1

    stage = AfterRefusal(
        env,
        mv,
        horizon,
        voluntary=hazard,
        further_rate=further_rate,
        abscond_rate=abscond_rate,
        reentry=REENTRY,
        claim_again=claim_again,
    )
    stage.join_removal_queue = joins.append
    stage.on_are = [lambda person, now: seen.append((person, now))]
    return env, stage, claims, joins, seen


@pytest.mark.parametrize("hazard", HAZARDS)
@pytest.mark.parametrize(("further", "abscond"), [(0.9, 0.3), (0.0, 0.0), (2.0, 0.0)])
def test_starting_are_stock_enters_as_one_person_at_a_time_would(hazard, further, abscond):
    """``enter_at_start`` (vectorised, for the starting stock) and ``enter`` (one person at a
    time) give the same exits, outcomes and later claims for the same draws."""
    n = 3000
    further_rate, abscond_rate = further / DAYS_PER_YEAR, abscond / DAYS_PER_YEAR
    people = np.arange(n)

    one_by_one = are_columns(n, 11)
    env, stage, claims_1, joins_1, seen_1 = are_stage(
        one_by_one, HAZARDS[hazard], further_rate, abscond_rate
    )
    for person in people.tolist():
        stage.enter(person, 0.0)
    env.run(until=stage.horizon)

    at_once = are_columns(n, 11)
    env, stage, claims_2, joins_2, seen_2 = are_stage(
        at_once, HAZARDS[hazard], further_rate, abscond_rate
    )
    stage.enter_at_start(at_once, people)
    env.run(until=stage.horizon)

    for name in ("t_are", "t_exit", "exit_outcome"):
        assert np.array_equal(one_by_one[name], at_once[name], equal_nan=True), name
    assert sorted(claims_1) == sorted(claims_2)
    assert seen_1 == seen_2
    # the vectorised entry leaves the removal queue to the pipeline, which loads the
    # returnable people of the stock: the same people the scalar entry sends
    assert joins_2 == []
    assert joins_1 == people[at_once["returnable"] == 1].tolist()
    # the comparison covered every way out that the rates allow
    outcomes = set(np.unique(at_once["exit_outcome"]).tolist())
    if hazard != "none":
        assert ExitOutcome.VOLUNTARY in outcomes
        assert any(origin == Origin.REENTRY for _, _, origin in claims_2)
    if further:
        assert ExitOutcome.FURTHER_SUBMISSION in outcomes
    if abscond:
        assert ExitOutcome.ABSCONDED in outcomes


def test_the_departure_hazard_is_the_base_rate_times_every_policy_factor():
    """Between changes, the hazard both ways of entering use is the scheduled base rate times
    the product of the policies' factors in force (from each factor's time on)."""
    hazard = HAZARDS["dated, with policy multipliers"]
    base_times, base_rates = [0.0, 60.0, 150.0], np.array([0.4, 1.5, 0.2]) / DAYS_PER_YEAR
    steps = [(30.0, 2.0), (150.0, 0.5), (90.0, 1.3), (90.0, 1.1)]
    for t in (-5.0, 10.0, 45.0, 75.0, 100.0, 160.0, 400.0):
        base = base_rates[max(0, np.searchsorted(base_times, t, side="right") - 1)]
        factor = np.prod([f for when, f in steps if when <= t])
        piece = np.searchsorted(hazard.times, t, side="right") - 1
        assert hazard.rates[piece] == pytest.approx(base * factor, rel=1e-12), t


# ---------------------------------------------------------------------- the revolving door


def revolving_door_scenario():
    """Many removals and voluntary departures early on, returns soon after."""
    return tiny(
        end_date="2028-01-01",
        nationality_groups={
            "high": {"returnable_share": 0.9, "grant_rate": 0.1},
            "low": {"returnable_share": 0.9, "grant_rate": 0.1},
        },
        appeals={"lodged_share": 0.2},
        after_refusal={
            "enforced_removals_per_month": 60,
            "voluntary_departure_rate_per_year": 3.0,
            "further_submission_rate_per_year": 0.0,
            "absconding_rate_per_year": 0.0,
            "reentry_share": 0.3,
            "reentry_mean_delay_days": 15,
        },
    )


@pytest.mark.parametrize(
    "way_out", [ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY], ids=["removed", "departed"]
)
def test_a_share_of_those_who_leave_come_back(way_out):
    """Of the people removed (or departed) early enough for their return to fall within the
    run, the share that came back lies within the binomial confidence interval of the
    configured share, and their delays within the interval of the configured mean."""
    scenario = revolving_door_scenario()
    share = scenario.after_refusal.reentry_share
    mean_delay = scenario.after_refusal.reentry_mean_delay_days
    records = run_one(scenario, 17, keep_records=True).records
    # a return more than 25 mean delays after leaving has probability e^-25: none is missed
    cutoff = scenario.horizon_days - 25 * mean_delay
    left = np.flatnonzero((records["exit_outcome"] == way_out) & (records["t_exit"] < cutoff))
    returned = np.flatnonzero(records["origin"] == Origin.REENTRY)
    parents = records["parent"][returned]
    came_back = np.isin(left, parents)
    assert len(left) > 400, "too few people left to test the share"
    interval = stats.binomtest(int(came_back.sum()), len(left)).proportion_ci(CONFIDENCE)
    assert interval.low <= share <= interval.high, (came_back.mean(), interval)

    # the delays: exponential with the configured mean (exact chi-square interval)
    child_of = dict(zip(parents.tolist(), returned.tolist(), strict=True))
    children = np.array([child_of[p] for p in left[came_back]])
    delays = records["t_claim"][children] - records["t_exit"][left[came_back]]
    assert np.all(delays >= 0)
    total, k = delays.sum(), len(delays)
    alpha = 1 - CONFIDENCE
    low = 2 * total / stats.chi2.ppf(1 - alpha / 2, 2 * k)
    high = 2 * total / stats.chi2.ppf(alpha / 2, 2 * k)
    assert low <= mean_delay <= high, (delays.mean(), low, high)


def test_nobody_comes_back_when_the_share_is_zero():
    scenario = revolving_door_scenario().with_overrides({"after_refusal.reentry_share": 0.0})
    records = run_one(scenario, 17, keep_records=True).records
    assert not np.any(records["origin"] == Origin.REENTRY)
    assert np.any(records["exit_outcome"] == ExitOutcome.REMOVED)


def test_records_have_every_time_column():
    """The record schema's times, including when a hearing started, are in the results."""
    records = run_one(tiny(), 1, keep_records=True).records
    assert set(TIMES) <= set(records)
    heard = np.isfinite(records["t_app_hearing"])
    assert heard.any()
    assert np.all(records["t_app_hearing"][heard] >= np.maximum(records["t_app_start"][heard], 0))
    assert np.all(records["t_app_end"][heard] >= records["t_app_hearing"][heard])
