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


def _signed(value: float, unit: str) -> str:
    text = number(abs(value), unit)
    if text in ("n/a", "0", "£0"):
        return text
    return ("+" if value > 0 else "-") + text


def comparison_table(table: pd.DataFrame) -> str:
    """For each scenario after the first: its means beside the reference's, and the paired
    difference with its 95% confidence interval."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    reference = scenarios[0]
    by = table.set_index(["scenario", "metric"])
    n = int(table["n"].iloc[0])
    metrics = set(table["metric"])
    blocks = []
    for name in scenarios[1:]:
        title = f"{name}  vs  {reference}  ({n} paired replications)"
        lines = [title, "=" * len(title)]
        lines.append(
            f"{'':42} {'reference':>14} {'scenario':>14} {'difference':>14}   {'95% CI':>30}"
        )
        cost_rows = [
            (m, "  " + m.split(".", 1)[1].replace("_", " "), "gbp")
            for m in sorted(metrics)
            if m.startswith("cost_by_category_gbp.")
        ]
        policy_rows = [
            (m, "  " + m.split(".", 1)[1].replace("_", " ").replace(".", ": "), "people")
            for m in sorted(metrics)
            if m.startswith("policies.") and not m.endswith(("halt_day", "multiplier"))
        ]
        sections = [(h, rows + cost_rows if h.startswith("Cost") else rows) for h, rows in SECTIONS]
        if policy_rows:
            sections.append(("Policies", policy_rows))
        for heading, rows in sections:
            lines.append(heading)
            for key, label, unit in rows:
                if (name, key) not in by.index:
                    continue
                ours, theirs = by.loc[(name, key)], by.loc[(reference, key)]
                ci = (
                    f"{_signed(ours['diff_ci_low'], unit)} to {_signed(ours['diff_ci_high'], unit)}"
                )
                lines.append(
                    f"  {label[:40]:<40} {number(theirs['mean'], unit):>14} "
                    f"{number(ours['mean'], unit):>14} {_signed(ours['diff_mean'], unit):>14}"
                    f"   {ci:>30}"
                )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
