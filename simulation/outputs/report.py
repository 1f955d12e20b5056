"""Readable text tables of results for the terminal."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from . import outcomes

Row = tuple[str, str, str]  # (key in the flat summary, label, unit)

#: Policy figures that are not counts of people (a day, a factor): a paired difference of
#: them means little, so the comparison leaves them out. Policies do not yet declare the
#: units of their own figures (outcomes.py declares them as ``varies``).
_NOT_COUNTS = ("halt_day", "multiplier")


def rows(section: str, keys: Iterable[str], sort: bool = False) -> list[Row]:
    """The rows of ``section`` for a table of ``keys``: the section's single outcomes in the
    order declared, then members of its families (in ``keys``' order, or sorted), indented."""
    keys = list(keys)
    single = [(o.name, o.label, o.unit) for o in outcomes.in_section(section) if not o.is_pattern]
    members = []
    for key in sorted(keys) if sort else keys:
        outcome = outcomes.declared(key)
        if outcome is not None and outcome.is_pattern and outcome.section == section:
            members.append((key, "  " + outcome.label_for(key), outcome.unit))
    return single + members


def _table_sections(keys: Iterable[str], sort: bool, policies: bool) -> list[tuple[str, list[Row]]]:
    """Every section with its rows; the policies' section only where asked and not empty,
    and no section none of whose outcomes is in ``keys`` (whole-life costs in a run made
    without them)."""
    keys = list(keys)
    present = set(keys)
    sections = []
    for heading in outcomes.SECTIONS:
        found = rows(heading, keys, sort)
        if heading == outcomes.POLICIES:
            found = [r for r in found if not r[0].endswith(_NOT_COUNTS)]
            if not (policies and found):
                continue
        if not any(key in present for key, _label, _unit in found):
            continue
        sections.append((heading, found))
    return sections


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


def summary_table(flat: Mapping[str, float], title: str) -> str:
    """One replication: a label and a value per line, grouped in sections."""
    lines = [title, "=" * len(title)]
    for heading, section in _table_sections(flat, sort=False, policies=False):
        lines.append(heading)
        for key, label, unit in section:
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
    for heading, section in _table_sections(by_metric.index, sort=False, policies=False):
        lines.append(heading)
        for key, label, unit in section:
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
        sections = _table_sections(metrics, sort=True, policies=True)
        for heading, section in sections:
            lines.append(heading)
            for key, label, unit in section:
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
