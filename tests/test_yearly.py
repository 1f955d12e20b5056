"""Tables by calendar and financial year, and the CSV files a spreadsheet user reads."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from simulation import run
from simulation.cli import main
from simulation.outputs.yearly import period_label


@pytest.fixture(scope="module")
def result():
    return run(tiny().with_years(2), seed=3)


def test_a_year_holds_what_happened_in_it_and_the_years_add_up_to_the_run(result):
    wide = result.series_wide()
    table = result.yearly()
    assert list(table.index) == ["2026", "2027"]
    assert list(table["days"]) == [365, 365]
    start, mid, end = pd.Timestamp("2026-01-01"), pd.Timestamp("2027-01-01"), wide.index[-1]
    claims = wide["cumulative_claims"]
    assert table.loc["2026", "claims"] == claims[mid] - claims[start]
    assert table.loc["2027", "claims"] == claims[end] - claims[mid]
    assert math.isclose(table["cost_gbp"].sum(), result.summary["total_cost_gbp"], rel_tol=1e-12)


def test_stocks_are_given_at_the_year_end_and_as_the_mean_over_its_days(result):
    wide = result.series_wide()
    table = result.yearly()
    first_year = wide.loc["2026-01-01":"2026-12-31", "in_hotel"]
    assert len(first_year) == 365
    assert table.loc["2026", "in_hotel_mean"] == pytest.approx(first_year.mean(), rel=1e-12)
    assert table.loc["2026", "in_hotel_end"] == wide.loc["2027-01-01", "in_hotel"]
    assert "cumulative_claims" not in table and "in_hotel" not in table


def test_financial_years_run_from_april_and_part_years_say_how_many_days(result):
    table = result.yearly(fiscal=True)
    assert list(table.index) == ["2025-26", "2026-27", "2027-28"]
    assert list(table["days"]) == [90, 365, 275]  # 1 Jan to 1 Apr 2026; then to 1 Jan 2028
    calendar = result.yearly()
    assert table["claims"].sum() == calendar["claims"].sum()
    assert period_label(date(2027, 3, 31), fiscal=True) == "2026-27"
    assert period_label(date(2099, 4, 1), fiscal=True) == "2099-00"


def test_a_run_written_out_carries_its_summary_and_series_as_csv(result, tmp_path):
    written = result.write(tmp_path)
    assert {p.name for p in written} >= {"summary.csv", "series.csv"}
    summary = pd.read_csv(tmp_path / "summary.csv")
    flat = result.flat_summary()
    assert list(summary["metric"]) == list(flat)
    values = summary["value"].to_numpy()
    expected = np.array(list(flat.values()))
    assert np.array_equal(values, expected, equal_nan=True)  # full precision, NaN kept empty
    series = pd.read_csv(tmp_path / "series.csv")
    assert list(series.columns) == list(result.series.columns)
    assert len(series) == len(result.series)
    assert np.array_equal(series["value"].to_numpy(), result.series["value"].to_numpy())


def test_replications_average_their_years(tmp_path):
    runs = run(tiny().with_years(1), seed=3, replications=2)
    table = runs.yearly()
    both = [r.yearly() for r in runs]
    assert (
        table.loc["2026", "claims"]
        == (both[0].loc["2026", "claims"] + both[1].loc["2026", "claims"]) / 2
    )
    written = runs.write(tmp_path)
    assert {"summary.csv", "series.csv"} <= {p.name for p in written}
    assert set(pd.read_csv(tmp_path / "series.csv")["replication"]) == {0, 1}


def test_the_command_prints_and_writes_the_yearly_table(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    tiny().with_years(1).to_yaml(scenario)
    out = tmp_path / "out"
    code = main(["run", str(scenario), "--yearly", "financial", "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "By financial year (April to March)" in printed
    header = next(line for line in printed.splitlines() if "2025-26" in line)
    assert header.split() == ["2025-26", "2026-27"]
    cost = next(line for line in printed.splitlines() if line.split()[:1] == ["cost_gbp"])
    assert cost.split()[1].startswith("£") and cost.split()[1].endswith("m")
    yearly = pd.read_csv(out / "yearly.csv", index_col="period")
    assert list(yearly.index) == ["2025-26", "2026-27"]
    assert (out / "summary.csv").exists() and (out / "series.csv").exists()
