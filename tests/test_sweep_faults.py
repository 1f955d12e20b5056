"""Sweeps under faults: concurrent writers, kills between writes, damaged chunks, bad specs.

Every test that runs a sweep ends with exactly the full set of rows and series of an
uninterrupted sweep of the same spec: none duplicated, none lost.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from test_sweep import write_sweep

import simulation.experiments.sweep as sweep_module
from simulation import InputError, ScenarioError
from simulation.experiments.executors import make
from simulation.experiments.sweep import DirectoryLock, load_sweep, sweep
from simulation.experiments.sweep_spec import (
    MAX_RUNS,
    SweepSpec,
    SweepWarning,
    load_spec,
    samples,
)

KEYS = ["point", "scenario", "replication"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The test sweep (4 points x 2 bases x 2 replications, with series) run without faults."""
    folder = tmp_path_factory.mktemp("spec")
    path, _ = write_sweep(folder)
    spec, bases = load_spec(path)
    sweep(spec, bases, folder / "reference", executor="serial", quiet=True)
    return {
        "path": path,
        "results": load_sweep(folder / "reference"),
        "series": load_sweep(folder / "reference", "series"),
    }


def run(reference, out: Path, **kw):
    spec, bases = load_spec(reference["path"])
    return sweep(spec, bases, out, executor="serial", quiet=True, **kw)


def assert_complete(out: Path, reference) -> None:
    """Exactly the reference's rows and series, nothing left over, no lock held."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SweepWarning)  # nothing left to complain about
        results, series = load_sweep(out), load_sweep(out, "series")
    assert len(results) == 16 and not results.duplicated(KEYS).any()
    assert not series.duplicated([*KEYS, "date", "metric"]).any()
    pd.testing.assert_frame_equal(results, reference["results"])
    pd.testing.assert_frame_equal(series, reference["series"])
    design = load_sweep(out, "samples")
    assert set(results["sample_id"]) <= set(design["sample_id"])
    assert not list(out.glob("*/.*.tmp")) and not (out / "sweep.lock").exists()


def chunk_file(out: Path, kind: str, point: int) -> Path:
    (found,) = (out / kind).glob(f"chunk-{point:06d}-*.parquet")
    return found


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ------------------------------------------------------------------------ one writer at a time

SLOW_SWEEP = """
import sys, time
sys.path.insert(0, {root!r})
import simulation.experiments.sweep as m
from simulation.experiments.sweep_spec import load_spec
real = m.run_chunk
def slow(task):
    time.sleep(0.6)
    return real(task)
m.run_chunk = slow
spec, bases = load_spec({path!r})
m.sweep(spec, bases, {out!r}, executor="serial", quiet=True)
"""


def test_a_second_sweep_into_a_running_sweeps_directory_is_refused(tmp_path, reference):
    out = tmp_path / "out"
    script = SLOW_SWEEP.format(root=str(ROOT), path=str(reference["path"]), out=str(out))
    first = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            holder = sweep_module._read_holder(out / "sweep.lock")
            if holder and holder["pid"] == first.pid:
                break
            time.sleep(0.05)
        assert holder and holder["host"] == socket.gethostname() and holder["started"]
        spec, bases = load_spec(reference["path"])
        for other in (spec, spec.model_copy(update={"seed": 99})):  # same sweep, or another
            with pytest.raises(InputError) as excinfo:
                sweep(other, bases, out, executor="serial", quiet=True)
            field, message = excinfo.value.problems[0]
            assert field == "out" and f"pid {first.pid}" in message, message
        assert first.wait(timeout=120) == 0
    finally:
        first.kill()
    assert_complete(out, reference)


def test_a_lock_held_in_this_process_refuses_a_sweep_until_it_is_let_go(tmp_path, reference):
    out = tmp_path / "out"
    with DirectoryLock(out):
        with pytest.raises(InputError, match="another sweep is writing"):
            run(reference, out)
        assert not (out / "spec.yaml").exists()
    run(reference, out)
    assert_complete(out, reference)


def test_the_stale_lock_of_a_dead_process_is_taken_over_with_a_note(tmp_path, reference):
    out = tmp_path / "out"
    out.mkdir()
    pid = dead_pid()
    stale = {"pid": pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00+00:00"}
    (out / "sweep.lock").write_text(json.dumps(stale))
    with pytest.warns(SweepWarning, match=f"took over the lock of pid {pid} .* no longer runs"):
        run(reference, out)
    assert_complete(out, reference)


def test_a_lock_from_another_host_is_refused_with_what_to_do(tmp_path, reference):
    out = tmp_path / "out"
    out.mkdir()
    other = {"pid": 1, "host": "another-machine", "started": "2026-01-01T00:00:00+00:00"}
    (out / "sweep.lock").write_text(json.dumps(other))
    with pytest.raises(InputError) as excinfo:
        run(reference, out)
    field, message = excinfo.value.problems[0]
    assert field == "out" and "another-machine" in message and "delete" in message
    (out / "sweep.lock").unlink()  # as the message says
    run(reference, out)
    assert_complete(out, reference)


# ------------------------------------------------------------------------ kills and disk errors

DYING_SWEEP = """
import os, sys
sys.path.insert(0, {root!r})
import simulation.experiments.sweep as m
from simulation.experiments.sweep_spec import load_spec
real = m.{target}
calls = []
def dying(*args, **kw):
    calls.append(args)
    if {condition}:
        os._exit(3)
    return real(*args, **kw)
