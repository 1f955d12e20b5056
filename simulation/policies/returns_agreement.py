"""A returns agreement with one country (the UK-Albania model).

From the start date, people of one nationality group become more returnable and the group's
arrivals fall.

Returnability. Each claimant is drawn returnable or not on arrival, with the group's
``returnable_share`` in the scenario (``old``). The agreement raises it to its own
``returnable_share`` (``new``): every person of the group who is not returnable is made
returnable with probability

    p_up = (new - old) / (1 - old)

so that old + (1 - old) * p_up = new. The draw is made once per person (a further claim or a
return to the UK keeps it), when their appeal rights are exhausted on or after the start date,
or on the start date for people already in the ARE stock then (the starting stock included).

The scenario's own share may change on dates (``returnable_share`` as a schedule): ``old`` is
then the group's share on the day of the person's draw, and when the share falls after the
start date, people waiting in the ARE stock who stopped being returnable get their draw then.
Whom the agreement made returnable stays returnable at every later share of the scenario (the
engine keeps them so); the scenario's share decides for everyone else. A draw is not made
again when the scenario's share changes later, so the group's returnable share then drifts
from ``new``: for example old 0.5 falling to 0.2 after the draws, with ``new`` 0.8, gives
0.2 + 0.3 x 0.75 + 0.5 x 0.6 = 0.725 for people drawn before the fall.
A person made returnable who is waiting in the ARE stock joins the enforced-removal queue; the
agreement adds no removal capacity, so they compete with everyone else for it.

Arrivals. From the start date a share ``deterred_share`` of the group's would-be arrivals on
``deterrence_routes`` do not come (the arrival rate is thinned by 1 - deterred_share from the
same stream, so the people who still come are the same people as without the agreement).
People of the group who left the UK and would come back on those routes (the revolving door)
come back with their chance multiplied by 1 - deterred_share.

Costs. ``cost_per_removal_gbp`` is paid for every enforced removal of the group from the start
date (payments to the partner country), on top of the core cost of a removal, which the core
ledger already counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, model_validator

from ..core import schedules, timeline
from ..core.errors import Problem
from ..core.records import ExitOutcome
from ..core.vocabulary import ROUTE_CODES, ROUTES, Route
from .contract import (
    Policy,
    PolicyConfig,
    PolicyOutput,
    deterred_share_field,
    event_charges,
    reject_renamed,
)

if TYPE_CHECKING:
    from ..inputs.scenario import Scenario


class ReturnsAgreementConfig(PolicyConfig):
    """A returns agreement: one nationality group more returnable, and fewer of its arrivals."""

    group: str = Field(description="the nationality group covered (a key of nationality_groups)")
    returnable_share: float = Field(
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="share of the group removable to their country under the agreement; at "
        "least the group's own returnable_share",
    )
    deterred_share: float = deterred_share_field(
        "share of the group's would-be arrivals (and re-entries) on deterrence_routes deterred "
        "from the start date (0: none)"
    )
    deterrence_routes: list[Route] = Field(
        default=list(ROUTES), min_length=1, description="routes on which deterrence applies"
    )
    cost_per_removal_gbp: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="paid per enforced removal of the group from the start date, on top of "
        "the core cost of a removal",
    )

    _renamed = model_validator(mode="before")(reject_renamed)

    def problems_with(self, scenario: Scenario) -> list[Problem]:
        """The group must exist, and the agreement cannot make it less returnable."""
        groups = scenario.nationality_groups
        if self.group not in groups:
            known = ", ".join(groups)
            return [
                ("group", f"unknown nationality group {self.group!r}; the scenario has {known}")
            ]
        start = (self.start_date - scenario.start_date).days
        old = float(
            schedules.value_at(groups[self.group].returnable_share, scenario.start_date, start)
        )
        if self.returnable_share < old:
            return [
                (
                    "returnable_share",
                    f"must be at least the group's returnable_share on the start date "
                    f"({old:g}), got {self.returnable_share:g}: an agreement cannot make "
                    f"people less returnable",
                )
            ]
        return []


def uplift(old: float, new: float) -> float:
    """Probability that a person not returnable at the old share is at the new one."""
    if new <= old or old >= 1:
        return 0.0
    return (new - old) / (1 - old)


class ReturnsAgreement(Policy):
    name = "returns_agreement"
    config: ReturnsAgreementConfig

    def __init__(
        self,
        config: ReturnsAgreementConfig,
        scenario: Scenario,
        rng: np.random.Generator,
        horizon: float,
    ) -> None:
        super().__init__(config, scenario, rng, horizon)
        groups = scenario.nationality_groups
        self.group = list(groups).index(config.group)
        share = groups[config.group].returnable_share
        self.dated = isinstance(share, dict)  # the scenario's own share changes on dates
        self.share_times, self.share_values = schedules.steps(share, scenario.start_date)
        new = config.returnable_share
        self.p_up = uplift(self._share_at(self.start_time), new)
        in_force = self.share_values[self._period(self.start_time) :]
        self.lifts = any(uplift(float(old), new) > 0 for old in in_force)
        # days after the start when the group's share falls: some stop being returnable
        times, values = self.share_times, self.share_values
        self.falls = [
            float(t)
            for t, before, after in zip(times[1:], values[:-1], values[1:], strict=True)
            if after < before and max(self.start_time, 0.0) < t < horizon
        ]
        self.routes = [ROUTE_CODES[r] for r in config.deterrence_routes]
        self.decided: dict[int, bool] = {}  # first record of a person -> made returnable
        self.before: list[int] = []  # reached ARE before the start date: re-checked then
        self.made: list[tuple[int, float]] = []  # (record, time) made returnable
        self.made_records: set[int] = set()

    # ------------------------------------------------------------------ hooks

    def arrival_multiplier(self, candidates: Mapping[str, np.ndarray]) -> np.ndarray:
        times = candidates["time"]
        factor = np.ones(len(times))
        covered = (times >= self.start_time) & (candidates["group"] == self.group)
        covered &= np.isin(candidates["route"], self.routes)
        factor[covered] = 1.0 - self.config.deterred_share
        return factor

    def reentry_multiplier(self, person: int, time: float) -> float:
        """A re-entrant of the group on a deterred route is deterred as a new arrival."""
        engine = self.engine
        if (
            time >= self.start_time
            and engine.value("group", person) == self.group
            and engine.value("route", person) in self.routes
        ):
            return 1.0 - self.config.deterred_share
        return 1.0

    def on_are(self, person: int, now: float) -> None:
        engine = self.engine
        if not self.lifts or engine.value("group", person) != self.group:
            return
        if now < self.start_time:
            # re-checked on the start date (with a dated share, a person returnable now may
            # not be by then)
            if self.dated or not engine.value("returnable", person):
                self.before.append(person)
        elif not engine.value("returnable", person):
            self._decide(person)

    def start(self) -> None:
        if 0 < self.start_time < self.horizon and self.before:
            self.engine.schedule(self.start_time - self.engine.now, self._on_start_date)
        if self.lifts:
            for t in self.falls:
                self.engine.schedule(t - self.engine.now, self._after_fall)

    # ------------------------------------------------------------------ returnability

    def _on_start_date(self, _value: object = None) -> None:
        """People still waiting in the ARE stock on the start date get their draw now."""
        engine = self.engine
        for person in self.before:
            if engine.awaiting_removal(person) and not engine.value("returnable", person):
                self._decide(person)
        self.before = []

    def _after_fall(self, _value: object = None) -> None:
        """The group's share fell today: people waiting in the ARE stock who stopped being
        returnable get their draw now, in the order of their ARE dates."""
        engine = self.engine
        t_are = engine.read("t_are")
        waiting = np.flatnonzero(
            (engine.read("group") == self.group)
            & (engine.read("returnable") == 0)
            & (t_are <= engine.now)
        )
        for person in waiting[np.argsort(t_are[waiting], kind="stable")].tolist():
            if engine.awaiting_removal(person):
                self._decide(person)

    def _share_at(self, t: float) -> float:
        """The scenario's returnable share of the group at time ``t``."""
        return float(self.share_values[self._period(t)])

    def _period(self, t: float) -> int:
        return max(int(np.searchsorted(self.share_times, t, side="right")) - 1, 0)

    def _decide(self, person: int) -> None:
        """One draw per person: made returnable with probability p_up (from the share of
        the day)."""
        first = self._first_record(person)
        made = self.decided.get(first)
        if made is None:
            p_up = uplift(self._share_at(self.engine.now), self.config.returnable_share)
            made = bool(self.rng.random() < p_up)
            self.decided[first] = made
        if made:
            self.engine.make_returnable(person)
            if person not in self.made_records:
                self.made_records.add(person)
                self.made.append((person, self.engine.now))

    def _first_record(self, person: int) -> int:
        """The person's first record (records of later claims point back to it)."""
        parent = self.engine.read("parent")
        while parent[person] >= 0:
            person = int(parent[person])
        return person

    # ------------------------------------------------------------------ after the run

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        made = np.array([p for p, _ in self.made], dtype=np.int64)
        made_at = np.array([t for _, t in self.made], dtype=float)
        removed = (
            (records["exit_outcome"] == ExitOutcome.REMOVED)
            & (records["group"] == self.group)
            & (records["t_exit"] >= self.start_time)
        )
        made_first = [first for first, yes in self.decided.items() if yes]
        unlocked = removed & np.isin(first_records(records["parent"]), made_first)
        removals = records["t_exit"][removed]
        costs, charges = {}, {}
        if self.config.cost_per_removal_gbp > 0:
            per_day = timeline.per_day(removals, self.days)
            costs["returns_agreement"] = per_day * self.config.cost_per_removal_gbp
            charges["returns_agreement"] = event_charges(
                np.flatnonzero(removed), removals, self.config.cost_per_removal_gbp, self.days
            )
        return PolicyOutput(
            events={
                "made_returnable_by_agreement": made_at,
                "removals_under_agreement": removals,
                "removals_unlocked_by_agreement": records["t_exit"][unlocked],
            },
            summary={
                "made_returnable": int(len(made)),
                "made_on_start_date": int((made_at <= max(self.start_time, 0.0)).sum()),
                "group_removals": int(removed.sum()),
                "removals_unlocked": int(unlocked.sum()),
            },
            costs=costs,
            charges=charges,
            details={"made_returnable": made},
        )


def first_records(parent: np.ndarray) -> np.ndarray:
    """For every record, the first record of the same person (following ``parent``)."""
    first = np.arange(len(parent))
    while True:
        up = parent[first]
        later = up >= 0
        if not later.any():
            return first
        first = np.where(later, up, first)


ReturnsAgreementConfig.runtime = ReturnsAgreement
