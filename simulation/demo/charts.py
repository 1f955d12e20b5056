"""The page's charts: the chosen scenario (solid) beside its baseline (dashed) on the same
random numbers, drawn with the project's plotting helpers on matplotlib figures made here
(never pyplot: figures are drawn by the server, for many pages at once).

The x-axis spans the whole run from the first month, so a chart grows to the right as the
months come in. With replications, each line has a band: the middle 90% of the replications.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..outputs.plotting import date_axis, metric_label, value_axis
from ..outputs.plotting.axes import COLOURS, axis_label, capitalised, legend, tidy, unit_text
from ..outputs.yearly import yearly_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

POLICY_NAME = "policy"
BASELINE_NAME = "baseline"
BASELINE_STYLE = {"linestyle": (0, (4, 2)), "alpha": 0.9}


@dataclass(frozen=True)
class Frame:
    """What a chart needs: the series so far of each side, one column per metric."""

    policy: pd.DataFrame
    baseline: pd.DataFrame | None
    start: Any
    end: Any
    band: Mapping[str, Mapping[str, np.ndarray]]
    band_dates: Any
    label: str = POLICY_NAME


def wide(series: pd.DataFrame | None) -> pd.DataFrame:
    """A tidy series (date, metric, value) as one column per metric, indexed by date."""
    if series is None or series.empty:
        return pd.DataFrame()
    series = series.assign(metric=series["metric"].astype(str))
    return series.pivot(index="date", columns="metric", values="value")


def _lines(ax: Axes, frame: Frame, metrics: Sequence[str], labels: Sequence[str]) -> list[float]:
    """Each metric of each side as a line (solid for the policy, dashed for the baseline),
    with its band when there is one; returns every value drawn, for the axis."""
    drawn: list[float] = []
    sides = [("policy", frame.policy, {}, frame.label)]
    if frame.baseline is not None:
        sides.append(("baseline", frame.baseline, BASELINE_STYLE, BASELINE_NAME))
    for i, (metric, text) in enumerate(zip(metrics, labels, strict=True)):
        colour = COLOURS[i % len(COLOURS)]
        for side, data, style, name in sides:
            runs = frame.band.get(side, {}).get(metric)
            if runs is not None and len(runs) > 1:
                lo, hi = np.percentile(runs, [5, 95], axis=0)
                ax.fill_between(frame.band_dates, lo, hi, color=colour, alpha=0.15, linewidth=0)
                drawn.extend(lo)
                drawn.extend(hi)
            if metric not in data:
                continue
            values = data[metric].to_numpy(dtype=float)
            what = f"{text}, {name}" if len(metrics) > 1 else name
            ax.plot(data.index, values, color=colour, linewidth=1.6, label=what, **style)
            drawn.extend(values)
    return drawn


def _finish(ax: Axes, frame: Frame, metric: str, title: str, drawn: list[float]) -> None:
    unit = metric_label(metric).unit
    values = drawn or [0.0]
    ax.set_ylabel(capitalised(unit_text(unit, values)))
    value_axis(ax.yaxis, unit, values)
    date_axis(ax.xaxis)
    ax.set_xlim(pd.Timestamp(frame.start), pd.Timestamp(frame.end))
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(values))))
    ax.set_title(title, loc="left", fontsize=11)
    tidy(ax)
    legend(ax, loc="best")


def hotels(frame: Frame, ax: Axes) -> None:
    drawn = _lines(ax, frame, ["in_hotel"], ["in hotels"])
    _finish(ax, frame, "in_hotel", "People in hotels", drawn)


def backlogs(frame: Frame, ax: Axes) -> None:
    metrics = ["awaiting_decision", "appeals_pending"]
    drawn = _lines(ax, frame, metrics, ["awaiting a decision", "appeals pending"])
    _finish(ax, frame, metrics[0], "Decision and appeal backlogs", drawn)


def removals(frame: Frame, ax: Axes) -> None:
    metrics = ["cumulative_removals_enforced", "cumulative_returns_voluntary"]
    labels = ["enforced removals", "voluntary returns"]
    if "cumulative_hub_onward_removals" in frame.policy:
        metrics.append("cumulative_hub_onward_removals")
        labels.append("removed from hubs")
    drawn = _lines(ax, frame, metrics, labels)
    _finish(ax, frame, metrics[0], "Removals and returns since the start", drawn)


def hubs(frame: Frame, ax: Axes) -> None:
    drawn = _lines(ax, frame, ["in_hub"], ["in hubs"])
    _finish(ax, frame, "in_hub", "People in return hubs abroad", drawn)


def offshore(frame: Frame, ax: Axes) -> None:
    metrics = ["in_offshore_detention", "in_third_country"]
    drawn = _lines(ax, frame, metrics, ["in detention before a flight", "in the third country"])
    _finish(ax, frame, metrics[0], "People sent offshore", drawn)


def yearly_cost(series: pd.DataFrame) -> pd.Series:
    """Spending in each calendar year (the last one as far as the series goes), indexed by
    year: the library's yearly table (:mod:`simulation.outputs.yearly`) of the series so far."""
    if "cumulative_cost_gbp" not in series or len(series) < 2:
        return pd.Series(dtype=float)
    per_year = yearly_table(series[["cumulative_cost_gbp"]])["cost_gbp"]
    per_year.index = per_year.index.astype(int).rename("year")
    return per_year


