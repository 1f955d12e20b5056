"""The engine: the asylum system as a discrete-event simulation, one module per stage.

``arrivals`` and ``start_state`` make the records known before the run; ``decisions``,
``appeals``, ``after_refusal`` and ``removals`` are the stages; ``pipeline`` wires them;
``accommodation`` houses the supported population after the run. ``queueing``, ``hazards``,
``population`` and ``rng`` are the machinery. This is the only layer that touches SimPy, and
policies reach it only through ``policy_view``.

``queueing`` is compiled with Cython when the package is installed (``setup.py``); its .py
file is the pure-Python version, used when the compiled module is missing or when
``ASYLUM_SIM_PURE_PYTHON`` is set, with bit-identical results.
"""

import importlib.util as _importlib_util
import os as _os
import sys as _sys
from pathlib import Path as _Path

#: set (to anything) to run the pure-Python hot path where the compiled one is installed
PURE_PYTHON_VARIABLE = "ASYLUM_SIM_PURE_PYTHON"


def _load_pure_python_queueing() -> None:
    """Load queueing.py from source, ahead of its compiled version (same results, slower)."""
    name = f"{__name__}.queueing"
    spec = _importlib_util.spec_from_file_location(name, _Path(__file__).with_name("queueing.py"))
    module = _importlib_util.module_from_spec(spec)
    _sys.modules[name] = module
    spec.loader.exec_module(module)


if _os.environ.get(PURE_PYTHON_VARIABLE):
    _load_pure_python_queueing()


def hot_path() -> str:
    """Whether the queues and the event loop run compiled ("compiled") or not ("pure Python")."""
    from . import queueing

    return "compiled" if not queueing.__file__.endswith(".py") else "pure Python"
