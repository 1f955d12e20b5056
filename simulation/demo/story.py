"""The headline numbers of a run beside its baseline, and what happened in plain words.

While the run goes on the numbers are those of the date reached (the baseline read on the
same date); once it has finished they are the run's summary, the same numbers as ``run()``
gives for the same scenario and seed. The sentences compare the two and, where the numbers
show one, say why: a hub that moved thousands but barely touched the hotels, a scheme the
courts halted, an offshore scheme capped by its capacity, a payment and what each extra
return cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from ..inputs.scenario import Scenario
from ..outputs.plotting.axes import money_scale


@dataclass(frozen=True)
class Row:
    """One headline number of both sides."""

    key: str  #: the summary key (``run().summary[key]``)
    label: str
    unit: str  #: people or gbp
    policy: float
    baseline: float | None


#: (summary key, series it is read from while running, label, unit)
HEADLINES = (
    ("final_hotel_population", "in_hotel", "In hotels at the end", "people"),
    ("final_backlog_initial", "awaiting_decision", "Awaiting a decision at the end", "people"),
    ("final_backlog_appeals", "appeals_pending", "Appeals pending at the end", "people"),
    ("total_cost_gbp", "cumulative_cost_gbp", "Spending over the run", "gbp"),
    ("removals_enforced", "cumulative_removals_enforced", "Enforced removals", "people"),
    ("returns_voluntary", "cumulative_returns_voluntary", "Voluntary returns", "people"),
)
#: (policy, its summary key, series, label) of the policies' own counts
POLICY_HEADLINES = (
    ("return_hubs", "transfers", "cumulative_hub_transfers", "Moved to return hubs"),
    ("offshore", "relocations", "cumulative_relocations", "Relocated offshore"),
)


def _last(wide: pd.DataFrame | None, metric: str, until: Any = None) -> float | None:
    if wide is None or metric not in wide or wide.empty:
        return None
    column = wide[metric]
    if until is not None:
        column = column[column.index <= pd.Timestamp(until)]
    return float(column.iloc[-1]) if len(column) else None


def _summary(result: Any, key: str, policy: str | None = None) -> float | None:
    if result is None:
        return None
    summary = result.summary
    if policy is not None:
        summary = summary.get("policies", {}).get(policy, {})
    value = summary.get(key)
    return None if value is None else float(value)


def rows(
    scenario: Scenario,
    policy_wide: pd.DataFrame,
    policy_result: Any,
    baseline_wide: pd.DataFrame | None,
    baseline_result: Any,
) -> list[Row]:
    """The headline numbers: each side's summary once both have finished, else the values on
    the date both have reached."""
    done = policy_result is not None and (baseline_wide is None or baseline_result is not None)
    until = None
    if not done and not policy_wide.empty:
        until = policy_wide.index[-1]
        if baseline_wide is not None and not baseline_wide.empty:
            until = min(until, baseline_wide.index[-1])
    found = []
    for key, metric, label, unit in HEADLINES:
        if done:
            mine, theirs = _summary(policy_result, key), _summary(baseline_result, key)
        else:
            mine, theirs = _last(policy_wide, metric, until), _last(baseline_wide, metric, until)
        if mine is not None:
            found.append(Row(key, label, unit, mine, theirs))
    for name, key, metric, label in POLICY_HEADLINES:
        if name in scenario.policies and scenario.policies[name].enabled:
            mine = _summary(policy_result, key, name) if done else _last(policy_wide, metric, until)
            if mine is not None:
                found.append(Row(f"policies.{name}.{key}", label, "people", mine, None))
    return found


def people(value: float) -> str:
    return f"{value:,.0f}"


def money(value: float) -> str:
    scale, suffix, _words = money_scale([value])
    digits = 2 if suffix == "bn" else 0
    return f"{'-' if value < 0 else ''}£{abs(value) / scale:,.{digits}f}{suffix}"


def shown(row_value: float, unit: str) -> str:
    return money(row_value) if unit == "gbp" else people(row_value)


def _change(diff: float, unit: str, more: str, fewer: str) -> str:
    if round(diff) == 0:
        return "no change"
    amount = money(abs(diff)) if unit == "gbp" else people(abs(diff))
    return f"{amount} {more if diff > 0 else fewer}"


def sentences(
    scenario: Scenario,
    found: list[Row],
    policy_result: Any,
    baseline_result: Any,
    reached: date | None,
    finished: bool,
) -> list[str]:
    """What happened, in a few plain sentences."""
    by_key = {row.key: row for row in found}
    said: list[str] = []
    if not any(row.baseline is not None for row in found):
        return _alone(by_key, reached, finished)
    when = "by the end" if finished else f"so far (to {reached:%d %B %Y})" if reached else ""

    def diff(key: str) -> float | None:
        row = by_key.get(key)
        if row is None or row.baseline is None:
            return None
        return row.policy - row.baseline

    hotel = diff("final_hotel_population")
    if hotel is not None:
        said.append(
            f"Hotels: {_change(hotel, 'people', 'more', 'fewer')} people in hotels {when} than "
            f"in the baseline ({people(by_key['final_hotel_population'].policy)} against "
            f"{people(by_key['final_hotel_population'].baseline)})."
        )
    decisions, appeals = diff("final_backlog_initial"), diff("final_backlog_appeals")
    if decisions is not None and appeals is not None:
        total = decisions + appeals
        said.append(
            f"Backlog: {_change(total, 'people', 'more', 'fewer')} people waiting for a "
            f"decision or an appeal ({_change(decisions, 'people', 'more', 'fewer')} awaiting "
            f"a decision, {_change(appeals, 'people', 'more', 'fewer')} with an appeal pending)."
        )
    spent = diff("total_cost_gbp")
    if spent is not None:
        said.append(
            f"Cost: {_change(spent, 'gbp', 'more', 'less')} spent "
            f"({money(by_key['total_cost_gbp'].policy)} against "
            f"{money(by_key['total_cost_gbp'].baseline)})."
        )
    removed, returned = diff("removals_enforced"), diff("returns_voluntary")
    if removed is not None and returned is not None:
        onward = _summary(policy_result, "onward_removals", "return_hubs") if finished else None
        extra = f", and {people(onward)} removed onward from the hubs" if onward else ""
        said.append(
            f"Removals: {_change(removed, 'people', 'more', 'fewer')} enforced removals and "
            f"{_change(returned, 'people', 'more', 'fewer')} voluntary returns{extra}."
        )
    if finished:
        said.extend(_reasons(scenario, policy_result, hotel, returned))
    return said


def _alone(by_key: dict[str, Row], reached: date | None, finished: bool) -> list[str]:
    """A scenario with no policy: nothing to compare, so the state it reached."""
    when = "At the end" if finished else f"On {reached:%d %B %Y}" if reached else "So far"
    hotel = by_key.get("final_hotel_population")
    decisions = by_key.get("final_backlog_initial")
    appeals = by_key.get("final_backlog_appeals")
    said = ["This scenario has no policy switched on, so it is its own baseline."]
    if hotel and decisions and appeals:
        said.append(
            f"{when}: {people(hotel.policy)} people in hotels, {people(decisions.policy)} "
            f"awaiting a decision and {people(appeals.policy)} with an appeal pending."
        )
    return said


def _reasons(
    scenario: Scenario,
    policy_result: Any,
    hotel: float | None,
    returned: float | None,
) -> list[str]:
    """Why, where the numbers show it."""
    said = []
    hubs = scenario.policies.get("return_hubs")
    moved = _summary(policy_result, "transfers", "return_hubs")
    if hubs is not None and hubs.enabled and moved and hotel is not None:
        support_days = scenario.support.support_end_days_after_refusal
        if abs(hotel) < 0.1 * moved and support_days < hubs.days_before_transfer:
            said.append(
                f"Why: hubs moved {people(moved)} people but hotels changed by only "
                f"{people(abs(hotel))}: a single adult loses asylum support "
                f"{support_days:g} days after their appeal rights end, and is sent to a hub "
                f"only after {hubs.days_before_transfer:g} days, so most of those moved were "
                "no longer in hotels."
            )
    for name, what in (("return_hubs", "the hubs"), ("offshore", "offshoring")):
        halted = _summary(policy_result, "halted", name)
        if halted:
            day = _summary(policy_result, "halt_day", name)
            on = ""
            if day is not None and not math.isnan(day):
                on = f" on {scenario.start_date + timedelta(days=int(day)):%d %B %Y}"
            back = _summary(policy_result, "brought_back_at_halt", name)
            brought = f"; {people(back)} people were brought back" if back else ""
            said.append(f"The courts halted {what}{on}{brought}.")
    offshore = scenario.policies.get("offshore")
    relocated = _summary(policy_result, "relocations", "offshore")
    if offshore is not None and offshore.enabled and relocated is not None:
        boats = _summary(policy_result, "claims_small_boat")
        if boats:
            said.append(
                f"Offshoring relocated {people(relocated)} of {people(boats)} small-boat "
                f"claimants: its capacity and the legal delay bind, not the arrivals."
            )
    payment = scenario.policies.get("voluntary_return")
    if payment is not None and payment.enabled and returned and returned > 0:
        paid = _cost(policy_result, "voluntary_return_incentive")
        if paid:
            said.append(
                f"The payment brought {people(returned)} more voluntary returns, at "
                f"{money(paid / returned)} of payments per extra return."
            )
    return said


def _cost(result: Any, category: str) -> float | None:
    if result is None:
        return None
    value = result.summary.get("cost_by_category_gbp", {}).get(category)
    return None if value is None else float(value)
