"""Matplotlib figures that look right without styling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no screen needed

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

BAND_COLOUR = "#4C72B0"
POINT_COLOUR = "#C44E52"


def band_with_points(
    dates: pd.DatetimeIndex,
    runs: np.ndarray,
    points: Sequence[tuple[pd.Timestamp, float, float]],
    title: str,
    ylabel: str,
    path: str | Path,
) -> Path:
    """Simulated band (5th-95th percentile of replications, and the mean) with published
    points and their tolerance as error bars. ``runs`` is replications x dates."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
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
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
