"""A run's series by calendar year or by financial year (April to March, as Home Office
spending is reported).

The daily series are read at midnight at the start of each date. For a period, flows come
from the cumulative series: what happened in the period is the cumulative count (or cost) at
its end less that at its start. Stocks (people in hotels, backlogs) are given at the end of the
period, and as the mean over its days. Periods are cut to the run: the first and last may be
part-periods, and the ``days`` column says how many days of each the run covers.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

CUMULATIVE = "cumulative_"


def period_label(day: date, fiscal: bool) -> str:
    """ "2026" for a calendar year; "2026-27" for the financial year from 1 April 2026."""
    if not fiscal:
        return str(day.year)
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def _period_start(day: date, fiscal: bool) -> date:
    if not fiscal:
        return date(day.year, 1, 1)
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def _next_start(start: date, fiscal: bool) -> date:
    return date(start.year + 1, 4 if fiscal else 1, 1)


def yearly_table(wide: pd.DataFrame, fiscal: bool = False) -> pd.DataFrame:
    """One row per year of ``wide`` (the daily series as one column per metric, indexed by
    date from the start date to the end date): ``days`` covered, then for each cumulative
    metric the amount in the year (named without ``cumulative_``), and for each stock its
    value at the year's end (``<metric>_end``) and its mean over the year (``_mean``)."""
    if wide.empty:
        raise ValueError("the series is empty: nothing to tabulate by year")
    dates = pd.DatetimeIndex(wide.index)
    first, last = dates[0].date(), dates[-1].date()
    flows = [m for m in wide.columns if m.startswith(CUMULATIVE)]
    stocks = [m for m in wide.columns if not m.startswith(CUMULATIVE)]
    rows = []
    start = _period_start(first, fiscal)
    while start < last:
        end = _next_start(start, fiscal)
        lo, hi = pd.Timestamp(max(start, first)), pd.Timestamp(min(end, last))
        row: dict[str, float | str] = {
            "period": period_label(start, fiscal),
            "days": (hi - lo).days,
        }
        at_lo, at_hi = wide.loc[lo], wide.loc[hi]
        for metric in flows:
            row[metric[len(CUMULATIVE) :]] = at_hi[metric] - at_lo[metric]
        inside = wide.loc[(dates >= lo) & (dates < hi), stocks]
        for metric in stocks:
            row[f"{metric}_end"] = at_hi[metric]
            row[f"{metric}_mean"] = inside[metric].mean()
        rows.append(row)
        start = end
    return pd.DataFrame(rows).set_index("period")
