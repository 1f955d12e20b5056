"""Ctrl-C stops long commands: queued work is dropped, worker processes end, what finished
is kept, one line is printed and the exit status is 130 (issue 16).

The command-line tests press Ctrl-C as a terminal does, by sending SIGINT to the command's
whole process group (its worker processes too), and check that nothing of the group is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml
from conftest import ROOT, tiny
from pydantic import BaseModel, Discriminator, Tag

from simulation.experiments import interrupts
from simulation.experiments.executors import Processes, Serial
from simulation.experiments.replications import run_one
from simulation.experiments.sweep import load_sweep

#: how long a command may take to stop after Ctrl-C (the issue's bound)
STOP_WITHIN_SECONDS = 10.0
SCENARIOS = ROOT / "scenarios"


# ------------------------------------------------------------------------ helpers


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        start_new_session=True,  # its own process group, as a command at a terminal has
        # Ctrl-C as at a terminal: a test run in the background inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _until(condition, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"ended before Ctrl-C: {process.communicate()}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("the condition to press Ctrl-C never came")
        time.sleep(0.05)


def _children(process: subprocess.Popen) -> list[int]:
    path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    try:
        return [int(pid) for pid in path.read_text().split()]
    except OSError:
        return []


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _ctrl_c(process: subprocess.Popen, presses: int = 1, group: bool = True) -> tuple[float, str]:
    """Press Ctrl-C ``presses`` times, 0.2 s apart (to the command alone, as `kill -INT`
    does, unless ``group``); the seconds until the command ended and its stderr. Fails if it
    does not end, or leaves any process of its group running."""
    pressed = time.monotonic()
    for press in range(presses):
        if press:
            time.sleep(0.2)
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
    try:
        _out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("the command did not end within 60 s of Ctrl-C") from None
    took = time.monotonic() - pressed
    for _ in range(40):  # worker processes are reaped by the command before it exits
        if not _group_alive(process.pid):
            break
        time.sleep(0.05)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("processes of the command were left running after it ended")
    return took, err


def _one_line(err: str) -> str:
    """The message after the progress output: exactly one line saying 'interrupted'."""
    assert "Traceback" not in err, err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    said = [line for line in lines if "interrupted" in line]
    assert len(said) == 1 and said[0] == lines[-1], err
    return said[0]


def _sweep_file(tmp_path: Path, points: int = 8, years: float = 0.5) -> Path:
    spec = {
        "name": "interrupts",
        "base": {"combined": str(SCENARIOS / "combined.yaml")},
        "parameters": {"policies.offshore.deterred_share": {"low": 0.0, "high": 0.5}},
        "sampler": "lhs",
        "points": points,
        "replications": 1,
        "seed": 3,
        "years": years,
        "metrics": ["total_cost_gbp", "final_are_in_uk"],
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _committed(out: Path) -> int:
    return len(list((out / "chunks").glob("*.json"))) if (out / "chunks").is_dir() else 0


# ------------------------------------------------------------------------ sweep


@pytest.mark.slow
@pytest.mark.parametrize("runner", [["--serial"], ["--workers", "2"]], ids=["serial", "processes"])
def test_ctrl_c_stops_a_sweep_keeping_finished_chunks_and_a_rerun_resumes(tmp_path, runner):
    file, out = _sweep_file(tmp_path), tmp_path / "out"
    command = ["sweep", str(file), "--out", str(out), *runner]
    process = _start(command, tmp_path)
    _until(lambda: _committed(out) >= 1, process)
    took, err = _ctrl_c(process)

    assert process.returncode == 130, err
    assert took < STOP_WITHIN_SECONDS, f"{took:.1f} s to stop"
    line = _one_line(err)
    kept = _committed(out)
    assert 1 <= kept < 8, "the sweep ran on after Ctrl-C"
    assert line == (
        f"interrupted: {kept} of 8 runs finished and kept in {out}; "
        "run the same command again to resume"
    )
    assert len(load_sweep(out)) == kept  # every chunk said to be kept reads back
    assert not (out / "sweep.lock").exists()

    again = subprocess.run(
        [sys.executable, "-m", "simulation.cli", *command, "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert f"8 of 8 runs done ({kept} already there, {8 - kept} now" in again.stdout
    results = load_sweep(out)
    assert sorted(results["point"]) == list(range(8))


@pytest.mark.slow
def test_a_second_ctrl_c_while_a_sweep_stops_neither_hangs_nor_dumps_tracebacks(tmp_path):
    file, out = _sweep_file(tmp_path), tmp_path / "out"
    process = _start(["sweep", str(file), "--out", str(out), "--workers", "2"], tmp_path)
    _until(lambda: _committed(out) >= 1, process)
    took, err = _ctrl_c(process, presses=3)

    assert process.returncode == 130, err
    assert took < STOP_WITHIN_SECONDS, f"{took:.1f} s to stop"
    assert _one_line(err).startswith("interrupted: ")
    assert len(load_sweep(out)) == _committed(out) >= 1


@pytest.mark.slow
def test_sigint_to_the_sweep_alone_stops_its_workers_without_finishing_their_runs(tmp_path):
    """Runs of a few seconds each, and SIGINT to the sweep's process only: its workers are
    stopped by the sweep, not left to finish what they run and what was queued for them."""
    file, out = _sweep_file(tmp_path, years=2), tmp_path / "out"
    process = _start(["sweep", str(file), "--out", str(out), "--workers", "2"], tmp_path)
    _until(lambda: _committed(out) >= 1, process)
    took, err = _ctrl_c(process, group=False)
    assert process.returncode == 130, err
    assert took < 4.0, f"{took:.1f} s to stop: the running runs were waited for"
    assert _one_line(err).startswith("interrupted: ")
    assert len(load_sweep(out)) == _committed(out) >= 1


# ------------------------------------------------------------------------ other commands


@pytest.mark.slow
def test_ctrl_c_stops_compare_on_worker_processes(tmp_path):
    process = _start(
        [
            "compare",
            str(SCENARIOS / "baseline.yaml"),
            str(SCENARIOS / "combined.yaml"),
            "--years",
            "1",
            "--replications",
            "20",
            "--workers",
            "2",
        ],
        tmp_path,
    )
    _until(lambda: len(_children(process)) >= 2, process)
    time.sleep(1.0)  # the workers are running simulations
    took, err = _ctrl_c(process)
    assert process.returncode == 130, err
    assert took < STOP_WITHIN_SECONDS, f"{took:.1f} s to stop"
    assert _one_line(err) == "interrupted"


@pytest.mark.slow
def test_ctrl_c_stops_break_even_on_worker_processes(tmp_path):
    process = _start(
        [
            "break-even",
            str(SCENARIOS / "baseline.yaml"),
            str(SCENARIOS / "rwanda_offshore.yaml"),
            "--parameter",
            "policies.offshore.deterred_share",
            "--years",
            "1",
            "--replications",
            "6",
            "--workers",
            "2",
        ],
        tmp_path,
    )
    _until(lambda: len(_children(process)) >= 2, process)
    time.sleep(1.0)
    took, err = _ctrl_c(process)
    assert process.returncode == 130, err
    assert took < STOP_WITHIN_SECONDS, f"{took:.1f} s to stop"
    assert _one_line(err) == "interrupted"


@pytest.mark.slow
def test_ctrl_c_stops_history(tmp_path):
    process = _start(["history", "--replications", "20", "--out", str(tmp_path / "h")], tmp_path)
    time.sleep(4.0)  # loaded, and running the first replications
    assert process.poll() is None, process.communicate()
    took, err = _ctrl_c(process)
    assert process.returncode == 130, err
    assert took < STOP_WITHIN_SECONDS, f"{took:.1f} s to stop"
    assert _one_line(err) == "interrupted"
    assert not (tmp_path / "h" / "validation.md").exists()


# ------------------------------------------------------------------------ the executors


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _fail(task: Any) -> None:
    raise ValueError(f"task {task} refused")


def _pid(_task: Any) -> int:
    time.sleep(0.2)
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has ended; only its parent has not read its status yet
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


def test_stopping_early_ends_the_workers_at_once_without_waiting_for_their_tasks():
    tasks = [0.1] + [30.0] * 7
    with closing(Processes(2).imap(_sleep, tasks)) as finished:
        index, _ = next(finished)
        workers = _children_of_self()
        stopping = time.monotonic()
    took = time.monotonic() - stopping
    assert index == 0 and len(workers) == 2
    # terminated, not asked to end after their task (nor given the grace STOP_SECONDS)
    assert took < 1.0, f"{took:.1f} s to stop two workers running 30 s tasks"
    assert not any(_alive(pid) for pid in workers)


def _children_of_self() -> list[int]:
    me = os.getpid()
    found = []
    for entry in Path(f"/proc/{me}/task").iterdir():
        found += [int(p) for p in (entry / "children").read_text().split()]
    return found


def test_a_task_that_raises_in_a_worker_is_raised_with_the_workers_traceback():
    with pytest.raises(ValueError, match="task 3 refused") as raised:
        list(Processes(2).imap(_fail, [3, 3]))
    assert "in a worker process" in str(raised.value.__cause__)
    assert "_fail" in str(raised.value.__cause__)


def test_results_come_back_for_every_task_from_all_workers():
    got = dict(Processes(2).imap(_pid, list(range(6))))
    assert sorted(got) == list(range(6)) and len(set(got.values())) == 2
    assert os.getpid() not in got.values()


def test_workers_ignore_ctrl_c_so_that_only_their_parent_decides():
    with closing(Processes(1).imap(_sleep, [0.1, 1.0, 0.1])) as finished:
        assert next(finished)[0] == 0  # the worker now runs the next task
        (worker,) = _children_of_self()
        os.kill(worker, signal.SIGINT)
        assert sorted(index for index, _ in finished) == [1, 2]


# ------------------------------------------------------------------------ a swallowed Ctrl-C


def _interrupting(value: Any) -> str:
    """A discriminator like the schedules' one, during which Ctrl-C is pressed."""
    if not _interrupting.pressed:
        _interrupting.pressed = True
        signal.raise_signal(signal.SIGINT)
    return "dated" if isinstance(value, dict) else "constant"


