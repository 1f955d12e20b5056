"""The SimPy model of the asylum pipeline.

    arrivals -> initial-decision queue (caseworkers; withdrawals while waiting)
      grant -> leaves the asylum system (support for the move-on period)
      refuse -> appeal? -> tribunal queue (judges) -> allowed: grant | dismissed: ARE
             -> no appeal: ARE
    ARE (appeal rights exhausted) -> first of: enforced removal (capacity, returnable only),
      voluntary departure, further submissions (a new claim in the decision queue), absconding;
      or remains in the UK. A share of those removed or departed come back later as claimants.

Events happen only where capacity and queues interact: service completions in the three
queues, plus further submissions and returns, which create new claims. Everything else is a
competing risk drawn when a person enters a stage and written as a tentative outcome, then
overwritten if a queue event comes first. Series, accommodation and costs are computed from
the records after the run (see results.py).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from . import arrivals, initial_state, schedules
from .hazards import PiecewiseHazard
from .policies import build_runtimes
from .policies.base import PolicyOutput, PolicyRuntime
from .population import (
    DRAWS,
    AppealOutcome,
    DecisionOutcome,
    ExitOutcome,
    Origin,
    Population,
    draw_block,
)
from .queueing import Stage, at
from .rng import RandomStreams
from .scenario import Scenario

INF = math.inf
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

_PENDING = int(DecisionOutcome.PENDING)
_WITHDRAWN = int(DecisionOutcome.WITHDRAWN)
_DIVERTED = int(DecisionOutcome.DIVERTED)
_GRANTED = int(DecisionOutcome.GRANTED)
_REFUSED = int(DecisionOutcome.REFUSED)
_APPEAL_PENDING = int(AppealOutcome.PENDING)
_ALLOWED = int(AppealOutcome.ALLOWED)
_DISMISSED = int(AppealOutcome.DISMISSED)
_BEING_REMOVED = int(ExitOutcome.BEING_REMOVED)
_REMAINS = int(ExitOutcome.REMAINS)
_REMOVED = int(ExitOutcome.REMOVED)
_VOLUNTARY = int(ExitOutcome.VOLUNTARY)
_FURTHER = int(ExitOutcome.FURTHER_SUBMISSION)
_ABSCONDED = int(ExitOutcome.ABSCONDED)
_POLICY = int(ExitOutcome.POLICY)
_REENTRY_ORIGIN = int(Origin.REENTRY)


@dataclass
class RunRecords:
    """What one simulation leaves behind: the records and the facts needed to read them."""

    scenario: Scenario
    seed: int
    replication: int
    horizon: float
    records: dict[str, np.ndarray]
    arrivals_by_day: dict[str, np.ndarray]
    events: int
    wall_seconds: float
    policies: list[PolicyRuntime] = field(default_factory=list)
    policy_outputs: dict[str, PolicyOutput] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


def _rate(per_year: float) -> float:
    return per_year / DAYS_PER_YEAR


class Pipeline:
    """The event logic; one instance simulates one replication."""

    def __init__(
        self,
        scenario: Scenario,
        streams: RandomStreams,
        policies: list[PolicyRuntime] | None = None,
    ) -> None:
        self.scenario = scenario
        self.streams = streams
        self.horizon = float(scenario.horizon_days)
        self.env = simpy.Environment()
        self.policies = list(policies or [])
        hooked = {p: set(type(p).hooks()) for p in self.policies}

        def using(hook: str) -> list[PolicyRuntime]:
            return [p for p in self.policies if hook in hooked[p]]

        self._on_are = [p.on_are for p in using("on_are")]
        self._on_claim = [p.on_claim for p in using("on_claim")]
        self._divert_one = [p.divert_one for p in using("divert_one")]
        multipliers = [p.arrival_multiplier for p in using("arrival_multiplier")]

        def combined_multiplier(route: int, times: np.ndarray) -> np.ndarray:
            factor = np.ones(len(times))
            for multiplier in multipliers:
                factor *= multiplier(route, times)
            return factor

        stock = initial_state.build(scenario, streams["initial_state"])
        stream = arrivals.generate(
            scenario, streams, self.horizon, combined_multiplier if multipliers else None
        )
        self.arrivals_by_day = stream.arrivals_by_day
        n_stock = len(stock["u_grant"])
        n_claims = stream.count
        claims = dict(stream.columns)
        claims["origin"] = np.full(n_claims, int(Origin.NEW_CLAIM), np.int8)
        dynamic = streams["dynamic"]
        self.population = Population(
            [stock, claims],
            spare=max(1024, n_claims // 4),
            fill_draws=lambda n: draw_block({p: dynamic for p in DRAWS}, n),
        )
        del stock, claims, stream

        sc = scenario
        self.withdrawal_rate = _rate(sc.decisions.withdrawal_rate_per_year)
        multipliers = [
            step
            for p in using("voluntary_departure_multiplier")
            for step in p.voluntary_departure_multiplier()
        ]
        times, rates = schedules.steps(
            sc.after_refusal.voluntary_departure_rate_per_year, sc.start_date
        )
        self.voluntary = PiecewiseHazard.from_schedule(times, rates / DAYS_PER_YEAR, multipliers)
        self.further_rate = _rate(sc.after_refusal.further_submission_rate_per_year)
        self.abscond_rate = _rate(sc.after_refusal.absconding_rate_per_year)
        self.reentry_share = sc.after_refusal.reentry_share
        self.reentry_delay = sc.after_refusal.reentry_mean_delay_days
        self.people_per_case = sc.people_per_case
        groups = list(sc.nationality_groups.values())
        self.grant_rate = [0.0] * len(groups)
        self.allowed_rate = [0.0] * len(groups)
        self.lodged_share = 0.0

        mv = self.population.mv
        self.decisions = Stage(
            self.env,
            "decisions",
            mv["work_decision"],
            mv["t_claim"],
            self._still_claiming,
            self._start_decision,
            self._decided,
            tiers=2,
        )
        self.appeals = Stage(
            self.env,
            "appeals",
            mv["work_appeal"],
            mv["t_app_start"],
            self._always,
            self._noop,
            self._appeal_determined,
        )
        self.removals = Stage(
            self.env,
            "removals",
            mv["work_removal"],
            mv["t_are"],
            self._still_in_uk,
            self._start_removal,
            self._removed,
        )
        self._bind()
        new_claims = np.arange(n_stock, self.population.size)
        for policy in using("divert"):
            policy.divert(
                self, new_claims[self.population.columns["dec_outcome"][new_claims] != _DIVERTED]
            )
        self._load_stocks(n_stock, [p.on_claims for p in using("on_claims")])
        self._schedule_parameters()
        if self.later_claims_tier == 0:  # one queue, first come first served: book ahead
            change_times = [
                t
                for schedule in (
                    sc.decisions.caseworkers_fte,
                    sc.decisions.decisions_per_fte_per_month,
                )
                for t, _ in schedules.changes_within(schedule, sc.start_date, self.horizon)
            ]
            self.decisions.allow_reservations(change_times, self._save_claim, self._restore_claim)
        for policy in using("start"):
            policy.start(self)

    # ------------------------------------------------------------------ set-up

    def _bind(self) -> None:
        """Cache the record memoryviews (again after the population grows)."""
        mv = self.population.mv
        for name, view in mv.items():
            setattr(self, name, view)
        self.decisions.bind(mv["work_decision"], mv["t_claim"])
        self.appeals.bind(mv["work_appeal"], mv["t_app_start"])
        self.removals.bind(mv["work_removal"], mv["t_are"])

    def divert_on_arrival(self, people: np.ndarray) -> None:
        """Take claimants known before the run out of the UK system on arrival (a policy's
        doing: the policy keeps track of them from then on)."""
        columns = self.population.columns
        columns["dec_outcome"][people] = _DIVERTED
        columns["t_dec_end"][people] = columns["t_claim"][people]

    def _load_stocks(self, n_stock: int, on_claims) -> None:
        columns = self.population.columns
        size = self.population.size
        origin = columns["origin"][:size]
        waiting = np.flatnonzero(origin == Origin.STOCK_AWAITING)
        new = np.arange(n_stock, size)
        new = new[columns["dec_outcome"][new] != _DIVERTED]
        claimants = np.concatenate([waiting, new])
        t_claim = columns["t_claim"]
        # Tentative outcome: withdrawal at its drawn time, unless a caseworker gets there first.
        if self.withdrawal_rate > 0:
            start = np.maximum(t_claim[claimants], 0.0)
            with np.errstate(over="ignore"):  # a tiny hazard: never, in effect
                waited = columns["e_withdraw"][claimants].astype(float) / self.withdrawal_rate
            columns["t_dec_end"][claimants] = start + waited
        else:
            columns["t_dec_end"][claimants] = INF
        columns["dec_outcome"][claimants] = _WITHDRAWN
        for hook in on_claims:
            hook(self, claimants)
        # Tier 0: claims with priority (made before a cut-off date); tier 1: the rest.
        decisions = self.scenario.decisions
        cutoff = INF
        if decisions.priority_claims_before is not None:
            cutoff = float((decisions.priority_claims_before - self.scenario.start_date).days)
        first = claimants[t_claim[claimants] < cutoff]
        if decisions.priority_claims_before is not None and len(first):
            rest = claimants[~(t_claim[claimants] < cutoff)]
            self.decisions.preload(first, t_claim[first], tier=0)
            self.decisions.preload(rest, t_claim[rest], tier=1)
            self.later_claims_tier = 1
            self.decisions.set_order([[0], [1]])
            if decisions.priority_until is not None:
                until = float((decisions.priority_until - self.scenario.start_date).days)
                self._at(max(until, 0.0), self.decisions.set_order, [[0, 1]])
        else:
            self.decisions.preload(claimants, t_claim[claimants], tier=0)
            self.later_claims_tier = 0
            self.decisions.set_order([[0]])

        appeal = np.flatnonzero(origin == Origin.STOCK_APPEAL)
        columns["t_app_end"][appeal] = INF
        columns["app_outcome"][appeal] = _APPEAL_PENDING
        self.appeals.preload(appeal, columns["t_app_start"][appeal])

        are = np.flatnonzero(origin == Origin.STOCK_ARE)
        self._enter_are_at_start(are)
        returnable = are[columns["returnable"][are] == 1]
        self.removals.preload(returnable, np.zeros(len(returnable)))

    def _at(self, t: float, action, value) -> None:
        at(self.env, t, lambda _event: action(value))

    def _schedule_parameters(self) -> None:
        """Set every time-varying parameter now and schedule its changes."""
        sc = self.scenario
        ppc = self.people_per_case

        def plan(schedule, action, transform=float) -> None:
            action(transform(schedules.value_at(schedule, sc.start_date, 0.0)))
            for t, value in schedules.changes_within(schedule, sc.start_date, self.horizon):
                self._at(t, action, transform(value))

        plan(sc.decisions.caseworkers_fte, self.decisions.set_servers, lambda v: int(round(v)))
        plan(
            sc.decisions.decisions_per_fte_per_month,
            self.decisions.set_rate,
            lambda v: float(v) * ppc / DAYS_PER_MONTH,
        )
        plan(sc.appeals.judges_fte, self.appeals.set_servers, lambda v: int(round(v)))
        plan(
            sc.appeals.determinations_per_judge_per_day,
            self.appeals.set_rate,
            lambda v: float(v) * ppc,
        )
        plan(sc.appeals.lodged_share, self._set_lodged)
        plan(
            sc.after_refusal.enforced_removals_per_month,
            self._set_removal_capacity,
        )
        for index, group in enumerate(sc.nationality_groups.values()):
            plan(group.grant_rate, lambda v, i=index: self.grant_rate.__setitem__(i, v))
            plan(group.appeal_allowed_rate, lambda v, i=index: self.allowed_rate.__setitem__(i, v))

    def _set_lodged(self, value: float) -> None:
        self.lodged_share = value

    def _set_removal_capacity(self, per_month: float) -> None:
        self.removals.set_rate(per_month / DAYS_PER_MONTH)
        self.removals.set_servers(1 if per_month > 0 else 0)

    # ------------------------------------------------------------------ decisions

    @staticmethod
    def _always(_person: int, _now: float) -> bool:
        return True

    @staticmethod
    def _noop(_person: int, _now: float) -> None:
        return None

    def _still_claiming(self, person: int, now: float) -> bool:
        return self.t_dec_end[person] > now

    def _start_decision(self, person: int, now: float) -> None:
        self.t_dec_start[person] = now
        self.t_dec_end[person] = INF
        self.dec_outcome[person] = _PENDING

    def _save_claim(self, person: int) -> float:
        return self.t_dec_end[person]

    def _restore_claim(self, person: int, tentative_end: float) -> None:
        self.t_dec_start[person] = math.nan
        self.t_dec_end[person] = tentative_end
        self.dec_outcome[person] = _WITHDRAWN

    def _decided(self, person: int, now: float) -> None:
        self.t_dec_end[person] = now
        if self.u_grant[person] < self.grant_rate[self.group[person]]:
            self.dec_outcome[person] = _GRANTED
            return
        self.dec_outcome[person] = _REFUSED
        if self.u_lodge[person] < self.lodged_share:
            self.t_app_start[person] = now
            self.t_app_end[person] = INF
            self.app_outcome[person] = _APPEAL_PENDING
            self.appeals.push(person)
        else:
            self._enter_are(person, now)

    # ------------------------------------------------------------------ appeals

    def _appeal_determined(self, person: int, now: float) -> None:
        self.t_app_end[person] = now
        if self.u_allowed[person] < self.allowed_rate[self.group[person]]:
            self.app_outcome[person] = _ALLOWED
        else:
            self.app_outcome[person] = _DISMISSED
            self._enter_are(person, now)

    # ------------------------------------------------------------------ after refusal

    def _enter_are(self, person: int, now: float) -> None:
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
            elif outcome == _VOLUNTARY and self.u_reentry[person] < self.reentry_share:
                delay = exit_time - now + self._reentry_delay(person)
                self._later(delay, self._return_after_departure, person)
        if self.returnable[person]:
            self.removals.push(person)
        for hook in self._on_are:
            hook(self, person, now)

    def _enter_are_at_start(self, people: np.ndarray) -> None:
        """:meth:`_enter_are` at time 0 for the starting ARE stock, vectorised."""
        columns = self.population.columns
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
        columns["t_are"][people] = 0.0
        columns["t_exit"][people] = exit_time
        columns["exit_outcome"][people] = outcome
        within = exit_time < self.horizon
        for person in people[within & (outcome == _FURTHER)].tolist():
            self._later(self.t_exit[person], self._further_submission, person)
        leaving = within & (outcome == _VOLUNTARY)
        leaving &= columns["u_reentry"][people] < self.reentry_share
        for person in people[leaving].tolist():
            delay = self.t_exit[person] + self._reentry_delay(person)
            self._later(delay, self._return_after_departure, person)
        for hook in self._on_are:
            for person in people.tolist():
                hook(self, person, 0.0)

    def _later(self, delay: float, action, person: int) -> None:
        if self.env._now + delay < self.horizon:
            at(self.env, delay, action, person)

    def _reentry_delay(self, person: int) -> float:
        return self.e_reentry[person] * self.reentry_delay

    def _still_in_uk(self, person: int, now: float) -> bool:
        return self.t_exit[person] > now and self.exit_outcome[person] != _POLICY

    def awaiting_removal(self, person: int, now: float) -> bool:
        """True if ``person`` is in the ARE stock in the UK and nobody is acting on them."""
        return self.t_exit[person] > now and self.exit_outcome[person] not in (
            _BEING_REMOVED,
            _POLICY,
        )

    def take_from_are(self, person: int, now: float, done: bool) -> None:
        """A policy takes ``person`` out of the UK ARE stock: pending until ``done``."""
        self.t_exit[person] = now if done else INF
        self.exit_outcome[person] = _POLICY

    def _start_removal(self, person: int, now: float) -> None:
        self.t_exit[person] = INF
        self.exit_outcome[person] = _BEING_REMOVED

    def _removed(self, person: int, now: float) -> None:
        self.t_exit[person] = now
        self.exit_outcome[person] = _REMOVED
        if self.u_reentry[person] < self.reentry_share:
            self._later(self._reentry_delay(person), self._return_after_removal, person)

    # ------------------------------------------------------------------ new records

    def _child(self, parent: int, origin: int) -> int:
        """A new record continuing ``parent``'s attributes."""
        child, moved = self.population.add(1)
        if moved:
            self._bind()
        for name in ("route", "group", "household", "supported", "returnable"):
            view = getattr(self, name)
            view[child] = view[parent]
        self.origin[child] = origin
        self.parent[child] = parent
        return child

    def _new_claim(self, parent: int, origin: int, now: float) -> int:
        """A new record for ``parent`` claiming again now; it joins the decision queue."""
        child = self._child(parent, origin)
        self.t_claim[child] = now
        if origin == _REENTRY_ORIGIN:
            for hook in self._divert_one:
                if hook(self, child, now):
                    self.dec_outcome[child] = _DIVERTED
                    self.t_dec_end[child] = now
                    return child
        if self.withdrawal_rate > 0:
            self.t_dec_end[child] = now + self.e_withdraw[child] / self.withdrawal_rate
        else:
            self.t_dec_end[child] = INF
        self.dec_outcome[child] = _WITHDRAWN
        for hook in self._on_claim:
            hook(self, child, now)
        self.decisions.push(child, self.later_claims_tier)
        return child

    def return_to_are(self, parent: int, now: float) -> int:
        """A new record for ``parent``, brought back to the UK by a policy, at ARE."""
        child = self._child(parent, int(Origin.POLICY_RETURN))
        self._enter_are(child, now)
        return child

    def _further_submission(self, event: simpy.Event) -> None:
        person = event._value
        if self.exit_outcome[person] == _FURTHER:  # not removed first
            self._new_claim(person, int(Origin.FURTHER_SUBMISSION), self.env._now)

    def _return_after_departure(self, event: simpy.Event) -> None:
        person = event._value
        if self.exit_outcome[person] == _VOLUNTARY:  # not removed before departing
            self._new_claim(person, int(Origin.REENTRY), self.env._now)

    def _return_after_removal(self, event: simpy.Event) -> None:
        self._new_claim(event._value, int(Origin.REENTRY), self.env._now)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        self.env.run(until=self.horizon)


def _hazard_times(exposure: np.ndarray, rate: float) -> np.ndarray:
    if rate <= 0:
        return np.full(len(exposure), INF)
    with np.errstate(over="ignore"):
        return exposure / rate


def _events_scheduled(env: simpy.Environment) -> int | None:
    counter = getattr(env, "_eid", None)
    return next(counter) if counter is not None else None


def simulate(scenario: Scenario, seed: int, replication: int = 0) -> RunRecords:
    """Run one replication and return its records."""
    started = time.perf_counter()
    streams = RandomStreams(seed, replication)
    policies = build_runtimes(scenario, streams, float(scenario.horizon_days))
    pipeline = Pipeline(scenario, streams, policies)
    pipeline.run()
    events = _events_scheduled(pipeline.env) or 0
    records = pipeline.population.finished()
    outputs = {p.name: p.finish(records, pipeline.horizon) for p in policies}
    return RunRecords(
        policies=policies,
        policy_outputs=outputs,
        scenario=scenario,
        seed=seed,
        replication=replication,
        horizon=pipeline.horizon,
        records=records,
        arrivals_by_day=pipeline.arrivals_by_day,
        events=events,
        wall_seconds=time.perf_counter() - started,
    )
