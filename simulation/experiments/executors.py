"""Where a sweep's chunks of runs execute: here, on local processes, or on a Dask cluster.

Each executor takes a function and a sequence of tasks and yields ``(index, result)`` pairs
as tasks finish, in whatever order they finish. A few tasks per worker are in flight at a
time, so a sequence that builds its tasks when asked keeps memory flat however many there
are. The function and its tasks must be picklable; on a Dask cluster the package must be
installed on every worker. Results do not depend on the executor: every run draws from
streams keyed by its seed and replication alone.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol, TypeVar

from ..core.errors import InputError
from . import interrupts

T = TypeVar("T")
R = TypeVar("R")

#: tasks in flight per Dask worker thread
IN_FLIGHT_PER_WORKER = 4
#: how long stopped worker processes get to end before they are killed, seconds
STOP_SECONDS = 2.0
#: how often an idle worker process checks that the process that started it still runs, s
PARENT_CHECK_SECONDS = 1.0
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
            result = function(task)
            interrupts.checkpoint()
            yield index, result

    def close(self) -> None:
        return None


class Processes:
    """Local processes (all cores by default).

    Each worker holds one task at a time and is sent the next as soon as it returns a
    result. Workers ignore Ctrl-C; when the caller stops early (Ctrl-C, an error, or it
    simply stops asking), the tasks not yet started are dropped and the workers are
    terminated at once, so nothing runs on and nothing waits for runs whose results would
    be thrown away. A worker that dies (killed, out of memory) is a BrokenProcessPool.
    """

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise InputError("executor", [("workers", f"must be at least 1, got {workers}")])
        self.workers = workers or default_workers()
        self.name = f"{self.workers} local processes"

    def imap(self, function, tasks):
        total = len(tasks)
        if total == 0:
            return
        pool = _Pool(min(self.workers, total))
        done = False
        try:
            running: dict[_Worker, int] = {}
            submitted = 0

            def give(worker: _Worker) -> None:
                nonlocal submitted
                if submitted < total:
                    worker.send((function, tasks[submitted]))
                    running[worker] = submitted
                    submitted += 1

            for worker in pool.workers:
                give(worker)
            while running:
                for worker, outcome in pool.finished(running):
                    index = running.pop(worker)
                    if isinstance(outcome, _Failed):
                        raise outcome.raised()
                    give(worker)  # before the caller handles the result
                    yield index, outcome
            done = True
        finally:
            with interrupts.deferred(reraise=False):  # a second Ctrl-C cannot cut this short
                if done:
                    pool.close()
                else:
                    pool.terminate()

    def close(self) -> None:
        return None


@dataclass
class _Failed:
    """A task that raised in a worker: the exception and the worker's traceback."""

    exception: BaseException
    traceback: str

    def raised(self) -> BaseException:
        self.exception.__cause__ = WorkerTraceback(self.traceback)
        return self.exception


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker process (set as its cause)."""

    def __str__(self) -> str:
        return f"\n\n(in a worker process)\n{self.args[0]}"


def _serve(connection: Connection, parent: int) -> None:
    """A worker's loop: run ``(function, task)`` pairs until told to stop (None), or until
    the process that started it is gone."""
    interrupts.ignore_in_worker()
    while True:
        while not connection.poll(PARENT_CHECK_SECONDS):
            if os.getppid() != parent:  # the parent was killed: nobody wants the result
                return
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        function, task = message
        try:
            outcome: Any = function(task)
        except Exception as exc:  # sent back and raised in the parent
            outcome = _Failed(exc, traceback.format_exc())
        try:
            connection.send(outcome)
        except Exception as exc:  # the result or exception does not pickle
            problem = RuntimeError(f"cannot send back {type(outcome).__name__}: {exc}")
            connection.send(_Failed(problem, traceback.format_exc()))


class _Worker:
    def __init__(self, context) -> None:
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, os.getpid()), daemon=True)
        self.process.start()
        theirs.close()

    def send(self, message: Any) -> None:
        self.connection.send(message)


class _Pool:
    """Worker processes, each on its own pipe: no threads and no shared queues, so that
    stopping them is terminating them, and nothing can be left blocked on a full pipe."""

    def __init__(self, size: int) -> None:
        context = multiprocessing.get_context()
        self.workers: list[_Worker] = []
        try:
            for _ in range(size):
                self.workers.append(_Worker(context))
        except BaseException:
            self.terminate()
            raise

    def finished(self, running: dict[_Worker, int]) -> list[tuple[_Worker, Any]]:
        """Wait until some running workers have finished; their outcomes."""
        by_handle: dict[Any, _Worker] = {}
        for worker in running:
            by_handle[worker.connection] = worker
            by_handle[worker.process.sentinel] = worker
        ready = wait(list(by_handle))
        out, seen = [], set()
        for handle in ready:
            worker = by_handle[handle]
            if worker in seen:
                continue
            seen.add(worker)
            try:
                if not worker.connection.poll():
                    raise EOFError
                out.append((worker, worker.connection.recv()))
            except (EOFError, OSError):
                worker.process.join(STOP_SECONDS)
                raise BrokenProcessPool(
                    f"a worker process ended unexpectedly (exit code "
                    f"{worker.process.exitcode}) while running task {running[worker]}; "
                    "killed, or out of memory?"
                ) from None
        return out

    def close(self) -> None:
        """Let idle workers end; terminate any that do not within STOP_SECONDS."""
        for worker in self.workers:
            with suppress(OSError):  # already gone
                worker.send(None)
        self._join()

    def terminate(self) -> None:
        """End every worker now, whatever it is running."""
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()
        self._join()

    def _join(self) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.workers:
            worker.process.join(max(deadline - time.monotonic(), 0.0))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()


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
        done = False
        try:
            for future in finished:
                result = future.result()
                i = index.pop(future.key)
                future.release()
                if submitted < total:
                    finished.add(submit(submitted))
                    submitted += 1
                yield i, result
            done = True
        finally:
            if not done:  # stopped early: what has not run is cancelled on the cluster
                with interrupts.deferred(reraise=False):
                    self._cancel(finished)

    def _cancel(self, finished) -> None:
        outstanding = list(finished.futures)
        finished.clear()
        with suppress(Exception):  # the cluster is gone: nothing left to cancel
            self.client.cancel(outstanding)

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
    cores; 1 or a single task: in this process). ``function`` and the tasks must pickle;
    ``progress(done, total)`` is called at the start (done 0) and as each task ends."""
    total = len(tasks)
    chosen: Executor = Serial() if workers == 1 or total <= 1 else Processes(workers)
    out: list[R | None] = [None] * total
    if progress:
        progress(0, total)
    with closing(chosen.imap(function, tasks)) as finished:  # stopped at once on an error
        for done, (index, result) in enumerate(finished, start=1):
            out[index] = result
            if progress:
                progress(done, total)
    chosen.close()
    return out  # type: ignore[return-value]
