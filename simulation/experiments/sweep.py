"""Running a sweep into a directory of Parquet files, resumably.

    DIR/spec.yaml           the sweep as run (base scenarios resolved to full YAML beside it)
    DIR/manifest.json       package version, sampler, counts, start and update times, and
                            the source each swept value replaces in each base scenario
    DIR/samples.parquet     the design: point, sample_id, one column per parameter
    DIR/results/*.parquet   one file per chunk of runs: one row per (point, scenario,
                            replication), with the parameter values and the metrics
    DIR/series/*.parquet    optional resampled series, same keys
    DIR/failures/*.parquet  runs that raised, with the error
    DIR/chunks/*.json       one commit record per chunk: its runs, and its files with their
                            sizes and sha256 checksums
    DIR/quarantine/         chunks found damaged, moved aside with the reason
    DIR/sweep.lock          while a sweep runs: its pid, host and start time

Runs are grouped in chunks (by default one point: every base scenario and replication). A
chunk's files are written under temporary names and renamed, and then its commit record is
written: a chunk counts only once its record exists, so a kill at any moment leaves whole,
recorded chunks and, at most, files of one unrecorded chunk. Running again into the same
directory (or with --resume) first checks every recorded file against its checksum (a
damaged chunk is moved to ``quarantine/``), deletes what unrecorded chunks left, then runs
only the missing (point, scenario, replication) triples; a run that raised before is tried
again. One sweep at a time writes into a directory: a second is refused while the first
holds the lock, and the lock of a process that died is taken over. For one point every base
scenario runs with the same seed and replication numbers, so differences between base
scenarios are paired.

A base scenario that has none of the swept parameters (a policy-free baseline in a sweep of
policy levers) would give the same result at every point, so it is run once per replication,
at point 0, and :func:`load_sweep` repeats its rows at every other point (with that point's
sample id and parameter values, as if it had run there), so that paired differences line up.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import time
import traceback
import uuid
import warnings
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..core import progress
from ..core.errors import InputError, ScenarioError
from ..core.version import package_version
from ..inputs import paths
from ..inputs.files import read_yaml
from ..inputs.provenance import SET_BY_SWEEP, set_source
from ..inputs.scenario import Scenario
from ..outputs.results import flatten
from ..outputs.writing import atomic_write_bytes, check_output_directory, json_text
from . import interrupts
from .evaluate import run_one
from .executors import Executor, make
from .sweep_spec import (
    SweepSpec,
    SweepWarning,
    applicable,
    check,
    check_points,
    check_series,
    integer_parameters,
    plain,
    samples,
    sobol_power_of_two,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not on a POSIX system
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DirectoryLock",
    "SweepInterrupted",
    "SweepOutcome",
    "SweepWarning",
    "load_sweep",
    "plan",
    "plot_sweep",
    "sweep",
]

KEYS = ["sample_id", "point", "scenario", "replication"]
RESAMPLE = {"month": "MS", "quarter": "QS", "year": "YS"}
PARAMETER_PREFIX = "param:"
KINDS = ("results", "series", "failures")
COMMITS = "chunks"
QUARANTINE = "quarantine"
LOCK_FILE = "sweep.lock"
LAYOUT = 2  # 1: chunk files only; 2: chunk files and commit records

_plain = plain  # kept under its old name


@dataclass(frozen=True)
class RunKey:
    point: int
    scenario: str
    replication: int


@dataclass
class SweepOutcome:
    directory: Path
    total: int
    already_done: int
    ran: int
    failed: int
    seconds: float
    quarantined: int = 0


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep: the runs not started were dropped, the worker processes
    stopped, and every chunk that had finished is stored; ``outcome`` counts them. Running
    the same sweep into the same directory again runs the rest."""

    def __init__(self, outcome: SweepOutcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


# ------------------------------------------------------------------------------ one chunk


def run_chunk(task: dict[str, Any]) -> dict[str, Any]:
    """Run a chunk of (point, scenario, replication) runs; never raises for a failed run.

    A run counts as done only when everything kept of it (metrics and series) was read."""
    rows, series_rows, failures = [], [], []
    for run in task["runs"]:
        key = {k: run[k] for k in KEYS}
        params = {PARAMETER_PREFIX + k: v for k, v in run["values"].items()}
        try:
            scenario: Scenario = task["bases"][run["scenario"]]
            applicable = {k: v for k, v in run["values"].items() if k in run["applies"]}
            if applicable:
                scenario = scenario.with_overrides(applicable, by=SET_BY_SWEEP)
            result = run_one(scenario, task["seed"], run["replication"])
            flat = flatten(result.summary)
            metrics = {
                m: flat.get(m, 0.0 if m.startswith("cost_by_category") else None)
                for m in task["metrics"]
            }
            series = _resampled(result, key, task["series"]) if task["series"] else None
            rows.append({**key, **params, **metrics})
            if series is not None:
                series_rows.append(series)
        except Exception as exc:  # a failed run is recorded, the sweep goes on
            failures.append(
                {
                    **key,
                    **params,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=20),
                }
            )
    series = pd.concat(series_rows, ignore_index=True) if series_rows else None
    return {"rows": rows, "failures": failures, "series": series}


