"""kedro-mlflow's own ``KedroPipelineModel`` tests, ported: both objects must pass them.

Each test is parametrized over kedro-mlflow's ``KedroPipelineModel`` and ours, so what it
asserts is what kedro-mlflow does today (``kedro-mlflow>=2`` on Kedro 1.x), not what we
think it does: a caller switching the import keeps the behaviour these tests pin. The
fixtures follow kedro-mlflow's ``tests/publishing/test_kedro_pipeline_model.py`` (a dummy
inference pipeline, a ``TemporaryDirectory`` as the parameters' folder); the code is ours.
"""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

import mlflow
import pytest
from kedro.io import DataCatalog, DatasetNotFoundError, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro_datasets.pickle import PickleDataset
from kedro_mlflow.mlflow import KedroPipelineModel as TheirModel
from mlflow_support import tracking_uri

from kedro_ml_lint.publishing import KedroPipelineModel as OurModel

MODELS = pytest.mark.parametrize(
    "model_class", [TheirModel, OurModel], ids=["kedro-mlflow", "ours"]
)


def preprocess_fun(data):
    return data


def predict_fun(model, data):
    return data * model


def remove_stopwords(data, stopwords):
    return data


def convert_probs_to_pred(data, threshold):
    return (data > threshold) * 1


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    """One sqlite store for the module (MLflow 3 refuses a new file store)."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri(tmp_path_factory.mktemp("store")))
    yield
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def tmp_folder():
    return TemporaryDirectory()


@pytest.fixture
def pipeline_inference_dummy() -> Pipeline:
    return Pipeline(
        [
            node(preprocess_fun, "raw_data", "data", tags=["training", "inference"]),
            node(predict_fun, ["model", "data"], "predictions"),
        ]
    )


@pytest.fixture
def pipeline_inference_with_parameters() -> Pipeline:
    return Pipeline(
        [
            node(remove_stopwords, dict(data="data", stopwords="params:stopwords"), "cleaned"),
            node(predict_fun, ["model", "cleaned"], "probs"),
            node(convert_probs_to_pred, ["probs", "params:threshold"], "predictions"),
        ]
    )


@pytest.fixture
def dummy_catalog(tmp_path: Path) -> DataCatalog:
    return DataCatalog(
        {
            "raw_data": MemoryDataset(),
            "data": MemoryDataset(),
            "model": PickleDataset(filepath=(tmp_path / "model.pkl").resolve().as_posix()),
        }
    )


@MODELS
@pytest.mark.parametrize("copy_mode", [None, "assign", "deepcopy", {"model": "assign"}])
@pytest.mark.integration
def test_model_packaging_with_a_temporary_directory(
    model_class, store, tmp_folder, pipeline_inference_dummy, dummy_catalog, copy_mode
) -> None:
    # kedro-mlflow's test passes a TemporaryDirectory object (not a path) as the folder of
    # the parameter pickles: with no parameter it is never read, and must not be converted.
    dummy_catalog.save("model", 2)  # emulate model fitting
    kedro_model = model_class(
        pipeline=pipeline_inference_dummy,
        catalog=dummy_catalog,
        copy_mode=copy_mode,
        input_name="raw_data",
    )
    artifacts = kedro_model.extract_pipeline_artifacts(tmp_folder)
    with mlflow.start_run():
        mlflow.pyfunc.log_model(name="model", python_model=kedro_model, artifacts=artifacts)
        run_id = mlflow.active_run().info.run_id
    loaded_model = mlflow.pyfunc.load_model(model_uri=f"runs:/{run_id}/model")
    assert loaded_model.predict(1) == 2


@MODELS
def test_parameters_in_a_temporary_directory(
    model_class, tmp_path, pipeline_inference_with_parameters
) -> None:
    # With parameters, both write the pickles into the folder they are given.
    catalog = DataCatalog(
        {
            "data": MemoryDataset(),
            "params:stopwords": MemoryDataset(["Hello", "Hi"]),
            "params:threshold": MemoryDataset(0.5),
            "model": PickleDataset(filepath=(tmp_path / "model.pkl").as_posix()),
        }
    )
    catalog.save("model", 2)
    kedro_model = model_class(
        pipeline=pipeline_inference_with_parameters, catalog=catalog, input_name="data"
    )
    folder = tmp_path / "params"
    folder.mkdir()
    artifacts = kedro_model.extract_pipeline_artifacts(folder)
    assert set(artifacts) == {"model", "params:stopwords", "params:threshold"}
    assert sorted(p.name for p in folder.iterdir()) == [
        "params_stopwords.pkl",
        "params_threshold.pkl",
    ]


@MODELS
def test_catalog_extraction_missing_inference_input(model_class, pipeline_inference_dummy):
    catalog = DataCatalog({"raw_data": MemoryDataset(), "data": MemoryDataset()})
    # "model" is missing in the catalog: Kedro's own error, as kedro-mlflow lets it through.
    with pytest.raises(DatasetNotFoundError, match="model"):
        model_class(pipeline=pipeline_inference_dummy, catalog=catalog, input_name="raw_data")


@MODELS
@pytest.mark.integration
def test_unknown_runner_is_an_attribute_error(
    model_class, store, tmp_folder, pipeline_inference_dummy, dummy_catalog
) -> None:
    dummy_catalog.save("model", 2)
    kedro_model = model_class(
        pipeline=pipeline_inference_dummy, catalog=dummy_catalog, input_name="raw_data"
    )
    artifacts = kedro_model.extract_pipeline_artifacts(tmp_folder)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=kedro_model, artifacts=artifacts)
    python_model = mlflow.pyfunc.load_model(info.model_uri).unwrap_python_model()
    with pytest.raises(AttributeError, match="NoSuchRunner"):
        python_model.predict(None, 1, params={"runner": "NoSuchRunner"})
