"""New arrivals: a Poisson stream per route whose monthly rate changes on given dates.

The whole stream of the run is drawn before the run starts, vectorised: per route and per
period of constant rate, a Poisson number of arrivals at uniform times. Each arrival carries
one uniform number ``u`` that decides both whether it happens at all when a policy scales the
rate down (deterrence: it arrives if ``u < multiplier``) and whether the person claims asylum
(``u < multiplier * claim_share``). A policy's multiplier may depend on each candidate's time,
route, nationality group and household. Scaling a rate therefore removes arrivals from the same
stream rather than drawing a new one, which keeps policy comparisons paired.

Attributes and per-person draws are made for every candidate arrival before thinning, so a
person who arrives under two policies is the same person, with the same fate-deciding draws.
A person's nationality group follows the mix of their route at their arrival time (one mix for
every route unless the scenario gives a route its own), and whether they are returnable
follows from a uniform they keep (:class:`.after_refusal.Returnability`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..core import schedules
from ..core.records import DRAWS
from ..core.units import DAYS_PER_MONTH
from ..core.vocabulary import HOUSEHOLD_CODES, ROUTE_CODES, ROUTES, UNACCOMPANIED_CHILD
from ..inputs.scenario import Scenario
from .population import draw_kept

#: multiplier(candidates) -> factor in [0, 1] on each candidate arrival; the candidates are
#: read-only arrays "time" (days), "route", "group" and "household" (codes).
RateMultiplier = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass
class ArrivalStream:
    """Claimants of the run in time order, with everything drawn for them."""

    columns: dict[str, np.ndarray]  # record columns for the claimants
    arrivals_by_day: dict[str, np.ndarray]  # people arriving per day per route (claim or not)

    @property
    def count(self) -> int:
        return len(self.columns["t_claim"])


def _poisson_times(
    rate_schedule: schedules.ScheduleValue,
    scenario: Scenario,
    horizon: float,
    rng: np.random.Generator,
) -> np.ndarray:
    times, values = schedules.steps(rate_schedule, scenario.start_date)
    starts = np.clip(times, 0, horizon)
    ends = np.clip(np.append(times[1:], np.inf), 0, horizon)
    per_day = values / DAYS_PER_MONTH
    counts = rng.poisson(per_day * (ends - starts))
    offsets = rng.random(int(counts.sum()))
    lengths = np.repeat(ends - starts, counts)
    return np.sort(np.repeat(starts, counts) + offsets * lengths)


def categorical(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of category indices with probabilities ``shares`` (by inversion)."""
    return _invert(rng.random(n), shares)


