"""The documentation site builds with ``mkdocs build --strict``, has its pages, shows every
outcome, scenario parameter, published figure and command declared in the code, and loads
nothing from another host (it must work in a classroom or CI without internet).
"""

from __future__ import annotations

import csv
import html
import os
import re
import subprocess
import sys
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from conftest import ROOT
from pydantic import BaseModel

from simulation.inputs.policy_config import registered
from simulation.inputs.scenario import Scenario
from simulation.outputs.outcomes import OUTCOMES

# ---------------------------------------------------------------------- remote assets

#: what makes a page fetch from another host when it is opened
REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//", re.I)
REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>", re.I)
REMOTE_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//", re.I)
REMOTE_URL = re.compile(r"url\(\s*[\"']?\s*(?:https?:)?//", re.I)
#: <link rel=...> kinds that only name a page (not fetched to show this one)
NAVIGATION_LINKS = re.compile(r"\brel\s*=\s*[\"']?(?:canonical|alternate|prev|next|author)\b", re.I)


def remote_assets(text: str) -> list[str]:
    """The scripts, stylesheets (and fonts, preconnects), CSS imports and CSS ``url()``s of a
    page or stylesheet that would be fetched from another host."""
    found = [m.group(0) for m in REMOTE_SCRIPT.finditer(text)]
    found += [m.group(0) for m in REMOTE_LINK.finditer(text) if not NAVIGATION_LINKS.search(m[0])]
    found += [m.group(0) for m in REMOTE_IMPORT.finditer(text)]
    found += [m.group(0) for m in REMOTE_URL.finditer(text)]
    return found


@pytest.mark.parametrize(
    ("text", "remote"),
    [
        ('<script src="https://unpkg.com/iframe-worker/shim"></script>', True),
        ("<script src='//cdn.example.org/require.js'></script>", True),
        ('<script type="text/javascript" src=http://x.org/a.js></script>', True),
        ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">', True),
        ('<link href="https://fonts.gstatic.com" rel="preconnect" crossorigin>', True),
        ('<style>@import url("https://fonts.googleapis.com/css2");</style>', True),
        ("@import 'http://x.org/a.css';", True),
        ("src: url(https://fonts.gstatic.com/s/roboto.woff2)", True),
        ('<script src="../assets/javascripts/bundle.min.js"></script>', False),
        ('<link rel="stylesheet" href="assets/stylesheets/main.css">', False),
        ('<link rel="canonical" href="https://example.org/docs/">', False),
        ('<a href="https://www.gov.uk/">a source</a>', False),
        ("url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>\")", False),
        ("<script>var u = 'https://example.org';</script>", False),
    ],
)
def test_remote_asset_scanner(text, remote):
    assert bool(remote_assets(text)) == remote


# ---------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as CI builds it."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def page(site: Path, source: str) -> Path:
    """The built page of a source page (``use_directory_urls``: ``x.md`` -> ``x/index.html``)."""
    stem = source.rsplit(".", 1)[0]
    if stem == "index" or stem.endswith("/index"):
        return site / (stem + ".html")
    return site / stem / "index.html"


def codes(path: Path) -> set[str]:
    """The text of every inline ``<code>`` of a page."""
    text = path.read_text(encoding="utf-8")
    return {
        html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<code>(.*?)</code>", text)
    }


def sources_pages() -> list[str]:
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    return sorted(p for p in pages if not p.startswith("hooks/"))


GENERATED = ["reference/parameters.md", "reference/cli.md", "background/sources.md"]


def test_every_page_is_built(site):
    expected = [
        *sources_pages(),
        *GENERATED,
        "notebooks/index.md",
        *(f"notebooks/{p.name}" for p in sorted((ROOT / "notebooks").glob("*.ipynb"))),
    ]
    assert {"index.md", "reference/api.md", "tutorial/quick-start.md"} <= set(expected)
    missing = [p for p in expected if not page(site, p).exists()]
    assert not missing, f"pages not built: {missing}"


