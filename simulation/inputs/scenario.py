"""The scenario: every rate, capacity, cost and starting stock the model uses.

A scenario is a tree of pydantic models that forbid unknown fields and state each quantity's
unit in its name or description. Counts of people include dependants; quantities the Home
Office and the tribunal publish per case (main applicant) say "case" and are turned into
people with ``people_per_case``. Scenarios are read from and written to YAML, can extend one
another, and can be changed by dotted-path overrides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..core import schedules
from ..core.errors import InputError, ScenarioError, problems_from_validation_error
from ..core.schedules import NonNegativeSchedule, ProbabilitySchedule, StrictInputs
from ..core.units import DAYS_PER_YEAR
from ..core.vocabulary import HOUSEHOLDS, ROUTES, Household, Route
from . import files as scenario_files
from . import paths, provenance
from .policy_config import Payment, PolicyConfig, validate_policies
from .provenance import Source, Uncertainty

__all__ = ["HOUSEHOLDS", "MAX_HORIZON_YEARS", "ROUTES", "Scenario", "add_years"]

SHARE_TOLERANCE = 1e-6

#: Upper bounds on magnitudes, (limit, reason). A value above one is a slip (a figure per
#: year given per month, zeros too many) and would make a run exhaust memory or overflow;
#: each is far above anything the UK has seen, so no real scenario meets it.
MAX_ARRIVALS_PER_MONTH = (
    10_000_000,
    "120 million a year, about everyone forcibly displaced in the world: UNHCR counted "
    "123 million at the end of 2024",
)
MAX_PEOPLE = (
    10_000_000,
    "more than 50 times the most people ever awaiting an asylum decision in the UK, "
    "175,457 in June 2023",
)
MAX_STAFF = (1_000_000, "about twice the whole UK civil service")
#: The longest run, years: whole-life costs already follow people 30 years past the end.
MAX_HORIZON_YEARS = 100

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0), schedules.at_most(*MAX_PEOPLE)]
ArrivalsSchedule = schedules.schedule(ge=0, limit=MAX_ARRIVALS_PER_MONTH)
PeopleSchedule = schedules.schedule(ge=0, limit=MAX_PEOPLE)
StaffSchedule = schedules.schedule(ge=0, limit=MAX_STAFF)


class Part(StrictInputs):
    """A part of a scenario: unknown fields are errors, values are validated on assignment,
    numbers are never true/false and dates never numbers (:class:`StrictInputs`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RouteArrivals(Part):
    rate_per_month: ArrivalsSchedule = Field(
        description="people arriving by this route per month (including dependants)"
    )
    claim_share: ProbabilitySchedule = Field(description="share of arrivals who claim asylum")
    support_share: Probability = Field(
        description="share of claimants on this route who need Home Office asylum support "
        "(accommodation); unaccompanied children never do, local authorities look after them"
    )
    group_shares: dict[str, ProbabilitySchedule] | None = Field(
        None,
        description="share of this route's claimants in each nationality group (a schedule "
        "per group, every group named, summing to 1 on every date), read at each arrival's "
        "time; none: the groups' own share, the same on every route and date",
    )


class Arrivals(Part):
    """New arrivals by route: small boats, other irregular routes and in-country claims."""

    small_boat: RouteArrivals
    other_irregular: RouteArrivals
    in_country: RouteArrivals


class NationalityGroup(Part):
    """Claimants whose nationalities share a grant rate, appeal success and returnability."""

    share: Probability = Field(
        description="share of claimants in this group, on every route without its own "
        "arrivals.<route>.group_shares"
    )
    grant_rate: ProbabilitySchedule = Field(
        description="probability of a grant at initial decision (grants / substantive decisions)"
    )
    appeal_allowed_rate: ProbabilitySchedule = Field(
        description="probability that an appeal is allowed"
    )
    returnable_share: ProbabilitySchedule = Field(
        description="share of the group whose enforced removal to the home country is "
        "possible; may change on dates (each person keeps one uniform draw and is returnable "
        "while it is below the share of the day)"
    )


class Households(Part):
    """Shares of claimants by household type; they must sum to 1."""

    single_adult: Probability = Field(description="share of claimants who are single adults")
    family_member: Probability = Field(
        description="share of claimants who are adults or children in families"
    )
    unaccompanied_child: Probability = Field(
        description="share of claimants who are unaccompanied children"
    )

    @model_validator(mode="after")
    def _sum_to_one(self) -> Households:
        total = self.single_adult + self.family_member + self.unaccompanied_child
        if abs(total - 1) > SHARE_TOLERANCE:
            raise PydanticCustomError(
                "shares_sum",
                "household shares must sum to 1, they sum to {total}",
                {"total": total},
            )
        return self


class Decisions(Part):
    """Initial decisions: caseworkers serve one queue of claims."""

    caseworkers_fte: StaffSchedule = Field(
        description="asylum decision-making caseworkers, full-time equivalents (rounded to "
        "whole caseworkers)"
    )
    decisions_per_fte_per_month: NonNegativeSchedule = Field(
        description="substantive initial decisions (cases) per caseworker FTE per month"
    )
    withdrawal_rate_per_year: NonNegative = Field(
        description="hazard of withdrawing a claim while waiting, per person per year"
    )
    priority_claims_before: date | None = Field(
        None,
        description="claims made before this date are decided first (e.g. the 'legacy' "
        "backlog of claims before 28 June 2022), until priority_until",
    )
    priority_until: date | None = Field(
        None, description="the date the priority ends (none: it lasts the whole run)"
    )
    fast_track: list[FastTrack] = Field(
        default_factory=list,
        description="claims decided before all others and, when refused, certified with no "
        "in-country appeal; a claim belongs to the first entry it matches",
    )


class FastTrack(Part):
    """Claims decided first and, when refused, certified with no in-country appeal: those
    matching every list given (a list left out matches everyone), made in the window. The UK
    did this for Albanian claims from December 2022 (a dedicated unit; claims certified
    clearly unfounded, so a refusal exhausts appeal rights at once)."""

    name: str = Field(description="a label, e.g. albania_fast_track")
    groups: list[str] | None = Field(None, min_length=1, description="nationality groups")
    routes: list[Route] | None = Field(None, min_length=1, description="arrival routes")
    claims_from: date = Field(description="claims made on or after this date are fast-tracked")
    claims_until: date | None = Field(
        None, description="claims made from this date on are not (none: to the end of the run)"
    )
    certified_share: Probability = Field(
        description="share of fast-tracked refusals certified clearly unfounded: appeal rights "
        "are exhausted at once, with no in-country appeal"
    )

    @model_validator(mode="after")
    def _window(self) -> FastTrack:
        if self.claims_until is not None and self.claims_until <= self.claims_from:
            raise ValueError("claims_until must be after claims_from")
        return self


class Appeals(Part):
    """Appeals to the First-tier Tribunal against refusals."""

    lodged_share: ProbabilitySchedule = Field(description="share of refused people who appeal")
    judges_fte: StaffSchedule = Field(
        description="tribunal judge capacity hearing asylum appeals, full-time equivalents "
        "(rounded to whole judges)"
    )
    determinations_per_judge_per_day: NonNegativeSchedule = Field(
        description="appeals (cases) determined per judge FTE per calendar day"
    )


class RemovalClass(Part):
    """People removed before everyone after them in ``removal_priority``: those matching every
    list given (a list left out matches everyone)."""

    name: str = Field(description="a label for the class, e.g. returns_agreement_arrivals")
    groups: list[str] | None = Field(None, min_length=1, description="nationality groups")
    routes: list[Route] | None = Field(None, min_length=1, description="arrival routes")
    households: list[Household] | None = Field(None, min_length=1, description="household types")
    claimed_from: date | None = Field(
        None,
        description="only people who first claimed on or after this date (recent arrivals; a "
        "further submission or a return to the UK keeps the first claim's date; none: "
        "whenever they claimed)",
    )
    share_of_removals: Probability | None = Field(
        None,
        description="share of removal starts given to this class while it has people waiting; "
        "set on every class or none (none: strict priority in list order); everyone else "
        "gets the rest",
    )


class ReentryRule(Part):
    """Re-entry for some kinds of exit and some nationality groups (a list left out: all)."""

    kinds: list[Literal["enforced", "voluntary", "from_policy"]] | None = Field(
        None,
        min_length=1,
        description="how people left: enforced removal, voluntary departure, or from a place "
        "a policy holds abroad (a return hub)",
    )
    groups: list[str] | None = Field(None, min_length=1, description="nationality groups")
    share: ProbabilitySchedule | None = Field(
        None, description="share who come back (may change on dates, read at the exit date)"
    )
    mean_delay_days: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="mean time until they come back, days"
    )

    @model_validator(mode="after")
    def _sets_something(self) -> ReentryRule:
        if self.share is None and self.mean_delay_days is None:
            raise ValueError("a rule must set share or mean_delay_days (or both)")
        return self


