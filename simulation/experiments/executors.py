"""Where a sweep's chunks of runs execute: here, on local processes, or on a Dask cluster.

Each executor takes a function and a list of tasks and yields ``(index, result)`` pairs as
tasks finish, in whatever order they finish. The function and its tasks must be picklable;
on a Dask cluster the package must be installed on every worker. Results do not depend on
the executor: every run draws from streams keyed by its seed and replication alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

from ..core.errors import InputError

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Executor(Protocol):
    name: str

    def imap(self, function: Callable, tasks: Sequence) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None: ...


class Serial:
    """One task after another in this process."""

    name = "serial"

    def imap(self, function, tasks):
        for index, task in enumerate(tasks):
            yield index, function(task)

    def close(self) -> None:
        return None


class Processes:
    """Local processes (all cores by default)."""

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise InputError("executor", [("workers", f"must be at least 1, got {workers}")])
        self.workers = workers or default_workers()
        self.name = f"{self.workers} local processes"

    def imap(self, function, tasks):
        with ProcessPoolExecutor(max_workers=min(self.workers, max(len(tasks), 1))) as pool:
            futures = {pool.submit(function, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def close(self) -> None:
        return None


class Dask:
    """A dask.distributed cluster: a scheduler address, or a Client you made yourself.

    While the sweep runs, two worker settings that slow simulations are set aside and
    restored afterwards (see :mod:`.dask_tuning`); ``tune_workers=False`` leaves the
    workers alone.
    """

    def __init__(
        self, scheduler: str | None = None, client=None, tune_workers: bool = True
    ) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "the Dask executor needs dask.distributed: pip install 'dask[distributed]'"
            ) from exc
        if client is None and scheduler is None:
            raise InputError("dask", [("scheduler", "give a scheduler address or a dask Client")])
        self._own = client is None
        self.client = client if client is not None else Client(scheduler)
        self.name = f"Dask at {self.client.scheduler.address}"
        self._tuned: list[str] = []
        if tune_workers:
            from .dask_tuning import set_aside

            self._tuned = list(self.client.run(set_aside))

    def imap(self, function, tasks):
        from distributed import as_completed as dask_completed

        futures = self.client.map(function, list(tasks), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        for future in dask_completed(futures):
            yield index[future.key], future.result()
            future.release()

    def close(self) -> None:
        if self._tuned:  # workers that have left since are skipped
            from .dask_tuning import restore

            self.client.run(restore, workers=self._tuned, on_error="ignore")
            self._tuned = []
        if self._own:
            self.client.close()


def make(
    executor: str | Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
) -> Executor:
    """An executor from a name ("serial", "processes", "dask"), an executor object, a dask
    Client (as ``executor`` or ``client``) or a scheduler address."""
    if client is not None or scheduler is not None:
        return Dask(scheduler=scheduler, client=client)
    if executor is None or executor == "processes":
        return Processes(workers)
    if executor == "serial":
        return Serial()
    if executor == "dask":
        raise InputError("executor", [("dask", "needs a scheduler address or a client")])
    if isinstance(executor, str):
        raise InputError(
            "executor", [(executor, "unknown executor; use serial, processes or dask")]
        )
    if hasattr(executor, "imap") and hasattr(executor, "close"):
        return executor
    if hasattr(executor, "scheduler") and hasattr(executor, "submit"):  # a dask Client
        return Dask(client=executor)
    raise InputError(
        "executor",
        [("executor", f"{type(executor).__name__} is not an executor, a name or a dask Client")],
    )


def map_ordered(
    function: Callable[[T], R],
    tasks: Sequence[T],
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``[function(t) for t in tasks]``, in order, on ``workers`` local processes (None: all
    cores; 1 or a single task: in this process). ``function`` and the tasks must pickle."""
    total = len(tasks)
    chosen: Executor = Serial() if workers == 1 or total <= 1 else Processes(workers)
    out: list[R | None] = [None] * total
    for done, (index, result) in enumerate(chosen.imap(function, tasks), start=1):
        out[index] = result
        if progress:
            progress(done, total)
    chosen.close()
    return out  # type: ignore[return-value]
