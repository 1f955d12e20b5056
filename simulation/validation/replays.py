"""Replays of the two schemes that ran, against what was published.

    section(replications=20, seed=1) -> Markdown for docs/validation.md

Each replay is a scenario in ``scenarios/history/`` configured only from the figures' sources
(no tuning to the outcome): the UK-Rwanda partnership from its signing to its scrapping
(``rwanda_2022_2024.yaml``) and Italy's centres in Albania (``italy_albania_2024_2025.yaml``).
Every compared figure is a :class:`Comparison`: the published value, the model's figure over
replications with a 95% interval, and its role: a *prediction* (not an input of the replay),
an *input* (the scenario was configured from the same published figure, so agreement is a
check of the mechanism, not of the model), *not modelled*, or a *known gap* whose note says
what the published figure holds that the model does not. The intervals are for a single
history, like the one published:

- a count that is the same in every replication: that value;
- a money total: the mean over replications with its Student-t 95% confidence interval;
- an outcome of each person sent to a centre (repatriated, released, brought back, still
  there): the share of all people sent over the replications, with its Clopper-Pearson 95%
  interval, turned into a binomial 95% prediction interval for as many people as were
  published sent (each person's fate is independent given when they were sent);
- the number sent: a Poisson 95% prediction interval around the mean over replications
  (exact interval on the mean, then Poisson quantiles).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from ..experiments.replications import mean_ci, run_many
from ..inputs import published, shipped
from ..inputs.scenario import Scenario

#: where the replay scenarios live: the shipped scenarios/history/, from any working directory
DIRECTORY = shipped.path("history")
RWANDA = "rwanda_2022_2024.yaml"
ITALY = "italy_albania_2024_2025.yaml"
CONFIDENCE = 0.95

PREDICTION, INPUT, NOT_MODELLED, KNOWN_GAP = "prediction", "input", "not modelled", "known gap"


@dataclass(frozen=True)
class Comparison:
    """One published outcome of a replay next to the model's figure."""

    replay: str
    figure: str
    published: float | None
    simulated: float | None
    low: float | None
    high: float | None
    role: str
    data_key: str
    note: str = ""
    unit: str = "people"

    @property
    def within(self) -> bool | None:
        """Whether the published value lies in the model's interval (None: not compared)."""
        if self.published is None or self.low is None or self.high is None:
            return None
        return bool(self.low <= self.published <= self.high)


# ------------------------------------------------------------------------- intervals


def binomial_prediction(
    successes: int, trials: int, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """Expected count among ``n`` people at the pooled share ``successes / trials``, and a
    prediction interval: binomial quantiles for ``n`` at the ends of the share's
    Clopper-Pearson interval (so it allows for the share being estimated)."""
    if trials <= 0:
        return math.nan, math.nan, math.nan
    alpha = 1 - confidence
    share = successes / trials
    low = 0.0 if successes == 0 else stats.beta.ppf(alpha / 2, successes, trials - successes + 1)
    high = (
        1.0
        if successes == trials
        else stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes)
    )
    return (
        share * n,
        float(stats.binom.ppf(alpha / 2, n, low)),
        float(stats.binom.ppf(1 - alpha / 2, n, high)),
    )


