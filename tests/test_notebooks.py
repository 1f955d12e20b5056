"""Notebooks that cannot rot: every notebook under ``notebooks/`` is executed in a real Jupyter
kernel (this Python), as a reader would run it, and each ends with assertions on its own
results, so a notebook that runs but shows nonsense fails.

The notebooks are stored with their outputs, so that they read on GitHub and in the
documentation site. A fast test checks what each stored notebook shows: it was run top to
bottom in one kernel, without an error, a warning or a number in scientific notation; it has
a title, prose, at least one figure, a conclusion and a last cell of ``assert`` statements.

When the model or a notebook changes, re-execute and store the outputs (and read the diff):

    python tests/test_notebooks.py --update                         # every notebook
    python tests/test_notebooks.py --update notebooks/01_quick_start.ipynb

Without ``--update`` the script executes the notebooks and reports, writing nothing.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: the most one notebook may take, all cells together, on a loaded two-core machine (the
#: notebooks are sized to take a few minutes; this catches one that hangs or has grown)
TIMEOUT_SECONDS = 900
#: the kernel the notebooks run in: this Python (the project's environment), whatever kernels
#: are installed for the user
KERNEL_NAME = "asylum-sim-python"
#: what the notebooks are stored as needing: the standard Python kernel, so that Jupyter
#: opens them with the reader's own
STORED_KERNELSPEC = {
    "name": "python3",
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
}

SCIENTIFIC = re.compile(r"\d\.\d+e[+-]\d+", re.IGNORECASE)
CONCLUSION = re.compile(r"^#+\s*Conclusion", re.MULTILINE | re.IGNORECASE)
TITLE = re.compile(r"^#\s+\S", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookFailed(AssertionError):
    """A notebook's cell raised (its failed assertion included) or the notebook timed out."""


# ---------------------------------------------------------------------- the kernel


def write_kernel_spec(directory: Path) -> Path:
    """A kernel spec under ``directory`` that starts an IPython kernel in this Python."""
    spec = directory / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "asylum-sim (this Python)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return spec


@contextmanager
def kernel_manager() -> Iterator[AsyncKernelManager]:
    """A manager for a kernel running this Python, found only among our own specs (a
    user's own ``python3`` kernel could be another interpreter without the package)."""
    with tempfile.TemporaryDirectory(prefix="asylum-sim-kernel-") as directory:
        write_kernel_spec(Path(directory))
        specs = KernelSpecManager(kernel_dirs=[directory], ensure_native_kernel=False)
        yield AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute(
    notebook: nbformat.NotebookNode, folder: Path, timeout: float = TIMEOUT_SECONDS, name="notebook"
) -> nbformat.NotebookNode:
    """Run every code cell of ``notebook`` in order in a fresh kernel started in ``folder``
    (Jupyter runs a notebook from its own folder), storing the outputs in the notebook.
    Raises :class:`NotebookFailed` naming the cell if one raises, or if all of them together
    take more than ``timeout`` seconds (once the kernel has started)."""
    with kernel_manager() as km:
        client = NotebookClient(
            notebook,
            km=km,
            resources={"metadata": {"path": str(folder)}},  # the kernel's working directory
            record_timing=False,
            startup_timeout=120,
        )
        with client.setup_kernel():  # started within the client's startup_timeout
            deadline = time.monotonic() + timeout
            count = 0
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code":
                    continue
                count += 1
                # what is left of the notebook's time, at least a second for each cell
                client.timeout = max(1, math.ceil(deadline - time.monotonic()))
                try:
                    client.execute_cell(cell, index, execution_count=count)
                except Exception as error:  # CellExecutionError, CellTimeoutError, DeadKernelError
                    text = ANSI.sub("", str(error))  # a traceback's colours, for a CI log
                    raise NotebookFailed(f"{name}, code cell {count}:\n{text}") from None
    notebook.metadata["kernelspec"] = dict(STORED_KERNELSPEC)
    return notebook


def execute_file(path: Path, timeout: float = TIMEOUT_SECONDS) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    return execute(notebook, path.parent, timeout, name=path.name)


