"""One run for the page: the chosen scenario beside its baseline on the same seed (common
random numbers), streamed month by month in a thread of its own so the page never waits, and
stopped between two months when a lever moves.

The page reads :meth:`Run.snapshot` as often as it likes; the thread only ever replaces the
snapshot whole, so a reader sees one consistent state. A finished baseline is kept (a few, for
every page of the server), so moving a lever of the policy reruns the policy alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..inputs.scenario import Scenario

log = logging.getLogger(__name__)

#: the series every chart reads
BASE_METRICS = (
    "in_hotel",
    "awaiting_decision",
    "appeals_pending",
    "are_in_uk",
    "cumulative_cost_gbp",
    "cumulative_removals_enforced",
    "cumulative_returns_voluntary",
)
#: the series of each policy's own chart
POLICY_METRICS = {
    "return_hubs": ("in_hub", "cumulative_hub_transfers", "cumulative_hub_onward_removals"),
    "offshore": ("in_offshore_detention", "in_third_country", "cumulative_relocations"),
}
#: the finished baselines kept, most recent last
KEPT_BASELINES = 8


def metrics_of(scenario: Scenario) -> list[str]:
    """The series the page shows for ``scenario``."""
    names = list(BASE_METRICS)
    for name, config in scenario.policies.items():
        if config.enabled:
            names.extend(POLICY_METRICS.get(name, ()))
    return names


@dataclass(frozen=True)
class Side:
    """How far one scenario has got: its series so far and, once finished, its result."""

    series: pd.DataFrame | None = None
    reached: Any = None  #: the date simulated to
    day: int = 0
    total_days: int = 0
    result: Any = None  #: the finished Result

    @property
    def done(self) -> bool:
        return self.result is not None


@dataclass(frozen=True)
class Snapshot:
    """Everything the page shows of a run at one moment."""

    version: int = 0
    seed: int = 0
    state: str = "starting"  #: starting, running, band, done, stopped, failed
    policy: Side = field(default_factory=Side)
    baseline: Side | None = None  #: None when the scenario has no policy to compare
    band: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    band_dates: Any = None
    band_done: int = 0  #: replications finished for the band (besides the first)
    message: str = ""
    seconds_to_first: float | None = None
    seconds_to_done: float | None = None


class Stopped(Exception):
    """The run was stopped (a lever moved, or the page closed)."""


_baselines: OrderedDict[str, Side] = OrderedDict()
_baselines_lock = threading.Lock()


def _key(scenario: Scenario, seed: int) -> str:
    """What a run's numbers depend on: the scenario less its names, sources and switched-off
    policies (a policy switched off draws nothing and changes nothing), and the seed; so the
    presets share one baseline."""
    data = scenario.model_dump(mode="json")
    for kept_apart in ("name", "description", "sources", "uncertainty"):
        data.pop(kept_apart, None)
    data["policies"] = {k: v for k, v in data["policies"].items() if v.get("enabled", True)}
    text = json.dumps(data, sort_keys=True) + f"|{seed}"
    return hashlib.sha256(text.encode()).hexdigest()


def _kept(key: str) -> Side | None:
    with _baselines_lock:
        side = _baselines.get(key)
        if side is not None:
            _baselines.move_to_end(key)
        return side


def _keep(key: str, side: Side) -> None:
    with _baselines_lock:
        _baselines[key] = side
        while len(_baselines) > KEPT_BASELINES:
            _baselines.popitem(last=False)


class Run:
    """The scenario (and its baseline) simulated in a background thread.

    ``replications`` above 1 adds, after the streamed run, that many replications in all of
    both scenarios for a band (the streamed run is replication 0)."""

    def __init__(
        self,
        scenario: Scenario,
        baseline: Scenario | None,
        seed: int,
        replications: int = 1,
        stream: Callable[..., Iterator[Any]] | None = None,
    ) -> None:
        self.scenario = scenario
        self.baseline = baseline
        self.seed = seed
        self.replications = replications
        self.metrics = metrics_of(scenario)
        self._stream = stream
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._snapshot = Snapshot(seed=seed, baseline=Side() if baseline is not None else None)
        self._thread = threading.Thread(target=self._work, name="demo-run", daemon=True)
        self._started = 0.0

    # ------------------------------------------------------------------ for the page
    def start(self) -> Run:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to stop; it does at the next month's end."""
        self._stop.set()

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    @property
    def finished(self) -> bool:
        return self.snapshot().state in ("done", "stopped", "failed")

    # ------------------------------------------------------------------ in the thread
    def _update(self, **changes: Any) -> None:
        with self._lock:
            old = self._snapshot
            new = replace(old, version=old.version + 1, **changes)
            if new.seconds_to_first is None and new.policy.series is not None:
                new = replace(new, seconds_to_first=time.perf_counter() - self._started)
            self._snapshot = new

    def _check(self) -> None:
        if self._stop.is_set():
            raise Stopped

    def _work(self) -> None:
        try:
            self._update(state="running")
            self._stream_both()
            if self.replications > 1:
                self._update(state="band")
                self._band()
            self._update(state="done", seconds_to_done=time.perf_counter() - self._started)
        except Stopped:
            self._update(state="stopped")
        except InputError as exc:
            self._update(state="failed", message="\n".join(exc.shown_lines()))
        except Exception as exc:  # the page says what failed; the log keeps the details
            log.exception("demo run failed")
            self._update(state="failed", message=f"the run failed: {type(exc).__name__}: {exc}")

    def _open(self, scenario: Scenario) -> Iterator[Any]:
        stream = self._stream
        if stream is None:
            from .. import stream
        return stream(scenario, seed=self.seed, every="month", metrics=metrics_of(scenario))

    def _stream_both(self) -> None:
        """Both scenarios a month at a time, in turn, so their charts grow together."""
        going: dict[str, Iterator[Any]] = {"policy": self._open(self.scenario)}
        key = None
        if self.baseline is not None:
            key = _key(self.baseline, self.seed)
            kept = _kept(key)
            if kept is not None:
                self._update(baseline=kept)
            else:
                going["baseline"] = self._open(self.baseline)
        try:
            while going:
                for side in list(going):
                    self._check()
                    partial = next(going[side], None)
                    if partial is None:
                        del going[side]
                        continue
                    now = Side(
                        partial.series,
                        partial.date,
                        partial.day,
                        partial.total_days,
                        partial.result if partial.done else None,
                    )
                    self._update(**{side: now})
                    if partial.done:
                        del going[side]
                        if side == "baseline" and key is not None:
                            _keep(key, now)
        finally:
            for generator in going.values():
                generator.close()

    def _band(self) -> None:
        """Replications 1 .. n-1 of both scenarios, for the band around each line."""
        from ..experiments.evaluate import run_one

        def stop_between_months(_done: int, _total: int) -> None:
            self._check()

        snap = self.snapshot()
        sides = {"policy": (self.scenario, snap.policy)}
        if self.baseline is not None and snap.baseline is not None:
            sides["baseline"] = (self.baseline, snap.baseline)
        runs: dict[str, dict[str, list[np.ndarray]]] = {}
        dates = None
        for side, (_scenario, done) in sides.items():
            wide = _wide(done.result.series, self.metrics)
            dates = wide.index
            runs[side] = {m: [wide[m].to_numpy(dtype=float)] for m in wide.columns}
        for replication in range(1, self.replications):
            for side, (scenario, _done) in sides.items():
                result = run_one(scenario, self.seed, replication, progress=stop_between_months)
                wide = _wide(result.series, self.metrics)
                for metric in runs[side]:
                    runs[side][metric].append(wide[metric].to_numpy(dtype=float))
            band = {
                side: {m: np.vstack(values) for m, values in metrics.items()}
                for side, metrics in runs.items()
            }
            self._update(band=band, band_dates=dates, band_done=replication)


def _wide(series: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """A tidy series as one column per metric (those of ``metrics`` it has)."""
    kept = series[series["metric"].isin(metrics)]
    kept = kept.assign(metric=kept["metric"].astype(str))
    return kept.pivot(index="date", columns="metric", values="value")
