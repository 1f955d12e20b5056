"""Random number streams: one numpy Generator per purpose, all from one seed.

Each purpose (arrivals, decisions, appeals, ...) has its own stream, spawned from the seed by a
fixed key, so adding draws for one purpose never shifts another's numbers. Two scenarios run
with the same seed and replication therefore see the same arrivals and the same per-person
draws (common random numbers), and a run is bit-identical in any process on any machine.
"""

from __future__ import annotations

import zlib

import numpy as np

#: Stable keys: never renumber, only append.
PURPOSES = {
    "arrivals": 0,
    "attributes": 1,
    "decisions": 2,
    "appeals": 3,
    "after_refusal": 4,
    "initial_state": 5,
    "dynamic": 6,
}


class RandomStreams:
    """The generators of one replication of one run."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        if seed < 0 or replication < 0:
            raise ValueError("seed and replication must be non-negative integers")
        self.seed = int(seed)
        self.replication = int(replication)
        self._cache: dict[str, np.random.Generator] = {}

    def _key(self, purpose: str) -> int:
        if purpose in PURPOSES:
            return PURPOSES[purpose]
        # Policies and other plug-ins: a stable key derived from the name, far from the core's.
        return 1000 + zlib.crc32(purpose.encode("utf-8"))

    def __getitem__(self, purpose: str) -> np.random.Generator:
        """The generator for ``purpose`` (created on first use, then the same object)."""
        if purpose not in self._cache:
            sequence = np.random.SeedSequence(
                entropy=self.seed, spawn_key=(self.replication, self._key(purpose))
            )
            self._cache[purpose] = np.random.Generator(np.random.PCG64(sequence))
        return self._cache[purpose]
