"""Running a scenario: one replication or many, with confidence intervals.

Replication r of a run with seed s draws every random number from streams keyed by (s, r), so
replication 3 of seed 1 is the same whether it runs alone, in a batch, or in another process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.progress import counter
from ..inputs.scenario import Scenario
from ..outputs.cohorts import checked_window
from ..outputs.results import Result, describe_run, headline
from ..outputs.writing import atomic_path, check_output_directory, write_csv, write_json
from .evaluate import Point, check_whole_life_years, evaluate, run_one
from .executors import map_ordered

CONFIDENCE = 0.95

__all__ = ["Replications", "mean_ci", "run", "run_many", "run_one", "summarise"]


def mean_ci(values: Iterable[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of independent replications."""
    x = np.asarray(list(values), dtype=float)
    mean = float(x.mean()) if len(x) else float("nan")
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    from scipy import stats  # here, not at the top: importing the package stays cheap

    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return mean, float(mean - half), float(mean + half)


def summarise(flat_summaries: list[dict[str, float]]) -> pd.DataFrame:
    """One row per metric: mean, standard deviation and 95% CI over replications."""
    frame = pd.DataFrame(flat_summaries)
    rows = []
    for metric in frame.columns:
        values = frame[metric].to_numpy(dtype=float)
        mean, low, high = mean_ci(values)
        rows.append(
            {
                "metric": metric,
                "mean": mean,
                "std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
                "ci_low": low,
                "ci_high": high,
                "n": len(values),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class Replications:
    """Results of several replications of one scenario, and their summary with 95% CIs."""

    results: list[Result]
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.results)

    def __repr__(self) -> str:
        """Which runs these are and the means of a few headline figures, in a few hundred
        characters (the tables are in ``.summary`` and ``.series``)."""
        if not self.results:
            return "Replications(no results)"
        means = dict(zip(self.summary["metric"], self.summary["mean"], strict=True))
        return (
            f"Replications({describe_run(self.manifest or self.results[0].manifest)}, "
            f"{len(self.results)} replications; means: {headline(means)})"
        )

    def __iter__(self):
        return iter(self.results)

    def __getitem__(self, index: int) -> Result:
        return self.results[index]

    @property
    def series(self) -> pd.DataFrame:
        """All replications' series stacked, with a ``replication`` column."""
        return pd.concat(
            [r.series.assign(replication=i) for i, r in enumerate(self.results)],
            ignore_index=True,
        )

    def write(self, directory: str | Path) -> list[Path]:
        """Write summary.json (each metric's mean and 95% CI, and every replication's
        summary), series.parquet (all replications, with a ``replication`` column) and
        manifest.json into ``directory``, each atomically; NaN is ``null`` in the JSON."""
        directory = check_output_directory(directory, origin="Replications.write")
        summary = {
            "replications": len(self.results),
            "metrics": self.summary.to_dict(orient="records"),
            "per_replication": [r.summary for r in self.results],
        }
        manifest = dict(self.manifest or self.results[0].manifest)
        manifest.pop("replication", None)
        manifest["replications"] = len(self.results)
        manifest["wall_seconds"] = [r.manifest["wall_seconds"] for r in self.results]
        written = [directory / "summary.json", directory / "series.parquet"]
        write_json(written[0], summary)
        series = self.series
        with atomic_path(written[1]) as temporary:
            series.to_parquet(temporary, index=False)
        written.append(write_json(directory / "manifest.json", manifest))
        written.append(write_csv(directory / "summary.csv", self.summary))
        written.append(write_csv(directory / "series.csv", series))
        return written

    def yearly(self, fiscal: bool = False) -> pd.DataFrame:
        """Each replication's table by year (:meth:`Result.yearly`) averaged over the
        replications: mean flows, stocks and days per period."""
        tables = [r.yearly(fiscal) for r in self.results]
        return pd.concat(tables).groupby(level=0, sort=False).mean()

    def plot(self, metrics: str | Sequence[str] | None = None, ax: Any = None) -> Any:
        """A fan chart of daily series over the replications: per metric the median with the
        middle 50% and 90% of replications shaded (by default the backlogs and the hotel
        population; names as in ``.series``, all in one unit). Draws on ``ax`` or a new
        figure and returns the matplotlib Axes."""
        from ..outputs.plotting import fan, metric_list

        wides = [r.series_wide() for r in self.results]
        chosen = metric_list(metrics, list(wides[0].columns), "Replications.plot")
        runs = {m: np.vstack([w[m].to_numpy(dtype=float) for w in wides]) for m in chosen}
        return fan(wides[0].index, runs, ax=ax)

    def cohort(self, claimed_from: Any, claimed_to: Any, at: Any) -> pd.DataFrame:
        """:meth:`Result.cohort` over the replications: per state the mean people, the mean
        share and its 95% Student-t confidence interval (``ci_low``, ``ci_high``), and ``n``
        replications. The mean shares sum to 1. Needs ``run(..., keep_records=True)``."""
        return combine_cohorts([r.cohort(claimed_from, claimed_to, at) for r in self.results])


def combine_cohorts(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One cohort table per replication -> per state the mean people, the mean share with
    its 95% Student-t confidence interval, and ``n``."""
    people = np.array([t["people"].to_numpy(dtype=float) for t in tables])
    shares = np.array([t["share"].to_numpy(dtype=float) for t in tables])
    rows = []
    for index, state in enumerate(tables[0]["state"]):
        mean, low, high = mean_ci(shares[:, index])
        rows.append(
            {
                "state": state,
                "people": float(people[:, index].mean()),
                "share": mean,
                "ci_low": low,
                "ci_high": high,
                "n": len(tables),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(tables[0].attrs)
    table.attrs["cohort"] = float(np.mean([t.attrs["cohort"] for t in tables]))
    return table


def _cohort_of(task: tuple[Point, Any, Any, Any]) -> pd.DataFrame:
    point, claimed_from, claimed_to, at = task
    return evaluate(point).cohort(claimed_from, claimed_to, at)


def cohort(
    scenario: Scenario,
    claimed_from: Any,
    claimed_to: Any,
    at: Any,
    seed: int = 1,
    replications: int = 5,
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Where the people who first claimed in ``[claimed_from, claimed_to)`` stand at the end
    of ``at``, over ``replications`` runs: :func:`combine_cohorts` of each run's table. Each
    run's records are read where it ran and let go, so memory holds one run per process."""
    if replications < 1:
        raise InputError("cohort", [("replications", f"must be at least 1, got {replications}")])
    checked_window(scenario.start_date, scenario.end_date, claimed_from, claimed_to, at)
    tasks = [
        (Point(scenario, seed, r, keep_records=True), claimed_from, claimed_to, at)
        for r in range(replications)
    ]
    return combine_cohorts(map_ordered(_cohort_of, tasks, workers, progress))


def run_many(
    tasks: Sequence[tuple[Scenario, int, int]],
    workers: int | None = 1,
    keep_records: bool = False,
    progress: Callable[[int, int], None] | None = None,
    whole_life_years: float | None = None,
) -> list[Result]:
    """Results of (scenario, seed, replication) tasks, in order, on ``workers`` processes
    (None: all cores). Each result is the same whichever process made it."""
    points = [Point(s, seed, r, keep_records, whole_life_years) for s, seed, r in tasks]
    return map_ordered(evaluate, points, workers, progress)


@overload
def run(scenario: Scenario, seed: int = ..., replications: None = ...) -> Result: ...
@overload
def run(scenario: Scenario, seed: int = ..., replications: int = ...) -> Replications: ...


def run(
    scenario: Scenario,
    seed: int = 1,
    replications: int | None = None,
    keep_records: bool = False,
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
    whole_life_years: float | None = None,
    quiet: bool = False,
) -> Result | Replications:
    """Run a scenario.

    ``run(scenario, seed=1)`` returns one :class:`Result`; with ``replications=N`` it returns
    :class:`Replications`: N results and a summary of means with 95% confidence intervals.
    ``workers`` runs replications on that many processes (None: all cores); the results are
    bit-identical to a serial run. ``whole_life_years`` adds whole-life costs (the people in
    the system at the end followed for that many more years; docs/costs.md).
    Progress is a bar (on a terminal or in a notebook; none with ``quiet``) of replications
    done, or for a single run of simulated days; or ``progress(done, total)`` if given, called
    as replications end, or for a single run in simulated days at the start and at the end of
    each simulated month.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError("run() needs a Scenario; load one with Scenario.from_yaml(path)")
    if seed < 0:
        raise InputError("run", [("seed", f"must be a non-negative integer, got {seed}")])
    check_whole_life_years(whole_life_years, "run")
    if progress is None:
        single = replications is None
        progress = counter(
            "simulated" if single else "replications", "day" if single else "run", quiet
        )
    if replications is None:
        return run_one(scenario, seed, 0, keep_records, whole_life_years, progress)
    if replications < 1:
        raise InputError("run", [("replications", f"must be at least 1, got {replications}")])
    runs = run_many(
        [(scenario, seed, r) for r in range(replications)],
        workers,
        keep_records,
        progress,
        whole_life_years,
    )
    manifest = dict(runs[0].manifest)
    manifest.pop("replication", None)
    manifest["replications"] = replications
    return Replications(
        results=runs, summary=summarise([r.flat_summary() for r in runs]), manifest=manifest
    )
