"""Initial decisions: caseworkers serve one queue of claims.

A claim joins the queue when it is made (claims of the starting stock at the start date, in
the order they were made). While waiting, the claimant may withdraw: a competing risk drawn on
entry and written as the tentative outcome, overwritten if a caseworker gets there first. A
decided claim is granted with its nationality group's grant rate at that date, else refused
and handed to the appeal stage.

The queue can give claims made before a cut-off date priority until a given date (the 2023
"legacy backlog"). A fast track goes before everything: claims of named groups and routes made
within a window are decided first and, when refused, a share are certified with no in-country
appeal, so their appeal rights are exhausted at once (the UK's treatment of Albanian claims
from December 2022). Whether a refusal is certified reuses the claim's grant draw: given a
refusal at grant rate g, ``(u_grant - g) / (1 - g)`` is uniform and independent of everything
else. With one queue, no priority and no fast track, idle caseworkers book the next known
claims ahead (see :mod:`simulation.engine.queueing`): the same decisions at the same times,
with fewer events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from ..core.records import DecisionOutcome, Origin
from ..core.units import INF
from .queueing import Handler, Queue

_PENDING = int(DecisionOutcome.PENDING)
_WITHDRAWN = int(DecisionOutcome.WITHDRAWN)
_DIVERTED = int(DecisionOutcome.DIVERTED)
_GRANTED = int(DecisionOutcome.GRANTED)
_REFUSED = int(DecisionOutcome.REFUSED)
_REENTRY_ORIGIN = int(Origin.REENTRY)

#: the queue's tiers: the legacy priority, everyone else, the fast track
_LEGACY, _REST, _FAST = 0, 1, 2
#: claims worked out at a time when the known claims are set up
_SLICE = 1 << 16


@dataclass(frozen=True)
class FastTrackRule:
    """Claims of these group and route codes (None: all) made in [start, end) days."""

    groups: frozenset[int] | None
    routes: frozenset[int] | None
    start: float
    end: float
    certified_share: float

    def matches(self, group: np.ndarray, route: np.ndarray, t_claim: np.ndarray) -> np.ndarray:
        hit = (t_claim >= self.start) & (t_claim < self.end)
        if self.groups is not None:
            hit &= np.isin(group, list(self.groups))
        if self.routes is not None:
            hit &= np.isin(route, list(self.routes))
        return hit

    def matches_one(self, group: int, route: int, t_claim: float) -> bool:
        """:meth:`matches` for one claim."""
        return (
            self.start <= t_claim < self.end
            and (self.groups is None or group in self.groups)
            and (self.routes is None or route in self.routes)
        )


#: hook(person, now) -> True if a policy takes the person out of the UK system on arrival
DivertOne = Callable[[int, float], bool]
#: hook(person, now) after a claim joins the queue during the run
OnClaim = Callable[[int, float], None]


class DecisionStage(Handler):
    """The initial-decision queue and what happens when a claim is decided (the queue's
    :class:`~simulation.engine.queueing.Handler`)."""

    def __init__(
        self,
        env: simpy.Environment,
        mv: dict[str, memoryview],
        groups: int,
        withdrawal_rate: float,
        refused: Callable[[int, float], None],
        fast_track: Sequence[FastTrackRule] = (),
        certified: Callable[[int, float], None] | None = None,
    ) -> None:
        self.withdrawal_rate = withdrawal_rate
        self.refused = refused
        self.fast_track = list(fast_track)
        self.certified = certified
        self.grant_rate = [0.0] * groups
        self.later_claims_tier = 0
        self.divert_one: list[DivertOne] = []
        self.on_claim: list[OnClaim] = []
        self.queue = Queue(
            env,
            "decisions",
            mv["work_decision"],
            mv["t_claim"],
            self,
            tiers=3 if self.fast_track else 2,
        )
        self.bind(mv)

    def bind(self, mv: dict[str, memoryview]) -> None:
        """Cache the record memoryviews (again after the population grows)."""
        self.t_claim = mv["t_claim"]
        self.t_dec_start = mv["t_dec_start"]
        self.t_dec_end = mv["t_dec_end"]
        self.dec_outcome = mv["dec_outcome"]
        self.u_grant = mv["u_grant"]
        self.e_withdraw = mv["e_withdraw"]
        self.group = mv["group"]
        self.route = mv["route"]
        self.queue.bind(mv["work_decision"], mv["t_claim"])

    # ------------------------------------------------------------------ set-up

    def set_grant_rate(self, group: int, rate: float) -> None:
        self.grant_rate[group] = rate

    def tentative_withdrawals(self, columns: dict[str, np.ndarray], claimants: np.ndarray) -> None:
        """Claims joining the queue: withdrawal at its drawn time, unless decided first.
        (Worked out a slice of claims at a time: this is at the set-up's peak of memory.)"""
        t_claim, e_withdraw, t_dec_end = (
            columns["t_claim"],
            columns["e_withdraw"],
            columns["t_dec_end"],
        )
        for first in range(0, len(claimants), _SLICE):
            some = claimants[first : first + _SLICE]
            if self.withdrawal_rate > 0:
                start = np.maximum(t_claim[some], 0.0)
                with np.errstate(over="ignore"):  # a tiny hazard: never, in effect
                    waited = e_withdraw[some].astype(float) / self.withdrawal_rate
                t_dec_end[some] = start + waited
            else:
                t_dec_end[some] = INF
        columns["dec_outcome"][claimants] = _WITHDRAWN

    def load(
        self,
        claimants: np.ndarray,
        t_claim: np.ndarray,
        priority_before: float | None,
        priority_until: float | None,
        at: Callable[[float, Callable, object], None],
    ) -> None:
        """Queue the claims known before the run, with a priority tier if one is set.

        Tier 0 holds claims with priority (made before ``priority_before``), tier 1 the rest;
        from ``priority_until`` on they are served as one queue.
        """
        queue = self.queue
        fast: list[list[int]] = []
        if self.fast_track:
            on_track = self._rule_index(claimants, t_claim) >= 0
            queue.preload(claimants[on_track], tier=_FAST)
            claimants = claimants[~on_track]
            fast = [[_FAST]]
        early = None if priority_before is None else t_claim[claimants] < priority_before
        if early is not None and early.any():
            first, rest = claimants[early], claimants[~early]
            del early
            queue.preload(first, tier=_LEGACY)
            queue.preload(rest, tier=_REST)
            self.later_claims_tier = _REST
            queue.set_order([*fast, [_LEGACY], [_REST]])
            if priority_until is not None:
                at(max(priority_until, 0.0), queue.set_order, [*fast, [_LEGACY, _REST]])
        else:
            queue.preload(claimants, tier=_LEGACY)
            self.later_claims_tier = _LEGACY
            queue.set_order([*fast, [_LEGACY]])

    def _rule_index(self, people: np.ndarray, t_claim: np.ndarray) -> np.ndarray:
        """For each person, the first fast-track rule their claim matches, or -1."""
        index = np.full(len(people), -1)
        group = np.asarray(self.group)[people]
        route = np.asarray(self.route)[people]
        for number, rule in reversed(list(enumerate(self.fast_track))):
            index[rule.matches(group, route, np.asarray(t_claim)[people])] = number
        return index

    def fast_track_rule(self, person: int) -> FastTrackRule | None:
        """The fast-track rule ``person``'s claim falls under, if any."""
        group, route, t_claim = self.group[person], self.route[person], self.t_claim[person]
        for rule in self.fast_track:  # the first rule it matches
            if rule.matches_one(group, route, t_claim):
                return rule
        return None

    def book_ahead(self, change_times: list[float]) -> None:
        """With one first-come-first-served queue, idle caseworkers book known claims."""
        if self.later_claims_tier == _LEGACY and not self.fast_track:
            self.queue.allow_reservations(change_times)

    # ------------------------------------------------------------------ the queue

    def still_waiting(self, person: int, now: float) -> bool:
        """Still claiming: not withdrawn by ``now``."""
        return self.t_dec_end[person] > now

    def begin(self, person: int, now: float) -> None:
        self.t_dec_start[person] = now
        self.t_dec_end[person] = INF
        self.dec_outcome[person] = _PENDING

    def save(self, person: int) -> float:
        return self.t_dec_end[person]

    def restore(self, person: int, tentative_end: float) -> None:
        self.t_dec_start[person] = np.nan
        self.t_dec_end[person] = tentative_end
        self.dec_outcome[person] = _WITHDRAWN

    def finish(self, person: int, now: float) -> None:
        """The claim is decided now."""
        self.t_dec_end[person] = now
        rate = self.grant_rate[self.group[person]]
        if self.u_grant[person] < rate:
            self.dec_outcome[person] = _GRANTED
            return
        self.dec_outcome[person] = _REFUSED
        if self.fast_track:
            rule = self.fast_track_rule(person)
            if (
                rule is not None
                and rule.certified_share > 0
                and (self.u_grant[person] - rate) / (1.0 - rate) < rule.certified_share
            ):
                self.certified(person, now)
                return
        self.refused(person, now)

    # ------------------------------------------------------------------ claims during the run

    def claim(self, person: int, origin: int, now: float) -> None:
        """``person`` (a new record) claims now and joins the queue, unless diverted."""
        self.t_claim[person] = now
        if origin == _REENTRY_ORIGIN:
            for hook in self.divert_one:
                if hook(person, now):
                    self.dec_outcome[person] = _DIVERTED
                    self.t_dec_end[person] = now
                    return
        if self.withdrawal_rate > 0:
            self.t_dec_end[person] = now + self.e_withdraw[person] / self.withdrawal_rate
        else:
            self.t_dec_end[person] = INF
        self.dec_outcome[person] = _WITHDRAWN
        for hook in self.on_claim:
            hook(person, now)
        tier = self.later_claims_tier
        if self.fast_track and self.fast_track_rule(person) is not None:
            tier = _FAST
        self.queue.push(person, tier)

    # ------------------------------------------------------------------ verbs for policies

    def leave_one_by(self, person: int, time: float) -> bool:
        """The claim is withdrawn at ``time`` if that comes before its tentative end."""
        if time < self.t_dec_end[person]:
            self.t_dec_end[person] = time
            return True
        return False
