"""KML205 on real projects: judged with the project's MLflow, said in ``-v`` and JSON.

A project pinned to kedro-mlflow 0.11 (MLflow 1.x or 2.x) may pass ``code_path``; the same
project declaring ``mlflow>=3`` may not. The snapshot cache keys on what the project
declares: editing a requirement file changes the verdict of the next cached run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from project_factory import REGISTRY, write_project

from kedro_ml_lint.api import lint_project
from kedro_ml_lint.cache.store import NO_CACHE_ENV

# Each test loads a project two or three times.
pytestmark = pytest.mark.integration

CODE_PATH_REGISTRY = REGISTRY.replace(
    "from kedro_ml_lint import pipeline_ml_factory",
    "from kedro_mlflow.pipeline import pipeline_ml_factory",
).replace(
    'input_name="instances")',
    'input_name="instances",\n'
    '        log_model_kwargs={{"artifact_path": "model", "code_path": ["src"]}})',
)
KEDRO_MLFLOW_011 = "kedro~=0.18.14\nkedro-mlflow==0.11.10\n"


def _kml205(result) -> set[str | None]:
    return {v.subject for v in result.violations if v.code == "KML205"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "pinned", package="pinned", registry=CODE_PATH_REGISTRY)
    (root / "src" / "requirements.txt").write_text(KEDRO_MLFLOW_011)
    return root


def test_kedro_mlflow_011_takes_code_path(project: Path) -> None:
    result = lint_project(project, select=["KML205"])
    assert _kml205(result) == set()
    [pair] = result.pairs
    assert pair.mlflow is not None and pair.mlflow.text == ">=1.0.0,<3.0.0"
    assert "kedro-mlflow==0.11.10" in pair.mlflow.reason


def test_mlflow_3_declared_refuses_code_path(project: Path) -> None:
    (project / "src" / "requirements.txt").write_text(KEDRO_MLFLOW_011 + "mlflow>=3\n")
    assert _kml205(lint_project(project, select=["KML205"])) == {"code_path"}


def test_nothing_declared_checks_only_what_every_mlflow_refuses(project: Path) -> None:
    (project / "src" / "requirements.txt").write_text("kedro~=0.18.14\n")
    result = lint_project(project, select=["KML205"])
    assert _kml205(result) == set()
    assert result.pairs[0].mlflow is not None and result.pairs[0].mlflow.text is None


def test_json_and_verbose_say_which_mlflow_was_assumed(project: Path) -> None:
    run = run_cli("check", project, "--format", "json", "--select", "KML205")
    assert run.code == 0, run.stderr
    assert run.json["schema_version"] == 2
    [pair] = run.json["pairs"]
    assert pair["mlflow"]["range"] == ">=1.0.0,<3.0.0"
    assert "src/requirements.txt:2" in pair["mlflow"]["reason"]
    verbose = run_cli("check", project, "-v", "--select", "KML205")
    assert "MLflow for `training`: >=1.0.0,<3.0.0 (implied by" in verbose.stderr


def test_a_cached_verdict_follows_the_requirements(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(NO_CACHE_ENV, raising=False)
    assert _kml205(lint_project(project, select=["KML205"], cache=True)) == set()
    assert lint_project(project, select=["KML205"], cache=True).cache == "hit"
    (project / "src" / "requirements.txt").write_text(KEDRO_MLFLOW_011 + "mlflow>=3\n")
    edited = lint_project(project, select=["KML205"], cache=True)
    assert (edited.cache, _kml205(edited)) == ("miss", {"code_path"})
    # A new requirement file at the root counts too.
    (project / "src" / "requirements.txt").write_text(KEDRO_MLFLOW_011)
    assert _kml205(lint_project(project, select=["KML205"], cache=True)) == set()
    (project / "requirements-serving.in").write_text("mlflow==3.1.0\n")
    added = lint_project(project, select=["KML205"], cache=True)
    assert (added.cache, _kml205(added)) == ("miss", {"code_path"})
