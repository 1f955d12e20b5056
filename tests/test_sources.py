"""Sources: an overridden value loses its citation, citations name primary sources where the
cited page only reposts them, and notes do not restate values that calibration changes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from conftest import BASELINE, ROOT, tiny_dict

from simulation import Scenario, run
from simulation.experiments.sweep import sweep
from simulation.experiments.sweep_spec import SweepSpec
from simulation.inputs import paths, provenance
from simulation.inputs.published import format_sources, sources_table

JUDGES = "appeals.judges_fte"
GAZETTE = "Law Society Gazette"
SCENARIO_FILES = sorted(
    path
    for path in (ROOT / "scenarios").rglob("*.yaml")
    if path.parent.name not in ("sweeps", "validation")
)


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return Scenario.from_yaml(BASELINE)


# ------------------------------------------------------------------------ overrides


def test_an_overridden_value_cites_the_user_and_keeps_what_it_replaced(baseline):
    before = baseline.sources[JUDGES]
    changed = baseline.with_overrides({JUDGES: 400})
    source = changed.sources[JUDGES]
    assert before.publisher == GAZETTE and before.kind == "derived"
    assert source.kind == "override"
    assert source.publisher is None and source.url is None and source.data_key is None
    assert source.note.startswith("override by the user; replaces {2026-01-01: 221, ")
    assert f"derived from {GAZETTE}, " in source.note and before.url in source.note
    assert source.replaces.value == baseline.appeals.judges_fte
    assert source.replaces.source.model_dump() == before.model_dump(exclude={"replaces"})
    assert changed.appeals.judges_fte == 400
    assert baseline.sources[JUDGES] == before  # the original is untouched
    others = {k: v for k, v in changed.sources.items() if k != JUDGES}
    assert others == {k: v for k, v in baseline.sources.items() if k != JUDGES}


def test_a_value_set_to_what_it_was_keeps_its_citation(baseline):
    same = baseline.with_overrides({"appeals.lodged_share": baseline.appeals.lodged_share})
    assert same.sources == baseline.sources
    assert baseline.with_years(10).sources == baseline.sources


def test_a_value_no_source_describes_gets_none(baseline):
    shorter = baseline.with_overrides({"end_date": "2027-01-01", "name": "short"})
    assert shorter.sources == baseline.sources


def test_an_override_below_a_cited_path_cites_that_path(baseline):
    path = "nationality_groups.mixed.grant_rate"
    changed = baseline.with_overrides({path: 0.4})
    source = changed.sources[path]
    assert source.kind == "override"
    assert source.note == (
        "override by the user; replaces 0.3, an assumption (the source of nationality_groups)"
    )
    assert source.replaces.value == 0.3
    cited = baseline.sources["nationality_groups"].model_dump(exclude={"replaces"})
    assert source.replaces.source.model_dump() == cited
    assert changed.sources["nationality_groups"] == baseline.sources["nationality_groups"]
    dated = baseline.with_overrides({"appeals.judges_fte.2027-03-01": 300})
    assert dated.sources["appeals.judges_fte.2027-03-01"].replaces.value == 264
    assert dated.sources[JUDGES] == baseline.sources[JUDGES]


def test_overriding_a_whole_table_keeps_the_citations_of_the_parts_it_leaves(baseline):
    appeals = baseline.to_dict()["appeals"]
    appeals["lodged_share"] = 0.5
    changed = baseline.with_overrides({"appeals": appeals})
    assert changed.sources["appeals.lodged_share"].kind == "override"
    assert changed.sources["appeals.lodged_share"].replaces.value == 0.999
    for kept in (JUDGES, "appeals.determinations_per_judge_per_day"):
        assert changed.sources[kept] == baseline.sources[kept]
    assert "appeals" not in changed.sources


def test_a_second_override_still_names_the_cited_figure(baseline):
    twice = baseline.with_overrides({JUDGES: 400}).with_overrides({JUDGES: 500}, by="set by X")
    source = twice.sources[JUDGES]
    assert source.note.startswith("set by X; replaces {2026-01-01: 221, ")
    assert source.replaces.source.publisher == GAZETTE


def test_compositions_and_extending_files_override_too(baseline, tmp_path):
    composed = baseline + {"appeals": {"judges_fte": 400}}
    assert composed.sources[JUDGES].note.startswith("override by the user; replaces {2026")
    (tmp_path / "more.yaml").write_text(
        f"extends: {BASELINE}\nname: more judges\nappeals:\n  judges_fte: 400\n"
    )
    extended = Scenario.from_yaml(tmp_path / "more.yaml")
    assert extended.sources[JUDGES].note.startswith("override by the user in more.yaml; ")
    assert extended.sources[JUDGES].replaces.source.publisher == GAZETTE
    (tmp_path / "cited.yaml").write_text(
        f"extends: {BASELINE}\nappeals:\n  judges_fte: 400\n"
        f"sources:\n  {JUDGES}: {{kind: assumption, note: a round number}}\n"
    )
    cited = Scenario.from_yaml(tmp_path / "cited.yaml")
    assert cited.sources[JUDGES].kind == "assumption"
    assert cited.sources[JUDGES].replaces is None
    assert (baseline + tmp_path / "more.yaml").sources[JUDGES].kind == "override"


def test_the_shipped_scenarios_override_nothing_they_do_not_cite():
    for path in SCENARIO_FILES:
        scenario = Scenario.from_yaml(path)
        overrides = [p for p, s in scenario.sources.items() if s.kind == "override"]
        assert overrides == [], path


def test_the_manifest_and_the_sources_listing_show_the_override(baseline):
    changed = baseline.with_overrides({JUDGES: 400}).with_years(0.05)
    manifest = json.loads(json.dumps(run(changed, seed=1).manifest["scenario"]["sources"]))
    entry = manifest[JUDGES]
    assert entry["kind"] == "override"
    assert entry["note"].startswith("override by the user; replaces")
    assert entry["replaces"]["value"] == {"2026-01-01": 221.0, "2027-03-01": 264.0}
    assert entry["replaces"]["source"]["publisher"] == GAZETTE
    text = format_sources(sources_table(changed))
    block = text.split(f"{JUDGES} = 400")[1].split("\n\n")[0]
    assert "override by the user; replaces" in " ".join(block.split())
    assert "1 override" in text.splitlines()[-1] or "1 override" in text


def test_a_scenario_written_out_with_an_override_reads_back(baseline, tmp_path):
    changed = baseline.with_overrides({JUDGES: 400})
    changed.to_yaml(tmp_path / "out.yaml")
    again = Scenario.from_yaml(tmp_path / "out.yaml")
    assert again.sources[JUDGES] == changed.sources[JUDGES]


def test_replaces_belongs_to_overrides_only():
    with pytest.raises(ValueError, match="override"):
        provenance.Source(kind="guess", note="x", replaces={"value": 1})
    with pytest.raises(ValueError, match="needs a note"):
        provenance.Source(kind="override")


def test_sweep_points_are_set_by_the_sweep(tmp_path, monkeypatch):
    data = tiny_dict(end_date="2026-03-01")
    data["sources"] = {"appeals.lodged_share": {"kind": "guess", "note": "a round number"}}
    base = Scenario.from_dict(data)
    seen = []
    import simulation.experiments.sweep as sweep_module

    real = sweep_module.run_one

    def spy(scenario, *args, **kwargs):
        seen.append(scenario.sources.get("appeals.lodged_share"))
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "run_one", spy)
    spec = SweepSpec.model_validate(
        {
            "name": "sources",
            "base": {"base": "base.yaml"},
            "parameters": {"appeals.lodged_share": {"values": [0.5, 0.55]}},
            "sampler": "grid",
            "replications": 1,
            "metrics": ["total_cost_gbp"],
        }
    )
    sweep(spec, {"base": base}, tmp_path / "out", executor="serial", quiet=True)
    assert len(seen) == 2
    for source in seen:
        assert source.kind == "override"
        assert source.note == "set by the sweep; replaces 0.7, a guess"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    entry = manifest["swept_sources"]["base"]["appeals.lodged_share"]
    assert entry["note"] == "set by the sweep; replaces 0.7, a guess"
    assert entry["replaces"]["source"]["note"] == "a round number"


# ------------------------------------------------------------------------ notes and values

NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
CLAIMED = re.compile(r"\bfit(?:ted)?\b[^0-9.;]{0,12}?(\d+\.\d+|\d+)")


def _notes(scenario: Scenario):
    for table in ("sources", "uncertainty"):
        for path, entry in getattr(scenario, table).items():
            if entry.note:
                yield f"{table}.{path}", path, " ".join(entry.note.split())


def _agrees(written: str, value: float) -> bool:
    decimals = len(written.split(".")[1]) if "." in written else 0
    return round(value, decimals) == float(written)


def _significant(written: str) -> int:
    return len(written.replace(".", "").lstrip("0"))


def stale_numbers(scenario: Scenario) -> list[str]:
    """Numbers in notes that claim to be a fitted value and are not it: a number written
    after 'fit'/'fitted' in the note of the field it describes, and a number within 5% of a
    fitted value that it does not round to, written to four significant figures (as
    calibration writes them) or, in the field's own notes, to three."""
    data = scenario.to_dict()
    fitted = {}
    for path, source in scenario.sources.items():
        value = paths.get(data, path)
        if source.kind == "fitted" and isinstance(value, int | float):
            fitted[path] = float(value)
    found = []
    for where, path, note in _notes(scenario):
        for match in CLAIMED.finditer(note):
            value = paths.get(data, path) if paths.exists(data, path) else None
            if not isinstance(value, int | float) or not _agrees(match.group(1), value):
                found.append(f"{where}: {match.group(0)!r} but the value is {value!r}")
        for match in NUMBER.finditer(note):
            written = match.group(0).replace(",", "")
            for field, value in fitted.items():
                if _significant(written) < (3 if field == path else 4):
                    continue
                close = value and abs(float(written) - value) <= 0.05 * abs(value)
                if close and not _agrees(written, value):
                    found.append(f"{where}: {written} looks like {field} = {value:g}")
    return found


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_note_restates_a_value_it_disagrees_with(path):
    assert stale_numbers(Scenario.from_yaml(path)) == []


