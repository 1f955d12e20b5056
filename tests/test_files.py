"""Reading scenario files: every wrong or hostile file gets an error naming the file and the
line (or the field), never a traceback, a hang or a crash; valid files read as before."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, tiny_dict

from simulation import Scenario
from simulation.cli import main
from simulation.core.errors import InputError, ScenarioError
from simulation.inputs import files

SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))
HAS_LIBYAML = bool(yaml.__with_libyaml__)


@pytest.fixture(params=["python", "libyaml"])
def loader(request, monkeypatch):
    """Run a test with each loader: the pure-Python one and libyaml's (when built)."""
    if request.param == "libyaml":
        if not HAS_LIBYAML:
            pytest.skip("PyYAML built without libyaml")
        monkeypatch.setattr(files, "LOADER", files._StrictCLoader)
    else:
        monkeypatch.setattr(files, "LOADER", files._StrictLoader)
    return request.param


def _refusal(path: Path) -> str:
    """The one problem reading ``path`` gives, checking it is a ScenarioError naming it."""
    with pytest.raises(ScenarioError) as excinfo:
        files.read_yaml(path)
    error = excinfo.value
    assert error.origin == str(path)
    (line,) = error.lines()
    return line


def _cli_refusal(path: Path, capsys) -> str:
    """What ``asylum-sim validate`` prints for ``path``: exit code 2, one line, no traceback."""
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err and captured.out == ""
    assert len(lines) == 1 and lines[0].startswith(f"{path}: "), lines
    return lines[0]


# ----------------------------------------------------------------------- encodings

NOT_UTF8 = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", 0, "line 1, column 1"),
    "latin-1": ("name: Caf\xe9 policy\n".encode("latin-1"), 9, "line 1, column 10"),
    "latin-1 line 3": ("a: 1\nb: 2\nname: na\xefve\n".encode("latin-1"), 18, "line 3, column 9"),
}


@pytest.mark.parametrize("case", NOT_UTF8)
def test_text_that_is_not_utf8_is_refused_at_its_first_bad_byte(tmp_path, capsys, case):
    raw, byte, where = NOT_UTF8[case]
    path = tmp_path / "scenario.yaml"
    path.write_bytes(raw)
    line = _refusal(path)
    assert line.startswith("not UTF-8 text") and f"byte {byte} (0x{raw[byte]:02x}" in line
    assert where in line
    assert "not UTF-8 text" in _cli_refusal(path, capsys)


@pytest.mark.parametrize(("encoding", "name"), [("utf-16", "UTF-16"), ("utf-32", "UTF-32")])
def test_utf16_and_utf32_with_a_byte_order_mark_are_named(tmp_path, capsys, encoding, name):
    path = tmp_path / "scenario.yaml"
    path.write_bytes("name: x\n".encode(encoding))  # Python writes the byte-order mark
    line = _refusal(path)
    assert line.startswith("not UTF-8 text: byte 0") and f"{name} byte-order mark" in line
    assert "not UTF-8 text" in _cli_refusal(path, capsys)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path, loader):
    plain, marked = tmp_path / "plain.yaml", tmp_path / "marked.yaml"
    text = yaml.safe_dump(tiny_dict()) + "description: café\n"
    plain.write_text(text, encoding="utf-8")
    marked.write_text(text, encoding="utf-8-sig")
    assert marked.read_bytes().startswith(b"\xef\xbb\xbf")
    assert files.read_yaml(marked) == files.read_yaml(plain)
    assert Scenario.from_yaml(marked).description == "café"


def test_control_characters_are_refused_where_they_are(tmp_path, capsys, loader):
    path = tmp_path / "scenario.yaml"
    path.write_bytes(b"name: x\ndescription: a\x00b\n")  # valid UTF-8, not valid YAML
    line = _refusal(path)
    assert line.startswith("line 2, column 15: character U+0000 is a control character")
    assert "U+0000" in _cli_refusal(path, capsys)


# ----------------------------------------------------------------------- values


