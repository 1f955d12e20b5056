"""Sweeps and sensitivity: a metric against a swept parameter (every run, or its partial
dependence: the mean over the other parameters in bins of this one), and Sobol or Morris
indices.

Partial dependence here is read off the sweep itself: the runs are grouped into bins of
equal count along the parameter, and each bin's mean is shown with its 95% Student-t
interval. Where the design samples the other parameters independently of this one (Sobol,
Latin hypercube, random, grid), the bin means estimate the metric's average over them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...core.errors import InputError
from .axes import COLOURS, axis_label, capitalised, legend, new_axes, tidy, value_axis
from .labels import metric_label, parameter_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

PARAMETER_PREFIX = "param:"
KINDS = ("scatter", "partial")


def column(frame: pd.DataFrame, name: str, what: str) -> str:
    """The column ``name`` names: itself, or a swept parameter given without ``param:``."""
    if name in frame.columns:
        return name
    if PARAMETER_PREFIX + name in frame.columns:
        return PARAMETER_PREFIX + name
    have = ", ".join(str(c) for c in frame.columns)
    raise InputError("plot_sweep", [(what, f"no column {name!r}; the table has: {have}")])


def _partial(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, ...]:
    """Per bin of equal count along x: the mean x, the mean y and its 95% t interval."""
    from scipy import stats

    order = np.argsort(x, kind="stable")
    groups = [g for g in np.array_split(order, min(bins, len(x))) if len(g)]
    centre = np.array([x[g].mean() for g in groups])
    mean = np.array([y[g].mean() for g in groups])
    half = np.array(
        [
            stats.t.ppf(0.975, len(g) - 1) * y[g].std(ddof=1) / np.sqrt(len(g))
            if len(g) > 1
            else np.nan
            for g in groups
        ]
    )
    return centre, mean, mean - half, mean + half


def sweep_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    kind: str = "scatter",
    bins: int = 10,
    ax: Axes | None = None,
) -> Axes:
    """``y`` against ``x`` over the runs of a sweep (:func:`load_sweep`'s table), one colour
    per value of ``hue`` (a column such as ``scenario``); ``kind`` "scatter" draws every run,
    "partial" the partial dependence in ``bins`` bins with its 95% interval."""
    if kind not in KINDS:
        raise InputError("plot_sweep", [("kind", f"must be one of {KINDS}, got {kind!r}")])
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InputError("plot_sweep", [("bins", f"must be a whole number >= 1, got {bins!r}")])
    xc, yc = column(frame, x, "x"), column(frame, y, "y")
    hc = column(frame, hue, "hue") if hue is not None else None
    ax = new_axes(ax)
    groups = [(None, frame)] if hc is None else list(frame.groupby(hc, sort=False))
    for i, (name, rows) in enumerate(groups):
        colour = COLOURS[i % len(COLOURS)]
        xs, ys = rows[xc].to_numpy(dtype=float), rows[yc].to_numpy(dtype=float)
        keep = np.isfinite(xs) & np.isfinite(ys)
        xs, ys = xs[keep], ys[keep]
        label = None if name is None else str(name)
        if kind == "scatter":
            ax.scatter(xs, ys, s=12, alpha=0.6, color=colour, linewidths=0, label=label)
        else:
            centre, mean, low, high = _partial(xs, ys, bins)
            ax.fill_between(centre, low, high, color=colour, alpha=0.2, linewidth=0)
            ax.plot(centre, mean, color=colour, marker="o", markersize=3, label=label)
    shown, varied = metric_label(yc), parameter_label(xc)
    ys_all, xs_all = frame[yc].to_numpy(dtype=float), frame[xc].to_numpy(dtype=float)
    ax.set_ylabel(axis_label(capitalised(shown.text), shown.unit, ys_all))
    value_axis(ax.yaxis, shown.unit, ys_all)
    ax.set_xlabel(axis_label(varied.text, varied.unit, xs_all))
    value_axis(ax.xaxis, varied.unit, xs_all)
    if kind == "partial":
        ax.set_title(
            f"Partial dependence: mean in {bins} bins of equal count, 95% CI",
            loc="left",
            fontsize=11,
        )
    tidy(ax, grid="both")
    legend(ax, title=hc)
    return ax


def sensitivity_chart(
    table: pd.DataFrame, metric: str | None = None, ax: Axes | None = None
) -> Axes:
    """Sobol indices (``S1``, ``ST`` with ``*_conf``) as paired bars with their 95% CIs, one
    pair per parameter; or Morris ``mu_star`` against ``sigma``, one labelled point per
    parameter with mu*'s 95% CI."""
    if {"S1", "ST"} <= set(table.columns):
        return _sobol(table, metric, ax)
    if {"mu_star", "sigma"} <= set(table.columns):
        return _morris(table, metric, ax)
    raise InputError(
        "sensitivity plot",
        [("table", "needs Sobol (S1, ST) or Morris (mu_star, sigma) indices")],
    )


def _about(metric: str | None) -> str:
    return f" of {metric_label(metric).text}" if metric else ""


def _sobol(table: pd.DataFrame, metric: str | None, ax: Axes | None) -> Axes:
    names = [str(p) for p in table["parameter"]]
    ax = new_axes(ax, figsize=(8.0, max(2.5, 0.5 * len(names) + 1.2)))
    y = np.arange(len(names))[::-1].astype(float)
    height = 0.38
    for offset, key, colour, words in (
        (height / 2, "S1", COLOURS[0], "first order (S1)"),
        (-height / 2, "ST", COLOURS[1], "total order (ST)"),
    ):
        ax.barh(
            y + offset,
            table[key].to_numpy(dtype=float),
            height=height,
            xerr=table[f"{key}_conf"].to_numpy(dtype=float),
            color=colour,
            error_kw={"elinewidth": 1.0, "capsize": 2, "ecolor": "0.25"},
            label=words,
        )
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.set_yticks(y, names)
    ax.set_xlabel("Share of the output's variance (95% CI)")
    ax.set_title(f"Sobol indices{_about(metric)}", loc="left", fontsize=11)
    tidy(ax, grid="x")
    legend(ax, loc="lower right")
    return ax


def _morris(table: pd.DataFrame, metric: str | None, ax: Axes | None) -> Axes:
    ax = new_axes(ax)
    mu, sigma = table["mu_star"].to_numpy(dtype=float), table["sigma"].to_numpy(dtype=float)
    ax.errorbar(
        mu,
        sigma,
        xerr=table["mu_star_conf"].to_numpy(dtype=float),
        fmt="o",
        color=COLOURS[0],
        ecolor="0.4",
        elinewidth=1.0,
        capsize=2,
    )
    for name, xi, yi in zip(table["parameter"], mu, sigma, strict=True):
        ax.annotate(str(name), (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    unit = metric_label(metric).unit if metric else "number"
    values = np.concatenate([mu, sigma])
    ax.set_xlabel(axis_label("mu*, mean absolute elementary effect", unit, values))
    ax.set_ylabel(axis_label("sigma, spread of the effects", unit, values))
    value_axis(ax.xaxis, unit, values)
    value_axis(ax.yaxis, unit, values)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    title = f"Morris screening{_about(metric)}: one point a parameter, bars the 95% CI of mu*"
    ax.set_title(title, loc="left", fontsize=11)
    tidy(ax, grid="both")
    return ax
