"""A forest plot of paired differences: for each metric, each scenario's mean difference from
the reference (the first scenario) with its 95% confidence interval.

Metrics are in different units (pounds, people, days), so each has its own row with its own
axis; zero, no difference, is marked on every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...core.errors import InputError
from .. import outcomes
from .axes import COLOURS, axis_label, capitalised, tidy, value_axis
from .labels import metric_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ROW_INCHES = 0.55  # height of a row per scenario compared
MIN_ROW_INCHES = 0.75  # a metric's panel with one scenario compared


def forest_metrics(table: pd.DataFrame, metrics: str | Sequence[str] | None) -> list[str]:
    """The metrics asked for (the headline outcomes the table has when none), checked."""
    have = list(dict.fromkeys(table["metric"]))
    if metrics is None:
        return [m for m in outcomes.headline() if m in have]
    asked = [metrics] if isinstance(metrics, str) else list(metrics)
    missing = [m for m in asked if m not in have]
    if not asked or missing:
        reason = (
            "name at least one metric"
            if not asked
            else f"not in the comparison: {', '.join(missing)} (see docs/outcomes.md)"
        )
        raise InputError("comparison plot", [("metrics", reason)])
    return asked


def forest(
    table: pd.DataFrame,
    metrics: Sequence[str],
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """One panel per metric of ``table`` (a comparison's table: metric, scenario,
    diff_mean, diff_ci_low, diff_ci_high), one row per scenario after the first: a dot at the
    mean paired difference and a line across its 95% CI. ``ax``: the axes to draw in, one per
    metric (a new figure when None)."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    reference, others = scenarios[0], scenarios[1:]
    axes = _axes(ax, len(metrics), len(others))
    rows = table.set_index(["metric", "scenario"])
    y = np.arange(len(others))[::-1]  # the first scenario compared on top
    for panel, metric in zip(axes, metrics, strict=True):
        found = rows.loc[[(metric, name) for name in others]]
        mean = found["diff_mean"].to_numpy(dtype=float)
        low = found["diff_ci_low"].to_numpy(dtype=float)
        high = found["diff_ci_high"].to_numpy(dtype=float)
        colours = [COLOURS[(i + 1) % len(COLOURS)] for i in range(len(others))]
        panel.axvline(0.0, color="0.5", linewidth=0.8, zorder=1)
        panel.hlines(y, low, high, colors=colours, linewidth=2.2, label="95% CI")
        panel.scatter(mean, y, color=colours, s=30, zorder=3, label="mean paired difference")
        label = metric_label(metric)
        spread = np.concatenate([low, high, mean])
        value_axis(panel.xaxis, label.unit, spread)
        panel.set_yticks(y, others)
        panel.set_ylim(-0.6, len(others) - 0.4)
        panel.set_title(
            axis_label(capitalised(label.text), label.unit, spread),
            loc="left",
            fontsize=9,
        )
        tidy(panel, grid="x")
        panel.spines["left"].set_visible(False)
        panel.tick_params(axis="y", length=0)
    figure = axes[0].figure
    figure.suptitle(
        f"Paired difference from {reference!r}, mean and 95% CI", x=0.01, ha="left", fontsize=11
    )
    return figure


def _axes(ax: Axes | Sequence[Axes] | None, panels: int, rows: int) -> list[Axes]:
    if ax is None:
        import matplotlib.pyplot as plt

        height = max(MIN_ROW_INCHES, ROW_INCHES * rows + 0.45) * panels + 0.5
        _fig, created = plt.subplots(panels, 1, figsize=(7.5, height), layout="constrained")
        return list(np.atleast_1d(created))
    given = [ax] if not isinstance(ax, Sequence | np.ndarray) else list(np.ravel(ax))
    if len(given) != panels:
        raise InputError(
            "comparison plot",
            [("ax", f"give one axes per metric: {panels} metrics, {len(given)} axes")],
        )
    return given
