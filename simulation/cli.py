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
    asylum-sim demo [SCENARIO ...] [--port N] [--host 127.0.0.1]   (needs the demo extra)

A scenario or sweep file that is not found as given is looked up among the shipped scenarios
(``baseline.yaml``, ``scenarios/history/uk_2023_2025.yaml``), so the commands work from any
folder. Every option is applied or refused: none is ignored in some mode.

Exit status: 0 on success, 2 for bad input (every problem printed on its own line as
``field.path: what is wrong``), 1 for anything else.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only what every command needs is imported here; each command imports the library modules
# it uses, so `asylum-sim --help` never loads scipy, pandas, SimPy or the engine.
from .core.errors import InputError
from .core.version import package_version
from .experiments import interrupts
from .outputs.writing import check_output_directory, check_output_file

if TYPE_CHECKING:
    from .inputs.scenario import Scenario

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process stopped by Ctrl-C


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


#: What the command does, for ``asylum-sim --help``.
DESCRIPTION = (
    "Simulate the UK asylum system (arrivals, decisions, appeals, removals, accommodation "
    "and costs) under policy scenarios written as YAML files: run a scenario, compare "
    "policies on common random numbers, find break-even values, sweep uncertain inputs, and "
    "check the model against published figures."
)
EPILOG = (
    "A scenario or sweep file that is not found as given is looked up among the shipped "
    "scenarios (baseline.yaml, history/uk_2023_2025.yaml), so the commands work from any "
    "folder. Exit status: 0 on success, 2 for bad input (each problem on its own line as "
    "'field.path: what is wrong'), 1 for anything else. 'asylum-sim COMMAND --help' gives a "
    "command's options."
)
_WHOLE_LIFE_HELP = (
    "add whole-life costs: follow the people in the system at the end date for 30 more "
    "years with no more arrivals (about twice the run time; docs/costs.md)"
)
_YEARS_HELP = (
    "run this many years from the scenario's start date instead of to its end date (more "
    "than 0; fractions allowed) (default: the scenario's own end date)"
)
_QUIET_HELP = "no progress messages on standard error"


