"""Published figures as targets, and how close a run comes to them.

A targets file (``scenarios/validation/targets_2023_2025.yaml``) lists published figures with
the kind of model quantity each is compared with, a tolerance and the key of the figure in the
shared UK figures table. :func:`evaluate` turns replications of a run into one row per figure:
published value, simulated mean with its 95% confidence interval, tolerance, pass or fail.
Calibration minimises :func:`objective` over the figures marked ``fit``.
"""

from __future__ import annotations

import datetime
import math
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.records import AppealOutcome, ExitOutcome
from ..core.vocabulary import ROUTE_CODES, Route
from ..experiments.replications import mean_ci
from ..inputs.files import read_model
from ..inputs.scenario import Scenario
from ..outputs.results import Result

Kind = Literal["stock", "flow", "ratio", "peak", "appeal_weeks", "cost", "exits"]
ExitKind = Literal["removed", "voluntary"]
_EXIT_CODES = {"removed": ExitOutcome.REMOVED, "voluntary": ExitOutcome.VOLUNTARY}


class Target(BaseModel):
    """One published figure and how to read the same quantity off a run."""

    model_config = ConfigDict(extra="forbid")

    id: str
    group: str = Field(description="the validation target it belongs to, e.g. V3")
    label: str
    kind: Kind
    metric: str | list[str] | None = Field(None, description="series metric(s), summed")
    numerator: str | None = None
    denominator: list[str] | None = None
    date: datetime.date | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    published: float | datetime.date
    published_scale: float = Field(1.0, gt=0, description="multiplies the published figure")
    unit: Literal["people", "cases"] = "people"
    tolerance: float | None = Field(None, gt=0, description="relative")
    tolerance_abs: float | None = Field(None, gt=0)
    tolerance_days: int | None = Field(None, gt=0)
    routes: list[Route] | None = Field(
        None, min_length=1, description="exits targets: people who arrived by these routes"
    )
    exits: list[ExitKind] | None = Field(
        None, min_length=1, description="exits targets: the ways out counted"
    )
    fit: bool = False
    data_key: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Target:
        needs = {
            "stock": ("metric", "date"),
            "flow": ("metric", "start", "end"),
            "cost": ("metric", "start", "end"),
            "ratio": ("numerator", "denominator", "start", "end"),
            "peak": ("metric",),
            "appeal_weeks": ("start", "end"),
            "exits": ("exits", "start", "end"),
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} target needs {', '.join(missing)}")
        if self.kind != "exits":
            stray = [name for name in ("routes", "exits") if getattr(self, name) is not None]
            if stray:
                raise ValueError(f"{' and '.join(stray)} apply only to exits targets")
        tolerances = [self.tolerance, self.tolerance_abs, self.tolerance_days]
        if sum(t is not None for t in tolerances) != 1:
            raise ValueError("give exactly one of tolerance, tolerance_abs, tolerance_days")
        if (self.kind == "peak") != isinstance(self.published, datetime.date):
            raise ValueError("a peak target's published value is a date, others are numbers")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    @property
    def reference(self) -> float:
        """The published figure the model is compared with (after scaling)."""
        if isinstance(self.published, datetime.date):
            raise TypeError("a peak target's reference is a date")
        return float(self.published) * self.published_scale

    def allowed(self) -> float:
        """Largest acceptable distance from the reference (days for a peak)."""
        if self.tolerance_days is not None:
            return float(self.tolerance_days)
        if self.tolerance_abs is not None:
            return self.tolerance_abs
        return self.tolerance * abs(self.reference)

    def tolerance_text(self) -> str:
        if self.tolerance_days is not None:
            return f"±{self.tolerance_days} days"
        if self.tolerance_abs is not None:
            return f"±{self.tolerance_abs * 100:g} pp"
        return f"±{self.tolerance * 100:g}%"


class TargetSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str
    targets: list[Target] = Field(min_length=1)
    notes: dict[str, str] = Field(
        default_factory=dict, description="per target group: why it fails, or a caveat"
    )

    @model_validator(mode="after")
    def _unique(self) -> TargetSet:
        ids = [t.id for t in self.targets]
        if len(ids) != len(set(ids)):
            raise ValueError("target ids must be unique")
        return self


def load_targets(path: str | Path) -> tuple[TargetSet, Path]:
    """The targets of a file and the path of the scenario they are for."""
    path = Path(path)
    targets = read_model(path, TargetSet)
    return targets, (path.parent / targets.scenario).resolve()


def _day(scenario: Scenario, when: date) -> int:
    return (when - scenario.start_date).days


def _series_at(wide: pd.DataFrame, metrics: str | list[str], day: int) -> float:
    names = [metrics] if isinstance(metrics, str) else metrics
    return float(sum(wide[name].iloc[day] for name in names))


