"""Quantities that change on given dates.

A schedule is either one number, constant over the whole run, or a mapping from dates to
numbers: the value given for a date holds from that date until the next one. In YAML::

    caseworkers_fte: 2113            # constant
    caseworkers_fte:                 # a step function
      2026-01-01: 2113
      2027-04-01: 2400

The model works in days since the scenario's start date; :func:`steps` turns a schedule into
(change times in days, values) arrays and :func:`value_at` reads one off.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

ScheduleValue = float | dict[date, float]


def _kind(value: Any) -> str:
    return "dated" if isinstance(value, dict) else "constant"


def _dates_increase(steps: dict[date, float]) -> dict[date, float]:
    if not steps:
        raise PydanticCustomError("schedule_empty", "a dated schedule needs at least one date")
    keys = list(steps)
    for earlier, later in zip(keys, keys[1:], strict=False):
        if not earlier < later:
            raise PydanticCustomError(
                "schedule_order",
                "dates must be in increasing order, but {later} follows {earlier}",
                {"earlier": earlier.isoformat(), "later": later.isoformat()},
            )
    return steps


def schedule(ge: float | None = None, le: float | None = None) -> Any:
    """A pydantic type for a schedule whose every value lies in [ge, le]."""
    value = Annotated[float, Field(ge=ge, le=le, allow_inf_nan=False)]
    return Annotated[
        Annotated[value, Tag("constant")]
        | Annotated[Annotated[dict[date, value], AfterValidator(_dates_increase)], Tag("dated")],
        Discriminator(_kind),
    ]


NonNegativeSchedule = schedule(ge=0)
ProbabilitySchedule = schedule(ge=0, le=1)

#: Names pydantic puts in an error location for the two forms of a schedule; error messages
#: drop them so that a path reads like the YAML the user wrote.
SCHEDULE_TAGS = ("constant", "dated")


def first_date(value: ScheduleValue) -> date | None:
    """The first date of a dated schedule, None for a constant."""
    return next(iter(value)) if isinstance(value, dict) else None


def steps(value: ScheduleValue, start: date) -> tuple[np.ndarray, np.ndarray]:
    """Change times (days since ``start``) and the values holding from each of them."""
    if isinstance(value, dict):
        times = np.array([(d - start).days for d in value], dtype=float)
        values = np.array(list(value.values()), dtype=float)
        return times, values
    return np.array([-np.inf]), np.array([float(value)])


def value_at(value: ScheduleValue, start: date, t: float | np.ndarray) -> np.ndarray:
    """The schedule's value at time(s) ``t`` in days since ``start``."""
    times, values = steps(value, start)
    index = np.searchsorted(times, t, side="right") - 1
    return values[np.clip(index, 0, len(values) - 1)]


def daily(value: ScheduleValue, start: date, days: int) -> np.ndarray:
    """The value on each day 0..days-1 (the value holding at the start of the day)."""
    return value_at(value, start, np.arange(days, dtype=float))


def changes_within(value: ScheduleValue, start: date, horizon: float) -> list[tuple[float, float]]:
    """(time, value) pairs of the changes strictly inside (0, horizon)."""
    times, values = steps(value, start)
    return [(float(t), float(v)) for t, v in zip(times, values, strict=True) if 0 < t < horizon]