# ---------------------------------------------------------------------- what a notebook shows


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def shown_text(cell) -> Iterator[str]:
    """Every text a code cell shows: what it printed and its results as text or HTML."""
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            yield _text(output["text"])
        elif output["output_type"] in ("execute_result", "display_data"):
            for kind in ("text/plain", "text/html", "text/markdown"):
                if kind in output.get("data", {}):
                    yield _text(output["data"][kind])


def structure_problems(notebook, stored: bool = True) -> list[str]:
    """What is wrong with a notebook as a worked example (empty when nothing): it must have
    a title and prose, a ``Conclusion`` heading, at least one figure, a last cell of
    ``assert`` statements, no error, no warning and no number in scientific notation among
    its outputs; when ``stored``, it must also have been run top to bottom in one kernel."""
    problems = []
    cells = notebook["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    markdown = "\n".join(_text(c["source"]) for c in cells if c["cell_type"] == "markdown")
    if (
        not cells
        or cells[0]["cell_type"] != "markdown"
        or not TITLE.search(_text(cells[0]["source"]))
    ):
        problems.append("it does not open with a markdown cell with a '# Title'")
    if len(markdown.split()) < 100:
        problems.append("it has too little prose (fewer than 100 words of markdown)")
    if not CONCLUSION.search(markdown):
        problems.append("it has no markdown heading 'Conclusion'")
    if not code:
        return [*problems, "it has no code cell"]
    if stored:
        counts = [c.get("execution_count") for c in code]
        if counts != list(range(1, len(code) + 1)):
            problems.append(
                f"its code cells were not run once each, in order, in one kernel "
                f"(execution counts {counts}): re-execute it"
            )
    outputs = [o for c in code for o in c.get("outputs", [])]
    if not outputs:
        problems.append("it has no stored outputs")
    if not any("image/png" in o.get("data", {}) for o in outputs):
        problems.append("it shows no figure (no image/png output)")
    for number, cell in enumerate(code, start=1):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                problems.append(f"code cell {number} stored an error: {output.get('ename')}")
            elif output["output_type"] == "stream" and output.get("name") == "stderr":
                first = _text(output["text"]).strip().splitlines()[:1]
                problems.append(f"code cell {number} wrote to stderr (a warning?): {first}")
        for text in shown_text(cell):
            found = SCIENTIFIC.search(text)
            if found:
                problems.append(
                    f"code cell {number} shows {found.group(0)!r}: format numbers for a reader"
                )
    last = _text(cells[-1]["source"]) if cells[-1]["cell_type"] == "code" else ""
    try:
        asserts = [n for n in ast.walk(ast.parse(last)) if isinstance(n, ast.Assert)]
    except SyntaxError:
        asserts = []
    if not asserts:
        problems.append("its last cell is not a code cell of assert statements on its results")
    return problems


# ---------------------------------------------------------------------- the tests


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ should hold the worked examples"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_a_worked_example(path):
    problems = structure_problems(json.loads(path.read_text(encoding="utf-8")))
    assert not problems, (
        f"{path.name}:\n- " + "\n- ".join(problems) + "\n(python tests/test_notebooks.py --update "
        "re-executes and stores the outputs)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_a_kernel_and_its_assertions_hold(path):
    executed = execute_file(path)  # raises, naming the cell, if a cell or assertion fails
    problems = structure_problems(executed, stored=False)
    assert not problems, f"{path.name} executed:\n- " + "\n- ".join(problems)


def _notebook(*sources: str, markdown: str = "") -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell(markdown)] if markdown else []
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nbformat.v4.new_notebook(cells=cells)


def test_the_kernel_is_this_python_and_a_failed_assertion_fails(tmp_path):
    (tmp_path / "here.txt").write_text("x", encoding="utf-8")
    notebook = _notebook(
        "import os, sys\nprint(sys.executable)\nprint(sorted(os.listdir('.')))", "2 + 3"
    )
    executed = execute(notebook, tmp_path, timeout=120)
    printed, result = executed.cells[0].outputs[0]["text"], executed.cells[1].outputs[0]
    assert printed.splitlines() == [sys.executable, "['here.txt']"]  # this Python, its folder
    assert result["data"]["text/plain"] == "5" and executed.cells[1].execution_count == 2
    with pytest.raises(NotebookFailed, match=r"code cell 2:[\s\S]*AssertionError"):
        execute(_notebook("x = 1", "assert x == 2, 'x is not 2'"), tmp_path, timeout=120)


def test_the_time_limit_is_for_the_whole_notebook(tmp_path):
    slow = _notebook("import time\ntime.sleep(2)", "time.sleep(2)")  # each cell within 3 s
    with pytest.raises(NotebookFailed, match="code cell 2"):
        execute(slow, tmp_path, timeout=3)


GOOD = [
    ("markdown", "# A title\n\n" + "Prose about the model. " * 30),
    ("code", "x = 6_493_559_000\nprint(f'£{x / 1e9:.2f}bn')", "£6.49bn\n", True),
    ("markdown", "## Conclusion\n\nThe numbers say so."),
    ("code", "assert 6 < x / 1e9 < 7", None, False),
]


def _stored(cells=GOOD) -> dict:
    built, count = [], 0
    for cell in cells:
        if cell[0] == "markdown":
            built.append({"cell_type": "markdown", "source": cell[1], "metadata": {}})
            continue
        count += 1
        _, source, printed, figure = cell
        outputs = [{"output_type": "stream", "name": "stdout", "text": printed}] if printed else []
        if figure:
            outputs.append(
                {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}}
            )
        built.append(
            {"cell_type": "code", "source": source, "execution_count": count, "outputs": outputs}
        )
    return {"cells": built, "metadata": {}}


