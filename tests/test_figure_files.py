"""Figures written by the commands (--plot) and a comparison's self-contained page (--report)."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import tiny_dict
from test_break_even_cli import SHARE, _files
from test_sweep import write_sweep

from simulation.cli import main
from simulation.experiments import replications

PNG = b"\x89PNG\r\n\x1a\n"


SOURCES = {
    "decisions.caseworkers_fte": {
        "kind": "published",
        "publisher": "Home Office",
        "title": "Caseworker numbers",
        "date": "2025-01-01",
        "url": "https://www.gov.uk/example",
    },
    "appeals.judges_fte": {"kind": "guess", "note": "no published figure"},
}


def _scenarios(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(tiny_dict(end_date="2026-07-01", sources=SOURCES)))
    more_judges = tiny_dict(end_date="2026-07-01", appeals={"judges_fte": 6}, sources=SOURCES)
    b.write_text(yaml.safe_dump(more_judges))
    return str(a), str(b)


def test_run_writes_its_figures_as_png_or_svg(tmp_path):
    a, _ = _scenarios(tmp_path)
    assert main(["run", a, "--plot", str(tmp_path / "png"), "--quiet"]) == 0
    written = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert written == ["backlogs_and_hotels.png", "cumulative_cost.png"]
    assert all(p.read_bytes().startswith(PNG) for p in (tmp_path / "png").iterdir())
    args = ["run", a, "--replications", "2", "--plot", str(tmp_path / "svg"), "--quiet"]
    assert main([*args, "--plot-format", "svg"]) == 0
    for path in (tmp_path / "svg").iterdir():
        assert path.suffix == ".svg" and "<svg" in path.read_text()[:2000]


def test_a_plot_folder_that_cannot_be_written_is_refused_before_any_run(
    tmp_path, monkeypatch, capsys
):
    a, _ = _scenarios(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")

    def unreachable(*_args, **_kwargs):
        raise AssertionError("a simulation ran before the output was checked")

    monkeypatch.setattr(replications, "run_one", unreachable)
    assert main(["run", a, "--plot", str(blocker), "--quiet"]) == 2
    assert "--plot" in capsys.readouterr().err


def test_compare_writes_one_page_that_carries_everything(tmp_path):
    a, b = _scenarios(tmp_path)
    report = tmp_path / "sent" / "report.html"
    args = ["compare", a, b, "--replications", "2", "--report", str(report), "--quiet"]
    assert main([*args, "--plot", str(tmp_path / "figs")]) == 0
    page = report.read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', page)
    assert images == [
        "differences",
        "in hotel",
        "appeals pending",
        "awaiting decision",
        "cumulative cost gbp",
    ]
    assert len(list((tmp_path / "figs").glob("*.png"))) == len(images)
    # nothing fetched from elsewhere: no script, no remote image, style or font
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(js|css|png|svg|woff2?)"', page)
    assert "<link" not in page
    # the table, the assumptions and the sources of both scenarios
    assert "difference from" in page and "95% CI" in page
    assert "Assumptions behind these figures" in page and "Caseworkers: 12 FTE" in page
    assert page.count("<h3>") == 2  # each scenario's sources
    assert page.count('<tr class="guess"><td>appeals.judges_fte</td>') == 2
    assert page.count('<a href="https://www.gov.uk/example">') == 2
    section = page[page.index("<h3>") :]
    assert section.index("<td>appeals.judges_fte") < section.index("<td>decisions.caseworkers_fte")


@pytest.mark.slow
def test_break_even_and_sweep_write_their_figures(tmp_path):
    base, offshore = _files(tmp_path)
    args = ["break-even", base, offshore, "--parameter", SHARE, "--metric", "total_cost_gbp"]
    assert main([*args, "--replications", "2", "--plot", str(tmp_path / "be"), "--quiet"]) == 0
    assert [p.name for p in (tmp_path / "be").iterdir()] == ["break_even.png"]
    path, spec = write_sweep(tmp_path)
    out, figs = tmp_path / "sweep", tmp_path / "sweep_figs"
    assert main(["sweep", str(path), "--out", str(out), "--serial", "--plot", str(figs)]) == 0
    names = sorted(p.name for p in figs.iterdir())
    metric = spec["metrics"][0]
    assert names == sorted(f"{metric}_by_{p}.png" for p in spec["parameters"])
