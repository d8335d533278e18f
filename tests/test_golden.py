"""Golden files: every output format of ``examples/churn-broken``, byte for byte.

Each case runs the real CLI in-process (click's ``CliRunner``: no subprocess, so these stay in
the fast lane) on a copy of the example and compares its stdout with ``tests/golden/<file>``.
Any change to an output — a message, an order, a field — fails here. The example has errors
only; how warnings read (text and Markdown) is pinned on two more copies: the example with one
warning added (KML206), and the clean example with that warning as its only finding.

When a change is intended, rewrite the files and review them like code::

    KML_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
    git diff tests/golden/

What differs between machines (the project's absolute path and URI, kedro-ml-lint's version) is
replaced by placeholders in one place, ``normalise``; never edit a golden file by hand.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from kedro_ml_lint._version import __version__
from kedro_ml_lint.cli import main

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KML_UPDATE_GOLDEN") == "1"

# (golden file, CLI arguments after the project folder, expected exit code)
CASES = [
    ("check.txt", ["check", "--format", "text"], 1),
    ("check.json", ["check", "--format", "json"], 1),
    ("check.sarif", ["check", "--format", "sarif"], 1),
    ("check.github.txt", ["check", "--format", "github"], 1),
    ("check.md", ["check", "--format", "markdown"], 1),
    ("graph.mmd", ["graph", "--format", "mermaid"], 0),
    ("graph.dot", ["graph", "--format", "dot"], 0),
    ("graph.json", ["graph", "--format", "json"], 0),
]
# The same, on projects with warnings: (golden file, project fixture, arguments, exit code).
WARNING_CASES = [
    ("check-with-a-warning.txt", "with_a_warning", ["check", "--format", "text"], 1),
    ("check-with-a-warning.md", "with_a_warning", ["check", "--format", "markdown"], 1),
    ("check-warnings-only.txt", "warnings_only", ["check", "--format", "text"], 0),
    ("check-warnings-only.md", "warnings_only", ["check", "--format", "markdown"], 0),
]
# Golden files that other modules check (each beside the test that writes it).
OWNED_ELSEWHERE = [
    "show-settings.txt",  # tests/test_cli_conventions.py
    "check-did-you-mean.txt",  # tests/test_did_you_mean.py
]
# The example's `training` pair, asking its served model to deep-copy artifacts (KML206).
DEEPCOPY = (
    'input_name="instances",\n    )',
    'input_name="instances",\n        kpm_kwargs={"copy_mode": "deepcopy"},\n    )',
)


def normalise(text: str, project: Path) -> str:
    """Replace what varies between machines and releases by placeholders."""
    text = text.replace(project.as_uri(), "file://<PROJECT>")
    text = text.replace(str(project), "<PROJECT>")
    # Only our own version: SARIF's "version": "2.1.0" is the format's and must stay.
    return re.sub(
        rf'"(version|semanticVersion)": "{re.escape(__version__)}"', r'"\1": "<VERSION>"', text
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy, so that importing the project writes no bytecode into the repository."""
    target = tmp_path_factory.mktemp("golden") / "churn-broken"
    shutil.copytree(
        EXAMPLES / "churn-broken", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return target


def _with_deepcopy(source: Path, target: Path) -> Path:
    """A copy of ``source`` whose `training` pair deep-copies its artifacts (KML206)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    [registry] = target.glob("src/*/pipeline_registry.py")
    text = registry.read_text(encoding="utf-8")
    assert DEEPCOPY[0] in text
    registry.write_text(text.replace(*DEEPCOPY), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def with_a_warning(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The broken example plus one warning: eight errors and a KML206."""
    folder = tmp_path_factory.mktemp("golden")
    return _with_deepcopy(EXAMPLES / "churn-broken", folder / "churn-broken")


@pytest.fixture(scope="module")
def warnings_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean example plus one warning: a KML206 and nothing else."""
    return _with_deepcopy(EXAMPLES / "churn", tmp_path_factory.mktemp("golden") / "churn")


@pytest.mark.usefixtures("_cli_side_effects_undone")
@pytest.mark.parametrize(("name", "args", "exit_code"), CASES, ids=[case[0] for case in CASES])
def test_output_matches_golden_file(
    project: Path, name: str, args: list[str], exit_code: int
) -> None:
    _assert_golden(project, name, args, exit_code)


@pytest.mark.usefixtures("_cli_side_effects_undone")
@pytest.mark.parametrize(
    ("name", "fixture", "args", "exit_code"), WARNING_CASES, ids=[c[0] for c in WARNING_CASES]
)
def test_warnings_match_golden_file(
    request: pytest.FixtureRequest, name: str, fixture: str, args: list[str], exit_code: int
) -> None:
    _assert_golden(request.getfixturevalue(fixture), name, args, exit_code)


def _assert_golden(project: Path, name: str, args: list[str], exit_code: int) -> None:
    # Outside GitHub Actions, whatever runs the suite: there the default format and paths change.
    env = {"NO_COLOR": "1", "GITHUB_ACTIONS": None, "GITHUB_WORKSPACE": None}
    result = CliRunner().invoke(main, [args[0], str(project), *args[1:]], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.stderr
    assert result.exit_code == exit_code, result.stderr
    actual = normalise(result.stdout, project)
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="")
    assert golden.is_file(), f"no {golden}: run with KML_UPDATE_GOLDEN=1 to create it"
    assert actual == golden.read_text(encoding="utf-8"), (
        f"`{' '.join(args)}` changed; if intended: KML_UPDATE_GOLDEN=1 pytest tests/test_golden.py"
    )


def test_every_golden_file_has_a_case() -> None:
    """A renamed or dropped case must not leave a stale file that nothing checks."""
    names = [case[0] for case in CASES] + [case[0] for case in WARNING_CASES] + OWNED_ELSEWHERE
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(names)


def test_normalise_replaces_only_what_varies(tmp_path: Path) -> None:
    project = tmp_path / "churn-broken"
    text = (
        f'{{"project": "{project}", "uri": "{project.as_uri()}/", '
        f'"version": "{__version__}", "sarif": {{"version": "2.1.0"}}, "note": "{__version__}"}}'
    )
    assert normalise(text, project) == (
        '{"project": "<PROJECT>", "uri": "file://<PROJECT>/", '
        f'"version": "<VERSION>", "sarif": {{"version": "2.1.0"}}, "note": "{__version__}"}}'
    )
