"""Dated nationality-group parameters: returnability and the route mix change on dates.

A group's ``returnable_share`` may be a schedule. Each person keeps one uniform draw and is
returnable on a date when it is below the share of that date (monotone coupling), so a change
acts only from its date on, person by person, on common random numbers. A route's own
nationality mix (``arrivals.<route>.group_shares``) is read at each arrival's time.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny
from scipy import stats
from test_determinism import fingerprint
from test_policies import HUBS

from simulation import ScenarioError, run
from simulation.core.records import TIMES, ExitOutcome, Origin
from simulation.core.vocabulary import HOUSEHOLD_CODES, ROUTE_CODES, ROUTES, UNACCOMPANIED_CHILD
from simulation.engine.arrivals import categorical, draw_attributes
from simulation.engine.pipeline import run_pipeline
from simulation.engine.rng import RandomStreams
from simulation.experiments.replications import run_one
from simulation.inputs.policy_config import PolicyConfig
from simulation.policies.contract import Policy
from simulation.policies.returns_agreement import first_records

HIGH, LOW = 0, 1  # the tiny scenario's groups, in order
CHANGE = "2026-07-01"
T = 181.0  # 2026-07-01, days after the tiny scenario's start (2026-01-01)
REMOVED = ExitOutcome.REMOVED


def dated(before: float, after: float) -> dict[str, float]:
    return {"2026-01-01": before, CHANGE: after}


def returnability_run(low, high=0.0, seed: int = 1, years: float = 2, **changes):
    """The tiny scenario with the given returnable shares, capacity for 40 removals a month
    unless ``after_refusal`` says otherwise."""
    after_refusal = {"enforced_removals_per_month": 40, **changes.pop("after_refusal", {})}
    scenario = tiny(
        nationality_groups={"low": {"returnable_share": low}, "high": {"returnable_share": high}},
        after_refusal=after_refusal,
        **changes,
    ).with_years(years)
    return run_one(scenario, seed, keep_records=True)


def removals_before(records, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Records removed before ``t`` and when."""
    people = np.flatnonzero((records["exit_outcome"] == REMOVED) & (records["t_exit"] < t))
    return people, records["t_exit"][people]


def assert_same_until(a, b, t: float) -> None:
    """Every time before ``t`` is the same in both runs, record by record (the records made
    before ``t`` are the same records, in the same order)."""
    made_before = int(np.sum(~(a["t_claim"] >= t) & (a["origin"] <= Origin.NEW_CLAIM)))
    assert made_before > 1000
    for column in TIMES:
        x, y = a[column][:made_before], b[column][:made_before]
        early = (x < t) | (y < t)
        assert np.array_equal(x[early], y[early]), column


# ------------------------------------------------------------------------ a rise


def test_a_rise_in_returnability_changes_removals_only_after_its_date():
    base = returnability_run(0.2).records
    rise = returnability_run(dated(0.2, 0.9)).records
    people, times = removals_before(base, T)
    assert len(people) > 50
    later_people, later_times = removals_before(rise, T)
    assert np.array_equal(people, later_people) and np.array_equal(times, later_times)
    assert_same_until(base, rise, T)

    u = rise["u_returnable"]
    removed = rise["exit_outcome"] == REMOVED
    newly = removed & (rise["group"] == LOW) & (u >= 0.2)  # not returnable before the date
    assert newly.sum() > 100 and rise["t_exit"][newly].min() >= T
    assert not ((base["exit_outcome"] == REMOVED) & (base["u_returnable"] >= 0.2)).any()
    # people already waiting in the ARE stock on the date joined the removal queue then
    assert (newly & (rise["t_are"] < T)).sum() > 50
    # monotone coupling: everyone removed was returnable by their uniform when removed
    assert np.all(u[removed & (rise["group"] == LOW)] < 0.9)
    assert np.all(u[removed & (rise["group"] == LOW) & (rise["t_exit"] < T)] < 0.2)
    assert not (u < 0).any()  # no policy made anyone returnable