def test_the_structure_check_accepts_a_worked_example():
    assert structure_problems(_stored()) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda nb: nb["cells"].pop(0), "'# Title'"),
        (lambda nb: nb["cells"].pop(2), "Conclusion"),
        (lambda nb: nb["cells"].pop(), "assert statements"),
        (lambda nb: nb["cells"][1]["outputs"].pop(), "no figure"),
        (lambda nb: nb["cells"][1].update(outputs=[]), "no stored outputs"),
        (lambda nb: nb["cells"][1].update(execution_count=None), "not run once each"),
        (lambda nb: nb["cells"][3].update(execution_count=5), "not run once each"),
        (
            lambda nb: nb["cells"][1]["outputs"].append(
                {"output_type": "execute_result", "data": {"text/plain": "cost  6.493559e+09"}}
            ),
            "'6.493559e+09'",
        ),
        (
            lambda nb: nb["cells"][1]["outputs"].append(
                {"output_type": "stream", "name": "stderr", "text": "FutureWarning: x"}
            ),
            "stderr",
        ),
        (
            lambda nb: nb["cells"][3]["outputs"].append(
                {"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}
            ),
            "stored an error: AssertionError",
        ),
    ],
)
def test_the_structure_check_finds_what_is_missing(change, problem):
    notebook = _stored()
    change(notebook)
    problems = structure_problems(notebook)
    assert any(problem in p for p in problems), problems


# ---------------------------------------------------------------------- storing outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Execute the notebooks in a Jupyter kernel (this Python) and, with "
        "--update, store their outputs."
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--update", action="store_true", help="write the executed notebooks")
    args = parser.parse_args(argv)
    failed = 0
    for path in [p.resolve() for p in args.notebooks] or NOTEBOOKS:
        started = time.monotonic()
        try:
            executed = execute_file(path)
        except NotebookFailed as error:
            print(f"FAILED {path.name}\n{error}", file=sys.stderr)
            failed += 1
            continue
        seconds = time.monotonic() - started
        problems = structure_problems(executed, stored=False)
        for problem in problems:
            print(f"{path.name}: {problem}", file=sys.stderr)
        failed += bool(problems)
        if args.update:
            nbformat.write(executed, path)
        print(f"{'stored' if args.update else 'ran'} {path.name} in {seconds:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
