"""Request params against a real ``mlflow models serve``: dotted keys, short names, typos."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
from collections.abc import Iterator

import pandas as pd
import pytest
from mlflow_support import BIN, KEDRO_ENV, copy_project, free_port, lint, tracking_uri, trained
from test_mlflow_serve import _post, _wait_until_ready

from kedro_ml_lint.publishing import log_models

pytestmark = pytest.mark.integration  # real training, a real MLflow store or server

ROWS = 20


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, pd.DataFrame]]:
    """The churn model with its threshold nested as `inference.threshold`, served."""
    churn = trained("churn", tmp_path_factory.mktemp("shared"))
    project = copy_project(churn, tmp_path_factory.mktemp("nested") / "churn")
    parameters = project / "conf/base/parameters.yml"
    parameters.write_text(
        parameters.read_text().replace("threshold: 0.5", "inference:\n  threshold: 0.5")
    )
    pipeline = project / "src/churn/pipelines/inference/pipeline.py"
    pipeline.write_text(
        pipeline.read_text().replace('"params:threshold"', '"params:inference.threshold"')
    )
    uri = tracking_uri(tmp_path_factory.mktemp("nested-store"))
    [published] = log_models(lint(project), tracking_uri=uri)
    elsewhere = tmp_path_factory.mktemp("nested-serve")
    port = free_port()
    with (elsewhere / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [
                *(str(BIN / "mlflow"), "models", "serve", "-m", published.model_uri),
                *("--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)),
            ],
            cwd=elsewhere,
            env={**KEDRO_ENV, "MLFLOW_TRACKING_URI": uri},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(port, server)
        yield port, pd.read_csv(project / "data/01_raw/instances.csv").head(ROWS)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _predict(port: int, frame: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    payload: dict = {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}
    if params is not None:
        payload["params"] = params
    return pd.DataFrame(_post(port, payload)["predictions"])


def test_dotted_key_and_last_component_both_override(served) -> None:
    port, frame = served
    default = _predict(port, frame)
    assert (default["churn"] == (default["churn_probability"] >= 0.5)).all()
    for params in ({"inference.threshold": 0.05}, {"threshold": 0.05}):
        low = _predict(port, frame, params)
        assert (low["churn"] == (low["churn_probability"] >= 0.05)).all()
        assert low["churn"].sum() > default["churn"].sum()  # the override took effect


def test_unknown_param_is_refused_not_ignored(served) -> None:
    port, frame = served
    with pytest.raises(urllib.error.HTTPError) as raised:
        _predict(port, frame, {"treshold": 0.05})
    assert raised.value.code == 400
    body = raised.value.read().decode()
    assert "unknown parameter `treshold`" in body
    assert "`inference.threshold`" in body and "`threshold`" in body


def test_two_names_of_one_parameter_must_agree(served) -> None:
    port, frame = served
    with pytest.raises(urllib.error.HTTPError) as raised:
        _predict(port, frame, {"threshold": 0.05, "inference.threshold": 0.9})
    assert raised.value.code == 400
    assert "given twice" in raised.value.read().decode()
    same = _predict(port, frame, {"threshold": 0.05, "inference.threshold": 0.05})
    assert (same["churn"] == (same["churn_probability"] >= 0.05)).all()
