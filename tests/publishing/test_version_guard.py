"""The guard of ``--log``, ``KedroPipelineModel`` and the hook: Kedro >= 1.0 and MLflow >= 3."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mlflow_support import KEDRO_ENV

from kedro_ml_lint.publishing.errors import unsupported_versions


@pytest.mark.parametrize(
    ("kedro", "mlflow", "expected"),
    [
        ("1.0.0", "3.0.0", None),
        ("1.7.0", "3.17.2", None),
        ("2.0.0rc1", "4.1", None),
        ("0.19.9", "3.1.0", "Kedro 0.19.9"),
        ("1.7.0", "2.17.2", "MLflow 2.17.2"),
        ("0.19.14", "2.22.0", "Kedro 0.19.14, MLflow 2.22.0"),
        ("1.0.0", None, "MLflow not installed"),
        (None, "3.0.0", "Kedro not installed"),
        ("1.0.0", "3.0.0.dev0", None),
    ],
)
def test_decision(kedro: str | None, mlflow: str | None, expected: str | None) -> None:
    assert unsupported_versions(kedro, mlflow) == expected


# Kedro 0.19 as `importlib.metadata` reports it: every guarded entry point says what it needs.
OLD_KEDRO = """
import sys
from importlib import metadata
real = metadata.version
metadata.version = lambda name: "0.19.9" if name == "kedro" else real(name)
import kedro_ml_lint.publishing, kedro_ml_lint.hooks
from kedro_ml_lint.publishing import UnsupportedVersionError
for attempt in (
    lambda: kedro_ml_lint.publishing.KedroPipelineModel,
    lambda: kedro_ml_lint.publishing.log_models(None),
    lambda: kedro_ml_lint.hooks.MlflowPipelineHook().ready_to_log(),
):
    try:
        attempt()
    except UnsupportedVersionError as exc:
        print(exc)
"""


@pytest.mark.integration
def test_entry_points_refuse_kedro_0_19() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", OLD_KEDRO], capture_output=True, text=True, env=KEDRO_ENV
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 3, proc.stderr
    for line in lines:
        assert "needs Kedro 1.x and MLflow 3 (found Kedro 0.19.9)" in line
        assert line.endswith("kedro-mlflow 0.14 users keep logging with kedro-mlflow")
