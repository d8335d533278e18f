"""Two ``check --log`` processes on one new sqlite store (two CI jobs, one shared file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow_support import store_state, trained

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained("churn", tmp_path_factory.mktemp("shared"))


def _log(project: Path, uri: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kedro_ml_lint", "check", str(project), "--log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize("attempt", range(2))
def test_two_first_logs_on_one_new_sqlite_store_both_log(
    churn: Path, tmp_path: Path, attempt: int
) -> None:
    database = tmp_path / "shared-store" / "mlflow.db"
    database.parent.mkdir()
    uri = f"sqlite:///{database}"
    processes = [_log(churn, uri), _log(churn, uri)]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stdout + stderr
        assert "Logged `training` as models:/" in stdout + stderr
    state = store_state(uri)
    assert len(state["ready_models"]) == 2
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    # The lock lives beside the user's store, not in the project.
    assert sorted(p.name for p in database.parent.iterdir()) == ["mlflow.db", "mlflow.db.lock"]
    assert not (churn / ".kedro-ml-lint").exists()
    assert os.path.getsize(database) > 0
