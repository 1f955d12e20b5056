"""Daily series: the lines of one run, the fan of many replications, and each scenario's band
on one chart.

Bands are percentiles across replications at each date: the fan shows the median with the
middle 50% (25th to 75th percentile) and the middle 90% (5th to 95th) of the replications.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...core.errors import InputError
from .axes import (
    COLOURS,
    axis_label,
    capitalised,
    date_axis,
    legend,
    new_axes,
    tidy,
    unit_text,
    value_axis,
)
from .labels import metric_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

#: the series a run's chart shows unless told which
DEFAULT_SERIES = ("awaiting_decision", "appeals_pending", "are_in_uk", "in_hotel")
#: the fan's bands: (low, high percentile, opacity)
FAN = ((5, 95, 0.18), (25, 75, 0.35))


def metric_list(metrics: str | Sequence[str] | None, have: Sequence[str], origin: str) -> list[str]:
    """The metrics asked for (all of :data:`DEFAULT_SERIES` when none), each checked against
    the series the run has, and all in one unit so that they share an axis."""
    if metrics is None:
        asked = [m for m in DEFAULT_SERIES if m in have]
    elif isinstance(metrics, str):
        asked = [metrics]
    else:
        asked = list(metrics)
    problems = []
    if not asked:
        problems.append(("metrics", "name at least one series"))
    for metric in asked:
        if metric not in have:
            shown = ", ".join(sorted(have))
            problems.append(("metrics", f"no series {metric!r}; the run has: {shown}"))
    if problems:
        raise InputError(origin, problems)
    units = {metric_label(m).unit for m in asked}
    if len(units) > 1:
        raise InputError(
            origin,
            [
                (
                    "metrics",
                    f"mixes units ({', '.join(sorted(units))}): plot money and people on "
                    "separate charts",
                )
            ],
        )
    return asked


def _finish(ax: Axes, metrics: Sequence[str], values: np.ndarray, title: str | None) -> None:
    """Axis labels and ticks: the metric and its unit on y (the unit alone for several
    metrics, which the legend names), dates on x."""
    label = metric_label(metrics[0])
    values = values.ravel()
    if len(metrics) == 1:
        ax.set_ylabel(axis_label(capitalised(label.text), label.unit, values))
    else:
        ax.set_ylabel(capitalised(unit_text(label.unit, values)))
    value_axis(ax.yaxis, label.unit, values)
    date_axis(ax.xaxis)
    if np.nanmin(values) >= 0:
        ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    tidy(ax)


def lines(
    wide: pd.DataFrame,
    metrics: Sequence[str],
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One line per metric over the dates of ``wide`` (a frame indexed by date, one column
    per metric)."""
    ax = new_axes(ax)
    for i, metric in enumerate(metrics):
        ax.plot(
            wide.index,
            wide[metric].to_numpy(dtype=float),
            color=COLOURS[i % len(COLOURS)],
            linewidth=1.6,
            label=metric_label(metric).text,
        )
    _finish(ax, metrics, wide[list(metrics)].to_numpy(dtype=float), title)
    if len(metrics) > 1:
        legend(ax)
    return ax


def _fan(ax: Axes, dates, runs: np.ndarray, colour: str, name: str, bands: bool) -> None:
    """Median and the percentile bands of ``runs`` (replications x dates)."""
    for low, high, alpha in FAN:
        lo, hi = np.percentile(runs, [low, high], axis=0)
        what = f"{name}, middle {high - low}%" if bands else None
        ax.fill_between(dates, lo, hi, color=colour, alpha=alpha, linewidth=0, label=what)
    ax.plot(dates, np.median(runs, axis=0), color=colour, linewidth=1.6, label=f"{name}, median")


def fan(
    dates: pd.DatetimeIndex,
    runs: Mapping[str, np.ndarray],
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A fan chart per metric: ``runs`` maps each metric to its values, replications x
    dates; the median with the middle 50% and 90% of the replications shaded."""
    ax = new_axes(ax)
    for i, (metric, values) in enumerate(runs.items()):
        _fan(ax, dates, values, COLOURS[i % len(COLOURS)], metric_label(metric).text, True)
    stacked = np.concatenate([np.asarray(v, dtype=float).ravel() for v in runs.values()])
    n = len(next(iter(runs.values())))
    _finish(ax, list(runs), stacked, title or f"Median and middle 50% and 90% of {n} replications")
    legend(ax)
    return ax


def scenario_bands(
    dates: pd.DatetimeIndex,
    runs: Mapping[str, np.ndarray],
    metric: str,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One metric in several scenarios: ``runs`` maps each scenario to its values,
    replications x dates; each scenario's median and middle 90% of replications."""
    ax = new_axes(ax)
    for i, (name, values) in enumerate(runs.items()):
        colour = COLOURS[i % len(COLOURS)]
        lo, hi = np.percentile(values, [5, 95], axis=0)
        ax.fill_between(dates, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(dates, np.median(values, axis=0), color=colour, linewidth=1.6, label=name)
    stacked = np.concatenate([np.asarray(v, dtype=float).ravel() for v in runs.values()])
    n = len(next(iter(runs.values())))
    label = metric_label(metric)
    _finish(ax, [metric], stacked, title or capitalised(label.text))
    ax.text(
        1.0,
        1.01,
        f"median and middle 90% of {n} paired replications",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        color="0.4",
    )
    legend(ax)
    return ax
