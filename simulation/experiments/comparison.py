"""Comparing scenarios on common random numbers, and finding break-even values.

Replication r of every scenario is run with the same seed and replication number, so all
scenarios see the same arrivals and the same people with the same fates wherever their
policies do not differ. The difference between a policy and the baseline is then computed
replication by replication (a paired difference), and its confidence interval reflects the
policy's effect, not the noise of two unrelated runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InputError, ScenarioError
from ..inputs.scenario import Scenario
from ..outputs import outcomes
from ..outputs.results import Result
from ..outputs.writing import atomic_path, check_output_directory
from ..policies.contract import RENAMED
from .evaluate import WHOLE_LIFE_YEARS, check_whole_life_years, run_one
from .replications import mean_ci, run_many

Progress = Callable[[int, int], None]
COST_PREFIXES = outcomes.zero_when_absent()


@dataclass
class Comparison:
    """Each scenario's mean and 95% CI per metric, and the paired difference to the first."""

    table: pd.DataFrame
    results: dict[str, list[Result]]

    @property
    def reference(self) -> str:
        return next(iter(self.results))

    def write(self, directory: str | Path) -> list[Path]:
        """Write comparison.parquet and comparison.csv into ``directory``, each atomically."""
        directory = check_output_directory(directory, origin="Comparison.write")
        paths = [directory / "comparison.parquet", directory / "comparison.csv"]
        with atomic_path(paths[0]) as temporary:
            self.table.to_parquet(temporary, index=False)
        with atomic_path(paths[1]) as temporary:
            self.table.to_csv(temporary, index=False)
        return paths

    def difference(self, scenario: str, metric: str) -> tuple[float, float, float]:
        """(mean, ci_low, ci_high) of the paired difference scenario - reference."""
        check_metric(metric, "comparison")
        row = self.table[(self.table.scenario == scenario) & (self.table.metric == metric)]
        if row.empty:
            raise InputError("comparison", [(metric, f"no such metric for scenario {scenario!r}")])
        row = row.iloc[0]
        return float(row.diff_mean), float(row.diff_ci_low), float(row.diff_ci_high)


def _named(scenarios: Mapping[str, Scenario] | Sequence[Scenario]) -> dict[str, Scenario]:
    if isinstance(scenarios, Mapping):
        named = dict(scenarios)
    else:
        named = {}
        for scenario in scenarios:
            name, k = scenario.name, 2
            while name in named:
                name, k = f"{scenario.name} ({k})", k + 1
            named[name] = scenario
    if len(named) < 2:
        raise InputError(
            "compare", [("scenarios", "give at least two; the first is the reference")]
        )
    for name, scenario in named.items():
        if not isinstance(scenario, Scenario):
            raise TypeError(f"{name!r} is not a Scenario")
    return named


def _frame(results: list[Result]) -> pd.DataFrame:
    frame = pd.DataFrame([r.flat_summary() for r in results])
    costs = [c for c in frame.columns if c.startswith(COST_PREFIXES)]
    frame[costs] = frame[costs].fillna(0.0)
    return frame


def _column(frame: pd.DataFrame, metric: str) -> np.ndarray:
    """A metric's values by replication: 0 for a cost category the scenario does not have,
    NaN for any other metric it does not report."""
    if metric in frame:
        return frame[metric].to_numpy(dtype=float)
    fill = 0.0 if metric.startswith(COST_PREFIXES) else math.nan
    return np.full(len(frame), fill)


