"""Cohorts: what became of the people who claimed asylum in a window, as at a later date.

The way auditors follow claims end to end: take everyone whose first claim was made in
``[claimed_from, claimed_to)`` and say where each of them stands at the end of the date
``at`` (midnight after it, the moment the daily series show on the next date). Every person
is in exactly one state, so the shares sum to 1.

Who is in the cohort
    A person is a record of origin ``NEW_CLAIM`` (the starting stocks are not cohorts of a
    claim date inside the run) whose ``t_claim`` falls in the window. If ``at`` falls inside
    the window, the cohort is the part of it that had claimed by the end of ``at``.

Which record says where a person stands
    A person may have several records, linked by ``parent``: a further submission, a claim
    after coming back to the UK (after a removal, a voluntary departure or leaving through a
    hub), a return to the UK stock by a policy (brought back from a hub), a claim made again
    on being brought back from offshore processing (``POLICY_RETURN_CLAIM``). The person's
    state is that of their latest record started by ``at`` (a record starts at its
    ``t_claim``; a policy return at its ``t_are``). So people who left and came back are
    counted by where they stand now, and a person is never counted twice. Within a record the
    state is read from its times, not only its final outcome codes: a claim decided after
    ``at`` is still awaiting a decision at ``at``.

The states, in the order reported (:data:`STATES`):

granted
    ``granted_initial``: the latest claim was granted by the Home Office (at the initial
    decision of the first claim, of a further submission or of a claim after coming back).
    ``granted_appeal``: refused, and the appeal was allowed.
left the UK
    ``removed_enforced``: removed by the Home Office (``ExitOutcome.REMOVED``), the removal
    completed. ``departed_voluntarily``: left after appeal rights were exhausted
    (``VOLUNTARY``). ``removed_via_hub``: left the UK through a return hub: removed onward
    from it, or released where the hub is; the stay in the hub has ended and the person was
    not brought back. ``relocated_offshore``: taken into offshore processing on arrival
    (``DecisionOutcome.DIVERTED``): detained for the flight, then relocated to the third
    country, and not brought back by ``at`` (whatever became of them there). A person
    brought back claims again in the UK and stands where that claim stands
    (``awaiting_decision`` at first).
withdrawn
    ``withdrawn``: withdrew the claim before a decision (``WITHDRAWN``, at or before ``at``).
absconded
    ``absconded``: appeal rights exhausted, then lost contact (``ABSCONDED``).
unresolved
    ``awaiting_decision``: a claim (a first claim or one made after coming back) waiting for
    or under its initial decision. ``awaiting_appeal``: refused, appeal lodged and not yet
    determined. ``are_in_uk``: appeal rights exhausted and still in the UK: waiting, being
    removed (a removal under way counts here until it is completed), with no way out, or
    waiting for a hub place. ``in_hub``: being transferred to a return hub or in one (from
    the start of the transfer, where the policy reports it, else from arrival, until leaving
    the hub). ``further_submission``: made further submissions that are waiting for or under
    a decision; once that new claim is decided the person is granted, appealing or back in
    ``are_in_uk`` like anyone else.

How each record maps (``t`` is the end of ``at``, times are the record's): diverted ->
``relocated_offshore``; a claim with ``t < t_dec_end`` -> ``awaiting_decision`` or, for a
further submission, ``further_submission``; otherwise the decision outcome: granted,
withdrawn, or refused (or no decision: a policy return) -> an appeal with
``t < t_app_end`` -> ``awaiting_appeal``, allowed -> ``granted_appeal``; dismissed or no
appeal -> ARE from ``t_are``: ``t < t_exit`` -> ``are_in_uk`` (or ``in_hub`` once a transfer
to a hub has begun), else by the exit outcome (removed, voluntary, absconded, further
submission, taken by a policy -> ``in_hub`` until the stay in the hub ends, then
``removed_via_hub``). A record that fits none of these is a bug and raises ``RuntimeError``.

Where a policy takes a person out of the UK stock (``ExitOutcome.POLICY``), its
:class:`~simulation.policies.contract.PolicyOutput` says where they are: a stay that lists
the record (return hubs' ``in_hub``), from the moment the person left the UK stock for it
(``Stay.left_uk``: the start of the transfer, also for transfers still under way at the end).
Without the policies' outputs a person taken out of the UK stock counts as ``in_hub`` from
arrival on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.records import AppealOutcome, DecisionOutcome, ExitOutcome, Origin


@dataclass(frozen=True)
class State:
    """Where a person of a cohort stands: a name, the group it belongs to, a label."""

    name: str
    group: str
    label: str


GRANTED, LEFT, WITHDRAWN, ABSCONDED, UNRESOLVED = (
    "granted",
    "left the UK",
    "withdrawn",
    "absconded",
    "unresolved",
)
#: Every state a person can be in, in the order reported (see the module docstring).
STATES = (
    State("granted_initial", GRANTED, "granted at initial decision"),
    State("granted_appeal", GRANTED, "granted on appeal"),
    State("removed_enforced", LEFT, "removed (enforced)"),
    State("departed_voluntarily", LEFT, "departed voluntarily"),
    State("removed_via_hub", LEFT, "removed via a return hub"),
    State("relocated_offshore", LEFT, "relocated offshore"),
    State("withdrawn", WITHDRAWN, "withdrew the claim"),
    State("absconded", ABSCONDED, "absconded"),
    State("awaiting_decision", UNRESOLVED, "awaiting a decision"),
    State("awaiting_appeal", UNRESOLVED, "awaiting an appeal"),
    State("are_in_uk", UNRESOLVED, "appeal rights exhausted, in the UK"),
    State("in_hub", UNRESOLVED, "in a return hub or in transit"),
    State("further_submission", UNRESOLVED, "further submission pending"),
)
STATE_NAMES = tuple(s.name for s in STATES)
_CODE = {name: code for code, name in enumerate(STATE_NAMES)}

_STOCK = (Origin.STOCK_AWAITING, Origin.STOCK_APPEAL, Origin.STOCK_ARE)
_MONTH = re.compile(r"(\d{4})-(\d{2})")


# ---------------------------------------------------------------------- dates


def month_window(text: str, field: str = "claimed") -> tuple[date, date]:
    """``"2024-03"`` -> ``(date(2024, 3, 1), date(2024, 4, 1))``: the month as a claim window
    (the end is excluded). Anything else is an :class:`InputError` naming ``field``."""
    match = _MONTH.fullmatch(str(text).strip())
    month = int(match.group(2)) if match else 0
    if not match or not 1 <= month <= 12:
        raise InputError("cohort", [(field, f"must be a month as YYYY-MM, got {text!r}")])
    year = int(match.group(1))
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, end


def as_date(value: Any, field: str) -> date:
    """A date from a ``date``, a ``datetime`` (or pandas ``Timestamp``) or ``"YYYY-MM-DD"``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError("cohort", [(field, f"must be a date as YYYY-MM-DD, got {value!r}")])


