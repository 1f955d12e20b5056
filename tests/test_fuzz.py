"""Fuzzing the input layer: malformed scenarios, scenario files and sweep specs, generated from
the pydantic schema, must each be refused with an :class:`InputError` naming what is wrong.

The bad scenarios are made by walking ``Scenario.model_fields`` (and the config of every
registered policy) recursively alongside a valid shipped scenario, listing every field with
its type and bounds, and breaking one or a few of them with a value drawn for that type: a
yes/no value for a number, a number for a date, a number below its minimum or above its
maximum, NaN, a string, nothing, a list or a mapping for a plain value, an unknown or misspelt
key, a required key deleted, a schedule with a date key that is not a date. Files are broken
as text too (bytes, encodings, nesting, impossible dates, keys given twice, Python tags, alias
bombs), and sweep specs by the same walk over ``SweepSpec`` plus ranges, samplers, counts and
parameter paths that cannot be used.

For every input: (a) the library raises InputError (never another exception) whose problems
name the broken field (or, for a whole-file problem, the file); (b) ``asylum-sim validate``
(``sweep`` for sweep specs) exits 2 naming it, without a traceback; (c) a run with ``--out``
writes nothing; (d) each input is dealt with within 10 seconds. Hypothesis is derandomized, so
every run (and CI) sees the same inputs; ``test_zz_the_fuzz_covered_enough_inputs`` counts them.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fnmatch
import io
import math
import signal
import string
import subprocess
import sys
import time
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal
from unittest import mock

import pytest
import yaml
from conftest import ROOT, tiny_dict
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, Tag
from pydantic.fields import FieldInfo
from test_policies import VOLUNTARY

from simulation import Scenario
from simulation.cli import main
from simulation.core.errors import InputError
from simulation.experiments.sweep_spec import MAX_RUNS, SCENARIO_KEYS, SweepSpec, load_spec
from simulation.inputs import files, paths
from simulation.inputs.policy_config import PolicyConfig, registered
from simulation.outputs import outcomes

#: The longest any one input may take to be refused (the brief for this suite: 10 s).
SECONDS = 10.0
#: Hypothesis settings: the same inputs on every run (derandomize), no example database, and
#: no shrinking: a failure names its way of breaking and its path, and shrinking inputs this
#: size took minutes.
FUZZ = dict(
    derandomize=True,
    database=None,
    deadline=dt.timedelta(seconds=SECONDS),
    phases=[Phase.explicit, Phase.generate],
)
#: How many malformed inputs the whole file must try.
MINIMUM_INPUTS = 150

#: What the fuzz tests saw: inputs tried per test, and the three failures counted over all.
SEEN: Counter[str] = Counter()
#: Inputs tried by the way they were broken.
BROKEN_BY: Counter[str] = Counter()


# ============================================================================ the schema


@dataclass(frozen=True)
class Kind:
    """What a field holds, read off its pydantic annotation and constraints."""

    name: str  # number, integer, date, bool, text, choice, list, mapping, model, schedule
    optional: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    limit: float | None = None  # an upper bound with its reason (schedules.at_most)
    min_length: int | None = None
    allow_inf_nan: bool | None = None
    choices: tuple[Any, ...] = ()
    item: Kind | None = None  # a list's items, a mapping's values
    model: type[BaseModel] | None = None
    tag: str | None = None  # a schedule's arm, while reading it


_SCALARS = {float: "number", int: "integer", bool: "bool", dt.date: "date", str: "text"}
_CONSTRAINTS = ("ge", "gt", "le", "lt", "min_length")


def _collect(found: dict[str, Any], items: Any) -> None:
    for item in items:
        if isinstance(item, FieldInfo):
            _collect(found, item.metadata)
        elif isinstance(item, Tag):
            found["tag"] = item.tag
        elif isinstance(item, AfterValidator) and "at_most" in item.func.__qualname__:
            cells = dict(
                zip(
                    item.func.__code__.co_freevars,
                    (cell.cell_contents for cell in item.func.__closure__ or ()),
                    strict=True,
                )
            )
            found["limit"] = cells["limit"]
        elif hasattr(item, "allow_inf_nan"):
            found["allow_inf_nan"] = item.allow_inf_nan
        else:
            for name in _CONSTRAINTS:
                if type(item).__module__ == "annotated_types" and hasattr(item, name):
                    found[name] = getattr(item, name)


def describe(annotation: Any, metadata: Any = ()) -> Kind:
    """The Kind of a field from its annotation and metadata (constraints, tags, bounds)."""
    found: dict[str, Any] = {}
    _collect(found, metadata)
    while typing.get_origin(annotation) is Annotated:
        annotation, *extra = typing.get_args(annotation)
        _collect(found, extra)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        arms = [describe(a) for a in args if a is not type(None)]
        optional = len(arms) < len(args)
        tags = {arm.tag: arm for arm in arms}
        if set(tags) == {"constant", "dated"}:  # a schedule: a number or dates -> numbers
            kind = replace(tags["constant"], name="schedule", tag=None)
        elif len(arms) == 1:
            kind = arms[0]
        else:
            raise AssertionError(f"a union the fuzz does not know: {annotation}")
        return replace(kind, optional=optional or kind.optional, **found)
    if origin is Literal:
        return Kind("choice", choices=typing.get_args(annotation), **found)
    if origin is list:
        return Kind("list", item=describe(typing.get_args(annotation)[0]), **found)
    if origin is dict:
        return Kind("mapping", item=describe(typing.get_args(annotation)[1]), **found)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Kind("model", model=annotation, **found)
    if annotation in _SCALARS:
        return Kind(_SCALARS[annotation], **found)
    raise AssertionError(f"a type the fuzz does not know: {annotation}")


@dataclass(frozen=True)
class Site:
    """A place in a scenario (or sweep) where a value goes: a field of a model, an entry of a
    mapping or an item of a list, with what the schema says it holds."""

    path: tuple[Any, ...]
    kind: Kind
    required: bool  # a field without a default
    present: bool  # given in the valid input the fuzz starts from
    owner: type[BaseModel] | None  # the model the field belongs to (None: an entry or item)
    base: str = ""  # the name of that valid input

    @property
    def text(self) -> str:
        return dotted(self.path)


def dotted(path: tuple[Any, ...]) -> str:
    return ".".join(p.isoformat() if isinstance(p, dt.date) else str(p) for p in path)


def sites(model: type[BaseModel], data: Mapping[str, Any], prefix: tuple = ()) -> Iterator[Site]:
    """Every field of ``model`` and, where ``data`` gives a value, every field inside it."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, typing.ForwardRef):  # a model named before it is defined
            annotation = eval(annotation.__forward_arg__, vars(sys.modules[model.__module__]))
        kind = describe(annotation, info.metadata)
        path = (*prefix, name)
        yield Site(path, kind, info.is_required(), name in data, model)
        if name in data:
            yield from _inside(kind, data[name], path)


def _inside(kind: Kind, value: Any, path: tuple) -> Iterator[Site]:
    if kind.name == "model" and isinstance(value, Mapping):
        yield from sites(kind.model, value, path)
    elif kind.name == "mapping" and isinstance(value, Mapping):
        for key, item in value.items():
            item_kind = kind.item
            if item_kind.name == "model" and item_kind.model is PolicyConfig:
                item_kind = replace(item_kind, model=registered()[key])  # from the registry
            yield Site((*path, key), item_kind, True, True, None)
            yield from _inside(item_kind, item, (*path, key))
    elif kind.name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield Site((*path, index), kind.item, True, True, None)
            yield from _inside(kind.item, item, (*path, index))


# ============================================================================ valid inputs


def _shipped(name: str) -> dict[str, Any]:
    return files.load(ROOT / "scenarios" / f"{name}.yaml")


