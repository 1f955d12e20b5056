"""Notebooks that cannot rot: every code cell of every notebook runs, in order, as in Jupyter,
and prints what the notebook shows.

Each code cell runs in one namespace from the notebook's folder. What it prints, and the repr
of its last line when that is an expression (Jupyter's ``text/plain`` result), must match the
cell's saved ``stream`` and ``execute_result`` outputs, with the rule of
:func:`test_docs.output_differences` (whitespace not significant; whole numbers exactly;
other numbers to one unit in the last place printed). Figures are not compared.

A notebook must have saved text outputs to compare. When the model changes, rewrite them with
``python tests/test_notebooks.py`` (it runs each notebook and saves its text outputs) and read
the diff before committing it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import sys
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from conftest import ROOT
from test_docs import output_differences

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def saved_text(cell: dict) -> str | None:
    """The text a cell showed when saved (printed, then its result), None if none."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream" and output.get("name") == "stdout":
            parts.append(_text(output["text"]))
        elif output["output_type"] == "execute_result" and "text/plain" in output["data"]:
            parts.append(_text(output["data"]["text/plain"]))
    return "\n".join(parts) if parts else None


def run_cell(source: str, namespace: dict, name: str) -> tuple[str, str | None]:
    """Run one cell as Jupyter does: (what it printed, repr of its result or None)."""
    tree = ast.parse(source, name)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, name, "exec"), namespace)
        value = eval(compile(last, name, "eval"), namespace) if last is not None else None
    return printed.getvalue(), (repr(value) if value is not None else None)


def execute(path: Path) -> list[tuple[str, str | None]]:
    """Run every code cell of a notebook from its folder; each cell's (printed, result)."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__notebook__"}
    shown = []
    stack = contextlib.ExitStack()
    here = os.getcwd()
    os.chdir(path.parent)  # Jupyter runs a notebook from its own folder
    try:
        # pandas in a Jupyter kernel shows up to 20 columns, wrapped (in a terminal it
        # truncates them to fit the width)
        stack.enter_context(pd.option_context("display.max_columns", 20))
        for number, cell in enumerate(code_cells(path), start=1):
            shown.append(run_cell(_text(cell["source"]), namespace, f"{path.name}[{number}]"))
    finally:
        stack.close()
        os.chdir(here)
        plt.close("all")
    return shown


def test_there_is_a_notebook():
    assert NOTEBOOKS, "notebooks/ should hold at least one worked example"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_its_saved_output(path):
    cells = code_cells(path)
    expected = [saved_text(cell) for cell in cells]
    assert any(e is not None for e in expected), (
        f"{path.name} has no saved text output to check: run python tests/test_notebooks.py"
    )
    for number, (cell_expected, (printed, result)) in enumerate(
        zip(expected, execute(path), strict=True), start=1
    ):
        if cell_expected is None:
            continue
        shown = "\n".join(part for part in (printed, result) if part)
        problems = output_differences(shown, cell_expected)
        assert not problems, (
            f"{path.name} cell {number} shows\n{shown}\nnot its saved output:\n"
            + "\n".join(problems)
        )


def test_a_cell_shows_what_it_prints_and_its_last_value():
    namespace: dict = {}
    assert run_cell("x = 2\nprint('x is', x)\nx + 1", namespace, "a") == ("x is 2\n", "3")
    assert run_cell("x + 1;", namespace, "b") == ("", None)  # a semicolon hides the result
    assert run_cell("y = x", namespace, "c") == ("", None)
    saved = {"outputs": [{"output_type": "stream", "name": "stdout", "text": ["x is 2\n"]}]}
    assert saved_text(saved) == "x is 2\n"
    assert saved_text({"outputs": []}) is None


# ---------------------------------------------------------------------- saving outputs


def save_outputs(path: Path) -> None:
    """Run a notebook and save each cell's printed text and result (figures are not
    saved), numbering the cells as Jupyter would."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    shown = iter(execute(path))
    count = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        count += 1
        printed, result = next(shown)
        outputs = []
        if printed:
            outputs.append(
                {"name": "stdout", "output_type": "stream", "text": printed.splitlines(True)}
            )
        if result is not None:
            outputs.append(
                {
                    "data": {"text/plain": result.splitlines(True)},
                    "execution_count": count,
                    "metadata": {},
                    "output_type": "execute_result",
                }
            )
        cell["execution_count"] = count
        cell["outputs"] = outputs
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"saved the outputs of {path.relative_to(ROOT)}")


if __name__ == "__main__":
    for notebook in [Path(p).resolve() for p in sys.argv[1:]] or NOTEBOOKS:
        save_outputs(notebook)