def compare(
    scenarios: Mapping[str, Scenario] | Sequence[Scenario],
    replications: int = 20,
    seed: int = 1,
    progress: Progress | None = None,
    workers: int | None = 1,
    whole_life_years: float | None = None,
) -> Comparison:
    """Run every scenario ``replications`` times on common random numbers and compare.

    The first scenario is the reference. Returns a :class:`Comparison` whose ``table`` has one
    row per (metric, scenario): mean, 95% CI, and the mean paired difference to the reference
    with its 95% CI (zero for the reference itself). ``workers`` runs on that many processes
    (None: all cores) with results identical to a serial run. ``whole_life_years`` adds
    whole-life costs to every run (docs/costs.md).
    """
    named = _named(scenarios)
    check_whole_life_years(whole_life_years, "compare")
    if replications < 2:
        raise InputError(
            "compare", [("replications", f"must be at least 2 for a CI, got {replications}")]
        )
    tasks = [(s, seed, r) for s in named.values() for r in range(replications)]
    flat = run_many(tasks, workers, progress=progress, whole_life_years=whole_life_years)
    results = {
        name: flat[i * replications : (i + 1) * replications] for i, name in enumerate(named)
    }
    frames = {name: _frame(rs) for name, rs in results.items()}
    metrics = list(dict.fromkeys(m for f in frames.values() for m in f.columns))
    reference = next(iter(frames.values()))
    rows = []
    for metric in metrics:
        base = _column(reference, metric)
        for name, frame in frames.items():
            values = _column(frame, metric)
            mean, low, high = mean_ci(values)
            d_mean, d_low, d_high = mean_ci(values - base)
            rows.append(
                {
                    "metric": metric,
                    "scenario": name,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "diff_mean": d_mean,
                    "diff_ci_low": d_low,
                    "diff_ci_high": d_high,
                    "n": replications,
                }
            )
    return Comparison(table=pd.DataFrame(rows), results=results)


# ------------------------------------------------------------------------------ break-even


@dataclass
class BreakEven:
    """The parameter value at which the policy's metric equals the baseline's."""

    parameter: str
    metric: str
    value: float  # mean of the replications' break-even values
    ci_low: float
    ci_high: float
    per_replication: list[float]
    no_crossing: int  # replications whose difference kept one sign over the range
    low: float
    high: float
    decomposition: Decomposition | None = None

    @property
    def deterred(self) -> bool:
        """True when the parameter is a policy's ``deterred_share``: the value is the share
        of eligible crossings that must be deterred."""
        return self.parameter.endswith("." + DETERRED_SHARE)

    def __str__(self) -> str:
        text = self._headline()
        return text if self.decomposition is None else f"{text}\n{self.decomposition}"

    def _headline(self) -> str:
        runs = f"{len(self.per_replication)} replications"
        if self.deterred:
            return (
                f"{self.value:.1%} of eligible crossings must be deterred for the policy's "
                f"{self.metric} to equal the baseline's (95% CI {self.ci_low:.1%} to "
                f"{self.ci_high:.1%}, {runs}; {self.parameter})"
            )
        return (
            f"{self.metric} of the policy equals the baseline's at {self.parameter} = "
            f"{self.value:.4g} (95% CI {self.ci_low:.4g} to {self.ci_high:.4g}, {runs})"
        )


@dataclass(frozen=True)
class Decomposition:
    """What balances at the break-even point, as means over the replications that cross:
    the policy's own costs against the costs of the core system (accommodation, support,
    casework, tribunal, removals and returns) it avoids, with the new claims it avoids and the
    people it relocates or transfers. Money is in the metric's terms (discounted when the
    metric is)."""

    policy_costs_gbp: float
    core_costs_avoided_gbp: float
    claims_avoided: float
    people_moved: float
    discounted: bool
    #: with a whole-life metric: how the costs after the end date change (policy - baseline)
    after_end_change_gbp: float | None = None

    @property
    def avoided_per_claim_gbp(self) -> float:
        """Core costs avoided per new claim avoided (nan when none is avoided)."""
        if self.claims_avoided <= 0:
            return math.nan
        return self.core_costs_avoided_gbp / self.claims_avoided

    def __str__(self) -> str:
        terms = "discounted" if self.discounted else "constant prices"
        per_claim = self.avoided_per_claim_gbp
        per = "" if math.isnan(per_claim) else f" (£{per_claim:,.0f} per claim avoided)"
        within = "" if self.after_end_change_gbp is None else " within the run"
        after = (
            ""
            if self.after_end_change_gbp is None
            else f"; costs after the end date change by £{self.after_end_change_gbp / 1e6:+,.1f}m"
        )
        return (
            f"At the break-even point ({terms}, means over replications): the policy's own "
            f"costs{within} £{self.policy_costs_gbp / 1e6:,.1f}m; UK costs avoided{within} "
            f"£{self.core_costs_avoided_gbp / 1e6:,.1f}m{per}{after}; new claims avoided "
            f"{self.claims_avoided:,.0f}; people relocated or transferred "
            f"{self.people_moved:,.0f}."
        )