def _resampled(result, key: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    wide = result.series_wide()[spec["metrics"]]
    wide.index = pd.to_datetime(wide.index)
    sampled = wide.resample(RESAMPLE[spec["every"]]).first()
    long = sampled.reset_index().melt(id_vars="date", var_name="metric", value_name="value")
    for name, value in key.items():
        long.insert(0, name, value)
    return long


# ------------------------------------------------------------------------------ files


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the system allows it)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file beside it, synced, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    _fsync_folder(path.parent)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------ the lock


def _alive(pid: Any) -> bool:
    """Whether process ``pid`` runs on this host (True when that cannot be told)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:  # pragma: no cover
        return False
    return True


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(path))
    except FileNotFoundError:
        return False


def _parse_holder(data: bytes) -> dict[str, Any] | None:
    try:
        holder = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _read_holder(path: Path) -> dict[str, Any] | None:
    try:
        return _parse_holder(path.read_bytes())
    except OSError:
        return None


class DirectoryLock:
    """One sweep at a time in a directory: ``DIR/sweep.lock`` names the sweep that writes.

    The lock is an ``flock`` on that file, which the system lets go of when its process ends,
    however it ends; the file's content (pid, host, start time) is for the messages. A lock
    file left by a process that has died on this host is taken over (``notes`` says so); one
    from another host is refused, since its process cannot be checked from here. Where the
    filesystem has no locks, the file is created exclusively and a holder is stale when its
    pid no longer runs on this host.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self.notes: list[str] = []
        self._descriptor: int | None = None

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _identity(self) -> bytes:
        return json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": _now(),
                "version": package_version(),
            }
        ).encode()

    def _refuse(self, holder: dict[str, Any] | None) -> InputError:
        if holder is None:
            who = "another sweep (starting up, or a lock file that cannot be read)"
        else:
            who = (
                f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
            )
        here = holder is None or holder.get("host") == socket.gethostname()
        advice = (
            "wait for it to end, or give another --out"
            if here
            else f"if no sweep runs there any more, delete {self.path}"
        )
        return InputError(
            str(self.directory),
            [("out", f"another sweep is writing into this directory ({who}); {advice}")],
        )

    def _note_stale(self, holder: dict[str, Any] | None) -> None:
        if holder is None:
            return
        why = "no longer runs" if not _alive(holder.get("pid")) else "no longer holds it"
        self.notes.append(
            f"{self.directory}: took over the lock of pid {holder.get('pid')} on "
            f"{holder.get('host')} (started {holder.get('started')}), which {why}"
        )

    def acquire(self) -> None:
        """Take the lock, or raise InputError naming ``out`` if another sweep holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover - not POSIX
            return self._acquire_exclusively()
        for _ in range(20):
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                raise self._refuse(_read_holder(self.path)) from None
            except OSError:  # pragma: no cover - a filesystem without locks
                os.close(descriptor)
                return self._acquire_exclusively()
            if not _same_file(descriptor, self.path):  # let go of and removed meanwhile
                os.close(descriptor)
                continue
            previous = _parse_holder(os.pread(descriptor, 1 << 16, 0))
            if previous is not None and previous.get("host") != socket.gethostname():
                os.close(descriptor)
                raise self._refuse(previous)
            self._note_stale(previous)
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, self._identity(), 0)
            os.fsync(descriptor)
            self._descriptor = descriptor
            return None
        raise self._refuse(None)  # pragma: no cover - the file kept changing under us

    def _acquire_exclusively(self) -> None:
        for _ in range(20):
            try:
                descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = _read_holder(self.path)
                if holder is None:  # being written, or damaged
                    time.sleep(0.05)
                    continue
                if holder.get("host") == socket.gethostname() and not _alive(holder.get("pid")):
                    self._note_stale(holder)
                    self.path.unlink(missing_ok=True)
                    continue
                raise self._refuse(holder) from None
            os.write(descriptor, self._identity())
            os.fsync(descriptor)
            self._descriptor = descriptor
            return
        raise self._refuse(_read_holder(self.path))

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and let go of the lock."""
        if self._descriptor is None:
            return
        try:
            if _same_file(self._descriptor, self.path):
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self._descriptor)
            self._descriptor = None


# ------------------------------------------------------------------------------ runs