def test_notebooks_are_rendered_with_their_outputs(site):
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = page(site, f"notebooks/{notebook.name}").read_text(encoding="utf-8")
        assert "jp-OutputArea" in text, f"{notebook.name} shows no outputs"


def test_the_site_loads_nothing_from_another_host(site):
    found = {
        str(path.relative_to(site)): remote_assets(path.read_text(encoding="utf-8"))
        for path in [*site.rglob("*.html"), *site.rglob("*.css")]
    }
    found = {path: assets for path, assets in found.items() if assets}
    assert not found, f"remote assets: {found}"


def test_the_outcome_table_has_every_declared_outcome(site):
    shown = codes(page(site, "outcomes.md"))
    missing = [o.name for o in OUTCOMES if o.name not in shown]
    assert not missing, f"outcomes missing from the site's table: {missing}"


# ---------------------------------------------------------------------- scenario fields


def _nested(annotation: typing.Any) -> Iterator[tuple[str, type[BaseModel]]]:
    """The models a field's type holds, with the path step to reach their fields: "" for a
    model, "[]" for a list of them, ".<key>" for a mapping to them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield "", annotation
        return
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (list, tuple, Sequence):
        for argument in arguments:
            yield from (("[]" + step, model) for step, model in _nested(argument))
    elif origin in (dict, Mapping):
        yield from ((".<key>" + step, model) for step, model in _nested(arguments[1]))
    else:  # a union, an optional, Annotated
        for argument in arguments:
            yield from _nested(argument)


def field_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field of ``model`` and of the models inside it, as a dotted path."""
    hints = typing.get_type_hints(model)  # resolves annotations a later class names
    for name in model.model_fields:
        path = prefix + name
        yield path
        for step, inner in _nested(hints[name]):
            yield from field_paths(inner, f"{path}{step}.")


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.escape(path).replace(re.escape("<key>"), "<[^>]+>"))


def declared_fields() -> list[str]:
    paths = [p for p in field_paths(Scenario) if not p.startswith("policies.")]
    for name, config in registered().items():
        paths += list(field_paths(config, f"policies.{name}."))
    return paths


def test_field_paths_open_nested_models():
    paths = declared_fields()
    assert "arrivals.small_boat.rate_per_month" in paths
    assert "nationality_groups.<key>.grant_rate" in paths
    assert "decisions.fast_track[].certified_share" in paths
    assert "sources.<key>.kind" in paths
    assert "policies.return_hubs.capacity_people" in paths
    assert len(paths) > 150


def test_the_parameter_table_has_every_scenario_field(site):
    shown = codes(page(site, "reference/parameters.md"))
    missing = [
        path
        for path in declared_fields()
        if not any(_pattern(path).fullmatch(code) for code in shown)
    ]
    assert not missing, f"scenario fields missing from the site's parameter table: {missing}"


def test_the_sources_page_has_every_published_figure(site):
    with (ROOT / "simulation" / "data" / "uk_asylum_figures.csv").open(encoding="utf-8") as f:
        keys = [row["key"] for row in csv.DictReader(f)]
    text = html.unescape(page(site, "background/sources.md").read_text(encoding="utf-8"))
    assert keys
    assert not [k for k in keys if k not in text]


def test_the_reference_documents_every_command_and_public_name(site):
    from simulation import __all__ as public
    from simulation.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    cli = page(site, "reference/cli.md").read_text(encoding="utf-8")
    assert not [c for c in commands if f"asylum-sim {c}</code>" not in cli]
    api = page(site, "reference/api.md").read_text(encoding="utf-8")
    headings = set(re.findall(r'<h2 id="[^"]*\.([A-Za-z_]+)"', api))
    assert not [n for n in public if n != "__version__" and n not in headings]


def test_docstring_roles_are_not_shown(site):
    api = page(site, "reference/api.md").read_text(encoding="utf-8")
    assert ":class:" not in api and ":func:" not in api
