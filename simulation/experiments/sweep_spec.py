"""What a sweep runs: base scenarios, uncertain parameters, a sampler, and what to keep.

In EMA Workbench's words, the parameters are uncertainties (or levers) and the metrics are
outcomes; the samplers are SALib's and scipy's. A sweep file::

    name: deterrence, hubs and incentive
    base:                                  # run at every point, with the same seeds
      baseline: ../baseline.yaml
      combined: ../combined.yaml
    parameters:
      policies.offshore.deterred_share: {low: 0.0, high: 0.5}
      policies.return_hubs.capacity_people: {values: [500, 1024, 3000]}
      policies.voluntary_return.payment_gbp: {low: 1000, high: 10000, distribution: loguniform}
    sampler: lhs                           # grid, lhs, sobol or morris
    points: 20
    replications: 2
    seed: 1
    years: 2                               # optional: shorten every base scenario
    metrics: [total_cost_discounted_gbp, peak_hotel_population]
    series: {metrics: [in_hotel], every: month}   # optional

A parameter that a base scenario lacks (a policy it does not have) is left alone in that
scenario; a parameter that no base scenario has is an error. Every point gets a sample id
derived from its values, kept on every row written, so results can never be matched to the
wrong inputs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats
from scipy.stats import qmc

from ..core.errors import ScenarioError
from ..inputs import paths
from ..inputs.files import read_model
from ..inputs.scenario import Scenario
from ..outputs import outcomes

Sampler = Literal["grid", "lhs", "sobol", "morris"]


class ParameterSpace(BaseModel):
    """Values one parameter takes: a list, or a range with a distribution."""

    model_config = ConfigDict(extra="forbid")

    values: list[float] | None = None
    low: float | None = None
    high: float | None = None
    distribution: Literal["uniform", "loguniform", "triangular"] = "uniform"
    mode: float | None = None
    levels: int = Field(5, ge=2, description="grid points over a range (grid sampler)")

    @model_validator(mode="after")
    def _one_form(self) -> ParameterSpace:
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either values or low and high, not both")
            if not self.values:
                raise ValueError("values must not be empty")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give values, or low and high")
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform range needs low > 0")
        if self.distribution == "triangular" and (
            self.mode is None or not self.low <= self.mode <= self.high
        ):
            raise ValueError("a triangular range needs a mode between low and high")
        return self

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map uniform numbers in [0, 1) to the parameter's values (inverse CDF)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0 - 1e-12)
        if self.values is not None:
            return np.asarray(self.values, dtype=float)[(u * len(self.values)).astype(int)]
        low, high = float(self.low), float(self.high)
        if high == low:
            return np.full(len(u), low)
        if self.distribution == "loguniform":
            return np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
        if self.distribution == "triangular":
            c = (self.mode - low) / (high - low)
            return stats.triang.ppf(u, c, loc=low, scale=high - low)
        return low + u * (high - low)

    def grid(self) -> list[float]:
        if self.values is not None:
            return list(self.values)
        return list(self.from_unit(np.linspace(0, 1 - 1e-12, self.levels)))


class SeriesSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics: list[str] = Field(min_length=1)
    every: Literal["month", "quarter", "year"] = "month"


class SweepSpec(BaseModel):
    """A sweep; see the module docstring."""

    model_config = ConfigDict(extra="forbid")

    name: str = "sweep"
    base: dict[str, str] = Field(min_length=1, description="name -> scenario file")
    parameters: dict[str, ParameterSpace] = Field(min_length=1)
    sampler: Sampler = "lhs"
    points: int = Field(10, ge=1, description="lhs points; sobol base samples; morris paths")
    replications: int = Field(1, ge=1)
    seed: int = Field(1, ge=0)
    years: float | None = Field(None, gt=0)
    metrics: list[str] = Field(
        default_factory=outcomes.headline,
        min_length=1,
        description="summary outcomes kept per point (docs/outcomes.md)",
    )
    series: SeriesSpec | None = None

    @model_validator(mode="after")
    def _sampler_fits(self) -> SweepSpec:
        if self.sampler in ("sobol", "morris"):
            lists = [p for p, space in self.parameters.items() if space.values is not None]
            if lists:
                raise ValueError(
                    f"the {self.sampler} sampler needs ranges, not value lists ({', '.join(lists)})"
                )
        return self


def load_spec(path: str | Path) -> tuple[SweepSpec, dict[str, Scenario]]:
    """A sweep file and its base scenarios (paths relative to the file), all validated."""
    path = Path(path)
    spec = read_model(path, SweepSpec)
    bases = {}
    for name, file in spec.base.items():
        bases[name] = Scenario.from_yaml((path.parent / file).resolve())
    check(spec, bases, origin=str(path))
    return spec, bases


def spec_from_scenario(
    path: str | Path, sampler: Sampler, points: int, replications: int = 1, seed: int = 1
) -> tuple[SweepSpec, dict[str, Scenario]]:
    """A sweep over the uncertainty ranges a scenario file declares."""
    scenario = Scenario.from_yaml(path)
    if not scenario.uncertainty:
        raise ScenarioError(str(path), [("uncertainty", "declares no ranges to sweep over")])
    parameters = {
        p: {"low": u.low, "high": u.high, "distribution": u.distribution, "mode": u.mode}
        for p, u in scenario.uncertainty.items()
    }
    spec = SweepSpec.model_validate(
        {
            "name": f"uncertainty of {scenario.name}",
            "base": {Path(path).stem: str(Path(path).resolve())},
            "parameters": parameters,
            "sampler": sampler,
            "points": points,
            "replications": replications,
            "seed": seed,
        }
    )
    bases = {Path(path).stem: scenario}
    check(spec, bases, origin=str(path))
    return spec, bases


def check(spec: SweepSpec, bases: dict[str, Scenario], origin: str = "sweep") -> None:
    """Every parameter exists in some base scenario and both ends of its range are valid, and
    every metric is a declared outcome."""
    problems = []
    for path, space in spec.parameters.items():
        holders = [n for n, s in bases.items() if paths.exists(s.to_dict(), path)]
        if not holders:
            problems.append((f"parameters.{path}", "no base scenario has this field"))
            continue
        tried = space.values if space.values is not None else [space.low, space.high]
        for name in holders:
            for value in dict.fromkeys(tried):
                try:
                    bases[name].with_overrides({path: value})
                except ScenarioError as exc:
                    reason = "; ".join(m for _, m in exc.problems)
                    problems.append((f"parameters.{path}", f"{value} in '{name}': {reason}"))
    unknown = [m for m in spec.metrics if not outcomes.is_outcome(m)]
    if unknown:
        known = ", ".join(outcomes.known())
        problems.append(("metrics", f"unknown: {', '.join(unknown)}; known: {known}"))
    if problems:
        raise ScenarioError(origin, problems)


# ------------------------------------------------------------------------------ samples


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem over the unit cube (parameters are mapped afterwards)."""
    names = list(spec.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def unit_design(spec: SweepSpec) -> np.ndarray:
    """The sampler's points in the unit cube, one row per point."""
    d = len(spec.parameters)
    if spec.sampler == "lhs":
        return qmc.LatinHypercube(d=d, seed=spec.seed).random(spec.points)
    if spec.sampler == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            salib_problem(spec), spec.points, calc_second_order=False, seed=spec.seed
        )
    if spec.sampler == "morris":
        from SALib.sample import morris

        return morris.sample(salib_problem(spec), spec.points, num_levels=4, seed=spec.seed)
    raise ValueError(f"no unit design for the {spec.sampler} sampler")