def test_people_who_become_returnable_join_the_queue_in_the_order_of_their_are_dates():
    """No capacity before the date: then everyone waiting, returnable by the rise, is
    removed first come first served by ARE date (the starting stock first)."""
    rise = returnability_run(
        dated(0.0, 1.0),
        after_refusal={
            "enforced_removals_per_month": dated(0.0, 20),
            "further_submission_rate_per_year": 0,
        },
    ).records
    removed = np.flatnonzero(rise["exit_outcome"] == REMOVED)
    assert len(removed) > 100
    waiting_then = removed[rise["t_are"][removed] < T]
    by_removal = waiting_then[np.argsort(rise["t_exit"][waiting_then], kind="stable")]
    t_are = rise["t_are"][by_removal]
    assert np.all(np.diff(t_are) >= 0)


# ------------------------------------------------------------------------ a fall


def test_a_fall_stops_removals_of_people_no_longer_returnable():
    base = returnability_run(0.9).records
    fall = returnability_run(dated(0.9, 0.2)).records
    assert_same_until(base, fall, T)

    def dropped(records):
        """Removals after the date of people returnable only at the old share."""
        return (
            (records["exit_outcome"] == REMOVED)
            & (records["group"] == LOW)
            & (records["u_returnable"] >= 0.2)
            & (records["t_exit"] >= T)
        )

    assert dropped(base).sum() > 100
    # at most the one removal under way on the date (one stream of removals) finishes
    assert dropped(fall).sum() <= 1
    # those people are still in the stock, and "returnable" says what holds now
    horizon = 2 * 365
    still = ~(fall["t_exit"] <= horizon) & (fall["group"] == LOW) & np.isfinite(fall["t_are"])
    assert still.sum() > 100
    assert np.array_equal(fall["returnable"][still] == 1, fall["u_returnable"][still] < 0.2)


def test_a_rise_then_a_fall_leaves_nobody_returnable_by_the_old_share():
    back = "2026-10-01"
    records = returnability_run({"2026-01-01": 0.2, CHANGE: 0.9, back: 0.2}).records
    t_back = 273.0
    between = (records["exit_outcome"] == REMOVED) & (records["group"] == LOW)
    between &= records["u_returnable"] >= 0.2
    assert (between & (records["t_exit"] >= T) & (records["t_exit"] < t_back)).sum() > 50
    assert (between & (records["t_exit"] >= t_back)).sum() <= 1  # the one under way
    assert not (records["u_returnable"] < 0).any()  # no policy made anyone returnable


def test_a_change_to_the_same_share_changes_nothing():
    """A change date that keeps the share runs the update and changes nobody's fate, with a
    returns agreement making people returnable on the way."""
    agreement = {"start_date": "2026-03-01", "group": "low", "returnable_share": 0.7}
    same = returnability_run(0.4, seed=4, policies={"returns_agreement": agreement})
    again = returnability_run(dated(0.4, 0.4), seed=4, policies={"returns_agreement": agreement})
    assert fingerprint(same) == fingerprint(again)
    for column in (*TIMES, "exit_outcome", "returnable", "group"):
        assert np.array_equal(same.records[column], again.records[column], equal_nan=True)


# ------------------------------------------------------------------------ with policies


class _MakeEvenRecordsReturnable(Policy):
    """A stand-in policy: makes every even record of the low group that is not returnable
    returnable at ARE."""

    name = "test_make_returnable"

    def __init__(self, scenario) -> None:
        config = PolicyConfig(start_date=scenario.start_date)
        super().__init__(config, scenario, np.random.default_rng(0), scenario.horizon_days)
        self.made: list[int] = []

    def on_are(self, person: int, now: float) -> None:
        engine = self.engine
        if engine.value("group", person) != LOW or engine.value("returnable", person):
            return
        if person % 2 == 0:
            engine.make_returnable(person)
            self.made.append(person)