class AfterRefusal(Part):
    """People whose appeal rights are exhausted (ARE): competing ways out of the system."""

    enforced_removals_per_month: NonNegativeSchedule = Field(
        description="capacity for enforced removals of ARE people, people per month"
    )
    reentry_rules: list[ReentryRule] = Field(
        default_factory=list,
        description="re-entry share and delay for some kinds of exit and groups; a later rule "
        "overrides an earlier one for what it names",
    )
    removal_teams: StaffSchedule | None = Field(
        None,
        description="removals that can be under way at once (rounded to a whole number); the "
        "monthly capacity is shared among them (none: one at a time, the capacity as a single "
        "stream)",
    )
    removal_priority: list[RemovalClass] = Field(
        default_factory=list,
        description="classes of returnable people removed first, in this order; first come "
        "first served within a class and among everyone else, who come last",
    )
    voluntary_departure_rate_per_year: NonNegativeSchedule = Field(
        description="hazard of departing voluntarily, per ARE person per year (may change on dates)"
    )
    further_submission_rate_per_year: NonNegative = Field(
        description="hazard of lodging further submissions (back to the decision queue), per year"
    )
    absconding_rate_per_year: NonNegative = Field(
        description="hazard of losing contact with the Home Office, per ARE person per year"
    )
    reentry_share: ProbabilitySchedule = Field(
        description="share of people removed or departed who come back later as new claimants "
        "(may change on dates; read at the date they left)"
    )
    reentry_mean_delay_days: float = Field(
        gt=0, allow_inf_nan=False, description="mean time until such a return, days"
    )


