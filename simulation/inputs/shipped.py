"""The scenarios that ship with the package, found from any working directory.

The scenario files live in ``scenarios/`` at the top of a source checkout; an installed wheel
carries the same files as package data under ``simulation/scenarios/`` (pyproject.toml maps
one onto the other). :func:`resolve` lets a command take ``baseline.yaml``,
``scenarios/baseline.yaml`` or ``history/uk_2023_2025.yaml`` from any folder: a path that
exists as given is always used as given (a file of your own wins), and only a relative path
that does not exist is looked up among the shipped scenarios.
"""

from __future__ import annotations

from pathlib import Path

#: the package folder (``simulation/``)
PACKAGE = Path(__file__).resolve().parents[1]
#: where a wheel installs the scenario files
INSTALLED = PACKAGE / "scenarios"


def checkout() -> Path | None:
    """The top of the source checkout the package runs from, or None when it is installed
    from a wheel (no ``pyproject.toml`` and ``scenarios/`` beside the package)."""
    root = PACKAGE.parent
    if (root / "pyproject.toml").is_file() and (root / "scenarios").is_dir():
        return root
    return None


def scenarios_dir() -> Path:
    """The folder of shipped scenarios: the checkout's ``scenarios/``, else the installed
    package data."""
    root = checkout()
    return root / "scenarios" if root is not None else INSTALLED


def docs_dir() -> Path | None:
    """The checkout's ``docs/`` folder (None in an installed package, which has no docs)."""
    root = checkout()
    return root / "docs" if root is not None and (root / "docs").is_dir() else None


def path(name: str | Path) -> Path:
    """A shipped file by its name under ``scenarios/``, e.g.
    ``path("validation/targets_2023_2025.yaml")``."""
    return scenarios_dir() / Path(name)


def find(name: str | Path) -> Path | None:
    """The shipped file a relative ``name`` means (with or without a leading
    ``scenarios/``), or None if there is none."""
    given = Path(name)
    if given.is_absolute() or not given.parts:
        return None
    parts = given.parts[1:] if given.parts[0] == "scenarios" else given.parts
    if not parts or ".." in parts:
        return None
    candidate = scenarios_dir().joinpath(*parts)
    return candidate if candidate.is_file() else None


def resolve(name: str | Path) -> Path:
    """``name`` itself if it exists (or cannot be a shipped name), else the shipped file it
    names; a name that is neither comes back unchanged, so that reading it reports it
    missing under the name the user gave."""
    given = Path(name)
    if given.exists():
        return given
    return find(given) or given


def display(file: str | Path) -> str:
    """How a report names ``file``: ``scenarios/...`` for a shipped file (the same in a
    checkout and in an installed package), else the path as given."""
    file = Path(file)
    try:
        inside = file.resolve().relative_to(scenarios_dir().resolve())
    except ValueError:
        return file.as_posix()
    return (Path("scenarios") / inside).as_posix()