@pytest.mark.parametrize(
    ("table", "path", "note"),
    [
        ("uncertainty", "decisions.withdrawal_rate_per_year", "guess around the fitted 0.204"),
        ("uncertainty", "appeals.lodged_share", "the fit (0.993) follows appeals lodged"),
        ("sources", "costs.appeal_costs", "221 x 0.4541 x GBP 556 = about GBP 55,800 a day"),
    ],
)
def test_a_stale_number_in_a_note_is_found(baseline, table, path, note):
    data = baseline.to_dict()
    data[table][path]["note"] = note
    found = stale_numbers(Scenario.from_dict(data))
    assert found and all(f"{table}.{path}:" in problem for problem in found)
    data[table][path]["note"] = note.replace("0.204", "0.201").replace("0.993", "0.999")
    data[table][path]["note"] = data[table][path]["note"].replace("0.4541", "0.4545")
    assert stale_numbers(Scenario.from_dict(data)) == []


# ------------------------------------------------------------------------ primary sources

#: Hosts that only repost or mirror what others published: a political party's site, a
#: solicitors' firm, a mirror of a newspaper or of Parliament's written questions, a
#: news aggregator, a press-release reposting service.
REPOSTS = {
    "www.englishdemocrats.party",
    "msd11.gn.apc.org",
    "shsolicitors.com",
    "www.parallelparliament.co.uk",
    "www.inkl.com",
    "www.parliamenttoday.com",
    "www.wired-gov.net",
}
SECONDARY = "secondary source; primary not located"


