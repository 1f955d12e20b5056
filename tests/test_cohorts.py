"""Cohorts: where the people who claimed in a window stand on a later date.

The classification in ``simulation/outputs/cohorts.py`` is checked against an independent
reading of the records written here: a person's latest record found by walking ``parent``
links forward, and each state as a predicate of its own (not an ordered cascade), so that a
record fitting two states or none shows up.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from conftest import ROOT, tiny, tiny_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import InputError, Scenario, run
from simulation.core.records import AppealOutcome, DecisionOutcome, ExitOutcome, Origin
from simulation.experiments.replications import mean_ci
from simulation.inputs.files import read_yaml
from simulation.outputs import cohorts
from simulation.outputs.cohorts import STATE_NAMES, format_cohort, month_window

SCENARIOS = ROOT / "scenarios"
STOCKS = (Origin.STOCK_AWAITING, Origin.STOCK_APPEAL, Origin.STOCK_ARE)
COMBINATION = ("origin", "dec_outcome", "app_outcome", "exit_outcome")


def two_years(name: str):
    scenario = Scenario.from_yaml(SCENARIOS / name).with_years(2)
    return run(scenario, seed=1, keep_records=True)


@pytest.fixture(scope="module")
def combined():
    return two_years("combined.yaml")


@pytest.fixture(scope="module")
def hubs():
    return two_years("return_hubs.yaml")


@pytest.fixture(scope="module")
def offshore():
    return two_years("rwanda_offshore.yaml")


@pytest.fixture(scope="module")
def tiny_hubs():
    """A small system with fast decisions, so people who claim in the run reach the hubs."""
    policies = read_yaml(SCENARIOS / "return_hubs.yaml")["policies"]
    scenario = Scenario.from_dict(tiny_dict(policies=policies, end_date="2028-01-01"))
    return run(scenario, seed=1, keep_records=True)


# ---------------------------------------------------------------------- an independent reading


def horizon_of(result) -> float:
    start = date.fromisoformat(result.manifest["start_date"])
    return float((date.fromisoformat(result.manifest["end_date"]) - start).days)


def children(records) -> np.ndarray:
    """The one later record of each record (-1 if none); fails if a record has two."""
    parent = records["parent"]
    child = np.full(len(parent), -1, dtype=np.int64)
    for index in np.flatnonzero(parent >= 0).tolist():
        assert child[parent[index]] == -1, f"record {parent[index]} has two later records"
        child[parent[index]] = index
    return child


def starts(records) -> np.ndarray:
    origin = records["origin"]
    start = np.where(np.isnan(records["t_claim"]), records["t_are"], records["t_claim"])
    return np.where(np.isin(origin, STOCKS), -np.inf, start)


def walk(records, people: np.ndarray, t) -> np.ndarray:
    """Each person's latest record started by ``t``, following the links forward."""
    child, start = children(records), starts(records)
    current = np.asarray(people, dtype=np.int64).copy()
    while True:
        nxt = child[current]
        move = (nxt >= 0) & (start[np.maximum(nxt, 0)] <= t)
        if not move.any():
            return current
        current = np.where(move, nxt, current)


def hub_times(result) -> tuple[np.ndarray, np.ndarray]:
    """Per record taken into a hub: when the transfer began and when the stay ended."""
    records = result.records
    n = len(records["origin"])
    since, until = np.full(n, np.nan), np.full(n, np.nan)
    taken = records["exit_outcome"] == ExitOutcome.POLICY
    since[taken], until[taken] = records["t_exit"][taken], np.inf
    output = (result.policy_outputs or {}).get("return_hubs")
    if output is not None:
        stay = output.stays["in_hub"]
        since[stay.records] = stay.since  # transfers under way at the end included
        until[stay.records] = stay.end
    return since, until


