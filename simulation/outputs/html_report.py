"""A comparison as one self-contained HTML page, for sending to someone without the library.

The page carries everything in itself: its figures as embedded PNGs, its style inline, no
script and nothing fetched from elsewhere, so it opens from an e-mail attachment or a
classroom without internet. It gives the paired differences and each scenario's daily series
(:mod:`simulation.outputs.figures`), the comparison table (each scenario's mean and the
paired difference from the first with 95% confidence intervals), the assumptions that drive
the headline, and every figure each scenario uses with its source, guesses listed first.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from ..core.version import package_version
from ..inputs.published import sources_table
from ..inputs.scenario import Scenario
from .figures import embedded_png
from .report import number

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: 1em 0; }
.note { color: #555; font-size: 0.9em; }
.guess { background: #fff6e0; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def comparison_rows(table: pd.DataFrame, reference: str) -> str:
    """The comparison table as HTML: per figure, the reference's mean, then each other
    scenario's mean and its paired difference from the reference with the 95% CI; figures no
    scenario has are left out."""
    from .plotting.labels import metric_label

    rows = []
    for metric, group in table.groupby("metric", sort=False):
        if group["mean"].isna().all():
            continue
        label = metric_label(str(metric))
        for _, row in group.iterrows():
            unit = label.unit
            if row["scenario"] == reference:
                change, ci = "", ""
            else:
                change = number(row["diff_mean"], unit)
                ci = f"{number(row['diff_ci_low'], unit)} to {number(row['diff_ci_high'], unit)}"
            first = _e(label.text) if row["scenario"] == reference else ""
            rows.append(
                f"<tr><td>{first}</td><td class=text>{_e(row['scenario'])}</td>"
                f"<td>{_e(number(row['mean'], unit))}</td><td>{_e(change)}</td>"
                f"<td>{_e(ci)}</td></tr>"
            )
    head = (
        "<tr><th>figure</th><th>scenario</th><th>mean</th>"
        f"<th>difference from {_e(reference)}</th><th>95% CI</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def sources_section(name: str, scenario: Scenario) -> str:
    """Every sourced figure of ``scenario``: path, value, kind and reference; guesses first."""
    rows = sources_table(scenario)
    rows.sort(key=lambda row: row.source.kind != "guess")
    body = []
    for row in rows:
        source = row.source
        reference = ", ".join(
            part for part in (source.publisher, source.title, source.date) if part
        )
        if source.url:
            reference += f' <a href="{_e(source.url)}">{_e(source.url)}</a>'
        elif not reference and row.figure is not None:
            reference = _e(row.figure.reference())
        else:
            reference = _e(reference)
        css = ' class="guess"' if source.kind == "guess" else ""
        body.append(
            f"<tr{css}><td>{_e(row.path)}</td><td class=text>{_e(_short(row.value))}</td>"
            f"<td class=text>{_e(source.kind)}</td><td class=text>{reference}"
            + (f'<div class="note">{_e(source.note)}</div>' if source.note else "")
            + "</td></tr>"
        )
    guesses = sum(row.source.kind == "guess" for row in rows)
    return (
        f"<h3>{_e(name)}</h3><p>{len(rows)} sourced figures, {guesses} of them guesses "
        "(no published figure: vary them before relying on a result).</p>"
        "<table><tr><th>figure</th><th>value</th><th>kind</th><th>source</th></tr>"
        + "".join(body)
        + "</table>"
    )


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def comparison_page(
    title: str,
    table: pd.DataFrame,
    figures: Mapping[str, Any],
    scenarios: Mapping[str, Scenario],
    assumptions: Sequence[str],
    horizons: Mapping[str, str],
    replications: int,
    seed: int,
) -> str:
    """The page as text (see the module docstring); ``figures`` are matplotlib Figures by
    name (closed once embedded)."""
    reference = next(iter(scenarios))
    images = "".join(
        f'<img alt="{_e(name.replace("_", " "))}" src="{embedded_png(figure)}">'
        for name, figure in figures.items()
    )
    runs = "".join(f"<li>{_e(name)}: {_e(horizon)}</li>" for name, horizon in horizons.items())
    said = "".join(f"<li>{_e(line)}</li>" for line in assumptions)
    sources = "".join(sources_section(name, scenario) for name, scenario in scenarios.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{_e(title)}</h1>
<p>{replications} paired replications on common random numbers (seed {seed}): every scenario
sees the same arrivals and the same people, so a difference is the scenarios', not chance's.
Differences are from <b>{_e(reference)}</b>, with 95% confidence intervals over the
replications.</p>
<ul>{runs}</ul>
<h2>Figures</h2>{images}
<h2>The comparison</h2>{comparison_rows(table, reference)}
<h2>Assumptions behind these figures</h2><ul>{said}</ul>
<h2>Sources</h2>{sources}
<p class="note">Made by asylum-policy-sim {_e(package_version())} on {date.today()}.</p>
</body></html>
"""
