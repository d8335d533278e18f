"""``KedroPipelineModel`` on its own: artifacts, copy modes, params, runners, errors."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from types import SimpleNamespace

import cloudpickle
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner, ThreadRunner
from kedro_datasets.pickle import PickleDataset
from mlflow_support import (
    assert_same_predictions,
    instances,
    kedro_predictions,
    trained,
)

from kedro_ml_lint.publishing import KedroPipelineModel, KedroPipelineModelError
from kedro_ml_lint.publishing.publish import project_catalog

# --------------------------------------------------------------------------- the churn model


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained("churn", tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def churn_catalog(churn: Path):
    return project_catalog(churn)[1]


def _inference():
    from churn.pipelines.inference import create_pipeline

    return create_pipeline()


def served(model: KedroPipelineModel, folder: Path) -> KedroPipelineModel:
    """What MLflow does: pickle the model, load it back, then ``load_context``."""
    artifacts = model.extract_pipeline_artifacts(folder)
    clone = cloudpickle.loads(cloudpickle.dumps(model))
    clone.load_context(SimpleNamespace(artifacts=artifacts, model_config={}))
    return clone


@pytest.mark.integration
def test_predicts_like_kedro(churn: Path, churn_catalog, tmp_path: Path) -> None:
    model = served(KedroPipelineModel(_inference(), churn_catalog, "instances"), tmp_path)
    output = model.predict(None, instances(churn))
    assert isinstance(output, pd.DataFrame)  # the single output, as the node returned it
    assert_same_predictions(output, kedro_predictions(churn))


@pytest.mark.integration
def test_artifacts_are_local_paths_and_pickled_parameters(churn: Path, churn_catalog, tmp_path):
    model = KedroPipelineModel(_inference(), churn_catalog, "instances")
    artifacts = model.extract_pipeline_artifacts(tmp_path / "params")
    assert set(artifacts) == {"encoder", "scaler", "model", "params:threshold"}
    assert artifacts["model"] == str((churn / "data/06_models/model.pkl").resolve())
    with open(artifacts["params:threshold"], "rb") as stream:
        assert pickle.load(stream) == 0.5


@pytest.mark.integration
def test_pickle_holds_no_catalog(churn_catalog) -> None:
    model = KedroPipelineModel(_inference(), churn_catalog, "instances")
    state = cloudpickle.loads(cloudpickle.dumps(model)).__dict__
    assert state["_catalog"] is None
    assert not any(isinstance(v, DataCatalog) for v in state.values())


@pytest.mark.integration
def test_params_override_one_call_only(churn: Path, churn_catalog, tmp_path: Path) -> None:
    model = served(KedroPipelineModel(_inference(), churn_catalog, "instances"), tmp_path)
    data = instances(churn)
    default = model.predict(None, data)
    strict = model.predict(None, data, params={"threshold": 0.99})
    assert (strict["churn"] == (strict["churn_probability"] >= 0.99)).all()
    assert strict["churn"].sum() < default["churn"].sum()
    # The override did not stick (kedro-mlflow's model keeps it for later calls).
    pd.testing.assert_frame_equal(model.predict(None, data), default)


@pytest.mark.integration
def test_unknown_param_is_an_error(churn: Path, churn_catalog, tmp_path: Path) -> None:
    model = served(KedroPipelineModel(_inference(), churn_catalog, "instances"), tmp_path)
    with pytest.raises(KedroPipelineModelError, match="treshold"):
        model.predict(None, instances(churn), params={"treshold": 0.1})


@pytest.mark.parametrize("how", ["instance", "by-name"])
@pytest.mark.integration
def test_thread_runner(churn: Path, churn_catalog, tmp_path: Path, how: str) -> None:
    runner = ThreadRunner() if how == "instance" else None
    model = served(
        KedroPipelineModel(_inference(), churn_catalog, "instances", runner=runner), tmp_path
    )
    params = {"runner": "ThreadRunner"} if how == "by-name" else None
    assert_same_predictions(model.predict(None, instances(churn), params), kedro_predictions(churn))


@pytest.mark.integration
def test_explicit_sequential_runner(churn: Path, churn_catalog, tmp_path: Path) -> None:
    model = served(
        KedroPipelineModel(_inference(), churn_catalog, "instances", runner=SequentialRunner()),
        tmp_path,
    )
    assert_same_predictions(model.predict(None, instances(churn)), kedro_predictions(churn))
    inline = model.predict(None, instances(churn), params={"runner": "SequentialRunner"})
    assert_same_predictions(inline, kedro_predictions(churn))


@pytest.mark.parametrize("runner", [None, "ThreadRunner"])
@pytest.mark.integration
def test_no_kedro_info_records_while_predicting(
    churn: Path, churn_catalog, tmp_path: Path, caplog: pytest.LogCaptureFixture, runner
) -> None:
    model = served(KedroPipelineModel(_inference(), churn_catalog, "instances"), tmp_path)
    caplog.set_level(logging.INFO, logger="kedro")
    caplog.clear()
    model.predict(None, instances(churn), params={"runner": runner} if runner else None)
    noisy = [r.getMessage() for r in caplog.records if r.name.startswith("kedro")]
    assert noisy == []
    # Outside predict, kedro's records are untouched.
    logging.getLogger("kedro.pipeline.node").info("still here")
    assert [r.getMessage() for r in caplog.records] == ["still here"]


# --------------------------------------------------------------------------- copy modes


def add_column(frame: pd.DataFrame) -> pd.DataFrame:
    frame["seen"] = 1  # mutates its input, as careless node code does
    return frame


def count_calls(frame: pd.DataFrame, state: dict) -> int:
    state["calls"] += 1  # mutates the artifact
    return state["calls"]


def _copy_mode_model(tmp_path: Path, copy_mode) -> KedroPipelineModel:
    state_file = tmp_path / "state.pkl"
    PickleDataset(filepath=str(state_file)).save({"calls": 0})
    catalog = DataCatalog(datasets={"state": PickleDataset(filepath=str(state_file))})
    pipeline = Pipeline(
        [
            node(add_column, "instances", "marked", name="add_column"),
            node(count_calls, ["marked", "state"], "calls", name="count_calls"),
        ]
    )
    return served(KedroPipelineModel(pipeline, catalog, "instances", copy_mode=copy_mode), tmp_path)


@pytest.mark.parametrize(
    ("copy_mode", "input_mutated", "calls"),
    [
        ("assign", True, [1, 2]),
        ("copy", False, None),  # dict.copy is shallow: the nested counter is shared
        ("deepcopy", False, [1, 1]),
        (None, False, [1, 1]),  # Kedro's defaults: copy a DataFrame, deepcopy a dict
        ({"instances": "assign"}, True, [1, 1]),
        ({"instances": "copy", "state": "assign"}, False, [1, 2]),
    ],
    ids=["assign", "copy", "deepcopy", "kedro-default", "dict-assign", "dict-mixed"],
)
def test_copy_modes(tmp_path: Path, copy_mode, input_mutated: bool, calls) -> None:
    model = _copy_mode_model(tmp_path, copy_mode)
    frame = pd.DataFrame({"x": [1, 2]})
    first = model.predict(None, frame)
    assert ("seen" in frame.columns) is input_mutated
    second = model.predict(None, pd.DataFrame({"x": [3]}))
    if calls is not None:
        assert [first, second] == calls
    # The same semantics through a Kedro runner on the per-call catalog.
    runner_model = _copy_mode_model(tmp_path / "runner", copy_mode)
    frame = pd.DataFrame({"x": [1, 2]})
    first = runner_model.predict(None, frame, params={"runner": "ThreadRunner"})
    assert ("seen" in frame.columns) is input_mutated
    second = runner_model.predict(None, frame.copy(), params={"runner": "ThreadRunner"})
    if calls is not None:
        assert [first, second] == calls


@pytest.mark.parametrize(
    ("copy_mode", "error"),
    [
        ("shallow", KedroPipelineModelError),
        ({"nope": "copy"}, KedroPipelineModelError),
        (3, TypeError),
    ],
)
def test_bad_copy_mode(tmp_path: Path, copy_mode, error) -> None:
    with pytest.raises(error):
        _copy_mode_model(tmp_path, copy_mode)


# --------------------------------------------------------------------------- refusals


def identity(x):
    return x


def both(x, y):
    return x


def test_refuses_two_outputs_zero_outputs_and_memory_artifacts() -> None:
    catalog = DataCatalog(datasets={"model": MemoryDataset(1)})
    two = Pipeline([node(identity, "a", "b"), node(identity, "a", "c")])
    with pytest.raises(KedroPipelineModelError, match="2 outputs"):
        KedroPipelineModel(two, catalog, "a")
    zero = Pipeline([node(identity, "a", None)])
    with pytest.raises(KedroPipelineModelError, match="0 outputs"):
        KedroPipelineModel(zero, catalog, "a")
    memory = Pipeline([node(both, ["a", "model"], "b")])
    with pytest.raises(KedroPipelineModelError, match="MemoryDataset"):
        KedroPipelineModel(memory, catalog, "a")
    with pytest.raises(KedroPipelineModelError, match="not an input"):
        KedroPipelineModel(memory, catalog, "instances")
    whole = Pipeline([node(both, ["a", "parameters"], "b")])
    with pytest.raises(KedroPipelineModelError, match="KML007"):
        KedroPipelineModel(whole, catalog, "a")


@pytest.mark.integration
def test_predict_before_load_context(churn_catalog) -> None:
    model = KedroPipelineModel(_inference(), churn_catalog, "instances")
    with pytest.raises(KedroPipelineModelError, match="load_context"):
        model.predict(None, pd.DataFrame())
