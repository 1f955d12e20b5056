"""One evaluation of the model: a scenario, a seed and a replication number in, a result out.

Every experiment (a run, a comparison, a break-even search, a sweep, a calibration) is made
of these points. Replication r of seed s draws every random number from streams keyed by
(s, r), so a point gives the same result whichever process evaluates it and in whatever order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..engine.pipeline import run_pipeline
from ..engine.rng import RandomStreams
from ..inputs.scenario import Scenario
from ..outputs import results
from ..outputs.results import Result
from ..policies.registry import build_runtimes


@dataclass(frozen=True)
class Point:
    """What one evaluation runs; ``keep_records`` keeps the per-person records in the result."""

    scenario: Scenario
    seed: int
    replication: int = 0
    keep_records: bool = False


def evaluate(point: Point) -> Result:
    """Simulate one replication of a scenario and read its results."""
    started = time.perf_counter()
    streams = RandomStreams(point.seed, point.replication)
    scenario = point.scenario
    policies = build_runtimes(
        scenario, lambda name: streams[f"policy:{name}"], float(scenario.horizon_days)
    )
    records = run_pipeline(scenario, streams, policies, started)
    return results.build(records, keep_records=point.keep_records)


def run_one(
    scenario: Scenario, seed: int, replication: int = 0, keep_records: bool = False
) -> Result:
    """:func:`evaluate` of one point, for calls by hand."""
    return evaluate(Point(scenario, seed, replication, keep_records))