def test_whom_a_policy_made_returnable_stays_so_when_the_share_falls():
    scenario = tiny(
        nationality_groups={"low": {"returnable_share": dated(0.5, 0.0)}},
        after_refusal={"enforced_removals_per_month": 40},
    ).with_years(2)
    policy = _MakeEvenRecordsReturnable(scenario)
    records = run_pipeline(scenario, RandomStreams(2), [policy]).records
    made = np.array(policy.made)
    first = first_records(records["parent"])
    removed = (records["exit_outcome"] == REMOVED) & (records["group"] == LOW)
    late = removed & (records["t_exit"] > T)
    assert late.sum() > 50  # removals of the group go on after the fall...
    # ...only of people the policy made so (but for the one removal under way on the date)
    assert (~np.isin(first[late], first[made])).sum() <= 1
    horizon = scenario.horizon_days
    current = ~(records["t_exit"][made] <= horizon)
    assert current.sum() > 20 and np.all(records["returnable"][made][current] == 1)


def test_a_returns_agreement_composes_with_a_dated_share():
    """The scenario's share falls from 0.5 to 0 after the agreement starts (target 0.7): the
    people it made returnable stay so, and people reaching ARE after the fall are returnable
    at the agreement's share (its draw uses the share of the day: p_up = 0.7 then)."""
    agreement = {"start_date": "2026-02-01", "group": "low", "returnable_share": 0.7}
    result = returnability_run(dated(0.5, 0.0), seed=3, policies={"returns_agreement": agreement})
    records = result.records
    made = result.policy_outputs["returns_agreement"].details["made_returnable"]
    assert len(made) > 500
    current = ~(records["t_exit"][made] <= 2 * 365)
    assert current.sum() > 50 and np.all(records["returnable"][made][current] == 1)
    first = records["parent"] == -1
    reached = first & (records["group"] == LOW) & (records["t_are"] >= T)
    n, k = int(reached.sum()), int(records["returnable"][reached].sum())
    low, high = stats.binom.interval(0.999, n, 0.7)
    assert n > 1000 and low <= k <= high, (k, n)
    # people waiting in the ARE stock on the date of the fall who stopped being returnable
    # got their draw then
    made_at = result.policy_outputs["returns_agreement"].events["made_returnable_by_agreement"]
    assert np.sum(made_at == T) > 10
    # after the fall only people the agreement made returnable are removed
    late = (records["exit_outcome"] == REMOVED) & (records["group"] == LOW)
    late &= records["t_exit"] > T
    firsts = first_records(records["parent"])
    assert late.sum() > 50 and (~np.isin(firsts[late], firsts[made])).sum() <= 1


def test_an_agreement_starting_after_a_fall_gives_everyone_waiting_its_draw():
    """The share falls to 0 on 1 July; the agreement (target 0.7) starts on 1 September.
    With no way out of the ARE stock, everyone reaching it before the fall got the agreement's
    draw on its start date, whether returnable when they reached ARE or not."""
    agreement = {"start_date": "2026-09-01", "group": "low", "returnable_share": 0.7}
    records = returnability_run(
        dated(0.5, 0.0),
        seed=5,
        after_refusal={
            "enforced_removals_per_month": 0,
            "voluntary_departure_rate_per_year": 0,
            "further_submission_rate_per_year": 0,
            "absconding_rate_per_year": 0,
        },
        policies={"returns_agreement": agreement},
    ).records
    waiting = (records["group"] == LOW) & (records["t_are"] < T)
    waiting &= ~(records["t_exit"] <= 2 * 365)
    n, k = int(waiting.sum()), int(records["returnable"][waiting].sum())
    low, high = stats.binom.interval(0.999, n, 0.7)
    assert n > 200 and low <= k <= high, (k, n)


