"""Running a sweep into a directory of Parquet files, resumably.

    DIR/spec.yaml           the sweep as run (base scenarios resolved to full YAML beside it)
    DIR/manifest.json       package version, sampler, counts, start and update times
    DIR/samples.parquet     the design: point, sample_id, one column per parameter
    DIR/results/*.parquet   one file per finished chunk: one row per (point, scenario,
                            replication), with the parameter values and the metrics
    DIR/series/*.parquet    optional resampled series, same keys
    DIR/failures/*.parquet  runs that raised, with the error

Runs are grouped in chunks (by default one point: every base scenario and replication); a
chunk's file is written to a temporary name and renamed when complete, so a sweep killed
part-way leaves only whole files. Running again into the same directory (or with --resume)
reads what is there and runs only the missing (point, scenario, replication) triples; a run
that raised before is tried again. For one point every base scenario runs with the same seed
and replication numbers, so differences between base scenarios are paired.
"""

from __future__ import annotations

import json
import os
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..core.errors import ScenarioError
from ..core.version import package_version
from ..inputs import paths
from ..inputs.scenario import Scenario
from ..outputs.results import flatten
from .evaluate import run_one
from .executors import Executor, make
from .sweep_spec import SweepSpec, integer_parameters, samples

KEYS = ["sample_id", "point", "scenario", "replication"]
RESAMPLE = {"month": "MS", "quarter": "QS", "year": "YS"}
PARAMETER_PREFIX = "param:"


@dataclass(frozen=True)
class RunKey:
    point: int
    scenario: str
    replication: int


@dataclass
class SweepOutcome:
    directory: Path
    total: int
    already_done: int
    ran: int
    failed: int
    seconds: float


# ------------------------------------------------------------------------------ one chunk


def run_chunk(task: dict[str, Any]) -> dict[str, Any]:
    """Run a chunk of (point, scenario, replication) runs; never raises for a failed run."""
    rows, series_rows, failures = [], [], []
    for run in task["runs"]:
        key = {k: run[k] for k in KEYS}
        params = {PARAMETER_PREFIX + k: v for k, v in run["values"].items()}
        try:
            scenario: Scenario = task["bases"][run["scenario"]]
            applicable = {k: v for k, v in run["values"].items() if k in run["applies"]}
            if applicable:
                scenario = scenario.with_overrides(applicable)
            result = run_one(scenario, task["seed"], run["replication"])
            flat = flatten(result.summary)
            metrics = {
                m: flat.get(m, 0.0 if m.startswith("cost_by_category") else None)
                for m in task["metrics"]
            }
            rows.append({**key, **params, **metrics})
            if task["series"]:
                series_rows.append(_resampled(result, key, task["series"]))
        except Exception as exc:  # a failed run is recorded, the sweep goes on
            failures.append(
                {
                    **key,
                    **params,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=20),
                }
            )
    series = pd.concat(series_rows, ignore_index=True) if series_rows else None
    return {"rows": rows, "failures": failures, "series": series}


