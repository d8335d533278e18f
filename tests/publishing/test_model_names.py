"""Model names MLflow refuses are refused before anything runs, with MLflow's own rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from mlflow_support import EXAMPLES, copy_project

from kedro_ml_lint.hooks import MlflowPipelineHook, PreflightError
from kedro_ml_lint.publishing import PublishError, refuse_bad_model_name

pytestmark = pytest.mark.integration  # importing MLflow starts a process (uname)

# (name, what MLflow's message says): `/` and `:` by the registry's rule; a quote, a dot
# or `%` by MLflow 3's rule for a logged model's name, which the registered name also is.
REFUSED = [
    ("churn/model", "cannot contain"),
    ("churn:model", "cannot contain"),
    ("churn's model", "cannot contain the following characters"),
    ('churn "model"', "cannot contain the following characters"),
    ("", "non-empty"),
]


@pytest.mark.parametrize(("name", "rule"), REFUSED)
def test_refused_with_mlflows_rule(name: str, rule: str) -> None:
    with pytest.raises(PublishError, match=rule) as caught:
        refuse_bad_model_name(name, what="--registered-model-name")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["churn-model", "modèle-churn", "churn model", "顧客離反"])
def test_names_mlflow_accepts_pass(name: str) -> None:
    refuse_bad_model_name(name, what="--registered-model-name")


@pytest.mark.parametrize("name", ["churn/model", "churn's model"])
def test_the_hook_stops_before_the_first_node(name: str) -> None:
    with pytest.raises(PreflightError, match="MLflow refuses"):
        MlflowPipelineHook(registered_model_name=name).ready_to_log()


@pytest.mark.parametrize("name", ["churn/model", "churn's model"])
def test_check_log_refuses_before_loading(tmp_path: Path, name: str) -> None:
    # An untrained copy: were the project loaded and checked, KML101 would be reported.
    project = copy_project(EXAMPLES / "churn", tmp_path / "churn")
    store = tmp_path / "store" / "mlflow.db"
    run = run_cli(
        "check", project, "--log", "--tracking-uri", f"sqlite:///{store}",
        "--registered-model-name", name,
    )  # fmt: skip
    assert run.code == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kedro-ml-lint: error: "), run.stderr
    assert f"`{name}`" in lines[0] and "MLflow refuses" in lines[0]
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert not store.parent.exists()  # nothing was trained, logged or even created


def test_every_mlflow_validator_the_seam_names_exists_in_this_mlflow() -> None:
    """A renamed private validator would otherwise refuse nothing, silently (MLflow 3.18
    renamed the alias checks): each check must resolve under one of its names."""
    from kedro_ml_lint.seams.mlflow_private import (
        ALIAS_VALIDATORS,
        MODEL_NAME_VALIDATORS,
        validator,
    )

    missing = [
        names for names in [*ALIAS_VALIDATORS, *MODEL_NAME_VALIDATORS] if not validator(names)
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"alias": "champion"}, "give a registered model name too"),
        ({"registered_model_name": "churn", "alias": "latest"}, "`latest`"),
        ({"registered_model_name": "churn", "gate": True}, "give an alias too"),
        ({"verify_env": "conda"}, "is not one of uv, virtualenv"),
    ],
)
def test_the_hooks_alias_gate_and_environment_are_refused_before_the_first_node(
    arguments: dict, says: str
) -> None:
    with pytest.raises(PreflightError, match="MlflowPipelineHook") as caught:
        MlflowPipelineHook(**arguments).ready_to_log()
    assert says in str(caught.value) and "\n" not in str(caught.value)