IMPOSSIBLE = {
    "30 February": ("start_date: 2026-02-30", "2026-02-30 is not a valid date"),
    "month 13": ("start_date: 2026-13-01", "2026-13-01 is not a valid date"),
    "hour 25": ("start_date: 2026-01-01 25:00:00", "is not a valid date"),
    "not a timestamp": ("start_date: !!timestamp soon", "soon is not a valid date"),
    "not a boolean": ("flag: !!bool maybe", "maybe is not a valid true/false"),
    "integer too long": ("people_per_case: " + "1" * 5000, "is not a valid integer"),
    "not an integer": ("people_per_case: !!int many", "many is not a valid integer"),
}


@pytest.mark.parametrize("case", IMPOSSIBLE)
def test_an_impossible_value_names_its_line(tmp_path, capsys, loader, case):
    text, message = IMPOSSIBLE[case]
    path = tmp_path / "scenario.yaml"
    path.write_text(f"name: x\n{text}\n")
    line = _refusal(path)
    assert line.startswith("line 2, column ") and message in line
    assert message in _cli_refusal(path, capsys)


# ----------------------------------------------------------------------- limits

DEEP = 10_000  # block mappings: 1,000 (10,000 levels of indentation would be 50 MB)
NESTED = {
    "lists": lambda n: "a: " + "[" * n + "]" * n,
    "flow mappings": lambda n: "a: " + "{a: " * n + "1" + "}" * n,
    "block mappings": lambda n: "".join(" " * i + "a:\n" for i in range(n)) + " " * n + "a: 1",
}


@pytest.mark.parametrize("case", NESTED)
def test_nesting_deeper_than_the_limit_is_refused(tmp_path, capsys, loader, case):
    path = tmp_path / "deep.yaml"
    path.write_text(NESTED[case](1000 if case == "block mappings" else DEEP) + "\n")
    line = _refusal(path)
    assert line.startswith("line ") and f"nested more than {files.MAX_DEPTH} levels" in line
    assert "nested more than" in _cli_refusal(path, capsys)
    path.write_text(NESTED[case](files.MAX_DEPTH - 1) + "\n")  # with the top mapping: 100
    assert files.read_yaml(path)["a"] is not None