def _raw_sources(path: Path) -> dict:
    return (yaml.safe_load(path.read_text()) or {}).get("sources") or {}


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_citation_is_a_repost_or_mirror(path):
    for field, entry in _raw_sources(path).items():
        if not entry or not entry.get("url"):
            continue
        host = urlparse(entry["url"]).hostname or ""
        assert host not in REPOSTS and not host.endswith(".party"), f"{path.name}: {field}"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_citation_through_someone_else_says_so(path):
    """A publisher given as a repost or 'via' another site names the primary instead, or the
    note says the primary was not located."""
    for field, entry in _raw_sources(path).items():
        publisher = (entry or {}).get("publisher") or ""
        if re.search(r"\brepost\b|\bvia\b", publisher):
            assert SECONDARY in " ".join((entry.get("note") or "").split()), f"{field}"


def test_reposted_figures_now_cite_their_primary_source(baseline):
    nao = "https://www.nao.org.uk/reports/investigation-into-asylum-accommodation/"
    for field in (
        "accommodation.large_sites.capacity_people",
        "accommodation.hotels.paid_beds_per_occupant",
    ):
        assert baseline.sources[field].publisher == "National Audit Office"
        assert baseline.sources[field].url == nao
    dispersal = baseline.sources["accommodation.dispersal.cost_per_person_night_gbp"]
    assert dispersal.url is None and SECONDARY in " ".join(dispersal.note.split())
    offshore = Scenario.from_yaml(ROOT / "scenarios" / "rwanda_offshore.yaml")
    per_person = offshore.sources["policies.offshore.payment_per_relocation_gbp"]
    assert per_person.publisher == "National Audit Office"
    assert per_person.url.startswith("https://nao.org.uk/reports/")