class Support(Part):
    """Who receives asylum support, and for how long."""

    move_on_days: NonNegative = Field(
        description="days a granted person keeps support before having to leave it"
    )
    support_end_days_after_refusal: NonNegative = Field(
        description="days after appeal rights are exhausted until a single adult's support "
        "ends; families with children keep support until they leave"
    )


class AccommodationType(Part):
    capacity_people: PeopleSchedule = Field(description="places available, people")
    cost_per_person_night_gbp: NonNegativeSchedule
    allowance_per_person_week_gbp: NonNegative = Field(
        description="cash support paid to each resident, GBP per person per week"
    )


class OverflowAccommodation(Part):
    """Hotels take everyone the cheaper types cannot: they have no capacity limit."""

    cost_per_person_night_gbp: NonNegativeSchedule
    allowance_per_person_week_gbp: NonNegative
    paid_beds_per_occupant: schedules.schedule(
        ge=1, limit=(100, "no hotel contract pays for 100 beds per person housed")
    ) = Field(
        description="hotel beds paid for per person housed (contracts pay for empty beds too); "
        "multiplies the hotel bill"
    )


class Accommodation(Part):
    """Places are filled cheapest first; hotels take the overflow."""

    dispersal: AccommodationType
    large_sites: AccommodationType
    hotels: OverflowAccommodation


#: How a stage's staff are costed: the capacity on each date, or each case it decides.
StaffCosting = Literal["fixed", "per_case"]


class UnitCosts(Part):
    """Unit costs, and whether caseworkers and judges are paid as capacity or per case
    (docs/costs.md)."""

    caseworker_cost_per_fte_year_gbp: NonNegative
    tribunal_cost_per_case_gbp: NonNegative = Field(
        description="cost to the tribunal of determining one appeal case, GBP"
    )
    enforced_removal_cost_per_person_gbp: NonNegative
    voluntary_return_cost_per_person_gbp: NonNegative = Field(
        description="average cost to the Home Office per voluntary departure (assisted and not)"
    )
    decision_costs: StaffCosting = Field(
        "fixed",
        description="how caseworkers are costed: fixed, the FTEs employed on each date are "
        "paid whatever work they do; per_case, each initial decision costs an FTE-year over "
        "the cases an FTE decides in a year (12 x decisions_per_fte_per_month), so a claim "
        "avoided saves its decision",
    )
    appeal_costs: StaffCosting = Field(
        "per_case",
        description="how the tribunal is costed: per_case, each appeal determined costs "
        "tribunal_cost_per_case_gbp; fixed, the judge capacity on each date is paid "
        "(judges_fte x determinations_per_judge_per_day cases a day at that cost) whatever "
        "work it does",
    )


