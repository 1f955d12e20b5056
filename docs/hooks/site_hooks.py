"""What the documentation site adds to the Markdown pages under docs/ when it is built
(``mkdocs.yml``, ``hooks:``).

- The notebooks under ``notebooks/`` become pages, rendered from their stored outputs (they
  are executed by the tests, not by the build), each listed under *Notebooks* in the nav.
- The reference pages are written from the code on every build: the scenario parameters, the
  published figures and the command line's help (``reference_tables.py``), and the outcomes
  page, whose table is ``simulation.outputs.outcomes.reference_table()`` whatever the
  committed docs/outcomes.md says.
- Cross-reference roles of the docstrings (``:func:`run```) are shown as plain code.
- The site loads nothing from another host: a notebook page's empty MathJax script tag (the
  notebooks hold no mathematics) is dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from reference_tables import cli_page, figures_page, parameters_page

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_SECTION = "Notebooks"
OUTCOMES_PAGE = "outcomes.md"
GENERATED = {
    "reference/parameters.md": parameters_page,
    "background/sources.md": figures_page,
    "reference/cli.md": cli_page,
}
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|data|mod|exc|obj|const):(?=<code|<a )")
EMPTY_SCRIPT = re.compile(r'<script src="">\s*</script>')


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _section(nav: list[Any], title: str) -> list[Any] | None:
    for item in nav:
        if isinstance(item, dict):
            for key, value in item.items():
                if key == title and isinstance(value, list):
                    return value
                if isinstance(value, list) and (found := _section(value, title)) is not None:
                    return found
    return None


def on_config(config: Any) -> Any:
    """List every notebook in the nav's Notebooks section (new ones appear without an edit)."""
    section = _section(config["nav"] or [], NOTEBOOK_SECTION)
    if section is not None:
        listed = {str(item) for item in section if isinstance(item, str)}
        for path in notebooks():
            uri = f"notebooks/{path.name}"
            if uri not in listed:
                section.append(uri)
    return config


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: Any) -> Files:
    for path in notebooks():
        # a File read from the source tree (mkdocs-jupyter reads it by its src_dir)
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    readme = NOTEBOOKS / "README.md"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        files.append(File.generated(config, "notebooks/index.md", content=text))
    for uri, write in GENERATED.items():
        files.append(File.generated(config, uri, content=write()))
    return files


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri == OUTCOMES_PAGE:
        from simulation.outputs.outcomes import reference_table

        return reference_table()
    return markdown


def on_page_content(html: str, **_: Any) -> str:
    return ROLE.sub("", html)


def on_post_page(output: str, **_: Any) -> str:
    return EMPTY_SCRIPT.sub("", output)