class _Help(argparse.HelpFormatter):
    """Help that shows every option's default: appended to its help as "(default: X)" unless
    the help already says what the default is; flags and required options have none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default:" in text or "%(default)" in text or not action.option_strings:
            return text
        if action.default in (None, False, argparse.SUPPRESS) or action.required:
            return text
        return f"{text} (default: %(default)s)"

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.fill(
            text, width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="asylum-sim", description=DESCRIPTION, epilog=EPILOG, formatter_class=_Help
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )

    def command(name: str, summary: str, more: str = "") -> argparse.ArgumentParser:
        description = summary[0].upper() + summary[1:] + "." + (f" {more}" if more else "")
        return commands.add_parser(
            name, help=summary, description=description, formatter_class=_Help
        )

    def seed(sub: argparse.ArgumentParser, default: int | None = 1, text: str = "") -> None:
        sub.add_argument(
            "--seed",
            type=_non_negative_int,
            default=default,
            metavar="N",
            help=text or "seed of the random numbers: the same seed gives the same results",
        )

    def quiet(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--quiet", action="store_true", help=_QUIET_HELP)

    def plots(sub: argparse.ArgumentParser, which: str) -> None:
        sub.add_argument(
            "--plot",
            metavar="DIR",
            help=f"also write the figures ({which}) into this directory (default: none)",
        )
        sub.add_argument(
            "--plot-format",
            choices=["png", "svg"],
            default="png",
            help="the figures' file type",
        )

    def scenario(sub: argparse.ArgumentParser, dest: str = "scenario", text: str = "") -> None:
        sub.add_argument(
            dest, type=Path, help=text or "a scenario file (YAML), or a shipped scenario's name"
        )

    command(
        "policies",
        "list the registered policies and their parameters",
        "Each policy a scenario can switch on in its policies: section, with every field.",
    )

    coh = command(
        "cohort",
        "where the people who claimed in a month stand on a later date",
        "Shares of the claimants of one month by where they stand (waiting, granted, "
        "refused and in the UK, removed...), with 95% confidence intervals.",
    )
    scenario(coh)
    coh.add_argument("--claimed", required=True, metavar="YYYY-MM", help="the month of the claims")
    coh.add_argument("--at", required=True, metavar="YYYY-MM-DD", help="the date, as at its end")
    coh.add_argument(
        "--replications",
        type=_positive_int,
        default=5,
        metavar="N",
        help="runs with independent random numbers, averaged",
    )
    seed(coh)
    coh.add_argument("--years", type=_positive_float, metavar="YEARS", help=_YEARS_HELP)
    coh.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="processes for the replications (results are identical)",
    )
    quiet(coh)

    src = command(
        "sources",
        "every sourced figure of a scenario, with its value and reference",
        "Value, unit, date and published source of each figure the scenario uses.",
    )
    scenario(src)

    validate = command(
        "validate",
        "check a scenario file",
        "Exit 0 and a one-line description, or exit 2 with one line per problem.",
    )
    scenario(validate, "file")

    run = command(
        "run",
        "run a scenario and print its summary",
        "Costs, backlogs, hotel population, outcomes and waiting times over the run; with "
        "several replications, their means and 95% confidence intervals. A ten-year run "
        "takes tens of seconds a replication.",
    )
    scenario(run)
    seed(run)
    run.add_argument(
        "--replications",
        type=_positive_int,
        default=1,
        metavar="N",
        help="runs with independent random numbers; more than 1 prints means and 95%% CIs",
    )
    run.add_argument("--years", type=_positive_float, metavar="YEARS", help=_YEARS_HELP)
    run.add_argument(
        "--out",
        metavar="DIR",
        help="also write summary.json, series.parquet and manifest.json into this directory, "
        "with summary.csv and series.csv for a spreadsheet (and yearly.csv with --yearly) "
        "(default: write nothing)",
    )
    run.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="processes for replications (results are identical)",
    )
    run.add_argument("--whole-life", action="store_true", help=_WHOLE_LIFE_HELP)
    run.add_argument(
        "--yearly",
        choices=["calendar", "financial"],
        help="also print the figures by calendar year or by financial year (April to March, "
        "as Home Office spending is reported); with replications, their means "
        "(default: no yearly table)",
    )
    plots(run, "backlogs and hotels, cumulative cost")
    quiet(run)

    comp = command(
        "compare",
        "compare scenarios on common random numbers (the first is the reference)",
        "Every scenario runs each replication on the same random numbers, and the table gives "
        "each one's means beside the reference's and the paired difference with its 95% "
        "confidence interval. Replications times scenarios runs in all: 20 replications of "
        "two ten-year scenarios take 10 to 15 minutes on one process (see --workers).",
    )
    comp.add_argument(
        "scenarios",
        type=Path,
        nargs="+",
        metavar="SCENARIO",
        help="two or more scenario files; the first is the reference",
    )
    seed(comp)
    comp.add_argument(
        "--replications",
        type=_positive_int,
        default=20,
        metavar="N",
        help="paired replications of each scenario, at least 2",
    )
    comp.add_argument("--years", type=_positive_float, metavar="YEARS", help=_YEARS_HELP)
    comp.add_argument(
        "--out",
        metavar="DIR",
        help="also write comparison.parquet and comparison.csv into this directory "
        "(default: write nothing)",
    )
    comp.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="processes (results are identical)",
    )
    comp.add_argument("--whole-life", action="store_true", help=_WHOLE_LIFE_HELP)
    plots(comp, "paired differences, each scenario's daily series")
    comp.add_argument(
        "--report",
        metavar="FILE",
        help="also write one self-contained HTML page (figures, the table, assumptions and "
        "every figure's source) to send to a reader without the library (default: none)",
    )
    quiet(comp)

    even = command(
        "break-even",
        "the parameter value at which a policy's metric equals the baseline's",
        "Searches the value of one number of the policy scenario at which the paired "
        "difference of the metric crosses zero, replication by replication.",
    )
    scenario(even, "baseline", "the baseline scenario file")
    scenario(even, "policy", "the policy scenario file, whose parameter is varied")
    even.add_argument(
        "--parameter",
        required=True,
        metavar="PATH",
        help="dotted path of the number to vary in the policy scenario, e.g. "
        "policies.offshore.deterred_share (a deterred share answers in eligible crossings)",
    )
    even.add_argument(
        "--metric",
        default="total_cost_whole_life_discounted_gbp",
        help="the outcome that should equal the baseline's (docs/outcomes.md lists them)",
    )
    even.add_argument(
        "--low",
        type=float,
        help="lowest value to try (default: the low end of its uncertainty range)",
    )
    even.add_argument(
        "--high",
        type=float,
        help="highest value to try (default: the high end of its uncertainty range)",
    )
    seed(even)
    even.add_argument(
        "--replications",
        type=_positive_int,
        default=10,
        metavar="N",
        help="replications searched, each on its own random numbers",
    )
    even.add_argument("--years", type=_positive_float, metavar="YEARS", help=_YEARS_HELP)
    even.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="processes, one replication's search each (results are identical)",
    )
    plots(even, "the metric against the parameter, with the crossing")
    quiet(even)

    hist = command(
        "history",
        "run 2023-2025 and write the validation report against published figures",
    )
    hist.add_argument(
        "--targets",
        type=Path,
        metavar="FILE",
        help="targets file (default: the shipped scenarios/validation/targets_2023_2025.yaml)",
    )
    hist.add_argument(
        "--replications",
        type=_positive_int,
        default=20,
        metavar="N",
        help="replications of the 2023-2025 run",
    )
    seed(hist)
    where = hist.add_mutually_exclusive_group()
    where.add_argument(
        "--out",
        metavar="DIR",
        help="directory for validation.md and figures/ (default: out/history)",
    )
    where.add_argument(
        "--docs",
        action="store_true",
        help="regenerate docs/validation.md and docs/figures/ of the source checkout",
    )
    quiet(hist)

    cal = command(
        "calibrate",
        "fit unpublished parameters to published series",
        "Ctrl-C keeps the best point so far (written, marked interrupted).",
    )
    cal.add_argument("spec", type=Path, help="a calibration file (YAML)")
    cal.add_argument(
        "--dry-run",
        action="store_true",
        help="evaluate the objective once at the values the scenario files hold (where a fit "
        "starts); fit and write nothing",
    )
    cal.add_argument(
        "--max-evaluations",
        type=_positive_int,
        metavar="N",
        help="at most this many evaluations of the objective (default: the file's)",
    )
    quiet(cal)

    sw = command(
        "sweep",
        "run a sweep (a sweep file, or a scenario's uncertainty ranges)",
        "Results are written to --out as they come; --resume continues a sweep stopped part "
        "way. Options given here override the sweep file's values.",
    )
    sw.add_argument("file", type=Path, help="a sweep file, or a scenario with uncertainty:")
    sw.add_argument("--out", required=True, metavar="DIR", help="directory of Parquet results")
    runner = sw.add_mutually_exclusive_group()
    runner.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="local processes (default: all cores)",
    )
    runner.add_argument("--serial", action="store_true", help="run in this process")
    runner.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a dask.distributed scheduler (default: local processes)",
    )
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
        metavar="N",
        help="points (default: the sweep file's; 20 for a scenario file)",
    )
    sw.add_argument(
        "--replications",
        type=_positive_int,
        metavar="N",
        help="replications per point (default: the sweep file's; 1 for a scenario file)",
    )
    seed(
        sw,
        None,
        "seed of the design and the runs (default: the sweep file's; 1 for a scenario)",
    )
    sw.add_argument(
        "--years",
        type=_positive_float,
        metavar="YEARS",
        help="shorten every base scenario to this many years (default: each one's own end "
        "date, or the sweep file's years)",
    )
    plots(sw, "partial dependence of the first metric on each parameter")
    quiet(sw)

    sens = command(
        "sensitivity",
        "Sobol or Morris indices of a sweep",
        "Reads a finished (or partly finished) sweep's results; the sampler decides which.",
    )
    sens.add_argument("directory", type=Path, help="the --out directory of a sweep")
    sens.add_argument(
        "--metric", required=True, help="the outcome to analyse (docs/outcomes.md lists them)"
    )
    sens.add_argument(
        "--scenario", metavar="NAME", help="base scenario to analyse (default: the last)"
    )
    sens.add_argument(
        "--versus",
        metavar="NAME",
        help="analyse the paired difference from this base scenario (default: none)",
    )

    demo = command(
        "demo",
        "a live teaching demo in the browser",
        "Starts a local web page with the shipped scenarios and the files given: move a "
        "lever and watch the charts respond beside the baseline. Needs the demo extra "
        '(pip install -e ".[demo]"); everything is served from this machine.',
    )
    demo.add_argument(
        "scenarios",
        nargs="*",
        type=Path,
        metavar="SCENARIO",
        help="more scenario files for the menu (one that does not load says why on the page)",
    )
    demo.add_argument(
        "--port", type=_non_negative_int, default=8000, metavar="N", help="port (0: a free one)"
    )
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on")
    return parser


def cmd_sweep(args: argparse.Namespace) -> int:
    import warnings

    from .experiments.sweep import SweepInterrupted, sweep
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
        try:
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
        except SweepInterrupted as stopped:
            interrupts.stopping()
            kept = stopped.outcome
            print(
                f"interrupted: {kept.already_done + kept.ran} of {kept.total} runs finished and "
                f"kept in {kept.directory}; run the same command again to resume",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
    print(
        f"{outcome.directory}: {outcome.already_done + outcome.ran} of {outcome.total} runs done"
        f" ({outcome.already_done} already there, {outcome.ran} now, {outcome.failed} failed) "
        f"in {outcome.seconds:.0f} s"
    )
    if args.plot:
        from .experiments.sweep import load_sweep
        from .outputs.figures import sweep_figures

        results = load_sweep(outcome.directory)
        _plot(sweep_figures(results, list(spec.parameters), spec.metrics[0]), args)
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
        interrupts.stopping()
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
        return EXIT_INTERRUPTED
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
    """A bar of finished runs (simulation.core.progress), from the start of the work."""
    from .core.progress import counter

    return counter(what, "run", quiet)


def cmd_compare(args: argparse.Namespace) -> int:
    from .experiments.comparison import compare
    from .experiments.evaluate import WHOLE_LIFE_YEARS
    from .outputs.assumptions import compared, statements
    from .outputs.report import comparison_table, horizon_text, with_assumptions

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
        quiet=args.quiet,
    )
    said = compared({name: statements(s) for name, s in named.items()})
    horizons = {name: horizon_text(rs[0].manifest) for name, rs in comparison.results.items()}
    print(with_assumptions(comparison_table(comparison.table, horizons), said))
    if args.out:
        _say_written(comparison.write(args.out), args.quiet)
    if args.plot:
        from .outputs.figures import comparison_figures

        _plot(comparison_figures(comparison), args)
    if args.report:
        from .outputs.figures import comparison_figures
        from .outputs.html_report import comparison_page
        from .outputs.writing import atomic_write_text

        page = comparison_page(
            " against ".join(named),
            comparison.table,
            comparison_figures(comparison),
            named,
            said,
            horizons,
            args.replications,
            args.seed,
        )
        _say_written([atomic_write_text(args.report, page)], args.quiet)
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
            quiet=args.quiet,
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
    if args.plot:
        from .outputs.figures import break_even_figures

        _plot(break_even_figures(found), args)
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


def _simulated(quiet: bool, scenario: Scenario):
    """Progress of one run in simulated time, shown from its first second: a bar of days
    simulated with the date reached, on a terminal only (nothing in a pipe or a log) and
    not with --quiet. A whole-life run's second run, past the end date, adds its days."""
    if quiet or not sys.stderr.isatty():
        return None
    from datetime import timedelta

    from .core import progress

    days = scenario.horizon_days
    bar = progress.open_bar(days, f"simulated to {scenario.start_date}", "day", leave=False)

    def report(done: int, total: int) -> None:
        whole_life = done > days
        reached = scenario.start_date + timedelta(days=done - days if whole_life else done)
        what = "whole-life run at" if whole_life else "simulated to"
        bar.total, bar.n = total, done
        bar.set_description_str(f"{what} {reached}")  # and redrawn
        if done >= total:
            progress.close(bar)

    return report


