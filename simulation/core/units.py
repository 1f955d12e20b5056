"""Units of time. The model's clock runs in days since the scenario's start date."""

from __future__ import annotations

import math

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
DAYS_PER_WEEK = 7
INF = math.inf


def per_day(per_year: float) -> float:
    """A rate per year as a rate per day."""
    return per_year / DAYS_PER_YEAR