_interrupting.pressed = False  # type: ignore[attr-defined]

_Schedule = Annotated[
    Annotated[float, Tag("constant")] | Annotated[dict[str, float], Tag("dated")],
    Discriminator(_interrupting),
]


class _Model(BaseModel):
    value: _Schedule


def _swallowed_ctrl_c() -> None:
    """Press Ctrl-C while pydantic serialises a tagged union, as a scenario's schedules
    are; pydantic turns the KeyboardInterrupt into a warning and carries on."""
    _interrupting.pressed = True  # not while the model is made
    model = _Model(value=1.0)
    _interrupting.pressed = False
    with pytest.warns(UserWarning, match="discriminator"):
        model.model_dump()
    assert _interrupting.pressed


@pytest.fixture
def default_sigint():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_that_pydantic_swallows_stops_the_next_run(default_sigint):
    with interrupts.handling():
        _swallowed_ctrl_c()  # no KeyboardInterrupt came out of it
        with pytest.raises(KeyboardInterrupt):
            run_one(tiny(end_date="2026-02-01"), 1)


def test_a_swallowed_ctrl_c_stops_a_serial_executor_after_its_task(default_sigint):
    done = []

    def task(n: int) -> int:
        if n == 1:
            _swallowed_ctrl_c()
        done.append(n)
        return n

    with interrupts.handling(), pytest.raises(KeyboardInterrupt):
        list(Serial().imap(task, [0, 1, 2, 3]))
    assert done == [0, 1]


def test_outside_handling_ctrl_c_behaves_as_python_s_default(default_sigint):
    _swallowed_ctrl_c()
    interrupts.checkpoint()  # nothing noted: nothing raised
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_deferred_block_finishes_before_ctrl_c_takes_effect(default_sigint):
    finished = []
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        signal.raise_signal(signal.SIGINT)
        finished.append("after Ctrl-C")
    assert finished == ["after Ctrl-C"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_clean_up_block_notes_ctrl_c_without_raising(default_sigint):
    with interrupts.handling():
        with interrupts.deferred(reraise=False):
            signal.raise_signal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            interrupts.checkpoint()
