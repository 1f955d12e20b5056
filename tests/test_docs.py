"""Docs that cannot rot: every Python code block in the README and docs/ runs, and a block
followed by an ``output`` block prints what that block shows.

An expected output is written right after its code block, separated only by blank lines::

    ```python
    print(1 / 3)
    ```

    ```output
    0.333333
    ```

How printed output is compared with the expected (:func:`output_differences`):

- whitespace is not significant: runs of spaces and line breaks are one separator (a table
  may be laid out differently by another pandas version, not say something different);
- everything that is not a number must be the same text;
- numbers written without a decimal point or exponent (counts, dates, indices) must be equal;
- other numbers may differ by one unit in the last place printed (the expected ``0.333333``
  accepts ``0.333334``: rounding a number computed with different floating-point rounding),
  or by a relative tolerance given on the block: ```` ```output rtol=0.01 ````.

Runs are seeded, so a change of the printed numbers beyond that is a change of the model:
run ``python tests/test_docs.py --update`` to rewrite the expected outputs from the code, and
read the diff before committing it. Paths under ``/tmp/`` in a block are redirected to a
fresh temporary directory, so a block never reads what an earlier run left there.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

BLOCK = re.compile(
    r"```python\n(?P<code>.*?)```(?:[ \t]*\n(?:[ \t]*\n)*```output(?P<options>[^\n]*)\n"
    r"(?P<expected>.*?)```)?",
    re.DOTALL,
)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]  # and docs/ subfolders
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Example:
    page: Path
    number: int
    code: str
    expected: str | None  # None: the block is only run
    rtol: float


def _options(text: str) -> float:
    match = re.search(r"rtol=([0-9.eE+-]+)", text)
    return float(match.group(1)) if match else 0.0


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    return [
        Example(page, number, m["code"], m["expected"], _options(m["options"] or ""))
        for number, m in enumerate(BLOCK.finditer(text), start=1)
    ]


EXAMPLES = [
    pytest.param(example, id=f"{example.page.relative_to(ROOT).as_posix()}:{example.number}")
    for page in PAGES
    for example in examples(page)
]


# ---------------------------------------------------------------------- comparing output


def _pieces(text: str) -> list[str]:
    """Text cut into numbers and the words between them, whitespace normalised."""
    pieces = []
    position = 0
    for match in NUMBER.finditer(text):
        pieces.extend(text[position : match.start()].split())
        pieces.append(match.group())
        position = match.end()
    pieces.extend(text[position:].split())
    return pieces


def _last_place(number: str) -> float:
    """One unit in the last place written: 0.01 for '3.14', 1e4 for '1.2e+05'."""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _is_exact(number: str) -> bool:
    return not any(c in number for c in ".eE")


def numbers_match(actual: str, expected: str, rtol: float = 0.0) -> bool:
    """See the module docstring: exact for whole numbers, else one unit in the last place
    printed or the relative tolerance ``rtol``."""
    a, e = float(actual), float(expected)
    if _is_exact(expected) and _is_exact(actual) and rtol == 0:
        return a == e
    allowed = max(_last_place(expected), _last_place(actual), rtol * abs(e))
    return math.isclose(a, e, rel_tol=0, abs_tol=allowed * (1 + 1e-9))


def output_differences(actual: str, expected: str, rtol: float = 0.0) -> list[str]:
    """Where ``actual`` differs from ``expected`` (empty if it matches)."""
    got, want = _pieces(actual), _pieces(expected)
    problems = []
    for index, (g, w) in enumerate(zip(got, want, strict=False)):
        if NUMBER.fullmatch(w) and NUMBER.fullmatch(g):
            if not numbers_match(g, w, rtol):
                problems.append(f"piece {index}: {g} printed, {w} expected")
        elif g != w:
            problems.append(f"piece {index}: {g!r} printed, {w!r} expected")
        if len(problems) >= 10:
            break
    if len(got) != len(want):
        problems.append(f"{len(got)} pieces printed, {len(want)} expected")
    return problems


# ---------------------------------------------------------------------- running


def run_block(code: str, tmp: Path, name: str = "<docs>") -> str:
    """Run a code block (with /tmp/ redirected to ``tmp``) and return what it printed."""
    code = code.replace("/tmp/", f"{tmp}/")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, name, "exec"), {"__name__": "__docs__"})
    return printed.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES)
def test_code_block_runs_and_prints_what_the_docs_show(example, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    printed = run_block(example.code, tmp_path, f"{example.page.name}:{example.number}")
    if example.expected is not None:
        problems = output_differences(printed, example.expected, example.rtol)
        assert not problems, (
            f"{example.page.name} block {example.number} printed\n{printed}\n"
            f"not the output the page shows:\n" + "\n".join(problems)
        )


def test_pages_show_expected_output():
    """The pages this check covers show what their examples print."""
    with_output = {e.page.name for e in (p.values[0] for p in EXAMPLES) if e.expected}
    assert {"scenarios.md", "sweeps.md"} <= with_output


@pytest.mark.parametrize(
    ("printed", "expected", "rtol", "matches"),
    [
        ("a  b\n c", "a b c", 0, True),  # whitespace is not significant
        ("0.333334", "0.333333", 0, True),  # one unit in the last place
        ("0.333335", "0.333333", 0, False),
        ("78", "78", 0, True),
        ("79", "78", 0, False),  # whole numbers exactly
        ("1.234571e+09", "1.234568e+09", 0, False),
        ("1.234569e+09", "1.234568e+09", 0, True),
        ("103.0", "100.0", 0.05, True),  # a relative tolerance given on the block
        ("110.0", "100.0", 0.05, False),
        ("final 12", "final 12 extra", 0, False),  # nothing missing
        ("mean 0.5", "median 0.5", 0, False),  # words exactly
        ("2026-01-01", "2026-01-02", 0, False),
    ],
)
def test_output_comparison_rule(printed, expected, rtol, matches):
    assert (not output_differences(printed, expected, rtol)) == matches


def test_a_block_and_its_output_are_paired(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nprint(2 + 2)\n```\n\n```output\n4\n```\n\ntext\n\n```python\nx = 1\n```\n"
        "\n```output rtol=0.1\n```\n\n```python\npass\n```\n",
        encoding="utf-8",
    )
    found = examples(page)
    assert [(e.code, e.expected, e.rtol) for e in found] == [
        ("print(2 + 2)\n", "4\n", 0.0),
        ("x = 1\n", "", 0.1),
        ("pass\n", None, 0.0),
    ]
    assert not output_differences(run_block(found[0].code, tmp_path), found[0].expected)
    assert output_differences(run_block("print(5)", tmp_path), found[0].expected)


# ---------------------------------------------------------------------- updating


def update(pages: list[Path]) -> None:
    """Rewrite every expected output block from what its code prints now."""
    import os
    import tempfile

    os.chdir(ROOT)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        pieces, position = [], 0
        for number, match in enumerate(BLOCK.finditer(text), start=1):
            if match["expected"] is None:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                printed = run_block(match["code"], Path(tmp), f"{page.name}:{number}")
            pieces.append(text[position : match.start("expected")])
            pieces.append(printed if printed.endswith("\n") or not printed else printed + "\n")
            position = match.end("expected")
        pieces.append(text[position:])
        new = "".join(pieces)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"updated {page.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--update"]:
        sys.exit("usage: python tests/test_docs.py --update [PAGE.md ...]")
    update([Path(p).resolve() for p in sys.argv[2:]] or PAGES)