#: Valid shipped scenarios the fuzz breaks: every registered policy, a dated schedule, the
#: side tables, a removal class; and the 2023-2025 history (a priority for old claims) with
#: a fast track, a re-entry rule, removal teams and a route's own nationality mix added, so
#: that the fields of those lists and mappings are walked too.
BASES: dict[str, dict[str, Any]] = {
    "combined_and_returns_agreement": files.deep_merge(
        _shipped("combined"), _shipped("returns_agreement")
    ),
    "history_with_lists": files.deep_merge(
        _shipped("history/uk_2023_2025"),
        {
            "decisions": {
                "fast_track": [
                    {
                        "name": "albania",
                        "groups": ["low_grant"],
                        "routes": ["small_boat"],
                        "claims_from": dt.date(2023, 1, 1),
                        "claims_until": dt.date(2024, 1, 1),
                        "certified_share": 0.5,
                    }
                ]
            },
            "after_refusal": {
                "removal_teams": 10,
                "reentry_rules": [
                    {"kinds": ["enforced"], "groups": ["low_grant"], "share": 0.1},
                    {"mean_delay_days": 200},
                ],
            },
            "arrivals": {
                "small_boat": {
                    "group_shares": {
                        "high_grant": 0.3,
                        "mixed": {dt.date(2023, 1, 1): 0.4, dt.date(2024, 1, 1): 0.5},
                        "low_grant": {dt.date(2023, 1, 1): 0.3, dt.date(2024, 1, 1): 0.2},
                    }
                }
            },
        },
    ),
}

#: Entries of the side tables walked per scenario (they are all alike; the rest would crowd
#: out the fields of the model when a site is drawn).
SIDE_ENTRIES = 4


def _walked(site: Site, data: dict) -> bool:
    if site.path[0] in files.SIDE_TABLES and len(site.path) > 1:
        return site.path[1] in list(data[site.path[0]])[:SIDE_ENTRIES]
    return True


SITES: list[Site] = [
    replace(site, base=name)
    for name, data in BASES.items()
    for site in sites(Scenario, data)
    if _walked(site, data)
]


#: The limits docs/scenarios.md ("Limits") promises: the walk must find each, since the fuzz
#: tries only the bounds the schema declares (a bound dropped would go untested).
DOCUMENTED_LIMITS = {
    "arrivals.*.rate_per_month": 10_000_000,
    "initial_state.*_people": 10_000_000,
    "accommodation.*.capacity_people": 10_000_000,
    "decisions.caseworkers_fte": 1_000_000,
    "appeals.judges_fte": 1_000_000,
    "after_refusal.removal_teams": 1_000_000,
    "accommodation.hotels.paid_beds_per_occupant": 100,
}


def test_the_walk_finds_every_documented_limit_and_share():
    for pattern, limit in DOCUMENTED_LIMITS.items():
        found = [site for site in SITES if fnmatch.fnmatch(site.text, pattern)]
        assert found and {site.kind.limit for site in found} == {limit}, pattern
    shares = [
        site
        for site in SITES
        if str(site.path[-1]).endswith(("_share", "_probability", "_rate"))
        and site.kind.name in ("number", "schedule")
        and site.path[0] not in files.SIDE_TABLES
    ]
    assert len(shares) > 40
    assert all((site.kind.ge, site.kind.le) == (0, 1) for site in shares), [
        site.text for site in shares if (site.kind.ge, site.kind.le) != (0, 1)
    ]


# ============================================================================ bad values

_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + " _-.,:/%é½€中", min_size=0, max_size=12
)
_WORDS = ["", "many", "lots", "12 people", "1,000", "£5", "½", "n/a", "nan", "inf", "-inf"]
#: What pydantic reads as true/false (so not "nonsense" for a yes/no field).
_BOOL_WORDS = {"true", "false", "yes", "no", "on", "off", "1", "0", "t", "f", "y", "n"}


def _not_a_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return True
    return not math.isfinite(value)


NOT_NUMBERS = st.sampled_from(_WORDS) | _TEXT.filter(_not_a_number)
NOT_DATES = (
    st.sampled_from(
        ["2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "2026-1-1", "01/02/2026"]
        + ["2026/01/01", "tomorrow", "", "2026-01-01T10:00", "20260101"]
    )
    | st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(1900, 2200),
        st.integers(13, 99) | st.just(0),
        st.integers(1, 28),
    )
    | st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(1900, 2200),
        st.integers(1, 12),
        st.integers(32, 99) | st.just(0),
    )
)
OUT_OF_RANGE_DATES = st.dates(max_value=dt.date(1899, 12, 31)) | st.dates(
    min_value=dt.date(2201, 1, 1)
)
NUMBERS_NOT_DATES = st.integers(-(10**12), 10**12) | st.floats(allow_nan=True, allow_infinity=True)
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
#: Dates with a time of day (midnight too: a date field takes a date, not a moment).
TIMES = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 12, 31))
SHORT_LISTS = st.lists(st.floats(0, 1), max_size=3)
SMALL_MAPPINGS = st.dictionaries(
    st.sampled_from(["value", "low", "high", "x"]), st.floats(0, 1), min_size=1, max_size=2
)
OTHER_SCALARS = st.integers(-5, 10**6) | NOT_NUMBERS.filter(bool) | st.booleans()


def _below(kind: Kind) -> st.SearchStrategy | None:
    """Numbers below a field's minimum (ge: strictly below; gt: at or below)."""
    if kind.ge is None and kind.gt is None:
        return None
    bound, strict = (kind.ge, True) if kind.ge is not None else (kind.gt, False)
    if kind.name == "integer":
        top = math.ceil(bound) - 1 if strict else math.floor(bound)
        return st.integers(-(10**12), top)
    return st.floats(-1e15, bound, exclude_max=strict) | st.just(-math.inf)


def _above(kind: Kind) -> st.SearchStrategy | None:
    if kind.le is None and kind.lt is None:
        return None
    bound, strict = (kind.le, True) if kind.le is not None else (kind.lt, False)
    return st.floats(bound, 1e15, exclude_min=strict)


def _beyond(kind: Kind) -> st.SearchStrategy | None:
    """Numbers above a field's limit, up to integers more than a float holds."""
    if kind.limit is None:
        return None
    if kind.name == "integer":
        return st.integers(int(kind.limit) + 1, 10**400)
    return st.floats(kind.limit, 1e300, exclude_min=True) | st.integers(
        int(kind.limit) + 1, 10**400
    )


def _fractions() -> st.SearchStrategy:
    return st.floats(0.001, 1e6).filter(lambda x: not x.is_integer())


@dataclass(frozen=True)
class Case:
    """One broken input: the data, the field paths its refusal must name, what it is."""

    data: Any
    named: tuple[str, ...]
    category: str
    first_pass: bool = True  # refused by field validation, so still named beside others
    value: Any = None  # the bad value put at the one path named (replacing a value)
    replaced: bool = False
    base: str = ""  # the valid input it was made from


@dataclass(frozen=True)
class Category:
    """A way of breaking a site."""

    name: str
    applies: Callable[[Site], bool]
    make: Callable[[Site, dict], st.SearchStrategy]  # -> Case
    first_pass: bool = True


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple, value: Any) -> Any:
    data = copy.deepcopy(data)
    _get(data, path[:-1])[path[-1]] = value
    return data


def _replacing(values: Callable[[Site], st.SearchStrategy | None]):
    def make(site: Site, data: dict) -> st.SearchStrategy:
        return values(site).map(
            lambda value: Case(
                _set(data, site.path, value), (site.text,), "", value=value, replaced=True
            )
        )

    return make


def _numeric(site: Site) -> bool:
    return site.kind.name in ("number", "integer", "schedule")


def _may_be_null(site: Site) -> bool:
    return site.kind.optional or site.path[0] == "policies" and len(site.path) <= 2


def _scalar(site: Site) -> bool:
    return site.kind.name in ("number", "integer", "schedule", "date", "bool", "text", "choice")


def _schedule_value(site: Site, data: dict) -> float:
    """A valid value for a schedule: the one given, or its minimum."""
    if site.present:
        value = _get(data, site.path)
        return next(iter(value.values())) if isinstance(value, dict) else value
    return site.kind.ge if site.kind.ge is not None else 1.0


