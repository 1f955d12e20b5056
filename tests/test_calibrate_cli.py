"""Calibrate says what it does: a dry run evaluates once at the values the scenario holds,
Ctrl-C keeps the best point so far, a re-run continues from the recorded point, and progress
names parameters by their full paths. A tiny scenario, one parameter, three targets."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, tiny_dict

from simulation import Scenario
from simulation.cli import main
from simulation.experiments.evaluate import run_one
from simulation.inputs import paths
from simulation.validation import calibrate
from simulation.validation.calibrate import (
    CalibrationInterrupted,
    load_spec,
    round_fitted,
    run_calibration,
)
from simulation.validation.targets import load_targets, objective

RATE = "decisions.withdrawal_rate_per_year"
DATED = "decisions.decisions_per_fte_per_month.2026-04-01"
HELD = 0.2  # the tiny scenario's withdrawal rate: where the search starts
TRUTH = 1.2  # the rate the targets were made with


def _files(tmp_path, parameter: str = RATE, low: float = 0.01, high: float = 3.0, **spec):
    productivity = {"2026-01-01": 18.0, "2026-04-01": 18.0} if parameter == DATED else 18.0
    held = tiny_dict(end_date="2026-07-01", decisions={"decisions_per_fte_per_month": productivity})
    (tmp_path / "tiny.yaml").write_text(
        "# a tiny scenario\n" + yaml.safe_dump(held, sort_keys=False)
    )
    held["decisions"]["withdrawal_rate_per_year"] = TRUTH
    truth = run_one(Scenario.from_dict(held), 7, 0).series_wide()
    targets = [
        {
            "id": f"backlog_{day}",
            "group": "T",
            "label": day,
            "kind": "stock",
            "metric": "awaiting_decision",
            "date": day,
            "published": float(truth.loc[day, "awaiting_decision"]),
            "tolerance": 0.05,
            "fit": True,
        }
        for day in ("2026-02-01", "2026-04-01", "2026-06-01")
    ]
    (tmp_path / "targets.yaml").write_text(
        yaml.safe_dump({"scenario": "tiny.yaml", "targets": targets})
    )
    spec = {
        "targets": "targets.yaml",
        "seed": 7,
        "replications": 1,
        "max_evaluations": 30,
        "parameters": [
            {"path": parameter, "low": low, "high": high, "write": {"tiny.yaml": parameter}}
        ],
        **spec,
    }
    (tmp_path / "calibration.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path / "calibration.yaml"


def _held(tmp_path, parameter: str = RATE) -> float:
    return paths.get(Scenario.from_yaml(tmp_path / "tiny.yaml").to_dict(), parameter)


def _objective_at(tmp_path, rate: float) -> float:
    """The objective computed here, apart from the calibration's own code."""
    target_set, scenario_path = load_targets(tmp_path / "targets.yaml")
    scenario = Scenario.from_yaml(scenario_path).with_overrides({RATE: rate})
    return objective(target_set.targets, [run_one(scenario, 7, 0)], scenario)


def _counting_runs(monkeypatch, interrupt_on: int | None = None) -> list[float]:
    """Record the withdrawal rate of every simulation calibrate runs; raise KeyboardInterrupt
    (as Ctrl-C does) when run number ``interrupt_on`` starts."""
    rates: list[float] = []
    real = calibrate.run_one

    def counted(scenario, *args, **kwargs):
        if interrupt_on is not None and len(rates) + 1 == interrupt_on:
            raise KeyboardInterrupt
        rates.append(scenario.decisions.withdrawal_rate_per_year)
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(calibrate, "run_one", counted)
    return rates


# ------------------------------------------------------------------------ dry run


