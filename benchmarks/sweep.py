"""Sweep throughput: the same 40 runs serially, on 2 local processes and on a 2-worker Dask
LocalCluster (with and without setting aside the worker defaults that slow simulations, see
simulation/dask_tuning.py), and the overhead the sweep machinery adds per run.

    python benchmarks/sweep.py

40 runs = 20 Latin-hypercube points x 2 replications of a 2-year baseline (varying the
withdrawal and voluntary-departure rates). The ways of running are alternated over three
rounds and the median of each round's speed-up over serial is quoted; each round also
measures the machine's own 2-process ceiling on plain arithmetic, since neighbours on a
shared machine take cores away. The overhead per run is the serial sweep's wall
time less that of the same 40 simulations called directly, divided by 40; it is measured on
one-week runs (three alternated rounds, median), where the machine's drift, which is a
share of the time, is small beside it. Writes benchmarks/sweep_results.json. Quote the
ratios: absolute times drift on shared machines.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import Scenario, __version__  # noqa: E402
from simulation.experiments.executors import Dask  # noqa: E402
from simulation.experiments.replications import run_one  # noqa: E402
from simulation.experiments.sweep import sweep  # noqa: E402
from simulation.experiments.sweep_spec import SweepSpec, samples  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"


OVERHEAD_YEARS = 7 / 365.25
OVERHEAD_ROUNDS = 3


def spec() -> SweepSpec:
    return SweepSpec.model_validate(
        {
            "name": "benchmark",
            "base": {"baseline": str(BASELINE)},
            "parameters": {
                "decisions.withdrawal_rate_per_year": {"low": 0.05, "high": 0.4},
                "after_refusal.voluntary_departure_rate_per_year": {"low": 0.02, "high": 0.2},
            },
            "sampler": "lhs",
            "points": 20,
            "replications": 2,
            "seed": 1,
            "years": 2,
        }
    )


def direct(the_spec: SweepSpec, base: Scenario) -> float:
    """The same 40 simulations, called one after another with no sweep around them."""
    design = samples(the_spec)
    names = list(the_spec.parameters)
    t0 = time.perf_counter()
    for row in design.to_dict("records"):
        scenario = base.with_overrides({n: float(row[n]) for n in names})
        for replication in range(the_spec.replications):
            run_one(scenario, the_spec.seed, replication)
    return time.perf_counter() - t0


def timed(the_spec, bases, **how) -> float:
    out = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    try:
        t0 = time.perf_counter()
        outcome = sweep(the_spec, bases, out, quiet=True, **how)
        elapsed = time.perf_counter() - t0
        assert outcome.ran == 40 and outcome.failed == 0, outcome
        return elapsed
    finally:
        shutil.rmtree(out, ignore_errors=True)


def overhead_per_run() -> float:
    """Median over alternated rounds of (serial sweep - direct calls) / 40, on short runs."""
    short = spec().model_copy(update={"years": OVERHEAD_YEARS})
    base = Scenario.from_yaml(BASELINE).with_years(OVERHEAD_YEARS)
    differences = []
    for _ in range(OVERHEAD_ROUNDS):
        plain = direct(short, base)
        swept = timed(short, {"baseline": base}, executor="serial")
        differences.append((swept - plain) / 40)
    return statistics.median(differences)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def ceiling(tasks: int = 8, size: int = 4_000_000) -> float:
    """The machine's own 2-process speed-up right now, on pure-Python arithmetic that shares
    nothing: the most any way of running on 2 processes could reach in this round."""
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.perf_counter()
    for _ in range(tasks):
        _spin(size)
    one = time.perf_counter() - t0
    with ProcessPoolExecutor(max_workers=2) as pool:
        pool.submit(_spin, 1).result()  # start both workers before timing
        pool.submit(_spin, 1).result()
        t0 = time.perf_counter()
        list(pool.map(_spin, [size] * tasks))
        two = time.perf_counter() - t0
    return one / two


ROUNDS = 3
WAYS = {
    "serial": "sweep, serial",
    "processes": "sweep, 2 local processes",
    "dask": "sweep, Dask LocalCluster (2 workers)",
    "dask_untuned": "  the same, workers left untuned",
}


def main() -> None:
    from distributed import Client, LocalCluster

    the_spec = spec()
    base = Scenario.from_yaml(BASELINE).with_years(2)
    bases = {"baseline": base}
    overhead = overhead_per_run()
    seconds: dict[str, list[float]] = {way: [] for way in WAYS}
    ceilings: list[float] = []
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
        client.run(lambda: __import__("simulation.experiments"))  # warm the workers
        for _ in range(ROUNDS):  # alternated, so that drift falls on every way alike
            ceilings.append(ceiling())
            seconds["serial"].append(timed(the_spec, bases, executor="serial"))
            seconds["processes"].append(timed(the_spec, bases, executor="processes", workers=2))
            seconds["dask"].append(timed(the_spec, bases, client=client))
            seconds["dask_untuned"].append(
                timed(the_spec, bases, executor=Dask(client=client, tune_workers=False))
            )
    speed_ups = {
        way: [s / t for s, t in zip(seconds["serial"], seconds[way], strict=True)] for way in WAYS
    }
    print(f"asylum-policy-sim {__version__}: 40 runs of a 2-year baseline, {ROUNDS} rounds")
    print(f"{'':40}{'wall s by round':>24}{'speed-up (median)':>19}")
    for way, label in WAYS.items():
        walls = " ".join(f"{t:7.1f}" for t in seconds[way])
        print(f"{label:<40}{walls:>24}{statistics.median(speed_ups[way]):>18.2f}x")
    shown = " ".join(f"{c:6.2f}x" for c in ceilings)
    print(f"{'machine ceiling (2 processes, arithmetic)':<40}{shown:>24}")
    run_seconds = statistics.median(seconds["serial"]) / 40
    print(
        f"\noverhead of the sweep machinery: {1000 * overhead:.1f} ms per run "
        f"({100 * overhead / run_seconds:.1f}% of a 2-year run's {run_seconds:.2f} s; "
        f"median of {OVERHEAD_ROUNDS} rounds on one-week runs)"
    )
    results = {
        "version": __version__,
        "runs": 40,
        "rounds": ROUNDS,
        "seconds_by_round": seconds,
        "speed_up_by_round": speed_ups,
        "speed_up": {way: statistics.median(v) for way, v in speed_ups.items()},
        "machine_ceiling_by_round": ceilings,
        "overhead_seconds_per_run": overhead,
    }
    (ROOT / "benchmarks" / "sweep_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print("wrote benchmarks/sweep_results.json")


if __name__ == "__main__":
    main()
