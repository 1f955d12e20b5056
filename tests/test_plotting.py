"""Charts: each is drawn on the Agg backend and checked for what it shows (lines, labels, the
data on the axes), not for how it looks."""

from __future__ import annotations

import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # no screen in tests; the package itself never picks a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import ROOT, tiny  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection, PolyCollection  # noqa: E402
from matplotlib.dates import ConciseDateFormatter  # noqa: E402

from simulation import InputError, break_even, compare, run  # noqa: E402
from simulation.experiments.sensitivity import plot_sensitivity  # noqa: E402
from simulation.experiments.sweep import plot_sweep  # noqa: E402
from simulation.outputs import plotting  # noqa: E402
from simulation.outputs.outcomes import headline  # noqa: E402
from simulation.outputs.plotting.axes import money_scale, scaled_formatter  # noqa: E402

OFFSHORE = {
    "start_date": "2026-02-01",
    "relocation_share": 0.0,
    "annual_capacity_people": 150,
    "legal_delay_days": 30,
    "halt_probability": 0.0,
    "halt_within_days": 365,
    "detention_days": 14,
    "detention_cost_per_day_gbp": 120,
    "fixed_payments": [{"date": "2026-02-01", "amount_gbp": 3_000_000}],
    "payment_per_relocation_gbp": 20000,
    "processing_payment_per_person_gbp": 150000,
    "processing_years": 5,
    "flight_cost_per_person_gbp": 11000,
    "threshold_relocations": 100,
    "threshold_payment_gbp": 1_000_000,
    "departure_share": 0.1,
    "departure_payment_gbp": 10000,
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def result():
    return run(tiny(), seed=1)


@pytest.fixture(scope="module")
def replications():
    return run(tiny(), seed=1, replications=3)


@pytest.fixture(scope="module")
def comparison():
    more = tiny().with_overrides({"decisions.caseworkers_fte": 20})
    return compare({"base": tiny(), "more caseworkers": more}, replications=3)


@pytest.fixture(scope="module")
def found():
    policy = tiny(policies={"offshore": OFFSHORE})
    return break_even(
        tiny(),
        policy,
        parameter="policies.offshore.deterred_share",
        metric="total_cost_gbp",
        replications=2,
        seed=2,
        low=0.0,
        high=1.0,
        xtol=1e-2,
    )


def dates_of(line) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(line.get_xdata())))


# ------------------------------------------------------------------------------ formatting


def test_tick_labels_have_thousands_separators_and_money_is_in_millions_or_billions():
    assert scaled_formatter().format_ticks([0, 1000, 25000]) == ["0", "1,000", "25,000"]
    assert scaled_formatter().format_ticks([0, 0.25, 0.5]) == ["0.00", "0.25", "0.50"]
    scale, suffix, words = money_scale([2.5e9, -1.0])
    assert (scale, suffix, words) == (1e9, "bn", "£ billions")
    assert money_scale([3e6])[:2] == (1e6, "m") and money_scale([900.0])[:2] == (1.0, "")
    money = scaled_formatter(1e9, "£", "bn")
    assert money.format_ticks([-5e8, 0, 5e8, 1e9]) == ["-£0.5bn", "£0.0bn", "£0.5bn", "£1.0bn"]


def test_labels_come_from_the_declared_outcomes_and_series():
    assert plotting.metric_label("total_cost_gbp") == plotting.Label("cost: total", "gbp")
    assert plotting.metric_label("final_backlog_initial").text == (
        "backlog: awaiting an initial decision"
    )
    assert plotting.metric_label("in_hotel") == plotting.Label("in hotels", "people")
    assert plotting.metric_label("cumulative_cost_gbp").unit == "gbp"
    assert plotting.metric_label("cumulative_cost_hotels_gbp").text.endswith(": hotels")
    assert plotting.metric_label("cumulative_removals_enforced").text == (
        "enforced removals since the start"
    )
    assert plotting.metric_label("days_to_initial_decision_p50").unit == "days"


# ------------------------------------------------------------------------------ one run


