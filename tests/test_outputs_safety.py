"""Writing outputs safely: destinations checked before a run, strict JSON, atomic files."""

from __future__ import annotations

import json
import math
import os
import stat

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import tiny, tiny_dict
from test_policies import HUBS

import simulation.cli as cli
from simulation import run
from simulation.core.errors import InputError
from simulation.experiments.comparison import Comparison
from simulation.outputs import writing
from simulation.outputs.writing import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    check_output_directory,
    check_output_file,
    finite_json,
    json_text,
)


def _refuse_constant(name: str):
    raise ValueError(f"not strict JSON: {name}")


def strict_loads(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_refuse_constant)


def _fields(exc: InputError) -> list[str]:
    return [path for path, _ in exc.problems]


class Reached(Exception):
    """Raised by a stand-in for a step that must not be reached."""


def _unreachable(*args, **kwargs):
    raise Reached


def _leftovers(directory) -> list[str]:
    """Temporary or probe files left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def undefined_scenario():
    """Nobody decided (no caseworkers) and a return-hub scheme that is never halted: the
    decision waits and the halt day are undefined (NaN)."""
    return tiny(
        decisions={"caseworkers_fte": 0},
        policies={"return_hubs": dict(HUBS, halt_probability=0.0)},
    ).with_years(0.5)


# ------------------------------------------------------------------------------ checks


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_output_directory_is_refused_naming_out(empty):
    with pytest.raises(InputError) as caught:
        check_output_directory(empty)
    assert _fields(caught.value) == ["out"]
    assert "--out" not in str(caught.value)


def test_an_existing_file_is_refused_as_an_output_directory(tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me")
    with pytest.raises(InputError) as caught:
        check_output_directory(target)
    assert _fields(caught.value) == ["out"] and "existing file" in str(caught.value)
    assert target.read_text() == "keep me"


def test_a_directory_that_cannot_be_created_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError) as caught:
        check_output_directory(tmp_path / "file" / "below")
    assert _fields(caught.value) == ["out"] and "cannot create" in str(caught.value)


def test_a_directory_that_cannot_be_written_is_refused(tmp_path, monkeypatch):
    def no_writing(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(writing, "open", no_writing, raising=False)
    with pytest.raises(InputError) as caught:
        check_output_directory(tmp_path / "out", field="directory", origin="sweep")
    assert caught.value.origin == "sweep" and _fields(caught.value) == ["directory"]
    assert "cannot write" in str(caught.value) and "Permission denied" in str(caught.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_directory_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(InputError):
            check_output_directory(locked)
    finally:
        locked.chmod(stat.S_IRWXU)


def test_a_new_output_directory_is_created_and_left_clean(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_output_directory(str(target)) == target
    assert target.is_dir() and list(target.iterdir()) == []


def test_an_output_file_must_not_be_a_directory(tmp_path):
    with pytest.raises(InputError) as caught:
        check_output_file(tmp_path)
    assert _fields(caught.value) == ["out"] and "is a directory" in str(caught.value)
    report = check_output_file(tmp_path / "new" / "report.md")
    assert report.parent.is_dir() and not report.exists()


# ------------------------------------------------------------------------------ the command


def _tiny_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_dict()))
    return path


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "history"])
@pytest.mark.parametrize("bad", ["empty", "file"])
def test_a_bad_out_fails_with_exit_2_before_the_command_runs(
    command, bad, tmp_path, monkeypatch, capsys
):
    scenario = str(_tiny_file(tmp_path))
    taken = tmp_path / "taken"
    taken.write_text("keep me")  # history's --out is a directory too (validation.md, figures/)
    out = "" if bad == "empty" else str(taken)

    monkeypatch.setitem(cli.COMMANDS, command, _unreachable)
    argv = {
        "run": ["run", scenario],
        "compare": ["compare", scenario, scenario],
        "sweep": ["sweep", scenario],
        "history": ["history"],
    }[command]
    assert cli.main([*argv, "--out", out, "--quiet"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"{command}: out: "), err
    if bad == "file":
        assert taken.read_text() == "keep me"


def test_the_command_gets_the_checked_directory(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setitem(cli.COMMANDS, "run", lambda args: seen.setdefault("out", args.out) and 0)
    target = tmp_path / "new"
    assert cli.main(["run", "x.yaml", "--out", str(target)]) == 0
    assert seen["out"] == target and target.is_dir()


def test_commands_without_out_are_not_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "check_output_directory", _unreachable)
    assert cli.main(["validate", str(_tiny_file(tmp_path))]) == 0


# ------------------------------------------------------------------------------ the Python API


def test_the_writers_refuse_a_file_before_writing(tmp_path, tiny_scenario):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    result = run(tiny_scenario.with_years(0.1), seed=1)
    replications = run(tiny_scenario.with_years(0.1), seed=1, replications=2)
    comparison = Comparison(table=pd.DataFrame({"metric": ["x"]}), results={})
    for writer, origin in (
        (result.write, "Result.write"),
        (replications.write, "Replications.write"),
        (comparison.write, "Comparison.write"),
    ):
        with pytest.raises(InputError) as caught:
            writer(taken)
        assert caught.value.origin == origin and _fields(caught.value) == ["out"]
        with pytest.raises(InputError):
            writer("")
    assert taken.read_text() == "keep me"


def test_history_checks_where_it_writes_before_running(tmp_path, monkeypatch):
    from simulation.validation import history

    monkeypatch.setattr(history, "run_history", _unreachable)
    targets = history.default_targets()  # read first: bad input never leaves a folder behind
    with pytest.raises(InputError) as caught:
        history.report(targets, out=tmp_path)
    assert _fields(caught.value) == ["out"]
    (tmp_path / "figures").write_text("not a directory")
    with pytest.raises(InputError):
        history.report(targets, out=tmp_path / "validation.md")


def test_calibration_checks_the_files_it_writes_before_fitting(tmp_path, monkeypatch):
    from simulation.validation import calibrate

    (tmp_path / "calibration.yaml").write_text(
        yaml.safe_dump(
            {
                "targets": "targets.yaml",
                "seed": 1,
                "replications": 1,
                "max_evaluations": 3,
                "parameters": [
                    {
                        "path": "decisions.withdrawal_rate_per_year",
                        "start": 0.2,
                        "low": 0.01,
                        "high": 3.0,
                        "write": {"missing.yaml": "decisions.withdrawal_rate_per_year"},
                    }
                ],
            }
        )
    )
    monkeypatch.setattr(calibrate, "load_targets", _unreachable)
    with pytest.raises(InputError) as caught:
        calibrate.run_calibration(tmp_path / "calibration.yaml")
    assert _fields(caught.value) == ["parameters.0.write"]
    assert "missing.yaml" in str(caught.value)
    with pytest.raises(Reached):  # a dry run writes nothing, so checks nothing
        calibrate.run_calibration(tmp_path / "calibration.yaml", dry_run=True)


# ------------------------------------------------------------------------------ strict JSON


def test_non_finite_numbers_become_null_however_nested():
    value = {
        "a": math.nan,
        "b": [np.float32("inf"), -math.inf, 1.5, np.int64(3), np.bool_(True)],
        "c": {"d": np.array([np.nan, 2.0])},
        "e": (np.float64("nan"),),
    }
    assert finite_json(value) == {
        "a": None,
        "b": [None, None, 1.5, 3, True],
        "c": {"d": [None, 2.0]},
        "e": [None],
    }
    assert strict_loads(json_text(value))["c"]["d"] == [None, 2.0]
    assert json_text({"x": 0.1 + 0.2}) == json.dumps({"x": 0.1 + 0.2}, indent=2) + "\n"


def test_summary_json_is_strict_with_null_for_what_a_run_leaves_undefined(
    tmp_path, undefined_scenario
):
    result = run(undefined_scenario, seed=1)
    assert math.isnan(result.summary["days_to_initial_decision_p50"])
    assert math.isnan(result.summary["policies"]["return_hubs"]["halt_day"])
    result.write(tmp_path)
    summary = strict_loads((tmp_path / "summary.json").read_text())
    strict_loads((tmp_path / "manifest.json").read_text())
    assert summary["days_to_initial_decision_p50"] is None
    assert summary["days_to_final_outcome_p50"] is None
    assert summary["policies"]["return_hubs"]["halt_day"] is None
    assert summary["policies"]["return_hubs"]["halted"] == 0.0
    for key, value in result.flat_summary().items():  # every other figure as it was
        written = summary
        for part in key.split("."):
            written = written[part]
        assert written == (value if math.isfinite(value) else None), key


def test_replications_summary_json_is_strict(tmp_path, undefined_scenario):
    replications = run(undefined_scenario, seed=1, replications=2)
    written = replications.write(tmp_path)
    assert [p.name for p in written] == [
        "summary.json",
        "series.parquet",
        "manifest.json",
        "summary.csv",
        "series.csv",
    ]
    summary = strict_loads(written[0].read_text())
    manifest = strict_loads(written[2].read_text())
    rows = {row["metric"]: row for row in summary["metrics"]}
    assert rows["days_to_initial_decision_p50"]["mean"] is None
    assert rows["days_to_initial_decision_p50"]["ci_low"] is None
    assert rows["claims"]["mean"] == replications.summary.set_index("metric").loc["claims", "mean"]
    assert summary["replications"] == 2 and len(summary["per_replication"]) == 2
    assert manifest["replications"] == 2 and "replication" not in manifest
    assert len(manifest["wall_seconds"]) == 2
    assert set(pd.read_parquet(written[1])["replication"]) == {0, 1}
    assert _leftovers(tmp_path) == []


def test_the_command_writes_strict_json_for_replications(tmp_path, capsys):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_dict(decisions={"caseworkers_fte": 0})))
    out = tmp_path / "out"
    argv = ["run", str(path), "--years", "0.2", "--replications", "2", "--out", str(out)]
    assert cli.main([*argv, "--quiet"]) == 0
    summary = strict_loads((out / "summary.json").read_text())
    rows = {row["metric"]: row for row in summary["metrics"]}
    assert rows["days_to_initial_decision_p50"]["mean"] is None
    manifest = strict_loads((out / "manifest.json").read_text())
    assert "replication" not in manifest and manifest["replications"] == 2
    assert len(manifest["wall_seconds"]) == 2


# ------------------------------------------------------------------------------ atomic writes


def _old_files(directory):
    directory.mkdir(exist_ok=True)
    for name in ("summary.json", "series.parquet", "manifest.json"):
        (directory / name).write_bytes(b"old " + name.encode())
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_a_result_writer_failing_halfway_leaves_the_old_files(tmp_path, monkeypatch):
    result = run(tiny().with_years(0.1), seed=1)
    before = _old_files(tmp_path)

    def half_then_fail(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        result.write(tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    # summary.json was complete before the failure and is the new one; the rest is untouched
    assert sorted(after) == sorted(before)
    assert after["series.parquet"] == before["series.parquet"]
    assert after["manifest.json"] == before["manifest.json"]
    assert strict_loads(after["summary.json"].decode())["claims"] == result.summary["claims"]


def test_a_json_writer_failing_halfway_leaves_the_old_file(tmp_path, monkeypatch):
    result = run(tiny().with_years(0.1), seed=1)
    before = _old_files(tmp_path)
    real_open = open

    class Breaking:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, text):
            self.handle.write(text[: len(text) // 2])
            raise OSError("disk full")

    def breaking_open(path, mode="r", *args, **kwargs):
        return Breaking(real_open(path, mode, *args, **kwargs))

    monkeypatch.setattr(writing, "open", breaking_open, raising=False)
    with pytest.raises(OSError, match="disk full"):
        result.write(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_comparison_writer_failing_halfway_leaves_the_old_table(tmp_path, monkeypatch):
    table = pd.DataFrame({"metric": ["a", "b"], "mean": [1.0, 2.0]})
    comparison = Comparison(table=table, results={})
    comparison.write(tmp_path)
    old_csv = (tmp_path / "comparison.csv").read_bytes()
    old_parquet = (tmp_path / "comparison.parquet").read_bytes()

    def half_then_fail(self, path, *args, **kwargs):
        with open(path, "w") as handle:
            handle.write("metric,me")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    changed = Comparison(table=pd.DataFrame({"metric": ["c"], "mean": [3.0]}), results={})
    with pytest.raises(OSError):
        changed.write(tmp_path)
    assert (tmp_path / "comparison.csv").read_bytes() == old_csv
    assert (tmp_path / "comparison.parquet").read_bytes() != old_parquet  # written before
    assert _leftovers(tmp_path) == []


def test_atomic_text_that_cannot_be_encoded_leaves_the_old_file(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old report")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "new report \udcff")
    assert target.read_text() == "old report" and _leftovers(tmp_path) == []
    atomic_write_text(target, "new report £")
    assert target.read_text(encoding="utf-8") == "new report £"
    assert atomic_write_bytes(target, b"\x00\x01").read_bytes() == b"\x00\x01"


def test_atomic_path_names_and_cleanup(tmp_path):
    final = tmp_path / "series.parquet"
    with atomic_path(final) as temporary:
        assert temporary.parent == tmp_path and not temporary.exists()
        assert not temporary.name.endswith(".parquet")  # never read as a finished chunk
        pd.DataFrame({"x": [1]}).to_parquet(temporary)
    assert pd.read_parquet(final)["x"].tolist() == [1] and _leftovers(tmp_path) == []
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "never.csv"):
        pass  # a writer that wrote nothing must not pass for one that did
    assert not (tmp_path / "never.csv").exists()


def test_atomic_path_keeps_the_suffix_for_savefig(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    final = tmp_path / "figure.png"
    with atomic_path(final, keep_suffix=True) as temporary:
        assert temporary.suffix == ".png"
        fig.savefig(temporary)
    plt.close(fig)
    assert final.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and _leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes and links")
def test_atomic_writes_keep_the_mode_and_write_through_a_link(tmp_path):
    target = tmp_path / "scenario.yaml"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
