"""Running independent simulations on several processes.

Every run is identified by (scenario, seed, replication) and draws its random numbers from
streams keyed by those alone, so a run gives the same result whichever process runs it and in
whatever order. Results come back in the order of the tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_in_processes(
    function: Callable[[T], R],
    tasks: Sequence[T],
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``[function(t) for t in tasks]``, on ``workers`` processes (None: all cores).

    ``function`` and the tasks must be picklable (a module-level function and plain data).
    """
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    total = len(tasks)
    if workers == 1 or total <= 1:
        out = []
        for done, task in enumerate(tasks, start=1):
            out.append(function(task))
            if progress:
                progress(done, total)
        return out
    results: list[R | None] = [None] * total
    with ProcessPoolExecutor(max_workers=min(workers, total)) as pool:
        futures = {pool.submit(function, task): index for index, task in enumerate(tasks)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, total)
    return results  # type: ignore[return-value]
