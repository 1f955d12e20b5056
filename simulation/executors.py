"""Where a sweep's chunks of runs execute: here, on local processes, or on a Dask cluster.

Each executor takes a function and a list of tasks and yields ``(index, result)`` pairs as
tasks finish, in whatever order they finish. The function and its tasks must be picklable;
on a Dask cluster the package must be installed on every worker. Results do not depend on
the executor: every run draws from streams keyed by its seed and replication alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from .parallel import default_workers


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
        self.workers = workers or default_workers()
        self.name = f"{self.workers} local processes"

    def imap(self, function, tasks):
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(function, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def close(self) -> None:
        return None


class Dask:
    """A dask.distributed cluster: a scheduler address, or a Client you made yourself.

    While the sweep runs, two worker settings that slow simulations are set aside and
    restored afterwards (see :mod:`simulation.dask_tuning`); ``tune_workers=False`` leaves the
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
            raise ValueError("give a scheduler address or a dask Client")
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
    """An executor from a name ("serial", "processes", "dask"), a client or an address."""
    if client is not None or scheduler is not None:
        return Dask(scheduler=scheduler, client=client)
    if executor is None or executor == "processes":
        return Processes(workers)
    if executor == "serial":
        return Serial()
    if executor == "dask":
        raise ValueError("the dask executor needs a scheduler address or a client")
    if isinstance(executor, str):
        raise ValueError(f"unknown executor {executor!r}; use serial, processes or dask")
    return executor
