# cython: boundscheck=False, wraparound=False
# (compiled, indices are not checked: every index below is within its array by construction,
# and what callers pass in, a tier or the times of known people, is checked where it enters)
"""A queue served by a pool of identical servers, driven by SimPy events.

Caseworkers deciding claims, judges hearing appeals and removal teams are all such pools. The
number of servers and their speed change on scheduled dates. A stage schedules exactly one
SimPy event per service completion (whose callback routes the person and starts the next),
plus a wake-up when idle servers wait for the next known arrival. The completions wait in the
queue's own heap (:class:`Completions`) with an entry in SimPy's queue for the earliest, in
the place in SimPy's order their own events would have had.
Arrivals known before the run wait in a sorted array and are admitted lazily when a server
looks for work, so an arrival that finds every server busy costs no event at all.

Who waits is decided lazily too: a person who left the queue (withdrew a claim, departed) is
skipped when reached, which is exact because the leaving time was drawn on entry.

When servers are idle and the next known arrival is at a future time T, a stage that allows it
reserves a server for that person instead of waking up at T: service is booked to start at T
and one event (the completion) is scheduled. This gives the same people served in the same
order with the same outcomes as waking up at T, as long as nothing could change what happens
at T: reservations never reach past the stage's next change of servers or speed, and if a
person joins the queue while every server is busy or reserved, the latest reservation (whose
person arrives later, so comes after them) is cancelled and its server serves the newcomer,
as it would have had nobody been booked. Times agree to within the clock's rounding: a booked
completion is scheduled as a delay from the booking time, so it can differ from the unbooked
one in the last bit (tests/test_engine.py checks both to 4 units in the last place).

Within a queue people are served in order of entry time (first come, first served). A queue
can also have priority tiers: groups of tiers are served in order, first come first served
within a group, and the order can change on given dates (a priority that ends). Or tiers can
share the servers by weight (start-time fair queuing): each tier with someone waiting gets
starts in proportion to its weight, a tier that had nobody waiting earns no credit meanwhile,
and a tier of weight 0 is served only when no other tier has anyone.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np
import simpy

from .events import NORMAL, Due, push_entry

try:
    import cython

    COMPILED = cython.compiled
except ImportError:  # the pure-Python path needs no Cython
    COMPILED = False

INF = float("inf")

# how a queue picks its next person (Queue.set_order and Queue.set_weights)
SINGLE_TIER = 0
ORDERED_TIERS = 1
WEIGHTED_TIERS = 2


class Tier:
    """People of one priority: a sorted array of people known in advance (record numbers,
    32-bit as everywhere), and later arrivals.

    The entry times of the people known in advance are either an array of their own, in the
    same order (``times[k]`` for ``ids[k]``), or, with ``by_person``, the queue's column of
    entry times itself (``times[ids[k]]``): no copy of a time per claim.
    """

    __slots__ = ("ids", "times", "ptr", "size", "waiting", "by_person")

    def __init__(self, ids: Sequence[int] = (), times: Any = (), by_person: bool = False) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int32)
        if by_person and len(ids) and not (ids.min() >= 0 and ids.max() < len(times)):
            raise ValueError(f"people known in advance must be records 0 to {len(times) - 1}")
        if not by_person:
            times = np.ascontiguousarray(times, np.float64)
            if len(times) != len(ids):
                raise ValueError(f"{len(ids)} people known in advance but {len(times)} times")
        self.ids = memoryview(ids)
        self.times = memoryview(times)
        self.by_person = by_person
        self.ptr = 0
        self.size = len(ids)
        self.waiting: deque[int] = deque()

    def first(self) -> float:
        """The entry time of the next person known in advance (INF: none left)."""
        if self.ptr >= self.size:
            return INF
        if self.by_person:
            return self.times[self.ids[self.ptr]]
        return self.times[self.ptr]


class Completions:
    """The services under way in a queue, by time of completion, earliest first.

    They wait here rather than in SimPy's queue, which holds an entry only for the earliest
    (or for each that has been the earliest since): a heap of a few entries instead of one
    per busy server, every push and pop of which compares entries (thousands of them with
    2,000 caseworkers). Here the heap is of plain numbers, compared as C numbers when
    compiled. Each completion takes its number in SimPy's count of events when it is
    scheduled, and its entry in SimPy's queue carries that number, so SimPy orders it
    exactly where its own event would have been: the same events at the same times in the
    same order, and the same count of events.

    A completion cancelled before its time (a booking given up) does nothing when its time
    comes, as a cancelled SimPy event does.
    """

    def __init__(self, queue: Queue, capacity: int = 64) -> None:
        self.queue = queue
        self.size = 0
        self.capacity = 0
        self.times = memoryview(np.empty(0))
        # each completion's number in SimPy's count, doubled, plus 1 once it is listed in
        # SimPy's queue (the order of the numbers is unchanged: they are all different)
        self.orders = memoryview(np.empty(0, np.int64))
        self.people = memoryview(np.empty(0, np.int64))  # -1: cancelled
        self._grow(capacity)

    def _grow(self, capacity: int) -> None:
        """Room for ``capacity`` completions, those held kept."""
        held = self.size
        times = np.empty(capacity)
        orders = np.empty(capacity, np.int64)
        people = np.empty(capacity, np.int64)
        times[:held] = self.times[:held]
        orders[:held] = self.orders[:held]
        people[:held] = self.people[:held]
        self.times, self.orders, self.people = (
            memoryview(times),
            memoryview(orders),
            memoryview(people),
        )
        self.capacity = capacity

    def add(self, when: float, order: int, person: int) -> None:
        """``person``'s service ends at ``when``; ``order`` is its number in SimPy's count."""
        if self.size == self.capacity:
            self._grow(2 * self.capacity)
        position = self.size
        self.size += 1
        self._sift(position, when, 2 * order, person)
        if position == 0 or self.orders[0] >> 1 == order:  # the new earliest
            self._list_front()

    def cancel(self, order: int) -> None:
        """The completion numbered ``order`` will not happen (rare: a search is fine)."""
        for position in range(self.size):
            if self.orders[position] >> 1 == order:
                self.people[position] = -1
                return
        raise KeyError(f"no completion numbered {order} is under way")

    def _sift(self, position: int, when: float, order: int, person: int) -> None:
        """Put the completion (``when``, ``order``, ``person``) in the free slot at
        ``position`` or above it, moving the later ones it passes down (heapq's sift)."""
        while position > 0:
            parent = (position - 1) >> 1
            if when < self.times[parent] or (
                when == self.times[parent] and order < self.orders[parent]
            ):
                self.times[position] = self.times[parent]
                self.orders[position] = self.orders[parent]
                self.people[position] = self.people[parent]
                position = parent
            else:
                break
        self.times[position] = when
        self.orders[position] = order
        self.people[position] = person

    def _list_front(self) -> None:
        """Give the earliest completion its entry in SimPy's queue, once (a cancelled one
        too: its entry does nothing when its time comes)."""
        if self.size and not self.orders[0] & 1:
            self.orders[0] |= 1
            entry = (self.times[0], NORMAL, self.orders[0] >> 1, Due(self._due, None))
            push_entry(self.queue.events, entry)

    def _pop_front(self) -> int:
        """Take the earliest completion out; returns its person (-1: cancelled). As heapq
        does: the earlier child moves up into each gap down to the bottom, and the last
        completion fills the gap left there."""
        person = self.people[0]
        self.size -= 1
        end = self.size
        if end == 0:
            return person
        position = 0
        child = 1
        while child < end:
            right = child + 1
            if right < end and (
                self.times[right] < self.times[child]
                or (
                    self.times[right] == self.times[child]
                    and self.orders[right] < self.orders[child]
                )
            ):
                child = right
            self.times[position] = self.times[child]
            self.orders[position] = self.orders[child]
            self.people[position] = self.people[child]
            position = child
            child = 2 * position + 1
        self._sift(position, self.times[end], self.orders[end], self.people[end])
        return person

    def _due(self, _event: Due) -> None:
        """The entry of the earliest completion came up in SimPy's queue: it is the front."""
        person = self._pop_front()
        self._list_front()
        if person >= 0:
            self.queue._finished(person)


class HeapCompletions:
    """:class:`Completions` for the pure-Python path: the same completions in the same order
    with the same entries in SimPy's queue, kept as ``[time, number, person, listed]`` by
    heapq (a heap of numbers sifted in Python is slower than heapq's C; compiled, it is not)."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.heap: list[list] = []

    @property
    def size(self) -> int:
        return len(self.heap)

    def add(self, when: float, order: int, person: int) -> None:
        """``person``'s service ends at ``when``; ``order`` is its number in SimPy's count."""
        entry = [when, order, person, False]
        heappush(self.heap, entry)  # the numbers differ, so lists compare by time and number
        if self.heap[0] is entry:  # the new earliest
            self._list_front()

    def cancel(self, order: int) -> None:
        """The completion numbered ``order`` will not happen."""
        for entry in self.heap:
            if entry[1] == order:
                entry[2] = -1
                return
        raise KeyError(f"no completion numbered {order} is under way")

    def _list_front(self) -> None:
        front = self.heap[0]
        if not front[3]:
            front[3] = True
            push_entry(self.queue.events, (front[0], NORMAL, front[1], Due(self._due, None)))

    def _due(self, _event: Due) -> None:
        person = heappop(self.heap)[2]
        if self.heap:
            self._list_front()
        if person >= 0:
            self.queue._finished(person)


class Handler:
    """What a queue asks of the stage that owns it, one person at a time (``now`` in days):
    whether a person reached at the head of the queue is still waiting (not withdrawn, not
    gone), that service begins, and that it ends. A queue whose idle servers book known
    arrivals ahead also asks what ``begin`` will overwrite (``save``) and to undo ``begin``
    when a booking is cancelled (``restore``). Compiled, a queue calls these methods of a
    compiled stage directly, without Python's calling convention."""

    def still_waiting(self, person: int, now: float) -> bool:
        return True

    def begin(self, person: int, now: float) -> None:
        pass

    def finish(self, person: int, now: float) -> None:
        pass

    def save(self, person: int) -> Any:
        return None

    def restore(self, person: int, saved: Any) -> None:
        pass


class Callbacks(Handler):
    """A handler made of three functions (a queue a policy opens)."""

    def __init__(
        self,
        still_waiting: Callable[[int, float], bool],
        begin: Callable[[int, float], None],
        finish: Callable[[int, float], None],
    ) -> None:
        self.waiting_test = still_waiting
        self.on_begin = begin
        self.on_finish = finish

    def still_waiting(self, person: int, now: float) -> bool:
        return self.waiting_test(person, now)

    def begin(self, person: int, now: float) -> None:
        self.on_begin(person, now)

    def finish(self, person: int, now: float) -> None:
        self.on_finish(person, now)


class Queue:
    """Servers taking people from their queue; see the module docstring.

    ``work`` holds each person's service requirement (a unit exponential, or any positive
    number), which takes ``work / rate`` days at the current per-server ``rate``.
    ``entry_time`` is each person's time of joining this queue. The ``handler`` (the stage
    that owns the queue) says whether a person reached at the head of the queue is still
    waiting, and what happens when service starts and when it ends.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        work,
        entry_time,
        handler: Handler,
        tiers: int = 1,
    ) -> None:
        self.env = env
        # SimPy's queue and event counter, kept at hand: entered directly, as schedule() does
        self.events: list = env._queue
        self.counter = env._eid
        self.name = name
        self.work = work
        self.entry_time = entry_time
        self.handler = handler
        self.tiers = [Tier() for _ in range(tiers)]
        self.servers = 0
        self.rate = 0.0
        self.busy = 0
        self._wake_at = INF
        self.change_times: list[float] = []
        self.booking = False  # set by allow_reservations
        # (person, booked start, completion's number, what begin() overwrote, array position)
        self.reservations: deque[tuple[int, float, int, Any, int]] = deque()
        self._stable, self._stable_from = -INF, INF
        self.weights: list[float] = []
        self.tags: list[float] = []
        self.virtual = 0.0
        # compiled, the heap of numbers; uncompiled, the same order kept by heapq's C code
        self.completions = Completions(self) if COMPILED else HeapCompletions(self)
        self.set_order([list(range(tiers))])

    # ------------------------------------------------------------------ configuration

    def bind(self, work, entry_time) -> None:
        """Point at new record arrays after the population grew."""
        self.work = work
        self.entry_time = entry_time
        for tier in self.tiers:
            if tier.by_person:
                tier.times = entry_time

    def preload(
        self, ids: Sequence[int], times: Sequence[float] | None = None, tier: int = 0
    ) -> None:
        """People known before the run, sorted by entry time (which may lie in the future):
        ``times``, or, if None, their entry times in the queue's own column (which must not
        change while they wait)."""
        by_person = times is None
        loaded = Tier(ids, self.entry_time if by_person else times, by_person)
        target = self.tiers[tier]
        target.ids, target.times, target.by_person = loaded.ids, loaded.times, loaded.by_person
        target.size, target.ptr = loaded.size, 0

    def allow_reservations(self, change_times: Sequence[float]) -> None:
        """Let idle servers book known future arrivals (see the module docstring).

        ``change_times`` are the times the servers or their speed change; the handler's
        ``save(person)`` keeps what ``begin`` will overwrite and ``restore(person, saved)``
        undoes ``begin`` if the booking is cancelled.
        """
        self.change_times = sorted(change_times)
        self._stable, self._stable_from = -INF, INF
        self.booking = True

    def _stable_until(self, now: float) -> float:
        """The first change of servers or speed after ``now`` (cached until it passes)."""
        if now < self._stable and now >= self._stable_from:
            return self._stable
        times = self.change_times
        index = bisect_right(times, now)
        self._stable_from = now
        self._stable = times[index] if index < len(times) else INF
        return self._stable

    def set_servers(self, servers: int) -> None:
        self.servers = servers
        self.fill()

    def set_rate(self, rate: float) -> None:
        self.rate = rate
        self.fill()

    def set_order(self, order: Sequence[Sequence[int]]) -> None:
        """From now on serve groups of tiers in this order, first come first served within
        a group: ``[[0], [1]]`` gives tier 0 priority, ``[[0, 1]]`` merges them."""
        self.order = [list(group) for group in order]
        if len(self.order) == 1 and len(self.order[0]) == 1:
            self._only = self.tiers[self.order[0][0]]
            self._mode = SINGLE_TIER
        else:
            self._mode = ORDERED_TIERS
        if self.servers:
            self.fill()

    def set_weights(self, weights: Sequence[float]) -> None:
        """From now on tiers share the servers in proportion to ``weights``."""
        self.weights = [float(w) for w in weights]
        self.tags = [0.0] * len(self.tiers)
        self.virtual = 0.0
        self._mode = WEIGHTED_TIERS
        if self.servers:
            self.fill()

    # ------------------------------------------------------------------ the queue

    def push(self, person: int, tier: int = 0) -> None:
        """``person`` joins the queue now."""
        if not 0 <= tier < len(self.tiers):
            raise IndexError(
                f"queue {self.name!r} has tiers 0 to {len(self.tiers) - 1}, not {tier}"
            )
        self.tiers[tier].waiting.append(person)
        if self.busy >= self.servers and self.reservations:
            self._cancel_latest_booking()
        if self.busy < self.servers:
            self.fill()

    def _cancel_latest_booking(self) -> None:
        now = self.env._now
        reservations = self.reservations
        while reservations and reservations[0][1] <= now:
            reservations.popleft()  # started: a server at work like any other
        if not reservations:
            return
        person, _start, order, saved, position = reservations.pop()
        self.completions.cancel(order)
        self.handler.restore(person, saved)
        self._only.ptr = position  # read again from the cancelled person on
        self.busy -= 1

    def _wake_later(self, when: float, now: float) -> None:
        if when < self._wake_at:
            self._wake_at = when
            self._schedule(Due(self._wake, None), now, when - now)

    def _next(self, now: float) -> int:
        """The next person to serve, or -1 (scheduling a wake-up if need be)."""
        if self._mode == SINGLE_TIER:
            return self._next_single(now)
        if self._mode == ORDERED_TIERS:
            return self._next_ordered(now)
        return self._next_weighted(now)

    def _next_single(self, now: float) -> int:
        """The next person from the only tier, or -1 (scheduling a wake-up if need be)."""
        tier = self._only
        waiting = tier.waiting
        handler = self.handler
        while True:
            known = tier.first()
            if waiting and self.entry_time[waiting[0]] < known:
                person = waiting.popleft()  # pushed at or before now
            elif known <= now:
                person = tier.ids[tier.ptr]
                tier.ptr += 1
            else:
                if known < INF and not self.booking:
                    self._wake_later(known, now)
                return -1
            if handler.still_waiting(person, now):
                return person

    def _next_ordered(self, now: float) -> int:
        """The next person by priority group, first come first served within a group."""
        entry_time = self.entry_time
        soonest = INF
        for group in self.order:
            while True:
                best, best_time, from_known = None, INF, False
                for index in group:
                    tier = self.tiers[index]
                    known = tier.first()
                    if known < best_time:
                        best, best_time, from_known = tier, known, True
                    if tier.waiting and entry_time[tier.waiting[0]] < best_time:
                        best, best_time, from_known = tier, entry_time[tier.waiting[0]], False
                if best is None or best_time > now:
                    soonest = min(soonest, best_time)
                    break
                if from_known:
                    person = best.ids[best.ptr]
                    best.ptr += 1
                else:
                    person = best.waiting.popleft()
                if self.handler.still_waiting(person, now):
                    return person
        if soonest < INF:
            self._wake_later(soonest, now)
        return -1

    def _next_weighted(self, now: float) -> int:
        """The next person from the tier with the earliest virtual start (start-time fair
        queuing: a tier's start is its last finish or the virtual time, whichever is later;
        each start adds 1 / weight), first come first served within it."""
        entry_time = self.entry_time
        while True:
            best, best_key, soonest = -1, INF, INF
            for index, tier in enumerate(self.tiers):
                known = tier.first()
                pushed = entry_time[tier.waiting[0]] if tier.waiting else INF
                first = min(known, pushed)
                if first > now:
                    soonest = min(soonest, first)
                    continue
                weight = self.weights[index]
                key = max(self.tags[index], self.virtual) if weight > 0 else INF
                if best < 0 or key < best_key:
                    best, best_key = index, key
            if best < 0:
                if soonest < INF:
                    self._wake_later(soonest, now)
                return -1
            tier = self.tiers[best]
            known = tier.first()
            if tier.waiting and entry_time[tier.waiting[0]] < known:
                person = tier.waiting.popleft()
            else:
                person = tier.ids[tier.ptr]
                tier.ptr += 1
            if self.handler.still_waiting(person, now):
                if best_key < INF:
                    self.virtual = best_key
                    self.tags[best] = best_key + 1.0 / self.weights[best]
                return person

    def _wake(self, _event: Due) -> None:
        self._wake_at = INF
        self.fill()

    # ------------------------------------------------------------------ service

    def fill(self) -> None:
        """Start service on as many waiting people as there are idle servers."""
        rate = self.rate
        if rate <= 0:
            return
        now = self.env._now
        work = self.work
        completions = self.completions
        handler = self.handler
        while self.busy < self.servers:
            person = self._next(now)
            if person < 0:
                if self.booking and self._mode == SINGLE_TIER:
                    self._book_ahead(now)
                return
            self.busy += 1
            handler.begin(person, now)
            completions.add(now + work[person] / rate, next(self.counter), person)

    def _book_ahead(self, now: float) -> None:
        """Book idle servers for the next known arrivals, up to the next change."""
        tier = self._only
        stable = self._stable_until(now)
        rate, work, completions = self.rate, self.work, self.completions
        handler = self.handler
        while self.busy < self.servers and tier.ptr < tier.size:
            start = tier.first()
            if start >= stable:
                self._wake_later(start, now)  # decide after the change
                return
            position = tier.ptr
            person = tier.ids[position]
            tier.ptr += 1
            if not handler.still_waiting(person, start):
                continue
            saved = handler.save(person)
            self.busy += 1
            handler.begin(person, start)
            order = next(self.counter)
            # at now + delay, as scheduling it ``delay`` days from now would
            completions.add(now + (start - now + work[person] / rate), order, person)
            self.reservations.append((person, start, order, saved, position))

    def _schedule(self, event: Due, now: float, delay: float) -> None:
        """:func:`.events.schedule` ``delay`` days from ``now`` (the clock's time)."""
        push_entry(self.events, (now + delay, NORMAL, next(self.counter), event))

    def _finished(self, person: int) -> None:
        """``person``'s service ends now."""
        self.busy -= 1
        self.handler.finish(person, self.env._now)
        if self.busy < self.servers:
            self.fill()
