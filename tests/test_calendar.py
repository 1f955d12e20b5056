"""The calendar of far-future events: each runs at its own time, in time order, as it would
as a SimPy event of its own, with one SimPy event standing for the earliest."""

from __future__ import annotations

import numpy as np
import simpy

from simulation.engine.events import Calendar, at


def _log_runs(schedule_with_calendar: bool, delays: np.ndarray) -> list[tuple[float, int]]:
    env = simpy.Environment(initial_time=1234.5678)  # times whose sums round
    calendar = Calendar(env)
    log: list[tuple[float, int]] = []

    def record(event) -> None:
        log.append((env.now, event.value))
        if event.value % 3 == 0 and event.value < 10_000:  # some schedule more as they run
            later(float(delays[event.value % len(delays)]) / 3, event.value + 10_000)

    def later(delay: float, value: int) -> None:
        if schedule_with_calendar:
            calendar.at(delay, record, value)
        else:
            at(env, delay, record, value)

    for value, delay in enumerate(delays):
        later(float(delay), value)
    env.run()
    return log


def test_far_events_run_in_the_order_and_at_the_times_of_ordinary_events():
    delays = np.random.default_rng(7).exponential(3000.0, 2_000)
    delays[::50] = 17.0  # ties: in the order scheduled
    with_calendar = _log_runs(True, delays)
    as_events = _log_runs(False, delays)
    assert len(with_calendar) > len(delays)
    assert with_calendar == as_events  # to the last bit of every time


def test_only_one_wake_up_waits_in_simpy_s_queue():
    env = simpy.Environment()
    calendar = Calendar(env)
    ran: list[int] = []
    for value, delay in enumerate([50.0, 40.0, 30.0, 20.0, 10.0]):  # each the new earliest
        calendar.at(delay, lambda event: ran.append(event.value), value)
    live = [e for _, _, _, e in env._queue if e.callbacks]
    assert len(live) == 1
    env.run()
    assert ran == [4, 3, 2, 1, 0]
