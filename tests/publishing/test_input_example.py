"""Every logged model carries an input example: a serving payload MLflow writes itself.

The rows the smoke test predicted (``prepare._smoke_test``) are the example; before the
store is touched the payload is read back as ``mlflow models serve`` reads a request and
checked against the signature (MLflow's ``validate_schema``). An input the catalog cannot
load gives no example and a warning; an example a server would refuse stops ``--log``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.models import Model, convert_input_example_to_serving_input, infer_signature
from mlflow_support import (
    assert_same_predictions,
    copy_project,
    instances,
    kedro_predictions,
    lint,
    store_state,
    tracking_uri,
    trained,
)

from kedro_ml_lint.publishing import PublishError, log_models
from kedro_ml_lint.publishing.prepare import SMOKE_TEST_ROWS, Pair, _input_example

PAIR = Pair(name="training", inference=None, input_name="instances")


# --------------------------------------------------------------- the check, real MLflow


def test_an_example_a_server_reads_is_kept() -> None:
    frame = pd.DataFrame({"tenure": [1, 2], "charges": [3.5, 4.0], "plan": ["a", "b"]})
    assert _input_example(PAIR, frame, infer_signature(frame)) is frame


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        # A server parses datetimes as naive ones: an aware example is refused by its model.
        (pd.DataFrame({"at": pd.date_range("2024-01-01", periods=2, tz="UTC")}), "timezone"),
        # The nullable integer's <NA> becomes a null a `long` column cannot take.
        (pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}), "column n"),
    ],
)
def test_an_example_a_server_refuses_stops_logging(frame: pd.DataFrame, why: str) -> None:
    with pytest.raises(PublishError) as raised:
        _input_example(PAIR, frame, infer_signature(frame))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("the input example of `training` does not match its signature")
    assert why in message
    assert "`input_example`" in message  # what to do


def test_an_example_against_a_signature_it_does_not_fit_is_refused() -> None:
    signature = infer_signature(pd.DataFrame({"tenure": [1], "plan": ["a"]}))
    with pytest.raises(PublishError, match="plan"):
        _input_example(PAIR, pd.DataFrame({"tenure": [1]}), signature)


def test_an_example_mlflow_cannot_write_is_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="kedro_ml_lint.publishing.prepare"):
        assert _input_example(PAIR, object(), None) is None
    [record] = caplog.records
    assert record.getMessage().startswith("`training`: the model is logged without an input")


def test_no_input_no_example() -> None:
    assert _input_example(PAIR, None, infer_signature(pd.DataFrame({"a": [1]}))) is None


def test_an_array_example_is_kept() -> None:
    array = np.arange(6.0).reshape(3, 2)
    assert _input_example(PAIR, array, infer_signature(array)) is array


# ------------------------------------------------------------------- logged, for real


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained("churn", tmp_path_factory.mktemp("shared"))


@pytest.mark.integration
def test_the_logged_model_serves_its_own_example(churn: Path, tmp_path: Path) -> None:
    uri = tracking_uri(tmp_path)
    [published] = log_models(lint(churn), tracking_uri=uri)
    mlflow.set_tracking_uri(uri)
    local = Path(mlflow.artifacts.download_artifacts(published.model_uri))
    metadata = Model.load(local / "MLmodel")
    rows = instances(churn).head(SMOKE_TEST_ROWS)

    # The payload is MLflow's own conversion of the first rows of the served input.
    assert metadata.saved_input_example_info["serving_input_path"] == "serving_input_example.json"
    payload = json.loads((local / "serving_input_example.json").read_text())
    assert payload == json.loads(convert_input_example_to_serving_input(rows))
    assert len(payload["dataframe_split"]["data"]) == SMOKE_TEST_ROWS
    pd.testing.assert_frame_equal(metadata.load_input_example(str(local)), rows)

    # Served as a request would be, it predicts what Kedro's run predicted for those rows.
    predicted = mlflow.models.predict(
        model_uri=published.model_uri,
        input_path=str(local / "serving_input_example.json"),
        env_manager="local",
        output_path=str(tmp_path / "predictions.json"),
    )
    assert predicted is None  # written to output_path
    served = json.loads((tmp_path / "predictions.json").read_text())["predictions"]
    assert_same_predictions(served, kedro_predictions(churn).head(SMOKE_TEST_ROWS))


@pytest.mark.integration
def test_an_input_that_cannot_be_loaded_gives_no_example_and_says_so(
    churn: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = copy_project(churn, tmp_path / "no-input")
    (project / "data/01_raw/instances.csv").unlink()  # the served input, not an artifact
    uri = tracking_uri(tmp_path)
    with caplog.at_level(logging.WARNING, logger="kedro_ml_lint.publishing.prepare"):
        [published] = log_models(lint(project), tracking_uri=uri)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "`training`: `instances` cannot be loaded"
    ]
    assert "without an input example" in caplog.records[0].getMessage()
    mlflow.set_tracking_uri(uri)
    local = Path(mlflow.artifacts.download_artifacts(published.model_uri))
    assert Model.load(local / "MLmodel").saved_input_example_info is None
    assert not (local / "serving_input_example.json").exists()


@pytest.mark.integration
def test_a_refused_example_logs_nothing(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "own-example")
    registry = project / "src/churn/pipeline_registry.py"
    text = registry.read_text()
    assert '        input_name="instances",\n' in text
    # The project's own example lacks three of the four columns the signature requires.
    registry.write_text(
        text.replace(
            '        input_name="instances",\n',
            '        input_name="instances",\n'
            '        log_model_kwargs={"input_example": {"tenure_months": [34]}},\n',
        )
    )
    uri = tracking_uri(tmp_path)
    with pytest.raises(PublishError) as raised:
        log_models(lint(project), tracking_uri=uri)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("the input example of `training` does not match its signature")
    assert "monthly_charges" in message
    state = store_state(uri)
    assert state["models"] == [] and state["active_runs"] == [] and state["registered"] == []