def _dated(make_keys: Callable[[Site, dict], st.SearchStrategy]):
    """A dated schedule whose dates (mapping keys) come from ``make_keys``."""

    def make(site: Site, data: dict) -> st.SearchStrategy:
        value = _schedule_value(site, data)
        return make_keys(site, data).map(
            lambda keys: Case(_set(data, site.path, dict.fromkeys(keys, value)), (site.text,), "")
        )

    return make


def _start(site: Site, data: dict) -> dt.date:
    return BASES[site.base]["start_date"] if site.base in BASES else data["start_date"]


def _unknown_key(site: Site, data: dict) -> st.SearchStrategy:
    parent = site.path[:-1]
    taken = set(site.owner.model_fields) | set(_get(data, parent)) | set(SCENARIO_KEYS)
    names = st.from_regex(r"[a-z][a-z_]{2,14}", fullmatch=True).filter(lambda k: k not in taken)
    return names.map(lambda key: Case(_set(data, (*parent, key), 1), (dotted((*parent, key)),), ""))


def _misspell(name: str, how: int, at: int) -> str:
    at = at % len(name)
    return [
        name[:at] + name[at + 1 :],  # a letter left out
        name[:at] + name[at] + name[at:],  # a letter doubled
        name[:at] + name[at + 1 : at + 2] + name[at : at + 1] + name[at + 2 :],  # swapped
        name.replace("_", "-"),
        name.replace("_", " "),
        name.capitalize(),
        name + "s",
        name + " ",
    ][how]


def _misspelt_key(site: Site, data: dict) -> st.SearchStrategy:
    parent, old = site.path[:-1], site.path[-1]
    fields = set(site.owner.model_fields)

    def case(wrong: str) -> Case:
        node = copy.deepcopy(data)
        holder = _get(node, parent)
        holder[wrong] = holder.pop(old)
        named = [dotted((*parent, wrong))]
        if site.required and not (parent == () and old == "base" and site.owner is SweepSpec):
            named.append(site.text)
        return Case(node, tuple(named), "")

    wrong = st.builds(_misspell, st.just(old), st.integers(0, 7), st.integers(0, 40))
    return wrong.filter(lambda w: w != old and w not in fields | SCENARIO_KEYS).map(case)


def _deleted(site: Site, data: dict) -> st.SearchStrategy:
    node = copy.deepcopy(data)
    del _get(node, site.path[:-1])[site.path[-1]]
    return st.just(Case(node, (site.text,), ""))


def _unknown_group(site: Site, data: dict) -> st.SearchStrategy:
    groups = set(BASES[site.base]["nationality_groups"])
    name = st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(lambda g: g not in groups)
    wrap = (lambda g: [g]) if site.kind.name == "list" else (lambda g: g)
    return name.map(lambda g: Case(_set(data, site.path, wrap(g)), (site.text,), ""))


def _refers_to_groups(site: Site) -> bool:
    return site.path[-1] in ("group", "groups") and site.kind.name in ("text", "list")


def _late_first_date(site: Site, data: dict) -> st.SearchStrategy:
    start = _start(site, data)
    return st.integers(1, 3000).map(lambda days: [start + dt.timedelta(days=days)])


def _out_of_order(site: Site, data: dict) -> st.SearchStrategy:
    start = _start(site, data)
    return st.integers(1, 3000).map(lambda days: [start + dt.timedelta(days=days), start])


def _bad_schedule_keys(site: Site, data: dict) -> st.SearchStrategy:
    keys = (
        st.integers(-(10**9), 10**9)
        | st.booleans()
        | NOT_DATES
        | OUT_OF_RANGE_DATES
        | TIMES
        | st.floats(allow_nan=False)
    )
    return keys.map(lambda key: [key])


def _bad_schedule_value(site: Site, data: dict) -> st.SearchStrategy:
    start = _start(site, data)
    bad = st.booleans() | NOT_NUMBERS | NOT_FINITE | st.none()
    for extra in (_below(site.kind), _above(site.kind), _beyond(site.kind)):
        if extra is not None:
            bad = bad | extra
    return bad.map(
        lambda v: Case(_set(data, site.path, {start: v}), (f"{site.text}.{start.isoformat()}",), "")
    )


def _empty_schedule(site: Site, data: dict) -> st.SearchStrategy:
    return st.just(Case(_set(data, site.path, {}), (site.text,), ""))


def _strategy(function: Callable[[Kind], st.SearchStrategy | None]):
    return lambda site: function(site.kind)


CATEGORIES: list[Category] = [
    # numbers
    Category("yes/no for a number", _numeric, _replacing(lambda s: st.booleans())),
    Category("text for a number", _numeric, _replacing(lambda s: NOT_NUMBERS)),
    Category("date for a number", _numeric, _replacing(lambda s: st.dates())),
    Category("NaN", _numeric, _replacing(lambda s: st.just(math.nan))),
    Category("infinity", _numeric, _replacing(lambda s: st.sampled_from([math.inf, -math.inf]))),
    Category(
        "below the minimum",
        lambda s: _numeric(s) and _below(s.kind) is not None,
        _replacing(_strategy(_below)),
    ),
    Category(
        "above the maximum (a share above 1)",
        lambda s: _numeric(s) and _above(s.kind) is not None,
        _replacing(_strategy(_above)),
    ),
    Category(
        "beyond a limit",
        lambda s: _numeric(s) and _beyond(s.kind) is not None,
        _replacing(_strategy(_beyond)),
    ),
    Category(
        "a fraction for a whole number",
        lambda s: s.kind.name == "integer",
        _replacing(lambda s: _fractions()),
    ),
    # schedules
    Category(
        "a schedule date that is not a date",
        lambda s: s.kind.name == "schedule",
        _dated(_bad_schedule_keys),
    ),
    Category(
        "a bad value in a dated schedule",
        lambda s: s.kind.name == "schedule",
        _bad_schedule_value,
    ),
    Category("an empty dated schedule", lambda s: s.kind.name == "schedule", _empty_schedule),
    Category("dates out of order", lambda s: s.kind.name == "schedule", _dated(_out_of_order)),
    Category(
        "a schedule starting after the start date",
        lambda s: s.kind.name == "schedule",
        _dated(_late_first_date),
        first_pass=False,
    ),
    # dates
    Category(
        "a number for a date",
        lambda s: s.kind.name == "date",
        _replacing(lambda s: NUMBERS_NOT_DATES),
    ),
    Category(
        "yes/no for a date", lambda s: s.kind.name == "date", _replacing(lambda s: st.booleans())
    ),
    Category(
        "an impossible date", lambda s: s.kind.name == "date", _replacing(lambda s: NOT_DATES)
    ),
    Category(
        "a date outside 1900-2200",
        lambda s: s.kind.name == "date",
        _replacing(lambda s: OUT_OF_RANGE_DATES),
    ),
    Category(
        "a date with a time of day", lambda s: s.kind.name == "date", _replacing(lambda s: TIMES)
    ),
    # yes/no, text, choices
    Category(
        "a number for yes/no",
        lambda s: s.kind.name == "bool",
        _replacing(
            lambda s: (
                st.integers().filter(lambda i: i not in (0, 1))
                | st.floats().filter(lambda x: x not in (0.0, 1.0))
            )
        ),
    ),
    Category(
        "text for yes/no",
        lambda s: s.kind.name == "bool",
        _replacing(lambda s: _TEXT.filter(lambda t: t.strip().lower() not in _BOOL_WORDS)),
    ),
    Category(
        "a number for text",
        lambda s: s.kind.name == "text",
        _replacing(lambda s: st.integers() | st.floats() | st.booleans()),
    ),
    Category(
        "an unknown choice",
        lambda s: s.kind.name == "choice",
        _replacing(
            lambda s: (
                _TEXT.filter(lambda t: t not in s.kind.choices) | st.integers() | st.booleans()
            )
        ),
    ),
    Category("an unknown nationality group", _refers_to_groups, _unknown_group, first_pass=False),
    # shapes
    Category(
        "nothing for a required value",
        lambda s: not _may_be_null(s),
        _replacing(lambda s: st.none()),
    ),
    Category("a list for a plain value", _scalar, _replacing(lambda s: SHORT_LISTS)),
    Category(
        "a mapping for a plain value",
        lambda s: _scalar(s) and s.kind.name != "schedule",
        _replacing(lambda s: SMALL_MAPPINGS),
    ),
    Category(
        "a plain value for a list",
        lambda s: s.kind.name == "list",
        _replacing(lambda s: OTHER_SCALARS | SMALL_MAPPINGS),
    ),
    Category(
        "an empty list",
        lambda s: s.kind.name == "list" and bool(s.kind.min_length),
        _replacing(lambda s: st.just([])),
    ),
    Category(
        "a bad item in a list",
        lambda s: s.kind.name == "list" and s.kind.item.name in ("choice", "text", "model"),
        _replacing(
            lambda s: st.lists(st.integers() | st.booleans() | st.floats(), min_size=1, max_size=2)
        ),
    ),
    Category(
        "a plain value for a section",
        lambda s: s.kind.name in ("model", "mapping"),
        _replacing(lambda s: OTHER_SCALARS | SHORT_LISTS.filter(bool)),
    ),
    Category(
        "an empty section",
        lambda s: (
            s.kind.name == "mapping"
            and bool(s.kind.min_length)
            or s.kind.name == "model"
            and any(f.is_required() for f in s.kind.model.model_fields.values())
        ),
        _replacing(lambda s: st.just({})),
    ),
    # keys
    Category("an unknown field", lambda s: s.owner is not None, _unknown_key),
    Category("a misspelt field", lambda s: s.owner is not None and s.present, _misspelt_key),
    Category(
        "a required field left out",
        lambda s: s.owner is not None and s.present and s.required,
        _deleted,
    ),
    Category(
        "an unknown policy",
        lambda s: s.path == ("policies", "offshore"),
        lambda s, d: (
            st.from_regex(r"[a-z][a-z_]{2,14}", fullmatch=True)
            .filter(lambda k: k not in registered())
            .map(
                lambda k: Case(
                    _set(d, ("policies", k), {"start_date": "2026-01-01"}), (f"policies.{k}",), ""
                )
            )
        ),
    ),
]