class _Runs:
    """Every run of a sweep, numbered in order: point, then base scenario, then replication
    (run ``i`` is point ``i // (bases * replications)``)."""

    def __init__(self, points: int, scenarios: Sequence[str], replications: int) -> None:
        self.points = points
        self.scenarios = list(scenarios)
        self.code = {name: i for i, name in enumerate(self.scenarios)}
        self.replications = replications
        self.total = points * len(self.scenarios) * replications

    def number(self, point: Any, scenario: Any, replication: Any) -> int | None:
        """The run's number, or None if no run of this sweep has that key."""
        b = self.code.get(scenario)
        if b is None or not isinstance(point, int) or not isinstance(replication, int):
            return None
        if not (0 <= point < self.points and 0 <= replication < self.replications):
            return None
        return (point * len(self.scenarios) + b) * self.replications + replication

    def key(self, number: int) -> tuple[int, str, int]:
        rest, replication = divmod(int(number), self.replications)
        point, b = divmod(rest, len(self.scenarios))
        return point, self.scenarios[b], replication

    def needed(self, once: Sequence[str] = ()) -> np.ndarray:
        """Which runs are to be run: all, except those of the ``once`` scenarios (run once
        per replication) beyond point 0. One byte a run."""
        mask = np.ones((self.points, len(self.scenarios), self.replications), dtype=bool)
        for name in once:
            mask[1:, self.code[name], :] = False
        return mask.reshape(-1)


def run_once(spec: SweepSpec, bases: dict[str, Scenario]) -> list[str]:
    """The base scenarios that have none of the swept parameters: the same at every point,
    so run once per replication (at point 0)."""
    return [name for name, fields in applicable(spec, bases).items() if not fields]


class _Tasks(Sequence):
    """The chunks of missing runs, each built as a task only when an executor asks for it,
    so that a large sweep keeps a few bytes per run in memory, not a dict."""

    def __init__(
        self,
        base: dict[str, Any],
        runs: _Runs,
        design: pd.DataFrame,
        applies: dict[str, list[str]],
        missing: np.ndarray,
        size: int,
    ) -> None:
        self.base, self.runs, self.missing, self.size = base, runs, missing, size
        self.names = [c for c in design.columns if c not in ("point", "sample_id")]
        self.columns = {n: design[n].to_numpy() for n in self.names}
        self.sample_ids = design["sample_id"].to_numpy()
        self.points = design["point"].to_numpy()
        self.applies = {name: set(fields) for name, fields in applies.items()}

    def __len__(self) -> int:
        return -(-len(self.missing) // self.size)

    def numbers(self, index: int) -> np.ndarray:
        return self.missing[index * self.size : (index + 1) * self.size]

    def run(self, number: int) -> dict[str, Any]:
        row, scenario, replication = self.runs.key(number)
        return {
            "sample_id": self.sample_ids[row],
            "point": int(self.points[row]),
            "scenario": scenario,
            "replication": replication,
            "values": {n: plain(self.columns[n][row]) for n in self.names},
            "applies": self.applies[scenario],
        }

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        return {**self.base, "runs": [self.run(n) for n in self.numbers(index)]}


def plan(spec: SweepSpec, bases: dict[str, Scenario], design: pd.DataFrame) -> list[dict[str, Any]]:
    """Every run of the sweep, in order: point, then base scenario, then replication (a
    base with none of the parameters only at point 0, see :func:`run_once`)."""
    runs = _Runs(len(design), list(bases), spec.replications)
    numbers = np.flatnonzero(runs.needed(run_once(spec, bases)))
    tasks = _Tasks({}, runs, design, applicable(spec, bases), numbers, 1)
    return [tasks.run(n) for n in numbers]


# ------------------------------------------------------------------------------ storage


def _spec_text(spec: SweepSpec) -> str:
    return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)


def _scenario_text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _prepare(
    directory: Path, spec: SweepSpec, bases: dict[str, Scenario], design: pd.DataFrame
) -> list[str]:
    """Create the sweep's files, or check that the directory holds this very sweep (same
    spec, same design, same base scenarios). Returns notes for the user."""
    spec_file = directory / "spec.yaml"
    text = _spec_text(spec)
    if not spec_file.exists():
        for name, scenario in bases.items():
            scenario.to_yaml(directory / f"base_{name}.yaml")
        _write_bytes(directory / "samples.parquet", _parquet_bytes(design))
        (directory / COMMITS).mkdir(exist_ok=True)
        _write_bytes(spec_file, text.encode())  # last: the directory now holds a sweep
        return []
    if spec_file.read_text() != text:
        stored = yaml.safe_load(spec_file.read_text()) or {}
        ours = yaml.safe_load(text)
        fields = [k for k in ours if stored.get(k) != ours[k]] if isinstance(stored, dict) else []
        shown = [
            k if isinstance(ours[k], dict | list) else f"{k} {stored.get(k)} there, {ours[k]} now"
            for k in fields
        ]
        differs = f" ({'; '.join(shown)})" if shown else ""
        raise ScenarioError(
            str(directory),
            [
                (
                    "",
                    f"holds a different sweep (spec.yaml differs{differs}); use a new directory, "
                    "or the file and options it was started with",
                )
            ],
        )
    notes = []
    samples_file = directory / "samples.parquet"
    try:
        stored_design = pd.read_parquet(samples_file)
    except Exception as exc:  # missing or damaged: it is made again from the spec
        _write_bytes(samples_file, _parquet_bytes(design))
        notes.append(
            f"{samples_file} could not be read ({type(exc).__name__}); written again from the spec"
        )
    else:
        if not stored_design.equals(design):
            raise ScenarioError(str(directory), [("", "samples.parquet differs from the spec")])
    for name, scenario in bases.items():
        stored_file = directory / f"base_{name}.yaml"
        if not stored_file.exists():
            scenario.to_yaml(stored_file)
            continue
        try:
            kept = Scenario.from_dict(
                read_yaml(stored_file), origin=str(stored_file), check_ranges=False
            ).to_dict()
        except InputError as exc:
            raise ScenarioError(
                str(directory),
                [(f"base.{name}", f"{stored_file.name} cannot be read: {exc.lines()[0]}")],
            ) from None
        if _scenario_text(kept) != _scenario_text(scenario.to_dict()):
            raise ScenarioError(
                str(directory),
                [
                    (
                        f"base.{name}",
                        f"differs from {stored_file.name}, the scenario this sweep started "
                        "with; use a new directory",
                    )
                ],
            )
    return notes


