"""The levers a class argues about: which scenario field each one moves, in what unit, over
what range, and where the figure it starts from comes from.

A lever shows the value the chosen scenario starts with and its source (or "guess"). A field
that changes on dates (judges rise in March 2027 in the baseline) shows its value on the start
date, and moving the lever scales the whole schedule by the same ratio, so the planned steps
keep their proportions. A lever left where the scenario put it changes nothing: the run is the
scenario's own, bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..core.errors import InputError
from ..inputs import paths
from ..inputs.scenario import Scenario


@dataclass(frozen=True)
class Lever:
    """One slider (or switch, for a yes/no field) on the page."""

    name: str  #: the input's name, and its name in the page's address (?hub_capacity=2000)
    path: str  #: the dotted field path in the scenario ("" for the years to simulate)
    label: str
    unit: str
    low: float
    high: float
    step: float
    about: str  #: one line on what the lever does in the model
    policy: str | None = None  #: the policy the scenario must have for the lever to show
    switch: bool = False

    def shows_for(self, scenario: Scenario) -> bool:
        """Whether the lever applies to ``scenario`` (its policy is switched on)."""
        if self.policy is None:
            return True
        config = scenario.policies.get(self.policy)
        return config is not None and config.enabled


YEARS = "years"
#: runs longer than this are offered only through the address (a class waits for the answer)
DEFAULT_YEARS = 5

LEVERS: tuple[Lever, ...] = (
    Lever(
        "hub_capacity",
        "policies.return_hubs.capacity_people",
        "Return-hub places",
        "people at once",
        0,
        5000,
        50,
        "People the hubs abroad hold at once; transfers wait while they are full.",
        policy="return_hubs",
    ),
    Lever(
        "hub_halt_probability",
        "policies.return_hubs.halt_probability",
        "Chance the courts halt the hubs",
        "probability",
        0,
        1,
        0.05,
        "A halt stops transfers; everyone in a hub may then be brought back.",
        policy="return_hubs",
    ),
    Lever(
        "hub_bring_back",
        "policies.return_hubs.bring_back_on_halt",
        "Bring people back after a halt",
        "yes or no",
        0,
        1,
        1,
        "After a halt, people in the hubs are flown back to the UK.",
        policy="return_hubs",
        switch=True,
    ),
    Lever(
        "offshore_deterrence",
        "policies.offshore.deterred_share",
        "Small-boat crossings deterred",
        "share of would-be arrivals",
        0,
        0.5,
        0.01,
        "Share of would-be small-boat arrivals who stay away once the scheme runs.",
        policy="offshore",
    ),
    Lever(
        "offshore_halt_probability",
        "policies.offshore.halt_probability",
        "Chance the courts halt offshoring",
        "probability",
        0,
        1,
        0.05,
        "A halt ends relocations for good, as happened to the Rwanda scheme.",
        policy="offshore",
    ),
    Lever(
        "incentive_payment",
        "policies.voluntary_return.payment_gbp",
        "Voluntary-return payment",
        "£ per person",
        250,
        10000,
        250,
        "Paid to a person with no right to stay who agrees to leave.",
        policy="voluntary_return",
    ),
    Lever(
        "uptake_elasticity",
        "policies.voluntary_return.elasticity",
        "Uptake elasticity",
        "% more departures per 1% more pay",
        0,
        1.5,
        0.05,
        "How strongly departures respond to a bigger payment; never measured.",
        policy="voluntary_return",
    ),
    Lever(
        "caseworkers",
        "decisions.caseworkers_fte",
        "Caseworkers",
        "full-time equivalents",
        500,
        6000,
        50,
        "Home Office staff deciding claims; fewer means a longer wait for a decision.",
    ),
    Lever(
        "judges",
        "appeals.judges_fte",
        "Tribunal judges on asylum appeals",
        "full-time equivalents",
        50,
        800,
        5,
        "Judge time hearing appeals; planned rises later in the run keep their proportion.",
    ),
    Lever(
        "dispersal_beds",
        "accommodation.dispersal.capacity_people",
        "Dispersal beds",
        "people",
        20000,
        150000,
        1000,
        "Cheaper housing in the community; everyone it cannot take goes to a hotel.",
    ),
    Lever(
        YEARS,
        "",
        "Years to simulate",
        "years",
        1,
        10,
        1,
        "How long the run goes on from the scenario's start date.",
    ),
)

BY_NAME = {lever.name: lever for lever in LEVERS}


def shown(scenario: Scenario) -> list[Lever]:
    """The levers of ``scenario``, in page order."""
    return [lever for lever in LEVERS if lever.shows_for(scenario)]


def start_value(scenario: Scenario, lever: Lever) -> float:
    """The value the lever starts at: the scenario's figure on its start date (its years,
    up to :data:`DEFAULT_YEARS`, for the years lever)."""
    if lever.name == YEARS:
        years = scenario.horizon_days / 365.25
        return float(min(DEFAULT_YEARS, max(1, round(years))))
    value = paths.get(scenario.to_dict(), lever.path)
    if isinstance(value, Mapping):
        return float(_on(value, scenario.start_date))
    return float(value)


def _on(schedule: Mapping[date, float], day: date) -> float:
    """A dated schedule's value on ``day`` (the first value before its first date)."""
    ordered = sorted(schedule.items())
    value = ordered[0][1]
    for when, amount in ordered:
        if when <= day:
            value = amount
    return value


