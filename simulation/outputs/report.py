"""Readable text tables of results for the terminal."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd

from . import assumptions, outcomes

Row = tuple[str, str, str]  # (key in the flat summary, label, unit)

#: Policy figures that are not counts of people (a day, a factor): a paired difference of
#: them means little, so the comparison leaves them out. Policies do not yet declare the
#: units of their own figures (outcomes.py declares them as ``varies``).
_NOT_COUNTS = ("halt_day", "multiplier")

#: The narrowest label column; a longer label widens the column, it is never cut.
LABEL_WIDTH = 40

#: A span of years in a scenario's name, such as "2026-2035".
_NAMED_YEARS = re.compile(r"\b(\d{4})\s*[-\u2013]\s*(\d{4})\b")


def _length(start: date, end: date) -> str:
    """How long a run from ``start`` to ``end`` is: whole years or months by the calendar,
    otherwise days."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day == start.day and months > 0:
        count, unit = (months // 12, "year") if months % 12 == 0 else (months, "month")
        return f"{count} {unit}{'s' if count != 1 else ''}"
    days = (end - start).days
    return f"{days:,} day{'s' if days != 1 else ''}"


def horizon_text(manifest: Mapping[str, Any]) -> str:
    """The horizon a run simulated, read from its manifest: "2026-01-01 to 2028-01-01
    (2 years)" (the run ends at the start of the end date)."""
    start = date.fromisoformat(manifest["start_date"])
    end = date.fromisoformat(manifest["end_date"])
    return f"{start} to {end} ({_length(start, end)})"


def run_title(manifest: Mapping[str, Any]) -> str:
    """The title of a run's report: the scenario's name, the horizon actually simulated and
    the seed. A name that gives other years than the run covers ("UK baseline 2026-2035" run
    for two years) says which years were run."""
    name = str(manifest.get("scenario", {}).get("name", "scenario"))
    start = date.fromisoformat(manifest["start_date"])
    last = date.fromisoformat(manifest["end_date"]) - timedelta(days=1)
    named = _NAMED_YEARS.search(name)
    if named and (int(named[1]), int(named[2])) != (start.year, last.year):
        span = f"{start.year}" if start.year == last.year else f"{start.year}-{last.year}"
        within = int(named[1]) <= start.year and last.year <= int(named[2])
        name = f"{name} (run for {span}{' only' if within else ''})"
    return f"{name}: {horizon_text(manifest)}, seed {manifest['seed']}"


def _label_width(labels: Iterable[str]) -> int:
    return max([LABEL_WIDTH, *(len(label) for label in labels)])


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


def _value_text(key: str, value: float, unit: str) -> str:
    """As :func:`number`, except that a waiting-time percentile the run never reached (fewer
    claims finished than the percentile needs) says so."""
    undefined = value is None or (isinstance(value, float) and math.isnan(value))
    if undefined and key.startswith("days_to_") and re.search(r"_p\d+$", key):
        return "not reached"
    return number(value, unit)


def summary_table(flat: Mapping[str, float], title: str) -> str:
    """One replication: a label and a value per line, grouped in sections."""
    lines = [title, "=" * len(title)]
    sections = [
        (heading, [row for row in section if row[0] in flat])
        for heading, section in _table_sections(flat, sort=False, policies=False)
    ]
    width = _label_width(label for _h, section in sections for _k, label, _u in section)
    for heading, section in sections:
        lines.append(heading)
        for key, label, unit in section:
            lines.append(f"  {label:<{width}} {_value_text(key, flat[key], unit):>16}")
    return "\n".join(lines)


def replications_table(summary: pd.DataFrame, title: str) -> str:
    """Several replications: mean and 95% confidence interval per metric."""
    by_metric = summary.set_index("metric")
    n = int(by_metric["n"].iloc[0]) if len(by_metric) else 0
    sections = [
        (heading, [row for row in section if row[0] in by_metric.index])
        for heading, section in _table_sections(by_metric.index, sort=False, policies=False)
    ]
    width = _label_width(label for _h, section in sections for _k, label, _u in section)
    lines = [
        title,
        "=" * len(title),
        f"{'':{width + 2}} {'mean':>16}   {'95% CI (' + str(n) + ' runs)':>32}",
    ]
    for heading, section in sections:
        lines.append(heading)
        for key, label, unit in section:
            row = by_metric.loc[key]
            ci = f"{number(row['ci_low'], unit)} to {number(row['ci_high'], unit)}"
            lines.append(f"  {label:<{width}} {number(row['mean'], unit):>16}   {ci:>32}")
    return "\n".join(lines)


def signed(value: float, unit: str) -> str:
    """A difference as text, with its sign (none for zero or n/a)."""
    text = number(abs(value), unit)
    if text in ("n/a", "0", "£0"):
        return text
    return ("+" if value > 0 else "-") + text


def comparison_table(table: pd.DataFrame, horizons: Mapping[str, str] | None = None) -> str:
    """For each scenario after the first: its means beside the reference's, and the paired
    difference with its 95% confidence interval. A policy's rows are left out of a pair
    where neither scenario has the policy; ``horizons`` (each scenario's
    :func:`horizon_text`) puts the horizon run in each title."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    reference = scenarios[0]
    by = table.set_index(["scenario", "metric"])
    n = int(table["n"].iloc[0])
    sections = _table_sections(set(table["metric"]), sort=True, policies=True)
    pairs = []
    for name in scenarios[1:]:
        shown = []
        for heading, section in sections:
            found = []
            for key, label, unit in section:
                if (name, key) not in by.index:
                    continue
                ours, theirs = by.loc[(name, key)], by.loc[(reference, key)]
                if heading == outcomes.POLICIES and _absent(ours) and _absent(theirs):
                    continue  # a policy neither scenario of the pair has
                low, high = signed(ours["diff_ci_low"], unit), signed(ours["diff_ci_high"], unit)
                found.append(
                    (
                        label,
                        _value_text(key, theirs["mean"], unit),
                        _value_text(key, ours["mean"], unit),
                        signed(ours["diff_mean"], unit),
                        "n/a" if low == high == "n/a" else f"{low} to {high}",
                    )
                )
            if found:
                shown.append((heading, found))
        pairs.append((name, shown))
    width = _label_width(
        row[0] for _name, shown in pairs for _heading, found in shown for row in found
    )
    blocks = []
    for name, shown in pairs:
        title = f"{name}  vs  {reference}  ({n} paired replications)"
        if horizons and name in horizons and reference in horizons:
            same = horizons[name] == horizons[reference]
            title += f", {horizons[name]}" + ("" if same else f" against {horizons[reference]}")
        lines = [title, "=" * len(title)]
        lines.append(
            f"{'':{width + 2}} {'reference':>14} {'scenario':>14} {'difference':>14}"
            f"   {'95% CI':>30}"
        )
        for heading, found in shown:
            lines.append(heading)
            for label, theirs, ours, difference, ci in found:
                lines.append(
                    f"  {label:<{width}} {theirs:>14} {ours:>14} {difference:>14}   {ci:>30}"
                )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _absent(row: pd.Series) -> bool:
    """A comparison row with no mean: a figure the scenario does not report."""
    return bool(pd.isna(row["mean"]))


def with_assumptions(report: str, statements: Sequence[str]) -> str:
    """``report`` ending with the assumptions that drive its headline figures
    (:mod:`.assumptions`)."""
    return f"{report}\n\n{assumptions.section(statements)}" if statements else report


def yearly_text(table: pd.DataFrame, kind: str, replications: int = 1) -> str:
    """A table by year (:func:`simulation.outputs.yearly.yearly_table`) as text: a row per
    figure, a column per year; money in GBP millions, people and counts in whole numbers."""
    what = "financial year (April to March)" if kind == "financial" else "calendar year"
    title = f"By {what}" + (f", means of {replications} replications" if replications > 1 else "")
    columns = [str(c) for c in table.index]
    width = max(len(str(name)) for name in table.columns)
    cells = {name: [_yearly_cell(name, value) for value in table[name]] for name in table.columns}
    widths = [
        max(len(column), *(len(cells[name][i]) for name in cells))
        for i, column in enumerate(columns)
    ]

    def line(first: str, values: list[str]) -> str:
        padded = (v.rjust(w) for v, w in zip(values, widths, strict=True))
        return f"  {first:<{width}}  " + "  ".join(padded)

    lines = [title, "-" * len(title), line("", columns)]
    lines.extend(line(name, row) for name, row in cells.items())
    return "\n".join(lines)


def _yearly_cell(name: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if "_gbp" in name:
        return f"£{value / 1e6:,.1f}m"
    return f"{value:,.0f}"
