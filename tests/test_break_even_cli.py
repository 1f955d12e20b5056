"""Break-even says what it does: the parameter is named and checked before any run, money is
printed as money, and processes give the serial answer with progress counted to a total."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import tiny, tiny_dict
from test_deterrence import DETERRING

from simulation.cli import main
from simulation.core.errors import InputError
from simulation.experiments import comparison
from simulation.experiments.comparison import (
    break_even,
    money,
    parameter_text,
    plain_number,
)

SHARE = "policies.offshore.deterred_share"
#: the first fixed payment: a parameter in pounds whose break-even is some millions
PAYMENT = "policies.offshore.fixed_payments.0.amount_gbp"
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def _files(tmp_path, policy: dict | None = None):
    base, offshore = tmp_path / "base.yaml", tmp_path / "offshore.yaml"
    base.write_text(yaml.safe_dump(tiny_dict()))
    policies = {"offshore": policy or dict(DETERRING, deterred_share=0.5)}
    offshore.write_text(yaml.safe_dump({"extends": "base.yaml", "policies": policies}))
    return str(base), str(offshore)


def _unreachable(*_args, **_kwargs):
    raise AssertionError("a simulation ran before the input was checked")


# ------------------------------------------------------------------------ the parameter


def test_the_command_needs_the_parameter(tmp_path, capsys):
    base, offshore = _files(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main(["break-even", base, offshore, "--metric", "total_cost_gbp", "--quiet"])
    assert stopped.value.code == 2
    assert "the following arguments are required: --parameter" in capsys.readouterr().err


PROBLEMS = {
    # misspelt: the fields allowed there are listed
    "policies.offshore.deterred_shar": "is not in the policy scenario: no field 'deterred_shar'"
    " here; allowed: enabled,",
    # a policy the policy scenario does not have
    "policies.return_hubs.deterred_share": "the policy scenario has no return_hubs policy "
    "(its policies: offshore)",
    # a misspelt policy name
    "policies.ofshore.deterred_share": "is not in the policy scenario: no field 'ofshore' here;"
    " allowed: offshore",
    "policies.offshore.start_date": "is a date (2026-02-01), not a number",
    "policies.offshore.eligible_routes": "is a list, not a number",
    "policies.offshore.threshold_relocations": "takes whole numbers only (it is 100)",
    "policies.offshore.deterrence": "deterrence was replaced by deterred_share",
    "nationality_groups.high": "is a group of fields (share, grant_rate,",
    "policies.offshore": "is a group of fields (enabled, start_date,",
}


@pytest.mark.parametrize("parameter", list(PROBLEMS))
def test_each_bad_parameter_gets_its_own_message_before_any_run(
    parameter, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(comparison, "run_one", _unreachable)
    base, offshore = _files(tmp_path)
    code = main(
        ["break-even", base, offshore, "--parameter", parameter, "--metric", "total_cost_gbp"]
        + ["--low", "0", "--high", "0.5", "--quiet"]
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert lines == [f"break-even: parameter: {parameter}" + lines[0].split(parameter, 1)[1]]
    assert PROBLEMS[parameter] in lines[0], lines[0]


def test_messages_differ_and_name_no_command_line_flag():
    policy = tiny(policies={"offshore": dict(DETERRING)})
    seen = set()
    for parameter in PROBLEMS:
        with pytest.raises(InputError) as caught:
            break_even(tiny(), policy, parameter, "total_cost_gbp", low=0.0, high=0.5)
        [(field, message)] = caught.value.problems
        assert field == "parameter" and "--" not in message
        seen.add(message.replace(parameter, "PATH"))
    assert len(seen) == len(PROBLEMS)


def test_a_switched_off_policy_and_a_dated_value_are_named(monkeypatch):
    monkeypatch.setattr(comparison, "run_one", _unreachable)
    off = tiny(policies={"offshore": dict(DETERRING, enabled=False)})
    with pytest.raises(InputError, match="switched off .enabled: false."):
        break_even(tiny(), off, SHARE, "total_cost_gbp")
    dated = tiny(decisions={"decisions_per_fte_per_month": {"2026-01-01": 18, "2026-06-01": 20}})
    with pytest.raises(InputError) as caught:
        break_even(tiny(), dated, "decisions.decisions_per_fte_per_month", "total_cost_gbp")
    assert caught.value.problems == [
        (
            "parameter",
            "decisions.decisions_per_fte_per_month holds values by date (2026-01-01, "
            "2026-06-01): name one date, e.g. decisions.decisions_per_fte_per_month.2026-01-01",
        )
    ]


def test_the_range_is_checked_against_the_field_before_any_run(monkeypatch):
    monkeypatch.setattr(comparison, "run_one", _unreachable)
    policy = tiny(policies={"offshore": dict(DETERRING)})

    def problems(**kw) -> list[tuple[str, str]]:
        with pytest.raises(InputError) as caught:
            break_even(tiny(), policy, metric="total_cost_gbp", **kw)
        return caught.value.problems

    assert problems(parameter=SHARE, high=1.5) == [
        ("high", f"{SHARE} cannot be 1.5: must be <= 1.0, got 1.5")
    ]
    assert problems(parameter=SHARE, low=-0.1, high=1.5) == [
        ("low", f"{SHARE} cannot be -0.1: must be >= 0.0, got -0.1"),
        ("high", f"{SHARE} cannot be 1.5: must be <= 1.0, got 1.5"),
    ]
    assert problems(parameter=SHARE, low=0.6, high=0.5) == [
        ("low", "must be below high, got 0.6 and 0.5")
    ]
    assert problems(parameter=SHARE, low=float("nan")) == [
        ("low", "must be a finite number, got nan")
    ]
    assert problems(parameter=PAYMENT) == [
        (
            "low",
            f"give low and high: the policy scenario declares no uncertainty range for {PAYMENT}",
        )
    ]
    assert problems(parameter=PAYMENT, low=0.0)[0][0] == "high"


# ------------------------------------------------------------------------ money


def test_numbers_are_never_in_scientific_notation():
    assert plain_number(62_668_800) == "62,670,000"
    assert plain_number(1.159e-5) == "0.00001159"
    assert plain_number(0.5) == "0.5"
    assert plain_number(-1234.5) == "-1,234"  # round half to even, as Python rounds
    assert plain_number(float("nan")) == "n/a"
    assert money(1e12) == "£1,000.00bn"
    assert money(-2.5e9) == "-£2.50bn"
    assert money(12_345_678) == "£12.3m"
    assert money(45_600) == "£45,600"
    assert money(120.42) == "£120.42"
    assert parameter_text(62_668_800, PAYMENT) == "£62.7m"
    assert parameter_text(0.25, SHARE) == "0.25"


def test_no_crossing_is_said_in_money(tmp_path, capsys):
    costly = dict(
        DETERRING,
        deterred_share=0.0,
        fixed_payments=[{"date": "2026-02-01", "amount_gbp": 1e12}],
    )
    base, offshore = _files(tmp_path, costly)
    code = main(
        ["break-even", base, offshore, "--parameter", SHARE, "--metric", "total_cost_gbp"]
        + ["--low", "0", "--high", "0.5", "--replications", "2", "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "no crossing: the policy's total_cost_gbp stays above the baseline's" in err
    assert re.search(r"mean difference \+£1,000\.\d\dbn at 0 and \+£\d[\d,.]*bn at 0\.5", err), err
    assert not SCIENTIFIC.search(err), err


def test_a_parameter_in_pounds_breaks_even_in_pounds(tmp_path, capsys):
    base, offshore = _files(tmp_path)
    code = main(
        ["break-even", base, offshore, "--parameter", PAYMENT, "--metric", "total_cost_gbp"]
        + ["--low", "0", "--high", "1e9", "--replications", "2", "--seed", "2", "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    headline = out.splitlines()[0]
    assert re.fullmatch(
        rf"total_cost_gbp of the policy equals the baseline's at {re.escape(PAYMENT)} = "
        r"£\d+\.\dm \(95% CI -?£[\d,.]+m? to £[\d,.]+m, 2 replications\)",
        headline,
    ), headline
    assert "policy's own costs £" in out and not SCIENTIFIC.search(out), out


# ------------------------------------------------------------------------ workers, progress


def test_processes_give_the_serial_answer_and_progress_counts_to_the_total():
    policy = tiny(policies={"offshore": dict(DETERRING, relocation_share=0.2)})
    calls: list[tuple[int, int]] = []
    kw = {"parameter": SHARE, "metric": "total_cost_gbp", "replications": 3, "seed": 2}
    serial = break_even(tiny(), policy, progress=lambda d, t: calls.append((d, t)), **kw)
    parallel = break_even(tiny(), policy, workers=2, **kw)
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]  # shown from the start
    assert parallel.per_replication == serial.per_replication
    assert (parallel.value, parallel.ci_low, parallel.ci_high) == (
        serial.value,
        serial.ci_low,
        serial.ci_high,
    )
    assert parallel.decomposition == serial.decomposition
    assert parallel.simulations == serial.simulations > 3 * 4


def test_the_command_takes_workers_and_shows_the_total(tmp_path, capsys, monkeypatch):
    base, offshore = _files(tmp_path)
    args = ["break-even", base, offshore, "--parameter", SHARE, "--metric", "total_cost_gbp"]
    args += ["--replications", "2"]
    asked: list[int | None] = []
    real = comparison.map_ordered

    def spied(function, tasks, workers=1, progress=None):
        asked.append(workers)
        return real(function, tasks, workers, progress)

    monkeypatch.setattr(comparison, "map_ordered", spied)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)  # a bar is drawn
    assert main([*args, "--workers", "2"]) == 0
    assert asked == [2]
    captured = capsys.readouterr()
    assert "replications searched" in captured.err and "2/2" in captured.err
    assert "of eligible crossings must be deterred" in captured.out
    assert main([*args, "--quiet"]) == 0
    serial = capsys.readouterr()
    assert serial.out == captured.out and serial.err == ""
