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
scenario (a base with none of the parameters is run once per replication, not once per point:
:func:`simulation.experiments.sweep.run_once`); a parameter that no base scenario has is an
error. Every point gets a sample id
derived from its values, kept on every row written, so results can never be matched to the
wrong inputs.

Everything is checked before any run: the file is told from a scenario by its keys (and
needs ``base:``), every sampled point is built in every base scenario and validated, the
series asked for must exist in every base, and a sweep is at most :data:`MAX_RUNS` runs,
counted before the design is made. A Sobol ``points`` is raised to a power of two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from ..core.errors import InputError, ScenarioError, problems_from_validation_error
from ..core.schedules import StrictInputs
from ..inputs import paths
from ..inputs.files import read_model, read_yaml
from ..inputs.scenario import MAX_HORIZON_YEARS, Scenario
from ..outputs import outcomes

Sampler = Literal["grid", "lhs", "sobol", "morris"]

#: the most runs (points x base scenarios x replications) one sweep may plan: the plan keeps a
#: few bytes per run in memory, and at a second a run this is already 115 core-days of work
MAX_RUNS = 10_000_000
#: how many problems with sampled points are listed before the rest are counted
LISTED_POINT_PROBLEMS = 20
#: what scipy and SALib say of a Sobol count that is not a power of two
NOT_POWER_OF_TWO = r".*(power of 2|2\^n)"


class SweepWarning(UserWarning):
    """Something a sweep changed or found that its user should know about (a count rounded,
    a damaged chunk moved aside, a stale lock taken over); the command line prints these as
    notes."""


class ParameterSpace(StrictInputs):
    """Values one parameter takes: a list, or a range with a distribution (numbers, never
    true/false, NaN or infinite)."""

    model_config = ConfigDict(extra="forbid")

    values: list[Annotated[float, Field(allow_inf_nan=False)]] | None = None
    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)
    distribution: Literal["uniform", "loguniform", "triangular"] = "uniform"
    mode: float | None = Field(None, allow_inf_nan=False)
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
            from scipy import stats  # here, not at the top: importing the package stays cheap

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


class SweepSpec(StrictInputs):
    """A sweep; see the module docstring. Counts and years are numbers, never true/false."""

    model_config = ConfigDict(extra="forbid")

    name: str = "sweep"
    base: dict[str, str] = Field(min_length=1, description="name -> scenario file")
    parameters: dict[str, ParameterSpace] = Field(min_length=1)
    sampler: Sampler = "lhs"
    points: int = Field(10, ge=1, description="lhs points; sobol base samples; morris paths")
    replications: int = Field(1, ge=1)
    seed: int = Field(1, ge=0)
    years: float | None = Field(None, gt=0, le=MAX_HORIZON_YEARS, allow_inf_nan=False)
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
                message = f"the {self.sampler} sampler needs ranges, not value lists"
                raise PydanticCustomError(
                    "scenario_problems",
                    "{count} problem(s)",
                    {"count": 1, "problems": [("sampler", f"{message} ({', '.join(lists)})")]},
                )
        return self


#: keys only a sweep file has, and keys only a scenario file has: a file is read as a sweep
#: when it has some of the first and none of the second
SWEEP_KEYS = frozenset(SweepSpec.model_fields) - frozenset(Scenario.model_fields)
SCENARIO_KEYS = (frozenset(Scenario.model_fields) | {"extends"}) - frozenset(SweepSpec.model_fields)


def is_sweep_spec(data: Any) -> bool:
    """Whether a parsed YAML file is a sweep (``base:``, ``parameters:``, ``sampler:``, ...)
    rather than a scenario, judged by its keys."""
    if not isinstance(data, Mapping):
        return False
    keys = {str(k) for k in data}
    return bool(keys & SWEEP_KEYS) and not keys & SCENARIO_KEYS


def load_spec(
    path: str | Path, options: Mapping[str, Any] | None = None
) -> tuple[SweepSpec, dict[str, Scenario]]:
    """A sweep file and its base scenarios (paths relative to the file), all validated.

    ``options`` (sampler, points, replications, seed, years; None: not given) override the
    file's values before anything is checked (:func:`with_options`). A Sobol ``points`` that
    is not a power of two is raised to the next one (a :class:`SweepWarning` says so)."""
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, Mapping) and "base" not in data:
        raise InputError(
            str(path),
            [
                (
                    "base",
                    "a sweep spec needs base: the scenario files run at every point, "
                    "e.g. base: {baseline: ../baseline.yaml}",
                )
            ],
        )
    spec = with_options(read_model(path, SweepSpec), options or {}, str(path))
    spec = sobol_power_of_two(spec, str(path))
    missing = [
        (f"base.{name}", f"no such file: {file} (paths are relative to the sweep file)")
        if not (path.parent / file).exists()
        else (f"base.{name}", f"{file!r} is a folder, not a scenario file")
        for name, file in spec.base.items()
        if not (path.parent / file).exists() or (path.parent / file).is_dir()
    ]
    if missing:
        raise InputError(str(path), missing)
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
    spec = sobol_power_of_two(spec, str(path))
    bases = {Path(path).stem: scenario}
    check(spec, bases, origin=str(path))
    return spec, bases


