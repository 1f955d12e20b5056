"""Will a run fit in memory? An estimate from the scenario, checked before anything runs.

A run keeps one record per passage of a person through the system
(:mod:`simulation.core.records`), so its memory grows with the number of records:

    records = (starting stocks + claims over the horizon) x (1 + p)

where the claims are the arrivals times their claim share, summed day by day over the
horizon, and ``p``, at most 1, is the chance that a record makes another: the largest
re-entry share plus the share of people with appeal rights exhausted who lodge further
submissions (their hazard over the sum of the hazards of leaving that stage). A whole-life
run holds the run's records while it follows the people left at the end, so it needs about
twice as much.

Each record takes :data:`BYTES_PER_RECORD` bytes at the peak of a run: the record columns
(their dtypes in :mod:`simulation.core.records`, 133 bytes) times :data:`OVERHEAD`, measured
as the peak resident memory of one run minus that before it, over the records it made, with
a margin (docs/scenarios.md says how). A run whose estimate does not fit in the memory
available now is refused; the environment variable ``ASYLUM_SIM_MAX_RECORDS`` replaces the
limit (the most records a run may make), for a machine where the estimate is too cautious or
another process will free memory.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import numpy as np

from ..core import schedules
from ..core.errors import InputError
from ..core.records import ATTRIBUTES, DRAWS, OUTCOMES, TIMES
from ..core.units import DAYS_PER_MONTH
from ..core.vocabulary import ROUTES
from .scenario import Scenario

#: the environment variable that sets the most records a run may make
MAX_RECORDS_VARIABLE = "ASYLUM_SIM_MAX_RECORDS"

#: bytes of one record's columns: attributes, times (float64), outcomes (int8), draws (float32)
COLUMN_BYTES = (
    sum(np.dtype(dtype).itemsize for dtype in ATTRIBUTES.values())
    + 8 * len(TIMES)
    + len(OUTCOMES)
    + 4 * sum(len(names) for names in DRAWS.values())
)
#: peak memory of a run over its records' column bytes: 146 to 177 bytes a record were
#: measured (docs/scenarios.md; 162 at most for a million records or more), and
#: 1.35 x 133 = 180 covers them, 11% above 162
OVERHEAD = 1.35
BYTES_PER_RECORD = math.ceil(COLUMN_BYTES * OVERHEAD)


class RunTooLargeError(InputError):
    """A run that would need more memory than this machine has available."""

    def __reduce__(self):  # rebuilt in the parent when raised in a worker process
        return type(self), (self.origin, self.problems)


def expected_records(scenario: Scenario) -> dict[str, float]:
    """The estimate and its parts: ``stocks``, ``claims``, ``factor`` and ``records``."""
    state = scenario.initial_state
    stocks = state.awaiting_decision_people + state.appeals_pending_people
    stocks += state.are_in_uk_people
    days, start = scenario.horizon_days, scenario.start_date
    claims = 0.0
    for route in ROUTES:
        arrivals = getattr(scenario.arrivals, route)
        per_day = schedules.daily(arrivals.rate_per_month, start, days) / DAYS_PER_MONTH
        claims += float(np.sum(per_day * schedules.daily(arrivals.claim_share, start, days)))
    after = scenario.after_refusal
    shares = [after.reentry_share] + [r.share for r in after.reentry_rules if r.share is not None]
    reentry = max(float(np.max(schedules.steps(share, start)[1])) for share in shares)
    leaving = float(np.min(schedules.steps(after.voluntary_departure_rate_per_year, start)[1]))
    leaving += after.further_submission_rate_per_year + after.absconding_rate_per_year
    further = after.further_submission_rate_per_year / leaving if leaving > 0 else 0.0
    factor = 1 + min(1.0, reentry + further)
    return {
        "stocks": float(stocks),
        "claims": claims,
        "factor": factor,
        "records": (stocks + claims) * factor,
    }


def available_bytes() -> int | None:
    """Memory this process could use now: the system's available memory, or the room left
    under the container's (cgroup) limit if that is less; None if it cannot be read."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            used = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:  # "max" or a huge number: no limit
            found.append(max(int(limit) - used, 0))
    return min(found) if found else None


def max_records(origin: str = "run") -> tuple[int | None, str]:
    """The most records a run may make, and where that limit comes from."""
    text = os.environ.get(MAX_RECORDS_VARIABLE)
    if text is not None and text.strip():
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise InputError(
                origin,
                [
                    (
                        MAX_RECORDS_VARIABLE,
                        f"must be a whole number of records, at least 1, got {text!r}",
                    )
                ],
            )
        return value, f"the environment variable {MAX_RECORDS_VARIABLE}={value}"
    available = available_bytes()
    if available is None:
        return None, "unknown available memory"
    return available // BYTES_PER_RECORD, (
        f"{available / 2**30:.1f} GiB available, room for about "
        f"{_count(available // BYTES_PER_RECORD)} records"
    )


def check(scenario: Scenario, whole_life: bool = False, origin: str = "run") -> None:
    """Refuse, before it starts, a run this machine cannot hold (RunTooLargeError)."""
    estimate = expected_records(scenario)
    needed = estimate["records"] * (2 if whole_life else 1)
    limit, because = max_records(origin)
    if limit is None or needed <= limit:
        return
    years = scenario.horizon_days / 365.25
    message = (
        f"the run would make about {_count(needed)} records (starting stocks "
        f"{_count(estimate['stocks'])} + claims {_count(estimate['claims'])} over {years:.3g} "
        f"years, x {estimate['factor']:.3g} for re-entries and further submissions"
        + (", x 2 for whole-life costs" if whole_life else "")
        + f"), about {needed * BYTES_PER_RECORD / 2**30:,.1f} GiB at {BYTES_PER_RECORD} bytes a "
        f"record, more than the limit ({because}). Shorten the run (end_date), lower "
        "arrivals.<route>.rate_per_month or the initial_state stocks, or set the environment "
        f"variable {MAX_RECORDS_VARIABLE} to the most records to allow"
    )
    raise RunTooLargeError(origin, [("memory", message)])


def _count(value: float) -> str:
    """A count for a message: 1.2 billion, 35 million, 268,859."""
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if value >= size:
            return f"{value / size:.3g} {word}"
    return f"{value:,.0f}"
