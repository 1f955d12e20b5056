"""Claimant records: one row per passage of a person through the system.

A record is an index into preallocated numpy arrays, never a Python object. A record goes
through the stages once: claim -> initial decision -> (appeal) -> (appeal rights exhausted) ->
exit. When a person comes back (further submissions, or a return to the UK after removal) a
new record starts, linked to the old one by ``parent``, so every stock is a count of records
whose stage interval covers the time.

Each record carries its own random draws for every decision it faces (drawn when the record
is made), which is what makes two policy scenarios run with the same seed comparable person
by person. During the run the engine reads and writes the arrays through memoryviews, which
index as fast as Python lists and keep the arrays compact.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import numpy as np


class Origin(IntEnum):
    STOCK_AWAITING = 0
    STOCK_APPEAL = 1
    STOCK_ARE = 2
    NEW_CLAIM = 3
    FURTHER_SUBMISSION = 4
    REENTRY = 5
    POLICY_RETURN = 6  # brought back to the UK by a policy (e.g. from a return hub), at ARE


class DecisionOutcome(IntEnum):
    NONE = 0  # never in the decision queue (started in a later stage, or diverted)
    PENDING = 1  # being decided when the run ended
    WITHDRAWN = 2
    GRANTED = 3
    REFUSED = 4
    DIVERTED = 5  # taken out of the UK system by a policy on arrival (offshore processing)


class AppealOutcome(IntEnum):
    NONE = 0
    PENDING = 1
    ALLOWED = 2
    DISMISSED = 3


class ExitOutcome(IntEnum):
    """How a record with appeal rights exhausted leaves (or not) the ARE stock."""

    NONE = 0  # never reached ARE
    BEING_REMOVED = 1  # removal under way when the run ended
    REMAINS = 2  # no way out: not returnable and no hazard
    REMOVED = 3
    VOLUNTARY = 4
    FURTHER_SUBMISSION = 5
    ABSCONDED = 6
    POLICY = 7  # taken out of the UK stock by a policy (details in the policy's own arrays)


ROUTE_CODES = {"small_boat": 0, "other_irregular": 1, "in_country": 2}
HOUSEHOLD_CODES = {"single_adult": 0, "family_member": 1, "unaccompanied_child": 2}
SINGLE_ADULT, FAMILY_MEMBER, UNACCOMPANIED_CHILD = 0, 1, 2

ATTRIBUTES = {
    "route": np.int8,
    "group": np.int8,
    "household": np.int8,
    "supported": np.int8,  # needs Home Office asylum support
    "returnable": np.int8,  # enforced removal to the home country is possible
    "origin": np.int8,
    "parent": np.int64,
}
#: Per-record random draws: uniforms (u_) and unit exponentials (e_, work_).
DRAWS = {
    "decisions": ("u_grant", "work_decision", "e_withdraw"),
    "appeals": ("u_lodge", "u_allowed", "work_appeal"),
    "after_refusal": (
        "work_removal",
        "e_voluntary",
        "e_further",
        "e_abscond",
        "u_reentry",
        "e_reentry",
    ),
}
TIMES = ("t_claim", "t_dec_start", "t_dec_end", "t_app_start", "t_app_end", "t_are", "t_exit")
OUTCOMES = ("dec_outcome", "app_outcome", "exit_outcome")


def _draw(name: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """Single precision: 24 bits are plenty for a probability or a service requirement, and
    half the memory keeps two processes from crowding each other's caches."""
    if name.startswith("u_"):
        return rng.random(n, dtype=np.float32)
    return rng.standard_exponential(n, dtype=np.float32)


def draw_block(
    streams: dict[str, np.random.Generator], n: int, only: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """The per-record draws for ``n`` records, each purpose from its own stream (only the
    purposes given in ``streams``, and of those only the names in ``only`` if given)."""
    return {
        name: _draw(name, streams[purpose], n)
        for purpose, names in DRAWS.items()
        if purpose in streams
        for name in names
        if only is None or name in only
    }


class Population:
    """Growable columns of claimant records; ``mv`` holds memoryviews for the event loop.

    ``blocks`` give the columns of the records known before the run (starting stocks and
    generated arrivals, with their draws), copied once into place; ``spare`` more slots are
    made for records created during the run, whose draws ``fill_draws(n)`` supplies.
    """

    NAMES = (*ATTRIBUTES, *TIMES, *OUTCOMES, *(n for ns in DRAWS.values() for n in ns))

    def __init__(
        self,
        blocks: list[dict[str, np.ndarray]],
        spare: int,
        fill_draws: Callable[[int], dict[str, np.ndarray]],
    ) -> None:
        self._fill_draws = fill_draws
        sizes = [len(block["u_grant"]) for block in blocks]
        self.size = sum(sizes)
        capacity = self.size + max(spare, 16)
        self.columns = {name: self._empty(name, capacity) for name in self.NAMES}
        start = 0
        for block, size in zip(blocks, sizes, strict=True):
            unknown = set(block) - set(self.NAMES)
            if unknown:
                raise KeyError(f"unknown record columns: {sorted(unknown)}")
            for name, values in block.items():
                self.columns[name][start : start + size] = values
            start += size
        for name, values in self._fill_draws(capacity - self.size).items():
            self.columns[name][self.size :] = values
        self.capacity = capacity
        self.mv = {name: memoryview(column) for name, column in self.columns.items()}

    @staticmethod
    def _empty(name: str, capacity: int) -> np.ndarray:
        if name in ATTRIBUTES:
            return np.full(capacity, -1 if name == "parent" else 0, dtype=ATTRIBUTES[name])
        if name in OUTCOMES:
            return np.zeros(capacity, dtype=np.int8)
        if name in TIMES:
            return np.full(capacity, np.nan)
        return np.empty(capacity, dtype=np.float32)

    def _grow(self, capacity: int) -> None:
        old = self.capacity
        columns = {}
        for name in self.NAMES:
            column = self._empty(name, capacity)
            column[:old] = self.columns[name]
            columns[name] = column
        for name, values in self._fill_draws(capacity - old).items():
            columns[name][old:] = values
        self.columns = columns
        self.capacity = capacity
        self.mv = {name: memoryview(column) for name, column in columns.items()}

    def add(self, n: int) -> tuple[int, bool]:
        """Reserve ``n`` new records; returns (first index, whether the arrays were moved)."""
        first = self.size
        moved = False
        if first + n > self.capacity:
            self.mv = {}
            self._grow(max(2 * self.capacity, first + n))
            moved = True
        self.size += n
        return first, moved

    def finished(self) -> dict[str, np.ndarray]:
        """The used part of every column (memoryviews released)."""
        self.mv = {}
        return {name: column[: self.size] for name, column in self.columns.items()}
