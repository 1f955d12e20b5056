"""Calibration: fit the parameters no source gives to published series.

    asylum-sim calibrate scenarios/validation/calibration_2023_2025.yaml

A calibration file names a targets file (whose ``fit: true`` figures are fitted), the
parameters to fit with their bounds, the seed and the number of replications. The objective is
the sum over fitted figures of the squared miss in units of each figure's tolerance, averaged
over replications run on common random numbers (the same seeds at every trial point), so it is
a deterministic function of the parameters; scipy's Nelder-Mead minimises it in a transformed
space where every bound is respected.

The search starts from the values the calibrated scenario holds (after a fit, the fitted
values as written, to 4 significant figures), unless a parameter gives its own ``start``. A
re-run therefore continues from the last fit's best point rather than repeating it; the same
files and seed give the same search. The fitted values are written into the scenario files the
calibration file names (keeping their comments and layout), each with a ``sources:`` entry of
kind ``fitted`` that records the targets, the objective, the seed and the date. A fit stopped
by Ctrl-C (KeyboardInterrupt) writes its best point so far, marked interrupted, and raises
:class:`CalibrationInterrupted`; a re-run continues from it. A dry run evaluates the objective
once at the values the scenario holds, fitting and writing nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import optimize

from ..core.errors import InputError, ScenarioError
from ..experiments.evaluate import run_one
from ..inputs import paths as scenario_paths
from ..inputs.files import read_model
from ..inputs.provenance import SET_BY_CALIBRATION
from ..inputs.scenario import Scenario
from ..outputs.writing import atomic_write_text, check_replaceable_file
from .targets import load_targets, objective

Progress = Callable[[int, float, dict[str, float]], None]


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="dotted path of the parameter in the calibrated scenario")
    start: float | None = Field(
        default=None,
        description="where the search starts; by default the value the calibrated scenario "
        "holds (after a fit, the fitted value, so that a re-run continues from it)",
    )
    low: float
    high: float
    write: dict[str, str] = Field(
        default_factory=dict,
        description="scenario files (relative to this file) and the path to write the value at",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.start is not None and not self.low <= self.start <= self.high:
            raise ValueError(f"start ({self.start}) must lie within [{self.low}, {self.high}]")
        return self


class CalibrationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: str = Field(description="targets file, relative to this file")
    seed: int = Field(ge=0)
    replications: int = Field(ge=1)
    max_evaluations: int = Field(ge=1)
    parameters: list[Parameter] = Field(min_length=1)


@dataclass
class Calibration:
    """What a calibration found: the best point, its objective, the evaluations it took
    (one for a dry run) and every point tried, in order."""

    values: dict[str, float]
    objective: float
    evaluations: int
    message: str
    history: list[tuple[dict[str, float], float]] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C: the best point so far
    dry_run: bool = False  # one evaluation at the scenario's values, nothing fitted


class CalibrationInterrupted(KeyboardInterrupt):
    """A fit stopped by Ctrl-C after at least one evaluation: ``calibration`` holds the best
    point so far and ``written`` the files it was written to (none for a fit that writes
    nothing)."""

    def __init__(self, calibration: Calibration, written: Sequence[Path] = ()) -> None:
        super().__init__(calibration.message)
        self.calibration = calibration
        self.written = list(written)


def load_spec(path: str | Path) -> CalibrationSpec:
    return read_model(path, CalibrationSpec)


def _to_unbounded(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    share = np.clip((x - low) / (high - low), 1e-6, 1 - 1e-6)
    return np.log(share / (1 - share))


def _to_bounded(u: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return low + (high - low) / (1 + np.exp(-u))


def starting_values(scenario: Scenario, parameters: Sequence[Parameter]) -> dict[str, float]:
    """Where the search starts: each parameter's ``start`` if it gives one, else the value the
    scenario holds (the last fit's, once one has been written). Every path must name a number
    in the scenario within the parameter's bounds; every problem is named before any run."""
    problems: list[tuple[str, str]] = []
    values: dict[str, float] = {}
    for index, parameter in enumerate(parameters):
        where = f"parameters.{index}.path"
        try:
            held = _value_at(scenario, parameter.path)
        except KeyError as exc:
            problems.append((where, str(exc)))
            continue
        if parameter.start is not None:
            values[parameter.path] = float(parameter.start)
            continue
        if isinstance(held, bool) or not isinstance(held, int | float):
            problems.append((where, f"{parameter.path} is not a number in the scenario ({held!r})"))
        elif not parameter.low <= held <= parameter.high:
            problems.append(
                (
                    where,
                    f"{parameter.path} is {held} in the scenario, outside [{parameter.low}, "
                    f"{parameter.high}]: widen the bounds or give a start",
                )
            )
        else:
            values[parameter.path] = float(held)
    if problems:
        raise ScenarioError("calibration", problems)
    return values


def _fitted_targets(targets) -> list:
    fitted = [t for t in targets if t.fit]
    if not fitted:
        raise InputError("calibration", [("targets", "no target is marked fit: true")])
    return fitted


def objective_at(
    scenario: Scenario, targets, values: dict[str, float], seed: int, replications: int
) -> float:
    """The objective with the scenario's fields at ``values`` set (dotted path -> value)."""
    fitted = _fitted_targets(targets)
    records = any(target.kind in ("exits", "appeal_weeks") for target in fitted)
    trial = scenario.with_overrides(values, by=SET_BY_CALIBRATION)
    results = [run_one(trial, seed, r, keep_records=records) for r in range(replications)]
    return objective(fitted, results, trial)


def fit(
    scenario: Scenario,
    targets,
    parameters: Sequence[Parameter],
    seed: int,
    replications: int,
    max_evaluations: int,
    progress: Progress | None = None,
) -> Calibration:
    """Minimise the targets' objective over ``parameters`` (Nelder-Mead, bounded), from
    :func:`starting_values`. Ctrl-C after the first evaluation raises
    :class:`CalibrationInterrupted` carrying the best point so far."""
    _fitted_targets(targets)
    paths = [p.path for p in parameters]
    low = np.array([p.low for p in parameters])
    high = np.array([p.high for p in parameters])
    started_at = starting_values(scenario, parameters)
    start = np.array([started_at[path] for path in paths])
    u0 = _to_unbounded(start, low, high)
    cache: dict[tuple[float, ...], float] = {}
    history: list[tuple[dict[str, float], float]] = []

    def evaluate(u: np.ndarray) -> float:
        # the starting point exactly as held, not as it comes back from the transform
        x = start if np.array_equal(u, u0) else _to_bounded(u, low, high)
        key = tuple(np.round(x, 12))
        if key in cache:
            return cache[key]
        values = dict(zip(paths, (float(v) for v in x), strict=True))
        value = objective_at(scenario, targets, values, seed, replications)
        cache[key] = value
        history.append((values, value))
        if progress:
            progress(len(history), value, values)
        return value

    simplex = np.vstack([u0] + [u0 + 0.5 * np.eye(len(u0))[i] for i in range(len(u0))])
    try:
        found = optimize.minimize(
            evaluate,
            u0,
            method="Nelder-Mead",
            options={
                "initial_simplex": simplex,
                "maxfev": max_evaluations,
                "xatol": 1e-3,
                "fatol": 1e-3,
            },
        )
    except KeyboardInterrupt:
        if not history:
            raise  # nothing evaluated, nothing to keep
        best_values, best = min(history, key=lambda item: item[1])
        raise CalibrationInterrupted(
            Calibration(
                values=best_values,
                objective=best,
                evaluations=len(history),
                message=f"interrupted after {len(history)} evaluations",
                history=history,
                interrupted=True,
            )
        ) from None
    best_values, best = min(history, key=lambda item: item[1])
    return Calibration(
        values=best_values,
        objective=best,
        evaluations=len(history),
        message=str(found.message),
        history=history,
    )


def _value_at(scenario: Scenario, path: str):
    return scenario_paths.get(scenario.to_dict(), path)


# ------------------------------------------------------------------------------ writing


def round_fitted(value: float) -> float:
    """A fitted value as written into scenario files (4 significant figures)."""
    return float(f"{value:.4g}")


def write_values(
    spec_path: Path,
    spec: CalibrationSpec,
    calibration: Calibration,
    targets_path: Path,
    fitted_ids: list[str],
) -> list[Path]:
    """Write the fitted values and their provenance into the scenario files, in place; the
    provenance of an interrupted fit's best point so far says it was interrupted."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long lines (titles, URLs, notes)
    yaml.representer.add_representer(  # keep an explicit null (an overlay removing an entry)
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    by_file: dict[Path, list[tuple[str, float]]] = {}
    for parameter in spec.parameters:
        value = round_fitted(calibration.values[parameter.path])
        for file, path in parameter.write.items():
            by_file.setdefault((spec_path.parent / file).resolve(), []).append((path, value))
    note = (
        f"fitted by asylum-sim calibrate {spec_path.name} on {date.today().isoformat()}"
        f" to {len(fitted_ids)} published figures of {targets_path.name} ({', '.join(fitted_ids)})"
        f"; seed {spec.seed}, {spec.replications} replication(s) on common random numbers, "
        f"{calibration.evaluations} evaluations, objective {calibration.objective:.4g} (sum of "
        f"squared misses in units of tolerance)"
    )
    if calibration.interrupted:
        note += (
            f"; INTERRUPTED after {calibration.evaluations} evaluations: the best point so far, "
            "not a finished fit (a re-run continues from it)"
        )
    written = []
    for file, entries in by_file.items():
        data = yaml.load(file.read_text(encoding="utf-8"))
        for path, value in entries:
            _set(data, path, value)
            sources = data.setdefault("sources", {})
            sources[path] = {"kind": "fitted", "note": note}
        text = io.StringIO()
        yaml.dump(data, text)
        written.append(atomic_write_text(file, text.getvalue()))
    return written


def check_files_to_write(spec_path: Path, spec: CalibrationSpec) -> None:
    """Refuse, before any fitting, a scenario file the fitted values cannot be written to."""
    problems = []
    for index, parameter in enumerate(spec.parameters):
        for file in parameter.write:
            try:
                check_replaceable_file(
                    (spec_path.parent / file).resolve(), f"parameters.{index}.write"
                )
            except InputError as exc:
                problems.extend(exc.problems)
    if problems:
        raise InputError(str(spec_path), problems)


def _set(data, path: str, value: float) -> None:
    """Set ``path`` in a round-trip YAML mapping, creating mappings (and dated keys)."""
    parts = path.split(".")
    node = data
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        key = next((k for k in node if _text(k) == part), None)
        if key is None:
            key = date.fromisoformat(part) if _is_date(part) else part
        if last:
            node[key] = value
        else:
            if key not in node or not hasattr(node[key], "keys"):
                node[key] = {}
            node = node[key]


def _text(key) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------ running it


def run_calibration(
    spec_path: str | Path,
    dry_run: bool = False,
    max_evaluations: int | None = None,
    progress: Progress | None = None,
    write: bool = True,
) -> tuple[Calibration, list[Path]]:
    """Load, fit and write; returns the calibration and the files written.

    ``dry_run`` evaluates the objective once at the values the scenario holds (where a fit
    would start) and fits and writes nothing. ``write=False`` fits without writing. Ctrl-C
    during a fit writes the best point so far (marked interrupted, unless ``write`` is false)
    and raises :class:`CalibrationInterrupted` with it.
    """
    spec_path = Path(spec_path).resolve()
    spec = load_spec(spec_path)
    writing = write and not dry_run
    if writing:
        check_files_to_write(spec_path, spec)
    targets_path = (spec_path.parent / spec.targets).resolve()
    target_set, scenario_path = load_targets(targets_path)
    scenario = Scenario.from_yaml(scenario_path)
    if dry_run:
        return dry_run_at_recorded_values(scenario, target_set.targets, spec, progress), []
    fitted_ids = [t.id for t in target_set.targets if t.fit]
    try:
        calibration = fit(
            scenario,
            target_set.targets,
            spec.parameters,
            spec.seed,
            spec.replications,
            max_evaluations or spec.max_evaluations,
            progress,
        )
    except CalibrationInterrupted as stopped:
        if writing:
            stopped.written = write_values(
                spec_path, spec, stopped.calibration, targets_path, fitted_ids
            )
        raise
    written: list[Path] = []
    if writing:
        written = write_values(spec_path, spec, calibration, targets_path, fitted_ids)
    return calibration, written


def dry_run_at_recorded_values(
    scenario: Scenario, targets, spec: CalibrationSpec, progress: Progress | None = None
) -> Calibration:
    """The objective once, at the values the scenario holds for the calibrated parameters
    (the last fit's, as written): what a fit would start from, without fitting."""
    recorded = starting_values(
        scenario, [p.model_copy(update={"start": None}) for p in spec.parameters]
    )
    value = objective_at(scenario, targets, recorded, spec.seed, spec.replications)
    if progress:
        progress(1, value, recorded)
    return Calibration(
        values=recorded,
        objective=value,
        evaluations=1,
        message="dry run: the objective at the values the scenario holds; nothing fitted "
        "or written",
        history=[(recorded, value)],
        dry_run=True,
    )