class InitialState(Part):
    """The stocks on the start date."""

    awaiting_decision_people: Count
    awaiting_over_12_months_people: Count = Field(
        description="of those awaiting a decision, people who claimed more than 12 months ago"
    )
    awaiting_oldest_claim_days: float = Field(
        gt=0, allow_inf_nan=False, description="age of the oldest pending claim, days"
    )
    appeals_pending_people: Count
    appeals_oldest_lodged_days: float = Field(
        gt=0, allow_inf_nan=False, description="age of the oldest pending appeal, days"
    )
    are_in_uk_people: Count = Field(
        description="people with appeal rights exhausted still in the UK and in contact"
    )
    supported_people: Count = Field(description="people receiving asylum support")
    are_supported_people: Count = Field(
        description="of those supported, people with appeal rights exhausted (families)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> InitialState:
        problems = []
        if self.awaiting_over_12_months_people > self.awaiting_decision_people:
            problems.append("awaiting_over_12_months_people exceeds awaiting_decision_people")
        if self.awaiting_over_12_months_people > 0 and self.awaiting_oldest_claim_days <= 365:
            problems.append("awaiting_oldest_claim_days must exceed 365 when claims are older")
        if self.are_supported_people > self.are_in_uk_people:
            problems.append("are_supported_people exceeds are_in_uk_people")
        if self.are_supported_people > self.supported_people:
            problems.append("are_supported_people exceeds supported_people")
        in_process = self.awaiting_decision_people + self.appeals_pending_people
        if self.supported_people - self.are_supported_people > in_process:
            problems.append(
                "supported_people minus are_supported_people exceeds the people awaiting a "
                "decision or an appeal"
            )
        if problems:
            raise PydanticCustomError("inconsistent_stocks", "; ".join(problems))
        return self


class Scenario(Part):
    """A complete scenario: the UK system on a start date and its rates until an end date."""

    name: str
    description: str = ""
    start_date: date
    end_date: date
    people_per_case: float = Field(
        ge=1, allow_inf_nan=False, description="people (with dependants) per case"
    )
    discount_rate_per_year: Probability = Field(description="social discount rate per year")
    arrivals: Arrivals
    nationality_groups: dict[str, NationalityGroup] = Field(min_length=1)
    households: Households
    decisions: Decisions
    appeals: Appeals
    after_refusal: AfterRefusal
    support: Support
    accommodation: Accommodation
    costs: UnitCosts
    initial_state: InitialState
    policies: dict[str, SerializeAsAny[PolicyConfig]] = Field(
        default_factory=dict,
        description="the policies switched on, by registered name (leave one out, or set "
        "enabled: false, to switch it off)",
    )
    sources: dict[str, Source] = Field(default_factory=dict)
    uncertainty: dict[str, Uncertainty] = Field(default_factory=dict)

    @field_validator("policies", mode="before")
    @classmethod
    def _registered_policies(cls, value: Any) -> dict[str, PolicyConfig]:
        try:
            return validate_policies(value)
        except InputError as exc:
            raise PydanticCustomError(
                "scenario_problems",
                "{count} problem(s) in the policies",
                {"count": len(exc.problems), "problems": exc.problems},
            ) from None

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        problems: list[tuple[str, str]] = []
        if self.end_date <= self.start_date:
            problems.append(
                ("end_date", f"must be after start_date ({self.start_date.isoformat()})")
            )
        elif self.end_date > add_years(self.start_date, MAX_HORIZON_YEARS):
            problems.append(
                (
                    "end_date",
                    f"must be at most {MAX_HORIZON_YEARS} years after start_date (by "
                    f"{add_years(self.start_date, MAX_HORIZON_YEARS).isoformat()}), the "
                    f"longest run, got {self.end_date.isoformat()}",
                )
            )
        problems += _whole_server_problems(self)
        problems += _priority_problems(self)
        total = sum(g.share for g in self.nationality_groups.values())
        if abs(total - 1) > SHARE_TOLERANCE:
            problems.append(("nationality_groups", f"shares must sum to 1, they sum to {total:g}"))
        problems += _route_mix_problems(self)
        named = [
            ("removal_priority", index, rule.groups)
            for index, rule in enumerate(self.after_refusal.removal_priority)
        ] + [
            ("reentry_rules", index, rule.groups)
            for index, rule in enumerate(self.after_refusal.reentry_rules)
        ]
        shares = [c.share_of_removals for c in self.after_refusal.removal_priority]
        if any(share is not None for share in shares):
            if any(share is None for share in shares):
                problems.append(
                    (
                        "after_refusal.removal_priority",
                        "share_of_removals must be set on every class or on none",
                    )
                )
            elif sum(shares) > 1 + SHARE_TOLERANCE:
                problems.append(
                    (
                        "after_refusal.removal_priority",
                        f"shares of removals must sum to at most 1, they sum to {sum(shares):g}",
                    )
                )
        named = [(f"after_refusal.{table}", index, groups) for table, index, groups in named]
        named += [
            ("decisions.fast_track", index, rule.groups)
            for index, rule in enumerate(self.decisions.fast_track)
        ]
        for table, index, groups in named:
            for group in groups or []:
                if group not in self.nationality_groups:
                    problems.append(
                        (
                            f"{table}.{index}.groups",
                            f"unknown nationality group {group!r}; the scenario has "
                            f"{', '.join(self.nationality_groups)}",
                        )
                    )
        for name in self.nationality_groups:
            if not name.isidentifier():
                problems.append(
                    (f"nationality_groups.{name}", "a group name must be a plain identifier")
                )
        households = self.households
        state = self.initial_state
        if (
            households.single_adult + households.family_member == 0
            and state.supported_people > state.are_supported_people
        ):
            problems.append(
                (
                    "initial_state.supported_people",
                    "every claimant is an unaccompanied child (households), so nobody awaiting "
                    "a decision or an appeal can receive Home Office support",
                )
            )
        data = self.model_dump(exclude={"sources", "uncertainty"})
        for path, value in _dated_schedules(data):
            first = schedules.first_date(value)
            if first is not None and first > self.start_date:
                problems.append(
                    (
                        path,
                        f"first date {first.isoformat()} is after start_date "
                        f"{self.start_date.isoformat()}: give the value from the start",
                    )
                )
        for name, config in self.policies.items():
            for path, message in config.problems_with(self):
                problems.append((".".join(p for p in ("policies", name, path) if p), message))
            problems += _policy_date_problems(self, name, config)
        problems += _provenance_problems(data, self.sources, self.uncertainty)
        if problems:
            raise PydanticCustomError(
                "scenario_problems",
                "{count} problem(s) in the scenario",
                {"count": len(problems), "problems": problems},
            )
        return self

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], origin: str = "scenario", check_ranges: bool = True
    ) -> Scenario:
        """Validate a mapping, raising ScenarioError listing every problem by field path.

        With ``check_ranges`` each uncertainty range is also checked: both its ends must be
        values the field accepts.
        """
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(origin, problems_from_validation_error(exc, cls)) from None
        if check_ranges:
            problems = scenario._range_problems()
            if problems:
                raise ScenarioError(origin, problems)
        return scenario

    def _range_problems(self) -> list[tuple[str, str]]:
        data = self.to_dict()
        problems = []
        for path, bounds in self.uncertainty.items():
            for end in ("low", "high"):
                value = getattr(bounds, end)
                try:
                    type(self).model_validate(paths.set_values(data, {path: value}))
                except ValidationError as exc:
                    found = problems_from_validation_error(exc, type(self))
                    reasons = [m for p, m in found if p == path] or [m for _, m in found]
                    problems.append((f"uncertainty.{path}.{end}", "; ".join(reasons)))
        return problems

    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        """Load a scenario file (following ``extends:``) and validate it."""
        data = scenario_files.load(path)
        return cls.from_dict(data, origin=str(path))

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping (dates as dates) that :meth:`from_dict` accepts back."""
        return self.model_dump(mode="python", exclude_none=False)

    def to_yaml(self, path: str | Path) -> None:
        """Write the full, resolved scenario as YAML."""
        scenario_files.dump(self.to_dict(), path)

    def with_overrides(
        self, overrides: Mapping[str, Any], by: str = provenance.OVERRIDE_BY_USER
    ) -> Scenario:
        """A copy with the fields at the given dotted paths set to new values. A changed value
        that a source described gets a source of kind override instead, saying it was set
        ``by`` ("override by the user", "set by the sweep") and what it replaced.

        >>> scenario.with_overrides({"appeals.lodged_share": 0.6})  # doctest: +SKIP
        """
        data = self.to_dict()
        problems = []
        for path in overrides:
            try:
                paths.get(data, path)
            except paths.PathError as exc:
                problems.append((path, exc.reason))
        if problems:
            raise ScenarioError("overrides", problems)
        changed = paths.set_values(data, overrides)
        changed["sources"] = provenance.overridden_sources(data, overrides, by)
        return type(self).from_dict(changed, origin="overrides", check_ranges=False)

    def __add__(self, other: Scenario | Mapping[str, Any] | str | Path) -> Scenario:
        """Compose: ``baseline + "policy.yaml"``; later wins, nested fields deep-merged. A
        value the later one changes without citing it gets a source of kind override."""
        by = provenance.OVERRIDE_BY_USER
        if isinstance(other, Scenario):
            overlay = other.model_dump(mode="python", exclude_unset=True)
            by = f"{by} (scenario {other.name!r})"
        elif isinstance(other, str | Path):
            overlay = scenario_files.load(other)
            by = f"{by} in {Path(other).name}"
        else:
            overlay = dict(other)
        base = provenance.mark_overridden(self.to_dict(), overlay, by)
        merged = scenario_files.deep_merge(base, overlay)
        return type(self).from_dict(merged, origin="composition")

    # ----------------------------------------------------------------- derived facts

    @property
    def horizon_days(self) -> int:
        return (self.end_date - self.start_date).days

    def with_years(self, years: float) -> Scenario:
        """The same scenario run for ``years`` years from its start date (more than 0, at
        most :data:`MAX_HORIZON_YEARS`)."""
        allowed = f"a number of years more than 0 and at most {MAX_HORIZON_YEARS}"
        if isinstance(years, bool) or not isinstance(years, int | float):
            raise ScenarioError("years", [("years", f"must be {allowed}, got {years!r}")])
        if not 0 < years <= MAX_HORIZON_YEARS:  # also refuses NaN
            raise ScenarioError(
                "years", [("years", f"must be {allowed} (the longest run), got {years!r}")]
            )
        end = add_years(self.start_date, years)
        problems = []
        for name, config in self.policies.items():
            if config.enabled and config.start_date >= end:
                days = (config.start_date - self.start_date).days + 1
                needed = math.ceil(days / DAYS_PER_YEAR * 100) / 100
                problems.append(
                    (
                        "years",
                        f"a run of {years:g} years ends on {end.isoformat()}, before "
                        f"policies.{name}.start_date ({config.start_date.isoformat()}), so "
                        f"the policy would never act: run for at least {needed:g} years, or "
                        "leave the policy out",
                    )
                )
        if problems:
            raise ScenarioError("years", problems)
        return self.with_overrides({"end_date": end})


def add_years(start: date, years: float) -> date:
    """The date ``years`` after ``start``: whole years by the calendar, fractions by days."""
    whole = int(years)
    if whole == years:
        try:
            return start.replace(year=start.year + whole)
        except ValueError:  # 29 February
            return start.replace(year=start.year + whole, day=28)
    return start + timedelta(days=round(years * DAYS_PER_YEAR))


def _whole_server_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Capacities served by whole servers: a value above 0 that rounds to 0 would silently
    stop the stage, so it is refused (0 itself stops it on purpose)."""
    problems = []
    for path, value, what in (
        ("decisions.caseworkers_fte", scenario.decisions.caseworkers_fte, "caseworkers"),
        ("appeals.judges_fte", scenario.appeals.judges_fte, "judges"),
        ("after_refusal.removal_teams", scenario.after_refusal.removal_teams, "removal teams"),
    ):
        steps = value if isinstance(value, dict) else {None: value}
        for when, amount in steps.items():
            if amount is not None and amount > 0 and round(amount) == 0:
                where = path if when is None else f"{path}.{when.isoformat()}"
                problems.append(
                    (
                        where,
                        f"{amount:g} rounds to 0 {what}: the model serves with whole "
                        f"{what} (the value rounded to the nearest whole number), so this "
                        "would stop the stage; give 0 to stop it, or more than 0.5",
                    )
                )
    return problems