#: metrics that need whole-life runs
WHOLE_LIFE_PREFIX = "total_cost_whole_life"

#: policy summary counts of people a policy moves out of the UK system
MOVED_COUNTS = ("relocations", "transfers")


def decompose(
    reference: Result, policy: Result, discounted: bool, whole_life: bool = False
) -> dict[str, float]:
    """The policy's own costs, the core costs it avoids, claims avoided and people moved in
    one paired replication (see :class:`Decomposition`); with ``whole_life``, also the change
    in the costs after the end date."""
    key = "cost_by_category_discounted_gbp" if discounted else "cost_by_category_gbp"
    core, with_policy = reference.summary[key], policy.summary[key]
    own = sum(value for name, value in with_policy.items() if name not in core)
    avoided = sum(value - with_policy.get(name, 0.0) for name, value in core.items())
    moved = sum(
        float(counts.get(name, 0.0))
        for counts in policy.summary.get("policies", {}).values()
        for name in MOVED_COUNTS
    )
    parts = {
        "policy_costs_gbp": own,
        "core_costs_avoided_gbp": avoided,
        "claims_avoided": float(reference.summary["claims"] - policy.summary["claims"]),
        "people_moved": moved,
    }
    if whole_life:
        suffix = "_discounted_gbp" if discounted else "_gbp"

        def after_end(result: Result) -> float:
            summary = result.summary
            return summary[f"total_cost_whole_life{suffix}"] - summary[f"total_cost{suffix}"]

        parts["after_end_change_gbp"] = after_end(policy) - after_end(reference)
    return parts


class NoCrossing(ValueError):
    """The policy's metric stays above (or below) the baseline's over the whole range."""


#: the field of every deterring policy that break-even searches by default
DETERRED_SHARE = "deterred_share"


def deterrence_parameter(baseline: Scenario, policy_scenario: Scenario) -> str:
    """The deterred share of the one deterring policy that ``policy_scenario`` switches on
    and ``baseline`` does not (``policies.<name>.deterred_share``)."""
    candidates = [
        name
        for name, config in policy_scenario.policies.items()
        if config.enabled
        and DETERRED_SHARE in type(config).model_fields
        and not (name in baseline.policies and baseline.policies[name].enabled)
    ]
    if len(candidates) == 1:
        return f"policies.{candidates[0]}.{DETERRED_SHARE}"
    found = ", ".join(candidates) if candidates else "none"
    raise InputError(
        "break-even",
        [
            (
                "parameter",
                "name the parameter to vary: break-even varies the deterred share of the one "
                f"deterring policy the policy scenario adds, and it adds {len(candidates)} "
                f"({found})",
            )
        ],
    )


def _renamed_problem(parameter: str) -> str | None:
    """What replaced a renamed policy field that ``parameter`` names, if it names one."""
    parts = parameter.split(".")
    if len(parts) == 3 and parts[0] == "policies" and parts[2] in RENAMED:
        return RENAMED[parts[2]]
    return None


def _default_range(scenario: Scenario, parameter: str) -> tuple[float, float]:
    if parameter in scenario.uncertainty:
        bounds = scenario.uncertainty[parameter]
        return bounds.low, bounds.high
    if parameter.endswith("." + DETERRED_SHARE):
        return 0.0, 1.0  # a share: every possible value
    raise ScenarioError(
        "break-even",
        [(parameter, "give low and high: the scenario declares no uncertainty range for it")],
    )