#: what a command line may override in a sweep file
OPTIONS = ("sampler", "points", "replications", "seed", "years")


def with_options(spec: SweepSpec, options: Mapping[str, Any], origin: str = "sweep") -> SweepSpec:
    """``spec`` with the options given (values that are not None) in place of its own,
    validated as a whole; a problem names the option (``--sampler: ...``). An option that is
    not one of :data:`OPTIONS` is an error, never ignored."""
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise InputError(
            origin,
            [(f"--{k}", f"is not a sweep option; use {', '.join(OPTIONS)}") for k in unknown],
        )
    if not given:
        return spec
    try:
        return SweepSpec.model_validate({**spec.model_dump(), **given})
    except ValidationError as exc:
        problems = problems_from_validation_error(exc, SweepSpec)
    shown = []
    for field, message in problems:
        top = field.split(".")[0]
        shown.append((f"--{top}" if top in given else field, message))
    raise InputError(origin, shown)


def sobol_power_of_two(spec: SweepSpec, origin: str = "sweep") -> SweepSpec:
    """``spec`` with a Sobol ``points`` raised to the next power of two, with a warning.

    Sobol' sequences are balanced only in blocks of 2^k points; SALib's estimators assume it.
    """
    if spec.sampler != "sobol" or spec.points & (spec.points - 1) == 0:
        return spec
    rounded = 1 << (spec.points - 1).bit_length()
    warnings.warn(
        f"{origin}: points {spec.points} raised to {rounded}: a Sobol sweep needs a power of "
        f"two (its sequence is balanced only in blocks of 2^k points)",
        SweepWarning,
        stacklevel=3,
    )
    return spec.model_copy(update={"points": rounded})


def design_size(spec: SweepSpec) -> int:
    """How many points the sampler makes, counted without making them."""
    d = len(spec.parameters)
    if spec.sampler == "grid":
        return math.prod(
            len(space.values) if space.values is not None else space.levels
            for space in spec.parameters.values()
        )
    if spec.sampler == "sobol":
        return spec.points * (d + 2)  # first and total order: N (D + 2)
    if spec.sampler == "morris":
        return spec.points * (d + 1)  # a trajectory visits D + 1 points
    return spec.points


def check_size(spec: SweepSpec, bases: int, origin: str = "sweep") -> None:
    """Refuse a sweep of more than :data:`MAX_RUNS` runs before its design is made."""
    points = design_size(spec)
    runs = points * bases * spec.replications
    if runs <= MAX_RUNS:
        return
    if spec.replications >= points:  # name the larger factor
        field = "replications"
    elif spec.sampler == "grid":
        field = "parameters"
    else:
        field = "points"
    raise InputError(
        origin,
        [
            (
                field,
                f"the sweep has {points:,} points x {bases} base scenario(s) x "
                f"{spec.replications:,} replication(s) = {runs:,} runs; at most {MAX_RUNS:,} "
                "(the plan keeps every run in memory, and at a second a run that is already "
                "115 core-days); split it into several sweeps",
            )
        ],
    )


def _why_missing(bases: dict[str, Scenario], path: str) -> str:
    """Why no base scenario has ``path``: the reason the path lookup gives (a renamed field
    says what replaced it), or that no base has it."""
    for scenario in bases.values():
        try:
            paths.get(scenario.to_dict(), path)
        except paths.PathError as exc:
            if exc.renamed:
                return exc.reason
    return "no base scenario has this field"


def check(spec: SweepSpec, bases: dict[str, Scenario], origin: str = "sweep") -> None:
    """Every parameter exists in some base scenario and both ends of its range are valid, a
    yes/no field is given values rather than a range, every metric is a declared outcome, and
    the sweep is not too large to plan."""
    problems = []
    for path, space in spec.parameters.items():
        holders = [n for n, s in bases.items() if paths.exists(s.to_dict(), path)]
        if not holders:
            problems.append((f"parameters.{path}", _why_missing(bases, path)))
            continue
        flags = [n for n in holders if isinstance(paths.get(bases[n].to_dict(), path), bool)]
        if flags and space.values is None:
            problems.append(
                (
                    f"parameters.{path}",
                    "is a yes/no field: a range would sample fractions; give values: [0, 1]",
                )
            )
            continue
        tried = space.values if space.values is not None else [space.low, space.high]
        for name in holders:
            for value in dict.fromkeys(tried):
                try:
                    bases[name].with_overrides({path: value})
                except ScenarioError as exc:
                    reason = "; ".join(m for _, m in exc.problems)
                    problems.append((f"parameters.{path}", f"{value} in '{name}': {reason}"))
    for metric in spec.metrics:
        reason = outcomes.unknown_metric(metric)
        if reason:
            problems.append(("metrics", reason))
    if problems:
        raise ScenarioError(origin, problems)
    check_size(spec, len(bases), origin)


