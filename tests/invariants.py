"""Checks that must hold for every run, shared by the property tests."""

from __future__ import annotations

import numpy as np

from simulation.core import schedules, timeline
from simulation.core.records import AppealOutcome, DecisionOutcome, ExitOutcome, Origin
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
    reentered = np.flatnonzero(origin == Origin.REENTRY)
    assert np.all(
        np.isin(exit_[records["parent"][reentered]], (ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY))
    )
    assert np.all(t_claim[reentered] >= records["t_exit"][records["parent"][reentered]])


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


def check_capacities(result: Result, scenario) -> None:
    """No queue serves more people than it has servers; no accommodation over capacity."""
    records = result.records
    days = scenario.horizon_days
    for start_name, end_name, servers in (
        ("t_dec_start", "t_dec_end", scenario.decisions.caseworkers_fte),
    ):
        start, end = records[start_name], records[end_name]
        begun = np.isfinite(start)
        _check_servers(start[begun], end[begun], servers, scenario)
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


def _check_servers(start: np.ndarray, end: np.ndarray, servers, scenario) -> None:
    """At every service start, the number in service is within the servers at that time."""
    times = np.concatenate([start, end])
    delta = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    # Ends before starts at the same instant: a server is freed, then reused.
    order = np.lexsort((delta, times))
    in_service = np.cumsum(delta[order])
    is_start = delta[order] > 0
    capacity = np.round(schedules.value_at(servers, scenario.start_date, times[order]))
    assert np.all(in_service[is_start] <= capacity[is_start])