def targets(category: Category, candidates: list[Site]) -> list[Site]:
    return [site for site in candidates if category.applies(site)]


SCENARIO_TARGETS = {c.name: targets(c, SITES) for c in CATEGORIES}


BY_NAME = {c.name: c for c in CATEGORIES}
SCENARIO_CATEGORIES = [c.name for c in CATEGORIES if SCENARIO_TARGETS[c.name]]


def _signature(site: Site) -> tuple:
    """What the schema says of a site, without its name: sites alike are fuzzed alike."""
    kind = site.kind
    item = kind.item.name if kind.item else None
    bounds = (kind.ge, kind.gt, kind.le, kind.lt, kind.limit, kind.min_length, kind.allow_inf_nan)
    return (
        kind.name,
        *bounds,
        kind.optional,
        item,
        site.required,
        site.present,
        site.owner is None,
    )


def strata(found: list[Site]) -> list[list[Site]]:
    """``found`` grouped by signature: drawing a group, then a site in it, tries every kind of
    field about as often however many fields of each kind a scenario has."""
    groups: dict[tuple, list[Site]] = {}
    for site in found:
        groups.setdefault(_signature(site), []).append(site)
    return list(groups.values())


SCENARIO_STRATA = {name: strata(SCENARIO_TARGETS[name]) for name in SCENARIO_CATEGORIES}
#: Inputs per kind of field and category, for the library (the first with the simplest
#: values hypothesis can make, the others drawn).
DRAWS_PER_KIND = 3


@st.composite
def broken_scenarios(draw, name: str, kind: list[Site] | None = None) -> Case:
    """A valid shipped scenario with one site broken in the way ``name``: a kind of field it
    applies to (or the one given), a site of that kind, then a bad value."""
    category = BY_NAME[name]
    site = draw(st.sampled_from(kind or draw(st.sampled_from(SCENARIO_STRATA[name]))))
    case = draw(category.make(site, BASES[site.base]))
    return replace(case, category=name, first_pass=category.first_pass, base=site.base)


