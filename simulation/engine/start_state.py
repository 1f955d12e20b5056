"""The stocks on the start date, as records.

Three stocks: people awaiting an initial decision, people with an appeal pending, and people
whose appeal rights are exhausted (ARE) still in the UK. What the published figures do not say
about them is filled in by stated assumptions:

- claim dates of people awaiting a decision: the published number waiting over 12 months claimed
  uniformly between ``awaiting_oldest_claim_days`` and 365 days ago, the rest uniformly in the
  last year; appeals were lodged uniformly over the last ``appeals_oldest_lodged_days``;
- nationality groups: each stock has the mix that flows into it at the start date: awaiting as
  claimants, appeals weighted by refusal and lodging, ARE by final refusal (by route, when a
  route has its own mix, ``arrivals.<route>.group_shares``);
- support: exactly ``supported_people`` are supported, and the published count includes
  people in the two phases in which support runs out: granted people in their move-on period
  and single adults in the days after their appeal rights were exhausted. Their numbers are
  the flows of the start date times the length of each phase (:func:`support_phases`): the
  capacity of caseworkers and judges, their grant and allowance rates, and the share of people
  supported. The move-on people are records of their own (``Origin.STOCK_MOVE_ON``), granted
  uniformly over the last ``support.move_on_days``; the refused single adults are part of the
  ARE stock, with appeal rights exhausted uniformly over the last
  ``support.support_end_days_after_refusal``, and part of ``are_supported_people`` (the rest
  of whom are families, who keep support). The rest of the supported are drawn at random among
  people awaiting a decision or an appeal; a supported person drawn as an unaccompanied child
  (whom local authorities, not the Home Office, look after) is made an adult of the household
  mix instead. The other ARE people are single adults whose support has ended. Without the two
  phases, everyone supported would be awaiting a decision or an appeal on the start date, and
  the supported population would jump by the size of the phases in the first month, as nobody
  would leave support at the end of them until they had filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import schedules
from ..core.records import DRAWS, DecisionOutcome, Origin
from ..core.units import DAYS_PER_MONTH
from ..core.vocabulary import FAMILY_MEMBER, ROUTES, SINGLE_ADULT, UNACCOMPANIED_CHILD
from ..inputs.scenario import Scenario
from .arrivals import categorical, draw_attributes, route_mixes
from .population import draw_block


def _at_start(value: schedules.ScheduleValue, scenario: Scenario) -> float:
    return float(schedules.value_at(value, scenario.start_date, 0.0))


def _period_at_start(times: np.ndarray) -> int:
    return max(int(np.searchsorted(times, 0.0, side="right")) - 1, 0)


def _normalised(mix: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``mix`` scaled to sum to 1 (each row, for one mix per route); ``fallback`` where a
    mix is all zero."""
    total = mix.sum(axis=-1, keepdims=True)
    return np.where(total > 0, mix / np.where(total > 0, total, 1.0), fallback)


def _route_weight(scenario: Scenario) -> np.ndarray:
    """Claims by route at the start date, the weights of each stock's routes."""
    weight = np.array(
        [
            _at_start(getattr(scenario.arrivals, r).rate_per_month, scenario)
            * _at_start(getattr(scenario.arrivals, r).claim_share, scenario)
            for r in ROUTES
        ]
    )
    return weight if weight.sum() > 0 else np.ones(len(ROUTES))


def _claimant_mix(scenario: Scenario) -> np.ndarray:
    """The nationality mix of claimants at the start date: one row, or one row per route
    when some route has its own mix."""
    mixes = route_mixes(scenario)
    if mixes is None:
        return np.array([g.share for g in scenario.nationality_groups.values()])
    return np.array([values[_period_at_start(times)] for times, values in mixes])


@dataclass(frozen=True)
class SupportPhases:
    """How the supported people of the start date are split (people)."""

    supported: int  # initial_state.supported_people
    in_process: int  # awaiting a decision or an appeal
    move_on: int  # granted, in the move-on period
    after_refusal: int  # single adults, appeal rights exhausted within the grace period
    are_families: int  # families with appeal rights exhausted, who keep support


