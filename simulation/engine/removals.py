"""Enforced removals of people whose appeal rights are exhausted and who are returnable.

The capacity is a number of removals a month. By default it is one stream of removals, each
taking an exponential time at that rate; with ``removal_teams`` it is shared among that many
removals under way at once. Priority classes (``removal_priority``: by nationality group,
route, household, and recent claims) are served in their order, everyone else last, first come
first served within each from the date appeal rights were exhausted; the starting ARE stock
queues first within its class. Or, with ``share_of_removals`` on every class, the classes and
everyone else share the removals in those proportions while they have people waiting. A
person is removed only while still in the UK stock: one who departed, absconded or was taken
by a policy before their turn is skipped, and so is one no longer returnable (returnability
may change on dates: :class:`.after_refusal.Returnability`). A removal overwrites the
person's tentative exit. After removal a share come back (the revolving door, in
:mod:`.after_refusal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import simpy

from ..core.records import ExitOutcome
from ..core.units import DAYS_PER_MONTH, INF
from ..core.vocabulary import HOUSEHOLD_CODES, ROUTE_CODES
from .queueing import Handler, Queue

_BEING_REMOVED = int(ExitOutcome.BEING_REMOVED)
_REMOVED = int(ExitOutcome.REMOVED)


def class_members(classes: Sequence, groups: Sequence[str]) -> np.ndarray:
    """``members[class, group, route, household]``: whether the class names such people
    (leaving aside the date of their claim)."""
    members = np.zeros((len(classes), len(groups), len(ROUTE_CODES), len(HOUSEHOLD_CODES)), bool)
    for c, removal_class in enumerate(classes):
        for g, group in enumerate(groups):
            for route, r in ROUTE_CODES.items():
                for household, h in HOUSEHOLD_CODES.items():
                    members[c, g, r, h] = (
                        (removal_class.groups is None or group in removal_class.groups)
                        and (removal_class.routes is None or route in removal_class.routes)
                        and (
                            removal_class.households is None
                            or household in removal_class.households
                        )
                    )
    return members


def priority_tiers(classes: Sequence, groups: Sequence[str]) -> list[list[list[int]]]:
    """``tier[group][route][household]``: the index of the first class a person matches, or
    the number of classes (everyone else, served last)."""
    table = []
    for group in groups:
        by_route = []
        for route in ROUTE_CODES:
            row = []
            for household in HOUSEHOLD_CODES:
                tier = len(classes)
                for index, removal_class in enumerate(classes):
                    if (
                        (removal_class.groups is None or group in removal_class.groups)
                        and (removal_class.routes is None or route in removal_class.routes)
                        and (
                            removal_class.households is None
                            or household in removal_class.households
                        )
                    ):
                        tier = index
                        break
                row.append(tier)
            by_route.append(row)
        table.append(by_route)
    return table


def dated_tiers(
    dated: tuple[np.ndarray, np.ndarray], group, route, household, t_claim
) -> np.ndarray:
    """The first class each person belongs to, counting the date of their claim (``dated``:
    the classes' members by group, route and household, and the day each counts claims
    from)."""
    members, since = dated
    tiers = np.full(len(group), len(since))
    for c in reversed(range(len(since))):
        # the starting stock has no claim date (NaN): it matches only undated classes
        hit = members[c, group, route, household] & (np.isneginf(since[c]) | (t_claim >= since[c]))
        tiers[hit] = c
    return tiers


class RemovalStage(Handler):
    """The enforced-removal queue (its :class:`~simulation.engine.queueing.Handler`)."""

    def __init__(
        self,
        env: simpy.Environment,
        mv: dict[str, memoryview],
        still_in_uk: Callable[[int, float], bool],
        removed: Callable[[int], None],
        tiers: list[list[list[int]]] | None = None,
        dated: tuple[np.ndarray, np.ndarray] | None = None,
        shares: list[float] | None = None,
    ) -> None:
        self.after_removal = removed
        self.still_in_uk = still_in_uk
        self.awaiting: Callable[[int, float], bool] | None = None  # set by only_returnable
        self.tier_of = tiers
        # classes of recent claimants: (members[class, group, route, household], claimed
        # on or after this day per class), or None when no class looks at the claim date
        self.dated = dated
        count = 1 + max((t for g in tiers for r in g for t in r), default=0) if tiers else 1
        if dated is not None or shares is not None:
            count = len(shares if shares is not None else dated[1]) + 1
        self.queue = Queue(
            env,
            "removals",
            mv["work_removal"],
            mv["t_are"],
            self,
            tiers=count,
        )
        if count > 1:
            self.queue.set_order([[tier] for tier in range(count)])
        if shares is not None:
            self.queue.set_weights([*shares, max(0.0, 1.0 - sum(shares))])
        self.per_month = 0.0
        self.teams: float | None = None
        self.bind(mv)

    def bind(self, mv: dict[str, memoryview]) -> None:
        """Cache the record memoryviews (again after the population grows)."""
        self.t_exit = mv["t_exit"]
        self.exit_outcome = mv["exit_outcome"]
        self.returnable = mv["returnable"]
        self.group = mv["group"]
        self.route = mv["route"]
        self.household = mv["household"]
        self.t_claim = mv["t_claim"]
        self.parent = mv["parent"]
        self.queue.bind(mv["work_removal"], mv["t_are"])

    def tier(self, person: int) -> int:
        if self.tier_of is None:
            return 0
        if self.dated is not None:  # one person at a time, as dated_tiers does for many
            members, since = self.dated
            kind = (self.group[person], self.route[person], self.household[person])
            claimed = self.first_claim(person)
            for c in range(len(since)):
                if members[(c, *kind)] and (since[c] == -INF or claimed >= since[c]):
                    return c
            return len(since)
        return self.tier_of[self.group[person]][self.route[person]][self.household[person]]

    def first_claim(self, person: int) -> float:
        """When the person first claimed: their first record's claim date (a further
        submission or a return to the UK is a later record of an earlier claimant; the
        starting stocks' first claims are before the run, NaN)."""
        parent = self.parent[person]
        while parent >= 0:
            person, parent = parent, self.parent[parent]
        return self.t_claim[person]

    def load_stock(self, returnable: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """The returnable people of the starting ARE stock, first in their class."""
        if self.tier_of is None:
            self.queue.preload(returnable, np.zeros(len(returnable)))
            return
        if self.dated is not None:
            tiers = dated_tiers(
                self.dated,
                columns["group"][returnable],
                columns["route"][returnable],
                columns["household"][returnable],
                columns["t_claim"][returnable],
            )
        else:
            tiers = np.array(self.tier_of)[
                columns["group"][returnable],
                columns["route"][returnable],
                columns["household"][returnable],
            ]
        for tier in range(len(self.queue.tiers)):
            chosen = returnable[tiers == tier]
            self.queue.preload(chosen, np.zeros(len(chosen)), tier=tier)

    def join(self, person: int) -> None:
        self.queue.push(person, self.tier(person))

    def only_returnable(self, awaiting: Callable[[int, float], bool]) -> None:
        """Returnability may fall on a date: from now on a person reached in the queue is
        removed only if returnable then and nobody is acting on them (``awaiting``). A person
        who stopped being returnable is skipped; one who became returnable again before
        their turn keeps their place (and their second entry, if any, is skipped)."""
        self.awaiting = awaiting

    def still_waiting(self, person: int, now: float) -> bool:
        """Still to be removed: in the UK (or, when returnability falls on dates, returnable
        and nobody acting on them)."""
        if self.awaiting is not None:
            return bool(self.returnable[person]) and self.awaiting(person, now)
        return self.still_in_uk(person, now)

    def set_capacity(self, per_month: float) -> None:
        """Removals per month, shared among the teams."""
        self.per_month = per_month
        self._apply()

    def set_teams(self, teams: float) -> None:
        """Removals that can be under way at once."""
        self.teams = teams
        self._apply()

    def _apply(self) -> None:
        if self.teams is None:  # one stream at the monthly rate
            self.queue.set_rate(self.per_month / DAYS_PER_MONTH)
            self.queue.set_servers(1 if self.per_month > 0 else 0)
            return
        teams = int(round(self.teams))
        if teams > 0 and self.per_month > 0:
            self.queue.set_rate(self.per_month / teams / DAYS_PER_MONTH)
            self.queue.set_servers(teams)
        else:
            self.queue.set_servers(0)

    def begin(self, person: int, now: float) -> None:
        self.t_exit[person] = INF
        self.exit_outcome[person] = _BEING_REMOVED

    def finish(self, person: int, now: float) -> None:
        """Removed now."""
        self.t_exit[person] = now
        self.exit_outcome[person] = _REMOVED
        self.after_removal(person)
