"""MLflow side of kedro-ml-lint: ``KedroPipelineModel`` and logging it (``check --log``).

The only package of kedro-ml-lint that imports ``mlflow``, and only on first use of a name
that needs it: importing this package is cheap, and without MLflow installed every entry
point raises :class:`MlflowNotInstalledError` with the one-line install instruction.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from kedro_ml_lint.publishing.errors import INSTALL_HINT as INSTALL_HINT
from kedro_ml_lint.publishing.errors import GateRefused as GateRefused
from kedro_ml_lint.publishing.errors import KedroPipelineModelError as KedroPipelineModelError
from kedro_ml_lint.publishing.errors import MlflowNotInstalledError as MlflowNotInstalledError
from kedro_ml_lint.publishing.errors import PublishError as PublishError
from kedro_ml_lint.publishing.errors import UnsupportedVersionError as UnsupportedVersionError
from kedro_ml_lint.publishing.errors import require_mlflow as require_mlflow
from kedro_ml_lint.publishing.errors import require_supported_versions as require_supported_versions

# Imported on first use only, by name: no static import of mlflow-importing modules here,
# so that `kedro_ml_lint.cli` may import this package without import-linter seeing a
# path to mlflow ("check never imports mlflow").
_EXPORTS = {
    "KedroPipelineModel": "kedro_ml_lint.publishing.kedro_pipeline_model",
    "export_model": "kedro_ml_lint.publishing.export",
    "log_models": "kedro_ml_lint.publishing.publish",
    "log_pipeline_ml": "kedro_ml_lint.publishing.publish",
    "PublishedModel": "kedro_ml_lint.publishing.publish",
    "refuse_bad_alias": "kedro_ml_lint.publishing.store",
    "refuse_bad_model_name": "kedro_ml_lint.publishing.store",
}

__all__ = sorted(
    [
        *_EXPORTS,
        "GateRefused",
        "INSTALL_HINT",
        "KedroPipelineModelError",
        "MlflowNotInstalledError",
        "PublishError",
        "UnsupportedVersionError",
        "require_mlflow",
        "require_supported_versions",
    ]
)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        if name == "KedroPipelineModel":
            require_supported_versions("`KedroPipelineModel`")
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kedro_ml_lint.publishing' has no attribute {name!r}")