def cost(frame: Frame, ax: Axes) -> None:
    """Spending per calendar year, the policy's bar beside the baseline's."""
    sides = [(frame.label, frame.policy, {})]
    if frame.baseline is not None:
        sides.append((BASELINE_NAME, frame.baseline, {"hatch": "//", "alpha": 0.55}))
    width = 0.8 / len(sides)
    drawn: list[float] = []
    for i, (name, data, style) in enumerate(sides):
        per_year = yearly_cost(data)
        x = per_year.index.to_numpy(dtype=float) + (i - (len(sides) - 1) / 2) * width
        ax.bar(x, per_year.to_numpy(), width=width, color=COLOURS[0], label=name, **style)
        drawn.extend(per_year.to_numpy())
    values = drawn or [0.0]
    first, last = pd.Timestamp(frame.start).year, pd.Timestamp(frame.end).year
    if pd.Timestamp(frame.end) == pd.Timestamp(year=last, month=1, day=1):
        last -= 1
    ax.set_xlim(first - 0.6, last + 0.6)
    ax.set_xticks(range(first, last + 1))
    ax.set_ylabel(capitalised(axis_label("spending", "gbp", values)))
    value_axis(ax.yaxis, "gbp", values)
    ax.set_title("Spending per year", loc="left", fontsize=11)
    tidy(ax)
    legend(ax, loc="lower right")


#: chart name -> (drawing function, the policy it needs or None)
CHARTS: dict[str, tuple[Callable[[Frame, Axes], None], str | None]] = {
    "hotel_chart": (hotels, None),
    "backlog_chart": (backlogs, None),
    "cost_chart": (cost, None),
    "removals_chart": (removals, None),
    "hub_chart": (hubs, "return_hubs"),
    "offshore_chart": (offshore, "offshore"),
}


#: the page's chart in pixels (at 100 dots per inch), and its fixed margins: a layout engine
#: would draw every chart twice, and the page redraws them as the months come in
PAGE_SIZE = (6.4, 3.3)
MARGINS = {"left": 0.13, "right": 0.96, "top": 0.89, "bottom": 0.12}


def figure(draw: Callable[[Frame, Axes], None], frame: Frame) -> Figure:
    """One chart on a figure of its own, the page's size, with fixed margins."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=PAGE_SIZE, dpi=100)
    fig.subplots_adjust(**MARGINS)
    draw(frame, fig.add_subplot())
    return fig


def png_file(fig: Figure) -> str:
    """The figure written to a temporary PNG file, for the page to send inline and delete."""
    with tempfile.NamedTemporaryFile(prefix="asylum-sim-demo-", suffix=".png", delete=False) as f:
        fig.savefig(f, format="png")
        return f.name


def all_charts_png(frame: Frame, names: Sequence[str], title: str) -> bytes:
    """Every chart of the page on one figure, as PNG bytes (the page's download)."""
    from matplotlib.figure import Figure

    columns = 2
    rows = (len(names) + 1) // columns
    fig = Figure(figsize=(13, 3.6 * rows + 0.4), layout="constrained")
    fig.suptitle(title, x=0.01, ha="left")
    for i, name in enumerate(names):
        CHARTS[name][0](frame, fig.add_subplot(rows, columns, i + 1))
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110)
    return out.getvalue()
