"""Every outcome of a run, declared once: its name, unit, meaning and how replications combine.

A run's summary holds exactly these outcomes (flattened to ``parent.child`` keys). Most have a
fixed name; families whose members are only known when the model runs (cost categories,
arrival routes, the policies a scenario switches on) are declared as patterns, a name with
``<placeholders>``, such as ``cost_by_category_gbp.<category>``.

The summary, the printed tables, the metrics a sweep or a break-even may ask for, and the
reference page docs/outcomes.md are all read from :data:`OUTCOMES`; to add an outcome, compute
it in :func:`simulation.outputs.results.build` and declare it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from ..core.vocabulary import ROUTES

Unit = Literal["gbp", "people", "days", "count", "varies"]

#: What each unit means, for the reference page.
UNITS: dict[str, str] = {
    "gbp": "pounds sterling, constant prices",
    "people": "people; a count of events counts the people they happened to",
    "days": "days",
    "count": "records in the run",
    "varies": "set by the policy that reports it (see the policy's documentation)",
}

#: Percentiles of waiting times reported beside their mean.
PERCENTILES = (10, 50, 90)

#: Headings of the printed report's sections, in the order they are printed.
COST, CLAIM_COST, BACKLOG, HOTELS, OVER_THE_RUN, WAITING, POLICIES = (
    "Cost (constant prices)",
    "Whole-life cost of a claim made in the run (by route and outcome)",
    "Backlog at the end date",
    "Hotels",
    "Outcomes over the run",
    "Waiting (claims made in the run, those still waiting counted)",
    "Policies",
)
SECTIONS = (COST, CLAIM_COST, BACKLOG, HOTELS, OVER_THE_RUN, WAITING, POLICIES)

_PLACEHOLDER = re.compile(r"<([a-z_]+)>")


@dataclass(frozen=True)
class Aggregation:
    """How the replications of a scenario combine into one figure: a statistic over
    independent replications with a confidence interval, and what a run that does not report
    the outcome counts as when scenarios are compared (a cost category a scenario lacks is a
    cost of zero; any other missing outcome is missing)."""

    statistic: str = "mean"
    interval: str = "Student-t"
    confidence: float = 0.95
    absent_is_zero: bool = False

    def describe(self) -> str:
        text = f"{self.statistic}, {self.interval} {self.confidence:.0%} CI"
        return text + ("; 0 where a run lacks it" if self.absent_is_zero else "")


#: What every outcome uses today (see :func:`simulation.experiments.replications.mean_ci`).
MEAN_T95 = Aggregation()
MEAN_T95_ABSENT_ZERO = Aggregation(absent_is_zero=True)


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run, or a family of them when ``name`` has ``<placeholders>``.

    ``section`` and ``label`` place it in the printed report (a family's label may use its
    placeholders); ``headline`` outcomes are what a sweep keeps unless told otherwise.
    """

    name: str
    unit: Unit
    description: str
    aggregation: Aggregation = MEAN_T95
    section: str | None = None
    label: str | None = None
    headline: bool = False
    optional: bool = False  # computed only when asked for (whole-life costs)

    @property
    def is_pattern(self) -> bool:
        return "<" in self.name

    @property
    def prefix(self) -> str:
        """What every member's name starts with (a single outcome: its whole name)."""
        return self.name.split("<", 1)[0]

    @property
    def root(self) -> str:
        """The summary key the outcome lives under (a family's nested mapping)."""
        return self.name.split(".", 1)[0] if self.is_pattern else self.name

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        parts = _PLACEHOLDER.split(self.name)  # text, placeholder, text, ...
        pieces = [f"(?P<{p}>[^.<>]+)" if i % 2 else re.escape(p) for i, p in enumerate(parts)]
        return re.compile("".join(pieces))

    def matches(self, key: str) -> bool:
        """Whether ``key`` (a flat summary key) is this outcome or a member of its family."""
        if not self.is_pattern:
            return key == self.name
        return self._regex.fullmatch(key) is not None

    def label_for(self, key: str) -> str | None:
        """The printed label of ``key``, with a family's placeholders filled in as words."""
        if self.label is None:
            return None
        if not self.is_pattern:
            return self.label
        match = self._regex.fullmatch(key)
        words = {k: v.replace("_", " ") for k, v in match.groupdict().items()}
        return self.label.format(**words)


