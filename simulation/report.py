"""Readable text tables of results for the terminal."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

#: (heading, [(metric key in the flat summary, label, unit)])
SECTIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "Cost (constant prices)",
        [
            ("total_cost_gbp", "total", "gbp"),
            ("total_cost_discounted_gbp", "total, discounted", "gbp"),
        ],
    ),
    (
        "Backlog at the end date",
        [
            ("final_backlog_initial", "awaiting an initial decision", "people"),
            ("final_backlog_appeals", "appeals pending", "people"),
            ("final_are_in_uk", "appeal rights exhausted, in UK", "people"),
        ],
    ),
    (
        "Hotels",
        [
            ("peak_hotel_population", "peak population", "people"),
            ("final_hotel_population", "population at the end date", "people"),
            ("final_supported_population", "all supported, at the end date", "people"),
        ],
    ),
    (
        "Outcomes over the run",
        [
            ("claims", "new claims", "people"),
            ("grants_initial", "granted at initial decision", "people"),
            ("appeals_allowed", "granted on appeal", "people"),
            ("removals_enforced", "enforced removals", "people"),
            ("returns_voluntary", "voluntary returns", "people"),
            ("absconded", "absconded", "people"),
        ],
    ),
    (
        "Waiting (claims made in the run)",
        [
            ("days_to_initial_decision_p50", "days to initial decision, median", "days"),
            ("days_to_initial_decision_p90", "days to initial decision, 90th pct", "days"),
            ("days_to_final_outcome_p50", "days to final outcome, median", "days"),
        ],
    ),
]


def number(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "gbp":
        magnitude = abs(value)
        if magnitude >= 1e9:
            return f"£{value / 1e9:,.2f}bn"
        if magnitude >= 1e6:
            return f"£{value / 1e6:,.1f}m"
        return f"£{value:,.0f}"
    if unit == "days":
        return f"{value:,.0f}"
    return f"{value:,.0f}"


def _cost_rows(flat: Mapping[str, float]) -> list[tuple[str, str, str]]:
    prefix = "cost_by_category_gbp."
    return [
        (key, "  " + key[len(prefix) :].replace("_", " "), "gbp")
        for key in flat
        if key.startswith(prefix)
    ]


def summary_table(flat: Mapping[str, float], title: str) -> str:
    """One replication: a label and a value per line, grouped in sections."""
    lines = [title, "=" * len(title)]
    for heading, rows in SECTIONS:
        if heading.startswith("Cost"):
            rows = rows + _cost_rows(flat)
        lines.append(heading)
        for key, label, unit in rows:
            if key in flat:
                lines.append(f"  {label:<40} {number(flat[key], unit):>16}")
    return "\n".join(lines)


def replications_table(summary: pd.DataFrame, title: str) -> str:
    """Several replications: mean and 95% confidence interval per metric."""
    by_metric = summary.set_index("metric")
    n = int(by_metric["n"].iloc[0]) if len(by_metric) else 0
    lines = [
        title,
        "=" * len(title),
        f"{'':42} {'mean':>16}   {'95% CI (' + str(n) + ' runs)':>32}",
    ]
    flat_keys = {k: None for k in by_metric.index}
    for heading, rows in SECTIONS:
        if heading.startswith("Cost"):
            rows = rows + _cost_rows(flat_keys)
        lines.append(heading)
        for key, label, unit in rows:
            if key not in by_metric.index:
                continue
            row = by_metric.loc[key]
            ci = f"{number(row['ci_low'], unit)} to {number(row['ci_high'], unit)}"
            lines.append(f"  {label:<40} {number(row['mean'], unit):>16}   {ci:>32}")
    return "\n".join(lines)
