"""Asylum support and accommodation, computed from the records after the run.

Who is supported, and when:

- a claimant who needs support has it from the claim (or from the start date, for the
  starting stocks) while awaiting a decision or an appeal;
- a granted person keeps it for the move-on period after the grant;
- a withdrawn claim ends it at the withdrawal, and a claimant taken offshore on arrival is
  never in asylum accommodation;
- after appeal rights are exhausted, a single adult keeps it for a set number of days; a
  family keeps it until it leaves the UK stock (removal, departure, absconding, a policy);
- unaccompanied children are looked after by local authorities, never by the Home Office.

Where: every supported person is housed. Dispersal housing and large sites have capacities
that change on given dates and are filled cheapest first; hotels take everyone else, and people
move out of hotels as soon as a cheaper place is free. Because the type of accommodation does
not change anyone's path through the asylum system, occupancy by type follows exactly from the
supported population and the capacities, night by night, with no event in the simulation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..core import schedules, timeline
from ..core.records import AppealOutcome, DecisionOutcome, ExitOutcome
from ..core.vocabulary import FAMILY_MEMBER, SINGLE_ADULT
from ..inputs.scenario import Scenario


def support_intervals(
    records: dict[str, np.ndarray], scenario: Scenario
) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of each supported record's support; NaN start for the unsupported."""
    move_on = scenario.support.move_on_days
    grace = scenario.support.support_end_days_after_refusal
    first = np.where(
        np.isfinite(records["t_claim"]),
        records["t_claim"],
        np.where(np.isfinite(records["t_app_start"]), records["t_app_start"], records["t_are"]),
    )
    start = np.where(records["supported"] == 1, np.maximum(first, 0.0), np.nan)
    end = np.full(len(start), np.inf)
    dec, app, exit_ = records["dec_outcome"], records["app_outcome"], records["exit_outcome"]
    withdrawn = np.isin(dec, (DecisionOutcome.WITHDRAWN, DecisionOutcome.DIVERTED))
    end[withdrawn] = records["t_dec_end"][withdrawn]
    granted = dec == DecisionOutcome.GRANTED
    end[granted] = records["t_dec_end"][granted] + move_on
    allowed = app == AppealOutcome.ALLOWED
    end[allowed] = records["t_app_end"][allowed] + move_on
    at_are = exit_ != ExitOutcome.NONE
    family = at_are & (records["household"] == FAMILY_MEMBER)
    end[family] = records["t_exit"][family]
    single = at_are & (records["household"] == SINGLE_ADULT)
    end[single] = np.minimum(records["t_exit"][single], records["t_are"][single] + grace)
    return start, end


@dataclass
class Occupancy:
    """People housed at each midnight t = 0..days, by type."""

    supported: np.ndarray
    by_type: dict[str, np.ndarray]


def allocate(supported: np.ndarray, scenario: Scenario) -> Occupancy:
    """Fill dispersal and large sites cheapest first up to capacity; hotels take the rest.

    Which of the two is cheaper is decided night by night, as their prices may change.
    """
    days = len(supported) - 1
    acc = scenario.accommodation
    t = np.arange(days + 1, dtype=float)
    start = scenario.start_date

    def capacity(name: str) -> np.ndarray:
        return np.floor(schedules.value_at(getattr(acc, name).capacity_people, start, t))

    def price(name: str) -> np.ndarray:
        return schedules.value_at(getattr(acc, name).cost_per_person_night_gbp, start, t)

    dispersal_first = price("dispersal") <= price("large_sites")
    first_cap = np.where(dispersal_first, capacity("dispersal"), capacity("large_sites"))
    second_cap = np.where(dispersal_first, capacity("large_sites"), capacity("dispersal"))
    demand = supported.astype(float)
    first = np.minimum(demand, first_cap)
    second = np.minimum(demand - first, second_cap)
    by_type = {
        "dispersal": np.where(dispersal_first, first, second),
        "large_sites": np.where(dispersal_first, second, first),
        "hotels": demand - first - second,
    }
    return Occupancy(supported=demand, by_type=by_type)


#: records per slice when counting over records: each temporary is a few MiB at most
SLICE = 1 << 19


def slices(records: dict[str, np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
    """The records a slice at a time (views: nothing copied); counts over records add up
    exactly slice by slice, and the temporaries of each slice stay small."""
    size = len(records["origin"])
    for first in range(0, max(size, 1), SLICE):
        yield {name: column[first : first + SLICE] for name, column in records.items()}


def supported_stock(records: dict[str, np.ndarray], scenario: Scenario, days: int) -> np.ndarray:
    """People supported at each midnight t = 0..days (counted a slice of records at a time)."""
    supported = np.zeros(days + 1, dtype=np.int64)
    for part in slices(records):
        start, end = support_intervals(part, scenario)
        supported += timeline.stock(start, end, days)
    return supported


def occupancy(records: dict[str, np.ndarray], scenario: Scenario, days: int) -> Occupancy:
    return allocate(supported_stock(records, scenario, days).astype(float), scenario)
