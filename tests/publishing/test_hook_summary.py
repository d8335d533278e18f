"""A run the hook stops ends with the violations: the last thing on the screen.

One real ``kedro run`` of kedro-mlflow's example with a pre-flight error that kedro-mlflow's
factory lets through (a misspelt ``params:``), ``MlflowPipelineHook`` registered, and
kedro-mlflow tracking to a real ``mlflow server``: its hook opens an MLflow run before ours
stops the run. stdout and stderr go to ONE pipe, as in a terminal or a CI log.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow_support import BIN, EXAMPLES, KEDRO_ENV, copy_project, enable_hook
from test_faults import MlflowServer

pytestmark = pytest.mark.integration

HEADER = "kedro-ml-lint: the run is stopped before any node ran: 1 error"
VIOLATION = (
    "src/churn_mlflow/pipelines/inference/pipeline.py:25:1: KML006 Inference input "
    "`params:treshold` is not defined in the project's parameters; did you mean "
    "`params:threshold`? [training]"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    running = MlflowServer(tmp_path_factory.mktemp("hook-summary-server"))
    running.start()
    yield running
    running.stop()


def _broken(project: Path, uri: str) -> None:
    """A typo kedro-mlflow's factory accepts (it ignores parameters); tracked by a server."""
    pipeline = project / "src/churn_mlflow/pipelines/inference/pipeline.py"
    text = pipeline.read_text(encoding="utf-8")
    assert '"params:threshold"' in text
    pipeline.write_text(text.replace('"params:threshold"', '"params:treshold"'), encoding="utf-8")
    config = project / "conf/base/mlflow.yml"
    text = config.read_text(encoding="utf-8")
    assert "sqlite:///mlflow.db" in text
    config.write_text(text.replace("sqlite:///mlflow.db", uri), encoding="utf-8")
    enable_hook(project, f'tracking_uri="{uri}"')


def test_the_stopped_runs_violations_are_the_last_lines(
    tmp_path: Path, server: MlflowServer
) -> None:
    project = copy_project(EXAMPLES / "churn-kedro-mlflow", tmp_path / "stopped")
    _broken(project, server.uri)

    proc = subprocess.run(
        [str(BIN / "kedro"), "run", "--pipelines", "training"],
        cwd=project,
        env=KEDRO_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream: what a terminal or a CI log shows
        text=True,
        timeout=300,
    )

    assert proc.returncode == 1, proc.stdout[-3000:]
    lines = proc.stdout.rstrip("\n").splitlines()
    assert lines[-2:] == [HEADER, VIOLATION], "\n".join(lines[-15:])
    # kedro-mlflow's run of this session, never trained: FAILED, not left to MLflow's exit
    # (which marks it FINISHED and prints its links after the violations).
    client = mlflow.MlflowClient(server.uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [run.info.status for run in runs] == ["FAILED"]
    assert not (project / "data/06_models/model.pkl").exists()  # no node ran