def _priority_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """The priority for old claims must be able to act: it needs its cut-off date and must
    end after the run starts and after the cut-off."""
    before = scenario.decisions.priority_claims_before
    until = scenario.decisions.priority_until
    if until is None:
        return []
    path = "decisions.priority_until"
    if before is None:
        return [
            (
                path,
                "has no effect without decisions.priority_claims_before (the claims "
                "decided first); set both or neither",
            )
        ]
    if until <= scenario.start_date:
        return [
            (
                path,
                f"{until.isoformat()} is not after start_date "
                f"({scenario.start_date.isoformat()}): the priority would end before the run "
                "starts; leave both priority fields out for no priority",
            )
        ]
    if until <= before:
        return [
            (
                path,
                f"must be after decisions.priority_claims_before ({before.isoformat()}), got "
                f"{until.isoformat()}: before then every claim waiting was made before the "
                "cut-off, so the priority would change nothing",
            )
        ]
    return []


def _policy_date_problems(
    scenario: Scenario, name: str, config: PolicyConfig
) -> list[tuple[str, str]]:
    """A switched-on policy must start before the run ends, and pay nothing before the run
    starts (costs are counted from the start date, so such a payment would be left out)."""
    problems = []
    start, end = scenario.start_date, scenario.end_date
    if config.enabled and config.start_date >= end:
        problems.append(
            (
                f"policies.{name}.start_date",
                f"{config.start_date.isoformat()} is not before end_date ({end.isoformat()}): "
                "the policy would never act; end the run later or leave the policy out",
            )
        )
    for field_name, value in config.__dict__.items():
        if not isinstance(value, list | Payment):
            continue
        payments = value if isinstance(value, list) else [value]
        for index, payment in enumerate(payments):
            if isinstance(payment, Payment) and payment.date < start:
                where = field_name if not isinstance(value, list) else f"{field_name}.{index}"
                problems.append(
                    (
                        f"policies.{name}.{where}.date",
                        f"{payment.date.isoformat()} is before start_date ({start.isoformat()}):"
                        " costs are counted from the start date, so this payment would be left "
                        "out of them; leave it out of the scenario (it is spent before the run)",
                    )
                )
    return problems


