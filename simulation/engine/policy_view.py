"""What a policy sees of a running simulation: read-only records and a few verbs.

A policy never holds the pipeline, the SimPy environment or a writable record column. It gets
this view (the engine side of :class:`simulation.policies.contract.Engine`) and acts only
through its verbs: divert claimants on arrival, bring a claim's withdrawal forward, schedule a
call, open a queue of its own, take a person out of the ARE stock and bring one back, bring
back a person held abroad before any UK decision as a claimant, make a person removable.
Every verb keeps the engine's records consistent, so a policy cannot leave a person in two
states at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from ..core.records import READABLE_BY_POLICIES, DecisionOutcome
from .after_refusal import AfterRefusal
from .decisions import DecisionStage
from .events import Due, at, now
from .population import Population
from .queueing import Callbacks, Queue
from .reentry import FROM_POLICY
from .removals import RemovalStage

_DIVERTED = int(DecisionOutcome.DIVERTED)


class PolicyView:
    """The engine as a policy may use it; see the module docstring.

    ``return_to_are(person, now)`` makes the new record of a person brought back to the UK
    stock, ``return_to_claim(person, now)`` that of a person brought back to claim again;
    ``started`` is set once the run is under way.
    """

    def __init__(
        self,
        env: simpy.Environment,
        horizon: float,
        population: Population,
        decisions: DecisionStage,
        after_refusal: AfterRefusal,
        removals: RemovalStage,
        return_to_are: Callable[[int, float], int],
        return_to_claim: Callable[[int, float], int],
    ) -> None:
        self._env = env
        self._population = population
        self._decisions = decisions
        self._after_refusal = after_refusal
        self._removals = removals
        self._return_to_are = return_to_are
        self._return_to_claim = return_to_claim
        self._claiming_again: set[int] = set()
        self._views: dict[str, np.ndarray] = {}
        self._viewed_size = -1
        self._values: dict[str, memoryview] = {}
        population.on_move.append(self._values.clear)
        self.horizon = horizon
        self.started = False

    # ------------------------------------------------------------------ reading

    @property
    def now(self) -> float:
        """Days since the start date."""
        return now(self._env)

    def read(self, column: str) -> np.ndarray:
        """A read-only view of one record column (attributes, times, outcomes), one entry
        per record made so far; index it by record."""
        population = self._population
        if population.size != self._viewed_size:
            self._views.clear()
            self._viewed_size = population.size
        view = self._views.get(column)
        if view is None:
            self._check_readable(column)
            view = read_only(population.columns[column])[: population.size]
            self._views[column] = view
        return view

    def value(self, column: str, person: int) -> float:
        """One record's value of a column (as :meth:`read`, for one person at a time)."""
        values = self._values.get(column)
        if values is None:
            self._check_readable(column)
            values = self._population.mv[column].toreadonly()
            self._values[column] = values
        return values[person]

    def _check_readable(self, column: str) -> None:
        if column not in READABLE_BY_POLICIES:
            raise KeyError(
                f"policies cannot read {column!r}; readable: {', '.join(READABLE_BY_POLICIES)}"
            )

    # ------------------------------------------------------------------ verbs

    def divert(self, people: np.ndarray) -> None:
        """Take new claimants known before the run out of the UK system on arrival (the
        policy keeps track of them from then on)."""
        self._before_run("divert")
        columns = self._population.columns
        columns["dec_outcome"][people] = _DIVERTED
        columns["t_dec_end"][people] = columns["t_claim"][people]

    def withdraw_claims_by(self, people: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Claims known before the run are withdrawn at ``times`` where that comes before
        their decision or earlier withdrawal as drawn so far; returns which ones."""
        self._before_run("withdraw_claims_by")
        t_dec_end = self._population.columns["t_dec_end"]
        sooner = times < t_dec_end[people]
        t_dec_end[people[sooner]] = times[sooner]
        return sooner

    def withdraw_claim_by(self, person: int, time: float) -> bool:
        """A claim made during the run is withdrawn at ``time`` if that comes first."""
        return self._decisions.leave_one_by(person, time)

    def schedule(self, delay: float, action: Callable[[Any], None], value: Any = None) -> None:
        """Call ``action(value)`` after ``delay`` days (not negative: the clock never runs
        back)."""
        if not delay >= 0:
            raise ValueError(f"a policy scheduled a call {delay} days in the past")
        at(self._env, delay, _call, (action, value))

    def queue(
        self,
        name: str,
        work: Any,
        entry_time: Any,
        still_waiting: Callable[[int, float], bool],
        begin: Callable[[int, float], None],
        finish: Callable[[int, float], None],
        tiers: int = 1,
    ) -> Queue:
        """A queue of the policy's own, served by a pool of servers (see
        :class:`simulation.engine.queueing.Queue`): ``work[person]`` is a unit of service,
        ``entry_time[person]`` the time the person joined; tier 0 is served first."""
        queue = Queue(
            self._env, name, work, entry_time, Callbacks(still_waiting, begin, finish), tiers
        )
        if tiers > 1:
            queue.set_order([[tier] for tier in range(tiers)])
        return queue

    def awaiting_removal(self, person: int) -> bool:
        """True if ``person`` is in the ARE stock in the UK and nobody is acting on them."""
        return self._after_refusal.awaiting_removal(person, now(self._env))

    def take_from_are(self, person: int, done: bool) -> None:
        """Take ``person`` out of the UK ARE stock now: pending until ``done``."""
        self._after_refusal.take_out(person, now(self._env), done)

    def return_to_are(self, person: int) -> int:
        """Bring ``person`` back to the UK ARE stock now, as a new record; returns it."""
        return self._return_to_are(person, now(self._env))

    def return_to_claim(self, person: int) -> int:
        """Bring ``person``, held abroad by a policy since arriving (diverted, so never
        decided in the UK), back to the UK now as a claimant: a new record that joins the
        decision queue and is not offered to the policies' ``divert_one`` again. Returns it.
        Each diverted record comes back at most once."""
        if not self.started:
            raise RuntimeError("return_to_claim is for the run: people come back during it")
        if self._population.columns["dec_outcome"][person] != _DIVERTED:
            raise ValueError(
                f"record {person} was not diverted on arrival: only a person held abroad "
                "before any UK decision can be brought back to claim"
            )
        if person in self._claiming_again:
            raise ValueError(f"record {person} was brought back to claim already")
        self._claiming_again.add(person)
        return self._return_to_claim(person, now(self._env))

    def left_uk(self, person: int) -> None:
        """``person``, in a place the policy owns, has left for good (removed onward from a
        hub, say): a share come back later, as after any removal (the revolving door)."""
        self._after_refusal.after_removal(person, FROM_POLICY)

    def make_returnable(self, person: int) -> None:
        """From now on ``person`` can be removed to their country: a person in the ARE stock
        whom nobody is acting on joins the removal queue."""
        columns = self._population.columns
        # a promise for every later share, even when the scenario's own share already
        # made the person returnable (it may fall on a later date); kept only where the
        # share changes on dates or the draws are kept
        if "u_returnable" in columns:
            columns["u_returnable"][person] = -np.inf
        returnable = columns["returnable"]
        if returnable[person]:
            return
        returnable[person] = 1
        if self.started and self.awaiting_removal(person):
            self._removals.join(person)

    def _before_run(self, verb: str) -> None:
        if self.started:
            raise RuntimeError(f"{verb} is for claims known before the run")


def read_only(column: np.ndarray) -> np.ndarray:
    """A view of ``column`` that cannot be written, nor made writable again."""
    return np.frombuffer(memoryview(column).toreadonly(), dtype=column.dtype)


def _call(event: Due) -> None:
    action, value = event.value
    action(value)
