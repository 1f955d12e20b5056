"""The optional compiled hot path.

The modules in ``COMPILED`` (the events and the loop in ``simulation/engine/events.py``, the
queues in ``queueing.py``, and the stages whose callbacks run per event: where a run spends
most of its time) are compiled with Cython, each typed by the .pxd file beside it.
Each .py file stays the pure-Python version of the same code: it is used when the compiled
modules are missing (no C compiler, or ``ASYLUM_SIM_PURE_PYTHON=1`` at install time) and
gives bit-identical results, only more slowly. ``simulation.engine.COMPILED_MODULES`` lists
the same modules (tests/test_compiled.py checks it). Everything else about the package is
declared in pyproject.toml.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

COMPILED = [
    "simulation.engine.events",
    "simulation.engine.queueing",
    "simulation.engine.hazards",
    "simulation.engine.reentry",
    "simulation.engine.decisions",
    "simulation.engine.appeals",
    "simulation.engine.after_refusal",
    "simulation.engine.removals",
]


class OptionalBuildExt(build_ext):
    """Build the compiled modules if this machine can; otherwise warn and install without."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers
            _skip(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _skip(exc)


def _skip(exc: Exception) -> None:
    print(
        f"warning: the compiled hot path was not built ({exc}); the package is installed "
        "with its pure-Python version (same results, slower)",
        file=sys.stderr,
    )


def extensions() -> list[Extension]:
    if os.environ.get("ASYLUM_SIM_PURE_PYTHON"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _skip(ImportError("Cython is not installed"))
        return []
    modules = [Extension(name, [name.replace(".", "/") + ".py"]) for name in COMPILED]
    return cythonize(
        modules,
        compiler_directives={"language_level": 3, "annotation_typing": False},
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
