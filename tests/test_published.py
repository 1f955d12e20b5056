"""The published figures ship with the package, and every citation of them holds.

A scenario's ``kind: published`` source with a ``data_key`` promises that the number is that
figure; anything computed from a figure, or read from its description rather than its value,
is ``kind: derived`` with the arithmetic in its note. These tests read the shipped file
(``simulation/data/uk_asylum_figures.csv``), so they run in every clone.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import fnmatch
import math
import re
import tomllib
from importlib.resources import files

import pytest
from conftest import ROOT, SHARED_DATA, tiny, tiny_dict

from simulation import InputError, Scenario
from simulation.inputs import paths, published
from simulation.validation.targets import load_targets

SCENARIOS = sorted(
    [
        *(ROOT / "scenarios").glob("*.yaml"),
        *(ROOT / "scenarios" / "history").glob("*.yaml"),
        *(ROOT / "scenarios" / "appraisal").glob("*.yaml"),
    ]
)
TARGET_FILES = sorted((ROOT / "scenarios" / "validation").glob("targets*.yaml"))
MARKDOWN = ROOT / "simulation" / "data" / "uk_asylum_figures.md"


def _id(path):
    return path.relative_to(ROOT).as_posix()


def _values(scenario: Scenario) -> dict:
    return scenario.model_dump(mode="python", exclude={"sources", "uncertainty"})


# ------------------------------------------------------------------------------- the loader


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("299", 299.0),
        ("0.42", 0.42),
        ("1,234", 1234.0),
        ("1,234,567.5", 1234567.5),
        ("-0.95", -0.95),
        ("0.030", 0.03),
        ("3300-5300", None),
        (">10", None),
        ("n/a", None),
        ("2025-05-15", None),
        ("170 vs 27", None),
        ("0.5/1.0/1/2.0", None),
        ("12,34", None),
    ],
)
def test_a_plain_published_number_is_parsed_and_anything_else_is_not(text, number):
    assert published.parse_number(text) == number


def test_every_row_of_the_shipped_file_is_a_figure():
    with SHARED_DATA.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    table = published.figures()
    assert [row["key"] for row in rows] == list(table)
    assert table is published.figures()  # read once

    boats = published.figure("small_boat_arrivals_2018")
    assert (boats.value, boats.number, boats.unit, boats.period) == (
        "299",
        299.0,
        "people/yr",
        "2018",
    )
    assert boats.publisher == "The Independent / PA"
    assert boats.date == "2025-01 (approx.)"
    assert boats.url.startswith("https://www.independent.co.uk/")
    assert boats.confirmed is True
    assert "small-boat arrival rate" in boats.use
    assert "The Independent / PA" in boats.reference() and boats.url in boats.reference()

    assert published.figure("grant_rate_initial_2025").number == 0.42
    air = published.figure("inadequately_documented_air_arrivals")
    assert (air.value, air.number) == ("3300-5300", None)
    assert published.figure("albania_simultaneous_cap").confirmed is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        boats.number = 300  # type: ignore[misc]


def test_an_unknown_key_is_an_input_error_naming_it():
    with pytest.raises(InputError) as excinfo:
        published.figure("small_boat_arrivals_1066")
    assert "small_boat_arrivals_1066" in str(excinfo.value)
    assert excinfo.value.problems[0][0] == "small_boat_arrivals_1066"


def test_the_figures_ship_as_package_data():
    data = files("simulation") / "data"
    assert (data / "uk_asylum_figures.csv").is_file()
    assert (data / "uk_asylum_figures.md").is_file()
    # pyproject.toml installs them with the code (a wheel, not only an editable install).
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["simulation"]
    for name in ("uk_asylum_figures.csv", "uk_asylum_figures.md"):
        assert any(fnmatch.fnmatch(f"data/{name}", p) for p in patterns), name


def test_the_commentary_describes_the_same_figures():
    text = MARKDOWN.read_text(encoding="utf-8")
    keys = re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.MULTILINE)
    assert sorted(keys) == sorted(published.figures())


def test_nothing_points_outside_the_repository_for_the_figures():
    pages = [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "scenarios").rglob("*.yaml"),
        *(ROOT / "simulation").rglob("*.py"),
        ROOT / "tests" / "conftest.py",
    ]
    outside = "/".join(("..", "shared", "data"))  # the folder the figures were copied from
    stale = [_id(p) for p in pages if outside in p.read_text(encoding="utf-8")]
    assert stale == []
    assert SHARED_DATA.is_relative_to(ROOT)


# ----------------------------------------------------------------- what a citation promises


def test_a_value_is_the_figure_only_when_it_says_the_same():
    hotels = published.figure("hotel_cost_ppn_hac_2025")  # 144.98
    assert published.same_value(144.98, hotels)
    assert published.same_value(144.98 * (1 + 1e-12), hotels)  # rounding
    assert not published.same_value(145, hotels)
    assert not published.same_value(144.98 * (1 + 1e-6), hotels)
    assert not published.same_value(True, published.figure("albania_returns_change_2yr"))
    trigger = published.figure("rwanda_etif_300_trigger")  # 120 GBP million
    assert not published.same_value(120_000_000, trigger)
    assert not published.same_value({datetime.date(2023, 1, 1): 144.98}, hotels)
    announced = published.figure("uk_return_hubs_announced")  # a date
    assert published.same_value(datetime.date(2025, 5, 15), announced)
    assert not published.same_value(datetime.date(2025, 5, 16), announced)


def _cite(path: str, key: str, kind: str = "published", **more):
    entry = {"kind": kind, "publisher": "P", "title": "T", "data_key": key, **more}
    return {"sources": {path: entry}}


def test_a_published_number_that_is_not_its_figure_is_a_problem():
    path = "accommodation.hotels.cost_per_person_night_gbp"
    wrong = tiny(**_cite(path, "hotel_cost_ppn_hac_2025"))  # the tiny scenario says 145
    assert published.citation_problems(wrong) == [
        (
            f"sources.{path}",
            "kind published, but the value 145 is not the figure hotel_cost_ppn_hac_2025 "
            "(144.98 GBP/person/night); cite the figure it is, or make the entry derived and "
            "say how in its note",
        )
    ]
    derived = tiny(**_cite(path, "hotel_cost_ppn_hac_2025", "derived", note="144.98 rounded"))
    assert published.citation_problems(derived) == []
    right = tiny(
        accommodation={"hotels": {"cost_per_person_night_gbp": 144.98}},
        **_cite(path, "hotel_cost_ppn_hac_2025"),
    )
    assert published.citation_problems(right) == []


def test_a_data_key_that_names_no_figure_is_a_problem_naming_the_path():
    path = "accommodation.hotels.cost_per_person_night_gbp"
    scenario = tiny(**_cite(path, "hotel_cost_made_up", "derived", note="n"))
    problems = published.citation_problems(scenario)
    assert problems == [
        (
            f"sources.{path}.data_key",
            f"'hotel_cost_made_up' is not a figure in {published.DATA_FILE}",
        )
    ]
    with pytest.raises(InputError) as excinfo:
        published.sources_table(scenario)
    assert excinfo.value.problems == problems


# ------------------------------------------------------------- every shipped file's citations


@pytest.mark.parametrize("path", SCENARIOS, ids=_id)
def test_every_cited_data_key_is_a_shipped_figure(path):
    scenario = Scenario.from_yaml(path)
    cited = {s.data_key for s in scenario.sources.values() if s.data_key}
    assert cited - set(published.figures()) == set()


@pytest.mark.parametrize("path", SCENARIOS, ids=_id)
def test_every_published_number_is_its_figure_or_its_entry_says_how_it_was_derived(path):
    scenario = Scenario.from_yaml(path)
    values = _values(scenario)
    wrong = []
    for field, source in scenario.sources.items():
        if not source.data_key:
            continue
        figure = published.figure(source.data_key)
        value = paths.get(values, field)
        if source.kind == "published":
            # Only rounding may separate a published number from its figure: YAML and the
            # CSV write the same decimal, so anything beyond 1e-9 is a different number.
            is_it = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and figure.number is not None
                and math.isclose(value, figure.number, rel_tol=1e-9)
            ) or (isinstance(value, datetime.date) and value.isoformat() == figure.value)
            if not is_it:
                wrong.append(f"{field}: {value!r} is not {source.data_key} = {figure.value}")
        else:
            # derived (or an assumption leaning on a figure): the note says how.
            assert source.note and source.note.strip(), field
    assert wrong == []
    assert published.citation_problems(scenario) == []


# A targets file's `published` is its figure's value (GBP billions written out in GBP), except
# these, each checked against what the comment beside it in the targets file says.
UNIT_SCALE = {"GBP billion": 1e9, "GBP million": 1e6}


def _total_small_boats(target):
    keys = ("small_boat_arrivals_2023", "small_boat_arrivals_2024", "small_boat_arrivals_2025")
    return target.published == sum(published.figure(k).number for k in keys)


def _people_in_the_description(target):
    row = next(
        line
        for line in MARKDOWN.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"| `{target.data_key}` |")
    )
    return f"{target.published:,.0f} people" in row


def _date_of_the_peak(target):
    return target.published.isoformat() == published.figure(target.data_key).period


COMPUTED_TARGETS = {
    "V1.small_boats_total": _total_small_boats,
    "V3.backlog_dec2023": _people_in_the_description,
    "V3.peak_date": _date_of_the_peak,
}


@pytest.mark.parametrize("path", TARGET_FILES, ids=_id)
def test_every_target_cites_a_shipped_figure_with_its_value(path):
    targets, _scenario = load_targets(path)
    cited = [t for t in targets.targets if t.data_key]
    assert cited
    wrong = []
    for target in cited:
        figure = published.figure(target.data_key)
        if target.id in COMPUTED_TARGETS:
            ok = COMPUTED_TARGETS[target.id](target)
        else:
            scale = UNIT_SCALE.get(figure.unit, 1.0)
            ok = (
                figure.number is not None
                and not isinstance(target.published, datetime.date)
                and math.isclose(target.published, figure.number * scale, rel_tol=1e-9)
            )
        if not ok:
            wrong.append(f"{target.id}: {target.published} vs {figure.key} = {figure.value}")
    assert wrong == []


# ----------------------------------------------------------------- the table the CLI prints


def test_the_sources_table_lists_every_sourced_path_with_its_value(baseline):
    rows = published.sources_table(baseline)
    assert [row.path for row in rows] != []
    assert sorted(row.path for row in rows) == sorted(baseline.sources)
    values = _values(baseline)
    for row in rows:
        assert row.value == paths.get(values, row.path), row.path
        assert row.source == baseline.sources[row.path]
        key = row.source.data_key
        assert (row.figure.key if row.figure else None) == key
    by_path = {row.path: row for row in rows}
    hotels = by_path["accommodation.hotels.cost_per_person_night_gbp"]
    assert hotels.value == 144.98 and hotels.figure.number == 144.98 and hotels.matches
    assert not by_path["accommodation.hotels.allowance_per_person_week_gbp"].matches
    assert by_path["households"].value == {
        "single_adult": 0.70,
        "family_member": 0.25,
        "unaccompanied_child": 0.05,
    }
    # in the order of the scenario's fields, not of the file's sources: table
    assert rows[0].path == "people_per_case"
    order = [row.path for row in rows]
    assert order.index("arrivals.small_boat.rate_per_month") < order.index(
        "initial_state.supported_people"
    )


def test_a_schedule_has_one_source_for_each_date():
    history = Scenario.from_yaml(ROOT / "scenarios" / "history" / "uk_2023_2025.yaml")
    rows = {row.path: row for row in published.sources_table(history)}
    hotel = "accommodation.hotels.cost_per_person_night_gbp"
    assert hotel not in rows
    for day, key in (
        ("2023-01-01", "hotel_cost_ppn_bbc_mar2023"),
        ("2023-07-01", "hotel_cost_ppn_nao2024_actual"),
        ("2025-03-01", "hotel_cost_ppn_bbc_mar2025"),
    ):
        row = rows[f"{hotel}.{day}"]
        assert row.figure.key == key and row.matches, day
    schedule = rows["arrivals.small_boat.rate_per_month"].value
    assert schedule[datetime.date(2025, 1, 1)] == 3456.0


def test_the_printed_table_gives_value_unit_date_and_reference(baseline):
    rows = published.sources_table(baseline)
    text = published.format_sources(rows)
    block = text.split("\n\n")
    hotels = next(
        b for b in block if b.startswith("accommodation.hotels.cost_per_person_night_gbp")
    )
    flat = " ".join(hotels.split())
    source, figure = flat.split(" figure ", 1)
    # the value and the source's own reference: publisher, title, date (the committee's
    # report, the primary source, is cited without an address)
    assert source == (
        "accommodation.hotels.cost_per_person_night_gbp = 144.98 published UK Parliament Home "
        "Affairs Committee, Asylum accommodation report, 2025-10-27"
    )
    # the figure it cites: key, value, unit, period, and that it is the value used
    assert figure.startswith(
        "hotel_cost_ppn_hac_2025 = 144.98 GBP/person/night, period 2024-25 (approx.): "
        "the value used"
    )
    assert "Home Affairs Committee average" in figure  # the note

    catered = next(b for b in block if b.startswith("accommodation.hotels.allowance_per_person"))
    flat = " ".join(catered.split())
    assert "= 8.86 derived" in flat
    assert "weekly_allowance_self_catered = 49.18 GBP/person/week" in flat
    assert "derived from it" in flat

    for row in rows:  # every figure has its block, with its value
        assert f"\n{row.path} = " in f"\n{text}", row.path
    assert all(
        len(line) <= 100 or "https://" in line or " = {" in line for line in text.splitlines()
    )
    assert text.split("\n\n")[-1].startswith(f"{len(rows)} sourced figures (")


def test_the_printed_table_flags_a_published_number_that_is_not_its_figure():
    path = "accommodation.hotels.cost_per_person_night_gbp"
    wrong = Scenario.from_dict(tiny_dict(**_cite(path, "hotel_cost_ppn_hac_2025")))
    text = published.format_sources(published.sources_table(wrong))
    assert f"{path} = 145" in text
    assert "DIFFERS from the value used" in " ".join(text.split())
    assert published._shown(1.2e8) == "120,000,000"
    assert (
        published._shown({datetime.date(2023, 1, 1): 162.16, datetime.date(2023, 7, 1): 127.0})
        == "{2023-01-01: 162.16, 2023-07-01: 127}"
    )
