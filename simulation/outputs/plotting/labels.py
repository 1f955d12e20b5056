"""What a metric is called on a chart and the unit its axis is in.

Summary outcomes take their label and unit from :mod:`simulation.outputs.outcomes`. Daily
series (:mod:`simulation.outputs.results`) are stocks of people at midnight, ``cumulative_*``
counts of the events of the same name since the start date, and ``cumulative_cost*_gbp``
spending in pounds.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import outcomes

#: the stocks every run's series has, as a reader would name them
STOCKS = {
    "awaiting_decision": "awaiting an initial decision",
    "appeals_pending": "appeals pending",
    "are_in_uk": "appeal rights exhausted, in UK",
    "in_hotel": "in hotels",
    "in_dispersal": "in dispersal housing",
    "in_large_sites": "in large sites",
    "supported_total": "in asylum accommodation",
}

_EVENTS = {o.name: o for o in outcomes.EVENT_OUTCOMES}

#: what a printed label means without its report section around it ("total" -> "cost: total")
_SECTION_NOUN = {
    outcomes.COST: "cost",
    outcomes.CLAIM_COST: "whole-life cost of a claim",
    outcomes.BACKLOG: "backlog",
    outcomes.HOTELS: "hotels",
}


@dataclass(frozen=True)
class Label:
    """A metric's name on a chart and its unit (an :data:`outcomes.Unit`)."""

    text: str
    unit: str


def _words(name: str) -> str:
    return name.replace("_", " ").replace(".", ": ")


def metric_label(metric: str) -> Label:
    """The label and unit of a summary outcome or a daily series."""
    declared = outcomes.declared(metric)
    if declared is not None:
        text = declared.label_for(metric)
        if text is None:
            return Label(_words(metric), declared.unit)
        noun = _SECTION_NOUN.get(declared.section or "")
        return Label(f"{noun}: {text}" if noun else text, declared.unit)
    if metric in STOCKS:
        return Label(STOCKS[metric], "people")
    if metric == "cumulative_cost_gbp":
        return Label("spending since the start date", "gbp")
    if metric.startswith("cumulative_cost_") and metric.endswith("_gbp"):
        category = metric.removeprefix("cumulative_cost_").removesuffix("_gbp")
        return Label(f"spending since the start date: {_words(category)}", "gbp")
    if metric.startswith("cumulative_"):
        event = metric.removeprefix("cumulative_")
        known = _EVENTS.get(event)
        text = (known.label if known and known.label else _words(event)) + " since the start"
        return Label(text, "people")
    if metric.endswith("_gbp"):
        return Label(_words(metric.removesuffix("_gbp")), "gbp")
    return Label(_words(metric), "people")


def parameter_label(parameter: str) -> Label:
    """A scenario parameter (a dotted path) on an axis: money for a field in pounds, a share
    for a ``*_share``, a plain number otherwise."""
    name = parameter.removeprefix("param:")
    leaf = name.split(".")[-1]
    if any(part.endswith("_gbp") for part in name.split(".")):
        unit = "gbp"
    elif leaf.endswith("_share") or leaf.endswith("_rate"):
        unit = "share"
    else:
        unit = "number"
    return Label(name, unit)