def poisson_prediction(
    counts: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """Mean count over replications and a prediction interval for one more: Poisson
    quantiles at the ends of the exact (Garwood) interval on the mean."""
    total, runs = float(np.sum(counts)), len(counts)
    alpha = 1 - confidence
    low_mean = 0.0 if total == 0 else stats.chi2.ppf(alpha / 2, 2 * total) / 2 / runs
    high_mean = stats.chi2.ppf(1 - alpha / 2, 2 * total + 2) / 2 / runs
    return (
        total / runs,
        float(stats.poisson.ppf(alpha / 2, low_mean)) if low_mean > 0 else 0.0,
        float(stats.poisson.ppf(1 - alpha / 2, high_mean)),
    )


def _constant(values: Sequence[float]) -> tuple[float, float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    return float(np.mean(values)), low, high


def _figure(key: str, scale: float = 1.0) -> float:
    number = published.figure(key).number
    if number is None:
        raise ValueError(f"published figure {key} is not a single number")
    return number * scale


# ------------------------------------------------------------------------- Rwanda

RWANDA_SPEND_GAP = (
    "The model costs what the partnership's terms pay Rwanda (GBP 290m by the scrapping, "
    "rwanda_paid_by_dec2023), the Home Office's set-up costs (GBP 28m, "
    "rwanda_direct_setup_costs) and, per person relocated, the payments, flights and "
    "detention before the flight. The published GBP 700m also holds the Home Office's own "
    "running costs of the scheme, which the model does not have: more than 1,000 staff, the "
    "detention of people held for removal and the flights booked (rwanda_total_cost_jul2024), "
    "escorting (GBP 23.5m by April 2024, an NAO estimate quoted with "
    "rwanda_first_relocation_payments_timing, weak). That is the gap; the tolerance is not "
    "widened to hide it."
)
RWANDA_RELOCATION_NOTE = (
    "Follows from two inputs read from what happened: the legal delay (the court rulings and "
    "the Safety of Rwanda Act put the first flight no earlier than 1 July 2024) and the halt "
    "on 22 May 2024, when the general election was called and flights were put off until "
    "after it. Without the halt the model flies the Hope Hostel's 200 places from 1 July, "
    "before the scrapping on 6 July; with flights possible from the Act's Royal Assent (25 "
    "April 2024) and no halt, it flies 200 by late May. The zero rests on the election and "
    "the government's own lead time, not on the courts alone."
)


def rwanda(results: Sequence, scenario: Scenario) -> list[Comparison]:
    """The partnership's spend and relocations to July 2024."""
    name = "UK-Rwanda 2022-2024"
    categories = ("offshore_payments", "offshore_flights", "offshore_detention")
    spend = [
        sum(r.summary["cost_by_category_gbp"].get(c, 0.0) for c in categories) for r in results
    ]
    mean, low, high = mean_ci(spend)
    if len(spend) < 2 or not np.isfinite(low):
        low = high = mean
    relocated = [r.summary["policies"]["offshore"]["relocations"] for r in results]
    moved, moved_low, moved_high = _constant(relocated)
    return [
        Comparison(
            name,
            "spent on the scheme, April 2022 to July 2024",
            _figure("rwanda_total_cost_jul2024", 1e6),
            mean,
            low,
            high,
            KNOWN_GAP,
            "rwanda_total_cost_jul2024",
            RWANDA_SPEND_GAP,
            unit="GBP",
        ),
        Comparison(
            name,
            "relocated under the enforced scheme",
            0.0,
            moved,
            moved_low,
            moved_high,
            INPUT,
            "rwanda_relocated_volunteers",
            RWANDA_RELOCATION_NOTE,
        ),
        Comparison(
            name,
            "relocated as volunteers (a separate voluntary scheme)",
            _figure("rwanda_relocated_volunteers"),
            None,
            None,
            None,
            NOT_MODELLED,
            "rwanda_relocated_volunteers",
            "The four went through a voluntary scheme paying GBP 3,000 each "
            "(rwanda_voluntary_payment), which the model does not represent.",
        ),
    ]


# ------------------------------------------------------------------------- Italy-Albania

ITALY_TRANSITED = int(_figure("albania_cpr_transited"))  # 140
ITALY_REPATRIATED, ITALY_RELEASED, ITALY_PRESENT = 37, 40, 27  # in the same row's description
ITALY_REPATRIATION_GAP = (
    "The hub takes the people who have waited longest since their appeal rights were "
    "exhausted. In the UK history those are the starting stock of 2023, which has no dates of "
    "refusal, so UK removals and the hub go through it in the same order: by April 2025 "
    "removals have taken the returnable among the first of them, and the hub is left with "
    "people whose country does not take them back. Italy instead sent people it already held "
    "for removal. The same run with the hub taking returnable people first "
    "(prefer_returnable: true) gives the other extreme, about 76 repatriated and 6 released "
    "(10 replications): the published 37 repatriated and 40 released lie between, as if about "
    "half of the people Italy sent could be removed within their detention. The scenario keeps "
    "first come first served rather than pick a mix to fit the outcome."
)
ITALY_PRESENT_GAP = (
    "Everyone the hub cannot remove stays the whole 90-day term (a guess, max_stay_days), so "
    "more are still there at the end than the 35-day mean stay derived from the same figures "
    "implies."
)


ITALY_PHASE1 = int(_figure("albania_phase1_transfers"))  # 72
ITALY_PHASE1_NOTE = (
    "A reconstruction, not a prediction: the number sent is the capacity given to the policy "
    "and everyone is brought back because brought_back_share is 1, both taken from this "
    "figure. What it checks is the path back: each person brought back claims again at the "
    "start of the system they were taken from, and nobody is decided in Albania."
)


def italy(results: Sequence, scenario: Scenario) -> list[Comparison]:
    """Both phases: offshore processing with everyone brought back (2024-25) and Gjader's
    repatriation centre as a return hub (2025)."""
    offshore = [r.summary["policies"]["offshore"] for r in results]
    first = "Italy-Albania, phase 1 (2024-25)"
    phase1 = [
        Comparison(
            first,
            figure,
            float(ITALY_PHASE1),
            *_constant([o[key] for o in offshore]),
            INPUT,
            "albania_phase1_transfers",
            ITALY_PHASE1_NOTE if key == "relocations" else "",
        )
        for figure, key in (
            ("sent to Albania for processing, October 2024 to January 2025", "relocations"),
            ("brought back to Italy after the court rulings", "brought_back"),
        )
    ]
    name = "Italy-Albania, phase 2 CPR (2025)"
    hubs = [r.summary["policies"]["return_hubs"] for r in results]
    sent = int(sum(h["transfers"] for h in hubs))

    def share(counts: Callable[[dict], float]) -> tuple[float, float, float]:
        return binomial_prediction(int(sum(counts(h) for h in hubs)), sent, ITALY_TRANSITED)

    brought_back = ITALY_TRANSITED - ITALY_PRESENT - ITALY_REPATRIATED - ITALY_RELEASED
    rows = [
        (
            "sent to the centre, April to October 2025",
            ITALY_TRANSITED,
            poisson_prediction([h["transfers"] for h in hubs]),
            INPUT,
            "The transfer rate is this count over 183 days: an input, so agreement checks only "
            "that the hub's places (96) did not bind.",
        ),
        (
            "repatriated from the centre",
            ITALY_REPATRIATED,
            share(lambda h: h["onward_removals"]),
            KNOWN_GAP,
            ITALY_REPATRIATION_GAP,
        ),
        (
            "released when their detention expired",
            ITALY_RELEASED,
            share(lambda h: h["released_to_uk"] + h["released_locally"]),
            PREDICTION,
            "Depends on the 90-day term, a guess.",
        ),
        (
            "brought back to Italy otherwise (140 - 27 - 37 - 40)",
            brought_back,
            share(lambda h: h["returns_to_uk"]),
            INPUT,
            "returned_share (0.32) is 36 / 113 from the same figures: an input.",
        ),
        (
            "still in the centre at the end",
            ITALY_PRESENT,
            share(lambda h: h["final_in_hub"]),
            KNOWN_GAP,
            ITALY_PRESENT_GAP,
        ),
    ]
    return phase1 + [
        Comparison(name, figure, value, mean, low, high, role, "albania_cpr_transited", note)
        for figure, value, (mean, low, high), role, note in rows
    ]


#: (scenario file, comparisons) of each replay, in the order of the report
REPLAYS: list[tuple[str, Callable[[Sequence, Scenario], list[Comparison]]]] = [
    (RWANDA, rwanda),
    (ITALY, italy),
]


def run_replays(
    replications: int = 20, seed: int = 1, directory: Path = DIRECTORY
) -> list[Comparison]:
    """Run every replay and compare it with its published outcome."""
    rows: list[Comparison] = []
    for file, compare in REPLAYS:
        scenario = Scenario.from_yaml(Path(directory) / file)
        results = run_many([(scenario, seed, r) for r in range(replications)])
        rows += compare(results, scenario)
    return rows


# ------------------------------------------------------------------------- the report


def _shown(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "GBP":
        return f"£{value / 1e6:,.1f}m"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def markdown(rows: Sequence[Comparison], replications: int, seed: int) -> str:
    """The replays' section of docs/validation.md."""
    lines = [
        "",
        "## Replays: the schemes that ran",
        "",
        "Two scenarios in `scenarios/history/` replay policies that ran, configured only from "
        "the published figures and the dates of what happened (no tuning to the outcome), with "
        f"{replications} replications (seed {seed}): the UK-Rwanda partnership from its "
        "signing on 14 April 2022 to its scrapping in July 2024 (`rwanda_2022_2024.yaml`), "
        "and Italy's centres in Albania in both phases (`italy_albania_2024_2025.yaml`): "
        "offshore processing of people rescued at sea, October 2024 to January 2025, with "
        "everyone brought back after court rulings, and the repatriation centre at Gjader, "
        "April to October 2025, as a return hub. The model is a UK model: for Italy it "
        "supplies the arrivals phase 1 takes and the system they claim in when brought back, "
        "and the pool the hub draws from (people refused and not removed, standing for those "
        "Italy held with expulsion orders) with whether their countries take them back; the "
        "UK system around the centres is the 2023-2025 history and is not compared.",
        "",
        "A figure's *role* says what the comparison can show: a *prediction* is not an input of "
        "the replay; an *input* was derived from the same published figure, so agreement only "
        "checks the mechanism; a *known gap* is a miss whose cause is written below it. "
        "Intervals are 95%: for a count, a prediction interval for one history like the one "
        "published; for money, the confidence interval of the mean (see "
        "`simulation/validation/replays.py`).",
        "",
        "| replay | figure | published | simulated | 95% interval | role | result | source key |",
        "| --- | --- | ---: | ---: | --- | --- | --- | --- |",
    ]
    for row in rows:
        within = row.within
        result = "n/a" if within is None else ("within" if within else "**outside**")
        interval = (
            "n/a"
            if row.low is None
            else f"{_shown(row.low, row.unit)} to {_shown(row.high, row.unit)}"
        )
        lines.append(
            f"| {row.replay} | {row.figure} | {_shown(row.published, row.unit)} | "
            f"{_shown(row.simulated, row.unit)} | {interval} | {row.role} | {result} | "
            f"`{row.data_key}` |"
        )
    lines += ["", "Notes:", ""]
    for row in rows:
        if row.note:
            lines.append(f"- *{row.replay}, {row.figure}*: {row.note}")
    return "\n".join(lines) + "\n"


def section(replications: int = 20, seed: int = 1, directory: Path = DIRECTORY) -> str:
    """Run the replays and return their Markdown section."""
    return markdown(run_replays(replications, seed, directory), replications, seed)
