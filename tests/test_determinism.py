"""Same scenario and seed: bit-identical results, in this process or another."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
from conftest import ROOT

from simulation import run
from simulation.engine.rng import RandomStreams


def fingerprint(result) -> str:
    digest = hashlib.sha256()
    digest.update(result.series["metric"].astype(str).str.cat().encode())
    digest.update(np.ascontiguousarray(result.series["value"].to_numpy()).tobytes())
    digest.update(json.dumps(result.summary, sort_keys=True).encode())
    return digest.hexdigest()


SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from conftest import tiny
from test_determinism import fingerprint
from simulation import run
print(fingerprint(run(tiny(), seed=42)))
"""


def test_same_seed_same_results(tiny_scenario):
    first, second = run(tiny_scenario, seed=42), run(tiny_scenario, seed=42)
    assert fingerprint(first) == fingerprint(second)
    assert first.series.equals(second.series)


def test_same_seed_in_a_subprocess(tiny_scenario):
    here = fingerprint(run(tiny_scenario, seed=42))
    script = SCRIPT.format(tests=str(ROOT / "tests"))
    there = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert there == here


def test_different_seeds_differ(tiny_scenario):
    assert fingerprint(run(tiny_scenario, seed=1)) != fingerprint(run(tiny_scenario, seed=2))


def test_replication_is_the_same_alone_or_in_a_batch(tiny_scenario):
    batch = run(tiny_scenario, seed=3, replications=3)
    from simulation.experiments.replications import run_one

    assert fingerprint(batch[2]) == fingerprint(run_one(tiny_scenario, 3, 2))
    assert fingerprint(batch[0]) != fingerprint(batch[1])


def test_streams_do_not_depend_on_use_order():
    a, b = RandomStreams(5), RandomStreams(5)
    a["decisions"].random(10)
    assert a["appeals"].random() == b["appeals"].random()
    assert RandomStreams(5, 1)["appeals"].random() != b["appeals"].random()


def test_replications_on_two_processes_match_one(tiny_scenario):
    serial = run(tiny_scenario, seed=5, replications=3)
    parallel = run(tiny_scenario, seed=5, replications=3, workers=2)
    assert [fingerprint(r) for r in serial] == [fingerprint(r) for r in parallel]