def break_even(
    baseline: Scenario,
    policy_scenario: Scenario,
    parameter: str | None = None,
    metric: str = "total_cost_whole_life_discounted_gbp",
    replications: int = 10,
    seed: int = 1,
    low: float | None = None,
    high: float | None = None,
    xtol: float | None = None,
    progress: Progress | None = None,
) -> BreakEven:
    """Find where ``metric`` of ``policy_scenario`` equals the baseline's as ``parameter`` varies.

    For each replication (common random numbers: the same seed for both scenarios), a
    Brent root-finder (scipy.optimize.brentq) finds the parameter value at which the paired
    difference policy - baseline changes sign within [low, high] (by default the scenario's
    uncertainty range for the parameter; [0, 1] for a deterred share it gives no range for).
    The result is the mean of those values with a 95% confidence interval over replications.
    Raises :class:`NoCrossing` if no replication's difference changes sign within the range.

    Without ``parameter``, it varies the ``deterred_share`` of the one deterring policy the
    policy scenario adds to the baseline: the share of eligible crossings that must be
    deterred for the policy to break even.
    """
    from scipy import optimize  # here, not at the top: importing the package stays cheap

    check_metric(metric, "break-even")
    if parameter is None:
        parameter = deterrence_parameter(baseline, policy_scenario)
    renamed = _renamed_problem(parameter)
    if renamed:
        raise InputError("break-even", [("parameter", f"{parameter}: {renamed}")])
    if low is None or high is None:
        default_low, default_high = _default_range(policy_scenario, parameter)
        low = default_low if low is None else low
        high = default_high if high is None else high
    if not low < high:
        raise InputError("break-even", [("low", f"must be below high, got {low} and {high}")])
    policy_scenario.with_overrides({parameter: low})  # fails early, naming a bad path/value
    policy_scenario.with_overrides({parameter: high})
    xtol = xtol if xtol is not None else (high - low) * 1e-3
    # whole-life metrics need runs that follow people past the end date
    years = WHOLE_LIFE_YEARS if metric.startswith(WHOLE_LIFE_PREFIX) else None
    references = [run_one(baseline, seed, r, whole_life_years=years) for r in range(replications)]
    reference = [_metric(result, metric) for result in references]
    calls = [0]

    def difference(x: float, replication: int) -> float:
        calls[0] += 1
        if progress:
            progress(calls[0], 0)
        scenario = policy_scenario.with_overrides({parameter: float(x)})
        result = run_one(scenario, seed, replication, whole_life_years=years)
        return _metric(result, metric) - reference[replication]

    roots: list[float] = []
    crossed: list[int] = []
    ends = []
    for replication in range(replications):
        at_low, at_high = difference(low, replication), difference(high, replication)
        ends.append((at_low, at_high))
        if at_low == 0:
            roots.append(low)
        elif at_high == 0:
            roots.append(high)
        elif np.sign(at_low) != np.sign(at_high):
            roots.append(optimize.brentq(difference, low, high, args=(replication,), xtol=xtol))
        if len(roots) > len(crossed):
            crossed.append(replication)
    if not roots:
        lows = np.mean([e[0] for e in ends])
        highs = np.mean([e[1] for e in ends])
        side = "above" if lows > 0 else "below"
        raise NoCrossing(
            f"no crossing: the policy's {metric} stays {side} the baseline's for {parameter} "
            f"between {low:g} and {high:g} (mean difference {lows:,.4g} at {low:g} and "
            f"{highs:,.4g} at {high:g}); widen the range or check the parameter"
        )
    mean, ci_low, ci_high = mean_ci(roots)
    discounted = "discounted" in metric
    parts = [
        decompose(
            references[replication],
            run_one(
                policy_scenario.with_overrides({parameter: root}),
                seed,
                replication,
                whole_life_years=years,
            ),
            discounted,
            whole_life=years is not None,
        )
        for replication, root in zip(crossed, roots, strict=True)
    ]
    decomposition = Decomposition(
        **{name: float(np.mean([p[name] for p in parts])) for name in parts[0]},
        discounted=discounted,
    )
    return BreakEven(
        parameter=parameter,
        metric=metric,
        value=mean,
        ci_low=ci_low,
        ci_high=ci_high,
        per_replication=roots,
        no_crossing=replications - len(roots),
        low=low,
        high=high,
        decomposition=decomposition,
    )


def check_metric(metric: str, origin: str) -> None:
    """Refuse a metric that is not a declared outcome (see docs/outcomes.md) before any run."""
    problem = outcomes.unknown_metric(metric)
    if problem:
        raise InputError(origin, [("metric", problem)])


def _metric(result: Result, metric: str) -> float:
    """A declared metric's value in one run: 0 for a cost category the scenario does not
    have; an error for another outcome it does not report (a policy it does not have)."""
    flat = result.flat_summary()
    if metric not in flat:
        if metric.startswith(COST_PREFIXES):
            return 0.0
        raise InputError(
            "break-even",
            [("metric", f"{metric!r} is not reported by {result.manifest['scenario']['name']!r}")],
        )
    return flat[metric]
