"""Every outcome is declared once, and the summary, report, sweeps, break-even and the
reference page all follow the declaration."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, tiny

from simulation import InputError, Scenario, ScenarioError, run
from simulation.experiments import comparison, replications
from simulation.experiments.comparison import Comparison, break_even
from simulation.experiments.sweep_spec import SweepSpec, check
from simulation.outputs import outcomes
from simulation.outputs.outcomes import OUTCOMES, declared, is_outcome
from simulation.outputs.report import summary_table
from simulation.outputs.results import assemble

REFERENCE = ROOT / "docs" / "outcomes.md"
REGENERATE = (
    "docs/outcomes.md is out of date; regenerate it with\n"
    '  python -c "from simulation.outputs.outcomes import write_reference; '
    "write_reference('docs/outcomes.md')\""
)
SINGLE = [o for o in OUTCOMES if not o.is_pattern]
FAMILIES = [o for o in OUTCOMES if o.is_pattern]


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict[str, float]]:
    """Flat summaries of a run without policies and of one with every built-in policy (with
    whole-life costs, the optional outcomes)."""
    combined = Scenario.from_yaml(ROOT / "scenarios" / "combined.yaml").with_years(1)
    return {
        "tiny": run(tiny(), seed=1).flat_summary(),
        "combined": run(combined, seed=1, whole_life_years=2).flat_summary(),
    }


# ------------------------------------------------------------------------------ declaration


def test_every_name_is_declared_once_with_a_known_unit():
    names = [o.name for o in OUTCOMES]
    assert len(names) == len(set(names))
    for outcome in OUTCOMES:
        assert outcome.unit in outcomes.UNITS, outcome.name
        assert outcome.description.endswith(".") and "\n" not in outcome.description
        assert (outcome.section is None) == (outcome.label is None), outcome.name
        assert outcome.section in (None, *outcomes.SECTIONS), outcome.name


def test_declared_finds_single_outcomes_and_members_of_families():
    assert declared("final_are_in_uk").unit == "people"
    assert declared("cost_by_category_gbp.hub_operation").name == (
        "cost_by_category_gbp.<category>"
    )
    assert declared("arrivals.small_boat").name == "arrivals.<route>"
    assert declared("policies.offshore.peak_in_offshore_detention").name == (
        "policies.<policy>.peak_<place>"
    )
    assert declared("policies.offshore.halt_day").unit == "varies"
    for wrong in ("happiness", "policies.offshore", "arrivals", "cost_by_category_gbp.<category>"):
        assert not is_outcome(wrong), wrong


def test_every_outcome_aggregates_as_replications_summarise_it():
    for outcome in OUTCOMES:
        aggregation = outcome.aggregation
        assert (aggregation.statistic, aggregation.interval) == ("mean", "Student-t")
        assert aggregation.confidence == replications.CONFIDENCE, outcome.name
    absent_zero = {o.name for o in OUTCOMES if o.aggregation.absent_is_zero}
    assert absent_zero == {
        "cost_by_category_gbp.<category>",
        "cost_by_category_discounted_gbp.<category>",
    }
    assert comparison.COST_PREFIXES == ("cost_by_category_gbp.", "cost_by_category_discounted_gbp.")


# ------------------------------------------------------------------------------ the summary


@pytest.mark.parametrize("name", ["tiny", "combined"])
def test_a_runs_summary_is_exactly_the_declared_outcomes(summaries, name):
    flat = summaries[name]
    undeclared = [key for key in flat if not is_outcome(key)]
    assert not undeclared, f"summary keys not declared in outputs/outcomes.py: {undeclared}"
    expected = [o for o in SINGLE if name == "combined" or not o.optional]
    missing = [o.name for o in expected if o.name not in flat]
    assert not missing, f"declared outcomes missing from the summary: {missing}"
    optional = [o.name for o in SINGLE if o.optional and o.name in flat]
    assert optional == ([] if name == "tiny" else [o.name for o in SINGLE if o.optional])


def test_every_family_has_members_in_a_run_with_policies(summaries):
    keys = [key for flat in summaries.values() for key in flat]
    empty = [o.name for o in FAMILIES if not any(declared(key) is o for key in keys)]
    assert not empty, f"declared families no run reports: {empty}"


def test_a_summary_follows_the_declaration_order(summaries):
    """Outcomes come in the order declared; a family's members sit together where it is."""
    roots = list(dict.fromkeys(o.root for o in OUTCOMES))
    positions = [roots.index(declared(key).root) for key in summaries["combined"]]
    assert positions == sorted(positions)


