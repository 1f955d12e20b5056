"""The standard figures of each kind of result, as files (PNG or SVG) or as images for a page.

Each ``*_figures`` function draws the charts a reader of that result wants first, with the
objects' own ``.plot`` methods (:mod:`simulation.outputs.plotting`), and returns them by file
stem: a run's (or replications') backlogs and hotels and its cumulative cost; a comparison's
paired differences and the daily series of every scenario; a break-even search's curves; a
sweep's partial dependence of its first metric on each parameter. The objects are taken as
they come (anything with the ``.plot`` methods), so this module needs nothing above it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from .writing import atomic_path, check_output_directory

FORMATS = ("png", "svg")
#: the daily series a comparison's figures show, each scenario's band on one chart
COMPARED_SERIES = ("in_hotel", "appeals_pending", "awaiting_decision", "cumulative_cost_gbp")
DPI = 110


def _figure(drawn: Any) -> Any:
    """The matplotlib Figure of what a ``.plot`` call returned (an Axes or a Figure)."""
    return getattr(drawn, "figure", None) or drawn


def _drawn(draw: Callable[[], Any]) -> Any:
    return _figure(draw())


def run_figures(result: Any) -> dict[str, Any]:
    """A run's or replications' backlogs and hotel population, and its cumulative cost."""
    return {
        "backlogs_and_hotels": _drawn(result.plot),
        "cumulative_cost": _drawn(lambda: result.plot("cumulative_cost_gbp")),
    }


def comparison_figures(comparison: Any) -> dict[str, Any]:
    """The paired differences (a forest plot) and each compared daily series."""
    figures = {"differences": _drawn(comparison.plot)}
    for metric in COMPARED_SERIES:
        figures[metric] = _drawn(lambda metric=metric: comparison.plot_series(metric))
    return figures


def break_even_figures(found: Any) -> dict[str, Any]:
    """The metric against the parameter for both scenarios, with the crossing."""
    return {"break_even": _drawn(found.plot)}


def sweep_figures(results: Any, parameters: list[str], metric: str) -> dict[str, Any]:
    """The partial dependence of ``metric`` on each swept parameter."""
    from .plotting import sweep_chart

    return {
        f"{metric}_by_{parameter}": _drawn(
            lambda parameter=parameter: sweep_chart(results, parameter, metric, kind="partial")
        )
        for parameter in parameters
    }


def check_format(fmt: str, origin: str) -> str:
    if fmt not in FORMATS:
        raise InputError(origin, [("format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")])
    return fmt


def write_figures(
    figures: Mapping[str, Any], directory: str | Path, fmt: str = "png", field: str = "plot"
) -> list[Path]:
    """Each figure as ``<stem>.<fmt>`` in ``directory`` (made if missing; ``field`` names it
    in an error), each written atomically; the figures are closed."""
    check_format(fmt, "figures")
    directory = check_output_directory(directory, field=field, origin="figures")
    written = []
    for stem, figure in figures.items():
        path = directory / f"{stem}.{fmt}"
        with atomic_path(path, keep_suffix=True) as temporary:
            figure.savefig(temporary, dpi=DPI, format=fmt)
        written.append(path)
        _close(figure)
    return written


def embedded_png(figure: Any) -> str:
    """``figure`` as a ``data:`` URI of a PNG, for a page that carries its own images; the
    figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=DPI, format="png")
    _close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _close(figure: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(figure)
