"""Published figures over the simulated band: how the validation report draws a series."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .axes import COLOURS, date_axis, legend, new_axes, tidy, value_axis

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BAND_COLOUR = COLOURS[0]
POINT_COLOUR = COLOURS[3]


def band_with_points(
    dates: pd.DatetimeIndex,
    runs: np.ndarray,
    points: Sequence[tuple[pd.Timestamp, float, float]],
    title: str,
    ylabel: str,
    ax: Axes | None = None,
) -> Axes:
    """The simulated band (5th to 95th percentile of the replications, and their mean) with
    the published points, each with its tolerance as an error bar. ``runs`` is replications
    x dates; ``points`` are (date, published value, tolerance)."""
    ax = new_axes(ax)
    low, high = np.percentile(runs, [5, 95], axis=0)
    ax.fill_between(
        dates,
        low,
        high,
        color=BAND_COLOUR,
        alpha=0.25,
        linewidth=0,
        label=f"simulated, 5th-95th percentile ({len(runs)} runs)",
    )
    ax.plot(dates, runs.mean(axis=0), color=BAND_COLOUR, linewidth=1.6, label="simulated mean")
    values = [float(np.nanmax(high))]
    if points:
        when, value, allowed = zip(*points, strict=True)
        ax.errorbar(
            when,
            value,
            yerr=allowed,
            fmt="o",
            color=POINT_COLOUR,
            capsize=4,
            markersize=6,
            label="published (bar: tolerance)",
        )
        values += [v + a for v, a in zip(value, allowed, strict=True)]
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel)
    value_axis(ax.yaxis, "people", values)
    date_axis(ax.xaxis)
    ax.set_ylim(bottom=0)
    tidy(ax)
    legend(ax, loc="best")
    return ax


def save(figure: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``figure`` to ``path`` (its type from the suffix) and let it go."""
    path = Path(path)
    figure.savefig(path, dpi=dpi)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path