def _stage(frame: pd.DataFrame, folder: Path, stem: str) -> tuple[Path, dict[str, Any]]:
    """Write one of a chunk's files under a temporary name; its final name and description."""
    data = _parquet_bytes(frame)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{stem}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    entry = {
        "path": f"{folder.name}/{stem}.parquet",
        "bytes": len(data),
        "sha256": _sha256(data),
        "rows": len(frame),
    }
    return temporary, entry


def _record(directory: Path, record: dict[str, Any]) -> None:
    """Write a chunk's commit record: from now on the chunk counts."""
    _write_bytes(directory / COMMITS / f"{record['chunk']}.json", json.dumps(record).encode())


def _commit(directory: Path, stem: str, output: dict[str, Any]) -> None:
    """Store a finished chunk: its files under temporary names, renamed, then its record."""
    frames = {
        "results": pd.DataFrame(output["rows"]) if output["rows"] else None,
        "series": output["series"],
        "failures": pd.DataFrame(output["failures"]) if output["failures"] else None,
    }
    staged: list[tuple[str, Path, dict[str, Any]]] = []
    try:
        for kind, frame in frames.items():
            if frame is not None:
                staged.append((kind, *_stage(frame, directory / kind, stem)))
    except BaseException:  # a write failed (a full disk): nothing of the chunk stays
        for _, temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for kind, temporary, _ in staged:
        os.replace(temporary, directory / kind / f"{stem}.parquet")
    for kind, _, _ in staged:
        _fsync_folder(directory / kind)
    _record(
        directory,
        {
            "chunk": stem,
            "committed": _now(),
            "committed_ns": time.time_ns(),
            "runs": [[r["point"], r["scenario"], r["replication"]] for r in output["rows"]],
            "failed": [[r["point"], r["scenario"], r["replication"]] for r in output["failures"]],
            "files": {kind: entry for kind, _, entry in staged},
        },
    )


def _read_record(path: Path) -> dict[str, Any]:
    """A commit record, checked for shape; ValueError says what is wrong."""
    record = json.loads(path.read_text())
    if not isinstance(record, dict) or record.get("chunk") != path.stem:
        raise ValueError("not a commit record of this chunk")
    files = record.get("files")
    if not isinstance(files, dict) or not set(files) <= set(KINDS):
        raise ValueError("its list of files is not readable")
    for entry in files.values():
        if not isinstance(entry, dict) or not {"path", "bytes", "sha256"} <= set(entry):
            raise ValueError("its list of files is not readable")
    for field in ("runs", "failed"):
        runs = record.get(field)
        if not isinstance(runs, list) or not all(isinstance(r, list) and len(r) == 3 for r in runs):
            raise ValueError(f"its {field} are not readable")
    return record


def _records(directory: Path) -> tuple[list[dict[str, Any]], list[tuple[Path, str]]]:
    """The commit records in the order they were written, and the unreadable ones."""
    good, bad = [], []
    folder = directory / COMMITS
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            good.append(_read_record(path))
        except (OSError, ValueError) as exc:
            bad.append((path, str(exc)))
    good.sort(key=lambda r: (r.get("committed_ns", 0), r["chunk"]))
    return good, bad


def _file_problem(
    directory: Path, entry: dict[str, Any], whole: bool
) -> tuple[str | None, bytes | None]:
    """What is wrong with a recorded file (None if nothing), and its bytes if read whole."""
    path = directory / entry["path"]
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"{path} is missing", None
    if size != entry["bytes"]:
        return f"{path} has {size} bytes where {entry['bytes']} were written (truncated?)", None
    if not whole:
        return None, None
    data = path.read_bytes()
    if _sha256(data) != entry["sha256"]:
        return f"{path} does not match its checksum (damaged)", None
    return None, data


def _quarantine(directory: Path, stem: str, reason: str) -> str:
    """Move every file of chunk ``stem`` (and its record) to quarantine/; a note."""
    folder = directory / QUARANTINE / stem
    if folder.exists():
        folder = folder.with_name(f"{stem}-{uuid.uuid4().hex[:8]}")
    folder.mkdir(parents=True)
    for part in (*KINDS, COMMITS):
        for path in (directory / part).glob(f"{stem}.*"):
            os.replace(path, folder / f"{part}-{path.name}")
    (folder / "reason.txt").write_text(reason + "\n")
    return f"{reason}: moved chunk {stem} to {folder}; its runs will be run again"


