"""The services under way in a queue wait in the queue's own heap, with an entry in SimPy's
queue only for the earliest: they must end at the times, and in the order among all other
events, that a SimPy event of their own would give, and the count of events must not change.
Both keepers are checked whichever path runs: the heap of numbers the compiled path uses, and
the heapq one of the pure-Python path."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from simulation.engine.events import at, events_scheduled
from simulation.engine.queueing import Completions, Handler, HeapCompletions, Queue

KEEPERS = pytest.mark.parametrize("keeper", [Completions, HeapCompletions])


class Recorder(Queue):
    """A queue whose services only record when they end (and nothing else happens)."""

    def __init__(self, env: simpy.Environment, log: list) -> None:
        super().__init__(env, "test", None, None, Handler())
        self.log = log

    def _finished(self, person: int) -> None:
        self.log.append((self.env.now, "service", person))


def _run(keeper, delays: np.ndarray, others: np.ndarray, cancel: set[int]) -> tuple:
    """Services ending after ``delays`` (some cancelled), and ordinary events after
    ``others``, numbered in turn as they are scheduled; the services held by ``keeper``, or
    if None as SimPy events of their own. Returns the log of what ran, the count of events
    and the longest SimPy's queue got."""
    env = simpy.Environment(initial_time=1234.5678)  # times whose sums round
    log: list = []
    queue = Recorder(env, log)
    own_heap = keeper is not None
    held = keeper(queue) if own_heap else None
    numbers: dict[int, int] = {}
    longest = 0

    def other(event) -> None:
        log.append((env.now, "other", event.value))

    def service(event) -> None:
        log.append((env.now, "service", event.value))

    for person, (delay, other_delay) in enumerate(zip(delays, others, strict=True)):
        if own_heap:
            numbers[person] = next(queue.counter)
            held.add(env.now + float(delay), numbers[person], person)
        else:
            at(env, float(delay), service, person)
        at(env, float(other_delay), other, person)
        longest = max(longest, len(env._queue))
    for person in cancel:
        if own_heap:
            held.cancel(numbers[person])
    if not own_heap:  # what cancelling a SimPy event of one's own does: it fires as a no-op
        for _time, _priority, _number, event in env._queue:
            if event.callbacks == [service] and event.value in cancel:
                event.callbacks = []
    env.run()
    return log, events_scheduled(env), longest


@KEEPERS
def test_services_end_when_and_in_the_order_their_own_events_would(keeper):
    rng = np.random.default_rng(3)
    n = 3_000
    delays = rng.exponential(40.0, n)
    delays[::7] = 25.0  # ties among services: in the order scheduled
    others = rng.exponential(40.0, n)
    others[::11] = 25.0  # and ties with other events: in the order scheduled
    cancel = set(rng.choice(n, 200, replace=False).tolist())
    held, held_events, held_longest = _run(keeper, delays, others, cancel)
    alone, alone_events, _ = _run(None, delays, others, cancel)
    assert held == alone  # the same events, to the last bit of every time, in the same order
    assert sum(1 for _, kind, _ in held if kind == "service") == n - len(cancel)
    assert held_events == alone_events == 2 * n
    # the services wait in their own heap, not in SimPy's: there, only those that were the
    # earliest when scheduled (a new low in a random sequence: about ln n + 0.58, 9 of 3,000)
    assert held_longest <= n + 20


@KEEPERS
def test_a_cancelled_service_at_the_front_never_ends(keeper):
    env = simpy.Environment()
    log: list = []
    queue = Recorder(env, log)
    held = keeper(queue)
    first, second = next(queue.counter), next(queue.counter)
    held.add(5.0, first, 1)  # listed in SimPy's queue at once
    held.add(9.0, second, 2)
    held.cancel(first)
    env.run()
    assert log == [(9.0, "service", 2)]
    assert held.size == 0


def test_a_queue_refuses_a_tier_it_does_not_have_and_times_that_do_not_match():
    """Compiled, the queue does not check its indices: what comes in is checked instead."""
    queue = Queue(simpy.Environment(), "q", None, None, Handler(), tiers=2)
    for tier in (2, -1):
        with pytest.raises(IndexError, match=f"tiers 0 to 1, not {tier}"):
            queue.push(1, tier)
    with pytest.raises(ValueError, match="2 people known in advance but 1 times"):
        queue.preload(np.array([1, 2]), np.array([0.0]))
    column = Queue(simpy.Environment(), "q", None, memoryview(np.zeros(3)), Handler())
    for outside in (3, -1):  # their times are read from the column: they must be in it
        with pytest.raises(ValueError, match="records 0 to 2"):
            column.preload(np.array([0, outside]))
