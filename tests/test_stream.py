"""A streamed run: its partials are the finished run cut at their dates, bit for bit, and its
last partial is ``run()`` itself; closing it early frees the run at once."""

from __future__ import annotations

import gc
import math
import weakref
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, tiny
from test_claim_costs import AGREEMENT
from test_determinism import fingerprint
from test_policies import HUBS, OFFSHORE, VOLUNTARY

from simulation import InputError, Partial, Scenario, run, stream
from simulation.core.units import DAYS_PER_MONTH
from simulation.engine import pipeline as engine
from simulation.experiments.streaming import stops

#: offshore processing with nobody leaving the third country: its report draws numbers (in
#: finish), from the stream that also picks which re-entrants are relocated during the run
#: (capacity to spare, so the picks count)
OFFSHORE_DRAWING_AT_THE_END = dict(
    OFFSHORE, departure_share=0.0, relocation_share=0.5, annual_capacity_people=100_000
)
#: a scheme halted on a date, everyone held brought back at that very time (a whole day)
OFFSHORE_HALTED = dict(
    OFFSHORE,
    halt_date="2026-05-21",  # day 140: a stop of a weekly stream
    bring_back_on_halt=True,
    bring_back_within_days=0.0,
    departure_share=0.0,
)
HUBS_HALTED = dict(HUBS, halt_probability=1.0, halt_within_days=120, bring_back_within_days=20)
COSTS_PER_CASE = {
    "costs": {"decision_costs": "per_case", "appeal_costs": "fixed"},
    "decisions": {"decisions_per_fte_per_month": {"2026-01-01": 18, "2026-05-10": 25}},
    "accommodation": {"dispersal": {"capacity_people": {"2026-01-01": 150, "2026-04-01": 60}}},
}


