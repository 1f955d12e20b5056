"""Checks that must hold for every run, shared by the property tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulation.core import schedules, timeline
from simulation.core.records import AppealOutcome, DecisionOutcome, ExitOutcome, Origin
from simulation.core.units import DAYS_PER_MONTH
from simulation.inputs import files
from simulation.inputs.policy_config import registered
from simulation.outputs.results import Result, stage_series

LEFT_ARE = (
    ExitOutcome.REMOVED,
    ExitOutcome.VOLUNTARY,
    ExitOutcome.FURTHER_SUBMISSION,
    ExitOutcome.ABSCONDED,
)


def policy_stages(outputs) -> list:
    return [stage for output in (outputs or {}).values() for stage in output.stays.values()]


def exit_times(records: dict[str, np.ndarray], outputs=None) -> np.ndarray:
    """When each record left the system for good (inf if it has not).

    A record handed to a policy (diverted on arrival, taken to a hub) leaves when it leaves
    the policy's stage.
    """
    leave = np.full(len(records["origin"]), np.inf)
    dec, app, exit_ = records["dec_outcome"], records["app_outcome"], records["exit_outcome"]
    done = np.isin(dec, (DecisionOutcome.WITHDRAWN, DecisionOutcome.GRANTED))
    leave[done] = records["t_dec_end"][done]
    allowed = app == AppealOutcome.ALLOWED
    leave[allowed] = records["t_app_end"][allowed]
    left = np.isin(exit_, LEFT_ARE)
    leave[left] = records["t_exit"][left]
    for stage in policy_stages(outputs):
        leave[stage.records] = stage.end
    return leave


def entry_times(records: dict[str, np.ndarray]) -> np.ndarray:
    """When each record entered the model (the start date for starting stocks)."""
    origin = records["origin"]
    stock = np.isin(origin, (Origin.STOCK_AWAITING, Origin.STOCK_APPEAL, Origin.STOCK_ARE))
    entry = np.where(stock, 0.0, records["t_claim"])
    returned = origin == Origin.POLICY_RETURN
    entry[returned] = records["t_are"][returned]
    return entry


def check_record_paths(records: dict[str, np.ndarray], horizon: float) -> None:
    """Each record's stages follow one another with no gap and no overlap."""
    dec, app, exit_ = records["dec_outcome"], records["app_outcome"], records["exit_outcome"]
    origin = records["origin"]
    in_decision = dec != DecisionOutcome.NONE
    t_claim, t_start, t_end = records["t_claim"], records["t_dec_start"], records["t_dec_end"]
    started = in_decision & np.isfinite(t_start)
    assert np.all(t_start[started] >= np.maximum(t_claim[started], 0) - 1e-9)
    assert np.all(t_end[started] >= t_start[started])
    # A refusal leads straight to an appeal or to ARE, at the moment of refusal.
    refused = dec == DecisionOutcome.REFUSED
    appealed = refused & (app != AppealOutcome.NONE)
    assert np.array_equal(records["t_app_start"][appealed], t_end[appealed])
    straight_to_are = refused & (app == AppealOutcome.NONE)
    assert np.all(exit_[straight_to_are] != ExitOutcome.NONE)
    assert np.array_equal(records["t_are"][straight_to_are], t_end[straight_to_are])
    dismissed = app == AppealOutcome.DISMISSED
    assert np.all(exit_[dismissed] != ExitOutcome.NONE)
    assert np.array_equal(records["t_are"][dismissed], records["t_app_end"][dismissed])
    # Nobody granted or withdrawn goes on; nobody skips a stage.
    finished = np.isin(dec, (DecisionOutcome.GRANTED, DecisionOutcome.WITHDRAWN))
    assert np.all(app[finished] == AppealOutcome.NONE)
    assert np.all(exit_[finished] == ExitOutcome.NONE)
    assert np.all(exit_[app == AppealOutcome.ALLOWED] == ExitOutcome.NONE)
    claims = np.isin(origin, (Origin.NEW_CLAIM, Origin.FURTHER_SUBMISSION, Origin.REENTRY))
    assert np.all(in_decision[claims])
    # Outcomes decided by the horizon have times within it.
    decided = np.isin(dec, (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED))
    assert np.all(t_end[decided] <= horizon)
    # A new record for a person starts exactly when the parent left ARE (further submissions).
    child = np.flatnonzero(origin == Origin.FURTHER_SUBMISSION)
    parent = records["parent"][child]
    assert np.all(exit_[parent] == ExitOutcome.FURTHER_SUBMISSION)
    assert np.array_equal(records["t_exit"][parent], t_claim[child])
    # People come back after a removal, a departure, or leaving from a policy's place abroad
    # (removed onward from a hub, or released where it is).
    # People relocated offshore on arrival (diverted) may come back after leaving the third
    # country; the third country's times are the policy's, so only the order is checked.
    reentered = np.flatnonzero(origin == Origin.REENTRY)
    parent = records["parent"][reentered]
    diverted = dec[parent] == DecisionOutcome.DIVERTED
    left = (ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY, ExitOutcome.POLICY)
    assert np.all(np.isin(exit_[parent[~diverted]], left))
    assert np.all(t_claim[reentered[~diverted]] >= records["t_exit"][parent[~diverted]])
    assert np.all(t_claim[reentered[diverted]] > t_claim[parent[diverted]])


