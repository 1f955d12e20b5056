"""The 2023-2025 history: headline targets, Little's law on its queues, calibration."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml
from conftest import ROOT, tiny, tiny_dict

from simulation import Scenario
from simulation.core.records import AppealOutcome, DecisionOutcome, ExitOutcome
from simulation.experiments.replications import run_one
from simulation.validation.calibrate import run_calibration
from simulation.validation.history import run_history
from simulation.validation.targets import evaluate, load_targets

TARGETS = ROOT / "scenarios" / "validation" / "targets_2023_2025.yaml"
HEADLINE = (
    "V1.small_boats_2023",
    "V1.small_boats_2024",
    "V1.small_boats_2025",
    "V1.small_boats_total",
    "V3.backlog_dec2024",
    "V7.hotels_dec2024",
    "V5.appeals_dec2024",
    "V9.enforced_2024",
)


@pytest.fixture(scope="module")
def history():
    return run_history(TARGETS, replications=3, seed=1)


@pytest.mark.slow
def test_headline_targets_stay_within_tolerance(history):
    scenario, target_set, results = history
    table = evaluate(target_set.targets, results, scenario).set_index("id")
    rows = table.loc[list(HEADLINE)]
    failing = rows[~rows["pass"]]
    assert failing.empty, failing[["published", "simulated", "tolerance"]].to_string()


QUEUES = [
    ("awaiting_decision", "t_claim", "t_dec_end", "dec_outcome", DecisionOutcome.NONE),
    ("appeals_pending", "t_app_start", "t_app_end", "app_outcome", AppealOutcome.NONE),
    ("are_in_uk", "t_are", "t_exit", "exit_outcome", ExitOutcome.NONE),
]


@pytest.mark.parametrize(("metric", "start", "end", "outcome", "none"), QUEUES)
def test_littles_law_on_the_history_queues(history, metric, start, end, outcome, none):
    """L = lambda W on the run's window [0, T]: the mean of the daily stock equals the rate of
    people present (N / T) times their mean time in the queue within the window. Reading the
    stock once a day errs by less than one day per person, hence the bound N / T."""
    scenario, _, results = history
    horizon = scenario.horizon_days
    for result in results[:2]:
        records = result.records
        inside = records[outcome] != none
        a = np.maximum(records[start][inside], 0.0)
        d = np.minimum(records[end][inside], horizon)
        present = a < d
        time_inside = (d - a)[present]
        n = present.sum()
        mean_wait = time_inside.mean()
        arrival_rate = n / horizon
        stock = result.series_wide()[metric].to_numpy()[:horizon]
        assert abs(stock.mean() - arrival_rate * mean_wait) <= n / horizon
        assert stock.mean() > 1000  # a busy queue, so the check has teeth


def test_legacy_claims_are_decided_first():
    scenario = tiny(
        decisions={
            "caseworkers_fte": 6,
            "priority_claims_before": "2025-10-01",
            "priority_until": "2026-07-01",
            "withdrawal_rate_per_year": 0.0,
        },
        initial_state={"awaiting_decision_people": 400, "awaiting_over_12_months_people": 100},
    )
    records = run_one(scenario, 3, keep_records=True).records
    t_claim, started = records["t_claim"], records["t_dec_start"]
    legacy = t_claim < -92  # claimed before 1 October 2025
    newer = (~legacy) & np.isfinite(t_claim)
    last_legacy_start = np.nanmax(started[legacy])
    # while legacy claims wait (and the priority lasts), no newer claim is started
    assert last_legacy_start < 181
    assert np.all(~(started[newer] < last_legacy_start))
    assert np.any(np.isfinite(started[newer]))


def _calibration_files(tmp_path, truth: float):
    scenario = tiny_dict(end_date="2026-07-01")
    (tmp_path / "tiny.yaml").write_text(
        "# a tiny scenario\n" + yaml.safe_dump(scenario, sort_keys=False)
    )
    truth_run = run_one(
        Scenario.from_dict(
            tiny_dict(end_date="2026-07-01", decisions={"withdrawal_rate_per_year": truth})
        ),
        7,
        0,
    ).series_wide()
    targets = []
    for day in ("2026-02-01", "2026-04-01", "2026-06-01"):
        targets.append(
            {
                "id": f"backlog_{day}",
                "group": "T",
                "label": day,
                "kind": "stock",
                "metric": "awaiting_decision",
                "date": day,
                "published": float(truth_run.loc[day, "awaiting_decision"]),
                "tolerance": 0.05,
                "fit": True,
            }
        )
    (tmp_path / "targets.yaml").write_text(
        yaml.safe_dump({"scenario": "tiny.yaml", "targets": targets})
    )
    (tmp_path / "calibration.yaml").write_text(
        yaml.safe_dump(
            {
                "targets": "targets.yaml",
                "seed": 7,
                "replications": 1,
                "max_evaluations": 30,
                "parameters": [
                    {
                        "path": "decisions.withdrawal_rate_per_year",
                        "start": 0.2,
                        "low": 0.01,
                        "high": 3.0,
                        "write": {"tiny.yaml": "decisions.withdrawal_rate_per_year"},
                    }
                ],
            }
        )
    )
    return tmp_path / "calibration.yaml"


def test_calibration_recovers_a_known_value_and_repeats_itself(tmp_path):
    spec = _calibration_files(tmp_path, truth=1.2)
    first, _ = run_calibration(spec, write=False)
    second, _ = run_calibration(spec, write=False)
    assert first.values == second.values and first.objective == second.objective
    fitted = first.values["decisions.withdrawal_rate_per_year"]
    assert abs(fitted - 1.2) < 0.12, fitted


def test_calibration_writes_values_and_provenance_keeping_comments(tmp_path):
    spec = _calibration_files(tmp_path, truth=1.2)
    calibration, written = run_calibration(spec, max_evaluations=5)
    assert written == [(tmp_path / "tiny.yaml").resolve()]
    text = (tmp_path / "tiny.yaml").read_text()
    assert text.startswith("# a tiny scenario")
    scenario = Scenario.from_yaml(tmp_path / "tiny.yaml")
    value = scenario.decisions.withdrawal_rate_per_year
    assert value == pytest.approx(
        calibration.values["decisions.withdrawal_rate_per_year"], rel=1e-3
    )
    source = scenario.sources["decisions.withdrawal_rate_per_year"]
    assert source.kind == "fitted" and "targets.yaml" in source.note and "seed 7" in source.note


def test_shipped_calibration_file_is_valid():
    from simulation.validation.calibrate import load_spec

    spec = load_spec(ROOT / "scenarios" / "validation" / "calibration_2023_2025.yaml")
    scenario = Scenario.from_yaml(ROOT / "scenarios" / "history" / "uk_2023_2025.yaml")
    target_set, _ = load_targets(TARGETS)
    assert any(t.fit for t in target_set.targets)
    from simulation.inputs import paths

    for parameter in spec.parameters:
        paths.get(scenario.to_dict(), parameter.path)  # the path exists
        value = paths.get(scenario.to_dict(), parameter.path)
        assert parameter.low <= value <= parameter.high, parameter.path


@pytest.mark.slow
def test_history_report_command_writes_markdown_and_figures(tmp_path, monkeypatch):
    from simulation.cli import main

    monkeypatch.chdir(tmp_path)  # from any folder: the targets are the shipped ones
    docs = (ROOT / "docs" / "validation.md").read_bytes()
    assert main(["history", "--replications", "2", "--out", "report", "--quiet"]) == 0
    text = (tmp_path / "report" / "validation.md").read_text()
    assert "targets pass" in text and "| V5.appeals_dec2024 |" in text
    pngs = sorted((tmp_path / "report" / "figures").glob("*.png"))
    assert len(pngs) == 4 and all(p.stat().st_size > 10_000 for p in pngs)
    assert (ROOT / "docs" / "validation.md").read_bytes() == docs  # the documented report stays
    shutil.rmtree(tmp_path / "report" / "figures")
