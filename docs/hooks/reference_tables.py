"""The reference pages written from the code when the site is built, so they cannot drift from it.

- the scenario parameters: every field of the pydantic models of a scenario
  (``simulation/inputs/scenario.py``) and of each registered policy's config, read from their
  JSON schema, with type, allowed values, default and the baseline's value;
- the published figures: ``simulation/data/uk_asylum_figures.md``, the sheet of sources every
  scenario cites.

The outcome table is the package's own (``simulation.outputs.outcomes.reference_table``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
FIGURES = ROOT / "simulation" / "data" / "uk_asylum_figures.md"

#: the placeholder shown for the keys of a mapping field, by field name
KEY_NAMES = {
    "nationality_groups": "group",
    "group_shares": "group",
    "policies": "policy",
    "sources": "field path",
    "uncertainty": "field path",
    "fixed_payments": "date",
}


@dataclass(frozen=True)
class Row:
    """One scenario field: its dotted path and what the schema says of it."""

    path: str
    kind: str
    allowed: str
    default: str
    description: str


# ------------------------------------------------------------------------------ schema walking


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    return defs[ref.rsplit("/", 1)[1]] if ref else node


def _without_null(node: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The schema of an optional field's value, and whether None is allowed."""
    options = node.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            return {**node, **rest[0], "anyOf": None}, True
    return node, False


def _is_schedule(node: Mapping[str, Any]) -> bool:
    options = node.get("oneOf") or []
    return len(options) == 2 and options[1].get("propertyNames", {}).get("format") == "date"