@pytest.mark.skipif(shutil.which("asylum-sim") is None, reason="console script not installed")
def test_the_console_script_refuses_nesting_that_used_to_crash_libyaml(tmp_path):
    """libyaml builds nested values by recursion in C: 100,000 levels crashed the process."""
    path = tmp_path / "deep.yaml"
    path.write_text(NESTED["lists"](100_000) + "\n")
    completed = subprocess.run(
        ["asylum-sim", "validate", str(path)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2, completed.stderr
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith(f"{path}: line 1, column ") and "nested more than 100" in line


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * (files.MAX_FILE_BYTES - 2) + b"\n")  # one byte over
    with monkeypatch.context() as patched:
        patched.setattr(Path, "open", lambda *a, **k: pytest.fail("a huge file was opened"))
        line = _refusal(path)
    assert line.startswith(f"the file is {files.MAX_FILE_BYTES + 1:,} bytes; files over ")
    assert "5,000,000 bytes are refused" in _cli_refusal(path, capsys)
    path.write_bytes(b"# " + b"x" * (files.MAX_FILE_BYTES - 3) + b"\n")  # at the limit
    assert files.read_yaml(path) is None  # a comment only


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_file_is_refused_after_the_size_limit():
    with pytest.raises(ScenarioError) as excinfo:
        files.read_yaml("/dev/zero")  # its size says 0: reading stops one byte past the limit
    assert excinfo.value.lines() == [
        "the file is over 5,000,000 bytes; files over 5,000,000 bytes are refused (scenario "
        "files are a few KB; one this size is not a scenario, and would take long to read)"
    ]


def _laughs(levels: int, mapping: bool) -> str:
    """The "billion laughs": each anchor holds nine aliases of the one before."""
    if mapping:
        lines = ["x0: &x0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}"]
        lines += [
            f"x{i}: &x{i} {{" + ", ".join(f"k{j}: *x{i - 1}" for j in range(9)) + "}"
            for i in range(1, levels + 1)
        ]
    else:
        lines = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        lines += [
            f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, levels + 1)
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("mapping", [False, True], ids=["lists", "mappings"])
def test_billion_laughs_are_refused(tmp_path, capsys, loader, mapping):
    path = tmp_path / "laughs.yaml"
    path.write_text(_laughs(8, mapping))
    line = _refusal(path)
    assert line.startswith("line ") and "more than 200,000 keys and values" in line
    assert "counting an alias each time" in _cli_refusal(path, capsys)
    path.write_text(_laughs(4, mapping))  # x4 holds 9**5 = 59,049 values: allowed
    assert len(files.read_yaml(path)) == 5


def test_laughs_in_an_extended_file_are_refused(tmp_path, capsys):
    """Aliases were expanded when files were merged: laughs in a parent file took hours."""
    (tmp_path / "parent.yaml").write_text(_laughs(8, mapping=True) + "name: x\n")
    (tmp_path / "small.yaml").write_text("extends: parent.yaml\nname: y\n")
    assert main(["validate", str(tmp_path / "small.yaml")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{tmp_path / 'parent.yaml'}: line ") and "200,000 keys" in line


def test_an_alias_inside_what_it_names_is_refused(tmp_path, capsys, loader):
    path = tmp_path / "loop.yaml"
    path.write_text("name: x\npolicies: &p {offshore: *p}\n")
    line = _refusal(path)
    assert (
        line == "line 2, column 25: alias *p is used inside the value it names (a value "
        "that contains itself)"
    )
    assert "contains itself" in _cli_refusal(path, capsys)


# ----------------------------------------------------------------------- keys and tags


@pytest.mark.parametrize(
    "text",
    [
        "name: !!python/object/apply:os.system ['echo hi']\n",
        "name: !!python/name:os.system\n",
        "name: !!python/object:collections.OrderedDict {}\n",
    ],
)
def test_python_tags_are_refused(tmp_path, capsys, loader, text):
    path = tmp_path / "unsafe.yaml"
    path.write_text(text)
    line = _refusal(path)
    assert line.startswith("malformed YAML: line 1, column 7: could not determine a constructor")
    assert "python/" in _cli_refusal(path, capsys)


def test_a_key_given_twice_is_refused(tmp_path, capsys, loader):
    path = tmp_path / "dup.yaml"
    path.write_text("name: x\nappeals:\n  judges_fte: 4\n  judges_fte: 5\n")
    assert _refusal(path).startswith("malformed YAML: line 4, column 3: found duplicate key")
    assert "'judges_fte'" in _cli_refusal(path, capsys)


def test_a_list_or_mapping_as_a_key_is_refused(tmp_path, capsys, loader):
    path = tmp_path / "key.yaml"
    path.write_text("name: x\n? [a, b]\n: 1\n")
    assert "line 2, column 3: found a key that is a list or mapping" in _refusal(path)
    _cli_refusal(path, capsys)


ROUTE = "route: &route {rate_per_month: 100, claim_share: 0.9, support_share: 0.8}\n"


def test_a_merged_key_is_overridden_by_the_mappings_own(tmp_path, loader):
    path = tmp_path / "merge.yaml"
    path.write_text(ROUTE + "small_boat:\n  <<: *route\n  claim_share: 0.95\n")
    data = files.read_yaml(path)
    assert data["small_boat"] == {"rate_per_month": 100, "claim_share": 0.95, "support_share": 0.8}
    assert data["route"]["claim_share"] == 0.9  # the anchor itself is unchanged
    assert list(data["small_boat"]) == ["rate_per_month", "claim_share", "support_share"]


def test_merging_a_list_of_mappings_lets_the_earlier_win(tmp_path, loader):
    text = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n"
    path = tmp_path / "merge.yaml"
    path.write_text(text)
    assert files.read_yaml(path)["c"] == {"x": 1, "y": 1, "z": 3}
    # as PyYAML merges when no key is given twice
    plain = text.replace("  z: 3\n", "  w: 3\n")
    path.write_text(plain)
    assert files.read_yaml(path) == yaml.safe_load(plain)


def test_merging_keeps_refusing_keys_given_twice(tmp_path, loader):
    path = tmp_path / "merge.yaml"
    path.write_text(ROUTE + "small_boat:\n  <<: *route\n  claim_share: 0.95\n  claim_share: 1\n")
    assert "line 5, column 3: found duplicate key 'claim_share'" in _refusal(path)
    path.write_text(ROUTE + "small_boat:\n  <<: *route\n  <<: *route\n")
    assert "line 4, column 3: found duplicate key '<<'" in _refusal(path)
    path.write_text("a: &a hello\nb:\n  <<: *a\n")
    assert "'<<' merges mappings (or a list of them), found a scalar" in _refusal(path)


def test_a_scenario_can_use_merge_keys(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(tiny_dict()))
    path = tmp_path / "merge.yaml"
    path.write_text(
        "extends: base.yaml\n"
        "arrivals:\n"
        "  small_boat: &boat {rate_per_month: 100, claim_share: 0.9, support_share: 0.8}\n"
        "  other_irregular:\n"
        "    <<: *boat\n"
        "    claim_share: 0.5\n"
    )
    arrivals = Scenario.from_yaml(path).arrivals
    assert (arrivals.other_irregular.rate_per_month, arrivals.other_irregular.claim_share) == (
        100,
        0.5,
    )
    assert arrivals.small_boat.claim_share == 0.9


# ----------------------------------------------------------------------- extends


def _diamonds(tmp_path: Path, levels: int) -> Path:
    """``top{i}`` extends ``left{i}`` and ``right{i}``, which both extend ``top{i-1}``."""
    (tmp_path / "top0.yaml").write_text(yaml.safe_dump(tiny_dict()))
    for i in range(1, levels + 1):
        (tmp_path / f"left{i}.yaml").write_text(
            f"extends: top{i - 1}.yaml\ndecisions: {{caseworkers_fte: {i}}}\n"
        )
        (tmp_path / f"right{i}.yaml").write_text(
            f"extends: top{i - 1}.yaml\nappeals: {{judges_fte: {i}}}\n"
        )
        (tmp_path / f"top{i}.yaml").write_text(
            f"extends: [left{i}.yaml, right{i}.yaml]\nname: level {i}\n"
        )
    return tmp_path / f"top{levels}.yaml"


def test_a_chain_of_diamonds_reads_each_file_once(tmp_path, monkeypatch):
    """Each file was read once per path to it: 2**20 reads of the first, hours; now 61."""
    top = _diamonds(tmp_path, 20)
    reads: list[Path] = []
    read_yaml = files.read_yaml

    def counted(path):
        reads.append(Path(path))
        if len(reads) > 1000:
            pytest.fail("files are read again and again")
        return read_yaml(path)

    monkeypatch.setattr(files, "read_yaml", counted)
    scenario = Scenario.from_yaml(top)
    assert len(reads) == 1 + 3 * 20 and len(set(reads)) == len(reads)
    # right20, merged after left20, brings back the caseworkers every left file changed
    assert (scenario.name, scenario.appeals.judges_fte, scenario.decisions.caseworkers_fte) == (
        "level 20",
        20,
        12,
    )
    reads.clear()
    Scenario.from_yaml(top)  # a new load reads the files again (they may have changed)
    assert len(reads) == 61


def _load_every_path(path: Path) -> dict:
    """How files were loaded before: each parent read again on every path to it."""
    data = dict(files.read_yaml(path) or {})
    parents = data.pop("extends", [])
    merged: dict = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = files.deep_merge(merged, _load_every_path(path.parent / parent))
    return files.deep_merge(merged, data)


def test_a_diamond_chain_merges_as_reading_every_path_did(tmp_path):
    top = _diamonds(tmp_path, 4)
    (tmp_path / "right2.yaml").write_text(  # a list and a nested change, in one branch only
        "extends: top1.yaml\nappeals: {judges_fte: 2}\ndecisions: {caseworkers_fte: 50}\n"
        "households: {single_adult: 0.6, family_member: 0.35, unaccompanied_child: 0.05}\n"
    )
    assert repr(files.load(top)) == repr(_load_every_path(top))
    assert files.load(top)["households"]["single_adult"] == 0.6


@pytest.mark.parametrize(
    "layout",
    [
        {"a": "extends: a.yaml\n"},
        {"a": "extends: b.yaml\n", "b": "extends: a.yaml\n"},
        {"a": "extends: [b.yaml, c.yaml]\n", "b": "x: 1\n", "c": "extends: [b.yaml, a.yaml]\n"},
    ],
    ids=["itself", "two files", "through a diamond"],
)
def test_extends_cycles_are_refused(tmp_path, capsys, layout):
    for name, text in layout.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    with pytest.raises(ScenarioError) as excinfo:
        Scenario.from_yaml(tmp_path / "a.yaml")
    (line,) = excinfo.value.lines()
    assert line.startswith("extends: circular: a.yaml -> ") and line.endswith("-> a.yaml")
    assert "extends: circular: a.yaml -> " in _cli_refusal(tmp_path / "a.yaml", capsys)


def test_a_problem_in_an_extended_file_names_that_file(tmp_path, capsys):
    (tmp_path / "parent.yaml").write_text("name: x\nstart_date: 2026-02-30\n")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\n")
    assert main(["validate", str(tmp_path / "child.yaml")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{tmp_path / 'parent.yaml'}: line 2, column 13: 2026-02-30 is not")


# ----------------------------------------------------------------------- many problems


def test_a_million_problems_show_fifty_lines_and_keep_them_all():
    problems = [(f"field_{i}", "unknown field") for i in range(1_000_000)]
    error = InputError("big.yaml", problems)
    assert len(error.problems) == 1_000_000 and error.problems[-1] == (
        "field_999999",
        "unknown field",
    )
    assert len(error.lines()) == 1_000_000
    shown = error.shown_lines()
    assert len(shown) == 51 and shown[49] == "field_49: unknown field"
    assert shown[50] == "... and 999950 more problem(s)"
    text = str(error).splitlines()
    assert text[0] == "big.yaml: 1000000 problem(s)" and len(text) == 52
    assert (
        InputError("few", problems[:50]).shown_lines() == InputError("few", problems[:50]).lines()
    )


def test_the_command_line_prints_fifty_problems_and_counts_the_rest(tmp_path, capsys):
    data = tiny_dict()
    data.update({f"unknown_{i}": i for i in range(2000)})
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 51 and "Traceback" not in captured.err
    assert lines[0].startswith(f"{path}: unknown_0: unknown field")
    assert lines[-1] == f"{path}: ... and 1950 more problem(s)"


# ----------------------------------------------------------------------- the shipped files


@pytest.mark.skipif(not HAS_LIBYAML, reason="PyYAML built without libyaml")
def test_libyaml_is_used_when_present():
    assert files.LOADER is files._StrictCLoader
    assert issubclass(files._StrictCLoader, yaml.CSafeLoader)


@pytest.mark.skipif(not HAS_LIBYAML, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_loaders_read_every_shipped_file_alike(path):
    text = files.read_text(path)
    python = files.parse_yaml(text, files._StrictLoader)
    libyaml = files.parse_yaml(text, files._StrictCLoader)
    assert python == libyaml and repr(python) == repr(libyaml)  # types and key order too
    assert python == yaml.safe_load(text)  # and as PyYAML's own safe loader reads them


def test_the_shipped_scenarios_are_far_inside_the_limits():
    assert SHIPPED
    for path in SHIPPED:
        assert path.stat().st_size < files.MAX_FILE_BYTES / 100, path
