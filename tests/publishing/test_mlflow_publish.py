"""``check --log``'s library side: ``log_models`` against a real sqlite tracking store."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest
from mlflow_support import (
    EXAMPLES,
    KEDRO_ENV,
    SECRET,
    assert_same_predictions,
    copy_project,
    instances,
    kedro_predictions,
    lint,
    run_sessions,
    store_state,
    tracking_uri,
    trained,
)

from kedro_ml_lint.publishing import PublishError, log_models

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained("churn", tmp_path_factory.mktemp("shared"))


def download(uri: str, model_uri: str) -> Path:
    mlflow.set_tracking_uri(uri)
    return Path(mlflow.artifacts.download_artifacts(model_uri))


def _log(project: Path, uri: str, **kwargs):
    result = lint(project)
    assert result.violations == []
    return log_models(result, tracking_uri=uri, **kwargs)


def test_logged_model_predicts_like_kedro(churn: Path, tmp_path: Path) -> None:
    uri = tracking_uri(tmp_path)
    [published] = _log(churn, uri, experiment="churn")
    assert published.pair == "training"
    assert published.model_uri == f"models:/{published.model_id}"

    mlflow.set_tracking_uri(uri)
    loaded = mlflow.pyfunc.load_model(published.model_uri)
    assert_same_predictions(loaded.predict(instances(churn)), kedro_predictions(churn))

    # `params:*` are inference params with their defaults, plus the runner.
    params = {p.name: p.default for p in loaded.metadata.signature.params}
    assert params == {"threshold": 0.5, "runner": "SequentialRunner"}
    assert [c.name for c in loaded.metadata.signature.inputs] == list(instances(churn).columns)
    strict = loaded.predict(instances(churn), params={"threshold": 0.99})
    assert (strict["churn"] == (strict["churn_probability"] >= 0.99)).all()
    threaded = loaded.predict(instances(churn), params={"runner": "ThreadRunner"})
    assert_same_predictions(threaded, kedro_predictions(churn))

    # The run is ours, FINISHED, in the experiment asked for.
    client = mlflow.MlflowClient(uri)
    run = client.get_run(published.run_id)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "churn"
    assert run.data.tags["kedro_ml_lint.pipeline"] == "training"


def test_model_ships_code_and_names_requirements(churn: Path, tmp_path: Path) -> None:
    uri = tracking_uri(tmp_path)
    [published] = _log(churn, uri)
    local = download(uri, published.model_uri)
    assert (local / "code/churn/pipelines/inference/nodes.py").is_file()
    assert (local / "code/kedro_ml_lint/publishing/kedro_pipeline_model.py").is_file()
    assert not list(local.rglob("__pycache__"))
    requirements = (local / "requirements.txt").read_text().splitlines()
    names = {line.split("==")[0].split("[")[0].lower() for line in requirements}
    assert {"kedro", "kedro-datasets", "pandas", "scikit-learn", "mlflow"} <= names
    assert "kedro-ml-lint" not in names  # its code ships with the model instead
    assert any(line.startswith("kedro==") for line in requirements)
    assert {p.name for p in (local / "artifacts").iterdir()} == {
        "encoder.pkl",
        "scaler.pkl",
        "model.pkl",
        "params_threshold.pkl",
    }


@pytest.mark.parametrize("name", ["churn-model", "modèle-churn"])  # Unicode MLflow accepts
def test_registered_model_name(churn: Path, tmp_path: Path, name: str) -> None:
    uri = tracking_uri(tmp_path)
    [published] = _log(churn, uri, registered_model_name=name)
    assert (published.registered_model, published.registered_version) == (name, "1")
    mlflow.set_tracking_uri(uri)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    assert_same_predictions(loaded.predict(instances(churn)), kedro_predictions(churn))


def test_kml101_nothing_logged(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn", tmp_path / "untrained")
    uri = tracking_uri(tmp_path / "store")
    result = lint(project)
    assert {(v.code, v.subject) for v in result.violations} == {
        ("KML101", "encoder"),
        ("KML101", "scaler"),
        ("KML101", "model"),
    }
    with pytest.raises(PublishError, match="KML101"):
        log_models(result, tracking_uri=uri, experiment="churn")
    state = store_state(uri)
    assert state["models"] == [] and state["active_runs"] == [] and state["registered"] == []


def test_versioned_artifact_logs_the_latest_version(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "versioned")
    catalog = project / "conf/base/catalog.yml"
    catalog.write_text(
        catalog.read_text().replace(
            "  filepath: data/06_models/model.pkl\n",
            "  filepath: data/06_models/model.pkl\n  versioned: true\n",
        )
    )
    (project / "data/06_models/model.pkl").unlink()
    weak = {"model_options": {"C": 0.001, "max_iter": 200, "random_state": 42}}
    run_sessions(
        project,
        {"pipeline_names": ["training"], "runtime_params": weak},
        {"pipeline_names": ["training"]},
    )
    versions = sorted((project / "data/06_models/model.pkl").iterdir())
    assert len(versions) == 2
    older, latest = (v / "model.pkl" for v in versions)
    assert older.read_bytes() != latest.read_bytes()

    uri = tracking_uri(tmp_path / "store")
    [published] = _log(project, uri)
    local = download(uri, published.model_uri)
    assert (local / "artifacts/model.pkl").read_bytes() == latest.read_bytes()
    mlflow.set_tracking_uri(uri)
    loaded = mlflow.pyfunc.load_model(published.model_uri)
    # The latest training used the default options, as the unversioned project did.
    assert_same_predictions(loaded.predict(instances(churn)), kedro_predictions(churn))


def test_kedro_mlflow_pair(tmp_path_factory: pytest.TempPathFactory, churn: Path) -> None:
    project = trained("churn-kedro-mlflow", tmp_path_factory.mktemp("kedro-mlflow"))
    uri = tracking_uri(tmp_path_factory.mktemp("kedro-mlflow-store"))
    result = lint(project)
    assert result.violations == []
    assert type(result.declarations[0].training).__module__.startswith("kedro_mlflow")
    [published] = log_models(result, tracking_uri=uri)
    mlflow.set_tracking_uri(uri)
    # kedro-mlflow's default name "model" says nothing: the model is named for its pair.
    assert mlflow.MlflowClient(uri).get_logged_model(published.model_id).name == "training"
    loaded = mlflow.pyfunc.load_model(published.model_uri)
    assert {p.name for p in loaded.metadata.signature.params} == {"threshold", "runner"}
    # Same data, same code: the same predictions as the churn example's Kedro run.
    assert_same_predictions(loaded.predict(instances(project)), kedro_predictions(churn))


def test_no_credentials_in_the_logged_model(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "secret")
    (project / "conf/local/credentials.yml").write_text(
        f"model_storage:\n  token: {SECRET}\nwarehouse:\n  password: {SECRET}\n"
    )
    catalog = project / "conf/base/catalog.yml"
    catalog.write_text(
        catalog.read_text().replace(
            "  filepath: data/06_models/model.pkl\n",
            "  filepath: data/06_models/model.pkl\n  credentials: model_storage\n",
        )
        + "\nreport:  # unrelated to the model\n  type: pandas.CSVDataset\n"
        "  filepath: data/08_reporting/report.csv\n  credentials: warehouse\n"
    )
    uri = tracking_uri(tmp_path / "store")
    [published] = _log(project, uri)
    local = download(uri, published.model_uri)
    leaks = [p for p in local.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert SECRET.encode() not in (tmp_path / "store/mlflow.db").read_bytes()
    mlflow.set_tracking_uri(uri)
    loaded = mlflow.pyfunc.load_model(published.model_uri)
    assert_same_predictions(loaded.predict(instances(churn)), kedro_predictions(churn))


def test_corrupt_artifact_nothing_logged(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "corrupt")
    (project / "data/06_models/scaler.pkl").write_bytes(b"not a pickle")
    uri = tracking_uri(tmp_path / "store")
    with pytest.raises(PublishError, match="nothing was logged"):
        _log(project, uri, experiment="churn", registered_model_name="churn-model")
    state = store_state(uri)
    assert state["models"] == [] and state["active_runs"] == [] and state["registered"] == []


TWO_PAIRS = """
from kedro.pipeline import Pipeline

