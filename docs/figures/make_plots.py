"""Draw the figures of docs/plotting.md into docs/figures/ from short runs.

    python docs/figures/make_plots.py            # a few minutes on two cores

Two simulated years and three replications (two for break-even, a small Sobol sweep), so the
figures show what each chart looks like, not results to quote.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: this script needs no screen

import matplotlib.pyplot as plt  # noqa: E402

from simulation import Scenario, break_even, compare, load_sweep, run, sensitivity, sweep  # noqa: E402
from simulation.experiments.sensitivity import plot_sensitivity  # noqa: E402
from simulation.experiments.sweep import plot_sweep  # noqa: E402
from simulation.experiments.sweep_spec import load_spec  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
YEARS, REPLICATIONS, WORKERS = 2, 3, 2


def save(drawn, name: str) -> None:
    """Write the figure ``drawn`` (a Figure or the Axes of one) as ``name`` and close it."""
    figure = getattr(drawn, "figure", drawn)
    path = HERE / name
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"  {path.relative_to(ROOT)}", file=sys.stderr)


def main() -> None:
    started = time.perf_counter()
    baseline = Scenario.from_yaml(ROOT / "scenarios/baseline.yaml").with_years(YEARS)
    hubs = Scenario.from_yaml(ROOT / "scenarios/return_hubs.yaml").with_years(YEARS)
    offshore = Scenario.from_yaml(ROOT / "scenarios/rwanda_offshore.yaml").with_years(YEARS)

    if "--from-break-even" in sys.argv:
        return later(baseline, offshore)
    result = run(baseline, seed=1)
    save(result.plot(), "plot_result.png")
    save(result.plot("cumulative_cost_gbp"), "plot_result_cost.png")

    runs = run(baseline, seed=1, replications=REPLICATIONS, workers=WORKERS)
    save(runs.plot(["in_hotel", "awaiting_decision"]), "plot_replications.png")

    comparison = compare(
        {"baseline": baseline, "return hubs": hubs, "offshore": offshore},
        replications=REPLICATIONS,
        workers=WORKERS,
    )
    save(comparison.plot(), "plot_comparison.png")
    save(comparison.plot_series("are_in_uk"), "plot_comparison_series.png")

    later(baseline, offshore)
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def later(baseline: Scenario, offshore: Scenario) -> None:
    """The break-even search and the sweep."""
    found = break_even(
        baseline,
        offshore,
        metric="total_cost_discounted_gbp",
        replications=2,
        low=0.0,
        high=1.0,
        xtol=0.01,
        workers=WORKERS,
    )
    save(found.plot(), "plot_break_even.png")

    spec, bases = load_spec(ROOT / "scenarios/sweeps/policy_levers.yaml")
    small = spec.model_copy(
        update={"sampler": "sobol", "points": 8, "replications": 1, "years": 1, "series": None}
    )
    with tempfile.TemporaryDirectory() as folder:
        sweep(small, bases, folder, executor="processes", workers=WORKERS, quiet=True)
        results = load_sweep(folder)
        save(
            plot_sweep(
                results, "policies.offshore.deterred_share", "total_cost_gbp", hue="scenario"
            ),
            "plot_sweep.png",
        )
        save(
            plot_sweep(
                results,
                "policies.offshore.deterred_share",
                "total_cost_gbp",
                hue="scenario",
                kind="partial",
                bins=5,
            ),
            "plot_sweep_partial.png",
        )
        indices = sensitivity(folder, "total_cost_gbp", scenario="combined")
        save(plot_sensitivity(indices), "plot_sensitivity.png")


if __name__ == "__main__":
    main()