def sample_id(values: dict[str, float]) -> str:
    """A short id derived from a point's parameter values (same values, same id)."""
    text = json.dumps({k: float(v) for k, v in sorted(values.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def integer_parameters(spec: SweepSpec, bases: dict[str, Scenario]) -> set[str]:
    """Parameters whose field holds whole numbers (a count of people): sampled values are
    rounded to them."""
    found = set()
    for path in spec.parameters:
        for scenario in bases.values():
            data = scenario.to_dict()
            if paths.exists(data, path):
                value = paths.get(data, path)
                if isinstance(value, int) and not isinstance(value, bool):
                    found.add(path)
    return found


def samples(spec: SweepSpec, integers: set[str] = frozenset()) -> pd.DataFrame:
    """The sweep's design: point number, sample id and one column per parameter
    (``integers`` are rounded to whole numbers)."""
    names = list(spec.parameters)
    if spec.sampler == "grid":
        grids = [spec.parameters[n].grid() for n in names]
        values = np.array(list(itertools.product(*grids)), dtype=float)
    else:
        unit = unit_design(spec)
        values = np.column_stack(
            [spec.parameters[n].from_unit(unit[:, i]) for i, n in enumerate(names)]
        )
    for index, name in enumerate(names):
        if name in integers:
            values[:, index] = np.round(values[:, index])
    frame = pd.DataFrame(values, columns=names)
    frame.insert(0, "point", np.arange(len(frame)))
    frame.insert(1, "sample_id", [sample_id(dict(zip(names, row, strict=True))) for row in values])
    return frame
