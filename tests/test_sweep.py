"""Sweeps: specification, executors, resumable storage, failures and sensitivity."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, tiny_dict
from test_policies import HUBS

from simulation import InputError, ScenarioError
from simulation.experiments.executors import Dask
from simulation.experiments.sensitivity import SensitivityWarning, sensitivity
from simulation.experiments.sweep import load_sweep, sweep
from simulation.experiments.sweep_spec import (
    SweepSpec,
    SweepWarning,
    load_spec,
    samples,
    spec_from_scenario,
)


def write_sweep(tmp_path, **changes) -> tuple:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny_dict(end_date="2026-07-01")))
    (tmp_path / "hubs.yaml").write_text(
        yaml.safe_dump({"extends": "base.yaml", "name": "hubs", "policies": {"return_hubs": HUBS}})
    )
    spec = {
        "name": "test sweep",
        "base": {"base": "base.yaml", "hubs": "hubs.yaml"},
        "parameters": {
            "appeals.lodged_share": {"low": 0.5, "high": 0.9},
            "policies.return_hubs.returned_share": {"values": [0.2, 0.6]},
        },
        "sampler": "lhs",
        "points": 4,
        "replications": 2,
        "seed": 3,
        "metrics": ["final_are_in_uk", "total_cost_gbp", "cost_by_category_gbp.hub_operation"],
        "series": {"metrics": ["are_in_uk"], "every": "month"},
        **changes,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path, spec


# ------------------------------------------------------------------------ specification


@pytest.mark.parametrize(
    ("change", "where", "fragment"),
    [
        (
            {"parameters": {"appeals.no_such": {"low": 0, "high": 1}}},
            "parameters.appeals.no_such",
            "no base scenario has this field",
        ),
        (
            {"parameters": {"appeals.lodged_share": {"low": 0.9, "high": 0.5}}},
            "parameters.appeals.lodged_share",
            "must not exceed high",
        ),
        (
            {"parameters": {"appeals.lodged_share": {"values": [0.5, 1.5, 0.7]}}},
            "parameters.appeals.lodged_share",
            "must be <= 1.0",
        ),
        ({"sampler": "monte"}, "sampler", "Input should be"),
        ({"metrics": ["happiness"]}, "metrics", "unknown metric 'happiness'"),
        (
            {"metrics": ["days_to_final_outcome_mean"]},
            "metrics",
            "no longer reported; ask for days_to_final_outcome_restricted_mean",
        ),
        ({"sampler": "sobol"}, "", "needs ranges, not value lists"),
    ],
)
def test_bad_sweeps_are_refused_before_anything_runs(tmp_path, change, where, fragment):
    path, _ = write_sweep(tmp_path, **change)
    with pytest.raises(InputError) as excinfo:  # the sweep's own fields, or a scenario's
        load_spec(path)
    problems = dict(excinfo.value.problems)
    key = where if where in problems else next(iter(problems))
    assert fragment in problems[key], problems
    assert not (tmp_path / "out").exists()


def test_samples_carry_ids_derived_from_their_values(tmp_path):
    path, _ = write_sweep(tmp_path)
    spec, _ = load_spec(path)
    design = samples(spec)
    assert list(design["point"]) == [0, 1, 2, 3]
    assert design["sample_id"].is_unique
    again = samples(spec)
    assert design.equals(again)  # same seed, same design
    lhs = design["appeals.lodged_share"]
    assert lhs.between(0.5, 0.9).all() and set(design["policies.return_hubs.returned_share"]) <= {
        0.2,
        0.6,
    }


def test_a_scenario_file_is_a_sweep_over_its_uncertainty_ranges():
    spec, bases = spec_from_scenario(ROOT / "scenarios" / "baseline.yaml", "lhs", 5)
    assert set(spec.parameters) == set(bases["baseline"].uncertainty)
    design = samples(spec)
    assert len(design) == 5


# ------------------------------------------------------------------------ running


@pytest.mark.slow
def test_results_are_identical_serially_on_processes_and_on_dask(tmp_path):
    path, _ = write_sweep(tmp_path)
    spec, bases = load_spec(path)
    serial = sweep(spec, bases, tmp_path / "serial", executor="serial", quiet=True)
    assert serial.ran == 16 and serial.failed == 0
    sweep(spec, bases, tmp_path / "processes", executor="processes", workers=2, quiet=True)
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        sweep(spec, bases, tmp_path / "dask", client=client, quiet=True)
        sweep(spec, bases, tmp_path / "dask_as_executor", executor=client, quiet=True)
        # worker settings that slow simulations are set aside during a sweep, then restored
        before = client.run(_worker_settings)
        assert len(before) == 2
        assert all(profiling for profiling, _ in before.values())
        first, second = Dask(client=client), Dask(client=client)
        during = client.run(_worker_settings)
        assert not any(profiling for profiling, _ in during.values())
        if all(fixed for _, fixed in before.values()):  # Dask's nanny fixed the threshold
            assert client.run(_mmap_threshold_raised) == dict.fromkeys(before, True)
        first.close()
        assert client.run(_worker_settings) == during  # the second sweep still runs
        second.close()
        assert client.run(_worker_settings) == before
        assert not any(client.run(_mmap_threshold_raised).values())
    reference = load_sweep(tmp_path / "serial")
    assert len(reference) == 16
    assert reference[["point", "scenario", "replication"]].drop_duplicates().shape[0] == 16
    for other in ("processes", "dask", "dask_as_executor"):
        pd.testing.assert_frame_equal(load_sweep(tmp_path / other), reference)
        pd.testing.assert_frame_equal(
            load_sweep(tmp_path / other, "series"), load_sweep(tmp_path / "serial", "series")
        )
    # the metrics are paired within a point: both bases saw the same people
    base = reference[reference.scenario == "base"]
    assert base["cost_by_category_gbp.hub_operation"].eq(0).all()


def _worker_settings(dask_worker) -> tuple[bool, bool]:
    """Whether the worker's profiler runs, and whether its malloc threshold was fixed."""
    from simulation.experiments.dask_tuning import _fixed_by_environment

    return dask_worker.periodic_callbacks["profile"].is_running(), _fixed_by_environment()


