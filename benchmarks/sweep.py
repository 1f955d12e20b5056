"""Sweep throughput: the same 40 runs serially, on 2 local processes and on a 2-worker Dask
LocalCluster, and the overhead the sweep machinery adds per run.

    python benchmarks/sweep.py

40 runs = 20 Latin-hypercube points x 2 replications of a 2-year baseline (varying the
withdrawal and voluntary-departure rates). The overhead per run is the serial sweep's wall
time less that of the same 40 simulations called directly, divided by 40. Writes
benchmarks/sweep_results.json. Quote the ratios: absolute times drift on shared machines.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import Scenario, __version__  # noqa: E402
from simulation.experiments import run_one  # noqa: E402
from simulation.sweep import sweep  # noqa: E402
from simulation.sweep_spec import SweepSpec, samples  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"


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


def main() -> None:
    from distributed import Client, LocalCluster

    the_spec = spec()
    base = Scenario.from_yaml(BASELINE).with_years(2)
    bases = {"baseline": base}
    plain = direct(the_spec, base)
    serial = timed(the_spec, bases, executor="serial")
    processes = timed(the_spec, bases, executor="processes", workers=2)
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
        dask = timed(the_spec, bases, client=client)
    rows = [
        ("40 runs called directly", plain, None),
        ("sweep, serial", serial, 1.0),
        ("sweep, 2 local processes", processes, serial / processes),
        ("sweep, Dask LocalCluster (2 workers)", dask, serial / dask),
    ]
    print(f"asylum-policy-sim {__version__}: 40 runs of a 2-year baseline")
    print(f"{'':40}{'wall s':>9}{'speed-up':>10}")
    for label, seconds, speed_up in rows:
        shown = f"{speed_up:.2f}x" if speed_up else ""
        print(f"{label:<40}{seconds:>9.1f}{shown:>10}")
    overhead = (serial - plain) / 40
    print(
        f"\noverhead of the sweep machinery: {1000 * overhead:.0f} ms per run "
        f"({100 * (serial - plain) / plain:.1f}% of the run time)"
    )
    results = {
        "version": __version__,
        "runs": 40,
        "direct_seconds": plain,
        "serial_seconds": serial,
        "two_processes_seconds": processes,
        "dask_two_workers_seconds": dask,
        "speed_up_processes": serial / processes,
        "speed_up_dask": serial / dask,
        "overhead_seconds_per_run": overhead,
    }
    (ROOT / "benchmarks" / "sweep_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print("wrote benchmarks/sweep_results.json")


if __name__ == "__main__":
    main()