def _people(name: str, description: str, **kw: Any) -> Outcome:
    return Outcome(name, "people", description, **kw)


_KAPLAN_MEIER = (
    "Kaplan-Meier estimate over the claims made in the run (new claims, further submissions "
    "and re-entries; see Waiting times below), which counts a claim still waiting at the end "
    "date as waiting at least as long as it had (censored there) and follows a withdrawn claim "
    "until its withdrawal (censored there)"
)


def _waiting(what: str, until: str, printed: dict[str, str]) -> list[Outcome]:
    """The outcomes of one wait, from claim to ``until``: Kaplan-Meier percentiles and
    restricted mean, the time already waited by claims still waiting at the end date, and the
    old figures over finished claims only; ``printed`` labels the ones the report shows,
    keyed by the name's ending (``p50``, ``waited_median``)."""
    name = f"days_to_{what}"

    def shown(key: str) -> dict[str, Any]:
        return {"section": WAITING, "label": printed[key]} if key in printed else {}

    rows = []
    for q in PERCENTILES:
        statistic = "Median" if q == 50 else f"{q}th percentile of"
        rows.append(
            Outcome(
                f"{name}_p{q}",
                "days",
                f"{statistic} days from claim to {until}: the {_KAPLAN_MEIER}; not reached, "
                f"NaN (null in JSON, n/a in tables), when the estimate has fewer than {q}% of "
                "claims through by the longest wait the run could observe.",
                **shown(f"p{q}"),
            )
        )
    rows.append(
        Outcome(
            f"{name}_restricted_mean",
            "days",
            f"Mean days from claim to {until}, each wait capped at the length of the run: the "
            f"area under the survival curve of the {_KAPLAN_MEIER}, up to the end date; below "
            "the true mean while some claims would wait longer than the run.",
            **shown("restricted_mean"),
        )
    )
    for statistic, key in (("Mean", "mean"), ("Median", "median")):
        rows.append(
            Outcome(
                f"days_waited_so_far_{what}_{key}",
                "days",
                f"{statistic} days already waited at the end date by the claims made in the run "
                f"that were still waiting for {until} then (withdrawn claims not counted); "
                "NaN when none was.",
                **shown(f"waited_{key}"),
            )
        )
    only = (
        "over only the claims made in the run that got there by the end date (claims still "
        "waiting then are left out, so the longest waits are missing and the figure is biased "
        "low; the Kaplan-Meier figures without _finished count them); NaN when none did"
    )
    rows.append(
        Outcome(f"{name}_finished_mean", "days", f"Mean days from claim to {until}, {only}.")
    )
    for q in PERCENTILES:
        statistic = "Median" if q == 50 else f"{q}th percentile of"
        rows.append(
            Outcome(
                f"{name}_finished_p{q}", "days", f"{statistic} days from claim to {until}, {only}."
            )
        )
    return rows


_CLAIMS_BY_ROUTE = {
    "small_boat": "New claims by people who came by small boat.",
    "other_irregular": "New claims by people who came by other irregular routes.",
    "in_country": "New claims made by people already in the country.",
}