def by_category(names: list[str]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("category", names, ids=[n.replace(" ", "_") for n in names])


# ============================================================================ the checks


class Hang(BaseException):
    """Raised by the alarm when one input takes longer than :data:`SECONDS` (a BaseException,
    so that no ``except Exception`` in the library swallows it)."""


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Interrupt the block with :class:`Hang` after ``seconds``, so a hang fails the test
    rather than stopping the suite."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(call: Callable[[], Any], what: str, seen: Counter[str] = SEEN) -> InputError:
    """The InputError ``call`` raises within :data:`SECONDS`; anything else (another
    exception, a hang, no error at all) is counted in ``seen`` and fails the test."""
    started = time.perf_counter()
    try:
        with within(SECONDS):
            call()
    except InputError as exc:
        error = exc
    except Hang:
        seen["hangs"] += 1
        pytest.fail(f"{what}: still running after {SECONDS:g} s")
    except Exception as exc:
        seen["tracebacks"] += 1
        raise AssertionError(f"{what}: {type(exc).__name__} instead of InputError") from exc
    else:
        seen["accepted"] += 1
        pytest.fail(f"{what}: accepted")
    elapsed = time.perf_counter() - started
    if elapsed >= SECONDS:
        seen["hangs"] += 1
        pytest.fail(f"{what}: took {elapsed:.1f} s")
    return error


def names(problems: list[tuple[str, str]], path: str) -> bool:
    """Whether a problem names ``path``: at it, below it (a key of a schedule), or at the
    model holding it with the field's name in the message (a check across fields)."""
    parent, _, last = path.rpartition(".")
    return any(
        where == path or where.startswith(path + ".") or (where == parent and last in message)
        for where, message in problems
    )


def cli(*argv: str) -> tuple[int, str]:
    """``asylum-sim ARGV`` in this process: exit status and what it printed on stderr."""
    err = io.StringIO()
    started = time.perf_counter()
    try:
        with (
            contextlib.redirect_stderr(err),
            contextlib.redirect_stdout(io.StringIO()),
            within(SECONDS),
        ):
            code = main(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    except Hang:
        SEEN["hangs"] += 1
        pytest.fail(f"asylum-sim {' '.join(argv)}: still running after {SECONDS:g} s")
    except Exception as exc:
        SEEN["tracebacks"] += 1
        raise AssertionError(f"asylum-sim {argv[0]}: {type(exc).__name__}") from exc
    assert time.perf_counter() - started < SECONDS
    text = err.getvalue()
    if "Traceback" in text:
        SEEN["tracebacks"] += 1
    if code == 0:
        SEEN["accepted"] += 1
    return code, text


def printed(err: str, *origins: Path) -> list[tuple[str, str]]:
    """The problems the command line printed, as (path, message) pairs."""
    problems = []
    for line in err.splitlines():
        for origin in origins:
            for text in (str(origin), str(origin.resolve())):
                if line.startswith(text + ": "):
                    line = line[len(text) + 2 :]
        where, sep, message = line.partition(": ")
        problems.append((where, message) if sep else ("", line))
    return problems


def refused_by_the_command_line(argv: list[str], file: Path, named: tuple[str, ...]) -> str:
    """Exit 2 without a traceback, naming every path in ``named``; the stderr."""
    code, err = cli(*argv)
    assert "Traceback" not in err, err
    assert code == 2, f"exit {code}: {err}"
    problems = printed(err, file)
    for path in named:
        assert names(problems, path), f"{path} not named by asylum-sim {argv[0]}:\n{err}"
    return err


def nothing_written(folder: Path) -> bool:
    """The --out directory ``folder`` (which did not exist) was not left behind: the command
    line makes it to check that it can write there, and removes it when the input is bad."""
    return not folder.exists()


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Callable[[], Path]:
    """A new empty folder per input (hypothesis runs many inputs in one test call)."""
    root = tmp_path_factory.mktemp("fuzz")
    count = iter(range(10**9))
    return lambda: Path(root / f"{next(count):05d}").resolve()


def _new(folders: Callable[[], Path]) -> Path:
    folder = folders()
    folder.mkdir()
    return folder


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# ============================================================================ scenarios


@by_category(SCENARIO_CATEGORIES)
@settings(max_examples=DRAWS_PER_KIND, **FUZZ)
@given(data=st.data())
def test_a_scenario_with_a_broken_field_is_refused_naming_it(category, data):
    """Every kind of field the category applies to, each time with a site and value drawn."""
    for kind in SCENARIO_STRATA[category]:
        case = data.draw(broken_scenarios(category, kind))
        SEEN["scenarios with a broken field"] += 1
        BROKEN_BY[case.category] += 1
        error = refused(partial(Scenario.from_dict, case.data, origin="fuzz"), case.category)
        for path in case.named:
            assert names(error.problems, path), f"{category}: {path} not named: {error.lines()}"


def _related(a: tuple, b: tuple) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


@st.composite
def scenarios_broken_in_several_places(draw) -> tuple[dict, list[Case]]:
    """Two to four sites of one scenario broken at once, none inside another, each in a way
    pydantic reports in its first pass (so that every one is reported beside the others)."""
    base = draw(st.sampled_from(list(BASES)))
    categories = [c for c in CATEGORIES if c.first_pass and c.name != "an unknown policy"]
    data, cases, broken = BASES[base], [], []
    for _ in range(draw(st.integers(2, 4))):
        category = draw(st.sampled_from(categories))
        free = [
            s
            for s in SCENARIO_TARGETS[category.name]
            if s.base == base and not any(_related(s.path, p) for p in broken)
        ]
        if not free:
            continue
        site = draw(st.sampled_from(free))
        case = draw(category.make(site, data))
        data = case.data
        broken.append(site.path)
        cases.append(replace(case, category=category.name))
    return data, cases


@settings(max_examples=50, **FUZZ)
@given(broken=scenarios_broken_in_several_places())
def test_a_scenario_broken_in_several_places_is_refused_naming_each(broken):
    data, cases = broken
    SEEN["scenarios broken in several places"] += 1
    BROKEN_BY.update(case.category for case in cases)
    what = ", ".join(c.category for c in cases)
    error = refused(lambda: Scenario.from_dict(data, origin="fuzz"), what)
    for case in cases:
        for path in case.named:
            assert names(error.problems, path), (
                f"{case.category}: {path} not named: {error.lines()}"
            )


BASE_SCENARIOS = {name: Scenario.from_dict(data) for name, data in BASES.items()}


BASE_DICTS = {name: scenario.to_dict() for name, scenario in BASE_SCENARIOS.items()}
#: The categories that replace a value, with the sites where a dotted path names it.
OVERRIDES = {
    name: [
        site
        for site in SCENARIO_TARGETS[name]
        if site.path[0] not in files.SIDE_TABLES and paths.exists(BASE_DICTS[site.base], site.text)
    ]
    for name in SCENARIO_CATEGORIES
    if BY_NAME[name].make.__qualname__.startswith("_replacing")
}


@by_category([name for name, found in OVERRIDES.items() if found])
@settings(max_examples=2, **FUZZ)
@given(data=st.data())
def test_a_bad_override_is_refused_naming_its_path(category, data):
    """``Scenario.with_overrides({path: value})``, as sweeps and break-even set parameters."""
    site = data.draw(st.sampled_from(strata(OVERRIDES[category])).flatmap(st.sampled_from))
    case = data.draw(BY_NAME[category].make(site, BASES[site.base]), label="case")
    SEEN["overrides"] += 1
    BROKEN_BY[category] += 1
    scenario = BASE_SCENARIOS[site.base]
    (path,) = case.named
    error = refused(lambda: scenario.with_overrides({path: case.value}), case.category)
    assert names(error.problems, path), f"{case.category}: {path} not named: {error.lines()}"


@by_category(SCENARIO_CATEGORIES)
@settings(max_examples=2, **FUZZ)
@given(data=st.data())
def test_a_broken_scenario_file_exits_2_naming_the_field_and_writes_nothing(
    folders, category, data
):
    case = data.draw(broken_scenarios(category), label="case")
    SEEN["scenario files with a broken field (command line)"] += 1
    BROKEN_BY[case.category] += 1
    folder = _new(folders)
    file = folder / "broken.yaml"
    file.write_text(_yaml(case.data), encoding="utf-8")
    error = refused(lambda: Scenario.from_yaml(file), case.category)
    for path in case.named:
        assert names(error.problems, path), f"{case.category}: {path} not named: {error.lines()}"
    refused_by_the_command_line(["validate", str(file)], file, case.named)
    out = folder / "out"
    refused_by_the_command_line(["run", str(file), "--out", str(out), "--quiet"], file, ())
    assert nothing_written(out), sorted(out.iterdir())
    assert [p.name for p in folder.iterdir()] == ["broken.yaml"]


# ============================================================================ files as text

BASELINE_TEXT = (ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8")
_CONTROL = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
NESTINGS = {
    "lists": lambda n: "a: " + "[" * n + "]" * n,
    "flow mappings": lambda n: "a: " + "{a: " * n + "1" + "}" * n,
    "block mappings": lambda n: "".join(" " * i + "a:\n" for i in range(n)) + " " * n + "a: 1",
}
TAGS = [
    "!!python/object/apply:os.system ['echo fuzz']",
    "!!python/object/new:builtins.dict {}",
    "!!python/name:os.system",
    "!!python/tuple [1, 2]",
    "!!python/object:builtins.object {}",
    "!custom 5",
    "!<tag:example.com,2000:app/x> 5",
    "!!set {a: null}",
    "!!omap [{a: 1}]",
    "!!pairs [{a: 1}]",
    "!!binary aGVsbG8=",
    "!!float many",
    "!!int 1.5",
    "!!bool maybe",
    "!!timestamp soon",
    "!!null x",
    "!!map {a: 1}",
    "!!seq [1]",
]


def _block_keys(text: str) -> list[int]:
    """Lines of ``text`` holding a key of a block mapping with a plain value on the line."""
    found = []

    def visit(node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if (
                    not node.flow_style
                    and isinstance(value, yaml.ScalarNode)
                    and value.style is None
                    and value.start_mark.line == key.start_mark.line
                ):
                    found.append(key.start_mark.line)
                visit(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                visit(item)

    visit(yaml.compose(text, Loader=yaml.SafeLoader))
    return found


BASELINE_KEY_LINES = _block_keys(BASELINE_TEXT)


def _twice(line: int) -> bytes:
    lines = BASELINE_TEXT.splitlines(keepends=True)
    return "".join(lines[: line + 1] + lines[line : line + 1] + lines[line + 1 :]).encode()


def _laughs(levels: int, mapping: bool) -> bytes:
    if mapping:
        lines = ["x0: &x0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}"]
        lines += [
            f"x{i}: &x{i} {{" + ", ".join(f"k{j}: *x{i - 1}" for j in range(9)) + "}"
            for i in range(1, levels + 1)
        ]
    else:
        lines = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        lines += [
            f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, levels + 1)
        ]
    return ("\n".join(lines) + "\n").encode()


IMPOSSIBLE_DATES = (
    st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(1000, 9999),
        st.integers(13, 99),
        st.integers(1, 28),
    )
    | st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(1000, 9999),
        st.integers(1, 12),
        st.integers(32, 99),
    )
    | st.sampled_from(
        ["2026-02-30", "2025-02-29", "2026-00-01", "2026-01-00", "2026-01-01 25:00:00"]
    )
)

TEXTS: dict[str, st.SearchStrategy] = {
    "random bytes": st.binary(max_size=400),
    "random text": st.text(max_size=300).map(str.encode),
    "another encoding": st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]).map(
        lambda e: BASELINE_TEXT.replace("name: UK baseline", "name: Café baseline").encode(e)
    ),
    "a corrupted byte": st.tuples(
        st.integers(0, len(BASELINE_TEXT) - 1), st.integers(0x80, 0xFF) | st.sampled_from(_CONTROL)
    ).map(
        lambda t: (
            BASELINE_TEXT.encode()[: t[0]] + bytes([t[1]]) + BASELINE_TEXT.encode()[t[0] + 1 :]
        )
    ),
    "nested too deep": st.sampled_from(list(NESTINGS)).flatmap(
        lambda kind: st.integers(101, 400 if kind == "block mappings" else 3000).map(
            lambda n: (NESTINGS[kind](n) + "\n").encode()
        )
    ),
    "an impossible date": st.tuples(st.booleans(), IMPOSSIBLE_DATES).map(
        lambda t: (
            BASELINE_TEXT.replace("start_date: 2026-01-01", f"start_date: {t[1]}", 1)
            if t[0]
            else BASELINE_TEXT.replace("2026-01-01: 221", f"{t[1]}: 221", 1)
        ).encode()
    ),
    "a time of day": TIMES.map(
        lambda t: BASELINE_TEXT.replace("start_date: 2026-01-01", f"start_date: {t}", 1).encode()
    ),
    "a key given twice": st.sampled_from(BASELINE_KEY_LINES).map(_twice),
    "a tag": st.sampled_from(TAGS).map(
        lambda tag: BASELINE_TEXT.replace(
            "start_date: 2026-01-01", f"start_date: {tag}", 1
        ).encode()
    ),
    "an alias bomb": st.tuples(st.integers(6, 8), st.booleans()).map(lambda t: _laughs(*t)),
    "an alias inside itself": st.sampled_from(
        ["a: &a [1, *a]\n", "a: &a {b: *a}\n", "&a [*a]\n"]
    ).map(str.encode),
    "not a mapping": st.sampled_from(["- a\n- b\n", "5\n", "'text'\n", "[]\n", "!!set {a}\n"]).map(
        str.encode
    ),
    "several documents": st.just((BASELINE_TEXT + "\n---\nname: again\n").encode()),
    "bad extends": st.sampled_from(
        ["nope.yaml", "5", "[1, {a: b}]", "''", "/etc", "/dev/zero", "broken.yaml", "[broken.yaml]"]
    ).map(lambda target: f"extends: {target}\nname: x\n".encode()),
}


