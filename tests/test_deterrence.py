"""One meaning of deterrence in every policy: ``deterred_share``, the share of would-be
crossings on the policy's routes that do not happen, new arrivals and re-entrants alike.

Statistical checks use fixed seeds and 99.9% binomial intervals (scipy.stats).
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import tiny, tiny_dict
from scipy import stats
from test_determinism import fingerprint
from test_policies import HUBS, OFFSHORE

from simulation import ScenarioError, run
from simulation.cli import main
from simulation.core.errors import InputError
from simulation.core.records import ExitOutcome, Origin
from simulation.core.vocabulary import ROUTE_CODES
from simulation.experiments.comparison import break_even, decompose, deterrence_parameter
from simulation.experiments.replications import run_one
from simulation.policies.contract import Policy
from simulation.policies.offshore import Offshore
from simulation.policies.return_hubs import ReturnHubs
from simulation.policies.returns_agreement import ReturnsAgreement

#: offshore processing that relocates nobody: only its deterrence acts
DETERRING = dict(OFFSHORE, relocation_share=0.0)
AGREEMENT = {"start_date": "2026-03-01", "group": "low", "returnable_share": 0.9}
POLICIES = {
    "offshore": (Offshore, DETERRING),
    "return_hubs": (ReturnHubs, HUBS),
    "returns_agreement": (ReturnsAgreement, AGREEMENT),
}
SMALL_BOAT = ROUTE_CODES["small_boat"]
#: quick returns through the revolving door, so that most come back within the run
QUICK = {
    "reentry_share": 0.6,
    "reentry_mean_delay_days": 1.0,
    "enforced_removals_per_month": 30,
    "voluntary_departure_rate_per_year": 1.5,
}


def within(k: int, n: int, p: float) -> bool:
    low, high = stats.binomtest(k, n).proportion_ci(0.999)
    return low <= p <= high


# ------------------------------------------------------------------------ no effect at zero


@pytest.mark.parametrize("name", list(POLICIES))
def test_a_deterred_share_of_zero_is_bit_identical_to_no_deterrence(name, monkeypatch):
    runtime, config = POLICIES[name]
    scenario = tiny(policies={name: dict(config, deterred_share=0.0)}).with_years(2)
    deterring = fingerprint(run(scenario, seed=4))
    # the same policy without its deterrence hooks at all
    monkeypatch.setattr(runtime, "arrival_multiplier", Policy.arrival_multiplier)
    monkeypatch.setattr(runtime, "reentry_multiplier", Policy.reentry_multiplier)
    assert "reentry_multiplier" not in runtime.hooks()
    assert fingerprint(run(scenario, seed=4)) == deterring


def test_the_default_is_no_deterrence():
    scenario = tiny(policies={name: config for name, (_, config) in POLICIES.items()})
    assert [p.deterred_share for p in scenario.policies.values()] == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------------ new arrivals


def claims_by_route(result, start: float) -> dict[int, int]:
    records = result.records
    new = (records["origin"] == Origin.NEW_CLAIM) & (records["t_claim"] >= start)
    return {code: int((new & (records["route"] == code)).sum()) for code in ROUTE_CODES.values()}


@pytest.mark.parametrize("share", [0.37, 0.8])
def test_eligible_arrivals_are_thinned_to_one_minus_the_share(share):
    base = tiny(policies={"offshore": DETERRING}).with_years(2)
    deterred = tiny(policies={"offshore": dict(DETERRING, deterred_share=share)}).with_years(2)
    first = 31 + DETERRING["legal_delay_days"]  # 2026-02-01 plus the legal delay
    before = claims_by_route(run_one(base, 3, keep_records=True), first)
    after = claims_by_route(run_one(deterred, 3, keep_records=True), first)
    n, k = before[SMALL_BOAT], after[SMALL_BOAT]
    assert n > 1500
    assert k <= n  # thinned from the same stream: the people who come came anyway
    assert within(k, n, 1 - share), (k, n)
    for code in ROUTE_CODES.values():
        if code != SMALL_BOAT:
            assert after[code] == before[code]  # other routes untouched


# ------------------------------------------------------------------------ re-entrants


def came_back(result, route: int, since: float, until: float) -> tuple[int, int]:
    """(people on ``route`` who left the UK, removed or departing, between ``since`` and
    ``until``; how many of them came back)."""
    records = result.records
    left = np.isin(records["exit_outcome"], [ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY])
    left &= (records["t_exit"] >= since) & (records["t_exit"] < until)
    left &= records["route"] == route
    back = np.isin(np.flatnonzero(left), records["parent"][records["origin"] == Origin.REENTRY])
    return int(left.sum()), int(back.sum())


def reentry_run(share: float, seed: int = 5, start: str = "2026-02-01", **stock):
    offshore = dict(DETERRING, deterred_share=share, start_date=start)
    scenario = tiny(
        after_refusal=QUICK, initial_state=stock, policies={"offshore": offshore}
    ).with_years(3)
    return scenario, run_one(scenario, seed, keep_records=True)


@pytest.mark.parametrize("share", [0.4, 1.0])
def test_reentrants_on_eligible_routes_are_deterred_at_the_share(share):
    scenario, result = reentry_run(share)
    first = 31 + DETERRING["legal_delay_days"]
    until = scenario.horizon_days - 30  # long enough before the end to have come back
    n, k = came_back(result, SMALL_BOAT, first, until)
    assert n > 100  # fewer at 1.0: no new small-boat arrivals then
    if share == 1.0:
        assert k == 0
    else:
        assert within(k, n, QUICK["reentry_share"] * (1 - share)), (k, n)
    for route in ("other_irregular", "in_country"):  # not eligible: not deterred
        n, k = came_back(result, ROUTE_CODES[route], first, until)
        assert n > 100
        assert within(k, n, QUICK["reentry_share"]), (route, k, n)


@pytest.mark.parametrize("name", ["return_hubs", "returns_agreement"])
def test_every_deterring_policy_deters_its_reentrants(name):
    _runtime, config = POLICIES[name]
    config = dict(config, deterred_share=1.0, deterrence_routes=["small_boat"])
    scenario = tiny(after_refusal=QUICK, policies={name: config}).with_years(3)
    result = run_one(scenario, 5, keep_records=True)
    start = 59  # 2026-03-01
    until = scenario.horizon_days - 30
    low = list(scenario.nationality_groups).index("low")
    records = result.records
    covered_leavers = 0
    for route in ROUTE_CODES.values():
        for group in (0, 1):
            left = np.isin(records["exit_outcome"], [ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY])
            left &= (records["t_exit"] >= start) & (records["t_exit"] < until)
            left &= (records["route"] == route) & (records["group"] == group)
            reentrants = records["parent"][records["origin"] == Origin.REENTRY]
            n, k = int(left.sum()), int(np.isin(np.flatnonzero(left), reentrants).sum())
            covered = route == SMALL_BOAT and (name == "return_hubs" or group == low)
            if covered:
                covered_leavers += n
                assert k == 0, (route, group, n)
            elif n >= 30:
                assert within(k, n, QUICK["reentry_share"]), (route, group, k, n)
    assert covered_leavers > 100


def test_deterrence_applies_when_a_reentrant_would_come_back_not_when_they_left():
    slow = dict(QUICK, reentry_mean_delay_days=150.0)
    offshore = dict(DETERRING, deterred_share=1.0, start_date="2026-07-01")
    scenario = tiny(after_refusal=slow, policies={"offshore": offshore}).with_years(3)
    records = run_one(scenario, 5, keep_records=True).records
    first = 181 + DETERRING["legal_delay_days"]
    left = np.isin(records["exit_outcome"], [ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY])
    left &= (records["route"] == SMALL_BOAT) & (records["t_exit"] < first)
    would = records["t_exit"] + records["e_reentry"] * slow["reentry_mean_delay_days"]
    reentrants = records["parent"][records["origin"] == Origin.REENTRY]
    back = np.isin(np.arange(len(left)), reentrants)
    # left before the policy, would come back after it: deterred (every one, at share 1)
    late = left & (would >= first) & (would < scenario.horizon_days)
    assert late.sum() > 30 and not back[late].any()
    # left and came back before it: not deterred
    early = left & (would < first)
    n, k = int(early.sum()), int(back[early].sum())
    assert n > 30 and within(k, n, QUICK["reentry_share"]), (k, n)


def test_break_even_varies_the_policy_the_scenario_adds():
    agreement = tiny(policies={"returns_agreement": AGREEMENT})
    both = tiny(policies={"offshore": DETERRING, "returns_agreement": AGREEMENT})
    assert deterrence_parameter(agreement, both) == "policies.offshore.deterred_share"
    off = tiny(
        policies={"offshore": dict(DETERRING, enabled=False), "returns_agreement": AGREEMENT}
    )
    assert deterrence_parameter(off, both) == "policies.offshore.deterred_share"


def test_people_leaving_from_the_starting_stock_are_deterred_too():
    scenario, result = reentry_run(0.5, seed=6, are_in_uk_people=3000)
    records = result.records
    stock = records["origin"] == Origin.STOCK_ARE
    left = stock & (records["exit_outcome"] == ExitOutcome.VOLUNTARY)
    left &= records["route"] == SMALL_BOAT
    left &= (records["t_exit"] >= 31 + DETERRING["legal_delay_days"]) & (
        records["t_exit"] < scenario.horizon_days - 30
    )
    back = np.isin(np.flatnonzero(left), records["parent"][records["origin"] == Origin.REENTRY])
    n, k = int(left.sum()), int(back.sum())
    assert n > 200
    assert within(k, n, QUICK["reentry_share"] * 0.5), (k, n)


def test_reentrants_are_not_deterred_before_the_policy_applies():
    scenario, result = reentry_run(1.0, start="2026-07-01")
    # people who left before the policy came back before it applies (1 day on average)
    first = 181 + DETERRING["legal_delay_days"]
    n, k = came_back(result, SMALL_BOAT, 0.0, first - 20)
    assert n > 60
    assert within(k, n, QUICK["reentry_share"]), (k, n)
    n, k = came_back(result, SMALL_BOAT, first, scenario.horizon_days)
    assert n > 60 and k == 0


# ------------------------------------------------------------------------ the old name


@pytest.mark.parametrize("name", list(POLICIES))
def test_the_old_name_is_rejected_saying_what_replaced_it(name):
    _runtime, config = POLICIES[name]
    with pytest.raises(ScenarioError) as error:
        tiny(policies={name: dict(config, deterrence=0.7)})
    text = str(error.value)
    assert f"policies.{name}.deterrence" in text
    assert "deterrence was replaced by deterred_share = 1 - deterrence" in text


def test_break_even_refuses_the_old_name(tiny_scenario):
    policy = tiny(policies={"offshore": DETERRING})
    with pytest.raises(InputError, match="replaced by deterred_share = 1 - deterrence"):
        break_even(tiny_scenario, policy, parameter="policies.offshore.deterrence", low=0, high=1)


# ------------------------------------------------------------------------ break-even


def test_break_even_reports_the_share_of_eligible_crossings_deterred(tiny_scenario):
    policy = tiny(policies={"offshore": DETERRING})
    found = break_even(tiny_scenario, policy, metric="total_cost_gbp", replications=3, seed=2)
    assert found.parameter == "policies.offshore.deterred_share"
    assert (found.low, found.high) == (0.0, 1.0)  # no range declared: every share
    assert 0.0 < found.value < 1.0
    text = str(found)
    assert text.startswith(f"{found.value:.1%} of eligible crossings must be deterred")
    # more deterrence, lower cost: just above the break-even share the policy is cheaper
    cheaper = policy.with_overrides({"policies.offshore.deterred_share": found.value + 0.05})
    dearer = policy.with_overrides({"policies.offshore.deterred_share": found.value - 0.05})
    cost = [run_one(s, 2, 0).summary["total_cost_gbp"] for s in (tiny_scenario, cheaper, dearer)]
    assert cost[1] < cost[0] < cost[2]


def test_break_even_asks_for_the_parameter_when_two_policies_deter(tiny_scenario):
    both = tiny(policies={"offshore": DETERRING, "returns_agreement": AGREEMENT})
    with pytest.raises(InputError, match=r"adds 2 \(offshore, returns_agreement\)") as error:
        break_even(tiny_scenario, both, replications=2)
    assert "--" not in str(error.value)  # the library names no command-line flag


def test_the_command_prints_the_share_of_eligible_crossings(tmp_path, capsys):
    base, policy = tmp_path / "base.yaml", tmp_path / "offshore.yaml"
    base.write_text(yaml.safe_dump(tiny_dict()))
    policy.write_text(yaml.safe_dump({"extends": "base.yaml", "policies": {"offshore": DETERRING}}))
    code = main(
        ["break-even", str(base), str(policy), "--metric", "total_cost_gbp"]
        + ["--parameter", "policies.offshore.deterred_share"]
        + ["--replications", "2", "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "of eligible crossings must be deterred" in out
    assert "policies.offshore.deterred_share" in out


def test_at_break_even_the_policy_costs_what_it_saves(tiny_scenario):
    """The decomposition at the crossing: in each replication the policy's own costs less the
    core costs it avoids is exactly the difference in total cost, which changes sign across
    the crossing; claims are avoided and the people relocated are counted."""
    relocating = tiny(policies={"offshore": dict(DETERRING, relocation_share=0.2)})
    found = break_even(
        tiny_scenario, relocating, metric="total_cost_gbp", replications=3, seed=2, xtol=1e-6
    )
    parts = found.decomposition
    assert parts is not None and not parts.discounted
    assert parts.policy_costs_gbp > 0 and parts.claims_avoided > 0
    relocated = []
    for replication, root in enumerate(found.per_replication):
        reference = run_one(tiny_scenario, 2, replication)

        def at(share, replication=replication):
            return run_one(relocating.with_overrides({found.parameter: share}), 2, replication)

        result = at(root)
        one = decompose(reference, result, discounted=False)
        total = result.summary["total_cost_gbp"] - reference.summary["total_cost_gbp"]
        assert one["policy_costs_gbp"] - one["core_costs_avoided_gbp"] == pytest.approx(total)
        below, above = (
            at(share).summary["total_cost_gbp"] - reference.summary["total_cost_gbp"]
            for share in (root - 1e-4, root + 1e-4)
        )
        assert below > 0 > above  # dearer with less deterrence, cheaper with more
        relocated.append(result.summary["policies"]["offshore"]["relocations"])
    assert parts.people_moved == pytest.approx(np.mean(relocated)) and parts.people_moved > 0
    assert "UK costs avoided" in str(found)
