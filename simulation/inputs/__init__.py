"""Inputs: scenario models (pydantic), scenario files (YAML, ``extends:``, merging), dotted
paths, provenance (sources and uncertainty ranges) and the registry of policy configs.

Everything here validates; nothing simulates. Loading and checking a scenario never imports
SimPy or the engine.
"""