@pytest.mark.parametrize("kind", list(TEXTS), ids=[k.replace(" ", "_") for k in TEXTS])
@settings(max_examples=6, **FUZZ)
@given(data=st.data())
def test_a_malformed_file_is_refused_naming_the_file_or_the_field(folders, kind, data):
    content = data.draw(TEXTS[kind], label=kind)
    loader = data.draw(st.sampled_from(LOADERS), label="loader")
    with mock.patch.object(files, "LOADER", loader):
        _malformed_file(folders, kind, content)


#: The YAML loaders: the pure-Python one, and libyaml's when PyYAML was built with it.
LOADERS = [files._StrictLoader] + ([files._StrictCLoader] if yaml.__with_libyaml__ else [])


#: What the refusal of each kind of malformed file says (one of these); random bytes and
#: text may fail in any way.
SAYS = {
    "another encoding": ["not UTF-8 text", "is a control character"],
    "a corrupted byte": ["not UTF-8 text", "is a control character"],
    "nested too deep": [f"nested more than {files.MAX_DEPTH} levels"],
    "an impossible date": ["is not a valid date"],
    "a time of day": ["start_date: must be a date written YYYY-MM-DD, without a time of day"],
    "a key given twice": ["found duplicate key"],
    "a tag": ["line ", "start_date: "],
    "an alias bomb": [f"more than {files.MAX_VALUES:,} keys and values"],
    "an alias inside itself": ["is used inside the value it names"],
    "not a mapping": ["a scenario file must be a mapping"],
    "several documents": ["expected a single document"],
    "bad extends": ["extends: ", f"files over {files.MAX_FILE_BYTES:,} bytes are refused"],
}


def _malformed_file(folders: Callable[[], Path], kind: str, content: bytes) -> None:
    SEEN["malformed files"] += 1
    BROKEN_BY[kind] += 1
    folder = _new(folders)
    file = folder / "broken.yaml"
    file.write_bytes(content)
    error = refused(lambda: Scenario.from_yaml(file), kind)
    assert error.problems, error
    origin = Path(error.origin)
    if kind == "bad extends" and origin.resolve() != file.resolve():
        assert str(origin) == "/dev/zero", error.origin  # read, and refused for its size
    else:
        assert origin.resolve() == file.resolve(), error.origin
    for where, message in error.problems:  # a field, or where in the file
        assert where or any(w in message for w in ("line ", "byte ", "file", "mapping")), message
    said = "\n".join(error.lines())
    assert any(fragment in said for fragment in SAYS.get(kind, [""])), f"{kind}: {said}"
    code, err = cli("validate", str(file))
    assert code == 2 and "Traceback" not in err, err
    assert str(origin) in err, err  # the file, or the extended file, with the problem
    out = folder / "out"
    code, err = cli("run", str(file), "--out", str(out), "--quiet")
    assert code == 2 and "Traceback" not in err, err
    assert nothing_written(out)


# ============================================================================ sweep specs

#: The base scenarios of the sweeps: the tiny scenario, with and without a policy.
SWEEP_BASES = {
    "plain.yaml": tiny_dict(),
    "policy.yaml": tiny_dict(policies={"voluntary_return": copy.deepcopy(VOLUNTARY)}),
}
SWEEP_BASE_TEXT = {name: _yaml(data) for name, data in SWEEP_BASES.items()}
#: A valid sweep over them: a range, a value list, a loguniform range (a policy's field, which
#: one base lacks) and a triangular range, with series.
SWEEP: dict[str, Any] = {
    "name": "fuzz",
    "base": {"plain": "plain.yaml", "policy": "policy.yaml"},
    "parameters": {
        "appeals.lodged_share": {"low": 0.5, "high": 0.9},
        "decisions.caseworkers_fte": {"values": [10, 12, 14]},
        "policies.voluntary_return.payment_gbp": {
            "low": 1000,
            "high": 10000,
            "distribution": "loguniform",
        },
        "after_refusal.reentry_share": {
            "low": 0.1,
            "high": 0.4,
            "distribution": "triangular",
            "mode": 0.3,
        },
    },
    "sampler": "lhs",
    "points": 4,
    "replications": 2,
    "seed": 1,
    "years": 1,
    "metrics": ["total_cost_gbp", "peak_hotel_population"],
    "series": {"metrics": ["in_hotel"], "every": "month"},
}
SWEEP_SITES = list(sites(SweepSpec, SWEEP))
#: What each scenario field is (from the walk of the policy base), for ranges it cannot take.
TINY_SITES = {site.text: site for site in sites(Scenario, SWEEP_BASES["policy.yaml"])}
PARAMETERS = list(SWEEP["parameters"])


def _parameter_case(path: str, space: Any, named: str | None = None) -> Case:
    spec = copy.deepcopy(SWEEP)
    spec["parameters"][path] = space
    return Case(spec, (named or f"parameters.{path}",), "")


def _top(key: str, value: Any, named: str | None = None) -> Case:
    return Case({**copy.deepcopy(SWEEP), key: value}, (named or key,), "")


def _outside_the_field(path: str) -> st.SearchStrategy:
    """A range or values the scenario field at ``path`` cannot take (its own bounds)."""
    kind = TINY_SITES[path].kind
    bad = st.one_of([s for s in (_below(kind), _above(kind), _beyond(kind)) if s is not None])
    return bad.flatmap(
        lambda v: st.sampled_from(
            [{"values": [v]}, {"low": min(v, kind.ge or 0), "high": max(v, kind.ge or 0)}]
        )
    )


_PATH_PARTS = st.from_regex(r"[a-z][a-z_]{1,10}|[0-9]|2026-01-01", fullmatch=True)
UNKNOWN_PATHS = (
    st.lists(_PATH_PARTS, min_size=1, max_size=4)
    .map(".".join)
    .filter(lambda p: not any(paths.exists(data, p) for data in SWEEP_BASES.values()))
)