m.{target} = dying
spec, bases = load_spec({path!r})
m.sweep(spec, bases, {out!r}, executor="serial", quiet=True)
"""


@pytest.mark.parametrize(
    ("target", "condition"),
    [
        # the second chunk's results are written, its series not yet
        ("_stage", "len(calls) == 4 and args[1].name == 'series'"),
        # the second chunk's files are in place, its commit record not yet
        ("_record", "len(calls) == 2"),
    ],
    ids=["between-results-and-series", "before-the-commit-record"],
)
def test_a_kill_inside_a_chunks_writes_then_resume(tmp_path, reference, target, condition):
    out = tmp_path / "out"
    script = DYING_SWEEP.format(
        root=str(ROOT), path=str(reference["path"]), out=str(out), target=target,
        condition=condition,
    )  # fmt: skip
    assert subprocess.run([sys.executable, "-c", script], cwd=ROOT).returncode == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepWarning)  # the other chunk's files are unrecorded
        before = load_sweep(out)
        before_series = load_sweep(out, "series")
    assert len(before) == 4 and set(before_series["point"]) == {0}  # only the recorded chunk
    with pytest.warns(SweepWarning) as notes:
        resumed = run(reference, out)
    said = " ".join(str(n.message) for n in notes)
    assert "took over the lock" in said and "removed" in said
    assert resumed.already_done == 4 and resumed.ran == 12
    assert resumed.quarantined == 0  # nothing recorded was damaged: the kill lost nothing
    assert_complete(out, reference)


def test_a_failed_write_leaves_the_chunk_undone_and_the_lock_free(tmp_path, reference, monkeypatch):
    out = tmp_path / "out"
    real = sweep_module._stage
    calls = []

    def disk_full(frame, folder, stem):
        calls.append(folder.name)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real(frame, folder, stem)

    monkeypatch.setattr(sweep_module, "_stage", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run(reference, out)
    assert not (out / "sweep.lock").exists()
    assert json.loads((out / "manifest.json").read_text())["runs_done"] == 4
    assert not list(out.glob("*/.*.tmp"))  # the chunk's first file was removed
    monkeypatch.setattr(sweep_module, "_stage", real)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SweepWarning)  # nothing to repair
        assert run(reference, out).ran == 12
    assert_complete(out, reference)


# ------------------------------------------------------------------------ damaged chunks


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "kind", "read_as"),
    [
        (truncate, "results", "results"),
        (flip_a_byte, "series", "series"),
        (Path.unlink, "results", "results"),  # deleted by hand
        (Path.unlink, "series", "series"),
    ],
    ids=["truncated-results", "flipped-series", "deleted-results", "deleted-series"],
)
def test_a_damaged_chunk_is_left_out_then_quarantined_and_run_again(
    tmp_path, reference, damage, kind, read_as
):
    out = tmp_path / "out"
    run(reference, out)
    damaged = chunk_file(out, kind, 1)
    damage(damaged)
    with pytest.warns(SweepWarning, match=str(damaged.name)):
        partial = load_sweep(out, read_as)
    assert 1 not in set(partial["point"]) and not partial.duplicated().any()
    with pytest.warns(SweepWarning, match="moved chunk chunk-000001"):
        resumed = run(reference, out)
    assert resumed.quarantined == 1 and resumed.ran == 4
    (moved,) = (out / "quarantine").iterdir()
    assert (moved / "reason.txt").read_text().startswith(str(damaged))
    assert {p.name for p in moved.iterdir()} >= {"reason.txt", f"chunks-{moved.name}.json"}
    assert_complete(out, reference)


def test_an_unreadable_commit_record_sets_its_chunk_aside(tmp_path, reference):
    out = tmp_path / "out"
    run(reference, out)
    record = next((out / "chunks").glob("chunk-000002-*.json"))
    record.write_text('{"chunk": "cut sho')
    with pytest.warns(SweepWarning) as notes:
        assert 2 not in set(load_sweep(out)["point"])
    assert record.name in str(notes[0].message) and "without a commit record" in str(
        notes[1].message
    )
    with pytest.warns(SweepWarning, match="is not readable"):
        assert run(reference, out).ran == 4
    assert_complete(out, reference)


def test_a_damaged_samples_file_is_written_again_from_the_spec(tmp_path, reference):
    out = tmp_path / "out"
    run(reference, out)
    truncate(out / "samples.parquet")
    with pytest.raises(InputError, match="samples.parquet"):
        load_sweep(out, "samples")
    with pytest.warns(SweepWarning, match="written again from the spec"):
        assert run(reference, out).ran == 0
    assert_complete(out, reference)


# ------------------------------------------------------------------------ earlier versions


def test_a_directory_of_an_earlier_version_is_adopted_and_its_faults_repaired(tmp_path, reference):
    """Before commit records, a kill between two writes lost a chunk's series, and two sweeps
    into one directory (even with another seed) both wrote chunks."""
    out = tmp_path / "out"
    run(reference, out)
    shutil.rmtree(out / "chunks")  # as an earlier version left it
    pd.testing.assert_frame_equal(load_sweep(out), reference["results"])
    chunk_file(out, "series", 0).unlink()  # killed between the results and the series
    for kind in ("results", "series"):  # the same chunk written twice
        shutil.copy(chunk_file(out, kind, 3), out / kind / "chunk-000003-twice.parquet")
    spec, bases = load_spec(reference["path"])
    sweep(spec.model_copy(update={"seed": 99}), bases, tmp_path / "other", executor="serial",
          quiet=True)  # fmt: skip
    for kind in ("results", "series"):  # point 2 written only by a sweep with another seed
        chunk_file(out, kind, 2).unlink()
        shutil.copy(
            chunk_file(tmp_path / "other", kind, 2), out / kind / "chunk-000002-foreign.parquet"
        )
    with pytest.warns(SweepWarning) as notes:
        mixed = load_sweep(out)
    said = " ".join(str(n.message) for n in notes)
    assert "sample ids not in samples.parquet" in said and "chunk-000002-foreign" in said
    assert "repeat runs" in said and "chunk-000003-twice" in said
    assert len(mixed) == 12 and set(mixed["point"]) == {0, 1, 3}
    assert not mixed.duplicated(KEYS).any()
    with pytest.warns(SweepWarning) as notes:
        resumed = run(reference, out)
    said = " ".join(str(n.message) for n in notes)
    assert "no series file" in said and "another sweep" in said and "repeats runs" in said
    assert resumed.quarantined == 0 and resumed.ran == 8  # points 0 and 2 again
    assert len(list((out / "quarantine").iterdir())) == 3
    assert_complete(out, reference)


def test_a_run_whose_series_cannot_be_read_counts_as_failed_not_done(monkeypatch):
    def broken(*args):
        raise KeyError("in_hotel")

    monkeypatch.setattr(sweep_module, "_resampled", broken)
    from conftest import tiny

    output = sweep_module.run_chunk(
        {
            "bases": {"b": tiny(end_date="2026-02-01")},
            "seed": 1,
            "metrics": ["total_cost_gbp"],
            "series": {"metrics": ["in_hotel"], "every": "month"},
            "runs": [
                {
                    "sample_id": "x",
                    "point": 0,
                    "scenario": "b",
                    "replication": 0,
                    "values": {},
                    "applies": set(),
                }
            ],  # fmt: skip
        }
    )
    assert output["rows"] == [] and len(output["failures"]) == 1


def test_a_run_that_failed_twice_is_listed_once(tmp_path, reference, monkeypatch):
    real = sweep_module.run_one

    def failing(scenario, seed, replication):
        if replication == 1:
            raise RuntimeError("no")
        return real(scenario, seed, replication)

    monkeypatch.setattr(sweep_module, "run_one", failing)
    out = tmp_path / "out"
    assert run(reference, out).failed == 8
    assert run(reference, out).failed == 8
    failures = load_sweep(out, "failures")
    assert len(failures) == 8 and not failures.duplicated(KEYS).any()
    monkeypatch.setattr(sweep_module, "run_one", real)
    assert run(reference, out).ran == 8 and load_sweep(out, "failures").empty
    assert_complete(out, reference)


def test_a_changed_base_scenario_is_refused_on_resume(tmp_path):
    folder = tmp_path / "spec"
    folder.mkdir()
    path, _ = write_sweep(folder, points=1, replications=1)
    spec, bases = load_spec(path)
    sweep(spec, bases, tmp_path / "out", executor="serial", quiet=True)
    changed = {
        "base": bases["base"].with_overrides({"appeals.judges_fte": 5}),
        "hubs": bases["hubs"],
    }
    with pytest.raises(ScenarioError) as excinfo:
        sweep(spec, changed, tmp_path / "out", executor="serial", quiet=True)
    assert excinfo.value.problems[0][0] == "base.base"
    assert "differs from base_base.yaml" in excinfo.value.problems[0][1]


# ------------------------------------------------------------------------ refused before any run


def counting_runs(monkeypatch) -> list:
    calls = []
    real = sweep_module.run_chunk
    monkeypatch.setattr(sweep_module, "run_chunk", lambda task: calls.append(1) or real(task))
    return calls


def test_a_spec_without_base_gets_one_clear_error(tmp_path, capsys):
    from simulation.cli import main

    path, spec = write_sweep(tmp_path)
    del spec["base"]
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(InputError) as excinfo:
        load_spec(path)
    assert (
        excinfo.value.problems == [("base", excinfo.value.problems[0][1])]
        and "a sweep spec needs base:" in excinfo.value.problems[0][1]
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    printed = capsys.readouterr().err.strip().splitlines()
    assert len(printed) == 1 and "a sweep spec needs base:" in printed[0], printed
    assert not (tmp_path / "out" / "spec.yaml").exists()


def test_a_range_over_a_yes_no_field_is_refused(tmp_path):
    flag = "policies.return_hubs.enabled"
    path, _ = write_sweep(tmp_path, parameters={flag: {"low": 0, "high": 1}})
    with pytest.raises(InputError) as excinfo:
        load_spec(path)
    assert excinfo.value.problems == [(f"parameters.{flag}", excinfo.value.problems[0][1])]
    assert "yes/no field" in excinfo.value.problems[0][1]
    path, _ = write_sweep(tmp_path, parameters={flag: {"values": [0, 1]}})
    load_spec(path)  # values are fine


def test_combinations_that_cannot_be_built_are_refused_naming_the_point(tmp_path, monkeypatch):
    path, _ = write_sweep(
        tmp_path,
        sampler="grid",
        parameters={  # each value is valid alone; 100 supported of 30 in the UK is not
            "initial_state.are_supported_people": {"values": [0, 100]},
            "initial_state.are_in_uk_people": {"values": [30, 120]},
        },
    )
    spec, bases = load_spec(path)
    calls = counting_runs(monkeypatch)
    with pytest.raises(InputError) as excinfo:
        sweep(spec, bases, tmp_path / "out", executor="serial", quiet=True)
    lines = excinfo.value.lines()
    assert lines[0].startswith("point 1 in 'base': initial_state:"), lines
    assert "are_supported_people exceeds are_in_uk_people" in lines[0]
    assert "initial_state.are_in_uk_people=30" in lines[0]
    assert lines[1].startswith("point 1 in 'hubs'") and len(lines) == 2, lines
    assert calls == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("metrics", "fragment"),
    [
        (["happiness"], "'base' has no series happiness"),
        (["in_hub"], "'base' has no series in_hub"),
    ],
)
def test_series_a_base_does_not_produce_are_refused_before_any_run(
    tmp_path, monkeypatch, metrics, fragment
):
    path, _ = write_sweep(tmp_path, series={"metrics": metrics})
    spec, bases = load_spec(path)
    calls = counting_runs(monkeypatch)
    with pytest.raises(InputError) as excinfo:
        sweep(spec, bases, tmp_path / "out", executor="serial", quiet=True)
    fields = {field for field, _ in excinfo.value.problems}
    said = " ".join(message for _, message in excinfo.value.problems)
    assert fields == {"series.metrics"} and fragment in said
    assert ("'hubs' has no series" in said) == (metrics == ["happiness"])
    assert calls == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "sampler": "grid",
                "parameters": {f"p{i}": {"low": 0, "high": 1, "levels": 100} for i in range(6)},
            },
            "parameters",
        ),
        ({"replications": 10**9}, "replications"),
        ({"sampler": "sobol", "points": 2**40}, "points"),
    ],  # fmt: skip
    ids=["grid-of-10^12", "10^9-replications", "sobol-of-2^40"],
)
def test_a_design_too_large_to_plan_is_refused_before_it_is_made(change, field):
    parameters = {"p0": {"low": 0, "high": 1}, "p1": {"low": 0, "high": 1}}
    spec = SweepSpec.model_validate({"base": {"a": "a.yaml"}, "parameters": parameters, **change})
    started = time.perf_counter()
    with pytest.raises(InputError) as excinfo:
        samples(spec)
    assert time.perf_counter() - started < 1
    problem = dict(excinfo.value.problems)[field]
    assert f"at most {MAX_RUNS:,}" in problem and "runs" in problem


def test_a_sweep_file_too_large_to_plan_is_refused_when_read(tmp_path):
    path, _ = write_sweep(tmp_path, replications=10**7)  # x 4 points x 2 bases
    with pytest.raises(InputError) as excinfo:
        load_spec(path)
    assert "= 80,000,000 runs" in dict(excinfo.value.problems)["replications"]


def test_a_sobol_count_not_a_power_of_two_is_raised_with_a_note(tmp_path):
    parameters = {"appeals.lodged_share": {"low": 0.5, "high": 0.9}}
    path, _ = write_sweep(tmp_path, sampler="sobol", points=10, parameters=parameters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec, _ = load_spec(path)
        design = samples(spec)
    assert spec.points == 16 and len(design) == 16 * 3
    assert [w.category for w in caught] == [SweepWarning]
    assert "points 10 raised to 16" in str(caught[0].message)
    old = spec.model_copy(update={"points": 10})  # a sweep stored by an earlier version
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(samples(old)) == 30


def test_an_unreachable_scheduler_is_refused_within_seconds(tmp_path, capsys):
    from simulation.cli import main

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(InputError) as excinfo:
        make(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=1)
    assert time.perf_counter() - started < 5
    field, message = excinfo.value.problems[0]
    assert field == "scheduler" and "cannot be reached within 1 s" in message
    path, _ = write_sweep(tmp_path, points=1, replications=1)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--scheduler", "no address"]) == 2
    assert "scheduler: no address is not a scheduler address" in capsys.readouterr().err
    assert not (out / "spec.yaml").exists()


def test_load_sweep_of_something_that_is_not_a_sweep_says_so(tmp_path):
    with pytest.raises(InputError, match="no such sweep directory"):
        load_sweep(tmp_path / "nothing")
    with pytest.raises(InputError, match="unknown 'summary'"):
        load_sweep(tmp_path, "summary")


def test_a_sweep_killed_by_a_signal_on_processes_resumes_to_the_full_set(tmp_path, reference):
    out = tmp_path / "out"
    script = SLOW_SWEEP.format(root=str(ROOT), path=str(reference["path"]), out=str(out)).replace(
        'executor="serial"', 'executor="processes", workers=2'
    )
    first = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "chunks").glob("*.json"))) < 1:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the sweep and its worker processes
    first.wait()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = run(reference, out)
    notes = [str(w.message) for w in caught if issubclass(w.category, SweepWarning)]
    assert any("took over the lock" in note for note in notes)
    # a chunk the kill cut short, if there was one, is said to be run again
    assert all("took over the lock" in n or "will be run again" in n for n in notes)
    assert 0 < resumed.already_done < 16
    assert_complete(out, reference)