#: Events counted over the run, in the order the summary lists them (each also has a
#: ``cumulative_<name>`` daily series). Names are the keys of
#: :func:`simulation.outputs.results.event_times`.
EVENT_OUTCOMES: tuple[Outcome, ...] = (
    _people(
        "claims",
        "New asylum claims made in the run (not further submissions or re-entries).",
        section=OVER_THE_RUN,
        label="new claims",
    ),
    *(_people(f"claims_{route}", _CLAIMS_BY_ROUTE[route]) for route in ROUTES),
    _people(
        "diverted_on_arrival",
        "Claimants a policy took out of the UK system on arrival (offshore relocation).",
    ),
    _people(
        "further_submissions",
        "Further submissions after appeal rights were exhausted, back in the decision queue.",
    ),
    _people("reentries", "People who left or were removed and came back to claim again."),
    _people(
        "claims_brought_back",
        "People a policy held abroad before any UK decision (offshore processing) brought "
        "back to claim in the UK, back in the decision queue (not new claims or re-entries).",
    ),
    _people("withdrawals", "Claims withdrawn before an initial decision."),
    _people(
        "grants_initial",
        "Claims granted at initial decision.",
        section=OVER_THE_RUN,
        label="granted at initial decision",
    ),
    _people("refusals_initial", "Claims refused at initial decision."),
    _people("appeals_lodged", "Appeals lodged in the run (not those pending at the start)."),
    _people(
        "appeals_allowed",
        "Appeals allowed (the claimant is granted), including appeals pending at the start.",
        section=OVER_THE_RUN,
        label="granted on appeal",
    ),
    _people("appeals_dismissed", "Appeals dismissed, including appeals pending at the start."),
    _people(
        "removals_enforced",
        "Enforced removals of people with appeal rights exhausted.",
        section=OVER_THE_RUN,
        label="enforced removals",
        headline=True,
    ),
    _people(
        "returns_voluntary",
        "Voluntary departures of people with appeal rights exhausted.",
        section=OVER_THE_RUN,
        label="voluntary returns",
        headline=True,
    ),
    _people(
        "absconded",
        "People with appeal rights exhausted who lost contact with the authorities.",
        section=OVER_THE_RUN,
        label="absconded",
    ),
)

