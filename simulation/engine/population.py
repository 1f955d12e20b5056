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
import mmap
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


def small_pages_past(column: np.ndarray, used: int) -> None:
    """Ask the operating system for ordinary pages, not huge ones, past the first ``used``
    slots of ``column``, where the C library allows it (Linux's ``madvise``).

    numpy asks for huge pages (2 MiB) for large arrays; a huge page is made whole when any
    byte of it is written, so the spare slots just past the records in use would take up to
    2 MiB a column, and more of them over a run as the system merges pages in the background.
    """
    advise, flag = _libc("madvise"), getattr(mmap, "MADV_NOHUGEPAGE", None)
    if advise is None or flag is None:
        return
    start = column.ctypes.data + used * column.itemsize
    start += -start % mmap.PAGESIZE
    end = column.ctypes.data + column.nbytes
    end -= end % mmap.PAGESIZE
    if end > start:
        advise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), flag)


def _malloc_trim():
    return _libc("malloc_trim")


def _libc(name: str):
    """The C library's function ``name``, or None where there is none."""
    if name not in _LIBC:
        try:
            _LIBC[name] = getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
        except (OSError, AttributeError):
            _LIBC[name] = None
    return _LIBC[name]


_LIBC: dict[str, object] = {}

#: what a slot holds before a record uses it (the draws: see :class:`SpareDraws`)
_UNSET = {
    **{name: 0 for name in (*ATTRIBUTES, *OUTCOMES)},
    "parent": -1,
    **{name: np.nan for name in TIMES},
}
#: records' worth of spare slots set at a time
READY_AHEAD = 1 << 16
#: values drawn at a time where draws are made, or passed over, in chunks
_CHUNK = 1 << 16


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


def draw_kept(name: str, rng: np.random.Generator, kept: np.ndarray) -> np.ndarray:
    """The draws ``name`` for ``len(kept)`` records, of which only those where ``kept`` is
    true are returned: the values of :func:`draw_block`, made a chunk at a time so the
    draws of the records dropped are never all held."""
    out = np.empty(int(np.count_nonzero(kept)), np.float32)
    filled = 0
    for first in range(0, len(kept), _CHUNK):
        some = _draw(name, rng, len(kept[first : first + _CHUNK]))[kept[first : first + _CHUNK]]
        out[filled : filled + len(some)] = some
        filled += len(some)
    return out


#: the draw columns, in the order a block of them is drawn from one stream
DRAW_NAMES = tuple(name for names in DRAWS.values() for name in names)


class SpareDraws:
    """The draws of the spare slots, made as slots come into use, equal to the bit to
    drawing each block of them at once from ``stream`` (every name in turn, in the order of
    :data:`DRAW_NAMES`).

    When a block of slots is made its draws are passed over: drawn a chunk at a time and
    dropped, so the stream moves on exactly as if they had been drawn, and the stream's state
    where each name's values start is kept. A slot's values are drawn again from there when it
    comes into use. A run uses few of its spare slots, so this costs little time, and the
    draws of the slots never used (48 bytes each) are never held.
    """

    def __init__(self, stream: np.random.Generator) -> None:
        self._stream = stream
        #: per block: [first slot, end, next slot to fill, {name: generator at that slot}]
        self._blocks: list[list] = []

    def reserve(self, first: int, count: int) -> None:
        """Slots ``first`` to ``first + count`` take the next block of the stream."""
        cursors = {}
        for name in DRAW_NAMES:
            cursor = np.random.Generator(type(self._stream.bit_generator)())
            cursor.bit_generator.state = self._stream.bit_generator.state
            cursors[name] = cursor
            for done in range(0, count, _CHUNK):
                _draw(name, self._stream, min(_CHUNK, count - done))
        self._blocks.append([first, first + count, first, cursors])

    def fill(self, columns: dict[str, np.ndarray], start: int, stop: int) -> None:
        """Write the draws of slots ``start`` to ``stop``, the slots before them filled."""
        for block in self._blocks:
            first, end, filled, cursors = block
            low, high = max(start, first), min(stop, end)
            if low >= high:
                continue
            if low != filled:
                raise ValueError(f"spare slots are filled in order: {filled} next, not {low}")
            for name, cursor in cursors.items():
                for at in range(low, high, _CHUNK):
                    size = min(_CHUNK, high - at)
                    columns[name][at : at + size] = _draw(name, cursor, size)
            block[2] = high