def simulated(target: Target, result: Result, scenario: Scenario, wide: pd.DataFrame) -> float:
    """The model's value of ``target`` in one replication (a peak as days from the start)."""
    scale = 1.0 / scenario.people_per_case if target.unit == "cases" else 1.0
    if target.kind == "stock":
        return _series_at(wide, target.metric, _day(scenario, target.date)) * scale
    if target.kind in ("flow", "cost"):
        start, end = _day(scenario, target.start), _day(scenario, target.end)
        change = _series_at(wide, target.metric, end) - _series_at(wide, target.metric, start)
        return change * scale
    if target.kind == "ratio":
        start, end = _day(scenario, target.start), _day(scenario, target.end)
        top = _series_at(wide, target.numerator, end) - _series_at(wide, target.numerator, start)
        bottom = _series_at(wide, target.denominator, end) - _series_at(
            wide, target.denominator, start
        )
        return top / bottom if bottom else math.nan
    if target.kind == "peak":
        return float(np.argmax(wide[target.metric].to_numpy()))
    if target.kind == "exits":
        records = _records(result, target)
        start, end = _day(scenario, target.start), _day(scenario, target.end)
        t_exit = records["t_exit"]
        counted = np.isin(records["exit_outcome"], [_EXIT_CODES[e] for e in target.exits])
        counted &= (t_exit >= start) & (t_exit < end)
        if target.routes is not None:
            counted &= np.isin(records["route"], [ROUTE_CODES[r] for r in target.routes])
        return float(counted.sum()) * scale
    if target.kind == "appeal_weeks":
        records = result.records
        if records is None:
            raise ValueError("appeal_weeks targets need runs made with keep_records=True")
        start, end = _day(scenario, target.start), _day(scenario, target.end)
        done = np.isin(records["app_outcome"], (AppealOutcome.ALLOWED, AppealOutcome.DISMISSED))
        t_end = records["t_app_end"]
        window = done & (t_end >= start) & (t_end < end)
        waited = t_end[window] - records["t_app_start"][window]
        return float(waited.mean() / 7) if len(waited) else math.nan
    raise ValueError(f"unknown target kind {target.kind}")


def _records(result: Result, target: Target) -> dict[str, np.ndarray]:
    if result.records is None:
        raise ValueError(f"{target.kind} targets need runs made with keep_records=True")
    return result.records


def evaluate(targets: list[Target], results: list[Result], scenario: Scenario) -> pd.DataFrame:
    """One row per target: published, simulated mean and 95% CI, tolerance, pass."""
    wides = [r.series_wide() for r in results]
    rows = []
    for target in targets:
        values = [simulated(target, r, scenario, w) for r, w in zip(results, wides, strict=True)]
        mean, low, high = mean_ci(values)
        if target.kind == "peak":
            reference = float(_day(scenario, target.published))
            shown = target.published.isoformat()
            as_date = [
                (pd.Timestamp(scenario.start_date) + pd.Timedelta(days=v)).date().isoformat()
                if not math.isnan(v)
                else "n/a"
                for v in (mean, low, high)
            ]
            simulated_text, low_text, high_text = as_date
        else:
            reference = target.reference
            shown = reference
            simulated_text, low_text, high_text = mean, low, high
        distance = abs(mean - reference)
        rows.append(
            {
                "id": target.id,
                "group": target.group,
                "label": target.label,
                "published": shown,
                "simulated": simulated_text,
                "ci_low": low_text,
                "ci_high": high_text,
                "tolerance": target.tolerance_text(),
                "error": _error(target, mean, reference),
                "pass": bool(distance <= target.allowed()),
                "fit": target.fit,
                "data_key": target.data_key,
            }
        )
    return pd.DataFrame(rows)


def _error(target: Target, mean: float, reference: float) -> float:
    """Relative error, or absolute for targets with an absolute tolerance (rates, dates)."""
    if target.tolerance is not None and reference:
        return (mean - reference) / reference
    return mean - reference


def objective(targets: list[Target], results: list[Result], scenario: Scenario) -> float:
    """Sum over the fitted targets of the squared miss in units of the tolerance."""
    wides = [r.series_wide() for r in results]
    total = 0.0
    for target in targets:
        values = [simulated(target, r, scenario, w) for r, w in zip(results, wides, strict=True)]
        reference = (
            float(_day(scenario, target.published)) if target.kind == "peak" else target.reference
        )
        total += ((float(np.mean(values)) - reference) / target.allowed()) ** 2
    return total


def group_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """A target group passes when every one of its figures is within tolerance."""
    grouped = table.groupby("group", sort=True)["pass"]
    return pd.DataFrame({"figures": grouped.size(), "passed": grouped.sum(), "pass": grouped.all()})
