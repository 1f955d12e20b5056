"""Scenario files: safe YAML, ``extends:`` and deep merging.

A file may start with ``extends: baseline.yaml`` (a path relative to the file, or a list of
them) and then hold only what it changes. Files are merged in order, later wins, nested
mappings merged key by key; lists and dated schedules are replaced whole, so a schedule given
in a policy file is the schedule, not a mix of two.

Reading is guarded, so that a wrong or hostile file gets an error naming the file and the line
rather than a traceback, a hang or a crash: files must be UTF-8 text of at most
:data:`MAX_FILE_BYTES`, nested at most :data:`MAX_DEPTH` levels, and hold at most
:data:`MAX_VALUES` keys and values with every alias counted each time it is used. Only YAML's
plain tags are read (no Python objects); a key given twice in a mapping is an error, except
that a mapping's own keys override those merged into it with ``<<:``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..core.errors import InputError, ScenarioError, problems_from_validation_error
from .provenance import OVERRIDE_BY_USER, mark_overridden

M = TypeVar("M", bound=BaseModel)

#: Larger files are refused before they are read: scenario files are a few KB (the baseline,
#: the largest, is under 30 KB), and parsing YAML takes about 0.4 s per MB with libyaml and
#: 3 s per MB without it.
MAX_FILE_BYTES = 5_000_000
#: Deeper nesting is refused: scenario fields nest about six levels deep, while the parser's
#: time grows with the square of the depth and thousands of levels overflow its stack.
MAX_DEPTH = 100
#: More keys and values are refused, counting an alias each time it is used: a few lines of
#: aliases of aliases ("billion laughs") would otherwise expand, when files are merged or
#: checked, into more values than memory holds. The largest shipped file has about 1,100, and
#: reading 200,000 takes seconds.
MAX_VALUES = 200_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_BYTE_ORDER_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
#: Characters YAML does not allow in a file (control characters other than tab and newlines).
_NOT_ALLOWED = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


class _Refused(yaml.MarkedYAMLError):
    """A file that is well-formed YAML but that this reader refuses (a limit, a bad value)."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


NESTED_TOO_DEEP = (
    f"nested more than {MAX_DEPTH} levels deep; scenario files nest a few levels, and deeper "
    "nesting is refused because reading it would take minutes or crash"
)


class _Limits:
    """Checks the parser's events as they come, before anything is built from them: the
    nesting depth and the number of keys and values, aliases expanded."""

    def __init__(self) -> None:
        self.open: list[list[Any]] = [[None, 0]]  # [anchor, values so far]; first: the file
        self.sizes: dict[str, int] = {}  # values under each anchor, aliases expanded

    def see(self, event: Event) -> None:
        if isinstance(event, CollectionStartEvent):
            if len(self.open) > MAX_DEPTH:
                raise _Refused(NESTED_TOO_DEEP, event.start_mark)
            self.open.append([event.anchor, 1])
            return
        if isinstance(event, CollectionEndEvent):
            anchor, count = self.open.pop()
        elif isinstance(event, ScalarEvent):
            anchor, count = event.anchor, 1
        elif isinstance(event, AliasEvent):
            if any(event.anchor == entry[0] for entry in self.open):
                raise _Refused(
                    f"alias *{event.anchor} is used inside the value it names (a value that "
                    "contains itself)",
                    event.start_mark,
                )
            anchor, count = None, self.sizes.get(event.anchor, 1)
        else:
            if isinstance(event, DocumentStartEvent):
                self.sizes = {}
            return
        if anchor is not None:
            self.sizes[anchor] = count
        parent = self.open[-1]
        parent[1] += count
        if parent[1] > MAX_VALUES:
            raise _Refused(
                f"more than {MAX_VALUES:,} keys and values, counting an alias each time it is "
                "used; a scenario has about a thousand",
                event.start_mark,
            )


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader (pure Python), checking :class:`_Limits` as it parses."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._limits = _Limits()

    def get_event(self) -> Event:
        event = super().get_event()
        self._limits.see(event)
        return event


