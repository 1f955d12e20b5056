"""A queue served by a pool of identical servers, driven by SimPy events.

Caseworkers deciding claims, judges hearing appeals and removal teams are all such pools. The
number of servers and their speed change on scheduled dates. A stage schedules exactly one
SimPy event per service completion (a timeout whose callback routes the person and starts the
next), plus a wake-up when idle servers wait for the next known arrival. Arrivals known before
the run wait in a sorted array and are admitted lazily when a server looks for work, so an
arrival that finds every server busy costs no event at all.

Who waits is decided lazily too: a person who left the queue (withdrew a claim, departed) is
skipped when reached, which is exact because the leaving time was drawn on entry.

Within a queue people are served in order of entry time (first come, first served). A queue
can also have priority tiers: each tier is served before the next, first come first served
within it, and the tier order can change on given dates.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import simpy
from simpy.events import Timeout

INF = float("inf")


class Tier:
    """People of one priority: a sorted array of people known in advance, and later arrivals."""

    __slots__ = ("ids", "times", "ptr", "waiting")

    def __init__(self, ids: Sequence[int] = (), times: Sequence[float] = ()) -> None:
        self.ids = list(ids)
        self.times = list(times)
        self.ptr = 0
        self.waiting: deque[int] = deque()

    def pending_known(self) -> list[int]:
        """People known in advance who were never reached."""
        return self.ids[self.ptr :]


class Stage:
    """Servers taking people from their queue; see the module docstring.

    ``work`` holds each person's service requirement (a unit exponential, or any positive
    number), which takes ``work / rate`` days at the current per-server ``rate``.
    ``entry_time`` is each person's time of joining this queue. The callbacks say whether a
    person reached at the head of the queue is still waiting, what happens when service
    starts, and what happens when it ends.
    """

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        work: memoryview,
        entry_time: memoryview,
        still_waiting: Callable[[int, float], bool],
        begin: Callable[[int, float], None],
        finish: Callable[[int, float], None],
        tiers: int = 1,
    ) -> None:
        self.env = env
        self.name = name
        self.work = work
        self.entry_time = entry_time
        self.still_waiting = still_waiting
        self.begin = begin
        self.finish = finish
        self.tiers = [Tier() for _ in range(tiers)]
        self.order = list(range(tiers))
        self.servers = 0
        self.rate = 0.0
        self.busy = 0
        self.completions = 0
        self._wake_at = INF

    # ------------------------------------------------------------------ configuration

    def bind(self, work: memoryview, entry_time: memoryview) -> None:
        """Point at new record arrays after the population grew."""
        self.work = work
        self.entry_time = entry_time

    def preload(self, ids: Sequence[int], times: Sequence[float], tier: int = 0) -> None:
        """People known before the run, sorted by entry time (which may lie in the future)."""
        self.tiers[tier] = Tier(ids, times)

    def set_servers(self, servers: int) -> None:
        self.servers = servers
        self.fill()

    def set_rate(self, rate: float) -> None:
        self.rate = rate
        self.fill()

    def set_order(self, order: Sequence[int]) -> None:
        """Serve tiers in this order from now on."""
        self.order = list(order)
        self.fill()

    # ------------------------------------------------------------------ the queue

    def push(self, person: int, tier: int = 0) -> None:
        """``person`` joins the queue now."""
        self.tiers[tier].waiting.append(person)
        if self.busy < self.servers:
            self.fill()

    def _next(self, now: float) -> int:
        """The next person to serve, or -1 (scheduling a wake-up for a future arrival)."""
        entry_time = self.entry_time
        soonest = INF
        for index in self.order:
            tier = self.tiers[index]
            ids, times, waiting = tier.ids, tier.times, tier.waiting
            while True:
                known = times[tier.ptr] if tier.ptr < len(times) else INF
                later = entry_time[waiting[0]] if waiting else INF
                if known <= later and known <= now:
                    person = ids[tier.ptr]
                    tier.ptr += 1
                elif later <= now:
                    person = waiting.popleft()
                else:
                    if known < soonest:
                        soonest = known
                    break
                if self.still_waiting(person, now):
                    return person
        if soonest < self._wake_at:
            self._wake_at = soonest
            wake = Timeout(self.env, soonest - now)
            wake.callbacks.append(self._wake)
        return -1

    def _wake(self, _event: simpy.Event) -> None:
        self._wake_at = INF
        self.fill()

    # ------------------------------------------------------------------ service

    def fill(self) -> None:
        """Start service on as many waiting people as there are idle servers."""
        if self.rate <= 0:
            return
        env = self.env
        now = env.now
        while self.busy < self.servers:
            person = self._next(now)
            if person < 0:
                return
            self.busy += 1
            self.begin(person, now)
            done = Timeout(env, self.work[person] / self.rate, person)
            done.callbacks.append(self._done)

    def _done(self, event: simpy.Event) -> None:
        person = event._value
        self.busy -= 1
        self.completions += 1
        self.finish(person, self.env._now)
        if self.busy < self.servers:
            self.fill()

    def waiting_unreached(self) -> list[int]:
        """Everyone still in the queue (including people who have left but were not reached)."""
        return [p for tier in self.tiers for p in (*tier.pending_known(), *tier.waiting)]
