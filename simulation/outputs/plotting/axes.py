"""Axes that read well with no styling: a figure when none is given, tick labels with
thousands separators, money in £ millions or billions, dates that say only what changes.

matplotlib is imported inside the functions: importing the package never loads it, and the
backend is whatever the session chose (inline in a notebook, Agg without a screen).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

#: one colour per scenario or metric, in order (colour-blind safe)
COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")
WIDE = (8.0, 4.2)

#: (scale, suffix, words) for money, largest first
_MONEY = ((1e9, "bn", "£ billions"), (1e6, "m", "£ millions"), (1.0, "", "£"))


def new_axes(ax: Axes | None, figsize: tuple[float, float] = WIDE) -> Axes:
    """``ax`` itself, or the axes of a new figure (pyplot, so a notebook shows it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def tidy(ax: Axes, grid: str = "y") -> None:
    """Light grid, no box on the top and right."""
    ax.grid(axis=grid, alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def legend(ax: Axes, **kw: Any) -> None:
    """A frameless legend when something on ``ax`` is labelled."""
    handles, _labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(frameon=False, fontsize=8, **kw)


def scaled_formatter(scale: float = 1.0, prefix: str = "", suffix: str = ""):
    """Tick labels ``value / scale`` with thousands separators and the fewest decimals that
    show every tick exactly: 1,000 2,000; £0.5m £1.0m; 0.00 0.25 0.50."""
    from matplotlib.ticker import Formatter

    class ScaledFormatter(Formatter):
        def __init__(self) -> None:
            self.decimals = 0

        def _text(self, value: float) -> str:
            scaled = value / scale
            sign = "-" if scaled < 0 and round(abs(scaled), self.decimals) != 0 else ""
            return f"{sign}{prefix}{abs(scaled):,.{self.decimals}f}{suffix}"

        def format_ticks(self, values):
            scaled = np.asarray(values, dtype=float) / scale
            steps = np.diff(scaled)
            steps = steps[steps > 0]
            step = float(steps.min()) if len(steps) else 1.0
            self.decimals = next(
                (d for d in range(7) if np.all(np.abs(np.round(scaled, d) - scaled) < step * 1e-6)),
                6,
            )
            return [self._text(v) for v in values]

        def __call__(self, value, pos=None):
            return self._text(value)

    return ScaledFormatter()


def money_scale(values: Iterable[float]) -> tuple[float, str, str]:
    """(scale, suffix, words) for money of this size: billions from £1bn, else millions from
    £1m, else pounds."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    largest = max(finite, default=0.0)
    return next((m for m in _MONEY if largest >= m[0]), _MONEY[-1])


def unit_text(unit: str, values: Iterable[float] = ()) -> str:
    """How an axis in ``unit`` says what its numbers are."""
    if unit == "gbp":
        return money_scale(values)[2] + ", constant prices"
    return {"people": "people", "days": "days", "count": "records", "share": "%"}.get(unit, "")


def axis_label(text: str, unit: str, values: Iterable[float] = ()) -> str:
    """``text (unit)``, or ``text`` alone when the unit says nothing."""
    words = unit_text(unit, values)
    return f"{text} ({words})" if words else text


def value_axis(axis: Axis, unit: str, values: Iterable[float]) -> None:
    """Tick labels for ``unit``: money scaled to £m or £bn, shares as percentages, anything
    else with thousands separators."""
    values = list(values)
    if unit == "gbp":
        scale, suffix, _words = money_scale(values)
        axis.set_major_formatter(scaled_formatter(scale, "£", suffix))
    elif unit == "share":
        from matplotlib.ticker import PercentFormatter

        axis.set_major_formatter(PercentFormatter(xmax=1.0))
    else:
        axis.set_major_formatter(scaled_formatter())


def date_axis(axis: Axis) -> None:
    """Dates that print only what changes from tick to tick (2026, Apr, Jul, ...)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def capitalised(text: str) -> str:
    """``text`` with its first letter in capitals (the rest left alone: UK, ARE)."""
    return text[:1].upper() + text[1:]