def support_phases(scenario: Scenario) -> SupportPhases:
    """The people in each phase of support on the start date.

    The two phases in which support runs out hold what flows into them in their length of
    time: people granted (at initial decision, at the caseworkers' capacity, and on appeal, at
    the judges' capacity) who are supported, for ``support.move_on_days``; and supported
    single adults refused for good (appeals dismissed, refusals not appealed) for
    ``support.support_end_days_after_refusal``. The supported share of people in process
    then follows from the published total; the refused single adults come out of
    ``are_supported_people``, which counts everyone with appeal rights exhausted supported.
    """
    state = scenario.initial_state
    groups = list(scenario.nationality_groups.values())
    grant = np.array([_at_start(g.grant_rate, scenario) for g in groups])
    allowed = np.array([_at_start(g.appeal_allowed_rate, scenario) for g in groups])
    lodged = _at_start(scenario.appeals.lodged_share, scenario)
    mix = _claimant_mix(scenario)
    if mix.ndim == 2:  # one row per route: the mix of all claims
        weight = _route_weight(scenario)
        mix = weight @ mix / weight.sum()
    mix = mix / mix.sum() if mix.sum() > 0 else np.full(len(groups), 1 / len(groups))
    appeal_mix = mix * (1 - grant) * lodged
    ppc = scenario.people_per_case
    decided = (  # people a day
        _at_start(scenario.decisions.caseworkers_fte, scenario)
        * _at_start(scenario.decisions.decisions_per_fte_per_month, scenario)
        * ppc
        / DAYS_PER_MONTH
    )
    determined = (
        _at_start(scenario.appeals.judges_fte, scenario)
        * _at_start(scenario.appeals.determinations_per_judge_per_day, scenario)
        * ppc
    )
    if state.awaiting_decision_people == 0:
        decided = 0.0
    if state.appeals_pending_people == 0:
        determined = 0.0
    granted_share = float(mix @ grant)
    allowed_share = float(appeal_mix @ allowed / appeal_mix.sum()) if appeal_mix.sum() else 0.0
    granted = decided * granted_share + determined * allowed_share
    refused = decided * (1 - granted_share) * (1 - lodged) + determined * (1 - allowed_share)
    households = scenario.households
    adults = households.single_adult + households.family_member
    single = households.single_adult / adults if adults > 0 else 0.0

    n_process = state.awaiting_decision_people + state.appeals_pending_people
    in_stages = state.supported_people - state.are_supported_people  # in process or move-on
    move_on_days = scenario.support.move_on_days
    # in_process = share x n_process and move_on = share x granted x move_on_days
    share = in_stages / (n_process + granted * move_on_days) if in_stages > 0 else 0.0
    move_on = min(int(round(share * granted * move_on_days)), in_stages)
    grace = scenario.support.support_end_days_after_refusal
    after_refusal = int(round(share * refused * single * grace))
    after_refusal = min(after_refusal, state.are_supported_people)
    return SupportPhases(
        supported=state.supported_people,
        in_process=in_stages - move_on,
        move_on=move_on,
        after_refusal=after_refusal,
        are_families=state.are_supported_people - after_refusal,
    )