def _mmap_threshold_raised() -> bool:
    from simulation.experiments.dask_tuning import _Held

    return _Held.mmap_raised


KILLABLE = """
import sys
sys.path.insert(0, {root!r})
from simulation.experiments.sweep import sweep
from simulation.experiments.sweep_spec import load_spec
spec, bases = load_spec({path!r})
sweep(spec, bases, {out!r}, executor="serial", quiet=True)
"""


def test_a_killed_sweep_resumes_to_exactly_the_full_set(tmp_path):
    path, _ = write_sweep(tmp_path, points=8, replications=1)
    out = tmp_path / "out"
    script = KILLABLE.format(root=str(ROOT), path=str(path), out=str(out))
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.time() + 120
    while time.time() < deadline:
        done = list((out / "results").glob("*.parquet")) if (out / "results").exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = load_sweep(out)
    assert 0 < len(before) < 16, "the sweep was not killed part-way"
    spec, bases = load_spec(path)
    with pytest.warns(SweepWarning, match="took over the lock"):
        resumed = sweep(spec, bases, out, executor="serial", quiet=True)
    assert resumed.already_done == len(before) and resumed.ran == 16 - len(before)
    after = load_sweep(out)
    keys = after[["point", "scenario", "replication"]]
    assert len(after) == 16 and not keys.duplicated().any()
    full = sweep(spec, bases, tmp_path / "uninterrupted", executor="serial", quiet=True)
    assert full.ran == 16
    pd.testing.assert_frame_equal(after, load_sweep(tmp_path / "uninterrupted"))
    assert not list((out / "results").glob(".*.tmp"))


