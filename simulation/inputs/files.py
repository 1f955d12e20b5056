"""Scenario files: safe YAML, ``extends:`` and deep merging.

A file may start with ``extends: baseline.yaml`` (a path relative to the file, or a list of
them) and then hold only what it changes. Files are merged in order, later wins, nested
mappings merged key by key; lists and dated schedules are replaced whole, so a schedule given
in a policy file is the schedule, not a mix of two.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..core.errors import InputError, ScenarioError, problems_from_validation_error

M = TypeVar("M", bound=BaseModel)


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys (which it would silently overwrite)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path) -> Any:
    """Parse one YAML file safely; malformed files raise ScenarioError naming line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{problem} ({context})" if context else problem
        raise ScenarioError(str(path), [("", f"malformed YAML: {where}{detail}")]) from None


def read_model(path: str | Path, model: type[M]) -> M:
    """Read a YAML file (a sweep, a calibration, a set of targets) as ``model``; every
    problem is reported by field path, with the file as origin."""
    try:
        return model.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise InputError(str(path), problems_from_validation_error(exc, model)) from None


def _is_schedule(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(isinstance(k, date) for k in value)


#: Side tables whose entries are replaced whole: a new source for a field must not inherit
#: the url or note of the figure it replaces.
SIDE_TABLES = ("sources", "uncertainty")


def deep_merge(
    base: Mapping[str, Any], overlay: Mapping[str, Any], _top: bool = True
) -> dict[str, Any]:
    """``base`` updated by ``overlay``: mappings merged recursively, anything else replaced.

    Dated schedules, lists and the entries of the ``sources:`` and ``uncertainty:`` tables are
    replaced whole; an entry of those tables set to null is removed (for a field that an
    extending file turns into a dated schedule, say).
    """
    merged = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        if (
            _top
            and key in SIDE_TABLES
            and isinstance(current, Mapping)
            and isinstance(value, Mapping)
        ):
            table = {**current, **value}
            merged[key] = {path: entry for path, entry in table.items() if entry is not None}
        elif (
            isinstance(current, Mapping)
            and isinstance(value, Mapping)
            and not _is_schedule(current)
            and not _is_schedule(value)
        ):
            merged[key] = deep_merge(current, value, _top=False)
        else:
            merged[key] = value
    return merged


def load(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file into a mapping, resolving ``extends:`` recursively."""
    path = Path(path).resolve()
    if path in _seen:
        chain = " -> ".join(p.name for p in (*_seen, path))
        raise ScenarioError(str(path), [("extends", f"circular: {chain}")])
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ScenarioError(str(path), [("", "a scenario file must be a mapping of fields")])
    data = dict(data)
    parents = data.pop("extends", None)
    if parents is None:
        return data
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ScenarioError(str(path), [("extends", "must be a file path or a list of them")])
    merged: dict[str, Any] = {}
    for parent in parents:
        parent_path = (path.parent / parent).resolve()
        if not parent_path.exists():
            raise ScenarioError(str(path), [("extends", f"no such file: {parent}")])
        merged = deep_merge(merged, load(parent_path, (*_seen, path)))
    return deep_merge(merged, data)


def dump(data: Mapping[str, Any], path: str | Path) -> None:
    """Write a mapping as YAML, keeping the field order."""
    Path(path).write_text(
        yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
