"""The language server's pure parts (fast lane): ranges, edits, the noqa comment, the
shadow tree, the hung worker's stack, hover text. The process tests: test_server_lsp.py."""

from __future__ import annotations

import faulthandler
import os
from pathlib import Path

from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from kedro_ml_lint.api import LintResult, PairInfo
from kedro_ml_lint.diagnostics import Location, Severity, Violation
from kedro_ml_lint.fix.noqa import add_noqa_comment, language_of
from kedro_ml_lint.model import NodeSpec, PairSource, build_pair
from kedro_ml_lint.model.catalog import DatasetSpec, Origin
from kedro_ml_lint.reading.catalog import noqa_codes
from kedro_ml_lint.server.hover import hover_facts, hover_markdown, lookup, name_at
from kedro_ml_lint.server.overlay import ShadowTree
from kedro_ml_lint.server.ranges import Span, position_of, replacement, span_of, uri_to_path
from kedro_ml_lint.server.supervisor import innermost_project_frame

# -- ranges ------------------------------------------------------------------------------


def test_a_check_position_is_its_line_and_column_minus_one_over_the_token() -> None:
    text = "model:  # noqa: KML002\n  type: pickle.PickleDataset\n"
    assert span_of(text, 1, 1) == Span(0, 0, 5)  # `model`, not its colon
    assert span_of(text, 2, 9) == Span(1, 8, 28)  # `pickle.PickleDataset`
    # Indentation at the column (a call's line): the line's content from there.
    assert span_of("    pipeline_ml_factory(\n", 1, 1) == Span(0, 0, 24)
    assert span_of(None, 3, 4) == Span(2, 3, 3)  # no text: a point
    assert span_of(text, 10, 1) == Span(9, 0, 0)  # past the end: a point


def test_a_dataset_name_with_namespace_and_parameters_is_one_token() -> None:
    line = '    inputs=["legacy.model", "params:treshold"],\n'
    assert span_of(line, 1, 14) == Span(0, 13, 25)
    assert span_of(line, 1, 30) == Span(0, 29, 44)


def test_uris() -> None:
    assert uri_to_path("file:///tmp/a%20b/catalog.yml") == Path("/tmp/a b/catalog.yml")
    assert uri_to_path("untitled:Untitled-1") is None


@settings(max_examples=examples(400, 2000), deadline=None)
@given(st.text(alphabet="ab\n é𝄞", max_size=30), st.text(alphabet="ab\n é𝄞", max_size=30))
def test_the_replacement_turns_old_into_new(old: str, new: str) -> None:
    change = replacement(old, new)
    if old == new:
        assert change is None
        return
    assert change is not None
    lines = old.split("\n")

    def offset(line: int, column: int) -> int:
        return sum(len(x) + 1 for x in lines[:line]) + column

    start, end = offset(*change.start), offset(*change.end)
    assert old[:start] + change.text + old[end:] == new
    assert position_of(old, start) == change.start


# -- the noqa comment ----------------------------------------------------------------------


def test_noqa_goes_at_the_end_of_the_line_after_any_comment() -> None:
    text = "a:\n  type: x\nscaler:  # remote\n  filepath: s3://b/x\n"
    assert add_noqa_comment(text, 3, ["kml002"], "yaml").splitlines()[2] == (
        "scaler:  # remote  # noqa: KML002"
    )
    assert add_noqa_comment("x: 1   \r\ny: 2\r\n", 1, ["KML001"], "yaml") == (
        "x: 1  # noqa: KML001\r\ny: 2\r\n"
    )


def test_noqa_codes_are_merged_into_a_directive_and_a_bare_one_is_kept() -> None:
    text = "model:  # noqa: KML001 trailing words\n"
    assert add_noqa_comment(text, 1, ["KML003", "KML001"], "yaml") == (
        "model:  # noqa: KML001, KML003 trailing words\n"
    )
    assert add_noqa_comment("model:  # noqa\n", 1, ["KML003"], "yaml") == "model:  # noqa\n"
    assert add_noqa_comment("f(  # noqa\n)\n", 1, ["KML004"], "python") == "f(  # noqa\n)\n"
    assert add_noqa_comment(text, 1, ["KML001"], "yaml") == text  # already there