def test_a_failing_point_is_recorded_and_the_rest_finish(tmp_path, monkeypatch):
    import simulation.experiments.sweep as sweep_module

    real = sweep_module.run_one

    def flaky(scenario, seed, replication, keep_records=False):
        if abs(scenario.appeals.lodged_share - failing_value) < 1e-12:
            raise RuntimeError("tribunal computer says no")
        return real(scenario, seed, replication, keep_records)

    path, _ = write_sweep(tmp_path, replications=1)
    spec, bases = load_spec(path)
    failing_value = float(samples(spec)["appeals.lodged_share"].iloc[1])
    monkeypatch.setattr(sweep_module, "run_one", flaky)
    outcome = sweep(spec, bases, tmp_path / "out", executor="serial", quiet=True)
    assert outcome.failed == 2 and outcome.ran == 6
    failures = load_sweep(tmp_path / "out", "failures")
    assert set(failures["point"]) == {1} and len(failures) == 2
    assert failures["error"].str.contains("tribunal computer says no").all()
    assert set(load_sweep(tmp_path / "out")["point"]) == {0, 2, 3}
    monkeypatch.setattr(sweep_module, "run_one", real)  # fixed: the resume retries them
    again = sweep(spec, bases, tmp_path / "out", executor="serial", quiet=True)
    assert again.ran == 2 and load_sweep(tmp_path / "out", "failures").empty


def test_a_different_sweep_in_the_same_directory_is_refused(tmp_path):
    path, _ = write_sweep(tmp_path, points=1, replications=1)
    spec, bases = load_spec(path)
    sweep(spec, bases, tmp_path / "out", executor="serial", quiet=True)
    other = spec.model_copy(update={"seed": 99})
    with pytest.raises(ScenarioError, match="holds a different sweep"):
        sweep(other, bases, tmp_path / "out", executor="serial", quiet=True)


# ------------------------------------------------------------------------ sensitivity


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def _analytic_sweep(tmp_path, sampler: str, points: int):
    """A sweep directory whose 'model' is the Ishigami function, stored as a sweep stores."""
    spec = SweepSpec.model_validate(
        {
            "name": "ishigami",
            "base": {"f": "none.yaml"},
            "sampler": sampler,
            "points": points,
            "seed": 11,
            "metrics": ["total_cost_gbp"],
            "parameters": {n: {"low": -math.pi, "high": math.pi} for n in ("x1", "x2", "x3")},
        }
    )
    out = tmp_path / sampler
    out.mkdir()
    (out / "spec.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    design = samples(spec)
    design.to_parquet(out / "samples.parquet", index=False)
    y = ishigami(design[["x1", "x2", "x3"]].to_numpy())
    rows = design[["sample_id", "point"]].assign(scenario="f", replication=0, total_cost_gbp=y)
    (out / "results").mkdir()
    rows.to_parquet(out / "results" / "chunk-all.parquet", index=False)
    return out


def test_sobol_indices_of_a_known_function_fall_within_their_intervals(tmp_path):
    out = _analytic_sweep(tmp_path, "sobol", 2048)
    table = sensitivity(out, "total_cost_gbp", conf_level=0.99).set_index("parameter")
    for name in ("x1", "x2", "x3"):
        row = table.loc[name]
        assert abs(row["S1"] - ISHIGAMI_S1[name]) <= row["S1_conf"], (name, row.to_dict())
        assert abs(row["ST"] - ISHIGAMI_ST[name]) <= row["ST_conf"], (name, row.to_dict())


def test_morris_ranks_the_known_function_right(tmp_path):
    out = _analytic_sweep(tmp_path, "morris", 200)
    # 200 trajectories separate x3 from the others but not x1 from x2, and it says so
    with pytest.warns(SensitivityWarning, match="would be needed"):
        table = sensitivity(out, "total_cost_gbp").set_index("parameter")
    # x2 enters only through sin(x2)^2 (large, even); x3 only with x1: smallest mu*
    assert table["mu_star"].idxmin() == "x3"
    assert table.loc["x3", "sigma"] > 0  # its effect depends on x1


def test_sensitivity_command_prints_indices(tmp_path, capsys):
    from simulation.cli import main

    out = _analytic_sweep(tmp_path, "sobol", 256)
    assert main(["sensitivity", str(out), "--metric", "total_cost_gbp"]) == 0
    printed = capsys.readouterr().out
    assert "S1" in printed and "x2" in printed


def test_an_object_that_is_not_an_executor_is_refused_by_name():
    from simulation import InputError
    from simulation.experiments.executors import Serial, make

    serial = Serial()
    assert make(serial) is serial
    with pytest.raises(InputError) as excinfo:
        make(object())
    assert excinfo.value.problems[0][0] == "executor"
    assert "object is not an executor" in excinfo.value.problems[0][1]
