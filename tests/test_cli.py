"""The asylum-sim command: exit codes, messages and files."""

from __future__ import annotations

import json
import shutil
import subprocess

import pandas as pd
import pytest
import yaml
from conftest import BASELINE, ROOT, tiny_dict

from simulation.cli import main


def test_validate_accepts_the_baseline(capsys):
    assert main(["validate", str(BASELINE)]) == 0
    assert "valid scenario" in capsys.readouterr().out


def test_validate_reports_each_problem_on_its_own_line(tmp_path, capsys):
    data = tiny_dict()
    data["appeals"]["lodged_share"] = 1.4
    data["arrivals"]["small_boat"]["rate_per_month"] = -2
    data["decisions"]["unknown_knob"] = 1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3
    assert any("appeals.lodged_share: must be <= 1.0, got 1.4" in line for line in err)
    assert any("arrivals.small_boat.rate_per_month: must be >= 0.0" in line for line in err)
    assert any("decisions.unknown_knob: unknown field" in line for line in err)
    assert not any("Traceback" in line for line in err)


def test_malformed_yaml_exits_2_without_traceback(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "malformed YAML" in err and "Traceback" not in err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["run", str(BASELINE), "--replications", "0"])
    assert excinfo.value.code == 2


def test_run_tiny_with_replications_writes_files(tmp_path, capsys):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_dict()))
    out = tmp_path / "out"
    assert main(["run", str(path), "--replications", "3", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "95% CI (3 runs)" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 3 and len(summary["per_replication"]) == 3
    assert set(pd.read_parquet(out / "series.parquet")["replication"]) == {0, 1, 2}


@pytest.mark.skipif(shutil.which("asylum-sim") is None, reason="console script not installed")
@pytest.mark.slow
def test_console_script_runs_two_years_of_the_baseline(tmp_path):
    out = tmp_path / "out"
    completed = subprocess.run(
        ["asylum-sim", "run", str(BASELINE), "--years", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Hotels" in completed.stdout and "Cost" in completed.stdout
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    series = pd.read_parquet(out / "series.parquet")
    assert summary["total_cost_gbp"] > 0
    assert manifest["end_date"] == "2028-01-01" and manifest["seed"] == 1
    assert manifest["scenario"]["end_date"] == "2028-01-01"
    assert series["date"].max() == pd.Timestamp("2028-01-01")


def test_compare_prints_the_table_and_writes_files(tmp_path, capsys):
    base, hubs = tmp_path / "base.yaml", tmp_path / "hubs.yaml"
    base.write_text(yaml.safe_dump(tiny_dict()))
    from test_policies import HUBS

    hubs.write_text(
        yaml.safe_dump({"extends": "base.yaml", "name": "hubs", "policies": {"return_hubs": HUBS}})
    )
    out = tmp_path / "cmp"
    assert (
        main(["compare", str(base), str(hubs), "--replications", "3", "--out", str(out), "--quiet"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "hubs  vs  tiny  (3 paired replications)" in printed
    assert "hub operation" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"tiny", "hubs"}
    assert pd.read_parquet(out / "comparison.parquet").shape == table.shape


def test_compare_needs_two_scenarios(capsys):
    assert main(["compare", str(BASELINE), "--replications", "3"]) == 2
    assert "at least two" in capsys.readouterr().err


def test_break_even_reports_no_crossing_plainly(tmp_path, capsys):
    base, policy = tmp_path / "base.yaml", tmp_path / "offshore.yaml"
    base.write_text(yaml.safe_dump(tiny_dict()))
    from test_policies import OFFSHORE

    costly = dict(
        OFFSHORE, relocation_share=0.0, fixed_payments=[{"date": "2026-02-01", "amount_gbp": 1e12}]
    )
    policy.write_text(yaml.safe_dump({"extends": "base.yaml", "policies": {"offshore": costly}}))
    code = main(
        [
            "break-even",
            str(base),
            str(policy),
            "--parameter",
            "policies.offshore.deterred_share",
            "--metric",
            "total_cost_gbp",
            "--low",
            "0",
            "--high",
            "0.5",
            "--replications",
            "2",
            "--quiet",
        ]
    )
    assert code == 1
    assert "no crossing" in capsys.readouterr().err


def test_break_even_names_an_unknown_metric(tmp_path, capsys):
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(tiny_dict()))
    code = main(
        [
            "break-even",
            str(base),
            str(base),
            "--parameter",
            "appeals.lodged_share",
            "--metric",
            "happiness",
            "--low",
            "0.5",
            "--high",
            "0.9",
            "--replications",
            "2",
            "--quiet",
        ]
    )
    assert code == 2
    assert "unknown metric 'happiness'" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("asylum-sim") is None, reason="console script not installed")
@pytest.mark.slow
def test_console_script_compares_baseline_and_return_hubs(tmp_path):
    out = tmp_path / "cmp"
    completed = subprocess.run(
        [
            "asylum-sim",
            "compare",
            "scenarios/baseline.yaml",
            "scenarios/return_hubs.yaml",
            "--replications",
            "5",
            "--years",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Return hubs from July 2026  vs  UK baseline 2026-2035" in completed.stdout
    table = pd.read_parquet(out / "comparison.parquet")
    row = table[(table.metric == "final_are_in_uk") & (table.scenario != table.scenario.iloc[0])]
    assert row.diff_ci_high.iloc[0] < 0  # hubs lower the ARE population, significantly
    assert (out / "comparison.csv").exists()


def test_policies_lists_every_registered_policy_with_its_parameters(capsys):
    from simulation.inputs.policy_config import registered

    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    for name, config in registered().items():
        assert f"{name}: " in out
        for field in config.model_fields:
            assert f"  {field}" in out


def test_sources_prints_every_sourced_figure_with_its_value_and_reference(capsys):
    from simulation import Scenario

    path = ROOT / "scenarios" / "return_hubs.yaml"
    assert main(["sources", str(path)]) == 0
    out = capsys.readouterr().out
    scenario = Scenario.from_yaml(path)
    for field in scenario.sources:
        assert f"\n{field} = " in f"\n{out}", field
    assert "albania_cpr_transited = 140 people" in out
    assert f"{len(scenario.sources)} sourced figures" in out


def test_cohort_prints_where_a_months_claimants_stand(tmp_path, capsys):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_dict()))
    args = ["cohort", str(path), "--claimed", "2026-02", "--at", "2026-10-31", "--quiet"]
    assert main([*args, "--replications", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Claimed 2026-02-01 to 2026-02-28, as at the end of 2026-10-31")
    assert "(mean of 2 runs)" in out and "granted at initial decision" in out
    # a window outside the run is refused before anything runs, naming the field
    assert main(["cohort", str(path), "--claimed", "2025-02", "--at", "2026-10-31"]) == 2
    assert "claimed_from: must be within the run" in capsys.readouterr().err