def _same_bits(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Equal tables whose values are the same bits (-0.0 is not 0.0, NaN is NaN)."""
    return a.equals(b) and a["value"].to_numpy().tobytes() == b["value"].to_numpy().tobytes()


def _up_to(series: pd.DataFrame, partial: Partial) -> pd.DataFrame:
    kept = series[series["date"] <= pd.Timestamp(partial.date)]
    return kept.reset_index(drop=True)


def check_stream(scenario: Scenario, seed: int = 3, every="month") -> list[Partial]:
    """Every partial is the finished run cut at its date; the last is run() bit for bit."""
    partials = list(stream(scenario, seed, every=every))
    finished = run(scenario, seed=seed, quiet=True)
    last = partials[-1]
    assert last.done and last.result is not None
    assert fingerprint(last.result) == fingerprint(finished)
    assert _same_bits(last.result.series, finished.series)
    assert repr(last.result.summary) == repr(finished.summary)  # NaN as NaN
    timed = ("wall_seconds",)
    assert {k: v for k, v in last.result.manifest.items() if k not in timed} == {
        k: v for k, v in finished.manifest.items() if k not in timed
    }
    assert _same_bits(last.series, finished.series)
    assert last.date == scenario.end_date and last.day == scenario.horizon_days
    assert [p.day for p in partials] == stops(float(scenario.horizon_days), every)
    for partial in partials[:-1]:
        assert not partial.done and partial.result is None
        assert partial.date == scenario.start_date + timedelta(days=math.floor(partial.day))
        assert partial.total_days == scenario.horizon_days
        expected = _up_to(finished.series, partial)
        if not _same_bits(partial.series, expected):
            wide, want = (
                partial.series_wide(),
                expected.pivot(index="date", columns="metric", values="value"),
            )
            differ = [m for m in want if not np.array_equal(wide[m], want[m], equal_nan=True)]
            pytest.fail(f"partial at day {partial.day}: series differ {differ}")
    return partials


@pytest.mark.parametrize(
    "policies",
    [
        {},
        {"return_hubs": HUBS},
        {"return_hubs": HUBS_HALTED},
        {"offshore": OFFSHORE},
        {"offshore": OFFSHORE_DRAWING_AT_THE_END},
        {"voluntary_return": VOLUNTARY},
        {
            "voluntary_return": dict(
                VOLUNTARY, offer_before_decision=True, pre_decision_departure_rate_per_year=0.3
            )
        },
        {"returns_agreement": AGREEMENT},
    ],
    ids=[
        "baseline",
        "hubs",
        "hubs-halted",
        "offshore",
        "offshore-drawing-at-the-end",
        "voluntary",
        "voluntary-before-decision",
        "agreement",
    ],
)
def test_every_partial_is_the_finished_run_up_to_its_date(policies):
    partials = check_stream(tiny(policies=policies))
    assert len(partials) == 12
    names = set(partials[0].series["metric"])
    assert names == set(partials[-1].series["metric"])  # every series, from the first stop
    assert {"in_hotel", "cumulative_cost_gbp", "cumulative_removals_enforced"} <= names
    for name in policies:  # the policies' own series are there too
        if name == "return_hubs":
            assert {"in_hub", "cumulative_hub_transfers"} <= names
            assert partials[-2].series_wide()["cumulative_hub_transfers"].iloc[-1] > 0
        if name == "offshore":
            assert "in_third_country" in names


def test_other_costs_and_dated_capacities_are_exact(tiny_scenario):
    check_stream(tiny(**COSTS_PER_CASE))


@pytest.mark.parametrize("every", ["week", "quarter", "year", 10, 45.5])
def test_any_step_gives_the_same_run(every):
    scenario = tiny(policies={"offshore": OFFSHORE, "return_hubs": HUBS}).with_years(1.5)
    check_stream(scenario, seed=5, every=every)


def test_a_stop_on_a_whole_day_counts_what_happens_at_that_very_time():
    """People brought back at the halt arrive at day 140 exactly, a weekly stop: the partial
    read at that midnight includes them, as the finished run does."""
    partials = check_stream(tiny(policies={"offshore": OFFSHORE_HALTED}), every="week")
    at_halt = next(p for p in partials if p.day == 140)
    back = at_halt.series_wide()["cumulative_claims_brought_back"]
    assert back.iloc[-1] > 0 and back.iloc[-2] == 0  # all of them at day 140


def test_a_shipped_scenario_with_every_policy():
    scenario = Scenario.from_yaml(ROOT / "scenarios" / "combined.yaml").with_years(0.75)
    partials = check_stream(scenario, seed=1)
    hubs = partials[-2].series_wide()["cumulative_hub_transfers"]  # from July
    assert hubs.iloc[-1] > 0


# ------------------------------------------------------------------ the interface


def test_only_the_metrics_asked_for(tiny_scenario):
    metrics = ["in_hotel", "cumulative_cost_gbp", "awaiting_decision"]
    partials = list(stream(tiny_scenario, 2, metrics=metrics))
    whole = list(stream(tiny_scenario, 2))
    for some, every in zip(partials, whole, strict=True):
        assert list(some.series["metric"].cat.categories) == sorted(metrics)
        kept = every.series[every.series["metric"].isin(metrics)].reset_index(drop=True)
        kept["metric"] = kept["metric"].cat.remove_unused_categories()
        assert _same_bits(some.series, kept)
    assert fingerprint(partials[-1].result) == fingerprint(whole[-1].result)
    assert partials[-1].result.series["metric"].nunique() > len(metrics)


def test_a_partial_says_where_it_stands(tiny_scenario):
    first = next(stream(tiny_scenario, 1))
    assert first.day == DAYS_PER_MONTH and first.date.isoformat() == "2026-01-31"
    assert first.series["date"].iloc[0] == pd.Timestamp("2026-01-01")
    assert first.series["date"].max() == pd.Timestamp("2026-01-31")
    assert 0 < first.fraction < 0.1 and not first.done
    assert "2026-01-31" in repr(first)
    assert first.series_wide().shape == (31, first.series["metric"].nunique())


def test_stops():
    assert stops(365.0, "week")[:2] == [7.0, 14.0] and stops(365.0, "week")[-2:] == [364.0, 365.0]
    assert stops(365.0, "month") == engine.month_ends(365.0) and len(stops(365.0)) == 12
    assert stops(730.0, "year") == [365.25, 730.0]
    assert stops(365.0, 365) == [365.0]
    assert stops(100.0, 30) == [30.0, 60.0, 90.0, 100.0]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"every": "fortnight"}, "every"),
        ({"every": 0.5}, "every"),
        ({"every": float("nan")}, "every"),
        ({"every": True}, "every"),
        ({"seed": -1}, "seed"),
        ({"metrics": []}, "metrics"),
        ({"metrics": [3]}, "metrics"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(tiny_scenario, arguments, field):
    with pytest.raises(InputError) as caught:
        stream(tiny_scenario, **arguments)
    assert [path for path, _ in caught.value.problems] == [field]


def test_an_unknown_metric_is_refused_at_the_first_stop(tiny_scenario):
    partials = stream(tiny_scenario, metrics=["in_hotel", "in_hotels"])
    with pytest.raises(InputError, match="in_hotels") as caught:
        next(partials)
    assert "in_hotel," in str(caught.value)  # the known names are listed


def test_a_scenario_is_needed():
    with pytest.raises(TypeError, match="Scenario"):
        stream("scenarios/baseline.yaml")


# ------------------------------------------------------------------ stopping early


def test_closing_early_frees_the_run_at_once(tiny_scenario, monkeypatch):
    made: list[weakref.ref] = []
    build = engine.Pipeline.__init__

    def watched(self, *args, **kwargs):
        build(self, *args, **kwargs)
        made.append(weakref.ref(self.population.columns["t_claim"]))

    monkeypatch.setattr(engine.Pipeline, "__init__", watched)
    collecting = gc.isenabled()
    gc.enable()
    partials = stream(tiny_scenario, 1)
    try:
        next(partials)
        assert gc.isenabled()  # the run pauses the collector only while it runs
        gc.disable()  # only the stream's own clean-up may free the records now
        assert made[0]() is not None
        partials.close()
        assert made[0]() is None
    finally:
        if collecting:
            gc.enable()


def test_a_run_closed_early_leaves_no_trace(tiny_scenario):
    partials = stream(tiny_scenario, 4)
    for _ in range(3):
        next(partials)
    partials.close()
    with pytest.raises(StopIteration):
        next(partials)
    assert fingerprint(list(stream(tiny_scenario, 4))[-1].result) == fingerprint(
        run(tiny_scenario, seed=4, quiet=True)
    )