def check_conservation(records: dict[str, np.ndarray], days: int, outputs=None) -> None:
    """At every midnight: entered = in exactly one stage + left; nothing negative."""
    stocks = stage_series(records, days)
    for stage in policy_stages(outputs):
        stocks[id(stage)] = timeline.stock(stage.start, stage.end, days)
    entered = timeline.cumulative(entry_times(records), days)
    left = timeline.cumulative(exit_times(records, outputs), days)
    in_system = sum(stocks.values())
    assert np.array_equal(entered, in_system + left)
    for name, values in stocks.items():
        assert values.min() >= 0, name
    # Person by person, at sampled times, each record is in exactly one state.
    leave = exit_times(records, outputs)
    enter = entry_times(records)
    for moment in np.linspace(0, days, 9):
        awaiting = _covers(records["t_claim"], records["t_dec_end"], moment) & (
            records["dec_outcome"] != DecisionOutcome.NONE
        )
        appeal = _covers(records["t_app_start"], records["t_app_end"], moment) & (
            records["app_outcome"] != AppealOutcome.NONE
        )
        are = _covers(records["t_are"], records["t_exit"], moment) & (
            records["exit_outcome"] != ExitOutcome.NONE
        )
        states = awaiting.astype(int) + appeal + are + (leave <= moment)
        for stage in policy_stages(outputs):
            inside = _covers(stage.start, stage.end, moment)
            np.add.at(states, stage.records[inside], 1)
        present = enter <= moment
        assert np.all(states[present] == 1)
        assert np.all(states[~present] == 0)


def _covers(start: np.ndarray, end: np.ndarray, t: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.maximum(start, 0) <= t) & (t < end)


@dataclass(frozen=True)
class RecordedQueue:
    """A queue of the pipeline as the records show it.

    Members are the records that joined it (``member``); a member is in the queue's stage
    from ``entry`` (the start date for starting stocks) until ``end``, and in service from
    ``start`` (NaN: never served) until ``end``. ``servers`` names the scenario's schedule
    of servers (rounded to whole servers, as the engine does) and ``rate(scenario, t)`` is
    each server's speed at times ``t``, in people a day, computed as the engine computes it.
    """

    name: str
    member: Callable[[dict[str, np.ndarray]], np.ndarray]
    entry: str
    start: str
    end: str
    servers: Callable[[Any], Any]
    rate: Callable[[Any, np.ndarray], np.ndarray]


def _at(schedule, scenario, t: np.ndarray) -> np.ndarray:
    return schedules.value_at(schedule, scenario.start_date, t)


QUEUES = (
    RecordedQueue(
        "decisions",
        lambda r: ~np.isin(r["dec_outcome"], (DecisionOutcome.NONE, DecisionOutcome.DIVERTED)),
        "t_claim",
        "t_dec_start",
        "t_dec_end",
        lambda sc: sc.decisions.caseworkers_fte,
        lambda sc, t: (
            _at(sc.decisions.decisions_per_fte_per_month, sc, t)
            * sc.people_per_case
            / DAYS_PER_MONTH
        ),
    ),
    RecordedQueue(
        "appeals",
        lambda r: r["app_outcome"] != AppealOutcome.NONE,
        "t_app_start",
        "t_app_hearing",
        "t_app_end",
        lambda sc: sc.appeals.judges_fte,
        lambda sc, t: _at(sc.appeals.determinations_per_judge_per_day, sc, t) * sc.people_per_case,
    ),
)
#: A fraction of a day that no scheduled time (whole days, or a continuous random time)
#: hits: sample times k + OFFSET fall between events.
OFFSET = 0.381966011250105