#: Ways of breaking a sweep beyond the walk of its schema: (name, strategy of Case).
SWEEP_BREAKS: dict[str, st.SearchStrategy] = {
    "no base": st.just(Case({k: v for k, v in SWEEP.items() if k != "base"}, ("base",), "")),
    "a base file that does not exist": _TEXT.map(
        lambda name: _top("base", {"plain": f"missing {name}.yaml"}, named="base.plain")
    ),
    "an unknown parameter path": UNKNOWN_PATHS.map(
        lambda p: _parameter_case(p, {"low": 0.1, "high": 0.2})
    ),
    "a range the field cannot take": st.sampled_from(PARAMETERS).flatmap(
        lambda p: _outside_the_field(p).map(lambda space: _parameter_case(p, space))
    ),
    "low above high": st.tuples(st.sampled_from(PARAMETERS[:1]), st.floats(0.01, 1)).map(
        lambda t: _parameter_case(t[0], {"low": t[1], "high": t[1] / 2})
    ),
    "a loguniform range from zero or below": st.floats(-1e6, 0).map(
        lambda low: _parameter_case(
            PARAMETERS[2], {"low": low, "high": 5000, "distribution": "loguniform"}
        )
    ),
    "a triangular range without a mode between its ends": st.one_of(
        st.none(), st.floats(-1e6, 0.099), st.floats(0.401, 1e6)
    ).map(
        lambda mode: _parameter_case(
            PARAMETERS[3], {"low": 0.1, "high": 0.4, "distribution": "triangular", "mode": mode}
        )
    ),
    "values and a range": st.just(
        _parameter_case(PARAMETERS[0], {"values": [0.5], "low": 0.5, "high": 0.9})
    ),
    "neither values nor a range": st.sampled_from([{}, {"low": 0.5}, {"high": 0.9}]).map(
        lambda space: _parameter_case(PARAMETERS[0], space)
    ),
    "no values": st.just(_parameter_case(PARAMETERS[0], {"values": []})),
    "a range over a yes/no field": st.just(
        _parameter_case("policies.voluntary_return.enabled", {"low": 0, "high": 1})
    ),
    "a sampler that needs ranges given values": st.sampled_from(["sobol", "morris"]).map(
        lambda sampler: _top("sampler", sampler)
    ),
    "too many runs": st.tuples(
        st.sampled_from(["points", "replications"]), st.integers(MAX_RUNS, 10**15)
    ).map(lambda t: _top(*t)),
    "an unknown metric": st.lists(
        _TEXT.filter(lambda m: not outcomes.is_outcome(m)), min_size=1, max_size=3
    ).map(lambda metrics: _top("metrics", metrics)),
    "a horizon past the longest run": st.floats(100, 1e300, exclude_min=True).map(
        lambda years: _top("years", years)
    ),
}
SWEEP_TARGETS = {c.name: targets(c, SWEEP_SITES) for c in CATEGORIES}
SWEEP_CATEGORIES = [c.name for c in CATEGORIES if SWEEP_TARGETS[c.name]] + list(SWEEP_BREAKS)


@st.composite
def broken_sweeps(draw, name: str) -> Case:
    """The valid sweep broken by a category of the schema walk or a way only sweeps break."""
    if name in SWEEP_BREAKS:
        case = draw(SWEEP_BREAKS[name])
    else:
        category = next(c for c in CATEGORIES if c.name == name)
        site = draw(st.sampled_from(SWEEP_TARGETS[name]))
        case = draw(category.make(site, SWEEP))
    return replace(case, category=name)


def _write_sweep(folder: Path, spec: Any) -> Path:
    for name, text in SWEEP_BASE_TEXT.items():
        (folder / name).write_text(text, encoding="utf-8")
    file = folder / "sweep.yaml"
    file.write_text(_yaml(spec), encoding="utf-8")
    return file


def test_the_sweep_the_fuzz_breaks_is_valid(tmp_path):
    spec, bases = load_spec(_write_sweep(tmp_path, SWEEP))
    assert set(bases) == {"plain", "policy"} and len(spec.parameters) == 4


@by_category(SWEEP_CATEGORIES)
@settings(max_examples=3, **FUZZ)
@given(data=st.data())
def test_a_broken_sweep_is_refused_before_anything_is_written(folders, category, data):
    case = data.draw(broken_sweeps(category), label="case")
    SEEN["sweep specs"] += 1
    BROKEN_BY[case.category] += 1
    folder = _new(folders)
    file = _write_sweep(folder, case.data)
    error = refused(lambda: load_spec(file), case.category)
    if case.category == "a base file that does not exist":
        assert error.problems == [("base.plain", error.problems[0][1])], error
        assert case.data["base"]["plain"] in error.problems[0][1]
    for path in case.named:
        assert names(error.problems, path), f"{case.category}: {path} not named: {error.lines()}"
    out = folder / "out"
    argv = ["sweep", str(file), "--out", str(out), "--serial", "--quiet"]
    err = refused_by_the_command_line(argv, file, case.named)
    assert nothing_written(out), sorted(out.iterdir())
    if case.category == "a base file that does not exist":
        assert case.data["base"]["plain"] in err


# ============================================================================ a separate process


def test_the_command_run_as_a_program_refuses_without_a_traceback(tmp_path):
    """A handful of the inputs above through ``python -m simulation.cli``, in parallel: exit
    2, the field or file named, no traceback (what a user at a terminal sees)."""
    scenario = copy.deepcopy(BASES["combined_and_returns_agreement"])
    scenario["appeals"]["judges_fte"] = True
    scenario["policies"]["offshore"]["start_date"] = 0
    sweep_spec = {**copy.deepcopy(SWEEP), "points": True, "seed": -1}
    inputs = {
        "fields.yaml": (
            _yaml(scenario).encode(),
            ["appeals.judges_fte", "policies.offshore.start_date"],
        ),
        "bytes.yaml": (b"\x00\xff\xfe garbage \x80", ["bytes.yaml: not UTF-8 text"]),
        "deep.yaml": ((NESTINGS["lists"](50_000) + "\n").encode(), ["nested more than"]),
        "tag.yaml": (b"name: !!python/object/apply:os.system ['echo fuzz']\n", ["line 1"]),
        "laughs.yaml": (_laughs(9, mapping=False), ["more than 200,000 keys"]),
    }
    processes = {}
    for name, (content, _) in inputs.items():
        file = tmp_path / name
        file.write_bytes(content)
        processes[name] = subprocess.Popen(
            [sys.executable, "-m", "simulation.cli", "validate", str(file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    _write_sweep(tmp_path, sweep_spec)
    out = tmp_path / "out"
    processes["sweep.yaml"] = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulation.cli",
            "sweep",
            str(tmp_path / "sweep.yaml"),
            "--out",
            str(out),
            "--serial",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    inputs["sweep.yaml"] = (
        b"",
        ["points: must be a number, got true", "seed: must be >= 0, got -1"],
    )
    for name, process in processes.items():
        SEEN["inputs to a separate process"] += 1
        _, err = process.communicate(timeout=60)
        assert process.returncode == 2, f"{name}: exit {process.returncode}: {err}"
        assert "Traceback" not in err, err
        for expected in inputs[name][1]:
            assert expected in err, f"{name}: {expected!r} not in {err}"
    assert nothing_written(out)


# ============================================================================ regressions
# Bugs the fuzz found, each as the smallest input that showed it.


def _scenario_with(path: str, value: Any) -> dict:
    data = copy.deepcopy(BASES["combined_and_returns_agreement"])
    return _set(data, tuple(path.split(".")), value)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"points": True}, "points"),
        ({"replications": True}, "replications"),
        ({"seed": False}, "seed"),
        ({"years": True}, "years"),
        (
            {"parameters": {"appeals.lodged_share": {"low": False, "high": 0.9}}},
            "parameters.appeals.lodged_share.low",
        ),
        (
            {"parameters": {"appeals.lodged_share": {"values": [True, 0.5]}}},
            "parameters.appeals.lodged_share.values.0",
        ),
        (
            {
                "parameters": {
                    "after_refusal.reentry_share": {
                        "low": 0,
                        "high": 2,
                        "distribution": "triangular",
                        "mode": True,
                    }
                }
            },
            "parameters.after_refusal.reentry_share.mode",
        ),
    ],
    ids=["points", "replications", "seed", "years", "low", "values", "mode"],
)
def test_a_sweep_refuses_yes_no_for_its_numbers(tmp_path, change, named):
    """Was accepted: pydantic read true as 1 (one point, one replication, a one-year run) and
    false as 0 (a range from 0)."""
    error = refused(
        lambda: load_spec(_write_sweep(tmp_path, {**SWEEP, **change})), named, Counter()
    )
    assert (
        named,
        "must be a number, got "
        + ("false" if "seed" in named or "low" in named else "true")
        + " (a yes/no value)",
    ) in error.problems