def _adopt_unrecorded(
    directory: Path, spec: SweepSpec, design: pd.DataFrame, runs: _Runs
) -> list[str]:
    """Write commit records for the chunks of a directory written before there were any.

    A chunk whose files read, whose rows are runs of this sweep with its sample ids, that no
    earlier chunk already holds, and that has its series file if the sweep keeps series, is
    recorded as written; any other is moved to quarantine."""
    notes: list[str] = []
    sample_of = dict(zip(design["point"].tolist(), design["sample_id"].tolist(), strict=True))
    found = [f for kind in ("results", "failures") for f in (directory / kind).glob("*.parquet")]
    stems = sorted({f.stem for f in found}, key=lambda s: _first_written(directory, s))
    done = np.zeros(runs.total, dtype=bool)
    adopted = 0
    for stem in stems:
        files = {k: directory / k / f"{stem}.parquet" for k in KINDS}
        files = {k: p for k, p in files.items() if p.exists()}
        problem = None
        frames: dict[str, pd.DataFrame] = {}
        for kind, path in files.items():
            try:
                frames[kind] = pd.read_parquet(path)
            except Exception as exc:
                problem = f"{path} cannot be read ({type(exc).__name__})"
                break
        results = frames.get("results", pd.DataFrame(columns=KEYS))
        failures = frames.get("failures", pd.DataFrame(columns=KEYS))
        numbers = [
            runs.number(int(p), str(s), int(r))
            for p, s, r in zip(
                results["point"], results["scenario"], results["replication"], strict=True
            )
        ]
        if problem is None and len(results) and spec.series is not None and "series" not in files:
            problem = f"{stem} has results but no series file (a sweep was killed between them)"
        if problem is None and any(n is None for n in numbers):
            problem = f"{files['results']} holds runs that are not runs of this sweep"
        if problem is None and any(
            sample_of.get(int(p)) != s
            for p, s in zip(results["point"], results["sample_id"], strict=True)
        ):
            problem = f"{files['results']} has sample ids not in samples.parquet (another sweep's)"
        if problem is None and (len(set(numbers)) < len(numbers) or done[numbers].any()):
            problem = f"{files['results']} repeats runs already stored"
        if problem is not None:
            notes.append(_quarantine(directory, stem, problem))
            continue
        done[numbers] = True
        entries = {}
        for kind, path in files.items():
            data = path.read_bytes()
            entries[kind] = {
                "path": f"{kind}/{stem}.parquet",
                "bytes": len(data),
                "sha256": _sha256(data),
                "rows": len(frames[kind]),
            }
        written = _first_written(directory, stem)
        keys = zip(failures["point"], failures["scenario"], failures["replication"], strict=True)
        _record(
            directory,
            {
                "chunk": stem,
                "committed": datetime.fromtimestamp(written / 1e9, UTC).isoformat(
                    timespec="seconds"
                ),
                "committed_ns": written,
                "adopted": True,
                "runs": [list(runs.key(n)) for n in numbers],
                "failed": [[int(p), str(s), int(r)] for p, s, r in keys],
                "files": entries,
            },
        )
        adopted += 1
    (directory / COMMITS).mkdir(exist_ok=True)
    if adopted:
        notes.append(f"{directory}: recorded {adopted} chunk(s) written by an earlier version")
    return notes


def _first_written(directory: Path, stem: str) -> int:
    times = [
        (directory / k / f"{stem}.parquet").stat().st_mtime_ns
        for k in KINDS
        if (directory / k / f"{stem}.parquet").exists()
    ]
    return min(times, default=0)


def _recover(
    directory: Path, spec: SweepSpec, design: pd.DataFrame, runs: _Runs
) -> tuple[np.ndarray, list[str], int]:
    """Which runs are stored, whole and checked; notes on what was repaired, and how many
    chunks were moved to quarantine. Called with the lock held."""
    notes: list[str] = []
    if not (directory / COMMITS).is_dir():
        notes += _adopt_unrecorded(directory, spec, design, runs)
    records, unreadable = _records(directory)
    moved = 0
    for path, reason in unreadable:
        notes.append(_quarantine(directory, path.stem, f"{path} is not readable ({reason})"))
        moved += 1
    done = np.zeros(runs.total, dtype=bool)
    kept = set()
    for record in records:
        problem = None
        for entry in record["files"].values():
            problem = _file_problem(directory, entry, whole=True)[0]
            if problem:
                break
        numbers = [runs.number(*key) for key in record["runs"]]
        if problem is None and any(n is None for n in numbers):
            problem = f"{record['chunk']} holds runs that are not runs of this sweep"
        if problem is None and (len(set(numbers)) < len(numbers) or done[numbers].any()):
            problem = f"{record['chunk']} repeats runs already stored"
        if problem is not None:
            notes.append(_quarantine(directory, record["chunk"], problem))
            moved += 1
            continue
        done[numbers] = True
        kept.add(record["chunk"])
    removed = 0
    for part in (*KINDS, COMMITS):
        folder = directory / part
        for path in folder.iterdir() if folder.is_dir() else []:
            temporary = path.name.startswith(".") and path.name.endswith(".tmp")
            unrecorded = path.suffix == ".parquet" and path.stem not in kept
            if temporary or unrecorded:
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        notes.append(
            f"{directory}: removed {removed} file(s) of chunks that a stopped sweep had not "
            "finished; their runs will be run again"
        )
    return done, notes, moved


