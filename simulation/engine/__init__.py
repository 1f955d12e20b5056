"""The engine: the asylum system as a discrete-event simulation, one module per stage.

``arrivals`` and ``start_state`` make the records known before the run; ``decisions``,
``appeals``, ``after_refusal`` and ``removals`` are the stages; ``pipeline`` wires them;
``accommodation`` houses the supported population after the run. ``events``, ``queueing``,
``hazards``, ``reentry``, ``population`` and ``rng`` are the machinery. This is the only layer
that touches SimPy, and policies reach it only through ``policy_view``.

The hot path (``events``, ``queueing`` and the stages: ``COMPILED_MODULES``) is compiled with
Cython when the package is installed (``setup.py``); each .py file is the pure-Python version,
used when the compiled modules are missing or when ``ASYLUM_SIM_PURE_PYTHON`` is set, with
bit-identical results.
"""

import importlib.util as _importlib_util
import os as _os
import sys as _sys
from pathlib import Path as _Path

#: set (to anything) to run the pure-Python hot path where the compiled one is installed
PURE_PYTHON_VARIABLE = "ASYLUM_SIM_PURE_PYTHON"
#: the modules setup.py compiles, in import order (each imports only earlier ones of them)
COMPILED_MODULES = (
    "events",
    "queueing",
    "hazards",
    "reentry",
    "decisions",
    "appeals",
    "after_refusal",
    "removals",
)


def _load_pure_python(module: str) -> None:
    """Load ``module``.py from source, ahead of its compiled version (same results, slower)."""
    name = f"{__name__}.{module}"
    spec = _importlib_util.spec_from_file_location(name, _Path(__file__).with_name(f"{module}.py"))
    loaded = _importlib_util.module_from_spec(spec)
    _sys.modules[name] = loaded
    spec.loader.exec_module(loaded)


if _os.environ.get(PURE_PYTHON_VARIABLE):
    for _module in COMPILED_MODULES:
        _load_pure_python(_module)


def hot_path() -> str:
    """Whether the queues, the event loop and the stages run compiled ("compiled"), not
    ("pure Python"), or some of them only ("partly compiled": an out-of-date build)."""
    import importlib

    compiled = [
        not importlib.import_module(f"{__name__}.{module}").__file__.endswith(".py")
        for module in COMPILED_MODULES
    ]
    if all(compiled):
        return "compiled"
    return "partly compiled" if any(compiled) else "pure Python"