def test_noqa_never_changes_python_code() -> None:
    continued = "x = 1 + \\\n    2\n"
    assert add_noqa_comment(continued, 1, ["KML001"], "python") == continued
    inside = 'doc = """first\nsecond\n"""\n'
    assert add_noqa_comment(inside, 1, ["KML001"], "python") == inside
    assert add_noqa_comment(inside, 2, ["KML001"], "python") == inside
    assert add_noqa_comment(inside, 3, ["KML001"], "python") == (
        'doc = """first\nsecond\n"""  # noqa: KML001\n'
    )
    call = '    node(fit, "x", "model"),\n'
    assert add_noqa_comment(call, 1, ["KML007"], "python") == (
        '    node(fit, "x", "model"),  # noqa: KML007\n'
    )


def test_noqa_outside_the_text_changes_nothing() -> None:
    assert add_noqa_comment("a: 1\n", 2, ["KML001"], "yaml") == "a: 1\n"
    assert add_noqa_comment("a: 1\n", 0, ["KML001"], "yaml") == "a: 1\n"
    assert add_noqa_comment("a: 1\n", 1, [], "yaml") == "a: 1\n"
    assert language_of("conf/base/catalog.yml") == "yaml"
    assert language_of("pyproject.toml") is None  # no
    assert language_of("README.md") is None


_LINE = st.text(alphabet="ab:# \t'\"-", max_size=20).filter(lambda s: "noqa" not in s)
_CODES = st.lists(st.sampled_from(["KML001", "kml002", "KML205"]), min_size=1, max_size=3)


@settings(max_examples=examples(400, 2000), deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=5), st.data(), _CODES)
def test_noqa_silences_exactly_its_line_as_the_loader_reads_it(lines, data, codes) -> None:
    text = "\n".join(lines) + "\n"
    line = data.draw(st.integers(1, len(lines)))
    new = add_noqa_comment(text, line, codes, "yaml")
    old_lines, new_lines = text.splitlines(), new.splitlines()
    if not old_lines[line - 1].strip():
        assert new == text  # a blank line holds nothing to silence (--add-noqa's rule)
        return
    assert len(new_lines) == len(old_lines)
    assert [x for i, x in enumerate(new_lines) if i != line - 1] == [
        x for i, x in enumerate(old_lines) if i != line - 1
    ]
    assert new_lines[line - 1].startswith(old_lines[line - 1].rstrip())
    assert {c.upper() for c in codes} <= (noqa_codes(new_lines[line - 1]) or set())
    assert add_noqa_comment(new, line, codes, "yaml") == new  # once is enough


# -- the shadow tree ------------------------------------------------------------------------


def _project(root: Path) -> None:
    (root / "conf/base").mkdir(parents=True)
    (root / "conf/base/catalog.yml").write_text("a:\n  type: x\n")
    (root / "src/pkg").mkdir(parents=True)
    (root / "src/pkg/__init__.py").write_text("")
    (root / "data").mkdir()
    (root / "data/big.csv").write_text("x\n")
    (root / ".kedro-ml-lint-cache").mkdir()
    (root / ".kedro-ml-lint-cache/entry.json").write_text("{}")
    (root / "pyproject.toml").write_text("[tool.kedro]\n")


def test_the_shadow_tree_holds_the_buffers_the_disk_and_nothing_of_the_cache(
    tmp_path: Path,
) -> None:
    real, shadow = tmp_path / "real", tmp_path / "shadow"
    _project(real)
    tree = ShadowTree(real, shadow)
    root = tree.sync({"conf/base/catalog.yml": "a:\n  type: y\n"})
    assert root == shadow
    assert (shadow / "conf/base/catalog.yml").read_text() == "a:\n  type: y\n"
    assert (real / "conf/base/catalog.yml").read_text() == "a:\n  type: x\n"  # untouched
    assert (shadow / "src/pkg/__init__.py").is_file()
    assert not (shadow / "src/pkg/__init__.py").is_symlink()  # copied: it resolves in the copy
    assert (shadow / "data").is_symlink() and (shadow / "data/big.csv").read_text() == "x\n"
    assert not (shadow / ".kedro-ml-lint-cache").exists()  # the copy keeps its own cache
    assert os.stat(shadow).st_mode & 0o077 == 0

    # The same buffer again: the file is left alone (its own cache entry still holds).
    before = (shadow / "conf/base/catalog.yml").stat()
    tree.sync({"conf/base/catalog.yml": "a:\n  type: y\n"})
    after = (shadow / "conf/base/catalog.yml").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)

    # The buffer closed, a file deleted and one added on disk: the copy follows the disk.
    (real / "src/pkg/__init__.py").unlink()
    (real / "src/pkg/nodes.py").write_text("x = 1\n")
    tree.sync({})
    assert (shadow / "conf/base/catalog.yml").read_text() == "a:\n  type: x\n"
    assert not (shadow / "src/pkg/__init__.py").exists()
    assert (shadow / "src/pkg/nodes.py").read_text() == "x = 1\n"


