# cython: boundscheck=False, wraparound=False
# (compiled, indices are not checked: every index below is within its list by construction)
"""Events on SimPy's queue: bare events, the queue kept as heapq keeps it with its entries
compared as numbers, a calendar for events far in the future, and SimPy's loop for the
model's events.

The model's events are all of ordinary priority and cannot fail, and each needs only its
callbacks and a value. The stages and queues schedule them here; SimPy's environment holds
the queue, the clock and the count of events throughout, so SimPy's own loop and heapq could
take over from these functions at any point.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy

try:
    import cython

    COMPILED = cython.compiled
except ImportError:  # the pure-Python path needs no Cython
    COMPILED = False

NORMAL = 1  # simpy.events.NORMAL: the priority of an ordinary event


class Due:
    """A bare event for SimPy's queue: just the callbacks to run and a value.

    :class:`simpy.events.Timeout` does the same with more bookkeeping; at one event per
    decision that bookkeeping is a tenth of the run time. SimPy's loop needs only
    ``callbacks`` and ``_ok`` from an event.
    """

    __slots__ = ("callbacks", "value", "_ok")

    def __init__(self, callback: Callable[[Due], None], value: Any) -> None:
        self.callbacks = [callback]
        self.value = value
        self._ok = True


def at(env: simpy.Environment, delay: float, callback: Callable[[Due], None], value=None) -> None:
    """Run ``callback(event)`` after ``delay`` days; ``event.value`` is ``value``."""
    schedule(env, Due(callback, value), delay)


def schedule(env: simpy.Environment, event: Due, delay: float) -> None:
    """Enter ``event`` in SimPy's queue ``delay`` days from now, as
    ``env.schedule(event, NORMAL, delay)`` does, without the method call."""
    push_entry(env._queue, (env._now + delay, NORMAL, next(env._eid), event))


# ------------------------------------------------------------------ SimPy's queue, typed
#
# SimPy's queue is a heap (a list, in heapq's order) of entries (time, priority, order of
# scheduling, event), ordered as tuples compare: by time, then priority, then the order in
# which they were scheduled, which is unique. Compiled, the two functions below do what
# heapq.heappush and heapq.heappop do, step for step (the algorithm of CPython's heapq), but
# compare the numbers directly instead of through Python's tuple comparison, which is most
# of the cost of keeping the heap. The list they leave is the one heapq would leave, so
# SimPy's own loop and heapq can take over from them at any point. Uncompiled, they are
# heapq's.


def push_entry(heap: list, entry: tuple) -> None:
    """heapq.heappush(heap, entry) for SimPy's queue."""
    if not COMPILED:
        heappush(heap, entry)
        return
    heap.append(entry)
    _sift_down(heap, 0, len(heap) - 1)


def pop_entry(heap: list) -> tuple:
    """heapq.heappop(heap) for SimPy's queue."""
    if not COMPILED:
        return heappop(heap)
    last = heap.pop()
    if not heap:
        return last
    first = heap[0]
    heap[0] = last
    _sift_up(heap, 0)
    return first


def _before(a: tuple, b: tuple) -> bool:
    """Entry ``a`` comes before entry ``b``: sooner, or as soon and more urgent, or as soon,
    as urgent and scheduled earlier (``a < b`` for the tuples)."""
    a_time, b_time = a[0], b[0]
    if a_time != b_time:
        return a_time < b_time
    a_priority, b_priority = a[1], b[1]
    if a_priority != b_priority:
        return a_priority < b_priority
    return a[2] < b[2]


def _sift_down(heap: list, start: int, position: int) -> None:
    """heapq._siftdown: move the entry at ``position`` up towards ``start`` to its place."""
    entry = heap[position]
    while position > start:
        parent_position = (position - 1) >> 1
        parent = heap[parent_position]
        if _before(entry, parent):
            heap[position] = parent
            position = parent_position
            continue
        break
    heap[position] = entry


def _sift_up(heap: list, position: int) -> None:
    """heapq._siftup: move the smaller child up until a leaf is reached, put the entry
    there and move it back up to its place."""
    end = len(heap)
    start = position
    entry = heap[position]
    child = 2 * position + 1
    while child < end:
        right = child + 1
        if right < end and not _before(heap[child], heap[right]):
            child = right
        heap[position] = heap[child]
        position = child
        child = 2 * position + 1
    heap[position] = entry
    _sift_down(heap, start, position)


class Calendar:
    """Events far in the future, kept out of SimPy's queue with one SimPy event for the
    earliest of them.

    Further submissions and returns to the UK are drawn years ahead; as ordinary events they
    would fill SimPy's heap (thousands of entries at ten years), and every other event would
    pay for them on each push and pop. Here they wait in their own heap, and a single wake-up
    in SimPy's queue stands for the earliest; each runs at its own time, in time order (ties
    in the order they were scheduled), as it would as a SimPy event of its own.
    """

    __slots__ = ("env", "heap", "count", "wake")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.heap: list[tuple[float, int, Callable[[Due], None], Any]] = []
        self.count = 0
        self.wake: Due | None = None

    def at(self, delay: float, callback: Callable[[Due], None], value: Any = None) -> None:
        """Run ``callback(event)`` after ``delay`` days; ``event.value`` is ``value``."""
        when = self.env._now + delay
        self.count += 1
        heappush(self.heap, (when, self.count, callback, value))
        if self.heap[0][1] == self.count:  # the new earliest: wake up for it instead
            self._wake_for(when)

    def _wake_for(self, when: float) -> None:
        if self.wake is not None:
            self.wake.callbacks = []  # superseded: fires as a no-op
        self.wake = Due(self._run_earliest, None)
        # at ``when`` exactly, as SimPy's schedule() would enter it had the event been
        # scheduled when it was drawn: now + (when - now) can differ from when in the last bit
        env = self.env
        push_entry(env._queue, (when, NORMAL, next(env._eid), self.wake))

    def _run_earliest(self, _event: Due) -> None:
        self.wake = None
        _when, _count, callback, value = heappop(self.heap)
        callback(Due(callback, value))
        if self.heap and self.wake is None:
            self._wake_for(self.heap[0][0])


def run_until(env: simpy.Environment, until: float) -> None:
    """Run every event due before ``until``, then set the clock to ``until``.

    This is SimPy's own loop (``env.run(until=until)``: pop the earliest event, set the clock,
    call its callbacks) for the model's events, which are all of ordinary priority and cannot
    fail: the same events run in the same order at the same times. It leaves out the stop
    event SimPy would schedule and the per-event method calls and failure checks, and is
    compiled with this module.
    """
    queue = env._queue
    while queue and queue[0][0] < until:
        when, _priority, _eid, event = pop_entry(queue)
        env._now = when
        if type(event) is Due:
            due = event  # compiled: its fields read directly, as C
            callbacks = due.callbacks
            due.callbacks = None
        else:
            callbacks = event.callbacks
            event.callbacks = None
        for callback in callbacks:
            callback(event)
    env._now = until


def now(env: simpy.Environment) -> float:
    """The simulation clock (SimPy's own attribute: the property costs a call per read)."""
    return env._now


def events_scheduled(env: simpy.Environment) -> int:
    """How many events the environment has scheduled so far (SimPy's event counter)."""
    counter = getattr(env, "_eid", None)
    return next(counter) if counter is not None else 0
