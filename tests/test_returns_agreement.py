"""The returns agreement: one group more returnable from a date, and fewer of its arrivals."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import ROOT, SHARED_DATA, tiny
from scipy import stats
from test_determinism import fingerprint

from simulation import Scenario, ScenarioError, run
from simulation.core.records import ExitOutcome, Origin
from simulation.core.vocabulary import ROUTE_CODES
from simulation.experiments.replications import run_one
from simulation.inputs import paths as scenario_paths
from simulation.inputs.policy_config import registered
from simulation.policies.returns_agreement import (
    ReturnsAgreement,
    ReturnsAgreementConfig,
    first_records,
)

AGREEMENT = {"start_date": "2026-05-01", "group": "low", "returnable_share": 1.0}
START = 120.0  # 2026-05-01, days after the tiny scenario's start
LOW = 1  # the tiny scenario's groups: high, low
NOBODY_RETURNABLE = {"low": {"returnable_share": 0.0}}


def with_agreement(years: float = 2, groups=None, **changes):
    policy = dict(AGREEMENT, **changes)
    return tiny(nationality_groups=groups or {}, policies={"returns_agreement": policy}).with_years(
        years
    )


def records_of(scenario, seed=1):
    return run_one(scenario, seed, keep_records=True)


def made_before_the_run(records):
    """Records present before the run (stock and new claims): the same people in every run
    with the same seed and arrivals, in the same order."""
    n = int(np.sum(records["origin"] <= Origin.NEW_CLAIM))
    return {name: values[:n] for name, values in records.items()}


# ------------------------------------------------------------------------ registration


def test_registered_under_its_name_with_its_hooks():
    assert registered()["returns_agreement"] is ReturnsAgreementConfig
    assert ReturnsAgreementConfig.runtime is ReturnsAgreement
    assert set(ReturnsAgreement.hooks()) == {
        "arrival_multiplier",
        "reentry_multiplier",
        "on_are",
        "start",
    }


# ------------------------------------------------------------------------ returnability


def test_group_removals_begin_on_the_start_date_and_not_before():
    """Nobody of the group is returnable without the agreement; with it (target share 1),
    their removals start on the date."""
    base = records_of(tiny(nationality_groups=NOBODY_RETURNABLE).with_years(2)).records
    assert not base["returnable"][base["group"] == LOW].any()
    result = records_of(with_agreement(groups=NOBODY_RETURNABLE))
    records = result.records
    removed = (records["exit_outcome"] == ExitOutcome.REMOVED) & (records["group"] == LOW)
    assert removed.sum() > 50
    assert records["t_exit"][removed].min() >= START
    summary = result.summary["policies"]["returns_agreement"]
    assert summary["group_removals"] == removed.sum() == summary["removals_unlocked"]
    # people waiting in the ARE stock on the date (the starting stock among them) get their
    # draw then; everyone of the group reaching ARE later is made returnable (share 1)
    assert summary["made_on_start_date"] > 20
    later = (records["group"] == LOW) & (records["t_are"] >= START)
    assert later.sum() > 200 and np.all(records["returnable"][later] == 1)


def test_the_group_reaches_the_target_share_and_other_groups_are_untouched():
    """Old share 0.4, target 0.7: p_up = (0.7 - 0.4) / (1 - 0.4) = 0.5 of the others."""
    groups = {"low": {"returnable_share": 0.4}}
    base = records_of(tiny(nationality_groups=groups).with_years(2), seed=3)
    result = records_of(with_agreement(groups=groups, returnable_share=0.7), seed=3)
    records = result.records
    first = (records["parent"] == -1) & (records["origin"] == Origin.NEW_CLAIM)
    reached = first & (records["group"] == LOW) & (records["t_are"] >= START)
    n, k = int(reached.sum()), int(records["returnable"][reached].sum())
    low, high = stats.binom.interval(0.999, n, 0.7)
    assert n > 1000 and low <= k <= high, (k, n)
    # returnability only rises, and only for the group
    before, after = made_before_the_run(base.records), made_before_the_run(records)
    other = after["group"] != LOW
    assert np.array_equal(before["returnable"][other], after["returnable"][other])
    assert np.all(after["returnable"] >= before["returnable"])


def test_a_person_is_drawn_once_and_later_claims_keep_the_draw():
    records = records_of(
        with_agreement(groups={"low": {"returnable_share": 0.0}}, returnable_share=0.5), seed=5
    ).records
    first = first_records(records["parent"])
    decided_first = (records["group"][first] == LOW) & (records["t_are"][first] >= START)
    later = (records["parent"] >= 0) & decided_first & np.isfinite(records["t_are"])
    assert later.sum() >= 10
    assert np.array_equal(records["returnable"][later], records["returnable"][first[later]])


def test_an_agreement_that_changes_nothing_leaves_every_person_unchanged(tiny_scenario):
    neutral = tiny(policies={"returns_agreement": dict(AGREEMENT, returnable_share=0.8)})
    a, b = run_one(tiny_scenario, 4, keep_records=True), run_one(neutral, 4, keep_records=True)
    for column in ("t_dec_end", "t_app_end", "t_exit", "exit_outcome", "returnable"):
        assert np.array_equal(a.records[column], b.records[column], equal_nan=True)
    assert b.summary["policies"]["returns_agreement"]["made_returnable"] == 0


def test_a_disabled_agreement_is_bit_identical_to_none(tiny_scenario):
    disabled = {"returns_agreement": dict(AGREEMENT, deterred_share=0.8, enabled=False)}
    assert fingerprint(run(tiny(policies=disabled), seed=9)) == fingerprint(
        run(tiny_scenario, seed=9)
    )


# ------------------------------------------------------------------------ arrivals


def test_the_group_arrivals_fall_by_the_factor_on_its_routes_only():
    """Thinning is paired: of the baseline's claimants of the group on a covered route after
    the date, each still comes with probability ``1 - deterred_share``, so the count is
    binomial."""
    share = 0.3
    base = records_of(tiny().with_years(2), seed=3).records
    result = records_of(
        with_agreement(deterred_share=share, deterrence_routes=["small_boat"]), seed=3
    )

    def claims(records):
        new = records["origin"] == Origin.NEW_CLAIM
        covered = (records["group"] == LOW) & (records["route"] == ROUTE_CODES["small_boat"])
        covered &= records["t_claim"] >= START
        return records["t_claim"][new & covered], records["t_claim"][new & ~covered]

    base_covered, base_other = claims(base)
    covered, other = claims(result.records)
    assert np.array_equal(other, base_other)  # other groups, routes and times untouched
    assert np.all(np.isin(covered, base_covered))  # the same people, fewer of them
    low, high = stats.binom.interval(0.999, len(base_covered), 1 - share)
    assert len(base_covered) > 1000 and low <= len(covered) <= high
    assert (
        result.summary["arrivals"]["in_country"]
        == run_one(tiny().with_years(2), 3).summary["arrivals"]["in_country"]
    )


# ------------------------------------------------------------------------ costs


def test_each_removal_of_the_group_from_the_date_costs_the_payment():
    paid = with_agreement(groups=NOBODY_RETURNABLE, cost_per_removal_gbp=1000)
    summary = run_one(paid, 2).summary
    removals = summary["policies"]["returns_agreement"]["group_removals"]
    assert removals > 50 and removals < summary["removals_enforced"]
    assert summary["cost_by_category_gbp"]["returns_agreement"] == pytest.approx(1000 * removals)
    free = run_one(with_agreement(groups=NOBODY_RETURNABLE), 2).summary
    assert "returns_agreement" not in free["cost_by_category_gbp"]


# ------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"group": "albania"}, "policies.returns_agreement.group", "unknown nationality group"),
        ({"returnable_share": 0.5}, "policies.returns_agreement.returnable_share", "at least"),
        ({"returnable_share": 1.2}, "policies.returns_agreement.returnable_share", "1"),
        ({"deterred_share": 1.5}, "policies.returns_agreement.deterred_share", "1"),
        ({"deterrence": 0.5}, "policies.returns_agreement.deterrence", "deterred_share"),
    ],
)
def test_bad_config_is_rejected_naming_the_field(change, path, fragment):
    with pytest.raises(ScenarioError) as excinfo:
        tiny(policies={"returns_agreement": dict(AGREEMENT, **change)})
    ((where, message),) = excinfo.value.problems
    assert where == path and fragment in message


def test_an_unknown_group_names_the_groups_there_are():
    with pytest.raises(ScenarioError) as excinfo:
        tiny(policies={"returns_agreement": dict(AGREEMENT, group="albania")})
    ((_, message),) = excinfo.value.problems
    assert "'albania'" in message and "high, low" in message


# ------------------------------------------------------------------------ the shipped scenario


def test_the_shipped_scenario_is_valid_and_every_policy_number_is_sourced():
    scenario = Scenario.from_yaml(ROOT / "scenarios" / "returns_agreement.yaml")
    config = scenario.policies["returns_agreement"]
    assert config.group in scenario.nationality_groups
    data = {"policies": {"returns_agreement": config.model_dump(exclude={"enabled"})}}
    unsourced = [
        path
        for path, _value in scenario_paths.leaves(data)
        if not scenario_paths.covers(path, scenario.sources)
    ]
    assert unsourced == []


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared UK figures not beside the repo")
def test_the_shipped_deterrence_is_albanias_published_fall():
    scenario = Scenario.from_yaml(ROOT / "scenarios" / "returns_agreement.yaml")
    with SHARED_DATA.open(newline="", encoding="utf-8") as handle:
        figures = {row["key"]: row["value"] for row in csv.DictReader(handle)}
    cited = {s.data_key for p, s in scenario.sources.items() if p.startswith("policies.")}
    assert cited - {None} <= set(figures)
    source = scenario.sources["policies.returns_agreement.deterred_share"]
    fall = float(figures[source.data_key])  # a change: -0.95
    assert scenario.policies["returns_agreement"].deterred_share == pytest.approx(-fall)
