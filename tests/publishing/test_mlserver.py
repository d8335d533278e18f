"""`export --target mlserver`: the logged model served by a real MLServer in its own venv.

One MLServer (and one `mlflow models serve` to compare with) for the whole module; the
MLServer environment is built once (``mlserver_venv.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from mlserver_venv import add_requirements, mlserver_python

from kedro_ml_lint.publishing import log_models

pytestmark = pytest.mark.integration

READY_TIMEOUT = 240  # MLServer starts its inference worker, which loads the model: ~40 s here
NAME = "churn"
# V2 datatypes of the example's input columns (MLServer's pandas codec reads them back).
V2_TYPES = {"int64": "INT64", "float64": "FP64"}


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """(trained project, tracking URI, environment of a process outside the project)."""
    project = trained("churn", tmp_path_factory.mktemp("shared"))
    uri = tracking_uri(tmp_path_factory.mktemp("mlserver-store"))
    log_models(lint(project), tracking_uri=uri, registered_model_name=NAME)
    env = {**KEDRO_ENV, "MLFLOW_TRACKING_URI": uri}
    return project, uri, env


@pytest.fixture(scope="module")
def venv() -> Path:
    return mlserver_python()


def _export(venv: Path, env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``kedro-ml-lint export`` run by the MLServer environment's interpreter (the checkout's
    code through ``PYTHONPATH``: mlserver is importable only there)."""
    return subprocess.run(
        [str(venv), "-m", "kedro_ml_lint", "export", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def exported(logged, venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``DIR`` of ``export models:/churn/1 DIR --target mlserver``; the model's requirements
    then installed in MLServer's environment, as a deployment does."""
    _, uri, env = logged
    folder = tmp_path_factory.mktemp("export")
    result = _export(
        venv,
        env,
        f"models:/{NAME}/1",
        "repo",
        "--target",
        "mlserver",
        "--tracking-uri",
        uri,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mlserver start repo" in result.stdout
    add_requirements(venv, folder / "repo" / NAME / "requirements.txt")
    return folder / "repo"


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def _wait(url: str, server: subprocess.Popen, log: Path) -> float:
    """Seconds until ``url`` answers 200."""
    start = time.monotonic()
    while time.monotonic() - start < READY_TIMEOUT:
        if server.poll() is not None:
            raise AssertionError(
                f"the server exited with {server.returncode}: {log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise AssertionError(
        f"{url} did not answer within {READY_TIMEOUT} s: {log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def mlserver(exported: Path, venv: Path, logged) -> Iterator[int]:
    """``mlserver start DIR`` on 127.0.0.1 (its HTTP port); no kedro-ml-lint on its path."""
    env = {key: value for key, value in logged[2].items() if key != "PYTHONPATH"}
    env.pop("MLFLOW_TRACKING_URI")  # the exported folder is all it has
    ports = {name: str(free_port()) for name in ("HTTP", "GRPC", "METRICS")}
    env.update({f"MLSERVER_{name}_PORT": port for name, port in ports.items()})
    env["MLSERVER_HOST"] = "127.0.0.1"
    env["PATH"] = os.pathsep.join([str(venv.parent), env["PATH"]])
    log = exported.parent / "mlserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(venv.parent / "mlserver"), "start", str(exported)],
            cwd=exported.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the inference workers stop too
        )
        try:
            port = int(ports["HTTP"])
            _wait(f"http://127.0.0.1:{port}/v2/models/{NAME}/ready", server, log)
            yield port
        finally:
            _stop(server)


@pytest.fixture(scope="module")
def mlflow_serve(logged, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``mlflow models serve`` on the same registered version, for comparison."""
    env = logged[2]
    port = free_port()
    folder = tmp_path_factory.mktemp("mlflow-serve")
    log = folder / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{NAME}/1",
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait(f"http://127.0.0.1:{port}/ping", server, log)
            yield port
        finally:
            _stop(server)


def v2_request(rows: pd.DataFrame, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """A V2 inference request: one input per column, named as the signature names them."""
    inputs = [
        {
            "name": column,
            "datatype": V2_TYPES.get(str(rows[column].dtype), "BYTES"),
            "shape": [len(rows), 1],
            "data": rows[column].tolist(),
        }
        for column in rows.columns
    ]
    return {"inputs": inputs, **({"parameters": parameters} if parameters else {})}


def post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def v2_outputs(answer: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({output["name"]: output["data"] for output in answer["outputs"]})


def mlserver_predict(port: int, rows: pd.DataFrame, **parameters: Any) -> pd.DataFrame:
    status, answer = post(
        f"http://127.0.0.1:{port}/v2/models/{NAME}/infer", v2_request(rows, parameters)
    )
    assert status == 200, answer
    return v2_outputs(answer)


def mlflow_predict(port: int, rows: pd.DataFrame, **params: Any) -> pd.DataFrame:
    split = json.loads(rows.to_json(orient="split", index=False))
    payload: dict[str, Any] = {"dataframe_split": split, **({"params": params} if params else {})}
    status, answer = post(f"http://127.0.0.1:{port}/invocations", payload)
    assert status == 200, answer
    return pd.DataFrame(answer["predictions"])


def test_the_export_is_what_mlserver_reads(exported: Path) -> None:
    assert json.loads((exported / "settings.json").read_text()) == {"debug": False}
    assert json.loads((exported / NAME / "model-settings.json").read_text()) == {
        "name": NAME,
        "implementation": "mlserver_mlflow.MLflowRuntime",
        "parameters": {"uri": "./"},
    }
    # The model itself, beside its settings: the folder MLServer resolves "./" to.
    assert (exported / NAME / "MLmodel").is_file()
    assert (exported / NAME / "python_model.pkl").is_file()
    assert not [p.name for p in exported.parent.iterdir() if p.name.startswith(".repo.")]


def test_v2_inference_predicts_what_kedro_and_mlflow_serve_predict(
    logged, mlserver: int, mlflow_serve: int
) -> None:
    project = logged[0]
    rows = instances(project)
    served = mlserver_predict(mlserver, rows)
    assert_same_predictions(served, kedro_predictions(project))
    assert_same_predictions(served, mlflow_predict(mlflow_serve, rows))


def test_v2_parameters_reach_the_model_as_mlflow_params(
    logged, mlserver: int, mlflow_serve: int
) -> None:
    # mlserver-mlflow passes the request's own `parameters` (those MLServer does not define,
    # `content_type`…) to `predict(params=...)`: the threshold works as under `mlflow models
    # serve`, and a misspelt one is refused as there.
    one = instances(logged[0]).head(1)
    default = mlserver_predict(mlserver, one)
    strict = mlserver_predict(mlserver, one, threshold=0.0)
    assert default["churn"].tolist() == [0]
    assert strict["churn"].tolist() == [1]
    assert_same_predictions(strict, mlflow_predict(mlflow_serve, one, threshold=0.0))
    status, answer = post(
        f"http://127.0.0.1:{mlserver}/v2/models/{NAME}/infer",
        v2_request(one, {"thresold": 0.0}),
    )
    # MLServer answers a model's exception with 500 (`mlflow models serve`: 400), its text kept.
    assert status == 500
    assert "unknown parameter `thresold`" in answer["error"]


def test_a_model_the_runtime_cannot_load_is_refused_in_one_line(
    exported: Path, venv: Path, logged, tmp_path: Path
) -> None:
    model = tmp_path / "old-model"
    model.mkdir()
    for item in (exported / NAME).iterdir():
        if item.is_file():
            (model / item.name).write_bytes(item.read_bytes())
    mlmodel = model / "MLmodel"
    text = mlmodel.read_text()
    saved_by = next(line for line in text.splitlines() if line.startswith("mlflow_version:"))
    mlmodel.write_text(text.replace(saved_by, "mlflow_version: 2.3.0"))
    result = _export(venv, logged[2], str(model), "out", "--target", "mlserver", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    runtime = subprocess.run(
        [str(venv), "-c", "import importlib.metadata as m; print(m.version('mlserver-mlflow'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert "MLflow 2.3.0" in line and f"mlserver-mlflow {runtime}" in line, line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["old-model"]