def _resampled(result, key: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    wide = result.series_wide()[spec["metrics"]]
    wide.index = pd.to_datetime(wide.index)
    sampled = wide.resample(RESAMPLE[spec["every"]]).first()
    long = sampled.reset_index().melt(id_vars="date", var_name="metric", value_name="value")
    for name, value in key.items():
        long.insert(0, name, value)
    return long


# ------------------------------------------------------------------------------ storage


def _write_atomically(frame: pd.DataFrame, folder: Path, stem: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{stem}.parquet"
    temporary = folder / f".{stem}.{uuid.uuid4().hex}.tmp"
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, final)
    return final


def _read_folder(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _done_keys(directory: Path) -> set[RunKey]:
    done = _read_folder(directory / "results")
    if done.empty:
        return set()
    return {
        RunKey(int(p), str(s), int(r))
        for p, s, r in zip(done["point"], done["scenario"], done["replication"], strict=True)
    }


def _spec_text(spec: SweepSpec) -> str:
    return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)


def _prepare(
    directory: Path, spec: SweepSpec, bases: dict[str, Scenario], design: pd.DataFrame
) -> None:
    """Create the directory, or check that it holds this very sweep."""
    directory.mkdir(parents=True, exist_ok=True)
    spec_file = directory / "spec.yaml"
    text = _spec_text(spec)
    if spec_file.exists():
        if spec_file.read_text() != text:
            raise ScenarioError(
                str(directory),
                [("", "holds a different sweep (spec.yaml differs); use a new directory")],
            )
        stored = pd.read_parquet(directory / "samples.parquet")
        if not stored.equals(design):
            raise ScenarioError(str(directory), [("", "samples.parquet differs from the spec")])
        return
    for name, scenario in bases.items():
        scenario.to_yaml(directory / f"base_{name}.yaml")
    _write_atomically(design, directory, "samples")
    spec_file.write_text(text)


def _write_manifest(
    directory: Path, spec: SweepSpec, executor: Executor, total: int, done: int, failed: int
) -> None:
    path = directory / "manifest.json"
    manifest = (
        json.loads(path.read_text())
        if path.exists()
        else {
            "package": "asylum-policy-sim",
            "version": package_version(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    manifest.update(
        {
            "name": spec.name,
            "sampler": spec.sampler,
            "points": int(pd.read_parquet(directory / "samples.parquet").shape[0]),
            "base_scenarios": list(spec.base),
            "replications": spec.replications,
            "seed": spec.seed,
            "runs_total": total,
            "runs_done": done,
            "runs_failed_last_attempt": failed,
            "executor": executor.name,
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    path.write_text(json.dumps(manifest, indent=2) + "\n")


# ------------------------------------------------------------------------------ the sweep


def _plain(value: float) -> float | int:
    """A float, or an int if it is whole (so that integer fields accept it)."""
    value = float(value)
    return int(value) if value.is_integer() else value


def plan(spec: SweepSpec, bases: dict[str, Scenario], design: pd.DataFrame) -> list[dict[str, Any]]:
    """Every run of the sweep, in order: point, then base scenario, then replication."""
    applies = {
        name: {p for p in spec.parameters if paths.exists(s.to_dict(), p)}
        for name, s in bases.items()
    }
    names = list(spec.parameters)
    runs = []
    for row in design.to_dict("records"):
        values = {n: _plain(row[n]) for n in names}
        for scenario in bases:
            for replication in range(spec.replications):
                runs.append(
                    {
                        "sample_id": row["sample_id"],
                        "point": int(row["point"]),
                        "scenario": scenario,
                        "replication": replication,
                        "values": values,
                        "applies": applies[scenario],
                    }
                )
    return runs


def sweep(
    spec: SweepSpec,
    bases: dict[str, Scenario],
    out: str | Path,
    executor: str | Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    chunk_runs: int | None = None,
    quiet: bool = False,
) -> SweepOutcome:
    """Run what is missing of ``spec`` into ``out``; see the module docstring.

    ``executor`` is "serial", "processes" (default, all cores, or ``workers``) or an
    executor object; ``scheduler`` (an address) or ``client`` (a dask Client) runs on Dask.
    """
    started = time.perf_counter()
    directory = Path(out)
    if spec.years is not None:
        bases = {name: s.with_years(spec.years) for name, s in bases.items()}
    design = samples(spec, integer_parameters(spec, bases))
    _prepare(directory, spec, bases, design)
    runs = plan(spec, bases, design)
    done = _done_keys(directory)
    missing = [r for r in runs if RunKey(r["point"], r["scenario"], r["replication"]) not in done]
    size = chunk_runs or len(bases) * spec.replications
    chunks = [missing[i : i + size] for i in range(0, len(missing), size)]
    task_base = {
        "bases": bases,
        "seed": spec.seed,
        "metrics": spec.metrics,
        "series": spec.series.model_dump() if spec.series else None,
    }
    tasks = [{**task_base, "runs": chunk} for chunk in chunks]
    chosen = make(executor, workers, scheduler, client)
    ran = failed = 0
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=len(runs),
            initial=len(runs) - len(missing),
            unit="run",
            desc=spec.name[:30],
            dynamic_ncols=True,
        )
    try:
        for index, output in chosen.imap(run_chunk, tasks):
            stem = f"chunk-{tasks[index]['runs'][0]['point']:06d}-{uuid.uuid4().hex[:8]}"
            if output["rows"]:
                _write_atomically(pd.DataFrame(output["rows"]), directory / "results", stem)
            if output["series"] is not None:
                _write_atomically(output["series"], directory / "series", stem)
            if output["failures"]:
                _write_atomically(pd.DataFrame(output["failures"]), directory / "failures", stem)
            ran += len(output["rows"])
            failed += len(output["failures"])
            if bar is not None:
                bar.update(len(output["rows"]) + len(output["failures"]))
                if failed:
                    bar.set_postfix(failed=failed)
    finally:
        if bar is not None:
            bar.close()
        _write_manifest(directory, spec, chosen, len(runs), len(runs) - len(missing) + ran, failed)
        chosen.close()
    return SweepOutcome(
        directory, len(runs), len(runs) - len(missing), ran, failed, time.perf_counter() - started
    )


# ------------------------------------------------------------------------------ reading


def load_sweep(directory: str | Path, what: str = "results") -> pd.DataFrame:
    """A sweep's results (or "series", "failures", "samples") as one DataFrame.

    Results are sorted by point, scenario and replication; failures that a later attempt
    got past are left out.
    """
    directory = Path(directory)
    if what == "samples":
        return pd.read_parquet(directory / "samples.parquet")
    frame = _read_folder(directory / what)
    if frame.empty:
        return frame
    if what == "failures":
        done = _done_keys(directory)
        still = [
            RunKey(int(p), str(s), int(r)) not in done
            for p, s, r in zip(frame["point"], frame["scenario"], frame["replication"], strict=True)
        ]
        frame = frame[still]
    order = [k for k in ("point", "scenario", "replication", "date", "metric") if k in frame]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
