"""Our "auto" signature against kedro-mlflow's: what a serving request and Spark get back.

kedro-mlflow's hook infers the signature from the inference input and the parameters
only; ours adds the output schema (``infer_signature(model_output=...)`` on the smoke
test's prediction). Kept, and pinned here: a scoring request answers the same with both
models (MLflow's scoring server never enforces an output schema), while
``spark_udf`` without ``result_type`` reads the output schema (``test_spark.py``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlflow
import pytest
from mlflow.models import infer_signature
from mlflow.pyfunc.scoring_server import invocations
from mlflow_support import instances, lint, tracking_uri, trained

from kedro_ml_lint.publishing import log_models
from kedro_ml_lint.publishing.publish import project_catalog

pytestmark = pytest.mark.integration


def log_like_kedro_mlflow(project: Path, uri: str) -> str:
    """Log churn's inference pipeline as kedro-mlflow's hook does (its "auto" signature)."""
    from churn.pipelines.inference import create_pipeline
    from kedro_mlflow.mlflow import KedroPipelineModel

    catalog = project_catalog(project)[1]
    model = KedroPipelineModel(pipeline=create_pipeline(), catalog=catalog, input_name="instances")
    mlflow.set_tracking_uri(uri)
    with tempfile.TemporaryDirectory() as folder, mlflow.start_run():
        artifacts = model.extract_pipeline_artifacts(parameters_saving_folder=Path(folder))
        signature = infer_signature(
            model_input=catalog.load("instances"),
            params={"threshold": catalog.load("params:threshold"), "runner": "SequentialRunner"},
        )
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=model,
            artifacts=artifacts,
            signature=signature,
            # kedro-mlflow pickles the pipeline by reference: its users ship the package.
            code_paths=[str(project / "src" / "churn")],
        )
    return info.model_uri


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    churn = trained("churn", tmp_path_factory.mktemp("shared"))
    uri = tracking_uri(tmp_path_factory.mktemp("parity-store"))
    [ours] = log_models(lint(churn), tracking_uri=uri)
    theirs = log_like_kedro_mlflow(churn, uri)
    mlflow.set_tracking_uri(uri)
    return {"ours": ours.model_uri, "kedro-mlflow": theirs, "project": str(churn)}


def test_the_signatures_differ_only_by_the_output_schema(models: dict[str, str]) -> None:
    ours = mlflow.models.get_model_info(models["ours"]).signature
    theirs = mlflow.models.get_model_info(models["kedro-mlflow"]).signature
    assert ours.inputs == theirs.inputs
    assert ours.params == theirs.params
    assert theirs.outputs is None
    assert [(c.name, c.type.name) for c in ours.outputs.inputs] == [
        ("churn_probability", "double"),
        ("churn", "long"),
    ]


@pytest.mark.parametrize("params", [None, {"threshold": 0.7}])
def test_a_serving_request_gets_the_same_answer_from_both(
    models: dict[str, str], params: dict | None
) -> None:
    frame = instances(Path(models["project"])).head(7)
    payload = {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}
    if params:
        payload["params"] = params
    answers = {}
    for who in ("ours", "kedro-mlflow"):
        model = mlflow.pyfunc.load_model(models[who])
        response = invocations(
            json.dumps(payload), "application/json", model, model.metadata.get_input_schema()
        )
        assert response.status == 200, response.response
        answers[who] = json.loads(response.response)
    assert answers["ours"] == answers["kedro-mlflow"]
    assert len(answers["ours"]["predictions"]) == 7
