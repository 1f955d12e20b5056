"""Enforced removals of people whose appeal rights are exhausted and who are returnable.

Removal teams are modelled as one queue served at a monthly capacity, first come first
served from the date appeal rights were exhausted; the starting ARE stock queues first. A
person is removed only while still in the UK stock: one who departed, absconded or was taken
by a policy before their turn is skipped. A removal overwrites the person's tentative exit.
After removal a share come back (the revolving door, in :mod:`.after_refusal`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy

from ..core.records import ExitOutcome
from ..core.units import DAYS_PER_MONTH, INF
from .queueing import Queue

_BEING_REMOVED = int(ExitOutcome.BEING_REMOVED)
_REMOVED = int(ExitOutcome.REMOVED)


class RemovalStage:
    """The enforced-removal queue."""

    def __init__(
        self,
        env: simpy.Environment,
        mv: dict[str, memoryview],
        still_in_uk: Callable[[int, float], bool],
        removed: Callable[[int], None],
    ) -> None:
        self.after_removal = removed
        self.queue = Queue(
            env,
            "removals",
            mv["work_removal"],
            mv["t_are"],
            still_in_uk,
            self._start,
            self._removed,
        )
        self.bind(mv)

    def bind(self, mv: dict[str, memoryview]) -> None:
        """Cache the record memoryviews (again after the population grows)."""
        self.t_exit = mv["t_exit"]
        self.exit_outcome = mv["exit_outcome"]
        self.queue.bind(mv["work_removal"], mv["t_are"])

    def load_stock(self, returnable: np.ndarray) -> None:
        """The returnable people of the starting ARE stock, first in the queue."""
        self.queue.preload(returnable, np.zeros(len(returnable)))

    def join(self, person: int) -> None:
        self.queue.push(person)

    def set_capacity(self, per_month: float) -> None:
        """Removals per month (one team working at that rate; none when zero)."""
        self.queue.set_rate(per_month / DAYS_PER_MONTH)
        self.queue.set_servers(1 if per_month > 0 else 0)

    def _start(self, person: int, now: float) -> None:
        self.t_exit[person] = INF
        self.exit_outcome[person] = _BEING_REMOVED

    def _removed(self, person: int, now: float) -> None:
        self.t_exit[person] = now
        self.exit_outcome[person] = _REMOVED
        self.after_removal(person)