def _model(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The model a field holds (its schema has properties), if it holds one."""
    target = _resolve(node, defs)
    return target if "properties" in target else None


def _kind(node: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    if _is_schedule(node):
        return "number or dated schedule"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if node.get("anyOf"):
        return " or ".join(_kind(_resolve(o, defs), defs) for o in node["anyOf"])
    kind = node.get("type")
    if kind == "array":
        return "list of " + _kind(_resolve(node.get("items", {}), defs), defs)
    if kind == "object":
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            keys = "dates" if node.get("propertyNames", {}).get("format") == "date" else "names"
            return f"mapping of {keys} to {_kind(_resolve(values, defs), defs)}"
        return "mapping"
    if kind == "string" and node.get("format") == "date":
        return "date"
    return {
        "number": "number",
        "integer": "whole number",
        "string": "text",
        "boolean": "true/false",
    }.get(kind or "", kind or "any")


def _allowed(node: Mapping[str, Any]) -> str:
    node = node["oneOf"][0] if _is_schedule(node) else node
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    strict_low = "exclusiveMinimum" in node
    strict_high = "exclusiveMaximum" in node
    parts = []
    if low is not None and high is not None:
        parts.append(f"{low} {'<' if strict_low else '≤'} x {'<' if strict_high else '≤'} {high}")
    elif low is not None:
        parts.append(f"{'>' if strict_low else '≥'} {low}")
    elif high is not None:
        parts.append(f"{'<' if strict_high else '≤'} {high}")
    if node.get("minItems"):
        parts.append(f"at least {node['minItems']}")
    if node.get("minProperties"):
        parts.append(f"at least {node['minProperties']}")
    return "; ".join(parts)


def _default(field: str, node: Mapping[str, Any], required: set[str]) -> str:
    if field in required:
        return "required"
    if "default" not in node:
        return "optional"
    value = node["default"]
    if value is None:
        return "none"
    if value in ([], {}, ""):
        return "empty"
    return f"`{value}`"


def rows(schema: Mapping[str, Any], prefix: str = "") -> Iterator[Row]:
    """Every field of a model's JSON schema, nested models opened, as dotted paths."""
    defs = schema.get("$defs", {})
    yield from _rows(schema, defs, prefix)


def _rows(model: Mapping[str, Any], defs: Mapping[str, Any], prefix: str) -> Iterator[Row]:
    required = set(model.get("required", ()))
    for field, raw in model["properties"].items():
        path = f"{prefix}{field}"
        node, optional = _without_null(raw)
        node = {**_resolve(node, defs), **{k: v for k, v in node.items() if k != "$ref"}}
        description = (raw.get("description") or node.get("description") or "").strip()
        nested = _model(node, defs)
        values = node.get("additionalProperties")
        items = node.get("items")
        if nested is not None:
            yield Row(path, "section", "", _default(field, raw, required), description)
            yield from _rows(nested, defs, path + ".")
        elif isinstance(values, dict) and _model(values, defs) is not None:
            key = KEY_NAMES.get(field, "name")
            yield Row(
                path,
                f"mapping of {key} to section",
                _allowed(node),
                _default(field, raw, required),
                description,
            )
            yield from _rows(_model(values, defs), defs, f"{path}.<{key}>.")
        elif node.get("type") == "array" and isinstance(items, dict) and _model(items, defs):
            yield Row(
                path,
                "list of sections",
                _allowed(node),
                _default(field, raw, required),
                description,
            )
            yield from _rows(_model(items, defs), defs, f"{path}[].")
        else:
            kind = _kind(node, defs) + (" or none" if optional else "")
            yield Row(path, kind, _allowed(node), _default(field, raw, required), description)


# ------------------------------------------------------------------------------ the pages


def _cell(text: str) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


def _baseline_value(data: Any, path: str) -> str:
    """The value at ``path`` in the baseline, shortly (blank where the path has placeholders
    or the baseline does not set it)."""
    if "<" in path or "[]" in path:
        return ""
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return ""
        data = data[part]
    if isinstance(data, Mapping):
        if data and all(not isinstance(v, Mapping | list) for v in data.values()):
            steps = [f"{k}: {v}" for k, v in data.items()]
            shown = "; ".join(steps[:3]) + ("; ..." if len(steps) > 3 else "")
            return f"`{shown}`"
        return ""
    if isinstance(data, list):
        return "" if any(isinstance(v, Mapping) for v in data) else f"`{', '.join(map(str, data))}`"
    return "none" if data is None else f"`{data}`"


def _table(found: list[Row], baseline: Any | None) -> list[str]:
    head = "| field | type | allowed | default | description |"
    rule = "| --- | --- | --- | --- | --- |"
    if baseline is not None:
        head += " baseline |"
        rule += " --- |"
    lines = [head, rule]
    for row in found:
        cells = [f"`{row.path}`", row.kind, row.allowed, row.default, row.description]
        if baseline is not None:
            cells.append("" if row.kind == "section" else _baseline_value(baseline, row.path))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


PARAMETERS_INTRO = """\
# Scenario parameters

<!-- Written from the code when the site is built (docs/hooks/reference_tables.py). -->

Every field a scenario file can hold, read from the pydantic models that validate it
(`simulation/inputs/scenario.py`) and from each registered policy's config. A dotted path is
what a `sources:` or `uncertainty:` entry, an override (`Scenario.with_overrides`) or a sweep
parameter names. `<group>`, `<policy>` and `<field path>` stand for the keys of a mapping;
`[]` marks the fields of each item of a list. A "number or dated schedule" is a number, or a
mapping from dates to numbers, each value holding from its date to the next
([scenarios.md](../scenarios.md#schedules)). The last column of the core tables is the value in
`scenarios/baseline.yaml`; `asylum-sim sources scenarios/baseline.yaml` gives the reference of
each.

Unknown fields are errors, and a value outside the allowed range is refused with the field's
path before anything runs.
"""


def parameters_page() -> str:
    """The scenario parameter reference, one table per part of a scenario and per policy."""
    from simulation.inputs.policy_config import registered
    from simulation.inputs.scenario import Scenario

    schema = Scenario.model_json_schema()
    baseline = Scenario.from_yaml(BASELINE).model_dump(mode="json")
    found = list(rows(schema))
    top = [r for r in found if "." not in r.path and r.kind != "section"]
    lines = [PARAMETERS_INTRO, "## The scenario", "", *_table(top, baseline), ""]
    for part in (r for r in found if r.kind == "section" and "." not in r.path):
        inside = [r for r in found if r.path.startswith(part.path + ".")]
        lines += [f"## `{part.path}`", "", part.description, "", *_table(inside, baseline), ""]
    for part in (r for r in found if "." not in r.path and r.kind.startswith("mapping of")):
        if part.path == "policies":
            continue
        inside = [r for r in found if r.path.startswith(part.path + ".")]
        lines += [
            f"## `{part.path}`",
            "",
            part.description,
            "",
            *_table([part, *inside], baseline),
            "",
        ]
    lines += [
        "## Policies",
        "",
        "Each policy is switched on by its section under `policies:` (docs: "
        "[policies.md](../policies.md)). The fields of every registered policy:",
        "",
    ]
    for name, config in sorted(registered().items()):
        policy_schema = config.model_json_schema()
        lines += [
            f"### `policies.{name}`",
            "",
            (policy_schema.get("description") or "").strip(),
            "",
            *_table(list(rows(policy_schema, f"policies.{name}.")), None),
            "",
        ]
    return "\n".join(lines)


FIGURES_INTRO = """\
# Sources and published figures

<!-- Written from simulation/data/uk_asylum_figures.md when the site is built. -->

The published figures the scenarios cite, as shipped with the package in
`simulation/data/uk_asylum_figures.md` and its machine-readable twin
`uk_asylum_figures.csv` (the same keys). A scenario's `sources:` entry names a figure by its
key (`data_key`); `asylum-sim sources scenarios/baseline.yaml` lists every figure a scenario
uses with its value, unit, date and reference.

"""


def figures_page() -> str:
    """The sheet of published figures, under this site's title."""
    text = FIGURES.read_text(encoding="utf-8")
    body = text.split("\n", 1)[1] if text.startswith("# ") else text
    return FIGURES_INTRO + body.lstrip("\n")


CLI_INTRO = """\
# Command line

<!-- Written from the command's own parser when the site is built. -->

`asylum-sim COMMAND --help` prints the same. Every option has a default or is required; a
bad input exits with status 2 and one line per problem (`asylum-sim validate` checks a
scenario without running it).

"""


def cli_page() -> str:
    """``asylum-sim --help`` and every command's ``--help``, as printed at 100 columns."""
    import argparse
    import os
    from unittest import mock

    from simulation.cli import build_parser

    with mock.patch.dict(os.environ, {"COLUMNS": "100"}):
        parser = build_parser()
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        lines = [CLI_INTRO, "```text", parser.format_help().rstrip(), "```", ""]
        for name, sub in commands.choices.items():
            lines += [
                f"## `asylum-sim {name}`",
                "",
                "```text",
                sub.format_help().rstrip(),
                "```",
                "",
            ]
    return "\n".join(lines)