def _invert(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Category index of each uniform ``u`` under probabilities ``shares``."""
    cumulative = np.cumsum(shares)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, u, side="right").astype(np.int8)


#: A route's nationality mix: change times (days since the start date) and the groups'
#: shares from each of them (one row per period).
RouteMix = tuple[np.ndarray, np.ndarray]


def route_mixes(scenario: Scenario) -> list[RouteMix] | None:
    """Each route's nationality mix by date, or None when no route has its own
    (``arrivals.<route>.group_shares``; a route without one uses the groups' ``share``)."""
    routes = [getattr(scenario.arrivals, name) for name in ROUTES]
    if all(r.group_shares is None for r in routes):
        return None
    groups = scenario.nationality_groups
    start = scenario.start_date
    mixes = []
    for arrivals in routes:
        if arrivals.group_shares is None:
            mixes.append((np.array([-np.inf]), np.array([[g.share for g in groups.values()]])))
            continue
        schedules_by_group = [arrivals.group_shares[name] for name in groups]
        times = np.unique(
            np.concatenate([schedules.steps(s, start)[0] for s in schedules_by_group])
        )
        rows = np.column_stack([schedules.value_at(s, start, times) for s in schedules_by_group])
        mixes.append((times, rows))
    return mixes


def _draw_groups(
    u: np.ndarray, route: np.ndarray, mixes: list[RouteMix], times: np.ndarray | None
) -> np.ndarray:
    """Each person's group by inversion of their uniform ``u`` under the mix of their route
    at their time (time 0 when ``times`` is None)."""
    group = np.zeros(len(u), np.int8)
    for code, (change_times, rows) in enumerate(mixes):
        mine = np.flatnonzero(route == code)
        if len(mine) == 0:
            continue
        at = np.zeros(len(mine)) if times is None else times[mine]
        period = np.clip(np.searchsorted(change_times, at, side="right") - 1, 0, len(rows) - 1)
        for index in np.unique(period):
            chosen = mine[period == index]
            group[chosen] = _invert(u[chosen], rows[index])
    return group


def returnable_shares(
    scenario: Scenario, group: np.ndarray, times: np.ndarray | None = None
) -> np.ndarray:
    """Each person's group's ``returnable_share`` at their time (time 0 when ``times`` is
    None)."""
    shares = [g.returnable_share for g in scenario.nationality_groups.values()]
    start = scenario.start_date
    if times is None or not any(isinstance(s, dict) for s in shares):
        return np.array([float(schedules.value_at(s, start, 0.0)) for s in shares])[group]
    out = np.empty(len(group))
    for index, share in enumerate(shares):
        mine = group == index
        out[mine] = schedules.value_at(share, start, times[mine])
    return out


def draw_attributes(
    scenario: Scenario,
    rng: np.random.Generator,
    route: np.ndarray,
    group_shares: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Nationality group, household, support need and returnability for each person.

    The group is drawn with ``group_shares`` (one mix for everyone, or one row per route),
    else with the mix of the person's route at their arrival time ``times`` (the groups'
    ``share`` unless the route has its own ``group_shares``). Returnability: the person's
    uniform ``u_returnable`` is kept, and they are returnable while it is below their group's
    ``returnable_share`` (here: at ``times``, or at time 0). The number and order of draws
    is the same whatever the mixes and shares, so dated values change nobody's other draws.
    """
    n = len(route)
    groups = list(scenario.nationality_groups.values())
    mixes = route_mixes(scenario) if group_shares is None else None
    if group_shares is not None and np.ndim(group_shares) == 2:
        rows = np.asarray(group_shares)
        mixes = [(np.array([-np.inf]), rows[code : code + 1]) for code in range(len(rows))]
    if mixes is not None:
        group = _draw_groups(rng.random(n), route, mixes, times)
    else:
        if group_shares is None:
            group_shares = np.array([g.share for g in groups])
        group = categorical(rng, group_shares, n)
    households = scenario.households
    household = categorical(
        rng, np.array([getattr(households, name) for name in HOUSEHOLD_CODES]), n
    )
    support_share = np.array([getattr(scenario.arrivals, r).support_share for r in ROUTES])
    supported = (rng.random(n) < support_share[route]) & (household != UNACCOMPANIED_CHILD)
    u_returnable = rng.random(n)
    returnable = u_returnable < returnable_shares(scenario, group, times)
    return {
        "route": route.astype(np.int8),
        "group": group,
        "household": household,
        "supported": supported.astype(np.int8),
        "returnable": returnable.astype(np.int8),
        "u_returnable": u_returnable,
    }


def generate(
    scenario: Scenario,
    streams,
    horizon: float,
    multiplier: RateMultiplier | None = None,
) -> ArrivalStream:
    """Draw the run's arrivals and their claimants."""
    rng = streams["arrivals"]
    times_by_route = []
    for name in ROUTES:
        times_by_route.append(
            _poisson_times(getattr(scenario.arrivals, name).rate_per_month, scenario, horizon, rng)
        )
    times = np.concatenate(times_by_route)
    route = np.concatenate(
        [
            np.full(len(t), ROUTE_CODES[name], np.int8)
            for name, t in zip(ROUTES, times_by_route, strict=True)
        ]
    )
    del times_by_route
    order = np.argsort(times, kind="stable")
    times, route = times[order], route[order]
    del order
    u = rng.random(len(times))
    attributes = draw_attributes(scenario, streams["attributes"], route, times=times)
    factor = None  # 1 for everyone
    if multiplier is not None:
        visible = {k: v for k, v in attributes.items() if k != "u_returnable"}  # a draw
        factor = multiplier(_read_only(time=times, **visible))
        del visible
    claim_share = np.empty(len(times))
    for name in ROUTES:
        mask = route == ROUTE_CODES[name]
        claim_share[mask] = schedules.value_at(
            getattr(scenario.arrivals, name).claim_share, scenario.start_date, times[mask]
        )
    del mask
    # u < 1 always, and 1 x claim_share is claim_share to the bit
    arrived = None if factor is None else u < factor
    claims = u < (claim_share if factor is None else factor * claim_share)
    del u, factor, claim_share

    days = int(np.ceil(horizon))
    arrivals_by_day = {
        name: np.bincount(
            times[_all_or(arrived, route == ROUTE_CODES[name])].astype(np.int64), minlength=days
        )[:days]
        for name in ROUTES
    }
    del arrived

    # Everything is drawn for every candidate, so thinning keeps each person's own draws;
    # each column is cut down to the claimants at once (the draws a chunk at a time) to keep
    # memory low: this is where making the run's records needs the most.
    columns = {"t_claim": times[claims]}
    del times
    for name in list(attributes):
        columns[name] = attributes.pop(name)[claims]
    del attributes, route
    for purpose, names in DRAWS.items():
        for name in names:
            columns[name] = draw_kept(name, streams[purpose], claims)
    return ArrivalStream(columns=columns, arrivals_by_day=arrivals_by_day)


def _all_or(mask: np.ndarray | None, other: np.ndarray) -> np.ndarray:
    """``mask & other``, where no mask means everyone."""
    return other if mask is None else mask & other


def _read_only(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    views = {}
    for name, values in arrays.items():
        view = values.view()
        view.flags.writeable = False
        views[name] = view
    return views
