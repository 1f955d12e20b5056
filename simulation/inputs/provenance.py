"""Where a scenario's figures come from and how uncertain they are.

Both side tables of a scenario file are keyed by the dotted path of the field they describe, so
the typed model stays plain numbers while every number can carry its reference::

    sources:
      accommodation.hotels.cost_per_person_night_gbp:
        kind: published
        publisher: UK Parliament Home Affairs Committee
        title: Asylum accommodation report
        date: 2025-10-27
        data_key: hotel_cost_ppn_hac_2025
    uncertainty:
      accommodation.hotels.cost_per_person_night_gbp: {low: 119, high: 170}

A source of kind ``assumption`` or ``guess`` says so in its ``note``; a ``fitted`` value names
what it was fitted to.

A value set over the one a file cites (an extending file or a composition that changes it
without citing it, :meth:`Scenario.with_overrides`, a sweep point) no longer is the cited figure,
so its entry becomes kind ``override``: the note says who set it ("override by the user", "set
by the sweep") and what it replaces, and ``replaces`` keeps the value and source it replaced.
:func:`overridden_sources` works this out on plain mappings, for every way of setting a value.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import paths

CitedKind = Literal["published", "derived", "assumption", "guess", "fitted"]
SourceKind = Literal["published", "derived", "assumption", "guess", "fitted", "override"]

#: Who set an overriding value, the start of its source's note.
OVERRIDE_BY_USER = "override by the user"
SET_BY_SWEEP = "set by the sweep"
SET_BY_CALIBRATION = "set by the calibration search"
SET_BY_BREAK_EVEN = "set by the break-even search"


class Citation(BaseModel):
    """Where a figure comes from: a reference, or what kind of choice it is."""

    model_config = ConfigDict(extra="forbid")

    kind: CitedKind = Field(
        description="published: read off the source; derived: computed from published figures "
        "(say how in note); assumption: a modelling choice; guess: no source, to be varied; "
        "fitted: estimated by calibration"
    )
    publisher: str | None = None
    title: str | None = None
    date: str | None = Field(None, description="publication date, as precise as known")
    url: str | None = None
    data_key: str | None = Field(
        None, description="key of the figure in the shared UK figures table, if it is there"
    )
    note: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        return value.isoformat() if isinstance(value, datetime.date) else value

    @model_validator(mode="after")
    def _says_enough(self) -> Citation:
        if self.kind in ("published", "derived") and not (self.publisher and self.title):
            raise ValueError(f"a {self.kind} source needs a publisher and a title")
        if self.kind != "published" and not self.note:
            raise ValueError(f"a source of kind '{self.kind}' needs a note saying how")
        return self


class Replaced(BaseModel):
    """What an override replaced: the value before it and that value's citation (none if no
    source of its own described it, only sources of its parts)."""

    model_config = ConfigDict(extra="forbid")

    value: Any = None
    source: Citation | None = None


class Source(Citation):
    """The reference for one figure (or every figure under one path), or, of kind override,
    what set the figure over its cited value."""

    kind: SourceKind = Field(  # type: ignore[assignment]
        description="published: read off the source; derived: computed from published figures "
        "(say how in note); assumption: a modelling choice; guess: no source, to be varied; "
        "fitted: estimated by calibration; override: set over the cited value (the note says "
        "by whom, replaces gives what it replaced)"
    )
    replaces: Replaced | None = Field(
        None, description="for an override: the value it replaced and that value's citation"
    )

    @model_validator(mode="after")
    def _replaces_only_overrides(self) -> Source:
        if self.replaces is not None and self.kind != "override":
            raise ValueError("replaces applies to a source of kind 'override' only")
        return self


class Uncertainty(BaseModel):
    """A plausible range for one scalar figure, for sensitivity runs and sweeps."""

    model_config = ConfigDict(extra="forbid")

    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)
    distribution: Literal["uniform", "triangular", "loguniform"] = "uniform"
    mode: float | None = Field(None, description="most likely value (triangular only)")
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Uncertainty:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.distribution == "triangular":
            if self.mode is None or not self.low <= self.mode <= self.high:
                raise ValueError("a triangular range needs a mode between low and high")
        elif self.mode is not None:
            raise ValueError("mode applies to triangular ranges only")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform range needs low > 0")
        return self


# ------------------------------------------------------------------ values set over citations

_MISSING = object()
_SIDE_TABLES = ("sources", "uncertainty", "extends")
_WHAT_IT_WAS = {
    "assumption": "an assumption",
    "guess": "a guess",
    "fitted": "a fitted value",
}


def _plain(entry: Citation | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    if isinstance(entry, Citation):
        return entry.model_dump(mode="python", exclude_none=True)
    return {key: value for key, value in entry.items() if value is not None}


def _is_schedule(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(k, datetime.date) for k in value)
    )


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, bool) != isinstance(new, bool):
        return False
    try:
        return bool(old == new)
    except Exception:  # values that do not compare (arrays, say) count as changed
        return False


def shown(value: Any) -> str:
    """A value as a reader would write it: 75,446; 0.2014; 2026-04-01; a schedule as
    'date: value' pairs."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{shown(k)}: {shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def citation(source: Source | Mapping[str, Any]) -> str:
    """What a source says a value is, as the end of a sentence: 'from <publisher, title, date,
    url>' for a published figure, 'derived from <...>' for a derived one, 'an assumption', 'a
    guess' or 'a fitted value' otherwise."""
    entry = _plain(source) or {}
    kind = entry.get("kind")
    reference = ", ".join(
        str(entry[part]) for part in ("publisher", "title", "date", "url") if entry.get(part)
    )
    if kind == "derived":
        return f"derived from {reference}"
    if kind in _WHAT_IT_WAS or not reference:
        return _WHAT_IT_WAS.get(str(kind), f"a value of kind {kind}")
    return f"from {reference}"


