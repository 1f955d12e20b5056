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


def nights(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """For each interval [start, end), the midnights t = 1..days it covers: the nights of
    days 0..days-1 a person in it is counted for (as ``stock(start, end, days)[1:]`` counts
    them). NaN starts are intervals that never began (no nights)."""
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    began = np.isfinite(start)
    first = np.ones(len(start))
    first[began] = np.maximum(np.ceil(np.maximum(start[began], 0.0)), 1.0)
    last = np.minimum(np.ceil(np.maximum(np.nan_to_num(end, nan=np.inf), 0.0)) - 1.0, days)
    return np.where(began, np.maximum(last - first + 1.0, 0.0), 0.0)


def in_days(times: np.ndarray, days: int) -> np.ndarray:
    """Which events fall in days 0..days-1 (the events ``per_day`` counts)."""
    times = np.asarray(times, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(times) & (times >= 0) & (times < days)
