"""From records to results: daily series, a summary and a manifest.

Everything here is vectorised numpy over the record arrays left by the run: stocks are
interval counts, cumulative outcomes are event counts, and costs come from the ledger.

Series are tidy (date, metric, value), read at midnight at the start of each date from the
start date to the end date. Stocks are people at that moment; ``cumulative_*`` metrics count
events since the start date.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from . import costs, waiting
from .outcomes import OUTCOMES
from .whole_life import AfterEnd
from .writing import atomic_path, check_output_directory, write_json
from .writing import json_default as json_default  # where it lived before writing.py


@dataclass
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

    def series_wide(self) -> pd.DataFrame:
        """The series as one column per metric, indexed by date."""
        return self.series.pivot(index="date", columns="metric", values="value")

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

    def write(self, directory: str | Path) -> list[Path]:
        """Write summary.json, series.parquet and manifest.json into ``directory``, each
        atomically; figures a run leaves undefined (NaN) are ``null`` in the JSON."""
        directory = check_output_directory(directory, origin="Result.write")
        written = [directory / "summary.json", directory / "series.parquet"]
        write_json(written[0], self.summary)
        with atomic_path(written[1]) as temporary:
            self.series.to_parquet(temporary, index=False)
        written.append(write_json(directory / "manifest.json", self.manifest))
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
    """Stocks in each stage of the pipeline at each midnight."""
    dec = records["dec_outcome"] != DecisionOutcome.NONE
    app = records["app_outcome"] != AppealOutcome.NONE
    are = records["exit_outcome"] != ExitOutcome.NONE
    return {
        "awaiting_decision": timeline.stock(
            np.where(dec, records["t_claim"], np.nan), records["t_dec_end"], days
        ),
        "appeals_pending": timeline.stock(
            np.where(app, records["t_app_start"], np.nan), records["t_app_end"], days
        ),
        "are_in_uk": timeline.stock(
            np.where(are, records["t_are"], np.nan), records["t_exit"], days
        ),
    }


def event_times(records: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Times of each kind of event, for cumulative series and counts."""
    origin, dec = records["origin"], records["dec_outcome"]
    app, exit_ = records["app_outcome"], records["exit_outcome"]
    t_claim, t_dec, t_app, t_exit = (
        records["t_claim"],
        records["t_dec_end"],
        records["t_app_end"],
        records["t_exit"],
    )
    new = origin == Origin.NEW_CLAIM
    by_route = {
        f"claims_{route}": t_claim[new & (records["route"] == code)]
        for route, code in ROUTE_CODES.items()
    }
    return {
        "claims": t_claim[new],
        **by_route,
        "diverted_on_arrival": t_claim[dec == DecisionOutcome.DIVERTED],
        "further_submissions": t_claim[origin == Origin.FURTHER_SUBMISSION],
        "reentries": t_claim[origin == Origin.REENTRY],
        "claims_brought_back": t_claim[origin == Origin.POLICY_RETURN_CLAIM],
        "withdrawals": t_dec[dec == DecisionOutcome.WITHDRAWN],
        "grants_initial": t_dec[dec == DecisionOutcome.GRANTED],
        "refusals_initial": t_dec[dec == DecisionOutcome.REFUSED],
        "appeals_lodged": records["t_app_start"][
            (app != AppealOutcome.NONE) & (origin != Origin.STOCK_APPEAL)
        ],
        "appeals_allowed": t_app[app == AppealOutcome.ALLOWED],
        "appeals_dismissed": t_app[app == AppealOutcome.DISMISSED],
        "removals_enforced": t_exit[exit_ == ExitOutcome.REMOVED],
        "returns_voluntary": t_exit[exit_ == ExitOutcome.VOLUNTARY],
        "absconded": t_exit[exit_ == ExitOutcome.ABSCONDED],
    }


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

    series: dict[str, np.ndarray] = dict(stage_series(records, days))
    occupancy = accommodation.occupancy(records, scenario, days)
    series["in_hotel"] = occupancy.by_type["hotels"]
    series["in_dispersal"] = occupancy.by_type["dispersal"]
    series["in_large_sites"] = occupancy.by_type["large_sites"]
    series["supported_total"] = occupancy.supported
    events = event_times(records)
    for name, times in events.items():
        series[f"cumulative_{name}"] = timeline.cumulative(times, days)
    for route, per_day in run.arrivals_by_day.items():
        series[f"cumulative_arrivals_{route}"] = np.concatenate([[0], np.cumsum(per_day)])

    ledger = costs.ledger(records, scenario, occupancy, days)
    policy_summaries: dict[str, dict[str, float]] = {}
    for policy, output in run.policy_outputs.items():
        costs.add(ledger, output.costs)
        summary_of_policy = dict(output.summary)
        for name, stay in output.stays.items():
            stock = timeline.stock(stay.start, stay.end, days)
            series[name] = stock
            summary_of_policy[f"peak_{name}"] = float(stock.max())
            summary_of_policy[f"final_{name}"] = float(stock[-1])
        for name, times in output.events.items():
            series[f"cumulative_{name}"] = timeline.cumulative(times, days)
        policy_summaries[policy] = summary_of_policy
    total_daily = sum(ledger.values())
    series["cumulative_cost_gbp"] = np.concatenate([[0.0], np.cumsum(total_daily)])
    for name, values in ledger.items():
        series[f"cumulative_cost_{name}_gbp"] = np.concatenate([[0.0], np.cumsum(values)])

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
    for name, times in events.items():
        values[name] = _count_by(times, run.horizon)
    # claim to decision and to final outcome, those still waiting counted (.waiting)
    values.update(waiting.outcomes(records, run.horizon))
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

    frame = pd.DataFrame(
        {
            "date": np.tile(dates.values, len(series)),
            "metric": np.repeat(list(series), days + 1),
            "value": np.concatenate([np.asarray(v, dtype=float) for v in series.values()]),
        }
    )
    frame["metric"] = frame["metric"].astype("category")
    manifest = {
        "package": "asylum-policy-sim",
        "version": package_version(),
        "seed": run.seed,
        "replication": run.replication,
        "start_date": scenario.start_date.isoformat(),
        "end_date": (scenario.start_date + timedelta(days=days)).isoformat(),
        "scenario": scenario.model_dump(mode="json"),
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
