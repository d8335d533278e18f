"""Violations about a node's inputs point at the ``node(...)`` call, where the user edits.

The call is recorded while the registry loads; ``# noqa: KML…`` on its first line, or on
the line of the offending input inside it, silences that code there, and
``--show-unused-noqa`` reports such comments that silenced nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from project_factory import PIPELINES as FACTORY_PIPELINES
from project_factory import write_project

from kedro_ml_lint.api import lint_project

# The factory's training pipeline; an inference pipeline with a multi-line ``node(...)`` call
# that misspells its parameter, wrapped by ``pipeline(...)`` (which copies the node).
PIPELINES = (
    FACTORY_PIPELINES.split("def inference")[0].replace(
        "import Pipeline, node", "import Pipeline, node, pipeline"
    )
    + """def inference():
    scoring = Pipeline([
        node(
            predict,
            [
                "instances",
                "scaler",
                "model",
                "params:treshold",{typo_noqa}
            ],
            "predictions",
            name="predict",
        ),{call_noqa}
    ])
    return pipeline(scoring, inputs={{"instances", "scaler", "model"}})
"""
)


def _project(tmp_path: Path, typo_noqa: str = "", call_noqa: str = "") -> Path:
    pipelines = PIPELINES.replace("{typo_noqa}", typo_noqa).replace("{call_noqa}", call_noqa)
    return write_project(tmp_path / "demo", pipelines=pipelines)


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_misspelt_parameter_points_at_the_node_call(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = lint_project(root)
    (kml006,) = [v for v in result.violations if v.code == "KML006"]
    source = root / "src/demo/pipelines.py"
    # The node was copied by ``pipeline(...)``: it keeps the line of its own ``node(`` call.
    assert kml006.location is not None
    assert (kml006.location.path, kml006.location.line) == (
        "src/demo/pipelines.py",
        _line_of(source, "    scoring = Pipeline([") + 1,
    )


def test_noqa_on_the_input_line_silences_that_input(tmp_path: Path) -> None:
    root = _project(tmp_path, typo_noqa="  # noqa: KML006")
    result = lint_project(root)
    assert [v for v in result.violations if v.code == "KML006"] == []
    assert result.unused_noqa == []


def test_noqa_on_the_call_line_silences_its_inputs(tmp_path: Path) -> None:
    root = _project(tmp_path)
    source = root / "src/demo/pipelines.py"
    text = source.read_text().replace(
        "        node(\n            predict,", "        node(  # noqa: KML006\n            predict,"
    )
    source.write_text(text)
    result = lint_project(root)
    assert [v for v in result.violations if v.code == "KML006"] == []


def test_a_bare_or_foreign_noqa_is_not_ours(tmp_path: Path) -> None:
    """In Python a bare ``# noqa`` or ``# noqa: E501`` belongs to flake8 or ruff."""
    for comment in ("  # noqa", "  # noqa: E501"):
        root = _project(tmp_path / comment.strip("# :").replace(" ", ""), typo_noqa=comment)
        codes = {v.code for v in lint_project(root).violations}
        assert "KML006" in codes, comment


@pytest.mark.integration
def test_unused_python_noqa_is_reported(tmp_path: Path) -> None:
    root = _project(tmp_path, typo_noqa="  # noqa: KML006, KML002")
    source = root / "src/demo/pipelines.py"
    run = run_cli("check", root, "--show-unused-noqa")
    line = _line_of(source, "# noqa: KML006, KML002")
    assert run.code == 0, run.stdout + run.stderr
    expected = (
        f"kedro-ml-lint: warning: src/demo/pipelines.py:{line}:1: unused `# noqa` (unused: KML002)"
    )
    assert expected in run.stderr.splitlines(), run.stderr