#: Every outcome, in the order a run's summary lists them.
OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "total_cost_gbp",
        "gbp",
        "All spending within the run, every category, undiscounted.",
        section=COST,
        label="total",
        headline=True,
    ),
    Outcome(
        "total_cost_discounted_gbp",
        "gbp",
        "All spending within the run, discounted to the start date at the scenario's rate.",
        section=COST,
        label="total, discounted",
        headline=True,
    ),
    Outcome(
        "total_cost_whole_life_gbp",
        "gbp",
        "All spending within the run plus what the people in the system at its end will still "
        "cost until they leave (the run continued with no arrivals; docs/costs.md), "
        "undiscounted. Only in runs made with whole-life costs (break-even's default).",
        section=COST,
        label="total, whole life",
        optional=True,
    ),
    Outcome(
        "total_cost_whole_life_discounted_gbp",
        "gbp",
        "The whole-life total, discounted to the start date at the scenario's rate. Only in "
        "runs made with whole-life costs (break-even's default).",
        section=COST,
        label="total, whole life, discounted",
        optional=True,
    ),
    Outcome(
        "cost_by_category_gbp.<category>",
        "gbp",
        "Spending within the run in one cost category (accommodation by type, caseworking, "
        "a policy's payments, ...), undiscounted.",
        aggregation=MEAN_T95_ABSENT_ZERO,
        section=COST,
        label="{category}",
    ),
    Outcome(
        "cost_by_category_discounted_gbp.<category>",
        "gbp",
        "Spending within the run in one cost category, discounted to the start date.",
        aggregation=MEAN_T95_ABSENT_ZERO,
    ),
    Outcome(
        "whole_life_cost_per_claim_gbp.<route>.<outcome>",
        "gbp",
        "Mean whole-life cost of a new claim made in the run, undiscounted: every pound the "
        "person's records are charged until they leave or the follow-up ends (support, "
        "accommodation, decision and appeal per case, removal or return, a policy's costs "
        "that follow people; docs/costs.md), by route (or all) and by where the person "
        "stands at the end of the follow-up: granted, left_uk, withdrawn, absconded, "
        "unresolved (or all). Only in runs made with whole-life costs; n/a over replications "
        "if one had no such claim.",
        section=CLAIM_COST,
        label="{route}, {outcome}",
        optional=True,
    ),
    Outcome(
        "whole_life_claims.<route>.<outcome>",
        "people",
        "Number of new claims made in the run behind each whole-life cost of a claim, by "
        "route and outcome at the end of the follow-up. Only in runs made with whole-life "
        "costs.",
        optional=True,
    ),
    _people(
        "peak_hotel_population",
        "Most people housed in hotels at any midnight of the run.",
        section=HOTELS,
        label="peak population",
        headline=True,
    ),
    _people(
        "final_hotel_population",
        "People housed in hotels at the end date.",
        section=HOTELS,
        label="population at the end date",
        headline=True,
    ),
    _people(
        "final_supported_population",
        "People in asylum accommodation of any type at the end date.",
        section=HOTELS,
        label="all supported, at the end date",
    ),
    _people(
        "final_backlog_initial",
        "People awaiting an initial decision at the end date.",
        section=BACKLOG,
        label="awaiting an initial decision",
        headline=True,
    ),
    _people(
        "final_backlog_appeals",
        "Appeals pending at the tribunal at the end date.",
        section=BACKLOG,
        label="appeals pending",
        headline=True,
    ),
    _people(
        "final_are_in_uk",
        "People with appeal rights exhausted still in the UK at the end date.",
        section=BACKLOG,
        label="appeal rights exhausted, in UK",
        headline=True,
    ),
    *EVENT_OUTCOMES,
    _people(
        "arrivals.<route>",
        "People arriving by one route in the run, whether or not they claim asylum.",
    ),
    *_waiting(
        "initial_decision",
        "a grant or refusal at initial decision",
        {
            "p50": "days to initial decision, median",
            "p90": "days to initial decision, 90th pct",
            "waited_median": "waited so far, no decision yet, median",
        },
    ),
    *_waiting(
        "final_outcome",
        "the final outcome (a grant at initial decision, an appeal allowed, or appeal rights "
        "exhausted)",
        {
            "p50": "days to final outcome, median",
            "restricted_mean": "days to final outcome, restricted mean",
            "waited_median": "waited so far, no final outcome, median",
        },
    ),
    Outcome(
        "claimants_simulated",
        "count",
        "Records the run created: the stocks at the start, new claims, further submissions, "
        "re-entries and people a policy brought back to the UK.",
    ),
    _people(
        "policies.<policy>.peak_<place>",
        "Most people at any midnight in a place the policy runs (a hub, offshore detention).",
        section=POLICIES,
        label="{policy}: peak {place}",
    ),
    _people(
        "policies.<policy>.final_<place>",
        "People in a place the policy runs at the end date.",
        section=POLICIES,
        label="{policy}: final {place}",
    ),
    Outcome(
        "policies.<policy>.<name>",
        "varies",
        "A figure the policy reports about itself (people it moved, whether it was halted, ...).",
        section=POLICIES,
        label="{policy}: {name}",
    ),
)

_BY_NAME = {o.name: o for o in OUTCOMES if not o.is_pattern}
_PATTERNS = tuple(o for o in OUTCOMES if o.is_pattern)


def declared(name: str) -> Outcome | None:
    """The outcome a flat summary key is, or belongs to (the first family that matches)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    return next((o for o in _PATTERNS if o.matches(name)), None)


def is_outcome(name: str) -> bool:
    return declared(name) is not None


def known() -> list[str]:
    """Every declared name, families with their placeholders, for messages about a bad name."""
    return [o.name for o in OUTCOMES]


def headline() -> list[str]:
    """The outcomes a sweep keeps unless it names others."""
    return [o.name for o in OUTCOMES if o.headline]


def in_section(section: str) -> list[Outcome]:
    """The outcomes printed under ``section``, in the order they are printed."""
    return [o for o in OUTCOMES if o.section == section]


def zero_when_absent() -> tuple[str, ...]:
    """Prefixes of the outcomes that count as zero in a run that does not report them (a
    cost category the scenario does not have)."""
    return tuple(o.prefix for o in OUTCOMES if o.aggregation.absent_is_zero)


#: Outcomes that no longer exist, and what to ask for instead.
RENAMED: dict[str, str] = {
    f"days_to_{what}_mean": (
        f"days_to_{what}_restricted_mean (Kaplan-Meier, each wait capped at the run's length) "
        f"or days_to_{what}_finished_mean (the old figure, over finished claims only)"
    )
    for what in ("initial_decision", "final_outcome")
}


def unknown_metric(metric: str) -> str | None:
    """Why ``metric`` cannot be asked for, or None if it is a declared outcome."""
    if is_outcome(metric):
        return None
    if metric in RENAMED:
        return f"metric {metric!r} is no longer reported; ask for {RENAMED[metric]}"
    return f"unknown metric {metric!r}; known: {', '.join(known())}"


# ------------------------------------------------------------------------------ reference

_HEADER = """\
# Outcomes

