"""``log_model_kwargs`` as kedro-mlflow keeps them, and ``extract_pipeline_artifacts``."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_datasets.pickle import PickleDataset
from kedro_mlflow.pipeline import pipeline_ml_factory as kedro_mlflow_factory

from kedro_ml_lint import PipelineML, pipeline_ml_factory
from kedro_ml_lint.pipeline_ml import normalize_log_model_kwargs


def _fit(data: int) -> int:
    return data + 1


def _predict(instances: int, model: int, threshold: float) -> int:
    return instances * model + int(threshold)


TRAINING = Pipeline([Node(_fit, "data", "model", name="fit")])
INFERENCE = Pipeline(
    [Node(_predict, ["instances", "model", "params:inference.threshold"], "out", name="pred")]
)


def _pair(log_model_kwargs: dict | None) -> PipelineML:
    return pipeline_ml_factory(TRAINING, INFERENCE, "instances", log_model_kwargs=log_model_kwargs)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, {"name": "model", "signature": "auto"}),
        ({"artifact_path": "churn"}, {"name": "churn", "signature": "auto"}),
        ({"name": "churn", "signature": None}, {"name": "churn", "signature": None}),
        (
            {"pip_requirements": ["x"]},
            {"name": "model", "signature": "auto", "pip_requirements": ["x"]},
        ),
    ],
)
def test_same_kwargs_as_kedro_mlflow(given: dict | None, expected: dict) -> None:
    ours = _pair(dict(given) if given else None).log_model_kwargs
    theirs = kedro_mlflow_factory(
        TRAINING, INFERENCE, "instances", log_model_kwargs=dict(given) if given else None
    ).log_model_kwargs
    assert ours == expected == theirs
    assert _pair(given).log_model_kwargs["name"] == expected["name"]  # no KeyError


def test_name_and_artifact_path_are_kept_for_kml205_and_refused_at_log_time() -> None:
    pair = _pair({"name": "a", "artifact_path": "b"})  # the registry still loads
    assert pair.log_model_kwargs == {"name": "a", "artifact_path": "b", "signature": "auto"}
    with pytest.raises(ValueError, match="artifact_path"):
        normalize_log_model_kwargs(pair.log_model_kwargs)


def test_filtering_keeps_the_normalized_kwargs() -> None:
    pair = _pair({"artifact_path": "churn"})
    for filtered in (pair.only_nodes("fit"), pair.tag("x"), pair & TRAINING, pair - Pipeline([])):
        assert isinstance(filtered, PipelineML)
        assert filtered.log_model_kwargs == {"name": "churn", "signature": "auto"}


def test_extract_pipeline_artifacts_from_a_catalog(tmp_path: Path) -> None:
    model_file = tmp_path / "model.pkl"
    PickleDataset(filepath=str(model_file)).save(3)
    catalog = DataCatalog(
        datasets={
            "model": PickleDataset(filepath=str(model_file)),
            "params:inference.threshold": MemoryDataset(0.5),
        }
    )
    artifacts = _pair(None).extract_pipeline_artifacts(catalog, tmp_path / "params")
    assert artifacts == {
        "model": str(model_file.resolve()),
        "params:inference.threshold": str(tmp_path / "params/params_inference.threshold.pkl"),
    }
    assert PickleDataset(filepath=artifacts["params:inference.threshold"]).load() == 0.5
    # The seed's form: the catalog only; parameters go to a fresh temporary folder.
    seed_form = _pair(None).extract_pipeline_artifacts(catalog)
    assert Path(seed_form["params:inference.threshold"]).is_file()
    assert seed_form["model"] == artifacts["model"]


def test_extract_pipeline_artifacts_refuses_a_memory_artifact(tmp_path: Path) -> None:
    from kedro_ml_lint.publishing import KedroPipelineModelError

    catalog = DataCatalog(
        datasets={"model": MemoryDataset(3), "params:inference.threshold": MemoryDataset(0.5)}
    )
    with pytest.raises(KedroPipelineModelError, match="KML001"):
        _pair(None).extract_pipeline_artifacts(catalog, tmp_path)