class Population:
    """Growable columns of claimant records; ``mv`` holds memoryviews for the event loop.

    ``blocks`` give the columns of the records known before the run (starting stocks and
    generated arrivals, with their draws), copied once into place and taken out of their
    block as they are copied (so each is freed as soon as nothing else holds it); ``spare``
    more slots are made for records created during the run, whose draws come from ``stream``
    (:class:`SpareDraws`). The columns in ``omit`` are not held (a column the run does not
    read and nobody keeps).
    """

    def __init__(
        self,
        blocks: list[dict[str, np.ndarray]],
        spare: int,
        stream: np.random.Generator,
        omit: Collection[str] = (),
    ) -> None:
        sizes = [len(block["u_grant"]) for block in blocks]
        for block in blocks:
            unknown = set(block) - set(COLUMNS)
            if unknown:
                raise KeyError(f"unknown record columns: {sorted(unknown)}")
        self.names = tuple(name for name in COLUMNS if name not in omit)
        self.size = sum(sizes)
        capacity = self.size + max(spare, 16)
        _check_capacity(capacity)
        for block in blocks:
            for name in omit:
                block.pop(name, None)
        release_free_memory()  # what making the blocks freed, before the columns are made
        # spare slots are set only as records come to use them (:meth:`add`), so memory the
        # run never reaches is never touched
        self._ready = min(capacity, self.size + READY_AHEAD)
        self.columns = {}
        for name in self.names:
            column = self.columns[name] = self._empty(name, capacity, self._ready)
            start = 0
            for block, size in zip(blocks, sizes, strict=True):
                values = block.pop(name, None)
                if values is not None:
                    column[start : start + size] = values
                del values
                start += size
            release_free_memory()  # the block columns just copied
        self._spare = SpareDraws(stream)
        self._spare.reserve(self.size, capacity - self.size)
        self._spare.fill(self.columns, self.size, self._ready)
        self.capacity = capacity
        self.mv = {name: memoryview(column) for name, column in self.columns.items()}
        self.on_move: list[Callable[[], None]] = []  # told when the arrays move (growth)

    @staticmethod
    def _empty(name: str, capacity: int, ready: int) -> np.ndarray:
        """A column with its first ``ready`` slots set to the value of a new record (the draws
        are set by :class:`SpareDraws`). The other slots are left as they are: never written,
        they take no memory (not even zeros)."""
        if name in ATTRIBUTES:
            dtype = ATTRIBUTES[name]
        elif name in TIMES:
            dtype = np.float64
        elif name in OUTCOMES:
            dtype = np.int8
        else:  # a draw
            dtype = np.float32
        column = np.empty(capacity, dtype=dtype)
        small_pages_past(column, ready)
        if name in _UNSET:
            column[:ready] = _UNSET[name]
        return column

    def _prepare(self, needed: int) -> None:
        """Set the spare slots up to ``needed`` (and some way past it) for new records."""
        ready = min(self.capacity, max(needed, self._ready + READY_AHEAD))
        for name, value in _UNSET.items():
            if name in self.columns:
                self.columns[name][self._ready : ready] = value
        self._spare.fill(self.columns, self._ready, ready)
        self._ready = ready

    def _grow(self, capacity: int) -> None:
        _check_capacity(capacity)
        old = self.capacity
        columns = {}
        for name in self.names:
            column = self._empty(name, capacity, self._ready)
            column[: self._ready] = self.columns[name][: self._ready]
            columns[name] = column
        self._spare.reserve(old, capacity - old)
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


def indices_where(*parts: tuple[np.ndarray, int]) -> np.ndarray:
    """The indices where each mask is true, plus its offset, one part after the other: what
    ``np.concatenate([np.flatnonzero(mask) + offset, ...])`` gives, made a chunk at a time
    with no temporary array of the result's size; as record numbers, 32-bit."""
    out = np.empty(sum(int(np.count_nonzero(mask)) for mask, _ in parts), ATTRIBUTES["parent"])
    filled = 0
    for mask, offset in parts:
        for first in range(0, len(mask), _CHUNK):
            found = np.flatnonzero(mask[first : first + _CHUNK])
            found += offset + first
            out[filled : filled + len(found)] = found
            filled += len(found)
    return out


def _check_capacity(capacity: int) -> None:
    """Record numbers (``parent``) are 32-bit."""
    if capacity > np.iinfo(ATTRIBUTES["parent"]).max:
        raise ValueError(f"{capacity:,} records are more than a run can number")
