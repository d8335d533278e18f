"""The logged model served for real, from a folder outside the project."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from mlflow_support import (
    BIN,
    KEDRO_ENV,
    assert_same_predictions,
    free_port,
    instances,
    kedro_predictions,
    lint,
    tracking_uri,
    trained,
)

from kedro_ml_lint.publishing import log_models

pytestmark = pytest.mark.integration

READY_TIMEOUT = 120


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """(trained project, model URI, environment of a process outside the project)."""
    project = trained("churn", tmp_path_factory.mktemp("shared"))
    uri = tracking_uri(tmp_path_factory.mktemp("serve-store"))
    result = lint(project)
    [published] = log_models(result, tracking_uri=uri, registered_model_name="churn")
    return project, published.model_uri, {**KEDRO_ENV, "MLFLOW_TRACKING_URI": uri}


@pytest.fixture
def outside(tmp_path: Path, logged) -> Path:
    """A folder with nothing of the project in it; the project's package is not importable."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", "import churn"], cwd=folder, env=logged[2], capture_output=True
    )
    assert proc.returncode != 0, "the project's package must not be importable here"
    return folder


def test_mlflow_models_predict(logged, outside: Path) -> None:
    project, model_uri, env = logged
    instances(project).to_csv(outside / "input.csv", index=False)
    proc = subprocess.run(
        [
            str(BIN / "mlflow"),
            "models",
            "predict",
            "-m",
            model_uri,
            "-i",
            "input.csv",
            "-t",
            "csv",
            "-o",
            "output.json",
            "--env-manager",
            "local",
        ],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    predictions = json.loads((outside / "output.json").read_text())["predictions"]
    assert_same_predictions(predictions, kedro_predictions(project))


def _post(port: int, payload: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_until_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"the server did not answer /ping within {READY_TIMEOUT} s")


def test_mlflow_models_serve(logged, outside: Path) -> None:
    project, _, env = logged
    model_uri = "models:/churn/1"  # the registered version
    port = free_port()
    log = (outside / "serve.log").open("w")
    server = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            model_uri,
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=outside,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: uvicorn and workers stop together
    )
    try:
        _wait_until_ready(port, server)
        data = instances(project)
        split = json.loads(data.to_json(orient="split", index=False))
        answer = _post(port, {"dataframe_split": split})
        assert_same_predictions(answer["predictions"], kedro_predictions(project))
        # One row, and a per-request parameter override.
        one = {"columns": split["columns"], "data": split["data"][:1]}
        strict = pd.DataFrame(
            _post(port, {"dataframe_split": one, "params": {"threshold": 0.0}})["predictions"]
        )
        assert strict["churn"].tolist() == [1]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()
    served_log = (outside / "serve.log").read_text()
    assert "Running node" not in served_log  # no Kedro INFO noise per request
