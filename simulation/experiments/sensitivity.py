"""Sensitivity indices from a Sobol or Morris sweep, computed with SALib.

    asylum-sim sensitivity DIR --metric total_cost_discounted_gbp [--scenario combined]
                           [--versus baseline]

For each point of the sweep the metric is averaged over replications (and, with
``versus``, taken as the paired difference from another base scenario, so the indices say
what drives the policy's effect rather than the level). Sobol sweeps give first and total
order indices with confidence intervals (SALib's bootstrap); Morris sweeps give mu*, its
confidence interval and sigma. Inputs are analysed on the unit scale they were sampled on,
which the parameters' distributions map one-to-one onto their values.

Bootstrap intervals shrink as one over the square root of the sample. When the widest 95%
interval is wider than :data:`PRECISION` (a tenth of the output's variance for Sobol indices,
a tenth of the largest mu* for Morris), the indices cannot tell the parameters apart: a
:class:`SensitivityWarning` says so and about how large a sweep would be needed.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from ..core.errors import InputError, ScenarioError, problems_from_validation_error
from .sweep import load_sweep
from .sweep_spec import SweepSpec, design_size, salib_problem, unit_design

#: the widest 95% half-interval that still tells parameters apart: for Sobol indices (shares
#: of the output's variance) 0.1; for Morris, a tenth of the largest mu*
PRECISION = 0.1


class SensitivityWarning(UserWarning):
    """The sweep is too small for its indices' confidence intervals to mean much; the command
    line prints it as a note."""


def _read_spec(directory: Path) -> SweepSpec:
    """The sweep's spec.yaml; every problem (no folder, no sweep, a damaged file) is one
    InputError naming the folder."""
    if not directory.exists():
        raise InputError(str(directory), [("", "no such folder")])
    if not directory.is_dir():
        raise InputError(str(directory), [("", "is not a folder (give a sweep's --out folder)")])
    path = directory / "spec.yaml"
    if not path.is_file():
        raise ScenarioError(str(directory), [("", "holds no sweep (no spec.yaml)")])
    try:
        return SweepSpec.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as exc:
        raise InputError(str(path), problems_from_validation_error(exc, SweepSpec)) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(str(path), [("", f"cannot be read as a sweep: {reason}")]) from None


def per_point(
    directory: str | Path, metric: str, scenario: str | None = None, versus: str | None = None
) -> tuple[SweepSpec, np.ndarray]:
    """The spec and the metric per point (mean over replications; paired difference)."""
    directory = Path(directory)
    spec = _read_spec(directory)
    results = load_sweep(directory)
    if results.empty:
        raise ScenarioError(str(directory), [("results", "no finished runs yet")])
    if metric not in results:
        known = [c for c in results.columns if not c.startswith("param:")]
        raise ScenarioError(str(directory), [("metric", f"unknown {metric!r}; have {known}")])
    names = list(spec.base)
    scenario = scenario or names[-1]
    for name in (scenario, versus):
        if name is not None and name not in names:
            raise ScenarioError(str(directory), [("scenario", f"unknown {name!r}: {names}")])
    if versus is not None and versus == scenario:
        raise ScenarioError(
            str(directory), [("versus", f"is the scenario analysed ({scenario!r}) itself")]
        )
    n_points = len(load_sweep(directory, "samples"))
    if n_points != design_size(spec):
        raise ScenarioError(
            str(directory),
            [
                (
                    "samples.parquet",
                    f"has {n_points} points where the spec makes {design_size(spec)}; "
                    "run the sweep again into a new folder",
                )
            ],
        )

    def mean_by_point(name: str) -> pd.Series:
        rows = results[results["scenario"] == name]
        means = rows.groupby("point")[metric].mean()
        return means.reindex(range(n_points))

    y = mean_by_point(scenario)
    if versus is not None:
        y = y - mean_by_point(versus)
    missing = int(y.isna().sum())
    if missing:
        raise ScenarioError(
            str(directory),
            [
                (
                    "results",
                    f"{missing} of {n_points} points have no result for {metric!r} "
                    "(finish or resume the sweep first)",
                )
            ],
        )
    return spec, y.to_numpy(dtype=float)


def indices(
    spec: SweepSpec, y: np.ndarray, conf_level: float = 0.95, seed: int | None = None
) -> pd.DataFrame:
    """Sobol or Morris indices of outputs ``y`` (one per point of ``spec``'s design)."""
    problem = salib_problem(spec)
    seed = spec.seed if seed is None else seed
    if spec.sampler == "sobol":
        from SALib.analyze import sobol

        found = sobol.analyze(problem, y, calc_second_order=False, conf_level=conf_level, seed=seed)
        return pd.DataFrame(
            {
                "parameter": problem["names"],
                "S1": found["S1"],
                "S1_conf": found["S1_conf"],
                "ST": found["ST"],
                "ST_conf": found["ST_conf"],
            }
        )
    if spec.sampler == "morris":
        from SALib.analyze import morris

        found = morris.analyze(
            problem, unit_design(spec), y, conf_level=conf_level, num_levels=4, seed=seed
        )
        return pd.DataFrame(
            {
                "parameter": problem["names"],
                "mu_star": found["mu_star"],
                "mu_star_conf": found["mu_star_conf"],
                "sigma": found["sigma"],
            }
        )
    raise ScenarioError(
        "sensitivity", [("sampler", f"needs a sobol or morris sweep, this one is {spec.sampler}")]
    )


def sensitivity(
    directory: str | Path,
    metric: str,
    scenario: str | None = None,
    versus: str | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sobol (S1, ST with CIs) or Morris (mu*, sigma) indices of ``metric`` in a sweep; a
    :class:`SensitivityWarning` when the sweep is too small for its intervals."""
    spec, y = per_point(directory, metric, scenario, versus)
    table = indices(spec, y, conf_level)
    table.attrs["metric"] = metric
    note = precision_note(spec, table, metric)
    if note is not None:
        warnings.warn(note, SensitivityWarning, stacklevel=2)
    return table


def plot_sensitivity(table: pd.DataFrame, ax: Any = None) -> Any:
    """The indices :func:`sensitivity` returned, drawn: Sobol S1 and ST as bars with their
    95% CIs, or Morris mu* against sigma with mu*'s CI. Draws on ``ax`` or a new figure and
    returns the matplotlib Axes."""
    from ..outputs.plotting import sensitivity_chart

    return sensitivity_chart(table, table.attrs.get("metric"), ax=ax)


def precision_note(spec: SweepSpec, table: pd.DataFrame, metric: str = "") -> str | None:
    """What is wrong when the widest interval exceeds :data:`PRECISION` (None if it does
    not), with about the sample size that would bring it within: intervals narrow as one over
    the square root of the sample. Morris effects are in the metric's unit (money as money)."""
    if spec.sampler == "sobol":
        widest = float(table[["S1_conf", "ST_conf"]].max().max())
        allowed, what, unit = PRECISION, "N", "base samples"
        scale = f"±{PRECISION:g}"
        shown = f"{widest:.3g}"
    else:
        widest = float(table["mu_star_conf"].max())
        largest = float(table["mu_star"].abs().max())
        allowed, what, unit = PRECISION * largest, "r", "trajectories"
        scale = (
            f"±{_amount(allowed, metric)} (a tenth of the largest mu*, {_amount(largest, metric)})"
        )
        shown = _amount(widest, metric)
    n = spec.points
    if math.isnan(widest) or math.isnan(allowed):
        return (
            f"with {what}={n} {unit} the indices' 95% intervals could not be computed: the "
            "sweep is too small (or the metric does not vary); run a larger sweep"
        )
    if widest <= allowed:
        return None
    needed = math.ceil(n * (widest / allowed) ** 2) if allowed > 0 else math.inf
    if spec.sampler == "sobol" and math.isfinite(needed):
        needed = 1 << (needed - 1).bit_length()  # Sobol samples come in powers of two
    if math.isfinite(needed):
        total = design_size(spec.model_copy(update={"points": needed}))
        advice = f"about {what}={needed:,} would be needed ({total:,} points)"
    else:
        advice = "a larger sweep is needed"
    return (
        f"with {what}={n} {unit} the widest 95% interval is ±{shown}, wider than "
        f"{scale}: the indices cannot tell the parameters apart; {advice}"
    )


def _amount(value: float, metric: str) -> str:
    """An effect in the metric's unit: money as money (£m, £bn), other figures to 3 digits."""
    if metric.endswith("_gbp") and math.isfinite(value):
        from ..outputs.report import number

        return number(value, "gbp")
    return f"{value:.3g}"
