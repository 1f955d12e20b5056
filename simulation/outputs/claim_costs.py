"""What a claim costs over its whole life, by route and by how it ended.

The saving from a person deterred is the cost of the claim they would have made, so a reader
needs that cost as a number. It is read from the whole-life run (the run continued with
nobody arriving after the end date, :mod:`.whole_life`): every pound of that run is charged to
the record it follows, and a person's records (a further submission, a claim after coming
back, a return by a policy: linked by ``parent``) are charged to their first claim.

How each pound is charged to a record:

- accommodation and the support allowance: each night, the night's cost of all asylum
  accommodation and allowances over the people housed that night, for every night the record
  is supported (hotels, dispersal and large sites are shared out night by night, since which
  type a person is in does not change their path);
- an initial decision: an FTE-year's cost over the people an FTE decides in a year, at the
  productivity on the day the work was taken up; an appeal determined: the tribunal's cost
  per case over the people per case (both per case, as in every whole-life cost: idle
  capacity is nobody's cost);
- an enforced removal or a voluntary return: its cost per person;
- a policy's costs that follow people (relocation and processing payments, flights,
  detention, days in a hub, incentive payments): as the policy charges them
  (:class:`~simulation.policies.contract.Charges`). A policy's fixed costs (dated payments,
  running costs paid whoever is there) follow no one and are left out.

Every charge is undiscounted (constant prices), as the impact assessment's unit costs are.
Over all records the charges add up to the run's costs, per case, less the policies' fixed
costs (:func:`record_costs` is tested for that).

The claims are the new claims made before the end date (the starting stocks are not claims
of the run), by route, and by where the person stands at the end of the follow-up: the
groups of :mod:`.cohorts` (granted; left the UK, however; withdrawn; absconded; unresolved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import timeline
from ..core.records import AppealOutcome, DecisionOutcome, ExitOutcome
from ..core.vocabulary import ROUTES
from ..engine import accommodation
from ..engine.pipeline import RunRecords
from . import cohorts, costs

#: The outcome groups claims are reported by, as summary keys, from the cohort groups.
OUTCOME_KEYS = {
    cohorts.GRANTED: "granted",
    cohorts.LEFT: "left_uk",
    cohorts.WITHDRAWN: "withdrawn",
    cohorts.ABSCONDED: "absconded",
    cohorts.UNRESOLVED: "unresolved",
}
ALL = "all"


def per_case(run: RunRecords):
    """The run's scenario with staff priced per case."""
    return run.scenario.with_overrides(
        {"costs.decision_costs": "per_case", "costs.appeal_costs": "per_case"}
    )


def record_costs(run: RunRecords) -> np.ndarray:
    """GBP charged to each record within the run's horizon (see the module docstring)."""
    scenario = per_case(run)
    records = run.records
    days = int(round(run.horizon))
    charged = np.zeros(len(records["origin"]))

    occupancy = accommodation.occupancy(records, scenario, days)
    ledger = costs.ledger(records, scenario, occupancy, days)
    nightly = ledger["support_allowance"].copy()
    for name in occupancy.by_type:
        nightly += ledger[f"accommodation_{name}"]
    housed = occupancy.supported[1 : days + 1]
    per_person = np.divide(nightly, housed, out=np.zeros(days), where=housed > 0)
    before = np.concatenate([[0.0], np.cumsum(per_person)])  # nights 1..k
    start, end = accommodation.support_intervals(records, scenario)
    supported = np.isfinite(start)
    first = np.maximum(np.ceil(np.maximum(start[supported], 0.0)), 1.0)
    last = np.minimum(np.ceil(np.maximum(end[supported], 0.0)) - 1.0, days)
    last = np.maximum(last, first - 1.0).astype(np.int64)
    charged[supported] += before[last] - before[first.astype(np.int64) - 1]

    decided = np.isin(records["dec_outcome"], (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED))
    decided &= timeline.in_days(records["t_dec_end"], days)
    unit = costs.decision_cost_per_person(scenario, days)
    started = np.floor(records["t_dec_start"][decided]).astype(np.int64)
    charged[decided] += unit[started]

    determined = np.isin(records["app_outcome"], (AppealOutcome.ALLOWED, AppealOutcome.DISMISSED))
    determined &= timeline.in_days(records["t_app_end"], days)
    charged[determined] += scenario.costs.tribunal_cost_per_case_gbp / scenario.people_per_case

    left = timeline.in_days(records["t_exit"], days)
    exit_ = records["exit_outcome"]
    charged[left & (exit_ == ExitOutcome.REMOVED)] += (
        scenario.costs.enforced_removal_cost_per_person_gbp
    )
    charged[left & (exit_ == ExitOutcome.VOLUNTARY)] += (
        scenario.costs.voluntary_return_cost_per_person_gbp
    )

    for output in run.policy_outputs.values():
        for charges in output.charges.values():
            np.add.at(charged, np.asarray(charges.records, dtype=np.int64), charges.gbp)
    return charged


def claim_costs(run: RunRecords, end_day: float) -> pd.DataFrame:
    """One row per new claim made before ``end_day``: its route, outcome group at the end of
    the run (the follow-up of a whole-life run) and whole-life cost in GBP (all of the
    person's records)."""
    records = run.records
    charged = record_costs(run)
    root = cohorts.roots(records)
    per_person = np.bincount(root, weights=charged, minlength=len(root))
    people = cohorts.cohort_people(records, 0.0, end_day, run.horizon)
    states = cohorts.states_of(records, people, run.horizon, run.policy_outputs)
    group = np.array([OUTCOME_KEYS[s.group] for s in cohorts.STATES])[states]
    return pd.DataFrame(
        {
            "route": np.array(ROUTES)[records["route"][people]],
            "outcome": group,
            "cost_gbp": per_person[people],
        }
    )


def summary_families(table: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """Mean cost and number of claims by route and outcome, each with an ``all`` row and
    column; a route or outcome with no claims is left out (it has no mean)."""
    mean: dict[str, dict[str, float]] = {}
    count: dict[str, dict[str, float]] = {}
    routes = [*sorted(table["route"].unique()), ALL] if len(table) else []
    for route in routes:
        rows = table if route == ALL else table[table["route"] == route]
        groups = {ALL: rows, **dict(tuple(rows.groupby("outcome")))}
        ordered = [k for k in (ALL, *OUTCOME_KEYS.values()) if k in groups]
        mean[route] = {k: float(groups[k]["cost_gbp"].mean()) for k in ordered}
        count[route] = {k: float(len(groups[k])) for k in ordered}
    return {"whole_life_cost_per_claim_gbp": mean, "whole_life_claims": count}


__all__ = ["OUTCOME_KEYS", "claim_costs", "record_costs", "summary_families"]