def checked_window(
    start: date, end: date, claimed_from: Any, claimed_to: Any, at: Any
) -> tuple[date, date, date, float, float, float]:
    """The window and ``at`` as dates and as days since the start (``at``: its end)."""
    claimed_from = as_date(claimed_from, "claimed_from")
    claimed_to = as_date(claimed_to, "claimed_to")
    at = as_date(at, "at")
    last = end - timedelta(days=1)
    problems = []
    if not start <= claimed_from < end:
        problems.append(
            ("claimed_from", f"must be within the run, {start} to {last}, got {claimed_from}")
        )
    if not start < claimed_to <= end:
        problems.append(
            (
                "claimed_to",
                f"must be within the run, after {start} and at most {end} (the window "
                f"excludes it), got {claimed_to}",
            )
        )
    elif claimed_to <= claimed_from:
        problems.append(
            ("claimed_to", f"must be after claimed_from ({claimed_from}), got {claimed_to}")
        )
    if not start <= at <= last:
        problems.append(
            (
                "at",
                f"must be within the run, {start} to {last} (people stand as at the end of "
                f"that date), got {at}",
            )
        )
    elif at < claimed_from:
        problems.append(("at", f"must not be before claimed_from ({claimed_from}), got {at}"))
    if problems:
        raise InputError("cohort", problems)

    def days(d: date) -> float:
        return float((d - start).days)

    return claimed_from, claimed_to, at, days(claimed_from), days(claimed_to), days(at) + 1


# ---------------------------------------------------------------------- people and records


def record_starts(records: Mapping[str, np.ndarray]) -> np.ndarray:
    """When each record starts: its claim, a policy return's ARE, -inf for the stocks."""
    origin = records["origin"]
    start = np.where(origin == Origin.POLICY_RETURN, records["t_are"], records["t_claim"])
    return np.where(np.isin(origin, _STOCK), -np.inf, start)


def roots(records: Mapping[str, np.ndarray]) -> np.ndarray:
    """The first record of the person each record belongs to (following ``parent``)."""
    parent = np.asarray(records["parent"], dtype=np.int64)
    root = np.arange(len(parent))
    up = parent[root]
    while (up >= 0).any():
        root = np.where(up >= 0, up, root)
        up = parent[root]
    return root


