"""What the command line and the printed reports tell a reader: every option explained with its
default, titles that give the horizon actually run, labels never cut, no rows for a policy
neither scenario has, short reprs of results, and progress in simulated time from the start
of a run."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest
from conftest import BASELINE, tiny
from test_policies import HUBS, VOLUNTARY

from simulation import run
from simulation.cli import _simulated, build_parser, main
from simulation.engine.events import events_scheduled
from simulation.engine.pipeline import Pipeline, month_ends, run_pipeline
from simulation.engine.rng import RandomStreams
from simulation.experiments.comparison import compare
from simulation.experiments.evaluate import run_one
from simulation.outputs import outcomes
from simulation.outputs.report import (
    comparison_table,
    horizon_text,
    replications_table,
    rows,
    run_title,
    summary_table,
)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def _flat(text: str) -> str:
    """Help text with its line wrapping undone."""
    return " ".join(text.split())


def _own_actions(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]


# ------------------------------------------------------------------------------ help


def test_the_top_level_help_says_what_the_tool_does():
    parser = build_parser()
    assert parser.description.startswith("Simulate the UK asylum system")
    text = _flat(parser.format_help())
    assert "The ``asylum-sim`` command" not in text
    assert "Exit status: 0 on success, 2 for bad input" in text
    assert "'asylum-sim COMMAND --help'" in text  # not broken at its hyphen


def test_every_argument_of_every_command_has_help_and_every_command_a_description():
    commands = _subcommands(build_parser())
    assert len(commands) == 12  # the demo included
    for name, sub in commands.items():
        assert sub.description and len(sub.description) > 20, name
        for action in _own_actions(sub):
            assert action.help and action.help.strip(), f"{name} {action.dest}"


def test_every_default_is_shown_in_the_help():
    shown = 0
    for name, sub in _subcommands(build_parser()).items():
        text = _flat(sub.format_help())
        for action in _own_actions(sub):
            if not action.option_strings or action.required or action.nargs == 0:
                continue  # positionals, required options and flags have no default
            if action.default is None:  # what happens when it is not given, in words
                assert "(default:" in action.help, f"{name} {action.option_strings[0]}"
            else:
                assert f"(default: {action.default})" in text, f"{name} {action.option_strings}"
                shown += 1
    assert shown >= 15


def test_the_compare_help_shows_its_twenty_replications():
    text = _flat(_subcommands(build_parser())["compare"].format_help())
    assert "paired replications of each scenario, at least 2 (default: 20)" in text
    assert "%" not in text.replace("95%", "")  # no doubled or stray percent signs


# ------------------------------------------------------------------------------ titles


def _manifest(end: str, name: str = "UK baseline 2026-2035", start: str = "2026-01-01"):
    return {"start_date": start, "end_date": end, "seed": 7, "scenario": {"name": name}}


@pytest.mark.parametrize(
    ("end", "horizon", "note"),
    [
        ("2036-01-01", "2026-01-01 to 2036-01-01 (10 years)", ""),
        ("2028-01-01", "2026-01-01 to 2028-01-01 (2 years)", " (run for 2026-2027 only)"),
        ("2027-01-01", "2026-01-01 to 2027-01-01 (1 year)", " (run for 2026 only)"),
        ("2027-07-01", "2026-01-01 to 2027-07-01 (18 months)", " (run for 2026-2027 only)"),
        ("2038-01-01", "2026-01-01 to 2038-01-01 (12 years)", " (run for 2026-2037)"),
        ("2026-03-11", "2026-01-01 to 2026-03-11 (69 days)", " (run for 2026 only)"),
    ],
)
def test_a_title_states_the_horizon_run_and_corrects_the_years_of_the_name(end, horizon, note):
    manifest = _manifest(end)
    assert horizon_text(manifest) == horizon
    assert run_title(manifest) == f"UK baseline 2026-2035{note}: {horizon}, seed 7"


def test_a_name_without_years_is_left_as_it_is():
    title = run_title(_manifest("2028-01-01", name="Return hubs from July 2026"))
    assert title == "Return hubs from July 2026: 2026-01-01 to 2028-01-01 (2 years), seed 7"


def test_the_printed_title_of_a_two_year_baseline_run_gives_its_horizon(capsys):
    assert main(["run", str(BASELINE), "--years", "2", "--quiet"]) == 0
    title = capsys.readouterr().out.splitlines()[0]
    assert title == (
        "UK baseline 2026-2035 (run for 2026-2027 only): 2026-01-01 to 2028-01-01 (2 years), seed 1"
    )


# ------------------------------------------------------------------------------ tables


@pytest.fixture(scope="module")
def three_way():
    """A comparison of the tiny scenario with return hubs and with a voluntary-return
    incentive: each policy is in one scenario only."""
    return compare(
        {
            "tiny": tiny(),
            "hubs": tiny(name="hubs", policies={"return_hubs": HUBS}),
            "voluntary": tiny(name="voluntary", policies={"voluntary_return": VOLUNTARY}),
        },
        replications=2,
        seed=3,
    )


def _block(text: str, name: str) -> list[str]:
    for block in text.split("\n\n"):
        if block.startswith(f"{name}  vs  tiny"):
            return block.splitlines()
    raise AssertionError(f"no block for {name}")


def test_no_label_of_a_comparison_is_cut(three_way):
    text = comparison_table(three_way.table)
    labels = [
        label
        for section in outcomes.SECTIONS
        for key, label, _unit in rows(section, set(three_way.table.metric), sort=True)
        if key in set(three_way.table.metric) and not key.endswith(("halt_day", "multiplier"))
    ]
    long = [label for label in labels if len(label) > 40]
    assert long, "no label longer than the old 40 characters to check"
    lines = text.splitlines()
    for label in labels:
        assert any(line.startswith(f"  {label} ") for line in lines), label
    assert "    voluntary return: returns after refusal " in text


def test_a_policy_neither_scenario_of_a_pair_has_is_left_out(three_way):
    text = comparison_table(three_way.table)
    hubs, voluntary = _block(text, "hubs"), _block(text, "voluntary")
    assert any("return hubs: transfers" in line for line in hubs)
    assert not any("voluntary return:" in line for line in hubs)
    assert any("voluntary return: returns after refusal" in line for line in voluntary)
    assert not any("return hubs:" in line for line in voluntary)
    policies = [line for line in hubs + voluntary if line.startswith("    ") and ":" in line]
    assert policies
    for line in policies:  # every policy row has the policy in one scenario of the pair
        cells = line.split()
        assert cells.count("n/a") < 5, line


def test_the_comparison_title_gives_the_horizon_of_each_scenario(three_way):
    horizons = {name: horizon_text(rs[0].manifest) for name, rs in three_way.results.items()}
    text = comparison_table(three_way.table, horizons)
    assert text.splitlines()[0] == (
        "hubs  vs  tiny  (2 paired replications), 2026-01-01 to 2027-01-01 (1 year)"
    )
    other = dict(horizons, voluntary="2026-01-01 to 2026-07-01 (6 months)")
    assert _block(comparison_table(three_way.table, other), "voluntary")[0].endswith(
        ", 2026-01-01 to 2026-07-01 (6 months) against 2026-01-01 to 2027-01-01 (1 year)"
    )


def test_a_run_report_widens_its_label_column_to_the_longest_label():
    flat = {"total_cost_gbp": 1e9, "claims": 12.0, "final_backlog_initial": 3.0}
    long = "cost_by_category_gbp." + "a_very_long_category_name_" * 3
    flat[long] = 5e6
    text = summary_table(flat, "title")
    label = outcomes.declared(long).label_for(long)
    assert len(label) > 40
    line = next(line for line in text.splitlines() if label in line)
    widths = {len(x) for x in text.splitlines()[2:] if x.startswith("  ") and x.strip()}
    assert len(widths) == 1 and line.endswith("£5.0m")  # one column for all, nothing cut
    summary = pd.DataFrame(
        [
            {"metric": key, "mean": value, "ci_low": value, "ci_high": value, "n": 3}
            for key, value in flat.items()
        ]
    )
    assert f"  {label} " in replications_table(summary, "title")


# ------------------------------------------------------------------------------ reprs


def test_the_repr_of_a_result_is_short_and_says_which_run_it_is():
    result = run(tiny(), seed=4)
    text = repr(result)
    assert len(text) <= 400
    assert text.startswith("Result('tiny', seed 4, 2026-01-01 to 2027-01-01 (1 year)")
    assert "total cost £" in text and "new claims " in text
    assert f"{int(result.summary['claims']):,}" in text


def test_the_reprs_of_replications_and_a_comparison_are_short(three_way):
    runs = run(tiny(), seed=2, replications=2)
    text = repr(runs)
    assert len(text) <= 400
    assert text.startswith("Replications('tiny', seed 2, 2026-01-01 to 2027-01-01 (1 year)")
    assert "2 replications; means: total cost £" in text
    text = repr(three_way)
    assert len(text) <= 400
    assert text.startswith("Comparison(reference 'tiny', seed 3")
    assert "total cost difference: 'hubs' +£" in text and "'voluntary' " in text


def test_a_repr_stays_short_with_a_long_name_and_many_scenarios():
    result = run(tiny(name="x" * 300), seed=1)
    assert len(repr(result)) <= 400 and "..." in repr(result)


# ------------------------------------------------------------------------------ progress


def test_month_ends_step_through_the_horizon():
    ends = month_ends(365.0)
    assert len(ends) == 12 and ends[-1] == 365.0
    assert all(b > a for a, b in zip(ends, ends[1:], strict=False))
    assert month_ends(10.0) == [10.0]
    assert month_ends(2 * 365.25 / 12) == [365.25 / 12, 2 * 365.25 / 12]


def test_progress_is_called_from_the_start_with_increasing_simulated_days():
    calls = []
    scenario = tiny()
    result = run(scenario, seed=1, progress=lambda done, total: calls.append((done, total)))
    days = scenario.horizon_days
    assert calls[0] == (0, days)  # before the run starts
    assert calls[-1] == (days, days)
    done = [d for d, _t in calls]
    assert all(b > a for a, b in zip(done, done[1:], strict=False))
    assert len(calls) == 13  # the start and the end of each month
    assert {t for _d, t in calls} == {days}
    quiet = run(scenario, seed=1)
    assert quiet.summary == result.summary


def test_progress_of_a_whole_life_run_covers_both_runs():
    calls = []
    run_one(tiny(), 1, whole_life_years=2, progress=lambda d, t: calls.append((d, t)))
    total = calls[0][1]
    assert total == 365 + (pd.Timestamp("2029-01-01") - pd.Timestamp("2026-01-01")).days
    done = [d for d, _t in calls]
    assert done[0] == 0 and done[-1] == total
    assert all(b > a for a, b in zip(done, done[1:], strict=False))


def test_stopping_each_month_leaves_the_run_exactly_as_one_run_to_the_horizon():
    scenario = tiny()
    whole = Pipeline(scenario, RandomStreams(5, 0))
    whole.env.run(until=whole.horizon)
    stepped = run_pipeline(scenario, RandomStreams(5, 0), progress=lambda day: None)
    records = whole.population.finished()
    assert set(records) == set(stepped.records)
    for name, column in records.items():
        assert column.tobytes() == stepped.records[name].tobytes(), name
    # SimPy's run(until=...) schedules its stop as events of its own; the model's loop has none
    assert 0 < events_scheduled(whole.env) - stepped.events <= 2


def test_the_simulated_time_bar_is_silent_off_a_terminal_and_with_quiet(monkeypatch, capsys):
    scenario = tiny()
    assert _simulated(False, scenario) is None  # pytest's stderr is not a terminal
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert _simulated(True, scenario) is None
    report = _simulated(False, scenario)
    assert report is not None
    report(0, 365)
    report(31, 365)
    shown = capsys.readouterr().err
    assert "simulated to 2026-02-01" in shown and "31/365" in shown
    report(365, 365)
