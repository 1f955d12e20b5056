"""Appeals to the First-tier Tribunal: judges serve one queue, first come first served.

A refused claimant appeals with the lodging share at that date; the others' appeal rights
are exhausted at once. An appeal is allowed (a grant) with the nationality group's allowed
rate at the date it is determined, else dismissed, and the person's appeal rights are
exhausted. The hearing's start is recorded, so capacity can be checked from the records.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from ..core.records import AppealOutcome
from ..core.units import INF
from .queueing import Handler, Queue

_APPEAL_PENDING = int(AppealOutcome.PENDING)
_ALLOWED = int(AppealOutcome.ALLOWED)
_DISMISSED = int(AppealOutcome.DISMISSED)


class AppealStage(Handler):
    """Lodging, the tribunal queue and determinations (the queue's
    :class:`~simulation.engine.queueing.Handler`: nobody leaves the tribunal queue)."""

    def __init__(
        self,
        env: simpy.Environment,
        mv: dict[str, memoryview],
        groups: int,
        rights_exhausted: Callable[[int, float], None],
    ) -> None:
        self.rights_exhausted = rights_exhausted
        self.allowed_rate = [0.0] * groups
        self.lodged_share = 0.0
        self.queue = Queue(
            env,
            "appeals",
            mv["work_appeal"],
            mv["t_app_start"],
            self,
        )
        self.bind(mv)

    def bind(self, mv: dict[str, memoryview]) -> None:
        """Cache the record memoryviews (again after the population grows)."""
        self.t_app_start = mv["t_app_start"]
        self.t_app_hearing = mv["t_app_hearing"]
        self.t_app_end = mv["t_app_end"]
        self.app_outcome = mv["app_outcome"]
        self.u_lodge = mv["u_lodge"]
        self.u_allowed = mv["u_allowed"]
        self.group = mv["group"]
        self.queue.bind(mv["work_appeal"], mv["t_app_start"])

    def set_allowed_rate(self, group: int, rate: float) -> None:
        self.allowed_rate[group] = rate

    def set_lodged_share(self, share: float) -> None:
        self.lodged_share = share

    def refused(self, person: int, now: float) -> None:
        """A refusal at initial decision: appeal, or appeal rights exhausted now."""
        if self.u_lodge[person] < self.lodged_share:
            self.t_app_start[person] = now
            self.t_app_end[person] = INF
            self.app_outcome[person] = _APPEAL_PENDING
            self.queue.push(person)
        else:
            self.rights_exhausted(person, now)

    def begin(self, person: int, now: float) -> None:
        """The hearing starts now."""
        self.t_app_hearing[person] = now

    def finish(self, person: int, now: float) -> None:
        """The appeal is determined now."""
        self.t_app_end[person] = now
        rate = self.allowed_rate[self.group[person]]
        if self.u_allowed[person] < rate:
            self.app_outcome[person] = _ALLOWED
        else:
            self.app_outcome[person] = _DISMISSED
            self.rights_exhausted(person, now)
