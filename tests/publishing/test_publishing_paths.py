"""KML201 end to end: the ways a pair reaches MLflow, each with a real ``kedro run``.

Issue 18, item 1. The trap (kedro-ml-lint's ``PipelineML`` while kedro-mlflow's hook is the
only logger: the run exits 0 and logs no model) is the one ``check`` must fail; a project
with no logging hook publishes with ``check --log`` (docs/publishing.md's walkthrough, with no
suppression), and ``check --log`` never reports KML201: it is the logger.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from mlflow_support import (
    EXAMPLES,
    assert_summary_golden,
    copy_project,
    kedro,
    store_state,
    tracking_uri,
)

pytestmark = pytest.mark.integration

KEDRO_MLFLOW_IMPORT = "from kedro_mlflow.pipeline import pipeline_ml_factory"
OUR_IMPORT = "from kedro_ml_lint import pipeline_ml_factory"


def _switch_the_import(project: Path) -> None:
    """kedro-mlflow's example, its factory import switched to ours: nothing else changes."""
    registry = project / "src/churn_mlflow/pipeline_registry.py"
    text = registry.read_text(encoding="utf-8")
    assert KEDRO_MLFLOW_IMPORT in text
    registry.write_text(text.replace(KEDRO_MLFLOW_IMPORT, OUR_IMPORT), encoding="utf-8")


def test_the_import_switch_trap_fails_check_and_its_run_logs_no_model(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn-kedro-mlflow", tmp_path / "trap")
    _switch_the_import(project)

    check = run_cli("check", project, "--format", "json")
    assert check.code == 1, check.stderr
    assert check.pairs == {("training", "KML201", None)}

    # The real run: kedro-mlflow's hook is active (it opens a run in the store its
    # conf/base/mlflow.yml names), ignores our PipelineML, and the run still exits 0.
    run = kedro(project, "run", "--pipelines", "training")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (project / "data/06_models/model.pkl").is_file()
    state = store_state(f"sqlite:///{project / 'mlflow.db'}")
    assert state["active_runs"], "kedro-mlflow's hook tracked the run"
    assert state["models"] == [], "and logged no model: what KML201 said"

    # `check --log` is the logger: KML201 is not reported and the model is logged.
    uri = tracking_uri(tmp_path / "store")
    published = run_cli("check", project, "--log", "--tracking-uri", uri)
    assert published.code == 0, published.stdout + published.stderr
    assert "KML201" not in published.stdout + published.stderr
    assert published.stdout.startswith("All checks passed! (1 pair checked)")
    [model_id] = store_state(uri)["ready_models"]
    assert f"Logged `training` as models:/{model_id}" in published.stdout


def test_the_readme_walkthrough_publishes_without_a_suppression(tmp_path: Path) -> None:
    """examples/churn has no logging hook at all (kedro-mlflow's is disabled) and no
    `ignore`: `check` passes, and docs/publishing.md's steps run as written."""
    project = copy_project(EXAMPLES / "churn", tmp_path / "churn")
    assert "ignore" not in (project / "pyproject.toml").read_text(encoding="utf-8")

    check = run_cli("check", project)
    assert check.code == 0, check.stdout + check.stderr
    assert check.stdout == "All checks passed! (1 pair checked)\n"

    run = kedro(project, "run", "--pipelines", "training")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    uri = tracking_uri(tmp_path / "store")
    published = run_cli(
        "check",
        "--log",
        "--experiment",
        "churn",
        "--registered-model-name",
        "churn",
        cwd=project,
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert published.code == 0, published.stdout + published.stderr
    lines = published.stdout.splitlines()
    assert lines[0] == "All checks passed! (1 pair checked)"
    [model_id] = store_state(uri)["ready_models"]
    registered = "(registered as `churn` version 1)"
    assert lines[1] == f"Logged `training` as models:/{model_id} {registered}"
    # One block says where it went: store, experiment, run and its page, model, version.
    assert f"  model URI:    models:/{model_id}" in lines
    assert_summary_golden("log-summary.txt", "\n".join(lines[1:]) + "\n", tmp_path / "store")
    assert store_state(uri)["registered"] == [("churn", [1])]
