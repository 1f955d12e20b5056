"""The daily series of a run that is still going, carried on from stop to stop.

At a stop the records hold what has happened, exactly as the finished run will, and times
drawn ahead that may still change (a withdrawal a decision may come before), all of them
later than the stop. So the series up to the last midnight whose events have all run can be
read from the records as they stand, and are those of the finished run, bit for bit.

Reading every record at every stop would cost several times the run itself (a fifth of a
second a stop for the 5-year baseline, against a twenty-fifth for its month). Between two stops
only the records with a time between them change any series: stocks of a stage and
cumulative events move only with the records that enter, leave or have an event in between,
and a supported person's support ends at most the move-on period or the support after refusal
after one of their times (:func:`simulation.engine.accommodation.support_intervals`). So each
stop reads those records only and carries the series on from the previous stop: the counts by
difference, the occupancy and the costs day by day from the counts (the cumulative costs
summed on in the same order as the finished run sums them), the arrivals and the policies'
series read afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core.records import TIMES
from ..engine import accommodation
from ..inputs.scenario import Scenario
from .results import DailySeries, daily_costs, daily_series

#: the times at which a record enters or leaves a stage or has an event: the only times at
#: which it changes a series (when a decision or a hearing starts changes none)
CHANGES = ("t_claim", "t_dec_end", "t_app_start", "t_app_end", "t_are", "t_exit")
#: the record columns the series read (the per-record draws are not among them)
READ = (
    "route",
    "household",
    "supported",
    "origin",
    *TIMES,
    "dec_outcome",
    "app_outcome",
    "exit_outcome",
)


class SeriesSoFar:
    """A run's daily series so far: :meth:`advance` to each stop in turn."""

    def __init__(self, scenario: Scenario, arrivals_by_day: Mapping[str, np.ndarray]) -> None:
        self.scenario = scenario
        self.arrivals_by_day = arrivals_by_day
        days = int(round(scenario.horizon_days))
        self.dates = pd.date_range(scenario.start_date, periods=days + 1, freq="D")
        support = scenario.support
        #: how long after one of its times a record can still change a series, in days
        self.reach = max(support.move_on_days, support.support_end_days_after_refusal)
        self.reached: int | None = None  # the last midnight read
        self.series: dict[str, np.ndarray] = {}

    def advance(
        self, records: Mapping[str, np.ndarray], reports: Mapping[str, Any], day: int
    ) -> dict[str, np.ndarray]:
        """The series at midnights 0..``day``, from the records as they stand at a stop after
        that midnight (every event up to it run) and the policies' reports then."""
        if self.reached is not None and day <= self.reached:
            raise ValueError(f"already at day {self.reached}, asked for day {day}")
        before = self.reached
        changed = _records_with_times(records, before, day, self.reach)
        if before is None:  # the first stop: the records that have begun, read whole
            self.series = daily_series(
                changed, self.scenario, day, self.arrivals_by_day, reports
            ).series
        else:
            self.series = self._carry_on(changed, reports, before, day)
        self.reached = day
        return self.series

    def _carry_on(
        self, changed: dict[str, np.ndarray], reports: Mapping[str, Any], before: int, day: int
    ) -> dict[str, np.ndarray]:
        """Midnights before+1..day from the records that changed since midnight ``before``."""
        old = self.series
        supported = accommodation.supported_stock(changed, self.scenario, day)
        supported = _on_from(old["supported_total"], supported, before)
        occupancy = accommodation.allocate(supported.astype(float), self.scenario)
        part: DailySeries = daily_series(
            changed, self.scenario, day, self.arrivals_by_day, reports, occupancy=occupancy
        )
        amounts = daily_costs(part.ledger)
        series: dict[str, np.ndarray] = {}
        for name, values in part.series.items():
            if name not in old:
                raise RuntimeError(f"series {name!r} appeared after the first stop")
            if name in part.counted:
                values = _on_from(old[name], values, before)
            elif name in amounts:
                # summed on from the last total, one day at a time, as np.cumsum sums the run
                summed = np.cumsum(np.concatenate([[old[name][before]], amounts[name][before:day]]))
                values = np.concatenate([old[name][: before + 1], summed[1:]])
            else:
                values = np.concatenate([old[name][: before + 1], values[before + 1 :]])
            series[name] = values
        return series


def _on_from(old: np.ndarray, counted: np.ndarray, before: int) -> np.ndarray:
    """A count carried on after midnight ``before``: the old values to it, then its value
    there plus what ``counted`` (over the records that changed) added since."""
    return np.concatenate(
        [old[: before + 1], old[before] + (counted[before + 1 :] - counted[before])]
    )


def _records_with_times(
    records: Mapping[str, np.ndarray], before: int | None, day: int, reach: float
) -> dict[str, np.ndarray]:
    """The records that can change a series at midnights after ``before`` up to ``day``, or
    on the days between (costs count days): a time within ``reach`` days before that span or
    in it (a day either side to spare). With no ``before``, every record with a time by then."""
    first = -np.inf if before is None else before - reach - 1.0
    last = day + 1.0
    size = len(records["origin"])
    keep, within, below = np.zeros(size, bool), np.empty(size, bool), np.empty(size, bool)
    for name in CHANGES:  # in place: no array the size of the records made per column
        np.greater_equal(records[name], first, out=within)
        np.less_equal(records[name], last, out=below)
        within &= below
        keep |= within
    chosen = np.flatnonzero(keep)
    return {name: records[name][chosen] for name in READ}


def select(series: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """The rows of a tidy series table for ``metrics`` only, in the table's order."""
    kept = series[series["metric"].isin(list(metrics))].reset_index(drop=True)
    kept["metric"] = kept["metric"].cat.remove_unused_categories()
    return kept