from kedro_ml_lint import pipeline_ml_factory

from churn.pipelines import inference, training


def register_pipelines() -> dict[str, Pipeline]:
    good = pipeline_ml_factory(
        training.create_pipeline(), inference.create_pipeline(), input_name="instances",
        log_model_kwargs={"registered_model_name": "churn-a"},
    )
    broken = pipeline_ml_factory(
        training.create_pipeline(), inference.create_pipeline(), input_name="instances",
        # A typo'd requirements file: MLflow fails half-way through logging this one.
        log_model_kwargs={"registered_model_name": "churn-b",
                          "pip_requirements": "requirments.txt"},
    )
    return {"training": good, "training_b": broken, "__default__": good}
"""


def test_failure_midway_leaves_nothing(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "two-pairs")
    (project / "src/churn/pipeline_registry.py").write_text(textwrap.dedent(TWO_PAIRS))
    uri = tracking_uri(tmp_path / "store")
    result = lint(project)
    assert [p.name for p in result.pairs] == ["training", "training_b"]
    with pytest.raises(PublishError, match="nothing was kept"):
        log_models(result, tracking_uri=uri, experiment="churn")
    assert gc.isenabled()  # publishing paused the collector: a failure gives it back
    state = store_state(uri)
    # `training` had been logged and registered before `training_b` failed: all undone.
    assert state["ready_models"] == [] and state["models"] == []
    assert state["active_runs"] == []
    assert state["registered"] == []


def test_one_registered_name_for_two_pairs_is_refused(churn: Path, tmp_path: Path) -> None:
    project = copy_project(churn, tmp_path / "two-pairs")
    (project / "src/churn/pipeline_registry.py").write_text(textwrap.dedent(TWO_PAIRS))
    uri = tracking_uri(tmp_path / "store")
    result = lint(project)
    with pytest.raises(PublishError, match="--pipeline"):
        log_models(result, tracking_uri=uri, registered_model_name="one")
    assert store_state(uri)["models"] == []


def test_violations_block_logging(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn-broken", tmp_path / "broken")
    result = lint(project)
    assert result.violations
    with pytest.raises(PublishError, match="violation"):
        log_models(result, tracking_uri=tracking_uri(tmp_path / "store"))


MISSING_MLFLOW = """
import sys
sys.modules["mlflow"] = None  # as if MLflow were not installed
import kedro_ml_lint, kedro_ml_lint.publishing, kedro_ml_lint.hooks
from kedro_ml_lint.publishing import MlflowNotInstalledError
attempts = [
    lambda: kedro_ml_lint.publishing.KedroPipelineModel,
    lambda: kedro_ml_lint.publishing.log_models(None),
    lambda: kedro_ml_lint.publishing.log_pipeline_ml({}, catalog=None, project_root=".",
                                                 package_name="x"),
    lambda: kedro_ml_lint.hooks.MlflowPipelineHook().ready_to_log(),
]
for attempt in attempts:
    try:
        attempt()
    except MlflowNotInstalledError as exc:
        print(exc)
    else:
        print("no error")
