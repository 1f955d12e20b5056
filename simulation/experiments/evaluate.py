"""One evaluation of the model: a scenario, a seed and a replication number in, a result out.

Every experiment (a run, a comparison, a break-even search, a sweep, a calibration) is made
of these points. Replication r of seed s draws every random number from streams keyed by
(s, r), so a point gives the same result whichever process evaluates it and in whatever order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import InputError
from ..engine.pipeline import run_pipeline
from ..engine.rng import RandomStreams
from ..inputs import memory
from ..inputs.scenario import Scenario, add_years
from ..outputs import results, whole_life
from ..outputs.results import Result
from ..policies.registry import build_runtimes
from .interrupts import checkpoint

#: how long a whole-life run follows the people in the system after the end date, years
WHOLE_LIFE_YEARS = 30.0


@dataclass(frozen=True)
class Point:
    """What one evaluation runs; ``keep_records`` keeps the per-person records in the result;
    ``whole_life_years`` adds whole-life costs, following the people in the system at the end
    date for that many more years (see :mod:`simulation.outputs.whole_life`)."""

    scenario: Scenario
    seed: int
    replication: int = 0
    keep_records: bool = False
    whole_life_years: float | None = None


#: ``progress(days simulated, days to simulate)``, called as simulated time passes
DayProgress = Callable[[int, int], None]


def evaluate(point: Point, progress: DayProgress | None = None) -> Result:
    """Simulate one replication of a scenario and read its results (refused first if
    this machine cannot hold it: :func:`simulation.inputs.memory.check`).

    ``progress(done, total)`` is called before the run starts (done 0) and at the end of
    each simulated month, in days; a whole-life run's second run, past the end date, adds
    its days to both."""
    scenario = point.scenario
    memory.check(scenario, whole_life=bool(point.whole_life_years))
    started = time.perf_counter()
    days = scenario.horizon_days
    longer = _followed(scenario, point.whole_life_years) if point.whole_life_years else None
    total = days + (longer.horizon_days if longer is not None else 0)
    if progress is not None:
        progress(0, total)
    records = _simulate(
        scenario,
        point.seed,
        point.replication,
        started,
        progress=_days(progress, 0, total),
        keep_draws=point.keep_records,
    )
    after_end = None
    if longer is not None:
        tail = _simulate(
            longer,
            point.seed,
            point.replication,
            arrivals_until=float(days),
            progress=_days(progress, days, total),
            keep_draws=False,
        )
        after_end = whole_life.after_end(tail, days)
    built = results.build(records, keep_records=point.keep_records, after_end=after_end)
    checkpoint()  # a Ctrl-C that pydantic swallowed during the run stops here
    return built


def _days(progress: DayProgress | None, before: int, total: int) -> Callable[[float], None] | None:
    """The engine's ``progress(day)`` as days done of ``total``, ``before`` days already."""
    if progress is None:
        return None
    return lambda day: progress(before + int(day), total)


def _simulate(
    scenario: Scenario,
    seed: int,
    replication: int,
    started: float | None = None,
    arrivals_until: float | None = None,
    progress: Callable[[float], None] | None = None,
    keep_draws: bool = True,
):
    streams = RandomStreams(seed, replication)
    policies = build_runtimes(
        scenario, lambda name: streams[f"policy:{name}"], float(scenario.horizon_days)
    )
    return run_pipeline(scenario, streams, policies, started, arrivals_until, progress, keep_draws)


def _followed(scenario: Scenario, years: float) -> Scenario:
    """The scenario continued ``years`` past its end date: run on the same streams with
    nobody arriving after the end date, it gives the costs of the days after the end date,
    and of each claim (:func:`simulation.outputs.whole_life.after_end`)."""
    # not re-validated: the valid scenario, followed past the longest horizon a scenario may
    # give (MAX_HORIZON_YEARS) when it already runs that long
    return scenario.model_copy(update={"end_date": add_years(scenario.end_date, years)})


def check_whole_life_years(years: float | None, origin: str) -> None:
    """Refuse a whole-life period that is not a positive number of years, before any run."""
    if years is not None and not (isinstance(years, int | float) and 0 < years < float("inf")):
        raise InputError(
            origin, [("whole_life_years", f"must be a positive number of years, got {years!r}")]
        )


def run_one(
    scenario: Scenario,
    seed: int,
    replication: int = 0,
    keep_records: bool = False,
    whole_life_years: float | None = None,
    progress: DayProgress | None = None,
) -> Result:
    """:func:`evaluate` of one point, for calls by hand."""
    check_whole_life_years(whole_life_years, "run")
    return evaluate(Point(scenario, seed, replication, keep_records, whole_life_years), progress)
