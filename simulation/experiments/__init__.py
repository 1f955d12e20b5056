"""Experiments: everything that runs the model more than once. One :func:`.evaluate.evaluate`
runs one (scenario, seed, replication) point; run, compare, break-even, sweeps and
calibration all go through it, on one executor layer (serial, local processes or Dask).
"""
