"""One evaluation of the model: a scenario, a seed and a replication number in, a result out.

Every experiment (a run, a comparison, a break-even search, a sweep, a calibration) is made
of these points. Replication r of seed s draws every random number from streams keyed by
(s, r), so a point gives the same result whichever process evaluates it and in whatever order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..core.errors import InputError
from ..engine.pipeline import run_pipeline
from ..engine.rng import RandomStreams
from ..inputs import memory
from ..inputs.scenario import Scenario, add_years
from ..outputs import results, whole_life
from ..outputs.results import Result
from ..policies.registry import build_runtimes

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


def evaluate(point: Point) -> Result:
    """Simulate one replication of a scenario and read its results (refused first if
    this machine cannot hold it: :func:`simulation.inputs.memory.check`)."""
    memory.check(point.scenario, whole_life=bool(point.whole_life_years))
    started = time.perf_counter()
    records = _simulate(point.scenario, point.seed, point.replication, started)
    after_end = None
    if point.whole_life_years:
        after_end = _after_end(
            point.scenario, point.seed, point.replication, point.whole_life_years
        )
    return results.build(records, keep_records=point.keep_records, after_end=after_end)


def _simulate(
    scenario: Scenario,
    seed: int,
    replication: int,
    started: float | None = None,
    arrivals_until: float | None = None,
):
    streams = RandomStreams(seed, replication)
    policies = build_runtimes(
        scenario, lambda name: streams[f"policy:{name}"], float(scenario.horizon_days)
    )
    return run_pipeline(scenario, streams, policies, started, arrivals_until)


def _after_end(
    scenario: Scenario, seed: int, replication: int, years: float
) -> whole_life.AfterEnd:
    """The run again on the same streams, continued ``years`` past its end date with nobody
    arriving after it: the costs of the days after the end date, and of each claim."""
    end_day = scenario.horizon_days
    # not re-validated: the valid scenario, followed past the longest horizon a scenario may
    # give (MAX_HORIZON_YEARS) when it already runs that long
    longer = scenario.model_copy(update={"end_date": add_years(scenario.end_date, years)})
    tail = _simulate(longer, seed, replication, arrivals_until=float(end_day))
    return whole_life.after_end(tail, end_day)


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
) -> Result:
    """:func:`evaluate` of one point, for calls by hand."""
    check_whole_life_years(whole_life_years, "run")
    return evaluate(Point(scenario, seed, replication, keep_records, whole_life_years))