def _covering(start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """How many intervals [start, end) cover each time in ``t`` (NaN starts never began)."""
    began = np.isfinite(start)
    starts, ends = np.sort(start[began]), np.sort(end[began])
    return np.searchsorted(starts, t, side="right") - np.searchsorted(ends, t, side="right")


def queue_state(
    records: dict[str, np.ndarray], queue: RecordedQueue, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(people in the stage, people in service) at each time in ``t``."""
    member = queue.member(records)
    entry = np.maximum(records[queue.entry][member], 0.0)
    end = records[queue.end][member]
    present = _covering(entry, end, t)
    in_service = _covering(records[queue.start][member], end, t)
    return present, in_service


def sample_times(
    records: dict[str, np.ndarray], queue: RecordedQueue, horizon: float
) -> np.ndarray:
    """Times to look at a queue: within every day, and just after every service completion
    (when a freed server must take the next person waiting)."""
    daily = np.arange(int(np.ceil(horizon)), dtype=float) + OFFSET
    ends = records[queue.end][queue.member(records) & np.isfinite(records[queue.start])]
    after = ends[np.isfinite(ends)] + 1e-7
    times = np.concatenate([daily, after])
    return np.sort(times[times < horizon])


def check_capacities(result: Result, scenario) -> None:
    """No queue serves more people than it has servers, and no server idles while someone
    waits (while the servers' speed is positive); no accommodation over capacity."""
    records = result.records
    days = scenario.horizon_days
    for queue in QUEUES:
        start, end = records[queue.start], records[queue.end]
        begun = queue.member(records) & np.isfinite(start)
        _check_servers(start[begun], end[begun], queue.servers(scenario), scenario)
        _check_no_idle_server(records, queue, scenario)
    wide = result.series_wide()
    t = np.arange(days + 1, dtype=float)
    acc = scenario.accommodation
    for column, kind in (("in_dispersal", acc.dispersal), ("in_large_sites", acc.large_sites)):
        capacity = schedules.value_at(kind.capacity_people, scenario.start_date, t)
        assert np.all(wide[column].to_numpy() <= capacity + 1e-9)
    housed = wide["in_hotel"] + wide["in_dispersal"] + wide["in_large_sites"]
    assert np.allclose(housed, wide["supported_total"])
    for column in ("in_hotel", "in_dispersal", "in_large_sites", "supported_total"):
        assert wide[column].min() >= 0


def servers_at(queue: RecordedQueue, scenario, t: np.ndarray) -> np.ndarray:
    """Servers in force at each time (FTE rounded to whole servers, as the engine does)."""
    return np.round(schedules.value_at(queue.servers(scenario), scenario.start_date, t))


def _check_no_idle_server(records: dict[str, np.ndarray], queue: RecordedQueue, scenario) -> None:
    """Whenever someone waits and servers work at a positive speed, every server is busy
    (more may be busy just after the servers were cut: nobody is interrupted)."""
    t = sample_times(records, queue, scenario.horizon_days)
    present, in_service = queue_state(records, queue, t)
    servers = servers_at(queue, scenario, t)
    working = queue.rate(scenario, t) > 0
    waiting = (present > in_service) & working
    idle = waiting & (in_service < servers)
    assert not idle.any(), (
        f"{queue.name}: servers idle while people wait at t={t[idle][:5]} "
        f"(in service {in_service[idle][:5]}, servers {servers[idle][:5]}, "
        f"in the stage {present[idle][:5]})"
    )


def _check_servers(start: np.ndarray, end: np.ndarray, servers, scenario) -> None:
    """At every service start, the number in service is within the servers at that time."""
    times = np.concatenate([start, end])
    delta = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    # Ends before starts at the same instant: a server is freed, then reused.
    order = np.lexsort((delta, times))
    in_service = np.cumsum(delta[order])
    is_start = delta[order] > 0
    capacity = np.round(schedules.value_at(servers, scenario.start_date, times[order]))
    over = is_start & (in_service > capacity)
    assert not over.any(), (
        f"more in service than servers at t={times[order][over][:5]} "
        f"(in service {in_service[over][:5]}, servers {capacity[over][:5]})"
    )


# ---------------------------------------------------------------------- policy examples

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@dataclass(frozen=True)
class PolicyExample:
    """A registered policy's config as a scenario file in scenarios/ sets it."""

    name: str
    path: Path  # the scenario file (``extends:`` resolved)
    raw: dict[str, Any]  # the policy's section of that file, as read


def policy_examples() -> dict[str, PolicyExample]:
    """For every registered policy, the example config of the scenario file that sets the
    fewest policies (a policy's own file before a combined one), by name; a registered
    policy no file sets is missing from the result."""
    found: dict[str, tuple[int, PolicyExample]] = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = files.load(path)
        policies = data.get("policies") or {}
        for name, raw in policies.items():
            if raw is None or name not in registered():
                continue
            if name not in found or len(policies) < found[name][0]:
                found[name] = (len(policies), PolicyExample(name, path, dict(raw)))
    return {name: example for name, (_, example) in sorted(found.items())}


def missing_example_message(name: str) -> str:
    return (
        f"policy {name!r} is registered but no scenario in scenarios/ sets it: add an "
        f"example scenario (e.g. scenarios/{name}.yaml) so the contract and property tests "
        "cover it"
    )