def plain(value: float) -> float | int:
    """A float, or an int if it is whole (so that integer fields accept it)."""
    value = float(value)
    return int(value) if value.is_integer() else value


def applicable(spec: SweepSpec, bases: dict[str, Scenario]) -> dict[str, list[str]]:
    """For each base scenario, the parameters it has (the others are left alone there)."""
    return {
        name: [p for p in spec.parameters if paths.exists(s.to_dict(), p)]
        for name, s in bases.items()
    }


def check_points(
    spec: SweepSpec, bases: dict[str, Scenario], design: pd.DataFrame, origin: str = "sweep"
) -> None:
    """Build every point of the design in every base scenario, as a run will, and refuse the
    sweep if any does not validate: each problem names the point, the base and the field.

    Both ends of each range can be valid while some combinations are not (two stocks whose
    sum is bounded, say), so every point is checked; about a millisecond a point and base.
    """
    problems: list[tuple[str, str]] = []
    bad_points: set[int] = set()
    for name, fields in applicable(spec, bases).items():
        if not fields:
            continue
        scenario = bases[name]
        data = scenario.to_dict()
        columns = [design[f].to_numpy() for f in fields]
        seen: dict[tuple, list[tuple[str, str]]] = {}
        for row, point in enumerate(design["point"].to_numpy()):
            values = tuple(plain(column[row]) for column in columns)
            if values not in seen:
                overrides = dict(zip(fields, values, strict=True))
                try:
                    type(scenario).from_dict(
                        paths.set_values(data, overrides), origin="point", check_ranges=False
                    )
                    seen[values] = []
                except ScenarioError as exc:
                    shown = ", ".join(f"{f}={v:g}" for f, v in overrides.items())
                    seen[values] = [
                        (f"point {int(point)} in '{name}'", f"{f}: {m} (at {shown})" if f else m)
                        for f, m in exc.problems
                    ]
            if seen[values]:
                bad_points.add(int(point))
                room = LISTED_POINT_PROBLEMS - len(problems)
                problems.extend(seen[values][: max(room, 0)])
    if problems:
        if len(bad_points) > 1 or len(problems) >= LISTED_POINT_PROBLEMS:
            problems.append(
                (
                    "parameters",
                    f"{len(bad_points)} of {len(design)} sampled points cannot be built "
                    "(narrow the ranges so that every combination is valid)",
                )
            )
        raise ScenarioError(origin, problems)


def check_series(spec: SweepSpec, bases: dict[str, Scenario], origin: str = "sweep") -> None:
    """Refuse ``series.metrics`` that some base scenario does not produce, before any run.

    Which series a run has depends on its policies, so each base scenario is run until its
    last policy has started, plus a day, to see them (a second or two)."""
    if spec.series is None:
        return
    from .evaluate import run_one

    problems = []
    for name, scenario in bases.items():
        starts = [scenario.start_date] + [
            getattr(config, "start_date", None) or scenario.start_date
            for config in scenario.policies.values()
            if getattr(config, "enabled", True)
        ]  # a policy that would never act may be refused: run until each has started
        end = max(starts) + dt.timedelta(days=1)
        try:
            probe = (
                scenario.with_overrides({"end_date": end}) if end < scenario.end_date else scenario
            )
        except ScenarioError:
            probe = scenario
        have = set(run_one(probe, spec.seed, 0).series_wide().columns)
        missing = [m for m in spec.series.metrics if m not in have]
        if missing:
            problems.append(
                (
                    "series.metrics",
                    f"'{name}' has no series {', '.join(missing)}; it has: "
                    f"{', '.join(sorted(have))}",
                )
            )
    if problems:
        raise InputError(origin, problems)


# ------------------------------------------------------------------------------ samples


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem over the unit cube (parameters are mapped afterwards)."""
    names = list(spec.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def unit_design(spec: SweepSpec) -> np.ndarray:
    """The sampler's points in the unit cube, one row per point."""
    d = len(spec.parameters)
    if spec.sampler == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, seed=spec.seed).random(spec.points)
    if spec.sampler == "sobol":
        from SALib.sample import sobol

        with warnings.catch_warnings():  # a count that is not 2^k: see sobol_power_of_two
            warnings.filterwarnings("ignore", message=NOT_POWER_OF_TWO, category=UserWarning)
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
    check_size(spec, 1)
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