def test_paths_in_messages_map_back_to_the_project(tmp_path: Path) -> None:
    tree = ShadowTree(tmp_path / "real", tmp_path / "shadow")
    message = f"{tmp_path}/shadow/conf/base/catalog.yml:3: invalid YAML"
    assert tree.unshadow(message) == f"{tmp_path}/real/conf/base/catalog.yml:3: invalid YAML"


# -- where a hung worker was ----------------------------------------------------------------


def _hung_here(out: Path) -> int:
    with out.open("w") as stream:
        faulthandler.dump_traceback(file=stream)  # what dump_traceback_later writes
    return _hung_here.__code__.co_firstlineno + 2


def test_the_hang_is_placed_at_the_innermost_project_frame_of_the_dump(tmp_path: Path) -> None:
    dump = tmp_path / "dump.txt"
    line = _hung_here(dump)
    text = "Timeout (0:00:30)!\n" + dump.read_text()
    here = Path(__file__).parent
    assert innermost_project_frame(text, (here,)) == (str(Path(__file__)), line)
    assert innermost_project_frame(text, (tmp_path,)) == (None, None)


# -- hover ----------------------------------------------------------------------------------


def _result() -> LintResult:
    pair = build_pair(
        "training",
        [
            NodeSpec("fit_encoder", ("features",), ("encoder",)),
            NodeSpec("fit_model", ("features", "encoder"), ("model",)),
        ],
        [NodeSpec("predict", ("instances", "encoder", "model", "params:cut"), ("scores",))],
        "instances",
        lambda name: DatasetSpec(name, "pickle.PickleDataset", f"data/{name}.pkl", Origin.ENTRY),
    )
    violation = Violation(
        "KML001", "x", Severity.ERROR, "m", "training", "encoder", Location("c.yml", 1, 1)
    )
    return LintResult(
        project=Path("/p"),
        pairs=[PairInfo("training", "instances", PairSource.PIPELINE_ML)],
        violations=[violation],
        facts=[pair],
    )


def test_hover_says_how_each_dataset_reaches_the_model() -> None:
    facts = hover_facts(_result())
    assert hover_markdown("model", facts["model"]) == (
        "**`model`** (kedro-ml-lint)\n\n- pair `training`: artifact (`pickle.PickleDataset` at "
        "`data/model.pkl`), written by training node `fit_model`: in the logged model\n"
    )
    assert "not in the logged model (KML001)" in hover_markdown("encoder", facts["encoder"])
    assert "`input_name`: sent by the caller" in hover_markdown("instances", facts["instances"])
    assert "parameter read at predict time" in hover_markdown("params:cut", facts["params:cut"])
    assert "training only" in hover_markdown("features", facts["features"])
    assert "computed by the inference pipeline" in hover_markdown("scores", facts["scores"])


def test_the_name_under_the_cursor() -> None:
    assert name_at('        inputs=["features", "encoder"],', 29) == "encoder"
    assert name_at("encoder:  # noqa: KML001", 3) == "encoder"
    assert name_at('    "params:cut",', 8) == "params:cut"
    assert name_at("   ", 1) is None
    assert lookup({"encoder": [{"pair": "p"}]}, "'encoder'") == [{"pair": "p"}]
    # a key of parameters.yml is the parameter the pipelines read
    facts = {"params:cut": [{"pair": "p"}], "cut": [{"pair": "q"}]}
    assert lookup(facts, "cut", parameters=True) == [{"pair": "p"}]
    assert lookup(facts, "cut") == [{"pair": "q"}]
    assert lookup(facts, "params:cut", parameters=True) == [{"pair": "p"}]
