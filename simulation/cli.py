"""The ``asylum-sim`` command.

    asylum-sim validate FILE
    asylum-sim run SCENARIO [--seed N] [--replications N] [--years Y] [--out DIR]

Exit status: 0 on success, 2 for bad input (every problem printed on its own line as
``field.path: what is wrong``), 1 for anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import ScenarioError
from .experiments import Replications, run_one, summarise
from .report import replications_table, summary_table
from .results import _json_default
from .scenario import Scenario

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
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="asylum-sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    validate = commands.add_parser("validate", help="check a scenario file")
    validate.add_argument("file", type=Path)

    run = commands.add_parser("run", help="run a scenario and print its summary")
    run.add_argument("scenario", type=Path)
    run.add_argument("--seed", type=_non_negative_int, default=1)
    run.add_argument("--replications", type=_positive_int, default=1)
    run.add_argument("--years", type=_positive_float, help="shorten (or extend) the horizon")
    run.add_argument("--out", type=Path, help="write summary.json, series.parquet, manifest.json")
    run.add_argument("--quiet", action="store_true", help="no progress messages")
    return parser


def _load(path: Path, years: float | None = None) -> Scenario:
    scenario = Scenario.from_yaml(path)
    return scenario.with_years(years) if years is not None else scenario


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
    scenario = _load(args.scenario, args.years)
    title = f"{scenario.name}: {scenario.start_date} to {scenario.end_date}, seed {args.seed}"
    results = []
    for replication in range(args.replications):
        started = time.perf_counter()
        results.append(run_one(scenario, args.seed, replication))
        if not args.quiet:
            print(
                f"replication {replication + 1}/{args.replications} done in "
                f"{time.perf_counter() - started:.1f} s",
                file=sys.stderr,
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
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        summary = {
            "replications": args.replications,
            "metrics": replicated.summary.to_dict(orient="records"),
            "per_replication": [r.summary for r in results],
        }
        manifest = dict(results[0].manifest)
        manifest.pop("replication")
        manifest["replications"] = args.replications
        manifest["wall_seconds"] = [r.manifest["wall_seconds"] for r in results]
        written = [out / "summary.json", out / "series.parquet", out / "manifest.json"]
        written[0].write_text(json.dumps(summary, indent=2, default=_json_default) + "\n")
        replicated.series.to_parquet(written[1], index=False)
        written[2].write_text(json.dumps(manifest, indent=2, default=_json_default) + "\n")
        _say_written(written, args.quiet)
    return EXIT_OK


def _say_written(paths: Sequence[Path], quiet: bool) -> None:
    if not quiet:
        print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)


COMMANDS = {"validate": cmd_validate, "run": cmd_run}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        for line in exc.lines():
            print(
                f"{exc.origin}: {line}" if not line.startswith(exc.origin) else line,
                file=sys.stderr,
            )
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