def override_source(
    old_value: Any, old_source: Source | Mapping[str, Any] | None, how: str, covering: str = ""
) -> dict[str, Any]:
    """The source entry of a value set by ``how`` over ``old_value``, which ``old_source``
    described (the source of the ancestor path ``covering``, if it is not the value's own).
    An override of an override replaces what the first one replaced: the cited figure."""
    entry = _plain(old_source)
    if entry is not None and entry.get("kind") == "override" and entry.get("replaces"):
        replaced = entry["replaces"]
        old_value, entry = replaced.get("value"), _plain(replaced.get("source"))
        covering = ""
    if entry is None:
        what = "whose parts are cited separately"
    else:
        what = citation(entry) + (f" (the source of {covering})" if covering else "")
    return {
        "kind": "override",
        "note": f"{how}; replaces {shown(old_value)}, {what}",
        "replaces": {"value": old_value, "source": entry},
    }


def _nearest_ancestor(path: str, sources: Mapping[str, Any]) -> str | None:
    parts = path.split(".")
    for n in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:n]) in sources:
            return ".".join(parts[:n])
    return None


def overridden_sources(
    data: Mapping[str, Any],
    changes: Mapping[str, Any],
    how: str,
    cited: Iterable[str] = (),
) -> dict[str, Any]:
    """The ``sources:`` table of scenario mapping ``data`` once the values at the dotted paths
    of ``changes`` are set, by ``how`` ("override by the user", ...).

    A value that changes and that a source describes (its own, one above it, or ones below
    it) gets an override entry in place of the citation; a value set to what it was, a path
    under ``cited`` (the setter gives its own source there) and a value no source describes
    keep their entries, and a value whose parts ``cited`` names loses the entries the setter
    does not give. Sources below a changed value keep describing the parts that did not
    change; the parts that did get overrides of their own.
    """
    sources: dict[str, Any] = dict(data.get("sources") or {})
    own = dict.fromkeys(cited)
    for path, new in changes.items():
        if path.split(".")[0] in _SIDE_TABLES or paths.covers(path, own):
            continue
        try:
            old = paths.get(data, path)
        except paths.PathError:
            old = _MISSING
        if old is not _MISSING and _same(old, new):
            continue
        if any(key.startswith(path + ".") for key in own):  # the setter cites its parts
            for key in [k for k in sources if k == path or k.startswith(path + ".")]:
                del sources[key]
            continue
        for below in [key for key in sources if key.startswith(path + ".")]:
            try:
                new_part = paths.get(new, below[len(path) + 1 :])
            except (paths.PathError, TypeError):
                del sources[below]  # the part is gone: nothing left to cite there
                continue
            old_part = paths.get(data, below)
            if not _same(old_part, new_part):
                sources[below] = override_source(old_part, sources[below], how)
        if path in sources:
            sources[path] = override_source(old, sources[path], how)
        elif (above := _nearest_ancestor(path, sources)) is not None:
            if old is _MISSING:
                sources[path] = {
                    "kind": "override",
                    "note": f"{how}; a value added where the source of {above} describes "
                    "what was there before",
                }
            else:
                sources[path] = override_source(old, sources[above], how, covering=above)
    return sources


def set_points(base: Mapping[str, Any], overlay: Mapping[str, Any], prefix: str = "") -> dict:
    """The dotted paths ``overlay`` sets when merged into ``base`` (nested mappings merged,
    schedules, lists and plain values replaced whole), with their new values; the side tables
    are not values."""
    points: dict[str, Any] = {}
    for key, value in overlay.items():
        if not prefix and key in _SIDE_TABLES:
            continue
        text = key.isoformat() if isinstance(key, datetime.date) else str(key)
        current = base.get(key) if isinstance(base, Mapping) else None
        if (
            isinstance(current, Mapping)
            and isinstance(value, Mapping)
            and not _is_schedule(current)
            and not _is_schedule(value)
        ):
            points.update(set_points(current, value, f"{prefix}{text}."))
        else:
            points[prefix + text] = value
    return points


def mark_overridden(base: Mapping[str, Any], overlay: Mapping[str, Any], how: str) -> dict:
    """A shallow copy of scenario mapping ``base`` whose ``sources:`` say which of its cited
    values ``overlay`` (a mapping to be merged over it) sets without citing them."""
    sources = overridden_sources(
        base, set_points(base, overlay), how, cited=overlay.get("sources") or {}
    )
    merged = dict(base)
    if sources or "sources" in base:
        merged["sources"] = sources
    return merged


def set_source(data: Mapping[str, Any], path: str, how: str) -> dict[str, Any] | None:
    """The source the value at ``path`` of scenario mapping ``data`` gets when ``how`` sets it
    to a new value (a sweep's parameter, say), or None if no source describes it."""
    return overridden_sources(data, {path: _MISSING}, how).get(path)
