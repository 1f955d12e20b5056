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
"""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SourceKind = Literal["published", "derived", "assumption", "guess", "fitted"]


class Source(BaseModel):
    """The reference for one figure (or every figure under one path)."""

    model_config = ConfigDict(extra="forbid")

    kind: SourceKind = Field(
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
    def _says_enough(self) -> Source:
        if self.kind in ("published", "derived") and not (self.publisher and self.title):
            raise ValueError(f"a {self.kind} source needs a publisher and a title")
        if self.kind in ("assumption", "guess", "fitted", "derived") and not self.note:
            raise ValueError(f"a source of kind '{self.kind}' needs a note saying how")
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
