"""``MlflowPipelineHook`` in real ``kedro run`` processes."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow_support import (
    EXAMPLES,
    assert_same_predictions,
    assert_summary_golden,
    copy_project,
    enable_hook,
    instances,
    kedro,
    kedro_predictions,
    store_state,
    tracking_uri,
)

pytestmark = pytest.mark.integration

MARKER = "first_node_ran.marker"


def _mark_first_node(project: Path) -> None:
    """The first training node leaves a file behind: proof that it ran."""
    nodes = project / "src/churn/pipelines/training/nodes.py"
    nodes.write_text(
        nodes.read_text().replace(
            '    """Separate the model\'s inputs from the ``churned`` target."""\n',
            '    """Separate the model\'s inputs from the ``churned`` target."""\n'
            f"    Path({MARKER!r}).touch()\n",
        )
        + "\nfrom pathlib import Path\n"
    )


def test_hook_stops_a_broken_run_before_its_first_node(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn", tmp_path / "broken")
    _mark_first_node(project)
    enable_hook(project)
    catalog = project / "conf/base/catalog.yml"
    text = catalog.read_text()
    # `model` loses its entry: a MemoryDataset (KML001); `params:threshold` is misspelt (KML006).
    text = text.replace("model:  # the LogisticRegression classifier\n", "modell:\n")
    catalog.write_text(text)
    pipeline = project / "src/churn/pipelines/inference/pipeline.py"
    pipeline.write_text(pipeline.read_text().replace("params:threshold", "params:treshold"))
    uri = tracking_uri(tmp_path / "store")

    proc = kedro(project, "run", "--pipelines", "training", env={"MLFLOW_TRACKING_URI": uri})

    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "KML001" in output and "KML006" in output  # every violation is named
    assert "kedro-ml-lint: the run is stopped before any node ran" in proc.stderr
    assert not (project / MARKER).exists()
    assert not list((project / "data/06_models").glob("*.pkl"))
    assert store_state(uri)["models"] == []


def _register_sum(project: Path) -> None:
    """``__default__`` becomes training + inference: a plain ``Pipeline``, not the pair."""
    registry = project / "src/churn/pipeline_registry.py"
    text = registry.read_text(encoding="utf-8")
    old = '"__default__": training_pipeline,'
    assert old in text
    registry.write_text(
        text.replace(old, '"__default__": training_pipeline + inference_pipeline,'), "utf-8"
    )


def test_hook_logs_a_pair_trained_inside_a_sum(tmp_path: Path) -> None:
    """A plain ``kedro run`` whose ``__default__`` sums the pair's training and inference
    (Kedro hands the hook a plain ``Pipeline``): the pair is found by its training nodes,
    logged after the run, named and tagged, and its model predicts what the run's own
    inference wrote. (Also the one real run for `kedro run --pipelines training`: the pair
    selected by name is the same code, `_trained_pairs`.)"""
    project = copy_project(EXAMPLES / "churn", tmp_path / "sum")
    _register_sum(project)
    _mark_first_node(project)
    enable_hook(project, 'experiment="churn-hook"')
    uri = tracking_uri(tmp_path / "store")

    proc = kedro(project, "run", env={"MLFLOW_TRACKING_URI": uri, "COLUMNS": "250"})

    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (project / MARKER).exists()
    state = store_state(uri)
    assert len(state["ready_models"]) == 1 and state["active_runs"]
    assert f"Logged `training` as models:/{state['ready_models'][0]}" in proc.stdout
    # The run ends with the block saying where the model went (printed, not logged: no
    # wrapped links, no log prefixes).
    lines = proc.stdout.rstrip("\n").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Logged `training`"))
    block = "\n".join(lines[start:]) + "\n"
    assert_summary_golden("hook-summary.txt", block, tmp_path / "store")
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    [run] = client.search_runs([client.get_experiment_by_name("churn-hook").experiment_id])
    assert run.data.tags["kedro_ml_lint.pipeline"] == "training"
    assert run.info.run_name == "training"
    # No MLflow training run here; the Kedro session that trained is named.
    assert "kedro_ml_lint.training_run_id" not in run.data.tags
    assert run.data.tags["kedro_ml_lint.kedro_session_id"]
    loaded = mlflow.pyfunc.load_model(f"models:/{state['ready_models'][0]}")
    assert_same_predictions(loaded.predict(instances(project)), kedro_predictions(project))


@pytest.fixture(autouse=True)
def _reset_tracking_uri():
    yield
    mlflow.set_tracking_uri(None)


def test_hook_next_to_kedro_mlflows_own_hook(tmp_path: Path) -> None:
    """kedro-mlflow's hook sets the tracking URI and an experiment id of its store and
    opens a run: ours logs into that store, as a child of its training run."""
    project = copy_project(EXAMPLES / "churn-kedro-mlflow", tmp_path / "both-hooks")
    enable_hook(project)
    proc = kedro(project, "run", "--pipelines", "training")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    uri = f"sqlite:///{project / 'mlflow.db'}"  # kedro-mlflow's conf/base/mlflow.yml
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    ours = [r for r in runs if r.data.tags.get("kedro_ml_lint.pipeline") == "training"]
    assert len(ours) == 1 and ours[0].info.status == "FINISHED"
    parent = client.get_run(ours[0].data.tags["mlflow.parentRunId"])
    assert parent.info.run_name == "training"  # kedro-mlflow's run of the pipeline
    assert ours[0].data.tags["kedro_ml_lint.training_run_id"] == parent.info.run_id
