"""Waiting times of claims made in the run, counting those still waiting at the end date.

A run stops at its end date while many claims are still waiting. Figures over the claims that
finished keep only the waits short enough to end within the run and drop the rest, so they
understate waits, most of all where the queue is long or growing. Here a claim still waiting
at the end date counts as a wait of at least the days it has waited so far (right-censored),
and the distribution of waits is the Kaplan-Meier estimate (:func:`scipy.stats.ecdf`).

Two waits are measured from the claim: to the initial decision (a grant or a refusal) and to
the final outcome (a grant at decision, an appeal allowed, or appeal rights exhausted). The
claims are those made in the run: new claims, further submissions and re-entries; not the
stocks of the start date, and not people a policy brought back to claim again (their wait
began before, on their first arrival). A claim that is withdrawn (by the claimant, or through
a policy such as a voluntary return before decision) is followed until the withdrawal and
censored there, so the figures are the waits of a claimant who stays; claims a policy diverted
on arrival never join the UK queue and are left out.

Kaplan-Meier treats every claim made in the run as drawn from one distribution of waits: long
waits are estimated from the early claims, the only ones followed that long. Where waits grow
over the run (a backlog building up), the late claims that would wait longest are the most
censored, so the estimate still understates them, though far less than finished-only figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.records import AppealOutcome, DecisionOutcome, ExitOutcome, Origin
from .outcomes import PERCENTILES

#: Records whose claim was made in the run.
IN_RUN = (Origin.NEW_CLAIM, Origin.FURTHER_SUBMISSION, Origin.REENTRY)


@dataclass(frozen=True)
class Waits:
    """Days from claim, for the claims made in the run that were followed for this wait.

    ``finished``: waits that ended within the run; ``withdrawn``: days to a withdrawal before
    the wait ended (censored); ``still_waiting``: days waited so far by claims still waiting
    at the end date (censored)."""

    finished: np.ndarray
    withdrawn: np.ndarray
    still_waiting: np.ndarray

    @property
    def censored(self) -> np.ndarray:
        return np.concatenate([self.withdrawn, self.still_waiting])


def _split(records: dict[str, np.ndarray], end: np.ndarray, horizon: float) -> Waits:
    """Claims made in the run, by whether ``end`` (the time the wait ended, NaN if it did not)
    came within the run, a withdrawal came first, or they were still waiting at the end."""
    t_claim = records["t_claim"]
    dec = records["dec_outcome"]
    claims = np.isin(records["origin"], IN_RUN) & (dec != DecisionOutcome.DIVERTED)
    finished = claims & (end <= horizon)  # NaN compares False
    withdrawn = (
        claims & ~finished & (dec == DecisionOutcome.WITHDRAWN) & (records["t_dec_end"] <= horizon)
    )
    waiting = claims & ~finished & ~withdrawn
    return Waits(
        finished=end[finished] - t_claim[finished],
        withdrawn=records["t_dec_end"][withdrawn] - t_claim[withdrawn],
        still_waiting=horizon - t_claim[waiting],
    )


def decision_times(records: dict[str, np.ndarray]) -> np.ndarray:
    """When each record's initial decision (grant or refusal) was made; NaN if none."""
    dec = records["dec_outcome"]
    decided = np.isin(dec, (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED))
    return np.where(decided, records["t_dec_end"], np.nan)


def final_outcome_times(records: dict[str, np.ndarray]) -> np.ndarray:
    """When each record reached its final outcome: a grant at decision, an appeal allowed, or
    appeal rights exhausted; NaN if none."""
    final = np.full(len(records["origin"]), np.nan)
    granted = records["dec_outcome"] == DecisionOutcome.GRANTED
    final[granted] = records["t_dec_end"][granted]
    allowed = records["app_outcome"] == AppealOutcome.ALLOWED
    final[allowed] = records["t_app_end"][allowed]
    at_are = records["exit_outcome"] != ExitOutcome.NONE
    final[at_are] = records["t_are"][at_are]
    return final


def waits(records: dict[str, np.ndarray], horizon: float) -> dict[str, Waits]:
    """Both waits of the claims made in the run, keyed by their names in the outcomes."""
    return {
        "initial_decision": _split(records, decision_times(records), horizon),
        "final_outcome": _split(records, final_outcome_times(records), horizon),
    }