def cmd_run(args: argparse.Namespace) -> int:
    from .experiments.evaluate import WHOLE_LIFE_YEARS
    from .experiments.replications import Replications, run_many, run_one, summarise
    from .outputs.assumptions import statements
    from .outputs.report import (
        replications_table,
        run_title,
        summary_table,
        with_assumptions,
        yearly_text,
    )
    from .outputs.results import Result
    from .outputs.writing import write_csv

    scenario = _load(args.scenario, args.years)
    whole_life = WHOLE_LIFE_YEARS if args.whole_life else None
    if args.replications == 1:  # progress in simulated time
        progress = _simulated(args.quiet, scenario)
        results = [run_one(scenario, args.seed, whole_life_years=whole_life, progress=progress)]
    else:
        results = run_many(
            [(scenario, args.seed, r) for r in range(args.replications)],
            args.workers,
            progress=_progress(args.quiet, "replications"),
            whole_life_years=whole_life,
        )
    title = run_title(results[0].manifest)  # the horizon run, from the manifest
    if args.replications == 1:
        outcome: Result | Replications = results[0]
        table = summary_table(results[0].flat_summary(), title)
    else:
        outcome = Replications(
            results=results, summary=summarise([r.flat_summary() for r in results])
        )
        table = replications_table(outcome.summary, title)
    print(with_assumptions(table, statements(scenario)))
    yearly = outcome.yearly(args.yearly == "financial") if args.yearly else None
    if yearly is not None:
        print()
        print(yearly_text(yearly, args.yearly, len(results)))
    if args.out:
        written = outcome.write(args.out)
        if yearly is not None:
            written.append(write_csv(Path(args.out) / "yearly.csv", yearly, index=True))
        _say_written(written, args.quiet)
    if args.plot:
        from .outputs.figures import run_figures

        _plot(run_figures(outcome), args)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import DemoUnavailable, serve

    def ready(url: str, presets: list[Any]) -> None:
        for preset in presets:
            for problem in preset.problems:
                print(f"{preset.origin}: {problem}", file=sys.stderr)
        print(f"demo at {url} (Ctrl-C stops it)", flush=True)

    try:
        serve([_find(path) for path in args.scenarios], args.host, args.port, ready)
    except DemoUnavailable as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"demo: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _plot(figures: dict[str, Any], args: argparse.Namespace) -> None:
    from .outputs.figures import write_figures

    _say_written(write_figures(figures, args.plot, args.plot_format), args.quiet)


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
    "demo": cmd_demo,
}


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out, --plot or --report that cannot be written before any run (a run is
    not lost at the end)."""
    if getattr(args, "out", None) is not None:
        args.out = check_output_directory(args.out, origin=args.command)
    if getattr(args, "plot", None) is not None:
        args.plot = check_output_directory(args.plot, field="--plot", origin=args.command)
    if getattr(args, "report", None) is not None:
        args.report = check_output_file(args.report, field="--report", origin=args.command)


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


def _ignore_more_interrupts(argv: Sequence[str] | None) -> None:
    """After Ctrl-C stopped the command: when this process is the command (not a caller's
    ``main([...])``), it is about to end, so more Ctrl-C is ignored rather than cutting the
    exit short with a traceback."""
    if argv is None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    made = [
        *_missing_folders(getattr(args, "out", None)),
        *_missing_folders(getattr(args, "plot", None)),
        *_missing_folders(Path(args.report).parent if getattr(args, "report", None) else None),
    ]
    made = sorted(set(made), key=lambda folder: len(folder.parts), reverse=True)
    try:
        _check_out(args)
        with interrupts.handling():  # Ctrl-C stops within a run, however it arrives
            code = COMMANDS[args.command](args)
        if code == EXIT_INTERRUPTED:
            _ignore_more_interrupts(argv)
        return code
    except InputError as exc:
        _remove_if_empty(made)  # made by the check above; the input was bad
        for line in exc.shown_lines():
            print(
                f"{exc.origin}: {line}" if not line.startswith(exc.origin) else line,
                file=sys.stderr,
            )
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # the work was stopped; the worker processes are gone
        _ignore_more_interrupts(argv)
        from .core.progress import close_all

        close_all()  # so that the message starts on a line of its own
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more will be written
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
