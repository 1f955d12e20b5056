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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.progress import counter
from ..inputs.provenance import SET_BY_BREAK_EVEN
from ..inputs.scenario import Scenario
from ..outputs import outcomes
from ..outputs.report import number, signed
from ..outputs.results import Result, describe_run
from ..outputs.writing import atomic_path, check_output_directory
from ..policies.contract import RENAMED
from .evaluate import WHOLE_LIFE_YEARS, check_whole_life_years, run_one
from .executors import map_ordered
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

    def __repr__(self) -> str:
        """The scenarios, the horizon and each one's paired difference in total cost, in a
        few hundred characters (the full table is ``.table``)."""
        names = list(self.results)
        first = self.results[names[0]]
        about = describe_run(first[0].manifest) if first else repr(names[0])
        shown = [f"{_short(name)} {self._cost_difference(name)}" for name in names[1:4]]
        if len(names) > 4:
            shown.append(f"{len(names) - 4} more")
        return (
            f"Comparison(reference {about}, {len(first)} paired replications; "
            f"total cost difference: {', '.join(shown)})"
        )

    def _cost_difference(self, name: str) -> str:
        rows = self.table[(self.table.scenario == name) & (self.table.metric == "total_cost_gbp")]
        if rows.empty:
            return "n/a"
        return signed(float(rows.diff_mean.iloc[0]), "gbp")

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

    def plot(self, metrics: str | Sequence[str] | None = None, ax: Any = None) -> Any:
        """A forest plot: per metric (by default the headline outcomes), each scenario's
        mean paired difference from the reference with its 95% CI, the numbers of
        ``.table``; one panel per metric, each in its unit. Draws on ``ax`` (one axes per
        metric) or a new figure and returns the matplotlib Figure."""
        from ..outputs.plotting import forest, forest_metrics

        return forest(self.table, forest_metrics(self.table, metrics), ax=ax)

    def plot_series(self, metric: str, ax: Any = None) -> Any:
        """One daily series (a name in a result's ``.series``) in every scenario on one
        chart: each scenario's median and middle 90% of its replications. Draws on ``ax`` or
        a new figure and returns the matplotlib Axes."""
        from ..outputs.plotting import metric_list, scenario_bands

        wides = {name: [r.series_wide() for r in rs] for name, rs in self.results.items()}
        first = next(iter(wides.values()))[0]
        for name, frames in wides.items():
            metric_list(metric, list(frames[0].columns), f"Comparison.plot_series ({name})")
        runs = {
            name: np.vstack([w[metric].to_numpy(dtype=float) for w in frames])
            for name, frames in wides.items()
        }
        return scenario_bands(first.index, runs, metric, ax=ax)


