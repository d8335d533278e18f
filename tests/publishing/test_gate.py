"""``check --log --alias NAME [--gate]`` on a real SQLite registry (issue 23, part 3).

The churn example is logged, registered and aliased; a copy whose served input changed a
column's type is refused by the gate (exit 1, a table, the registry listed before and after
is the same); a compatible copy passes (the alias moves, the new version carries the gate's
tags). Bad input (an alias MLflow refuses, ``--gate`` without ``--alias``) is exit 2, one
line, before the project is loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from conftest import run_cli
from mlflow_support import (
    EXAMPLES,
    assert_summary_golden,
    copy_project,
    enable_hook,
    kedro,
    store_state,
    tracking_uri,
    trained,
)

from kedro_ml_lint.publishing.gate import GATE_TAG

pytestmark = pytest.mark.integration  # real training, a real MLflow registry

NAME = "churn-gate"
ALIAS = "champion"


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained("churn", tmp_path_factory.mktemp("shared"))


def registry(uri: str) -> dict[str, Any]:
    """Every registered model: its aliases and tags, each version's tags; and the live runs."""
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    found: dict[str, Any] = {}
    for listed in client.search_registered_models():
        model = client.get_registered_model(listed.name)
        found[model.name] = {
            "aliases": {alias: str(v) for alias, v in model.aliases.items()},
            "tags": dict(model.tags),
            "versions": {
                str(v.version): dict(v.tags)
                for v in client.search_model_versions(f"name='{model.name}'")
            },
        }
    found["live runs"] = sorted(run for run, _ in store_state(uri)["active_runs"])
    return found


def log(project: Path, uri: str, *more: str) -> Any:
    return run_cli(
        "check", project, "--log", "--tracking-uri", uri,
        "--registered-model-name", NAME, "--alias", ALIAS, *more,
    )  # fmt: skip


def test_the_gate_refuses_a_breaking_change_and_passes_a_compatible_one(
    churn: Path, tmp_path: Path
) -> None:
    uri = tracking_uri(tmp_path / "store")
    first = log(churn, uri, "--gate")
    assert first.code == 0, first.stdout + first.stderr
    assert f"{ALIAS} -> version 1 (was unset), models:/{NAME}@{ALIAS}" in first.stdout
    assert f"Gate `{ALIAS}`: passed, `{ALIAS}` pointed at no version" in first.stdout
    before = registry(uri)
    assert before[NAME]["aliases"] == {ALIAS: "1"}
    assert before[NAME]["versions"]["1"][GATE_TAG + "compared_with"] == (
        f"none (`{ALIAS}` was unset)"
    )

    breaking = copy_project(churn, tmp_path / "breaking")
    _breaking(breaking)
    refused = log(breaking, uri, "--gate")
    assert refused.code == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    lines = refused.stdout.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("Gate `"))) :]
    assert table[0] == (
        f"Gate `{ALIAS}`: refused, 1 breaking difference (models:/{NAME}/1 -> models:/{NAME}/2)"
    )
    assert_summary_golden("gate-refused.txt", "\n".join(table) + "\n", tmp_path / "store")
    [row] = [line for line in table if "BREAKING" in line]
    assert row.split() == [
        "input",
        "support_calls",
        "long",
        "double",
        "BREAKING:",
        "type",
        "changed",
    ]
    # MLflow's "Created version '2'" note would name the version the roll-back removed.
    assert "Created version" not in refused.stdout + refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("kedro-ml-lint")]
    assert len(errors) == 1 and errors[0].startswith("kedro-ml-lint: error: the gate refused")
    assert "nothing was kept in the tracking store" in errors[0]
    assert registry(uri) == before  # no version 2, the run deleted, the alias where it was
    # With a JSON report on stdout, the table goes to stderr as the summary does.
    as_json = log(breaking, uri, "--gate", "--output-format", "json")
    assert as_json.code == 1, as_json.stdout + as_json.stderr
    assert json.loads(as_json.stdout)["tool"]["name"] == "kedro-ml-lint"  # the report, intact
    assert f"Gate `{ALIAS}`: refused" in as_json.stderr and "Gate" not in as_json.stdout
    assert registry(uri) == before

    # Compatible: the threshold's default changes (listed), the alias moves, tags say so.
    compatible = copy_project(churn, tmp_path / "compatible")
    parameters = compatible / "conf/base/parameters.yml"
    parameters.write_text(parameters.read_text().replace("threshold: 0.5", "threshold: 0.6"))
    passed = log(compatible, uri, "--gate")
    assert passed.code == 0, passed.stdout + passed.stderr
    after = registry(uri)
    # Versions 2 and 3 were rolled back: MLflow does not hand their numbers out again.
    assert after[NAME]["aliases"] == {ALIAS: "4"}
    assert set(after[NAME]["versions"]) == {"1", "4"}
    tags = after[NAME]["versions"]["4"]
    assert tags[GATE_TAG + "compared_with"] == f"models:/{NAME}/1"
    assert tags[GATE_TAG + "signature"] == "compatible: param threshold default changed"
    assert tags[GATE_TAG + "requirements"] == "no major version change"
    # Both versions predicted the new version's input example; a label crossed the threshold.
    assert tags[GATE_TAG + "predictions"].startswith("differ on 1 of the 5 rows"), tags
    assert f"{ALIAS} -> version 4 (was version 1)" in passed.stdout
    summary = passed.stdout[passed.stdout.index("Logged `") :]
    assert_summary_golden("gate-passed.txt", summary, tmp_path / "store")
    rows = [line.split() for line in passed.stdout.splitlines()]
    assert ["param", "threshold", "0.5", "0.6", "default", "changed"] in rows
    assert any(row[:1] == ["prediction"] and row[-1] == "differs" for row in rows), rows


