"""The page: a scenario menu, the levers, charts that grow month by month, the headline
numbers beside the baseline and what happened in plain words.

Each browser tab is a Shiny session with its own run. A lever change stops the run in
progress and starts another; the run goes on in a thread, and the page reads how far it has
got a few times a second, so the page never waits for the simulation. Lever values can also
come in the page's address (``/?preset=return_hubs&hub_capacity=2000&years=3``); what the
library refuses there is said on the page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd
from htmltools import Tag, TagList
from shiny import App, Inputs, Outputs, Session, reactive, render, req, ui

from ..core.errors import InputError
from ..inputs.scenario import Scenario
from . import charts, levers, story
from .presets import Preset
from .runner import Run, Snapshot

#: seconds between two looks at a run in progress (the first look comes sooner)
POLL_SECONDS = 1.0
FIRST_POLL_SECONDS = 0.1
DEFAULT_PRESET = "return_hubs"
#: the most years the address may ask for (the slider stops at 10)
MAX_YEARS = 20
#: the download renderer (its name before Shiny 1.5 was ``download``)
_download = getattr(render, "download_button", None) or render.download
#: the chart cards, in page order
CHART_TITLES = {
    "hotel_chart": "Hotel population",
    "backlog_chart": "Backlogs",
    "cost_chart": "Cost per year",
    "removals_chart": "Removals",
    "hub_chart": "Return hubs",
    "offshore_chart": "Offshore",
}

STYLE = """
.lever { margin-bottom: 0.6rem; }
.lever .about { font-size: 0.8rem; color: #555; margin: -0.6rem 0 0 0; }
.lever .source { font-style: italic; }
#messages .alert { white-space: pre-line; }
#numbers_ui table td, #numbers_ui table th { padding: 0.15rem 0.6rem; text-align: right; }
#numbers_ui table td:first-child, #numbers_ui table th:first-child { text-align: left; }
"""


@dataclass(frozen=True)
class Chosen:
    """The scenario the levers make and its baseline, or why there is none."""

    scenario: Scenario | None
    baseline: Scenario | None
    problems: list[str]


def lever_input(lever: levers.Lever, generation: int) -> str:
    """The input's id: a new one each time the levers are drawn, so a value left from the
    previous scenario is never read as this one's."""
    return f"{lever.name}__{generation}"


def lever_ui(lever: levers.Lever, scenario: Scenario, value: float, generation: int) -> Tag:
    label = f"{lever.label} ({lever.unit})"
    if lever.switch:
        control = ui.input_switch(lever_input(lever, generation), label, bool(value))
    else:
        low, high = levers.slider_range(lever, value)
        control = ui.input_slider(
            lever_input(lever, generation), label, low, high, value, step=lever.step
        )
    about = ui.p(
        lever.about,
        " Source: ",
        ui.span(levers.source_text(scenario, lever), class_="source"),
        ".",
        class_="about",
    )
    return ui.div(control, about, class_="lever", **{"data-lever": lever.name})


def page(presets: Sequence[Preset]) -> Tag:
    cards = [
        ui.card(ui.output_image(name, height="auto"), full_screen=True)
        for name, title in CHART_TITLES.items()
        if name in ("hotel_chart", "backlog_chart", "cost_chart", "removals_chart")
    ]
    return ui.page_sidebar(
        ui.sidebar(
            ui.output_ui("preset_menu"),
            ui.output_ui("preset_note"),
            ui.output_ui("levers_ui"),
            ui.hr(),
            ui.input_numeric("seed", "Seed (the same random numbers for both runs)", 1, min=0),
            ui.input_switch("band", "Show a band from replications", False),
            ui.panel_conditional(
                "input.band",
                ui.input_slider("replications", "Replications for the band", 2, 10, 5),
            ),
            ui.download_button("download_png", "Figures (PNG)"),
            ui.download_button("download_csv", "Series (CSV)"),
            width=390,
            open="always",
        ),
        ui.tags.style(STYLE),
        ui.output_ui("messages"),
        ui.output_ui("status"),
        ui.layout_columns(*cards, col_widths=[6, 6, 6, 6]),
        ui.output_ui("policy_cards"),
        ui.layout_columns(
            ui.card(ui.card_header("What happened"), ui.output_ui("story_ui")),
            ui.card(ui.card_header("Numbers"), ui.output_ui("numbers_ui")),
            col_widths=[6, 6],
        ),
        title="Asylum policy simulator: live demo",
        fillable=False,
    )


def make_app(presets: Sequence[Preset], stream: Callable[..., Iterator[Any]] | None = None) -> App:
    """The Shiny app over ``presets``; ``stream`` stands in for :func:`simulation.stream`."""
    by_key = {preset.key: preset for preset in presets}
    first = DEFAULT_PRESET if DEFAULT_PRESET in by_key else presets[0].key

    def server(input: Inputs, output: Outputs, session: Session) -> None:
        generation = reactive.value(0)
        address_messages = reactive.value([])
        address_pending = reactive.value(True)  # the address applies to the first drawing
        current: reactive.Value[Run | None] = reactive.value(None)
        snap: reactive.Value[Snapshot | None] = reactive.value(None)

        @reactive.calc
        def address() -> dict[str, str]:
            return dict(parse_qsl(session.clientdata.url_search().lstrip("?")))

        @render.ui
        def preset_menu() -> Tag:
            asked = address().get("preset")
            selected = asked if asked in by_key else first
            return ui.input_select(
                "preset",
                "Scenario",
                {preset.key: preset.label for preset in presets},
                selected=selected,
            )

        @reactive.calc
        def preset() -> Preset:
            return by_key[req(input.preset())]

        @render.ui
        def preset_note() -> Tag:
            chosen = preset()
            if chosen.scenario is None:
                return ui.p(ui.tags.small(f"From {chosen.origin}"))
            return ui.p(ui.tags.small(chosen.scenario.description or "", f" ({chosen.origin})"))

        @render.ui
        def levers_ui() -> TagList:
            chosen = preset()
            with reactive.isolate():
                n = generation.get() + 1
                generation.set(n)
                pending = address_pending.get()
                address_pending.set(False)
                asked = address() if pending else {}
            if chosen.scenario is None:
                return TagList()
            scenario = chosen.scenario
            given: dict[str, float] = {}
            if pending:
                known = {*levers.BY_NAME, "preset", "seed"}
                problems = [f"{k}: not a setting of the demo" for k in asked if k not in known]
                problems += _preset_problem(asked, by_key)
                if "seed" in asked:
                    if re.fullmatch(r"\d+", asked["seed"]):
                        ui.update_numeric("seed", value=int(asked["seed"]))
                    else:
                        problems.append(
                            f"seed: must be a whole number, 0 or more, got {asked['seed']!r}"
                        )
                given, more = levers.parse_address(asked, scenario)
                problems += more
                if given.get(levers.YEARS, 0) > MAX_YEARS:
                    problems.append(f"years: at most {MAX_YEARS} in the demo")
                    given.pop(levers.YEARS)
                address_messages.set(problems)
            else:
                address_messages.set([])
            return TagList(
                *(
                    lever_ui(lever, scenario, given.get(lever.name, start), n)
                    for lever in levers.shown(scenario)
                    for start in [levers.start_value(scenario, lever)]
                )
            )

        @reactive.calc
        def chosen() -> Chosen:
            picked = preset()
            if picked.scenario is None:
                return Chosen(None, None, [f"{picked.origin}: {p}" for p in picked.problems])
            scenario = picked.scenario
            n = generation.get()
            values = {}
            for lever in levers.shown(scenario):
                values[lever.name] = input[lever_input(lever, n)]()
            try:
                made = levers.apply(scenario, values)
                baseline = levers.without_policies(made)
            except InputError as exc:
                return Chosen(None, None, exc.shown_lines())
            return Chosen(made, baseline if baseline is not made else None, [])

        @reactive.calc
        def seed() -> int | None:
            value = input.seed()
            if value is None or value < 0 or value != int(value):
                return None
            return int(value)

        @reactive.effect
        def _start() -> None:
            made = chosen()
            number = seed()
            replications = input.replications() if input.band() else 1
            with reactive.isolate():
                old = current.get()
            if old is not None:
                old.stop()
            if made.scenario is None or number is None:
                current.set(None)
                return
            current.set(Run(made.scenario, made.baseline, number, replications, stream).start())

        @reactive.effect
        def _look() -> None:
            run = current.get()
            if run is None:
                snap.set(None)
                return
            now = run.snapshot()
            with reactive.isolate():
                before = snap.get()
            if before is not now:
                snap.set(now)
            if not run.finished:
                waited = POLL_SECONDS if now.policy.series is not None else FIRST_POLL_SECONDS
                reactive.invalidate_later(waited)

        session.on_ended(lambda: _stop(current))

        @render.ui
        def messages() -> Tag | None:
            lines = list(address_messages.get())
            made = chosen() if input.preset() else None
            if made is not None:
                lines += made.problems
            if seed() is None:
                lines.append("seed: must be a whole number, 0 or more")
            now = snap.get()
            if now is not None and now.state == "failed":
                lines.append(now.message)
            if not lines:
                return None
            return ui.div(
                ui.strong("Please check: "),
                ui.tags.ul(*(ui.tags.li(line) for line in lines)),
                class_="alert alert-warning",
                role="alert",
                id="problems",
            )

        @render.ui
        def status() -> Tag:
            return _status(snap.get())

        @reactive.calc
        def wides() -> tuple[Any, Any, Snapshot]:
            """Both sides' series so far, one column per metric (the baseline as far as the
            policy has got)."""
            now = snap.get()
            req(now is not None and now.policy.series is not None)
            policy = charts.wide(now.policy.series)
            baseline = None
            if now.baseline is not None:
                baseline = charts.wide(now.baseline.series)
                if not baseline.empty and not policy.empty:
                    baseline = baseline[baseline.index <= policy.index[-1]]
            return policy, baseline, now

        @reactive.calc
        def frame() -> charts.Frame:
            policy, baseline, now = wides()
            made = chosen()
            scenario = made.scenario
            req(scenario is not None)
            return charts.Frame(
                policy,
                baseline,
                scenario.start_date,
                scenario.end_date,
                now.band,
                now.band_dates,
                label=preset().label,
            )

        def chart(name: str) -> Any:
            figure = charts.figure(charts.CHARTS[name][0], frame())
            return {
                "src": charts.png_file(figure),
                "width": "100%",
                "alt": CHART_TITLES[name],
                "id": f"{name}_img",
            }

        @render.image(delete_file=True)
        def hotel_chart() -> Any:
            return chart("hotel_chart")

        @render.image(delete_file=True)
        def backlog_chart() -> Any:
            return chart("backlog_chart")

        @render.image(delete_file=True)
        def cost_chart() -> Any:
            return chart("cost_chart")

        @render.image(delete_file=True)
        def removals_chart() -> Any:
            return chart("removals_chart")

        @render.image(delete_file=True)
        def hub_chart() -> Any:
            return chart("hub_chart")

        @render.image(delete_file=True)
        def offshore_chart() -> Any:
            return chart("offshore_chart")

        @render.ui
        def policy_cards() -> Tag | None:
            made = chosen()
            if made.scenario is None:
                return None
            names = _policy_charts(made.scenario)
            if not names:
                return None
            cards = [
                ui.card(ui.output_image(name, height="auto"), full_screen=True) for name in names
            ]
            return ui.layout_columns(*cards, col_widths=[6] * len(cards))

        @reactive.calc
        def headline() -> tuple[list[story.Row], Snapshot]:
            policy, baseline, now = wides()
            made = chosen()
            req(made.scenario is not None)
            found = story.rows(
                made.scenario,
                policy,
                now.policy.result,
                baseline,
                now.baseline.result if now.baseline is not None else None,
            )
            return found, now

        @render.ui
        def story_ui() -> Tag:
            found, now = headline()
            finished = now.policy.done and (now.baseline is None or now.baseline.done)
            said = story.sentences(
                chosen().scenario,
                found,
                now.policy.result,
                now.baseline.result if now.baseline is not None else None,
                now.policy.reached,
                finished,
            )
            return ui.tags.ul(*(ui.tags.li(line) for line in said), id="story-lines")

        @render.ui
        def numbers_ui() -> Tag:
            found, now = headline()
            return _table(found, preset().label, now)

        @_download(filename="asylum-sim-demo.png", media_type="image/png")
        def download_png() -> Iterator[bytes]:
            made = chosen()
            names = _chart_names(made.scenario)
            title = f"{preset().label}, seed {seed()}"
            yield charts.all_charts_png(frame(), names, title)

        @_download(filename="asylum-sim-demo.csv", media_type="text/csv")
        def download_csv() -> Iterator[bytes]:
            now = snap.get()
            req(now is not None and now.policy.series is not None)
            parts = [now.policy.series.assign(scenario=preset().label)]
            if now.baseline is not None and now.baseline.series is not None:
                parts.append(now.baseline.series.assign(scenario=charts.BASELINE_NAME))
            table = pd.concat(parts, ignore_index=True)
            table = table[["scenario", "date", "metric", "value"]]
            out = io.StringIO()
            table.to_csv(out, index=False)
            yield out.getvalue().encode()

    return App(page(presets), server)


def _stop(current: reactive.Value) -> None:
    with reactive.isolate():
        run = current.get()
    if run is not None:
        run.stop()


def _preset_problem(asked: dict[str, str], by_key: dict[str, Preset]) -> list[str]:
    name = asked.get("preset")
    if name is None or name in by_key:
        return []
    return [f"preset: no scenario {name!r}; the menu has: {', '.join(by_key)}"]


def _policy_charts(scenario: Scenario | None) -> list[str]:
    if scenario is None:
        return []
    return [
        name
        for name, (_draw, policy) in charts.CHARTS.items()
        if policy is not None and policy in scenario.policies and scenario.policies[policy].enabled
    ]


def _chart_names(scenario: Scenario | None) -> list[str]:
    fixed = [name for name, (_draw, policy) in charts.CHARTS.items() if policy is None]
    return fixed + _policy_charts(scenario)


def _status(now: Snapshot | None) -> Tag:
    if now is None:
        return ui.div("No run.", id="run-status", **{"data-state": "none"})
    policy = now.policy
    parts: list[Any] = []
    if policy.series is None:
        parts.append("Starting the run...")
    else:
        parts.append(
            f"Simulated to {policy.reached:%d %B %Y} "
            f"(day {int(policy.day):,} of {policy.total_days:,})."
        )
    if now.state == "band":
        parts.append(f" Band: replication {now.band_done + 1} of the rest...")
    if now.seconds_to_first is not None:
        parts.append(f" First picture after {now.seconds_to_first:.1f} s.")
    if now.seconds_to_done is not None:
        parts.append(f" Finished in {now.seconds_to_done:.1f} s.")
    if now.state == "stopped":
        parts.append(" Stopped.")
    attrs = {
        "data-state": now.state,
        "data-seed": str(now.seed),
        "data-day": str(int(policy.day)),
        "data-total-days": str(policy.total_days),
        "data-first-seconds": f"{now.seconds_to_first}" if now.seconds_to_first else "",
        "data-done-seconds": f"{now.seconds_to_done}" if now.seconds_to_done else "",
    }
    return ui.div(*parts, id="run-status", class_="text-muted small mb-2", **attrs)


def _table(found: list[story.Row], label: str, now: Snapshot) -> Tag:
    def cell(row: story.Row, side: str, value: float | None) -> Tag:
        if value is None:
            return ui.tags.td("")
        return ui.tags.td(
            story.shown(value, row.unit),
            **{"data-key": row.key, "data-side": side, "data-value": repr(float(value))},
        )

    has_baseline = any(row.baseline is not None for row in found)
    head = [ui.tags.th(""), ui.tags.th(label)]
    if has_baseline:
        head += [ui.tags.th("Baseline"), ui.tags.th("Difference")]
    body = []
    for row in found:
        cells = [ui.tags.td(row.label), cell(row, "policy", row.policy)]
        if has_baseline:
            diff = None if row.baseline is None else row.policy - row.baseline
            cells += [cell(row, "baseline", row.baseline), cell(row, "difference", diff)]
        body.append(ui.tags.tr(*cells))
    finished = now.policy.done and (now.baseline is None or now.baseline.done)
    caption = "The run's summary." if finished else "On the date reached so far."
    return ui.tags.table(
        ui.tags.caption(caption),
        ui.tags.thead(ui.tags.tr(*head)),
        ui.tags.tbody(*body),
        class_="table table-sm",
        id="numbers-table",
        **{"data-finished": "true" if finished else "false"},
    )