def slider_range(lever: Lever, value: float) -> tuple[float, float]:
    """The lever's range, widened to take in ``value`` (a scenario file or the address may
    go beyond the usual range; the library decides what is allowed)."""
    return min(lever.low, value), max(lever.high, value)


def source_text(scenario: Scenario, lever: Lever) -> str:
    """Where the lever's starting figure comes from: "guess", or the publisher, title and
    date of its source, from the scenario's ``sources``."""
    if lever.name == YEARS:
        return "a choice"
    source = _source(scenario, lever.path)
    if source is None:
        return "no source given"
    kind = source.kind
    if kind == "guess":
        return "guess"
    if kind in ("assumption", "override"):
        return kind
    cited = ", ".join(str(p) for p in (source.publisher, source.title, source.date) if p)
    return f"{kind}: {cited}" if cited else kind


def _source(scenario: Scenario, path: str) -> Any:
    """The source of ``path``, or of the nearest enclosing path that has one."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        found = scenario.sources.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


def overrides(scenario: Scenario, values: Mapping[str, float]) -> dict[str, Any]:
    """The field values that setting ``values`` (lever name -> value) means for
    ``scenario``; a lever at its starting value, or one the scenario does not show, adds
    nothing."""
    data = scenario.to_dict()
    changed: dict[str, Any] = {}
    for name, value in values.items():
        lever = BY_NAME[name]
        if lever.name == YEARS or not lever.shows_for(scenario):
            continue
        if lever.switch:
            if bool(value) != bool(paths.get(data, lever.path)):
                changed[lever.path] = bool(value)
            continue
        if value == start_value(scenario, lever):
            continue
        current = paths.get(data, lever.path)
        if isinstance(current, Mapping):
            start = _on(current, scenario.start_date)
            ratio = value / start if start else None
            changed[lever.path] = (
                {when: amount * ratio for when, amount in current.items()}
                if ratio is not None
                else value
            )
        else:
            changed[lever.path] = value
    return changed


def apply(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """``scenario`` with the levers set (and run for the years lever's years); raises the
    library's :class:`InputError` for values it refuses."""
    changed = overrides(scenario, values)
    if changed:
        scenario = scenario.with_overrides(changed, by="set in the demo")
    years = values.get(YEARS)
    if years is not None:
        scenario = scenario.with_years(years)
    return scenario


def without_policies(scenario: Scenario) -> Scenario:
    """The same scenario with every policy switched off: the baseline it is compared with,
    on the same random numbers."""
    on = [name for name, config in scenario.policies.items() if config.enabled]
    if not on:
        return scenario
    return scenario.with_overrides(
        {f"policies.{name}.enabled": False for name in on}, by="switched off in the demo"
    )


def parse_address(
    query: Mapping[str, str], scenario: Scenario
) -> tuple[dict[str, float], list[str]]:
    """Lever values given in the page's address (``?hub_capacity=2000&years=3``), each
    checked by the library on ``scenario``; the values it refuses come back as messages
    naming the field and what is allowed, and are left out."""
    values: dict[str, float] = {}
    problems: list[str] = []
    for name, text in query.items():
        lever = BY_NAME.get(name)
        if lever is None:
            continue
        if not lever.shows_for(scenario):
            problems.append(f"{name}: this scenario has no {lever.policy} policy to set")
            continue
        try:
            value = float(text)
        except ValueError:
            problems.append(f"{name}: must be a number ({lever.unit}), got {text!r}")
            continue
        if lever.switch and value not in (0.0, 1.0):
            problems.append(f"{name}: must be 0 (no) or 1 (yes), got {text!r}")
            continue
        try:
            apply(scenario, {name: value})
        except InputError as exc:
            problems.extend(f"{name}: {line}" for line in exc.shown_lines())
            continue
        values[name] = value
    return values, problems