def test_assembling_a_summary_refuses_what_is_not_declared():
    values = {o.name: 1.0 for o in SINGLE}
    families = {"arrivals": {"small_boat": 3}}
    assert assemble(values, families)["arrivals"] == {"small_boat": 3}
    with pytest.raises(RuntimeError, match="happiness"):
        assemble({**values, "happiness": 1.0}, families)
    with pytest.raises(RuntimeError, match="moods"):
        assemble(values, {**families, "moods": {"calm": 1.0}})
    with pytest.raises(RuntimeError, match="final_are_in_uk"):
        assemble({k: v for k, v in values.items() if k != "final_are_in_uk"}, families)


# ------------------------------------------------------------------------------ the report


def test_the_printed_report_shows_every_labelled_outcome(summaries):
    text = summary_table(summaries["combined"], "combined")
    for outcome in SINGLE:
        if outcome.label is not None:
            assert outcome.label in text, outcome.name
    for section in outcomes.SECTIONS[:-1]:  # the policies' section is for comparisons
        assert section in text
    assert "  hub operation" in text  # a member of a family, labelled from its placeholder


# ------------------------------------------------------------------------------ metric names


def _spec(metrics: list[str] | None = None) -> SweepSpec:
    data = {"base": {"tiny": "tiny.yaml"}, "parameters": {"appeals.lodged_share": {"low": 0.5}}}
    data["parameters"]["appeals.lodged_share"]["high"] = 0.9
    return SweepSpec.model_validate(data if metrics is None else {**data, "metrics": metrics})


def test_a_sweep_keeps_the_headline_outcomes_by_default():
    assert _spec().metrics == [o.name for o in OUTCOMES if o.headline]
    assert all(is_outcome(m) for m in _spec().metrics)


def test_a_sweep_accepts_declared_metrics_and_refuses_others():
    fine = ["total_cost_gbp", "cost_by_category_gbp.hub_operation", "policies.x.transfers"]
    check(_spec(fine), {"tiny": tiny()})
    with pytest.raises(ScenarioError) as excinfo:
        check(_spec(["happiness", "policies.offshore"]), {"tiny": tiny()})
    said = [message for field, message in excinfo.value.problems if field == "metrics"]
    assert len(said) == 2
    assert said[0].startswith("unknown metric 'happiness'; known: total_cost_gbp")
    assert said[1].startswith("unknown metric 'policies.offshore'")
    assert "cost_by_category_gbp.<category>" in said[0]


def test_break_even_refuses_an_unknown_metric_before_running(monkeypatch):
    def no_runs(*args, **kwargs):
        raise AssertionError("a simulation ran before the metric was checked")

    monkeypatch.setattr(comparison, "run_one", no_runs)
    with pytest.raises(InputError) as excinfo:
        break_even(tiny(), tiny(), "appeals.lodged_share", "happiness", low=0.5, high=0.9)
    (where, message), *_ = excinfo.value.problems
    assert where == "metric"
    assert "unknown metric 'happiness'" in message
    assert "total_cost_discounted_gbp" in message and "arrivals.<route>" in message


def test_a_comparison_names_an_unknown_metric():
    table = pd.DataFrame(columns=["scenario", "metric", "diff_mean"])
    with pytest.raises(InputError, match="unknown metric 'happiness'"):
        Comparison(table=table, results={}).difference("tiny", "happiness")


# ------------------------------------------------------------------------------ reference page


def test_the_reference_page_is_generated_from_the_declaration():
    assert REFERENCE.read_text(encoding="utf-8") == outcomes.reference_table(), REGENERATE


def test_the_reference_page_has_one_row_per_outcome():
    rows = [line for line in outcomes.reference_table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [o.name for o in OUTCOMES]
