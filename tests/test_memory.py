"""The records a run leaves take the memory their schema says, and no more.

Byte counts of arrays (``nbytes``) are deterministic, unlike the resident memory of a process
on a shared machine, so these tests bound those.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny

from simulation.core.records import ATTRIBUTES, COLUMNS, TIMES
from simulation.engine.pipeline import run_pipeline
from simulation.engine.population import RUN_ONLY, Population, draw_block
from simulation.engine.rng import RandomStreams
from simulation.experiments.evaluate import run_one
from simulation.outputs.waiting import survival

#: bytes a record keeps once the run is over: attributes other than the draw behind
#: ``returnable``, float64 times, int8 outcomes
KEPT_BYTES = (
    sum(np.dtype(t).itemsize for n, t in ATTRIBUTES.items() if n not in RUN_ONLY)
    + 8 * len(TIMES)
    + 3
)


@pytest.fixture(scope="module")
def run():
    return run_pipeline(tiny().with_years(2), RandomStreams(3), keep_draws=False)


def test_records_keep_only_what_outputs_read(run):
    assert set(run.records) == set(COLUMNS) - set(RUN_ONLY)
    assert not set(RUN_ONLY) & set(run.records)


def test_records_take_their_schema_bytes_and_no_spare_slots(run):
    records = run.records
    size = len(records["origin"])
    assert size > 1000
    assert {len(column) for column in records.values()} == {size}
    # each column owns exactly its records' bytes: no spare capacity held by a view
    held = sum((c.base if c.base is not None else c).nbytes for c in records.values())
    assert held == sum(c.nbytes for c in records.values()) == KEPT_BYTES * size


def test_times_stay_float64_and_draws_are_kept_when_asked():
    records = run_pipeline(tiny().with_years(1), RandomStreams(3)).records
    assert set(records) == set(COLUMNS)
    assert all(records[name].dtype == np.float64 for name in TIMES)
    assert records["u_grant"].dtype == np.float32


def test_a_run_with_its_records_kept_has_every_column():
    kept = run_one(tiny().with_years(1), 3, keep_records=True).records
    assert set(kept) == set(COLUMNS)
    assert len({len(column) for column in kept.values()}) == 1


def test_compact_drops_and_trims_and_spare_slots_read_as_new_records():
    def draws(n):
        return draw_block({p: np.random.default_rng(1) for p in ("decisions",)}, n)

    block = {**draws(10), "t_claim": np.arange(10.0)}
    population = Population([block], spare=3 * (1 << 16), fill_draws=draws)
    assert block == {}  # the block was handed over and freed column by column
    first, _ = population.add(1 << 17)  # past the slots set up at first
    assert np.isnan(population.columns["t_claim"][first : population.size]).all()
    assert (population.columns["parent"][: population.size] == -1).all()
    records = population.compact(drop=("u_grant",))
    assert "u_grant" not in records and population.columns == {}
    assert {len(c) for c in records.values()} == {10 + (1 << 17)}
    assert np.array_equal(records["t_claim"][:10], np.arange(10.0))


def test_survival_is_scipys_kaplan_meier_to_the_bit():
    from scipy import stats

    rng = np.random.default_rng(5)
    for _ in range(20):
        finished = np.round(rng.exponential(30, rng.integers(1, 500)), rng.integers(0, 2))
        censored = np.round(rng.exponential(30, rng.integers(1, 500)), rng.integers(0, 2))
        expected = stats.ecdf(stats.CensoredData(uncensored=finished, right=censored)).sf
        times, left = survival(finished, censored)
        assert times.tobytes() == expected.quantiles.tobytes()
        assert left.tobytes() == expected.probabilities.tobytes()