def _short(name: str, limit: int = 40) -> str:
    """A scenario's name quoted, shortened when long (for a one-line description)."""
    return repr(name if len(name) <= limit else name[: limit - 3] + "...")


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
    quiet: bool = False,
) -> Comparison:
    """Run every scenario ``replications`` times on common random numbers and compare.

    The first scenario is the reference. Returns a :class:`Comparison` whose ``table`` has one
    row per (metric, scenario): mean, 95% CI, and the mean paired difference to the reference
    with its 95% CI (zero for the reference itself). ``workers`` runs on that many processes
    (None: all cores) with results identical to a serial run. ``whole_life_years`` adds
    whole-life costs to every run (docs/costs.md). Progress is a bar of runs (on a terminal or
    in a notebook; none with ``quiet``), or ``progress(done, total)`` if given.
    """
    named = _named(scenarios)
    check_whole_life_years(whole_life_years, "compare")
    if replications < 2:
        raise InputError(
            "compare", [("replications", f"must be at least 2 for a CI, got {replications}")]
        )
    tasks = [(s, seed, r) for s in named.values() for r in range(replications)]
    if progress is None:
        progress = counter("runs", "run", quiet)
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
    simulations: int = 0  # runs of either scenario the search took, over all replications
    #: every run of the policy scenario the search made: replication, the parameter's value,
    #: the policy's metric there and the replication's baseline metric
    evaluations: pd.DataFrame | None = field(default=None, repr=False)

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
        value, low, high = (self.value_text(v) for v in (self.value, self.ci_low, self.ci_high))
        return (
            f"{self.metric} of the policy equals the baseline's at {self.parameter} = "
            f"{value} (95% CI {low} to {high}, {runs})"
        )

    def value_text(self, value: float) -> str:
        """A value of the parameter as text: money for a field in pounds, a plain number
        otherwise (never in scientific notation)."""
        return parameter_text(value, self.parameter)

    @property
    def range_text(self) -> str:
        """The range searched, as text: ``0 to 0.5``, ``£100.00 to £250.00``."""
        return f"{self.value_text(self.low)} to {self.value_text(self.high)}"

    def plot(self, ax: Any = None) -> Any:
        """The metric against the parameter for the policy (the points the search
        evaluated, joined) and the baseline, replication by replication, with the break-even
        value and its 95% CI. Draws on ``ax`` or a new figure and returns the Axes."""
        if self.evaluations is None:
            raise InputError(
                "break-even plot", [("evaluations", "this result does not hold its runs")]
            )
        from ..outputs.plotting import break_even_chart

        return break_even_chart(
            self.evaluations,
            self.parameter,
            self.metric,
            self.value,
            (self.ci_low, self.ci_high),
            value_text=f"{self.value:.1%}" if self.deterred else self.value_text(self.value),
            ax=ax,
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
        per = "" if math.isnan(per_claim) else f" ({money(per_claim)} per claim avoided)"
        within = "" if self.after_end_change_gbp is None else " within the run"
        change = self.after_end_change_gbp
        after = "" if change is None else f"; costs after the end date change by {_signed(change)}"
        return (
            f"At the break-even point ({terms}, means over replications): the policy's own "
            f"costs{within} {money(self.policy_costs_gbp)}; UK costs avoided{within} "
            f"{money(self.core_costs_avoided_gbp)}{per}{after}; new claims avoided "
            f"{self.claims_avoided:,.0f}; people relocated or transferred "
            f"{self.people_moved:,.0f}."
        )


def _signed(gbp: float) -> str:
    return ("+" if gbp > 0 else "") + money(gbp)


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


def _kind_of(value: object) -> str:
    """What a scenario value is, in words, for a message."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"a yes/no switch ({str(value).lower()})"
    if isinstance(value, date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def parameter_problem(scenario: Scenario, parameter: object) -> str | None:
    """Why ``parameter`` cannot be varied in ``scenario`` (None if it can): it must be the
    dotted path of one number the scenario holds, in a policy the scenario switches on."""
    from ..inputs import paths
    from ..inputs.policy_config import registered

    if not isinstance(parameter, str) or not parameter.strip():
        return f"must be the dotted path of a number in the policy scenario, got {parameter!r}"
    renamed = _renamed_problem(parameter)
    if renamed:
        return f"{parameter}: {renamed}"
    data = scenario.to_dict()
    parts = parameter.split(".")
    policies = data.get("policies") or {}
    if parts[0] == "policies" and len(parts) > 1 and parts[1] not in policies:
        have = ", ".join(policies) or "none"
        if parts[1] in registered():
            return (
                f"{parameter}: the policy scenario has no {parts[1]} policy (its policies: {have})"
            )
    try:
        value = paths.get(data, parameter)
    except paths.PathError as exc:
        return f"{parameter} is not in the policy scenario: {exc.reason}"
    if parts[0] == "policies" and len(parts) > 2 and not policies[parts[1]].get("enabled", True):
        return (
            f"{parameter}: the {parts[1]} policy is switched off (enabled: false) in the policy "
            "scenario, so its fields change nothing"
        )
    if isinstance(value, Mapping):
        keys = [k.isoformat() if isinstance(k, date) else str(k) for k in value]
        shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
        if all(isinstance(k, date) for k in value):
            return (
                f"{parameter} holds values by date ({shown}): name one date, e.g. "
                f"{parameter}.{keys[0]}"
            )
        return f"{parameter} is a group of fields ({shown}), not a number: name a number in it"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{parameter} is {_kind_of(value)}, not a number: break-even varies a number"
    if isinstance(value, int):
        return (
            f"{parameter} takes whole numbers only (it is {value}): break-even searches a "
            "continuous range; a sweep can try its values instead"
        )
    return None


def _range(
    scenario: Scenario, parameter: str, low: float | None, high: float | None
) -> tuple[float, float]:
    """The range to search: ``low`` and ``high`` where given, else the scenario's uncertainty
    range for the parameter, else [0, 1] for a deterred share; every end checked against
    what the field accepts."""
    if low is None or high is None:
        if parameter in scenario.uncertainty:
            bounds = scenario.uncertainty[parameter]
            default_low, default_high = bounds.low, bounds.high
        elif parameter.endswith("." + DETERRED_SHARE):
            default_low, default_high = 0.0, 1.0  # a share: every possible value
        else:
            missing = "low" if low is None else "high"
            both = "low and high" if low is None and high is None else missing
            raise InputError(
                "break-even",
                [
                    (
                        missing,
                        f"give {both}: the policy scenario declares no uncertainty range for "
                        f"{parameter}",
                    )
                ],
            )
        low = default_low if low is None else low
        high = default_high if high is None else high
    problems = []
    for name, end in (("low", low), ("high", high)):
        if isinstance(end, bool) or not isinstance(end, int | float) or not math.isfinite(end):
            problems.append((name, f"must be a finite number, got {end!r}"))
    if problems:
        raise InputError("break-even", problems)
    if not low < high:
        raise InputError(
            "break-even",
            [("low", f"must be below high, got {plain_number(low)} and {plain_number(high)}")],
        )
    for name, end in (("low", low), ("high", high)):
        try:
            scenario.with_overrides({parameter: float(end)})
        except InputError as exc:
            reasons = "; ".join(message for _path, message in exc.problems)
            problems.append((name, f"{parameter} cannot be {plain_number(end)}: {reasons}"))
    if problems:
        raise InputError("break-even", problems)
    return float(low), float(high)


@dataclass(frozen=True)
class _Search:
    """One replication's search for the crossing: everything a worker process needs."""

    baseline: Scenario
    policy_scenario: Scenario
    parameter: str
    metric: str
    seed: int
    replication: int
    low: float
    high: float
    xtol: float
    whole_life_years: float | None


@dataclass(frozen=True)
class _Searched:
    """What one replication's search found: the root (None if the difference kept one sign),
    the differences at both ends, the decomposition at the root and the runs it took, with
    the baseline's metric and the policy's at every value evaluated."""

    root: float | None
    at_low: float
    at_high: float
    parts: dict[str, float] | None
    simulations: int
    reference: float = math.nan
    evaluated: tuple[tuple[float, float], ...] = ()


def _search(task: _Search) -> _Searched:
    """Brent's method on one replication's paired difference policy - baseline. Its result
    depends only on the task (common random numbers: the replication's own streams), so it
    is the same in any process."""
    from scipy import optimize  # here, not at the top: importing the package stays cheap

    years = task.whole_life_years
    reference_run = run_one(task.baseline, task.seed, task.replication, whole_life_years=years)
    reference = _metric(reference_run, task.metric)
    runs = [1]
    evaluated: list[tuple[float, float]] = []

    def at(x: float) -> Result:
        runs[0] += 1
        scenario = task.policy_scenario.with_overrides(
            {task.parameter: float(x)}, by=SET_BY_BREAK_EVEN
        )
        result = run_one(scenario, task.seed, task.replication, whole_life_years=years)
        evaluated.append((float(x), _metric(result, task.metric)))
        return result

    def difference(x: float) -> float:
        return _metric(at(x), task.metric) - reference

    at_low, at_high = difference(task.low), difference(task.high)
    root: float | None = None
    if at_low == 0:
        root = task.low
    elif at_high == 0:
        root = task.high
    elif np.sign(at_low) != np.sign(at_high):
        root = float(optimize.brentq(difference, task.low, task.high, xtol=task.xtol))
    parts = None
    if root is not None:
        parts = decompose(
            reference_run,
            at(root),
            "discounted" in task.metric,
            whole_life=years is not None,
        )
    return _Searched(root, at_low, at_high, parts, runs[0], reference, tuple(evaluated))


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
    workers: int | None = 1,
    quiet: bool = False,
) -> BreakEven:
    """Find where ``metric`` of ``policy_scenario`` equals the baseline's as ``parameter`` varies.

    For each replication (common random numbers: the same seed for both scenarios), a
    Brent root-finder (scipy.optimize.brentq) finds the parameter value at which the paired
    difference policy - baseline changes sign within [low, high] (by default the scenario's
    uncertainty range for the parameter; [0, 1] for a deterred share it gives no range for).
    The result is the mean of those values with a 95% confidence interval over replications.
    Raises :class:`NoCrossing` if no replication's difference changes sign within the range.

    ``parameter`` is the dotted path of one number in the policy scenario; it is checked,
    with the range, before any run (an :class:`InputError` naming ``parameter``, ``low`` or
    ``high``). Without it, break-even varies the ``deterred_share`` of the one deterring
    policy the policy scenario adds to the baseline (the answer names it): the share of
    eligible crossings that must be deterred for the policy to break even.

    Each replication's search runs as one task: ``workers`` runs them on that many processes
    (None: all cores) with results identical to a serial run. Progress is a bar of
    replications searched (none with ``quiet``), or ``progress(done, total)`` if given.
    """
    check_metric(metric, "break-even")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError(
            "break-even", [("replications", f"must be at least 1, got {replications!r}")]
        )
    if parameter is None:
        parameter = deterrence_parameter(baseline, policy_scenario)
    problem = parameter_problem(policy_scenario, parameter)
    if problem:
        raise InputError("break-even", [("parameter", problem)])
    low, high = _range(policy_scenario, parameter, low, high)
    xtol = xtol if xtol is not None else (high - low) * 1e-3
    # whole-life metrics need runs that follow people past the end date
    years = WHOLE_LIFE_YEARS if metric.startswith(WHOLE_LIFE_PREFIX) else None
    tasks = [
        _Search(baseline, policy_scenario, parameter, metric, seed, r, low, high, xtol, years)
        for r in range(replications)
    ]
    if progress is None:
        progress = counter("replications searched", "replication", quiet)
    searched = map_ordered(_search, tasks, workers, progress)
    simulations = sum(s.simulations for s in searched)
    crossing = [s for s in searched if s.root is not None]
    if not crossing:
        lows = float(np.mean([s.at_low for s in searched]))
        highs = float(np.mean([s.at_high for s in searched]))
        side = "above" if lows > 0 else "below"
        raise NoCrossing(
            f"no crossing: the policy's {metric} stays {side} the baseline's for {parameter} "
            f"from {parameter_text(low, parameter)} to {parameter_text(high, parameter)} "
            f"(mean difference {amount_text(lows, metric)} at {parameter_text(low, parameter)}"
            f" and {amount_text(highs, metric)} at {parameter_text(high, parameter)}, "
            f"{replications} replications); widen the range or check the parameter"
        )
    roots = [float(s.root) for s in crossing if s.root is not None]
    mean, ci_low, ci_high = mean_ci(roots)
    parts = [s.parts for s in crossing if s.parts is not None]
    decomposition = Decomposition(
        **{name: float(np.mean([p[name] for p in parts])) for name in parts[0]},
        discounted="discounted" in metric,
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
        simulations=simulations,
        evaluations=pd.DataFrame(
            [
                {"replication": r, "value": x, "policy": y, "baseline": s.reference}
                for r, s in enumerate(searched)
                for x, y in s.evaluated
            ],
            columns=["replication", "value", "policy", "baseline"],
        ),
    )