<!-- Generated by simulation.outputs.outcomes.write_reference; do not edit by hand. -->

Every figure in a run's summary (`Result.flat_summary()`, `summary.json`), and so every metric
a comparison, a break-even or a sweep can use. A name with `<placeholders>` is a family whose
members depend on the scenario: its cost categories, arrival routes and policies.
Replications of a scenario are combined as the last column says.

"""


_WAITING_TIMES = """\
## Waiting times

The `days_to_*` and `days_waited_so_far_*` outcomes follow the claims made in the run: new
claims, further submissions and re-entries. The stocks of the start date are not among them
(their claims were made before it), nor people a policy brought back to claim in the UK (their
wait began on their first arrival), nor claims a policy diverted on arrival (they never join
the UK queue; the policy reports them). Two waits are measured from the claim: to the initial
decision (a grant or a refusal) and to the final outcome (a grant at initial decision, an appeal
allowed, or appeal rights exhausted, whether after a dismissed appeal or with no appeal).

A run ends while many claims are still waiting. Figures over the claims that finished leave
those out, and with them the longest waits: in a run where the backlog grows, the median of the
finished waits can fall as waits get longer. The headline figures count every claim: one still
waiting at the end date has waited at least as long as it had by then (it is right-censored
there), and the distribution of waits is the Kaplan-Meier estimate. A claim withdrawn while
waiting (by the claimant, or through a policy such as voluntary return before a decision) is
followed until its withdrawal and censored there, so the figures describe a claimant who stays.

- `days_to_<wait>_p10`, `_p50`, `_p90`: the shortest wait by which the estimate has that share
  of claims through. When it never gets there within the waits the run could observe (at most
  the run's length), the percentile is *not reached*: NaN, `null` in JSON, `n/a` in tables. A
  longer run, or one where fewer claims wait so long, may reach it.
- `days_to_<wait>_restricted_mean`: the mean of each wait capped at the run's length (the area
  under the survival curve up to the end date). It depends on the run's length, and is below
  the true mean while some claims would wait longer than the run.
- `days_waited_so_far_<wait>_mean`, `_median`: how long the claims still waiting at the end
  date had waited by then.
- `days_to_<wait>_finished_mean`, `_p10`, `_p50`, `_p90`: the old figures, over the claims
  that finished within the run only. They understate waits, most where many are censored.

Kaplan-Meier takes every claim made in the run as drawn from one distribution of waits: a long
wait is estimated from the early claims, the only ones followed that long. Where waits grow over
the run, the late claims that would wait longest are the ones censored soonest, so the estimate
still understates them, though much less than the finished-only figures
(`tests/test_waiting_times.py` checks both against queueing theory).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference_table() -> str:
    """The reference page: one row per outcome, then what each unit means."""
    rows = [
        "| name | unit | description | aggregation |",
        "| --- | --- | --- | --- |",
        *(
            f"| `{o.name}` | {o.unit} | {_cell(o.description)} | {o.aggregation.describe()} |"
            for o in OUTCOMES
        ),
    ]
    units = ["| unit | meaning |", "| --- | --- |"]
    units += [f"| {unit} | {_cell(meaning)} |" for unit, meaning in UNITS.items()]
    return (
        _HEADER
        + "\n".join(rows)
        + "\n\n"
        + _WAITING_TIMES
        + "\n## Units\n\n"
        + "\n".join(units)
        + "\n"
    )


def write_reference(path: str | Path) -> Path:
    """Write the reference page to ``path``."""
    path = Path(path)
    path.write_text(reference_table(), encoding="utf-8")
    return path