def test_result_plot_draws_each_series_against_its_dates(result):
    ax = result.plot(["awaiting_decision", "in_hotel"])
    wide = result.series_wide()
    lines = ax.get_lines()
    assert len(lines) == 2
    for line, metric in zip(lines, ["awaiting_decision", "in_hotel"], strict=True):
        assert np.array_equal(line.get_ydata(), wide[metric].to_numpy(dtype=float))
        assert dates_of(line).equals(pd.DatetimeIndex(wide.index))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["awaiting an initial decision", "in hotels"]
    assert ax.get_ylabel() == "People"
    assert isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter)
    assert ax.get_ylim()[0] == 0
    assert "tiny" in ax.get_title(loc="left")


def test_result_plot_defaults_to_the_backlogs_and_names_one_metric_on_its_axis(result):
    assert len(result.plot().get_lines()) == len(plotting.DEFAULT_SERIES)
    ax = result.plot("cumulative_cost_gbp")
    assert ax.get_ylabel() == "Spending since the start date (£ millions, constant prices)"
    ax.figure.canvas.draw()
    shown = [(t.get_position()[1], t.get_text()) for t in ax.get_yticklabels()]
    assert len(shown) >= 3 and all(re.fullmatch(r"£[\d,.]+m", text) for _, text in shown)
    for position, text in shown:  # the label is the tick's value in millions
        assert float(text[1:-1].replace(",", "")) * 1e6 == pytest.approx(position)


def test_result_plot_draws_on_the_axes_it_is_given(result):
    _fig, (left, right) = plt.subplots(1, 2)
    assert result.plot("in_hotel", ax=right) is right
    assert len(right.get_lines()) == 1 and not left.get_lines()


def test_result_plot_refuses_unknown_series_and_mixed_units(result):
    with pytest.raises(InputError, match="metrics: no series 'hotel'"):
        result.plot("hotel")
    with pytest.raises(InputError, match="mixes units"):
        result.plot(["in_hotel", "cumulative_cost_gbp"])


# ------------------------------------------------------------------------------ replications


def test_replications_plot_is_a_fan_of_median_and_50_and_90_percent_bands(replications):
    ax = replications.plot("in_hotel")
    runs = np.vstack([r.series_wide()["in_hotel"].to_numpy() for r in replications])
    (median,) = ax.get_lines()
    assert np.array_equal(median.get_ydata(), np.median(runs, axis=0))
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    for band, (low, high) in zip(bands, [(5, 95), (25, 75)], strict=True):
        y = band.get_paths()[0].vertices[:, 1]
        assert y.max() == pytest.approx(np.percentile(runs, high, axis=0).max())
        assert y.min() == pytest.approx(np.percentile(runs, low, axis=0).min())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["in hotels, middle 90%", "in hotels, middle 50%", "in hotels, median"]
    assert "3 replications" in ax.get_title(loc="left")


# ------------------------------------------------------------------------------ comparison


