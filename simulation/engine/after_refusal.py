"""After refusal: people whose appeal rights are exhausted (ARE) and their ways out.

On entering the ARE stock a person draws competing exits: voluntary departure (a hazard that
may change on dates and that policies may multiply), further submissions (a new claim in the
decision queue), absconding; with none of them they remain. The first exit drawn is written as
the tentative outcome; a returnable person also joins the removal queue, and an enforced
removal that comes first overwrites it (see :mod:`simulation.engine.removals`).

The revolving door: a share of the people who depart voluntarily or are removed come back
after a delay (exponential, with the given mean) as new claimants; share and delay depend on
how they left, their nationality group and the date (:mod:`.reentry`), times the policies'
deterrence of re-entrants at the time they would come back (``reentry_multiplier``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import simpy

from ..core import schedules
from ..core.records import ExitOutcome, Origin
from ..core.units import INF
from .events import Calendar, Due, now
from .hazards import PiecewiseHazard
from .population import Population
from .reentry import ENFORCED, VOLUNTARY, Reentry

_BEING_REMOVED = int(ExitOutcome.BEING_REMOVED)
_REMAINS = int(ExitOutcome.REMAINS)
_VOLUNTARY = int(ExitOutcome.VOLUNTARY)
_FURTHER = int(ExitOutcome.FURTHER_SUBMISSION)
_ABSCONDED = int(ExitOutcome.ABSCONDED)
_POLICY = int(ExitOutcome.POLICY)
_FURTHER_ORIGIN = int(Origin.FURTHER_SUBMISSION)
_REENTRY_ORIGIN = int(Origin.REENTRY)

#: claim_again(parent, origin, now): a new record for ``parent`` claims asylum now
ClaimAgain = Callable[[int, int, float], int]
#: hook(person, now) after a person's appeal rights are exhausted
OnAre = Callable[[int, float], None]
#: reentry_multiplier(person, time): the policies' factor on the chance of coming back at time
ReentryMultiplier = Callable[[int, float], float]


class AfterRefusal:
    """The ARE stock in the UK: competing exits, further submissions and re-entry."""

    def __init__(
        self,
        env: simpy.Environment,
        mv: dict[str, memoryview],
        horizon: float,
        voluntary: PiecewiseHazard,
        further_rate: float,
        abscond_rate: float,
        reentry: Reentry,
        claim_again: ClaimAgain,
    ) -> None:
        self.env = env
        self.calendar = Calendar(env)  # further submissions and returns: years ahead
        self.horizon = horizon
        self.voluntary = voluntary
        self.further_rate = further_rate
        self.abscond_rate = abscond_rate
        self.reentry = reentry
        self.claim_again = claim_again
        self.join_removal_queue: Callable[[int], None] = _no_removals  # set by the pipeline
        self.on_are: list[OnAre] = []
        self.reentry_multiplier: ReentryMultiplier | None = None  # set by the pipeline
        self.bind(mv)

    def bind(self, mv: dict[str, memoryview]) -> None:
        """Cache the record memoryviews (again after the population grows)."""
        self.t_are = mv["t_are"]
        self.t_exit = mv["t_exit"]
        self.exit_outcome = mv["exit_outcome"]
        self.returnable = mv["returnable"]
        self.e_voluntary = mv["e_voluntary"]
        self.e_further = mv["e_further"]
        self.e_abscond = mv["e_abscond"]
        self.u_reentry = mv["u_reentry"]
        self.e_reentry = mv["e_reentry"]
        self.group = mv["group"]

    # ------------------------------------------------------------------ entering ARE

    def enter(self, person: int, now: float) -> None:
        """Appeal rights exhausted: draw the competing exits, join the removal queue."""
        self.t_are[person] = now
        exit_time = self.voluntary.time_of(now, self.e_voluntary[person])
        outcome = _VOLUNTARY if exit_time < INF else _REMAINS
        if self.further_rate > 0:
            t = now + self.e_further[person] / self.further_rate
            if t < exit_time:
                exit_time, outcome = t, _FURTHER
        if self.abscond_rate > 0:
            t = now + self.e_abscond[person] / self.abscond_rate
            if t < exit_time:
                exit_time, outcome = t, _ABSCONDED
        self.t_exit[person] = exit_time
        self.exit_outcome[person] = outcome
        if exit_time < self.horizon:
            if outcome == _FURTHER:
                self._later(exit_time - now, self._further_submission, person)
            elif outcome == _VOLUNTARY and self._comes_back(VOLUNTARY, person, exit_time):
                delay = exit_time - now + self._reentry_delay(person, VOLUNTARY)
                self._later(delay, self._return_after_departure, person)
        if self.returnable[person]:
            self.join_removal_queue(person)
        for hook in self.on_are:
            hook(person, now)

    def enter_at_start(self, columns: dict[str, np.ndarray], people: np.ndarray) -> None:
        """:meth:`enter` at time 0 for the starting ARE stock, vectorised (the removal queue
        is loaded with them separately)."""
        zero = np.zeros(len(people))

        def draws(name: str) -> np.ndarray:
            return columns[name][people].astype(float)

        candidates = [
            (self.voluntary.times_of(zero, draws("e_voluntary")), _VOLUNTARY),
            (_hazard_times(draws("e_further"), self.further_rate), _FURTHER),
            (_hazard_times(draws("e_abscond"), self.abscond_rate), _ABSCONDED),
        ]
        exit_time = np.full(len(people), INF)
        outcome = np.full(len(people), _REMAINS, dtype=np.int8)
        for times, code in candidates:
            sooner = times < exit_time
            exit_time[sooner] = times[sooner]
            outcome[sooner] = code
        # the start state may date some refusals in the days before the start
        t_are = columns["t_are"][people]
        columns["t_are"][people] = np.where(np.isnan(t_are), 0.0, t_are)
        columns["t_exit"][people] = exit_time
        columns["exit_outcome"][people] = outcome
        within = exit_time < self.horizon
        for person in people[within & (outcome == _FURTHER)].tolist():
            self._later(self.t_exit[person], self._further_submission, person)
        leaving = within & (outcome == _VOLUNTARY)
        leaving &= self.reentry.comes_back_many(
            VOLUNTARY, columns["group"][people], columns["u_reentry"][people], exit_time
        )
        for person in people[leaving].tolist():
            if self.reentry_multiplier is not None and not self._comes_back(
                VOLUNTARY, person, self.t_exit[person]
            ):
                continue
            delay = self.t_exit[person] + self._reentry_delay(person, VOLUNTARY)
            self._later(delay, self._return_after_departure, person)
        for hook in self.on_are:
            for person in people.tolist():
                hook(person, 0.0)

    # ------------------------------------------------------------------ who is here

    def still_in_uk(self, person: int, now: float) -> bool:
        """In the ARE stock at ``now`` (possibly being removed), not taken by a policy."""
        return self.t_exit[person] > now and self.exit_outcome[person] != _POLICY

    def awaiting_removal(self, person: int, now: float) -> bool:
        """In the ARE stock in the UK at ``now`` and nobody is acting on them."""
        return self.t_exit[person] > now and self.exit_outcome[person] not in (
            _BEING_REMOVED,
            _POLICY,
        )

    def take_out(self, person: int, now: float, done: bool) -> None:
        """A policy takes ``person`` out of the ARE stock: pending until ``done``."""
        self.t_exit[person] = now if done else INF
        self.exit_outcome[person] = _POLICY

    # ------------------------------------------------------------------ the revolving door

    def after_removal(self, person: int, kind: int = ENFORCED) -> None:
        """``person`` left the UK now (``kind``: an enforced removal, or from a place a
        policy holds abroad): a share come back after a delay."""
        if self._comes_back(kind, person, now(self.env)):
            self._later(self._reentry_delay(person, kind), self._return_after_removal, person)

    def _comes_back(self, kind: int, person: int, left: float) -> bool:
        """Whether ``person``, leaving at ``left``, comes back: their uniform below the share
        for how and when they left, times the policies' deterrence at the time they would."""
        group, u = self.group[person], self.u_reentry[person]
        if not self.reentry.comes_back(kind, group, u, left):
            return False
        if self.reentry_multiplier is None:
            return True
        back = left + self._reentry_delay(person, kind)
        factor = self.reentry_multiplier(person, back)
        return factor >= 1.0 or self.reentry.comes_back(kind, group, u, left, factor)

    def _reentry_delay(self, person: int, kind: int) -> float:
        return self.e_reentry[person] * self.reentry.mean_delay(kind, self.group[person])

    def _later(self, delay: float, action: Callable[[Due], None], person: int) -> None:
        if now(self.env) + delay < self.horizon:
            self.calendar.at(delay, action, person)

    def _further_submission(self, event: Due) -> None:
        person = event.value
        if self.exit_outcome[person] == _FURTHER:  # not removed first
            self.claim_again(person, _FURTHER_ORIGIN, now(self.env))

    def _return_after_departure(self, event: Due) -> None:
        person = event.value
        if self.exit_outcome[person] == _VOLUNTARY:  # not removed before departing
            self.claim_again(person, _REENTRY_ORIGIN, now(self.env))

    def _return_after_removal(self, event: Due) -> None:
        self.claim_again(event.value, _REENTRY_ORIGIN, now(self.env))


