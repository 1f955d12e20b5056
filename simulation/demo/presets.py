"""The scenarios the page offers: the shipped baseline and policies, then any files the
command was given. A file that does not load is still offered, with the library's message
in place of a run, so a typo in a classroom shows on the page, not as a stack trace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError
from ..inputs import shipped
from ..inputs.scenario import Scenario

#: (key, label, file under scenarios/) of the shipped presets, in menu order
SHIPPED = (
    ("baseline", "Baseline", "baseline.yaml"),
    ("rwanda_offshore", "Rwanda-style offshore", "rwanda_offshore.yaml"),
    ("return_hubs", "Return hubs", "return_hubs.yaml"),
    ("voluntary_return", "Voluntary return", "voluntary_return.yaml"),
    ("combined", "Combined", "combined.yaml"),
)


@dataclass(frozen=True)
class Preset:
    """A scenario on the menu, or the reasons its file could not be loaded."""

    key: str
    label: str
    origin: str
    scenario: Scenario | None
    problems: list[str] = field(default_factory=list)


def load(path: Path, key: str, label: str | None = None) -> Preset:
    """The preset of one scenario file; a file the library refuses gives its messages."""
    origin = shipped.display(path)
    try:
        scenario = Scenario.from_yaml(path)
    except InputError as exc:
        return Preset(key, label or Path(path).name, origin, None, exc.shown_lines())
    except OSError as exc:
        return Preset(key, label or Path(path).name, origin, None, [f"cannot read: {exc}"])
    return Preset(key, label or scenario.name, origin, scenario)


def presets(files: Sequence[str | Path] = ()) -> list[Preset]:
    """The shipped presets, then one per file given (looked up among the shipped scenarios
    when not found as given)."""
    found = [load(shipped.path(name), key, label) for key, label, name in SHIPPED]
    for i, file in enumerate(files, start=1):
        found.append(load(shipped.resolve(file), f"file{i}"))
    return found
