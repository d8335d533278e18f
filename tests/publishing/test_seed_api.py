"""The seed document's programmatic path, as written, and the model it logs loading anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow_support import KEDRO_ENV, assert_same_predictions, kedro_predictions, trained

pytestmark = pytest.mark.integration  # real training, a real MLflow store or server

# The seed's snippet. Changed only where Kedro 1.x removed `load_context` (a KedroSession
# gives the catalog), where MLflow 3 refuses its `conda_env={"python": "3.7.0"}` (left
# out), and the import it forgot (`infer_signature`); kedro_mlflow's import becomes ours.
SEED_SNIPPET = """
import sys
from pathlib import Path

import mlflow
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro_ml_lint.publishing import KedroPipelineModel
from mlflow.models import ModelSignature, infer_signature

bootstrap_project(Path("."))
with KedroSession.create(project_path=Path(".")) as session:
    pipeline_training = pipelines["training"]

    # pipeline_training is your PipelineML object, created as previsously
    catalog = session.load_context().catalog

    # artifacts are all the inputs of the inference pipelines that are persisted in the catalog
    artifacts = pipeline_training.extract_pipeline_artifacts(catalog)

    # get the schema of the input dataset
    input_data = catalog.load(pipeline_training.input_name)
    model_signature = infer_signature(model_input=input_data)

    kpm_kwargs = pipeline_training.kpm_kwargs
    info = mlflow.pyfunc.log_model(
        artifact_path="model",
        python_model=KedroPipelineModel(
            pipeline_ml=pipeline_training, catalog=catalog, **kpm_kwargs
        ),
        artifacts=artifacts,
        signature=model_signature,
    )
print(info.model_uri)
"""

# Another folder, another process, nothing of the project on sys.path.
LOAD_ELSEWHERE = """
import sys, time
import mlflow, pandas as pd
started = time.perf_counter()
model = mlflow.pyfunc.load_model(sys.argv[1])
loaded_in = time.perf_counter() - started
assert not any("churn" in entry for entry in sys.path), sys.path
model.predict(pd.read_csv(sys.argv[2])).to_csv(sys.argv[3], index=False)
print(loaded_in)
"""


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    project = trained("churn", tmp_path_factory.mktemp("shared"))
    store = tmp_path_factory.mktemp("seed-store")
    env = {**KEDRO_ENV, "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}"}
    proc = subprocess.run(
        [sys.executable, "-c", SEED_SNIPPET],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return project, proc.stdout.strip().splitlines()[-1], env


def test_seed_snippet_logs_a_model_that_predicts_like_kedro_from_anywhere(
    seed_model: tuple[Path, str, dict[str, str]], tmp_path: Path
) -> None:
    project, model_uri, env = seed_model
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    output = elsewhere / "predictions.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_ELSEWHERE,
            model_uri,
            str(project / "data/01_raw/instances.csv"),
            str(output),
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # kedro-mlflow's model fails here with "No module named 'churn'": no code_paths given.
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same_predictions(pd.read_csv(output), kedro_predictions(project))


def test_seed_model_carries_no_copy_of_the_project(
    seed_model: tuple[Path, str, dict[str, str]],
) -> None:
    """Self-contained by pickling the project's modules by value, not by shipping files."""
    import mlflow

    _, model_uri, env = seed_model
    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    local = Path(mlflow.artifacts.download_artifacts(model_uri))
    assert not (local / "code").exists()
    assert {p.name for p in (local / "artifacts").iterdir()} == {
        "encoder.pkl",
        "scaler.pkl",
        "model.pkl",
        "params_threshold.pkl",
    }
    # `churn` cannot be imported at all, and the pickled model still loads.
    blocked = (
        "import sys, cloudpickle; sys.modules['churn'] = None; "
        f"cloudpickle.load(open({str(local / 'python_model.pkl')!r}, 'rb')); print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]