def _breaking(project: Path) -> None:
    """A served input whose `support_calls` became a float: the signature's type changes."""
    instances = project / "data/01_raw/instances.csv"
    frame = pd.read_csv(instances)
    frame["support_calls"] = frame["support_calls"].astype(float) + 0.5
    frame.to_csv(instances, index=False)


def test_the_hooks_run_moves_the_alias_through_the_gate_and_a_breaking_one_fails(
    churn: Path, tmp_path: Path
) -> None:
    """The hook passes `alias` and `gate` to the same transaction: one real run each way."""
    project = copy_project(churn, tmp_path / "project")
    enable_hook(project, f'registered_model_name="{NAME}", alias="{ALIAS}", gate=True')
    env = {"MLFLOW_TRACKING_URI": tracking_uri(tmp_path / "store")}
    first = kedro(project, "run", "--pipelines", "training", env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert f"{ALIAS} -> version 1 (was unset), models:/{NAME}@{ALIAS}" in first.stdout
    assert f"Gate `{ALIAS}`: passed, `{ALIAS}` pointed at no version" in first.stdout
    before = registry(env["MLFLOW_TRACKING_URI"])
    assert before[NAME]["aliases"] == {ALIAS: "1"}

    _breaking(project)
    refused = kedro(project, "run", "--pipelines", "training", env=env)
    assert refused.returncode == 1, refused.stdout[-3000:] + refused.stderr[-3000:]
    # The gate's table, then one line: the last thing the run prints, no traceback.
    shown = refused.stderr.rstrip().splitlines()
    table = shown[shown.index(next(line for line in shown if line.startswith("Gate `"))) :]
    assert table[0] == (
        f"Gate `{ALIAS}`: refused, 1 breaking difference (models:/{NAME}/1 -> models:/{NAME}/2)"
    )
    assert table[-1].startswith("kedro-ml-lint: the gate refused to move `champion`")
    assert table[-1].endswith("; nothing was kept in the tracking store")
    output = refused.stdout + refused.stderr
    assert "Traceback" not in output and "Created version" not in output
    assert registry(env["MLFLOW_TRACKING_URI"]) == before  # no version 2, the alias kept


def test_without_the_gate_the_alias_just_moves(churn: Path, tmp_path: Path) -> None:
    uri = tracking_uri(tmp_path / "store")
    for expected in ("1", "2"):
        run = log(churn, uri)
        assert run.code == 0, run.stdout + run.stderr
        assert registry(uri)[NAME]["aliases"] == {ALIAS: expected}
        assert "Gate" not in run.stdout
    assert not any(key.startswith(GATE_TAG) for key in registry(uri)[NAME]["versions"]["2"])


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--registered-model-name", NAME, "--alias", "latest"], "is reserved"),
        (["--registered-model-name", NAME, "--alias", "v3"], "is reserved"),
        (["--registered-model-name", NAME, "--alias", "prod/eu"], "may only contain"),
        (["--registered-model-name", NAME, "--gate"], "--gate needs --alias"),
        (["--alias", ALIAS], "--alias needs --registered-model-name"),
    ],
)
def test_bad_input_is_one_line_before_anything_runs(
    tmp_path: Path, arguments: list[str], says: str
) -> None:
    # An untrained copy: were the project loaded and checked, KML101 would be reported.
    project = copy_project(EXAMPLES / "churn", tmp_path / "churn")
    store = tmp_path / "store" / "mlflow.db"
    run = run_cli("check", project, "--log", "--tracking-uri", f"sqlite:///{store}", *arguments)
    assert run.code == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kedro-ml-lint: error: "), run.stderr
    assert says in lines[0] and "Traceback" not in run.stderr and run.stdout == ""
    assert not store.parent.exists()