def latest_records(records: Mapping[str, np.ndarray], people: np.ndarray, t: float) -> np.ndarray:
    """For each person (a first record in ``people``), their latest record started by ``t``.

    A person's later records are made after the earlier ones and start no earlier, so the
    latest started is the one with the highest index."""
    people = np.asarray(people, dtype=np.int64)
    n = len(records["origin"])
    position = np.full(n, -1, dtype=np.int64)
    position[people] = np.arange(len(people))
    root = roots(records)
    started = np.flatnonzero(record_starts(records) <= t)
    mine = started[position[root[started]] >= 0]
    latest = np.full(len(people), -1, dtype=np.int64)
    np.maximum.at(latest, position[root[mine]], mine)
    if (latest < 0).any():
        missing = people[latest < 0][:5].tolist()
        raise ValueError(f"people {missing} had not claimed by day {t}")
    return latest


def _policy_places(
    records: Mapping[str, np.ndarray], policy_outputs: Mapping[str, Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """For records taken out of the UK stock by a policy: when they left the UK stock for the
    policy's place (the start of the transfer, ``Stay.left_uk``) and when they left that place
    (inf if not by the end of the run). Without a stay, from the record's exit on."""
    taken = records["exit_outcome"] == ExitOutcome.POLICY
    since = np.where(taken, records["t_exit"], np.nan)
    until = np.where(taken, np.inf, np.nan)
    for output in (policy_outputs or {}).values():
        for stay in output.stays.values():
            people = np.asarray(stay.records, dtype=np.int64)
            ours = taken[people]
            since[people[ours]] = np.asarray(stay.left_uk(), dtype=float)[ours]
            until[people[ours]] = np.asarray(stay.end, dtype=float)[ours]
    return since, until


def classify(
    records: Mapping[str, np.ndarray],
    latest: np.ndarray,
    t: float,
    policy_outputs: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """The state code (an index into :data:`STATES`) of each record in ``latest`` at time
    ``t`` (days since the start), the record being the person's latest started by ``t``."""
    r = np.asarray(latest, dtype=np.int64)
    origin = records["origin"][r]
    dec = records["dec_outcome"][r]
    app = records["app_outcome"][r]
    exit_ = records["exit_outcome"][r]
    t_dec_end = records["t_dec_end"][r]
    t_app_end = records["t_app_end"][r]
    t_are = records["t_are"][r]
    t_exit = records["t_exit"][r]
    since, until = _policy_places(records, policy_outputs)
    since, until = since[r], until[r]

    state = np.full(len(r), -1, dtype=np.int64)
    open_ = np.ones(len(r), dtype=bool)

    def put(mask: np.ndarray, name: str) -> None:
        nonlocal open_
        mask = mask & open_
        state[mask] = _CODE[name]
        open_ = open_ & ~mask

    put(dec == DecisionOutcome.DIVERTED, "relocated_offshore")
    claiming = (dec != DecisionOutcome.NONE) & ~(t_dec_end <= t)
    put(claiming & (origin == Origin.FURTHER_SUBMISSION), "further_submission")
    put(claiming, "awaiting_decision")
    put(dec == DecisionOutcome.GRANTED, "granted_initial")
    put(dec == DecisionOutcome.WITHDRAWN, "withdrawn")
    # refused, or no decision in this record (a stock or a policy return)
    refused = (dec == DecisionOutcome.REFUSED) | (dec == DecisionOutcome.NONE)
    appealed = refused & (app != AppealOutcome.NONE)
    put(appealed & ~(t_app_end <= t), "awaiting_appeal")
    put(appealed & (app == AppealOutcome.ALLOWED), "granted_appeal")
    at_are = (
        refused
        & ((app == AppealOutcome.NONE) | (app == AppealOutcome.DISMISSED))
        & (exit_ != ExitOutcome.NONE)
        & (t_are <= t)
    )
    by_policy = at_are & (exit_ == ExitOutcome.POLICY)
    put(by_policy & (since <= t) & ~(until <= t), "in_hub")
    put(by_policy & (until <= t), "removed_via_hub")
    put(at_are & ~(t_exit <= t), "are_in_uk")
    put(at_are & (exit_ == ExitOutcome.REMOVED), "removed_enforced")
    put(at_are & (exit_ == ExitOutcome.VOLUNTARY), "departed_voluntarily")
    put(at_are & (exit_ == ExitOutcome.ABSCONDED), "absconded")
    put(at_are & (exit_ == ExitOutcome.FURTHER_SUBMISSION), "further_submission")
    if open_.any():
        combos = sorted(
            {
                (int(o), int(d), int(a), int(e))
                for o, d, a, e in zip(
                    origin[open_], dec[open_], app[open_], exit_[open_], strict=True
                )
            }
        )
        raise RuntimeError(
            f"{int(open_.sum())} records at day {t} fit no cohort state; "
            f"(origin, dec_outcome, app_outcome, exit_outcome) = {combos[:5]}"
        )
    return state


# ---------------------------------------------------------------------- the cohort


def cohort_people(
    records: Mapping[str, np.ndarray], from_day: float, to_day: float, t: float
) -> np.ndarray:
    """First records of the people who first claimed in ``[from_day, to_day)`` and by ``t``."""
    t_claim = records["t_claim"]
    new = records["origin"] == Origin.NEW_CLAIM
    return np.flatnonzero(new & (t_claim >= from_day) & (t_claim < to_day) & (t_claim <= t))


def states_of(
    records: Mapping[str, np.ndarray],
    people: np.ndarray,
    t: float,
    policy_outputs: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """The state code of each person (a first record) at time ``t`` (days since the start)."""
    return classify(records, latest_records(records, people, t), t, policy_outputs)


def tabulate(states: np.ndarray) -> pd.DataFrame:
    """People and share in each state (every state, in order; NaN shares if nobody)."""
    people = np.bincount(np.asarray(states, dtype=np.int64), minlength=len(STATES))
    total = people.sum()
    share = people / total if total else np.full(len(STATES), np.nan)
    return pd.DataFrame({"state": list(STATE_NAMES), "people": people, "share": share})


def cohort(
    records: Mapping[str, np.ndarray] | None,
    policy_outputs: Mapping[str, Any] | None,
    start: date,
    end: date,
    claimed_from: Any,
    claimed_to: Any,
    at: Any,
) -> pd.DataFrame:
    """Where the people who first claimed in ``[claimed_from, claimed_to)`` stand at the end
    of ``at``: a tidy table (state, people, share) over every state of :data:`STATES`, whose
    shares sum to 1. ``start`` and ``end`` are the run's dates; ``attrs`` holds the window,
    ``at`` and the cohort's size."""
    if records is None:
        raise InputError(
            "cohort",
            [("keep_records", "this result has no records: run with keep_records=True")],
        )
    claimed_from, claimed_to, at, lo, hi, t = checked_window(
        start, end, claimed_from, claimed_to, at
    )
    people = cohort_people(records, lo, hi, t)
    table = tabulate(states_of(records, people, t, policy_outputs))
    table.attrs.update(
        claimed_from=claimed_from, claimed_to=claimed_to, at=at, cohort=int(len(people))
    )
    return table


# ---------------------------------------------------------------------- printing


def _percent(value: float) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{100 * value:.1f}%"


def format_cohort(table: pd.DataFrame) -> str:
    """A cohort table as text: one line per state under its group, with the share, the
    people and, for replications (``ci_low``, ``ci_high`` columns), the 95% CI of the share,
    shown within 0% to 100% (the table keeps the Student-t bounds, which may pass them for a
    state few people are in)."""
    attrs = table.attrs
    title = "Cohort"
    if "claimed_from" in attrs:
        last = attrs["claimed_to"] - timedelta(days=1)
        title = f"Claimed {attrs['claimed_from']} to {last}, as at the end of {attrs['at']}"
    size = attrs.get("cohort", float(table["people"].sum()))
    replicated = "ci_low" in table.columns
    n = int(table["n"].iloc[0]) if replicated and len(table) else 0
    people = f"{size:,.0f} people" + (f" (mean of {n} runs)" if replicated else "")
    header = f"{'':40} {'share':>8} {'people':>10}"
    if replicated:
        header += f"   {'95% CI of the share':>20}"
    lines = [title, "=" * len(title), people, header]
    rows = table.set_index("state")
    for group in dict.fromkeys(s.group for s in STATES):
        members = [s for s in STATES if s.group == group and s.name in rows.index]
        if not members:
            continue
        total = float(sum(rows.loc[s.name, "share"] for s in members))
        lines.append(f"{group[0].upper() + group[1:]:<40} {_percent(total):>8}")
        for s in members:
            row = rows.loc[s.name]
            line = f"  {s.label:<38} {_percent(row['share']):>8} {row['people']:>10,.0f}"
            if replicated:  # a share lies in [0, 1]: so is its interval shown
                low, high = np.clip([row["ci_low"], row["ci_high"]], 0.0, 1.0)
                ci = f"{_percent(low)} to {_percent(high)}"
                line += f"   {ci:>20}"
            lines.append(line)
    return "\n".join(lines)


__all__ = [
    "STATES",
    "STATE_NAMES",
    "State",
    "as_date",
    "classify",
    "cohort",
    "cohort_people",
    "format_cohort",
    "latest_records",
    "month_window",
    "record_starts",
    "roots",
    "states_of",
    "tabulate",
]
