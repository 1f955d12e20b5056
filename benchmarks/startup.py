"""Start-up time: what a user waits for before the package or the command line does anything.

    python benchmarks/startup.py [--runs N]

Runs each command below N times (default 5) in a fresh interpreter and prints the median
CPU seconds (user + system of the child, from resource.getrusage(RUSAGE_CHILDREN) taken
around each run) and the median wall seconds:

- the floor: ``python -c "import simpy, numpy"``, the two libraries every run needs;
- ``python -c "import simulation"``, the package with its public names not yet used;
- ``asylum-sim --help``, the command line's parser and help text.

Neither of the last two should load scipy, pandas, pyarrow, matplotlib, dask or SALib: a
command imports those when it needs them (tests/test_lazy_imports.py checks it).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cli() -> list[str]:
    """The installed ``asylum-sim`` script, or the same entry point through this Python."""
    script = shutil.which("asylum-sim", path=str(Path(sys.executable).parent))
    if script is not None:
        return [sys.executable, script]
    return [sys.executable, "-c", "import sys; from simulation.cli import main; sys.exit(main())"]


COMMANDS: dict[str, list[str]] = {
    "floor: import simpy, numpy": [sys.executable, "-c", "import simpy, numpy"],
    "import simulation": [sys.executable, "-c", "import simulation"],
    "asylum-sim --help": [*_cli(), "--help"],
}


def measure(command: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    print(f"{'command':<30} {'CPU s':>7} {'wall s':>7}   (median of {args.runs} runs)")
    for label, command in COMMANDS.items():
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)  # warm the cache
        runs = [measure(command) for _ in range(args.runs)]
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        print(f"{label:<30} {cpu:>7.3f} {wall:>7.3f}")


if __name__ == "__main__":
    main()
