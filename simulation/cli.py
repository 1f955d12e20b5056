"""The ``asylum-sim`` command.

    asylum-sim policies
    asylum-sim sources SCENARIO
    asylum-sim cohort SCENARIO --claimed YYYY-MM --at YYYY-MM-DD [--replications N]
    asylum-sim validate FILE
    asylum-sim run SCENARIO [--seed N] [--replications N] [--years Y] [--out DIR]
    asylum-sim compare A.yaml B.yaml ... [--replications N] [--seed N] [--years Y] [--out DIR]
    asylum-sim break-even BASELINE POLICY --parameter PATH [--metric M] [--low L --high H]
               [--workers N]
    asylum-sim history [--targets FILE] [--replications N] [--seed N] [--out DIR | --docs]
    asylum-sim calibrate SPEC [--dry-run] [--max-evaluations N]   (Ctrl-C keeps the best so far)
    asylum-sim sweep SWEEP.yaml|SCENARIO.yaml --out DIR [--workers N | --serial | --scheduler A]
               [--resume] [--sampler S] [--points N] [--replications N] [--seed N] [--years Y]
    asylum-sim sensitivity DIR --metric M [--scenario NAME] [--versus NAME]

A scenario or sweep file that is not found as given is looked up among the shipped scenarios
(``baseline.yaml``, ``scenarios/history/uk_2023_2025.yaml``), so the commands work from any
folder. Every option is applied or refused: none is ignored in some mode.

Exit status: 0 on success, 2 for bad input (every problem printed on its own line as
``field.path: what is wrong``), 1 for anything else.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only what every command needs is imported here; each command imports the library modules
# it uses, so `asylum-sim --help` never loads scipy, pandas, SimPy or the engine.
from .core.errors import InputError
from .core.version import package_version
from .outputs.writing import check_output_directory

if TYPE_CHECKING:
    from .inputs.scenario import Scenario

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with usage, as argparse does, no traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="asylum-sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("policies", help="list the registered policies and their parameters")

    coh = commands.add_parser(
        "cohort", help="where the people who claimed in a month stand on a later date"
    )
    coh.add_argument("scenario", type=Path)
    coh.add_argument("--claimed", required=True, help="the month of the claims, YYYY-MM")
    coh.add_argument("--at", required=True, help="the date, YYYY-MM-DD (as at its end)")
    coh.add_argument("--replications", type=_positive_int, default=5)
    coh.add_argument("--seed", type=_non_negative_int, default=1)
    coh.add_argument("--years", type=_positive_float)
    coh.add_argument("--workers", type=_positive_int, default=1)
    coh.add_argument("--quiet", action="store_true")

    src = commands.add_parser(
        "sources", help="every sourced figure of a scenario, with its value and reference"
    )
    src.add_argument("scenario", type=Path)

    validate = commands.add_parser("validate", help="check a scenario file")
    validate.add_argument("file", type=Path)

    run = commands.add_parser("run", help="run a scenario and print its summary")
    run.add_argument("scenario", type=Path)
    run.add_argument("--seed", type=_non_negative_int, default=1)
    run.add_argument("--replications", type=_positive_int, default=1)
    run.add_argument("--years", type=_positive_float, help="shorten (or extend) the horizon")
    run.add_argument("--out", help="write summary.json, series.parquet, manifest.json")
    run.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes for replications (results are identical)",
    )
    run.add_argument(
        "--whole-life",
        action="store_true",
        help="add whole-life costs: follow the people in the system at the end date with no "
        "more arrivals (about twice the run time; docs/costs.md)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress messages")

    comp = commands.add_parser(
        "compare", help="compare scenarios on common random numbers (the first is the reference)"
    )
    comp.add_argument("scenarios", type=Path, nargs="+")
    comp.add_argument("--seed", type=_non_negative_int, default=1)
    comp.add_argument("--replications", type=_positive_int, default=20)
    comp.add_argument("--years", type=_positive_float)
    comp.add_argument("--out", help="write comparison.parquet and comparison.csv")
    comp.add_argument(
        "--workers", type=_positive_int, default=1, help="processes (results are identical)"
    )
    comp.add_argument(
        "--whole-life",
        action="store_true",
        help="add whole-life costs: follow the people in the system at the end date with no "
        "more arrivals (about twice the run time; docs/costs.md)",
    )
    comp.add_argument("--quiet", action="store_true")

    even = commands.add_parser(
        "break-even", help="the parameter value at which a policy's metric equals the baseline's"
    )
    even.add_argument("baseline", type=Path)
    even.add_argument("policy", type=Path)
    even.add_argument(
        "--parameter",
        required=True,
        help="dotted path of the number to vary in the policy scenario, e.g. "
        "policies.offshore.deterred_share (a deterred share answers in eligible crossings)",
    )
    even.add_argument("--metric", default="total_cost_whole_life_discounted_gbp")
    even.add_argument(
        "--low", type=float, help="lowest value to try (default: the uncertainty range)"
    )
    even.add_argument(
        "--high", type=float, help="highest value to try (default: the uncertainty range)"
    )
    even.add_argument("--seed", type=_non_negative_int, default=1)
    even.add_argument("--replications", type=_positive_int, default=10)
    even.add_argument("--years", type=_positive_float)
    even.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes, one replication's search each (results are identical)",
    )
    even.add_argument("--quiet", action="store_true")

    hist = commands.add_parser(
        "history", help="run 2023-2025 and write the validation report against published figures"
    )
    hist.add_argument(
        "--targets",
        type=Path,
        help="targets file (default: the shipped scenarios/validation/targets_2023_2025.yaml)",
    )
    hist.add_argument("--replications", type=_positive_int, default=20)
    hist.add_argument("--seed", type=_non_negative_int, default=1)
    where = hist.add_mutually_exclusive_group()
    where.add_argument(
        "--out", help="directory for validation.md and figures/ (default: out/history)"
    )
    where.add_argument(
        "--docs",
        action="store_true",
        help="regenerate docs/validation.md and docs/figures/ of the source checkout",
    )
    hist.add_argument("--quiet", action="store_true")

    cal = commands.add_parser(
        "calibrate", help="fit unpublished parameters to published series (see --help)"
    )
    cal.add_argument("spec", type=Path)
    cal.add_argument(
        "--dry-run",
        action="store_true",
        help="evaluate the objective once at the values the scenario files hold (where a fit "
        "starts); fit and write nothing",
    )
    cal.add_argument(
        "--max-evaluations", type=_positive_int, help="at most this many (default: the file's)"
    )
    cal.add_argument("--quiet", action="store_true")

    sw = commands.add_parser(
        "sweep", help="run a sweep (a sweep file, or a scenario's uncertainty ranges)"
    )
    sw.add_argument("file", type=Path, help="a sweep file, or a scenario with uncertainty:")
    sw.add_argument("--out", required=True, help="directory of Parquet results")
    runner = sw.add_mutually_exclusive_group()
    runner.add_argument(
        "--workers", type=_positive_int, help="local processes (default: all cores)"
    )
    runner.add_argument("--serial", action="store_true", help="run in this process")
    runner.add_argument("--scheduler", help="address of a dask.distributed scheduler")
    sw.add_argument("--resume", action="store_true", help="continue a sweep in --out")
    # For a sweep file these override the file's own values (recorded in spec.yaml and the
    # manifest); for a scenario file they shape the sweep, with the defaults shown.
    sw.add_argument(
        "--sampler",
        choices=["grid", "lhs", "sobol", "morris"],
        help="how to sample (default: the sweep file's; lhs for a scenario file)",
    )
    sw.add_argument(
        "--points",
        type=_positive_int,
        help="points (default: the sweep file's; 20 for a scenario file)",
    )
    sw.add_argument(
        "--replications",
        type=_positive_int,
        help="replications per point (default: the sweep file's; 1 for a scenario file)",
    )
    sw.add_argument(
        "--seed",
        type=_non_negative_int,
        help="seed of the design and the runs (default: the sweep file's; 1 for a scenario)",
    )
    sw.add_argument(
        "--years", type=_positive_float, help="shorten every base scenario (overrides the file)"
    )
    sw.add_argument("--quiet", action="store_true")

    sens = commands.add_parser("sensitivity", help="Sobol or Morris indices of a sweep")
    sens.add_argument("directory", type=Path)
    sens.add_argument("--metric", required=True)
    sens.add_argument("--scenario", help="base scenario to analyse (default: the last)")
    sens.add_argument("--versus", help="analyse the paired difference from this base")
    return parser


def cmd_sweep(args: argparse.Namespace) -> int:
    import warnings

    from .experiments.sweep import sweep
    from .experiments.sweep_spec import (
        SweepWarning,
        is_sweep_spec,
        load_spec,
        spec_from_scenario,
        with_options,
    )
    from .inputs.files import read_yaml

    if args.resume and not (args.out / "spec.yaml").exists():
        raise InputError(str(args.out), [("--resume", "no sweep to resume in this directory")])
    shown = warnings.showwarning

    def note(message, category, *rest, **kw) -> None:  # what a sweep changed or repaired
        if issubclass(category, SweepWarning):
            print(f"note: {message}", file=sys.stderr)
        else:
            shown(message, category, *rest, **kw)

    with warnings.catch_warnings():
        warnings.simplefilter("always", SweepWarning)
        warnings.showwarning = note
        file = _find(args.file)
        given = {  # options given on the command line: applied over the file, never ignored
            "sampler": args.sampler,
            "points": args.points,
            "replications": args.replications,
            "seed": args.seed,
            "years": args.years,
        }
        given = {k: v for k, v in given.items() if v is not None}
        if is_sweep_spec(read_yaml(file)):
            spec, bases = load_spec(file, given)
        else:
            spec, bases = spec_from_scenario(
                file,
                given.get("sampler", "lhs"),
                given.get("points", 20),
                given.get("replications", 1),
                given.get("seed", 1),
            )
            spec = with_options(spec, {"years": args.years}, str(file))
        executor = "serial" if args.serial else "processes"
        outcome = sweep(
            spec,
            bases,
            args.out,
            executor=executor,
            workers=args.workers,
            scheduler=args.scheduler,
            quiet=args.quiet,
            options=given,
        )
    print(
        f"{outcome.directory}: {outcome.already_done + outcome.ran} of {outcome.total} runs done"
        f" ({outcome.already_done} already there, {outcome.ran} now, {outcome.failed} failed) "
        f"in {outcome.seconds:.0f} s"
    )
    return EXIT_OK if outcome.failed == 0 else EXIT_FAILED


def cmd_sensitivity(args: argparse.Namespace) -> int:
    import warnings

    from .experiments.sensitivity import SensitivityWarning, sensitivity
    from .experiments.sweep_spec import SweepWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SensitivityWarning)
        warnings.simplefilter("always", SweepWarning)
        table = sensitivity(args.directory, args.metric, args.scenario, args.versus)
    print(
        f"Sensitivity of {args.metric}"
        + (f" (difference from {args.versus})" if args.versus else "")
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for warning in caught:  # too small a sweep, or parts of it left out: said, not hidden
        if issubclass(warning.category, SensitivityWarning | SweepWarning):
            print(f"note: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from .validation.history import REPORT_NAME, report

    table, verdicts, path = report(
        None if args.targets is None else _find(args.targets),
        args.replications,
        args.seed,
        None if args.out is None else Path(args.out) / REPORT_NAME,
        progress=_progress(args.quiet, "replications"),
        docs=args.docs,
    )
    passed = int(verdicts["pass"].sum())
    print(
        f"{passed} of {len(verdicts)} targets pass; "
        f"{int(table['pass'].sum())} of {len(table)} figures within tolerance"
    )
    for group, row in verdicts.iterrows():
        print(f"  {group}: {row['passed']}/{row['figures']} {'pass' if row['pass'] else 'FAIL'}")
    print(f"wrote {path} and its figures in {path.parent / 'figures'}")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .experiments.comparison import plain_number
    from .validation.calibrate import CalibrationInterrupted, load_spec, run_calibration

    started = time.perf_counter()
    limit = args.max_evaluations or load_spec(args.spec).max_evaluations
    best = [float("inf")]

    def progress(n: int, value: float, values: dict[str, float]) -> None:
        best[0] = min(best[0], value)
        shown = ", ".join(f"{path}={plain_number(v)}" for path, v in values.items())
        elapsed = time.perf_counter() - started
        print(
            f"[{n:4d} of at most {limit}, {elapsed:6.0f} s] objective {value:10.4f} "
            f"(best {best[0]:.4f})  {shown}",
            file=sys.stderr,
        )

    try:
        calibration, written = run_calibration(
            args.spec,
            args.dry_run,
            args.max_evaluations,
            None if args.quiet or args.dry_run else progress,
        )
    except CalibrationInterrupted as stopped:
        found = stopped.calibration
        where = (
            "written to " + ", ".join(str(p) for p in stopped.written) + " (marked interrupted)"
            if stopped.written
            else "not written (the calibration file names no scenario file to write)"
        )
        print(
            f"interrupted after {found.evaluations} evaluations: the best point so far "
            f"(objective {found.objective:.4f}) is {where}; a re-run continues from it",
            file=sys.stderr,
        )
        return 130
    if calibration.dry_run:
        print(
            f"objective {calibration.objective:.4f} at the values the scenario holds "
            "(dry run: one evaluation; nothing fitted or written)"
        )
    else:
        print(
            f"objective {calibration.objective:.4f} after {calibration.evaluations} "
            f"evaluations ({calibration.message})"
        )
    for path, value in calibration.values.items():
        print(f"  {path} = {plain_number(value)}")
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _progress(quiet: bool, what: str):
    if quiet:
        return None
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        of = f"/{total}" if total else ""
        print(f"\r{what} {done}{of} ({elapsed:.0f} s)", end="", file=sys.stderr, flush=True)
        if total and done == total:
            print(file=sys.stderr)

    return report


def cmd_compare(args: argparse.Namespace) -> int:
    from .experiments.comparison import compare
    from .experiments.evaluate import WHOLE_LIFE_YEARS
    from .outputs.report import comparison_table

    if len(args.scenarios) < 2:
        raise InputError("compare", [("scenarios", "give at least two scenario files")])
    if args.replications < 2:
        raise InputError("compare", [("--replications", "must be at least 2 for a CI")])
    named = {}
    for path in args.scenarios:
        scenario = _load(path, args.years)
        name = scenario.name if scenario.name not in named else f"{scenario.name} ({path})"
        named[name] = scenario
    comparison = compare(
        named,
        replications=args.replications,
        seed=args.seed,
        progress=_progress(args.quiet, "runs"),
        workers=args.workers,
        whole_life_years=WHOLE_LIFE_YEARS if args.whole_life else None,
    )
    print(comparison_table(comparison.table))
    if args.out:
        _say_written(comparison.write(args.out), args.quiet)
    return EXIT_OK


def cmd_break_even(args: argparse.Namespace) -> int:
    from .experiments.comparison import NoCrossing, break_even

    baseline = _load(args.baseline, args.years)
    policy = _load(args.policy, args.years)
    try:
        found = break_even(
            baseline,
            policy,
            parameter=args.parameter,
            metric=args.metric,
            replications=args.replications,
            seed=args.seed,
            low=args.low,
            high=args.high,
            progress=_progress(args.quiet, "replications searched"),
            workers=args.workers,
        )
    except NoCrossing as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    print(found)
    if found.no_crossing:
        print(
            f"{found.no_crossing} of {args.replications} replications had no crossing from "
            f"{found.range_text} and are left out",
        )
    return EXIT_OK


def _find(path: Path) -> Path:
    """``path``, or the shipped file it names when it is not found as given (with a note)."""
    from .inputs import shipped

    found = shipped.resolve(path)
    if found != Path(path):
        print(f"note: {path} is not in this folder; using the shipped {found}", file=sys.stderr)
    return found


def _load(path: Path, years: float | None = None) -> Scenario:
    from .inputs.scenario import Scenario

    scenario = Scenario.from_yaml(_find(path))
    return scenario.with_years(years) if years is not None else scenario


def cmd_policies(_args: argparse.Namespace) -> int:
    from .inputs.policy_config import registered

    for name, config in registered().items():
        print(f"{name}: {(config.__doc__ or '').strip().splitlines()[0]}")
        for field_name, field in config.model_fields.items():
            about = f"  {field.description}" if field.description else ""
            print(f"  {field_name}{about}")
    return EXIT_OK


def cmd_cohort(args: argparse.Namespace) -> int:
    from .experiments.replications import cohort
    from .outputs.cohorts import format_cohort, month_window

    scenario = _load(args.scenario, args.years)
    claimed_from, claimed_to = month_window(args.claimed)
    table = cohort(
        scenario,
        claimed_from,
        claimed_to,
        args.at,
        seed=args.seed,
        replications=args.replications,
        workers=args.workers,
        progress=_progress(args.quiet, "replications"),
    )
    print(format_cohort(table))
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    from .inputs.published import format_sources, sources_table

    print(format_sources(sources_table(_load(args.scenario))))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args.file)
    sourced = len(scenario.sources)
    print(
        f"{args.file}: valid scenario '{scenario.name}', {scenario.start_date} to "
        f"{scenario.end_date}, {sourced} sourced field(s), "
        f"{len(scenario.uncertainty)} uncertainty range(s)"
    )
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .experiments.evaluate import WHOLE_LIFE_YEARS
    from .experiments.replications import Replications, run_many, summarise
    from .outputs.report import replications_table, summary_table

    scenario = _load(args.scenario, args.years)
    title = f"{scenario.name}: {scenario.start_date} to {scenario.end_date}, seed {args.seed}"
    results = run_many(
        [(scenario, args.seed, r) for r in range(args.replications)],
        args.workers,
        progress=_progress(args.quiet, "replications"),
        whole_life_years=WHOLE_LIFE_YEARS if args.whole_life else None,
    )
    if args.replications == 1:
        result = results[0]
        print(summary_table(result.flat_summary(), title))
        if args.out:
            written = result.write(args.out)
            _say_written(written, args.quiet)
        return EXIT_OK

    replicated = Replications(
        results=results, summary=summarise([r.flat_summary() for r in results])
    )
    print(replications_table(replicated.summary, title))
    if args.out:
        _say_written(replicated.write(args.out), args.quiet)
    return EXIT_OK


def _say_written(paths: Sequence[Path], quiet: bool) -> None:
    if not quiet:
        print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)


COMMANDS = {
    "policies": cmd_policies,
    "sources": cmd_sources,
    "cohort": cmd_cohort,
    "validate": cmd_validate,
    "run": cmd_run,
    "compare": cmd_compare,
    "break-even": cmd_break_even,
    "history": cmd_history,
    "calibrate": cmd_calibrate,
    "sweep": cmd_sweep,
    "sensitivity": cmd_sensitivity,
}


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out that cannot be written before any run (a run is not lost at the end)."""
    if getattr(args, "out", None) is None:
        return
    args.out = check_output_directory(args.out, origin=args.command)


def _missing_folders(out: Any) -> list[Path]:
    """The folders of ``out`` that do not exist yet, deepest first (what the output check
    will make)."""
    if out is None or str(out).strip() == "":
        return []
    missing = []
    path = Path(out).absolute()
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders the output check made, deepest first, if nothing was written."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    made = _missing_folders(getattr(args, "out", None))
    try:
        _check_out(args)
        return COMMANDS[args.command](args)
    except InputError as exc:
        _remove_if_empty(made)  # made by the check above; the input was bad
        for line in exc.shown_lines():
            print(
                f"{exc.origin}: {line}" if not line.startswith(exc.origin) else line,
                file=sys.stderr,
            )
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more will be written
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
