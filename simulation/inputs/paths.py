"""Dotted paths into a scenario: ``appeals.lodged_share``, ``decisions.caseworkers_fte.2026-01-01``.

A path walks nested mappings by key (dates are written as ISO dates) and lists by index. The
side tables ``sources:`` and ``uncertainty:`` and sweeps name scenario fields this way, and
:meth:`Scenario.with_overrides` sets them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from .policy_config import RENAMED


class PathError(KeyError):
    """A dotted path that names nothing in the scenario."""

    def __init__(self, path: str, reason: str, renamed: bool = False) -> None:
        super().__init__(path)
        self.path = path
        self.reason = reason
        self.renamed = renamed  # the path uses a field's old name (the reason gives the new)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _key_text(key: Any) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _child_key(container: Any, part: str, path: str) -> Any:
    """The actual key (or index) in ``container`` that the path part ``part`` names."""
    if isinstance(container, Mapping):
        for key in container:
            if _key_text(key) == part:
                return key
        if part in RENAMED:
            raise PathError(path, f"no field '{part}' here: {RENAMED[part]}", renamed=True)
        allowed = ", ".join(_key_text(k) for k in container) or "(nothing)"
        raise PathError(path, f"no field '{part}' here; allowed: {allowed}")
    if isinstance(container, list):
        if part.isdigit() and int(part) < len(container):
            return int(part)
        raise PathError(path, f"'{part}' is not an index of a list of {len(container)}")
    raise PathError(path, f"'{part}' goes below a plain value")


def get(data: Any, path: str) -> Any:
    """The value at ``path``; raises PathError if it does not exist."""
    node = data
    for part in path.split("."):
        node = node[_child_key(node, part, path)]
    return node


def exists(data: Any, path: str) -> bool:
    try:
        get(data, path)
    except PathError:
        return False
    return True


def set_values(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with each existing path set to its new value."""
    result = copy.deepcopy(dict(data))
    for path, value in overrides.items():
        parts = path.split(".")
        node: Any = result
        for part in parts[:-1]:
            node = node[_child_key(node, part, path)]
        node[_child_key(node, parts[-1], path)] = value
    return result


def leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) pair whose value is not a mapping or list."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from leaves(value, f"{prefix}{_key_text(key)}.")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from leaves(value, f"{prefix}{index}.")
    else:
        yield prefix.rstrip("."), data


def covers(path: str, candidates: Mapping[str, Any]) -> bool:
    """True if ``path`` or one of its ancestors is a key of ``candidates``."""
    parts = path.split(".")
    return any(".".join(parts[:n]) in candidates for n in range(len(parts), 0, -1))