kedro_ml_lint.hooks.MlflowPipelineHook().ready_to_log  # constructing one needs no MLflow
kedro_ml_lint.hooks.MlflowPipelineHook(log_model=False).ready_to_log()  # linting only: none
"""


def test_missing_mlflow_gives_the_install_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", MISSING_MLFLOW], capture_output=True, text=True, env=KEDRO_ENV
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 4
    # A line that runs however kedro-ml-lint was installed (no package index has it yet).
    hint = (
        'needs MLflow: pip install "mlflow>=3,<4" "kedro-datasets[pickle-pickledataset]>=5" '
        '"uv>=0.6.10"'
    )
    assert all(line.endswith(hint) for line in lines), lines


def test_importing_the_package_imports_no_mlflow() -> None:
    code = (
        "import sys, kedro_ml_lint, kedro_ml_lint.publishing, kedro_ml_lint.hooks, "
        "kedro_ml_lint.publishing.publish; print(sorted(m for m in sys.modules if m == 'mlflow'))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_cli_check_log(churn: Path, tmp_path: Path) -> None:
    uri = tracking_uri(tmp_path / "store")
    untrained = copy_project(EXAMPLES / "churn", tmp_path / "untrained")
    for project, expected_code in ((untrained, 1), (churn, 0)):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "kedro_ml_lint",
                "check",
                str(project),
                "--log",
                "--tracking-uri",
                uri,
                "--experiment",
                "cli",
            ],
            capture_output=True,
            text=True,
            env=KEDRO_ENV,
            cwd=tmp_path,
            timeout=300,
        )
        assert proc.returncode == expected_code, proc.stdout + proc.stderr
        if expected_code:
            assert "KML101" in proc.stdout
            assert store_state(uri)["models"] == []
    [model_id] = store_state(uri)["ready_models"]
    assert f"models:/{model_id}" in proc.stdout + proc.stderr


def test_publishing_pauses_the_collector_and_gives_its_state_back() -> None:
    from kedro_ml_lint.publishing.publish import _collector_paused

    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # a caller that runs without the collector keeps it off
    try:
        with pytest.raises(RuntimeError), _collector_paused():
            raise RuntimeError
        assert not gc.isenabled()
    finally:
        gc.enable()
