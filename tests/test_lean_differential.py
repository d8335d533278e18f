"""The lean environment's verdict is the full one's, or an exit 2 that names a real reason.

Each case is a fixture project of one Kedro era (tests/fixtures/kedro0XX-*, or a Kedro 1.x
project from tests/project_factory.py) with the files of
tests/fixtures/lean-differential/<case>/ laid over it: nodes typed the way that era's
templates wrote them (``typing`` generics, no ``from __future__ import annotations``),
optional imports of a library missing everywhere (xgboost, lightgbm, catboost, torch) and of one
only the full environment has (pandas), dataclasses, enums, ``Protocol``, ``TypeVar`` bounds
and ``functools`` caches over a library's classes, and one registry where scikit-learn's
real value decides the pipelines.

Every case is checked against the full environment with ``--no-lite --no-cache`` (the
oracle: every library imported for real): in the full environment as users run it (lite and
deferred import), in the lean environment (kedro-ml-lint alone, as the pre-commit hook
installs it) and, for projects of 0.17 to 0.19, where ``KML_KEDRO019_PYTHON`` names one
(``.ci/run`` sets it), in a Kedro 0.19 environment without pandas or scikit-learn. Each must
give the oracle's (pipeline, code, subject) set and exit code — or, only where the library
is missing and a case's pipelines its value shapes, exit 2 on one line naming that project
line and the library.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CliRun, run_cli, tree_digest
from project_factory import write_project

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures"
OVERLAYS = FIXTURES / "lean-differential"
Verdict = frozenset[tuple[str, str, str | None]]
# `kedro-ml-lint: error: <file>:<line>: <message>` (docs/design.md §4).
ERROR = re.compile(r"^kedro-ml-lint: error: (?P<path>[^:\s]+\.py):(?P<line>\d+): (?P<message>.+)$")


@dataclass(frozen=True)
class Case:
    """A fixture project with an overlay, and what the full environment says of it."""

    fixture: str | None  # None: a Kedro 1.x project written by tests/project_factory.py
    overlay: str
    verdict: Verdict  # the oracle's (pipeline, code, subject) set
    shaped_by: str | None = None  # a library whose value decides the pipelines: exit 2 where
    marker: str | None = None  # it is missing, naming the line holding this text
    # Modules the full environment lacks too, imported by the project's settings or hooks
    # (kedro-viz, Kedro 0.17's `kedro.versioning`): `--no-lite` cannot load such a project
    # anywhere, so the oracle stands in for these and nothing else (asserted).
    missing_everywhere: tuple[str, ...] = ()

    def build(self, folder: Path) -> Path:
        project = folder / self.overlay
        if self.fixture is None:
            write_project(project)
        else:
            shutil.copytree(
                FIXTURES / self.fixture, project, ignore=shutil.ignore_patterns("__pycache__")
            )
        layer = OVERLAYS / self.overlay
        for source in sorted(layer.rglob("*")):
            if source.is_file() and "__pycache__" not in source.parts:
                target = project / source.relative_to(layer)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
        return project


CASES = (
    # 1.x (the installed Kedro's era): `Tuple`/`Dict`/`Optional` nodes, `try: import torch`
    # deciding a node and which model inference reads. Kedro 0.19 cannot read it.
    Case(None, "kedro1-typed-factory", frozenset()),
    # 0.17: `Tuple`/`Union`/`Optional` nodes; `try: import xgboost` decides a training node
    # and an inference input (a stand-in would add both: KML001 on `booster`).
    Case(
        "kedro017-spam-filter",
        "kedro017-typed-optional",
        frozenset({("training", "KML203", None)}),
        missing_everywhere=("kedro.versioning",),
    ),
    # 0.18: `find_spec("lightgbm")` decides a node in each pipeline; an enum, a frozen
    # dataclass and a `TypeVar` bound over scikit-learn's classes; pandas imported in a `try`.
    Case(
        "kedro018-house-prices",
        "kedro018-typed-probes",
        frozenset({("training_ml", "KML203", None)}),
        missing_everywhere=("kedro_viz",),
    ),
    # 0.19: `Protocol`, `lru_cache` keyed on a class, `pd.DataFrame | None`, an optional
    # catboost deciding the classifiers.
    Case(
        "kedro019-fraud-detection",
        "kedro019-typed-protocols",
        frozenset({("training", "KML203", None)}),
    ),
    # 0.19: `"sparse_output" in OneHotEncoder().get_params()` decides the encoder's outputs.
    Case(
        "kedro019-fraud-detection",
        "kedro019-library-shapes",
        frozenset({("training", "KML203", None)}),
        shaped_by="sklearn",
        marker="# LIBRARY-SHAPES",
    ),
)


def _environments(case: Case, lean_python: Path) -> list[tuple[str, Path, bool]]:
    """The environments to compare with the oracle, and whether each has the libraries.

    The full one by default (lite and deferred import: heavy libraries imported on first
    real use), the lean one, and Kedro 0.19's where given (neither pandas nor scikit-learn).
    """
    found = [("full", Path(sys.executable), True), ("lean", lean_python, False)]
    kedro019 = os.environ.get("KML_KEDRO019_PYTHON")
    if kedro019 and case.fixture is not None:  # a 1.x project needs Kedro 1.x
        found.append(("kedro-0.19", Path(kedro019), False))
    return found


def _line_of(project: Path, relative: str, marker: str) -> int:
    lines = (project / relative).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if marker in text)


def _assert_refused(case: Case, project: Path, run: CliRun, where: str) -> None:
    """Exit 2, one line naming the project line where the library's value is used."""
    assert run.code == 2, f"{where}: {run.stdout}{run.stderr}"
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, f"{where}: {run.stderr}"
    error = ERROR.match(lines[0])
    assert error, f"{where}: {lines[0]}"
    assert case.marker is not None and case.shaped_by is not None
    path = error["path"]
    assert int(error["line"]) == _line_of(project, path, case.marker), f"{where}: {lines[0]}"
    assert f"`{case.shaped_by}`" in error["message"], f"{where}: {lines[0]}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.overlay)
def test_every_environment_gives_the_oracles_verdict(
    case: Case, tmp_path: Path, lean_python: Path
) -> None:
    lite = () if case.missing_everywhere else ("--no-lite",)
    oracle = run_cli(
        "check", case.build(tmp_path / "oracle"), "--format", "json", "--no-cache", *lite
    )
    assert oracle.code in (0, 1), oracle.stderr
    if case.missing_everywhere:
        stood_in = re.findall(r"`([\w.]+)`", oracle.stderr.partition("stood in for")[2])
        assert stood_in == list(case.missing_everywhere), oracle.stderr
    assert oracle.pairs == case.verdict, oracle.stderr
    for where, python, has_libraries in _environments(case, lean_python):
        project = case.build(tmp_path / where)
        before = tree_digest(project)
        run = run_cli("check", project, "--format", "json", python=python)
        assert tree_digest(project) == before, f"{where}: the project was modified"
        if case.shaped_by is not None and not has_libraries:
            _assert_refused(case, project, run, where)
        else:
            assert run.code == oracle.code, f"{where}: {run.stdout}{run.stderr}"
            assert run.pairs == oracle.pairs, f"{where}: {run.stderr}"
            pipelines = {p["pipeline"] for p in run.json["pairs"]}
            assert pipelines == {p["pipeline"] for p in oracle.json["pairs"]}, where
