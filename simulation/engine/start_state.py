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
- support: exactly ``supported_people`` are supported: ``are_supported_people`` ARE family
  members (families keep support), the rest drawn at random among people awaiting a decision
  or an appeal; a supported person drawn as an unaccompanied child (whom local authorities,
  not the Home Office, look after) is made an adult of the household mix instead. The other
  ARE people are single adults whose support has ended.
"""

from __future__ import annotations

import numpy as np

from ..core import schedules
from ..core.records import DRAWS, Origin
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


def build(scenario: Scenario, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Record columns for the three stocks, in the order awaiting, appeals, ARE."""
    state = scenario.initial_state
    n_wait, n_appeal, n_are = (
        state.awaiting_decision_people,
        state.appeals_pending_people,
        state.are_in_uk_people,
    )
    n = n_wait + n_appeal + n_are
    groups = list(scenario.nationality_groups.values())
    share = np.array([g.share for g in groups])
    grant = np.array([_at_start(g.grant_rate, scenario) for g in groups])
    allowed = np.array([_at_start(g.appeal_allowed_rate, scenario) for g in groups])
    lodged = _at_start(scenario.appeals.lodged_share, scenario)

    route_weight = np.array(
        [
            _at_start(getattr(scenario.arrivals, r).rate_per_month, scenario)
            * _at_start(getattr(scenario.arrivals, r).claim_share, scenario)
            for r in ROUTES
        ]
    )
    if route_weight.sum() == 0:
        route_weight = np.ones(len(ROUTES))
    route = categorical(rng, route_weight / route_weight.sum(), n)

    mixes = route_mixes(scenario)
    if mixes is None:  # one mix for every route
        rows = share
    else:  # some route has its own mix: each stock's mix by route (one row per route)
        rows = np.array([values[_period_at_start(times)] for times, values in mixes])
    stocks = (
        (n_wait, rows),
        (n_appeal, rows * (1 - grant) * lodged),
        (n_are, rows * (1 - grant) * (1 - lodged * allowed)),
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
    are = slice(n_wait + n_appeal, n)
    origin = np.empty(n, np.int8)
    origin[wait], origin[appeal], origin[are] = (
        Origin.STOCK_AWAITING,
        Origin.STOCK_APPEAL,
        Origin.STOCK_ARE,
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
    t_are = np.full(n, np.nan)
    t_are[are] = 0.0
    out["t_are"] = t_are

    # Support: families in the ARE stock keep it; the rest of the supported are in process.
    household, supported = out["household"], np.zeros(n, np.int8)
    household[are] = SINGLE_ADULT
    household[n_wait + n_appeal : n_wait + n_appeal + state.are_supported_people] = FAMILY_MEMBER
    supported[n_wait + n_appeal : n_wait + n_appeal + state.are_supported_people] = 1
    in_process = state.supported_people - state.are_supported_people
    chosen = rng.choice(n_wait + n_appeal, size=in_process, replace=False)
    supported[chosen] = 1
    # Local authorities look after unaccompanied children: a supported person is in a household.
    children = chosen[household[chosen] == UNACCOMPANIED_CHILD]
    adult_mix = np.array([scenario.households.single_adult, scenario.households.family_member])
    household[children] = np.where(
        rng.random(len(children)) * adult_mix.sum() < adult_mix[0], SINGLE_ADULT, FAMILY_MEMBER
    )
    out["supported"] = supported
    return out
