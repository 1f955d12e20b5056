"""The few assumptions that drive a run's headline figures, said in plain words.

Each statement is generated from the scenario's own values (with their units), so a changed
scenario changes what is said: the places outside hotels (which decide how much of any growth
in support lands in hotels), the price of a hotel night, the stocks the run starts from,
capacities and arrivals held at their last value, and the inputs the scenario marks as guesses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ..core import schedules
from ..core.vocabulary import ROUTES
from ..engine.start_state import support_phases
from ..inputs.scenario import Scenario

TITLE = "Assumptions behind these figures"
#: at most this many guessed inputs are named (the rest are counted)
MOST_GUESSES = 6


def _amount(value: float, unit: str) -> str:
    """``unit`` is ``gbp`` or a word after the number ("places", "FTE")."""
    if unit == "gbp":
        return f"£{value:,.2f}"
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"
    return f"{number} {unit}".rstrip()


def _schedule(value: schedules.ScheduleValue, unit: str, end: date) -> str:
    """A value held for the whole run, or its dated steps within the run and the value it
    is held at from the last of them to the end."""
    steps = sorted(value.items()) if isinstance(value, Mapping) else [(None, value)]
    within = [(when, amount) for when, amount in steps if when is None or when < end]
    if len(within) <= 1:
        amount = within[0][1] if within else steps[0][1]
        return f"{_amount(amount, unit)}, held for the whole run"
    said = ", ".join(f"{_amount(a, unit)} from {when.isoformat()}" for when, a in within[:-1])
    when, last = within[-1]
    return f"{said}, then {_amount(last, unit)} from {when.isoformat()} held to the end"


def _at_start(value: schedules.ScheduleValue, scenario: Scenario) -> float:
    return float(schedules.value_at(value, scenario.start_date, 0.0))


def accommodation(scenario: Scenario) -> list[str]:
    """Places outside hotels, and what a night costs in each kind of place."""
    acc, end = scenario.accommodation, scenario.end_date
    dispersal, sites = acc.dispersal.capacity_people, acc.large_sites.capacity_people
    places = (
        f"Dispersal housing: {_schedule(dispersal, 'places', end)}; large sites: "
        f"{_schedule(sites, 'places', end)}."
    )
    if not isinstance(dispersal, Mapping) and not isinstance(sites, Mapping):
        places += (
            f" Every supported person beyond these {dispersal + sites:,.0f} places is in a "
            "hotel, so all growth in the supported population goes to hotels."
        )
    else:
        places += " Every supported person beyond these places is in a hotel."
    hotel = acc.hotels
    price = (
        f"Hotel cost per person-night: {_schedule(hotel.cost_per_person_night_gbp, 'gbp', end)}"
        f", paying for {_schedule(hotel.paid_beds_per_occupant, 'beds per occupant', end)}; "
        f"dispersal: {_schedule(acc.dispersal.cost_per_person_night_gbp, 'gbp', end)}."
    )
    return [places, price]


def start_state(scenario: Scenario) -> str:
    """The stocks of the start date, and how the supported among them are split."""
    state = scenario.initial_state
    phases = support_phases(scenario)
    acc = scenario.accommodation
    outside = _at_start(acc.dispersal.capacity_people, scenario) + _at_start(
        acc.large_sites.capacity_people, scenario
    )
    hotels = max(state.supported_people - outside, 0)
    are_kind = scenario.sources.get("initial_state.are_in_uk_people")
    are_note = f" ({are_kind.kind})" if are_kind and are_kind.kind != "published" else ""
    start = scenario.start_date.isoformat()
    return (
        f"The run starts on {start} from {state.awaiting_decision_people:,} "
        f"people awaiting a decision, {state.appeals_pending_people:,} with an appeal pending, "
        f"{state.are_in_uk_people:,} with appeal rights exhausted in the UK{are_note}, and "
        f"{state.supported_people:,} supported ({hotels:,.0f} in hotels); of the supported, "
        f"{phases.move_on:,} are taken to be in the {scenario.support.move_on_days:g}-day "
        f"move-on period after a grant and {phases.after_refusal:,} single adults in the "
        f"{scenario.support.support_end_days_after_refusal:g} days after refusal (from the "
        "decision and appeal capacity at the start)."
    )


def capacities(scenario: Scenario) -> str:
    """The capacities that set how fast the backlogs clear."""
    end = scenario.end_date
    removals = scenario.after_refusal.enforced_removals_per_month
    return (
        f"Caseworkers: {_schedule(scenario.decisions.caseworkers_fte, 'FTE', end)}; judges: "
        f"{_schedule(scenario.appeals.judges_fte, 'FTE', end)}; enforced removals: "
        f"{_schedule(removals, 'a month', end)}."
    )


def arrivals(scenario: Scenario) -> str:
    """Arrivals by route (people a month)."""
    end = scenario.end_date
    parts = [
        f"{route.replace('_', ' ')}: "
        + _schedule(getattr(scenario.arrivals, route).rate_per_month, "people a month", end)
        for route in ROUTES
    ]
    return "Arrivals, " + "; ".join(parts) + "."


def _value(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def guesses(scenario: Scenario) -> list[str]:
    """The inputs the scenario's sources mark as guesses (no published figure), the core
    model's and each policy's, and the values set over a cited figure (overrides), with values.
    """
    data = scenario.model_dump(mode="json")
    found: dict[str, list[str]] = {"guess": [], "policy": [], "override": []}
    for path, source in scenario.sources.items():
        if source.kind not in ("guess", "override"):
            continue
        value = _value(data, path)
        if isinstance(value, Mapping):
            continue  # a whole section cited at once: its fields speak for themselves
        text = f"{path} = {value}" if isinstance(value, (int, float, str)) else path
        kind = "policy" if source.kind == "guess" and path.startswith("policies.") else source.kind
        found[kind].append(text)
    labels = {
        "guess": "Guesses (no published figure)",
        "policy": "Policy guesses",
        "override": "Set over the scenario's cited figures",
    }
    out = []
    for kind, said in found.items():
        if said:
            named = "; ".join(said[:MOST_GUESSES])
            more = len(said) - MOST_GUESSES
            out.append(f"{labels[kind]}: {named}" + (f"; and {more} more." if more > 0 else "."))
    return out


def statements(scenario: Scenario) -> list[str]:
    """The assumptions that drive the headline figures of a run of ``scenario``."""
    return [
        *accommodation(scenario),
        start_state(scenario),
        capacities(scenario),
        arrivals(scenario),
        *guesses(scenario),
    ]


def compared(by_scenario: Mapping[str, Sequence[str]]) -> list[str]:
    """Statements for a comparison: those every scenario shares once, then each scenario's
    own, named."""
    lists = list(by_scenario.values())
    shared = [s for s in lists[0] if all(s in other for other in lists[1:])] if lists else []
    own = [
        f"{name} only: {s}" for name, said in by_scenario.items() for s in said if s not in shared
    ]
    return shared + own


def section(said: Sequence[str]) -> str:
    """The statements as the closing section of a printed report."""
    lines = [TITLE, "-" * len(TITLE)]
    lines += [f"- {s}" for s in said]
    return "\n".join(lines)