def test_hubs_remove_onward_only_people_returnable_on_that_date():
    def onward(low_share):
        scenario = tiny(
            nationality_groups={
                "low": {"returnable_share": low_share},
                "high": {"returnable_share": 0.0},
            },
            policies={"return_hubs": dict(HUBS, capacity_people=30)},
        ).with_years(2)
        result = run_one(scenario, 3, keep_records=True)
        output = result.policy_outputs["return_hubs"]
        return output.events["hub_onward_removals"], output.details["removed_onward"], result

    fall_day = 243.0  # 2026-09-01
    times, _, _ = onward(0.8)
    assert (times > fall_day).sum() > 10  # without the fall, onward removals go on
    times, people, result = onward({"2026-01-01": 0.8, "2026-09-01": 0.0})
    assert (times <= fall_day).sum() > 10 and not (times > fall_day).any()
    assert np.all(result.records["u_returnable"][people] < 0.8)


# ------------------------------------------------------------------------ route mixes


def test_each_route_draws_its_groups_with_its_own_mix_at_the_arrival_time():
    small_boat = {"high": dated(0.9, 0.1), "low": dated(0.1, 0.9)}
    in_country = {"high": 0.3, "low": 0.7}
    scenario = tiny(
        arrivals={
            "small_boat": {"rate_per_month": 600, "group_shares": small_boat},
            "in_country": {"rate_per_month": 300, "group_shares": in_country},
            "other_irregular": {"rate_per_month": 300},
        }
    )
    records = run_one(scenario, 5, keep_records=True).records
    new = records["origin"] == Origin.NEW_CLAIM
    expected = [  # route, period, share of the high group (other_irregular: the groups' share)
        ("small_boat", (0, T), 0.9),
        ("small_boat", (T, 365), 0.1),
        ("in_country", (0, T), 0.3),
        ("in_country", (T, 365), 0.3),
        ("other_irregular", (0, 365), 0.4),
    ]
    for route, (start, end), share in expected:
        chosen = new & (records["route"] == ROUTE_CODES[route])
        chosen &= (records["t_claim"] >= start) & (records["t_claim"] < end)
        n, k = int(chosen.sum()), int((records["group"][chosen] == HIGH).sum())
        low, high = stats.binom.interval(0.999, n, share)
        assert n > 800 and low <= k <= high, (route, start, k, n, share)
    # the starting stock awaiting a decision has the mix of its route at the start
    awaiting = (records["origin"] == Origin.STOCK_AWAITING) & (
        records["route"] == ROUTE_CODES["small_boat"]
    )
    n, k = int(awaiting.sum()), int((records["group"][awaiting] == HIGH).sum())
    low, high = stats.binom.interval(0.999, n, 0.9)
    assert n > 50 and low <= k <= high, (k, n)


def test_a_route_mix_equal_to_the_groups_shares_changes_nothing(tiny_scenario):
    same = {"high": 0.4, "low": 0.6}
    mixed = tiny(arrivals={route: {"group_shares": same} for route in ROUTES})
    assert fingerprint(run(mixed, seed=6)) == fingerprint(run(tiny_scenario, seed=6))


# ------------------------------------------------------------------------ the default


def test_undated_draws_are_the_draws_made_before_dated_values_existed(tiny_scenario):
    """Same numbers and order of draws as the code before dated groups: group, household,
    support, then the returnability uniform (now kept)."""
    route = np.random.default_rng(0).integers(0, 3, 5000).astype(np.int8)
    new = draw_attributes(tiny_scenario, np.random.default_rng(7), route)
    rng = np.random.default_rng(7)
    groups = list(tiny_scenario.nationality_groups.values())
    group = categorical(rng, np.array([g.share for g in groups]), len(route))
    households = tiny_scenario.households
    household = categorical(
        rng, np.array([getattr(households, h) for h in HOUSEHOLD_CODES]), len(route)
    )
    support = np.array([getattr(tiny_scenario.arrivals, r).support_share for r in ROUTES])
    supported = (rng.random(len(route)) < support[route]) & (household != UNACCOMPANIED_CHILD)
    u = rng.random(len(route))
    returnable = u < np.array([g.returnable_share for g in groups])[group]
    assert np.array_equal(new["group"], group)
    assert np.array_equal(new["household"], household)
    assert np.array_equal(new["supported"], supported)
    assert np.array_equal(new["u_returnable"], u)
    assert np.array_equal(new["returnable"], returnable)


