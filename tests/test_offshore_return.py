"""Offshore processing: people brought back to the UK, and what happens in the third country.

A person relocated before any UK decision and brought back (a share after a delay, or everyone
still held at a court halt) claims again in the UK: a new record of origin
``POLICY_RETURN_CLAIM`` in the decision queue, never relocated again. In the third country a
decision grants or refuses; people leave it by being brought back, moving on or being removed
from there, and the counts add up. Statistical checks use 99.9% binomial or Gamma intervals
with fixed seeds.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import tiny
from scipy import stats

from simulation import ScenarioError
from simulation.core.records import DecisionOutcome, Origin
from simulation.core.vocabulary import ROUTE_CODES
from simulation.engine.accommodation import support_intervals
from simulation.engine.pipeline import run_pipeline
from simulation.engine.rng import RandomStreams
from simulation.experiments.replications import run_one
from simulation.inputs.policy_config import PolicyConfig
from simulation.outputs import cohorts
from simulation.policies.contract import Policy

#: offshore processing on the tiny scenario: every eligible small-boat claimant relocated
#: from the start, no payments but processing (to read them off), nobody leaving by default
OFFSHORE = {
    "start_date": "2026-01-01",
    "relocation_share": 1.0,
    "annual_capacity_people": 100000,
    "legal_delay_days": 0,
    "halt_probability": 0.0,
    "halt_within_days": 365,
    "detention_days": 10,
    "detention_cost_per_day_gbp": 100,
    "payment_per_relocation_gbp": 0,
    "processing_payment_per_person_gbp": 182625,  # GBP 100 a day over 5 years
    "processing_years": 5,
    "flight_cost_per_person_gbp": 1000,
    "threshold_relocations": 0,
    "threshold_payment_gbp": 0,
    "departure_share": 0.0,
    "departure_payment_gbp": 0,
}
YEARS = 2
HORIZON = 730.0  # 2026-01-01 to 2028-01-01


def offshore_run(seed: int = 5, years: float = YEARS, scenario_changes=None, **changes):
    config = dict(OFFSHORE, **changes)
    scenario = tiny(policies={"offshore": config}, **(scenario_changes or {})).with_years(years)
    result = run_one(scenario, seed, keep_records=True)
    return result, result.policy_outputs["offshore"]


def brought_back(records) -> tuple[np.ndarray, np.ndarray]:
    """(records brought back to claim, the new record of each)."""
    children = np.flatnonzero(records["origin"] == Origin.POLICY_RETURN_CLAIM)
    return records["parent"][children], children


def interval(k: int, n: int) -> tuple[float, float]:
    return stats.binomtest(k, n).proportion_ci(0.999)


# ---------------------------------------------------------------------- the engine verb


class Carrier(Policy):
    """Takes every tenth new claimant abroad on arrival and brings those who arrived before
    day 100 back on day 100; remembers whom the engine offered to ``divert_one``."""

    name = "carrier"

    def __init__(self, scenario, misuse: str = "") -> None:
        config = PolicyConfig(start_date=date(2026, 1, 1))
        super().__init__(config, scenario, np.random.default_rng(0), scenario.horizon_days)
        self.misuse = misuse
        self.offered: list[int] = []
        self.children: list[int] = []

    def divert(self, people: np.ndarray) -> None:
        self.held = people[::10]
        self.engine.divert(self.held)
        if self.misuse == "before the run":
            self.engine.return_to_claim(int(self.held[0]))

    def divert_one(self, person: int, now: float) -> bool:
        self.offered.append(person)
        return False

    def start(self) -> None:
        self.engine.schedule(100.0, self._bring_back)

    def _bring_back(self, _value: object = None) -> None:
        t_claim = self.engine.read("t_claim")
        for person in self.held[t_claim[self.held] < 100].tolist():
            self.children.append(self.engine.return_to_claim(person))
        if self.misuse == "twice":
            self.engine.return_to_claim(int(self.held[0]))
        if self.misuse == "not diverted":
            self.engine.return_to_claim(int(self.held[0]) + 1)


def carried(misuse: str = ""):
    scenario = tiny(
        decisions={"withdrawal_rate_per_year": 0.0},
        after_refusal={"reentry_share": 1.0, "reentry_mean_delay_days": 20},
    ).with_years(YEARS)
    policy = Carrier(scenario, misuse)
    run = run_pipeline(scenario, RandomStreams(4), [policy])
    return scenario, run.records, policy


def test_a_person_brought_back_claims_again_in_the_decision_queue():
    scenario, records, policy = carried()
    children = np.array(policy.children)
    assert len(children) > 20
    parents = records["parent"][children]
    assert np.all(records["dec_outcome"][parents] == DecisionOutcome.DIVERTED)
    assert np.all(records["origin"][children] == Origin.POLICY_RETURN_CLAIM)
    for name in ("route", "group", "household", "supported", "returnable"):
        assert np.array_equal(records[name][children], records[name][parents]), name
    assert np.all(records["t_claim"][children] == 100.0)
    # each is decided in the UK or still waiting (no withdrawals here), never diverted
    dec = records["dec_outcome"][children]
    decided = np.isin(dec, (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED))
    waiting = records["t_dec_end"][children] > HORIZON
    assert np.all(decided | waiting)
    assert decided.sum() > 10
    assert np.all(records["t_dec_start"][children[decided]] >= 100.0)
    # never offered to divert_one, while people coming back after a removal are
    assert policy.offered
    assert not np.isin(children, policy.offered).any()
    # housed as claimants are: supported from the claim on
    start, _ = support_intervals(records, scenario)
    supported = records["supported"][children] == 1
    assert supported.any()
    assert np.array_equal(start[children[supported]], records["t_claim"][children[supported]])


@pytest.mark.parametrize(
    ("misuse", "error", "match"),
    [
        ("before the run", RuntimeError, "for the run"),
        ("twice", ValueError, "already"),
        ("not diverted", ValueError, "not diverted"),
    ],
)
def test_the_verb_refuses_what_it_cannot_do(misuse, error, match):
    with pytest.raises(error, match=match):
        carried(misuse)


# ---------------------------------------------------------------------- brought back


def test_at_a_halt_everyone_held_is_brought_back_within_the_delay():
    within = 30.0
    result, output = offshore_run(
        halt_probability=1.0,
        halt_within_days=300,
        bring_back_on_halt=True,
        bring_back_within_days=within,
        scenario_changes={"decisions": {"withdrawal_rate_per_year": 0.0}},
    )
    halt = output.summary["halt_day"]
    assert 0 < halt < HORIZON - within
    stay = output.stays["in_third_country"]
    relocated = stay.start <= HORIZON
    assert relocated.sum() > 100
    assert np.all(stay.start[relocated] < halt)  # nobody is flown after the halt
    # everyone held is brought back within the delay, spread over it
    back = stay.end[relocated]
    assert np.all((back >= halt) & (back <= halt + within))
    assert np.ptp(back) > within / 2
    in_third = result.series_wide()["in_third_country"].to_numpy()
    assert in_third[int(np.ceil(halt + within)) :].max() == 0
    # each is a claimant in the UK again: a new record claiming when they came back, decided
    # in the UK or still waiting
    records = result.records
    parents, children = brought_back(records)
    assert np.array_equal(np.sort(parents), np.sort(stay.records[relocated]))
    order = np.argsort(stay.records[relocated])
    assert np.array_equal(records["t_claim"][children[np.argsort(parents)]], back[order])
    dec = records["dec_outcome"][children]
    decided = np.isin(dec, (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED))
    assert np.all(decided | (records["t_dec_end"][children] > HORIZON))
    assert decided.any()
    summary = output.summary
    assert summary["brought_back"] == summary["brought_back_at_halt"] == relocated.sum()
    assert result.summary["claims_brought_back"] == relocated.sum()


def test_a_halt_that_brings_people_back_ends_decisions_there():
    """People decided before the halt stay with their outcome; nobody else is decided there,
    and each person is counted once."""
    result, output = offshore_run(
        halt_probability=1.0,
        halt_within_days=300,
        bring_back_on_halt=True,
        decision_mean_days=100,
        grant_rate_there=0.6,
    )
    s = result.summary["policies"]["offshore"]
    halt = s["halt_day"]
    decided = np.concatenate(
        [output.events["granted_in_third_country"], output.events["refused_in_third_country"]]
    )
    assert len(decided) > 20 and s["brought_back_at_halt"] > 20
    assert decided.max() <= halt
    assert s["relocations"] == s["brought_back"] + s["granted_there"] + s["refused_there"]
    assert s["undecided_there"] == 0
    assert s["final_in_third_country"] == s["granted_there"] + s["refused_there"]


def test_without_bring_back_on_halt_people_stay_after_a_halt():
    result, _ = offshore_run(halt_probability=1.0, halt_within_days=300)
    s = result.summary["policies"]["offshore"]
    assert s["halted"] == 1
    assert s["brought_back"] == 0
    assert s["final_in_third_country"] == s["relocations"] > 100


def test_the_brought_back_share_and_delay_are_as_configured():
    share, mean = 0.3, 20.0
    result, output = offshore_run(brought_back_share=share, brought_back_mean_days=mean)
    stay = output.stays["in_third_country"]
    # flown at least 400 days (20 means) before the end: every draw has played out
    settled = stay.start < HORIZON - 400
    n = int(settled.sum())
    back = np.isfinite(stay.end[settled])
    low, high = interval(int(back.sum()), n)
    assert n > 300
    assert low <= share <= high
    # the delay from the flight is exponential with the mean: its sum is Gamma(k, mean)
    delays = (stay.end - stay.start)[settled][back]
    low, high = stats.gamma.interval(0.999, len(delays), scale=mean)
    assert low <= delays.sum() <= high
    assert output.summary["brought_back"] == result.summary["claims_brought_back"]


def test_people_brought_back_are_never_relocated_again():
    """With a fast revolving door, people brought back who are refused, removed and come back
    by small boat are offered to the policy again, and it declines them."""
    result, output = offshore_run(
        years=3,
        brought_back_share=1.0,
        brought_back_mean_days=10,
        scenario_changes={
            "households": {"single_adult": 1.0, "family_member": 0.0, "unaccompanied_child": 0.0},
            "nationality_groups": {"high": {"returnable_share": 1.0}},
            "after_refusal": {
                "enforced_removals_per_month": 400,
                "voluntary_departure_rate_per_year": 6,
                "reentry_share": 1.0,
                "reentry_mean_delay_days": 10,
            },
        },
    )
    records = result.records
    _, children = brought_back(records)
    assert len(children) > 100
    # every brought-back claim is a UK claim, not diverted
    assert not np.any(records["dec_outcome"][children] == DecisionOutcome.DIVERTED)
    # records made after a person was brought back (their later claims)
    after = descendants(records, children)
    reentered = records["origin"] == Origin.REENTRY
    again = reentered & after & (records["route"] == ROUTE_CODES["small_boat"])
    assert again.sum() > 20
    # none of them was relocated again
    assert not np.any(records["dec_outcome"][again] == DecisionOutcome.DIVERTED)
    # while other re-entrants by small boat were (so the policy was open to them)
    assert np.any(records["dec_outcome"][reentered & ~after] == DecisionOutcome.DIVERTED)


def descendants(records, of: np.ndarray) -> np.ndarray:
    """Records that descend from any of the records ``of`` (through ``parent``), not them."""
    parent = records["parent"]
    mine = np.zeros(len(parent), dtype=bool)
    mine[of] = True
    found = np.zeros(len(parent), dtype=bool)
    has_parent = parent >= 0
    while True:
        step = has_parent & (mine[np.maximum(parent, 0)] | found[np.maximum(parent, 0)])
        if np.array_equal(step, found):
            return found
        found = step


# ---------------------------------------------------------------------- the third country


def test_outcome_counts_add_up_when_nobody_leaves_but_to_the_uk():
    result, output = offshore_run(
        brought_back_share=0.2,
        brought_back_mean_days=60,
        decision_mean_days=150,
        grant_rate_there=0.7,
    )
    s = result.summary["policies"]["offshore"]
    assert min(s["brought_back"], s["granted_there"], s["refused_there"], s["undecided_there"]) > 20
    assert s["relocations"] == (
        s["brought_back"] + s["granted_there"] + s["refused_there"] + s["undecided_there"]
    )
    # the stock in the third country is everyone relocated and not brought back
    assert s["final_in_third_country"] == s["relocations"] - s["brought_back"]
    assert s["moved_on"] == s["removed_from_there"] == 0
    for event, count in (
        ("brought_back_from_offshore", "brought_back"),
        ("granted_in_third_country", "granted_there"),
        ("refused_in_third_country", "refused_there"),
    ):
        assert len(output.events[event]) == s[count], event
    low, high = interval(s["granted_there"], s["granted_there"] + s["refused_there"])
    assert low <= 0.7 <= high
    # processing payments stop when a person is brought back: GBP 100 a person-day there
    in_third = result.series_wide()["in_third_country"].to_numpy()
    assert np.allclose(output.costs["offshore_payments"], in_third[1:] * 100.0)


def test_people_leave_the_third_country_by_the_shares_of_their_outcome():
    config = dict(
        decision_mean_days=60,
        grant_rate_there=0.5,
        granted_move_on_share=0.4,
        refused_removed_share=0.5,
        refused_move_on_share=0.3,
        removal_there_mean_days=30,
        departure_payment_gbp=10000,
        processing_years=0.5,
        processing_payment_per_person_gbp=0,
    )
    result, output = offshore_run(years=3, **config)
    s = result.summary["policies"]["offshore"]
    assert s["relocations"] == s["granted_there"] + s["refused_there"] + s["undecided_there"]
    assert s["final_in_third_country"] == (
        s["relocations"] - s["brought_back"] - s["moved_on"] - s["removed_from_there"]
    )
    # those decided long ago have played out (moving on within half a year of the flight)
    stay = output.stays["in_third_country"]
    assert stay.records.size
    decided = np.concatenate(
        [output.events["granted_in_third_country"], output.events["refused_in_third_country"]]
    )
    assert len(decided) == s["granted_there"] + s["refused_there"]
    moved = output.events["moved_on_from_third_country"]
    removed = output.events["removed_from_third_country"]
    # shares of everyone decided: moved on 0.5 * 0.4 + 0.5 * 0.3, removed 0.5 * 0.5
    horizon = 3 * 365 + 1  # 2026-01-01 to 2029-01-01
    early = stay.start < horizon - 600
    n = int(early.sum())
    gone_by = stay.end[early]
    n_moved = int(np.isin(gone_by, moved).sum())
    n_removed = int(np.isin(gone_by, removed).sum())
    for k, p in ((n_moved, 0.35), (n_removed, 0.25)):
        low, high = interval(k, n)
        assert low <= p <= high
    # the one-off payment goes to those who move on (no other payment here)
    assert output.costs["offshore_payments"].sum() == 10000 * s["moved_on"]


def test_bring_back_flights_are_paid():
    _, output = offshore_run(
        brought_back_share=0.5, brought_back_mean_days=30, bring_back_cost_per_person_gbp=2500
    )
    s = output.summary
    flights = output.costs["offshore_flights"].sum()
    assert s["brought_back"] > 50
    assert flights == pytest.approx(1000 * s["relocations"] + 2500 * s["brought_back"])


# ---------------------------------------------------------------------- cohorts


def test_cohort_shares_sum_to_one_and_people_brought_back_stand_in_the_uk():
    result, _ = offshore_run(brought_back_share=0.5, brought_back_mean_days=40)
    records = result.records
    table = result.cohort("2026-01-01", "2028-01-01", at="2027-12-31")
    assert table["share"].sum() == pytest.approx(1.0, abs=1e-12)
    people = cohorts.cohort_people(records, 0.0, HORIZON, HORIZON)
    states = cohorts.states_of(records, people, HORIZON, result.policy_outputs)
    parents, _ = brought_back(records)
    assert len(parents) > 100
    offshore_state = cohorts.STATE_NAMES.index("relocated_offshore")
    back = np.isin(people, parents)
    # brought back: where their UK claim stands now, never still "relocated offshore"
    assert not np.any(states[back] == offshore_state)
    latest = cohorts.latest_records(records, people[back], HORIZON)
    assert np.all(records["origin"][latest] != Origin.NEW_CLAIM)
    assert np.array_equal(states[back], cohorts.classify(records, latest, HORIZON))
    # everyone else diverted is still relocated offshore
    diverted = records["dec_outcome"][people] == DecisionOutcome.DIVERTED
    assert np.all(states[diverted & ~back] == offshore_state)
    counts = table.set_index("state")["people"]
    assert counts["relocated_offshore"] == (diverted & ~back).sum()


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"grant_rate_there": 0.5}, "grant_rate_there"),
        ({"refused_removed_share": 0.2}, "refused_removed_share"),
        ({"decision_mean_days": 100}, "grant_rate_there"),
        (
            {
                "decision_mean_days": 100,
                "grant_rate_there": 0.5,
                "refused_removed_share": 0.8,
                "refused_move_on_share": 0.3,
            },
            "refused_move_on_share",
        ),
        ({"brought_back_share": 1.5}, "brought_back_share"),
    ],
)
def test_a_bad_config_names_the_field(changes, field):
    with pytest.raises(ScenarioError, match=f"policies.offshore.{field}"):
        tiny(policies={"offshore": dict(OFFSHORE, **changes)})


def test_people_who_leave_the_third_country_come_back_at_the_re_entry_share():
    """Everyone refused there is removed from there within days; the scenario's re-entry
    rule for exits from a policy's place abroad brings back half of them, a day later on
    average. A person relocated again after coming back leaves again, so only first exits
    (re-entries of the records relocated on arrival) are counted."""
    share = 0.5
    config = dict(
        decision_mean_days=10,
        grant_rate_there=0.0,
        refused_removed_share=1.0,
        refused_move_on_share=0.0,
        removal_there_mean_days=5,
    )
    rules = {"reentry_rules": [{"kinds": ["from_policy"], "share": share, "mean_delay_days": 1}]}
    result, output = offshore_run(years=1, scenario_changes={"after_refusal": rules}, **config)
    records = result.records
    removed = output.events["removed_from_third_country"]
    stay = output.stays["in_third_country"]
    first = records["origin"][stay.records] == Origin.NEW_CLAIM
    left_early = first & np.isin(stay.end, removed) & (stay.end < 365 - 30)
    reentered = records["origin"] == Origin.REENTRY
    came_back = np.isin(stay.records[left_early], records["parent"][reentered])
    n, k = int(left_early.sum()), int(came_back.sum())
    assert n > 200
    low, high = interval(k, n)
    assert low <= share <= high
    # switched off, nobody comes back
    off = {"reentry_rules": [{"kinds": ["from_policy"], "share": 0.0}]}
    quiet, _ = offshore_run(years=1, scenario_changes={"after_refusal": off}, **config)
    parents = quiet.records["parent"][quiet.records["origin"] == Origin.REENTRY]
    assert not np.any(quiet.records["dec_outcome"][parents] == DecisionOutcome.DIVERTED)


def test_a_halt_date_before_the_start_is_refused_by_name():
    with pytest.raises(ScenarioError, match=r"halt_date: must be on or after start_date"):
        tiny(policies={"offshore": dict(OFFSHORE, halt_date="2025-12-01")})
