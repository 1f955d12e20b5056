"""A run watched as it goes: the series so far at regular stops, then the finished result.

:func:`stream` runs one replication in steps and yields a :class:`Partial` at each stop
(every simulated month by default): the daily series from the start date to the date reached.
The last one is the finished run, with its :class:`~simulation.outputs.results.Result`, which
is bit for bit ``run(scenario, seed)``: stopping changes nothing in the run.

What a partial shows is exact: each series of a partial equals, bit for bit, the same series
of the finished run on the dates up to the partial's date. The records hold, besides what has
happened, times drawn ahead that may still change (a withdrawal that a decision may come
before, a policy's planned departures); every one of those lies after the stop, and a partial
reads the records only up to the last midnight whose events have all run. Series that count
records (stocks, cumulative events) are carried on from the previous partial with the records
that changed in between, the accommodation and its costs follow from them night by night, and
a policy's series are what it would report if the run ended at the stop (:meth:`Policy.finish
<simulation.policies.contract.Policy.finish>`, its random draws undone), cut at that date.
Summaries (totals, waiting times, the policies' counts) exist only for the finished run.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR
from ..engine import pipeline as engine
from ..engine.population import release_free_memory
from ..engine.rng import RandomStreams
from ..inputs import memory
from ..inputs.scenario import Scenario
from ..outputs import results
from ..outputs.partial import SeriesSoFar, select
from ..outputs.results import Result
from ..policies.registry import build_runtimes
from .interrupts import checkpoint

__all__ = ["EVERY", "Partial", "stream", "stops"]

#: the named steps ``every`` accepts, in days
EVERY = {
    "week": float(DAYS_PER_WEEK),
    "month": DAYS_PER_MONTH,
    "quarter": DAYS_PER_YEAR / 4,
    "year": DAYS_PER_YEAR,
}


@dataclass(frozen=True, repr=False)
class Partial:
    """A run as it stands at a stop.

    ``day`` is the simulated time reached (days since the start date) and ``date`` the last
    date whose series are known: the start date plus the whole days simulated. ``series`` is
    tidy (date, metric, value) from the start date to ``date``, as a finished
    :class:`~simulation.outputs.results.Result`'s series, or only the metrics asked for.
    ``done`` is true on the last partial, which alone carries the finished ``result``.
    """

    day: float
    date: date
    total_days: int
    series: pd.DataFrame
    done: bool = False
    result: Result | None = None

    @property
    def fraction(self) -> float:
        """The share of the run simulated, 0 to 1."""
        return min(self.day / self.total_days, 1.0) if self.total_days else 1.0

    def series_wide(self) -> pd.DataFrame:
        """The series as one column per metric, indexed by date."""
        return self.series.pivot(index="date", columns="metric", values="value")

    def __repr__(self) -> str:
        state = "done" if self.done else f"{self.fraction:.0%}"
        metrics = self.series["metric"].nunique()
        return (
            f"Partial({self.date.isoformat()}, day {self.day:g} of {self.total_days}, "
            f"{state}, {metrics} metrics)"
        )


def stops(horizon: float, every: str | float = "month") -> list[float]:
    """The days at which a run of ``horizon`` days stops to report: every ``every`` (a name
    of :data:`EVERY` or a number of days, at least 1) before the horizon, then the horizon.
    A month is the engine's own (:func:`simulation.engine.pipeline.month_ends`)."""
    step = _step(every)
    if every == "month":
        return engine.month_ends(horizon)
    count = math.ceil(horizon / step)
    ends = [k * step for k in range(1, count) if k * step < horizon]
    return [*ends, float(horizon)]


def _step(every: str | float) -> float:
    if isinstance(every, str):
        if every in EVERY:
            return EVERY[every]
    elif (
        isinstance(every, numbers.Real)
        and not isinstance(every, bool)
        and math.isfinite(every)
        and every >= 1
    ):
        return float(every)
    allowed = ", ".join(repr(name) for name in EVERY)
    raise InputError(
        "stream",
        [("every", f"must be one of {allowed} or a number of days of at least 1, got {every!r}")],
    )


def stream(
    scenario: Scenario,
    seed: int = 1,
    every: str | float = "month",
    metrics: str | Sequence[str] | None = None,
) -> Iterator[Partial]:
    """Run ``scenario`` (replication 0 of ``seed``) in steps, yielding a :class:`Partial` at
    every stop: each ``every`` ("week", "month", "quarter", "year" or a number of days, at
    least 1) and at the end date. The last partial (``done``) carries the finished result,
    bit for bit ``run(scenario, seed)``. ``metrics`` keeps only those series (names as in a
    result's series; an unknown name is refused at the first stop).

    Nothing runs until the first partial is asked for. Closing the iterator
    (``partials.close()``, or leaving a ``for`` loop early) stops the run and frees it.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError("stream() needs a Scenario; load one with Scenario.from_yaml(path)")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError("stream", [("seed", f"must be a non-negative integer, got {seed!r}")])
    days = stops(float(scenario.horizon_days), every)
    wanted = _metric_list(metrics)
    return _partials(scenario, int(seed), days, wanted)


def _metric_list(metrics: str | Sequence[str] | None) -> list[str] | None:
    if metrics is None:
        return None
    chosen = [metrics] if isinstance(metrics, str) else list(metrics)
    if not chosen or not all(isinstance(m, str) for m in chosen):
        raise InputError(
            "stream", [("metrics", f"must be metric names (at least one), got {metrics!r}")]
        )
    return list(dict.fromkeys(chosen))


def _partials(
    scenario: Scenario, seed: int, days: list[float], metrics: list[str] | None
) -> Iterator[Partial]:
    memory.check(scenario)
    started = time.perf_counter()
    streams = RandomStreams(seed, 0)
    horizon = float(scenario.horizon_days)
    policies = build_runtimes(scenario, lambda name: streams[f"policy:{name}"], horizon)
    pipeline = engine.Pipeline(scenario, streams, policies)
    del policies  # the pipeline holds them: gone with it
    release_free_memory()  # the set-up's temporaries
    total = int(round(horizon))
    so_far = SeriesSoFar(scenario, pipeline.arrivals_by_day)
    try:
        for stop in days[:-1]:
            reached = math.floor(stop)
            # every event up to and including the last midnight read: a stop on a whole day
            # runs the events at that very time too (the order of events is the same)
            pipeline.run_to(stop if stop > reached else math.nextafter(stop, math.inf))
            checkpoint()
            series = so_far.advance(pipeline.records_so_far(), pipeline.reports_so_far(), reached)
            if metrics is not None:
                wanted = set(_known(metrics, series))
                series = {name: values for name, values in series.items() if name in wanted}
            frame = results.tidy_frame(series, so_far.dates[: reached + 1])
            yield Partial(stop, scenario.start_date + timedelta(days=reached), total, frame)
        pipeline.run_to(horizon)
        run = engine.collect(pipeline, streams, started, keep_draws=False)
    except BaseException:
        engine.discard(pipeline)
        raise
    del pipeline
    result = results.build(run)
    del run
    checkpoint()
    if metrics is not None:
        _known(metrics, {name: None for name in result.series["metric"].cat.categories})
    frame = result.series if metrics is None else select(result.series, metrics)
    yield Partial(horizon, scenario.start_date + timedelta(days=total), total, frame, True, result)


def _known(metrics: list[str], series: dict) -> list[str]:
    unknown = [m for m in metrics if m not in series]
    if unknown:
        raise InputError(
            "stream",
            [("metrics", f"unknown {', '.join(unknown)}; known: {', '.join(series)}")],
        )
    return metrics