def test_a_share_dated_only_on_the_start_date_is_the_constant(tiny_scenario):
    once = tiny(nationality_groups={"low": {"returnable_share": {"2026-01-01": 0.8}}})
    assert fingerprint(run(once, seed=8)) == fingerprint(run(tiny_scenario, seed=8))


def test_policies_cannot_read_the_returnability_uniform():
    from simulation.core.records import READABLE_BY_POLICIES

    assert "returnable" in READABLE_BY_POLICIES
    assert "u_returnable" not in READABLE_BY_POLICIES


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        (
            {"arrivals": {"small_boat": {"group_shares": {"high": dated(0.5, 0.3), "low": 0.5}}}},
            "arrivals.small_boat.group_shares",
            ["sum to 1", CHANGE, "0.8"],
        ),
        (
            {"arrivals": {"in_country": {"group_shares": {"high": 0.5, "low": 0.5, "x": 0}}}},
            "arrivals.in_country.group_shares.x",
            ["unknown nationality group", "high, low"],
        ),
        (
            {"arrivals": {"small_boat": {"group_shares": {"high": 1.0}}}},
            "arrivals.small_boat.group_shares",
            ["every nationality group", "missing: low"],
        ),
        (
            {"arrivals": {"small_boat": {"group_shares": {"high": 1.2, "low": -0.2}}}},
            "arrivals.small_boat.group_shares.high",
            ["<= 1"],
        ),
        (
            {"nationality_groups": {"low": {"returnable_share": dated(0.5, 1.5)}}},
            f"nationality_groups.low.returnable_share.{CHANGE}",
            ["<= 1"],
        ),
        (
            {"nationality_groups": {"low": {"returnable_share": {"2026-02-01": 0.5}}}},
            "nationality_groups.low.returnable_share",
            ["after start_date"],
        ),
        (
            {
                "nationality_groups": {"low": {"returnable_share": dated(0.5, 0.9)}},
                "policies": {
                    "returns_agreement": {
                        "start_date": "2026-08-01",
                        "group": "low",
                        "returnable_share": 0.8,
                    }
                },
            },
            "policies.returns_agreement.returnable_share",
            ["at least", "on the start date (0.9)"],
        ),
    ],
)
def test_bad_input_names_the_field_before_any_run(changes, path, words):
    with pytest.raises(ScenarioError) as caught:
        tiny(**changes)
    problems = dict(caught.value.problems)
    assert path in problems, caught.value.problems
    for word in words:
        assert word in problems[path]


class _PromiseEveryoneOfTheGroup(Policy):
    """A stand-in policy: calls make_returnable at ARE for every even record of the low
    group, including people already returnable under the scenario's share."""

    name = "test_promise"

    def __init__(self, scenario) -> None:
        config = PolicyConfig(start_date=scenario.start_date)
        super().__init__(config, scenario, np.random.default_rng(0), scenario.horizon_days)
        self.promised: list[int] = []

    def on_are(self, person: int, now: float) -> None:
        if self.engine.value("group", person) == LOW and person % 2 == 0:
            self.promised.append((person, bool(self.engine.value("returnable", person))))
            self.engine.make_returnable(person)


def test_a_promise_made_to_someone_already_returnable_outlasts_a_fall():
    scenario = tiny(
        nationality_groups={"low": {"returnable_share": dated(0.5, 0.0)}},
        after_refusal={"enforced_removals_per_month": 2},
    ).with_years(2)
    policy = _PromiseEveryoneOfTheGroup(scenario)
    records = run_pipeline(scenario, RandomStreams(2), [policy]).records
    already = np.array([p for p, was in policy.promised if was])
    current = ~(records["t_exit"][already] <= scenario.horizon_days)
    assert current.sum() > 20
    assert np.all(records["returnable"][already][current] == 1)
