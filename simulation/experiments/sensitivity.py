"""Sensitivity indices from a Sobol or Morris sweep, computed with SALib.

    asylum-sim sensitivity DIR --metric total_cost_discounted_gbp [--scenario combined]
                           [--versus baseline]

For each point of the sweep the metric is averaged over replications (and, with
``versus``, taken as the paired difference from another base scenario, so the indices say
what drives the policy's effect rather than the level). Sobol sweeps give first and total
order indices with confidence intervals (SALib's bootstrap); Morris sweeps give mu*, its
confidence interval and sigma. Inputs are analysed on the unit scale they were sampled on,
which the parameters' distributions map one-to-one onto their values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..core.errors import ScenarioError
from .sweep import load_sweep
from .sweep_spec import SweepSpec, salib_problem, unit_design


def per_point(
    directory: str | Path, metric: str, scenario: str | None = None, versus: str | None = None
) -> tuple[SweepSpec, np.ndarray]:
    """The spec and the metric per point (mean over replications; paired difference)."""
    directory = Path(directory)
    try:
        spec = SweepSpec.model_validate(yaml.safe_load((directory / "spec.yaml").read_text()))
    except FileNotFoundError:
        raise ScenarioError(str(directory), [("", "holds no sweep (no spec.yaml)")]) from None
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
    n_points = len(load_sweep(directory, "samples"))

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
    """Sobol (S1, ST with CIs) or Morris (mu*, sigma) indices of ``metric`` in a sweep."""
    spec, y = per_point(directory, metric, scenario, versus)
    return indices(spec, y, conf_level)
