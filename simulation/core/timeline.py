"""Vectorised counting over the run's days, for turning records into series.

Series are read at midnight at the start of each date, t = 0, 1, ..., horizon (days since the
start date), so the first row is the starting state and the last the state at the end date.
"""

from __future__ import annotations

import numpy as np


def _counts_up_to(times: np.ndarray, days: int) -> np.ndarray:
    """For t = 0..days, how many of ``times`` are <= t (times before 0 count from 0)."""
    times = times[np.isfinite(times)]
    index = np.ceil(np.maximum(times, 0.0))
    index = index[index <= days].astype(np.int64)
    return np.cumsum(np.bincount(index, minlength=days + 1))


def cumulative(times: np.ndarray, days: int) -> np.ndarray:
    """Number of events that happened at or before each midnight t = 0..days."""
    return _counts_up_to(np.asarray(times, dtype=float), days)


def stock(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """Number of intervals [start, end) covering each midnight t = 0..days.

    NaN starts are intervals that never began; NaN or infinite ends are still open.
    """
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    began = np.isfinite(start)
    return _counts_up_to(start[began], days) - _counts_up_to(end[began], days)


def per_day(times: np.ndarray, days: int) -> np.ndarray:
    """Events falling in each day [d, d+1), d = 0..days-1."""
    times = np.asarray(times, dtype=float)
    keep = np.isfinite(times) & (times >= 0) & (times < days)
    index = np.floor(times[keep]).astype(np.int64)
    return np.bincount(index, minlength=days)[:days].astype(float)
