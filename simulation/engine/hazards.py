"""Waiting times under a hazard rate that changes at known times.

A person entering a stage at time ``s`` carries a unit exponential draw ``e``; the event
happens when the hazard accumulated since ``s`` reaches ``e``. With a constant rate that is
``s + e / rate``. When a policy changes the rate from a date on (an incentive to leave, say),
the same draw gives the event time under the new rate, so a person's fate changes only as much
as the policy changes it (common random numbers), and people already waiting when the rate
changes are treated exactly (the hazard is memoryless).
"""

from __future__ import annotations

import bisect
import math

import numpy as np

INF = math.inf


class PiecewiseHazard:
    """A hazard rate (per day) that is constant between change times."""

    __slots__ = ("times", "rates", "constant")

    def __init__(self, times: list[float], rates: list[float]) -> None:
        if len(times) != len(rates) or not times or times[0] != -INF:
            raise ValueError("need rates from -inf onwards, one per change time")
        if any(r < 0 for r in rates):
            raise ValueError("hazard rates must be non-negative")
        self.times = list(times)
        self.rates = list(rates)
        self.constant = rates[0] if len(rates) == 1 else None

    @classmethod
    def from_schedule(
        cls, times: np.ndarray, rates: np.ndarray, steps: list[tuple[float, float]]
    ) -> PiecewiseHazard:
        """A base rate that changes at ``times`` (the first holds from -inf, as
        ``schedules.steps`` gives it), multiplied from each step's time on by that step's
        factor (cumulative: policies multiply the rate)."""
        base = dict(zip(times[1:].tolist(), rates[1:].tolist(), strict=True))
        factors: dict[float, float] = {}
        for time, factor in steps:
            factors[time] = factors.get(time, 1.0) * factor
        current, product = float(rates[0]), 1.0
        out_times, out_rates = [-INF], [current]
        for time in sorted(set(base) | set(factors)):
            factor = factors.get(time, 1.0)
            if factor == 1.0 and time not in base:
                continue  # no change: keep one piece, so the arithmetic is the constant rate's
            product *= factor
            current = base[time] * product if time in base else current * factor
            out_times.append(time)
            out_rates.append(current)
        return cls(out_times, out_rates)

    def time_of(self, start: float, exposure: float) -> float:
        """When the hazard accumulated from ``start`` reaches ``exposure``."""
        if self.constant is not None:
            constant = self.constant
            return start + exposure / constant if constant > 0 else INF
        index = bisect.bisect_right(self.times, start) - 1
        t = start
        while True:
            rate = self.rates[index]
            end = self.times[index + 1] if index + 1 < len(self.times) else INF
            if rate > 0:
                reach = t + exposure / rate
                if reach <= end:
                    return reach
                exposure -= (end - t) * rate
            if end == INF:
                return INF
            t = end
            index += 1

    def times_of(self, start: np.ndarray, exposure: np.ndarray) -> np.ndarray:
        """:meth:`time_of` for arrays of starts and exposures."""
        if self.constant is not None:
            if self.constant <= 0:
                return np.full(len(exposure), INF)
            with np.errstate(over="ignore"):  # a tiny hazard: never, in effect
                return start + exposure / self.constant
        # Python floats: a tiny rate gives inf (never, in effect) without an overflow warning
        pairs = zip(
            np.asarray(start, float).tolist(), np.asarray(exposure, float).tolist(), strict=True
        )
        return np.array([self.time_of(s, e) for s, e in pairs])