def test_a_dry_run_evaluates_once_at_the_values_the_scenario_holds(tmp_path, monkeypatch, capsys):
    # a start elsewhere is where a fit would start, not what a dry run reports
    spec = _files(tmp_path)
    data = yaml.safe_load(spec.read_text())
    data["parameters"][0]["start"] = 2.5
    spec.write_text(yaml.safe_dump(data))
    before = (tmp_path / "tiny.yaml").read_bytes()
    rates = _counting_runs(monkeypatch)
    assert main(["calibrate", str(spec), "--dry-run", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert rates == [HELD]  # one simulation (one replication), at the held value
    expected = _objective_at(tmp_path, HELD)
    assert out[0] == (
        f"objective {expected:.4f} at the values the scenario holds (dry run: one evaluation; "
        "nothing fitted or written)"
    )
    assert out[1:] == [f"  {RATE} = 0.2"]
    assert (tmp_path / "tiny.yaml").read_bytes() == before


# ------------------------------------------------------------------------ re-run


def test_a_fit_starts_from_the_held_value_and_a_re_run_from_the_recorded_best(tmp_path):
    spec = _files(tmp_path)
    first_points: list[dict[str, float]] = []
    first, written = run_calibration(
        spec, max_evaluations=6, progress=lambda n, v, values: first_points.append(values)
    )
    assert first_points[0] == {RATE: HELD}
    assert written == [(tmp_path / "tiny.yaml").resolve()]
    recorded = _held(tmp_path)
    assert recorded == round_fitted(first.values[RATE]) != HELD  # the fit moved
    again: list[tuple[dict[str, float], float]] = []
    run_calibration(
        spec,
        max_evaluations=1,
        write=False,
        progress=lambda n, v, values: again.append((values, v)),
    )
    assert again == [({RATE: recorded}, pytest.approx(_objective_at(tmp_path, recorded)))]
    # the recorded objective was the unrounded best point's; the re-run starts next to it
    assert again[0][1] <= _objective_at(tmp_path, HELD)


# ------------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_writes_the_best_point_so_far_and_exits_130_with_one_line(
    tmp_path, monkeypatch, capsys
):
    spec = _files(tmp_path)
    rates = _counting_runs(monkeypatch, interrupt_on=7)  # six evaluations, then Ctrl-C
    assert main(["calibrate", str(spec), "--quiet"]) == 130
    captured = capsys.readouterr()
    assert len(rates) == 6 and captured.out == ""
    best = min(rates, key=lambda rate: _objective_at(tmp_path, rate))
    assert best != rates[-1]  # the best so far, not the last tried
    assert _held(tmp_path) == round_fitted(best)
    [line] = captured.err.strip().splitlines()
    assert line.startswith("interrupted after 6 evaluations: the best point so far (objective ")
    assert f"written to {(tmp_path / 'tiny.yaml').resolve()} (marked interrupted)" in line
    assert line.endswith("a re-run continues from it")
    note = Scenario.from_yaml(tmp_path / "tiny.yaml").sources[RATE].note
    assert "INTERRUPTED after 6 evaluations: the best point so far" in note
    assert (tmp_path / "tiny.yaml").read_text().startswith("# a tiny scenario")

    # the re-run continues from the point written
    monkeypatch.setattr(calibrate, "run_one", run_one)
    starts: list[dict[str, float]] = []
    run_calibration(
        spec, max_evaluations=1, write=False, progress=lambda n, v, values: starts.append(values)
    )
    assert starts == [{RATE: round_fitted(best)}]


def test_the_library_raises_with_the_best_point_and_writes_nothing_when_told(tmp_path, monkeypatch):
    spec = _files(tmp_path)
    before = (tmp_path / "tiny.yaml").read_bytes()
    _counting_runs(monkeypatch, interrupt_on=3)
    with pytest.raises(CalibrationInterrupted) as stopped:
        run_calibration(spec, write=False)
    found = stopped.value.calibration
    assert found.interrupted and found.evaluations == 2 and stopped.value.written == []
    assert found.objective == min(value for _values, value in found.history)
    assert (tmp_path / "tiny.yaml").read_bytes() == before


def test_ctrl_c_before_the_first_evaluation_keeps_nothing(tmp_path, monkeypatch, capsys):
    spec = _files(tmp_path)
    before = (tmp_path / "tiny.yaml").read_bytes()
    _counting_runs(monkeypatch, interrupt_on=1)
    assert main(["calibrate", str(spec), "--quiet"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    assert (tmp_path / "tiny.yaml").read_bytes() == before


def test_a_real_sigint_stops_the_command_and_keeps_the_best(tmp_path):
    spec = _files(tmp_path, max_evaluations=500)
    process = subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", "calibrate", str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        # Ctrl-C as at a terminal: a test run in the background inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # the first evaluation's progress line
    assert first.startswith("[   1 of at most 500,"), first
    # One Ctrl-C is enough: one that pydantic swallows while it serialises a scenario's
    # schedules stops the search after the run under way (tests/test_interrupts.py).
    process.send_signal(signal.SIGINT)
    try:
        _out, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("one Ctrl-C did not stop the calibration within 10 s") from None
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted after ")
    assert "INTERRUPTED" in Scenario.from_yaml(tmp_path / "tiny.yaml").sources[RATE].note


# ------------------------------------------------------------------------ progress


def test_progress_names_each_parameter_by_its_full_path(tmp_path, capsys):
    spec = _files(tmp_path, DATED, low=5.0, high=40.0, max_evaluations=2)
    assert main(["calibrate", str(spec)]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[   1 of at most 2,")
    assert lines[0].endswith(f"(best {lines[0].split('objective')[1].split()[0]})  {DATED}=18")
    assert f"  {DATED}=" in lines[1]


# ------------------------------------------------------------------------ the shipped file


def test_the_shipped_calibration_starts_from_the_recorded_fit_and_says_so():
    path = ROOT / "scenarios" / "validation" / "calibration_2023_2025.yaml"
    spec = load_spec(path)
    assert all(parameter.start is None for parameter in spec.parameters)
    text = path.read_text() + (calibrate.__doc__ or "")
    assert "repeats the fit exactly" not in text
    assert "continues from the last fit" in text
