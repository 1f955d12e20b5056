"""The records a run leaves take the memory their schema says, and no more.

Byte counts of arrays (``nbytes``) are deterministic, unlike the resident memory of a process
on a shared machine, so these tests bound those.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from conftest import tiny

from simulation.core.records import ATTRIBUTES, COLUMNS, DRAWS, TIMES
from simulation.engine.pipeline import Pipeline, run_pipeline
from simulation.engine.population import (
    DRAW_NAMES,
    READY_AHEAD,
    RUN_ONLY,
    Population,
    draw_block,
    draw_kept,
    indices_where,
)
from simulation.engine.queueing import Callbacks, Queue
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
    block = {**draw_block({"decisions": np.random.default_rng(1)}, 10), "t_claim": np.arange(10.0)}
    population = Population([block], spare=3 * (1 << 16), stream=np.random.default_rng(2))
    assert block == {}  # the block was handed over and freed column by column
    first, _ = population.add(1 << 17)  # past the slots set up at first
    new = slice(first, population.size)
    assert np.isnan(population.columns["t_claim"][new]).all()
    assert (population.columns["parent"][new] == -1).all()
    assert not population.columns["dec_outcome"][new].any()
    assert not population.columns["route"][new].any()
    records = population.compact(drop=("u_grant",))
    assert "u_grant" not in records and population.columns == {}
    assert {len(c) for c in records.values()} == {10 + (1 << 17)}
    assert np.array_equal(records["t_claim"][:10], np.arange(10.0))


def _blocks(known: int) -> list[dict[str, np.ndarray]]:
    return [{**draw_block({"decisions": np.random.default_rng(1)}, known)}]


@pytest.mark.parametrize("known, spare", [(10, 70_000), (3, 200_001)])
def test_spare_slots_draws_are_the_block_drawn_at_once_and_the_stream_moves_past_it(known, spare):
    """Drawn as the slots come into use, to the bit the values drawn for them all at once
    before the run (which the run's results depend on), through growth of the columns."""
    stream = np.random.default_rng(9)
    population = Population(_blocks(known), spare=spare, stream=stream)
    expected_stream = np.random.default_rng(9)
    whole = draw_block({purpose: expected_stream for purpose in DRAWS}, spare)
    # the stream is where drawing the whole block leaves it
    assert stream.bit_generator.state == expected_stream.bit_generator.state
    used = spare + 5  # every spare slot, then a grown block drawn from the stream after it
    for size in (1, 7, READY_AHEAD, used - 8 - READY_AHEAD):
        population.add(size)
    later = draw_block(
        {purpose: expected_stream for purpose in DRAWS}, population.capacity - known - spare
    )
    for name in DRAW_NAMES:
        column = population.columns[name]
        assert column.dtype == np.float32
        assert np.array_equal(column[known : known + spare], whole[name]), name
        assert np.array_equal(column[known + spare : population.size], later[name][:5]), name


def test_spare_slots_are_not_touched_until_used():
    """The record arrays' spare slots take no memory: their draws are not even made."""
    population = Population(_blocks(10), spare=1_000_000, stream=np.random.default_rng(9))
    spare = population._spare._blocks[0]
    assert spare[2] == population._ready == 10 + READY_AHEAD  # filled up to the ready slots
    population.add(READY_AHEAD + 1)
    assert spare[2] == population._ready == 10 + 2 * READY_AHEAD


def test_indices_and_kept_draws_are_what_whole_arrays_give():
    rng = np.random.default_rng(4)
    masks = [rng.random(n) < 0.7 for n in (0, 5, 150_000, 70_000)]
    offsets = [0, 3, 10, 150_010]
    expected = np.concatenate([np.flatnonzero(m) + o for m, o in zip(masks, offsets, strict=True)])
    found = indices_where(*zip(masks, offsets, strict=True))
    assert found.dtype == np.int32 and np.array_equal(found, expected)
    kept = masks[2]
    for name in ("u_grant", "work_decision"):
        whole = draw_block({"decisions": np.random.default_rng(5)}, len(kept))[name][kept]
        stream = np.random.default_rng(5)
        if name == "work_decision":
            draw_kept("u_grant", stream, kept)  # the names before it, from the same stream
        assert np.array_equal(draw_kept(name, stream, kept), whole)


#: bytes a record takes in the arrays of a run with no dated returnability, draws not kept:
#: its columns (no ``u_returnable``: the run never reads it), and the decision queue's
#: 32-bit id of each claim known before the run (their times are read from ``t_claim``)
RUN_BYTES = 125 + 4


def test_a_run_holds_at_most_129_bytes_a_record_and_no_unread_column():
    pipeline = Pipeline(tiny().with_years(2), RandomStreams(3), keep_draws=False)
    population = pipeline.population
    assert "u_returnable" not in population.columns
    assert population.columns["parent"].dtype == np.int32
    columns = sum(column.itemsize for column in population.columns.values())
    tiers = pipeline.decisions.queue.tiers
    assert all(tier.by_person for tier in tiers if tier.size)  # no copy of the claim times
    queue = sum(
        np.asarray(tier.ids).nbytes + (0 if tier.by_person else np.asarray(tier.times).nbytes)
        for tier in tiers
    )
    assert columns + queue / population.size <= RUN_BYTES < 150
    # dated returnability reads it, and a run keeping its draws keeps it
    dated = tiny(
        nationality_groups={"low": {"returnable_share": {"2026-01-01": 0.8, "2026-06-01": 0.5}}}
    )
    assert "u_returnable" in Pipeline(dated, RandomStreams(3), keep_draws=False).population.columns
    assert "u_returnable" in Pipeline(tiny(), RandomStreams(3)).population.columns


def test_withdrawals_worked_out_in_slices_are_the_whole_arrays_arithmetic():
    decisions = Pipeline(tiny().with_years(1), RandomStreams(3)).decisions
    assert decisions.withdrawal_rate > 0
    rng = np.random.default_rng(6)
    n = 3 * (1 << 16) + 5  # more than two slices
    columns = {
        "t_claim": rng.uniform(-500, 400, n),
        "e_withdraw": rng.standard_exponential(n, dtype=np.float32),
        "t_dec_end": np.full(n, np.nan),
        "dec_outcome": np.zeros(n, np.int8),
    }
    claimants = rng.permutation(n)[: n - 7]
    decisions.tentative_withdrawals(columns, claimants)
    expected = np.full(n, np.nan)
    t_claim, e = columns["t_claim"][claimants], columns["e_withdraw"][claimants].astype(float)
    expected[claimants] = np.maximum(t_claim, 0.0) + e / decisions.withdrawal_rate
    assert columns["t_dec_end"].tobytes() == expected.tobytes()
    assert np.array_equal(np.flatnonzero(columns["dec_outcome"]), np.sort(claimants))


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


def test_a_queue_reads_the_times_of_its_known_people_from_the_column_it_is_bound_to():
    """The decision queue keeps no copy of the claim times: when the population grows and
    the columns move, it must read the new column, not the old one."""
    env = simpy.Environment()
    started: list[tuple[int, float]] = []
    entry = np.array([3.0, 1.0, 2.0])
    work = np.full(3, 0.5)
    queue = Queue(
        env,
        "q",
        memoryview(work),
        memoryview(entry),
        Callbacks(lambda p, t: True, lambda p, t: started.append((p, t)), lambda p, t: None),
    )
    queue.preload(np.array([1, 2, 0]))  # by entry time, read from the column
    moved = entry.copy()
    queue.bind(memoryview(work), memoryview(moved))
    entry[:] = 1e9  # the old column, no longer the records
    queue.set_rate(1.0)
    queue.set_servers(1)
    env.run(until=10)
    assert started == [(1, 1.0), (2, 2.0), (0, 3.0)]