def _write_manifest(
    directory: Path,
    spec: SweepSpec,
    executor: Executor,
    points: int,
    total: int,
    done: int,
    failed: int,
    options: dict[str, Any] | None = None,
    once: Sequence[str] = (),
    swept: dict[str, Any] | None = None,
) -> None:
    path = directory / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):  # none yet, or damaged: start again
        manifest = None
    if not isinstance(manifest, dict):
        manifest = {"package": "asylum-policy-sim", "version": package_version(), "created": _now()}
    manifest.update(
        {
            "name": spec.name,
            "layout": LAYOUT,
            "sampler": spec.sampler,
            "sampler_points": spec.points,
            "points": points,
            "base_scenarios": list(spec.base),
            "run_once": list(once),
            "swept_sources": dict(swept or {}),
            "replications": spec.replications,
            "seed": spec.seed,
            "years": spec.years,
            "options": dict(options or {}),
            "runs_total": total,
            "runs_done": done,
            "runs_failed_last_attempt": failed,
            "executor": executor.name,
            "updated": _now(),
        }
    )
    _write_bytes(path, json_text(manifest).encode())


# ------------------------------------------------------------------------------ the sweep


def _warn(notes: list[str]) -> None:
    for note in notes:
        warnings.warn(note, SweepWarning, stacklevel=3)


def sweep(
    spec: SweepSpec,
    bases: dict[str, Scenario],
    out: str | Path,
    executor: str | Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    chunk_runs: int | None = None,
    quiet: bool = False,
    options: dict[str, Any] | None = None,
) -> SweepOutcome:
    """Run what is missing of ``spec`` into ``out``; see the module docstring.

    ``executor`` is "serial", "processes" (default, all cores, or ``workers``) or an
    executor object; ``scheduler`` (an address) or ``client`` (a dask Client) runs on Dask.
    Before anything runs, every point is built in every base scenario and validated, the
    series asked for are checked, and the scheduler is reached; what the sweep repaired or
    changed is reported as :class:`SweepWarning`. ``options`` (the command-line options
    applied over a sweep file, already in ``spec``) are recorded in the manifest. A base
    scenario with none of the parameters runs once per replication (:func:`run_once`).
    """
    started = time.perf_counter()
    directory = Path(out)
    if chunk_runs is not None and (isinstance(chunk_runs, bool) or chunk_runs < 1):
        raise InputError("sweep", [("chunk_runs", f"must be at least 1, got {chunk_runs!r}")])
    if spec.years is not None:
        bases = {name: s.with_years(spec.years) for name, s in bases.items()}
    spec = sobol_power_of_two(spec, "sweep")
    check(spec, bases, origin="sweep")
    design = samples(spec, integer_parameters(spec, bases))
    check_points(spec, bases, design, origin="sweep")
    check_series(spec, bases, origin="sweep")
    runs = _Runs(len(design), list(bases), spec.replications)
    chosen = make(executor, workers, scheduler, client)
    try:
        check_output_directory(directory, "out", "sweep")
        with DirectoryLock(directory) as lock:
            _warn(lock.notes)
            _warn(_prepare(directory, spec, bases, design))
            done, notes, quarantined = _recover(directory, spec, design, runs)
            _warn(notes)
            outcome = _run(
                spec,
                bases,
                design,
                runs,
                done,
                directory,
                chosen,
                chunk_runs,
                quiet,
                started,
                options,
            )
            outcome.quarantined = quarantined
            return outcome
    finally:
        chosen.close()


