"""Where a sweep's chunks of runs execute: here, on local processes, or on a Dask cluster.

Each executor takes a function and a sequence of tasks and yields ``(index, result)`` pairs
as tasks finish, in whatever order they finish. A few tasks per worker are in flight at a
time, so a sequence that builds its tasks when asked keeps memory flat however many there
are. The function and its tasks must be picklable; on a Dask cluster the package must be
installed on every worker. Results do not depend on the executor: every run draws from
streams keyed by its seed and replication alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from ..core.errors import InputError

T = TypeVar("T")
R = TypeVar("R")

#: tasks in flight per worker process or thread
IN_FLIGHT_PER_WORKER = 4
#: tasks in flight on a Dask cluster at least (workers may join once the sweep has started)
DASK_IN_FLIGHT_AT_LEAST = 1000
#: how long to try to reach a Dask scheduler before giving up, seconds
CONNECT_TIMEOUT_SECONDS = 5.0


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
        total = len(tasks)
        workers = min(self.workers, max(total, 1))
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            pending: dict = {}
            submitted = 0
            while pending or submitted < total:
                while submitted < total and len(pending) < IN_FLIGHT_PER_WORKER * workers:
                    pending[pool.submit(function, tasks[submitted])] = submitted
                    submitted += 1
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield pending.pop(future), future.result()
        finally:  # stopped early (an error, Ctrl-C): tasks not started are dropped
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        return None


class Dask:
    """A dask.distributed cluster: a scheduler address, or a Client you made yourself.

    While the sweep runs, two worker settings that slow simulations are set aside and
    restored afterwards (see :mod:`.dask_tuning`); ``tune_workers=False`` leaves the
    workers alone. A scheduler that cannot be reached within ``connect_timeout`` seconds is
    an InputError naming ``scheduler``.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        client=None,
        tune_workers: bool = True,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
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
        self.client = client if client is not None else _connect(Client, scheduler, connect_timeout)
        self.name = f"Dask at {self.client.scheduler.address}"
        self._tuned: list[str] = []
        if tune_workers:
            from .dask_tuning import set_aside

            self._tuned = list(self.client.run(set_aside))

    def imap(self, function, tasks):
        from distributed import as_completed as dask_completed

        total = len(tasks)
        threads = sum(self.client.nthreads().values())
        in_flight = max(DASK_IN_FLIGHT_AT_LEAST, IN_FLIGHT_PER_WORKER * threads)
        index: dict = {}

        def submit(i: int):
            future = self.client.submit(function, tasks[i], pure=False)
            index[future.key] = i
            return future

        submitted = min(in_flight, total)
        finished = dask_completed([submit(i) for i in range(submitted)])
        for future in finished:
            result = future.result()
            i = index.pop(future.key)
            future.release()
            if submitted < total:
                finished.add(submit(submitted))
                submitted += 1
            yield i, result

    def close(self) -> None:
        if self._tuned:  # workers that have left since are skipped
            from .dask_tuning import restore

            self.client.run(restore, workers=self._tuned, on_error="ignore")
            self._tuned = []
        if self._own:
            self.client.close()


def _connect(client_class, scheduler: str, timeout: float):
    """A Client of the scheduler at ``scheduler``, or an InputError within ``timeout`` s."""
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InputError(
            "dask", [("scheduler", f"must be an address like tcp://HOST:8786, got {scheduler!r}")]
        )
    try:
        return client_class(scheduler, timeout=timeout)
    except ValueError as exc:  # not an address at all
        reason = f"is not a scheduler address ({exc}); give one like tcp://HOST:8786"
    except OSError as exc:  # refused, unknown host, timed out (TimeoutError is an OSError)
        reason = (
            f"cannot be reached within {timeout:g} s ({exc}); is `dask scheduler` running "
            "there, and is the address the one it printed?"
        )
    raise InputError("dask", [("scheduler", f"{scheduler} {reason}")])


def make(
    executor: str | Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> Executor:
    """An executor from a name ("serial", "processes", "dask"), an executor object, a dask
    Client (as ``executor`` or ``client``) or a scheduler address."""
    if client is not None or scheduler is not None:
        return Dask(scheduler=scheduler, client=client, connect_timeout=connect_timeout)
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
