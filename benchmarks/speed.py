"""Speed of the full model, measured against a yardstick in the same run.

    python benchmarks/speed.py [--quick]

Prints a table and writes benchmarks/results.json:

- the full model: scenarios/baseline.yaml for 10 years, one replication, all stages,
  accommodation and costs; and scenarios/combined.yaml (all three policies). For each: wall
  seconds, claimants simulated, claimants per second, SimPy events, peak memory (resident set
  size of a fresh process running just that model);
- two yardsticks: a minimal SimPy model written the plainest way (a process per person, three
  simpy.Resource queues for decision, appeal and removal, exponential times), once with the
  UK's server counts and arrival rate and once with a textbook example's (100, 60 and 40
  servers, 300 arrivals a day), run in this process; their claimants per second, and the
  ratios full / yardstick, in wall and in CPU seconds, over three rounds that alternate the
  three (the median round is quoted: this machine's speed drifts by a quarter within minutes);
- replications scaling: 4 replications of a 2-year baseline on 1 process and on 2 processes;
- events per claimant and CPU microseconds per event of the full model;
- the cost of the full model against horizon (1, 2, 5, 10, 20 years) and arrivals (0.5x, 1x,
  2x, 4x): CPU seconds, events, microseconds per event, peak memory and bytes per claimant;
  each row run in three rounds (all rows in turn in each), the round of median CPU time kept
  and the median peak memory; then the growth of peak memory per record between rows.

Absolute times drift on shared machines; the ratios within one run are the figures to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import Scenario, __version__  # noqa: E402
from simulation.experiments.replications import run_one  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"
COMBINED = ROOT / "scenarios" / "combined.yaml"
DAYS_PER_MONTH = 365.25 / 12


# ------------------------------------------------------------------------------ the yardstick


def yardstick(scenario: Scenario, seed: int = 1, textbook: bool = False) -> dict:
    """The plainest SimPy model of the same three queues: a process per claimant.

    The UK-server-count yardstick (the default): arrivals at the baseline's three routes
    together (claimants per day); decisions by the baseline's caseworkers at their rate per
    person; 46% of people appeal (about the baseline's refusal share times its lodging share),
    to judges at the baseline's 2027 complement (400); 2% reach a single removal team at the
    baseline's removal rate. Every queue is stable. With thousands of caseworkers,
    simpy.Resource spends much of its time in ``list.remove`` over its users, which slows
    the yardstick and flatters the model.

    The textbook yardstick (``textbook=True``): the same network with the server counts of a
    textbook example, 100 decision servers, 60 appeal servers and 40 removal teams, 300
    arrivals a day, each queue at 90% utilisation. Neither is the same work as the full
    model (no records, no costs, no outcomes), so the ratio is of throughput.
    """
    rng = random.Random(seed)
    env = simpy.Environment()
    arrivals = scenario.arrivals
    appeal_share, removal_share = 0.46, 0.02
    if textbook:
        per_day = 300.0
        servers = (100, 60, 40)
        utilisation = 0.9
        decision_rate = per_day / (servers[0] * utilisation)
        appeal_rate = per_day * appeal_share / (servers[1] * utilisation)
        removal_rate = per_day * removal_share / (servers[2] * utilisation)
    else:
        per_day = (
            sum(
                getattr(arrivals, r).rate_per_month * getattr(arrivals, r).claim_share
                for r in ("small_boat", "other_irregular", "in_country")
            )
            / DAYS_PER_MONTH
        )
        ppc = scenario.people_per_case
        servers = (int(scenario.decisions.caseworkers_fte), 400, 1)
        decision_rate = scenario.decisions.decisions_per_fte_per_month * ppc / DAYS_PER_MONTH
        appeal_rate = 0.357 * ppc
        removal_rate = 231 / DAYS_PER_MONTH
    decision = simpy.Resource(env, capacity=servers[0])
    appeal = simpy.Resource(env, capacity=servers[1])
    removal = simpy.Resource(env, capacity=servers[2])
    done = [0]

    def claimant(env):
        with decision.request() as req:
            yield req
            yield env.timeout(rng.expovariate(decision_rate))
        if rng.random() < appeal_share:
            with appeal.request() as req:
                yield req
                yield env.timeout(rng.expovariate(appeal_rate))
        if rng.random() < removal_share:
            with removal.request() as req:
                yield req
                yield env.timeout(rng.expovariate(removal_rate))
        done[0] += 1

    def source(env):
        while True:
            yield env.timeout(rng.expovariate(per_day))
            env.process(claimant(env))
            started[0] += 1

    started = [0]
    env.process(source(env))
    horizon = scenario.horizon_days
    t0, c0 = time.perf_counter(), time.process_time()
    env.run(until=horizon)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "servers": list(servers),
        "arrivals_per_day": per_day,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "claimants": started[0],
        "claimants_per_second": started[0] / wall,
        "claimants_per_cpu_second": started[0] / cpu,
        "finished": done[0],
    }


# ------------------------------------------------------------------------------ the full model


def full_model(path: str, years: float | None = None, scale: float = 1.0) -> dict:
    """One replication of a scenario file, timed (run in a fresh process for peak memory)."""
    t_load = time.perf_counter()
    scenario = Scenario.from_yaml(path)
    if years is not None:
        scenario = scenario.with_years(years)
    if scale != 1.0:
        scenario = scenario.with_overrides(
            {
                f"arrivals.{r}.rate_per_month": _scaled(getattr(scenario.arrivals, r), scale)
                for r in ("small_boat", "other_irregular", "in_country")
            }
        )
    load = time.perf_counter() - t_load
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_one(scenario, 1, 0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kib = _peak_rss_kib()
    claimants = result.summary["claimants_simulated"]
    return {
        "scenario": Path(path).name,
        "years": (scenario.end_date - scenario.start_date).days / 365.25,
        "arrival_scale": scale,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "claimants_per_cpu_second": claimants / cpu,
        "simulation_seconds": result.manifest["wall_seconds"],
        "load_seconds": load,
        "claimants": claimants,
        "claimants_per_second": claimants / wall,
        "simpy_events": result.manifest["events_scheduled"],
        "peak_rss_mib": peak_kib / 1024,
    }


def _peak_rss_kib() -> float:
    """Peak resident set size of this process. Linux's VmHWM belongs to the running program;
    ru_maxrss would also count the parent's memory at the time it started this process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _scaled(route, scale: float):
    value = route.rate_per_month
    if isinstance(value, dict):
        return {d: v * scale for d, v in value.items()}
    return value * scale


def in_fresh_process(path: str, years: float | None = None, scale: float = 1.0) -> dict:
    """full_model() in a new Python process, so that its peak memory is its own."""
    code = (
        "import json, sys; sys.path.insert(0, {root!r}); "
        "sys.path.insert(0, {bench!r}); from speed import full_model; "
        "print(json.dumps(full_model({path!r}, {years!r}, {scale!r})))"
    ).format(
        root=str(ROOT), bench=str(ROOT / "benchmarks"), path=str(path), years=years, scale=scale
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ scaling


def _one_replication(replication: int) -> float:
    scenario = Scenario.from_yaml(BASELINE).with_years(2)
    t0 = time.perf_counter()
    run_one(scenario, 1, replication)
    return time.perf_counter() - t0


def replications_scaling(replications: int = 4, rounds: int = 3) -> dict:
    """Wall time of ``replications`` 2-year runs on 1 and on 2 processes, alternated over
    ``rounds`` so that a passing slowdown of the machine hits both; the speed-up quoted is
    the median of the rounds' ratios."""
    serial, parallel = [], []
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_one_replication, [0, 1]))  # start both workers before timing
        for _ in range(rounds):
            t0 = time.perf_counter()
            for r in range(replications):
                _one_replication(r)
            serial.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            list(pool.map(_one_replication, range(replications)))
            parallel.append(time.perf_counter() - t0)
    ratios = sorted(s / p for s, p in zip(serial, parallel, strict=True))
    return {
        "replications": replications,
        "years": 2,
        "rounds": rounds,
        "one_process_seconds": serial,
        "two_processes_seconds": parallel,
        "speed_up_by_round": [s / p for s, p in zip(serial, parallel, strict=True)],
        "speed_up": ratios[len(ratios) // 2],
    }


# ------------------------------------------------------------------------------ growth


GROWTH_ROWS = [(years, 1.0) for years in (1, 2, 5, 10, 20)] + [
    (None, scale) for scale in (0.5, 2.0, 4.0)
]


def growth_table(rounds: int = 3) -> list[dict]:
    """Each row of the growth table in a fresh process, ``rounds`` times over (every row in
    turn in each round, so a passing slowdown of the machine hits every row); for each row,
    the round of median CPU time is kept, with the median peak memory of the rounds (which
    moves by tens of MiB from one process to the next, as the kernel gives huge pages or not)."""
    runs = [[] for _ in GROWTH_ROWS]
    for _ in range(rounds):
        for index, (years, scale) in enumerate(GROWTH_ROWS):
            runs[index].append(in_fresh_process(str(BASELINE), years, scale))
    rows = []
    for row_runs in runs:
        ordered = sorted(row_runs, key=lambda r: r["cpu_seconds"])
        median = dict(ordered[len(ordered) // 2])
        median["cpu_seconds_by_round"] = [r["cpu_seconds"] for r in row_runs]
        median["peak_rss_mib_by_round"] = [r["peak_rss_mib"] for r in row_runs]
        median["peak_rss_mib"] = sorted(median["peak_rss_mib_by_round"])[len(row_runs) // 2]
        rows.append(median)
    return rows


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the growth table")
    args = parser.parse_args()
    baseline = Scenario.from_yaml(BASELINE)
    started = time.perf_counter()
    ratio_rounds = []
    for _ in range(3):  # alternate model and yardsticks, so a passing slowdown hits all
        model = in_fresh_process(str(BASELINE))
        uk, textbook = yardstick(baseline), yardstick(baseline, textbook=True)
        ratio_rounds.append(
            {
                "model": model,
                "yardstick": uk,
                "textbook": textbook,
                "wall_ratio": model["claimants_per_second"] / uk["claimants_per_second"],
                "cpu_ratio": model["claimants_per_cpu_second"] / uk["claimants_per_cpu_second"],
                "textbook_cpu_ratio": model["claimants_per_cpu_second"]
                / textbook["claimants_per_cpu_second"],
                "textbook_wall_ratio": model["claimants_per_second"]
                / textbook["claimants_per_second"],
            }
        )
    median = sorted(ratio_rounds, key=lambda r: r["cpu_ratio"])[1]
    textbook_median = sorted(ratio_rounds, key=lambda r: r["textbook_cpu_ratio"])[1]
    stick = median["yardstick"]
    rows = [median["model"], in_fresh_process(str(COMBINED))]
    ratio = median["wall_ratio"]
    scaling = replications_scaling()
    growth = [] if args.quick else growth_table()

    from simulation.engine import hot_path

    print(
        f"asylum-policy-sim {__version__} on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, simpy {simpy.__version__}"
        f", hot path {hot_path()}"
    )
    print()
    header = (
        f"{'run':<34}{'wall s':>8}{'CPU s':>8}{'claimants':>12}{'per second':>12}"
        f"{'events':>12}{'RSS MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['scenario'] + ', 10 years':<34}{row['wall_seconds']:>8.2f}"
            f"{row['cpu_seconds']:>8.2f}{row['claimants']:>12,}"
            f"{row['claimants_per_second']:>12,.0f}"
            f"{row['simpy_events']:>12,}{row['peak_rss_mib']:>9.0f}"
        )
    for label, one in (
        ("yardstick, UK server counts", stick),
        ("yardstick, textbook servers", textbook_median["textbook"]),
    ):
        print(
            f"{label:<34}{one['wall_seconds']:>8.2f}"
            f"{one['cpu_seconds']:>8.2f}{one['claimants']:>12,}"
            f"{one['claimants_per_second']:>12,.0f}"
        )
    print()
    for row in rows:
        print(
            f"{row['scenario']}: {row['simpy_events'] / row['claimants']:.2f} events per "
            f"claimant, {1e6 * row['cpu_seconds'] / row['simpy_events']:.2f} CPU us per event"
        )
    for name, key in (("UK server counts", "cpu_ratio"), ("textbook", "textbook_cpu_ratio")):
        chosen = sorted(ratio_rounds, key=lambda r, k=key: r[k])[1]
        wall_key = "wall_ratio" if key == "cpu_ratio" else "textbook_wall_ratio"
        by_round = ", ".join(f"{r[wall_key]:.2f}/{r[key]:.2f}" for r in ratio_rounds)
        print(
            f"full model / {name} yardstick, claimants per second (wall/CPU) by round: "
            f"{by_round}; median round {chosen[wall_key]:.2f}x wall, {chosen[key]:.2f}x CPU"
        )
    rounds = ", ".join(
        f"{a:.1f}/{b:.1f} s"
        for a, b in zip(
            scaling["one_process_seconds"], scaling["two_processes_seconds"], strict=True
        )
    )
    print(
        f"4 replications of 2 years on 1 / 2 processes: {rounds}; "
        f"median speed-up {scaling['speed_up']:.2f}x"
    )
    if growth:
        print()
        print(
            f"{'baseline':<24}{'CPU s':>8}{'CPU s by round':>17}{'claimants':>12}{'events':>12}"
            f"{'us/event':>10}{'RSS MiB':>9}{'MiB by round':>16}{'B/claimant':>12}"
        )
        for row in growth:
            label = (
                f"{row['years']:.0f} years"
                if row["arrival_scale"] == 1.0
                else f"10 years, {row['arrival_scale']:g}x arrivals"
            )
            rounds = "/".join(f"{c:.2f}" for c in row["cpu_seconds_by_round"])
            memory = "/".join(f"{m:.0f}" for m in row["peak_rss_mib_by_round"])
            print(
                f"{label:<24}{row['cpu_seconds']:>8.2f}{rounds:>17}{row['claimants']:>12,}"
                f"{row['simpy_events']:>12,}"
                f"{1e6 * row['cpu_seconds'] / row['simpy_events']:>10.2f}"
                f"{row['peak_rss_mib']:>9.0f}{memory:>16}"
                f"{row['peak_rss_mib'] * 2**20 / row['claimants']:>12.0f}"
            )
        ten = next(r for r in growth if r["arrival_scale"] == 1.0 and round(r["years"]) == 10)
        for label, other in (
            ("10 to 20 years", next(r for r in growth if round(r["years"]) == 20)),
            ("1x to 4x arrivals", next(r for r in growth if r["arrival_scale"] == 4.0)),
        ):
            slope = (other["peak_rss_mib"] - ten["peak_rss_mib"]) * 2**20
            slope /= other["claimants"] - ten["claimants"]
            print(f"peak memory growth, {label}: {slope:.0f} bytes a record")

    results = {
        "version": __version__,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "simpy": simpy.__version__,
        },
        "full_model": rows,
        "yardstick": stick,
        "textbook_yardstick": textbook_median["textbook"],
        "ratio_full_to_yardstick": ratio,
        "ratio_full_to_yardstick_cpu": median["cpu_ratio"],
        "ratio_full_to_textbook_cpu": textbook_median["textbook_cpu_ratio"],
        "ratio_full_to_textbook_wall": textbook_median["textbook_wall_ratio"],
        "ratio_rounds": [
            {
                key: r[key]
                for key in ("wall_ratio", "cpu_ratio", "textbook_wall_ratio", "textbook_cpu_ratio")
            }
            for r in ratio_rounds
        ],
        "replications_scaling": scaling,
        "growth": growth,
        "hot_path": hot_path(),
        "total_seconds": time.perf_counter() - started,
    }
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote benchmarks/results.json ({results['total_seconds']:.0f} s in all)")


if __name__ == "__main__":
    main()