def expected_states(result, latest: np.ndarray, t) -> np.ndarray:
    """One column per state (in STATE_NAMES' order), True where the record is in it."""
    r = result.records
    o, d, a, e = (r[c][latest] for c in ("origin", "dec_outcome", "app_outcome", "exit_outcome"))
    dec_end, app_end = r["t_dec_end"][latest], r["t_app_end"][latest]
    t_are, t_exit = r["t_are"][latest], r["t_exit"][latest]
    since, until = (x[latest] for x in hub_times(result))
    D, A, E = DecisionOutcome, AppealOutcome, ExitOutcome
    decided = dec_end <= t
    in_queue = np.isin(d, (D.PENDING, D.WITHDRAWN, D.GRANTED, D.REFUSED)) & ~decided
    past_decision = (d == D.NONE) | ((d == D.REFUSED) & decided)
    appealing = past_decision & (a != A.NONE)
    are = (
        past_decision
        & ((a == A.NONE) | ((a == A.DISMISSED) & (app_end <= t)))
        & (e != E.NONE)
        & (t_are <= t)
    )
    left = are & (t_exit <= t)
    transit = are & (e == E.POLICY) & (since <= t)
    states = {
        "granted_initial": (d == D.GRANTED) & decided,
        "granted_appeal": appealing & (a == A.ALLOWED) & (app_end <= t),
        "removed_enforced": left & (e == E.REMOVED),
        "departed_voluntarily": left & (e == E.VOLUNTARY),
        "removed_via_hub": are & (e == E.POLICY) & (until <= t),
        "relocated_offshore": d == D.DIVERTED,
        "withdrawn": (d == D.WITHDRAWN) & decided,
        "absconded": left & (e == E.ABSCONDED),
        "awaiting_decision": in_queue & (o != Origin.FURTHER_SUBMISSION),
        "awaiting_appeal": appealing & ~(app_end <= t),
        "are_in_uk": are & ~(t_exit <= t) & ~transit,
        "in_hub": transit & ~(until <= t),
        "further_submission": (in_queue & (o == Origin.FURTHER_SUBMISSION))
        | (left & (e == E.FURTHER_SUBMISSION)),
    }
    assert list(states) == list(STATE_NAMES)
    return np.column_stack([np.broadcast_to(states[name], len(latest)) for name in STATE_NAMES])


def roots_of(records) -> np.ndarray:
    """The first record of the person each record belongs to."""
    root = np.arange(len(records["origin"]))
    for _ in range(50):
        root = np.where(records["parent"][root] >= 0, records["parent"][root], root)
    assert (records["parent"][root] < 0).all()
    return root


def first_claims(result) -> np.ndarray:
    return np.flatnonzero(result.records["origin"] == Origin.NEW_CLAIM)


def everyone(result) -> np.ndarray:
    """The first record of every person: the starting stocks and every new claimant."""
    return np.flatnonzero(result.records["parent"] < 0)


def check_people(result, people: np.ndarray, t: float) -> np.ndarray:
    """Each person is in exactly one state, the same the module finds; their state codes."""
    latest = walk(result.records, people, t)
    found = cohorts.states_of(result.records, people, t, result.policy_outputs)
    expected = expected_states(result, latest, t)
    counts = expected.sum(axis=1)
    assert (counts == 1).all(), f"{int((counts != 1).sum())} people in {set(counts)} states"
    np.testing.assert_array_equal(found, expected.argmax(axis=1))
    return found


def count(found: np.ndarray, name: str) -> int:
    return int((found == STATE_NAMES.index(name)).sum())


# ---------------------------------------------------------------------- every record, one state


def test_every_outcome_combination_of_a_real_run_maps_to_exactly_one_state(combined):
    """Every record of a 2-year run of combined.yaml, read at times across the span when it
    is its person's latest (its start, its events, the midpoint, the end), is in exactly one
    state, and the module puts it in that state."""
    r = combined.records
    horizon = horizon_of(combined)
    child = children(r)
    start = np.maximum(starts(r), 0.0)
    has_child = child >= 0
    end = np.where(has_child, starts(r)[np.maximum(child, 0)], horizon)
    since, until = hub_times(combined)
    records = np.arange(len(start))
    seen: dict[tuple[int, ...], set[str]] = {}
    probes = [start, (start + end) / 2, end, since, until]
    probes += [r[c] for c in ("t_dec_end", "t_app_end", "t_are", "t_exit")]
    for probe in probes:
        for shift in (0.0, -1e-6):
            t = probe + shift
            # only where the record is its person's latest: from its start until its child's
            inside = np.isfinite(t) & (t >= start) & ((t < end) | (~has_child & (t <= end)))
            t = np.where(inside, t, start)
            found = cohorts.classify(r, records, t, combined.policy_outputs)
            expected = expected_states(combined, records, t)
            counts = expected.sum(axis=1)
            assert (counts == 1).all(), np.unique(counts)
            np.testing.assert_array_equal(found, expected.argmax(axis=1))
            combos = zip(*(r[c].tolist() for c in COMBINATION), found.tolist(), strict=True)
            for *combo, state in combos:
                seen.setdefault(tuple(combo), set()).add(STATE_NAMES[state])
    occurring = set(zip(*(r[c].tolist() for c in COMBINATION), strict=True))
    assert occurring == set(seen)
    assert len(occurring) > 30  # the run exercises most of the model
    assert set().union(*seen.values()) == set(STATE_NAMES)  # and every state is reached


