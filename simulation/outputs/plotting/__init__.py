"""Charts of runs, replications, comparisons, break-even searches, sweeps and validation,
drawn with matplotlib and readable with no styling: labelled axes with units, dates on the
x-axis, thousands separators, money in £ millions or billions.

Each function takes plain data (frames and arrays), draws on the ``ax`` it is given or on a
new figure, and returns what it drew on; the objects' ``.plot`` methods call them. matplotlib
is imported only when something is drawn, and the backend is never chosen here: a notebook
shows the figures inline, a script without a screen writes them to files.
"""

from __future__ import annotations

from .axes import date_axis, new_axes, scaled_formatter, value_axis
from .break_even import break_even_chart
from .forest import forest, forest_metrics
from .labels import Label, metric_label, parameter_label
from .series import DEFAULT_SERIES, fan, lines, metric_list, scenario_bands
from .sweeps import sensitivity_chart, sweep_chart
from .validation import band_with_points, save

__all__ = [
    "DEFAULT_SERIES",
    "Label",
    "band_with_points",
    "break_even_chart",
    "date_axis",
    "fan",
    "forest",
    "forest_metrics",
    "lines",
    "metric_label",
    "metric_list",
    "new_axes",
    "parameter_label",
    "save",
    "scaled_formatter",
    "scenario_bands",
    "sensitivity_chart",
    "sweep_chart",
    "value_axis",
]