@pytest.mark.parametrize("years", [1000, math.inf, math.nan])
def test_a_sweep_refuses_a_horizon_no_run_can_have(tmp_path, years):
    """Was accepted by load_spec (1000 and infinity; a run then failed when it started)."""
    error = refused(
        lambda: load_spec(_write_sweep(tmp_path, {**SWEEP, "years": years})), "years", Counter()
    )
    assert [p for p, _ in error.problems] == ["years"], error


@pytest.mark.parametrize("end", ["low", "high", "mode", "values"])
@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_sweep_refuses_a_range_end_that_is_not_a_finite_number_at_that_end(tmp_path, end, value):
    """Was named only at the parameter, as the scenario's refusal of the value in a base."""
    space = {"low": 0.1, "high": 0.4, "distribution": "triangular", "mode": 0.3}
    space = {"values": [0.2, value]} if end == "values" else {**space, end: value}
    spec = copy.deepcopy(SWEEP)
    spec["parameters"]["after_refusal.reentry_share"] = space
    error = refused(lambda: load_spec(_write_sweep(tmp_path, spec)), end, Counter())
    where = f"parameters.after_refusal.reentry_share.{end}" + (".1" if end == "values" else "")
    assert error.problems == [(where, "Input should be a finite number, got " + repr(value))]


def test_a_sampler_that_needs_ranges_names_the_sampler(tmp_path):
    """Was a problem without a field: '... sobol sampler needs ranges, not value lists'."""
    error = refused(
        lambda: load_spec(_write_sweep(tmp_path, {**SWEEP, "sampler": "sobol"})), "sobol", Counter()
    )
    assert error.problems == [
        ("sampler", "the sobol sampler needs ranges, not value lists (decisions.caseworkers_fte)")
    ]


def test_a_missing_base_file_is_named_by_its_entry(tmp_path):
    """Was named only by the missing file's resolved path, not the sweep's entry."""
    spec = {**SWEEP, "base": {"plain": "plain.yaml", "gone": "../nowhere/gone.yaml"}}
    error = refused(lambda: load_spec(_write_sweep(tmp_path, spec)), "missing base", Counter())
    assert error.origin == str(tmp_path / "sweep.yaml")
    assert error.problems == [
        ("base.gone", "no such file: ../nowhere/gone.yaml (paths are relative to the sweep file)")
    ]


def test_a_dated_share_of_a_reentry_rule_must_give_its_value_from_the_start():
    """Was accepted: the check that a dated schedule starts by the start date did not look
    inside lists, so a re-entry rule's share took its first value before its first date."""
    data = copy.deepcopy(BASES["history_with_lists"])
    data["after_refusal"]["reentry_rules"][0]["share"] = {dt.date(2024, 1, 1): 0.2}
    error = refused(lambda: Scenario.from_dict(data), "reentry rule", Counter())
    assert error.problems == [
        (
            "after_refusal.reentry_rules.0.share",
            "first date 2024-01-01 is after start_date 2023-01-01: give the value from the start",
        )
    ]


@pytest.mark.parametrize("folder", ["''", ".", "/"])
def test_extending_or_sweeping_a_folder_names_the_entry(tmp_path, folder):
    """Was "<folder>: cannot read the file: Is a directory", naming neither the file with
    ``extends:`` nor the sweep's ``base:`` entry."""
    file = tmp_path / "scenario.yaml"
    file.write_text(f"extends: {folder}\nname: x\n")
    error = refused(lambda: Scenario.from_yaml(file), "extends", Counter())
    assert error.origin == str(file)
    assert error.problems == [
        ("extends", f"{yaml.safe_load(folder)!r} is a folder, not a scenario file")
    ]
    spec = {**SWEEP, "base": {"plain": "plain.yaml", "here": yaml.safe_load(folder)}}
    error = refused(lambda: load_spec(_write_sweep(tmp_path, spec)), "base", Counter())
    assert error.problems == [
        ("base.here", f"{yaml.safe_load(folder)!r} is a folder, not a scenario file")
    ]


# Found by the fuzzing, fixed in simulation/core/schedules.py and simulation/cli.py.


@pytest.mark.parametrize("value", [dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, 10, 30)])
def test_a_date_with_a_time_of_day_is_refused_not_a_traceback(value):
    """``start_date: 2026-01-01 10:30:00`` in a file, or a datetime in Python, gave
    "TypeError: can't compare datetime.datetime to datetime.date"."""
    data = _scenario_with("start_date", value)
    error = refused(lambda: Scenario.from_dict(data), "datetime", Counter())
    assert names(error.problems, "start_date")


def test_a_count_too_large_for_a_float_is_refused_not_a_traceback():
    """``supported_people: 1`` and 400 zeros gave "OverflowError: int too large to convert
    to float" while the message saying it is over its limit was being written."""
    data = _scenario_with("initial_state.supported_people", 10**400)
    error = refused(lambda: Scenario.from_dict(data), "10**400", Counter())
    assert names(error.problems, "initial_state.supported_people")


@pytest.mark.parametrize(
    "out",
    [
        "out",
        "new/out",
    ],
)
def test_a_refused_input_leaves_no_out_directory_behind(tmp_path, out):
    """The command line made --out (to check it can write there) before reading the input,
    and left it, empty, when the input was refused; it now removes it, and the parents it
    made for it (``new`` of ``new/out``)."""
    file = tmp_path / "broken.yaml"
    file.write_text(_yaml(_scenario_with("appeals.judges_fte", True)))
    code, err = cli("run", str(file), "--out", str(tmp_path / out), "--quiet")
    assert code == 2 and "appeals.judges_fte" in err
    assert [p.name for p in tmp_path.iterdir()] == ["broken.yaml"]


# ============================================================================ the count

#: Fuzz tests, and the fewest inputs each makes: one per way of breaking (hypothesis stops
#: early when it has tried every input a strategy can make, e.g. a single fixed input).
FUZZ_TESTS = {
    "scenarios with a broken field": len(SCENARIO_CATEGORIES),
    "scenarios broken in several places": 50,
    "overrides": len([name for name, found in OVERRIDES.items() if found]),
    "scenario files with a broken field (command line)": len(SCENARIO_CATEGORIES),
    "malformed files": len(TEXTS),
    "sweep specs": len(SWEEP_CATEGORIES),
    "inputs to a separate process": 6,
}


def test_zz_the_fuzz_covered_enough_inputs():
    """Runs last (by name, in file order): at least MINIMUM_INPUTS malformed inputs, none
    giving a traceback, a hang or an acceptance. Run alone, it has nothing to count."""
    ran = {name: SEEN[name] for name in FUZZ_TESTS if SEEN[name]}
    if not ran:
        pytest.skip("run with the fuzz tests of this file")
    total = sum(ran.values())
    print(
        f"\nfuzz: {total} malformed inputs, {SEEN['tracebacks']} tracebacks, "
        f"{SEEN['hangs']} hangs, {SEEN['accepted']} accepted ("
        + ", ".join(f"{name}: {count}" for name, count in ran.items())
        + ")"
    )
    print("fuzz: broken by " + ", ".join(f"{k} {n}" for k, n in sorted(BROKEN_BY.items())))
    assert (SEEN["tracebacks"], SEEN["hangs"], SEEN["accepted"]) == (0, 0, 0)
    for name, count in ran.items():
        assert count >= FUZZ_TESTS[name], (name, count)
    if len(ran) == len(FUZZ_TESTS):
        assert total >= MINIMUM_INPUTS