class Returnability:
    """Who can be removed to their country when a group's ``returnable_share`` changes on
    dates.

    Each person keeps one uniform draw, ``u_returnable``, made on arrival and kept by every
    later record of theirs, and is returnable on a date when it is below their group's share
    on that date (a monotone coupling: when the share rises, everyone returnable before stays
    so and some more become so; when it falls, some stop being returnable, person by person).
    The ``returnable`` column says whether a record is returnable now: it is set on arrival
    and brought up to date on each change date for every record still in the system (not
    yet left the UK stock, or held abroad by a policy); a record that left keeps the value it
    had then. On a change date, people waiting in the UK stock with appeal rights exhausted
    who become returnable join the removal queue in the order of their ARE dates (after
    everyone already waiting in their priority class); people who stop being returnable stay
    in the stock, and the removal queue skips them when it reaches them.

    A policy may make a person returnable whatever the share (``make_returnable``, as a
    returns agreement does). The engine finds such people where it updates a record (returnable
    though their uniform is not below the share that applied) and sets their uniform to -inf,
    so they stay returnable at every later share, in every later record.
    """

    def __init__(
        self,
        env: simpy.Environment,
        shares: Sequence[schedules.ScheduleValue],
        start: date,
        horizon: float,
    ) -> None:
        self.env = env
        self.shares = list(shares)
        self.start = start
        self.current = [float(schedules.value_at(s, start, 0.0)) for s in self.shares]
        #: (time, (group, share)) for every change of a group's share inside the run
        self.changes = [
            (t, (group, value))
            for group, share in enumerate(self.shares)
            for t, value in schedules.changes_within(share, start, horizon)
        ]
        self.dated = [any(g == group for _, (g, _) in self.changes) for group in range(len(shares))]
        self.population: Population | None = None
        self.join: Callable[[int], None] = _no_removals

    @property
    def changes_on_dates(self) -> bool:
        """True if some group's share changes during the run."""
        return bool(self.changes)

    def wire(self, population: Population, join: Callable[[int], None]) -> None:
        """The records to keep up to date and the removal queue's ``join(person)``."""
        self.population = population
        self.join = join

    def change(self, change: tuple[int, float]) -> None:
        """On a change date: ``(group, share)`` from now on."""
        group, share = change
        old, self.current[group] = self.current[group], share
        t = now(self.env)
        columns, size = self.population.columns, self.population.size
        t_exit = columns["t_exit"][:size]
        in_system = ~(t_exit < t) | (columns["exit_outcome"][:size] == _POLICY)
        arrived = ~(columns["t_claim"][:size] >= t)  # the rest are set on arrival
        people = np.flatnonzero((columns["group"][:size] == group) & in_system & arrived)
        u = columns["u_returnable"][people]
        was = columns["returnable"][people] != 0
        by_policy = was & ~(u < old)
        columns["u_returnable"][people[by_policy]] = -np.inf
        now_returnable = (u < share) | by_policy
        columns["returnable"][people] = now_returnable
        rising = people[now_returnable & ~was]
        waiting = rising[
            (columns["t_are"][rising] <= t)
            & (columns["t_exit"][rising] > t)
            & ~np.isin(columns["exit_outcome"][rising], (_BEING_REMOVED, _POLICY))
        ]
        for person in waiting[np.argsort(columns["t_are"][waiting], kind="stable")].tolist():
            self.join(person)

    def inherit(self, child: int, parent: int) -> None:
        """A new record of ``parent``'s person (its attributes copied): returnable now if
        their uniform is below the share now, or if a policy had made them returnable."""
        columns = self.population.columns
        group = int(columns["group"][child])
        if not self.dated[group]:
            return
        t = now(self.env)
        u = columns["u_returnable"]
        left = columns["t_exit"][parent]
        if left < t and columns["exit_outcome"][parent] != _POLICY:  # the share it left with
            then = float(schedules.value_at(self.shares[group], self.start, left))
        else:
            then = self.current[group]
        if columns["returnable"][parent] and not u[parent] < then:
            u[parent] = u[child] = -np.inf
        columns["returnable"][child] = u[child] < self.current[group]


def _no_removals(_person: int) -> None:
    raise RuntimeError("the removal queue was not wired to the ARE stage")


def _hazard_times(exposure: np.ndarray, rate: float) -> np.ndarray:
    if rate <= 0:
        return np.full(len(exposure), INF)
    with np.errstate(over="ignore"):
        return exposure / rate