def build(scenario: Scenario, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Record columns for the stocks, in the order awaiting, appeals, ARE, move-on."""
    state = scenario.initial_state
    phases = support_phases(scenario)
    n_wait, n_appeal, n_are, n_move_on = (
        state.awaiting_decision_people,
        state.appeals_pending_people,
        state.are_in_uk_people,
        phases.move_on,
    )
    n = n_wait + n_appeal + n_are + n_move_on
    groups = list(scenario.nationality_groups.values())
    grant = np.array([_at_start(g.grant_rate, scenario) for g in groups])
    allowed = np.array([_at_start(g.appeal_allowed_rate, scenario) for g in groups])
    lodged = _at_start(scenario.appeals.lodged_share, scenario)

    route_weight = _route_weight(scenario)
    route = categorical(rng, route_weight / route_weight.sum(), n)

    rows = _claimant_mix(scenario)
    stocks = (
        (n_wait, rows),
        (n_appeal, rows * (1 - grant) * lodged),
        (n_are, rows * (1 - grant) * (1 - lodged * allowed)),
        (n_move_on, rows * grant),
    )
    parts = [(count, _normalised(mix, rows)) for count, mix in stocks]
    columns: dict[str, list[np.ndarray]] = {}
    start = 0
    for count, mix in parts:
        attributes = draw_attributes(scenario, rng, route[start : start + count], mix)
        for name, values in attributes.items():
            columns.setdefault(name, []).append(values)
        start += count
    out = {name: np.concatenate(values) for name, values in columns.items()}
    out.update(draw_block({purpose: rng for purpose in DRAWS}, n))

    wait = slice(0, n_wait)
    appeal = slice(n_wait, n_wait + n_appeal)
    are = slice(n_wait + n_appeal, n - n_move_on)
    move_on = slice(n - n_move_on, n)
    origin = np.empty(n, np.int8)
    origin[wait], origin[appeal], origin[are], origin[move_on] = (
        Origin.STOCK_AWAITING,
        Origin.STOCK_APPEAL,
        Origin.STOCK_ARE,
        Origin.STOCK_MOVE_ON,
    )
    out["origin"] = origin

    old = state.awaiting_over_12_months_people
    claimed = np.concatenate(
        [
            -365 - rng.random(old) * (state.awaiting_oldest_claim_days - 365),
            -rng.random(n_wait - old) * min(365.0, state.awaiting_oldest_claim_days),
        ]
    )
    t_claim = np.full(n, np.nan)
    t_claim[wait] = np.sort(claimed)
    out["t_claim"] = t_claim
    t_app_start = np.full(n, np.nan)
    t_app_start[appeal] = np.sort(-rng.random(n_appeal) * state.appeals_oldest_lodged_days)
    out["t_app_start"] = t_app_start
    # ARE: families first (they keep support), then single adults refused for good within
    # the grace period (supported until it ends), then single adults whose support has ended
    first_are = n_wait + n_appeal
    families = slice(first_are, first_are + phases.are_families)
    grace = slice(families.stop, families.stop + phases.after_refusal)
    t_are = np.full(n, np.nan)
    t_are[are] = 0.0
    t_are[grace] = -rng.random(phases.after_refusal) * (
        scenario.support.support_end_days_after_refusal
    )
    out["t_are"] = t_are
    # move-on: granted over the move-on period before the start (the claim date is not
    # modelled: recorded as the day of the grant)
    t_granted = -rng.random(n_move_on) * scenario.support.move_on_days
    t_dec_end = np.full(n, np.nan)
    t_dec_end[move_on] = t_granted
    t_claim[move_on] = t_granted
    out["t_dec_end"] = t_dec_end
    dec_outcome = np.zeros(n, np.int8)
    dec_outcome[move_on] = DecisionOutcome.GRANTED
    out["dec_outcome"] = dec_outcome

    # Support: everyone in the two phases, ARE families, and people in process at random.
    household, supported = out["household"], np.zeros(n, np.int8)
    household[are] = SINGLE_ADULT
    household[families] = FAMILY_MEMBER
    supported[families] = 1
    supported[grace] = 1
    supported[move_on] = 1
    chosen = rng.choice(n_wait + n_appeal, size=phases.in_process, replace=False)
    supported[chosen] = 1
    # Local authorities look after unaccompanied children: a supported person is in a household.
    chosen = np.concatenate([chosen, np.arange(n - n_move_on, n)])
    children = chosen[household[chosen] == UNACCOMPANIED_CHILD]
    adult_mix = np.array([scenario.households.single_adult, scenario.households.family_member])
    household[children] = np.where(
        rng.random(len(children)) * adult_mix.sum() < adult_mix[0], SINGLE_ADULT, FAMILY_MEMBER
    )
    out["supported"] = supported
    return out
