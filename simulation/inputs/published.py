"""The published UK figures that scenarios cite, and every sourced figure of a scenario.

The figures ship with the package (``simulation/data/uk_asylum_figures.csv``, with commentary
in ``uk_asylum_figures.md`` beside it), one row per figure: its key, the value as published,
unit, period and reference. A scenario's ``sources:`` entry names a row by ``data_key``::

    >>> figure("hotel_cost_ppn_hac_2025").number  # doctest: +SKIP
    144.98

What a citation promises depends on its kind. ``published`` with a ``data_key``: the
scenario's number *is* that figure (the same number, to rounding). ``derived``: the number is
computed from the figure, or read from its description rather than its value, and the note
says how. :func:`citation_problems` checks both promises that a program can check: the key
exists, and a published number equals its figure.

:func:`sources_table` lists every sourced figure of a scenario with its value there, its
source and the figure it cites; :func:`format_sources` renders that list as text (the
``asylum-sim sources`` command).
"""

from __future__ import annotations

import csv
import datetime
import math
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from ..core.errors import InputError, Problem
from . import paths
from .provenance import Source
from .scenario import Scenario

#: Where the figures are, as a reader of the repository finds them.
DATA_FILE = "simulation/data/uk_asylum_figures.csv"
_PACKAGE, _FOLDER, _CSV = "simulation", "data", "uk_asylum_figures.csv"

#: A plain number as published: "299", "0.42", "-0.95", "1,234", "1,234.5".
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")

#: Relative difference below which a scenario's number is the published one: rounding only
#: (a YAML float read back, 0.1 + 0.2); any real difference is far larger.
REL_TOL = 1e-9


@dataclass(frozen=True)
class Figure:
    """One published figure: a row of ``simulation/data/uk_asylum_figures.csv``."""

    key: str
    value: str  # as published: "299", "0.42", "3300-5300", ">10", "2025-05-15"
    number: float | None  # the value when it is a plain number, else None
    unit: str
    period: str
    title: str
    publisher: str
    date: str  # publication date, as precise as known
    url: str
    confirmed: bool  # the number was seen in the source at the URL given
    use: str  # how the model uses it, and remarks

    def reference(self) -> str:
        """Publisher, title, date and address, as one line."""
        return _reference(self.publisher, self.title, self.date, self.url)


def parse_number(text: str) -> float | None:
    """The number a published value states, if it is a plain number; else None.

    >>> parse_number("1,234"), parse_number("0.42"), parse_number("3300-5300")
    (1234.0, 0.42, None)
    """
    text = text.strip()
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    return float(text.replace(",", ""))