def test_alias_without_log_is_a_usage_error(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "churn", tmp_path / "churn")
    run = run_cli("check", project, "--registered-model-name", NAME, "--alias", ALIAS)
    assert run.code == 2 and "--alias needs --log" in run.stderr, run.stderr


class _Scale(mlflow.pyfunc.PythonModel):
    """A model that scales its input: two versions of it predict differently."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        return pd.DataFrame({"score": model_input["x"] * self.factor})


def test_both_versions_predict_the_new_versions_input_example(tmp_path: Path) -> None:
    """The predictions part, on models that log an input example (MLflow's own API)."""
    from kedro_ml_lint.publishing.alias import compare_versions

    uri = tracking_uri(tmp_path / "store")
    mlflow.set_tracking_uri(uri)
    code = tmp_path / "scale_code.py"  # bundled code: loading puts its folder on sys.path
    code.write_text("FACTOR_UNIT = 1\n")
    try:
        example = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
        for factor in (2.0, 2.0, 3.0):
            with mlflow.start_run():
                mlflow.pyfunc.log_model(
                    name="scale",
                    python_model=_Scale(factor),
                    input_example=example,
                    registered_model_name="scale",
                    pip_requirements=["pandas==2.2.0"] if factor == 2.0 else ["pandas==3.0.0"],
                    code_paths=[str(code)],
                )
        path = sys.path[:]
        same = compare_versions(mlflow, "scale", "2", ALIAS, "1")
        assert sys.path == path  # the caller's, not with the versions' code folders first
        assert same.predictions == "same on the 3 rows of the input example"
        assert same.signature == "same" and same.requirements == "no major version change"
        differ = compare_versions(mlflow, "scale", "3", ALIAS, "1")
    finally:
        mlflow.set_tracking_uri(None)
    assert differ.predictions == "differ on 3 of the 3 rows of the input example"
    assert differ.requirements == "major changes: pandas 2->3"
    assert differ.breaking == []
    shown = [(d.subject, d.holder, d.new) for d in differ.differences if d.part == "prediction"]
    assert shown == [
        ("row 0 score", "2", "3"),
        ("row 1 score", "4", "6"),
        ("row 2 score", "6", "9"),
    ]