def kaplan_meier(finished: np.ndarray, censored: np.ndarray, horizon: float) -> dict[str, float]:
    """Percentiles and restricted mean of a wait from finished and right-censored waits.

    The q-th percentile is the shortest wait by which the Kaplan-Meier estimate says q% of
    claims are done; NaN when the estimate never reaches q% (not reached within the run).
    The restricted mean is the area under the survival curve up to ``horizon`` days: the mean
    of the wait capped at the run's length (a lower bound of the mean while some claims wait
    longer than that).
    """
    out = {f"p{q}": float("nan") for q in PERCENTILES}
    out["restricted_mean"] = float("nan")
    if len(finished) + len(censored) == 0:
        return out
    if len(censored):
        times, left = survival(finished, censored)  # left: surviving just after
    else:
        from scipy import stats  # here, not at the top: importing the package stays cheap

        estimate = stats.ecdf(stats.CensoredData(uncensored=finished, right=censored)).sf
        times, left = estimate.quantiles, estimate.probabilities
    done = 1.0 - left
    for q in PERCENTILES:
        reached = np.flatnonzero(done >= q / 100 - 1e-12)  # rounding in the running product
        if len(reached):
            out[f"p{q}"] = float(times[reached[0]])
    edges = np.append(np.minimum(times, horizon), horizon)
    out["restricted_mean"] = float(edges[0] + np.sum(left * np.diff(edges)))
    return out


def survival(finished: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan-Meier estimate from finished and right-censored waits: the distinct waits
    and the share of claims still waiting just after each.

    The same arithmetic as :func:`scipy.stats.ecdf` on right-censored data, to the last bit
    (at each distinct wait t, with n claims still waiting just before it and d finishing at
    it, the running product of (n - d) / n), in a fraction of its memory: scipy builds a
    Python list with an entry per claim, and an index and a copy of every wait to sort them;
    here the waits are sorted in place and deaths counted by bisection."""
    waits = np.concatenate([finished, censored])
    waits.sort()
    total = len(waits)
    first = np.empty(total, dtype=bool)  # first of each run of equal waits
    first[0] = True
    np.greater(waits[1:], waits[:-1], out=first[1:])
    at = np.flatnonzero(first)
    del first
    times = waits[at]
    del waits
    at_risk = np.subtract(total, at, out=at)
    ended = np.sort(finished)
    deaths = np.searchsorted(ended, times, side="right")  # finished by each distinct wait
    del ended
    deaths[1:] = np.diff(deaths)
    np.subtract(at_risk, deaths, out=deaths)
    left = np.divide(deaths, at_risk)
    del deaths, at_risk
    return times, np.cumprod(left, out=left)


def finished_only(values: np.ndarray) -> dict[str, float]:
    """Mean and percentiles of the waits that ended within the run (linear interpolation)."""
    values = values[np.isfinite(values)]
    out = {"mean": float(values.mean()) if len(values) else float("nan")}
    quantiles = np.percentile(values, PERCENTILES) if len(values) else [np.nan] * len(PERCENTILES)
    for q, value in zip(PERCENTILES, quantiles, strict=True):
        out[f"p{q}"] = float(value)  # one partial sort for every percentile
    return out


def outcomes(records: dict[str, np.ndarray], horizon: float) -> dict[str, float]:
    """Every waiting-time outcome of a run (names as declared in :mod:`.outcomes`)."""
    values: dict[str, float] = {}
    ends = {"initial_decision": decision_times, "final_outcome": final_outcome_times}
    for what, end in ends.items():  # one at a time: each wait is a few arrays per claim
        wait = _split(records, end(records), horizon)
        estimate = kaplan_meier(wait.finished, wait.censored, horizon)
        for key, value in estimate.items():
            values[f"days_to_{what}_{key}"] = value
        waiting = wait.still_waiting
        values[f"days_waited_so_far_{what}_mean"] = (
            float(waiting.mean()) if len(waiting) else float("nan")
        )
        values[f"days_waited_so_far_{what}_median"] = (
            float(np.median(waiting)) if len(waiting) else float("nan")
        )
        for key, value in finished_only(wait.finished).items():
            values[f"days_to_{what}_finished_{key}"] = value
    return values
