"""The pipeline: the stages of the asylum system wired together for one replication.

    arrivals -> initial-decision queue (caseworkers; withdrawals while waiting)   decisions.py
      grant -> leaves the asylum system (support for the move-on period)
      refuse -> appeal? -> tribunal queue (judges) -> allowed: grant              appeals.py
                                                  -> dismissed: ARE
             -> no appeal: ARE
    ARE (appeal rights exhausted) -> enforced removal (capacity, returnable only)  removals.py
      or the first of voluntary departure, further submissions (a new claim),     after_refusal.py
      absconding; or remains in the UK. A share of those removed or departed come back.

Events happen only where capacity and queues interact: service completions in the three
queues, plus further submissions and returns, which create new claims. Everything else is a
competing risk drawn when a person enters a stage and written as a tentative outcome, then
overwritten if a queue event comes first. Accommodation, series and costs are computed from the
records after the run (:mod:`.accommodation`, :mod:`simulation.outputs`).

This module only builds and wires: which stage hands a person to which, the dated changes of
capacity and rates, and the policies' hooks (each policy sees the engine only through
:class:`.policy_view.PolicyView`).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from ..core import schedules
from ..core.records import AppealOutcome, DecisionOutcome, Origin
from ..core.units import DAYS_PER_MONTH, DAYS_PER_YEAR, INF, per_day
from ..core.vocabulary import ROUTE_CODES
from ..inputs.scenario import Scenario
from . import arrivals, start_state
from .after_refusal import AfterRefusal, Returnability
from .appeals import AppealStage
from .decisions import DecisionStage, FastTrackRule
from .events import at, events_scheduled, run_until
from .hazards import PiecewiseHazard
from .policy_view import PolicyView, read_only
from .population import RUN_ONLY, Population, indices_where, release_free_memory
from .reentry import Reentry
from .removals import RemovalStage, class_members, priority_tiers
from .rng import RandomStreams

_DIVERTED = int(DecisionOutcome.DIVERTED)
_APPEAL_PENDING = int(AppealOutcome.PENDING)
_NEW_CLAIM = int(Origin.NEW_CLAIM)
_POLICY_RETURN = int(Origin.POLICY_RETURN)
_POLICY_RETURN_CLAIM = int(Origin.POLICY_RETURN_CLAIM)
#: attributes a new record for a returning person keeps from the old one
INHERITED = ("route", "group", "household", "supported", "returnable", "u_returnable")


@dataclass
class RunRecords:
    """What one simulation leaves behind: the records and the facts needed to read them.

    ``policy_outputs`` is what each policy reported when the run ended (plain data: its
    stays, events, summary counts and daily costs), by policy name.
    """

    scenario: Scenario
    seed: int
    replication: int
    horizon: float
    records: dict[str, np.ndarray]
    arrivals_by_day: dict[str, np.ndarray]
    events: int
    wall_seconds: float
    policy_outputs: Mapping[str, Any] = field(default_factory=dict)


class Pipeline:
    """The stages wired together; one instance simulates one replication.

    ``policies`` are runtime objects with the hooks of
    :class:`simulation.policies.contract.Policy`; the engine calls only the hooks each one
    overrides, so with no policies it runs exactly the core model. With ``keep_draws``
    false the records never hold ``u_returnable`` unless returnability changes on dates (the
    run reads it only then), so they cannot be collected with their draws.
    """

    def __init__(
        self,
        scenario: Scenario,
        streams: RandomStreams,
        policies: Sequence[Any] = (),
        arrivals_until: float | None = None,
        keep_draws: bool = True,
    ) -> None:
        self.scenario = scenario
        self.horizon = float(scenario.horizon_days)
        # arrivals only until this day (the rest of the run follows the people already there)
        until = self.horizon if arrivals_until is None else min(arrivals_until, self.horizon)
        self.env = simpy.Environment()
        self.policies = list(policies)
        hooked = {id(p): set(p.hooks()) for p in self.policies}

        def using(hook: str) -> list[Any]:
            return [p for p in self.policies if hook in hooked[id(p)]]

        multipliers = [p.arrival_multiplier for p in using("arrival_multiplier")]

        def combined_multiplier(candidates: Mapping[str, np.ndarray]) -> np.ndarray:
            factor = np.ones(len(candidates["time"]))
            for multiplier in multipliers:
                factor *= multiplier(candidates)
            return factor

        stock = start_state.build(scenario, streams["initial_state"])
        stream = arrivals.generate(
            scenario, streams, until, combined_multiplier if multipliers else None
        )
        self.arrivals_by_day = stream.arrivals_by_day
        n_stock = len(stock["u_grant"])
        claims = stream.columns  # handed over: the population frees each column it copies
        claims["origin"] = np.full(stream.count, _NEW_CLAIM, np.int8)
        dated = any(
            schedules.changes_within(g.returnable_share, scenario.start_date, self.horizon)
            for g in scenario.nationality_groups.values()
        )
        self.population = Population(
            [stock, claims],
            spare=max(1024, stream.count // 4),
            stream=streams["dynamic"],
            omit=() if keep_draws or dated else ("u_returnable",),
        )
        del stock, claims, stream

        sc = scenario
        steps = [
            step
            for p in using("voluntary_departure_multiplier")
            for step in p.voluntary_departure_multiplier()
        ]
        times, rates = schedules.steps(
            sc.after_refusal.voluntary_departure_rate_per_year, sc.start_date
        )
        mv = self.population.mv
        groups = len(sc.nationality_groups)
        self.after_refusal = AfterRefusal(
            self.env,
            mv,
            self.horizon,
            voluntary=PiecewiseHazard.from_schedule(times, rates / DAYS_PER_YEAR, steps),
            further_rate=per_day(sc.after_refusal.further_submission_rate_per_year),
            abscond_rate=per_day(sc.after_refusal.absconding_rate_per_year),
            reentry=Reentry(sc),
            claim_again=self.claim_again,
        )
        self.appeals = AppealStage(self.env, mv, groups, self.after_refusal.enter)
        self.decisions = DecisionStage(
            self.env,
            mv,
            groups,
            per_day(sc.decisions.withdrawal_rate_per_year),
            self.appeals.refused,
            fast_track=self._fast_track_rules(),
            certified=self.after_refusal.enter,
        )
        classes = sc.after_refusal.removal_priority
        self.removals = RemovalStage(
            self.env,
            mv,
            self.after_refusal.still_in_uk,
            self.after_refusal.after_removal,
            priority_tiers(classes, list(sc.nationality_groups)) if classes else None,
            self._recent_classes(),
            [c.share_of_removals for c in classes]
            if classes and classes[0].share_of_removals is not None
            else None,
        )
        # with no classes, the queue's own push: the same queue, one call fewer per person
        self.after_refusal.join_removal_queue = (
            self.removals.join if classes else self.removals.queue.push
        )
        # returnability that changes on dates (nothing to do when no group's share does)
        self.returnability = Returnability(
            self.env,
            [g.returnable_share for g in sc.nationality_groups.values()],
            sc.start_date,
            self.horizon,
        )
        if self.returnability.changes_on_dates:
            self.returnability.wire(self.population, self.removals.join)
            self.removals.only_returnable(self.after_refusal.awaiting_removal)
        self._bind()
        self.population.on_move.append(self._bind)

        self.view = PolicyView(
            self.env,
            self.horizon,
            self.population,
            self.decisions,
            self.after_refusal,
            self.removals,
            self.return_to_are,
            self.return_to_claim,
        )
        for policy in self.policies:
            policy.attach(self.view)
        self.decisions.divert_one = [p.divert_one for p in using("divert_one")]
        self.decisions.on_claim = [p.on_claim for p in using("on_claim")]
        self.after_refusal.on_are = [p.on_are for p in using("on_are")]
        reentry_multipliers = [p.reentry_multiplier for p in using("reentry_multiplier")]
        if reentry_multipliers:

            def combined_reentry_multiplier(person: int, time: float) -> float:
                factor = 1.0
                for multiplier in reentry_multipliers:
                    factor *= multiplier(person, time)
                return factor

            self.after_refusal.reentry_multiplier = combined_reentry_multiplier

        columns = self.population.columns
        for policy in using("divert"):
            new_claims = np.arange(n_stock, self.population.size)
            policy.divert(new_claims[columns["dec_outcome"][new_claims] != _DIVERTED])
        self._load_stocks(n_stock, [p.on_claims for p in using("on_claims")])
        self._schedule_parameters()
        self.decisions.book_ahead(
            [
                t
                for schedule in (
                    sc.decisions.caseworkers_fte,
                    sc.decisions.decisions_per_fte_per_month,
                )
                for t, _ in schedules.changes_within(schedule, sc.start_date, self.horizon)
            ]
        )
        self.view.started = True
        for policy in using("start"):
            policy.start()

    # ------------------------------------------------------------------ set-up

    def _bind(self) -> None:
        """Point every stage at the record arrays (again after the population grows)."""
        mv = self.population.mv
        self._inherited = [mv[name] for name in INHERITED if name in mv]
        self.origin, self.parent = mv["origin"], mv["parent"]
        for stage in (self.decisions, self.appeals, self.after_refusal, self.removals):
            stage.bind(mv)

    def _at(self, t: float, action: Callable[[Any], None], value: Any) -> None:
        at(self.env, t, lambda _event: action(value))

    def _load_stocks(self, n_stock: int, on_claims: list[Callable[[np.ndarray], None]]) -> None:
        columns = self.population.columns
        size = self.population.size
        origin = columns["origin"][:size]
        # the set-up's peak of memory is here: the indices made with no copies of their size
        claimants = indices_where(
            (origin[:n_stock] == Origin.STOCK_AWAITING, 0),
            (columns["dec_outcome"][n_stock:size] != _DIVERTED, n_stock),
        )
        self.decisions.tentative_withdrawals(columns, claimants)
        for hook in on_claims:
            hook(claimants)
        decisions = self.scenario.decisions
        self.decisions.load(
            claimants,
            columns["t_claim"],
            self._day(decisions.priority_claims_before),
            self._day(decisions.priority_until),
            self._at,
        )

        appeal = np.flatnonzero(origin == Origin.STOCK_APPEAL)
        columns["t_app_end"][appeal] = np.inf
        columns["app_outcome"][appeal] = _APPEAL_PENDING
        self.appeals.queue.preload(appeal, columns["t_app_start"][appeal])

        are = np.flatnonzero(origin == Origin.STOCK_ARE)
        self.after_refusal.enter_at_start(columns, are)
        self.removals.load_stock(are[columns["returnable"][are] == 1], columns)

    def _recent_classes(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Removal classes by group, route and household, with the day from which claims
        count, when any class is limited to recent claims."""
        classes = self.scenario.after_refusal.removal_priority
        if not any(c.claimed_from is not None for c in classes):
            return None
        since = np.array(
            [-INF if c.claimed_from is None else self._day(c.claimed_from) for c in classes]
        )
        return class_members(classes, list(self.scenario.nationality_groups)), since

    def _fast_track_rules(self) -> list[FastTrackRule]:
        sc, groups = self.scenario, list(self.scenario.nationality_groups)
        return [
            FastTrackRule(
                groups=None if r.groups is None else frozenset(groups.index(g) for g in r.groups),
                routes=None if r.routes is None else frozenset(ROUTE_CODES[x] for x in r.routes),
                start=float((r.claims_from - sc.start_date).days),
                end=INF if r.claims_until is None else float((r.claims_until - sc.start_date).days),
                certified_share=r.certified_share,
            )
            for r in sc.decisions.fast_track
        ]

    def _day(self, when) -> float | None:
        return None if when is None else float((when - self.scenario.start_date).days)

    def _schedule_parameters(self) -> None:
        """Set every time-varying parameter now and schedule its changes."""
        sc = self.scenario
        ppc = sc.people_per_case

        def plan(schedule, action, transform=float) -> None:
            action(transform(schedules.value_at(schedule, sc.start_date, 0.0)))
            for t, value in schedules.changes_within(schedule, sc.start_date, self.horizon):
                self._at(t, action, transform(value))

        decisions, appeals = self.decisions.queue, self.appeals.queue
        plan(sc.decisions.caseworkers_fte, decisions.set_servers, lambda v: int(round(v)))
        plan(
            sc.decisions.decisions_per_fte_per_month,
            decisions.set_rate,
            lambda v: float(v) * ppc / DAYS_PER_MONTH,
        )
        plan(sc.appeals.judges_fte, appeals.set_servers, lambda v: int(round(v)))
        plan(
            sc.appeals.determinations_per_judge_per_day,
            appeals.set_rate,
            lambda v: float(v) * ppc,
        )
        plan(sc.appeals.lodged_share, self.appeals.set_lodged_share)
        if sc.after_refusal.removal_teams is not None:
            plan(sc.after_refusal.removal_teams, self.removals.set_teams)
        plan(sc.after_refusal.enforced_removals_per_month, self.removals.set_capacity)
        for index, group in enumerate(sc.nationality_groups.values()):
            plan(group.grant_rate, lambda v, i=index: self.decisions.set_grant_rate(i, v))
            plan(
                group.appeal_allowed_rate,
                lambda v, i=index: self.appeals.set_allowed_rate(i, v),
            )
        for t, change in self.returnability.changes:  # (group, share) from t on
            self._at(t, self.returnability.change, change)

    # ------------------------------------------------------------------ new records

    def _child(self, parent: int, origin: int) -> int:
        """A new record continuing ``parent``'s attributes."""
        child, _moved = self.population.add(1)
        for view in self._inherited:
            view[child] = view[parent]
        if self.returnability.changes_on_dates:
            self.returnability.inherit(child, parent)
        self.origin[child] = origin
        self.parent[child] = parent
        return child

    def claim_again(self, parent: int, origin: int, now: float) -> int:
        """A new record for ``parent`` claiming again now; it joins the decision queue."""
        child = self._child(parent, origin)
        self.decisions.claim(child, origin, now)
        return child

    def return_to_are(self, parent: int, now: float) -> int:
        """A new record for ``parent``, brought back to the UK by a policy, at ARE."""
        child = self._child(parent, _POLICY_RETURN)
        self.after_refusal.enter(child, now)
        return child

    def return_to_claim(self, parent: int, now: float) -> int:
        """A new record for ``parent``, held abroad by a policy before any UK decision and
        brought back: it claims now and joins the decision queue (never diverted again)."""
        child = self._child(parent, _POLICY_RETURN_CLAIM)
        self.decisions.claim(child, _POLICY_RETURN_CLAIM, now)
        return child

    # ------------------------------------------------------------------ run

    def run(self, progress: Callable[[float], None] | None = None) -> int:
        """Run to the horizon a simulated month at a time, calling ``progress(day)`` at the
        end of each month, with the cyclic garbage collector paused: the loop makes and drops
        millions of small event objects but no reference cycles worth collecting.

        Stopping at a month's end changes nothing: the events run in the same order as in one
        run to the horizon (:func:`~simulation.engine.events.run_until`, SimPy's loop for the
        model's events, compiled with the queues). Returns how many stops there were (one per
        month, the last one at the horizon)."""
        stops = month_ends(self.horizon)
        collecting = gc.isenabled()
        gc.disable()
        try:
            for stop in stops:
                run_until(self.env, stop)
                if progress is not None:
                    progress(stop)
        finally:
            if collecting:
                gc.enable()
        return len(stops)

    def run_to(self, day: float) -> None:
        """Run every event due before ``day`` (the horizon at most) and stop there, with the
        cyclic garbage collector paused meanwhile, as :meth:`run` does for the whole run.
        Called with increasing days and then the horizon, it runs the same events in the same
        order as :meth:`run`: a run can be stopped anywhere and resumed."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            run_until(self.env, min(day, self.horizon))
        finally:
            if collecting:
                gc.enable()

    def records_so_far(self) -> dict[str, np.ndarray]:
        """Read-only views of the records made so far, as they stand now: what has happened,
        and times drawn ahead that may still change, all after now. Read them before the run
        goes on (it writes to them, and may move them)."""
        size = self.population.size
        return _read_only({name: column[:size] for name, column in self.population.columns.items()})

    def reports_so_far(self) -> dict[str, Any]:
        """What each policy would report if the run ended now (:meth:`Policy.finish` on the
        records so far, with the horizon now), by policy name. Any random draws a report
        makes are undone, so the run goes on as if it had not been asked."""
        now = float(self.env.now)
        records = self.records_so_far()
        reports = {}
        for policy in self.policies:
            generators = [v for v in vars(policy).values() if isinstance(v, np.random.Generator)]
            states = [g.bit_generator.state for g in generators]
            try:
                reports[policy.name] = policy.finish(records, now)
            finally:
                for generator, state in zip(generators, states, strict=True):
                    generator.bit_generator.state = state
        return reports


def month_ends(horizon: float) -> list[float]:
    """The days at which a run of ``horizon`` days stops to report: the end of each simulated
    month (of :data:`DAYS_PER_MONTH` days) before the horizon, then the horizon."""
    count = math.ceil(horizon / DAYS_PER_MONTH)
    ends = [k * DAYS_PER_MONTH for k in range(1, count) if k * DAYS_PER_MONTH < horizon]
    return [*ends, horizon]


def run_pipeline(
    scenario: Scenario,
    streams: RandomStreams,
    policies: Sequence[Any] = (),
    started: float | None = None,
    arrivals_until: float | None = None,
    progress: Callable[[float], None] | None = None,
    keep_draws: bool = True,
) -> RunRecords:
    """Build the pipeline on ``streams``, run it, and collect records and policy reports
    (with ``arrivals_until``, nobody arrives after that day: the run follows the people
    already there to its end; ``progress(day)`` is called at the end of each simulated
    month). With ``keep_draws`` false the records leave out the columns only the run needs
    (:data:`.population.RUN_ONLY`: the draws, ``u_returnable``), which no output reads."""
    started = time.perf_counter() if started is None else started
    pipeline = Pipeline(scenario, streams, policies, arrivals_until, keep_draws)
    release_free_memory()  # the set-up's temporaries
    pipeline.run(progress)
    return collect(pipeline, streams, started, keep_draws)


def collect(
    pipeline: Pipeline, streams: RandomStreams, started: float, keep_draws: bool = True
) -> RunRecords:
    """The records and policy reports of a pipeline run to its horizon (``started``: when
    the run began, by ``time.perf_counter``). The pipeline is emptied on the way: the
    stages hold memoryviews of the columns, so with them gone the columns shrink in place."""
    scenario = pipeline.scenario
    events = events_scheduled(pipeline.env)  # the model's own: stops are not events
    population, horizon = pipeline.population, pipeline.horizon
    arrivals_by_day = pipeline.arrivals_by_day
    readable = _read_only(population.finished())
    outputs = {p.name: p.finish(readable, horizon) for p in pipeline.policies}
    vars(pipeline).clear()
    del pipeline, readable
    records = population.compact(() if keep_draws else RUN_ONLY)
    return RunRecords(
        scenario=scenario,
        seed=streams.seed,
        replication=streams.replication,
        horizon=horizon,
        records=records,
        arrivals_by_day=arrivals_by_day,
        events=events,
        wall_seconds=time.perf_counter() - started,
        policy_outputs=outputs,
    )


def discard(pipeline: Pipeline) -> None:
    """Let go of a run stopped before its end: the pipeline is emptied and its records,
    stages and pending events freed now (they form reference cycles, which only the cyclic
    garbage collector frees), and the memory handed back."""
    vars(pipeline).clear()
    gc.collect()
    release_free_memory()


def _read_only(records: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: read_only(column) for name, column in records.items()}
