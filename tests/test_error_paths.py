"""How bad input travels: errors that cross processes whole, renamed fields named in sweep
specs, and a command refused for its input leaving no output folder behind."""

from __future__ import annotations

import pickle

import yaml
from conftest import ROOT

from simulation.cli import main
from simulation.core.errors import InputError, ScenarioError
from simulation.experiments.sweep_spec import load_spec


def test_an_input_error_survives_the_trip_to_and_from_a_worker_process():
    for cls in (InputError, ScenarioError):
        error = cls("scenario.yaml", [("appeals.judges_fte", "must be >= 0, got -1")])
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is cls
        assert back.origin == "scenario.yaml"
        assert back.problems == error.problems
        assert str(back) == str(error)


def _spec(tmp_path, parameter: str):
    spec = {
        "name": "renamed",
        "base": {"offshore": str(ROOT / "scenarios" / "rwanda_offshore.yaml")},
        "parameters": {parameter: {"low": 0.5, "high": 1.0}},
        "points": 2,
        "replications": 1,
        "years": 1,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_sweep_over_the_old_name_of_deterrence_says_what_replaced_it(tmp_path, capsys):
    path = _spec(tmp_path, "policies.offshore.deterrence")
    try:
        load_spec(path)
    except InputError as exc:
        lines = exc.lines()
    else:
        raise AssertionError("a sweep over policies.offshore.deterrence was accepted")
    assert any("parameters.policies.offshore.deterrence" in line for line in lines)
    assert any("deterred_share" in line for line in lines)


def test_a_command_refused_for_its_input_leaves_no_output_folder(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: " + str(ROOT / "scenarios" / "baseline.yaml") + "\nappeals: {judges_fte: -3}\n"
    )
    out = tmp_path / "never" / "made"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    assert "judges_fte" in capsys.readouterr().err
    assert not out.exists()
    spec = _spec(tmp_path, "policies.offshore.no_such_field")
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 2
    assert not out.exists()


def test_an_existing_output_folder_is_kept_when_the_input_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: " + str(ROOT / "scenarios" / "baseline.yaml") + "\nappeals: {judges_fte: -3}\n"
    )
    out = tmp_path / "kept"
    out.mkdir()
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    assert out.is_dir()