# ------------------------------------------------------------------------------ numbers


def plain_number(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant figures with thousands separators and never in
    scientific notation: 0.0001159, 0.5, 1,024, 62,670,000; ``n/a`` for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "infinity" if value > 0 else "minus infinity"
    if value == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(float(value), decimals)
    text = f"{rounded:,.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: float) -> str:
    """Pounds as the reports print them (£1.23bn, £45.6m, £7,890), with pence below £1,000."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) < 1000:
        return f"-£{abs(value):,.2f}" if value < 0 else f"£{value:,.2f}"
    text = number(abs(value), "gbp")
    return f"-{text}" if value < 0 else text


def parameter_text(value: float, parameter: str) -> str:
    """A value of ``parameter`` as text: money for a field in pounds, else a plain number."""
    if any(part.endswith("_gbp") for part in parameter.split(".")):
        return money(value)
    return plain_number(value)


def amount_text(value: float, metric: str) -> str:
    """A signed amount of ``metric`` (a difference): +£1.2m, -£350, +1,204."""
    outcome = outcomes.declared(metric)
    if outcome is not None and outcome.unit == "gbp":
        text = money(abs(value))
    else:
        text = plain_number(abs(value))
    if text == "n/a" or value == 0:
        return text
    return ("+" if value > 0 else "-") + text


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
