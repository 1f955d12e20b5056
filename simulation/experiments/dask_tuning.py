"""Settings of a Dask worker that slow a simulation, set aside while a sweep runs.

Two defaults of dask.distributed slow a simulation on a worker (figures in docs/sweeps.md):

- the nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting any malloc
  threshold switches off glibc's adaptive mmap threshold, so every array between 128 KiB and
  32 MiB is a fresh ``mmap`` whose pages fault in one by one (a 2-year baseline run: 3x the
  page faults, and a tenth more CPU time, all of it in the kernel). While a sweep runs, the
  mmap threshold is raised to 32 MiB, glibc's own upper bound for the adaptive threshold, so
  such arrays reuse freed heap memory as they would in a plain process. Dask's trim
  threshold stays, so freed memory still returns to the system; the pages a sweep keeps are
  bounded by what one simulation uses.
- the statistical profiler samples the computing thread's stack every 10 ms for the
  dashboard, a few per cent of a run; it is paused.

Both are restored when the last sweep on that worker ends. Calls nest: a worker shared by
two sweeps is restored when both have finished.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import threading

M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
RAISED_MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX (64-bit)
FIXED_MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default once thresholds are fixed


class _Held:
    """What this worker process set aside, and for how many sweeps."""

    lock = threading.Lock()
    sweeps = 0
    profiler_was_running = False
    mmap_raised = False


def _mallopt():
    """glibc's mallopt, or None where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.mallopt
    except (OSError, AttributeError):
        return None


def _fixed_by_environment() -> bool:
    """Whether this process started with a fixed malloc threshold and no mmap threshold."""
    return "MALLOC_TRIM_THRESHOLD_" in os.environ and "MALLOC_MMAP_THRESHOLD_" not in os.environ


def _profile_callback(dask_worker):
    return getattr(dask_worker, "periodic_callbacks", {}).get("profile")


def set_aside(dask_worker=None) -> None:
    """Pause the profiler and raise the mmap threshold on this worker (``client.run``)."""
    with _Held.lock:
        _Held.sweeps += 1
        if _Held.sweeps > 1:
            return
        callback = _profile_callback(dask_worker)
        _Held.profiler_was_running = bool(callback is not None and callback.is_running())
        if _Held.profiler_was_running:
            callback.stop()
        mallopt = _mallopt() if _fixed_by_environment() else None
        _Held.mmap_raised = bool(
            mallopt and mallopt(M_MMAP_THRESHOLD, RAISED_MMAP_THRESHOLD_BYTES) == 1
        )


def restore(dask_worker=None) -> None:
    """Undo :func:`set_aside` once every sweep holding this worker has finished."""
    with _Held.lock:
        if _Held.sweeps == 0:
            return
        _Held.sweeps -= 1
        if _Held.sweeps > 0:
            return
        callback = _profile_callback(dask_worker)
        if _Held.profiler_was_running and callback is not None:
            callback.start()
        mallopt = _mallopt() if _Held.mmap_raised else None
        if mallopt is not None:
            mallopt(M_MMAP_THRESHOLD, FIXED_MMAP_THRESHOLD_BYTES)
        _Held.profiler_was_running = _Held.mmap_raised = False
