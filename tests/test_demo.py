"""The live demo: its levers, presets, numbers and words without a browser, then the page
itself, served on loopback and driven in headless Chromium (Debian's, through Playwright).

The browser tests need shiny, playwright and /usr/bin/chromium; without them they are
skipped with the reason, except in CI (ASYLUM_SIM_BROWSER_TESTS=required, set by .ci/run),
where a missing piece is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import InputError, Scenario, run
from simulation.demo import charts, levers, presets, story
from simulation.demo.runner import Run

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "figures" / "demo.png"


def _load(name: str, years: float | None = None) -> Scenario:
    scenario = Scenario.from_yaml(SCENARIOS / name)
    return scenario.with_years(years) if years is not None else scenario


# ------------------------------------------------------------------ levers and presets


def test_levers_left_alone_change_nothing():
    hubs = _load("combined.yaml")
    values = {lever.name: levers.start_value(hubs, lever) for lever in levers.shown(hubs)}
    values[levers.YEARS] = 2
    assert levers.overrides(hubs, values) == {}
    assert levers.apply(hubs, values) == hubs.with_years(2)


def test_a_lever_on_a_dated_schedule_scales_the_whole_schedule():
    baseline = _load("baseline.yaml")
    judges = levers.BY_NAME["judges"]
    start = levers.start_value(baseline, judges)
    assert start == 221
    changed = levers.overrides(baseline, {"judges": 442})
    planned = baseline.appeals.judges_fte
    assert changed["appeals.judges_fte"] == {day: 2 * value for day, value in planned.items()}


def test_policy_levers_show_only_for_their_policy():
    names = {lever.name for lever in levers.shown(_load("baseline.yaml"))}
    assert "hub_capacity" not in names and "caseworkers" in names
    hub_names = {lever.name for lever in levers.shown(_load("return_hubs.yaml"))}
    assert {"hub_capacity", "hub_halt_probability"} <= hub_names
    assert "incentive_payment" not in hub_names


def test_each_lever_says_its_source_or_guess():
    hubs = _load("return_hubs.yaml")
    assert levers.source_text(hubs, levers.BY_NAME["hub_halt_probability"]) == "guess"
    cited = levers.source_text(hubs, levers.BY_NAME["hub_capacity"])
    assert cited.startswith("derived: TGCom24")


def test_values_in_the_address_are_checked_by_the_library():
    hubs = _load("return_hubs.yaml")
    query = {
        "hub_capacity": "-3",
        "hub_halt_probability": "0.25",
        "judges": "many",
        "incentive_payment": "5000",
    }
    values, problems = levers.parse_address(query, hubs)
    assert values == {"hub_halt_probability": 0.25}
    assert any(
        p.startswith("hub_capacity: policies.return_hubs.capacity_people: must be >= 0")
        for p in problems
    )
    assert "judges: must be a number (full-time equivalents), got 'many'" in problems
    assert "incentive_payment: this scenario has no voluntary_return policy to set" in problems


def test_the_baseline_is_the_scenario_with_its_policies_off():
    hubs = _load("combined.yaml", 1)
    off = levers.without_policies(hubs)
    assert all(not config.enabled for config in off.policies.values())
    assert run(off, seed=1, quiet=True).series.equals(
        run(_load("baseline.yaml", 1), seed=1, quiet=True).series
    )


def test_a_broken_file_is_a_preset_with_its_problems(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f"extends: {SCENARIOS / 'return_hubs.yaml'}\nname: broken\n"
        "policies:\n  return_hubs:\n    capacity_people: -5\n"
    )
    found = presets.presets([broken])
    assert [p.key for p in found][:5] == [key for key, _label, _file in presets.SHIPPED]
    assert found[-1].scenario is None
    assert found[-1].problems == ["policies.return_hubs.capacity_people: must be >= 0.0, got -5"]


# ------------------------------------------------------------------ numbers and words


def test_spending_per_year_equals_the_results_yearly_table():
    scenario = _load("return_hubs.yaml", 1.5)
    result = run(scenario, seed=1, quiet=True)
    per_year = charts.yearly_cost(charts.wide(result.series))
    expected = result.yearly()["cost_gbp"]
    assert [str(year) for year in per_year.index] == list(expected.index)
    np.testing.assert_allclose(per_year.to_numpy(), expected.to_numpy(), rtol=1e-12)


def _same(result, expected):
    """Bit for bit the same summary (NaN where the other has NaN) and series."""
    pd.testing.assert_series_equal(
        pd.Series(result.flat_summary()), pd.Series(expected.flat_summary()), check_exact=True
    )
    assert result.series.equals(expected.series)


def test_a_run_streams_both_sides_and_ends_with_the_results_of_run():
    scenario = _load("return_hubs.yaml", 1)
    baseline = levers.without_policies(scenario)
    going = Run(scenario, baseline, seed=2).start()
    seen_days = set()
    while not going.finished:
        seen_days.add(going.snapshot().policy.day)
        time.sleep(0.05)
    snap = going.snapshot()
    assert snap.state == "done", snap.message
    assert len(seen_days) > 2  # the page saw it grow
    _same(snap.policy.result, run(scenario, seed=2, quiet=True))
    _same(snap.baseline.result, run(baseline, seed=2, quiet=True))
    assert snap.seconds_to_first is not None and snap.seconds_to_first <= snap.seconds_to_done


def test_a_stopped_run_stops_between_months():
    scenario = _load("baseline.yaml", 3)
    going = Run(scenario, None, seed=1).start()
    while going.snapshot().policy.series is None:
        time.sleep(0.02)
    going.stop()
    deadline = time.time() + 30
    while not going.finished and time.time() < deadline:
        time.sleep(0.05)
    snap = going.snapshot()
    assert snap.state == "stopped"
    assert snap.policy.result is None and snap.policy.day < snap.policy.total_days


def test_a_refused_run_is_a_message_not_a_traceback():
    def refuse(*_args, **_kw):
        raise InputError("stream", [("seed", "must be a non-negative integer, got -1")])
        yield  # pragma: no cover

    going = Run(_load("baseline.yaml", 1), None, seed=1, stream=refuse).start()
    while not going.finished:
        time.sleep(0.02)
    snap = going.snapshot()
    assert snap.state == "failed"
    assert snap.message == "seed: must be a non-negative integer, got -1"


def test_what_happened_says_why_hubs_barely_move_the_hotels():
    scenario = _load("return_hubs.yaml", 2)
    mine = run(scenario, seed=1, quiet=True)
    theirs = run(levers.without_policies(scenario), seed=1, quiet=True)
    found = story.rows(scenario, charts.wide(mine.series), mine, charts.wide(theirs.series), theirs)
    by_key = {row.key: row for row in found}
    assert by_key["total_cost_gbp"].policy == mine.summary["total_cost_gbp"]
    assert by_key["final_hotel_population"].baseline == theirs.summary["final_hotel_population"]
    said = story.sentences(scenario, found, mine, theirs, scenario.end_date, True)
    hotel = mine.summary["final_hotel_population"] - theirs.summary["final_hotel_population"]
    moved = mine.summary["policies"]["return_hubs"]["transfers"]
    assert said[0].startswith(f"Hotels: {abs(hotel):,.0f} more people in hotels by the end")
    why = [line for line in said if line.startswith("Why:")]
    assert why and f"hubs moved {moved:,} people" in why[0]
    assert "21 days after their appeal rights end" in why[0]


# ------------------------------------------------------------------ in a browser


def _browser_missing() -> str | None:
    for module in ("shiny", "uvicorn", "playwright"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[dev,demo]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo served on a free loopback port, with a broken scenario file on the menu."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("ASYLUM_SIM_BROWSER_TESTS") == "required":
            pytest.fail(f"the browser tests must run here: {missing}")
        pytest.skip(missing)
    broken = tmp_path_factory.mktemp("demo") / "broken.yaml"
    broken.write_text(
        f"extends: {SCENARIOS / 'return_hubs.yaml'}\nname: broken\n"
        "policies:\n  return_hubs:\n    capacity_people: -5\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", "demo", "--port", "0", str(broken)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in server.stdout], daemon=True).start()
    try:
        line = lines.get(timeout=60)
    except queue.Empty:
        server.kill()
        pytest.fail("the demo did not print its address: " + server.stderr.read()[-2000:])
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    assert found, line
    yield found.group(0)
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def browser(demo):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1900})
    yield context.new_page()
    context.close()


def _finished(page, timeout=180_000):
    page.wait_for_selector("#run-status[data-state=done]", timeout=timeout)
    page.wait_for_selector("#numbers-table[data-finished=true]", timeout=30_000)


def _numbers(page) -> dict[tuple[str, str], float]:
    cells = page.locator("#numbers-table td[data-value]")
    found = {}
    for i in range(cells.count()):
        cell = cells.nth(i)
        key = (cell.get_attribute("data-key"), cell.get_attribute("data-side"))
        found[key] = float(cell.get_attribute("data-value"))
    return found


def _hub_image(page) -> str:
    return page.locator("#hub_chart img").get_attribute("src")


@pytest.mark.slow
def test_the_page_loads_streams_a_five_year_run_and_serves_nothing_remote(page, demo):
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    started = time.perf_counter()
    page.goto(demo)  # the default: return hubs for five years
    page.wait_for_selector("#hotel_chart img", timeout=60_000)
    first_chart = time.perf_counter() - started
    assert page.locator("#run-status").get_attribute("data-state") in ("running", "done")
    _finished(page)
    finished = time.perf_counter() - started
    total_days = int(page.locator("#run-status").get_attribute("data-total-days"))
    assert total_days == 1826  # five years from 1 January 2026
    print(
        f"\ndemo: first chart after {first_chart:.1f} s, 5-year run finished after "
        f"{finished:.1f} s (server: {page.locator('#run-status').inner_text()})"
    )
    assert first_chart < finished
    for name in ("hotel_chart", "backlog_chart", "cost_chart", "removals_chart", "hub_chart"):
        assert page.locator(f"#{name} img").get_attribute("src").startswith("data:image/png")
    said = page.locator("#story_ui").inner_text()
    assert "Hotels:" in said and "Cost:" in said
    html = page.content()
    remote = re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html)
    assert remote == []
    assert asked and all(url.startswith((demo, "data:")) for url in asked), asked
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


@pytest.mark.slow
def test_moving_the_hub_capacity_slider_changes_the_hub_chart(page, demo):
    from shiny.playwright import controller

    page.goto(demo + "?preset=return_hubs&years=1")
    _finished(page)
    before_image, before = _hub_image(page), _numbers(page)
    slider = page.locator("[data-lever=hub_capacity] input").get_attribute("id")
    controller.InputSlider(page, slider).set("300")
    page.wait_for_function(
        "src => document.querySelector('#hub_chart img')?.src !== src", arg=before_image
    )
    _finished(page)
    after = _numbers(page)
    assert _hub_image(page) != before_image
    moved = ("policies.return_hubs.transfers", "policy")
    assert after[moved] < before[moved]
    scenario = _load("return_hubs.yaml", 1).with_overrides(
        {"policies.return_hubs.capacity_people": 300}
    )
    assert (
        after[moved]
        == run(scenario, seed=1, quiet=True).summary["policies"]["return_hubs"]["transfers"]
    )
    # the baseline has no hubs, so it did not change
    assert after[("total_cost_gbp", "baseline")] == before[("total_cost_gbp", "baseline")]


@pytest.mark.slow
def test_the_numbers_shown_are_those_of_run_with_the_same_seed(page, demo):
    page.goto(demo + "?preset=voluntary_return&years=1&seed=3")
    page.wait_for_selector("#run-status[data-seed='3']", timeout=60_000)
    _finished(page)
    shown = _numbers(page)
    scenario = _load("voluntary_return.yaml", 1)
    mine = run(scenario, seed=3, quiet=True).summary
    theirs = run(levers.without_policies(scenario), seed=3, quiet=True).summary
    for key, _metric, _label, _unit in story.HEADLINES:
        assert shown[(key, "policy")] == mine[key], key
        assert shown[(key, "baseline")] == theirs[key], key
    assert page.locator("#seed").input_value() == "3"


@pytest.mark.slow
def test_bad_input_is_a_message_on_the_page(page, demo):
    page.goto(demo + "?preset=return_hubs&years=1&hub_halt_probability=1.5&hub_capacity=x")
    problems = page.locator("#problems")
    problems.wait_for(timeout=60_000)
    text = problems.inner_text()
    assert "hub_halt_probability: policies.return_hubs.halt_probability: must be <= 1" in text
    assert "hub_capacity: must be a number (people at once), got 'x'" in text
    page.select_option("#preset", "file1")
    page.wait_for_function(
        "() => document.querySelector('#problems')?.innerText.includes('must be >= 0.0')"
    )
    text = page.locator("#problems").inner_text()
    assert "broken.yaml: policies.return_hubs.capacity_people: must be >= 0.0, got -5" in text
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and 'File "' not in body


@pytest.mark.slow
def test_two_tabs_each_have_their_own_run(browser, demo):
    context = browser.new_context()
    one, two = context.new_page(), context.new_page()
    one.goto(demo + "?preset=return_hubs&years=1")
    two.goto(demo + "?preset=baseline&years=1&judges=400")
    _finished(one)
    _finished(two)
    first, second = _numbers(one), _numbers(two)
    assert ("policies.return_hubs.transfers", "policy") in first
    assert all(side == "policy" for _key, side in second)  # no policy, no baseline column
    judged = _load("baseline.yaml", 1).with_overrides(
        {
            "appeals.judges_fte": {
                day: value * 400 / 221
                for day, value in _load("baseline.yaml").appeals.judges_fte.items()
            }
        }
    )
    expected = run(judged, seed=1, quiet=True).summary
    assert second[("final_backlog_appeals", "policy")] == expected["final_backlog_appeals"]
    # a lever moved in one tab restarts that tab's run only
    from shiny.playwright import controller

    slider = one.locator("[data-lever=hub_capacity] input").get_attribute("id")
    controller.InputSlider(one, slider).set("300")
    one.wait_for_selector("#run-status:not([data-state=done])", timeout=30_000)
    assert two.locator("#run-status").get_attribute("data-state") == "done"
    _finished(one)
    assert _numbers(two) == second
    context.close()
