"""A break-even search drawn: the metric against the parameter for the policy and the
baseline, replication by replication, and the crossing with its 95% confidence interval.

The policy's curve is made of the points the root-finder evaluated (both ends of the range,
then closer and closer to the crossing), joined by straight lines: between them it is not
known. The baseline does not depend on the parameter, so each replication's is a level line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .axes import COLOURS, axis_label, capitalised, legend, new_axes, tidy, value_axis
from .labels import metric_label, parameter_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

POLICY, BASELINE, CROSSING = COLOURS[1], COLOURS[0], "0.2"


def break_even_chart(
    evaluations: pd.DataFrame,
    parameter: str,
    metric: str,
    value: float,
    ci: tuple[float, float],
    value_text: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """``evaluations`` has one row per run of the policy scenario: replication, the
    parameter's ``value``, the ``policy``'s metric and that replication's ``baseline``
    metric. ``value`` and ``ci`` are the break-even value and its 95% CI."""
    ax = new_axes(ax)
    for i, (_replication, runs) in enumerate(evaluations.groupby("replication", sort=True)):
        runs = runs.sort_values("value")
        x = runs["value"].to_numpy(dtype=float)
        ax.plot(
            x,
            runs["policy"].to_numpy(dtype=float),
            color=POLICY,
            marker="o",
            markersize=3,
            linewidth=1.0,
            alpha=0.7,
            label="policy (each replication)" if i == 0 else None,
        )
        ax.plot(
            [x.min(), x.max()],
            [runs["baseline"].iloc[0]] * 2,
            color=BASELINE,
            linestyle="--",
            linewidth=1.0,
            alpha=0.7,
            label="baseline (each replication)" if i == 0 else None,
        )
    low, high = ci
    if np.isfinite(low) and np.isfinite(high):
        ax.axvspan(low, high, color=CROSSING, alpha=0.12, linewidth=0, label="95% CI")
    ax.axvline(
        value,
        color=CROSSING,
        linewidth=1.4,
        label=f"break-even {value_text or f'{value:,.4g}'}",
    )
    shown = metric_label(metric)
    values = np.concatenate(
        [evaluations["policy"].to_numpy(dtype=float), evaluations["baseline"].to_numpy(float)]
    )
    ax.set_ylabel(axis_label(capitalised(shown.text), shown.unit, values))
    value_axis(ax.yaxis, shown.unit, values)
    varied = parameter_label(parameter)
    xs = evaluations["value"].to_numpy(dtype=float)
    ax.set_xlabel(axis_label(varied.text, varied.unit, xs))
    value_axis(ax.xaxis, varied.unit, xs)
    n = evaluations["replication"].nunique()
    ax.set_title(f"Break-even over {n} paired replications", loc="left", fontsize=11)
    tidy(ax, grid="both")
    legend(ax)
    return ax
