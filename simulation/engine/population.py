"""Where the claimant records live during a run (the schema is :mod:`simulation.core.records`).

A record is an index into preallocated numpy arrays, never a Python object. Each record
carries its own random draws for every decision it faces (drawn when the record is made),
which is what makes two policy scenarios run with the same seed comparable person by person.
During the run the engine reads and writes the arrays through memoryviews, which index as fast
as Python lists and keep the arrays compact.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable, Collection

import numpy as np

from ..core.records import ATTRIBUTES, COLUMNS, DRAWS, OUTCOMES, TIMES

#: Columns needed only while the run goes on: the per-record draws, and the uniform behind
#: ``returnable`` (no output reads them).
RUN_ONLY = (*(name for names in DRAWS.values() for name in names), "u_returnable")


def release_free_memory() -> None:
    """Hand memory the process has freed back to the operating system, where the C library
    allows it (glibc's ``malloc_trim``). Freed memory between live arrays otherwise stays
    counted against the process, and making the run's records frees a lot of it: the arrival
    candidates and the blocks copied into the record columns."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _malloc_trim():
    global _TRIM
    if _TRIM is False:
        try:
            _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = None
    return _TRIM


_TRIM = False

#: what a slot holds before a record uses it, in the columns not all zero at first
_UNSET = {"parent": -1, **{name: np.nan for name in TIMES}}
#: records' worth of spare slots set at a time
READY_AHEAD = 1 << 16


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
    generated arrivals, with their draws), copied once into place and taken out of their
    block as they are copied (so each is freed as soon as nothing else holds it); ``spare``
    more slots are made for records created during the run, whose draws ``fill_draws(n)``
    supplies.
    """

    NAMES = COLUMNS

    def __init__(
        self,
        blocks: list[dict[str, np.ndarray]],
        spare: int,
        fill_draws: Callable[[int], dict[str, np.ndarray]],
    ) -> None:
        self._fill_draws = fill_draws
        sizes = [len(block["u_grant"]) for block in blocks]
        for block in blocks:
            unknown = set(block) - set(self.NAMES)
            if unknown:
                raise KeyError(f"unknown record columns: {sorted(unknown)}")
        self.size = sum(sizes)
        capacity = self.size + max(spare, 16)
        release_free_memory()  # what making the blocks freed, before the columns are made
        # spare slots of the columns not drawn are set only as records come to use them
        # (:meth:`add`), so memory the run never reaches is never touched
        self._ready = min(capacity, self.size + READY_AHEAD)
        self.columns = {}
        for name in self.NAMES:
            column = self.columns[name] = self._empty(name, capacity, self._ready)
            start = 0
            for block, size in zip(blocks, sizes, strict=True):
                values = block.pop(name, None)
                if values is not None:
                    column[start : start + size] = values
                del values
                start += size
        for name, values in self._fill_draws(capacity - self.size).items():
            self.columns[name][self.size :] = values
        self.capacity = capacity
        release_free_memory()  # the blocks, freed as they were copied
        self.mv = {name: memoryview(column) for name, column in self.columns.items()}
        self.on_move: list[Callable[[], None]] = []  # told when the arrays move (growth)

    @staticmethod
    def _empty(name: str, capacity: int, ready: int) -> np.ndarray:
        """A column with its first ``ready`` slots set to the value of a new record (the
        rest zero, or unset for ``parent`` and the times: see :meth:`_prepare`)."""
        if name in TIMES or name == "parent":
            column = np.empty(capacity, dtype=ATTRIBUTES.get(name, np.float64))
            column[:ready] = _UNSET[name]
            return column
        if name in ATTRIBUTES:
            return np.zeros(capacity, dtype=ATTRIBUTES[name])
        if name in OUTCOMES:
            return np.zeros(capacity, dtype=np.int8)
        return np.empty(capacity, dtype=np.float32)

    def _prepare(self, needed: int) -> None:
        """Set the spare slots up to ``needed`` (and some way past it) for new records."""
        ready = min(self.capacity, max(needed, self._ready + READY_AHEAD))
        for name in _UNSET:
            self.columns[name][self._ready : ready] = _UNSET[name]
        self._ready = ready

    def _grow(self, capacity: int) -> None:
        old = self.capacity
        columns = {}
        for name in self.NAMES:
            column = self._empty(name, capacity, 0)
            drawn = name in RUN_ONLY and name != "u_returnable"
            column[: old if drawn else self._ready] = self.columns[name][
                : old if drawn else self._ready
            ]
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
        if first + n > self._ready:
            self._prepare(first + n)
        self.size += n
        if moved:
            for listener in self.on_move:
                listener()
        return first, moved

    def finished(self) -> dict[str, np.ndarray]:
        """The used part of every column (memoryviews released)."""
        self.mv = {}
        return {name: column[: self.size] for name, column in self.columns.items()}

    def compact(self, drop: Collection[str] = ()) -> dict[str, np.ndarray]:
        """The records once the run is over, in as little memory as they need: the columns
        in ``drop`` freed, the others cut down to the records made. The population keeps
        nothing after this.

        Call it once nothing else reads the columns (the stages, which hold memoryviews of
        them, gone): then each column shrinks where it is and the spare slots go back to the
        operating system. A column something still views is copied instead, and its old
        array lives on as long as that view."""
        self.mv = {}
        self.on_move.clear()
        columns, self.columns = self.columns, {}
        gc.collect()  # the stages and the event queue form reference cycles
        kept: dict[str, np.ndarray] = {}
        for name in list(columns):
            column = columns.pop(name)
            if name in drop:
                del column
                continue
            try:
                column.resize(self.size)  # in place: refused while anything else holds it
            except (ValueError, BufferError):
                column = column[: self.size].copy()
            kept[name] = column
            del column
        self.capacity = self.size
        release_free_memory()
        return kept