def test_forest_plot_has_a_row_per_metric_at_the_comparisons_intervals(comparison):
    metrics = ["total_cost_gbp", "final_backlog_initial", "peak_hotel_population"]
    figure = comparison.plot(metrics)
    assert len(figure.axes) == len(metrics)
    for ax, metric in zip(figure.axes, metrics, strict=True):
        mean, low, high = comparison.difference("more caseworkers", metric)
        (interval,) = [c for c in ax.collections if isinstance(c, LineCollection)]
        ((start, end),) = [segment[:, 0] for segment in interval.get_segments()]
        assert (start, end) == pytest.approx((low, high))
        (dot,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert dot.get_offsets()[0][0] == pytest.approx(mean)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["more caseworkers"]
        assert plotting.metric_label(metric).text in ax.get_title(loc="left").lower()
    assert "£ millions" in figure.axes[0].get_title(loc="left")
    assert figure.axes[1].get_title(loc="left").endswith("(people)")
    assert "'base'" in figure.get_suptitle()


def test_forest_plot_shows_the_headline_outcomes_by_default(comparison):
    assert len(comparison.plot().axes) == len(headline())
    with pytest.raises(InputError, match="one axes per metric: 2 metrics, 1 axes"):
        comparison.plot(["claims", "absconded"], ax=plt.subplots()[1])
    with pytest.raises(InputError, match="not in the comparison: nonsense"):
        comparison.plot(["nonsense"])


def test_plot_series_draws_each_scenarios_band(comparison):
    ax = comparison.plot_series("awaiting_decision")
    assert [line.get_label() for line in ax.get_lines()] == ["base", "more caseworkers"]
    for line, name in zip(ax.get_lines(), comparison.results, strict=True):
        runs = np.vstack(
            [r.series_wide()["awaiting_decision"].to_numpy() for r in comparison.results[name]]
        )
        assert np.array_equal(line.get_ydata(), np.median(runs, axis=0))
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    assert ax.get_ylabel() == "Awaiting an initial decision (people)"


# ------------------------------------------------------------------------------ break-even


def test_break_even_keeps_every_run_it_evaluated(found):
    table = found.evaluations
    assert len(table) == found.simulations - len(found.per_replication)  # all but baselines
    for replication, root in enumerate(found.per_replication):
        runs = table[table.replication == replication]
        assert {0.0, 1.0} <= set(runs.value) and root in set(runs.value)
        ends = runs.groupby("value").first()
        difference = ends.policy - ends.baseline
        assert np.sign(difference[0.0]) != np.sign(difference[1.0])
        at_root = difference[root]
        assert abs(at_root) < abs(difference[0.0]) and abs(at_root) < abs(difference[1.0])


def test_break_even_plot_shows_both_scenarios_and_the_crossing(found):
    ax = found.plot()
    table = found.evaluations
    lines = ax.get_lines()
    policy = [line for line in lines if line.get_marker() == "o"]
    baseline = [line for line in lines if line.get_linestyle() == "--"]
    assert len(policy) == len(baseline) == 2
    for replication, line in enumerate(policy):
        runs = table[table.replication == replication].sort_values("value")
        assert np.array_equal(line.get_xdata(), runs.value.to_numpy())
        assert np.array_equal(line.get_ydata(), runs.policy.to_numpy())
    for replication, line in enumerate(baseline):
        level = table[table.replication == replication].baseline.iloc[0]
        assert set(line.get_ydata()) == {level}
    (crossing,) = [line for line in lines if line.get_label().startswith("break-even")]
    assert crossing.get_xdata()[0] == found.value
    assert crossing.get_label() == f"break-even {found.value:.1%}"
    (span,) = [p for p in ax.patches if p.get_label() == "95% CI"]
    start, width = span.get_x(), span.get_width()
    assert (start, start + width) == pytest.approx((found.ci_low, found.ci_high))
    assert ax.get_xlabel() == "policies.offshore.deterred_share (%)"
    assert ax.get_ylabel() == "Cost: total (£ millions, constant prices)"


# ------------------------------------------------------------------------------ sweeps


@pytest.fixture
def swept() -> pd.DataFrame:
    x = np.tile(np.arange(8.0), 2)
    return pd.DataFrame(
        {
            "param:decisions.caseworkers_fte": x,
            "scenario": np.repeat(["base", "policy"], 8),
            # skewed within each bin, so that a bin's mean is not its median
            "total_cost_gbp": 1e6 * (x + np.repeat([0.0, 10.0], 8)) + 1e4 * np.arange(16.0) ** 2,
        }
    )


def test_plot_sweep_scatters_every_run_coloured_by_hue(swept):
    ax = plot_sweep(swept, "decisions.caseworkers_fte", "total_cost_gbp", hue="scenario")
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [p.get_label() for p in points] == ["base", "policy"]
    for cloud, name in zip(points, ["base", "policy"], strict=True):
        rows = swept[swept.scenario == name]
        expected = rows[["param:decisions.caseworkers_fte", "total_cost_gbp"]].to_numpy()
        assert np.array_equal(cloud.get_offsets(), expected)
    assert ax.get_xlabel() == "decisions.caseworkers_fte"
    assert ax.get_ylabel() == "Cost: total (£ millions, constant prices)"


def test_plot_sweep_partial_dependence_is_the_mean_in_bins_of_equal_count(swept):
    ax = plot_sweep(swept, "decisions.caseworkers_fte", "total_cost_gbp", kind="partial", bins=4)
    (line,) = ax.get_lines()
    assert np.array_equal(line.get_xdata(), [0.5, 2.5, 4.5, 6.5])
    x = swept["param:decisions.caseworkers_fte"].to_numpy()
    y = swept["total_cost_gbp"].to_numpy()
    expected = [y[(x >= lo) & (x <= lo + 1)].mean() for lo in (0, 2, 4, 6)]
    assert line.get_ydata() == pytest.approx(expected)


def test_plot_sweep_refuses_what_it_cannot_draw(swept):
    with pytest.raises(InputError, match="x: no column 'judges'"):
        plot_sweep(swept, "judges", "total_cost_gbp")
    with pytest.raises(InputError, match="kind: must be one of"):
        plot_sweep(swept, "decisions.caseworkers_fte", "total_cost_gbp", kind="bar")


def test_sobol_plot_has_s1_and_st_bars_with_their_intervals():
    table = pd.DataFrame(
        {
            "parameter": ["a.x", "b.y", "c.z"],
            "S1": [0.5, 0.2, 0.01],
            "S1_conf": [0.1, 0.05, 0.02],
            "ST": [0.6, 0.3, 0.05],
            "ST_conf": [0.1, 0.06, 0.03],
        }
    )
    table.attrs["metric"] = "total_cost_gbp"
    ax = plot_sensitivity(table)
    first_errors, first, _total_errors, total = ax.containers
    assert [bar.get_width() for bar in first] == [0.5, 0.2, 0.01]
    assert [bar.get_width() for bar in total] == [0.6, 0.3, 0.05]
    errors = first_errors.lines[2][0].get_segments()
    ends = [x for segment in errors for x in (segment[0][0], segment[1][0])]
    assert ends == pytest.approx([0.4, 0.6, 0.15, 0.25, -0.01, 0.03])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a.x", "b.y", "c.z"]
    assert ax.get_title(loc="left") == "Sobol indices of cost: total"


def test_morris_plot_puts_each_parameter_at_mu_star_and_sigma():
    table = pd.DataFrame(
        {
            "parameter": ["a.x", "b.y"],
            "mu_star": [5e7, 2e7],
            "mu_star_conf": [1e7, 5e6],
            "sigma": [3e7, 1e7],
        }
    )
    ax = plot_sensitivity(table)
    points = ax.containers[0].lines[0]
    assert np.array_equal(points.get_xdata(), [5e7, 2e7])
    assert np.array_equal(points.get_ydata(), [3e7, 1e7])
    assert [t.get_text() for t in ax.texts] == ["a.x", "b.y"]
    assert ax.get_legend() is None  # a legend's marker would read as another parameter
    assert "bars the 95% CI of mu*" in ax.get_title(loc="left")
    with pytest.raises(InputError, match="needs Sobol"):
        plot_sensitivity(table.drop(columns="sigma"))


# ------------------------------------------------------------------------------ validation


def test_validation_band_has_the_published_points_over_the_simulated_band():
    dates = pd.date_range("2023-01-01", periods=5, freq="D")
    runs = np.array([[10, 20, 30, 40, 50], [12, 22, 32, 42, 52], [20, 30, 40, 50, 60]], float)
    points = [(dates[1], 21.0, 3.0), (dates[3], 50.0, 5.0)]
    ax = plotting.band_with_points(dates, runs, points, "Backlog", "people")
    mean = [line for line in ax.get_lines() if line.get_label() == "simulated mean"][0]
    assert np.array_equal(mean.get_ydata(), runs.mean(axis=0))
    published = ax.containers[0]
    assert np.array_equal(published.lines[0].get_ydata(), [21.0, 50.0])
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    y = band.get_paths()[0].vertices[:, 1]
    assert y.max() == pytest.approx(np.percentile(runs[:, -1], 95))
    assert ax.get_title(loc="left") == "Backlog" and ax.get_ylabel() == "people"


# ------------------------------------------------------------------------------ the package


def test_drawing_never_chooses_the_backend():
    code = (
        "import matplotlib; matplotlib.use('svg')\n"
        "import numpy as np, pandas as pd\n"
        "from simulation.outputs import plotting\n"
        "d = pd.date_range('2026-01-01', periods=3)\n"
        "plotting.band_with_points(d, np.ones((2, 3)), [], 't', 'people')\n"
        "print(matplotlib.get_backend())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "svg"


def test_importing_the_plotting_package_does_not_load_matplotlib():
    code = "import sys, simulation.outputs.plotting; print('matplotlib' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "False", done.stderr[-2000:]


def test_the_plotting_page_shows_every_figure():
    page = (ROOT / "docs" / "plotting.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", page)
    assert len(images) >= 8
    for image in images:
        assert (ROOT / "docs" / image).stat().st_size > 5_000, image