@cache
def figures() -> Mapping[str, Figure]:
    """Every shipped figure by key (read once, read-only)."""
    resource = files(_PACKAGE).joinpath(_FOLDER, _CSV)
    with resource.open("r", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table: dict[str, Figure] = {}
    for row in rows:
        key = row["key"].strip()
        if key in table:
            raise InputError(DATA_FILE, [(key, "the key appears twice")])
        table[key] = Figure(
            key=key,
            value=row["value"].strip(),
            number=parse_number(row["value"]),
            unit=row["unit"].strip(),
            period=row["period"].strip(),
            title=row["source_title"].strip(),
            publisher=row["source_publisher"].strip(),
            date=row["source_date"].strip(),
            url=row["source_url"].strip(),
            confirmed=row["confirmed"].strip().lower() == "yes",
            use=row["use"].strip(),
        )
    return MappingProxyType(table)


def figure(key: str) -> Figure:
    """The figure with this key; an InputError naming the key if there is none."""
    try:
        return figures()[key]
    except KeyError:
        raise InputError(
            DATA_FILE, [(key, f"no published figure with the key '{key}' in {DATA_FILE}")]
        ) from None


# --------------------------------------------------------------------- a scenario's figures


@dataclass(frozen=True)
class SourcedFigure:
    """One entry of a scenario's ``sources:`` table, with the value it describes."""

    path: str  # dotted path of the field (or the part of the scenario) the source covers
    value: Any  # the scenario's value there: a number, a date, a schedule, a mapping, a list
    source: Source
    figure: Figure | None  # the published figure its data_key names, if it names one

    @property
    def matches(self) -> bool:
        """True if the scenario's value is the cited figure's value (to rounding)."""
        return self.figure is not None and same_value(self.value, self.figure)


def same_value(value: Any, published: Figure) -> bool:
    """True if a scenario's ``value`` is what ``published`` states (a number to within
    REL_TOL, a date or a word exactly); a schedule, list or mapping never is."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return published.number is not None and math.isclose(
            value, published.number, rel_tol=REL_TOL, abs_tol=0.0
        )
    if isinstance(value, datetime.date):
        return value.isoformat() == published.value
    if isinstance(value, str):
        return value == published.value
    return False


def _scenario_data(scenario: Scenario) -> dict[str, Any]:
    return scenario.model_dump(mode="python", exclude={"sources", "uncertainty"})


def _field_order(data: Mapping[str, Any]) -> dict[str, int]:
    """The position of every path (leaf or not) in the scenario's own field order."""
    order: dict[str, int] = {}
    for index, (leaf, _value) in enumerate(paths.leaves(data)):
        parts = leaf.split(".")
        for n in range(1, len(parts) + 1):
            order.setdefault(".".join(parts[:n]), index)
    return order


def _unknown_keys(sources: Mapping[str, Source]) -> list[Problem]:
    known = figures()
    return [
        (
            f"sources.{path}.data_key",
            f"'{source.data_key}' is not a figure in {DATA_FILE}",
        )
        for path, source in sources.items()
        if source.data_key and source.data_key not in known
    ]


def sources_table(scenario: Scenario) -> list[SourcedFigure]:
    """Every entry of the scenario's ``sources:`` with its value and cited figure, in the
    order of the scenario's fields. Raises InputError if a data_key names no figure."""
    unknown = _unknown_keys(scenario.sources)
    if unknown:
        raise InputError(scenario.name, unknown)
    data = _scenario_data(scenario)
    order = _field_order(data)
    known = figures()
    rows = [
        SourcedFigure(
            path=path,
            value=paths.get(data, path),
            source=source,
            figure=known[source.data_key] if source.data_key else None,
        )
        for path, source in scenario.sources.items()
    ]
    return sorted(rows, key=lambda row: order.get(row.path, len(order)))


def citation_problems(scenario: Scenario) -> list[Problem]:
    """What is wrong with a scenario's citations: data keys that name no figure, and
    ``published`` numbers that are not the figure they cite (cite the right figure, or make
    the entry ``derived`` and give the arithmetic in its note)."""
    problems = _unknown_keys(scenario.sources)
    if problems:
        return problems
    for row in sources_table(scenario):
        if row.source.kind == "published" and row.figure is not None and not row.matches:
            problems.append(
                (
                    f"sources.{row.path}",
                    f"kind published, but the value {_shown(row.value)} is not the figure "
                    f"{row.figure.key} ({_figure_value(row.figure)}); cite the figure it is, "
                    "or make the entry derived and say how in its note",
                )
            )
    return problems


# --------------------------------------------------------------------------------- text


def _reference(*parts: str | None) -> str:
    return ", ".join(part for part in parts if part)


def _number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}"


def _shown(value: Any) -> str:
    """A scenario value as a reader would write it: 120,000,000; 2026-04-01; a schedule as
    'date: value' pairs; lists and mappings flattened."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_shown(k)}: {_shown(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def _figure_value(published: Figure) -> str:
    return " ".join(part for part in (published.value, published.unit) if part)


_LABEL = 12  # width of the label column of format_sources


def _wrapped(label: str, text: str, width: int) -> list[str]:
    head = f"  {label:<{_LABEL - 2}}"
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=head,
        subsequent_indent=" " * _LABEL,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [head.rstrip()]


def _status(row: SourcedFigure) -> str:
    if row.matches:
        return "the value used"
    if row.source.kind == "published":
        return "DIFFERS from the value used"
    if row.source.kind == "derived":
        return "the value used is derived from it (see the note)"
    return "not the value used (see the note)"


def format_sources(rows: Iterable[SourcedFigure], width: int = 100) -> str:
    """The sourced figures as text, one block per figure: the path and the scenario's value;
    the kind and reference of its source; the published figure it cites (key, value, unit,
    period, whether it is the value used, and the figure's own reference where it differs);
    the note. A last line counts the figures by kind."""
    rows = list(rows)
    lines: list[str] = []
    for row in rows:
        source, published = row.source, row.figure
        lines += textwrap.wrap(
            f"{row.path} = {_shown(row.value)}",
            width=width,
            subsequent_indent=" " * 4,
            break_on_hyphens=False,
            break_long_words=False,
        )
        reference = _reference(source.publisher, source.title, source.date, source.url)
        if published is not None and not reference:
            reference = published.reference()
        lines += _wrapped(source.kind, reference, width)
        if published is not None:
            text = (
                f"{published.key} = {_figure_value(published)}, period {published.period}: "
                f"{_status(row)}"
            )
            if not published.confirmed:
                text += "; NOT CONFIRMED in its source"
            lines += _wrapped("figure", text, width)
            if published.reference() != reference:
                lines += _wrapped("", published.reference(), width)
        if source.note:
            lines += _wrapped("note", " ".join(source.note.split()), width)
        lines.append("")
    kinds = Counter(row.source.kind for row in rows)
    cited = sum(row.figure is not None for row in rows)
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    lines += textwrap.wrap(
        f"{len(rows)} sourced figures ({summary}); {cited} cite a published figure in {DATA_FILE}.",
        width=width,
    )
    return "\n".join(lines)
