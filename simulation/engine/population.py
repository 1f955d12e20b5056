"""Where the claimant records live during a run (the schema is :mod:`simulation.core.records`).

A record is an index into preallocated numpy arrays, never a Python object. Each record
carries its own random draws for every decision it faces (drawn when the record is made),
which is what makes two policy scenarios run with the same seed comparable person by person.
During the run the engine reads and writes the arrays through memoryviews, which index as fast
as Python lists and keep the arrays compact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.records import ATTRIBUTES, COLUMNS, DRAWS, OUTCOMES, TIMES


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

    NAMES = COLUMNS

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
        self.on_move: list[Callable[[], None]] = []  # told when the arrays move (growth)

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
        if moved:
            for listener in self.on_move:
                listener()
        return first, moved

    def finished(self) -> dict[str, np.ndarray]:
        """The used part of every column (memoryviews released)."""
        self.mv = {}
        return {name: column[: self.size] for name, column in self.columns.items()}
