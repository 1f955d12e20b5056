"""The validation report: the 2023-2025 history run against what was published.

    asylum-sim history [--replications 20] [--seed 1] [--out out/history]
    asylum-sim history --docs        # regenerate docs/validation.md and docs/figures/

Runs the history scenario named by the targets file, evaluates every published figure
(:mod:`simulation.validation.targets`) and writes a Markdown report with one row per figure and a
figure (PNG, in ``figures/`` beside the report) per headline series: the simulated band with
the published points over it. Failures are shown, each target group with the explanation
written for it in the targets file.

The report goes where it is told (``out/history/`` by default), never into the documentation
unless asked: the report in ``docs/`` is regenerated only with ``docs=True`` (``--docs``), and
any other output inside ``docs/`` is refused. The targets file and the replays are the shipped
ones (:mod:`simulation.inputs.shipped`), found from any working directory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.version import package_version
from ..experiments.evaluate import run_one
from ..inputs import shipped
from ..inputs.scenario import Scenario
from ..outputs import plotting
from ..outputs.writing import (
    atomic_path,
    atomic_write_text,
    check_output_directory,
    check_output_file,
)
from . import replays
from .targets import TargetSet, evaluate, group_verdicts, load_targets

#: the shipped targets file, under ``scenarios/`` (resolved with :func:`default_targets`)
TARGETS_NAME = "validation/targets_2023_2025.yaml"
DEFAULT_TARGETS = Path("scenarios") / TARGETS_NAME
#: where the report goes unless told otherwise: never the documentation
DEFAULT_OUT = Path("out/history")
REPORT_NAME = "validation.md"
FIGURES = "figures"

#: series drawn in the report: (metric, title, unit)
HEADLINE_SERIES = [
    ("awaiting_decision", "People awaiting an initial decision (V3)", "people"),
    ("appeals_pending", "Asylum appeals outstanding at the tribunal (V5)", "cases"),
    ("in_hotel", "People in asylum hotels (V7)", "people"),
    ("supported_total", "People in asylum accommodation (V7)", "people"),
]


def _format(value, kind_text: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) < 1.5 and kind_text.endswith("pp"):
        return f"{value:.3f}"
    if abs(value) >= 1e8:
        return f"£{value / 1e9:,.2f}bn"
    if abs(value) < 100:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def default_targets() -> Path:
    """The shipped targets file, wherever the command runs from."""
    return shipped.path(TARGETS_NAME)


def docs_report() -> Path:
    """``docs/validation.md`` of the source checkout; an error in an installed package."""
    docs = shipped.docs_dir()
    if docs is None:
        raise InputError(
            "history",
            [("--docs", "regenerates docs/validation.md of a source checkout; none found here")],
        )
    return docs / REPORT_NAME


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def load_history(targets_path: Path | None = None) -> tuple[Scenario, TargetSet]:
    """The history scenario and its targets (the shipped ones by default), validated."""
    target_set, scenario_path = load_targets(targets_path or default_targets())
    return Scenario.from_yaml(scenario_path), target_set


def run_history(
    targets_path: Path | None,
    replications: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    loaded: tuple[Scenario, TargetSet] | None = None,
):
    """Replications of the history scenario (with records) and its scenario and targets."""
    scenario, target_set = loaded or load_history(targets_path)
    results = []
    if progress:
        progress(0, replications)
    for replication in range(replications):
        results.append(run_one(scenario, seed, replication, keep_records=True))
        if progress:
            progress(replication + 1, replications)
    return scenario, target_set, results


def figures(scenario: Scenario, target_set: TargetSet, results, directory: Path) -> list[Path]:
    paths = []
    wides = [r.series_wide() for r in results]
    dates = wides[0].index
    for metric, title, unit in HEADLINE_SERIES:
        scale = 1 / scenario.people_per_case if unit == "cases" else 1.0
        runs = np.vstack([w[metric].to_numpy() * scale for w in wides])
        points = [
            (pd.Timestamp(t.date), t.reference, t.allowed())
            for t in target_set.targets
            if t.kind == "stock" and t.metric == metric
        ]
        path = directory / f"validation_{metric}.png"
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, keep_suffix=True) as temporary:
            drawn = plotting.band_with_points(dates, runs, points, title, unit)
            plotting.save(drawn.figure, temporary)
        paths.append(path)
    return paths


def report(
    targets_path: Path | None = None,
    replications: int = 20,
    seed: int = 1,
    out: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    docs: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """Run, evaluate and write the report; returns (figure rows, group verdicts, path).

    ``out`` is the report file (default ``out/history/validation.md``), its figures go in
    ``figures/`` beside it; ``docs=True`` (and no ``out``) writes ``docs/validation.md`` of
    the checkout instead, and only then may the report go into ``docs/``. The targets and
    the history scenario are read, and where the report and its figures go is checked,
    before any run; each file is written atomically."""
    if docs and out is not None:
        raise InputError("history", [("--docs", "writes docs/validation.md: give no out")])
    docs_folder = shipped.docs_dir()
    if docs:
        out = docs_report()
    elif out is None:
        out = DEFAULT_OUT / REPORT_NAME
    elif docs_folder is not None and _inside(Path(out).parent, docs_folder):
        raise InputError(
            "history",
            [
                (
                    "out",
                    f"{Path(out).parent} is in the documentation folder; regenerate the "
                    "documented report with asylum-sim history --docs, or write elsewhere",
                )
            ],
        )
    loaded = load_history(targets_path)
    out = check_output_file(out, origin="history")
    check_output_directory(out.parent / FIGURES, origin="history")
    started = time.perf_counter()
    scenario, target_set, results = run_history(
        targets_path, replications, seed, progress, loaded=loaded
    )
    table = evaluate(target_set.targets, results, scenario)
    verdicts = group_verdicts(table)
    pngs = figures(scenario, target_set, results, out.parent / FIGURES)
    notes = target_set.notes
    elapsed = time.perf_counter() - started
    command = _command(targets_path, replications, seed, docs)
    atomic_write_text(
        out,
        _markdown(
            scenario,
            table,
            verdicts,
            pngs,
            out,
            notes,
            replications,
            targets_path,
            elapsed,
            command,
            docs,
        )
        + replays.section(replications, seed),
    )
    return table, verdicts, out


def _command(targets_path: Path | None, replications: int, seed: int, docs: bool) -> str:
    """The command that regenerates the report, as the report states it."""
    parts = ["asylum-sim history"]
    if docs:
        parts.append("--docs")
    if targets_path is not None and shipped.display(targets_path) != DEFAULT_TARGETS.as_posix():
        parts.append(f"--targets {shipped.display(targets_path)}")
    parts.append(f"--replications {replications} --seed {seed}")
    return " ".join(parts)


def _markdown(
    scenario,
    table,
    verdicts,
    pngs,
    out,
    notes,
    replications,
    targets_path,
    elapsed,
    command,
    docs=False,
) -> str:
    passed = int(verdicts["pass"].sum())
    where = (
        " Only `asylum-sim history --docs` (in a source checkout) rewrites this page and its "
        "figures; `asylum-sim history --out DIR` (by default `out/history`) writes the same "
        "report into `DIR` and leaves this page alone."
        if docs
        else ""
    )
    lines = [
        "# Validation: the 2023-2025 history against published figures",
        "",
        f"Generated by `{command}` on "
        f"{date.today().isoformat()} (asylum-policy-sim {package_version()}, {elapsed:.0f} s). Do "
        f"not edit by hand: re-run the command.{where}",
        "",
        f"The scenario *{scenario.name}* ({scenario.start_date} to "
        f"{scenario.end_date}) starts from the published stocks at the start of 2023 and is "
        "driven by published arrivals, caseworker numbers and productivity, tribunal "
        "capacity and accommodation; the parameters no source gives were fitted to the "
        "figures marked *fit* below (`asylum-sim calibrate "
        "scenarios/validation/calibration_2023_2025.yaml`). Targets and tolerances are those "
        "suggested in `simulation/data/uk_asylum_figures.md` (V1-V9), listed in "
        f"`{shipped.display(targets_path or default_targets())}`. A figure passes when the "
        f"simulated mean over {replications} replications is within its tolerance of the "
        "published value; a target passes when all its figures do.",
        "",
        f"**{passed} of {len(verdicts)} targets pass.**",
        "",
        "| target | figures | within tolerance | verdict |",
        "| --- | ---: | ---: | --- |",
    ]
    for group, row in verdicts.iterrows():
        lines.append(
            f"| {group} | {row['figures']} | {row['passed']} | "
            f"{'pass' if row['pass'] else '**fail**'} |"
        )
    lines += [
        "",
        "## Every figure",
        "",
        "| id | figure | published | simulated mean | 95% CI | tolerance | error | "
        "result | source key |",
        "| --- | --- | ---: | ---: | --- | --- | ---: | --- | --- |",
    ]
    for _, row in table.iterrows():
        fmt = row["tolerance"]
        error = row["error"]
        if fmt.endswith("days"):
            error_text = f"{error:+.0f} days"
        elif fmt.endswith("pp"):
            error_text = f"{error * 100:+.1f} pp"
        else:
            error_text = f"{error:+.1%}"
        fitted = " (fit)" if row["fit"] else ""
        lines.append(
            f"| {row['id']} | {row['label']}{fitted} | {_format(row['published'], fmt)} | "
            f"{_format(row['simulated'], fmt)} | {_format(row['ci_low'], fmt)} to "
            f"{_format(row['ci_high'], fmt)} | {fmt} | {error_text} | "
            f"{'pass' if row['pass'] else '**fail**'} | `{row['data_key'] or ''}` |"
        )
    failing = [g for g, row in verdicts.iterrows() if not row["pass"]]
    lines += ["", "## Failures and caveats", ""]
    if not failing:
        lines.append("Every target passes.")
    for group in failing:
        lines.append(f"- **{group}** fails: {notes.get(group, 'no explanation written yet.')}")
    others = [g for g in notes if g not in failing]
    for group in others:
        lines.append(f"- {group}: {notes[group]}")
    lines += ["", "## Figures", ""]
    for png in pngs:
        rel = png.relative_to(out.parent).as_posix()
        lines.append(f"![{png.stem}]({rel})")
        lines.append("")
    return "\n".join(lines) + "\n"
