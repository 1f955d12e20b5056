"""The revolving door: who comes back after leaving the UK, and when.

A person who leaves (an enforced removal, a voluntary departure, or leaving from a place a
policy holds abroad, such as a return hub) comes back as a new claimant with a probability
and after an exponential delay that depend on how they left, their nationality group and the
date they left. The scenario gives a default share (which may change on dates) and mean delay,
and rules that override them for some kinds of exit and some groups; a later rule overrides
an earlier one for the kinds and groups it names.

Each person carries one uniform and one unit exponential draw for this, so comparing two
scenarios that differ only in these rates keeps everyone else's fate (common random numbers).

Policies may deter re-entrants as they deter new arrivals: a factor in [0, 1] (the product of
the policies' ``reentry_multiplier`` at the time the person would come back) multiplies the
share, and the person comes back if their uniform is below share x factor. A factor of 1
changes nothing, and no new draw is made.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from ..core import schedules
from ..inputs.scenario import Scenario

#: how a person left the UK
KINDS = ("enforced", "voluntary", "from_policy")
ENFORCED, VOLUNTARY, FROM_POLICY = range(3)


class _Share:
    """A share that may change on dates, read at a time in days since the start."""

    __slots__ = ("constant", "times", "values")

    def __init__(self, value: schedules.ScheduleValue, scenario: Scenario) -> None:
        times, values = schedules.steps(value, scenario.start_date)
        self.constant = float(values[0]) if len(values) == 1 else None
        self.times = times.tolist()
        self.values = values.tolist()

    def at(self, t: float) -> float:
        if self.constant is not None:
            return self.constant
        index = bisect_right(self.times, t) - 1
        return self.values[max(index, 0)]

    def at_many(self, t: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(len(t), self.constant)
        index = np.searchsorted(np.asarray(self.times), t, side="right") - 1
        return np.asarray(self.values)[np.clip(index, 0, len(self.values) - 1)]


class Reentry:
    """Share and mean delay of return, by kind of exit and nationality group."""

    def __init__(self, scenario: Scenario) -> None:
        after = scenario.after_refusal
        groups = list(scenario.nationality_groups)
        base = _Share(after.reentry_share, scenario)
        self.share: list[list[_Share]] = [[base] * len(groups) for _ in KINDS]
        self.delay: list[list[float]] = [
            [after.reentry_mean_delay_days] * len(groups) for _ in KINDS
        ]
        for rule in after.reentry_rules:
            kinds = [KINDS.index(k) for k in rule.kinds] if rule.kinds else range(len(KINDS))
            chosen = [groups.index(g) for g in rule.groups] if rule.groups else range(len(groups))
            share = None if rule.share is None else _Share(rule.share, scenario)
            for kind in kinds:
                for group in chosen:
                    if share is not None:
                        self.share[kind][group] = share
                    if rule.mean_delay_days is not None:
                        self.delay[kind][group] = rule.mean_delay_days

    def comes_back(
        self, kind: int, group: int, u: float, t: float, multiplier: float = 1.0
    ) -> bool:
        """Whether a person of ``group`` with draw ``u`` who left at ``t`` comes back, with
        the share multiplied by the policies' deterrence ``multiplier``."""
        share = self.share[kind][group]
        return u < share.at(t) * multiplier

    def comes_back_many(
        self, kind: int, groups: np.ndarray, u: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        out = np.zeros(len(u), dtype=bool)
        for group in np.unique(groups):
            mine = groups == group
            out[mine] = u[mine] < self.share[kind][int(group)].at_many(t[mine])
        return out

    def mean_delay(self, kind: int, group: int) -> float:
        return self.delay[kind][group]