def _run(
    spec: SweepSpec,
    bases: dict[str, Scenario],
    design: pd.DataFrame,
    runs: _Runs,
    done: np.ndarray,
    directory: Path,
    chosen: Executor,
    chunk_runs: int | None,
    quiet: bool,
    started: float,
    options: dict[str, Any] | None = None,
) -> SweepOutcome:
    once = run_once(spec, bases)
    needed = runs.needed(once)
    missing = np.flatnonzero(needed & ~done)
    total = int(needed.sum())
    size = chunk_runs or max(len(bases) - len(once), 1) * spec.replications  # a point's runs
    task_base = {
        "bases": bases,
        "seed": spec.seed,
        "metrics": spec.metrics,
        "series": spec.series.model_dump() if spec.series else None,
    }
    tasks = _Tasks(task_base, runs, design, applicable(spec, bases), missing, size)
    already = total - len(missing)
    ran = failed = 0
    bar = None
    if not quiet:  # drawn only where somebody watches (simulation.core.progress)
        bar = progress.open_bar(total, spec.name[:30], "run")
        bar.update(already)
    interrupted = False
    try:
        with closing(chosen.imap(run_chunk, tasks)) as finished:  # stops the workers on exit
            for index, output in finished:
                first = runs.key(tasks.numbers(index)[0])[0]
                with interrupts.deferred():  # a finished chunk is stored whole, even on Ctrl-C
                    _commit(directory, f"chunk-{first:06d}-{uuid.uuid4().hex[:8]}", output)
                    ran += len(output["rows"])
                    failed += len(output["failures"])
                if bar is not None:
                    bar.update(len(output["rows"]) + len(output["failures"]))
                    if failed:
                        bar.set_postfix(failed=failed)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        with interrupts.deferred(reraise=False):  # a second Ctrl-C waits for this
            if bar is not None:
                progress.close(bar)
            swept = {  # what each base scenario cited for the values the sweep sets
                name: {
                    path: set_source(bases[name].to_dict(), path, SET_BY_SWEEP) for path in fields
                }
                for name, fields in applicable(spec, bases).items()
            }
            _write_manifest(
                directory,
                spec,
                chosen,
                len(design),
                total,
                already + ran,
                failed,
                options,
                once,
                swept,
            )
    outcome = SweepOutcome(directory, total, already, ran, failed, time.perf_counter() - started)
    if interrupted:
        raise SweepInterrupted(outcome)
    return outcome


# ------------------------------------------------------------------------------ reading


def _read_samples(directory: Path) -> pd.DataFrame:
    path = directory / "samples.parquet"
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise InputError(str(directory), [("", "no samples.parquet: not a sweep")]) from None
    except Exception as exc:
        raise InputError(
            str(path), [("", f"cannot be read ({type(exc).__name__}); run the sweep again")]
        ) from None


def _read_recorded(directory: Path, what: str) -> tuple[list[pd.DataFrame], set[tuple], list[str]]:
    """Frames of ``what`` from recorded, whole chunks; the runs those chunks hold; problems."""
    records, unreadable = _records(directory)
    problems = [
        f"{path} is not readable ({reason}); its chunk is left out" for path, reason in unreadable
    ]
    frames, done = [], set()
    for record in records:
        wanted = record["files"].get(what)
        problem = None
        data = None
        for kind, entry in record["files"].items():
            problem, read = _file_problem(directory, entry, whole=kind == what)
            if problem:
                break
            data = read if kind == what else data
        if problem is None and wanted is not None:
            try:
                frame = pd.read_parquet(io.BytesIO(data))
            except Exception as exc:  # matches its checksum, yet cannot be read
                problem = f"{directory / wanted['path']} cannot be read ({type(exc).__name__})"
        if problem:
            problems.append(f"{problem}; its chunk is left out (a resumed sweep runs it again)")
            continue
        done.update(tuple(k) for k in record["runs"])
        if wanted is not None:
            frames.append(frame.assign(_file=wanted["path"]))
    recorded = {e["path"] for r in records for e in r["files"].values()}
    stray = [p for p in (directory / what).glob("*.parquet") if f"{what}/{p.name}" not in recorded]
    if stray:
        problems.append(
            f"{len(stray)} file(s) in {directory / what} without a commit record are left out "
            "(a sweep is writing them, or one was stopped; the next start removes them)"
        )
    return frames, done, problems


def _read_unrecorded(
    directory: Path, what: str
) -> tuple[list[pd.DataFrame], set[tuple], list[str]]:
    """Frames of ``what`` from a directory without commit records (an earlier version's)."""
    problems, frames, done = [], [], set()
    for kind in dict.fromkeys((what, "results")) if what == "failures" else (what,):
        for path in sorted((directory / kind).glob("*.parquet")):
            try:
                frame = pd.read_parquet(path)
            except Exception as exc:
                if kind == what:
                    problems.append(f"{path} cannot be read ({type(exc).__name__}); left out")
                continue
            if kind == "results" and what == "failures":
                done.update(
                    zip(frame["point"], frame["scenario"], frame["replication"], strict=True)
                )
            if kind == what:
                frames.append(frame.assign(_file=f"{kind}/{path.name}"))
    return frames, done, problems


def plot_sweep(
    results: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    kind: str = "scatter",
    bins: int = 10,
    ax: Any = None,
) -> Any:
    """A metric ``y`` against a swept parameter ``x`` (its name, with or without ``param:``)
    over the runs :func:`load_sweep` read, one colour per value of ``hue`` (e.g.
    ``"scenario"``): every run (``kind="scatter"``) or the partial dependence, the mean in
    ``bins`` bins of equal count with its 95% CI (``kind="partial"``). Draws on ``ax`` or a
    new figure and returns the matplotlib Axes."""
    from ..outputs.plotting import sweep_chart

    return sweep_chart(results, x, y, hue=hue, kind=kind, bins=bins, ax=ax)