@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.data())
def test_shares_sum_to_one_for_every_cohort_and_date(combined, data):
    horizon = int(horizon_of(combined))
    start = date.fromisoformat(combined.manifest["start_date"])
    first = data.draw(st.integers(0, horizon - 1), label="claimed_from day")
    length = data.draw(st.integers(1, 200), label="window days")
    last = min(first + length, horizon)
    at_day = data.draw(st.integers(first, horizon - 1), label="at day")
    table = combined.cohort(
        start + timedelta(days=first), start + timedelta(days=last), start + timedelta(days=at_day)
    )
    assert list(table.columns) == ["state", "people", "share"]
    assert list(table["state"]) == list(STATE_NAMES)
    t = at_day + 1.0  # as at the end of the date
    r = combined.records
    claimed = r["t_claim"]
    people = np.flatnonzero(
        (r["origin"] == Origin.NEW_CLAIM) & (claimed >= first) & (claimed < last) & (claimed <= t)
    )
    assert table.attrs["cohort"] == len(people) == table["people"].sum() > 0
    assert table["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (table["share"] >= 0).all()
    found = check_people(combined, people, t)
    assert table["people"].tolist() == np.bincount(found, minlength=len(STATE_NAMES)).tolist()


def test_a_cohort_at_its_own_start_is_awaiting_a_decision(combined):
    """At the moment of their claim every new claimant awaits a decision, but those taken
    offshore on arrival; and a month's cohort as at its first day holds that day's claimants,
    all awaiting a decision."""
    r = combined.records
    people = first_claims(combined)
    t = r["t_claim"][people]
    found = cohorts.classify(r, people, t, combined.policy_outputs)
    diverted = r["dec_outcome"][people] == DecisionOutcome.DIVERTED
    assert diverted.any() and (~diverted).any()
    assert (found[diverted] == STATE_NAMES.index("relocated_offshore")).all()
    assert (found[~diverted] == STATE_NAMES.index("awaiting_decision")).all()

    table = combined.cohort(*month_window("2026-03"), at=date(2026, 3, 1)).set_index("state")
    start = date.fromisoformat(combined.manifest["start_date"])
    day = (date(2026, 3, 1) - start).days
    that_day = ((r["t_claim"][people] >= day) & (r["t_claim"][people] < day + 1)).sum()
    assert table.attrs["cohort"] == that_day > 0
    assert table.loc["awaiting_decision", "people"] == that_day
    assert table.loc["awaiting_decision", "share"] == 1.0


# ---------------------------------------------------------------------- against other counts


def test_a_whole_run_cohort_agrees_with_the_records_and_the_summary(combined):
    r = combined.records
    horizon = horizon_of(combined)
    start, end = combined.manifest["start_date"], combined.manifest["end_date"]
    last = date.fromisoformat(end) - timedelta(days=1)
    table = combined.cohort(start, end, last).set_index("state")["people"]
    summary = combined.summary
    assert table.sum() == summary["claims"]

    people = first_claims(combined)
    root = roots_of(r)
    mine = r["origin"][root] == Origin.NEW_CLAIM
    done = mine & (r["t_dec_end"] <= horizon)
    assert table["granted_initial"] == (done & (r["dec_outcome"] == DecisionOutcome.GRANTED)).sum()
    assert table["withdrawn"] == (done & (r["dec_outcome"] == DecisionOutcome.WITHDRAWN)).sum()
    allowed = mine & (r["app_outcome"] == AppealOutcome.ALLOWED) & (r["t_app_end"] <= horizon)
    assert table["granted_appeal"] == allowed.sum()
    assert (
        table["relocated_offshore"] == (mine & (r["dec_outcome"] == DecisionOutcome.DIVERTED)).sum()
    )
    assert table["relocated_offshore"] > 0
    came_back = np.zeros(len(root), dtype=bool)
    came_back[r["parent"][r["parent"] >= 0]] = True
    removed = mine & (r["exit_outcome"] == ExitOutcome.REMOVED) & (r["t_exit"] <= horizon)
    assert table["removed_enforced"] == (removed & ~came_back).sum()
    assert len(people) == table.sum()

    # everyone (the starting stocks too) against the series' final stocks
    found = check_people(combined, everyone(combined), horizon)
    policies = summary["policies"]
    assert (
        count(found, "awaiting_decision") + count(found, "further_submission")
        == summary["final_backlog_initial"]
    )
    assert count(found, "awaiting_appeal") == summary["final_backlog_appeals"]
    assert count(found, "are_in_uk") + count(found, "in_hub") == (
        summary["final_are_in_uk"] + policies["return_hubs"]["final_in_hub"]
    )
    assert count(found, "relocated_offshore") == (
        policies["offshore"]["relocations"] + policies["offshore"]["final_in_offshore_detention"]
    )
    assert count(found, "relocated_offshore") == summary["diverted_on_arrival"]


def test_people_in_hubs_are_in_a_hub_or_removed_via_one(hubs, tiny_hubs):
    for result in (hubs, tiny_hubs):
        r = result.records
        output = result.policy_outputs["return_hubs"]
        stay = output.stays["in_hub"]
        begun = stay.since
        assert len(stay.records) > 100
        root = roots_of(r)
        horizon = horizon_of(result)
        for t in (horizon / 2, horizon * 0.8, horizon):
            claimed = starts(r)[root[stay.records]] <= t
            check_people(result, np.unique(root[stay.records][claimed]), t)
            latest = walk(r, root[stay.records], t)
            found = cohorts.classify(r, latest, t, result.policy_outputs)
            # the stay's record is the latest: nobody brought back or come back since
            current = (latest == stay.records) & claimed
            in_hub = (begun <= t) & (t < stay.end)  # from the start of the transfer
            assert in_hub.any() and current[in_hub].all()
            assert (found[in_hub] == STATE_NAMES.index("in_hub")).all()
            gone = (stay.end <= t) & current
            assert gone.any()
            assert (found[gone] == STATE_NAMES.index("removed_via_hub")).all()
        # while a transfer is under way the person is in transit, not in the UK stock
        moving = (begun < stay.start) & np.isfinite(stay.start)  # arrived after a transfer
        people, begun, arrived = stay.records[moving], begun[moving], stay.start[moving]
        found = cohorts.classify(r, people, (begun + arrived) / 2, result.policy_outputs)
        assert (found == STATE_NAMES.index("in_hub")).all()
        found = cohorts.classify(r, people, begun - 1e-9, result.policy_outputs)
        assert (found == STATE_NAMES.index("are_in_uk")).all()

    # new claimants reach the hubs in the small system: the cohort reports them
    end = date.fromisoformat(tiny_hubs.manifest["end_date"])
    table = tiny_hubs.cohort(tiny_hubs.manifest["start_date"], end, end - timedelta(days=1))
    table = table.set_index("state")["people"]
    assert table["in_hub"] > 0 and table["removed_via_hub"] > 0


def test_a_transfer_under_way_at_the_end_of_the_run_is_in_transit():
    """A transfer still under way when the run ends has no arrival in the records: the
    policy's stay gives when the transfer began (``since``) and no arrival (``start`` inf)."""
    policies = read_yaml(SCENARIOS / "return_hubs.yaml")["policies"]
    policies["return_hubs"]["transfers_per_month"] = 3  # a transfer takes ten days
    scenario = Scenario.from_dict(tiny_dict(policies=policies, end_date="2028-01-01"))
    result = run(scenario, seed=1, keep_records=True)
    r = result.records
    moving = np.flatnonzero((r["exit_outcome"] == ExitOutcome.POLICY) & np.isinf(r["t_exit"]))
    stay = result.policy_outputs["return_hubs"].stays["in_hub"]
    (since,) = stay.since[np.isinf(stay.start)]
    assert len(moving) == 1 and stay.records[np.isinf(stay.start)][0] == moving[0]
    person = np.array([roots_of(r)[moving[0]]])
    horizon = horizon_of(result)
    assert since < horizon - 1
    for t, state in ((horizon, "in_hub"), (since, "in_hub"), (since - 1e-6, "are_in_uk")):
        found = check_people(result, person, t)
        assert STATE_NAMES[found[0]] == state


def test_people_diverted_offshore_are_relocated_offshore(offshore):
    r = offshore.records
    stay = offshore.policy_outputs["offshore"].stays["in_offshore_detention"]
    people = stay.records[r["origin"][stay.records] == Origin.NEW_CLAIM]
    assert len(people) > 50
    assert (r["dec_outcome"][stay.records] == DecisionOutcome.DIVERTED).all()
    horizon = horizon_of(offshore)
    assert (children(r)[people] < 0).all()  # nobody comes back from the third country
    for t in (r["t_claim"][people], (r["t_claim"][people] + horizon) / 2, horizon):
        found = cohorts.classify(r, people, t, offshore.policy_outputs)
        assert (found == STATE_NAMES.index("relocated_offshore")).all()
    start, end = offshore.manifest["start_date"], offshore.manifest["end_date"]
    table = offshore.cohort(start, end, date.fromisoformat(end) - timedelta(days=1))
    assert table.set_index("state").loc["relocated_offshore", "people"] == len(people)


# ---------------------------------------------------------------------- replications


def test_replication_cis_contain_the_mean():
    reps = run(tiny(), seed=3, replications=4, keep_records=True)
    table = reps.cohort("2026-02-01", "2026-04-01", "2026-10-31")
    assert list(table.columns) == ["state", "people", "share", "ci_low", "ci_high", "n"]
    assert list(table["state"]) == list(STATE_NAMES)
    assert (table["n"] == 4).all()
    assert table["share"].sum() == pytest.approx(1.0)
    assert (table["ci_low"] <= table["share"]).all() and (table["share"] <= table["ci_high"]).all()
    singles = [r.cohort("2026-02-01", "2026-04-01", "2026-10-31") for r in reps]
    for index, row in table.iterrows():
        shares = [s["share"].iloc[index] for s in singles]
        assert (row["share"], row["ci_low"], row["ci_high"]) == pytest.approx(mean_ci(shares))
        assert row["people"] == pytest.approx(np.mean([s["people"].iloc[index] for s in singles]))
    varied = table[table["ci_high"] > table["ci_low"]]
    assert len(varied) >= 3  # the intervals are of shares that differ between replications
    text = format_cohort(table)
    assert "95% CI" in text and "mean of 4 runs" in text


def test_format_cohort_shows_every_state_under_its_group(combined):
    table = combined.cohort(*month_window("2026-02"), at="2027-06-30")
    text = format_cohort(table)
    assert text.splitlines()[0] == "Claimed 2026-02-01 to 2026-02-28, as at the end of 2027-06-30"
    for state in cohorts.STATES:
        assert state.label in text
    for group in ("Granted", "Left the UK", "Withdrawn", "Absconded", "Unresolved"):
        assert f"\n{group} " in text


# ---------------------------------------------------------------------- inputs


def test_month_window():
    assert month_window("2024-03") == (date(2024, 3, 1), date(2024, 4, 1))
    assert month_window("2025-12") == (date(2025, 12, 1), date(2026, 1, 1))
    assert month_window("2024-02") == (date(2024, 2, 1), date(2024, 3, 1))
    assert month_window(" 2026-02 ") == (date(2026, 2, 1), date(2026, 3, 1))


@pytest.mark.parametrize("text", ["2024-13", "2024-3", "March", "2024-03-01", ""])
def test_a_month_that_is_not_yyyy_mm_is_an_input_error(text):
    with pytest.raises(InputError) as error:
        month_window(text)
    assert error.value.problems[0][0] == "claimed"


@pytest.mark.parametrize(
    ("window", "field"),
    [
        (("2025-12-01", "2026-02-01", "2026-06-30"), "claimed_from"),
        (("2026-02-01", "2028-02-01", "2027-06-30"), "claimed_to"),
        (("2026-03-01", "2026-02-01", "2026-06-30"), "claimed_to"),
        (("2026-03-01", "2026-03-01", "2026-06-30"), "claimed_to"),
        (("2026-03-01", "2026-04-01", "2028-01-01"), "at"),
        (("2026-03-01", "2026-04-01", "2026-02-28"), "at"),
        (("2026-03-01", "2026-04-01", "31/12/2026"), "at"),
        (("March", "2026-04-01", "2026-06-30"), "claimed_from"),
        ((date(2026, 3, 1), None, "2026-06-30"), "claimed_to"),
    ],
)
def test_bad_dates_are_input_errors_naming_the_field(combined, window, field):
    with pytest.raises(InputError) as error:
        combined.cohort(*window)
    assert [path for path, _ in error.value.problems] == [field]


def test_a_result_without_records_says_to_keep_them():
    result = run(tiny(), seed=1)
    with pytest.raises(InputError, match="keep_records=True") as error:
        result.cohort("2026-01-01", "2026-02-01", "2026-06-30")
    assert error.value.problems[0][0] == "keep_records"


def test_the_cohort_of_replications_run_apart_equals_the_kept_records_one():
    from conftest import tiny

    from simulation import run
    from simulation.experiments.replications import cohort

    scenario = tiny()
    window = ("2026-02-01", "2026-03-01", "2026-09-30")
    apart = cohort(scenario, *window, seed=3, replications=2, workers=2)
    kept = run(scenario, seed=3, replications=2, keep_records=True).cohort(*window)
    import pandas as pd

    pd.testing.assert_frame_equal(apart, kept)
    assert apart.attrs == kept.attrs
