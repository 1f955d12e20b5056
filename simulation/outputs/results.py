"""From records to results: daily series, a summary and a manifest.

Everything here is vectorised numpy over the record arrays left by the run: stocks are
interval counts, cumulative outcomes are event counts, and costs come from the ledger.

Series are tidy (date, metric, value), read at midnight at the start of each date from the
start date to the end date. Stocks are people at that moment; ``cumulative_*`` metrics count
events since the start date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core import timeline
from ..core.records import AppealOutcome, DecisionOutcome, ExitOutcome, Origin
from ..core.version import package_version
from ..core.vocabulary import ROUTE_CODES
from ..engine import accommodation
from ..engine.pipeline import RunRecords
from ..engine.population import release_free_memory
from . import assumptions, costs, waiting
from .outcomes import OUTCOMES
from .report import horizon_text, number
from .whole_life import AfterEnd
from .writing import atomic_path, check_output_directory, write_csv, write_json
from .writing import json_default as json_default  # where it lived before writing.py

#: The figures a short description of a run gives: (key in the flat summary, label, unit).
HEADLINE = (
    ("total_cost_gbp", "total cost", "gbp"),
    ("claims", "new claims", "people"),
    ("final_backlog_initial", "awaiting decision at end", "people"),
    ("final_backlog_appeals", "appeals pending at end", "people"),
    ("final_hotel_population", "in hotels at end", "people"),
)


def headline(figures: Mapping[str, float]) -> str:
    """A few headline figures as text, those of :data:`HEADLINE` that ``figures`` has."""
    return ", ".join(
        f"{label} {number(figures[key], unit)}" for key, label, unit in HEADLINE if key in figures
    )


def describe_run(manifest: Mapping[str, Any]) -> str:
    """Which run a manifest is of, in a line: the scenario's name (shortened when long), the
    seed and the horizon."""
    name = str(manifest.get("scenario", {}).get("name", "?"))
    name = name if len(name) <= 60 else name[:57] + "..."
    try:
        horizon = horizon_text(manifest)
    except (KeyError, TypeError, ValueError):
        horizon = "horizon unknown"
    return f"{name!r}, seed {manifest.get('seed', '?')}, {horizon}"


@dataclass(repr=False)
class Result:
    """One replication: ``series`` (tidy DataFrame), ``summary`` (dict), ``manifest`` (dict)."""

    series: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any]
    records: dict[str, np.ndarray] | None = field(default=None, repr=False)
    policy_outputs: Mapping[str, Any] | None = field(default=None, repr=False)

    def flat_summary(self) -> dict[str, float]:
        """The summary with nested mappings flattened to ``parent.child`` keys."""
        return flatten(self.summary)

    def __repr__(self) -> str:
        """Which run this is and its headline figures, in a few hundred characters (the
        tables are in ``.summary``, ``.series`` and ``.manifest``)."""
        replication = self.manifest.get("replication", 0)
        try:
            figures = headline(self.flat_summary())
        except (TypeError, ValueError):  # a summary put together by hand
            figures = "summary not numeric"
        return (
            f"Result({describe_run(self.manifest)}, replication {replication}: {figures}; "
            f"{len(self.summary)} summary entries, {len(self.series):,} series rows)"
        )

    def series_wide(self) -> pd.DataFrame:
        """The series as one column per metric, indexed by date."""
        return self.series.pivot(index="date", columns="metric", values="value")

    def plot(self, metrics: str | Sequence[str] | None = None, ax: Any = None) -> Any:
        """Daily series of this run on one chart, one line per metric (by default the
        backlogs and the hotel population; names as in ``.series``, all in one unit).
        Draws on ``ax`` or a new figure and returns the matplotlib Axes."""
        from .plotting import lines, metric_list

        wide = self.series_wide()
        chosen = metric_list(metrics, list(wide.columns), "Result.plot")
        name = self.manifest.get("scenario", {}).get("name", "run")
        title = f"{name}, seed {self.manifest.get('seed', '?')}"
        return lines(wide, chosen, title=title, ax=ax)

    def cohort(self, claimed_from: Any, claimed_to: Any, at: Any) -> pd.DataFrame:
        """Where the people who first claimed in ``[claimed_from, claimed_to)`` stand at the
        end of the date ``at``: a tidy table (state, people, share) whose shares sum to 1
        (states in :mod:`simulation.outputs.cohorts`). Dates are ``date`` or "YYYY-MM-DD";
        the result needs its records (run with ``keep_records=True``)."""
        from datetime import date

        from .cohorts import cohort

        return cohort(
            self.records,
            self.policy_outputs,
            date.fromisoformat(self.manifest["start_date"]),
            date.fromisoformat(self.manifest["end_date"]),
            claimed_from,
            claimed_to,
            at,
        )

    def yearly(self, fiscal: bool = False) -> pd.DataFrame:
        """The series by calendar year, or by financial year (April to March) with
        ``fiscal=True``: flows in each year, stocks at its end and their mean over it (see
        :mod:`simulation.outputs.yearly`)."""
        from .yearly import yearly_table

        return yearly_table(self.series_wide(), fiscal)

    def write(self, directory: str | Path) -> list[Path]:
        """Write summary.json, series.parquet and manifest.json into ``directory``, and the
        same summary and series as summary.csv (metric, value) and series.csv (date, metric,
        value) for a spreadsheet, each atomically; figures a run leaves undefined (NaN) are
        ``null`` in the JSON and empty in the CSV."""
        directory = check_output_directory(directory, origin="Result.write")
        written = [directory / "summary.json", directory / "series.parquet"]
        write_json(written[0], self.summary)
        with atomic_path(written[1]) as temporary:
            self.series.to_parquet(temporary, index=False)
        written.append(write_json(directory / "manifest.json", self.manifest))
        flat = pd.DataFrame(list(self.flat_summary().items()), columns=["metric", "value"])
        written.append(write_csv(directory / "summary.csv", flat))
        written.append(write_csv(directory / "series.csv", self.series))
        return written


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = float(value)
    return flat


def stage_series(records: dict[str, np.ndarray], days: int) -> dict[str, np.ndarray]:
    """Stocks in each stage of the pipeline at each midnight (counted a slice of records at
    a time, so the temporaries stay small whatever the run's size)."""
    stocks = {
        name: np.zeros(days + 1, dtype=np.int64)
        for name in ("awaiting_decision", "appeals_pending", "are_in_uk")
    }
    for part in accommodation.slices(records):
        dec = part["dec_outcome"] != DecisionOutcome.NONE
        stocks["awaiting_decision"] += timeline.stock(
            np.where(dec, part["t_claim"], np.nan), part["t_dec_end"], days
        )
        app = part["app_outcome"] != AppealOutcome.NONE
        stocks["appeals_pending"] += timeline.stock(
            np.where(app, part["t_app_start"], np.nan), part["t_app_end"], days
        )
        are = part["exit_outcome"] != ExitOutcome.NONE
        stocks["are_in_uk"] += timeline.stock(
            np.where(are, part["t_are"], np.nan), part["t_exit"], days
        )
    return stocks


def event_times(records: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Times of each kind of event, for cumulative series and counts."""
    return dict(each_event_times(records))


def each_event_times(records: dict[str, np.ndarray]) -> Iterator[tuple[str, np.ndarray]]:
    """:func:`event_times` one kind at a time, each made only when asked for."""
    origin, dec = records["origin"], records["dec_outcome"]
    app, exit_ = records["app_outcome"], records["exit_outcome"]
    t_claim, t_dec, t_app, t_exit = (
        records["t_claim"],
        records["t_dec_end"],
        records["t_app_end"],
        records["t_exit"],
    )
    new = origin == Origin.NEW_CLAIM
    yield "claims", t_claim[new]
    for route, code in ROUTE_CODES.items():
        yield f"claims_{route}", t_claim[new & (records["route"] == code)]
    del new
    yield "diverted_on_arrival", t_claim[dec == DecisionOutcome.DIVERTED]
    yield "further_submissions", t_claim[origin == Origin.FURTHER_SUBMISSION]
    yield "reentries", t_claim[origin == Origin.REENTRY]
    yield "claims_brought_back", t_claim[origin == Origin.POLICY_RETURN_CLAIM]
    yield "withdrawals", t_dec[dec == DecisionOutcome.WITHDRAWN]
    yield (
        "grants_initial",
        t_dec[(dec == DecisionOutcome.GRANTED) & (origin != Origin.STOCK_MOVE_ON)],
    )
    yield "refusals_initial", t_dec[dec == DecisionOutcome.REFUSED]
    yield (
        "appeals_lodged",
        records["t_app_start"][(app != AppealOutcome.NONE) & (origin != Origin.STOCK_APPEAL)],
    )
    yield "appeals_allowed", t_app[app == AppealOutcome.ALLOWED]
    yield "appeals_dismissed", t_app[app == AppealOutcome.DISMISSED]
    yield "removals_enforced", t_exit[exit_ == ExitOutcome.REMOVED]
    yield "returns_voluntary", t_exit[exit_ == ExitOutcome.VOLUNTARY]
    yield "absconded", t_exit[exit_ == ExitOutcome.ABSCONDED]


def assemble(values: dict[str, Any], families: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The summary in the order the outcomes are declared: every declared single outcome from
    ``values``, and each family's mapping (cost categories, routes, policies) under its root.
    Anything left over is an outcome nobody declared, which is a bug in this package."""
    summary: dict[str, Any] = {}
    for outcome in OUTCOMES:
        if not outcome.is_pattern and outcome.name in values:
            summary[outcome.name] = values[outcome.name]
        elif outcome.root in families and outcome.root not in summary:
            summary[outcome.root] = families[outcome.root]
    missing = [
        o.name for o in OUTCOMES if not o.is_pattern and not o.optional and o.name not in values
    ]
    undeclared = sorted(set(values) - set(summary)) + sorted(set(families) - set(summary))
    if missing or undeclared:
        raise RuntimeError(
            f"summary and outputs/outcomes.py disagree: not computed {missing}, "
            f"not declared {undeclared}"
        )
    return summary


def _count_by(times: np.ndarray, horizon: float) -> int:
    return int(np.count_nonzero(times <= horizon))


@dataclass
class DailySeries:
    """A run's daily series (by name, in the order of the table) and what they are made of:
    the cost ledger (GBP by category and day), the occupancy, the names of the series that
    count records (stocks of a stage and cumulative events: each record adds to them on its
    own), and, when asked for, how many of each kind of event happened by the horizon."""

    series: dict[str, np.ndarray]
    ledger: dict[str, np.ndarray]
    occupancy: accommodation.Occupancy
    counted: frozenset[str]
    counts: dict[str, int]


def daily_series(
    records: dict[str, np.ndarray],
    scenario: Any,
    days: int,
    arrivals_by_day: Mapping[str, np.ndarray],
    policy_outputs: Mapping[str, Any],
    occupancy: accommodation.Occupancy | None = None,
    horizon: float | None = None,
) -> DailySeries:
    """Every daily series of a run at midnights 0..days (the records, the arrivals and the
    policies' reports cut at ``days``), with the occupancy given or computed from the
    records; with ``horizon``, the count of each kind of event by then as well."""
    series: dict[str, np.ndarray] = dict(stage_series(records, days))
    counted = set(series)
    if occupancy is None:
        occupancy = accommodation.occupancy(records, scenario, days)
    series["in_hotel"] = occupancy.by_type["hotels"]
    series["in_dispersal"] = occupancy.by_type["dispersal"]
    series["in_large_sites"] = occupancy.by_type["large_sites"]
    series["supported_total"] = occupancy.supported
    counts: dict[str, int] = {}
    for name, times in each_event_times(records):  # each kind freed once counted
        series[f"cumulative_{name}"] = timeline.cumulative(times, days)
        counted.add(f"cumulative_{name}")
        if horizon is not None:
            counts[name] = _count_by(times, horizon)
    del times
    for route, per_day in arrivals_by_day.items():
        series[f"cumulative_arrivals_{route}"] = np.concatenate([[0], np.cumsum(per_day[:days])])

    ledger = costs.ledger(records, scenario, occupancy, days)
    for output in policy_outputs.values():
        costs.add(ledger, {name: values[:days] for name, values in output.costs.items()})
        for name, stay in output.stays.items():
            series[name] = timeline.stock(stay.start, stay.end, days)
        for name, times in output.events.items():
            series[f"cumulative_{name}"] = timeline.cumulative(times, days)
    for name, values in daily_costs(ledger).items():
        series[name] = np.concatenate([[0.0], np.cumsum(values)])
    return DailySeries(series, ledger, occupancy, frozenset(counted), counts)


def daily_costs(ledger: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The daily amounts behind each cumulative cost series, by series name: the total,
    then each category of the ledger."""
    amounts = {"cumulative_cost_gbp": sum(ledger.values())}
    for name, values in ledger.items():
        amounts[f"cumulative_cost_{name}_gbp"] = values
    return amounts


def tidy_frame(series: Mapping[str, np.ndarray], dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Series of equal length as a tidy table (date, metric, value), metric by metric; the
    metric is categorical, its categories the names in alphabetical order."""
    names = list(series)
    alphabetical = sorted(names)
    place = {name: index for index, name in enumerate(alphabetical)}
    codes = np.repeat(np.array([place[name] for name in names], dtype=np.int32), len(dates))
    return pd.DataFrame(
        {
            "date": np.tile(dates.values, len(names)),
            "metric": pd.Categorical.from_codes(codes, categories=pd.Index(alphabetical)),
            "value": np.concatenate([np.asarray(v, dtype=float) for v in series.values()])
            if names
            else np.zeros(0),
        }
    )


def build(
    run: RunRecords,
    keep_records: bool = False,
    after_end: AfterEnd | None = None,
) -> Result:
    """Series, summary and manifest of one replication; with ``after_end`` (what a
    whole-life run adds, :mod:`.whole_life`), whole-life totals and the cost of a claim."""
    scenario = run.scenario
    days = int(round(run.horizon))
    records = run.records
    dates = pd.date_range(scenario.start_date, periods=days + 1, freq="D")

    daily = daily_series(
        records, scenario, days, run.arrivals_by_day, run.policy_outputs, horizon=run.horizon
    )
    series, ledger, counts = daily.series, daily.ledger, daily.counts
    del daily
    # the temporaries of each pass over the records go back to the operating system before
    # the next: with the records still held, they would otherwise add up to the peak
    release_free_memory()
    policy_summaries: dict[str, dict[str, float]] = {}
    for policy, output in run.policy_outputs.items():
        summary_of_policy = dict(output.summary)
        for name in output.stays:
            summary_of_policy[f"peak_{name}"] = float(series[name].max())
            summary_of_policy[f"final_{name}"] = float(series[name][-1])
        policy_summaries[policy] = summary_of_policy

    factors = costs.discount_factors(scenario.discount_rate_per_year, days)
    by_category = {name: float(values.sum()) for name, values in ledger.items()}
    discounted = {name: float((values * factors).sum()) for name, values in ledger.items()}

    hotel = series["in_hotel"]
    values: dict[str, Any] = {
        "total_cost_gbp": float(sum(by_category.values())),
        "total_cost_discounted_gbp": float(sum(discounted.values())),
        **(
            {
                "total_cost_whole_life_gbp": float(sum(by_category.values()))
                + after_end.nominal_gbp,
                "total_cost_whole_life_discounted_gbp": float(sum(discounted.values()))
                + after_end.discounted_gbp,
            }
            if after_end is not None
            else {}
        ),
        "peak_hotel_population": float(hotel.max()),
        "final_hotel_population": float(hotel[-1]),
        "final_supported_population": float(series["supported_total"][-1]),
        "final_backlog_initial": float(series["awaiting_decision"][-1]),
        "final_backlog_appeals": float(series["appeals_pending"][-1]),
        "final_are_in_uk": float(series["are_in_uk"][-1]),
    }
    values.update(counts)
    # claim to decision and to final outcome, those still waiting counted (.waiting)
    values.update(waiting.outcomes(records, run.horizon))
    release_free_memory()
    values["claimants_simulated"] = int(len(records["origin"]))
    families: dict[str, dict[str, Any]] = {
        "cost_by_category_gbp": by_category,
        "cost_by_category_discounted_gbp": discounted,
        "arrivals": {route: int(v.sum()) for route, v in run.arrivals_by_day.items()},
    }
    if policy_summaries:
        families["policies"] = policy_summaries
    if after_end is not None:
        families.update(after_end.families)
    summary = assemble(values, families)

    frame = tidy_frame(series, dates)
    manifest = {
        "package": "asylum-policy-sim",
        "version": package_version(),
        "seed": run.seed,
        "replication": run.replication,
        "start_date": scenario.start_date.isoformat(),
        "end_date": (scenario.start_date + timedelta(days=days)).isoformat(),
        "scenario": scenario.model_dump(mode="json"),
        "assumptions": assumptions.statements(scenario),
        "events_scheduled": run.events,
        "wall_seconds": round(run.wall_seconds, 3),
    }
    return Result(
        series=frame,
        summary=summary,
        manifest=manifest,
        records=records if keep_records else None,
        policy_outputs=run.policy_outputs if keep_records else None,
    )
