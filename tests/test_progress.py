"""Progress bars: drawn where somebody watches, silent in a log, closed on an interrupt."""

from __future__ import annotations

import io

from simulation.core import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_counter_draws_a_bar_from_the_start_to_the_total(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    report = progress.counter("replications", "run")
    report(0, 3)
    assert "replications" in screen.getvalue() and "0/3" in screen.getvalue()
    report(1, 3)
    report(3, 3)
    assert "3/3" in screen.getvalue()
    assert not progress._OPEN  # finished: closed


def test_nothing_is_drawn_in_a_log_or_when_quiet(monkeypatch):
    log = io.StringIO()  # not a terminal: a pipe, a file, a CI log
    monkeypatch.setattr("sys.stderr", log)
    report = progress.counter("runs")
    for done in range(101):
        report(done, 100)
    assert log.getvalue() == ""
    assert progress.counter("runs", quiet=True) is None


def test_an_interrupt_closes_the_open_bars_so_a_message_starts_on_its_own_line(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    report = progress.counter("runs")
    report(2, 10)
    assert progress.close_all() is True
    assert screen.getvalue().endswith("\n")
    assert progress.close_all() is False


def test_compare_shows_its_bar_before_the_first_run_ends(tmp_path, monkeypatch):
    from conftest import tiny

    from simulation.cli import main
    from simulation.experiments import replications

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    shown_before_each_run: list[str] = []
    real = replications.evaluate

    def watched(point):
        shown_before_each_run.append(screen.getvalue())
        return real(point)

    monkeypatch.setattr(replications, "evaluate", watched)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    tiny().with_years(0.5).to_yaml(a)
    tiny(appeals={"judges_fte": 6}).with_years(0.5).to_yaml(b)
    assert main(["compare", str(a), str(b), "--replications", "2"]) == 0
    assert "0/4" in shown_before_each_run[0]  # the bar is there as the first run starts
    assert "4/4" in screen.getvalue()


def test_python_calls_show_a_bar_unless_told_to_be_quiet(monkeypatch):
    from conftest import tiny

    from simulation import compare, run

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    scenario = tiny().with_years(0.25)
    run(scenario, seed=1, replications=2)
    assert "replications" in screen.getvalue() and "2/2" in screen.getvalue()
    run(scenario, seed=1)
    assert "simulated" in screen.getvalue()
    compare([scenario, tiny(appeals={"judges_fte": 6}).with_years(0.25)], replications=2)
    assert "runs" in screen.getvalue() and "4/4" in screen.getvalue()
    shown = screen.getvalue()
    run(scenario, seed=1, replications=2, quiet=True)
    compare([scenario, scenario], replications=2, quiet=True)
    assert screen.getvalue() == shown