def _route_mix_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Each route's own nationality mix names every group and no other, and sums to 1 on
    the start date and on every later date any of its schedules changes."""
    problems = []
    groups = list(scenario.nationality_groups)
    for route in ROUTES:
        mix = getattr(scenario.arrivals, route).group_shares
        if mix is None:
            continue
        path = f"arrivals.{route}.group_shares"
        unknown = [name for name in mix if name not in groups]
        for name in unknown:
            problems.append(
                (
                    f"{path}.{name}",
                    f"unknown nationality group {name!r}; the scenario has {', '.join(groups)}",
                )
            )
        missing = [name for name in groups if name not in mix]
        if missing:
            problems.append(
                (
                    path,
                    f"must give a share for every nationality group; missing: {', '.join(missing)}",
                )
            )
        if unknown or missing:
            continue
        dates = {scenario.start_date} | {
            d for value in mix.values() if isinstance(value, dict) for d in value
        }
        for when in sorted(d for d in dates if d >= scenario.start_date):
            t = (when - scenario.start_date).days
            total = sum(
                float(schedules.value_at(value, scenario.start_date, t)) for value in mix.values()
            )
            if abs(total - 1) > SHARE_TOLERANCE:
                problems.append(
                    (
                        path,
                        f"shares must sum to 1 on every date; from {when.isoformat()} they "
                        f"sum to {total:g}",
                    )
                )
                break
    return problems


def _dated_schedules(data: Any, prefix: str = "") -> list[tuple[str, dict]]:
    """Every date-keyed mapping in a scenario dump, with its path (in lists too: the shares
    of re-entry rules)."""
    found = []
    if isinstance(data, Mapping):
        if data and all(isinstance(k, date) for k in data):
            return [(prefix.rstrip("."), dict(data))]
        for key, value in data.items():
            found += _dated_schedules(value, f"{prefix}{key}.")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _dated_schedules(value, f"{prefix}{index}.")
    return found


def _provenance_problems(
    data: Mapping[str, Any], sources: Mapping[str, Source], uncertainty: Mapping[str, Uncertainty]
) -> list[tuple[str, str]]:
    problems = []
    for table, entries in (("sources", sources), ("uncertainty", uncertainty)):
        for path in entries:
            try:
                value = paths.get(data, path)
            except paths.PathError as exc:
                problems.append(
                    (f"{table}.{path}", f"names no field of the scenario ({exc.reason})")
                )
                continue
            if table == "uncertainty" and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                problems.append(
                    (f"{table}.{path}", "a range applies to a single number; name one value")
                )
    return problems