def load_sweep(directory: str | Path, what: str = "results") -> pd.DataFrame:
    """A sweep's results (or "series", "failures", "samples") as one DataFrame.

    Only chunks that were recorded whole and match their checksums are read; results are
    sorted by point, scenario and replication, each run at most once; failures that a later
    attempt got past are left out, and of a run that failed more than once, the last failure
    is kept. Anything left out for a problem (a damaged file, rows of another sweep) is
    reported as a :class:`SweepWarning` naming the file.
    """
    directory = Path(directory)
    if what not in (*KINDS, "samples"):
        raise InputError(
            "load_sweep", [("what", f"unknown {what!r}; use {', '.join(KINDS)} or samples")]
        )
    if what == "samples":
        return _read_samples(directory)
    if not directory.is_dir():
        raise InputError(str(directory), [("", "no such sweep directory")])
    if (directory / COMMITS).is_dir():
        frames, done, problems = _read_recorded(directory, what)
    else:
        frames, done, problems = _read_unrecorded(directory, what)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not frame.empty and what in ("results", "series"):
        frame = _checked(directory, frame, what, problems)
        frame = _repeat_run_once(directory, frame)
    if not frame.empty and what == "failures":
        keys = ["point", "scenario", "replication"]
        still = [tuple(k) not in done for k in frame[keys].itertuples(index=False)]
        frame = frame[still]
        frame = frame[~frame.duplicated(keys, keep="last")]
    for problem in problems:
        warnings.warn(f"{directory}: {problem}", SweepWarning, stacklevel=2)
    if frame.empty:
        return frame.drop(columns="_file", errors="ignore").reset_index(drop=True)
    order = [k for k in ("point", "scenario", "replication", "date", "metric") if k in frame]
    frame = frame.drop(columns="_file").sort_values(order, kind="stable")
    return frame.reset_index(drop=True)


def _stored_run_once(directory: Path) -> list[str]:
    """The base scenarios of a stored sweep that have none of its parameters (run only at
    point 0), read from spec.yaml and base_<name>.yaml; a base whose file cannot be read is
    taken to have them (its rows are not repeated)."""
    try:
        stored = yaml.safe_load((directory / "spec.yaml").read_text())
        parameters, names = list(stored["parameters"]), list(stored["base"])
    except Exception:  # noqa: BLE001 - no readable spec: nothing to repeat
        return []
    once = []
    for name in names:
        try:
            data = read_yaml(directory / f"base_{name}.yaml")
        except Exception:  # noqa: BLE001
            continue
        if not any(paths.exists(data, p) for p in parameters):
            once.append(name)
    return once


def _repeat_run_once(directory: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the rows of run-once base scenarios (stored at point 0) repeated at
    every other point of the design that has none of its own, with that point's sample id
    and parameter values: what the run there would have given, since it changes nothing."""
    once = _stored_run_once(directory)
    if not once:
        return frame
    try:
        design = pd.read_parquet(directory / "samples.parquet")
    except Exception:  # noqa: BLE001 - without the design the points are unknown
        return frame
    source = frame[frame["scenario"].isin(once) & (frame["point"] == 0)]
    others = design[design["point"] != 0]
    if source.empty or others.empty:
        return frame
    keys = ["point", "sample_id"]
    names = {c: PARAMETER_PREFIX + c for c in others.columns if c not in keys}
    at = others.rename(columns=names)
    at = at[keys + [c for c in names.values() if c in source.columns]]  # series have none
    repeated = source.drop(columns=list(at.columns)).merge(at, how="cross")
    run_key = ["point", "scenario", "replication"]
    stored = pd.MultiIndex.from_frame(frame[run_key])  # a sweep that ran them everywhere
    repeated = repeated[~pd.MultiIndex.from_frame(repeated[run_key]).isin(stored)]
    for column in at.columns:
        repeated[column] = repeated[column].astype(frame[column].dtype)
    return pd.concat([frame, repeated[frame.columns]], ignore_index=True)


def _checked(directory: Path, frame: pd.DataFrame, what: str, problems: list[str]) -> pd.DataFrame:
    """``frame`` without rows of another sweep (sample ids not in samples.parquet) and without
    repeats of a run (the first stored is kept); each left out with a problem naming files."""
    try:
        design = pd.read_parquet(directory / "samples.parquet", columns=["point", "sample_id"])
    except Exception:  # noqa: BLE001 - without a design, sample ids cannot be checked
        design = None
    if design is not None and "sample_id" in frame:
        expected = frame["point"].map(dict(zip(design["point"], design["sample_id"], strict=True)))
        foreign = frame["sample_id"] != expected
        if foreign.any():
            files = ", ".join(sorted(frame.loc[foreign, "_file"].unique()))
            problems.append(
                f"{int(foreign.sum())} row(s) with sample ids not in samples.parquet (written by "
                f"another sweep) are left out, from {files}"
            )
            frame = frame[~foreign]
    keys = ["point", "scenario", "replication"] + (["date", "metric"] if what == "series" else [])
    repeated = frame.duplicated(keys, keep="first")
    if repeated.any():
        files = ", ".join(sorted(frame.loc[repeated, "_file"].unique()))
        problems.append(
            f"{int(repeated.sum())} row(s) repeat runs already read and are left out, from {files}"
        )
        frame = frame[~repeated]
    return frame
