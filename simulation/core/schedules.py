"""Quantities that change on given dates.

A schedule is either one number, constant over the whole run, or a mapping from dates to
numbers: the value given for a date holds from that date until the next one. In YAML::

    caseworkers_fte: 2113            # constant
    caseworkers_fte:                 # a step function
      2026-01-01: 2113
      2027-04-01: 2400

The model works in days since the scenario's start date; :func:`steps` turns a schedule into
(change times in days, values) arrays and :func:`value_at` reads one off.

What a number and a date in a scenario may be is decided here too, for every model of a
scenario (policy configs included) through :class:`StrictInputs`: a number is never
``true``/``false`` (pydantic would read ``true`` as 1), a date is never a number (pydantic
would read ``0`` as 1 January 1970) and lies between :data:`EARLIEST_DATE` and
:data:`LATEST_DATE`.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, Discriminator, Field, Tag, field_validator
from pydantic_core import PydanticCustomError

ScheduleValue = float | dict[date, float]

#: The earliest and latest date a scenario may name. The model needs published stocks and
#: rates: none exist before 1900 (the UK's first immigration control, the Aliens Act, is
#: of 1905), and a run starting by 2100 and lasting the longest horizon (100 years) ends by
#: 2200. Outside these dates a number was almost certainly mistaken for a date.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


def at_most(limit: float, reason: str) -> AfterValidator:
    """A validator refusing a number above ``limit``, saying why the limit is there."""

    def check(value: float) -> float:
        if value > limit:
            # an integer too large for a float cannot be shown as one
            shown = f"{value:g}" if isinstance(value, float) or value < 1e300 else "over 1e300"
            raise ValueError(f"must be at most {limit:,.0f} ({reason}), got {shown}")
        return value

    return AfterValidator(check)


def schedule(
    ge: float | None = None, le: float | None = None, limit: tuple[float, str] | None = None
) -> Any:
    """A pydantic type for a schedule whose every value lies in [ge, le]; ``limit`` is an
    upper bound with the reason for it, (value, reason), named in the error."""
    value = Annotated[float, Field(ge=ge, le=le, allow_inf_nan=False)]
    if limit is not None:
        value = Annotated[value, at_most(*limit)]
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


# --------------------------------------------------------------- numbers and dates in input

_NUMBERS = (float, int)

#: checks what a value read as a type may not be: (value, path) -> (path, message) pairs
Checker = Callable[[Any, str], list[tuple[str, str]]]


def _arms(annotation: Any) -> list[Any]:
    """The types a value of ``annotation`` may take (Annotated unwrapped, unions split)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _arms(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [arm for arg in typing.get_args(annotation) for arm in _arms(arg)]
    return [annotation]


def _date_problem(value: Any) -> str | None:
    """What is wrong with ``value`` given for a date, if anything."""
    if isinstance(value, bool | int | float):
        return (
            f"must be a date written YYYY-MM-DD, not the number {value!r} (a number would "
            "be read as seconds since 1970)"
        )
    if isinstance(value, datetime):
        return f"must be a date written YYYY-MM-DD, without a time of day, got {value.isoformat()}"
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            return f"must be a date written YYYY-MM-DD, got {value!r}"
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return f"is not a calendar date: {value!r}"
    if isinstance(value, date) and not EARLIEST_DATE <= value <= LATEST_DATE:
        return (
            f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()} "
            f"(the dates a scenario can describe), got {value.isoformat()}"
        )
    return None


def _key_text(key: Any) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _join(path: str, part: Any) -> str:
    return f"{path}.{_key_text(part)}" if path else _key_text(part)


def checker(annotation: Any) -> Checker | None:
    """A function finding numbers given as true/false and dates given as numbers (or outside
    the dates a scenario can describe) anywhere in a value read as ``annotation``; None when
    the type holds no number and no date. Whatever else is wrong is left to pydantic."""
    arms = _arms(annotation)
    if Any in arms:
        return None
    number = any(arm in _NUMBERS for arm in arms) and bool not in arms
    when = date in arms and not any(arm in _NUMBERS for arm in arms)
    text = str in arms
    mapping = sequence = None
    fields: dict[str, Checker] = {}
    for arm in arms:
        origin = typing.get_origin(arm)
        if origin is dict and mapping is None:
            key_type, value_type = typing.get_args(arm)
            mapping = (checker(key_type), checker(value_type))
            if mapping == (None, None):
                mapping = None
        elif origin in (list, tuple) and sequence is None:
            sequence = checker(typing.get_args(arm)[0])
        elif (
            isinstance(arm, type)
            and issubclass(arm, BaseModel)
            and not issubclass(arm, StrictInputs)  # a strict model checks its own fields
            and not fields
        ):
            found = {n: checker(f.annotation) for n, f in arm.model_fields.items()}
            fields = {n: c for n, c in found.items() if c is not None}
    if not (number or when or mapping or sequence or fields):
        return None

    def check(value: Any, path: str) -> list[tuple[str, str]]:
        if value is None:
            return []
        if isinstance(value, bool):
            if number:
                return [(path, f"must be a number, got {str(value).lower()} (a yes/no value)")]
            return [(path, _date_problem(value))] if when else []
        if when and not (text and isinstance(value, str)):
            problem = _date_problem(value)
            return [] if problem is None else [(path, problem)]
        problems: list[tuple[str, str]] = []
        if isinstance(value, dict):
            if mapping is not None:
                keys, values = mapping
                for key, item in value.items():
                    inner = _join(path, key)
                    if keys is not None:
                        problems += keys(key, inner)
                    if values is not None:
                        problems += values(item, inner)
            else:
                for name, check_field in fields.items():
                    if name in value:
                        problems += check_field(value[name], _join(path, name))
        elif isinstance(value, list | tuple) and sequence is not None:
            for index, item in enumerate(value):
                problems += sequence(item, _join(path, index))
        return problems

    return check


class StrictInputs(BaseModel):
    """A base for every model of a scenario: before pydantic reads a field, a number given as
    true/false or a date given as a number is an error naming the field (pydantic alone
    would take ``true`` as 1 and ``0`` as 1 January 1970)."""

    @field_validator("*", mode="before")
    @classmethod
    def _strict_numbers_and_dates(cls, value: Any, info: Any) -> Any:
        checkers = cls.__dict__.get("__input_checkers__")
        if checkers is None:  # one per field of this class, made when first needed
            checkers = cls.__input_checkers__ = {}
        name = info.field_name
        if name not in checkers:
            field = cls.model_fields.get(name)
            checkers[name] = None if field is None else checker(field.annotation)
        check = checkers[name]
        problems = [] if check is None else check(value, "")
        if problems:
            raise PydanticCustomError(
                "scenario_problems",
                "{count} problem(s)",
                {"count": len(problems), "problems": problems},
            )
        return value