class _StrictCLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's safe loader: parsing in C, building the values in Python as the safe loader
    does. The file is parsed once first to check :class:`_Limits`, since libyaml builds nested
    values by recursion in C and crashes on very deep nesting."""


#: The loader used: libyaml's when PyYAML was built with it, the pure-Python one otherwise.
LOADER: type[yaml.SafeLoader] = _StrictCLoader if yaml.__with_libyaml__ else _StrictLoader


def _construct_mapping(loader: yaml.SafeLoader, node: MappingNode, deep: bool = False) -> dict:
    """A mapping, refusing a key given twice. Keys merged in with ``<<: *anchor`` (or a list of
    anchors, earlier ones winning) are overridden by the mapping's own keys, as YAML's merge
    key specifies; nodes are not changed, so a merged anchor can be read again."""
    merged: dict[Any, Any] = {}
    own: dict[Any, Any] = {}
    merge_seen = False
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            if merge_seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    "found duplicate key '<<'",
                    key_node.start_mark,
                )
            merge_seen = True
            merged = _merged_in(loader, node, value_node, deep)
            continue
        if key_node.tag == "tag:yaml.org,2002:value":  # a plain "=" key, read as text
            key_node.tag = "tag:yaml.org,2002:str"
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in own
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                "found a key that is a list or mapping",
                key_node.start_mark,
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        own[key] = loader.construct_object(value_node, deep=deep)
    return {**merged, **own} if merged else own


def _merged_in(loader: yaml.SafeLoader, node: MappingNode, value_node: Node, deep: bool) -> dict:
    """The keys that ``<<:`` merges into ``node``: one mapping, or a list of them in which an
    earlier mapping wins."""
    sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
    merged: dict[Any, Any] = {}
    for source in reversed(sources):
        if not isinstance(source, MappingNode):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"'<<' merges mappings (or a list of them), found a {source.id}",
                source.start_mark,
            )
        merged.update(loader.construct_object(source, deep=deep))
    return merged


def _checked(constructor: Any, what: str) -> Any:
    """``constructor`` for a plain value, reporting a value it cannot read (2026-02-30, a
    month 13) as a refusal at its line rather than a traceback."""

    def construct(loader: yaml.SafeLoader, node: ScalarNode) -> Any:
        try:
            return constructor(loader, node)
        except (ValueError, OverflowError, TypeError, KeyError, AttributeError) as exc:
            text = str(node.value)
            shown = text if len(text) <= 40 else text[:37] + "..."
            reason = str(exc).split(";")[0] if isinstance(exc, ValueError | OverflowError) else ""
            reason = f" ({reason})" if reason else ""
            raise _Refused(f"{shown} is not a valid {what}{reason}", node.start_mark) from None

    return construct


for _loader in {_StrictLoader, _StrictCLoader}:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    for _tag, _what in (
        ("timestamp", "date"),
        ("int", "integer"),
        ("float", "number"),
        ("bool", "true/false"),
    ):
        _name = f"tag:yaml.org,2002:{_tag}"
        _loader.add_constructor(_name, _checked(yaml.SafeLoader.yaml_constructors[_name], _what))


def parse_yaml(text: str, loader: type[yaml.SafeLoader] | None = None) -> Any:
    """The value of one YAML document, read with ``loader`` (default :data:`LOADER`); raises
    ``yaml.YAMLError`` for text that is malformed or refused."""
    loader = loader or LOADER
    if not issubclass(loader, _StrictLoader):  # libyaml: check the limits before it builds
        limits = _Limits()
        for event in yaml.parse(text, Loader=loader):
            limits.see(event)
    reader = loader(text)
    try:
        return reader.get_single_data()
    finally:
        reader.dispose()


def _where(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def read_text(path: Path) -> str:
    """A file's text, refused unless it is UTF-8 (a leading byte-order mark is allowed) of at
    most :data:`MAX_FILE_BYTES` without control characters, each refusal saying where."""

    def refuse(message: str) -> ScenarioError:
        return ScenarioError(str(path), [("", message)])

    limit = (
        f"files over {MAX_FILE_BYTES:,} bytes are refused (scenario files are a few KB; "
        "one this size is not a scenario, and would take long to read)"
    )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise refuse(f"the file is {size:,} bytes; {limit}")
        with path.open("rb") as stream:  # at most one byte more than allowed: a device, a pipe
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise refuse(f"the file is over {MAX_FILE_BYTES:,} bytes; {limit}")
    for mark, encoding in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            raise refuse(
                f"not UTF-8 text: byte 0 starts a {encoding} byte-order mark "
                f"({mark.hex(' ')}); save the file as UTF-8"
            )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        before = raw[start : exc.start].decode("utf-8-sig", errors="replace")
        line = raw.count(b"\n", 0, exc.start) + 1
        raise refuse(
            f"not UTF-8 text: byte {exc.start} (0x{raw[exc.start]:02x}, line {line}, column "
            f"{len(before) + 1}) cannot be read as UTF-8; save the file as UTF-8"
        ) from None
    bad = _NOT_ALLOWED.search(text)
    if bad:
        raise refuse(
            f"{_where(text, bad.start())}: character U+{ord(bad.group()):04X} is a control "
            "character, which YAML does not allow (is this a binary file?)"
        )
    return text


def read_yaml(path: str | Path) -> Any:
    """Parse one YAML file safely; a malformed or refused file raises ScenarioError naming
    the file, the line and the column."""
    path = Path(path)
    text = read_text(path)
    try:
        return parse_yaml(text)
    except _Refused as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError(str(path), [("", f"{where}{exc.problem}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if "maximum nesting depth" in problem:  # libyaml's own limit (PyYAML >= 6.0.4) came first
            raise ScenarioError(str(path), [("", f"{where}{NESTED_TOO_DEEP}")]) from None
        context = getattr(exc, "context", None)
        detail = " ".join((f"{problem} ({context})" if context else problem).split())
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


def load(path: str | Path) -> dict:
    """Read a scenario file into a mapping, resolving ``extends:`` recursively.

    Each file is read and merged once per call, however many files extend it (a file that two
    others extend, which both a third extends, is not read twice); a file that extends itself,
    directly or not, is an error.
    A value a file changes without citing it loses the citation of the file it extends: its
    source becomes an override (:func:`provenance.mark_overridden`).
    """
    return _load(Path(path).resolve(), (), {})


def _load(path: Path, seen: tuple[Path, ...], done: dict[Path, dict]) -> dict:
    """``path`` with its parents merged in; ``seen``: the files extending it, ``done``: the
    files already loaded in this call (never changed after: merging copies)."""
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise ScenarioError(str(path), [("extends", f"circular: {chain}")])
    if path in done:
        return done[path]
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ScenarioError(str(path), [("", "a scenario file must be a mapping of fields")])
    data = dict(data)
    parents = data.pop("extends", None)
    if parents is not None:
        if isinstance(parents, str):
            parents = [parents]
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise ScenarioError(str(path), [("extends", "must be a file path or a list of them")])
        merged: dict[str, Any] = {}
        for parent in parents:
            parent_path = (path.parent / parent).resolve()
            if not parent_path.exists():
                raise ScenarioError(str(path), [("extends", f"no such file: {parent}")])
            if parent_path.is_dir():
                raise ScenarioError(
                    str(path), [("extends", f"{parent!r} is a folder, not a scenario file")]
                )
            merged = deep_merge(merged, _load(parent_path, (*seen, path), done))
        merged = mark_overridden(merged, data, f"{OVERRIDE_BY_USER} in {path.name}")
        data = deep_merge(merged, data)
    done[path] = data
    return data


def dump(data: Mapping[str, Any], path: str | Path) -> None:
    """Write a mapping as YAML, keeping the field order."""
    Path(path).write_text(
        yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
