"""Notebooks that cannot rot: every code cell of every notebook runs, in order, as in Jupyter."""

from __future__ import annotations

import json

import matplotlib
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_there_is_a_notebook():
    assert NOTEBOOKS, "notebooks/ should hold at least one worked example"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(path.parent)  # Jupyter runs a notebook from its own folder
    namespace = {"__name__": "__notebook__"}
    for number, code in enumerate(code_cells(path), start=1):
        exec(compile(code, f"{path.name}[{number}]", "exec"), namespace)
    import matplotlib.pyplot as plt

    plt.close("all")
