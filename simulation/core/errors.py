"""Errors about bad input, phrased for the person who wrote the file or made the call.

Every problem is a (field path, what is wrong and what is allowed) pair, so the command line
can print one line per problem, e.g.::

    appeals.lodged_share: must be <= 1, got 1.4
    arrivals.small_boat.rate_per_mnth: unknown field; allowed here: rate_per_month, ...
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .schedules import SCHEDULE_TAGS

Problem = tuple[str, str]

#: At most this many problems are shown (printed, or in the error's text); the rest are counted.
MAX_SHOWN_PROBLEMS = 50


class InputError(ValueError):
    """Input that cannot be used (a scenario, a sweep, a metric name, an argument), with every
    problem in it as (field path, what is wrong and what is allowed).

    Every error about bad input that the library raises is one of these, so a caller (the
    command line, a notebook) can tell the user's mistakes from the library's bugs.
    """

    def __init__(self, origin: str, problems: Sequence[Problem]) -> None:
        self.origin = origin
        self.problems = list(problems)
        super().__init__(self.__str__())

    def __reduce__(self):
        # rebuilt from its arguments, so an error raised in a worker process reaches the
        # caller whole (the default would call __init__ with the message alone)
        return (type(self), (self.origin, self.problems))

    def lines(self) -> list[str]:
        """Every problem as a line: ``path: message``."""
        return [_line(path, message) for path, message in self.problems]

    def shown_lines(self, limit: int = MAX_SHOWN_PROBLEMS) -> list[str]:
        """The first ``limit`` problems as lines and, if there are more, a line counting the
        rest: what is printed (a file with a million unknown fields gets 51 lines, not a
        million); :attr:`problems` keeps them all."""
        shown = [_line(path, message) for path, message in self.problems[:limit]]
        more = len(self.problems) - limit
        return [*shown, f"... and {more} more problem(s)"] if more > 0 else shown

    def __str__(self) -> str:
        head = f"{self.origin}: {len(self.problems)} problem(s)"
        return "\n".join([head, *("  " + line for line in self.shown_lines())])


def _line(path: str, message: str) -> str:
    return f"{path}: {message}" if path else message


class ScenarioError(InputError):
    """A scenario (file, mapping or override) that does not validate."""


_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")
_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}


def _loc_part(part: Any) -> str | None:
    if isinstance(part, int):
        return str(part)
    text = str(part)
    if text in SCHEDULE_TAGS or text == "[key]":
        return None
    match = _DATE_REPR.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    return text


def path_of(loc: Sequence[Any]) -> str:
    return ".".join(p for p in (_loc_part(part) for part in loc) if p is not None)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(root: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The pydantic model class that the location ``loc`` points into, if any."""
    current: Any = root
    for part in loc:
        model = _as_model(current)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            current = model.model_fields[part].annotation
            continue
        value_type = _mapping_value_type(current)
        if value_type is not None:
            current = value_type
            continue
        return None
    return _as_model(current)


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _as_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _mapping_value_type(annotation: Any) -> Any:
    for candidate in _unwrap(annotation):
        if typing.get_origin(candidate) is dict:
            return typing.get_args(candidate)[1]
    return None


def _message(error: dict[str, Any], root: type[BaseModel] | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        return f"must be {symbol} {ctx.get(key)}, got {_shown(error['input'])}"
    if kind == "extra_forbidden":
        model = _model_at(root, error["loc"][:-1]) if root else None
        allowed = ", ".join(model.model_fields) if model else ""
        return "unknown field" + (f"; allowed here: {allowed}" if allowed else "")
    if kind == "missing":
        return "required field is missing"
    if kind == "too_short":
        return "must not be empty"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    shows_input = kind not in ("value_error", "assertion_error") and "input" in error
    if shows_input and not isinstance(error["input"], dict | list):
        message += f", got {_shown(error['input'])}"
    return message


def problems_from_validation_error(
    exc: ValidationError, root: type[BaseModel] | None = None
) -> list[Problem]:
    """Turn pydantic's errors into (path, message) pairs, expanding grouped problems."""
    problems: list[Problem] = []
    for error in exc.errors():
        ctx = error.get("ctx") or {}
        base = path_of(error["loc"])
        if "problems" in ctx:
            for path, message in ctx["problems"]:
                problems.append((".".join(p for p in (base, path) if p), message))
            continue
        problems.append((base, _message(error, root)))
    return problems
